"""What people do: a ДОУ's submission, an expert's review, the coordinator's extension or excuse.

Each act is held to the rules (`rules.refusal`: open, not excused, not locked; `rules.counts_as_submission`,
`rules.counts_as_review`) after the campaign was reconciled to the act's moment. The acts of a
transaction read their rows a stage at a time and write them back in a few set-based statements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.calendar import iso, show, zone_label
from dqflow.campaign import spec
from dqflow.engine import changes, experts, form, reminders, rules
from dqflow.engine.definitions import definition, locked
from dqflow.engine.reconciler import catch_up, reconcile
from dqflow.engine.rules import PROGRESS, Refusal, Status, fire
from dqflow.errors import DqflowError, NotAllowed, NotFound
from dqflow.intake import text as texts
from dqflow.store import (
    AuditRow,
    ExtensionRow,
    ProgressRow,
    ReviewRow,
    SubmissionRow,
    acting,
    audit_many,
    chunks,
    driver_mark,
    recorded_at,
)

# SQLModel's typing does not declare the tables its classes map; Core statements need them.
_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]
_SUBMISSION: Table = SubmissionRow.__table__  # type: ignore[attr-defined]
_EXTENSION: Table = ExtensionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Act:
    """One thing done at a moment: a ДОУ's submission, one expert's review when `expert_id` is given, or
    the coordinator's extension of the ДОУ's deadline to `until` when that is given (with its `reason`).
    A review's `levels` are by area, or by indicator where the campaign reviews per indicator
    (`Campaign.reviews_by_indicator`), with the expert's `comments` (indicator → comment).
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
    comments: dict[str, str] = field(default_factory=dict)

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


_c = _PROGRESS.c
# `_Acts._read`'s statement, made once with its values as parameters (building it cost an act about as much as running it)
_ROWS = sa_select(*(_c[f.name] for f in fields(Progress))).where(
    _c.campaign_id == bindparam("campaign"), _c.stage_id.in_(bindparam("stages", expanding=True)),
    _c.institution_id.in_(bindparam("institutions", expanding=True)))
_ROWS_LOCKED = _ROWS.with_for_update()
_KEY = ("campaign_id", "institution_id", "stage_id")
_CHANGING = ("status", "due_at", "locks_at", "extended", "submitted_at")  # what acts change in a progress row
Row = TypeVar("Row", Progress, ProgressRow)


def submit(session: Session, campaign_id: str, institution_id: str, stage_id: str, now: datetime,
           links: tuple[str, ...] = (), *, scoped: bool = False) -> Progress:
    """Record a ДОУ's submission for a stage: done by its due time, late in the grace period.

    `scoped` (the portal's hand-in): reconcile only the ДОУ's row it acts on (`reconciler.catch_up`), not the whole
    campaign, beside other such hand-ins (`store.share_campaign`), so that the write transaction under a deadline rush
    is a handful of statements on that ДОУ's rows; the daemon's or `tick`'s reconcile brings the rest (level-triggered)."""
    links = _checked_links(links)  # before reconcile: a refusal costs nothing
    if scoped:
        acts = _Acts(session, locked(session, campaign_id, shared=True), [(institution_id, stage_id)], caught_up=now)
    else:
        acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.submit(Act(now, institution_id, stage_id, links))
    acts.write()
    return row


def review(session: Session, campaign_id: str, institution_id: str, stage_id: str, expert_id: str,
           levels: dict[str, str], recommendations: str, now: datetime, comments: dict[str, str] | None = None) -> Progress:
    """Record one expert's review; the ДОУ's review stage is done once all its experts reported."""
    campaign = definition(session, campaign_id)
    experts.check_levels(campaign, levels)  # before reconcile: a refusal costs nothing
    experts.check_comments(campaign, comments or {})
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.review(Act(now, institution_id, stage_id, expert_id=expert_id, levels=levels, recommendations=recommendations,
                          comments=comments or {}))
    acts.write()
    return row


