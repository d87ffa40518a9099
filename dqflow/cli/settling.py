"""The coordinator's settled level for an indicator the two experts of a ДОУ disagreed on (`engine.settle`)."""

from __future__ import annotations

from datetime import datetime

import click

from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign
from dqflow.present import labels


@click.command("settle")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", metavar="STAGE", required=True, help="The review stage.")
@click.option("--indicator", "indicator_id", metavar="ID", required=True, help="The indicator, as the form names it (e.g. 1.1).")
@click.option("--level", metavar="LEVEL", required=True, help="The settled level: a level id of the campaign's scale.")
@click.option("--reason", metavar="TEXT", required=True, help="Why this level (kept in the audit log and shown on the ДОУ's card).")
@now_option
@pass_app
@with_campaign
def settle_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str, indicator_id: str,
                   level: str, reason: str) -> None:
    """Settle an indicator the ДОУ's two experts gave different levels in a review stage (campaigns reviewed per
    indicator); a settlement already made may be changed with a new reason."""
    from dqflow.engine import settle

    with app.transaction() as session:
        done = settle.settle(session, campaign.id, institution_id, stage_id, indicator_id, level, reason, now)
    stage = campaign.stage(stage_id)
    _, indicator = campaign.indicators[indicator_id]
    experts = ", ".join(f"{labels.expert_name(campaign, g.expert_id)} — {g.level}" for g in done.indicator.given)
    changed = f" (был {labels.level_name(campaign, done.was)})" if done.was else ""
    click.echo(f"{campaign.terms.nom} {institution_id}, этап «{stage.label if stage else stage_id}»: показатель {indicator.id} "
               f"«{indicator.title}»: согласован уровень {labels.level_name(campaign, level)}{changed}"
               + (f"; эксперты: {experts}" if experts else "") + ".")
