"""The campaign engine: load a campaign, reconcile it with the clock, record what people do.

Every function takes the session it works in and `now`; the caller owns the transaction,
so a change and its audit rows commit together or not at all. Audit rows say when a change took
effect (`at`, from `now`) and when it was written (`recorded_at`: the real clock the edge gave
the transaction, see `store.transaction`); nothing here reads the clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import bindparam, case, false, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.calendar import as_utc, iso, show
from dqflow.campaign import spec
from dqflow.engine import experts, reminders
from dqflow.engine.rules import PROGRESS, STAGE, StageState, Status, can, fire, sources
from dqflow.errors import DqflowError, NotAllowed, NotFound
from dqflow.intake import text as texts
from dqflow.store import (
    AuditRow,
    CampaignRow,
    ExpertRow,
    ExtensionRow,
    InstitutionRow,
    ProgressRow,
    ReviewRow,
    StageRow,
    SubmissionRow,
    acting,
    audit_many,
    campaign_digest,
    chunks,
    lock_campaign,
    recorded_at,
)


@dataclass(frozen=True)
class Change:
    """One transition made by reconcile, at the moment it took effect."""

    at: datetime
    stage_id: str
    action: str
    source: str
    dest: str
    institution_id: str | None = None


_PARSED: dict[tuple[str, str], spec.Campaign] = {}  # (campaign id, digest) → definition, newest last
_PARSED_KEPT = 4


def definition(session: Session, campaign_id: str | None) -> spec.Campaign:
    """The loaded campaign's definition (the validated file, as stored at load time).

    Parsed once per process and content: a command or a daemon tick reads only the digest, not
    the stored JSON of a whole national roster, and a transaction reads the digest once (the replay
    asks for it at every act). The definition is immutable (frozen dataclasses), so sharing it is
    safe; whatever rewrites a stored definition must store its new digest too, and `forget` it."""
    known = session.info.setdefault("definitions", {})
    if campaign_id in known:
        return known[campaign_id]
    key = campaign_digest(session, campaign_id)
    found = _PARSED.pop(key, None)
    if found is None:
        text = session.exec(select(CampaignRow.definition).where(CampaignRow.id == key[0])).one()
        found = spec.from_json(text)
        while len(_PARSED) >= _PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = found
    known[campaign_id] = found
    return found


def forget(session: Session) -> None:
    """After a stored definition changed in this transaction: the next `definition` reads it again."""
    session.info.pop("definitions", None)


# -- load --------------------------------------------------------------------------


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
    session.execute(insert(StageRow.__table__), [
        {"campaign_id": campaign.id, "id": s.id, "position": n, "kind": s.kind, "actor": s.actor,
         "state": StageState.SCHEDULED.value, "opens_at": s.opens_at, "due_at": s.due_at, "locks_at": s.locks_at}
        for n, s in enumerate(campaign.stages)
    ])
    session.execute(insert(InstitutionRow.__table__), [
        {"campaign_id": campaign.id, "id": i.id, "position": n, "name": i.name, "email": i.email}
        for n, i in enumerate(campaign.institutions)
    ])
    experts = [{"campaign_id": campaign.id, "id": e.id, "institution_id": home, "name": e.name, "email": e.email}
               for e, home in campaign.every_expert()]
    if experts:
        session.execute(insert(ExpertRow.__table__), experts)
    per_institution = [s.id for s in campaign.stages if s.per_institution]
    if per_institution and campaign.institutions:  # every ДОУ × per-ДОУ stage by INSERT…SELECT: nothing bound per row
        stage, institution = StageRow.__table__.c, InstitutionRow.__table__.c
        rows = (sa_select(institution.campaign_id, institution.id, stage.id, literal(Status.UPCOMING.value), stage.opens_at,
                          stage.due_at, stage.locks_at, false())
                .select_from(InstitutionRow.__table__.join(StageRow.__table__, stage.campaign_id == institution.campaign_id))
                .where(institution.campaign_id == campaign.id, stage.id.in_(per_institution))
                .order_by(stage.position, institution.position))  # as a row per stage, then per ДОУ, was inserted before
        session.execute(insert(ProgressRow.__table__).from_select(
            ["campaign_id", "institution_id", "stage_id", "status", "opens_at", "due_at", "locks_at", "extended"], rows))
    session.add(AuditRow(campaign_id=campaign.id, action="load", at=now, recorded_at=recorded_at(session, now), actor=acting(session),
                         detail=json.dumps({"digest": digest, "stages": len(campaign.stages),
                                            "institutions": len(campaign.institutions)})))
    return "loaded"


# -- reconcile ---------------------------------------------------------------------


def reconcile(session: Session, campaign_id: str, now: datetime) -> list[Change]:
    """Bring every stage and ДОУ to where `now` says they are. Idempotent; catches up any gap.

    A stage opens at `opens_at` (inclusive) and locks once `locks_at` has passed, so a
    submission at the very lock instant still counts. Each change is audited at the
    moment it took effect, not at the moment reconcile noticed it.

    Concurrent reconciles of one campaign take turns (`lock_campaign`), so each change, a
    stage's opening as much as a ДОУ's, is made and audited once.
    """
    changes: list[Change] = []
    lock_campaign(session, campaign_id)
    forget(session)  # what was read before the lock may predate an amendment committed while we waited
    stages = session.exec(select(StageRow).where(StageRow.campaign_id == campaign_id).order_by(StageRow.position)
                          .execution_options(populate_existing=True)).all()  # as committed before the lock, not as cached
    for stage in stages:
        if stage.kind == "event":
            if now >= stage.opens_at:
                changes += _move_stage(session, stage, "hold", stage.opens_at, now)
            continue
        if now >= stage.opens_at:
            changes += _move_stage(session, stage, "open", stage.opens_at, now)
        if now > stage.locks_at:
            changes += _move_stage(session, stage, "lock", stage.locks_at, now)
        if stage.kind == "task" and stage.actor in ("institution", "expert"):
            changes += _move_progress(session, stage, "open", ProgressRow.opens_at, col(ProgressRow.opens_at) <= now, now)
            changes += _move_progress(session, stage, "lock", ProgressRow.locks_at, col(ProgressRow.locks_at) < now, now)
    if changes:
        session.flush()  # keep the stage rows' own changes: expiring drops unflushed ones
        session.expire_all()  # bulk updates bypassed the identity map
    campaign = definition(session, campaign_id)
    for stage in campaign.stages:
        drawn = experts.draw_when_open(session, campaign, stage, now) if stage.kind == "assignment" else None
        if drawn:
            changes.append(Change(drawn, stage.id, "draw", "open", "open"))
    reminders.plan(session, campaign, now)
    reminders.plan_digest(session, campaign, now)
    return sorted(changes, key=lambda c: c.at)  # stable: stage order, then roster order


def _move_stage(session: Session, stage: StageRow, trigger: str, at: datetime, now: datetime) -> list[Change]:
    if not can(STAGE, trigger, stage.state):
        return []
    source, dest = fire(STAGE, stage, trigger)
    session.add(stage)
    session.add(AuditRow(campaign_id=stage.campaign_id, stage_id=stage.id, action=trigger, source=source, dest=dest,
                         at=at, recorded_at=recorded_at(session, now)))
    return [Change(at, stage.id, trigger, source, dest)]


def _move_progress(session: Session, stage: StageRow, trigger: str, moment, due_condition, now: datetime) -> list[Change]:
    """One set-based UPDATE for every ДОУ of the stage the trigger applies to now."""
    dest, from_states = sources(PROGRESS, trigger)
    where = (ProgressRow.campaign_id == stage.campaign_id, ProgressRow.stage_id == stage.id,
             col(ProgressRow.status).in_(from_states), due_condition)
    due = (select(ProgressRow.campaign_id, ProgressRow.institution_id, ProgressRow.stage_id, ProgressRow.status, moment)
           .where(*where)
           .join(InstitutionRow, (InstitutionRow.campaign_id == ProgressRow.campaign_id) & (InstitutionRow.id == ProgressRow.institution_id))
           .order_by(InstitutionRow.position))
    rows = session.execute(due).all()  # plain tuples: what the caller is told, nothing bound back
    if not rows:
        return []
    # The audit rows straight from the progress rows (INSERT…SELECT, in roster order), then the move itself.
    audit = AuditRow.__table__
    session.execute(insert(audit).from_select(
        ["campaign_id", "institution_id", "stage_id", "source", "at", "action", "dest", "recorded_at"],
        due.add_columns(literal(trigger), literal(dest), literal(recorded_at(session, now), audit.c.recorded_at.type))))
    session.execute(update(ProgressRow).where(*where).values(status=dest).execution_options(synchronize_session=False))
    return [Change(at, stage.id, trigger, status, dest, inst) for _, inst, _, status, at in rows]


# -- what people do ------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One thing done at a moment: a ДОУ's submission, one expert's review when `expert_id` is given, or
    the coordinator's extension of the ДОУ's deadline to `until` when that is given (with its `reason`).
    `where` names where it came from (FILE:LINE of an import), so a refusal can say which one it was."""

    at: datetime
    institution_id: str
    stage_id: str
    links: tuple[str, ...] = ()
    expert_id: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    recommendations: str = ""
    where: str | None = None
    until: datetime | None = None
    reason: str = ""

    @property
    def kind(self) -> str:
        """'extend', 'review' or 'submit'."""
        return "extend" if self.until is not None else "review" if self.expert_id else "submit"


