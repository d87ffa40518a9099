"""The rules of a campaign, each defined once: every face of dqflow asks these.

A rule that a set-based query needs has its SQL form right beside its Python form (`…_sql`, a
SQLAlchemy expression over a table's columns); `tests/test_rules_agree.py` proves on real tables that
the two answer alike, boundaries included.

- the time boundaries: a stage (or a ДОУ's row) opens at `opens_at` itself, locks once `locks_at` has
  passed (a hand-in at the very lock instant counts), a hand-in at the due instant is on time;
- what the clock does to a stage and to a ДОУ's row, and so where each stands at a moment
  (`stage_state_at`, `status_at`): what `reconcile` writes and what `status` computes without writing;
- whether a ДОУ (or its experts) can still hand in (`refusal`), what counts as a submission or a review;
- the outbox's idempotency key.

The state machines are built once with `transitions` and shared by every row. Each is stateless
(`model=None`): the state lives in a database row and a row is passed to `fire` only for the moment
of one transition. One machine for 50,000 ДОУ costs nothing; one machine per row, or `add_model`
per row, costs gigabytes.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import String, Table, and_, case, func, literal, or_, true, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from transitions import EventData, Machine, MachineError

from dqflow.calendar import as_utc
from dqflow.errors import NotAllowed
from dqflow.store import ProgressRow


class Status(str, Enum):
    """Where one ДОУ stands in one stage."""

    UPCOMING = "upcoming"
    OPEN = "open"
    DONE = "done"  # submitted by the (effective) due time
    LATE = "late"  # submitted after due, before the lock
    MISSED = "missed"  # locked without a submission
    EXCUSED = "excused"
    # A review of a ДОУ that handed in nothing and can hand in nothing more: not due, never missed. Computed by
    # `status_at` from the ДОУ's materials (`materials`), never stored: an extension that reopens a materials
    # stage makes the review due again with nothing to undo.
    NOTHING = "no-materials"

    @property
    def submitted(self) -> bool:
        return self in (Status.DONE, Status.LATE)

    @property
    def settled(self) -> bool:
        """Nothing is expected of the ДОУ (or its experts) any more in this stage."""
        return self in (Status.DONE, Status.LATE, Status.EXCUSED, Status.NOTHING)


# The statuses a review of nothing has instead (`Status.NOTHING`): a review still to come, open, or locked unreported.
# A review given or excused keeps its status.
DUE = (Status.UPCOMING.value, Status.OPEN.value, Status.MISSED.value)


class StageState(str, Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    LOCKED = "locked"
    HELD = "held"  # events only


Moment = ColumnElement[datetime] | Mapped[datetime]  # a datetime column of a table, or a class's mapped one
Text = ColumnElement[str] | Mapped[str]


# -- the time boundaries -------------------------------------------------------------------------


def has_opened(opens_at: datetime, now: datetime) -> bool:
    """A stage, or a ДОУ's row, is open from `opens_at` itself (inclusive)."""
    return now >= opens_at


def has_opened_sql(opens_at: Moment, now: datetime) -> ColumnElement[bool]:
    return opens_at <= now


def has_locked(locks_at: datetime, now: datetime) -> bool:
    """Locked once `locks_at` has passed: a hand-in at the very lock instant still counts."""
    return now > locks_at


def has_locked_sql(locks_at: Moment, now: datetime) -> ColumnElement[bool]:
    return locks_at < now


def on_time(due_at: datetime, at: datetime) -> bool:
    """A hand-in at `at` is done by the due time (not late); the due instant itself is on time."""
    return at <= due_at


def on_time_sql(due_at: Moment, at: Moment | datetime) -> ColumnElement[bool]:
    return due_at >= at


def past_due(due_at: datetime, now: datetime) -> bool:
    """The due time has passed: what is handed in now is late."""
    return not on_time(due_at, now)


def past_due_sql(due_at: Moment, now: datetime) -> ColumnElement[bool]:
    return due_at < now


# The times of a stage (as defined) or of a ДОУ's row that the rules above compare `now` with, and nothing else: between
# two of them every rule of a stage or a row answers alike. A rule comparing `now` with another time names it here
# (a ДОУ's page is kept per place of `now` among these: `web.snapshots.moments`; tests/test_kept_moments.py holds both).
MOMENTS = ("opens_at", "due_at", "locks_at")


