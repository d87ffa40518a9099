"""Reminders planned as outbox rows, written by reconcile in its own transaction.

When each goes out is `schedule`'s; who gets it, under which key (`rules.outbox_key`), is planned
here, set-based: INSERT…SELECT joins the sends of each distinct deadline to its recipients.
Whether a planned row is still wanted is decided again when it is sent (`skips`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Table, case, column, func, literal, text, true, tuple_, update, values
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import CTE, Subquery
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.engine.experts import drawn, stored
from dqflow.engine.rules import Status
from dqflow.engine.schedule import (
    RECOMMENDATIONS_LIFETIME,
    Clock,
    Occurrence,
    event_occurrences,
    rules_for,
    task_occurrences,
)
from dqflow.engine.skips import NOTICE_KINDS, Skip, reason
from dqflow.errors import NotFound
from dqflow.store import (
    UNPLANNED,
    AssignmentRow,
    ExpertRow,
    InstitutionRow,
    OutboxRow,
    ProgressRow,
    ReviewRow,
    StageRow,
    insert_ignore,
    insert_select,
)

_OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]  # SQLModel's typing does not declare it
_MOMENT = _OUTBOX.c.send_at.type  # how the outbox stores a moment: the VALUES tables' moments are bound as it binds them
Column = ColumnElement[Any] | Mapped[Any]


def plan(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """Plan the reminders not planned yet; returns how many rows were written."""
    clock = Clock(campaign)
    written = 0
    for stage in campaign.stages:  # before the reviews' reminders: a pair without them is what joined the list late
        if stage.kind == "handout" and rules.has_opened(stage.opens_at, now):
            written += plan_handout_additions(session, campaign, stage, clock, now)
    for stage in campaign.stages:
        if stage.per_institution:
            written += _plan_progress(session, campaign, stage, clock, now)
        elif stage.kind == "event" or (stage.kind == "task" and stage.actor == "coordinator"):
            written += _plan_once(session, campaign, stage, clock, now)
        elif stage.kind == "handout" and rules.has_opened(stage.opens_at, now):
            written += plan_handout(session, campaign, stage, clock, now)
        if stage.actor == "expert" and stage.per_institution and rules.has_locked(stage.locks_at, now):
            written += plan_recommendations(session, campaign, stage, now)
    return written


def review_stage(campaign: spec.Campaign, list_id: str | None) -> spec.Stage | None:
    """The expert task that follows an expert list."""
    return next((s for s in campaign.stages if s.actor == "expert" and s.list == list_id), None) if list_id else None


def _list_of(stage: spec.Stage) -> str:
    """The expert list a handout or an experts' task works from (the parser requires one)."""
    assert stage.list is not None, f"stage '{stage.id}' names its expert list"
    return stage.list


def _stage_row(session: Session, campaign: spec.Campaign, stage: spec.Stage) -> StageRow:
    row = session.get(StageRow, (campaign.id, stage.id))
    assert row is not None, "a stage of the definition has its row"
    return row


def plan_handout(session: Session, campaign: spec.Campaign, stage: spec.Stage, clock: Clock, now: datetime) -> int:
    """At a handout each expert gets one email with their ДОУ; the coordinator a copy of the whole list."""
    row = _stage_row(session, campaign, stage)
    if row.reminders_planned:
        return 0  # planned already: the list is not read again
    assignments = stored(session, campaign.id, _list_of(stage))
    if not assignments:
        return 0  # the list is not drawn yet
    review = review_stage(campaign, stage.list)
    deadline = review.due_at if review else stage.due_at
    send_at = clock.next_send_time(stage.opens_at)
    occ = Occurrence("handout", "handout", send_at, review.locks_at if review else stage.locks_at)
    present = {i.id for i in campaign.institutions}  # a withdrawn ДОУ keeps its list rows (history), handed out no more
    experts = sorted({e for inst, es in assignments.items() if inst in present for e in es})
    emails = dict(session.exec(select(ExpertRow.id, ExpertRow.email).where(ExpertRow.campaign_id == campaign.id)).all())
    new_rows = [_row(campaign, emails[e], "expert", None, stage.id, occ, deadline, clock, now) for e in experts]
    copy = Occurrence("handout-copy", "handout_copy", send_at, occ.expires_at)
    new_rows.append(_row(campaign, campaign.coordinator.email, "coordinator", None, stage.id, copy, deadline, clock, now))
    row.reminders_planned = True
    session.add(row)
    return insert_ignore(session, OutboxRow, new_rows)


