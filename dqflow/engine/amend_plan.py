"""What an amendment changes, as a value: which stages move (old and new times), who joins, leaves or is
corrected, whose extension gives way, whose experts change, which recorded outcomes it rewrites, what it
refuses, and which unsent reminders it cancels, plans or re-addresses.

Times are aware datetimes; `to_dict` (the JSON of `dqflow load --json`) writes them in the campaign's zone,
and `fingerprint` is taken of that JSON, so the digest a coordinator is shown names exactly this content.
People read the plan through `present.amendment`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, zone

TIMES = ("opens_at", "due_at", "locks_at")


@dataclass(frozen=True)
class Shift:
    """One time, before and after."""

    old: datetime
    new: datetime


@dataclass(frozen=True)
class StageMove:
    """A stage whose times move; a time that stays is None."""

    stage: str
    title: str
    opens_at: Shift | None = None
    due_at: Shift | None = None
    locks_at: Shift | None = None

    def shifts(self) -> list[tuple[str, Shift]]:
        """The times that move, in the order opens, due, locks."""
        return [(name, shift) for name in TIMES if (shift := getattr(self, name)) is not None]


@dataclass(frozen=True)
class StageEdit:
    """A stage whose other fields change (title, url, reminders…): named, not the times."""

    stage: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PersonEdit:
    """A ДОУ or an expert kept under its id with a corrected name, address, contact or ДОУ."""

    id: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class Extension:
    """A ДОУ's extension of a moved stage: kept when it is longer than the new deadline, else it gives way."""

    institution: str
    stage: str
    until: datetime
    new_due: datetime
    kept: bool


@dataclass
class ListChange:
    """The experts one ДОУ gains and loses on one drawn list."""

    list_id: str
    institution: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rewrite:
    """A recorded outcome the amendment changes (needs --force): a stage's state (`institution` None) or a ДОУ's
    status in a stage, from `source` to `dest` (`removed` for a stage that goes)."""

    stage: str
    institution: str | None
    source: str
    dest: str


@dataclass(frozen=True)
class Notice:
    """An unsent reminder the amendment cancels (with the skip `reason`) or plans."""

    recipient: str
    role: str
    institution: str | None
    stage: str | None
    rule: str
    kind: str
    deadline: datetime | None
    send_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Readdress:
    """Unsent mail that follows a corrected address."""

    old: str
    new: str
    messages: int


@dataclass(frozen=True)
class Names:
    """What people call the ids a plan holds, from the stored campaign and the new file (a removed stage or a
    withdrawn ДОУ is named as it was). Not part of the digest: renaming alone does not change what a plan does."""

    stages: dict[str, str] = field(default_factory=dict)
    institutions: dict[str, str] = field(default_factory=dict)
    experts: dict[str, str] = field(default_factory=dict)
    renamed_stages: dict[str, str] = field(default_factory=dict)  # a kept stage's new name, where people read another