@dataclass
class Progress:
    """A ДОУ's progress row as the acts of a transaction read and change it: plain values, read a stage
    at a time and written back by one executemany UPDATE, not ORM rows loaded and flushed one by one."""

    campaign_id: str
    institution_id: str
    stage_id: str
    status: str
    opens_at: datetime
    due_at: datetime
    locks_at: datetime
    extended: bool
    submitted_at: datetime | None


_KEY = ("campaign_id", "institution_id", "stage_id")
_CHANGING = ("status", "due_at", "locks_at", "extended", "submitted_at")  # what acts change in a progress row


def submit(session: Session, campaign_id: str, institution_id: str, stage_id: str, now: datetime,
           links: tuple[str, ...] = ()) -> Progress:
    """Record a ДОУ's submission for a stage: done by its due time, late in the grace period."""
    links = _checked_links(links)
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.submit(Act(now, institution_id, stage_id, links))
    acts.write()
    return row


def review(session: Session, campaign_id: str, institution_id: str, stage_id: str, expert_id: str,
           levels: dict[str, str], recommendations: str, now: datetime) -> Progress:
    """Record one expert's review; the ДОУ's review stage is done once all its experts reported."""
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.review(Act(now, institution_id, stage_id, expert_id=expert_id, levels=levels, recommendations=recommendations))
    acts.write()
    return row


