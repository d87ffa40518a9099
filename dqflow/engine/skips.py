"""Whether a planned message is still wanted: the skip policy, as codes with parameters.

A reason is stored on the outbox row as `code` or `code:parameter` (`superseded`,
`not-missed:late`, `same-moment:before:2wd`); JSON and logs carry the code, people read it in
Russian (`report.reason_ru`). An SMTP server's reply is stored as it came and shown as it came.

Notices are level-triggered: "a stage opened", a handout, the coordinator's copy of a list, an
invitation, a missed stage, recommendations go out while they are still true, however late the
sender runs. Reminders of a moment ("two days left", "today is the deadline") are merged: after
downtime only the newest of one deadline goes out.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import BindParameter, Table, and_, bindparam, case, exists, false, func, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.engine import rules
from dqflow.engine.definitions import definition
from dqflow.engine.rules import Status
from dqflow.store import AssignmentRow, ExpertRow, InstitutionRow, OutboxRow, ProgressRow, ReviewRow, driver_mark, table

REMINDER_KINDS = ("opened", "before_due", "due_today", "overdue", "missed")
NOTICE_KINDS = ("opened", "missed", "event", "handout", "handout_copy", "recommendations", "submitted", "changed")
MAX_IN_LIST = 2000  # bound parameters in one IN list, far below SQLite's 32,766
_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]  # read through the table: a page's rows as plain tuples
PROGRESS = tuple(_PROGRESS.c[name] for name in ("institution_id", "stage_id", "status", "due_at", "locks_at", "extended"))


_STATUSES = {s.value: s for s in Status}


class Skip(str, Enum):
    EXPIRED = "expired"  # its moment passed before it could be sent
    PLANNED_LATE = "planned-late"  # a reminder of a moment planned after that moment
    DEADLINE_MOVED = "deadline-moved"
    SUBMITTED = "submitted"
    EXCUSED = "excused"
    LOCKED = "locked"
    NOT_OPEN = "not-open"
    NOT_MISSED = "not-missed"  # parameter: the status the ДОУ has instead
    REVIEWED = "reviewed"  # the expert already reviewed the ДОУ
    NO_MATERIALS = "no-materials"  # the ДОУ handed in nothing by its lock: there is nothing to review (`rules.materials`)
    NO_NEWS = "no-news"  # a digest with nothing to report
    SUPERSEDED = "superseded"  # a later reminder of the same deadline went instead
    BEFORE_OPENING = "before-opening"
    AFTER_EVENT = "after-event"
    SAME_MOMENT = "same-moment"  # parameter: the rule that keeps that moment
    AMENDED = "amended"  # the campaign file changed what this reminder was planned for (dqflow load --apply)
    WITHDRAWN = "withdrawn"  # its ДОУ or expert left the campaign (dqflow load --apply)
    NOTHING_TO_HAND_OUT = "nothing-to-hand-out"  # a handout whose expert has no ДОУ left on the list; parameter: the list
    NOT_ASSIGNED = "not-assigned"  # an addition to a handout whose ДОУ is no longer the expert's; parameter: the ДОУ
    DEFERRED = "deferred"  # not a skip: a pending row a send left for the next one (budget | server | lease)


def reason(code: Skip, parameter: str | None = None) -> str:
    return f"{code.value}:{parameter}" if parameter else code.value


def parse(text: str | None) -> tuple[Skip | None, str | None]:
    """(code, parameter) of a stored reason; (None, None) for free text such as an SMTP reply."""
    code, _, parameter = (text or "").partition(":")
    try:
        return Skip(code), parameter or None
    except ValueError:
        return None, None


@dataclass
class Facts:
    """What the policy needs to know about the rows it judges, read in a few queries."""

    progress: dict[tuple[str, str], Any] = field(default_factory=dict)  # PROGRESS columns by (ДОУ, stage)
    reviewed: set[tuple[str, str, str]] = field(default_factory=set)  # (stage, ДОУ, expert email)
    digest_news: bool = True
    handouts: dict[str, tuple[str, dict[str, set[str]]]] = field(default_factory=dict)  # handout or review stage → (list, address → ДОУ present)
    # (ДОУ, review stage) → the ДОУ's rows in the stages whose materials that review reviews (`rules.materials_stages`)
    materials: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, campaign_id: str, rows, digest_news: bool = True,
             lists: dict[str, str] | None = None, progress: dict[tuple[str, str], Any] | None = None) -> "Facts":
        """`lists`: the expert list of each handout and review stage (`handout_lists`); without it an expert's mail is not
        checked against the list. `progress`: the rows' own progress, read with them (`due.page_and_progress`: every
        (ДОУ, stage) of the rows that has a progress row), so that only a review's materials are read here."""
        progress, materials = _progress_of(session, campaign_id, rows, progress)
        return cls(progress, _reviewed_by(session, campaign_id, rows), digest_news, _handed_out(session, campaign_id, rows, lists or {}),
                   materials)


