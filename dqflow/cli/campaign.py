"""Commands on campaign files: write the starters, check, draft from an order, instantiate a template,
load (or amend) into the database, and replay on a virtual clock. Each command imports what it alone uses:
`validate` loads no database, `load` no mail."""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import click

from dqflow.calendar import parse_day, parse_local, show_date, zone
from dqflow.campaign import spec, starter
from dqflow.cli.common import App, catch_up_finals, now_option, pass_app, resolve_now, say_overdue, wall_clock
from dqflow.errors import DqflowError, Problem, SpecError, one_line


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite starter files already in FOLDER.")
def init_command(folder: Path, force: bool) -> None:
    """Write the bundled campaigns (the Tomsk 2021 example and the yearly templates) into FOLDER."""
    written = starter.write(folder, force=force)
    made = starter.this_year(folder, wall_clock().date())
    campaign = shlex.quote(made.out)
    click.echo("Записано:")
    for path in written:
        click.echo(f"  {path}")
    click.echo("Кампания этого года — из годового шаблона (в --start впишите день вебинара-установки по приказу):")
    click.echo("  " + shlex.join(["dqflow", *made.args()]))
    click.echo("Впишите в файл свои ДОУ и адреса, затем:")
    click.echo(f"  dqflow validate {campaign}")
    click.echo(f"  dqflow simulate {campaign} --maildir out/")
    click.echo(f"  dqflow load {campaign}")
    click.echo(f"Прошедшая кампания для примера: {folder / starter.EXAMPLE}")


def _finished(campaign: spec.Campaign, now: datetime) -> str | None:
    """What to say when every stage is past at `now` (loading it runs nothing; this year's campaign comes
    from a template), or None."""
    if not starter.finished(campaign, now):
        return None
    last = max(stage.locks_at for stage in campaign.stages)
    year_id = starter.yearly_id(campaign.id, now.astimezone(campaign.tz).year)
    return (f"все этапы кампании {campaign.id} уже прошли (последний закрыт {show_date(last, campaign.tz)}); "
            f"кампанию этого года сделает dqflow instantiate ШАБЛОН.yaml --start ДАТА --id {year_id} --out {year_id}.yaml "
            f"(годовой шаблон {starter.TEMPLATE} пишет dqflow init ПАПКА)")


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--strict", is_flag=True, help="Treat warnings (deadlines on days off…) as errors.")
@now_option
@pass_app
def validate_command(app: App, files: tuple[str, ...], strict: bool, now_text: str | None) -> None:
    """Check campaign files; print FILE:LINE:COL problems, or a one-line summary each.

    A file naming campaign.previous is compared with that campaign in the database (--db), when one is there."""
    failed = False
    for path in files:
        result = spec.validate(path)
        for problem in result.problems:
            click.echo(str(problem), err=True)
        c = result.campaign
        if c is None or result.errors or (strict and result.warnings):
            failed = True
            continue
        experts = len(c.every_expert())
        warned = f"; предупреждений: {len(result.warnings)}" if result.warnings else ""
        read_as = "".join(f"; {note}" for note in result.notes)
        click.echo(f"{path}: в порядке: кампания {c.id}, этапов: {len(c.stages)}, {c.terms.nom_pl}: {len(c.institutions)}, "
                   f"экспертов: {experts}{read_as}{warned}")
        past = _finished(c, resolve_now(now_text, c.timezone))
        if past:  # a warning about the clock, not the file: --strict does not fail on it
            click.echo(str(Problem(path, _stages_line(path), 1, past, "warning")), err=True)
        if c.previous is not None:
            failed = _since_previous(app, c, path, result.previous_at, strict) or failed
    sys.exit(1 if failed else 0)


def _since_previous(app: App, campaign: spec.Campaign, path: str, at: tuple[int, int] | None, strict: bool) -> bool:
    """validate of a file naming campaign.previous: what changed in the roster since that campaign, when the database holds it
    (a warning at the key when it does not). A database that is missing or of an older schema is left alone: validate writes
    nothing. True when --strict fails on the warning."""
    from dqflow import store
    from dqflow.engine import lineage
    from dqflow.present import years
    from dqflow.store import schema

    assert campaign.previous is not None
    line, column = at or (1, 1)
    try:
        _, state = store.schema_state(app.db_url)
    except DqflowError as exc:  # the file is what validate checks: a database it cannot open is said, not failed on
        click.echo(str(Problem(path, line, column, f"campaign.previous: не сверено с базой данных: она не открывается ({one_line(str(exc))}); "
                                                   "проверьте --db и повторите", "warning")), err=True)
        return strict
    if state.revision != schema.HEAD:
        return False
    with app.reading() as session:
        found = lineage.since(session, campaign)
    if found is None:
        click.echo(str(Problem(path, line, column, years.previous_missing(campaign.previous), "warning")), err=True)
        return strict
    _echo_lines(years.lineage_lines(found, campaign.terms))
    return False


