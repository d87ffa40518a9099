"""The shared state of one amendment's writes (`amend_stages`, `amend_roster`): the session, the stored and
the new campaign, `now`, the plan being filled in, the audit rows to write, and the outbox writes every
part makes (cancel what is unsent, follow a corrected address)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, func, update
from sqlalchemy import cast as sql_cast
from sqlmodel import Session, SQLModel, col, select

from dqflow.campaign.codec import to_json
from dqflow.campaign.model import Campaign, Stage
from dqflow.engine import changes, rules
from dqflow.engine.amend_plan import FieldChange, Plan
from dqflow.engine.skips import Skip
from dqflow.engine.skips import reason as skip_reason
from dqflow.store import OutboxRow, ReviewRow, acting, recorded_at

UNSENT = ("pending", "failed")


def table(model: type[SQLModel]) -> Table:
    """The Core table of a row class, for executemany and INSERT of plain dicts (SQLModel sets `__table__` on
    every table class; its stubs do not declare it)."""
    return cast(Table, getattr(model, "__table__"))


class Amending:
    """What every part of an amendment reads and writes; each write set-based, what it found recorded in the plan."""

    def __init__(self, session: Session, old: Campaign, new: Campaign, now: datetime, result: Plan, reason: str | None = None):
        self.session, self.old, self.new, self.now, self.result = session, old, new, now, result
        self.tz = new.tz
        self.written = recorded_at(session, now)
        self.actor = acting(session)  # who amends ('coordinator:cli'): every audit row of the amendment says so
        self.reason = reason  # None while the plan is only shown
        self.ordinal = str(changes.amendment_ordinal(session, new.id))  # tells this amendment's letters from another's
        self.tells: list[changes.Tell] = []  # the change letters, planned once everything else is written (`tell`)
        self.moved_events: list[Stage] = []  # events moved before they were held: their audience is told at `tell`
        self.audit: list[dict[str, Any]] = []
        self.withdrawn_institutions: list[str] = []
        self.withdrawn_emails: list[tuple[str, str]] = []  # (role, address)
        self.clock_changed = False  # the zone, calendar or sending window: every reminder is planned afresh

    def locked(self, locks_at: datetime) -> bool:
        """Whether a lock at `locks_at` has passed now: as reconcile locks a stage (once `locks_at` has passed)."""
        return rules.has_locked(locks_at, self.now)

    def _audit(self, action: str, detail: dict[str, Any], institution: str | None = None, stage: str | None = None,
               source: str | None = None, dest: str | None = None) -> None:
        if self.reason:
            detail = {**detail, "reason": self.reason}
        self.audit.append({"campaign_id": self.new.id, "institution_id": institution, "stage_id": stage, "action": action,
                           "source": source, "dest": dest, "at": self.now, "recorded_at": self.written, "actor": self.actor,
                           "detail": json.dumps(detail, ensure_ascii=False)})

    def tell(self) -> None:
        """Plan the change letters (after reconcile and the withdrawn's cancellations, which would take them too); a
        moved event's, to who is still in the campaign once the roster has changed too."""
        for stage in self.moved_events:
            self.tells += changes.about_event(self.session, self.new, stage, self.ordinal)
        changes.plan(self.session, self.new, self.now, self.tells)

    def _cancel(self, code: Skip, *where: ColumnElement[bool]) -> None:
        """Unsent rows matching `where` are skipped with `code`; their key is freed (suffixed with the row id) so
        that reconcile can plan a row of the same key again. Sent rows are never touched."""
        self.session.execute(
            update(OutboxRow).where(col(OutboxRow.campaign_id) == self.new.id, col(OutboxRow.state).in_(UNSENT), *where)
            .values(state="skipped", reason=skip_reason(code),
                    key=col(OutboxRow.key) + "#amended:" + sql_cast(col(OutboxRow.id), String))
            .execution_options(synchronize_session=False))

    def _readdress(self, changes: list[tuple[str, str | None, str, str]]) -> None:
        """Unsent mail follows a corrected address (role, ДОУ or None, old, new): recipient and key, one executemany."""
        outbox = table(OutboxRow)
        t = outbox.c
        for by_institution in (True, False):  # a ДОУ's own address, or a person's wherever it appears
            chosen = [c for c in changes if (c[1] is not None) == by_institution]
            if not chosen:
                continue
            own = (t.institution_id == bindparam("inst"),) if by_institution else ()
            self.session.execute(
                update(outbox).where(t.campaign_id == self.new.id, t.state.in_(UNSENT), t.role == bindparam("r"),
                                                  func.lower(t.recipient) == bindparam("old"), *own)
                .values(recipient=bindparam("addr"), key=func.replace(t.key, bindparam("old_k"), bindparam("new_k"))),
                [{"r": role, "old": old.lower(), "addr": new, "old_k": f"|{old.lower()}|", "new_k": f"|{new.lower()}|",
                  **({"inst": inst} if by_institution else {})} for role, inst, old, new in chosen])

    def _keep_review_mode(self) -> None:
        """Experts review per area or per indicator (`Campaign.reviews_by_indicator`) for the whole campaign: once a
        review is recorded, a change of that mode would leave its levels where the справка no longer reads them."""
        if self.old.reviews_by_indicator == self.new.reviews_by_indicator:
            return
        if self.session.exec(select(ReviewRow.institution_id).where(ReviewRow.campaign_id == self.new.id).limit(1)).first() is None:
            return
        will, was = ("по показателям", "по областям") if self.new.reviews_by_indicator else ("по областям", "по показателям")
        self.result.refused.append(f"эксперты уже записали оценки {was}, а с этим изменением (form: true или indicators) "
                                   f"оценивали бы {will}: записанные уровни выпали бы из справки; оставьте прежние этапы формы "
                                   "и показатели или начните новую кампанию")

    def campaign_keys(self) -> None:
        """The campaign's own keys: what changed beside stages and roster, and a corrected coordinator."""
        a, b = json.loads(to_json(self.old)), json.loads(to_json(self.new))
        self.clock_changed = any(a[k] != b.get(k) for k in ("calendar", "sending", "timezone"))
        self.result.campaign_changed = sorted(k for k in a.keys() | b.keys()  # a key only one side has (a later field) changed too
                                              if k not in ("stages", "institutions", "coordinator") and a.get(k) != b.get(k))
        self._keep_review_mode()
        was, now = self.old.coordinator, self.new.coordinator
        self.result.coordinator_changed = tuple(FieldChange(k, getattr(was, k), getattr(now, k)) for k in ("name", "email")
                                                if getattr(was, k) != getattr(now, k))
        if was.email.lower() != now.email.lower():
            self._readdress([("coordinator", None, was.email, now.email)])