def judge(rows, facts: Facts, now: datetime) -> dict[int, str]:
    """{row id: reason} for the due rows that must not go out; the rest go out now."""
    newest = _newest_reminders(rows)
    found = {}
    for row in rows:
        why = unwanted(row, facts, now)
        if why is None and row.id not in newest and row.state == "pending" and row.kind in REMINDER_KINDS:
            why = reason(Skip.SUPERSEDED)
        if why:
            found[row.id] = why
    return found


def unwanted(row, facts: Facts, now: datetime) -> str | None:
    """Why this row should not go out, judged by its expiry, the ДОУ's progress and the reviews stored."""
    if rules.expired(row.expires_at, now):
        return reason(Skip.EXPIRED)
    kind = row.kind
    if kind == "digest":
        return None if facts.digest_news else reason(Skip.NO_NEWS)
    expert, stage_id, institution_id = row.role == "expert", row.stage_id, row.institution_id
    if expert and stage_id in facts.handouts and (kind == "handout" or kind in REMINDER_KINDS):
        why = _against_list(row, *facts.handouts[stage_id])
        if why:
            return why
    if expert and kind in REMINDER_KINDS and _nothing_to_review(row, facts, now):
        return reason(Skip.NO_MATERIALS)
    progress = facts.progress.get((institution_id, stage_id)) if institution_id and stage_id else None
    why = _against_progress(row, progress)
    if why is None and expert and (stage_id, institution_id, row.recipient.lower()) in facts.reviewed:
        return reason(Skip.REVIEWED)
    return why


def _nothing_to_review(row, facts: Facts, now: datetime) -> bool:
    """An expert's reminder of a review of a ДОУ that handed in nothing and can hand in nothing more."""
    found = facts.materials.get((row.institution_id, row.stage_id))
    return found is not None and rules.materials_at(found, now) is rules.Materials.NONE


def foreseen(session: Session, campaign_id: str, rows) -> dict[int, str]:
    """{row id: reason} for the pending rows that will be skipped at their time whatever happens first: for `why`."""
    pending = [r for r in rows if r.state == "pending"]
    facts = Facts.read(session, campaign_id, pending)
    return {r.id: why for r in pending if (why := settled(r, facts, r.send_at))}


def settled(row, facts: Facts, now: datetime) -> str | None:
    """A pending row that will be skipped whatever happens before its time, or None."""
    why = unwanted(row, facts, now)
    code, _ = parse(why)
    progress = facts.progress.get((row.institution_id, row.stage_id))
    final = progress is not None and Status(progress.status).settled
    return why if why and (final or code is Skip.REVIEWED) else None


def _against_progress(row, progress) -> str | None:
    if progress is None or row.kind not in REMINDER_KINDS:
        return None  # events, handouts, recommendations: their expiry is all that matters
    status = _STATUSES[progress.status]  # Status(…) costs an enum lookup per row of a page
    if progress.due_at != row.deadline:
        return reason(Skip.DEADLINE_MOVED)
    if row.kind == "missed":
        return None if status is Status.MISSED else reason(Skip.NOT_MISSED, status.value)
    if status.submitted:
        return reason(Skip.SUBMITTED)
    if status is Status.EXCUSED:
        return reason(Skip.EXCUSED)
    if status is Status.MISSED:
        return reason(Skip.LOCKED)
    if status is Status.UPCOMING:
        return reason(Skip.NOT_OPEN)
    return None


