"""When reminders go out: the rules a stage follows and the sends each deadline's rules ask for.

A rule fixes the *day*; the message goes out at the start of the campaign's sending window
that day. On a non-working day a reminder that looks ahead (`before`, `at: due`, events)
moves to the previous working day, one that looks back (`at: opens`, `overdue`, the missed
notice) to the next. Pure computation on the campaign's calendar: `reminders` writes the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dqflow.calendar import Duration, WorkCalendar
from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.engine.skips import Skip, reason

TASK_DEFAULTS = (
    spec.ReminderRule("at", anchor="opens"),
    spec.ReminderRule("before", offset=Duration(2, "wd")),
    spec.ReminderRule("at", anchor="due"),
    spec.ReminderRule("overdue", offset=Duration(1, "d"), max=2),
)
COORDINATOR_DEFAULTS = (spec.ReminderRule("before", offset=Duration(3, "d")), spec.ReminderRule("at", anchor="due"))
EVENT_DEFAULTS = (spec.ReminderRule("before", offset=Duration(1, "d")),)
OVERDUE_DEFAULT_MAX = 3
MISSED_NOTICE_LIFETIME = timedelta(days=3)
RECOMMENDATIONS_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class Occurrence:
    """One planned send of one rule for one deadline."""

    rule: str
    kind: str
    send_at: datetime
    expires_at: datetime
    skip: str | None = None  # why it is planned as skipped, decided from the rule alone


def rules_for(campaign: spec.Campaign, stage: spec.Stage) -> tuple[spec.ReminderRule, ...]:
    """The stage's own rules, else the campaign's defaults, else dqflow's defaults."""
    if stage.reminders is not None:
        return stage.reminders
    if stage.kind == "event":
        return EVENT_DEFAULTS
    if stage.kind != "task":
        return ()
    if campaign.default_reminders is not None:
        return campaign.default_reminders
    return COORDINATOR_DEFAULTS if stage.actor == "coordinator" else TASK_DEFAULTS


# -- when ------------------------------------------------------------------------------


class Clock:
    """The campaign's sending window and working days, in its zone."""

    def __init__(self, campaign: spec.Campaign):
        self.tz = campaign.tz
        self.calendar = campaign.calendar
        self.sending = campaign.sending
        self.start = time.fromisoformat(campaign.sending.window_start)
        self.end = time.fromisoformat(campaign.sending.window_end)

    def sendable_day(self, day: date) -> bool:
        return not self.sending.working_days_only or self.calendar.is_working_day(day)

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def window_start(self, day: date, *, forward: bool) -> datetime:
        """The window's start on `day`, moved to a sendable day in the given direction."""
        step = timedelta(days=1 if forward else -1)
        while not self.sendable_day(day):
            day += step
        return datetime.combine(day, self.start, self.tz)

    def window_end(self, instant: datetime) -> datetime:
        return datetime.combine(self.day_of(instant), self.end, self.tz)

    def in_window(self, instant: datetime) -> bool:
        local = instant.astimezone(self.tz)
        return self.sendable_day(local.date()) and self.start <= local.time() < self.end

    def next_send_time(self, instant: datetime) -> datetime:
        """`instant` itself when inside a window, else the start of the next window."""
        if self.in_window(instant):
            return instant
        start = self.window_start(self.day_of(instant), forward=True)
        if start < instant:
            start = self.window_start(self.day_of(instant) + timedelta(days=1), forward=True)
        return start


def task_occurrences(stage_rules: Sequence[spec.ReminderRule], opens: datetime, due: datetime, locks: datetime, clock: Clock,
                     calendar: WorkCalendar, *, missed_notice: bool) -> list[Occurrence]:
    """Every send a deadline's rules ask for, in rule order; same-moment repeats are skipped. A send is
    judged by the stage's boundaries as a hand-in at that moment would be (`rules`)."""
    found: list[Occurrence] = []
    for rule in stage_rules:
        if rule.kind == "at" and rule.anchor == "opens":
            found.append(Occurrence("opens", "opened", clock.next_send_time(opens), due))
        elif rule.kind in ("before", "at"):
            name = "due" if rule.kind == "at" else f"before:{rule.offset}"
            moment = due if rule.kind == "at" else _offset(rule).before(due, clock.tz, calendar)
            send_at = clock.window_start(clock.day_of(moment), forward=False)
            kind = "due_today" if clock.day_of(send_at) == clock.day_of(due) else "before_due"
            skip = None if rules.has_opened(opens, send_at) else reason(Skip.BEFORE_OPENING)
            found.append(Occurrence(name, kind, send_at, due, skip))
        elif rule.kind == "overdue":
            moment = due
            for n in range(1, (rule.max or OVERDUE_DEFAULT_MAX) + 1):
                moment = _offset(rule).after(moment, clock.tz, calendar)
                send_at = clock.window_start(clock.day_of(moment), forward=True)
                if rules.has_locked(locks, send_at):
                    break
                if rules.past_due(due, send_at):
                    found.append(Occurrence(f"overdue:{rule.offset}#{n}", "overdue", send_at, locks))
    if missed_notice:
        send_at = clock.next_send_time(locks + timedelta(seconds=1))
        found.append(Occurrence("missed", "missed", send_at, send_at + MISSED_NOTICE_LIFETIME))
    return _first_per_moment(found)


def event_occurrences(stage_rules: Sequence[spec.ReminderRule], at: datetime, clock: Clock, calendar: WorkCalendar) -> list[Occurrence]:
    found = []
    for rule in stage_rules:
        if rule.kind != "before":
            continue
        send_at = clock.window_start(clock.day_of(_offset(rule).before(at, clock.tz, calendar)), forward=False)
        found.append(Occurrence(f"before:{rule.offset}", "event", send_at, at,
                                reason(Skip.AFTER_EVENT) if rules.has_opened(at, send_at) else None))
    return _first_per_moment(found)


def _first_per_moment(found: list[Occurrence]) -> list[Occurrence]:
    """Two rules landing on one moment send one reminder: the first rule keeps it."""
    taken: dict[datetime, str] = {}
    result = []
    for occ in found:
        if occ.skip is None and occ.send_at in taken:
            occ = Occurrence(occ.rule, occ.kind, occ.send_at, occ.expires_at, reason(Skip.SAME_MOMENT, taken[occ.send_at]))
        elif occ.skip is None:
            taken[occ.send_at] = occ.rule
        result.append(occ)
    return result


def _offset(rule: spec.ReminderRule) -> Duration:
    assert rule.offset is not None, f"a '{rule.kind}' rule has its offset (the parser requires it)"
    return rule.offset