def plan_handout_additions(session: Session, campaign: spec.Campaign, stage: spec.Stage, clock: Clock, now: datetime) -> int:
    """Level-triggered handouts for experts assigned after the handout was planned (an amendment added a ДОУ, replaced
    a withdrawn expert or raised `experts_per_institution`; `dqflow experts set`): while the review is still to
    come or under way, each new (expert, ДОУ) pair gets an addition to that expert's handout naming the ДОУ, at the
    next send time, and the coordinator one copy of the change. A new pair is one whose ДОУ's review reminders are
    to be planned again (the edit marks them so) and whose expert has no review reminder about it yet: the others'
    lists did not change and they get nothing. One INSERT…SELECT, whatever the number of experts."""
    review = review_stage(campaign, stage.list)
    if review is None or rules.has_locked(review.locks_at, now):
        return 0  # the review is over: a late expert has nothing left to do
    row = _stage_row(session, campaign, stage)
    if not row.reminders_planned:
        return 0  # the handout itself is still to be planned: it will read the list as it is then
    unplanned = select(ProgressRow.institution_id).where(
        ProgressRow.campaign_id == campaign.id, ProgressRow.stage_id == review.id,
        col(ProgressRow.status).in_([Status.UPCOMING.value, Status.OPEN.value]), text(f"({UNPLANNED})"))
    known = select(OutboxRow.id).where(
        OutboxRow.campaign_id == campaign.id, OutboxRow.institution_id == AssignmentRow.institution_id,
        OutboxRow.stage_id == review.id, func.lower(OutboxRow.recipient) == func.lower(ExpertRow.email))
    send_at = clock.next_send_time(now)
    occ = Occurrence(ADDED, "handout", send_at, review.locks_at)
    sends = values(column("rule", String), column("kind", String), column("send_at", _MOMENT), column("expires_at", _MOMENT),
                   column("state", String), column("reason", String), column("deadline_text", String), name="sends").data(
        [(occ.rule, occ.kind, occ.send_at, occ.expires_at, *_state(occ, clock, now, replanned=False),
          rules.deadline_text(review.due_at))]).cte("sends")
    added = (_planned(campaign, stage, sends, col(ExpertRow.email), "expert", col(AssignmentRow.institution_id),
                      literal(review.due_at, _MOMENT), now)
             .select_from(AssignmentRow)
             .join(ExpertRow, _expert_of_assignment())
             .join(sends, true())
             .where(col(AssignmentRow.campaign_id) == campaign.id, col(AssignmentRow.stage_id) == stage.list,
                    col(ExpertRow.withdrawn_at).is_(None), col(AssignmentRow.institution_id).in_(unplanned), ~known.exists())
             .order_by(col(ExpertRow.email), col(AssignmentRow.institution_id)))
    if session.execute(added.limit(1)).first() is None:
        return 0  # nobody new (an idle reconcile: the unplanned ДОУ are none); the row count of an INSERT…SELECT cannot say it
    written = insert_select(session, OutboxRow, PLANNED_COLUMNS, added)
    if written:  # the coordinator hears of the change once, in one copy naming the new experts (`letters` reads them)
        copy = Occurrence(f"{ADDED_COPY}#{int(now.timestamp())}", "handout_copy", send_at, review.locks_at)
        written += insert_ignore(session, OutboxRow, [_row(campaign, campaign.coordinator.email, "coordinator", None, stage.id,
                                                           copy, review.due_at, clock, now)])
    return written


ADDED = "handout-added"  # the rule of an addition to an expert's handout: one row per ДОУ added
ADDED_COPY = "handout-copy"  # with `#<planned at>`: the coordinator's copy of the additions planned then


def plan_submission_notices(session: Session, campaign: spec.Campaign, stage: spec.Stage,
                            submitted: list[tuple[str, datetime, datetime]]) -> int:
    """ДОУ handed their forms in for a stage addressed to the operator, each (ДОУ, its deadline, when):
    the operator is told, with the links, at the next send time (several in one send make one message)."""
    assert campaign.operator is not None, "notices go to the operator a stage hands in to"
    clock = Clock(campaign)
    rows = []
    for institution_id, deadline, at in submitted:
        send_at = clock.next_send_time(at)
        occ = Occurrence(f"submitted#{at.timestamp():.0f}", "submitted", send_at, send_at + RECOMMENDATIONS_LIFETIME)
        rows.append(_row(campaign, campaign.operator.email, "operator", institution_id, stage.id, occ, deadline, clock, at))
    return insert_ignore(session, OutboxRow, rows)


