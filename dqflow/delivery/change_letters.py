"""What a change letter says (`engine.changes`): what changed for its reader, from when to when, why and by whom, read
from the change's audit row (the one the ДОУ's history shows). A send reads the audit rows of the ДОУ its change
letters name in one query per chunk of ДОУ, and the person-level ones (an address, a link) in one more.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from dqflow.calendar import show, show_date, utc_offset
from dqflow.campaign import spec
from dqflow.engine import changes
from dqflow.engine.skips import MAX_IN_LIST
from dqflow.present.labels import actor_ru
from dqflow.store import AuditRow, chunks

# changes about a person (an expert's have no ДОУ) or about an event moved for all its audience: no ДОУ named
_WITHOUT_INSTITUTION = ("readdress", "link-revoke", "withdraw", "amend-stage")


class ChangeBook:
    """The audit rows change letters read, by (action, ДОУ or None, stage or None), oldest first; read once per send."""

    def __init__(self, campaign: spec.Campaign):
        self.campaign = campaign
        self.tz = campaign.tz
        self._by: dict[tuple[str, str | None, str | None], list[AuditRow]] = defaultdict(list)
        self._read: set[str] = set()
        self._personal = False

    def need(self, session: Session, rows) -> None:
        """Read the audit rows the change letters among `rows` are about, those not read yet."""
        wanted = sorted({r.institution_id for r in rows if r.kind == changes.KIND and r.institution_id} - self._read)
        actions = list(changes.AUDITED.values())
        for chunk in chunks(wanted, MAX_IN_LIST):
            self._read.update(chunk)
            self._add(session.exec(select(AuditRow).where(
                AuditRow.campaign_id == self.campaign.id, col(AuditRow.action).in_(actions),
                col(AuditRow.institution_id).in_(chunk)).order_by(col(AuditRow.id))).all())
        if not self._personal and any(r.kind == changes.KIND and not r.institution_id for r in rows):
            self._personal = True
            self._add(session.exec(select(AuditRow).where(
                AuditRow.campaign_id == self.campaign.id, col(AuditRow.action).in_(_WITHOUT_INSTITUTION),
                col(AuditRow.institution_id).is_(None)).order_by(col(AuditRow.id))).all())

    def _add(self, found) -> None:
        for row in found:
            self._by[(row.action, row.institution_id, row.stage_id)].append(row)

    def _latest(self, action: str, institution: str | None, stage: str | None, fits=lambda detail: True) -> dict[str, Any]:
        """The detail of the newest audit row of `action` about them that `fits`, with "by" (who did it); {} if none."""
        for row in reversed(self._by.get((action, institution, stage), [])):
            detail = json.loads(row.detail) if row.detail else {}
            if fits(detail):
                return {**detail, "by": actor_ru(row.actor, self.campaign.terms) if row.actor else ""}
        return {}

    def entry(self, row, names: dict[str, str]) -> dict[str, Any]:
        """One change as its letter lists it."""
        change = changes.what(row.rule)
        stage = self.campaign.stage(row.stage_id) if row.stage_id else None
        entry: dict[str, Any] = {"what": change, "stage_title": stage.title if stage else "", "stage_short": stage.label if stage else "",
                                 "institution_name": names.get(row.institution_id, row.institution_id) if row.institution_id else "",
                                 "deadline": show(row.deadline, self.tz) if row.deadline else "", "old_deadline": "",
                                 "lock": "", "old_lock": "", "opens": "", "old_opens": "", "reason": "", "by": "", "event": False,
                                 "old_address": "", "new_address": "", "offset": utc_offset(row.deadline or row.send_at, self.tz)}
        inst, stage_id = row.institution_id, row.stage_id
        if change == changes.EXTENDED:
            found = self._latest("extend", inst, stage_id, lambda d: self._same(d.get("until"), row.deadline))
            entry["old_deadline"] = self._local(found.get("previous", {}).get("due_at"))
        elif change == changes.EXCUSED:
            found = self._latest("excuse", inst, stage_id)
        elif change == changes.AMENDED and inst is None:  # an event moved (`changes.about_event`): when it is held now
            found = self._latest("amend-stage", None, stage_id, lambda d: "previous" in d and self._same(d.get("due_at"), row.deadline))
            entry.update(event=True, old_deadline=self._held(stage, found.get("previous", {}).get("opens_at")),
                         deadline=self._held(stage, found.get("opens_at")))
        elif change == changes.AMENDED:
            found = self._latest("amend", inst, stage_id, lambda d: "previous" in d and self._same(d.get("due_at"), row.deadline))
            before = found.get("previous", {})
            entry.update(old_deadline=self._local(before.get("due_at")), old_lock=self._local(before.get("locks_at")),
                         lock=self._local(found.get("locks_at")), old_opens=self._local(before.get("opens_at")),
                         opens=self._local(found.get("opens_at")))
            for was, now in (("old_lock", "lock"), ("old_opens", "opens")):
                if entry[was] == entry[now]:  # said only when it moved
                    entry[was] = entry[now] = ""
            if entry["lock"] == entry["deadline"]:
                entry["old_lock"] = entry["lock"] = ""
        elif change == changes.WITHDRAWN:  # a ДОУ: to it and its experts
            found = self._latest("withdraw", inst, None)
        elif change == changes.RELEASED:  # an expert themselves
            found = self._latest("withdraw", None, None, lambda d: self._to(d.get("email"), row))
        elif change == changes.READDRESSED:
            found = self._latest("readdress", inst, None, lambda d: self._to(d.get("new"), row))
            entry.update(old_address=found.get("old", ""), new_address=found.get("new", row.recipient))
        else:
            version = row.rule.partition("#")[2]
            found = self._latest("link-revoke", inst, None, lambda d: str(d.get("version")) == version)
        entry.update(reason=found.get("reason", ""), by=found.get("by", ""))
        return entry

    @staticmethod
    def _to(address: str | None, row) -> bool:
        return str(address or "").lower() == row.recipient.lower()

    def _same(self, text: str | None, moment: datetime | None) -> bool:
        return text is not None and moment is not None and datetime.fromisoformat(text) == moment

    def _held(self, stage: spec.Stage | None, text: str | None) -> str:
        """When an event is held, as its reminders say it: the day alone for an all-day one."""
        if not text:
            return ""
        return show_date(datetime.fromisoformat(text), self.tz) if stage and stage.all_day else self._local(text)

    def _local(self, text: str | None) -> str:
        return show(datetime.fromisoformat(text), self.tz) if text else ""