def _against_list(row, list_id: str, present: dict[str, set[str]]) -> str | None:
    """A handout says what the list gives the expert now (its letter is written at send time): with no ДОУ left
    (all withdrawn, or the expert taken off them) it would say nothing; an addition, or a reminder of a review,
    names one ДОУ, which must still be theirs (`dqflow experts set` may have given it to another)."""
    mine = present.get(row.recipient.lower(), set())
    if row.institution_id is None:
        return None if mine else reason(Skip.NOTHING_TO_HAND_OUT, list_id)
    return None if row.institution_id in mine else reason(Skip.NOT_ASSIGNED, row.institution_id)


def handout_lists(campaign) -> dict[str, str]:
    """The expert list of each handout stage and each experts' task: what their mail to an expert says must still be theirs."""
    return {s.id: s.list for s in campaign.stages if s.list and (s.kind == "handout" or s.actor == "expert")}


def review_materials(campaign) -> dict[str, tuple[str, ...]]:
    """Each experts' task → the ДОУ stages whose hand-ins it reviews (`rules.materials_stages`): what `kept` asks."""
    return rules.reviews(campaign.stages)


def _newest_reminders(rows) -> set[int]:
    """After downtime several reminders of one deadline may be due at once ('opened', 'before'…):
    only the newest goes out, one reminder per person, ДОУ, stage and deadline."""
    newest: dict[tuple[str, str | None, str | None, Any], Any] = {}  # a due row: an outbox row or its columns
    for row in rows:
        if row.state == "pending" and row.kind in REMINDER_KINDS:
            group = (row.recipient.lower(), row.institution_id, row.stage_id, row.deadline)
            if group not in newest or (row.send_at, row.id) > (newest[group].send_at, newest[group].id):
                newest[group] = row
    return {row.id for row in newest.values()}


# The facts' statements are built once, their lists bound as expanding parameters (the same SQL as a statement built per
# page): a send reads thousands of pages, and building and keying a statement cost more than SQLite's work on it. Each has
# a second form without the ДОУ (or addresses) named, for a list longer than MAX_IN_LIST.
_CAMPAIGN: BindParameter[str] = bindparam("campaign")
_STAGES: BindParameter[list[str]] = bindparam("stages", expanding=True)
_NAMED: BindParameter[list[str]] = bindparam("institutions", expanding=True)


def _by_list(query, column, named=_NAMED):
    """`query` as it is and narrowed to the named values of `column`: (every row, the named ones)."""
    return query, query.where(column.in_(named))


def _read(session: Session, query: tuple, values: dict[str, Any], name: str, listed: Collection[str]) -> list[Any]:
    """`_by_list`'s pair run: narrowed to `listed` (bound as `name`) where it fits one IN (…), else every row."""
    if len(listed) <= MAX_IN_LIST:
        return list(session.execute(query[1], {**values, name: list(listed)}).all())
    return list(session.execute(query[0], values).all())


_REVIEWED = _by_list(select(ReviewRow.stage_id, ReviewRow.institution_id, ExpertRow.email)
                     .join(ExpertRow, (col(ExpertRow.campaign_id) == col(ReviewRow.campaign_id)) & (col(ExpertRow.id) == col(ReviewRow.expert_id)))
                     .where(col(ReviewRow.campaign_id) == _CAMPAIGN, col(ReviewRow.stage_id).in_(_STAGES)), col(ReviewRow.institution_id))


def _reviewed_by(session: Session, campaign_id: str, rows) -> set[tuple[str, str, str]]:
    """(stage, ДОУ, expert email) of every review stored for the stages these rows are about."""
    stages = {r.stage_id for r in rows if r.role == "expert" and r.institution_id}
    if not stages:
        return set()
    institutions = {r.institution_id for r in rows if r.role == "expert" and r.institution_id}
    found = _read(session, _REVIEWED, {"campaign": campaign_id, "stages": list(stages)}, "institutions", institutions)
    return {(st, inst, email.lower()) for st, inst, email in found}


