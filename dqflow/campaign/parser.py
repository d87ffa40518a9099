"""The campaign file (schema version 1): YAML → a typed, validated Campaign (`campaign.model`).

The YAML is composed into nodes (not constructed), so every value keeps its position
for `FILE:LINE:COL` messages and YAML 1.1 surprises (`NO` → false, `9:30` → 570,
duplicate keys) are caught before they turn into wrong data. The campaign's own keys are read
here; its people in `campaign.roster`, its stages in `campaign.stages` (checked across in
`campaign.coherence`), its relative dates in `campaign.dating`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import WorkCalendar, Written, known_country, zone
from dqflow.campaign import dating
from dqflow.campaign.areas import AreaReader
from dqflow.campaign.model import AREA_RULES, SETTLE_RULES, Campaign, Contact, Portal, Publication, ReminderRule, Sending
from dqflow.campaign.nodes import TOO_DEEP, NodeReader, suggest
from dqflow.campaign.roster import RosterReader
from dqflow.campaign.stages import StageReader, read_reminders
from dqflow.campaign.terms import CASES, GENDERS, Terms, guess_gender
from dqflow.campaign.terms import DEFAULT as DEFAULT_TERMS
from dqflow.errors import Problem, SpecError
from dqflow.intake import files

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Validated:
    campaign: Campaign | None
    problems: list[Problem]
    notes: tuple[str, ...] = ()  # how each roster file was read: "roster.csv read as CSV, Windows-1251, separated by ';'"
    # each relative date as written (its YAML node and rule) with the date it resolved to: `instantiate` writes them out
    relative: list[tuple[yaml.Node, dating.Relative, Written]] = field(default_factory=list)
    previous_at: tuple[int, int] | None = None  # the line and column of `campaign.previous`, where a warning about it points

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load(path: str | Path) -> Campaign:
    """The campaign in `path`, or SpecError listing every error (warnings are ignored)."""
    result = validate(path)
    if result.errors or result.campaign is None:
        raise SpecError(result.errors)
    return result.campaign


def validate(path: str | Path) -> Validated:
    text, problems = read_text(path)
    if text is None:
        return Validated(None, problems)
    return validate_text(text, str(path), base=Path(path).parent)


def read_text(path: str | Path) -> tuple[str | None, list[Problem]]:
    """The text of a campaign file, or None and the problem that kept it from being read."""
    path = Path(path)
    try:
        data = files.read_bytes(path, files.MAX_CAMPAIGN)
    except files.Unreadable as exc:
        return None, [Problem(str(path), 1, 1, str(exc))]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8")) + 1  # in characters
        return None, [Problem(str(path), line, column, "текст не в UTF-8; сохраните файл в кодировке UTF-8")]


def validate_text(text: str, filename: str = "<campaign>", base: Path | None = None, *,
                  start: date | None = None, campaign_id: str | None = None) -> Validated:
    """The campaign in `text`; `start` and `campaign_id` stand in for the file's own (as `instantiate` asks)."""
    reader = NodeReader(filename, base or Path("."))
    root = reader.document(text, "файл кампании")
    if root is None:
        return Validated(None, reader.problems)
    builder = _CampaignBuilder(reader, start=start, campaign_id=campaign_id)
    try:
        campaign = builder.build(root)
    except RecursionError:
        reader.error(None, TOO_DEEP)
        campaign = None
    problems = sorted(reader.problems, key=lambda p: (p.file != filename, p.file, p.line, p.column))
    has_errors = any(p.severity == "error" for p in problems)
    return Validated(None if has_errors else campaign, problems, notes=tuple(builder.notes), relative=builder.resolved_relative(),
                     previous_at=builder.previous_at)


