"""Draining the outbox: decide again what is still wanted, group it per recipient, send, record.

Only committed rows are read; outcomes are written after the transport answered. A crash
between the two resends the same message with the same Message-ID, never a different one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dqflow import engine as campaign_engine
from dqflow import experts, spec
from dqflow.calendar import UTC, show, show_date
from dqflow.machine import Status
from dqflow.mail import RETRY_AFTER_MINUTES, Letter, Outcome, compose, message_id
from dqflow.experts import stored
from dqflow.reminders import Clock, review_stage
from dqflow.store import ExpertRow, InstitutionRow, OutboxRow, ProgressRow, ReviewRow, SubmissionRow, exclusive, transaction
from dqflow.templates import default_folder


REMINDER_KINDS = ("opened", "before_due", "due_today", "overdue", "missed")


@dataclass
class Batch:
    """One message to one recipient and the outbox rows it carries."""

    recipient: str
    row_ids: list[int]
    message: Message
    attempts: list[int]  # per row, before this try
    has_digest: bool


SEND_ROUND = 500  # recipients composed, sent and recorded together
ALREADY_REVIEWED = "this expert already reviewed the ДОУ"
MAX_IN_LIST = 2000  # bound parameters in one IN list, far below SQLite's 32,766


@dataclass
class Sent:
    at: datetime
    to: str
    subject: str
    message_id: str
    state: str
    detail: str


@dataclass
class DrainReport:
    skipped: int = 0
    messages: list[Sent] = field(default_factory=list)
    busy: bool = False  # another process was sending this campaign's mail: nothing was done

    def count(self, state: str) -> int:
        return sum(1 for m in self.messages if m.state == state)


async def drain(db: Engine, campaign_id: str, now: datetime, transport, sender: str | None = None,
                on_outcome=None) -> DrainReport:
    """Send everything due as of `now` once, unless another process is sending; returns what happened."""
    with exclusive(db, f"send-{campaign_id}") as held:
        if not held:
            return DrainReport(busy=True)
        return await _drain(db, campaign_id, now, transport, sender, on_outcome)


async def _drain(db: Engine, campaign_id: str, now: datetime, transport, sender: str | None, on_outcome) -> DrainReport:
    with transaction(db) as session:
        campaign = campaign_engine.definition(session, campaign_id)
        report = DrainReport(skipped=skip_unwanted(session, campaign, now))
    done: set[str] = set()
    with transaction(db) as session:
        names = institution_names(session, campaign.id)  # read once for every round
    while True:  # a round of recipients at a time: bounded memory, and a crash repeats one round at most
        with transaction(db) as session:
            batches = prepare(session, campaign, now, sender or campaign.coordinator.email, recipients=SEND_ROUND, names=names)
        batches = [b for b in batches if b.recipient not in done]  # never twice in one drain, whatever happens
        if not batches:
            return report
        outcomes = await transport.send([b.message for b in batches], on_outcome)
        with transaction(db) as session:
            record(session, campaign, batches, outcomes, now)
        for batch, outcome in zip(batches, outcomes):
            done.add(batch.recipient)
            report.messages.append(Sent(now, batch.recipient, str(batch.message["Subject"]), batch.message["Message-ID"],
                                        _state(outcome), outcome.detail))


def _state(outcome: Outcome) -> str:
    return {"sent": "sent", "retry": "failed", "dead": "dead"}[outcome.state]


def skip_unwanted(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """Pending rows whose moment is over, or whose recipient no longer needs them, become skipped."""
    expired = session.execute(
        update(OutboxRow).where(OutboxRow.campaign_id == campaign.id, col(OutboxRow.state).in_(["pending", "failed"]),
                                OutboxRow.expires_at <= now)
        .values(state="skipped", reason="its moment passed before it could be sent")
        .execution_options(synchronize_session=False)
    ).rowcount
    due = _due_rows(session, campaign.id, now, Clock(campaign))
    progress = _progress_of(session, campaign.id, due)
    skipped = 0
    reviewed = _reviewed_by(session, campaign.id, due)
    newest = _newest_reminders(due)
    news = any(r.kind == "digest" for r in due) and _has_news(digest_content(session, campaign, {}, now))
    for row in due:
        reason = _skip_reason(row, progress.get((row.institution_id, row.stage_id)), reviewed, campaign)
        if reason is None and row.id not in newest and row.state == "pending" and row.kind in REMINDER_KINDS:
            reason = "superseded by a later reminder for the same deadline"
        if row.kind == "digest" and not news:
            reason = "nothing to report"
        if reason:
            row.state, row.reason = "skipped", reason
            session.add(row)
            skipped += 1
    return expired + skipped


def _newest_reminders(rows: list[OutboxRow]) -> set[int]:
    """After downtime several reminders of one deadline may be due at once ('opened', 'before'…):
    only the newest goes out, one reminder per person, ДОУ, stage and deadline."""
    newest: dict[tuple, OutboxRow] = {}
    for row in rows:
        if row.state == "pending" and row.kind in REMINDER_KINDS:
            group = (row.recipient.lower(), row.institution_id, row.stage_id, row.deadline)
            if group not in newest or (row.send_at, row.id) > (newest[group].send_at, newest[group].id):
                newest[group] = row
    return {row.id for row in newest.values()}


def foreseen_skips(session: Session, campaign: spec.Campaign, rows: list[OutboxRow]) -> dict[int, str]:
    """Pending rows that, as things stand, would be skipped when their time comes, and why."""
    pending = [r for r in rows if r.state == "pending"]
    progress = _progress_of(session, campaign.id, pending)
    reviewed = _reviewed_by(session, campaign.id, pending)
    found = {}
    for row in pending:
        state = progress.get((row.institution_id, row.stage_id))
        reason = _skip_reason(row, state, reviewed, campaign)
        settled = state is not None and Status(state.status) in (Status.DONE, Status.LATE, Status.EXCUSED)
        if reason and (settled or reason == ALREADY_REVIEWED):  # only what cannot change back
            found[row.id] = reason
    return found


def _skip_reason(row: OutboxRow, progress: ProgressRow | None, reviewed: set[tuple[str, str, str]],
                 campaign: spec.Campaign) -> str | None:
    """Why this row should not go out, judged by the ДОУ's progress and the reviews stored."""
    reason = _unwanted(row, progress, campaign)
    if reason is None and row.role == "expert" and (row.stage_id, row.institution_id, row.recipient.lower()) in reviewed:
        return ALREADY_REVIEWED
    return reason