def review_many(session: Session, campaign_id: str, entries: list[experts.ReviewEntry], now: datetime) -> list[str]:
    """Record many reviews at `now` (an import): the ДОУ's status after each one, in order.

    Each entry is held to exactly the rules of `review`, as if the entries were recorded one after
    another; the campaign is reconciled once, not once per entry. The first entry that breaks a rule
    refuses them all (the caller's transaction writes nothing), and its message starts with the
    entry's `where` (FILE:LINE of an import)."""
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(e.institution_id, e.stage_id) for e in entries])
    done = []
    for e in entries:
        act = Act(now, e.institution_id, e.stage_id, expert_id=e.expert_id, levels=e.levels,
                  recommendations=e.recommendations, where=e.where)
        try:
            done.append(acts.review(act).status)
        except DqflowError as exc:  # the same kind of refusal, said where in the input it is
            kind = type(exc) if isinstance(exc, (NotFound, NotAllowed)) else DqflowError
            raise kind(f"{act.where}: {exc}" if act.where else str(exc), code=exc.code, **exc.facts) from None
    acts.write()
    return done


def play(session: Session, campaign_id: str, acts: list[Act], *, reconciled: bool = False) -> list[str | DqflowError]:
    """Record acts, in time order, each at its own moment and held to the rules of `submit`, `review` or
    `extend` as if recorded alone: the ДОУ's status after each, or the refusal (the others go on).

    For a stretch in which nothing falls due (the replay plays the acts between two wakes): the campaign
    is reconciled once, at the first act's moment (not at all when `reconciled`), and everything is
    read and written a stage at a time, not an act at a time. So an extension's reminders are planned
    by the next reconcile, not by the acts after it."""
    if not acts:
        return []
    recorder = _Acts(session, _reconciled(session, campaign_id, acts[0].at, reconciled),
                     [(a.institution_id, a.stage_id) for a in acts])
    record = {"submit": recorder.submit, "review": recorder.review, "extend": recorder.extend}
    done: list[str | DqflowError] = []
    for act in acts:
        try:
            done.append(record[act.kind](act).status)
        except DqflowError as exc:  # refused before it wrote anything
            done.append(exc)
    recorder.write()
    return done


def _reconciled(session: Session, campaign_id: str | None, now: datetime, reconciled: bool = False) -> spec.Campaign:
    """The definition to act on: read again after reconcile, which waited for the campaign's lock."""
    campaign = definition(session, campaign_id)
    if not reconciled:
        reconcile(session, campaign.id, now)
        campaign = definition(session, campaign_id)
    return campaign


