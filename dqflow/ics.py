"""Calendars (RFC 5545, the `icalendar` package) of what one person has to do in a campaign.

A ДОУ's calendar holds its own stages, an expert's the reviews of the ДОУ assigned to them, the
coordinator's every stage; each with the events (webinars) of that person's audience. A task is an
event from its opening to the person's *effective* deadline (an extension moves it), so calendar
programs show the window as a bar that ends at the deadline; a webinar is an event at its time (an
hour long; all day when given by its date alone) with its link. Times are in the campaign's zone,
whose VTIMEZONE is included. UIDs are stable per campaign, stage and person, and the SEQUENCE grows
with each extension, so importing a newer calendar updates the events instead of doubling them.

This module reads (in the caller's rolled-back session); it never changes state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
from sqlmodel import Session, select

from dqflow import engine, experts, spec
from dqflow.calendar import UTC, show
from dqflow.errors import NotFound
from dqflow.store import ExtensionRow, ProgressRow

EVENT_LENGTH = timedelta(hours=1)  # a webinar is given by its start alone
PRODID = "-//dqflow//МКДО//RU"


@dataclass(frozen=True)
class Who:
    """Whose calendar: a ДОУ, an expert, or the coordinator (id None)."""

    role: str  # institution | expert | coordinator
    id: str | None = None


@dataclass(frozen=True)
class Entry:
    uid: str
    summary: str
    start: datetime
    end: datetime
    all_day: bool
    description: str
    url: str | None = None
    sequence: int = 0
    busy: bool = False  # a webinar takes the time; a task's window does not


def entries(session: Session, campaign: spec.Campaign, who: Who, now: datetime) -> list[Entry]:
    """The person's entries as of `now` (lists drawn by then are in); call in a rolled-back session."""
    _check(campaign, who)
    engine.reconcile(session, campaign.id, now)  # as `status` sees it: lists whose stage opened are drawn
    progress = {(r.institution_id, r.stage_id): r for r in
                session.exec(select(ProgressRow).where(ProgressRow.campaign_id == campaign.id)).all()}
    extended: dict[tuple[str, str], int] = defaultdict(int)
    for inst, stage_id in session.exec(select(ExtensionRow.institution_id, ExtensionRow.stage_id)
                                       .where(ExtensionRow.campaign_id == campaign.id)).all():
        extended[(inst, stage_id)] += 1
    lists = {s.id: experts.stored(session, campaign.id, s.id) for s in campaign.stages if s.kind == "assignment"}
    names = {i.id: i.name for i in campaign.institutions}
    found: list[Entry] = []
    for stage in campaign.stages:
        if stage.kind == "event":
            if _audience(who) in stage.audience or who.role == "coordinator":
                found.append(event_entry(campaign, stage, who))
        elif who.role == "coordinator":
            found.append(_task(campaign, stage, who, stage.opens_at, stage.due_at, stage.title, 0))
        elif who.role == "institution" and stage.actor == "institution":
            row = progress[(who.id, stage.id)]
            found.append(_task(campaign, stage, who, row.opens_at, row.due_at, stage.title, extended[(who.id, stage.id)]))
        elif who.role == "expert" and stage.actor == "expert":
            drawn = lists.get(stage.list or "", {})
            mine = [inst for inst, assigned in drawn.items() if who.id in assigned]
            if not drawn:  # the list is drawn when its stage opens: until then, the stage as a whole
                found.append(_task(campaign, stage, who, stage.opens_at, stage.due_at,
                                   f"{stage.title} (список экспертов ещё не составлен)", 0))
            for inst in sorted(mine, key=list(names).index):
                row = progress[(inst, stage.id)]
                found.append(_task(campaign, stage, Who("expert", f"{who.id}/{inst}"), row.opens_at, row.due_at,
                                   f"Экспертиза: {names[inst]} — {stage.title}", extended[(inst, stage.id)]))
    return found