def _reviewed_by(session: Session, campaign_id: str, rows: list[OutboxRow]) -> set[tuple[str, str, str]]:
    """(stage, ДОУ, expert email) of every review stored for the stages these rows are about."""
    stages = {r.stage_id for r in rows if r.role == "expert" and r.institution_id}
    if not stages:
        return set()
    found = session.exec(select(ReviewRow.stage_id, ReviewRow.institution_id, ExpertRow.email)
                         .join(ExpertRow, (ExpertRow.campaign_id == ReviewRow.campaign_id) & (ExpertRow.id == ReviewRow.expert_id))
                         .where(ReviewRow.campaign_id == campaign_id, col(ReviewRow.stage_id).in_(stages))).all()
    return {(st, inst, email.lower()) for st, inst, email in found}


def _due_rows(session: Session, campaign_id: str, now: datetime, clock: Clock, recipients: int | None = None) -> list[OutboxRow]:
    """Rows due now, by recipient; with `recipients`, only those of the first so many addresses."""
    if not clock.in_window(now):
        return []
    due = (OutboxRow.campaign_id == campaign_id,
           ((OutboxRow.state == "pending") & (OutboxRow.send_at <= now)) | ((OutboxRow.state == "failed") & (OutboxRow.retry_at <= now)))
    query = select(OutboxRow).where(*due)
    if recipients:
        first = select(OutboxRow.recipient).where(*due).distinct().order_by(OutboxRow.recipient).limit(recipients)
        query = query.where(col(OutboxRow.recipient).in_(first))
    return list(session.exec(query.order_by(OutboxRow.recipient, OutboxRow.deadline, OutboxRow.id)).all())


def _progress_of(session: Session, campaign_id: str, rows: list[OutboxRow]) -> dict[tuple[str, str], ProgressRow]:
    wanted = {(r.institution_id, r.stage_id) for r in rows if r.institution_id and r.stage_id}
    if not wanted:
        return {}
    query = select(ProgressRow).where(ProgressRow.campaign_id == campaign_id, col(ProgressRow.stage_id).in_({s for _, s in wanted}))
    institutions = {i for i, _ in wanted}
    if len(institutions) <= MAX_IN_LIST:  # a send round; a list of every ДОУ would pass SQLite's parameter limit
        query = query.where(col(ProgressRow.institution_id).in_(institutions))
    found = session.exec(query).all()
    return {(p.institution_id, p.stage_id): p for p in found if (p.institution_id, p.stage_id) in wanted}