def plan_recommendations(session: Session, campaign: spec.Campaign, stage: spec.Stage, now: datetime) -> int:
    """Each reviewed ДОУ gets its addressed recommendations, once: at the lock, or when the coordinator says."""
    row = _stage_row(session, campaign, stage)
    if row.followup_planned:
        return 0
    clock = Clock(campaign)
    reviewed = session.exec(select(ReviewRow.institution_id).where(
        ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == stage.id,
        rules.counts_as_review_sql(col(ReviewRow.levels), [a.id for a in campaign.areas])).distinct()).all()
    emails = dict(session.exec(select(InstitutionRow.id, InstitutionRow.email).where(InstitutionRow.campaign_id == campaign.id)).all())
    send_at = clock.next_send_time(now)
    occ = Occurrence("recommendations", "recommendations", send_at, send_at + RECOMMENDATIONS_LIFETIME)
    new_rows = [_row(campaign, emails[i], "institution", i, stage.id, occ, stage.due_at, clock, now) for i in sorted(reviewed)]
    row.followup_planned = True
    session.add(row)
    return insert_ignore(session, OutboxRow, new_rows)


def _plan_progress(session: Session, campaign: spec.Campaign, stage: spec.Stage, clock: Clock, now: datetime) -> int:
    """Plan each ДОУ's reminders against its own deadline; re-plan those whose deadline moved.

    Set-based: the sends are computed once per distinct (opening, deadline, lock) — a handful, one
    more per extension — into a small VALUES table, and one INSERT…SELECT joins it to the unplanned
    progress rows and their recipients. Nothing per ДОУ is built or bound in Python."""
    if stage.actor == "expert" and not drawn(session, campaign.id, _list_of(stage)):
        return 0  # nobody to remind before the list: its rows wait unread (planned once it is drawn)
    unplanned = (
        col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.stage_id) == stage.id,
        col(ProgressRow.status).in_([Status.UPCOMING.value, Status.OPEN.value, Status.MISSED.value]),
        text(f"({UNPLANNED})"),  # spelled as the partial index is: the read touches only the unplanned rows
    )
    replanned = case((col(ProgressRow.planned_due).is_(None), 0), else_=1)
    groups = [tuple(g) for g in session.execute(
        sa_select(col(ProgressRow.opens_at), col(ProgressRow.due_at), col(ProgressRow.locks_at), replanned).where(*unplanned).distinct())]
    if not groups:
        return 0
    if any(again for *_, again in groups):
        _cancel_moved(session, campaign, stage, unplanned)
    sends = _sends(campaign, stage, clock, now, groups)
    who = _recipients(campaign, stage)
    planned = (
        _planned(campaign, stage, sends, who.c.email, who.role, col(ProgressRow.institution_id), col(ProgressRow.due_at), now)
        .select_from(ProgressRow)
        .join(who.table, who.c.institution_id == ProgressRow.institution_id)
        .join(sends, (sends.c.for_opens == ProgressRow.opens_at) & (sends.c.for_due == ProgressRow.due_at)
              & (sends.c.for_locks == ProgressRow.locks_at) & (sends.c.replanned == replanned))
        .where(*unplanned)
    )
    written = insert_select(session, OutboxRow, PLANNED_COLUMNS, planned)
    # One UPDATE marks every ДОУ that now has someone to remind (experts only once the list exists).
    addressed = () if stage.actor == "institution" else (col(ProgressRow.institution_id).in_(
        select(AssignmentRow.institution_id).where(AssignmentRow.campaign_id == campaign.id,
                                                   AssignmentRow.stage_id == stage.list)),)
    session.execute(update(ProgressRow).where(*unplanned, *addressed).values(planned_due=ProgressRow.due_at)
                    .execution_options(synchronize_session=False))
    return written


PLANNED_COLUMNS = ["key", "campaign_id", "recipient", "role", "institution_id", "stage_id", "rule", "kind", "deadline",
                   "send_at", "expires_at", "state", "reason", "attempts", "planned_at", "reported"]


