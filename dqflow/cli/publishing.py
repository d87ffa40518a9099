"""`dqflow publish`: the results as a static site for the official website, with open data beside it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from dqflow import results, store
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign


@click.command("publish")
@click.option("--out", "folder", required=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Folder to write the site into: missing, empty, or one an earlier publish wrote (replaced as a whole).")
@now_option
@pass_app
@with_campaign
def publish_command(app: App, campaign: spec.Campaign, now: datetime, folder: Path) -> None:
    """Write the results as a static site for the official website: the town's summary, a page per ДОУ, data.csv,
    data.json and schema.json; with the dynamics beside campaign.previous when it is loaded. No addresses, experts or
    review texts (recommendations only when the campaign's publish: {recommendations: true} says so). Writes nothing to the database."""
    from dqflow.results import publish

    dynamics = None
    with store.dry_run(app.db, snapshot=True) as session:
        figures = results.compute(session, campaign.id, now)
        if campaign.previous:
            from dqflow.results import dynamics as compared

            dynamics = compared.for_report(session, figures, campaign.previous, now, asked=False)
    if campaign.previous and dynamics is None:
        click.echo(f"предупреждение: campaign.previous: кампании «{campaign.previous}» нет в базе данных — динамика не "
                   "опубликована; загрузите её файл (dqflow load) и опубликуйте снова", err=True)
    files = publish.build(figures, dynamics)
    publish.write(files, folder)
    pages = sum(1 for name in files if name.endswith(".html"))
    click.echo(f"Записано: {folder} (страниц: {pages}, файлов: {len(files)})")
