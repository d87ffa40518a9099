"""Reconcile: bring every stage and ДОУ of a campaign to where the clock says they are.

Level-triggered: what is due is derived from the stored rows and `now` by the rules (`rules.stage_moves`,
`rules.CLOCK`), so a reconcile is idempotent and catches up any gap. A stage-wide move is one
set-based UPDATE and one INSERT…SELECT of its audit rows, whatever the roster's size.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Protocol

from sqlalchemy import Table, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import experts, finals, reminders, rules
from dqflow.engine.definitions import definition, forget
from dqflow.engine.rules import STAGE, can, fire
from dqflow.store import AuditRow, InstitutionRow, ProgressRow, StageRow, lock_campaign, recorded_at

# SQLModel's typing does not declare the tables its classes map; Core statements need them.
_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]
_INSTITUTION: Table = InstitutionRow.__table__  # type: ignore[attr-defined]
_AUDIT: Table = AuditRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Change:
    """One transition made by reconcile, at the moment it took effect."""

    at: datetime
    stage_id: str
    action: str
    source: str
    dest: str
    institution_id: str | None = None


def reconcile(session: Session, campaign_id: str, now: datetime) -> list[Change]:
    """Bring every stage and ДОУ to where `now` says they are. Idempotent; catches up any gap.

    When a stage or a ДОУ's row opens and locks is the rules' (`rules.stage_moves`, `rules.CLOCK`).
    Each change is audited at the moment it took effect, not at the moment reconcile noticed it.

    Concurrent reconciles of one campaign take turns (`lock_campaign`), so each change, a
    stage's opening as much as a ДОУ's, is made and audited once.
    """
    changes: list[Change] = []
    lock_campaign(session, campaign_id)
    forget(session)  # what was read before the lock may predate an amendment committed while we waited
    campaign = definition(session, campaign_id)
    per_institution = {s.id for s in campaign.stages if s.per_institution}
    stages = session.exec(select(StageRow).where(StageRow.campaign_id == campaign_id).order_by(col(StageRow.position))
                          .execution_options(populate_existing=True)).all()  # as committed before the lock, not as cached
    for stage in stages:
        for trigger, at in rules.stage_moves(stage, now):
            changes += _move_stage(session, stage, trigger, at, now)
        if stage.id in per_institution:
            for tick in rules.CLOCK:
                changes += _move_progress(session, stage, tick, now)
    if changes:
        session.flush()  # keep the stage rows' own changes: expiring drops unflushed ones
        session.expire_all()  # bulk updates bypassed the identity map
    for spec_stage in campaign.stages:
        drawn = experts.draw_when_open(session, campaign, spec_stage, now) if spec_stage.kind == "assignment" else None
        if drawn:
            changes.append(Change(drawn, spec_stage.id, "draw", "open", "open"))
    reminders.plan(session, campaign, now)
    reminders.plan_digest(session, campaign, now)
    finals.refresh(session, campaign)  # new rules of the kept final levels: marked for `catch_up` (two reads if current)
    return sorted(changes, key=lambda c: c.at)  # stable: stage order, then roster order


# Between two steps of `catch_up_finals`: on SQLite the process that lets the turn to write go (`store.turns`: a flock,
# then the write lock) takes it again at once unless it waits, before a writer woken in another process is scheduled;
# measured at 50,000 ДОУ under load 6, a hand-in beside a catch-up without it waited up to 5.7 s (10 steps in a row).
REST = 0.1


def step_finals(session: Session, campaign_id: str, size: int = finals.CATCH_UP) -> bool:
    """One step of bringing the campaign's kept final levels up to date (`finals.catch_up`: `size` ДОУ) under
    the campaign's lock, with its definition as committed then; whether another step is due. The caller commits it."""
    lock_campaign(session, campaign_id)
    forget(session)  # an amendment committed while we waited brings other rules
    return finals.catch_up(session, definition(session, campaign_id), size)


