"""Who is late, judged as a coordinator would. Defined once here; every face that lists latecomers asks it
(the coordinator's home, the coordinator's digest).

A ДОУ is late in a stage, as of `now`, when by its status at `now` (the status projection of
`engine.status`, never a stored row as it was last written):
- it *missed* the stage: the stage locked for it without a hand-in; or
- it is *overdue*: still open past its effective due time (its own, when extended), in the grace period.

For a review stage the ДОУ's row stands for its experts: the late ones are those assigned who have not
reported. Handed in (on time or late), excused, not yet open: not late. A review of a ДОУ that handed in
nothing by its lock is not due (`rules.Status.NOTHING`: nothing to review), so not late either: `without_materials`
lists those apart («нет материалов для экспертизы»). A ДОУ withdrawn from the campaign
is expected nowhere, so it is late nowhere, whatever its rows say.

The rule itself is `rules.is_late` (one row) and `rules.late_sql` (a set); `who` and `count` ask it
and answer with a bounded number of statements, whatever the roster's size. `by_institution` answers the same of
some ДОУ alone, each judged by its own rows (`rules.statuses_at`, `rules.is_late`), with each row's place in `who`'s
and `without_materials`' order: what the coordinator's home keeps per state of each ДОУ (`web.snapshots.KeptLate`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, NamedTuple

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import experts, rules
from dqflow.engine.rules import Status
from dqflow.store import IN_CHUNK, ExpertRow, InstitutionRow, ProgressRow, ReviewRow, StageRow, chunks, table

MISSED, OPEN = Status.MISSED.value, Status.OPEN.value


@dataclass(frozen=True)
class Late:
    """One ДОУ late in one stage."""

    institution_id: str
    stage_id: str
    status: str  # 'missed', or 'open': overdue, in the grace period
    due_at: datetime  # its effective due time and lock
    locks_at: datetime
    experts: tuple[str, ...] = ()  # a review stage: the assigned experts who have not reported (ids) …
    expert_names: tuple[str, ...] = ()  # … and their names (one an amendment withdrew keeps its stored name)

    @property
    def missed(self) -> bool:
        return self.status == MISSED


def _late_where(campaign: spec.Campaign, now: datetime) -> tuple[Any, list[ColumnElement[bool]]]:
    """(the status at `now` as SQL, the conditions of a late row): by the status projection, the withdrawn left out.
    The conditions read the progress table joined with the institution table (`_ROSTER`)."""
    status = _status(campaign, now)
    return status, [col(ProgressRow.campaign_id) == campaign.id, rules.late_sql(status, col(ProgressRow.due_at), now),
                    col(InstitutionRow.withdrawn_at).is_(None)]


def _status(campaign: spec.Campaign, now: datetime) -> ColumnElement[str]:
    """The status projection in SQL, as `engine.status` lists and counts the ДОУ: a review of nothing is
    `Status.NOTHING`, neither missed nor open, so never late. Its rows are the campaign's alone: the materials are
    grouped of them only (`status_at_sql`'s `campaign_id`)."""
    return rules.status_at_sql(now, materials=rules.reviews(campaign.stages), campaign_id=campaign.id)


def without_materials(session: Session, campaign: spec.Campaign, now: datetime, *,
                      known_since: datetime | None = None) -> list[tuple[str, str]]:
    """(ДОУ, review stage) whose review is not due, the ДОУ having handed in nothing by its lock («нет материалов
    для экспертизы», `Status.NOTHING`); in stage, then roster order. `known_since`: only those whose last
    materials stage locked after it (what a digest has not said yet)."""
    where: list[ColumnElement[bool]] = [col(InstitutionRow.withdrawn_at).is_(None)]
    if known_since is not None:
        where.append(or_(*(and_(col(ProgressRow.stage_id) == review, _last_lock(stages) > known_since)
                           for review, stages in rules.reviews(campaign.stages).items())))
    return [(inst, stage_id) for inst, stage_id in session.execute(_nothing(campaign, now).where(*where)).all()]


class Nothing(NamedTuple):
    """A review of nothing at a moment (`Status.NOTHING`), of a ДОУ in the campaign or withdrawn from it (a tuple: tens
    of thousands are made at national scale)."""

    institution_id: str
    stage_id: str
    clock: str  # the status the clock alone gives the row at that moment (one of `rules.DUE`), before NOTHING
    withdrawn: bool


def reviews_of_nothing(session: Session, campaign: spec.Campaign, now: datetime) -> list[Nothing]:
    """Every review of nothing at `now`, the withdrawn ДОУ's too, in `without_materials`' order (theirs are the others):
    what `engine.status` counts and the terminal lists, found once (each statement that finds them groups every ДОУ's
    materials again)."""
    query = _nothing(campaign, now).add_columns(rules.status_at_sql(now), col(InstitutionRow.withdrawn_at).is_not(None))
    return [Nothing._make(row) for row in session.execute(query).all()]


def _nothing(campaign: spec.Campaign, now: datetime) -> Any:
    """(ДОУ, review stage) of the reviews of nothing at `now`, the withdrawn ДОУ's too: in stage, then roster order."""
    where = [col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.stage_id).in_(list(rules.reviews(campaign.stages))),
             _status(campaign, now) == Status.NOTHING.value]
    return (sa_select(col(ProgressRow.institution_id), col(ProgressRow.stage_id)).join(InstitutionRow, _ROSTER).join(StageRow, _STAGE)
            .where(*where).order_by(col(StageRow.position), col(InstitutionRow.position)))