def _stages_line(path: str) -> int:
    """The line of the file's `stages:` key, where a warning about its dates points (1 when not found)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    found = re.search(r"^stages:", text, re.M)
    return text.count("\n", 0, found.start()) + 1 if found else 1


@click.command("import-order")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", required=True, metavar="FILE.yaml", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the draft campaign (must not exist yet).")
@click.option("--timezone", metavar="ZONE", help="The campaign's IANA time zone. Default: guessed from the town the order names.")
@click.option("--id", "campaign_id", metavar="ID", help="The campaign's id (a slug). Default: monitoring-YEAR.")
def import_order_command(file: str, out: Path, timezone: str | None, campaign_id: str | None) -> None:
    """Draft a campaign file from an order's schedule table (plain text, tabs between the cells)."""
    from dqflow.campaign import order
    from dqflow.present.labels import KIND_RU

    order.check_id(campaign_id)
    if timezone is not None:
        try:
            zone(timezone)
        except ValueError as exc:
            raise DqflowError(f"--timezone: {exc}") from None
    draft = order.draft(order.read(file), file, order.Options(campaign_id, timezone))
    result = order.checked(draft, out)
    try:
        with open(out, "x", encoding="utf-8") as handle:
            handle.write(draft)
    except FileExistsError:
        raise DqflowError(f"--out {out}: такой файл уже есть; укажите другое имя или удалите его") from None
    except OSError as exc:
        raise DqflowError(f"--out {out}: не удаётся записать: {exc.strerror}") from None
    c = result.campaign
    assert c is not None  # `checked` refused a draft that does not validate
    kinds = ", ".join(f"{KIND_RU.get(kind, kind)}: {n}" for kind, n in sorted(Counter(s.kind for s in c.stages).items()))
    click.echo(f"Записано: {out}: кампания {c.id}, этапов: {len(c.stages)} ({kinds}), {c.terms.nom_pl}: {len(c.institutions)} "
               f"с адресами-заглушками; догадок для проверки (помечены «# guess:»): {draft.count('# guess:')}")
    click.echo(f"Дальше: поправьте файл, затем dqflow validate {shlex.quote(str(out))}")


@click.command("instantiate")
@click.argument("template", type=click.Path(dir_okay=False, path_type=str))
@click.option("--start", "start_text", required=True, metavar="DATE",
              help="The campaign's start (dd.mm.yyyy or yyyy-mm-dd): what campaign.start-relative dates follow.")