def catch_up_finals(reading: Callable[[], AbstractContextManager[Session]], begin: Callable[[], AbstractContextManager[Session]],
                    campaign: spec.Campaign, more: Callable[[], bool] = lambda: True, size: int = finals.CATCH_UP,
                    rest: float = REST) -> bool:
    """`step_finals` step after step, each in a transaction of its own (`begin`), `rest` seconds apart so that other
    writers take their turns in between, until none is due or `more()` says to stop (a time budget); whether the kept
    levels are caught up. Nothing is written where nothing is due (two reads in a `reading` session; none where the
    experts review per area). Run after the reconcile has committed (`tick`, every wake-up); a step interrupted leaves
    marks, and the next run goes on."""
    if not campaign.reviews_by_indicator:
        return True
    with reading() as session:
        if not finals.behind(session, campaign):
            return True
    while True:
        with begin() as session:
            due = step_finals(session, campaign.id, size)
        if not due:
            return True
        if not more():
            return False
        time.sleep(rest)
        if not more():  # a stop asked during the rest (Ctrl-C, the daemon stopping): no further step
            return False


class Row(Protocol):
    """A ДОУ's row in a stage as an act read it (plain values it may change)."""

    institution_id: str
    stage_id: str
    status: str
    opens_at: datetime
    locks_at: datetime


def catch_up(rows: Iterable[Row], now: datetime) -> list[Change]:
    """Reconcile only these ДОУ rows, in memory: each moved by the clock's ticks (`rules.CLOCK`) due at `now`, as
    `reconcile` would move it, with the change it made (the caller writes the rows and audits the changes, each at the
    moment it took effect). For an act on a ДОУ's own rows (a portal's hand-in), whose write transaction then touches
    only them; the rest of the campaign (its other rows, the stages, the lists, the reminders) is brought by the next
    `reconcile` (the daemon's, `tick`'s), which, level-triggered, finds these rows already moved and moves them no more."""
    changes: list[Change] = []
    for row in rows:
        for tick in rules.CLOCK:
            moment = getattr(row, tick.moment)
            if row.status in tick.sources and tick.due(moment, now):
                changes.append(Change(moment, row.stage_id, tick.trigger, row.status, tick.dest, row.institution_id))
                row.status = tick.dest
    return changes


def _move_stage(session: Session, stage: StageRow, trigger: str, at: datetime, now: datetime) -> list[Change]:
    if not can(STAGE, trigger, stage.state):
        return []
    moved = fire(STAGE, stage, trigger)
    assert moved is not None, "an unconditional trigger the state allows moves"
    source, dest = moved
    session.add(stage)
    session.add(AuditRow(campaign_id=stage.campaign_id, stage_id=stage.id, action=trigger, source=source, dest=dest,
                         at=at, recorded_at=recorded_at(session, now)))
    return [Change(at, stage.id, trigger, source, dest)]


def _move_progress(session: Session, stage: StageRow, tick: rules.Tick, now: datetime) -> list[Change]:
    """One set-based UPDATE for every ДОУ of the stage the clock's `tick` is due for at `now`."""
    p = _PROGRESS.c
    moment = p[tick.moment]
    where = (p.campaign_id == stage.campaign_id, p.stage_id == stage.id, p.status.in_(tick.sources), tick.due_sql(moment, now))
    due = (sa_select(p.campaign_id, p.institution_id, p.stage_id, p.status, moment)
           .where(*where)
           .join(_INSTITUTION, (_INSTITUTION.c.campaign_id == p.campaign_id) & (_INSTITUTION.c.id == p.institution_id))
           .order_by(_INSTITUTION.c.position))
    rows = session.execute(due).all()  # plain tuples: what the caller is told, nothing bound back
    if not rows:
        return []
    # The audit rows straight from the progress rows (INSERT…SELECT, in roster order), then the move itself.
    session.execute(insert(_AUDIT).from_select(
        ["campaign_id", "institution_id", "stage_id", "source", "at", "action", "dest", "recorded_at"],
        due.add_columns(literal(tick.trigger), literal(tick.dest), literal(recorded_at(session, now), _AUDIT.c.recorded_at.type))))
    session.execute(update(_PROGRESS).where(*where).values(status=tick.dest))
    return [Change(at, stage.id, tick.trigger, status, tick.dest, inst) for _, inst, _, status, at in rows]
