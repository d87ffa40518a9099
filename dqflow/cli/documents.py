"""Commands that write documents for people to read: the справка, calendars, the public board."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from dqflow import engine, results, store
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign
from dqflow.errors import DqflowError


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(results.FORMATS), default="html", show_default=True,
              help="html (print-ready on A4), xlsx (a summary sheet with the charts, then a sheet per view), "
                   "docx (Word: the HTML's content, its charts as tables), csv (a folder of files), md (Markdown).")
@click.option("--out", type=click.Path(path_type=Path), metavar="PATH",
              help="The file to write (for csv a folder; for html a FILE.html, or a folder: the summary as index.html and a "
                   "page per ДОУ). Default: spravka-CAMPAIGN.FORMAT here; md without --out prints.")
@click.option("--compare", "compare_id", metavar="PREVIOUS_ID",
              help="Compare with this loaded campaign (default: campaign.previous): html, docx and md gain a section of dynamics "
                   "(and each ДОУ's part), xlsx a sheet of its own, csv dynamics.csv.")
@now_option
@pass_app
@with_campaign
def report_command(app: App, campaign: spec.Campaign, now: datetime, fmt: str, out: Path | None, compare_id: str | None) -> None:
    """The summary analytic report as of --now, in Russian (writes nothing to the database)."""
    target = out or results.default_path(campaign.id, fmt)
    compares = bool(compare_id or campaign.previous)
    # each ДОУ's detail is read when the output shows it: not for a single document (an HTML file, DOCX, Markdown) of a
    # large roster, which is its summary alone (`figures.DETAIL_UP_TO`); the workbook's and the CSV's tables of every ДОУ
    # are plain rows read as they are written (`rows`), so the справка is written in the session that computed it (the
    # dynamics read each ДОУ's levels and the town's)
    tables = fmt in ("csv", "xlsx")
    single = fmt in ("docx", "md") or (fmt == "html" and not results.is_folder(fmt, target))
    detail = None if single else not tables or compares
    with store.dry_run(app.db, snapshot=True) as session:
        figures = results.compute(session, campaign.id, now, detail=detail, rows=tables, town=fmt != "csv" or compares)
        dynamics = None
        if compares:
            from dqflow.results import dynamics as compared

            dynamics = compared.for_report(session, figures, compare_id or campaign.previous, now, asked=compare_id is not None)
        if fmt != "csv":
            figures.dynamics = dynamics  # every format but CSV shows it in its own sections; CSV gains dynamics.csv
        if fmt == "md" and out is None:
            markdown = results.render(figures, fmt)
            assert isinstance(markdown, bytes), "Markdown is one file"
            click.echo(markdown.decode("utf-8"), nl=False)
            return
        written = results.write(figures, fmt, target)
    if fmt == "csv" and dynamics is not None:
        results.write_file(target / "dynamics.csv", compared.csv_text(dynamics).encode("utf-8"))
        written.append(target / "dynamics.csv")
    if fmt == "html" and results.is_folder(fmt, target):
        click.echo(f"Записано: {target / 'index.html'} и страниц {figures.campaign.terms.gen_pl}: {figures.total} ({target / 'dou'})")
        return
    for path in written:
        click.echo(f"Записано: {path}")
    if single and not figures.detailed:
        t = figures.campaign.terms
        click.echo(f"{t.nom_pl}: {figures.total} — справка без разделов по каждому {t.dat}; "
                   f"страницы {t.gen_pl}: dqflow report --format html --out ПАПКА")


@click.command("calendar")
@click.option("--institution", "institution_id", metavar="ID", help="The calendar of this ДОУ.")
@click.option("--expert", "expert_id", metavar="ID", help="The calendar of this expert.")
@click.option("--coordinator", is_flag=True, help="The coordinator's calendar: every stage and event.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=str), metavar="FILE.ics",
              help="Where to write the calendar (- for standard output).")
@now_option
@pass_app
@with_campaign
def calendar_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str | None, expert_id: str | None,
                     coordinator: bool, out: str) -> None:
    """An iCalendar file of one person's stages and webinars, deadlines as extended (writes nothing to the database)."""
    from dqflow.results import calendars  # icalendar: imported by this command alone

    chosen = [w for w in (calendars.Who("institution", institution_id) if institution_id else None,
                          calendars.Who("expert", expert_id) if expert_id else None,
                          calendars.Who("coordinator") if coordinator else None) if w]
    if len(chosen) != 1:
        raise DqflowError("укажите ровно одно из: --institution ID, --expert ID или --coordinator")
    who = chosen[0]
    with store.dry_run(app.db) as session:
        found = calendars.entries(session, campaign, who, now)
    data = calendars.to_bytes(campaign, found, now, calendars.title(campaign, who))
    if out == "-":
        click.echo(data.decode("utf-8"), nl=False)
        return
    results.write_file(Path(out), data)
    click.echo(f"Записано: {out} (событий: {len(found)})")


@click.command("board")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the board into (index.html).")
@now_option
@pass_app
@with_campaign
def board_command(app: App, campaign: spec.Campaign, now: datetime, folder: Path) -> None:
    """Write the public board as a static page to publish: stages, progress, ДОУ × stages (no personal data)."""
    from dqflow.web import board

    with store.dry_run(app.db, snapshot=True) as session:  # the grid and the stages of one moment, of one definition
        campaign = engine.definition(session, campaign.id)  # as it is in this snapshot: an amendment may have come since
        # the roster's statuses as plain values, then the stages as `status` says them, counted from those statuses
        # (`counts`: not counted again in the database) and without the disputes awaiting settlement (the board shows none)
        lines = board.roster_grid(session, campaign, now)
        view = engine.status(session, campaign.id, now, counts=board.counted(campaign, lines), awaiting=False)
    click.echo(f"Записано: {board.write(view, folder, lines=lines)}")