def _handed_out(session: Session, campaign_id: str, rows, lists: dict[str, str]) -> dict[str, tuple[str, dict[str, set[str]]]]:
    """For the experts' rows of a page (handouts, reviews): what their lists give each of their experts now, ДОУ still in the campaign
    only. One query, whatever the number of experts (a page's addresses at most)."""
    stages = {r.stage_id for r in rows if r.role == "expert" and r.stage_id in lists}
    if not stages:
        return {}
    addresses = {r.recipient.lower() for r in rows if r.role == "expert" and r.stage_id in stages}
    values = {"campaign": campaign_id, "stages": list({lists[s] for s in stages})}
    by_list: dict[str, dict[str, set[str]]] = {}
    for list_id, institution, email in _read(session, _HANDED_OUT, values, "addresses", addresses):
        by_list.setdefault(list_id, {}).setdefault(email.lower(), set()).add(institution)
    return {s: (lists[s], by_list.get(lists[s], {})) for s in stages}


_HANDED_OUT = _by_list(  # narrowed: the page's experts by address (ix_expert_address), then their lists (ix_assignment_expert)
    select(AssignmentRow.stage_id, AssignmentRow.institution_id, ExpertRow.email)
    .join(ExpertRow, (col(ExpertRow.campaign_id) == col(AssignmentRow.campaign_id)) & (col(ExpertRow.id) == col(AssignmentRow.expert_id)))
    .join(InstitutionRow, (col(InstitutionRow.campaign_id) == col(AssignmentRow.campaign_id))
          & (col(InstitutionRow.id) == col(AssignmentRow.institution_id)))
    .where(col(AssignmentRow.campaign_id) == _CAMPAIGN, col(AssignmentRow.stage_id).in_(_STAGES), col(InstitutionRow.withdrawn_at).is_(None)),
    col(AssignmentRow.expert_id), select(ExpertRow.id).where(col(ExpertRow.campaign_id) == _CAMPAIGN,
                                                             func.lower(ExpertRow.email).in_(bindparam("addresses", expanding=True))))

def _progress_of(session: Session, campaign_id: str, rows,
                 known: dict[tuple[str, str], Any] | None = None) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], list[Any]]]:
    """The progress of the ДОУ × stage the rows are about; and for the experts' reminders of a review among them, each ДОУ's
    rows in the stages that review reviews (`rules.materials_stages`). One read of the page's ДОУ for both; with `known`
    (the rows' own progress, read with them) the materials alone."""
    wanted = {(r.institution_id, r.stage_id) for r in rows if r.institution_id and r.stage_id}
    if not wanted:
        return {}, {}
    reviewing = {(r.institution_id, r.stage_id) for r in rows if r.role == "expert" and r.institution_id and r.stage_id
                 and r.kind in REMINDER_KINDS}
    by_review = {}
    if reviewing:
        campaign = definition(session, campaign_id)
        for stage_id in {s for _, s in reviewing}:
            stage = campaign.stage(stage_id)
            if stage is not None and stage.actor == "expert":
                by_review[stage_id] = rules.materials_stages(campaign.stages, stage)
    materials = {m for found in by_review.values() for m in found}
    if known is None:
        by_pair = {(p.institution_id, p.stage_id): p for p in _progress_rows(session, campaign_id, {s for _, s in wanted} | materials,
                                                                             {i for i, _ in wanted})}
        progress = {pair: by_pair[pair] for pair in wanted if pair in by_pair}
    else:  # every pair of the rows that has a progress row, and no other
        progress, by_pair = known, known
        if materials:
            by_pair = {**known, **{(p.institution_id, p.stage_id): p for p in _progress_rows(
                session, campaign_id, materials, {i for i, s in reviewing if s in by_review})}}
    if not materials:
        return progress, {}
    return progress, {(inst, stage_id): [by_pair[(inst, m)] for m in by_review[stage_id] if (inst, m) in by_pair]
                      for inst, stage_id in reviewing if stage_id in by_review}


