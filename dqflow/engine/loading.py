"""Storing a validated campaign: its stages, roster, experts and every ДОУ's row in every per-ДОУ stage."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Table, false, insert, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.calendar import show
from dqflow.campaign import spec
from dqflow.engine.rules import StageState, Status
from dqflow.errors import NotAllowed
from dqflow.store import AuditRow, CampaignRow, ExpertRow, InstitutionRow, ProgressRow, StageRow, acting, analyze_after, recorded_at

# SQLModel's typing does not declare the tables its classes map; Core statements need them.
_STAGE: Table = StageRow.__table__  # type: ignore[attr-defined]
_INSTITUTION: Table = InstitutionRow.__table__  # type: ignore[attr-defined]
_EXPERT: Table = ExpertRow.__table__  # type: ignore[attr-defined]
_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]


def load(session: Session, campaign: spec.Campaign, now: datetime) -> str:
    """Store a validated campaign: 'loaded', or 'unchanged' when the same content is there."""
    text = spec.to_json(campaign)  # computed once: the digest is taken of the very text stored
    digest = spec.digest_of(text)
    existing = session.get(CampaignRow, campaign.id)
    if existing is not None:
        if existing.digest == digest:
            return "unchanged"
        raise NotAllowed(
            f"campaign '{campaign.id}' is already loaded (on {show(existing.loaded_at, campaign.tz)}) with different content; "
            "see what the change would do with 'dqflow load FILE' and make it with 'dqflow load FILE --apply --reason TEXT'"
        )
    session.add(CampaignRow(id=campaign.id, title=campaign.title, timezone=campaign.timezone, digest=digest,
                            definition=text, loaded_at=now))
    session.flush()
    session.execute(insert(_STAGE), [
        {"campaign_id": campaign.id, "id": s.id, "position": n, "kind": s.kind, "actor": s.actor,
         "state": StageState.SCHEDULED.value, "opens_at": s.opens_at, "due_at": s.due_at, "locks_at": s.locks_at}
        for n, s in enumerate(campaign.stages)
    ])
    session.execute(insert(_INSTITUTION), [
        {"campaign_id": campaign.id, "id": i.id, "position": n, "name": i.name, "email": i.email, "inn": i.inn}
        for n, i in enumerate(campaign.institutions)
    ])
    experts = [{"campaign_id": campaign.id, "id": e.id, "institution_id": home, "name": e.name, "email": e.email}
               for e, home in campaign.every_expert()]
    if experts:
        session.execute(insert(_EXPERT), experts)
    per_institution = [s.id for s in campaign.stages if s.per_institution]
    if per_institution and campaign.institutions:  # every ДОУ × per-ДОУ stage by INSERT…SELECT: nothing bound per row
        stage, institution = _STAGE.c, _INSTITUTION.c
        rows = (sa_select(institution.campaign_id, institution.id, stage.id, literal(Status.UPCOMING.value), stage.opens_at,
                          stage.due_at, stage.locks_at, false())
                .select_from(_INSTITUTION.join(_STAGE, stage.campaign_id == institution.campaign_id))
                .where(institution.campaign_id == campaign.id, stage.id.in_(per_institution))
                .order_by(stage.position, institution.position))  # as a row per stage, then per ДОУ, was inserted before
        session.execute(insert(_PROGRESS).from_select(
            ["campaign_id", "institution_id", "stage_id", "status", "opens_at", "due_at", "locks_at", "extended"], rows))
    session.add(AuditRow(campaign_id=campaign.id, action="load", at=now, recorded_at=recorded_at(session, now), actor=acting(session),
                         detail=json.dumps({"digest": digest, "stages": len(campaign.stages),
                                            "institutions": len(campaign.institutions)})))
    # tables that had no rows of this campaign: the planner's statistics are refreshed once the load commits
    analyze_after(session, *(t.name for t in (_STAGE, _INSTITUTION, _EXPERT, _PROGRESS)))
    return "loaded"
