"""Commands across campaigns, year after year: `campaigns` lists the loaded ones."""

from __future__ import annotations

import json

import click
from sqlmodel import select

from dqflow.cli.common import App, now_option, pass_app, resolve_now


@click.command("campaigns")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (English keys).")
@now_option
@pass_app
def campaigns_command(app: App, as_json: bool, now_text: str | None) -> None:
    """List the loaded campaigns: year, roster size, first and last stage dates, state at --now, previous campaign.

    --now without an offset is read in the campaigns' zone when they all share one, else in UTC."""
    from dqflow.engine import catalogue
    from dqflow.present import years
    from dqflow.store import CampaignRow

    with app.reading() as session:
        zones = set(session.exec(select(CampaignRow.timezone)).all())
        now = resolve_now(now_text, zones.pop() if len(zones) == 1 else "UTC", app.wall)
        entries = catalogue.campaigns(session, now)
    if as_json:
        click.echo(json.dumps(years.campaigns_json(entries), ensure_ascii=False, indent=2))
        return
    for line in years.campaigns_lines(entries):
        click.echo(line)