def _unwanted(row: OutboxRow, progress: ProgressRow | None, campaign: spec.Campaign) -> str | None:
    """Why the row should not go out now, or None."""
    if progress is None:
        return None  # events, coordinator work and digests: their expiry is all that matters
    status = Status(progress.status)
    if row.kind not in REMINDER_KINDS:
        return None  # recommendations and the like go out whatever the ДОУ's status
    if progress.due_at != row.deadline:
        return "the deadline moved"
    if row.kind == "missed":
        return None if status is Status.MISSED else f"the stage is {status.value}, not missed"
    if status.submitted:
        return "already submitted"
    if status is Status.EXCUSED:
        return "excused from the stage"
    if status is Status.MISSED:
        return "the stage is locked"
    if status is Status.UPCOMING:
        return "the stage is not open yet"
    return None


def institution_names(session: Session, campaign_id: str) -> dict[str, str]:
    return dict(session.exec(select(InstitutionRow.id, InstitutionRow.name).where(InstitutionRow.campaign_id == campaign_id)).all())


def prepare(session: Session, campaign: spec.Campaign, now: datetime, sender: str, recipients: int | None = None,
            names: dict[str, str] | None = None) -> list[Batch]:
    """One message per recipient from every row due now (for the first `recipients` addresses), nearest deadline first."""
    clock = Clock(campaign)
    rows = _due_rows(session, campaign.id, now, clock, recipients)
    if not rows:
        return []
    names = names if names is not None else institution_names(session, campaign.id)
    progress = _progress_of(session, campaign.id, rows)
    groups: dict[tuple[str, str | None], list[OutboxRow]] = defaultdict(list)
    for row in rows:  # a failed message is retried whole, under its first Message-ID
        groups[(row.recipient, row.message_id if row.state == "failed" else None)].append(row)
    folder = campaign.notifications or str(default_folder(campaign.locale))
    layout = {"campaign_title": campaign.title, "coordinator_name": campaign.coordinator.name,
              "coordinator_email": campaign.coordinator.email, "zone": campaign.timezone}
    batches = []
    for (recipient, existing_id), members in groups.items():
        letters = []
        for row in members:
            item = _item(session, campaign, row, progress.get((row.institution_id, row.stage_id)), names, now)
            letters.append((_sort_key(row, campaign), Letter(row.kind, item)))
        letters.sort(key=lambda pair: pair[0])
        msg_id = existing_id or message_id([r.key for r in members], sender)
        message = compose(folder=folder, letters=[letter for _, letter in letters], recipient=recipient, sender=sender,
                          reply_to=campaign.coordinator.email, when=now, msg_id=msg_id, layout=layout)
        for row in members:
            row.message_id = msg_id
            session.add(row)
        batches.append(Batch(recipient, [r.id for r in members], message, [r.attempts for r in members],
                             any(r.kind == "digest" for r in members)))
    return batches


def _sort_key(row: OutboxRow, campaign: spec.Campaign) -> tuple:
    stage = campaign.stage(row.stage_id) if row.stage_id else None
    moment = row.deadline or (stage.opens_at if stage else row.send_at)
    return (moment, row.stage_id or "", row.institution_id or "")


def _item(session: Session, campaign: spec.Campaign, row: OutboxRow, progress: ProgressRow | None,
          names: dict[str, str], now: datetime) -> dict:
    tz = campaign.tz
    stage = campaign.stage(row.stage_id) if row.stage_id else None
    due = progress.due_at if progress else (stage.due_at if stage else None)
    lock = progress.locks_at if progress else (stage.locks_at if stage else None)
    item = {
        "kind": row.kind, "role": row.role, "stage_id": row.stage_id, "stage_title": stage.title if stage else "",
        "url": stage.url if stage else None, "institution_id": row.institution_id,
        "institution_name": names.get(row.institution_id) if row.institution_id and row.kind != "event" else None,
        "deadline": show(due, tz) if due else "", "lock": show(lock, tz) if lock and lock != due else None,
        "extended": bool(progress and progress.extended), "event_at": _event_at(stage, tz),
        "links": _links(session, campaign, row.institution_id) if row.role == "expert" and row.institution_id else [],
        "day": now.astimezone(tz).strftime("%d.%m.%Y"), "overdue": [], "missed": [], "dead": [],
    }
    if row.kind == "digest":
        item.update(digest_content(session, campaign, names, now))
    elif row.kind in ("handout", "handout_copy"):
        item.update(_handout_content(session, campaign, stage, row, names))
    elif row.kind == "recommendations":
        item["reviews"] = _recommendations(session, campaign, row)
    return item


