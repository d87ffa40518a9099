"""An invitation's calendar is assembled from parts serialized once per send (the head with its
VTIMEZONE, each event but its UID): the bytes must be exactly those icalendar gives for the whole.
A calendar people use: a task is an event at the person's deadline with alarms the day before and that
morning, their portal page in its description, and no English anywhere in the file."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TOMSK, Cli
from dqflow.calendar import UTC
from dqflow.campaign import spec
from dqflow.present import ics

CAMPAIGN = spec.load(TOMSK)


def whole(campaign: spec.Campaign, found: list[ics.Entry], now: datetime, name: str) -> bytes:
    """The calendar built and serialized by icalendar in one piece, as dqflow did before."""
    tz = campaign.tz
    cal = icalendar.Calendar()
    for key, value in (("prodid", ics.PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"), ("method", "PUBLISH"),
                       ("x-wr-calname", name), ("x-wr-timezone", tz.key)):
        cal.add(key, value)
    for entry in found:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("summary", entry.summary)
        if entry.all_day:
            day = entry.start.astimezone(tz).date()
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
        else:
            event.add("dtstart", entry.start.astimezone(tz))
            if entry.end > entry.start:
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
            alarm.add("trigger", at.astimezone(UTC))
            event.add_component(alarm)
        cal.add_component(event)
    if found:
        first = min(e.start for e in found).astimezone(tz).date() - timedelta(days=366)
        last = max(e.end for e in found).astimezone(tz).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
        for zone in cal.walk("VTIMEZONE"):
            zone.pop("comment", None)
            zone.add("comment", f"Описание пояса верно с {first:%d.%m.%Y} по {last:%d.%m.%Y}.")
    return cal.to_ical()


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n,;\\"), max_size=120)
moments = st.datetimes(datetime(2021, 1, 1), datetime(2023, 1, 1), timezones=st.just(timezone.utc))
entries = st.builds(ics.Entry, uid=st.one_of(st.from_regex(r"[a-z0-9/._@-]{1,80}", fullmatch=True), texts.filter(bool)),
                    summary=texts, start=moments, end=moments, all_day=st.booleans(), description=texts,
                    url=st.none() | st.just("https://example.org/webinar?a=1,b=2"), sequence=st.integers(0, 3), busy=st.booleans(),
                    alarms=st.lists(st.tuples(moments, texts), max_size=2).map(tuple))


@settings(max_examples=150, deadline=None)
@given(found=st.lists(entries, max_size=3), now=moments)
def test_an_invitation_is_the_bytes_icalendar_gives_for_the_whole(found, now):
    assert ics.calendar(CAMPAIGN, found, now, CAMPAIGN.title) == whole(CAMPAIGN, found, now, CAMPAIGN.title)


def test_invitations_to_a_whole_audience_differ_only_in_their_uid():
    stage = next(s for s in CAMPAIGN.stages if s.actor == "institution")
    first, second = (ics.calendar(CAMPAIGN, [ics.task_entry(CAMPAIGN, stage, ics.Who("institution", i), stage.opens_at,
                                                             stage.due_at, stage.title, 0)], stage.opens_at, CAMPAIGN.title)
                     for i in ("1", "2"))
    assert first.replace(b"institution-1@", b"institution-2@") == second
    assert first == whole(CAMPAIGN, [ics.task_entry(CAMPAIGN, stage, ics.Who("institution", "1"), stage.opens_at,
                                                    stage.due_at, stage.title, 0)], stage.opens_at, CAMPAIGN.title)


def test_entries_say_the_zone_as_the_emails_say_it():
    """A person reads «по местному времени (UTC+7)» in the email and in its calendar entry alike, not the zone's name."""
    review = CAMPAIGN.stage("review1")
    task = ics.task_entry(CAMPAIGN, review, ics.Who("expert", "e4/2"), review.opens_at, review.due_at, "Экспертиза", 0)
    assert "срок 05.12.2021 23:59 по местному времени (UTC+7)." in task.description, task.description
    webinar = next(s for s in CAMPAIGN.stages if s.kind == "event" and not s.all_day)
    event = ics.event_entry(CAMPAIGN, webinar)
    assert event.description.startswith("Начало: ") and "по местному времени (UTC+7)." in event.description.splitlines()[0]
    data = ics.calendar(CAMPAIGN, [task, event], review.opens_at, CAMPAIGN.title).decode()
    assert "(Asia/Tomsk)" not in data.replace("\r\n ", "")
    assert data == whole(CAMPAIGN, [task, event], review.opens_at, CAMPAIGN.title).decode()


# -- a calendar people use -------------------------------------------------------------------

TZ = ZoneInfo("Asia/Tomsk")
PORTAL = "https://monitoring.example.org"


