"""A ДОУ's history as people read it: each audit row as an `Entry` (when, what, by, detail), which the
terminal (`history_text`) and the portal's card both show; `history_json` keeps the codes for programs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, show, zone_label
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.present.labels import (
    ACTION_RU,
    AMENDED_DATES_RU,
    REVIEWS_DONE_RU,
    STATUS_RU,
    TIMES_RU,
    actor_ru,
    expert_name,
    levels_text,
    settlement_detail,
    stage_name,
)
from dqflow.store import AuditRow

if TYPE_CHECKING:
    from dqflow.campaign.spec import Campaign


@dataclass(frozen=True)
class Entry:
    """One audit row in words."""

    when: datetime  # the moment the change took effect (the command's --now, a stage boundary)
    stage: str | None  # the stage's name as people read it (`Stage.label`); None for a campaign-wide row
    what: str  # «материалы сданы (открыт → выполнено)»
    detail: str  # «до 05.12.2021 23:59; причина: …»; '' when there is nothing more to say
    by: str  # who, in Russian; '' for the schedule
    recorded: datetime | None  # when the row was written, when that is another minute (a back-dated entry, a catch-up)


def history_entries(rows: list[AuditRow], tz: ZoneInfo, campaign: Campaign | None = None) -> list[Entry]:
    """`campaign` (its stages, areas and experts) lets a stage read as its name, a review as its expert's name
    and levels by area's title, and who acted by name."""
    terms = campaign.terms if campaign else DOU
    return [Entry(when=r.at, stage=stage_name(campaign, r.stage_id) if r.stage_id else None, what=_what(r),
                  detail="; ".join(_details(r, tz, campaign)), by=actor_ru(r.actor, terms, campaign) if r.actor else "",
                  recorded=r.recorded_at if show(r.recorded_at, tz) != show(r.at, tz) else None)
            for r in rows]


def _what(row: AuditRow) -> str:
    detail = json.loads(row.detail) if row.detail else {}
    # a review stage is done when its last expert reported: the row of that review says so
    text = (REVIEWS_DONE_RU if detail.get("reviews") else AMENDED_DATES_RU if row.action in ("amend", "amend-stage") and "previous" in detail
            else ACTION_RU.get(row.action, row.action))
    if row.source and row.source != row.dest:
        text += f" ({STATUS_RU.get(row.source, row.source)} → {STATUS_RU.get(row.dest or '', row.dest)})"
    return text


def _details(row: AuditRow, tz: ZoneInfo, campaign: Campaign | None) -> list[str]:
    detail = json.loads(row.detail) if row.detail else {}
    said = []
    if detail.get("until"):
        said.append(f"до {_local(detail['until'], tz)}")
    previous = detail.get("previous") or {}
    if row.action == "extend" and previous.get("due_at"):
        said.append(f"прежний срок {_local(previous['due_at'], tz)}")
    elif row.action in ("amend", "amend-stage"):  # each time that moved, old → new
        said += [f"{TIMES_RU[k]} {_local(previous[k], tz)} → {_local(detail[k], tz)}" for k in TIMES_RU
                 if previous.get(k) and detail.get(k) and previous[k] != detail[k]]
    if row.action == "settle":  # the indicator, its settled level and the experts' (`engine.settle`)
        said.append(settlement_detail(campaign, detail))
    if row.action == "readdress" and detail.get("new"):
        said.append(f"{detail.get('old') or '—'} → {detail['new']}")
    if detail.get("reason"):
        said.append(f"причина: {detail['reason']}")
    if detail.get("links"):
        said.append(" ".join(detail["links"]))
    if row.action in ("review", "review-update") and detail.get("expert"):
        said.append(f"эксперт {expert_name(campaign, detail['expert'])}")
        if detail.get("levels"):
            said.append(levels_text(campaign, detail["levels"]) if campaign else
                        ", ".join(f"{a}={lv}" for a, lv in detail["levels"].items()))
    return said


def _local(text: str, tz: ZoneInfo) -> str:
    return show(datetime.fromisoformat(text), tz)


def history_text(rows: list[AuditRow], tz: ZoneInfo, now: datetime, campaign: Campaign | None = None) -> str:
    """One line per entry, oldest first, the zone named once."""
    if not rows:
        return "Записей нет."
    lines = [zone_label(tz, now, capital=True)]
    for e in history_entries(rows, tz, campaign):
        lines.append(f"{show(e.when, tz)}  {e.stage or '—'}: {e.what}" + (f"; {e.detail}" if e.detail else "")
                     + (f" — {e.by}" if e.by else "") + (f" [записано {show(e.recorded, tz)}]" if e.recorded else ""))
    return "\n".join(lines)


def history_json(rows: list[AuditRow], tz: ZoneInfo) -> str:
    return json.dumps([
        {"at": iso(r.at, tz), "recorded_at": iso(r.recorded_at, tz), "stage": r.stage_id, "action": r.action,
         "from": r.source, "to": r.dest, "detail": json.loads(r.detail) if r.detail else None, "by": r.actor}
        for r in rows
    ], ensure_ascii=False, indent=2)