def _handout_content(session: Session, campaign: spec.Campaign, stage: spec.Stage, row: OutboxRow, names: dict[str, str]) -> dict:
    """An expert's own ДОУ with their links, or (for the coordinator) the whole list."""
    review = review_stage(campaign, stage.list)
    tz = campaign.tz
    roster = {e.id: e for i in campaign.institutions for e in i.experts}
    assignments = stored(session, campaign.id, stage.list)
    content = {"review_title": review.title if review else stage.title,
               "deadline": show(review.due_at if review else stage.due_at, tz),
               "lock": show(review.locks_at, tz) if review and review.locks_at != review.due_at else None}
    if row.kind == "handout_copy":
        content["rows"] = [{"institution_name": names.get(i.id, i.id), "experts": [roster[e].name for e in assignments.get(i.id, [])]}
                           for i in campaign.institutions]
        return content
    mine = {e.id for e in roster.values() if e.email.lower() == row.recipient.lower()}
    content["assigned"] = [{"institution_id": i.id, "institution_name": names.get(i.id, i.id),
                            "links": _links(session, campaign, i.id)}
                           for i in campaign.institutions if mine & set(assignments.get(i.id, []))]
    return content


def _recommendations(session: Session, campaign: spec.Campaign, row: OutboxRow) -> list[dict]:
    areas = {a.id: a.title for a in campaign.areas}
    levels = {lv.id: lv.title for lv in campaign.levels}
    found = []
    for n, review in enumerate(experts.reviews(session, campaign.id, row.stage_id, row.institution_id), 1):
        marks = json.loads(review.levels)
        found.append({"n": n, "recommendations": review.recommendations,
                      "levels": [{"area": title, "level": levels.get(marks[a], marks[a])} for a, title in areas.items() if a in marks]})
    return found


def _links(session: Session, campaign: spec.Campaign, institution_id: str) -> list[str]:
    """What the ДОУ submitted so far: the expert reviews these."""
    links: list[str] = []
    for text in session.exec(select(SubmissionRow.links).where(
            SubmissionRow.campaign_id == campaign.id, SubmissionRow.institution_id == institution_id)
            .order_by(SubmissionRow.at)).all():
        links += [link for link in json.loads(text) if link not in links]
    return links


def digest_content(session: Session, campaign: spec.Campaign, names: dict[str, str], now: datetime) -> dict:
    """Who is late now, who missed since the last digest, which mail went dead: for the coordinator."""
    tz = campaign.tz
    last = session.exec(select(OutboxRow.sent_at).where(OutboxRow.campaign_id == campaign.id, OutboxRow.kind == "digest",
                                                        OutboxRow.state == "sent").order_by(col(OutboxRow.sent_at).desc())).first()
    since = last or datetime.min.replace(tzinfo=UTC)  # UTC: a later zone's minimum would underflow
    title = {s.id: s.title for s in campaign.stages}
    open_late = session.exec(select(ProgressRow).where(ProgressRow.campaign_id == campaign.id, ProgressRow.status == Status.OPEN.value,
                                                       ProgressRow.due_at < now).order_by(ProgressRow.due_at)).all()
    missed = session.exec(select(ProgressRow).where(ProgressRow.campaign_id == campaign.id, ProgressRow.status == Status.MISSED.value,
                                                    ProgressRow.locks_at > since, ProgressRow.locks_at <= now)
                          .order_by(ProgressRow.locks_at)).all()
    dead = session.exec(select(OutboxRow).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == "dead",
                                                col(OutboxRow.reported).is_(False)).order_by(OutboxRow.id)).all()
    silent = _silent_experts(session, campaign, open_late + missed)
    return {
        "overdue": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                     "deadline": show(p.due_at, tz), "lock": show(p.locks_at, tz),
                     "experts": silent.get((p.stage_id, p.institution_id), [])} for p in open_late],
        "missed": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                    "lock": show(p.locks_at, tz), "experts": silent.get((p.stage_id, p.institution_id), [])} for p in missed],
        "dead": [{"recipient": d.recipient, "error": d.reason or ""} for d in dict((d.recipient, d) for d in dead).values()],
        "dead_ids": [d.id for d in dead],
    }


