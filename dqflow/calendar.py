"""Time zones, working days, durations and how times are written and shown.

Nothing here reads the wall clock: every function takes the instant it works on.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays

UTC = timezone.utc
END_OF_DAY = time(23, 59, 59)
# Years a campaign, a --now or an extension may name: wide enough for any monitoring, narrow
# enough that every deadline ± a duration stays a valid datetime (year 1 or 9999 overflow).
FIRST_YEAR, LAST_YEAR = 1900, 2200
# The longest duration of each unit: a year, the cycle of the monitoring.
MAX_DURATION = {"d": 366, "wd": 260, "h": 366 * 24, "m": 366 * 24 * 60}

_DURATION = re.compile(r"(\d+)(wd|d|h|m)")
_LOCAL = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<offset>Z|[+-]\d{2}:?\d{2})?)?"
)


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError with a hint when there is none."""
    if not re.fullmatch(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", name or ""):
        raise ValueError(f"«{name}» — не название часового пояса IANA; напишите, например, Asia/Tomsk")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"часового пояса «{name}» нет; напишите название IANA, например Asia/Tomsk") from None


_WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


@dataclass(frozen=True)
class Duration:
    """A span written `3d`, `12h`, `30m` or `2wd` (working days of the campaign calendar)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> "Duration":
        match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"«{text}» — не длительность; напишите 3d (дни), 12h (часы), 30m (минуты) или 2wd (рабочие дни)")
        amount, unit = match[1].lstrip("0") or "0", match[2]
        if len(amount) > 6 or int(amount) > MAX_DURATION[unit]:
            longest = ", ".join(f"{n}{u}" for u, n in MAX_DURATION.items())
            raise ValueError(f"«{text}» — больше года; самые длинные допустимые: {longest}")
        return cls(int(amount), unit)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, instant: datetime, tz: ZoneInfo, calendar: "WorkCalendar") -> datetime:
        """`instant` moved forward by this span; days count on the local wall clock."""
        return self._shift(instant, tz, calendar, +1)

    def before(self, instant: datetime, tz: ZoneInfo, calendar: "WorkCalendar") -> datetime:
        return self._shift(instant, tz, calendar, -1)

    def _shift(self, instant: datetime, tz: ZoneInfo, calendar: "WorkCalendar", sign: int) -> datetime:
        if self.unit == "h":
            return instant + sign * timedelta(hours=self.amount)
        if self.unit == "m":
            return instant + sign * timedelta(minutes=self.amount)
        local = instant.astimezone(tz)
        if self.unit == "d":
            day = local.date() + sign * timedelta(days=self.amount)
        else:
            day = calendar.shift_working_days(local.date(), sign * self.amount)
        return datetime.combine(day, local.time(), tz).astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday less the country's public holidays, with the campaign's overrides."""

    country: str | None = "RU"
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_days_off or day.weekday() >= 5:
            return False
        return not (self.country and day in _public_holidays(self.country, day.year))

    def why_off(self, day: date) -> str:
        """Why a day is not a working day, in the words of the campaign's warnings («суббота»)."""
        if day in self.extra_days_off:
            return "дополнительный выходной по календарю кампании"
        if self.country and day in _public_holidays(self.country, day.year):
            return f"праздничный день ({_public_holidays(self.country, day.year)[day]})"
        return _WEEKDAYS[day.weekday()]

    def shift_working_days(self, day: date, count: int) -> date:
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def previous_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def to_dict(self) -> dict:
        return {
            "country": self.country,
            "extra_days_off": sorted(d.isoformat() for d in self.extra_days_off),
            "extra_workdays": sorted(d.isoformat() for d in self.extra_workdays),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "WorkCalendar":
        return cls(
            data.get("country"),
            frozenset(date.fromisoformat(d) for d in data.get("extra_days_off", ())),
            frozenset(date.fromisoformat(d) for d in data.get("extra_workdays", ())),
        )


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> holidays.HolidayBase:
    found = _country_module(country)
    if found is None:
        import holidays

        return holidays.country_holidays(country, years=year, language="ru")  # names for warnings; a country without ru says its own
    return found(years=year, language="ru")


@lru_cache(maxsize=8)
def _country_module(country: str) -> type[holidays.HolidayBase] | None:
    """The holidays class of one country, its module imported alone (or None: then `country_holidays` finds it).
    `holidays.country_holidays` imports the package `holidays.countries`, whose __init__ imports every country
    it knows: a tenth of a second of every command that asks whether today is a working day. Under a lock: the module
    is in sys.modules before it has run, and the portal's first requests ask from several threads at once."""
    with _IMPORTING:
        return _import_country(country)


_IMPORTING = threading.Lock()


def _import_country(country: str) -> type[holidays.HolidayBase] | None:
    import holidays
    from holidays.registry import COUNTRIES

    module = next((name for name, (_, *codes) in COUNTRIES.items() if country in codes), None)
    if module is None:
        return None
    full = f"holidays.countries.{module}"
    if full not in sys.modules:  # a later import of holidays.countries reuses this module
        spec = importlib.util.spec_from_file_location(full, Path(holidays.__file__).parent / "countries" / f"{module}.py")
        if spec is None or spec.loader is None:
            return None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[full] = loaded
        try:
            spec.loader.exec_module(loaded)
        except Exception:
            del sys.modules[full]
            raise
    found: type[holidays.HolidayBase] = getattr(sys.modules[full], COUNTRIES[module][0])
    return found


def known_country(code: str) -> bool:
    import holidays

    try:
        holidays.country_holidays(code, years=2000)
    except NotImplementedError:
        return False
    return True


_RU_LOCAL = re.compile(r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?))?")
# What people write when they mean a date: one-digit parts, other separators, a two-digit year.
_LOOSE_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?:[ T,]+(\d{1,2})[:.](\d{2}))?")
_LOOSE_YMD = re.compile(r"(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?:[ T,]+(\d{1,2})[:.](\d{2}))?")