def test_a_task_is_an_event_at_the_deadline_with_alarms_the_day_before_and_that_morning():
    stage = CAMPAIGN.stage("fill-form")
    due = datetime(2021, 12, 3, 23, 59, 59, tzinfo=TZ)  # an extended deadline
    task = ics.task_entry(CAMPAIGN, stage, ics.Who("institution", "4"), stage.opens_at, due, stage.title, 1, f"{PORTAL}/dou/4/1.x")
    [event] = icalendar.Calendar.from_ical(ics.calendar(CAMPAIGN, [task], stage.opens_at, CAMPAIGN.title)).walk("VEVENT")
    assert event["dtstart"].dt == due and "dtend" not in event  # an instant at the deadline, not a bar over the window
    triggers = [alarm["trigger"].dt for alarm in event.walk("VALARM")]
    assert triggers == [datetime(2021, 12, 2, 9, 0, tzinfo=TZ), datetime(2021, 12, 3, 9, 0, tzinfo=TZ)]
    assert [str(a["action"]) for a in event.walk("VALARM")] == ["DISPLAY", "DISPLAY"]
    said = [str(a["description"]) for a in event.walk("VALARM")]
    assert said[0].startswith("Завтра срок: ") and said[1].startswith("Сегодня срок: ") and "03.12.2021 23:59" in said[0]


def test_no_alarm_rings_before_the_window_opens_or_after_the_deadline():
    stage = CAMPAIGN.stage("fill-form")
    opens = datetime(2021, 12, 2, 12, 0, tzinfo=TZ)  # opened after the eve's 09:00
    early = datetime(2021, 12, 3, 8, 0, tzinfo=TZ)  # due before the last day's 09:00
    task = ics.task_entry(CAMPAIGN, stage, ics.Who("institution", "4"), opens, early, stage.title, 0)
    assert task.alarms == ()
    late = datetime(2021, 12, 3, 18, 0, tzinfo=TZ)
    assert [at for at, _ in ics.task_entry(CAMPAIGN, stage, ics.Who("institution", "4"), opens, late, stage.title, 0).alarms] == [
        datetime(2021, 12, 3, 9, 0, tzinfo=TZ)]


def english_words(data: str) -> set[str]:
    """The Latin words of a calendar a person reads: property values bar the machine's (ids, links, addresses, zones)."""
    words: set[str] = set()
    for line in data.replace("\r\n ", "").splitlines():
        name, _, value = line.partition(":")
        if name.split(";")[0] not in ("SUMMARY", "DESCRIPTION", "COMMENT", "X-WR-CALNAME", "LOCATION"):
            continue
        # links, addresses and the zone as people write it («UTC+7») are not English
        value = re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+|UTC[+−-]\d+", "", value.replace("\\n", " "))
        words |= set(re.findall(r"[A-Za-z]{3,}", value))
    return words


def test_a_dou_calendar_carries_its_portal_page_and_no_english(db_url: str, tmp_path: Path):
    dq = Cli(db_url, env={"DQFLOW_BASE_URL": PORTAL})
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    path = tmp_path / "dou4.ics"
    dq.ok("calendar", "--institution", "4", "--out", str(path), "--now", "2021-11-29")
    data = path.read_bytes().decode()
    cal = icalendar.Calendar.from_ical(data)
    fill = next(e for e in cal.walk("VEVENT") if str(e["uid"]) == "tomsk-2021/fill-form/institution-4@dqflow")
    assert fill["dtstart"].dt == datetime(2021, 11, 30, 23, 59, 59, tzinfo=TZ) and "dtend" not in fill
    assert len(fill.walk("VALARM")) == 2
    page = re.search(r"Ваша страница на портале: (\S+)", str(fill["description"]))
    assert page and re.fullmatch(rf"{PORTAL}/dou/4/1\.[\w-]+", page.group(1)), fill["description"]
    assert str(fill["url"]) == page.group(1)
    assert "This timezone" not in data and "only works" not in data
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["comment"]).startswith("Описание пояса верно с ")
    assert english_words(data) == set(), english_words(data)
    dq.ok("tick", "--now", "2021-11-26")  # list1 drawn: an expert's reviews carry the expert's own page
    expert = tmp_path / "e15.ics"
    dq.ok("calendar", "--expert", "e15", "--out", str(expert), "--now", "2021-11-26")
    reviews = [e for e in icalendar.Calendar.from_ical(expert.read_bytes()).walk("VEVENT") if "/review1/" in str(e["uid"])]
    assert reviews and all(f"{PORTAL}/expert/e15/1." in str(e["description"]) for e in reviews)
    assert english_words(expert.read_bytes().decode()) == set()


def test_without_a_portal_the_description_names_none():
    stage = CAMPAIGN.stage("fill-form")
    task = ics.task_entry(CAMPAIGN, stage, ics.Who("institution", "4"), stage.opens_at, stage.due_at, stage.title, 0)
    assert "портале" not in task.description and task.url == stage.url
