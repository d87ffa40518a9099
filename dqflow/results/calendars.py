"""Whose calendar holds what: a ДОУ's own stages, an expert's reviews (one per ДОУ assigned to them),
the coordinator's every stage; each with the events (webinars) of that person's audience.

Read in the caller's rolled-back session, as `status` reads: the campaign brought forward to `now`
(lists whose stage opened are drawn), nothing written.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, select

from dqflow import engine
from dqflow.campaign import spec
from dqflow.engine import experts
from dqflow.errors import NotFound
from dqflow.present import ics
from dqflow.store import ExtensionRow, ProgressRow

Who = ics.Who
to_bytes = ics.calendar


def entries(session: Session, campaign: spec.Campaign, who: ics.Who, now: datetime) -> list[ics.Entry]:
    """The person's entries as of `now` (lists drawn by then are in); call in a rolled-back session."""
    _check(campaign, who)
    engine.reconcile(session, campaign.id, now)  # as `status` sees it: lists whose stage opened are drawn
    progress = {(r.institution_id, r.stage_id): r for r in
                session.exec(select(ProgressRow).where(ProgressRow.campaign_id == campaign.id)).all()}
    extended: dict[tuple[str, str], int] = defaultdict(int)
    for inst, stage_id in session.exec(select(ExtensionRow.institution_id, ExtensionRow.stage_id)
                                       .where(ExtensionRow.campaign_id == campaign.id)).all():
        extended[(inst, stage_id)] += 1
    lists = {s.id: experts.stored(session, campaign.id, s.id) for s in campaign.stages if s.kind == "assignment"}
    names = {i.id: i.name for i in campaign.institutions}
    found: list[ics.Entry] = []
    for stage in campaign.stages:
        if stage.kind == "event":
            if _audience(who) in stage.audience or who.role == "coordinator":
                found.append(ics.event_entry(campaign, stage))
        elif who.role == "coordinator":
            found.append(ics.task_entry(campaign, stage, who, stage.opens_at, stage.due_at, stage.title, 0))
        elif who.role == "institution" and stage.actor == "institution":
            row = progress[(who.id, stage.id)]
            found.append(ics.task_entry(campaign, stage, who, row.opens_at, row.due_at, stage.title, extended[(who.id, stage.id)]))
        elif who.role == "expert" and stage.actor == "expert":
            drawn = lists.get(stage.list or "", {})
            mine = [inst for inst, assigned in drawn.items() if who.id in assigned]
            if not drawn:  # the list is drawn when its stage opens: until then, the stage as a whole
                found.append(ics.task_entry(campaign, stage, who, stage.opens_at, stage.due_at,
                                            f"{stage.title} (список экспертов ещё не составлен)", 0))
            for inst in sorted(mine, key=list(names).index):
                row = progress[(inst, stage.id)]
                found.append(ics.task_entry(campaign, stage, ics.Who("expert", f"{who.id}/{inst}"), row.opens_at, row.due_at,
                                            f"Экспертиза: {names[inst]} — {stage.title}", extended[(inst, stage.id)]))
    return found


def _check(campaign: spec.Campaign, who: ics.Who) -> None:
    if who.role == "institution" and not any(i.id == who.id for i in campaign.institutions):
        raise NotFound(f"no ДОУ '{who.id}' in campaign '{campaign.id}'")
    if who.role == "expert" and not any(e.id == who.id for e, _ in campaign.every_expert()):
        raise NotFound(f"no expert '{who.id}' in campaign '{campaign.id}'")


def _audience(who: ics.Who) -> str:
    return {"institution": "institutions", "expert": "experts"}.get(who.role, who.role)


def title(campaign: spec.Campaign, who: ics.Who) -> str:
    if who.role == "institution":
        name = next(i.name for i in campaign.institutions if i.id == who.id)
        return f"{campaign.title}: {name}"
    if who.role == "expert":
        return f"{campaign.title}: эксперт {who.id}"
    return f"{campaign.title}: координатор"