def _progress_rows(session: Session, campaign_id: str, stages: set[str], institutions: set[str]) -> list[Any]:
    """The progress rows of these stages of these ДОУ (named tuples, `Progress`); a page of recipients names its ДОУ, a list
    of every ДОУ would pass SQLite's parameter limit and reads the stages whole."""
    named = len(institutions) <= MAX_IN_LIST
    return driver_rows(session, _PROGRESS_OF, Progress, [campaign_id], ("stage_id", sorted(stages)),
                       ("institution_id", sorted(institutions)) if named else None)


# PROGRESS and the opening, which a review's materials are judged by (`rules.status_at`)
PROGRESS_COLUMNS = (*PROGRESS, _PROGRESS.c.opens_at)
Progress = namedtuple("Progress", [c.name for c in PROGRESS_COLUMNS])  # type: ignore[misc]
_PROGRESS_OF = (PROGRESS_COLUMNS, "progress", "campaign_id = {mark}")


def driver_rows(session: Session, query: tuple[tuple[Any, ...], str, str], make: Any, values: list[Any],
                *listed: tuple[str, list[Any]] | None) -> list[Any]:
    """`SELECT columns FROM table WHERE condition [AND column IN (values)…]` (`query`: the columns, the table, the condition
    with `{mark}` for each of `values`; `listed`: (column, values) pairs, None for none) run through the driver, each row a
    `make` (a named tuple) of its values as the columns' types read them (stored moments aware, booleans bool). A send reads
    a page of due rows and their progress thousands of times: a statement of SQLAlchemy's, its processed Row and then a
    named tuple of it cost twice the driver's own reading. The session's pending changes are flushed first, as a query of
    it would."""
    found = driver_columns(session, query, values, *listed)
    return list(map(make._make, zip(*found))) if found else []


def driver_columns(session: Session, query: tuple[tuple[Any, ...], str, str], values: list[Any],
                   *listed: tuple[str, list[Any]] | None) -> list[Any]:
    """`driver_rows`' reading a column at a time: each column's values as its type reads them, in the rows' order ([] for
    no row). Each column is named with its table (`query`'s table may be a join)."""
    columns, table_name, condition = query
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    mark = driver_mark(dialect)
    where = [condition.format(mark=mark)]
    parameters = list(values)
    for pair in listed:
        if pair is not None:
            where.append(f"{pair[0]} IN ({', '.join([mark] * len(pair[1]))})")
            parameters += pair[1]
    named = ", ".join(f"{_quoted(dialect, c.table.name)}.{_quoted(dialect, c.name)}" for c in columns)
    sql = f"SELECT {named} FROM {table_name} WHERE {' AND '.join(where)}"
    processors = _processors(dialect, table_name, columns)
    found = connection.exec_driver_sql(sql, tuple(parameters)).fetchall()  # SQLAlchemy's events see it; no processing
    if not found:
        return []
    # a column at a time: the loops are the interpreter's own
    return [col if process is None else list(map(process, col)) for col, process in zip(zip(*found), processors)]


_PROCESSORS: dict[tuple[type, str, tuple[str, ...]], list[Any]] = {}  # made once per dialect and columns: their memos last


def _processors(dialect, table_name: str, columns: tuple[Any, ...]) -> list[Any]:
    """What SQLAlchemy applies to each column's value as read (None: nothing)."""
    key = (type(dialect), table_name, tuple(c.name for c in columns))  # a driver's class: two drivers of one backend differ
    if key not in _PROCESSORS:
        _PROCESSORS[key] = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    return _PROCESSORS[key]