class _Acts:
    """The acts of one transaction. The progress rows they touch are read a stage at a time up front;
    each act is checked against them in memory; what they write goes out in a few set-based statements
    at `write` (the changed rows, submissions, extensions, audit rows, reviews, the operator's notices),
    so a thousand acts cost what a handful do."""

    def __init__(self, session: Session, campaign: spec.Campaign, pairs: list[tuple[str, str]]):
        self.session, self.campaign = session, campaign
        session.flush()  # the rows are read and written through the table: nothing of the ORM's may be pending
        self.rows = self._read(pairs)  # (ДОУ, stage) → its progress row
        self.changed: dict[tuple[str, str], Progress] = {}  # the rows to write back
        self.book = experts.ReviewBook(session, campaign, {inst for inst, _ in pairs})
        self.audit: list[dict] = []
        self.submissions: list[dict] = []
        self.extensions: list[dict] = []
        self.notices: dict[str, list[tuple[str, datetime, datetime]]] = {}  # stage → (ДОУ, deadline, at)

    def _read(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Progress]:
        by_stage: dict[str, set[str]] = {}
        for inst, stage in pairs:
            by_stage.setdefault(stage, set()).add(inst)
        table = ProgressRow.__table__
        columns = [table.c[f.name] for f in fields(Progress)]
        found = {}
        for stage, institutions in by_stage.items():
            for chunk in chunks(sorted(institutions)):
                for values in self.session.execute(sa_select(*columns).where(
                        table.c.campaign_id == self.campaign.id, table.c.stage_id == stage, table.c.institution_id.in_(chunk))):
                    row = Progress(*values)
                    found[(row.institution_id, stage)] = row
        return found

    def _row(self, act: Act) -> Progress:
        return _progress(self.session, self.campaign, act.institution_id, act.stage_id, self.rows.get((act.institution_id, act.stage_id)))

    def _moved(self, row: Progress) -> None:
        self.changed[(row.institution_id, row.stage_id)] = row

    def submit(self, act: Act) -> Progress:
        links = _checked_links(act.links)
        row = self._row(act)
        stage = self.campaign.stage(act.stage_id)
        if stage.actor == "expert":
            raise NotAllowed(f"stage '{act.stage_id}' is done by experts; record each expert's review with "
                             f"dqflow review {act.institution_id} --stage {act.stage_id} --expert EXPERT", code="stage-for-experts")
        _check_can_act(self.campaign, row, f"stage '{act.stage_id}' for ДОУ '{act.institution_id}'", act.at)
        status = Status(row.status)
        detail = json.dumps({"links": list(links)}, ensure_ascii=False)
        if status is Status.OPEN:
            source, dest = fire(PROGRESS, row, "submit", at=act.at)
            row.submitted_at = act.at
            self._moved(row)
            self.audit.append(_audit_values(self.session, row, "submit", act.at, source, dest, detail))
        else:
            self.audit.append(_audit_values(self.session, row, "resubmit", act.at, status.value, status.value, detail))
        self.submissions.append({"campaign_id": self.campaign.id, "institution_id": act.institution_id, "stage_id": stage.id,
                                 "at": act.at, "links": json.dumps(list(links), ensure_ascii=False)})
        if stage.submit_to == "operator" and self.campaign.operator:
            self.notices.setdefault(stage.id, []).append((act.institution_id, row.due_at, act.at))
        return row

    def review(self, act: Act) -> Progress:
        text = act.recommendations.strip()  # as a form or a CSV cell brings it: surrounding blank lines dropped
        texts.check(text, "the recommendations", texts.MAX_NOTE)
        experts.check_levels(self.campaign, act.levels)
        row = self._row(act)
        stage = self.campaign.stage(act.stage_id)
        if stage.actor != "expert":
            raise NotAllowed(f"stage '{act.stage_id}' is not a review stage; ДОУ submit to it with dqflow submit",
                             code="not-a-review-stage")
        _check_can_act(self.campaign, row, f"review stage '{act.stage_id}' for ДОУ '{act.institution_id}'", act.at)
        action, complete = self.book.record(stage, act.institution_id, act.expert_id, act.levels, text, act.at)
        detail = json.dumps({"expert": act.expert_id, "levels": act.levels}, ensure_ascii=False)
        self.audit.append(_audit_values(self.session, row, action, act.at, None, None, detail))
        if complete and Status(row.status) is Status.OPEN:
            source, dest = fire(PROGRESS, row, "submit", at=act.at)
            row.submitted_at = act.at
            self._moved(row)
            self.audit.append(_audit_values(self.session, row, "submit", act.at, source, dest,
                                            json.dumps({"reviews": "all experts reported"}, ensure_ascii=False)))
        return row

    def extend(self, act: Act) -> Progress:
        """The coordinator gives the ДОУ its own deadline and lock `act.until` (no grace on top); reopens a missed row."""
        reason = _required_reason(act.reason, "an extension")
        row = self._row(act)
        tz, until, now = self.campaign.tz, act.until, act.at
        where = f"stage '{act.stage_id}' for ДОУ '{act.institution_id}'"
        status = Status(row.status)
        if status.submitted:
            raise NotAllowed(f"{where} was already submitted on {show(row.submitted_at, tz)} ({tz.key}); an extension would change nothing",
                             code="already-submitted", at=show(row.submitted_at, tz))
        if status is Status.EXCUSED:
            raise NotAllowed(f"{where} is excused; an extension would change nothing", code="excused")
        if until <= now:
            raise NotAllowed(f"--until {show(until, tz)} ({tz.key}) is not in the future; give a later time", code="until-past",
                             at=show(until, tz))
        if until < row.opens_at:
            raise NotAllowed(f"--until {show(until, tz)} is before {where} opens ({show(row.opens_at, tz)}, {tz.key})",
                             code="until-before-opening", at=show(until, tz), opens=show(row.opens_at, tz))
        previous = {"due_at": iso(row.due_at, tz), "locks_at": iso(row.locks_at, tz)}  # audit details in the campaign's zone
        row.due_at = row.locks_at = until
        row.extended = True
        self._moved(row)
        self.extensions.append({"campaign_id": self.campaign.id, "institution_id": act.institution_id, "stage_id": act.stage_id,
                                "until": until, "reason": reason, "granted_at": now})
        detail = json.dumps({"until": iso(until, tz), "reason": reason, "previous": previous}, ensure_ascii=False)
        self.audit.append(_audit_values(self.session, row, "extend", now, status.value, status.value, detail))
        if status is Status.MISSED:
            source, dest = fire(PROGRESS, row, "reopen")
            self.audit.append(_audit_values(self.session, row, "reopen", now, source, dest, None))
        return row

    def write(self) -> None:
        if self.changed:
            table = ProgressRow.__table__
            self.session.execute(
                update(table).where(*(table.c[k] == bindparam("k_" + k) for k in _KEY))
                .values({k: bindparam("new_" + k) for k in _CHANGING}),
                [{**{"k_" + k: getattr(row, k) for k in _KEY}, **{"new_" + k: getattr(row, k) for k in _CHANGING}}
                 for row in self.changed.values()])
            self.changed.clear()
        self.book.write()
        if self.submissions:
            self.session.execute(insert(SubmissionRow.__table__), self.submissions)
        if self.extensions:
            self.session.execute(insert(ExtensionRow.__table__), self.extensions)
        audit_many(self.session, self.audit)
        for stage_id, notices in self.notices.items():
            reminders.plan_submission_notices(self.session, self.campaign, self.campaign.stage(stage_id), notices)