def moments(timed: Iterable[Any]) -> set[datetime]:
    """Every `MOMENTS` time of these stages or rows."""
    return {getattr(t, name) for t in timed for name in MOMENTS}


def expired(expires_at: datetime, now: datetime) -> bool:
    """A planned message is no longer true from its expiry instant on."""
    return expires_at <= now


def expired_sql(expires_at: Moment, now: datetime) -> ColumnElement[bool]:
    return expires_at <= now


# -- the machines --------------------------------------------------------------------------------


def _by_due(event: EventData) -> bool:
    row: Any = event.model
    return on_time(row.due_at, event.kwargs["at"])


def _by_lock(event: EventData) -> bool:
    row: Any = event.model
    return not has_locked(row.locks_at, event.kwargs["at"])


PROGRESS = Machine(
    model=None,
    states=[s.value for s in Status if s is not Status.NOTHING],  # NOTHING is computed, never a row's state
    initial=None,
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
    transitions=[
        {"trigger": "open", "source": Status.UPCOMING.value, "dest": Status.OPEN.value},
        {"trigger": "submit", "source": Status.OPEN.value, "dest": Status.DONE.value, "conditions": _by_due},
        {"trigger": "submit", "source": Status.OPEN.value, "dest": Status.LATE.value, "conditions": _by_lock},
        {"trigger": "lock", "source": Status.OPEN.value, "dest": Status.MISSED.value},
        {"trigger": "reopen", "source": Status.MISSED.value, "dest": Status.OPEN.value},
        {"trigger": "excuse", "source": [Status.UPCOMING.value, Status.OPEN.value, Status.MISSED.value], "dest": Status.EXCUSED.value},
    ],
)

STAGE = Machine(
    model=None,
    states=[s.value for s in StageState],
    initial=None,
    auto_transitions=False,
    model_attribute="state",
    transitions=[
        {"trigger": "open", "source": StageState.SCHEDULED.value, "dest": StageState.OPEN.value},
        {"trigger": "lock", "source": StageState.OPEN.value, "dest": StageState.LOCKED.value},
        {"trigger": "hold", "source": StageState.SCHEDULED.value, "dest": StageState.HELD.value},
    ],
)


def fire(machine: Machine, row: Any, trigger: str, **kwargs: Any) -> tuple[str, str] | None:
    """Run `trigger` on `row`; (from, to) if it moved, None if no transition applied."""
    before = getattr(row, machine.model_attribute)
    try:
        moved = machine.events[trigger].trigger(row, **kwargs)
    except MachineError as exc:
        raise NotAllowed(f"cannot {trigger} from state '{before}'") from exc
    return (before, getattr(row, machine.model_attribute)) if moved else None


def sources(machine: Machine, trigger: str) -> tuple[str, list[str]]:
    """(destination, source states) of an unconditional trigger, for set-based SQL updates."""
    dest, found = _bulk(machine, trigger)
    return dest, list(found)  # the caller's own list: the answer is kept


# The machines are made once, above, and never changed: what they say of a trigger is asked of them once per process
# (each page projects a ДОУ's rows to `now` through `status_at`, which asks `Tick.sources` of every row)
@functools.cache
def _bulk(machine: Machine, trigger: str) -> tuple[str, tuple[str, ...]]:
    found = machine.get_transitions(trigger=trigger)
    dests = {t.dest for t in found}
    assert len(dests) == 1 and not any(t.conditions for t in found), f"{trigger} is not a bulk trigger"
    dest = dests.pop()
    assert dest is not None, f"{trigger} has no destination"
    return dest, tuple(sorted({t.source for t in found}))


@functools.cache
def can(machine: Machine, trigger: str, state: str) -> bool:
    return bool(machine.get_transitions(trigger=trigger, source=state))


# -- what the clock does: a stage's state and a ДОУ's status at a moment ---------------------------


class Timed(Protocol):
    """A stage or a ДОУ's row, as the clock reads it."""

    @property
    def opens_at(self) -> datetime: ...

    @property
    def locks_at(self) -> datetime: ...


class Staged(Timed, Protocol):
    """A stage (as defined, or its row) as the clock reads it."""

    @property
    def kind(self) -> str: ...


class StoredStage(Staged, Protocol):
    @property
    def state(self) -> str: ...


