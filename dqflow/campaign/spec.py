"""The campaign's face: the names its callers use, from where they live.

    campaign.model   the typed campaign (frozen dataclasses): Campaign, Stage, Institution, Expert, …
    campaign.parser  the campaign file (YAML) → a Campaign, every problem at FILE:LINE:COL
    campaign.codec   a Campaign ↔ the JSON stored with it, and its digest

`spec.Campaign`, `spec.load(path)`, `spec.to_json(campaign)` keep working for every caller. The parser
(YAML, roster files) is imported when one of its names is first asked for: a command that only reads a
stored campaign never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dqflow.campaign.codec import digest, digest_of, from_json, to_json
from dqflow.campaign.model import (
    ACTORS,
    AUDIENCES,
    STAGE_KINDS,
    Area,
    Campaign,
    Contact,
    Expert,
    Indicator,
    Institution,
    Level,
    Portal,
    ReminderRule,
    Sending,
    Stage,
    Titled,
)

if TYPE_CHECKING:
    from dqflow.campaign.parser import SCHEMA_VERSION, Validated, load, read_text, validate, validate_text

_PARSER = ("SCHEMA_VERSION", "Validated", "load", "read_text", "validate", "validate_text")

__all__ = [
    "ACTORS", "AUDIENCES", "STAGE_KINDS", "Area", "Campaign", "Indicator", "Level", "Contact", "Expert", "Institution", "Portal", "ReminderRule",
    "Sending", "Stage", "Titled", "digest", "digest_of", "from_json", "to_json",
    "SCHEMA_VERSION", "Validated", "load", "read_text", "validate", "validate_text",
]


def __getattr__(name: str) -> Any:
    if name in _PARSER:
        from dqflow.campaign import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