def _planned(campaign: spec.Campaign, stage: spec.Stage, sends: CTE, email: Column, role: str, institution_id: Column,
             deadline: Column, now: datetime) -> Select[Any]:
    """The SELECT list of planned outbox rows (PLANNED_COLUMNS) from a `sends` table joined to recipients;
    the key is `rules.outbox_key_sql` (`sends.deadline_text` is the deadline as `rules.deadline_text` spells it)."""
    key = rules.outbox_key_sql(campaign.id, email, institution_id, stage.id, sends.c.rule, sends.c.deadline_text)
    return sa_select(key, literal(campaign.id), email, literal(role), institution_id, literal(stage.id), sends.c.rule,
                     sends.c.kind, deadline, sends.c.send_at, sends.c.expires_at, sends.c.state, sends.c.reason, literal(0),
                     literal(now, _MOMENT), literal(False))


def _sends(campaign: spec.Campaign, stage: spec.Stage, clock: Clock, now: datetime, groups: list[tuple[Any, ...]]) -> CTE:
    """The VALUES table of every send per distinct (opening, deadline, lock, re-planned): each row as
    `_row` would make it for any ДОУ with those times."""
    stage_rules = rules_for(campaign, stage)
    # Named apart from the progress columns: the partial index's condition names those unqualified.
    table = values(column("for_opens", _MOMENT), column("for_due", _MOMENT), column("for_locks", _MOMENT),
                   column("replanned", Integer), column("rule", String), column("kind", String),
                   column("send_at", _MOMENT), column("expires_at", _MOMENT), column("state", String),
                   column("reason", String), column("deadline_text", String), name="sends")
    rows = []
    for opens, due, locks, again in groups:
        for occ in task_occurrences(stage_rules, opens, due, locks, clock, campaign.calendar, missed_notice=True):
            state, why = _state(occ, clock, now, replanned=bool(again))
            rows.append((opens, due, locks, again, occ.rule, occ.kind, occ.send_at, occ.expires_at, state, why,
                         rules.deadline_text(due)))
    return table.data(rows).cte("sends")  # a CTE: SQLite names the columns of a VALUES table no other way


