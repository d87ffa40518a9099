"""Commands on the experts' work: their lists (experts …), their reviews, and their recommendations."""

from __future__ import annotations

from datetime import datetime

import click

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign
from dqflow.engine import experts
from dqflow.errors import DqflowError
from dqflow.intake import files
from dqflow.intake import text as texts
from dqflow.present import expert_lists, labels, refusals


@click.group("experts")
def experts_group() -> None:
    """Expert lists (assignment stages): draw, edit, show, compare."""


@experts_group.command("assign")
@click.argument("stage_id", metavar="STAGE")
@click.option("--seed", type=int, help="Seed of the draw (default: derived from the campaign and stage ids).")
@click.option("--replace", is_flag=True, help="Redraw a list that is already drawn (until its stage locks).")
@now_option
@pass_app
@with_campaign
def experts_assign(app: App, campaign: spec.Campaign, now: datetime, stage_id: str, seed: int | None, replace: bool) -> None:
    """Draw an expert list now (it is drawn by itself when its stage opens)."""
    with app.transaction() as session:
        drawn = experts.draw(session, campaign, stage_id, now, seed=seed, replace=replace)
    click.echo(expert_lists.expert_list_text(drawn, campaign))


@experts_group.command("set")
@click.argument("stage_id", metavar="STAGE")
@click.argument("institution_id", metavar="INSTITUTION")
@click.argument("expert_ids", metavar="EXPERT...", nargs=-1, required=True)
@now_option
@pass_app
@with_campaign
def experts_set(app: App, campaign: spec.Campaign, now: datetime, stage_id: str, institution_id: str,
                expert_ids: tuple[str, ...]) -> None:
    """Set one ДОУ's experts by hand (until the list's stage locks)."""
    with app.transaction() as session:
        current = experts.set_experts(session, campaign, stage_id, institution_id, list(expert_ids), now)
    chosen = ", ".join(f"{labels.expert_name(campaign, e)} ({e})" for e in current.assignments[institution_id])
    click.echo(f"{campaign.terms.nom} {institution_id}, список «{labels.stage_name(campaign, stage_id)}»: эксперты {chosen}")
    for problem in current.problems:
        click.echo(f"Внимание: {labels.broken_ru(problem, campaign.terms)}", err=True)


@experts_group.command("show")
@click.argument("stage_id", metavar="STAGE")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--csv", "as_csv", is_flag=True, help="One row per ДОУ and expert, for spreadsheets.")
@pass_app
def experts_show(app: App, stage_id: str, as_json: bool, as_csv: bool) -> None:
    """An expert list: ДОУ → experts, expert → ДОУ, loads, and any rule it breaks."""
    with store.dry_run(app.db) as session:
        campaign = engine.definition(session, app.campaign_id)
        current = experts.current(session, campaign, stage_id)
    if as_json:
        click.echo(expert_lists.expert_list_json(current, campaign.terms))
    elif as_csv:
        click.echo(expert_lists.expert_list_csv(current, campaign), nl=False)
    else:
        click.echo(expert_lists.expert_list_text(current, campaign))


@experts_group.command("diff")
@click.argument("first", metavar="LIST1")
@click.argument("second", metavar="LIST2")
@pass_app
def experts_diff(app: App, first: str, second: str) -> None:
    """Compare two lists ДОУ by ДОУ."""
    with store.dry_run(app.db) as session:
        campaign = engine.definition(session, app.campaign_id)
        rows = experts.diff(session, campaign, first, second)
    click.echo(expert_lists.expert_diff_text(rows, first, second, campaign.terms, campaign))


@click.command("review")
@click.argument("institution_id", metavar="INSTITUTION", required=False)
@click.option("--stage", "stage_id", metavar="STAGE", help="The review stage.")
@click.option("--expert", "expert_id", metavar="EXPERT", help="The expert who reviewed.")
@click.option("--level", "levels", multiple=True, metavar="AREA=LEVEL",
              help="A level for a quality area (repeatable); where the campaign reviews per indicator (its areas have "
                   "indicators and a stage has form: true), INDICATOR=LEVEL for every indicator instead.")