MAX_LINKS = 20  # links to the materials of one submission


def _checked_links(links: tuple[str, ...]) -> tuple[str, ...]:
    """Web addresses only: they are mailed to experts as links to click."""
    if len(links) > MAX_LINKS:
        raise DqflowError(f"{len(links)} links given; a submission takes at most {MAX_LINKS}: link a folder instead",
                          code="too-many-links", n=str(len(links)), max=str(MAX_LINKS))
    for link in links:
        texts.check(link, "a link")
        if not re.fullmatch(r"https?://[^\s/?#]+\S*", link):
            raise DqflowError(f"link '{link}' is not a web address; give one starting with http:// or https://",
                              code="not-a-web-address", link=link)
    return tuple(links)


def _check_can_act(campaign: spec.Campaign, row: ProgressRow | Progress, where: str, now: datetime) -> None:
    """Refuse work before the ДОУ's stage opens, after its lock, or when excused."""
    tz = campaign.tz
    status = Status(row.status)
    if status is Status.UPCOMING or now < row.opens_at:  # the row may be open already when --now names the past
        raise NotAllowed(f"{where} is not open yet at {show(now, tz)}: it opens {show(row.opens_at, tz)} ({tz.key})",
                         code="not-open", at=show(row.opens_at, tz))
    if status is Status.EXCUSED:
        raise NotAllowed(f"{where} is excused; there is nothing to submit", code="excused")
    if status is Status.MISSED or now > row.locks_at:
        raise NotAllowed(f"{where} is locked since {show(row.locks_at, tz)} ({tz.key}); the coordinator can reopen it: "
                         f"dqflow extend {row.institution_id} --stage {row.stage_id} --until TIME --reason TEXT",
                         code="locked", at=show(row.locks_at, tz))


def send_recommendations(session: Session, campaign_id: str, stage_id: str, now: datetime) -> int:
    """Queue each reviewed ДОУ's addressed recommendations now, without waiting for the review stage
    to lock (which queues them by itself otherwise). Once per stage: returns how many were queued,
    0 when they already were or when no review is recorded yet (then the lock still sends them)."""
    campaign = definition(session, campaign_id)
    stage = campaign.stage(stage_id)
    if stage is None or stage.actor != "expert":
        known = ", ".join(s.id for s in campaign.stages if s.actor == "expert") or "none"
        refusal = NotFound if stage is None else NotAllowed
        raise refusal(f"'{stage_id}' is not a review stage; review stages: {known}")
    tz = campaign.tz
    if now < stage.opens_at:
        raise NotAllowed(f"stage '{stage_id}' is not open yet: it opens {show(stage.opens_at, tz)} ({tz.key}); "
                         "there are no reviews to send")
    reconcile(session, campaign.id, now)
    reviewed = session.exec(select(func.count()).select_from(ReviewRow).where(
        ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == stage.id)).one()
    if not reviewed:  # queueing nothing would mark the stage's recommendations sent for good
        return 0
    queued = reminders.plan_recommendations(session, campaign, stage, now)
    if queued:
        session.add(AuditRow(campaign_id=campaign.id, stage_id=stage.id, action="recommendations-send", at=now,
                             recorded_at=recorded_at(session, now), actor=acting(session), detail=json.dumps({"queued": queued})))
    return queued


