"""`dqflow region report`: the regional справка from several municipal campaigns held in one database."""

from __future__ import annotations

from pathlib import Path

import click

from dqflow import engine, results, store
from dqflow.cli.common import App, now_option, pass_app, resolve_now
from dqflow.errors import DqflowError
from dqflow.results import region, region_documents

FORMATS = ("html", "xlsx", "docx", "csv")


@click.group("region")
def region_group() -> None:
    """Region-wide views over several campaigns (one per municipality) loaded in one database."""


@region_group.command("report")
@click.option("--campaign", "campaign_ids", multiple=True, required=True, metavar="ID",
              help="A municipality's campaign (repeat for each; at least one). Named in the report by its title.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html (one print-ready page), xlsx (a workbook: summary, participation, levels, ДОУ at or below the base "
                   "level, agreement, levels by indicator), docx (Word) or csv (a folder: participation, levels, below_base, "
                   "agreement, and indicator_levels where the campaigns review per indicator).")
@click.option("--out", required=True, type=click.Path(path_type=Path), metavar="PATH",
              help="The file to write (for csv a folder, made if missing).")
@click.option("--common", is_flag=True,
              help="Compare campaigns whose areas or levels differ on what they share (areas with the same id and title, "
                   "levels with the same id) instead of refusing them; levels by indicator on the indicator ids all share.")
@now_option
@pass_app
def report_command(app: App, campaign_ids: tuple[str, ...], fmt: str, out: Path, common: bool, now_text: str | None) -> None:
    """The regional summary report as of --now, in Russian (writes nothing to the database)."""
    if fmt == "csv" and out.exists() and not out.is_dir():  # refused before anything is read
        raise DqflowError(f"--out {out}: это файл, а CSV пишется в папку; укажите папку")
    if fmt != "csv" and out.is_dir():
        raise DqflowError(f"--out {out}: это папка; укажите имя файла, например {out / ('region.' + fmt)}")
    ids = list(dict.fromkeys(campaign_ids))
    with store.dry_run(app.db, snapshot=True) as session:
        first = engine.definition(session, ids[0])  # an unknown id is refused with the loaded ones listed
        now = resolve_now(now_text, first.timezone, app.wall)
        figures = region.compute(session, ids, now, common=common)  # every campaign's figures in one pass
    if fmt == "csv":
        written = []
        for name, text in region_documents.csv_files(figures).items():
            results.write_file(out / name, text.encode("utf-8"))
            written.append(out / name)
    else:
        rendered = {"html": lambda: region_documents.html(figures).encode("utf-8"), "xlsx": lambda: region_documents.xlsx(figures),
                    "docx": lambda: region_documents.docx(figures)}[fmt]()
        results.write_file(out, rendered)
        written = [out]
    for path in written:
        click.echo(f"Записано: {path}")
