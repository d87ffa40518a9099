"""Commands on where the ДОУ stand and what they did: status, history, tick, submit, extend, excuse."""

from __future__ import annotations

from datetime import datetime

import click

from dqflow import engine
from dqflow.calendar import parse_local, show, zone_label
from dqflow.campaign import spec
from dqflow.cli.common import App, catch_up_finals, now_option, pass_app, say_waiting, with_campaign
from dqflow.errors import DqflowError
from dqflow.present import history, labels, report


@click.command("status")
@click.option("--institution", "institution_id", metavar="ID", help="Show one ДОУ: its deadlines, extensions, submissions.")
@click.option("--institutions", "listed", is_flag=True, help="Also list the ДОУ with their status per stage, a page at a time.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="With --institutions: skip this many ДОУ (roster order).")
@click.option("--limit", type=click.IntRange(min=1), default=engine.INSTITUTIONS_PAGE, show_default=True,
              help="With --institutions: list at most this many ДОУ.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the same as --format json).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True,
              help="text for the terminal, json for programs, md (Markdown tables) for pasting into letters.")
@now_option
@pass_app
@with_campaign
def status_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str | None, listed: bool, offset: int,
                   limit: int, as_json: bool, fmt: str) -> None:
    """Where every stage stands as of --now, with counts per status (writes nothing); --institutions lists the ДОУ."""
    fmt = "json" if as_json else fmt
    with app.reading() as session:
        view = engine.status(session, campaign.id, now, institutions=listed, institution_id=institution_id,
                             offset=offset, limit=limit, without_materials=institution_id is None and fmt != "json")
        if institution_id is None:
            click.echo({"json": report.status_json, "md": report.status_markdown, "text": report.status_text}[fmt](view))
            if fmt != "json":  # the reviews not due: the ДОУ handed in nothing (`late.without_materials`, found with the counts)
                apart: dict[str, list[str]] = {}
                for inst, stage_id in view.without_materials:
                    apart.setdefault(stage_id, []).append(inst)
                for stage_id, found in apart.items():
                    stage = campaign.stage(stage_id)
                    click.echo(f"Нет материалов для экспертизы «{stage.label if stage else stage_id}»: {len(found)} "
                               f"{campaign.terms.gen_pl if len(found) > 1 else campaign.terms.nom} ({', '.join(found)}).")
            return
        from dqflow import results  # the review panels of one ДОУ: the results' machinery, for this view alone

        details = engine.institution_detail(session, campaign.id, institution_id, now)
        panels: report.Panels = dict(results.review_panels(session, campaign, institution_id, {d.stage.id: d.progress for d in details}))
        render = {"json": report.institution_json, "md": report.institution_markdown, "text": report.institution_text}[fmt]
        click.echo(render(view, institution_id, details, panels))


@click.command("history")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def history_command(app: App, institution_id: str, as_json: bool) -> None:
    """A ДОУ's audit trail, oldest first."""
    with app.reading() as session:
        campaign = engine.definition(session, app.campaign_id)
        rows = engine.history(session, campaign.id, institution_id)
    click.echo(history.history_json(rows, campaign.tz) if as_json else history.history_text(rows, campaign.tz, app.wall, campaign))


@click.command("tick")
@now_option
@pass_app
@with_campaign
def tick_command(app: App, campaign: spec.Campaign, now: datetime) -> None:
    """Open and lock what is due as of --now, and print what changed."""
    with app.transaction() as session:
        changes = engine.reconcile(session, campaign.id, now)
    click.echo(report.changes_text(changes, campaign.tz, campaign.terms, campaign))  # committed: said before the catch-up
    catch_up_finals(app, campaign)  # the kept final levels, in short steps once committed
    say_waiting(app, campaign, now)  # tick sends nothing: when the letters go, and why not now


@click.command("submit")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", required=True, metavar="STAGE", help="The stage submitted for.")
@click.option("--link", "links", multiple=True, metavar="URL",
              help="A link to the materials (repeatable). Not for a form stage (form: true): its hand-in is the form.")
@now_option
@pass_app
@with_campaign
def submit_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str,
                   links: tuple[str, ...]) -> None:
    """Record a ДОУ's submission for a stage; for a form stage, hand in its form (refused while incomplete)."""
    with app.transaction() as session:
        row = engine.submit(session, campaign.id, institution_id, stage_id, now, links)
    click.echo(report.submitted_text(institution_id, stage_id, row.status, now, row.due_at, campaign.tz, campaign.terms, campaign))
    stage = campaign.stage(stage_id)
    if stage is not None and stage.form:
        click.echo(f"Форма сдана: эта версия зафиксирована (показателей: {len(campaign.indicators)}); "
                   "следующий этап заполнения начнётся с неё.")


@click.command("extend")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", required=True, metavar="STAGE", help="The stage to extend.")
@click.option("--until", "until_text", required=True, metavar="TIME",
              help="The ДОУ's new deadline and lock (a date means the end of that day, campaign zone).")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@now_option
@pass_app
@with_campaign
def extend_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str,
                   until_text: str, reason: str) -> None:
    """Give one ДОУ its own deadline for a stage (reopens it if locked)."""
    try:
        until = parse_local(until_text, campaign.tz, end_of_day=True)
    except ValueError as exc:
        raise DqflowError(f"--until: {exc}") from None
    with app.transaction() as session:
        row = engine.extend(session, campaign.id, institution_id, stage_id, until, reason, now)
    click.echo(f"{campaign.terms.nom} {institution_id}, этап «{labels.stage_name(campaign, stage_id)}»: "
               f"срок продлён до {show(row.due_at, campaign.tz)} "
               f"({zone_label(campaign.tz, row.due_at)}); статус: {labels.STATUS_RU[row.status]}")


@click.command("excuse")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", required=True, metavar="STAGE", help="The stage the ДОУ is released from.")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@now_option
@pass_app
@with_campaign
def excuse_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str, reason: str) -> None:
    """Release a ДОУ from a stage; it is no longer expected or reminded."""
    with app.transaction() as session:
        engine.excuse(session, campaign.id, institution_id, stage_id, reason, now)
    click.echo(f"{campaign.terms.nom} {institution_id} освобожден{campaign.terms.past} от этапа «{labels.stage_name(campaign, stage_id)}»")
