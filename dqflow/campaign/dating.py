"""Relative dates: a stage's `opens`, `due` or `at` written after another stage's date or after
the campaign's start, counted in days or working days of the campaign calendar.

    opens: {after: fill-form.due, plus: 1wd}
    at: {after: campaign.start, time: "14:00"}

A date is a wall-clock `Written` (a local date, and a time when one was written or inherited),
so `due: {after: x.opens, plus: 4d}` is a date whose meaning (the end of that day) is the
key's, as if the date had been written by hand. Resolution is pure: the entries in, the dates
and the problems (unknown references, circles) out; `spec` places them in the campaign's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import yaml

from dqflow.calendar import Duration, WorkCalendar, Written, checked_day
from dqflow.campaign.nodes import SLUG, NodeReader, suggest

START = "campaign.start"
FIELDS = ("opens", "due", "at")  # the dates of a stage another date may follow
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Relative:
    """`{after: REF, plus|minus: DURATION, time: "HH:MM"}`; `ref` is `campaign.start` or `STAGE.FIELD`."""

    ref: str
    shift: Duration | None = None
    sign: int = 1
    clock: time | None = None
    node: yaml.Node | None = None  # where the reference is written, for its problems

    def describe(self) -> str:
        """The rule in the file's own words, for a comment beside the date it became."""
        text = f"after {self.ref}"
        if self.shift is not None:
            text += f" {'+' if self.sign > 0 else '-'} {self.shift}"
        if self.clock is not None:
            text += f", {self.clock:%H:%M}"
        return text


def read(r: NodeReader, node: yaml.Node, what: str) -> Written | Relative | None:
    """A date as written: absolute (`30.11.2021`, `2021-11-30 14:00`) or relative (a mapping)."""
    if not isinstance(node, yaml.MappingNode):
        return r.written(node, what)
    f = r.mapping(node, what, ["after"], ["plus", "minus", "time"])
    if f is None or "after" not in f:
        return None
    ref = r.one_line(f["after"], f"{what}, after")
    if ref is not None and not valid_reference(ref):
        r.error(f["after"], f"{what}: after «{ref}» должен называть дату: {START} или opens, due либо at этапа "
                            f"(например, {ref.split('.')[0] or 'fill-form'}.due)")
        ref = None
    if "plus" in f and "minus" in f:
        r.error(f["minus"], f"{what}: укажите «plus» или «minus», но не оба")
        return None
    key = "plus" if "plus" in f else "minus" if "minus" in f else None
    shift = r.duration(f[key], f"{what}, {key}") if key else None
    clock = None
    if "time" in f:
        text = r.one_line(f["time"], f"{what}, time")
        if text is not None and not _CLOCK.fullmatch(text):
            r.error(f["time"], f"{what}: time «{text}» — нужно ЧЧ:ММ, например \"{_clock_hint(text)}\"")
            return None
        clock = time.fromisoformat(text) if text else None
        if text is None:
            return None
    if ref is None or (key and shift is None):
        return None
    return Relative(ref, shift, -1 if key == "minus" else 1, clock, f["after"])


def valid_reference(ref: str) -> bool:
    stage, _, key = ref.rpartition(".")
    return ref == START or (bool(SLUG.fullmatch(stage)) and key in FIELDS)


def _clock_hint(text: str) -> str:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", text)
    return f"{int(match[1]):02d}:{match[2]}" if match and int(match[1]) < 24 and int(match[2]) < 60 else "14:00"


def step(base: Written, rule: Relative, calendar: WorkCalendar) -> Written:
    """`base` moved by the rule's shift, at the rule's time of day if it gives one.

    Days and working days move the date and keep the time (or its absence); hours and minutes
    need a time to move. ValueError when the rule cannot apply."""
    shift, clock = rule.shift, base.clock
    day = base.day
    if shift is not None and shift.unit == "d":
        day = base.day + timedelta(days=rule.sign * shift.amount)
    elif shift is not None and shift.unit == "wd":
        day = calendar.shift_working_days(base.day, rule.sign * shift.amount)
    elif shift is not None:
        if base.clock is None:
            raise ValueError(f"{rule.ref} — дата без времени суток; сдвигайте её на дни (d) или рабочие дни (wd), а не на {shift}")
        minutes = shift.amount * (60 if shift.unit == "h" else 1)
        moved = datetime.combine(base.day, base.clock) + timedelta(minutes=rule.sign * minutes)
        day, clock = moved.date(), moved.time()
    if rule.clock is not None:
        clock = rule.clock
    checked_day(day, day.isoformat())
    return Written(day, clock)


