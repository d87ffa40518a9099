"""The campaigns a database holds, year after year: for each its year, roster size, first and last stage moments, where
it stands at `now` and the campaign before it (`campaign.previous`). Three queries whatever the number of campaigns or
ДОУ; the campaigns' definitions are read without their rosters.

Where a campaign stands is asked of `rules`: not started until its first stage opens (`has_opened`), finished once its
last stage has locked (`has_locked`), running between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func
from sqlmodel import Session, col, select

from dqflow.calendar import as_utc
from dqflow.campaign import codec
from dqflow.engine.rules import has_locked, has_opened
from dqflow.store import CampaignRow, InstitutionRow, StageRow


class CampaignState(str, Enum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    timezone: str
    year: int | None  # the year its first stage opens in, in its zone (None for a campaign of no stages)
    institutions: int  # the ДОУ still in it
    first_opens: datetime | None
    last_locks: datetime | None
    state: CampaignState
    previous: str | None
    previous_loaded: bool


def campaign_state(first_opens: datetime | None, last_locks: datetime | None, now: datetime) -> CampaignState:
    if first_opens is None or last_locks is None or not has_opened(first_opens, now):
        return CampaignState.NOT_STARTED
    return CampaignState.FINISHED if has_locked(last_locks, now) else CampaignState.RUNNING


def campaigns(session: Session, now: datetime) -> list[Entry]:
    """Every loaded campaign, oldest first (by first stage, then id)."""
    heads = session.exec(select(CampaignRow.id, CampaignRow.title, CampaignRow.timezone, CampaignRow.definition)).all()
    spans = {cid: (first, last) for cid, first, last in session.exec(
        select(StageRow.campaign_id, func.min(StageRow.opens_at), func.max(StageRow.locks_at)).group_by(col(StageRow.campaign_id))).all()}
    sizes = dict(session.exec(select(InstitutionRow.campaign_id, func.count()).where(col(InstitutionRow.withdrawn_at).is_(None))
                              .group_by(col(InstitutionRow.campaign_id))).all())
    ids = {cid for cid, *_ in heads}
    found = []
    for cid, title, tz_name, definition in heads:
        campaign = codec.from_json(definition)  # the head alone: the roster after it stays unparsed
        first, last = spans.get(cid, (None, None))
        first, last = _aware(first), _aware(last)
        found.append(Entry(cid, title, tz_name, campaign.year, sizes.get(cid, 0), first, last,
                           campaign_state(first, last, now), campaign.previous, campaign.previous in ids))
    return sorted(found, key=lambda e: (e.first_opens is None, e.first_opens or now, e.id))


def _aware(moment: datetime | None) -> datetime | None:
    """An aggregate's moment, aware (should a driver hand min()/max() back as text or naive)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment)