def review_many(session: Session, campaign_id: str, entries: list[experts.ReviewEntry], now: datetime, *,
                scoped: bool = False) -> list[str]:
    """Record many reviews at `now` (an import): the ДОУ's status after each one, in order.

    Each entry is held to exactly the rules of `review`, as if the entries were recorded one after
    another; the campaign is reconciled once, not once per entry. The first entry that breaks a rule
    refuses them all (the caller's transaction writes nothing), and its message starts with the
    entry's `where` (FILE:LINE of an import).

    `scoped` (the portal's review): as `submit`'s, only the rows it acts on are brought to `now` — once the lists of
    its stages are drawn (drawing them is reconcile's work, which then runs as for any act)."""
    pairs = [(e.institution_id, e.stage_id) for e in entries]
    if scoped and _lists_drawn(session, definition(session, campaign_id), {e.stage_id for e in entries}):
        acts = _Acts(session, locked(session, campaign_id, shared=True), pairs, caught_up=now)
    else:
        acts = _Acts(session, _reconciled(session, campaign_id, now), pairs)
    done = []
    for e in entries:
        act = Act(now, e.institution_id, e.stage_id, expert_id=e.expert_id, levels=e.levels,
                  recommendations=e.recommendations, where=e.where, comments=e.comments)
        try:
            done.append(acts.review(act).status)
        except DqflowError as exc:  # the same kind of refusal, said where in the input it is
            kind = type(exc) if isinstance(exc, (NotFound, NotAllowed)) else DqflowError
            raise kind(f"{act.where}: {exc}" if act.where else str(exc), code=exc.code, **{**exc.facts, "source": act.where}) from None
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
    record: dict[str, Callable[[Act], Progress]] = {"submit": recorder.submit, "review": recorder.review, "extend": recorder.extend}
    done: list[str | DqflowError] = []
    for act in acts:
        try:
            done.append(record[act.kind](act).status)
        except DqflowError as exc:  # refused before it wrote anything
            done.append(exc)
    recorder.write()
    return done


def extend(session: Session, campaign_id: str, institution_id: str, stage_id: str, until: datetime, reason: str,
           now: datetime) -> Progress:
    """Give one ДОУ its own deadline and lock (no grace on top); reopens a locked stage. Its reminders
    are planned by the next reconcile."""
    required_reason(reason, "an extension")  # before reconcile: a refusal costs nothing
    acts = _Acts(session, _reconciled(session, campaign_id, now), [(institution_id, stage_id)])
    row = acts.extend(Act(now, institution_id, stage_id, until=until, reason=reason))
    acts.write()
    return row


def excuse(session: Session, campaign_id: str, institution_id: str, stage_id: str, reason: str, now: datetime) -> ProgressRow:
    """Release a ДОУ from a stage (closed for renovation, merged…); it is reminded no more."""
    reason = required_reason(reason, "excusing")
    campaign = _reconciled(session, campaign_id, now)
    stage = campaign.stage(stage_id)
    found = session.get(ProgressRow, (campaign.id, institution_id, stage_id)) if stage is not None and stage.per_institution else None
    row = checked_row(campaign, institution_id, stage_id, found)
    if Status(row.status).submitted:
        raise NotAllowed(f"stage '{stage_id}' for ДОУ '{institution_id}' was already submitted; nothing to excuse",
                         code="already-submitted-excuse", institution=institution_id, stage=stage_id)
    source, dest = _fire(row, "excuse")
    session.add(AuditRow(**_audit_values(session, row, "excuse", now, source, dest, json.dumps({"reason": reason}, ensure_ascii=False))))
    session.add(row)
    assert stage is not None, "checked_row refused an unknown stage"
    changes.plan(session, campaign, now, changes.about_stage(session, campaign, stage, changes.EXCUSED, [(institution_id, None)]))
    return row


def send_recommendations(session: Session, campaign_id: str, stage_id: str, now: datetime) -> int:
    """Queue each reviewed ДОУ's addressed recommendations now, without waiting for the review stage
    to lock (which queues them by itself otherwise). Once per stage: returns how many were queued,
    0 when they already were or when no review is recorded yet (then the lock still sends them)."""
    campaign = definition(session, campaign_id)
    stage = campaign.stage(stage_id)
    if stage is None or stage.actor != "expert":
        known = ", ".join(s.id for s in campaign.stages if s.actor == "expert") or "none"
        refusal = NotFound if stage is None else NotAllowed
        raise refusal(f"'{stage_id}' is not a review stage; review stages: {known}", code="no-review-stage", stage=stage_id, known=known)
    tz = campaign.tz
    if not rules.has_opened(stage.opens_at, now):
        raise NotAllowed(f"stage '{stage_id}' is not open yet: it opens {show(stage.opens_at, tz)} ({zone_label(tz, now)}); "
                         "there are no reviews to send", code="reviews-not-open", stage=stage_id, at=show(stage.opens_at, tz))
    reconcile(session, campaign.id, now)
    reviewed = session.exec(select(func.count()).select_from(ReviewRow).where(
        ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == stage.id,
        rules.counts_as_review_sql(col(ReviewRow.levels), [a.id for a in campaign.areas]))).one()
    if not reviewed:  # queueing nothing would mark the stage's recommendations sent for good
        return 0
    queued = reminders.plan_recommendations(session, campaign, stage, now)
    if queued:
        session.add(AuditRow(campaign_id=campaign.id, stage_id=stage.id, action="recommendations-send", at=now,
                             recorded_at=recorded_at(session, now), actor=acting(session), detail=json.dumps({"queued": queued})))
    return queued