@click.option("--id", "campaign_id", required=True, metavar="ID", help="The new campaign's id (like tomsk-2022).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The campaign file to write.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def instantiate_command(template: str, start_text: str, campaign_id: str, out: Path, force: bool) -> None:
    """Write a concrete campaign from a yearly template: every relative date made absolute."""
    from dqflow.campaign import instantiate

    try:
        start = parse_day(start_text)
    except ValueError as exc:
        raise DqflowError(f"--start: {exc}") from None
    instance = instantiate.instantiate(template, start, campaign_id, out)
    instantiate.write(out, instance.text, force=force)
    c = instance.campaign
    first, last = min(s.opens_at for s in c.stages), max(s.locks_at for s in c.stages)
    warned = f"; предупреждений: {len(instance.warnings)} (см. dqflow validate {shlex.quote(str(out))})" if instance.warnings else ""
    click.echo(f"Записано: {out}: кампания {c.id}, этапов: {len(c.stages)}, с {show_date(first, c.tz)} по {show_date(last, c.tz)}, "
               f"дат вычислено: {instance.computed}{warned}")


@click.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--apply", "apply_", is_flag=True, help="Make the change a changed file describes (default: only show the plan).")
@click.option("--reason", metavar="TEXT", help="Why the campaign changes (required with --apply; kept in the audit log).")
@click.option("--force", is_flag=True, help="Allow a change that rewrites recorded outcomes (reopens or locks a stage, done↔late).")
@click.option("--plan", "expected", metavar="DIGEST", help="Apply only if the plan is still the one shown with this digest.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan of a changed file as JSON.")
@now_option
@pass_app
def load_command(app: App, file: str, now_text: str | None, apply_: bool, reason: str | None, force: bool,
                 expected: str | None, as_json: bool) -> None:
    """Load a campaign file into the database (all or nothing; an unchanged file is a no-op).

    A changed file with the same campaign.id is an amendment: without --apply its plan is shown and
    nothing is written; with --apply --reason TEXT exactly that plan is made, in one transaction."""
    from dqflow import engine, store

    if apply_ and not (reason or "").strip():
        raise DqflowError("--apply: укажите --reason ТЕКСТ — журнал хранит, почему кампания изменилась")
    from dqflow.engine import lineage
    from dqflow.present import years

    validated = spec.validate(file)
    campaign = validated.campaign
    if validated.errors or campaign is None:
        raise SpecError(validated.errors)
    now = resolve_now(now_text, campaign.timezone, app.wall)
    with store.dry_run(app.db) as session:
        stored = session.get(store.CampaignRow, campaign.id)
        since = lineage.since(session, campaign)
    if campaign.previous is not None and since is None:  # a typo here would leave the years unrelated without a word
        line, column = validated.previous_at or (1, 1)
        raise SpecError([Problem(file, line, column, years.previous_missing(campaign.previous))])
    if stored is not None and stored.digest != spec.digest(campaign):
        _amend(app, campaign, now, file, apply_, reason or "", force, expected, as_json)
        if since is not None and not as_json:
            _echo_lines(years.lineage_lines(since, campaign.terms))
        return
    with app.transaction() as session:
        outcome = engine.load(session, campaign, now)
    if as_json:
        said = {"campaign": campaign.id, "outcome": outcome}
        click.echo(json.dumps(said | ({"since_previous": years.lineage_json(since)} if since is not None else {}), ensure_ascii=False))
    elif outcome == "unchanged":
        click.echo(f"Кампания {campaign.id} уже загружена из того же файла; ничего не изменилось.")
    else:
        click.echo(f"Кампания {campaign.id} загружена: этапов: {len(campaign.stages)}, {campaign.terms.nom_pl}: {len(campaign.institutions)}.")
    if since is not None and not as_json:
        _echo_lines(years.lineage_lines(since, campaign.terms))
    past = _finished(campaign, now)
    if past:
        click.echo(f"Внимание: {past}", err=True)
    if as_json or now <= min(stage.opens_at for stage in campaign.stages):
        return  # loaded ahead of time, as usual: nothing can be overdue, and a national roster is not planned twice
    with store.dry_run(app.db) as session:  # loaded late: as the first tick will see it
        engine.reconcile(session, campaign.id, now)
        say_overdue(session, campaign, now)


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


def _amend(app: App, campaign: spec.Campaign, now: datetime, file: str, apply_: bool, reason: str, force: bool,
           expected: str | None, as_json: bool) -> None:
    """A changed file: its plan, or (with --apply) the amendment itself."""
    from dqflow import store
    from dqflow.engine import amend
    from dqflow.present import amendment

    if not apply_:
        with store.dry_run(app.db) as session:
            plan = amend.plan(session, campaign, now)
        if as_json:
            click.echo(plan.to_json())
            return
        click.echo(amendment.text(plan, campaign.terms))
        click.echo(f"Применить: dqflow load {shlex.quote(file)} --apply --plan {plan.digest} --reason ТЕКСТ"
                   + (" --force" if plan.rewrites else ""))
        return
    with app.transaction() as session:
        plan = amend.apply(session, campaign, now, reason, force=force, expected=expected)
    if as_json:
        click.echo(plan.to_json())
    else:
        click.echo(amendment.text(plan, campaign.terms))
        click.echo(f"Изменения применены (план {plan.digest}).")
    # committed and said: new rules (a `settle:`, a scale, the indicators) only marked the kept final levels; they are
    # computed again here in short steps, as `tick` does, not left to the next wake-up (the справка is right meanwhile)
    catch_up_finals(app, campaign)


@click.command("simulate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=str), help="YAML: submissions: [{institution, stage, at}].")
@click.option("--seed", default=1, show_default=True, help="Seed of the on-time/late/silent mix (without --scenario).")
@click.option("--until", "until_text", metavar="TIME", help="Stop the replay here (default: a day after the last lock).")
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), help="Write every email here as an .eml file.")
@click.option("--keep-db", "keep_db", metavar="URL",
              help="Replay into this database (a SQLite path or URL without the campaign) and keep it, for report, calendar, status.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def simulate_command(file: str, scenario: str | None, seed: int, until_text: str | None, maildir: Path | None,
                     keep_db: str | None, as_json: bool) -> None:
    """Replay a whole campaign on a virtual clock in a throw-away database."""
    from dqflow.delivery import simulate
    from dqflow.present import simulation

    campaign = spec.load(file)
    plan = simulate.scenario_from_file(scenario, campaign) if scenario else simulate.seeded_scenario(campaign, seed)
    until = None
    if until_text:
        try:
            until = parse_local(until_text, campaign.tz)
        except ValueError as exc:
            raise DqflowError(f"--until: {exc}") from None
    replay = simulate.replay(campaign, plan, until, maildir, wall_clock, keep=keep_db)
    _echo_all(simulation.simulation_json(replay) if as_json else simulation.simulation_text(replay))
    if as_json:
        click.echo()


def _echo_all(pieces, block: int = 4096) -> None:
    """Write pieces of text as they come, a block of them at a time: a national replay's output is
    never held whole."""
    held: list[str] = []
    for piece in pieces:
        held.append(piece)
        if len(held) >= block:
            click.echo("".join(held), nl=False)
            held.clear()
    click.echo("".join(held), nl=False)