def _last_lock(stages: tuple[str, ...]) -> Any:
    """The latest lock of the outer progress row's ДОУ in the materials `stages`: when it became known to have nothing."""
    m = ProgressRow.__table__.alias("materials")  # type: ignore[attr-defined]  # SQLModel's typing does not declare it
    return (sa_select(func.max(m.c.locks_at)).where(m.c.campaign_id == col(ProgressRow.campaign_id),
                                                    m.c.institution_id == col(ProgressRow.institution_id), m.c.stage_id.in_(stages))
            .scalar_subquery())


_ROSTER = (col(InstitutionRow.campaign_id) == col(ProgressRow.campaign_id)) & (col(InstitutionRow.id) == col(ProgressRow.institution_id))
_STAGE = (col(StageRow.campaign_id) == col(ProgressRow.campaign_id)) & (col(StageRow.id) == col(ProgressRow.stage_id))


def count(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """How many (ДОУ, stage) are late at `now`: one COUNT."""
    _, where = _late_where(campaign, now)
    return session.execute(sa_select(func.count()).select_from(ProgressRow).join(InstitutionRow, _ROSTER).where(*where)).scalar_one()


def who(session: Session, campaign: spec.Campaign, now: datetime, *, limit: int | None = None,
        missed_since: datetime | None = None) -> list[Late]:
    """The late (ДОУ, stage) at `now`, soonest due first (then stage, then roster order); at most `limit`.

    `missed_since`: of the missed, only those whose lock passed after it (what a digest has not said yet)."""
    query = _who(campaign, now, missed_since)
    return _named(session, campaign, session.execute(query.limit(limit) if limit is not None else query).all())


def first(session: Session, campaign: spec.Campaign, now: datetime, limit: int) -> tuple[list[Late], int]:
    """`who`'s first `limit` and `count`, in one statement: the late rows are found once, not once for each (the
    coordinator's home, made again at every state of the campaign at a rush, paid for finding them twice)."""
    rows = session.execute(_who(campaign, now).add_columns(func.count().over()).limit(limit)).all()
    return _named(session, campaign, [tuple(r)[:-1] for r in rows]), (rows[0][-1] if rows else 0)


def _who(campaign: spec.Campaign, now: datetime, missed_since: datetime | None = None) -> Any:
    """`who`'s query: (ДОУ, stage, status at `now`, due, lock) of the late rows, in its order."""
    status, where = _late_where(campaign, now)
    if missed_since is not None:
        where.append(or_(status != MISSED, col(ProgressRow.locks_at) > missed_since))
    return (sa_select(col(ProgressRow.institution_id), col(ProgressRow.stage_id), status, col(ProgressRow.due_at),
                      col(ProgressRow.locks_at))
            .join(InstitutionRow, _ROSTER).join(StageRow, _STAGE)
            .where(*where).order_by(col(ProgressRow.due_at), col(StageRow.position), col(InstitutionRow.position)))


# A late row as `by_institution` keeps it, in `who`'s order: (due, stage position, roster position, ДОУ, stage, status,
# due, lock) — its last five what `_who` reads, so `named` makes the `Late`s of any of them.
LateRow = tuple[datetime, int, int, str, str, str, datetime, datetime]
# A review of nothing, in `without_materials`' order: (stage position, roster position, ДОУ, review stage).
NothingRow = tuple[int, int, str, str]


@dataclass(frozen=True)
class Found:
    """One ДОУ's late rows and reviews of nothing at a moment (`by_institution`), and its status there in each stage it
    has a row in, withdrawn or not (`rules.statuses_at`: what `engine.status` counts per stage)."""

    late: tuple[LateRow, ...]
    nothing: tuple[NothingRow, ...]
    statuses: tuple[tuple[str, str], ...] = ()  # (stage, status)


def by_institution(session: Session, campaign: spec.Campaign, now: datetime, institution_ids: list[str] | None) -> dict[str, Found]:
    """What `who` and `without_materials` find of each of these ДОУ (at most `IN_CHUNK`; None: every ДОУ with rows)
    at `now`, each row with its place in their order, and the ДОУ's statuses (`Found`), in one SELECT of their rows.
    The statuses as `engine.status` says them (a review of nothing `Status.NOTHING`, judged by the ДОУ's own materials
    rows): of the ДОУ named, by `rules.statuses_at` from their rows (`status_at_sql`'s review columns judge every ДОУ's
    materials, even for one); of every ДОУ, by `rules.status_at_sql` in the database (twice as fast as saying 24,000
    rows in Python). Each late by `rules.is_late`; a withdrawn ДОУ is late nowhere and has nothing to list. A ДОУ named
    with no rows: nothing found. Run with none named too (an empty IN), so its caller's statements do not depend on
    what changed.

    The rows of one ДОУ are all `who` and `without_materials` read of it but the stages' and the roster's positions,
    read here with them; so merged, the `Found`s of every ДОУ are `who`'s rows and `without_materials`' in order."""
    assert institution_ids is None or len(institution_ids) <= IN_CHUNK
    progress, roster, stages = table(ProgressRow), table(InstitutionRow), table(StageRow)
    p, i, s = progress.c, roster.c, stages.c
    reviewed = rules.reviews(campaign.stages)
    said = [rules.status_at_sql(now, materials=reviewed).label("now")] if institution_ids is None else [p.status, p.opens_at]
    query = (sa_select(p.institution_id, p.stage_id, p.due_at, p.locks_at, i.position, i.withdrawn_at, s.position.label("stage_position"),
                       *said)
             .select_from(progress.join(roster, and_(i.campaign_id == p.campaign_id, i.id == p.institution_id))
                          .outerjoin(stages, and_(s.campaign_id == p.campaign_id, s.id == p.stage_id)))
             .where(p.campaign_id == campaign.id))
    if institution_ids is not None:
        query = query.where(p.institution_id.in_(institution_ids))
    if institution_ids is None:
        return _every(session.execute(query), campaign, now, reviewed)
    rows: dict[str, dict[str, Any]] = {}
    for row in session.execute(query):  # plain tuples: (ДОУ, stage, due, lock, position, withdrawn, stage's position, …)
        rows.setdefault(row[0], {})[row[1]] = row
    found = {inst: Found((), ()) for inst in institution_ids}
    nothing_said = Status.NOTHING.value
    for inst, own in rows.items():
        statuses = rules.statuses_at(own, campaign.stages, now, reviewed)
        pairs = tuple(_pair(stage_id, status) for stage_id, status in statuses.items())
        if next(iter(own.values()))[5] is not None:  # withdrawn
            found[inst] = Found((), (), pairs)
            continue
        late: list[LateRow] = []
        nothing: list[NothingRow] = []
        for stage_id, status in statuses.items():
            _, _, due, lock, position, _, stage_position, *_ = own[stage_id]
            if stage_position is None:  # no stage of the campaign's (`who` joins the stages' table)
                continue
            if rules.is_late(status, due, now):
                late.append((due, stage_position, position, inst, stage_id, status, due, lock))
            if status == nothing_said and stage_id in reviewed:
                nothing.append((stage_position, position, inst, stage_id))
        found[inst] = Found(tuple(late), tuple(nothing), pairs)
    return found


def _every(rows: Iterable[Any], campaign: spec.Campaign, now: datetime, reviewed: Any) -> dict[str, Found]:
    """`by_institution` of every ДОУ, row by row as the database gives them (each row's status said in SQL, so a row
    alone says whether it is late or a review of nothing): no ДОУ's rows held beyond its own row, and the ДОУ with
    nothing late and nothing to review sharing one `Found` per tuple of statuses (at 50,000 ДОУ a few hundred tuples,
    not 50,000). The same `Found`s, in the same order within each, as `by_institution` of the ДОУ named."""
    statuses: dict[str, list[tuple[str, str]]] = {}
    late: dict[str, list[LateRow]] = {}
    nothing: dict[str, list[NothingRow]] = {}
    said: dict[tuple[str, datetime], bool] = {}  # `rules.is_late` of each (status, due) met: a few dozen, not a row each
    nothing_said = Status.NOTHING.value
    for inst, stage_id, due, lock, position, gone, stage_position, status in rows:
        statuses.setdefault(inst, []).append(_pair(stage_id, status))
        if gone is not None or stage_position is None:  # withdrawn: late nowhere; no stage of the campaign's
            continue
        judged = said.get((status, due))
        if judged is None:
            said[status, due] = judged = rules.is_late(status, due, now)
        if judged:
            late.setdefault(inst, []).append((due, stage_position, position, inst, stage_id, status, due, lock))
        if status == nothing_said and stage_id in reviewed:
            nothing.setdefault(inst, []).append((stage_position, position, inst, stage_id))
    shared: dict[tuple[tuple[str, str], ...], Found] = {}
    found: dict[str, Found] = {}
    for inst, mine in statuses.items():
        pairs = tuple(mine)
        if inst in late or inst in nothing:
            found[inst] = Found(tuple(late.get(inst, ())), tuple(nothing.get(inst, ())), shared.setdefault(pairs, Found((), (), pairs)).statuses)
        else:
            found[inst] = shared.setdefault(pairs, Found((), (), pairs))
    return found


@functools.cache
def _pair(stage_id: str, status: str) -> tuple[str, str]:
    """One object for each (stage, status) of every ДОУ's `Found.statuses`: kept for every ДОУ of a portal's campaign, they
    hold ten references each, not ten tuples of their own strings (~1 KB a ДОУ: 50 MB at 50,000)."""
    return stage_id, status


def named(session: Session, campaign: spec.Campaign, rows: list[LateRow]) -> list[Late]:
    """The `Late`s of rows `by_institution` found (in the order given), as `who` names them."""
    return _named(session, campaign, [row[3:] for row in rows])


def _named(session: Session, campaign: spec.Campaign, rows: Any) -> list[Late]:
    """`Late`s of `_who`'s rows, a review stage's with its silent experts and their names."""
    silent = _silent_experts(session, campaign, [(inst, stage_id) for inst, stage_id, *_ in rows])
    names = _expert_names(session, campaign, {e for found in silent.values() for e in found})
    return [Late(inst, stage_id, st, due, lock, silent.get((inst, stage_id), ()),
                 tuple(names.get(e, e) for e in silent.get((inst, stage_id), ())))
            for inst, stage_id, st, due, lock in rows]


def _expert_names(session: Session, campaign: spec.Campaign, ids: set[str]) -> dict[str, str]:
    """The experts' names as stored: those an amendment withdrew too (a list that locked keeps them)."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(ids)):
        found.update(session.exec(select(col(ExpertRow.id), col(ExpertRow.name)).where(
            ExpertRow.campaign_id == campaign.id, col(ExpertRow.id).in_(chunk))).all())
    return found


def _silent_experts(session: Session, campaign: spec.Campaign,
                    late: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """For the review stages among `late`: each ДОУ's assigned experts who have not reported, in list order.
    A few statements per review stage, for the ДОУ named only."""
    by_stage: dict[tuple[str, str], list[str]] = {}  # (review stage, its list) → ДОУ
    stages = {s.id: s for s in campaign.stages}  # looked up per row: `campaign.stage` walks the stages
    for inst, stage_id in late:
        stage = stages.get(stage_id)
        if stage is not None and stage.actor == "expert" and stage.list:
            by_stage.setdefault((stage_id, stage.list), []).append(inst)
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for (stage_id, list_id), institutions in by_stage.items():
        for chunk in chunks(sorted(set(institutions))):
            assigned = experts.stored(session, campaign.id, list_id, chunk)
            reported = set(session.exec(select(col(ReviewRow.institution_id), col(ReviewRow.expert_id)).where(
                ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == stage_id,
                col(ReviewRow.institution_id).in_(chunk))).all())
            for inst in chunk:
                found[(inst, stage_id)] = tuple(e for e in assigned.get(inst, []) if (inst, e) not in reported)
    return found