@click.option("--comment", "comments", multiple=True, metavar="INDICATOR=TEXT",
              help="The expert's comment on an indicator (repeatable; per-indicator reviews only).")
@click.option("--recommendations", metavar="FILE", help="A text file with the recommendations, or - for stdin.")
@click.option("--import", "import_file", type=click.Path(dir_okay=False, exists=True, path_type=str),
              help="CSV with columns institution,stage,expert,levels,recommendations (levels as 'area=level;area=level', "
                   "or 'indicator=level;…' per indicator) and, per indicator, an optional comments column "
                   "('indicator=text', one per line of the cell).")
@now_option
@pass_app
@with_campaign
def review_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str | None, stage_id: str | None,
                   expert_id: str | None, levels: tuple[str, ...], comments: tuple[str, ...], recommendations,
                   import_file: str | None) -> None:
    """Record an expert's review of a ДОУ (or many with --import): a level per quality area, or per indicator
    where the campaign reviews per indicator."""
    if import_file:
        if institution_id or stage_id or expert_id or levels or comments or recommendations:
            raise DqflowError("--import берёт оценки из файла; не указывайте вместе с ним "
                              "INSTITUTION, --stage, --expert, --level, --comment и --recommendations")
        entries = experts.read_review_csv(import_file, campaign, lambda exc: refusals.on_terminal(exc, campaign))
    else:
        if not (institution_id and stage_id and expert_id):
            raise DqflowError("укажите INSTITUTION, --stage и --expert (или --import ФАЙЛ.csv)")
        text = _read_recommendations(recommendations) if recommendations else ""
        entries = [experts.ReviewEntry(institution_id, stage_id, expert_id, experts.parse_levels(campaign, list(levels)), text,
                                       comments=experts.parse_comments(campaign, list(comments)))]
    with app.transaction() as session:
        statuses = engine.review_many(session, campaign.id, entries, now)
    for entry, status in zip(entries, statuses):
        click.echo(f"{campaign.terms.nom} {entry.institution_id}, этап «{labels.stage_name(campaign, entry.stage_id)}»: "
                   f"экспертиза эксперта {labels.expert_name(campaign, entry.expert_id)} записана; "
                   f"статус {campaign.terms.gen}: {labels.STATUS_RU[status]}")


def _read_recommendations(path: str) -> str:
    """The text of --recommendations: a UTF-8 file or stdin, no longer than a review may be."""
    limit = texts.MAX_NOTE * 4  # bytes: four per character at most in UTF-8
    try:
        data = files.read_stdin(limit) if path == "-" else files.read_bytes(path, limit)
        return data.decode("utf-8-sig")
    except files.Unreadable as exc:
        raise DqflowError(f"--recommendations {path}: {exc}") from None
    except UnicodeDecodeError:
        raise DqflowError(f"--recommendations {path}: текст не в UTF-8; сохраните файл в UTF-8") from None


@click.group("recommendations")
def recommendations_group() -> None:
    """The experts' addressed recommendations to each ДОУ."""


@recommendations_group.command("send")
@click.argument("stage_id", metavar="STAGE")
@now_option
@pass_app
@with_campaign
def recommendations_send(app: App, campaign: spec.Campaign, now: datetime, stage_id: str) -> None:
    """Queue each reviewed ДОУ's recommendations now, without waiting for the stage to lock."""
    with app.transaction() as session:
        queued = engine.send_recommendations(session, campaign.id, stage_id, now)
    if not queued:
        click.echo("Рекомендации по этому этапу уже поставлены в очередь или экспертиз ещё нет.")
    else:
        click.echo(f"Рекомендации для {campaign.terms.gen_pl}: {queued} в очереди; они уйдут при следующей отправке (dqflow send или dqflow run).")