def _quoted(dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


# -- the same policy in SQL, for counting what a send would send without reading its rows -------------------


def kept(row, campaign_id: str, now: datetime, lists: dict[str, str], materials: dict[str, tuple[str, ...]],
         digest_news: bool = True):
    """`judge`'s verdict as one SQL condition on a due outbox row (`row`: the outbox table's columns): true for a row
    that goes out at `now`. `unwanted` and `_newest_reminders` set-based, so a count of thousands of rows is one
    statement. Each check runs only for the rows it concerns (CASE evaluates the branch taken only), and each probes
    an index. `materials`: `review_materials` of the campaign. tests/test_delivery.py checks with hypothesis that
    the two forms agree."""
    reminder = row.kind.in_(REMINDER_KINDS)
    about = row.institution_id.is_not(None) & row.stage_id.is_not(None)
    p, review, expert = _PROGRESS.c, table(ReviewRow).c, table(ExpertRow).c
    assignment, institution = table(AssignmentRow).c, table(InstitutionRow).c
    off_progress = exists().where(  # `_against_progress`: a reminder's deadline moved, or its ДОУ is past it
        p.campaign_id == campaign_id, p.institution_id == row.institution_id, p.stage_id == row.stage_id,
        or_(row.deadline.is_(None), p.due_at != row.deadline,
            and_(row.kind == "missed", p.status != Status.MISSED.value),
            and_(row.kind != "missed", p.status != Status.OPEN.value)))
    reviewed = exists().where(  # the expert reviewed the ДОУ already
        review.campaign_id == campaign_id, review.stage_id == row.stage_id, review.institution_id == row.institution_id,
        expert.campaign_id == campaign_id, expert.id == review.expert_id, func.lower(expert.email) == func.lower(row.recipient))
    on_list = exists().where(  # `_against_list`: the ДОУ (or, for a whole handout, any ДОУ) is still the expert's
        assignment.campaign_id == campaign_id,
        assignment.stage_id == case({stage: list_id for stage, list_id in lists.items()}, value=row.stage_id, else_=None),
        expert.campaign_id == campaign_id, expert.id == assignment.expert_id, func.lower(expert.email) == func.lower(row.recipient),
        institution.campaign_id == campaign_id, institution.id == assignment.institution_id, institution.withdrawn_at.is_(None),
        or_(row.institution_id.is_(None), assignment.institution_id == row.institution_id))
    listed = and_(row.role == "expert", row.stage_id.in_(list(lists)), (row.kind == "handout") | reminder)
    nothing = or_(false(), *(and_(row.stage_id == stage, rules.no_materials_sql(row.institution_id, stages, now, campaign_id))
                    for stage, stages in materials.items() if stages))  # `_nothing_to_review`
    wanted = and_(
        _unless(reminder & about, ~off_progress),
        _unless(about & (row.role == "expert"), ~reviewed),
        _unless(listed, on_list) if lists else true(),  # a campaign without expert lists: no CASE of no stages
        _unless(about & (row.role == "expert") & reminder, ~nothing) if any(materials.values()) else true(),
        _unless((row.state == "pending") & reminder, ~_superseded(row, campaign_id, now, about)))
    digest = (row.kind == "digest") if digest_news else false()
    return ~rules.expired_sql(row.expires_at, now) & or_(digest, (row.kind != "digest") & wanted)


def _unless(concerned, condition):
    """`condition` for the rows it concerns, true for the rest; never NULL, and evaluated for those rows only."""
    return case((concerned, condition), else_=true())


def _superseded(row, campaign_id: str, now: datetime, about):
    """`_newest_reminders`: a newer pending reminder of the same person, ДОУ, stage and deadline is due too. Probed
    by (ДОУ, stage) through ix_outbox_progress; NULL-safe comparisons only for the rare reminder about neither."""
    newer = table(OutboxRow).alias("newer").c
    # the state compared as `state || ''`: an equality on the column itself would make SQLite, without statistics,
    # walk every due row of the campaign by ix_outbox_due for each row probed
    same = (newer.campaign_id == campaign_id, newer.state.concat("") == "pending", newer.kind.in_(REMINDER_KINDS), newer.send_at <= now,
            func.lower(newer.recipient) == func.lower(row.recipient), newer.deadline.is_not_distinct_from(row.deadline),
            or_(newer.send_at > row.send_at, and_(newer.send_at == row.send_at, newer.id > row.id)))
    by_progress = sa_select(newer.id).where(newer.institution_id == row.institution_id, newer.stage_id == row.stage_id, *same)
    by_neither = sa_select(newer.id).where(newer.institution_id.is_not_distinct_from(row.institution_id),
                                           newer.stage_id.is_not_distinct_from(row.stage_id), *same)
    return case((about, by_progress.exists()), else_=by_neither.exists())