def extend(session: Session, campaign_id: str, institution_id: str, stage_id: str, until: datetime, reason: str,
           now: datetime) -> Progress:
    """Give one ДОУ its own deadline and lock (no grace on top); reopens a locked stage. Its reminders
    are planned by the next reconcile."""
    _required_reason(reason, "an extension")  # before reconcile: a refusal costs nothing
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.extend(Act(now, institution_id, stage_id, until=until, reason=reason))
    acts.write()
    return row


def excuse(session: Session, campaign_id: str, institution_id: str, stage_id: str, reason: str, now: datetime) -> ProgressRow:
    """Release a ДОУ from a stage (closed for renovation, merged…); it is reminded no more."""
    reason = _required_reason(reason, "excusing")
    _, row = _current_progress(session, campaign_id, institution_id, stage_id, now)
    if Status(row.status).submitted:
        raise NotAllowed(f"stage '{stage_id}' for ДОУ '{institution_id}' was already submitted; nothing to excuse",
                         code="already-submitted-excuse")
    source, dest = fire(PROGRESS, row, "excuse")
    _audit(session, row, "excuse", now, source, dest, {"reason": reason})
    session.add(row)
    return row


def _required_reason(reason: str | None, what: str) -> str:
    """The audit log must say why a deadline moved or a ДОУ was released."""
    reason = (reason or "").strip()
    if not reason:
        raise DqflowError(f"{what} needs a reason: --reason TEXT", code="no-reason")
    return texts.check(reason, "the reason")


def _current_progress(session: Session, campaign_id: str, institution_id: str, stage_id: str,
                      now: datetime, reconciled: bool = False) -> tuple[spec.Campaign, ProgressRow]:
    """A ДОУ's row in a stage as of `now`: the campaign is reconciled first (unless the caller just did)."""
    campaign = _reconciled(session, campaign_id, now, reconciled)
    return campaign, _progress(session, campaign, institution_id, stage_id)


def _progress(session: Session, campaign: spec.Campaign, institution_id: str, stage_id: str,
              read: Progress | None = None) -> ProgressRow | Progress:
    """The row of a ДОУ in a per-ДОУ stage (`read`: already read by the caller), or why there is none."""
    stage = campaign.stage(stage_id)
    if stage is None:
        raise NotFound(f"no stage '{stage_id}' in campaign '{campaign.id}'; stages: {', '.join(s.id for s in campaign.stages)}",
                       code="no-stage")
    row = read or (session.get(ProgressRow, (campaign.id, institution_id, stage_id)) if stage.per_institution else None)
    # a withdrawn ДОУ keeps its rows (excused, or done before it left): it is refused whatever their status
    if institution_id not in campaign.institution_ids:
        if row is not None:
            raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}': an amendment withdrew it; its records stay readable",
                           code="withdrawn")
        known = ", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else "")
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'; ДОУ ids: {known}", code="no-dou")
    if not stage.per_institution:
        what = {"event": "an event", "assignment": "an expert list", "handout": "a handout"}.get(stage.kind, "a coordinator task")
        raise NotAllowed(f"stage '{stage_id}' is {what}; ДОУ do not submit to it", code="not-for-dou")
    assert row is not None, "progress rows are created for every per-ДОУ stage at load"
    return row


def _audit(session: Session, row: ProgressRow, action: str, now: datetime, source: str | None, dest: str | None,
           detail: dict | None) -> None:
    session.add(AuditRow(**_audit_values(session, row, action, now, source, dest,
                                         json.dumps(detail, ensure_ascii=False) if detail else None)))


def _audit_values(session: Session, row: ProgressRow | Progress, action: str, now: datetime, source: str | None, dest: str | None,
                  detail: str | None) -> dict:
    return {"campaign_id": row.campaign_id, "institution_id": row.institution_id, "stage_id": row.stage_id, "action": action,
            "source": source, "dest": dest, "at": now, "recorded_at": recorded_at(session, now), "actor": acting(session),
            "detail": detail}