class _CampaignBuilder:
    """Walks the document once, building the Campaign and recording every problem found."""

    def __init__(self, reader: NodeReader, start: date | None = None, campaign_id: str | None = None):
        self.r = reader
        self._start_override, self._id_override = start, campaign_id
        self.tz: ZoneInfo | None = None
        self.calendar = WorkCalendar()
        self.notes: list[str] = []  # how roster files were read, for validate's summary
        self.start: Written | None = None  # campaign.start, which relative dates may follow
        self._start_given = False
        self._stages: StageReader | None = None
        self.previous_at: tuple[int, int] | None = None

    def build(self, root: yaml.Node) -> Campaign | None:
        r = self.r
        top = r.mapping(root, "файл кампании", ["version", "campaign", "institutions", "stages"],
                        ["areas", "levels", "defaults", "experts", "settle", "area_level"])
        if top is None:
            return None
        if "version" in top and r.integer(top["version"], "version") not in (None, SCHEMA_VERSION):
            r.error(top["version"], f"version: версия схемы {top['version'].value} не поддерживается; этот dqflow читает версию {SCHEMA_VERSION}")
        head = self._campaign(top["campaign"]) if "campaign" in top else None
        roster = RosterReader(r, self.notes)
        institutions = roster.institutions(top["institutions"]) if "institutions" in top else []
        experts = roster.experts(top["experts"], institutions) if "experts" in top else []
        if institutions or experts:
            roster.check_size(institutions, experts, top.get("institutions") or top["experts"])
        scale = AreaReader(r, self.notes)
        areas = scale.areas(top.get("areas"))
        levels = scale.levels(top.get("levels"))
        defaults = self._defaults(top.get("defaults"))
        rules: dict[str, Any] = {key: self._rule(top[key], key, choices)  # absent: the model's defaults
                                 for key, choices in (("settle", SETTLE_RULES), ("area_level", AREA_RULES)) if key in top}
        self._stages = StageReader(r, self.tz, self.calendar, self.start, self._start_given)
        stages = self._stages.stages(top["stages"], institutions, experts) if "stages" in top else []
        for node in self._stages.submit_to if head is not None and head.get("operator") is None else ():
            r.error(node, "submit_to: operator: нужен campaign.operator (name и email), чтобы назвать оператора в письме; добавьте его")
        for node in self._stages.forms if not any(a.indicators for a in areas) else ():
            r.error(node, "form: true: у областей кампании нет показателей (areas: … indicators: …), заполнять нечего; "
                          "добавьте показатели или уберите form")
        if head is None or any(p.severity == "error" for p in r.problems):
            return None
        return Campaign(
            institutions=tuple(institutions), stages=tuple(stages), areas=areas, levels=levels,
            default_reminders=defaults, experts=tuple(experts), **rules, **head,
        )

    def resolved_relative(self) -> list[tuple[yaml.Node, dating.Relative, Written]]:
        """Each relative date as written with the date it resolved to (none when the stages were not reached)."""
        return self._stages.resolved_relative() if self._stages else []

    # -- campaign ---------------------------------------------------------

    def _campaign(self, node: yaml.Node) -> dict[str, Any] | None:
        r = self.r
        f = r.mapping(node, "campaign", ["id", "title", "timezone", "coordinator"],
                      ["locale", "order", "operator", "calendar", "sending", "notifications", "portal", "start", "terms",
                       "previous", "publish"])
        if f is None:
            return None
        tz_name = r.one_line(f.get("timezone"), "campaign.timezone")
        if tz_name is not None:
            try:
                self.tz = zone(tz_name)
            except ValueError as exc:
                r.error(f["timezone"], f"campaign.timezone: {exc}")
        if "calendar" in f:
            self.calendar = self._calendar(f["calendar"])
        if "start" in f:
            self._start_given = True
            day = r.day(f["start"], "campaign.start")
            self.start = Written(day) if day else None
        if self._start_override is not None:
            self._start_given, self.start = True, Written(self._start_override)
        head = {
            "id": self._id_override or r.slug(f.get("id"), "campaign.id"),
            "title": r.one_line(f.get("title"), "campaign.title"),
            "timezone": tz_name,
            "locale": r.choice(f["locale"], "campaign.locale", ("ru",)) if "locale" in f else "ru",
            "coordinator": self._contact(f.get("coordinator"), "campaign.coordinator"),
            "operator": self._contact(f["operator"], "campaign.operator") if "operator" in f else None,
            "order": self._order(f["order"]) if "order" in f else None,
            "calendar": self.calendar,
            "sending": self._sending(f["sending"]) if "sending" in f else Sending(),
            "notifications": self._notifications(f["notifications"]) if "notifications" in f else None,
            "portal": self._portal(f["portal"]) if "portal" in f else None,
            "terms": (read_terms(r, f["terms"]) or DEFAULT_TERMS) if "terms" in f else DEFAULT_TERMS,
            "previous": self._previous(f["previous"], f.get("id")) if "previous" in f else None,
            "publish": self._publish(f["publish"]) if "publish" in f else Publication(),
        }
        if self.tz is None or any(v is None for k, v in head.items() if k in ("id", "title", "coordinator")):
            return None
        return head

    def _previous(self, node: yaml.Node, own: yaml.Node | None) -> str | None:
        """`campaign.previous`: last year's campaign id (whether it is loaded is asked of the database by validate and load)."""
        self.previous_at = (node.start_mark.line + 1, node.start_mark.column + 1)
        value = self.r.slug(node, "campaign.previous")
        if value is not None and isinstance(own, yaml.ScalarNode) and value == (self._id_override or own.value):
            self.r.error(node, f"campaign.previous: «{value}» — это id самой кампании; укажите id кампании прошлого года")
            return None
        return value

    def _contact(self, node: yaml.Node | None, what: str) -> Contact | None:
        if node is None:
            return None
        f = self.r.mapping(node, what, ["name", "email"], [])
        if f is None:
            return None
        name, email = self.r.one_line(f.get("name"), f"{what}.name"), self.r.email(f.get("email"), f"{what}.email")
        return Contact(name, email) if name and email else None

    def _order(self, node: yaml.Node) -> dict[str, str] | None:
        f = self.r.mapping(node, "campaign.order", [], ["number", "date", "issuer"])
        if f is None:
            return None
        order = {k: self.r.one_line(v, f"campaign.order.{k}") for k, v in f.items()}
        if "date" in f and order.get("date") is not None:
            order["date"] = str(self.r.day(f["date"], "campaign.order.date") or "")
        return {k: v for k, v in order.items() if v}

    def _calendar(self, node: yaml.Node) -> WorkCalendar:
        r = self.r
        f = r.mapping(node, "campaign.calendar", [], ["country", "extra_days_off", "extra_workdays"])
        if f is None:
            return WorkCalendar()
        country = "RU"
        if "country" in f:
            written = r.one_line(f["country"], "campaign.calendar.country")
            if written is not None and not known_country(written):
                r.error(f["country"], f"campaign.calendar.country: «{written}» — неизвестный код страны; напишите код из двух букв, например RU")
            elif written is not None:
                country = written

        def days(key: str) -> frozenset[date]:
            if key not in f:
                return frozenset()
            nodes = r.sequence(f[key], f"campaign.calendar.{key}")
            return frozenset(d for n in nodes if (d := r.day(n, f"campaign.calendar.{key}")) is not None)

        off, work = days("extra_days_off"), days("extra_workdays")
        for both in sorted(off & work):
            r.error(f["extra_workdays"], f"campaign.calendar: {both:%d.%m.%Y} указан и в extra_days_off, и в extra_workdays; оставьте в одном")
        return WorkCalendar(country, off, work)

    def _sending(self, node: yaml.Node) -> Sending:
        r = self.r
        f = r.mapping(node, "campaign.sending", [], ["window", "working_days_only"])
        if f is None:
            return Sending()
        start, end = "09:00", "18:00"
        if "window" in f:
            window = r.one_line(f["window"], "campaign.sending.window")
            match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", window or "")
            if window is not None and (not match or window[:5] >= window[6:]):
                r.error(f["window"], f"campaign.sending.window: «{window}» — нужно ЧЧ:ММ-ЧЧ:ММ, начало раньше конца, например \"09:00-18:00\"")
            elif window is not None and match:
                start, end = window[:5], window[6:]
        only = r.boolean(f.get("working_days_only"), "campaign.sending.working_days_only")
        return Sending(start, end, True if only is None else only)

    def _portal(self, node: yaml.Node) -> Portal | None:
        f = self.r.mapping(node, "campaign.portal", [], ["base_url"])
        if f is None or "base_url" not in f:
            return None
        url = self.r.one_line(f["base_url"], "campaign.portal.base_url")
        if url is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
            self.r.error(f["base_url"], f"campaign.portal.base_url: «{url}» — нужен адрес сайта без ? и #, "
                                        "например https://monitoring.example.org")
            return None
        return Portal(url.rstrip("/")) if url else None

    def _publish(self, node: yaml.Node) -> Publication:
        """`campaign.publish`: what `dqflow publish` may show beyond levels and participation (nothing more by default)."""
        f = self.r.mapping(node, "campaign.publish", [], ["recommendations"])
        shown = self.r.boolean(f.get("recommendations"), "campaign.publish.recommendations") if f else None
        return Publication(recommendations=bool(shown))

    def _notifications(self, node: yaml.Node) -> str | None:
        value = self.r.one_line(node, "campaign.notifications")
        if value is None:
            return None
        folder = (self.r.base / value).resolve()
        if not folder.is_dir():
            self.r.error(node, f"campaign.notifications: папки шаблонов «{value}» нет (путь считается от файла кампании); проверьте путь")
            return None
        from dqflow.intake import templates  # jinja2, only for a campaign that brings its own templates

        broken = templates.problems(folder)
        for file, line, message in broken:  # found now, not when the first reminder is due
            self.r.problems.append(Problem(file, line, 1, message))
        return None if broken else str(folder)

    def _rule(self, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str | None:
        """`settle:` or `area_level:`, the final-level rules of a campaign reviewed per indicator (`engine.finals`); a
        campaign without a form may name them too, to no effect."""
        value = self.r.one_line(node, key)
        if value is not None and value not in choices:
            self.r.error(node, f"{key}: «{value}» — такого правила нет{suggest(value, choices)}")
            return None
        return value

    def _defaults(self, node: yaml.Node | None) -> tuple[ReminderRule, ...] | None:
        if node is None:
            return None
        f = self.r.mapping(node, "defaults", [], ["reminders"])
        return read_reminders(self.r, f["reminders"]) if f and "reminders" in f else None


def read_terms(r: NodeReader, node: yaml.Node) -> Terms | None:
    """`campaign.terms` from its node, every problem reported where it stands."""
    f = r.mapping(node, "campaign.terms", ["institution"], [])
    if f is None or "institution" not in f:
        return None
    value = f["institution"]
    what = "campaign.terms.institution"
    if isinstance(value, yaml.ScalarNode):
        word = r.one_line(value, what, limit=100)
        if word is None:
            return None
        if not word.isupper():
            r.error(value, f"{what}: «{word}» склоняется; укажите его формы: {{{', '.join(f'{c}: …' for c in CASES)}}} "
                           f"(одно значение — только для аббревиатуры вроде ДОО)")
            return None
        return Terms(word, word, word, word, word, guess_gender(word))
    forms = r.mapping(value, what, CASES, ["gender"])
    if forms is None:
        return None
    read = {case: r.one_line(forms.get(case), f"{what}.{case}", limit=100) for case in CASES}
    found = {case: word for case, word in read.items() if word is not None}
    gender = r.choice(forms["gender"], f"{what}.gender", GENDERS) if "gender" in forms else None
    if len(found) < len(CASES) or ("gender" in forms and gender is None):
        return None
    return Terms(**found, gender=gender or guess_gender(found["nom"]))