@dataclass(frozen=True)
class Written:
    """A moment as written: a local date, its time if one was given, an offset if one was given."""

    day: date
    clock: time | None = None
    offset: str | None = None  # `Z` or `+07:00`: then the moment is absolute, not on the campaign's clock

    def moment(self, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
        """The instant in UTC; a date alone is the start of that local day (its end with `end_of_day`)."""
        if self.clock is None:
            return datetime.combine(self.day, END_OF_DAY if end_of_day else time(0), tz).astimezone(UTC)
        if self.offset:
            offset = self.offset.replace("Z", "+00:00")
            if ":" not in offset:
                offset = offset[:3] + ":" + offset[3:]
            return datetime.fromisoformat(f"{self.day.isoformat()}T{self.clock.isoformat()}{offset}").astimezone(UTC)
        return datetime.combine(self.day, self.clock, tz).astimezone(UTC)


def read_written(text: str) -> Written:
    """`2021-11-30`, `2021-11-30 14:00`, `30.11.2021` or `30.11.2021 14:00` (the one parser of
    dates people type: YAML, --now, --until, --start); ValueError quoting the value converted."""
    if not isinstance(text, str):
        raise ValueError(f"«{text}» — не дата; напишите дату как дд.мм.гггг или гггг-мм-дд")
    value = text.strip()
    iso, ru = _LOCAL.fullmatch(value), _RU_LOCAL.fullmatch(value)
    if not (iso or ru):
        raise ValueError(f"«{value}» — не дата; {_hint(value)}")
    try:
        if iso:
            day, clock_text, offset = date.fromisoformat(iso["date"]), iso["time"], iso["offset"]
        else:
            assert ru is not None  # one of the two matched
            day, clock_text, offset = date(int(ru["year"]), int(ru["month"]), int(ru["day"])), ru["time"], None
        clock = time.fromisoformat(clock_text) if clock_text else None
    except ValueError as exc:
        raise ValueError(_no_such(value, exc)) from None
    checked_day(day, value)
    return Written(day, clock, offset)


def _hint(value: str) -> str:
    """How to write `value` so dqflow reads it: the value itself converted when it looks like a date."""
    for pattern, order in ((_LOOSE_YMD, (0, 1, 2)), (_LOOSE_DMY, (2, 1, 0))):
        match = pattern.fullmatch(value)
        if not match:
            continue
        parts = match.groups()
        year, month, day = (parts[i] for i in order)
        year = f"20{year}" if len(year) == 2 else year
        when = f"{int(day):02d}.{int(month):02d}.{year}"
        iso_form = f"{year}-{int(month):02d}-{int(day):02d}"
        if parts[3] is not None:
            clock = f" {int(parts[3]):02d}:{parts[4]}"
            when, iso_form = when + clock, iso_form + clock
        return f"напишите {when} (или {iso_form})"
    return "напишите дату как дд.мм.гггг или гггг-мм-дд, а время, если нужно, после неё как ЧЧ:ММ"


def parse_day(text: str) -> date:
    """A date alone, in either form; ValueError with a hint built from the value."""
    written = read_written(text)
    if written.clock is not None:
        raise ValueError(f"«{text.strip()}» — с временем суток, а нужна только дата; напишите {written.day:%d.%m.%Y} (или {written.day.isoformat()})")
    return written.day


def parse_local(text: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date or date-time read in `tz` (unless it carries an offset), returned in UTC.

    A date alone means the start of that local day, or its end (23:59:59) with `end_of_day`.
    """
    written = read_written(text)
    try:
        return written.moment(tz, end_of_day=end_of_day)
    except ValueError as exc:
        raise ValueError(_no_such(text, exc)) from None


def _no_such(text: str, exc: ValueError) -> str:
    """Why a date or time that has the right form does not exist (31.02, 25:00), said for people."""
    if any(word in str(exc) for word in ("hour", "minute", "second", "isoformat")):
        return f"время в «{text.strip()}» не существует; часы пишут от 00 до 23, минуты от 00 до 59 (ЧЧ:ММ)"
    return f"дата «{text.strip()}» не существует; укажите существующую дату как дд.мм.гггг"


def checked_day(day: date, text: str) -> date:
    """`day` when its year is one dqflow works with, else ValueError saying which are."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"«{text.strip()}» — вне {FIRST_YEAR}–{LAST_YEAR} годов, с которыми работает dqflow; проверьте год")
    return day


def is_date_only(text: str) -> bool:
    return bool(re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4})\s*", text))


def show(instant: datetime | None, tz: ZoneInfo) -> str:
    """`dd.mm.yyyy HH:MM` on the campaign's wall clock (the zone is named once per screen)."""
    if instant is None:
        return "—"
    return instant.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def show_date(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%d.%m.%Y")


# How Russian readers name their zone: «томское время». A zone not listed is named by its offset alone.
_ZONES_RU = {
    "Europe/Kaliningrad": "калининградское", "Europe/Moscow": "московское", "Europe/Simferopol": "московское",
    "Europe/Kirov": "кировское", "Europe/Volgograd": "волгоградское", "Europe/Samara": "самарское",
    "Europe/Saratov": "саратовское", "Europe/Ulyanovsk": "ульяновское", "Europe/Astrakhan": "астраханское",
    "Asia/Yekaterinburg": "екатеринбургское", "Asia/Omsk": "омское", "Asia/Novosibirsk": "новосибирское",
    "Asia/Barnaul": "барнаульское", "Asia/Tomsk": "томское", "Asia/Novokuznetsk": "кемеровское",
    "Asia/Krasnoyarsk": "красноярское", "Asia/Irkutsk": "иркутское", "Asia/Chita": "читинское",
    "Asia/Yakutsk": "якутское", "Asia/Vladivostok": "владивостокское", "Asia/Magadan": "магаданское",
    "Asia/Sakhalin": "сахалинское", "Asia/Kamchatka": "камчатское", "Asia/Anadyr": "анадырское",
}


def zone_label(tz: ZoneInfo, at: datetime, *, capital: bool = False) -> str:
    """The zone as people write it, at that moment: «томское время, UTC+7» (a zone Russian readers name by its
    city), else «время UTC+7». Every screen, report and letter that names the zone names it so; the IANA name
    (Asia/Tomsk) stays in the campaign file, the JSON outputs and the calendars' VTIMEZONE."""
    city = _ZONES_RU.get(tz.key)
    said = f"{city} время, {utc_offset(at, tz)}" if city else f"время {utc_offset(at, tz)}"
    return said[:1].upper() + said[1:] if capital else said


def utc_offset(instant: datetime, tz: ZoneInfo) -> str:
    """`UTC+7`, `UTC+5:30`, `UTC-3`: the zone's offset at that moment, as people write it."""
    offset = instant.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0  # a ZoneInfo always has one
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def iso(instant: datetime | None, tz: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(tz).isoformat()


def as_utc(instant: datetime) -> datetime:
    """Aware UTC; naive values (as some drivers return them) are taken to be UTC already."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