# -- what the coordinator sees -------------------------------------------------------


@dataclass
class StageView:
    stage: spec.Stage
    state: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class InstitutionView:
    institution: spec.Institution
    state: str
    stages: dict[str, str]


@dataclass
class CampaignView:
    campaign: spec.Campaign
    now: datetime
    stages: list[StageView]
    institutions: list[InstitutionView]  # those asked for: none, a page of the roster, or one
    recorded_until: datetime | None = None  # the latest change already stored; status cannot rewind past it
    total: int = 0  # ДОУ in the campaign
    offset: int = 0  # where `institutions` starts in the roster


@dataclass
class StageDetail:
    stage: spec.Stage
    progress: ProgressRow
    extensions: list[ExtensionRow]
    submissions: list[SubmissionRow]


INSTITUTIONS_PAGE = 1000  # ДОУ shown by `status --institutions` at a time


def status(session: Session, campaign_id: str | None, now: datetime, *, institutions: bool = False,
           institution_id: str | None = None, offset: int = 0, limit: int | None = INSTITUTIONS_PAGE) -> CampaignView:
    """The campaign as of `now`, as if reconcile had run, computed from the stored rows without
    running it (nothing is written, no list is drawn): counts per stage and status in one GROUP BY.
    ДОУ are listed only when asked: a page of the roster (`institutions`, from `offset`, at most
    `limit`), or the one `institution_id`."""
    campaign = definition(session, campaign_id)
    recorded = session.exec(select(AuditRow.at).where(AuditRow.campaign_id == campaign.id, AuditRow.action != "load")
                            .order_by(col(AuditRow.at).desc()).limit(1)).first()
    stored = session.exec(select(StageRow).where(StageRow.campaign_id == campaign.id)).all()
    states = {row.id: _stage_state_at(row, now) for row in stored}
    effective = _status_at(now)
    counts = _counts_at(session, campaign, now)
    stage_views = [
        StageView(s, states[s.id], {k.value: counts.get(s.id, {}).get(k.value, 0) for k in Status} if s.per_institution else {})
        for s in campaign.stages
    ]
    roster, gone = list(campaign.institutions), set()
    if institution_id is not None or institutions:  # an amendment's withdrawn ДОУ follow the file's: their records stay
        left = [spec.Institution(row.id, row.name, row.email) for row in withdrawn(session, campaign.id)]
        roster, gone = roster + left, {i.id for i in left}
    if institution_id is not None:
        shown = [i for i in roster if i.id == institution_id]
    elif institutions:
        shown = roster[offset:offset + limit if limit is not None else None]
    else:
        shown = []
    return CampaignView(campaign, now, stage_views, _institution_views(session, campaign, shown, gone, effective),
                        as_utc(recorded) if recorded else None, total=len(roster), offset=offset)


def _counts_at(session: Session, campaign: spec.Campaign, now: datetime) -> dict[str, dict[str, int]]:
    """Stage → status → ДОУ, as reconcile at `now` would leave them: the stored counts (one GROUP BY that
    the status index answers alone), moved by the rows reconcile would move (indexed ranges, per stage)."""
    counts: dict[str, dict[str, int]] = {}
    for stage_id, st, n in session.exec(select(ProgressRow.stage_id, ProgressRow.status, func.count())
                                        .where(ProgressRow.campaign_id == campaign.id)
                                        .group_by(ProgressRow.stage_id, ProgressRow.status)):
        counts.setdefault(stage_id, {})[st] = n
    opened, (was_upcoming,) = sources(PROGRESS, "open")
    locked, (was_open,) = sources(PROGRESS, "lock")
    for stage in campaign.stages:
        if not stage.per_institution:
            continue
        mine = (ProgressRow.campaign_id == campaign.id, ProgressRow.stage_id == stage.id)
        to_open, past_lock = session.exec(select(func.count(), func.coalesce(func.sum(case((col(ProgressRow.locks_at) < now, 1), else_=0)), 0))
                                          .where(*mine, ProgressRow.status == was_upcoming, col(ProgressRow.opens_at) <= now)).one()
        to_lock = session.exec(select(func.count()).where(*mine, ProgressRow.status == was_open, col(ProgressRow.locks_at) < now)).one()
        moves = ((was_upcoming, opened, to_open - past_lock), (was_upcoming, locked, past_lock), (was_open, locked, to_lock))
        mine_counts = counts.setdefault(stage.id, {})
        for source, dest, n in moves:
            if n:
                mine_counts[source] = mine_counts.get(source, 0) - n
                mine_counts[dest] = mine_counts.get(dest, 0) + n
    return counts