@dataclass
class Plan:
    """What an amendment changes; `digest` fingerprints the rest. `at` and `names` are for its reader only."""

    campaign: str
    timezone: str
    stages_moved: list[StageMove] = field(default_factory=list)
    stages_added: list[str] = field(default_factory=list)
    stages_removed: list[str] = field(default_factory=list)
    stages_changed: list[StageEdit] = field(default_factory=list)
    institutions_added: list[str] = field(default_factory=list)
    institutions_withdrawn: list[str] = field(default_factory=list)
    institutions_changed: list[PersonEdit] = field(default_factory=list)
    experts_added: list[str] = field(default_factory=list)
    experts_withdrawn: list[str] = field(default_factory=list)
    experts_changed: list[PersonEdit] = field(default_factory=list)
    coordinator_changed: tuple[FieldChange, ...] = ()
    campaign_changed: list[str] = field(default_factory=list)  # other top-level keys
    extensions: list[Extension] = field(default_factory=list)
    lists: list[ListChange] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)  # need --force
    refused: list[str] = field(default_factory=list)  # cannot be applied at all (English, for the error line)
    cancelled: list[Notice] = field(default_factory=list)  # unsent reminders skipped
    planned: list[Notice] = field(default_factory=list)  # new pending reminders
    readdressed: list[Readdress] = field(default_factory=list)
    digest: str = ""
    at: datetime | None = None  # the moment it was made: the zone's offset people read is that moment's
    names: Names = field(default_factory=Names)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def empty(self) -> bool:
        return not any(v for k, v in self.to_dict().items() if k not in ("campaign", "timezone", "digest"))

    def list_change(self, list_id: str, institution: str) -> ListChange:
        """The entry of one ДОУ on one list, made on first need."""
        found = next((e for e in self.lists if e.list_id == list_id and e.institution == institution), None)
        if found is None:
            found = ListChange(list_id, institution)
            self.lists.append(found)
        return found

    def summary(self) -> dict[str, int]:
        """How many of each kind of change: what the audit log keeps beside the digest."""
        return {k: len(v) for k, v in self.to_dict().items() if isinstance(v, list) and v}

    def to_dict(self) -> dict[str, Any]:
        tz = self.tz

        def changes(items: tuple[FieldChange, ...]) -> dict[str, list[str | None]]:
            return {c.name: [c.old, c.new] for c in items}

        def notice(n: Notice, with_reason: bool) -> dict[str, Any]:
            entry = {"recipient": n.recipient, "role": n.role, "institution": n.institution, "stage": n.stage, "rule": n.rule,
                     "kind": n.kind, "deadline": iso(n.deadline, tz), "send_at": iso(n.send_at, tz)}
            return {**entry, "reason": n.reason} if with_reason else entry

        return {
            "campaign": self.campaign,
            "timezone": self.timezone,
            "stages_moved": [{"stage": m.stage, "title": m.title, **{name: [iso(s.old, tz), iso(s.new, tz)] for name, s in m.shifts()}}
                             for m in self.stages_moved],
            "stages_added": list(self.stages_added),
            "stages_removed": list(self.stages_removed),
            "stages_changed": [{"stage": e.stage, "fields": list(e.fields)} for e in self.stages_changed],
            "institutions_added": list(self.institutions_added),
            "institutions_withdrawn": list(self.institutions_withdrawn),
            "institutions_changed": [{"id": e.id, **changes(e.changes)} for e in self.institutions_changed],
            "experts_added": list(self.experts_added),
            "experts_withdrawn": list(self.experts_withdrawn),
            "experts_changed": [{"id": e.id, **changes(e.changes)} for e in self.experts_changed],
            "coordinator_changed": changes(self.coordinator_changed),
            "campaign_changed": list(self.campaign_changed),
            "extensions": [{"institution": e.institution, "stage": e.stage, "until": iso(e.until, tz), "new_due": iso(e.new_due, tz),
                            "kept": e.kept} for e in self.extensions],
            "lists": [{"list": e.list_id, "institution": e.institution, "added": list(e.added), "removed": list(e.removed)}
                      for e in self.lists],
            "rewrites": [{"stage": r.stage, "institution": r.institution, "from": r.source, "to": r.dest} for r in self.rewrites],
            "refused": list(self.refused),
            "cancelled": [notice(n, with_reason=True) for n in self.cancelled],
            "planned": [notice(n, with_reason=False) for n in self.planned],
            "readdressed": [{"from": r.old, "to": r.new, "messages": r.messages} for r in self.readdressed],
            "digest": self.digest,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def fingerprint(self) -> str:
        """Of everything but the send time of the letters about the change: that is the next send time after the moment the
        plan is made, so a plan shown at 11:00 and applied at 11:05 is still the same plan."""
        data = {k: v for k, v in self.to_dict().items() if k != "digest"}
        data["planned"] = [{k: v for k, v in n.items() if not (n["kind"] == "changed" and k == "send_at")} for n in data["planned"]]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
