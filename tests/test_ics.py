"""An invitation's calendar is assembled from parts serialized once per send (the head with its
VTIMEZONE, each event but its UID): the bytes must be exactly those icalendar gives for the whole."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TOMSK
from dqflow.present import ics
from dqflow.campaign import spec
from dqflow.calendar import UTC

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


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n,;\\"), max_size=120)
moments = st.datetimes(datetime(2021, 1, 1), datetime(2023, 1, 1), timezones=st.just(timezone.utc))
entries = st.builds(ics.Entry, uid=st.one_of(st.from_regex(r"[a-z0-9/._@-]{1,80}", fullmatch=True), texts.filter(bool)),
                    summary=texts, start=moments, end=moments, all_day=st.booleans(), description=texts,
                    url=st.none() | st.just("https://example.org/webinar?a=1,b=2"), sequence=st.integers(0, 3), busy=st.booleans())


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
