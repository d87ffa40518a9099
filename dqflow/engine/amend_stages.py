"""An amendment's stages: a stage added, removed, or moved to new times, and what that does to the stage's
state, to every ДОУ's own times and status in it, and to the unsent reminders about it.

A moved deadline moves every ДОУ's deadline and lock, except an extension longer than the new deadline (one
shorter gives way, and is reported). A ДОУ's status under the new times is asked of the machine
(`rules.PROGRESS`): a recorded hand-in is judged again by its `submit` at the moment it was handed in; a
missed stage whose lock moved past now reopens by its `reopen`, set-based over the states the machine says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from dqflow import engine
from dqflow.calendar import iso, show, zone_label
from dqflow.campaign.model import Stage
from dqflow.engine import changes, reminders, rules
from dqflow.engine.amend_plan import TIMES, Extension, Rewrite, Shift, StageEdit, StageMove
from dqflow.engine.amending import Amending, table
from dqflow.engine.rules import PROGRESS, StageState, Status, can, fire, sources
from dqflow.engine.skips import Skip
from dqflow.store import InstitutionRow, OutboxRow, ProgressRow, StageRow


class StageChanges(Amending):
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
        t = table(StageRow).c
        self.session.execute(update(table(StageRow)).where(t.campaign_id == self.new.id, t.id == bindparam("sid"))
                             .values(position=bindparam("pos")),
                             [{"sid": s.id, "pos": n} for n, s in enumerate(self.new.stages)])

    def _remove_stage(self, stage: Stage, row: StageRow) -> None:
        self.result.stages_removed.append(stage.id)
        if row.state != StageState.SCHEDULED.value:
            self.result.rewrites.append(Rewrite(stage.id, None, row.state, "removed"))
        self._cancel(Skip.AMENDED, col(OutboxRow.stage_id) == stage.id)
        self.session.execute(delete(ProgressRow).where(col(ProgressRow.campaign_id) == self.new.id, col(ProgressRow.stage_id) == stage.id))
        self.session.execute(delete(StageRow).where(col(StageRow.campaign_id) == self.new.id, col(StageRow.id) == stage.id))
        self._audit("amend-stage", {"removed": True, "state": row.state}, stage=stage.id)

    def _add_stage(self, stage: Stage) -> None:
        self.result.stages_added.append(stage.id)
        if self.locked(stage.locks_at):
            self.result.refused.append(f"новый этап «{stage.label}» закрылся бы {show(stage.locks_at, self.tz)}, в прошлом: "
                                       "дайте ему даты не раньше сегодняшнего дня")
        self.session.execute(insert(table(StageRow)), [{
            "campaign_id": self.new.id, "id": stage.id, "position": 0, "kind": stage.kind, "actor": stage.actor,
            "state": StageState.SCHEDULED.value, "opens_at": stage.opens_at, "due_at": stage.due_at, "locks_at": stage.locks_at}])
        if stage.per_institution:
            present = [i.id for i in self.new.institutions if i.id in self._stored_institutions()]
            if present:
                self.session.execute(insert(table(ProgressRow)), [
                    {"campaign_id": self.new.id, "institution_id": i, "stage_id": stage.id, "status": Status.UPCOMING.value,
                     "opens_at": stage.opens_at, "due_at": stage.due_at, "locks_at": stage.locks_at, "extended": False}
                    for i in present])
        self._audit("amend-stage", {"added": True, **self._times(stage)}, stage=stage.id)

    def _stored_institutions(self) -> set[str]:
        if not hasattr(self, "_institutions"):
            self._institutions = set(self.session.exec(select(InstitutionRow.id).where(
                InstitutionRow.campaign_id == self.new.id, col(InstitutionRow.withdrawn_at).is_(None))).all())
        return self._institutions

    def _times(self, stage: Stage) -> dict[str, str | None]:
        return {k: iso(getattr(stage, k), self.tz) for k in TIMES}

    def _change_stage(self, old: Stage, new: Stage, row: StageRow) -> None:
        shape = ("kind", "actor", "list")
        if any(getattr(old, k) != getattr(new, k) for k in shape):
            self.result.refused.append(f"у этапа «{new.label}» меняется kind, actor или list, а этап их сохраняет: "
                                       "удалите его и добавьте этап с другим id")
            return
        moved = [k for k in TIMES if getattr(old, k) != getattr(new, k)]
        others = sorted(k for k in old.__dataclass_fields__ if k not in (*TIMES, "grace", "all_day") and getattr(old, k) != getattr(new, k))
        rules_changed = reminders.rules_for(self.old, old) != reminders.rules_for(self.new, new) or self.clock_changed
        if others:
            self.result.stages_changed.append(StageEdit(new.id, tuple(others)))
        if not moved and not rules_changed:
            return
        if moved:
            self.result.stages_moved.append(StageMove(new.id, new.title, **{k: Shift(getattr(old, k), getattr(new, k)) for k in moved}))
            self._audit("amend-stage", {"previous": self._times(old), **self._times(new)}, stage=new.id)
        self._stage_state(old, new, row)
        if new.per_institution:
            self._move_progress(old, new, moved)
        elif new.kind == "event" or (new.kind == "task" and new.actor == "coordinator"):
            # unsent mail of the old time goes; reconcile plans it afresh (what is past by then, skipped as such)
            self._cancel(Skip.DEADLINE_MOVED if "due_at" in moved else Skip.AMENDED, col(OutboxRow.stage_id) == new.id)
            row.reminders_planned = False
            if new.kind == "event" and moved and not rules.has_opened(old.opens_at, self.now):  # not yet held at its old time
                self.moved_events.append(new)
        row.opens_at, row.due_at, row.locks_at = new.opens_at, new.due_at, new.locks_at
        self.session.add(row)

    def _stage_state(self, old: Stage, new: Stage, row: StageRow) -> None:
        """Where the stage stands under its new times; what that rewrites goes to the plan. (The stage machine has
        no way back from locked or held: the row is set here, and reconcile moves it on from there.)"""
        state = row.state
        if state == StageState.SCHEDULED.value:
            if self.locked(new.locks_at) and not self.locked(old.locks_at) and new.kind != "event":
                self.result.rewrites.append(Rewrite(new.id, None, "scheduled", "locked"))
            return
        if new.opens_at > self.now:
            if new.kind == "event":
                self.result.rewrites.append(Rewrite(new.id, None, state, "scheduled"))
                row.state = StageState.SCHEDULED.value
            else:
                self.result.refused.append(f"этап «{new.label}» уже начался: его открытие нельзя "
                                           f"перенести на {show(new.opens_at, self.tz)} ({zone_label(self.tz, new.opens_at)}), "
                                           "в будущее; оставьте прежнюю дату открытия")
            return
        if state == StageState.LOCKED.value and not self.locked(new.locks_at):
            self.result.rewrites.append(Rewrite(new.id, None, "locked", "open"))
            row.state = StageState.OPEN.value
        elif state == StageState.OPEN.value and self.locked(new.locks_at):
            self.result.rewrites.append(Rewrite(new.id, None, "open", "locked"))

    def _move_progress(self, old: Stage, new: Stage, moved: list[str]) -> None:
        """Every ДОУ's own times follow the stage's, except an extension longer than the new deadline."""
        where = (col(ProgressRow.campaign_id) == self.new.id, col(ProgressRow.stage_id) == new.id)
        rows = self.session.execute(sa_select(col(ProgressRow.institution_id), col(ProgressRow.status), col(ProgressRow.opens_at),
                                              col(ProgressRow.due_at), col(ProgressRow.locks_at), col(ProgressRow.extended),
                                              col(ProgressRow.submitted_at))
                                    .where(*where).order_by(col(ProgressRow.institution_id))).all()
        follows: list[str] = []
        judged: list[dict[str, Any]] = []  # hand-ins judged again: written as judged, one executemany
        told: list[tuple[str, datetime | None]] = []  # whose dates moved while there is still something to do: told so
        for r in rows:
            if r.extended:
                kept = r.due_at >= new.due_at
                self.result.extensions.append(Extension(r.institution_id, new.id, r.due_at, new.due_at, kept))
                if kept:
                    continue
            follows.append(r.institution_id)
            status = Status(r.status)
            to = self._status_under(status, r.submitted_at, new)
            if moved and to in (Status.UPCOMING, Status.OPEN):
                told.append((r.institution_id, new.due_at))
            if to is not status:
                self.result.rewrites.append(Rewrite(new.id, r.institution_id, status.value, to.value))
                self._audit("amend", {"status": to.value}, r.institution_id, new.id, status.value, to.value)
                if status.submitted:
                    judged.append({"inst": r.institution_id, "was": status.value, "judged": to.value})
        if not follows:
            return
        # as SQL, not a list of ids: a national roster would pass SQLite's limit of bound parameters
        following = (*where, col(ProgressRow.extended).is_(False) | (col(ProgressRow.due_at) < new.due_at))
        deadline_moved = "due_at" in moved or len(follows) > sum(1 for r in rows if not r.extended)
        code = Skip.DEADLINE_MOVED if deadline_moved else Skip.AMENDED
        self._cancel(code, col(OutboxRow.stage_id) == new.id, col(OutboxRow.role) != "coordinator",
                     col(OutboxRow.institution_id).in_(select(ProgressRow.institution_id).where(*following)))
        values = {"opens_at": new.opens_at, "due_at": new.due_at, "locks_at": new.locks_at, "extended": False,
                  "planned_due": None}  # planned afresh by reconcile, against the new times
        self.session.execute(update(ProgressRow).where(*following).values(**values).execution_options(synchronize_session=False))
        self._write_statuses(following, new, judged)
        if moved:
            self._audit_each([r for r in rows if r.institution_id in set(follows)], new)
            self.tells += changes.about_stage(self.session, self.new, new, changes.AMENDED, told, self.ordinal)

    def _status_under(self, status: Status, submitted_at: datetime | None, new: Stage) -> Status:
        """A ДОУ's status in `new` under its new times, as the machine moves it: a hand-in judged again (`submit` from
        open, at the moment it was handed in: done by the new deadline, late after it), a missed stage reopened
        when its new lock is still to come, an open one locked when its new lock has passed (by reconcile)."""
        if status.submitted and submitted_at is not None:
            return self._judged(submitted_at, new)
        if can(PROGRESS, "reopen", status.value) and not self.locked(new.locks_at):
            return self._after(status, new, "reopen")
        if can(PROGRESS, "lock", status.value) and self.locked(new.locks_at):
            return self._after(status, new, "lock")
        return status

    def _after(self, status: Status, new: Stage, trigger: str, **kwargs: Any) -> Status:
        """Where `trigger` takes a ДОУ in `status` under the stage's new times (itself when no transition applies)."""
        row = engine.Progress(campaign_id=self.new.id, institution_id="", stage_id=new.id, status=status.value, opens_at=new.opens_at,
                              due_at=new.due_at, locks_at=new.locks_at, extended=False, submitted_at=None)
        moved = fire(PROGRESS, row, trigger, **kwargs)
        return Status(moved[1]) if moved else status

    def _judged(self, submitted_at: datetime, new: Stage) -> Status:
        # A hand-in after the new lock was accepted under the old one: it stays a hand-in, late.
        judged = self._after(Status.OPEN, new, "submit", at=submitted_at)
        return judged if judged.submitted else Status.LATE

    def _write_statuses(self, following: tuple[ColumnElement[bool], ...], new: Stage, judged: list[dict[str, Any]]) -> None:
        """The hand-ins judged again, as judged (one executemany over the few that changed); a missed stage whose lock
        moved past now reopens, set-based over the states the machine's `reopen` leaves, as reconcile moves a stage.
        An open one whose lock moved before now is locked by reconcile, which audits it."""
        if judged:
            t = table(ProgressRow).c
            self.session.execute(update(table(ProgressRow)).where(
                t.campaign_id == self.new.id, t.stage_id == new.id, t.institution_id == bindparam("inst"), t.status == bindparam("was"))
                .values(status=bindparam("judged")), judged)
        if not self.locked(new.locks_at):
            dest, from_states = sources(PROGRESS, "reopen")
            self.session.execute(update(ProgressRow).where(*following, col(ProgressRow.status).in_(from_states))
                                 .values(status=dest).execution_options(synchronize_session=False))

    def _audit_each(self, rows: list[Any], new: Stage) -> None:
        """Each ДОУ's own times before (an extension that gave way among them) and after: its history and its letter say both."""
        for r in rows:
            self._audit("amend", {"previous": {k: iso(getattr(r, k), self.tz) for k in TIMES},
                                  **{k: iso(getattr(new, k), self.tz) for k in TIMES}}, r.institution_id, new.id)