def _status_at(now: datetime):
    """A progress row's status as reconcile at `now` would leave it (open, then lock, as in `reconcile`)."""
    opened, (was_upcoming,) = sources(PROGRESS, "open")
    locked, (was_open,) = sources(PROGRESS, "lock")
    due_to_open = (ProgressRow.status == was_upcoming) & (col(ProgressRow.opens_at) <= now)
    due_to_lock = col(ProgressRow.locks_at) < now
    return case((due_to_open & due_to_lock, locked), (due_to_open, opened),
                ((ProgressRow.status == was_open) & due_to_lock, locked), else_=ProgressRow.status)


def _stage_state_at(row: StageRow, now: datetime) -> str:
    """A stage's state as reconcile at `now` would leave it."""
    state = row.state
    if row.kind == "event":
        return StageState.HELD.value if now >= row.opens_at and can(STAGE, "hold", state) else state
    if now >= row.opens_at and can(STAGE, "open", state):
        state = StageState.OPEN.value
    if now > row.locks_at and can(STAGE, "lock", state):
        state = StageState.LOCKED.value
    return state


def _institution_views(session: Session, campaign: spec.Campaign, shown: list[spec.Institution], gone: set[str],
                       effective) -> list[InstitutionView]:
    if not shown:
        return []
    per_institution: dict[str, dict[str, str]] = {}
    for inst, stage_id, st in session.exec(
        select(ProgressRow.institution_id, ProgressRow.stage_id, effective).where(
            ProgressRow.campaign_id == campaign.id, col(ProgressRow.institution_id).in_([i.id for i in shown]))
    ):
        per_institution.setdefault(inst, {})[stage_id] = st
    order = [s.id for s in campaign.stages if s.per_institution]
    views = []
    for i in shown:
        mine = per_institution.get(i.id, {})
        ordered = {sid: mine[sid] for sid in order if sid in mine}
        views.append(InstitutionView(i, "withdrawn" if i.id in gone else _current(ordered), ordered))
    return views


def _current(statuses: dict[str, str]) -> str:
    """A ДОУ's state: the first stage waiting for it, else 'finished' or 'waiting'."""
    for stage_id, st in statuses.items():
        if st == Status.OPEN.value:
            return stage_id
    if all(Status(st) in (Status.DONE, Status.LATE, Status.MISSED, Status.EXCUSED) for st in statuses.values()):
        return "finished"
    return "waiting"


def withdrawn(session: Session, campaign_id: str) -> list[InstitutionRow]:
    """The ДОУ an amendment withdrew, in roster order."""
    return list(session.exec(select(InstitutionRow).where(InstitutionRow.campaign_id == campaign_id,
                                                          col(InstitutionRow.withdrawn_at).is_not(None))
                             .order_by(InstitutionRow.position, InstitutionRow.id)).all())


def _known(session: Session, campaign: spec.Campaign, institution_id: str) -> bool:
    """In the campaign, or withdrawn from it (its records stay readable)."""
    return any(i.id == institution_id for i in campaign.institutions) or session.get(
        InstitutionRow, (campaign.id, institution_id)) is not None


def institution_detail(session: Session, campaign_id: str | None, institution_id: str, now: datetime) -> list[StageDetail]:
    campaign = definition(session, campaign_id)
    if not _known(session, campaign, institution_id):
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'")
    reconcile(session, campaign.id, now)
    details = []
    for stage in campaign.stages:
        if not stage.per_institution:
            continue
        key = (ProgressRow.campaign_id == campaign.id, ProgressRow.institution_id == institution_id, ProgressRow.stage_id == stage.id)
        progress = session.exec(select(ProgressRow).where(*key)).first()
        if progress is None:  # a stage added after the ДОУ was withdrawn
            continue
        same = (ExtensionRow.campaign_id == campaign.id, ExtensionRow.institution_id == institution_id, ExtensionRow.stage_id == stage.id)
        extensions = session.exec(select(ExtensionRow).where(*same).order_by(ExtensionRow.id)).all()
        subs = (SubmissionRow.campaign_id == campaign.id, SubmissionRow.institution_id == institution_id, SubmissionRow.stage_id == stage.id)
        submissions = session.exec(select(SubmissionRow).where(*subs).order_by(SubmissionRow.id)).all()
        details.append(StageDetail(stage, progress, list(extensions), list(submissions)))
    return details


def history(session: Session, campaign_id: str | None, institution_id: str) -> list[AuditRow]:
    """A ДОУ's audit trail, oldest first (by when each change took effect)."""
    campaign = definition(session, campaign_id)
    if not _known(session, campaign, institution_id):
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'")
    query = (select(AuditRow).where(AuditRow.campaign_id == campaign.id, AuditRow.institution_id == institution_id)
             .order_by(AuditRow.at, AuditRow.id))
    return list(session.exec(query).all())