def _cancel_moved(session: Session, campaign: spec.Campaign, stage: spec.Stage, unplanned: tuple[Any, ...]) -> None:
    """A deadline moved (an extension): reminders against the old one must not go out. One UPDATE for
    every moved ДОУ, reaching its outbox rows through the (campaign, ДОУ, stage) index."""
    moved = sa_select(col(ProgressRow.institution_id), col(ProgressRow.planned_due)).where(
        *unplanned, col(ProgressRow.planned_due).is_not(None))
    session.execute(
        update(OutboxRow).where(
            col(OutboxRow.campaign_id) == campaign.id, col(OutboxRow.institution_id).in_(moved.with_only_columns(col(ProgressRow.institution_id))),
            col(OutboxRow.stage_id) == stage.id, tuple_(OutboxRow.institution_id, OutboxRow.deadline).in_(moved),
            col(OutboxRow.state).in_(["pending", "failed"]),
        ).values(state="skipped", reason=reason(Skip.DEADLINE_MOVED)).execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class _Who:
    """Who acts for each ДОУ of a stage, as a subquery (`table`: institution_id, email) and their role."""

    table: Subquery
    role: str

    @property
    def c(self) -> Any:
        return self.table.c


def _recipients(campaign: spec.Campaign, stage: spec.Stage) -> _Who:
    """The ДОУ itself, or the experts its list assigned (none before the list)."""
    if stage.actor == "institution":
        return _Who(select(col(InstitutionRow.id).label("institution_id"), InstitutionRow.email).where(
            InstitutionRow.campaign_id == campaign.id).subquery("who"), "institution")
    return _Who(select(AssignmentRow.institution_id, ExpertRow.email)
                .join(ExpertRow, _expert_of_assignment())
                .where(AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == stage.list).subquery("who"), "expert")


def _expert_of_assignment() -> ColumnElement[bool]:
    return (col(ExpertRow.campaign_id) == col(AssignmentRow.campaign_id)) & (col(ExpertRow.id) == col(AssignmentRow.expert_id))


def _plan_once(session: Session, campaign: spec.Campaign, stage: spec.Stage, clock: Clock, now: datetime) -> int:
    """Events and coordinator tasks concern the whole campaign: planned once, at the first reconcile."""
    row = _stage_row(session, campaign, stage)
    if row.reminders_planned:
        return 0
    stage_rules = rules_for(campaign, stage)
    row.reminders_planned = True
    session.add(row)
    if stage.kind == "event":
        occurrences = event_occurrences(stage_rules, stage.opens_at, clock, campaign.calendar)
        written = _plan_audience(session, campaign, stage, occurrences, clock, now)
        people: list[tuple[str, str, str | None]] = [(campaign.coordinator.email, "coordinator", None)] if "coordinator" in stage.audience else []
    else:
        occurrences = task_occurrences(stage_rules, stage.opens_at, stage.due_at, stage.locks_at, clock, campaign.calendar,
                                       missed_notice=False)
        written = 0
        people = [(campaign.coordinator.email, "coordinator", None)]
    return written + insert_ignore(session, OutboxRow, [_row(campaign, email, role, inst, stage.id, occ, stage.due_at, clock, now)
                                                        for email, role, inst in people for occ in occurrences])


def _plan_audience(session: Session, campaign: spec.Campaign, stage: spec.Stage, occurrences: list[Occurrence], clock: Clock,
                   now: datetime) -> int:
    """An event's reminders to its ДОУ and experts: one INSERT…SELECT each, in roster order."""
    if not occurrences:
        return 0
    sends = values(column("n", Integer), column("rule", String), column("kind", String), column("send_at", _MOMENT),
                   column("expires_at", _MOMENT), column("state", String), column("reason", String),
                   column("deadline_text", String), name="sends").data(
        [(n, occ.rule, occ.kind, occ.send_at, occ.expires_at, *_state(occ, clock, now, replanned=False),
          rules.deadline_text(stage.due_at)) for n, occ in enumerate(occurrences)]).cte("sends")
    deadline = literal(stage.due_at, _MOMENT)
    written = 0
    audiences: tuple[tuple[str, str, type[InstitutionRow] | type[ExpertRow], Column, Column], ...] = (
        ("institutions", "institution", InstitutionRow, col(InstitutionRow.id), col(InstitutionRow.position)),
        ("experts", "expert", ExpertRow, col(ExpertRow.institution_id), col(ExpertRow.id)))
    for audience, role, table, inst, order in audiences:
        if audience in stage.audience:
            written += insert_select(session, OutboxRow, PLANNED_COLUMNS, (
                _planned(campaign, stage, sends, col(table.email), role, inst, deadline, now).select_from(table)
                .join(sends, true()).where(col(table.campaign_id) == campaign.id, col(table.withdrawn_at).is_(None))
                .order_by(order, sends.c.n)))  # planned again when someone joins (amend): never for who left
    return written


def _row(campaign: spec.Campaign, email: str, role: str, institution_id: str | None, stage_id: str | None, occ: Occurrence,
         deadline: datetime | None, clock: Clock, now: datetime, *, replanned: bool = False) -> dict[str, Any]:
    """One planned row, pending or skipped as `_state` says."""
    state, skip = _state(occ, clock, now, replanned=replanned)
    return {
        "key": rules.outbox_key(campaign.id, email, institution_id, stage_id, occ.rule, deadline),
        "campaign_id": campaign.id, "recipient": email, "role": role, "institution_id": institution_id,
        "stage_id": stage_id, "rule": occ.rule, "kind": occ.kind, "deadline": deadline, "send_at": occ.send_at,
        "expires_at": occ.expires_at, "state": state, "reason": skip, "attempts": 0,
        "planned_at": now, "reported": False,
    }


def _state(occ: Occurrence, clock: Clock, now: datetime, *, replanned: bool) -> tuple[str, str | None]:
    """(state, skip reason) of a row planned at `now`: a notice stays true until it expires, however late
    it is planned; a reminder of a moment planned after that moment is not sent (nor is 'the stage
    opened' again when an extension re-plans a ДОУ)."""
    skip = occ.skip
    notice = occ.kind in NOTICE_KINDS and not (replanned and occ.kind == "opened")
    if skip is None and (rules.expired(occ.expires_at, now) or (not notice and clock.window_end(occ.send_at) <= now)):
        skip = reason(Skip.PLANNED_LATE)
    return ("skipped" if skip else "pending"), skip


def plan_digest(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """A coordinator digest at the next send time when someone is late or mail went dead: open past its due
    time, or missed within the last day."""
    lately = now - timedelta(days=1)
    overdue = any(_anyone(session, campaign, stage, *late) for stage in campaign.stages if stage.per_institution
                  for late in ((Status.OPEN, rules.past_due_sql(col(ProgressRow.due_at), now)),
                               (Status.MISSED, col(ProgressRow.locks_at) > lately)))
    dead = session.exec(select(OutboxRow.id).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == "dead",
                                                   col(OutboxRow.reported).is_(False)).limit(1)).first()
    if not overdue and dead is None:
        return 0
    clock = Clock(campaign)
    send_at = clock.next_send_time(now)
    day = clock.day_of(send_at)
    occ = Occurrence(f"digest:{day.isoformat()}", "digest", send_at, clock.window_end(send_at))
    return insert_ignore(session, OutboxRow, [_row(campaign, campaign.coordinator.email, "coordinator", None, None, occ, None, clock, now)])


def _anyone(session: Session, campaign: spec.Campaign, stage: spec.Stage, status: Status, condition: ColumnElement[bool]) -> bool:
    """One indexed probe: is any ДОУ of the stage in `status` and meeting `condition`?"""
    return session.exec(select(ProgressRow.institution_id).where(
        ProgressRow.campaign_id == campaign.id, ProgressRow.stage_id == stage.id, ProgressRow.status == status.value,
        condition).limit(1)).first() is not None


# -- reading the ledger ----------------------------------------------------------------


def ledger(session: Session, campaign_id: str, state: str | None = None, offset: int = 0,
           limit: int | None = None) -> list[OutboxRow]:
    """The outbox in sending order; a page of it from `offset` when `limit` is given (the portal's)."""
    query = select(OutboxRow).where(OutboxRow.campaign_id == campaign_id)
    if state:
        query = query.where(OutboxRow.state == state)
    query = query.order_by(col(OutboxRow.send_at), col(OutboxRow.recipient), col(OutboxRow.id)).offset(offset)
    return list(session.exec(query.limit(limit) if limit is not None else query).all())


def ledger_size(session: Session, campaign_id: str, state: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.campaign_id == campaign_id)
    return session.exec(query.where(OutboxRow.state == state) if state else query).one()


def explain(session: Session, campaign: spec.Campaign, recipient: str, stage_id: str | None) -> tuple[list[OutboxRow], list[tuple]]:
    """The recipient's rows, and why nothing was planned where one might expect something: gaps as
    (code, parameters…), rendered for people by `report.gap_ru`."""
    if stage_id and campaign.stage(stage_id) is None:
        raise NotFound(f"no stage '{stage_id}' in campaign '{campaign.id}'; stages: {', '.join(s.id for s in campaign.stages)}",
                       code="no-stage", stage=stage_id, known=", ".join(s.id for s in campaign.stages))
    address = recipient.strip().lower()
    query = select(OutboxRow).where(OutboxRow.campaign_id == campaign.id, func.lower(OutboxRow.recipient) == address)
    if stage_id:
        query = query.where(OutboxRow.stage_id == stage_id)
    rows = list(session.exec(query.order_by(col(OutboxRow.send_at), col(OutboxRow.id))).all())
    planned = {(r.institution_id, r.stage_id) for r in rows}
    stages = [s for s in campaign.stages if s.per_institution and (stage_id is None or s.id == stage_id)]
    gaps = []
    for inst in campaign.institutions:
        if inst.email.lower() == address:
            for stage in (s for s in stages if s.actor == "institution"):
                if (inst.id, stage.id) not in planned:
                    gaps.append(_gap(session, campaign, stage, inst.id))
    for expert in (e for e, _ in campaign.every_expert() if e.email.lower() == address):
        for stage in (s for s in stages if s.actor == "expert"):
            assigned = session.exec(select(AssignmentRow.institution_id).where(
                AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == stage.list,
                AssignmentRow.expert_id == expert.id)).all()
            if not assigned:
                gaps.append(("no-list", stage.id, stage.list, expert.id))
    operator = {campaign.operator.email.lower()} if campaign.operator else set()
    known = {campaign.coordinator.email.lower()} | operator | {i.email.lower() for i in campaign.institutions} | {
        e.email.lower() for e, _ in campaign.every_expert()}
    if address not in known:
        gaps.append(("unknown-address", recipient, campaign.id))
    return rows, gaps


def _gap(session: Session, campaign: spec.Campaign, stage: spec.Stage, institution_id: str) -> tuple:
    progress = session.get(ProgressRow, (campaign.id, institution_id, stage.id))
    if not rules_for(campaign, stage):
        return ("no-rules", stage.id)
    if progress is not None and Status(progress.status).settled:
        return ("settled", stage.id, institution_id, progress.status)
    return ("not-planned", stage.id)