def _silent_experts(session: Session, campaign: spec.Campaign, rows: list[ProgressRow]) -> dict[tuple[str, str], list[str]]:
    """For a review stage the ДОУ is not the one late: name the assigned experts who have not reported."""
    found = {}
    names = {e.id: e.name for i in campaign.institutions for e in i.experts}
    lists: dict[str, dict[str, list[str]]] = {}  # each list and stage read once, however many ДОУ are late
    reported: dict[str, set[tuple[str, str]]] = {}
    for p in rows:
        stage = campaign.stage(p.stage_id)
        if stage.actor != "expert":
            continue
        if stage.id not in reported:
            lists[stage.list] = experts.stored(session, campaign.id, stage.list)
            reported[stage.id] = set(session.exec(select(ReviewRow.institution_id, ReviewRow.expert_id).where(
                ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == stage.id)).all())
        found[(stage.id, p.institution_id)] = [names.get(e, e) for e in lists[stage.list].get(p.institution_id, [])
                                               if (p.institution_id, e) not in reported[stage.id]]
    return found


def _has_news(content: dict) -> bool:
    return bool(content["overdue"] or content["missed"] or content["dead"])


def record(session: Session, campaign: spec.Campaign, batches: list[Batch], outcomes: list[Outcome], now: datetime) -> None:
    """Store each message's outcome on its rows: one bulk UPDATE by primary key for the whole drain."""
    changes = [{"id": row_id, "attempts": attempts + 1, **_outcome_values(outcome, attempts, now)}
               for batch, outcome in zip(batches, outcomes) for row_id, attempts in zip(batch.row_ids, batch.attempts)]
    if changes:
        session.execute(update(OutboxRow), changes)
    if any(o.state == "sent" and b.has_digest for b, o in zip(batches, outcomes)):
        reported = digest_content(session, campaign, {}, now)["dead_ids"]  # the digest just sent named them
        if reported:
            session.execute(update(OutboxRow).where(col(OutboxRow.id).in_(reported)).values(reported=True)
                            .execution_options(synchronize_session=False))


def _outcome_values(outcome: Outcome, attempts: int, now: datetime) -> dict:
    """A 4xx or a dropped connection is retried with backoff until the schedule runs out; then the row is dead."""
    if outcome.state == "sent":
        return {"state": "sent", "sent_at": now, "retry_at": None, "reason": None}
    if outcome.state == "retry" and attempts < len(RETRY_AFTER_MINUTES):
        return {"state": "failed", "sent_at": None, "retry_at": now + timedelta(minutes=RETRY_AFTER_MINUTES[attempts]),
                "reason": outcome.detail}
    return {"state": "dead", "sent_at": None, "retry_at": None, "reason": outcome.detail}


def next_moment(session: Session, campaign: spec.Campaign, now: datetime) -> datetime | None:
    """The next instant after `now` at which reconcile or the sender has something to do."""
    clock = Clock(campaign)
    candidates = [t for s in campaign.stages for t in (s.opens_at, s.locks_at + timedelta(seconds=1)) if t > now]
    candidates += [t for t in session.exec(select(ProgressRow.locks_at).where(
        ProgressRow.campaign_id == campaign.id, ProgressRow.extended, ProgressRow.locks_at > now)).all()]
    pending = session.exec(select(OutboxRow.send_at, OutboxRow.retry_at, OutboxRow.state).where(
        OutboxRow.campaign_id == campaign.id, col(OutboxRow.state).in_(["pending", "failed"]))).all()
    for send_at, retry_at, state in pending:
        moment = retry_at if state == "failed" else send_at
        candidates.append(clock.next_send_time(max(moment, now + timedelta(seconds=1))))
    return min(candidates) if candidates else None


def preview(session: Session, campaign: spec.Campaign, now: datetime) -> tuple[datetime | None, list[Batch]]:
    """The next send time and its messages, as they would be. Use in a session that is rolled back."""
    campaign_engine.reconcile(session, campaign.id, now)
    clock = Clock(campaign)
    pending = session.exec(select(OutboxRow.send_at).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == "pending")
                           .order_by(OutboxRow.send_at)).all()
    for send_at in pending:
        when = clock.next_send_time(max(send_at, now))
        campaign_engine.reconcile(session, campaign.id, when)
        skip_unwanted(session, campaign, when)
        batches = prepare(session, campaign, when, campaign.coordinator.email)
        if batches:
            return when, batches
    return None, []


def _event_at(stage: spec.Stage | None, tz) -> str:
    if stage is None:
        return ""
    return show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)