def _check(campaign: spec.Campaign, who: Who) -> None:
    if who.role == "institution" and not any(i.id == who.id for i in campaign.institutions):
        raise NotFound(f"no ДОУ '{who.id}' in campaign '{campaign.id}'")
    if who.role == "expert" and not any(e.id == who.id for i in campaign.institutions for e in i.experts):
        raise NotFound(f"no expert '{who.id}' in campaign '{campaign.id}'")


def _audience(who: Who) -> str:
    return {"institution": "institutions", "expert": "experts"}.get(who.role, who.role)


def _uid(campaign: spec.Campaign, stage: spec.Stage, who: Who) -> str:
    person = who.role if who.id is None else f"{who.role}-{who.id}"
    return f"{campaign.id}/{stage.id}/{person}@dqflow".replace(" ", "_")


def _task(campaign: spec.Campaign, stage: spec.Stage, who: Who, opens: datetime, due: datetime, summary: str,
          extensions: int) -> Entry:
    tz = campaign.tz
    lines = [f"Этап «{stage.title}» ({stage.id}).",
             f"Открыт с {show(opens, tz)}, срок {show(due, tz)} ({tz.key})" + (" — срок продлён." if extensions else ".")]
    if stage.result:
        lines.append(f"Результат: {stage.result}.")
    lines.append(f"Кампания: {campaign.title}. Координатор: {campaign.coordinator.name}, {campaign.coordinator.email}.")
    return Entry(_uid(campaign, stage, who), f"Срок {show(due, tz)[:10]}: {summary}", opens, max(due, opens), False,
                 "\n".join(lines), stage.url, extensions)


def event_entry(campaign: spec.Campaign, stage: spec.Stage, who: Who | None = None) -> Entry:
    """A webinar or another event: at its time, an hour long (all day when given by its date)."""
    tz = campaign.tz
    lines = [f"{'Дата' if stage.all_day else 'Начало'}: {show(stage.opens_at, tz)[:10] if stage.all_day else show(stage.opens_at, tz)} ({tz.key})."]
    if stage.url:
        lines.append(f"Ссылка: {stage.url}")
    if stage.result:
        lines.append(f"Результат: {stage.result}.")
    lines.append(f"Кампания: {campaign.title}. Координатор: {campaign.coordinator.name}, {campaign.coordinator.email}.")
    # an event is the same for everyone invited: one UID, so a person who is both ДОУ and expert sees it once
    return Entry(_uid(campaign, stage, Who("event")), stage.title, stage.opens_at, stage.opens_at + EVENT_LENGTH,
                 stage.all_day, "\n".join(lines), stage.url, busy=not stage.all_day)


def calendar(campaign: spec.Campaign, found: list[Entry], now: datetime, name: str) -> bytes:
    """The VCALENDAR (with the campaign zone's VTIMEZONE) as bytes, CRLF lines as RFC 5545 wants."""
    tz = campaign.tz
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz.key)
    for entry in found:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("summary", entry.summary)
        if entry.all_day:
            day: date = entry.start.astimezone(tz).date()
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
        else:
            event.add("dtstart", entry.start.astimezone(tz))
            event.add("dtend", entry.end.astimezone(tz))
        event.add("description", entry.description)
        if entry.url:
            event.add("url", entry.url)
            event.add("location", entry.url)
        event.add("sequence", entry.sequence)
        event.add("transp", "OPAQUE" if entry.busy else "TRANSPARENT")
        cal.add_component(event)
    if found:
        first = min(e.start for e in found).astimezone(tz).date()
        last = max(e.end for e in found).astimezone(tz).date()
        cal.add_missing_timezones(first_date=first - timedelta(days=366), last_date=last + timedelta(days=366))
    return cal.to_ical()


def title(campaign: spec.Campaign, who: Who) -> str:
    if who.role == "institution":
        name = next(i.name for i in campaign.institutions if i.id == who.id)
        return f"{campaign.title}: {name}"
    if who.role == "expert":
        return f"{campaign.title}: эксперт {who.id}"
    return f"{campaign.title}: координатор"
