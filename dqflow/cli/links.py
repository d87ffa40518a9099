"""`dqflow links check`: do the links the ДОУ gave open? (`delivery.linkcheck`)"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import click

from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign
from dqflow.errors import DqflowError


@click.group("links")
def links_group() -> None:
    """Check the links ДОУ gave to their materials (env DQFLOW_LINKCHECK_ALLOW: networks allowed despite being private)."""


@links_group.command("check")
@click.option("--stage", "stage_id", metavar="STAGE", help="Only the links handed in for this stage. Default: every stage.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@now_option
@pass_app
@with_campaign
def check_command(app: App, campaign: spec.Campaign, now: datetime, stage_id: str | None, as_json: bool) -> None:
    """Fetch every link (HEAD, then a bounded GET), store each result with the time of the check, and say which do not open."""
    from dqflow.delivery import link_policy, linkcheck

    if stage_id is not None and campaign.stage(stage_id) is None:
        known = ", ".join(s.id for s in campaign.stages)
        raise DqflowError(f"--stage: этапа «{stage_id}» нет в кампании; этапы: {known}")
    policy = link_policy.policy_from_env()  # a bad DQFLOW_LINKCHECK_ALLOW is refused before anything is read
    with app.reading() as session:
        found = linkcheck.campaign_links(session, campaign.id, stage_id)
    result = asyncio.run(linkcheck.check_links(app.db, campaign.id, found, now, policy))
    names = campaign.institution_names
    labels = {s.id: s.label for s in campaign.stages}
    if as_json:
        click.echo(json.dumps({
            "campaign": campaign.id, "stage": stage_id, "checked_at": now.isoformat(),
            "counts": {state: result.count(state) for state in linkcheck.STATES}, "total": len(result.links),
            "links": [{"institution": link.institution_id, "stage": link.stage_id, "url": link.url, "state": r.state,
                       "detail": r.detail, "http_status": r.http_status} for link, r in result.links]},
            ensure_ascii=False, indent=2))
        return
    where = f" этапа «{labels[stage_id]}»" if stage_id else ""
    if not result.links:
        click.echo(f"Ссылок{where} пока нет: {campaign.terms.nom_pl} ничего не сдали.")
        return
    click.echo(f"Проверено ссылок{where}: {len(result.links)} на {show(now, campaign.tz)} ({zone_label(campaign.tz, now)}).")
    click.echo("; ".join(f"{linkcheck.STATE_RU[state]}: {result.count(state)}" for state in linkcheck.STATES) + ".")
    for state in (linkcheck.CLOSED, linkcheck.BROKEN):
        shown = [(link, r) for link, r in result.links if r.state == state]
        if not shown:
            continue
        click.echo("")
        click.echo(f"{linkcheck.STATE_RU[state].capitalize()} — {linkcheck.ADVICE_RU[state]}:")
        for link, r in shown:
            click.echo(f"  {names.get(link.institution_id, link.institution_id)}, «{labels.get(link.stage_id, link.stage_id)}»: "
                       f"{link.url} — {r.detail}")
