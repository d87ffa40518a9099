"""The campaign's storage codec: a Campaign as the JSON stored with the loaded campaign (so the file need
not stay around), back again, and the digest that tells two contents apart."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import partial
from typing import Any

from dqflow.calendar import Duration, WorkCalendar
from dqflow.campaign.model import (
    Area,
    Campaign,
    Contact,
    Expert,
    Indicator,
    Institution,
    Level,
    Portal,
    Publication,
    ReminderRule,
    Sending,
    Stage,
)
from dqflow.campaign.terms import DEFAULT as DEFAULT_TERMS
from dqflow.campaign.terms import Terms


def digest(campaign: Campaign) -> str:
    """Fingerprint of the content (not of comments or layout): equal files load as no-ops."""
    return digest_of(to_json(campaign))


def digest_of(text: str) -> str:
    """The digest of a campaign's JSON (`to_json`)."""
    return hashlib.sha256(text.encode()).hexdigest()


def to_json(campaign: Campaign) -> str:
    """The campaign as JSON, stored with the loaded campaign so the file need not stay around.
    Keys added since the first release are left out while unused (`_LATER_FIELDS`)."""
    data = _plain(campaign)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def stored(text: str) -> str:
    """The JSON of `to_json` as it is stored: the roster (megabytes at national scale) on a line of its own after
    the rest, so `from_json` reads the rest without it. JSON text never holds a raw line break."""
    data = json.loads(text)
    if "institutions" not in data:  # no roster to put last (a test's stand-in definition)
        return text
    roster = data.pop("institutions")
    return json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n" + json.dumps(roster, ensure_ascii=False)


def _institutions(items: list[dict[str, Any]]) -> tuple[Institution, ...]:
    return tuple(Institution(**{**i, "experts": tuple(Expert(**e) for e in i["experts"])}) for i in items)


def _roster(text: str) -> tuple[Institution, ...]:
    return _institutions(json.loads(text))


def from_json(text: str) -> Campaign:
    """A campaign from `to_json`'s text, or from its `stored` layout: then the roster is parsed when first read."""
    head, _, roster = text.partition("\n")
    data = json.loads(head)

    def rules(items: list[dict[str, Any]] | None) -> tuple[ReminderRule, ...] | None:
        if items is None:
            return None
        return tuple(ReminderRule(r["kind"], Duration.parse(r["offset"]) if r["offset"] else None, r["anchor"], r["max"]) for r in items)

    def stage(s: dict[str, Any]) -> Stage:
        times = {k: datetime.fromisoformat(s[k]) for k in ("opens_at", "due_at", "locks_at")}
        return Stage(**{**s, **times, "grace": Duration.parse(s["grace"]) if s["grace"] else None,
                        "after": tuple(s["after"]), "audience": tuple(s["audience"]), "reminders": rules(s["reminders"]),
                        "exclude": tuple(tuple(p) for p in s["exclude"])})

    campaign = Campaign(
        **{k: data[k] for k in ("id", "title", "timezone", "locale", "order", "notifications")},
        coordinator=Contact(**data["coordinator"]),
        operator=Contact(**data["operator"]) if data["operator"] else None,
        institutions=() if roster else _institutions(data["institutions"]),
        experts=tuple(Expert(**e) for e in data.get("experts", ())),
        stages=tuple(stage(s) for s in data["stages"]),
        calendar=WorkCalendar.from_dict(data["calendar"]),
        areas=tuple(Area(**{**a, "indicators": tuple(Indicator(**i) for i in a.get("indicators", ()))}) for a in data["areas"]),
        levels=tuple(Level(**lv) for lv in data["levels"]),
        default_reminders=rules(data["default_reminders"]),
        sending=Sending(**data["sending"]),
        portal=Portal(**data["portal"]) if data.get("portal") else None,
        terms=Terms.from_dict(data.get("terms")),  # campaigns stored before terms existed say ДОУ
        previous=data.get("previous"),
        publish=Publication(**data.get("publish") or {}),
        # the final-level rules: absent from campaigns stored before them, and left out while at their defaults
        **{key: data[key] for key in ("settle", "area_level") if key in data},
    )
    if roster:  # parsed on first use (`Campaign.__getattr__`)
        del campaign.__dict__["institutions"]
        campaign.__dict__["_roster_later"] = partial(_roster, roster)
    return campaign


# Fields added after campaigns were first stored, with their unused value: left out of the JSON while
# unused, so a campaign that does not use them keeps its digest (and loading the same file again stays
# a no-op); `from_json` gives them that value back.
_LATER_FIELDS = {("Campaign", "experts"): (), ("Expert", "institution"): None, ("Campaign", "portal"): None,
                 ("Campaign", "terms"): DEFAULT_TERMS, ("Stage", "short"): None, ("Stage", "submit_to"): None,
                 ("Institution", "inn"): None, ("Campaign", "previous"): None,
                 ("Stage", "form"): False, ("Area", "indicators"): (), ("Level", "baseline"): False,
                 ("Indicator", "hint"): None, ("Indicator", "evidence"): "required",
                 ("Campaign", "publish"): Publication(), ("Campaign", "settle"): "lower",
                 ("Campaign", "area_level"): "mean-rounded-down"}
_UNSET = object()


def _plain(value: Any) -> Any:
    if isinstance(value, WorkCalendar):
        return value.to_dict()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__
                if _LATER_FIELDS.get((type(value).__name__, name), _UNSET) != getattr(value, name)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