@dataclass
class Resolution:
    dates: dict[str, Written]  # entry key → its date
    problems: list[tuple[yaml.Node | None, str]]  # each mistake once, where it is written


def resolve(entries: dict[str, Written | Relative | None], stages: dict[str, str | None], start: Written | None,
            start_given: bool, calendar: WorkCalendar) -> Resolution:
    """Every entry's date. Keys are `STAGE.FIELD` (an entry that cannot be referenced may use any
    other key); None marks an entry that failed to read (its problem is reported already), and
    `stages` names every stage id the file declares (with its kind, None when unreadable), so a
    date that follows a broken stage or entry is silently left out rather than reported twice.
    """
    dates: dict[str, Written] = {}
    failed: set[str] = set()
    problems: list[tuple[yaml.Node | None, str]] = []
    if start is not None:
        dates[START] = start
    elif start_given:
        failed.add(START)  # written, but wrong: said where it is written

    def who(key: str) -> str:
        stage, _, field = key.partition(".")
        return f"{'этап' if stage.startswith('#') else f'этап «{stage}»'}, {field}"

    def target(key: str, rule: Relative) -> str | None:
        """The key `rule` refers to, or None after reporting why there is none."""
        if rule.ref == START:
            if START not in dates and START not in failed:
                problems.append((rule.node, f"{who(key)}: after {START}, но у кампании нет start; "
                                            f"добавьте «start: дд.мм.гггг» в campaign или создайте кампанию командой «dqflow instantiate --start»"))
                return None
            return START
        stage, _, field = rule.ref.rpartition(".")
        if stage not in stages:
            problems.append((rule.node, f"{who(key)}: after «{rule.ref}»: этапа «{stage}» нет"
                                        f"{suggest(stage, [s for s in stages if s])}"))
            return None
        kind = stages[stage]
        if rule.ref not in entries and kind is not None and (field == "at") != (kind == "event"):
            has = "at" if kind == "event" else "opens или due"
            problems.append((rule.node, f"{who(key)}: after «{rule.ref}»: этап «{stage}» вида «{kind}», "
                                        f"у него нет {field}; возьмите его {has}"))
            return None
        if rule.ref not in entries:
            return None  # the stage lacks that key: its own problem says so
        return rule.ref

    # Depth-first without recursion: `path` is the chain being resolved, so meeting a key on it closes a circle.
    for first in entries:
        path: list[str] = []
        stack = [first]
        while stack:
            key = stack[-1]
            if key in dates or key in failed:
                stack.pop()
                if path and path[-1] == key:
                    path.pop()
                continue
            value = entries.get(key)
            if not isinstance(value, Relative):
                if value is None:
                    failed.add(key)
                else:
                    dates[key] = value
                continue
            if path and path[-1] == key:  # its reference is settled now
                ref = target(key, value)
                if ref is None or ref in failed:
                    failed.add(key)
                    continue
                try:
                    dates[key] = step(dates[ref], value, calendar)
                except ValueError as exc:
                    problems.append((value.node, f"{who(key)}: {exc}"))
                    failed.add(key)
                continue
            if key in path or value.ref == key:  # met again before it was settled: a circle
                circle = path[path.index(key):] if key in path else [key]
                circled = entries[circle[0]]
                assert isinstance(circled, Relative)  # only a relative date follows another
                problems.append((circled.node, "даты ссылаются друг на друга по кругу: "
                                 + " → ".join(circle + [circle[0]]) + "; запишите одну из них датой"))
                failed.update(circle)
                continue
            path.append(key)
            if value.ref in entries:
                stack.append(value.ref)
    dates.pop(START, None)
    return Resolution(dates, problems)
