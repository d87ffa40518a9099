"""What the portal asks once per process instead of at every request says what asking every time said.

The rules' state machines are asked what a trigger does once (`rules.sources`, `rules.can`): the answer is the
machine's own, for every trigger and state, and a caller that changes the list it got changes nobody else's. The
pages' moments are said once per (moment, zone) (`site._show`, `site._show_date`): as `calendar.show` says them, in
the zone asked, whatever was said before in another zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dqflow.calendar import show, show_date, zone
from dqflow.engine import rules
from dqflow.web import site

ZONES = ["Asia/Tomsk", "Europe/Moscow", "Europe/Kaliningrad", "Asia/Kamchatka", "UTC"]


def machine_sources(machine, trigger: str) -> tuple[str, list[str]]:
    found = machine.get_transitions(trigger=trigger)
    return next(iter({t.dest for t in found})), sorted({t.source for t in found})


def test_the_machines_answers_asked_once_are_the_machines_own():
    for machine in (rules.PROGRESS, rules.STAGE):
        for trigger in machine.events:
            found = machine.get_transitions(trigger=trigger)
            if len({t.dest for t in found}) == 1 and not any(t.conditions for t in found):
                for _ in range(2):  # asked, then answered from memory
                    assert rules.sources(machine, trigger) == machine_sources(machine, trigger)
            for state in machine.states:
                for _ in range(2):
                    assert rules.can(machine, trigger, state) == bool(machine.get_transitions(trigger=trigger, source=state))


def test_a_caller_changing_its_sources_changes_no_one_elses():
    dest, states = rules.sources(rules.PROGRESS, "excuse")
    states.append("nonsense")
    states.clear()
    assert rules.sources(rules.PROGRESS, "excuse") == machine_sources(rules.PROGRESS, "excuse")
    assert "upcoming" in rules.CLOCK[0].sources


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
       st.lists(st.sampled_from(ZONES), min_size=1, max_size=5))
def test_a_moment_said_once_is_said_as_calendar_says_it_in_each_zone(naive: datetime, zones: list[str]):
    instant = naive.replace(tzinfo=UTC)
    for name in zones + zones[::-1]:
        tz = zone(name)
        # the same instant handed in another zone's clothes (equal, and equal hash) is the same moment
        for moment in (instant, instant.astimezone(tz), instant.astimezone(zone("Asia/Tomsk"))):
            assert site._show(moment, tz) == show(moment, tz)
            assert site._show_date(moment, tz) == show_date(moment, tz)
    assert site._show(None, zone("UTC")) == show(None, zone("UTC"))


def test_a_moment_near_midnight_is_a_different_day_in_another_zone():
    instant = datetime(2021, 12, 12, 20, 30, tzinfo=UTC)  # 13.12 03:30 in Tomsk, 12.12 23:30 in Moscow
    assert site._show(instant, zone("Asia/Tomsk")) == "13.12.2021 03:30"
    assert site._show(instant, zone("Europe/Moscow")) == "12.12.2021 23:30"
    assert site._show_date(instant + timedelta(0), zone("Asia/Tomsk")) == "13.12.2021"
    assert site._show_date(instant, zone("Europe/Moscow")) == "12.12.2021"
