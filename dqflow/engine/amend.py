"""Amending a running campaign ("приказ о внесении изменений"): what a changed campaign file changes, and
making exactly that change.

`amend` works inside the caller's session: it brings the stored campaign to `now`, notes the outbox's
unsent rows, makes the change (stage times, the roster, expert lists, addresses, the stored definition),
reconciles again, and reads back which unsent reminders were cancelled and which were planned. Run in a
session that is rolled back it is the plan shown to the coordinator; run in a transaction with a reason it
is the amendment, audited. The plan's digest ties the two: `--plan DIGEST` refuses an amendment whose plan
is no longer the one that was shown.

Rules. A moved deadline moves every ДОУ's deadline and lock, except an extension that is longer than the
new deadline (one shorter gives way to the new deadline, and is reported). Unsent reminders of what moved
are cancelled (`deadline-moved`, `amended`), sent ones stay in the ledger; reconcile plans the new ones. A
ДОУ removed from the file is withdrawn: its rows stay, its open and coming stages become `excused`, its
unsent mail is cancelled (`withdrawn`), status shows it as `withdrawn`. A ДОУ added after a list was drawn
gets its experts from the least loaded eligible ones; nobody else's experts change. An expert removed from
the file leaves the lists whose review has not locked (unless they already reviewed) and their ДОУ get a
replacement. Raising a drawn list's `experts_per_institution` gives each ДОУ still to be reviewed the missing
experts the same way; lowering it is refused. A changed address re-addresses the unsent mail. Whatever would rewrite a stage's outcome
(reopen a locked stage, lock an open one retroactively, turn done into late or back, drop a stage that
has opened) needs `force`; what cannot be made true (a stage that has opened opening later) is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import String, bindparam, cast, delete, func, insert, update
from sqlmodel import Session, col, select

from dqflow import engine
from dqflow.calendar import iso, show
from dqflow.campaign import spec
from dqflow.campaign.terms import DEFAULT as DEFAULT_TERMS
from dqflow.campaign.terms import Terms
from dqflow.engine import experts, reminders
from dqflow.engine.allocation import Request
from dqflow.engine.rules import StageState, Status
from dqflow.engine.skips import Skip
from dqflow.engine.skips import reason as skip_reason
from dqflow.errors import DqflowError, NotAllowed
from dqflow.intake import text as texts
from dqflow.store import (
    AssignmentRow,
    AuditRow,
    CampaignRow,
    ExpertRow,
    InstitutionRow,
    OutboxRow,
    ProgressRow,
    ReviewRow,
    StageRow,
    audit_many,
    recorded_at,
)

UNSENT = ("pending", "failed")
TIMES = ("opens_at", "due_at", "locks_at")


@dataclass
class Plan:
    """What an amendment changes. Times are ISO-8601 in the campaign's zone; `digest` fingerprints the rest."""

    campaign: str
    timezone: str
    stages_moved: list[dict] = field(default_factory=list)  # {"stage", "title", field: [old, new]}
    stages_added: list[str] = field(default_factory=list)
    stages_removed: list[str] = field(default_factory=list)
    stages_changed: list[dict] = field(default_factory=list)  # {"stage", "fields": [names]}: not times
    institutions_added: list[str] = field(default_factory=list)
    institutions_withdrawn: list[str] = field(default_factory=list)
    institutions_changed: list[dict] = field(default_factory=list)  # {"id", field: [old, new]}
    experts_added: list[str] = field(default_factory=list)
    experts_withdrawn: list[str] = field(default_factory=list)
    experts_changed: list[dict] = field(default_factory=list)
    coordinator_changed: dict = field(default_factory=dict)
    campaign_changed: list[str] = field(default_factory=list)  # other top-level keys
    extensions: list[dict] = field(default_factory=list)  # {"institution", "stage", "until", "new_due", "kept"}
    lists: list[dict] = field(default_factory=list)  # {"list", "institution", "added": [ids], "removed": [ids]}
    rewrites: list[dict] = field(default_factory=list)  # {"stage", "institution", "from", "to"}: need --force
    refused: list[str] = field(default_factory=list)  # cannot be applied at all (English, for the error line)
    cancelled: list[dict] = field(default_factory=list)  # unsent reminders skipped: {"recipient", …, "reason"}
    planned: list[dict] = field(default_factory=list)  # new pending reminders
    readdressed: list[dict] = field(default_factory=list)  # {"from", "to", "messages"}
    digest: str = ""

    @property
    def empty(self) -> bool:
        return not any(v for k, v in asdict(self).items() if k not in ("campaign", "timezone", "digest"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    def fingerprint(self) -> str:
        data = {k: v for k, v in asdict(self).items() if k != "digest"}
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def plan(session: Session, new: spec.Campaign, now: datetime) -> Plan:
    """The plan of loading `new` over the stored campaign of the same id, as of `now`. It writes into
    `session`: call it in one that is rolled back (`store.dry_run`)."""
    return _amend(session, new, now)


def apply(session: Session, new: spec.Campaign, now: datetime, reason: str, *, force: bool = False,
          expected: str | None = None) -> Plan:
    """Amend the stored campaign to `new` inside the caller's transaction, audited with `reason`. Refused
    (and so nothing written) when the plan is not `expected`, rewrites an outcome without `force`, or
    cannot be made true."""
    reason = (reason or "").strip()
    if not reason:
        raise DqflowError("amending a campaign needs a reason: --reason TEXT")
    texts.check(reason, "the reason")
    old_digest = session.get(CampaignRow, new.id).digest
    done = _amend(session, new, now)
    if done.refused:
        raise NotAllowed("; ".join(done.refused))
    if expected and expected != done.digest:
        raise NotAllowed(f"the plan is now {done.digest}, not {expected}: the file or the database changed since it was shown; "
                         "run 'dqflow load FILE' again to see the new plan")
    if done.rewrites and not force:
        raise NotAllowed(f"this change rewrites {len(done.rewrites)} recorded outcome(s) ({_rewrites_en(done.rewrites)}); "
                         "check the plan (dqflow load FILE) and add --force to apply it")
    session.add(AuditRow(campaign_id=new.id, action="amend", at=now, recorded_at=recorded_at(session, now),
                         detail=json.dumps({"reason": reason, "plan": done.digest, "from": old_digest, "to": spec.digest(new),
                                            "summary": summary(done)}, ensure_ascii=False)))
    return done


def summary(p: Plan) -> dict[str, int]:
    return {k: len(v) for k, v in asdict(p).items() if isinstance(v, list) and v}


def _rewrites_en(rewrites: list[dict]) -> str:
    shown = [f"{r['stage']}{'/' + r['institution'] if r['institution'] else ''} {r['from']}→{r['to']}" for r in rewrites[:5]]
    return ", ".join(shown) + (" …" if len(rewrites) > 5 else "")


# -- the amendment ---------------------------------------------------------------------


def _amend(session: Session, new: spec.Campaign, now: datetime) -> Plan:
    old = engine.definition(session, new.id)
    engine.reconcile(session, new.id, now)  # what is due before the change is not part of it
    result = Plan(new.id, new.timezone)
    before = {r.id: r for r in session.execute(select(OutboxRow.id, OutboxRow.recipient, OutboxRow.state).where(
        OutboxRow.campaign_id == new.id, col(OutboxRow.state).in_(UNSENT))).all()}
    top = session.exec(select(func.max(OutboxRow.id)).where(OutboxRow.campaign_id == new.id)).one() or 0
    work = _Work(session, old, new, now, result)
    work.campaign_keys()
    work.stages()
    work.roster()
    work.resize_lists()
    work.announce_to_newcomers()
    session.execute(update(CampaignRow).where(CampaignRow.id == new.id).values(
        title=new.title, timezone=new.timezone, digest=spec.digest(new), definition=spec.to_json(new)))
    session.flush()
    session.expire_all()
    engine.forget(session)
    engine.reconcile(session, new.id, now)
    work.cancel_withdrawn()  # whatever reconcile still addressed to them (an event planned once for everyone)
    _read_outbox(session, new, before, top, result)
    result.digest = result.fingerprint()
    return result


def _read_outbox(session: Session, campaign: spec.Campaign, before: dict, top: int, result: Plan) -> None:
    tz = campaign.tz
    columns = (OutboxRow.id, OutboxRow.recipient, OutboxRow.role, OutboxRow.institution_id, OutboxRow.stage_id,
               OutboxRow.rule, OutboxRow.kind, OutboxRow.deadline, OutboxRow.send_at, OutboxRow.state, OutboxRow.reason)
    # the unsent rows of before and the new ones: read by state, not by a list of ids (a national ledger's ids
    # would pass SQLite's limit of bound parameters)
    rows = session.execute(select(*columns).where(OutboxRow.campaign_id == campaign.id,
                                                   (OutboxRow.id > top) | (OutboxRow.state != "sent"))
                           .order_by(OutboxRow.send_at, OutboxRow.recipient, OutboxRow.id)).all()

    def entry(r) -> dict:
        return {"recipient": r.recipient, "role": r.role, "institution": r.institution_id, "stage": r.stage_id, "rule": r.rule,
                "kind": r.kind, "deadline": iso(r.deadline, tz), "send_at": iso(r.send_at, tz)}

    moved: dict[tuple[str, str], int] = Counter()
    for r in rows:
        if r.id in before and r.state == "skipped":
            result.cancelled.append({**entry(r), "reason": r.reason})
        elif r.id in before and r.recipient != before[r.id].recipient:
            moved[(before[r.id].recipient, r.recipient)] += 1
        elif r.id > top and r.state == "pending":
            result.planned.append(entry(r))
    result.readdressed = [{"from": a, "to": b, "messages": n} for (a, b), n in sorted(moved.items())]


class _Work:
    """The writes of one amendment, each set-based, with what it found recorded in the plan."""

    def __init__(self, session: Session, old: spec.Campaign, new: spec.Campaign, now: datetime, result: Plan):
        self.session, self.old, self.new, self.now, self.result = session, old, new, now, result
        self.tz = new.tz
        self.written = recorded_at(session, now)
        self.audit: list[dict] = []
        self.withdrawn_institutions: list[str] = []
        self.withdrawn_emails: list[tuple[str, str]] = []  # (role, address)

    def _audit(self, action: str, detail: dict, institution: str | None = None, stage: str | None = None,
               source: str | None = None, dest: str | None = None) -> None:
        self.audit.append({"campaign_id": self.new.id, "institution_id": institution, "stage_id": stage, "action": action,
                           "source": source, "dest": dest, "at": self.now, "recorded_at": self.written,
                           "detail": json.dumps(detail, ensure_ascii=False)})

    def _cancel(self, code: Skip, *where) -> None:
        """Unsent rows matching `where` are skipped with `code`; their key is freed (suffixed with the row id) so
        that reconcile can plan a row of the same key again. Sent rows are never touched."""
        self.session.execute(
            update(OutboxRow).where(OutboxRow.campaign_id == self.new.id, col(OutboxRow.state).in_(UNSENT), *where)
            .values(state="skipped", reason=skip_reason(code),
                    key=col(OutboxRow.key) + "#amended:" + cast(OutboxRow.id, String))
            .execution_options(synchronize_session=False))

    # -- campaign-wide --------------------------------------------------------------------

    def campaign_keys(self) -> None:
        old, new = spec.to_json(self.old), spec.to_json(self.new)
        a, b = json.loads(old), json.loads(new)
        self.clock_changed = any(a[k] != b.get(k) for k in ("calendar", "sending", "timezone"))
        self.result.campaign_changed = sorted(k for k in a if k not in ("stages", "institutions", "coordinator") and a[k] != b.get(k))
        if self.old.coordinator != self.new.coordinator:
            self.result.coordinator_changed = {k: [getattr(self.old.coordinator, k), getattr(self.new.coordinator, k)]
                                               for k in ("name", "email") if getattr(self.old.coordinator, k) != getattr(self.new.coordinator, k)}
            if self.old.coordinator.email.lower() != self.new.coordinator.email.lower():
                self._readdress([("coordinator", None, self.old.coordinator.email, self.new.coordinator.email)])

    # -- stages ---------------------------------------------------------------------------

    def stages(self) -> None:
        old = {s.id: s for s in self.old.stages}
        new = {s.id: s for s in self.new.stages}
        rows = {r.id: r for r in self.session.exec(select(StageRow).where(StageRow.campaign_id == self.new.id)).all()}
        for stage_id in old.keys() - new.keys():
            self._remove_stage(old[stage_id], rows[stage_id])
        for s in self.new.stages:
            if s.id not in old:
                self._add_stage(s)
            else:
                self._change_stage(old[s.id], s, rows[s.id])
        t = StageRow.__table__
        self.session.execute(update(t).where(t.c.campaign_id == self.new.id, t.c.id == bindparam("sid")).values(position=bindparam("pos")),
                             [{"sid": s.id, "pos": n} for n, s in enumerate(self.new.stages)])

    def _remove_stage(self, stage: spec.Stage, row: StageRow) -> None:
        self.result.stages_removed.append(stage.id)
        if row.state != StageState.SCHEDULED.value:
            self.result.rewrites.append({"stage": stage.id, "institution": None, "from": row.state, "to": "removed"})
        self._cancel(Skip.AMENDED, OutboxRow.stage_id == stage.id)
        self.session.execute(delete(ProgressRow).where(ProgressRow.campaign_id == self.new.id, ProgressRow.stage_id == stage.id))
        self.session.execute(delete(StageRow).where(StageRow.campaign_id == self.new.id, StageRow.id == stage.id))
        self._audit("amend-stage", {"removed": True, "state": row.state}, stage=stage.id)

    def _add_stage(self, stage: spec.Stage) -> None:
        self.result.stages_added.append(stage.id)
        if stage.locks_at < self.now:
            self.result.refused.append(f"new stage '{stage.id}' would lock at {show(stage.locks_at, self.tz)}, in the past; "
                                       "give it dates from now on")
        self.session.execute(insert(StageRow.__table__), [{
            "campaign_id": self.new.id, "id": stage.id, "position": 0, "kind": stage.kind, "actor": stage.actor,
            "state": StageState.SCHEDULED.value, "opens_at": stage.opens_at, "due_at": stage.due_at, "locks_at": stage.locks_at}])
        if stage.per_institution:
            present = [i.id for i in self.new.institutions if i.id in self._stored_institutions()]
            if present:
                self.session.execute(insert(ProgressRow.__table__), [
                    {"campaign_id": self.new.id, "institution_id": i, "stage_id": stage.id, "status": Status.UPCOMING.value,
                     "opens_at": stage.opens_at, "due_at": stage.due_at, "locks_at": stage.locks_at, "extended": False}
                    for i in present])
        self._audit("amend-stage", {"added": True, **self._times(stage)}, stage=stage.id)

    def _stored_institutions(self) -> set[str]:
        if not hasattr(self, "_institutions"):
            self._institutions = set(self.session.exec(select(InstitutionRow.id).where(
                InstitutionRow.campaign_id == self.new.id, col(InstitutionRow.withdrawn_at).is_(None))).all())
        return self._institutions

    def _times(self, stage: spec.Stage) -> dict:
        return {k: iso(getattr(stage, k), self.tz) for k in TIMES}

    def _change_stage(self, old: spec.Stage, new: spec.Stage, row: StageRow) -> None:
        shape = ("kind", "actor", "list")
        if any(getattr(old, k) != getattr(new, k) for k in shape):
            self.result.refused.append(f"stage '{new.id}' changes its kind, actor or list; a stage keeps them: "
                                       "remove it and add one with another id")
            return
        moved = [k for k in TIMES if getattr(old, k) != getattr(new, k)]
        others = sorted(k for k in old.__dataclass_fields__ if k not in (*TIMES, "grace", "all_day") and getattr(old, k) != getattr(new, k))
        rules_changed = reminders.rules_for(self.old, old) != reminders.rules_for(self.new, new) or self.clock_changed
        if others:
            self.result.stages_changed.append({"stage": new.id, "fields": others})
        if not moved and not rules_changed:
            return
        if moved:
            self.result.stages_moved.append({"stage": new.id, "title": new.title,
                                             **{k: [iso(getattr(old, k), self.tz), iso(getattr(new, k), self.tz)] for k in moved}})
            self._audit("amend-stage", {"previous": self._times(old), **self._times(new)}, stage=new.id)
        self._stage_state(old, new, row)
        if new.per_institution:
            self._move_progress(old, new, moved, rules_changed)
        elif new.kind == "event" or (new.kind == "task" and new.actor == "coordinator"):
            # unsent mail of the old time goes; reconcile plans it afresh (what is past by then, skipped as such)
            self._cancel(Skip.DEADLINE_MOVED if "due_at" in moved else Skip.AMENDED, OutboxRow.stage_id == new.id)
            row.reminders_planned = False
        row.opens_at, row.due_at, row.locks_at = new.opens_at, new.due_at, new.locks_at
        self.session.add(row)

    def _stage_state(self, old: spec.Stage, new: spec.Stage, row: StageRow) -> None:
        """Where the stage stands under its new times; what that rewrites goes to the plan."""
        state = row.state
        if state == StageState.SCHEDULED.value:
            if new.locks_at < self.now <= old.locks_at and new.kind != "event":
                self.result.rewrites.append({"stage": new.id, "institution": None, "from": "scheduled", "to": "locked"})
            return
        if new.opens_at > self.now:
            if new.kind == "event":
                self.result.rewrites.append({"stage": new.id, "institution": None, "from": state, "to": "scheduled"})
                row.state = StageState.SCHEDULED.value
            else:
                self.result.refused.append(f"stage '{new.id}' has opened (it is {state}); its opening cannot move to "
                                           f"{show(new.opens_at, self.tz)} ({self.tz.key}), after now")
            return
        if state == StageState.LOCKED.value and new.locks_at >= self.now:
            self.result.rewrites.append({"stage": new.id, "institution": None, "from": "locked", "to": "open"})
            row.state = StageState.OPEN.value
        elif state == StageState.OPEN.value and new.locks_at < self.now:
            self.result.rewrites.append({"stage": new.id, "institution": None, "from": "open", "to": "locked"})

    def _move_progress(self, old: spec.Stage, new: spec.Stage, moved: list[str], rules_changed: bool) -> None:
        """Every ДОУ's own times follow the stage's, except an extension longer than the new deadline."""
        where = (ProgressRow.campaign_id == self.new.id, ProgressRow.stage_id == new.id)
        rows = self.session.execute(select(ProgressRow.institution_id, ProgressRow.status, ProgressRow.due_at,
                                           ProgressRow.locks_at, ProgressRow.extended, ProgressRow.submitted_at)
                                    .where(*where).order_by(ProgressRow.institution_id)).all()
        follows: list[str] = []
        for r in rows:
            if r.extended:
                kept = r.due_at >= new.due_at
                self.result.extensions.append({"institution": r.institution_id, "stage": new.id, "until": iso(r.due_at, self.tz),
                                               "new_due": iso(new.due_at, self.tz), "kept": kept})
                if kept:
                    continue
            follows.append(r.institution_id)
            status = Status(r.status)
            to = self._status_under(status, r.submitted_at, new)
            if to is not status:
                self.result.rewrites.append({"stage": new.id, "institution": r.institution_id, "from": status.value, "to": to.value})
                self._audit("amend", {"status": to.value}, r.institution_id, new.id, status.value, to.value)
        if not follows:
            return
        # as SQL, not a list of ids: a national roster would pass SQLite's limit of bound parameters
        following = (*where, col(ProgressRow.extended).is_(False) | (ProgressRow.due_at < new.due_at))
        deadline_moved = "due_at" in moved or len(follows) > sum(1 for r in rows if not r.extended)
        code = Skip.DEADLINE_MOVED if deadline_moved else Skip.AMENDED
        self._cancel(code, OutboxRow.stage_id == new.id, OutboxRow.role != "coordinator",
                     col(OutboxRow.institution_id).in_(select(ProgressRow.institution_id).where(*following)))
        values = {"opens_at": new.opens_at, "due_at": new.due_at, "locks_at": new.locks_at, "extended": False,
                  "planned_due": None}  # planned afresh by reconcile, against the new times
        self.session.execute(update(ProgressRow).where(*following).values(**values).execution_options(synchronize_session=False))
        self._rewrite_statuses(following, new)
        if moved:
            self._audit_each(follows, new, old)

    def _status_under(self, status: Status, submitted_at: datetime | None, new: spec.Stage) -> Status:
        if status.submitted and submitted_at is not None:
            return Status.DONE if submitted_at <= new.due_at else Status.LATE
        if status is Status.MISSED and new.locks_at >= self.now:
            return Status.OPEN
        if status is Status.OPEN and new.locks_at < self.now:
            return Status.MISSED
        return status

    def _rewrite_statuses(self, following, new: spec.Stage) -> None:
        """Set-based: submissions judged against the new deadline; a missed stage whose lock moved past now reopens.
        An open one whose lock moved before now is locked by reconcile, which audits it."""
        s = ProgressRow
        self.session.execute(update(s).where(*following, s.status == Status.DONE.value, s.submitted_at > new.due_at)
                             .values(status=Status.LATE.value).execution_options(synchronize_session=False))
        self.session.execute(update(s).where(*following, s.status == Status.LATE.value, s.submitted_at <= new.due_at)
                             .values(status=Status.DONE.value).execution_options(synchronize_session=False))
        if new.locks_at >= self.now:
            self.session.execute(update(s).where(*following, s.status == Status.MISSED.value)
                                 .values(status=Status.OPEN.value).execution_options(synchronize_session=False))

    def _audit_each(self, institutions: list[str], new: spec.Stage, old: spec.Stage) -> None:
        detail = {"previous": {"due_at": iso(old.due_at, self.tz), "locks_at": iso(old.locks_at, self.tz)},
                  "due_at": iso(new.due_at, self.tz), "locks_at": iso(new.locks_at, self.tz)}
        for inst in institutions:
            self._audit("amend", detail, inst, new.id)

    # -- the roster -------------------------------------------------------------------------

    def roster(self) -> None:
        old = {i.id: i for i in self.old.institutions}
        new = {i.id: i for i in self.new.institutions}
        stored = dict(self.session.execute(select(InstitutionRow.id, InstitutionRow.withdrawn_at).where(
            InstitutionRow.campaign_id == self.new.id)).all())
        added = [i for i in self.new.institutions if i.id not in old]
        for i in added:
            if i.id in stored:
                self.result.refused.append(f"ДОУ '{i.id}' was withdrawn from this campaign; give it another id to add it again")
        added = [i for i in added if i.id not in stored]
        withdrawn = [old[i] for i in old if i not in new]
        changed = [(old[i.id], i) for i in self.new.institutions if i.id in old and old[i.id] != i]
        self._experts(old, new)
        for i in withdrawn:
            self._withdraw(i)
        if added:
            self._add(added)
        readdress = []
        for a, b in changed:
            diff = {k: [getattr(a, k), getattr(b, k)] for k in ("name", "email", "contact") if getattr(a, k) != getattr(b, k)}
            if diff:
                self.result.institutions_changed.append({"id": b.id, **diff})
            if a.email.lower() != b.email.lower():
                readdress.append(("institution", b.id, a.email, b.email))
        t = InstitutionRow.__table__
        if changed:
            self.session.execute(update(t).where(t.c.campaign_id == self.new.id, t.c.id == bindparam("iid"))
                                 .values(name=bindparam("n"), email=bindparam("e")),
                                 [{"iid": b.id, "n": b.name, "e": b.email} for _, b in changed])
        self._readdress(readdress)
        self.session.execute(update(t).where(t.c.campaign_id == self.new.id, t.c.id == bindparam("iid")).values(position=bindparam("pos")),
                             [{"iid": i.id, "pos": n} for n, i in enumerate(self.new.institutions)])
        audit_many(self.session, self.audit)

    def _experts(self, old: dict[str, spec.Institution], new: dict[str, spec.Institution]) -> None:
        # the ДОУ's own experts and those of no ДОУ alike (a top-level expert's ДОУ may be None)
        before = {e.id: (inst, e) for e, inst in self.old.every_expert()}
        after = {e.id: (inst, e) for e, inst in self.new.every_expert()}
        added = [(inst, e) for eid, (inst, e) in after.items() if eid not in before]
        kept = set(self.session.exec(select(ExpertRow.id).where(ExpertRow.campaign_id == self.new.id)).all())
        for _, e in added:
            if e.id in kept:
                self.result.refused.append(f"expert '{e.id}' was withdrawn from this campaign; give them another id to add them again")
        added = [(inst, e) for inst, e in added if e.id not in kept]
        gone = [(inst, e) for eid, (inst, e) in before.items() if eid not in after]
        self.result.experts_added = sorted(e.id for _, e in added)
        self.result.experts_withdrawn = sorted(e.id for _, e in gone)
        if added:
            self.session.execute(insert(ExpertRow.__table__), [
                {"campaign_id": self.new.id, "id": e.id, "institution_id": inst, "name": e.name, "email": e.email} for inst, e in added])
        t = ExpertRow.__table__
        if gone:
            self.session.execute(update(t).where(t.c.campaign_id == self.new.id, col(t.c.id).in_([e.id for _, e in gone]))
                                 .values(withdrawn_at=self.now))
            self.withdrawn_emails += [("expert", e.email) for _, e in gone]
            self._cancel(Skip.WITHDRAWN, OutboxRow.role == "expert",
                         func.lower(OutboxRow.recipient).in_([e.email.lower() for _, e in gone]))
            self._release([e.id for _, e in gone], set(new))
        changed = [(before[eid][1], inst, e) for eid, (inst, e) in after.items() if eid in before and (before[eid][1], before[eid][0]) != (e, inst)]
        readdress = []
        for a, inst, b in changed:
            diff = {k: [getattr(a, k), getattr(b, k)] for k in ("name", "email") if getattr(a, k) != getattr(b, k)}
            if before[b.id][0] != inst:
                diff["institution"] = [before[b.id][0], inst]
            self.result.experts_changed.append({"id": b.id, **diff})
            if a.email.lower() != b.email.lower():
                readdress.append(("expert", None, a.email, b.email))
        if changed:
            self.session.execute(update(t).where(t.c.campaign_id == self.new.id, t.c.id == bindparam("eid"))
                                 .values(name=bindparam("n"), email=bindparam("e"), institution_id=bindparam("i")),
                                 [{"eid": b.id, "n": b.name, "e": b.email, "i": inst} for _, inst, b in changed])
        self._readdress(readdress)

    def _withdraw(self, institution: spec.Institution) -> None:
        """Records stay; what was still to come is excused, and nothing more is sent about it."""
        self.result.institutions_withdrawn.append(institution.id)
        self.withdrawn_institutions.append(institution.id)
        self.session.execute(update(InstitutionRow).where(InstitutionRow.campaign_id == self.new.id, InstitutionRow.id == institution.id)
                             .values(withdrawn_at=self.now).execution_options(synchronize_session=False))
        self.session.execute(update(ProgressRow).where(
            ProgressRow.campaign_id == self.new.id, ProgressRow.institution_id == institution.id,
            col(ProgressRow.status).in_([Status.UPCOMING.value, Status.OPEN.value]))
            .values(status=Status.EXCUSED.value).execution_options(synchronize_session=False))
        self._cancel(Skip.WITHDRAWN, OutboxRow.institution_id == institution.id)
        self.withdrawn_emails.append(("institution", institution.email))
        self._audit("withdraw", {"name": institution.name}, institution.id)

    def resize_lists(self) -> None:
        """`experts_per_institution` changed for a list already drawn. A coordinator who raises it means "each ДОУ
        gets one more pair of eyes": each ДОУ whose review is still to come or under way gets the missing experts
        from the least loaded eligible ones (as a ДОУ added after the list does), and nobody's experts change.
        Lowering it would take experts away from ДОУ they were given (perhaps already reading their forms): that
        is refused (with the way to do it one ДОУ at a time while the list is open). A list not drawn yet is simply drawn with the new
        number; a list whose review has locked is history and stays as it is."""
        old = {s.id: s for s in self.old.stages}
        for stage in self._open_lists():
            before = old.get(stage.id)
            was, now = (before.experts_per_institution or 2) if before else None, stage.experts_per_institution or 2
            if was is None or was == now:
                continue
            if now < was:
                by_hand = (f"; to give one ДОУ fewer, use 'dqflow experts set {stage.id} ДОУ EXPERT…' before the list locks "
                           f"({show(stage.locks_at, self.tz)})" if self.now <= stage.locks_at else "")
                self.result.refused.append(
                    f"list '{stage.id}' is drawn with {was} experts per ДОУ and its review is still to come; lowering "
                    f"experts_per_institution to {now} would take experts away from ДОУ they were given: keep {was}{by_hand}")
                continue
            self._give_experts(stage, self._still_to_review(stage), spread=True)

    def _still_to_review(self, stage: spec.Stage) -> list[str]:
        """The ДОУ of the campaign whose review of `stage` has not settled (all of them before it opens)."""
        present = [i.id for i in self.new.institutions]
        review = reminders.review_stage(self.new, stage.id)
        if review is None:
            return present
        settled = set(self.session.exec(select(ProgressRow.institution_id).where(
            ProgressRow.campaign_id == self.new.id, ProgressRow.stage_id == review.id,
            col(ProgressRow.status).not_in([Status.UPCOMING.value, Status.OPEN.value]))).all())
        return [i for i in present if i not in settled]

    def announce_to_newcomers(self) -> None:
        """An event is announced once, when first planned; a ДОУ or expert who joins before it must still hear of it
        (level-triggered: what is still true is still said). The events still to come whose audience a newcomer
        belongs to are planned again: the rows already there keep their keys, so only the newcomers get new ones,
        at the next send time when the rule's moment has passed (an event's notice stays true until it starts)."""
        roles = {"institutions"} if self.result.institutions_added else set()
        roles |= {"experts"} if self.result.experts_added else set()
        upcoming = [s.id for s in self.new.stages if s.kind == "event" and s.opens_at > self.now and roles & set(s.audience)]
        if upcoming:
            self.session.execute(update(StageRow).where(StageRow.campaign_id == self.new.id, col(StageRow.id).in_(upcoming))
                                 .values(reminders_planned=False).execution_options(synchronize_session=False))

    def cancel_withdrawn(self) -> None:
        if self.withdrawn_institutions:
            self._cancel(Skip.WITHDRAWN, col(OutboxRow.institution_id).in_(self.withdrawn_institutions))
        for role, email in self.withdrawn_emails:
            if role == "expert":
                self._cancel(Skip.WITHDRAWN, OutboxRow.role == "expert", func.lower(OutboxRow.recipient) == email.lower())

    def _add(self, added: list[spec.Institution]) -> None:
        """A new ДОУ takes part from now: stages already locked do not concern it (excused)."""
        self.result.institutions_added = [i.id for i in added]
        self.session.execute(insert(InstitutionRow.__table__), [
            {"campaign_id": self.new.id, "id": i.id, "position": 0, "name": i.name, "email": i.email} for i in added])
        progress = []
        for s in self.new.stages:
            if s.per_institution:
                past = s.locks_at < self.now
                progress += [{"campaign_id": self.new.id, "institution_id": i.id, "stage_id": s.id,
                              "status": (Status.EXCUSED if past else Status.UPCOMING).value, "opens_at": s.opens_at,
                              "due_at": s.due_at, "locks_at": s.locks_at, "extended": False} for i in added]
        if progress:
            self.session.execute(insert(ProgressRow.__table__), progress)
        for i in added:
            self._audit("join", {"name": i.name, "excused": [s.id for s in self.new.stages if s.per_institution and s.locks_at < self.now]},
                        i.id)
        for stage in self._open_lists():
            self._give_experts(stage, [i.id for i in added])

    def _open_lists(self) -> list[spec.Stage]:
        """Drawn lists whose review is still to come or under way."""
        found = []
        for stage in self.new.stages:
            if stage.kind != "assignment":
                continue
            review = reminders.review_stage(self.new, stage.id)
            if review is not None and review.locks_at < self.now:
                continue
            if experts.stored(self.session, self.new.id, stage.id):
                found.append(stage)
        return found

    def _give_experts(self, stage: spec.Stage, institutions: list[str], *, spread: bool = False) -> None:
        request = experts.request_for(self.session, self.new, stage)
        lists = experts.stored(self.session, self.new.id, stage.id)
        rows = []
        for inst in institutions:
            have = lists.get(inst, [])
            chosen = pick(request, lists, inst, request.per - len(have), spread=spread)
            if chosen:
                lists.setdefault(inst, []).extend(chosen)
                rows += [{"campaign_id": self.new.id, "stage_id": stage.id, "institution_id": inst, "expert_id": e} for e in chosen]
                self._entry(stage.id, inst, added=chosen)
        if rows:
            self.session.execute(insert(AssignmentRow.__table__), rows)
            review = reminders.review_stage(self.new, stage.id)
            if review is not None:  # their new experts are reminded by reconcile's next plan (the others keep their rows)
                self.session.execute(update(ProgressRow).where(
                    ProgressRow.campaign_id == self.new.id, ProgressRow.stage_id == review.id,
                    col(ProgressRow.institution_id).in_(sorted({r["institution_id"] for r in rows})))
                    .values(planned_due=None).execution_options(synchronize_session=False))
            self.session.add(AuditRow(campaign_id=self.new.id, stage_id=stage.id, action="experts-amend", at=self.now,
                                      recorded_at=self.written, detail=json.dumps(
                                          {r["institution_id"]: lists[r["institution_id"]] for r in rows}, ensure_ascii=False)))

    def _entry(self, list_id: str, inst: str, added: list[str] = (), removed: list[str] = ()) -> None:
        found = next((e for e in self.result.lists if e["list"] == list_id and e["institution"] == inst), None)
        if found is None:
            found = {"list": list_id, "institution": inst, "added": [], "removed": []}
            self.result.lists.append(found)
        found["added"] += list(added)
        found["removed"] += list(removed)

    def _release(self, gone: list[str], institutions: set[str]) -> None:
        """Withdrawn experts leave the lists whose review is to come (not where they already reviewed); their ДОУ get
        a replacement."""
        for stage in self._open_lists():
            review = reminders.review_stage(self.new, stage.id)
            reviewed = set(self.session.execute(select(ReviewRow.institution_id, ReviewRow.expert_id).where(
                ReviewRow.campaign_id == self.new.id, ReviewRow.stage_id == review.id)).all()) if review else set()
            lists = experts.stored(self.session, self.new.id, stage.id)
            leaving = [(inst, e) for inst, es in lists.items() for e in es if e in gone and (inst, e) not in reviewed]
            if not leaving:
                continue
            self.session.execute(delete(AssignmentRow).where(
                AssignmentRow.campaign_id == self.new.id, AssignmentRow.stage_id == stage.id,
                col(AssignmentRow.expert_id).in_(gone),
                col(AssignmentRow.institution_id).in_({inst for inst, _ in leaving})))
            for inst, e in leaving:
                self._entry(stage.id, inst, removed=[e])
            self._give_experts(stage, sorted({inst for inst, _ in leaving if inst in institutions}))

    def _readdress(self, changes: list[tuple[str, str | None, str, str]]) -> None:
        """Unsent mail follows a corrected address: recipient and key, one executemany."""
        t = OutboxRow.__table__
        for by_institution in (True, False):  # a ДОУ's own address, or a person's wherever it appears
            chosen = [c for c in changes if (c[1] is not None) == by_institution]
            if not chosen:
                continue
            own = (t.c.institution_id == bindparam("inst"),) if by_institution else ()
            self.session.execute(
                update(t).where(t.c.campaign_id == self.new.id, t.c.state.in_(UNSENT), t.c.role == bindparam("r"),
                                func.lower(t.c.recipient) == bindparam("old"), *own)
                .values(recipient=bindparam("addr"), key=func.replace(t.c.key, bindparam("old_k"), bindparam("new_k"))),
                [{"r": role, "old": old.lower(), "addr": new, "old_k": f"|{old.lower()}|", "new_k": f"|{new.lower()}|",
                  **({"inst": inst} if by_institution else {})} for role, inst, old, new in chosen])


def pick(request: Request, lists: dict[str, list[str]], institution: str, count: int, *, spread: bool = False) -> list[str]:
    """`count` experts for one ДОУ added to a drawn list, disturbing nobody: eligible (not its own, not a declared
    conflict, not already its expert), preferring no reciprocal pair, no expert from the previous list, then the
    least loaded; ties by id, so the choice is reproducible. `spread`: the least loaded first (a place for every
    ДОУ at once: preferring a pair over load there would pile the last places on a few experts)."""
    if count <= 0:
        return []
    load = Counter(e for es in lists.values() for e in es)
    reviews = {(inst, request.home.get(e)) for inst, es in lists.items() for e in es}
    have = set(lists.get(institution, []))
    candidates = [e for e in request.home if e not in have and request.eligible(institution, e)]
    soft = lambda e: ((request.home[e], institution) in reviews, e in request.previous.get(institution, ()))  # noqa: E731
    candidates.sort(key=lambda e: (load[e], *soft(e), e) if spread else (*soft(e), load[e], e))
    return candidates[:count]


# -- what the coordinator reads -------------------------------------------------------------


def text(p: Plan, terms: Terms = DEFAULT_TERMS) -> str:
    """The plan in Russian, times as dd.mm.yyyy HH:MM in the campaign's zone, its institutions in its own word."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(p.timezone)

    def t(value: str | None) -> str:
        return show(datetime.fromisoformat(value), tz) if value else "—"

    lines = [f"Изменения кампании {p.campaign} (время {p.timezone}):"]
    if p.empty:
        return lines[0] + " нет изменений."
    names = {"opens_at": "открытие", "due_at": "срок", "locks_at": "закрытие"}
    for m in p.stages_moved:
        moves = "; ".join(f"{names[k]} {t(m[k][0])} → {t(m[k][1])}" for k in TIMES if k in m)
        lines.append(f"  этап {m['stage']} перенесён: {moves}")
    lines += [f"  этап {s} добавлен" for s in p.stages_added]
    lines += [f"  этап {s} удалён" for s in p.stages_removed]
    lines += [f"  этап {c['stage']} изменён: {', '.join(c['fields'])}" for c in p.stages_changed]
    ending = terms.past  # добавлен / добавлена / добавлено
    lines += [f"  {terms.nom} {i} добавлен{ending}" for i in p.institutions_added]
    lines += [f"  {terms.nom} {i} выбывает (история сохраняется, напоминаний больше не будет)" for i in p.institutions_withdrawn]
    lines += [f"  {terms.nom} {c['id']} изменен{ending}: {_fields(c)}" for c in p.institutions_changed]
    lines += [f"  эксперт {e} добавлен" for e in p.experts_added]
    lines += [f"  эксперт {e} выбывает" for e in p.experts_withdrawn]
    lines += [f"  эксперт {c['id']} изменён: {_fields(c)}" for c in p.experts_changed]
    if p.coordinator_changed:
        lines.append(f"  координатор изменён: {_fields(p.coordinator_changed)}")
    if p.campaign_changed:
        lines.append(f"  изменены параметры кампании: {', '.join(p.campaign_changed)}")
    for e in p.extensions:
        verdict = "остаётся" if e["kept"] else "короче нового срока — действует новый срок"
        lines.append(f"  продление {terms.gen} {e['institution']} по этапу {e['stage']} до {t(e['until'])}: {verdict} ({t(e['new_due'])})")
    for e in p.lists:
        parts = ([f"добавлены эксперты {', '.join(e['added'])}"] if e["added"] else []) + (
            [f"сняты эксперты {', '.join(e['removed'])}"] if e["removed"] else [])
        lines.append(f"  список {e['list']}, {terms.nom} {e['institution']}: {'; '.join(parts) or 'без изменений'}")
    for r in p.readdressed:
        lines.append(f"  адрес {r['from']} → {r['to']}: неотправленных писем {r['messages']}")
    lines += _reminders("Отменяются неотправленные напоминания", p.cancelled, t, terms, with_reason=True)
    lines += _reminders("Планируются напоминания", p.planned, t, terms)
    if p.rewrites:
        lines.append("Меняет записанные итоги (нужен --force):")
        lines += [f"  этап {r['stage']}{f', {terms.nom} ' + r['institution'] if r['institution'] else ''}: {_state(r['from'])} → {_state(r['to'])}"
                  for r in p.rewrites]
    if p.refused:
        lines.append("Нельзя применить:")
        lines += [f"  {why}" for why in p.refused]
    lines.append(f"План {p.digest}.")
    return "\n".join(lines)


def _fields(change: dict) -> str:
    return "; ".join(f"{k} «{v[0]}» → «{v[1]}»" for k, v in change.items() if k != "id")


def _state(value: str) -> str:
    from dqflow.present.labels import STATE_RU, STATUS_RU

    return {**STATE_RU, **STATUS_RU, "removed": "удалён"}.get(value, value)


def _reminders(title: str, rows: list[dict], t, terms: Terms, with_reason: bool = False) -> list[str]:
    """Grouped by stage, rule and send time: a town's worth of rows stays a few lines."""
    if not rows:
        return []
    from dqflow.present.labels import reason_ru

    groups: dict[tuple, list[str]] = defaultdict(list)
    for r in rows:
        groups[(r["stage"] or "—", r["rule"], r["send_at"], r.get("reason") if with_reason else None)].append(r["recipient"])
    lines = [f"{title}: {len(rows)}"]
    for (stage, rule, send_at, why), people in groups.items():
        shown = ", ".join(people[:3]) + (f" и ещё {len(people) - 3}" if len(people) > 3 else "")
        lines.append(f"  {t(send_at)} · {stage} · {rule}: {shown}" + (f" ({reason_ru(why, terms)})" if why else ""))
    return lines