def stage_moves(stage: Staged, now: datetime) -> list[tuple[str, datetime]]:
    """The clock's triggers on a stage that are due at `now`, in order, each with the moment it took
    effect: an event is held at its moment; any other stage opens, then locks."""
    if stage.kind == "event":
        return [("hold", stage.opens_at)] if has_opened(stage.opens_at, now) else []
    moves = [("open", stage.opens_at)] if has_opened(stage.opens_at, now) else []
    return moves + ([("lock", stage.locks_at)] if has_locked(stage.locks_at, now) else [])


def stage_state_at(row: StoredStage, now: datetime) -> str:
    """A stage's state as reconcile at `now` would leave its stored row."""
    state = row.state
    for trigger, _ in stage_moves(row, now):
        if can(STAGE, trigger, state):
            state = sources(STAGE, trigger)[0]
    return state


@dataclass(frozen=True)
class Tick:
    """A transition the clock makes on a ДОУ's row once `due`, taking effect at the row's `moment`
    (`opens_at` or `locks_at`: the row's own, an extension's for an extended ДОУ)."""

    trigger: str
    moment: str
    due: Callable[[datetime, datetime], bool]
    due_sql: Callable[[Moment, datetime], ColumnElement[bool]]

    @property
    def dest(self) -> str:
        return sources(PROGRESS, self.trigger)[0]

    @property
    def sources(self) -> list[str]:
        return sources(PROGRESS, self.trigger)[1]


CLOCK = (Tick("open", "opens_at", has_opened, has_opened_sql), Tick("lock", "locks_at", has_locked, has_locked_sql))
# A status is the source of at most one tick: so the rows a tick moves are told apart by their stored status alone.
assert len({s for t in CLOCK for s in t.sources}) == sum(len(t.sources) for t in CLOCK)


def onward(tick: Tick) -> list[Tick]:
    """The later ticks that move on a row `tick` moved, in order, each while the one before it did (a row
    opened by a late reconcile may be locked by it at once): a row stops at the first that is not due."""
    found, status = [], tick.dest
    for later in CLOCK[CLOCK.index(tick) + 1:]:
        if status in later.sources:
            found.append(later)
            status = later.dest
    return found


class ProgressLike(Timed, Protocol):
    """A ДОУ's row in a stage (stored, or as the acts read it)."""

    @property
    def status(self) -> str: ...


def status_at(row: ProgressLike, now: datetime, materials: Iterable[ProgressLike] | None = None) -> str:
    """A ДОУ's status in a stage as reconcile at `now` would leave it. An excused ДОУ (a withdrawn ДОУ's
    coming stages are excused) and a settled one do not move; an extension is in the row's own times.

    `materials`, for a review stage's row: the ДОУ's rows in the stages it reviews (`materials_stages`). A review
    still due (`DUE`) of a ДОУ that handed in nothing and can hand in nothing more is `Status.NOTHING`."""
    status = row.status
    for tick in CLOCK:
        if status in tick.sources and tick.due(getattr(row, tick.moment), now):
            status = tick.dest
    if materials is not None and status in DUE and materials_at(materials, now) is Materials.NONE:
        return Status.NOTHING.value
    return status


_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]  # SQLModel's typing does not declare it


def status_at_sql(now: datetime, columns: Any = _PROGRESS.c, materials: Mapping[str, Sequence[str]] | None = None,
                  campaign_id: str | None = None) -> ColumnElement[str]:
    """`status_at` over a table's `status`, `opens_at` and `locks_at` columns (the progress table's by default).
    `materials`: review stage → the stages it reviews (`reviews`); the rows of those review stages are
    `Status.NOTHING` as `status_at` says, judged by the same ДОУ's rows in the same table. `campaign_id`: the one
    campaign the rows are of, when the caller names it: the materials are then grouped of its rows alone
    (`no_materials_sql`), not of every campaign's (on PostgreSQL an index range instead of the whole table, per worker)."""
    status: ColumnElement[str] = columns.status
    for tick in CLOCK:
        status = case((status.in_(tick.sources) & tick.due_sql(columns[tick.moment], now), tick.dest), else_=status)
    reviewed = {stage: stages for stage, stages in (materials or {}).items() if stages}
    if not reviewed:
        return status
    nothing = or_(*(and_(columns.stage_id == stage, no_materials_sql(columns.institution_id, stages, now,
                                                                    columns.campaign_id if campaign_id is None else campaign_id))
                    for stage, stages in reviewed.items()))
    return case((and_(status.in_(DUE), nothing), Status.NOTHING.value), else_=status)