def _reconciled(session: Session, campaign_id: str | None, now: datetime, reconciled: bool = False) -> spec.Campaign:
    """The definition to act on: read again after reconcile, which waited for the campaign's lock."""
    campaign = definition(session, campaign_id)
    if not reconciled:
        reconcile(session, campaign.id, now)
        campaign = definition(session, campaign_id)
    return campaign


def _lists_drawn(session: Session, campaign: spec.Campaign, stage_ids: set[str]) -> bool:
    """Whether the expert lists of these review stages are drawn (a probe each): a scoped review needs them."""
    stages = [campaign.stage(s) for s in sorted(stage_ids)]
    return all(s is not None and s.list is not None and experts.drawn(session, campaign.id, s.list) for s in stages)


class _Acts:
    """The acts of one transaction. The progress rows they touch are read a stage at a time up front;
    each act is checked against them in memory; what they write goes out in a few set-based statements
    at `write` (the changed rows, submissions, extensions, audit rows, reviews, the operator's notices),
    so a thousand acts cost what a handful do."""

    def __init__(self, session: Session, campaign: spec.Campaign, pairs: list[tuple[str, str]], caught_up: datetime | None = None):
        """`caught_up`: the campaign was not reconciled; the rows read are locked and brought to that moment
        (`reconciler.catch_up`), their moves audited as reconcile audits them."""
        self.session, self.campaign = session, campaign
        session.flush()  # the rows are read and written through the table: nothing of the ORM's may be pending
        self.rows = self._read(pairs + self._materials(campaign, pairs), locked=caught_up is not None)  # (ДОУ, stage) → its row
        self.changed: dict[tuple[str, str], Progress] = {}  # the rows to write back
        self.book = experts.ReviewBook(session, campaign, {inst for inst, _ in pairs})
        self.audit: list[dict[str, Any]] = []
        if caught_up is not None:
            for moved in catch_up(self.rows.values(), caught_up):
                assert moved.institution_id is not None, "a row's move names its ДОУ"
                self._moved(self.rows[(moved.institution_id, moved.stage_id)])
                self.audit.append({"campaign_id": campaign.id, "institution_id": moved.institution_id, "stage_id": moved.stage_id,
                                   "action": moved.action, "source": moved.source, "dest": moved.dest, "at": moved.at,
                                   "recorded_at": recorded_at(session, caught_up), "actor": None, "detail": None})
        self.submissions: list[dict[str, Any]] = []
        self.extensions: list[dict[str, Any]] = []
        self.notices: dict[str, list[tuple[str, datetime, datetime]]] = {}  # stage → (ДОУ, deadline, at)
        self.told: list[tuple[datetime, list[changes.Tell]]] = []  # the change letters of extensions, each at its moment

    @staticmethod
    def _materials(campaign: spec.Campaign, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The rows a review's materials are judged by (`rules.materials_stages`) for the review stages among `pairs`."""
        found = []
        for stage_id in {s for _, s in pairs}:
            stage = campaign.stage(stage_id)
            if stage is not None and stage.actor == "expert":
                found += [(inst, m) for m in rules.materials_stages(campaign.stages, stage) for inst, s in pairs if s == stage_id]
        return found

    def _read(self, pairs: list[tuple[str, str]], locked: bool = False) -> dict[tuple[str, str], Progress]:
        """`locked`: the rows stay locked (PostgreSQL) until the transaction ends: acts on other rows run beside.
        The stages asked of the same ДОУ are read together (a portal's review: its row and its materials' rows in one
        statement), a chunk of ДОУ at a time."""
        by_stage: dict[str, set[str]] = {}
        for inst, stage in pairs:
            by_stage.setdefault(stage, set()).add(inst)
        together: dict[tuple[str, ...], list[str]] = {}  # the same ДОУ → the stages asked of them
        for stage, asked in by_stage.items():
            together.setdefault(tuple(sorted(asked)), []).append(stage)
        query = _ROWS_LOCKED if locked else _ROWS
        found = {}
        for institutions, stages in together.items():
            for chunk in chunks(list(institutions)):
                for values in self.session.execute(query, {"campaign": self.campaign.id, "stages": stages, "institutions": chunk}):
                    row = Progress(*values)
                    found[(row.institution_id, row.stage_id)] = row
        return found

    def _row(self, act: Act) -> Progress:
        return checked_row(self.campaign, act.institution_id, act.stage_id, self.rows.get((act.institution_id, act.stage_id)))

    def _stage(self, act: Act) -> spec.Stage:
        stage = self.campaign.stage(act.stage_id)
        assert stage is not None, "_row refused an unknown stage"
        return stage

    def _moved(self, row: Progress) -> None:
        self.changed[(row.institution_id, row.stage_id)] = row

    def _audit(self, row: Progress, action: str, at: datetime, source: str | None, dest: str | None, detail: str | None) -> None:
        self.audit.append(_audit_values(self.session, row, action, at, source, dest, detail))

    def submit(self, act: Act) -> Progress:
        links = _checked_links(act.links)
        row = self._row(act)
        stage = self._stage(act)
        if stage.actor == "expert":
            raise NotAllowed(f"stage '{act.stage_id}' is done by experts; record each expert's review with "
                             f"dqflow review {act.institution_id} --stage {act.stage_id} --expert EXPERT", code="stage-for-experts",
                             institution=act.institution_id, stage=act.stage_id)
        _check_can_act(self.campaign, row, f"stage '{act.stage_id}' for ДОУ '{act.institution_id}'", act.at)
        if stage.form:  # the hand-in is the form: its links, once it is complete (`form.for_hand_in`)
            if links:
                raise DqflowError(f"stage '{stage.id}' is a form stage: its hand-in is the form; put links in it with "
                                  f"dqflow form set {act.institution_id} --stage {stage.id} --indicator ID --link URL",
                                  code="form-stage-links", institution=act.institution_id, stage=stage.id)
            if Status(row.status).submitted:  # as this transaction's acts left it: a version is handed in once
                raise NotAllowed(f"the form of ДОУ '{act.institution_id}' in stage '{stage.id}' was already handed in",
                                 code="form-handed-in", institution=act.institution_id, stage=stage.id)
            links = tuple(form.for_hand_in(self.session, self.campaign, act.institution_id, stage, act.at).links)
        if not rules.counts_as_submission(links):  # refused before anything is recorded
            raise DqflowError("a submission needs at least one link to the materials: --link URL", code="no-links",
                              institution=act.institution_id, stage=act.stage_id)
        status = Status(row.status)
        detail = json.dumps({"links": list(links)}, ensure_ascii=False)
        if status is Status.OPEN:  # links checked: the hand-in counts (`rules.counts_as_submission`)
            source, dest = _fire(row, "submit", at=act.at)
            row.submitted_at = act.at
            self._moved(row)
            self._audit(row, "submit", act.at, source, dest, detail)
        else:  # materials added to what is handed in
            self._audit(row, "resubmit", act.at, status.value, status.value, detail)
        self.submissions.append({"campaign_id": self.campaign.id, "institution_id": act.institution_id, "stage_id": stage.id,
                                 "at": act.at, "links": json.dumps(list(links), ensure_ascii=False)})
        if stage.submit_to == "operator" and self.campaign.operator:
            self.notices.setdefault(stage.id, []).append((act.institution_id, row.due_at, act.at))
        return row

    def review(self, act: Act) -> Progress:
        text = act.recommendations.strip()  # as a form or a CSV cell brings it: surrounding blank lines dropped
        texts.check(text, "рекомендации", texts.MAX_NOTE)
        experts.check_levels(self.campaign, act.levels)
        comments = experts.check_comments(self.campaign, act.comments)
        row = self._row(act)
        stage = self._stage(act)
        if stage.actor != "expert":
            raise NotAllowed(f"stage '{act.stage_id}' is not a review stage; ДОУ submit to it with dqflow submit",
                             code="not-a-review-stage", institution=act.institution_id, stage=act.stage_id)
        assert act.expert_id is not None, "a review names its expert"
        _check_can_act(self.campaign, row, f"review stage '{act.stage_id}' for ДОУ '{act.institution_id}'", act.at)
        self._check_materials(stage, act)
        _check_complete(self.campaign, act.levels)  # refused before the book takes it: nothing is recorded
        if self.campaign.reviews_by_indicator:  # the review row keeps the areas its indicators give (`experts.area_levels`)
            areas = experts.area_levels(self.campaign, act.levels)
            action, complete = self.book.record(stage, act.institution_id, act.expert_id, areas, text, act.at,
                                                indicators=act.levels, comments=comments)
            detail: dict[str, Any] = {"expert": act.expert_id, "levels": areas, "indicators": act.levels, "comments": comments}
        else:
            action, complete = self.book.record(stage, act.institution_id, act.expert_id, act.levels, text, act.at)
            detail = {"expert": act.expert_id, "levels": act.levels}
        self._audit(row, action, act.at, None, None, json.dumps(detail, ensure_ascii=False))
        if complete and Status(row.status) is Status.OPEN:
            source, dest = _fire(row, "submit", at=act.at)
            row.submitted_at = act.at
            self._moved(row)
            self._audit(row, "submit", act.at, source, dest, json.dumps({"reviews": "all experts reported"}, ensure_ascii=False))
        return row

    def _check_materials(self, stage: spec.Stage, act: Act) -> None:
        """Refuse a review before the handout gave the experts their ДОУ, or of a ДОУ with nothing to review
        (`rules.materials`: nothing handed in yet, or nothing ever)."""
        tz = self.campaign.tz
        handout = next((s for s in self.campaign.stages if s.kind == "handout" and s.list == stage.list), None)
        if handout is not None and not rules.has_opened(handout.opens_at, act.at):
            raise NotAllowed(f"the experts of list '{stage.list}' get their ДОУ at the handout '{handout.id}' on "
                             f"{show(handout.opens_at, tz)} ({zone_label(tz, handout.opens_at)}); review after it", code="before-handout",
                             at=show(handout.opens_at, tz), handout=handout.id, institution=act.institution_id, stage=act.stage_id)
        found = [row for m in rules.materials_stages(self.campaign.stages, stage)
                 if (row := self.rows.get((act.institution_id, m))) is not None]
        state = rules.materials(rules.status_at(row, act.at) for row in found)
        if state is rules.Materials.NONE:
            raise NotAllowed(f"ДОУ '{act.institution_id}' handed in nothing for review '{stage.id}': there is nothing to review",
                             code="no-materials", institution=act.institution_id, stage=act.stage_id)
        if state is rules.Materials.AWAITED:
            due = min(row.due_at for row in found if rules.status_at(row, act.at) not in (Status.MISSED.value, Status.EXCUSED.value))
            raise NotAllowed(f"ДОУ '{act.institution_id}' has handed in nothing yet for review '{stage.id}'; its materials are "
                             f"due {show(due, tz)} ({zone_label(tz, due)})", code="materials-awaited", at=show(due, tz),
                             institution=act.institution_id, stage=act.stage_id)

    def extend(self, act: Act) -> Progress:
        """The coordinator gives the ДОУ its own deadline and lock `act.until` (no grace on top); reopens a missed row."""
        reason = required_reason(act.reason, "an extension")
        row = self._row(act)
        tz, until, now = self.campaign.tz, act.until, act.at
        assert until is not None, "an extension names its deadline"
        where = f"stage '{act.stage_id}' for ДОУ '{act.institution_id}'"
        status = Status(row.status)
        if status.submitted:
            raise NotAllowed(f"{where} was already submitted on {show(row.submitted_at, tz)} ({zone_label(tz, now)}); "
                             "an extension would change nothing",
                             code="already-submitted", at=show(row.submitted_at, tz), institution=act.institution_id, stage=act.stage_id)
        if status is Status.EXCUSED:
            raise NotAllowed(f"{where} is excused; an extension would change nothing", code="excused",
                             institution=act.institution_id, stage=act.stage_id)
        if until <= now:
            raise NotAllowed(f"--until {show(until, tz)} ({zone_label(tz, now)}) is not in the future; give a later time", code="until-past",
                             at=show(until, tz), institution=act.institution_id, stage=act.stage_id)
        if until < row.opens_at:
            raise NotAllowed(f"--until {show(until, tz)} is before {where} opens ({show(row.opens_at, tz)}, {zone_label(tz, now)})",
                             code="until-before-opening", at=show(until, tz), opens=show(row.opens_at, tz),
                             institution=act.institution_id, stage=act.stage_id)
        previous = {"due_at": iso(row.due_at, tz), "locks_at": iso(row.locks_at, tz)}  # audit details in the campaign's zone
        row.due_at, row.locks_at = rules.extended_times(until)
        row.extended = True
        self._moved(row)
        self.extensions.append({"campaign_id": self.campaign.id, "institution_id": act.institution_id, "stage_id": act.stage_id,
                                "until": until, "reason": reason, "granted_at": now})
        detail = json.dumps({"until": iso(until, tz), "reason": reason, "previous": previous}, ensure_ascii=False)
        self._audit(row, "extend", now, status.value, status.value, detail)
        self.told.append((now, changes.about_stage(self.session, self.campaign, self._stage(act), changes.EXTENDED,
                                                   [(act.institution_id, row.due_at)])))
        if status is Status.MISSED:
            source, dest = _fire(row, "reopen")
            self._audit(row, "reopen", now, source, dest, None)
        return row

    def write(self) -> None:
        if self.changed:  # one executemany through the driver, each value bound as its column's type binds it
            self.session.flush()
            connection = self.session.connection()
            dialect = connection.dialect
            mark = driver_mark(dialect)
            c = _PROGRESS.c
            binds = [(k, c[k].type.dialect_impl(dialect).bind_processor(dialect)) for k in (*_CHANGING, *_KEY)]
            connection.exec_driver_sql(
                f"UPDATE progress SET {', '.join(f'{k} = {mark}' for k in _CHANGING)} WHERE {' AND '.join(f'{k} = {mark}' for k in _KEY)}",
                [tuple(getattr(row, k) if bind is None else bind(getattr(row, k)) for k, bind in binds) for row in self.changed.values()])
            self.changed.clear()
        self.book.write()
        if self.submissions:
            self.session.execute(insert(_SUBMISSION), self.submissions)
        if self.extensions:
            self.session.execute(insert(_EXTENSION), self.extensions)
        audit_many(self.session, self.audit)
        for stage_id, notices in self.notices.items():
            stage = self.campaign.stage(stage_id)
            assert stage is not None, "a notice is about a stage of the campaign"
            reminders.plan_submission_notices(self.session, self.campaign, stage, notices)
        # the ДОУ (and a review's experts) hear of their new deadline at the next send: the letters of extensions at one
        # moment (a coordinator's morning of them) planned together, in the order they were granted
        merged: list[tuple[datetime, list[changes.Tell]]] = []
        for at, tells in self.told:
            if merged and merged[-1][0] == at:
                merged[-1][1].extend(tells)
            else:
                merged.append((at, list(tells)))
        for at, tells in merged:
            changes.plan(self.session, self.campaign, at, tells)
        self.told.clear()


MAX_LINKS = 20  # links to the materials of one submission


def _checked_links(links: tuple[str, ...]) -> tuple[str, ...]:
    """Web addresses only: they are mailed to experts as links to click (at least one: `_Acts.submit`)."""
    if len(links) > MAX_LINKS:
        raise DqflowError(f"{len(links)} links given; a submission takes at most {MAX_LINKS}: link a folder instead",
                          code="too-many-links", n=str(len(links)), max=str(MAX_LINKS))
    for link in links:
        texts.check(link, "ссылка")
        if not re.fullmatch(r"https?://[^\s/?#]+\S*", link):
            raise DqflowError(f"link '{link}' is not a web address; give one starting with http:// or https://",
                              code="not-a-web-address", link=link)
    return tuple(links)


def _check_complete(campaign: spec.Campaign, levels: dict[str, str]) -> None:
    """A level for every area of the campaign (`rules.counts_as_review`), for every indicator where the campaign reviews
    per indicator (the areas then all follow from them): an incomplete review is not recorded."""
    if campaign.reviews_by_indicator:
        missing = rules.unassessed(levels, campaign.indicators)
        if missing:
            titles = {ind_id: ind.title for ind_id, (_, ind) in campaign.indicators.items()}
            raise DqflowError(f"no level for indicator(s) {', '.join(missing)}; give one for each: --level INDICATOR=LEVEL",
                              code="indicator-levels-missing", ids=", ".join(missing),
                              indicators=", ".join(f"{i} «{titles[i]}»" for i in missing))
        return
    areas = [a.id for a in campaign.areas]
    if not rules.counts_as_review(levels, areas):
        missing = rules.unassessed(levels, areas)
        titles = {a.id: a.title for a in campaign.areas}
        raise DqflowError(f"no level for area(s) {', '.join(missing)}; give one for each: --level AREA=LEVEL",
                          code="levels-missing", areas=", ".join(f"«{titles[a]}»" for a in missing))


def _check_can_act(campaign: spec.Campaign, row: Progress, where: str, now: datetime) -> None:
    """Refuse work before the ДОУ's stage opens, after its lock, or when excused (`rules.refusal`)."""
    tz = campaign.tz
    why = rules.refusal(row, now)
    if why is Refusal.NOT_OPEN:
        raise NotAllowed(f"{where} is not open yet at {show(now, tz)}: it opens {show(row.opens_at, tz)} ({zone_label(tz, now)})",
                         code="not-open", at=show(row.opens_at, tz), institution=row.institution_id, stage=row.stage_id)
    if why is Refusal.EXCUSED:
        raise NotAllowed(f"{where} is excused; there is nothing to submit", code="excused", institution=row.institution_id, stage=row.stage_id)
    if why is Refusal.LOCKED:
        raise NotAllowed(f"{where} is locked since {show(row.locks_at, tz)} ({zone_label(tz, row.locks_at)}); the coordinator can reopen it: "
                         f"dqflow extend {row.institution_id} --stage {row.stage_id} --until TIME --reason TEXT",
                         code="locked", at=show(row.locks_at, tz), institution=row.institution_id, stage=row.stage_id)


def _fire(row: Progress | ProgressRow, trigger: str, **kwargs: Any) -> tuple[str, str]:
    """A trigger the rules were checked for: it moves the row."""
    moved = fire(PROGRESS, row, trigger, **kwargs)
    assert moved is not None, f"{trigger} from '{row.status}' was checked to apply"
    return moved


def required_reason(reason: str | None, what: str) -> str:
    """The audit log must say why a deadline moved or a ДОУ was released."""
    reason = (reason or "").strip()
    if not reason:
        raise DqflowError(f"{what} needs a reason: --reason TEXT", code="no-reason")
    return texts.check(reason, "причина")


def checked_row(campaign: spec.Campaign, institution_id: str, stage_id: str, row: Row | None) -> Row:
    """The row of a ДОУ in a per-ДОУ stage (as the caller read it), or why there is none."""
    stage = campaign.stage(stage_id)
    if stage is None:
        raise NotFound(f"no stage '{stage_id}' in campaign '{campaign.id}'; stages: {', '.join(s.id for s in campaign.stages)}",
                       code="no-stage", stage=stage_id, known=", ".join(s.id for s in campaign.stages))
    # a withdrawn ДОУ keeps its rows (excused, or done before it left): it is refused whatever their status
    if institution_id not in campaign.institution_ids:
        if row is not None:
            raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}': an amendment withdrew it; its records stay readable",
                           code="withdrawn", institution=institution_id)
        known = ", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else "")
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'; ДОУ ids: {known}", code="no-dou",
                       institution=institution_id, known=known)
    if not stage.per_institution:
        what = {"event": "an event", "assignment": "an expert list", "handout": "a handout"}.get(stage.kind, "a coordinator task")
        raise NotAllowed(f"stage '{stage_id}' is {what}; ДОУ do not submit to it", code="not-for-dou", stage=stage_id)
    assert row is not None, "progress rows are created for every per-ДОУ stage at load"
    return row


def _audit_values(session: Session, row: Progress | ProgressRow, action: str, now: datetime, source: str | None, dest: str | None,
                  detail: str | None) -> dict[str, Any]:
    return {"campaign_id": row.campaign_id, "institution_id": row.institution_id, "stage_id": row.stage_id, "action": action,
            "source": source, "dest": dest, "at": now, "recorded_at": recorded_at(session, now), "actor": acting(session),
            "detail": detail}
