"""Whose calendar holds what: a ДОУ's own stages, an expert's reviews (one per ДОУ assigned to them),
the coordinator's every stage; each with the events (webinars) of that person's audience, every entry named by
its stage's `label` (`short:`, else the title).

Each entry is dated by the person's *effective* times: a ДОУ's own opening and due time as its progress
row keeps them (an extension replaces the stage's), not the stage's as the file gave them.
Read in the caller's rolled-back session, as `status` reads: the campaign brought forward to `now`
(lists whose stage opened are drawn), nothing written. Only the person's own rows are read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from dqflow import engine
from dqflow.access import links
from dqflow.campaign import spec
from dqflow.engine import experts
from dqflow.errors import NotFound
from dqflow.present import ics
from dqflow.store import ExtensionRow, ProgressRow, chunks

Who = ics.Who
to_bytes = ics.calendar


def entries(session: Session, campaign: spec.Campaign, who: ics.Who, now: datetime) -> list[ics.Entry]:
    """The person's entries as of `now` (lists drawn by then are in); call in a rolled-back session."""
    _check(campaign, who)
    subject = who.id or ""  # the ДОУ's or the expert's id; the coordinator has none
    engine.reconcile(session, campaign.id, now)  # as `status` sees it: lists whose stage opened are drawn
    order = {i.id: n for n, i in enumerate(campaign.institutions)}  # an amendment's withdrawn ДОУ are in no one's calendar
    mine: dict[str, list[str]] = {}  # review stage → the ДОУ this expert reviews in it, in roster order
    if who.role == "expert":
        for stage in campaign.stages:
            if stage.actor == "expert" and stage.list and experts.drawn(session, campaign.id, stage.list):
                assigned = experts.stored(session, campaign.id, stage.list)
                mine[stage.id] = sorted((i for i, people in assigned.items() if subject in people and i in order), key=order.__getitem__)
    times = _times(session, campaign, [(subject, s.id) for s in campaign.stages if s.actor == "institution"] if who.role == "institution"
                   else [(inst, stage_id) for stage_id, found in mine.items() for inst in found])
    names = campaign.institution_names
    page = _page(session, campaign, who)
    found: list[ics.Entry] = []
    for stage in campaign.stages:
        if stage.kind == "event":
            if _audience(who) in stage.audience or who.role == "coordinator":
                found.append(ics.event_entry(campaign, stage))
        elif who.role == "coordinator":
            found.append(ics.task_entry(campaign, stage, who, stage.opens_at, stage.due_at, stage.label, 0, page))
        elif who.role == "institution" and stage.actor == "institution":
            opens, due, extended = times[(subject, stage.id)]
            found.append(ics.task_entry(campaign, stage, who, opens, due, stage.label, extended, page))
        elif who.role == "expert" and stage.actor == "expert":
            if stage.id not in mine:  # the list is drawn when its stage opens: until then, the stage as a whole
                found.append(ics.task_entry(campaign, stage, who, stage.opens_at, stage.due_at,
                                            f"{stage.label} (список экспертов ещё не составлен)", 0, page))
                continue
            for inst in mine[stage.id]:
                opens, due, extended = times[(inst, stage.id)]
                found.append(ics.task_entry(campaign, stage, ics.Who("expert", f"{subject}/{inst}"), opens, due,
                                            f"Экспертиза: {names[inst]} — {stage.label}", extended, page))
    return found


def _page(session: Session, campaign: spec.Campaign, who: ics.Who) -> str | None:
    """The person's own portal page, as their letters give it (the coordinator's: the sign-in page); None without a portal."""
    base = links.base_url(campaign)
    if base is None:
        return None
    if who.role == "coordinator" or who.id is None:
        return f"{base}/coordinator"
    return links.links(session, campaign.id).url(base, who.role, who.id)


def _times(session: Session, campaign: spec.Campaign, rows: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[datetime, datetime, int]]:
    """(ДОУ, stage) → its effective opening and due time and how many extensions moved them, for the rows named only."""
    found: dict[tuple[str, str], tuple[datetime, datetime, int]] = {}
    by_stage: dict[str, list[str]] = {}
    for inst, stage_id in rows:
        by_stage.setdefault(stage_id, []).append(inst)
    for stage_id, institutions in by_stage.items():
        for chunk in chunks(sorted(set(institutions))):
            extended: dict[str, int] = {inst: n for inst, n in session.execute(
                sa_select(col(ExtensionRow.institution_id), func.count()).where(
                    col(ExtensionRow.campaign_id) == campaign.id, col(ExtensionRow.stage_id) == stage_id,
                    col(ExtensionRow.institution_id).in_(chunk)).group_by(col(ExtensionRow.institution_id)))}
            for inst, opens, due in session.execute(
                    sa_select(col(ProgressRow.institution_id), col(ProgressRow.opens_at), col(ProgressRow.due_at)).where(
                        col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.stage_id) == stage_id,
                        col(ProgressRow.institution_id).in_(chunk))):
                found[(inst, stage_id)] = (opens, due, extended.get(inst, 0))
    return found


def _check(campaign: spec.Campaign, who: ics.Who) -> None:
    if who.role == "institution" and not any(i.id == who.id for i in campaign.institutions):
        raise NotFound(f"no ДОУ '{who.id}' in campaign '{campaign.id}'", code="no-dou", institution=who.id,
                       known=", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else ""))
    if who.role == "expert" and not any(e.id == who.id for e, _ in campaign.every_expert()):
        raise NotFound(f"no expert '{who.id}' in campaign '{campaign.id}'", code="no-expert", expert=who.id)


def _audience(who: ics.Who) -> str:
    return {"institution": "institutions", "expert": "experts"}.get(who.role, who.role)


def title(campaign: spec.Campaign, who: ics.Who) -> str:
    if who.role == "institution":
        name = next(i.name for i in campaign.institutions if i.id == who.id)
        return f"{campaign.title}: {name}"
    if who.role == "expert":
        return f"{campaign.title}: эксперт {campaign.expert_names.get(who.id or '', who.id)}"
    return f"{campaign.title}: координатор"