# -- who is late ---------------------------------------------------------------------


def is_late(status: str, due_at: datetime, now: datetime) -> bool:
    """Late as a coordinator judges it, by the status at `now` and the effective due time: the stage locked
    without a hand-in (missed), or still open past its due time (the grace period)."""
    return status == Status.MISSED.value or (status == Status.OPEN.value and past_due(due_at, now))


def late_sql(status: Any, due_at: Moment, now: datetime) -> ColumnElement[bool]:
    """`is_late` for a set: `status` the status at `now` (e.g. `status_at_sql(now)`), `due_at` the effective due column."""
    return or_(status == Status.MISSED.value, and_(status == Status.OPEN.value, past_due_sql(due_at, now)))


def institution_state(statuses: Mapping[str, str], withdrawn: bool = False) -> str:
    """A ДОУ's state across its stages (`statuses` in stage order): 'withdrawn' once an amendment withdrew
    it, the first stage waiting for it, else 'finished' once nothing can change, else 'waiting'."""
    if withdrawn:
        return "withdrawn"
    for stage_id, st in statuses.items():
        if st == Status.OPEN.value:
            return stage_id
    if all(Status(st) in (Status.DONE, Status.LATE, Status.MISSED, Status.EXCUSED, Status.NOTHING) for st in statuses.values()):
        return "finished"
    return "waiting"


# -- acting: can a ДОУ hand in, does it count --------------------------------------------------------


class Refusal(str, Enum):
    """Why nothing can be handed in (nor reviewed) for a ДОУ's row at a moment."""

    NOT_OPEN = "not-open"
    EXCUSED = "excused"
    LOCKED = "locked"


def refusal(row: ProgressLike, now: datetime) -> Refusal | None:
    """Why the ДОУ (or its experts) cannot hand in for `row` at `now`, or None when they can. The moments
    decide as much as the status: a replay acts on rows reconciled at an earlier moment, and `--now`
    may name a moment before the row opened."""
    status = Status(row.status)
    if status is Status.UPCOMING or not has_opened(row.opens_at, now):
        return Refusal.NOT_OPEN
    if status is Status.EXCUSED:
        return Refusal.EXCUSED
    if status is Status.MISSED or has_locked(row.locks_at, now):
        return Refusal.LOCKED
    return None


def extended_times(until: datetime) -> tuple[datetime, datetime]:
    """(due, lock) of a ДОУ given its own deadline `until`: the extension replaces both, no grace on top."""
    return until, until


def counts_as_submission(links: Sequence[str]) -> bool:
    """Whether a hand-in settles the ДОУ's stage (done or late): it gives at least one link. An empty
    hand-in is refused before anything is recorded (`acts`), so every stored hand-in counts."""
    return any(link.strip() for link in links)


def unassessed(levels: Mapping[str, str], areas: Iterable[str]) -> list[str]:
    """The campaign's areas a review gives no level for, in the campaign's order."""
    return [a for a in areas if not (levels.get(a) or "").strip()]


def counts_as_review(levels: Mapping[str, str], areas: Iterable[str]) -> bool:
    """Whether an expert's review counts as their report on the ДОУ (all experts reported: the review
    stage is done; recommendations are sent): a level for every area of the campaign. Recommendations
    are optional. An incomplete review is refused before anything is recorded (`acts`)."""
    return not unassessed(levels, areas)


def counts_as_review_sql(levels: Text, areas: Iterable[str]) -> ColumnElement[bool]:
    """`counts_as_review` over the review table's `levels` column (JSON text, written with sorted keys and
    `ensure_ascii=False` by `experts.ReviewBook`): every area's key holds a non-empty level."""
    found: list[ColumnElement[bool]] = [levels.contains(f'"{area}": "', autoescape=True)
                                        & ~levels.contains(f'"{area}": ""', autoescape=True)
                                        for area in areas]
    return and_(true(), *found)


# -- materials: is there anything for the experts to review -------------------------------------------


