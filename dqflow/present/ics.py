"""iCalendar (RFC 5545, the `icalendar` package): a campaign's stages and events as calendar entries.

A task is an event AT the person's *effective* deadline (an extension moves it), not a bar over its
window: a weeks-long timed event buries a person's week view, while the deadline is what they act on.
The window's opening is in its description, with the person's own portal page. Two alarms ring: the
day before at 09:00 and the deadline's own day at 09:00 local time (a deadline is mostly 23:59, so
an alarm relative to it would ring at night; the morning of the last day leaves the working day to
finish, which is when coordinators chase by phone). Every entry is named by its stage's `label` (its
`short:`, else its title), the order's full wording in the description. A webinar is an event at its
time (an hour long; all day when given by its date alone) with its link. Times are in the campaign's zone, whose
VTIMEZONE is included (its English comment put in Russian: nothing in the file is English). UIDs
are stable per campaign, stage and person, and the SEQUENCE grows with each extension, so importing a
newer calendar (or an email's invitation) updates the events instead of doubling them. Pure: whose
entries a calendar holds is `results.calendars`' question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import icalendar

from dqflow.calendar import UTC, show, utc_offset
from dqflow.campaign import spec

EVENT_LENGTH = timedelta(hours=1)  # a webinar is given by its start alone
ALARM_AT = time(9, 0)  # local time of a deadline's alarms: the start of a working day
PRODID = "-//dqflow//МКДО//RU"


@dataclass(frozen=True)
class Who:
    """Whose calendar: a ДОУ, an expert, or the coordinator (id None). An expert's review of one ДОУ
    is `Who("expert", "EXPERT/INSTITUTION")`."""

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
    alarms: tuple[tuple[datetime, str], ...] = ()  # (when, what it says), aware


def deadline_alarms(opens: datetime, due: datetime, tz, what: str) -> tuple[tuple[datetime, str], ...]:
    """A deadline's alarms: the day before and the day itself at `ALARM_AT` local, those after the
    opening and before the deadline only (a window opened on the eve has no eve's alarm)."""
    last_day = due.astimezone(tz).date()
    found = []
    for day, said in ((last_day - timedelta(days=1), "Завтра"), (last_day, "Сегодня")):
        at = datetime.combine(day, ALARM_AT, tz)
        if opens < at < due:
            found.append((at, f"{said} срок: {what} ({show(due, tz)} {_local(due, tz)})."))
    return tuple(found)


def task_uid(campaign: spec.Campaign, stage: spec.Stage, who: Who) -> str:
    """A task entry's UID: what `task_entry` gives it."""
    return _uid(campaign, stage, who)


def event_uid(campaign: spec.Campaign, stage: spec.Stage) -> str:
    """An event entry's UID: what `event_entry` gives it."""
    return _uid(campaign, stage, Who("event"))


def _uid(campaign: spec.Campaign, stage: spec.Stage, who: Who) -> str:
    person = who.role if who.id is None else f"{who.role}-{who.id}"
    return f"{campaign.id}/{stage.id}/{person}@dqflow".replace(" ", "_")


def task_entry(campaign: spec.Campaign, stage: spec.Stage, who: Who, opens: datetime, due: datetime, summary: str,
               extensions: int, page: str | None = None) -> Entry:
    """The person's deadline of a stage; `page` is their own portal page (None: no portal, or not known)."""
    tz = campaign.tz
    lines = [f"Этап «{stage.label}».", *_order_wording(stage),
             # as the emails say it: the person reads local time and its offset, not the zone's name
             f"Открыт с {show(opens, tz)}, срок {show(due, tz)} {_local(due, tz)}" + (" — срок продлён." if extensions else ".")]
    if page:
        lines.append(f"Ваша страница на портале: {page}")
    if stage.url:
        lines.append(f"Ссылка этапа: {stage.url}")
    if stage.result:
        lines.append(f"Результат: {stage.result}.")
    lines.append(f"Кампания: {campaign.title}. Координатор: {campaign.coordinator.name}, {campaign.coordinator.email}.")
    due = max(due, opens)
    return Entry(_uid(campaign, stage, who), f"Срок {show(due, tz)[:10]}: {summary}", due, due, False,
                 "\n".join(lines), page or stage.url, extensions, alarms=deadline_alarms(opens, due, tz, summary))


def event_entry(campaign: spec.Campaign, stage: spec.Stage) -> Entry:
    """A webinar or another event: at its time, an hour long (all day when given by its date)."""
    tz = campaign.tz
    lines = [f"Дата: {show(stage.opens_at, tz)[:10]}." if stage.all_day  # a date alone is the same in every zone's words
             else f"Начало: {show(stage.opens_at, tz)} {_local(stage.opens_at, tz)}.", *_order_wording(stage)]
    if stage.url:
        lines.append(f"Ссылка: {stage.url}")
    if stage.result:
        lines.append(f"Результат: {stage.result}.")
    lines.append(f"Кампания: {campaign.title}. Координатор: {campaign.coordinator.name}, {campaign.coordinator.email}.")
    # an event is the same for everyone invited: one UID, so a person who is both ДОУ and expert sees it once
    return Entry(_uid(campaign, stage, Who("event")), stage.label, stage.opens_at, stage.opens_at + EVENT_LENGTH,
                 stage.all_day, "\n".join(lines), stage.url, busy=not stage.all_day)


def _order_wording(stage: spec.Stage) -> list[str]:
    """The order's full wording of a stage whose name (`label`, the SUMMARY) is its `short:`: a second line."""
    return [f"В приказе: «{stage.title}»."] if stage.label != stage.title else []


def _local(instant: datetime, tz) -> str:
    """«по местному времени (UTC+7)»: the zone as the emails and the portal name it to a person."""
    return f"по местному времени ({utc_offset(instant, tz)})"


def calendar(campaign: spec.Campaign, found: list[Entry], now: datetime, name: str) -> bytes:
    """The VCALENDAR (with the campaign zone's VTIMEZONE) as bytes, CRLF lines as RFC 5545 wants.

    The very bytes icalendar gives for the whole, built from parts that a send's invitations share:
    the head (the calendar's properties and VTIMEZONE) and each event but its UID are serialized
    once (icalendar folds lines a character at a time: ~30 µs a line of Russian)."""
    tz = campaign.tz
    events = [_event(entry, now, tz) for entry in found]
    span: tuple[date, date] | None = None
    if found:
        first = min(e.start for e in found).astimezone(tz).date()
        last = max(e.end for e in found).astimezone(tz).date()
        span = (first - timedelta(days=366), last + timedelta(days=366))
    zones = tuple(sorted({zone for _, used in events for zone in used}))
    return b"".join((_head(tz.key, name, zones, span), *(data for data, _ in events), _END))


_END = b"END:VCALENDAR\r\n"


def around_uid(campaign: spec.Campaign, entry: Entry, now: datetime, name: str) -> tuple[bytes, bytes]:
    """A calendar of one entry cut at its UID line: `calendar(campaign, [entry], now, name)` is
    `before + uid_line(entry.uid) + after`, and the same for every entry differing only in its UID
    (an audience's invitations to one stage): the writer builds it once per audience."""
    tz = campaign.tz
    (before, after), zones = _event_but_uid(replace(entry, uid=""), now, tz)
    first, last = entry.start.astimezone(tz).date(), entry.end.astimezone(tz).date()
    head = _head(tz.key, name, tuple(sorted(zones)), (first - timedelta(days=366), last + timedelta(days=366)))
    return head + before, after + _END


def uid_line(uid: str) -> bytes:
    return _uid_line(uid)


def _event(entry: Entry, now: datetime, tz) -> tuple[bytes, frozenset[str]]:
    """A VEVENT's bytes and the zones it names. Only the UID differs between the invitations of one
    stage to a whole audience: the rest is serialized once."""
    uid = _uid_line(entry.uid)
    (before, after), zones = _event_but_uid(replace(entry, uid=""), now, tz)
    return before + uid + after, zones


_BEGIN_EVENT, _END_EVENT = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"
_PLAIN_UID = re.compile(r"[A-Za-z0-9@._/+=-]{1,70}")  # nothing icalendar would escape, one line unfolded


def _uid_line(uid: str) -> bytes:
    """The UID line as icalendar writes it: directly when it is plain and short (our UIDs are),
    through icalendar otherwise (its serializing costs ~100 µs an event)."""
    if _PLAIN_UID.fullmatch(uid):
        return b"UID:" + uid.encode("ascii") + b"\r\n"
    alone = icalendar.Event()
    alone.add("uid", uid)
    return alone.to_ical()[len(_BEGIN_EVENT):-len(_END_EVENT)]


@lru_cache(maxsize=1024)
def _event_but_uid(entry: Entry, now: datetime, tz) -> tuple[tuple[bytes, bytes], frozenset[str]]:
    """The VEVENT's bytes before its UID line and after it (icalendar sorts the properties)."""
    event = icalendar.Event()
    event.add("uid", "-")  # a placeholder: its line is cut out, the caller's own goes in its place
    event.add("dtstamp", now.astimezone(UTC))
    event.add("summary", entry.summary)
    if entry.all_day:
        day: date = entry.start.astimezone(tz).date()
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("dtstart", entry.start.astimezone(tz))
        if entry.end > entry.start:  # none: an instant, as RFC 5545 reads a DTSTART without DTEND (a deadline)
            event.add("dtend", entry.end.astimezone(tz))
    event.add("description", entry.description)
    if entry.url:
        event.add("url", entry.url)
        event.add("location", entry.url)
    event.add("sequence", entry.sequence)
    event.add("transp", "OPAQUE" if entry.busy else "TRANSPARENT")
    for at, said in entry.alarms:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", said)
        alarm.add("trigger", at.astimezone(UTC))  # absolute (VALUE=DATE-TIME, UTC as RFC 5545 wants)
        event.add_component(alarm)
    holder = icalendar.Calendar()
    holder.add_component(event)
    before, placeholder, after = event.to_ical().partition(b"\r\nUID:-\r\n")
    assert placeholder
    return (before + b"\r\n", after), frozenset(holder.get_missing_tzids())


@lru_cache(maxsize=32)
def _head(zone: str, name: str, tzids: tuple[str, ...], span: tuple[date, date] | None) -> bytes:
    """A calendar's properties and the VTIMEZONE of each zone its events name, over `span`, as bytes
    up to its first event. Built once per process and span: icalendar builds a VTIMEZONE by asking
    the zone's offset for every hour of the span (~25 ms)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", zone)
    first, last = span or (date.min, date.min)  # no span: a calendar without events, which names no zone
    for tzid in tzids:
        try:
            described = icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last)
        except ValueError:  # a zone icalendar does not know goes without its VTIMEZONE, as add_missing_timezones does
            continue
        described.pop("comment", None)  # icalendar's English «This timezone only works from …»: said in Russian instead
        described.add("comment", f"Описание пояса верно с {first:%d.%m.%Y} по {last:%d.%m.%Y}.")
        cal.add_component(described)
    whole = cal.to_ical()
    assert whole.endswith(_END)
    return whole[: -len(_END)]