class Materials(str, Enum):
    """What a ДОУ's experts have to review in a review stage, at a moment."""

    PRESENT = "present"  # the ДОУ handed something in
    AWAITED = "awaited"  # nothing yet, but one of its stages is still open (or not yet open, or extended)
    NONE = "none"  # nothing, and nothing can come: every stage locked without a hand-in, or excused


class StageLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def actor(self) -> str | None: ...

    @property
    def per_institution(self) -> bool: ...

    @property
    def after(self) -> tuple[str, ...]: ...


def materials_stages(stages: Sequence[StageLike], review_stage: StageLike) -> tuple[str, ...]:
    """The ДОУ's own stages whose hand-ins its experts review in `review_stage`: every ДОУ task before it
    in the campaign, and any it names in `after`. A review stage with none has always something to review."""
    before = stages[:next((n for n, s in enumerate(stages) if s.id == review_stage.id), len(stages))]
    return tuple(s.id for s in stages if s.actor == "institution" and s.per_institution
                 and (s in before or s.id in review_stage.after))


def reviews(stages: Sequence[StageLike]) -> dict[str, tuple[str, ...]]:
    """Each experts' task of a campaign → the ДОУ stages whose hand-ins it reviews (`materials_stages`), those
    that review some: what `status_at(…, materials=)` and `status_at_sql(…, materials=)` are given."""
    return {s.id: found for s in stages if s.actor == "expert" and (found := materials_stages(stages, s))}


def statuses_by_stage_sql(stages: Sequence[StageLike], now: datetime, campaign_id: str | None = None) -> list[ColumnElement[str]]:
    """`statuses_at` in SQL, a column per ДОУ stage of the campaign in order, of a GROUP BY per ДОУ over its progress
    rows: the ДОУ's status at `now` there (a review of nothing NOTHING, as `status` says it), NULL where it has no row.
    What the grids of the board and of the coordinator's home turn rows into (the справка's tables of every ДОУ join each
    ДОУ to its row of each stage instead: `results.rows`). `campaign_id`: the campaign every row is of, when the caller
    names it (`status_at_sql`'s)."""
    status = status_at_sql(now, materials=reviews(stages), campaign_id=campaign_id)
    return [func.max(case((_PROGRESS.c.stage_id == s.id, status))) for s in stages if s.per_institution]


def statuses_at(rows: Mapping[str, ProgressLike], stages: Sequence[StageLike], now: datetime,
                reviewed: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """One ДОУ's rows (stage id → row) as `status` says them at `now`: each row's `status_at`, a review stage's with
    the ДОУ's rows of the stages it reviews (`reviews`), so a review of nothing is said so. What a ДОУ's page and the
    coordinator's card show. `reviewed`: `reviews(stages)`, when the caller says many ДОУ's rows."""
    reviewed = reviews(stages) if reviewed is None else reviewed
    return {stage_id: status_at(row, now, materials=[rows[m] for m in reviewed[stage_id] if m in rows] if stage_id in reviewed else None)
            for stage_id, row in rows.items()}


_NOTHING_MORE = (Status.MISSED.value, Status.EXCUSED.value)


def materials(statuses: Iterable[str]) -> Materials:
    """What there is to review, from the ДОУ's statuses (at the moment: `status_at`) in the stages
    `materials_stages` names: present once one was handed in, awaited while one can still be."""
    found = list(statuses)
    if not found or any(Status(st).submitted for st in found):
        return Materials.PRESENT
    return Materials.NONE if all(st in _NOTHING_MORE for st in found) else Materials.AWAITED


def materials_at(rows: Iterable[ProgressLike], now: datetime) -> Materials:
    """`materials` of the ДОУ's rows in the materials stages, each at `now` (`status_at`)."""
    return materials(status_at(r, now) for r in rows)


class ReviewProgress(str, Enum):
    """Where one expert stands with one assigned ДОУ in a review stage: their own work, not the ДОУ's stage state.
    The values are the status badges' colours (a recorded review shows as done, nothing to review as excused)."""

    RECORDED = "done"  # their review is recorded
    NOTHING = "excused"  # nothing to review: the ДОУ handed in nothing by its lock (`materials`)
    AWAITED = "upcoming"  # not yet possible: the materials are awaited, or the review has not opened
    DUE = "open"  # to do now
    MISSED = "missed"  # the review locked without theirs


def review_progress(reviewed: bool, materials: Materials, status: str | None) -> ReviewProgress:
    """An expert's own progress on one ДОУ: `reviewed` whether their review is recorded, `materials` what the ДОУ has
    to review (`materials`), `status` the ДОУ's row in the review stage at the moment (`status_at`), None without one."""
    if reviewed:
        return ReviewProgress.RECORDED
    if materials is Materials.NONE or status == Status.EXCUSED.value:
        return ReviewProgress.NOTHING
    if materials is Materials.AWAITED or status in (None, Status.UPCOMING.value):
        return ReviewProgress.AWAITED
    return ReviewProgress.MISSED if status == Status.MISSED.value else ReviewProgress.DUE


def no_materials_sql(institution_id: Any, stage_ids: Sequence[str], now: datetime, campaign_id: Any = None) -> ColumnElement[bool]:
    """`materials(...) is Materials.NONE` for a set: true for the rows whose ДОУ (`institution_id`, a column of the
    outer query) has rows in `stage_ids` and every one of them, at `now`, locked without a hand-in or excused. The
    campaign is `campaign_id` (a value or a column), by default the outer progress row's.

    Spelled as membership in one uncorrelated set (the ДОУ with nothing, grouped once), not as a correlated EXISTS:
    inside the planner's big INSERT … SELECT a correlated probe per row let PostgreSQL, before any ANALYZE, pick a
    plan that ran for minutes on 1,500 ДОУ; a set is hashed once on either backend."""
    if not stage_ids:
        return literal(False)
    other = _PROGRESS.alias("materials")
    campaign = _PROGRESS.c.campaign_id if campaign_id is None else campaign_id
    more = func.max(case((status_at_sql(now, other.c).not_in(_NOTHING_MORE), 1), else_=0))
    nothing = (sa_select(other.c.campaign_id, other.c.institution_id).where(other.c.stage_id.in_(stage_ids))
               .group_by(other.c.campaign_id, other.c.institution_id).having(more == 0))
    if isinstance(campaign_id, str):  # a campaign named by value: group its rows only
        nothing = nothing.where(other.c.campaign_id == campaign_id)
    return tuple_(campaign, institution_id).in_(nothing)


# -- the outbox key ----------------------------------------------------------------------------------


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def address(email: str) -> str:
    """An address as the key spells it: ASCII letters in lower case, nothing else changed. (SQLite's
    lower() lowers ASCII only, PostgreSQL's follows the database's locale: `address_sql` does this.)"""
    return email.translate(_ASCII_LOWER)


class _ascii_lower(FunctionElement[str]):
    type = String()
    inherit_cache = True
    name = "ascii_lower"


@compiles(_ascii_lower)
def _lower(element: _ascii_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_ascii_lower, "postgresql")
def _translate(element: _ascii_lower, compiler: Any, **kw: Any) -> str:
    return f"translate({compiler.process(element.clauses, **kw)}, '{string.ascii_uppercase}', '{string.ascii_lowercase}')"


def address_sql(email: Text) -> ColumnElement[str]:
    return _ascii_lower(email)


def deadline_text(deadline: datetime | None) -> str:
    """The deadline as the key spells it (callers of `outbox_key_sql` pass it computed here)."""
    return as_utc(deadline).isoformat() if deadline else "-"


def outbox_key(campaign_id: str, recipient: str, institution_id: str | None, stage_id: str | None, rule: str,
               deadline: datetime | None) -> str:
    """One reminder per person, ДОУ, stage, rule and deadline: a re-plan never duplicates, a moved deadline
    plans fresh ones, an expert of two ДОУ is reminded of each."""
    return "|".join([campaign_id, address(recipient), institution_id or "-", stage_id or "-", rule, deadline_text(deadline)])


def outbox_key_sql(campaign_id: str, recipient: Text, institution_id: ColumnElement[str | None] | Mapped[str | None] | None,
                   stage_id: str | None, rule: Text, deadline: Text) -> ColumnElement[str]:
    """`outbox_key` over columns; `deadline` is a column holding the deadline's `deadline_text`."""
    institution: ColumnElement[str] = func.coalesce(institution_id, "-") if institution_id is not None else literal("-")
    return (literal(f"{campaign_id}|") + address_sql(recipient) + "|" + institution + "|" + (stage_id or "-")
            + "|" + rule + "|" + deadline)
