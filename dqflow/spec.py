"""The campaign file (schema version 1): YAML → a typed, validated Campaign.

The YAML is composed into nodes (not constructed), so every value keeps its position
for `FILE:LINE:COL` messages and YAML 1.1 surprises (`NO` → false, `9:30` → 570,
duplicate keys) are caught before they turn into wrong data.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import Duration, WorkCalendar, is_date_only, known_country, show, zone
from dqflow import files, templates
from dqflow import text as texts
from dqflow.errors import Problem, SpecError
from dqflow.yamlnodes import EMAIL, NodeReader, suggest

SCHEMA_VERSION = 1
STAGE_KINDS = ("task", "event", "assignment", "handout")
ACTORS = ("institution", "expert", "coordinator")
AUDIENCES = ("institutions", "experts", "coordinator")
ROSTER_COLUMNS = ("id", "name", "email", "contact", "expert_id", "expert_name", "expert_email")

# Bounds where the domain has them; each keeps one command's work (and the outbox) finite.
MAX_STAGES = 100  # an order has a dozen or two
MAX_INSTITUTIONS = 100_000  # Russia has ~50,000 ДОУ
MAX_EXPERTS = 200_000
MAX_EXPERTS_PER_INSTITUTION = 10  # the orders ask for two
MAX_RULES = 20  # reminder rules of one stage
MAX_OVERDUE_REPEATS = 10  # an overdue rule's `max`
MAX_SPAN = timedelta(days=2 * 366)  # first opening to last lock: the monitoring is yearly


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class Expert:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    email: str
    contact: str | None = None
    experts: tuple[Expert, ...] = ()


@dataclass(frozen=True)
class ReminderRule:
    """`before: 3d`, `at: due|opens`, `overdue: 1d` (+ `max`); behaviour lives in the outbox."""

    kind: str
    offset: Duration | None = None
    anchor: str | None = None
    max: int | None = None


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    kind: str
    actor: str | None
    opens_at: datetime
    due_at: datetime
    locks_at: datetime
    grace: Duration | None = None
    url: str | None = None
    responsible: str | None = None
    result: str | None = None
    after: tuple[str, ...] = ()
    list: str | None = None
    experts_per_institution: int | None = None
    distinct_from: str | None = None
    audience: tuple[str, ...] = ()
    reminders: tuple[ReminderRule, ...] | None = None
    all_day: bool = False  # an event given by its date alone
    exclude: tuple[tuple[str, str], ...] = ()  # declared conflicts: (institution id, expert id)
    max_load: int | None = None

    @property
    def per_institution(self) -> bool:
        """Each ДОУ has its own status here: its own work, or the review of its form."""
        return self.kind == "task" and self.actor in ("institution", "expert")


@dataclass(frozen=True)
class Titled:
    id: str
    title: str


@dataclass(frozen=True)
class Sending:
    window_start: str = "09:00"
    window_end: str = "18:00"
    working_days_only: bool = True


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    timezone: str
    locale: str
    coordinator: Contact
    institutions: tuple[Institution, ...]
    stages: tuple[Stage, ...]
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    operator: Contact | None = None
    order: dict[str, str] | None = None
    areas: tuple[Titled, ...] = ()
    levels: tuple[Titled, ...] = ()
    default_reminders: tuple[ReminderRule, ...] | None = None
    sending: Sending = field(default_factory=Sending)
    notifications: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def digest(self) -> str:
        """Fingerprint of the content (not of comments or layout): equal files load as no-ops."""
        return digest_of(to_json(self))


@dataclass(frozen=True)
class Validated:
    campaign: Campaign | None
    problems: list[Problem]

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
    path = Path(path)
    try:
        data = files.read_bytes(path, files.MAX_CAMPAIGN)
    except files.Unreadable as exc:
        return Validated(None, [Problem(str(path), 1, 1, str(exc))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8")) + 1  # in characters
        return Validated(None, [Problem(str(path), line, column, "not UTF-8 text; save the file as UTF-8")])
    return validate_text(text, str(path), base=path.parent)


def validate_text(text: str, filename: str = "<campaign>", base: Path | None = None) -> Validated:
    reader = NodeReader(filename, base or Path("."))
    root = reader.document(text, "a campaign file")
    if root is None:
        return Validated(None, reader.problems)
    try:
        campaign = _CampaignBuilder(reader).build(root)
    except RecursionError:
        reader.error(None, "YAML nesting too deep")
        campaign = None
    problems = sorted(reader.problems, key=lambda p: (p.file != filename, p.file, p.line, p.column))
    has_errors = any(p.severity == "error" for p in problems)
    return Validated(None if has_errors else campaign, problems)


class _CampaignBuilder:
    """Walks the document once, building the Campaign and recording every problem found."""

    def __init__(self, reader: NodeReader):
        self.r = reader
        self.tz: ZoneInfo | None = None
        self.calendar = WorkCalendar()
        self._exclude_nodes: dict[tuple[str, str], yaml.Node] = {}

    def build(self, root: yaml.Node) -> Campaign | None:
        r = self.r
        top = r.mapping(root, "the campaign file", ["version", "campaign", "institutions", "stages"], ["areas", "levels", "defaults"])
        if top is None:
            return None
        if "version" in top and r.integer(top["version"], "version") not in (None, SCHEMA_VERSION):
            r.error(top["version"], f"schema version {top['version'].value} is not supported; this dqflow reads version {SCHEMA_VERSION}")
        head = self._campaign(top["campaign"]) if "campaign" in top else None
        institutions = self._institutions(top["institutions"]) if "institutions" in top else ()
        if institutions:
            self._check_roster_size(institutions, top["institutions"])
        areas = self._titled_list(top.get("areas"), "area")
        levels = self._titled_list(top.get("levels"), "level")
        defaults = self._defaults(top.get("defaults"))
        stages = self._stages(top["stages"], institutions) if "stages" in top else ()
        if head is None or any(p.severity == "error" for p in r.problems):
            return None
        return Campaign(
            institutions=tuple(institutions), stages=tuple(stages), areas=areas, levels=levels,
            default_reminders=defaults, **head,
        )

    # -- campaign ---------------------------------------------------------

    def _campaign(self, node: yaml.Node) -> dict[str, Any] | None:
        r = self.r
        f = r.mapping(node, "campaign", ["id", "title", "timezone", "coordinator"],
                      ["locale", "order", "operator", "calendar", "sending", "notifications"])
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
        head = {
            "id": r.slug(f.get("id"), "campaign.id"),
            "title": r.one_line(f.get("title"), "campaign.title"),
            "timezone": tz_name,
            "locale": r.choice(f["locale"], "campaign.locale", ("ru",)) if "locale" in f else "ru",
            "coordinator": self._contact(f.get("coordinator"), "campaign.coordinator"),
            "operator": self._contact(f["operator"], "campaign.operator") if "operator" in f else None,
            "order": self._order(f["order"]) if "order" in f else None,
            "calendar": self.calendar,
            "sending": self._sending(f["sending"]) if "sending" in f else Sending(),
            "notifications": self._notifications(f["notifications"]) if "notifications" in f else None,
        }
        if self.tz is None or any(v is None for k, v in head.items() if k in ("id", "title", "coordinator")):
            return None
        return head

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
            country = r.one_line(f["country"], "campaign.calendar.country")
            if country is not None and not known_country(country):
                r.error(f["country"], f"campaign.calendar.country '{country}' is not a known country code (like RU)")
                country = "RU"

        def days(key: str) -> frozenset[date]:
            if key not in f:
                return frozenset()
            nodes = r.sequence(f[key], f"campaign.calendar.{key}")
            return frozenset(d for n in nodes if (d := r.day(n, f"campaign.calendar.{key}")) is not None)

        off, work = days("extra_days_off"), days("extra_workdays")
        for both in sorted(off & work):
            r.error(f["extra_workdays"], f"{both} is both an extra day off and an extra workday; keep one")
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
                r.error(f["window"], f"campaign.sending.window '{window}' must be HH:MM-HH:MM with the start first, like \"09:00-18:00\"")
            elif match:
                start, end = window[:5], window[6:]
        only = r.boolean(f.get("working_days_only"), "campaign.sending.working_days_only")
        return Sending(start, end, True if only is None else only)

    def _notifications(self, node: yaml.Node) -> str | None:
        value = self.r.one_line(node, "campaign.notifications")
        if value is None:
            return None
        folder = (self.r.base / value).resolve()
        if not folder.is_dir():
            self.r.error(node, f"campaign.notifications: template folder '{value}' does not exist (relative to the campaign file)")
            return None
        broken = templates.problems(folder)
        for file, line, message in broken:  # found now, not when the first reminder is due
            self.r.problems.append(Problem(file, line, 1, message))
        return None if broken else str(folder)

    # -- people -----------------------------------------------------------

    def _institutions(self, node: yaml.Node) -> list[Institution]:
        r = self.r
        if isinstance(node, yaml.MappingNode):
            f = r.mapping(node, "institutions", ["file"], [])
            return self._roster(f["file"]) if f and "file" in f else []
        located = [(i, n) for n in r.sequence(node, "institutions") if (i := self._institution(n))]
        if isinstance(node, yaml.SequenceNode) and not node.value:
            r.error(node, "institutions is empty; list at least one ДОУ")
        self._check_unique_people(located)
        return [i for i, _ in located]

    def _institution(self, node: yaml.Node) -> Institution | None:
        r = self.r
        f = r.mapping(node, "institution", ["id", "name", "email"], ["contact", "experts"])
        if f is None:
            return None
        experts = []
        for n in r.sequence(f["experts"], "institution.experts") if "experts" in f else []:
            e = r.mapping(n, "expert", ["id", "name", "email"], [])
            if e is not None:
                fields = (r.identifier(e.get("id"), "expert.id"), r.one_line(e.get("name"), "expert.name"), r.email(e.get("email"), "expert.email"))
                if all(fields):
                    experts.append(Expert(*fields))
        ident, name, email = r.identifier(f.get("id"), "institution.id"), r.one_line(f.get("name"), "institution.name"), r.email(f.get("email"), "institution.email")
        contact = r.one_line(f["contact"], "institution.contact") if "contact" in f else None
        if not (ident and name and email):
            return None
        return Institution(ident, name, email, contact, tuple(experts))

    def _roster(self, node: yaml.Node) -> list[Institution]:
        """Institutions from a CSV file: one row per ДОУ, or per ДОУ and expert."""
        r = self.r
        name = r.one_line(node, "institutions.file")
        if name is None:
            return []
        path = r.base / name
        try:
            text = files.read_bytes(path, files.MAX_ROSTER).decode("utf-8-sig")
        except files.Unreadable as exc:
            r.error(node, f"institutions.file '{name}': {exc}")
            return []
        except UnicodeDecodeError:
            r.error(node, f"institutions.file '{name}': not UTF-8; save the roster as UTF-8")
            return []
        file = str(path)
        try:
            rows = files.csv_rows(text, file)
        except SpecError as exc:
            r.problems.extend(exc.problems)
            return []
        if not rows or [c.strip() for c in rows[0][1][:3]] != list(ROSTER_COLUMNS[:3]):
            r.problems.append(Problem(file, 1, 1, f"the roster's header must start with {','.join(ROSTER_COLUMNS[:3])}; columns: {','.join(ROSTER_COLUMNS)}"))
            return []
        header = [c.strip() for c in rows[0][1]]
        for col, column in enumerate(header, 1):
            if column not in ROSTER_COLUMNS:
                r.problems.append(Problem(file, 1, col, f"unknown roster column '{column}'{suggest(column, ROSTER_COLUMNS)}"))
        found: dict[str, Institution] = {}
        for line, row in rows[1:]:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            institution = self._roster_row(file, line, header, record)
            if institution is None:
                continue
            known = found.get(institution.id)
            if known is None:
                found[institution.id] = institution
            elif (known.name, known.email) != (institution.name, institution.email) and (institution.name or institution.email):
                r.problems.append(Problem(file, line, 1, f"ДОУ '{institution.id}' is listed again with a different name or email; repeat rows only to add experts"))
            else:
                found[institution.id] = Institution(known.id, known.name, known.email, known.contact, known.experts + institution.experts)
        if not found:
            r.problems.append(Problem(file, 1, 1, "the roster lists no ДОУ"))
        self._check_unique_people([(i, node) for i in found.values()])
        return list(found.values())

    def _roster_row(self, file: str, line: int, header: list[str], record: dict[str, str]) -> Institution | None:
        problems = []

        def check(column: str, valid: Callable[[str], bool], message: str) -> None:
            value = record.get(column, "")
            col = header.index(column) + 1 if column in header else 1
            limit = texts.MAX_ID if column.endswith("id") else texts.MAX_EMAIL if column.endswith("email") else texts.MAX_LINE
            why = texts.problem(value, limit)
            if why is not None:  # quoting the value would repeat what is wrong with it
                problems.append(Problem(file, line, col, f"{column} {why}"))
            elif not valid(value):
                problems.append(Problem(file, line, col, f"{column} '{value}' {message}"))

        check("id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), "must be letters, digits, '.', '-' or '_'")
        check("name", bool, "is empty")
        check("email", lambda v: bool(EMAIL.fullmatch(v)), "is not an email address")
        if record.get("contact"):
            check("contact", bool, "is empty")
        expert = None
        if any(record.get(c) for c in ("expert_id", "expert_name", "expert_email")):
            check("expert_id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), "must be letters, digits, '.', '-' or '_'")
            check("expert_name", bool, "is empty")
            check("expert_email", lambda v: bool(EMAIL.fullmatch(v)), "is not an email address")
            expert = Expert(record.get("expert_id", ""), record.get("expert_name", ""), record.get("expert_email", ""))
        self.r.problems.extend(problems)
        if problems:
            return None
        return Institution(record["id"], record["name"], record["email"], record.get("contact") or None, (expert,) if expert else ())

    def _check_roster_size(self, institutions: list[Institution], node: yaml.Node) -> None:
        experts = sum(len(i.experts) for i in institutions)
        if len(institutions) > MAX_INSTITUTIONS:
            self.r.error(node, f"institutions lists {len(institutions)} ДОУ; dqflow takes at most {MAX_INSTITUTIONS} in one campaign: split it by region")
        if experts > MAX_EXPERTS:
            self.r.error(node, f"institutions list {experts} experts; dqflow takes at most {MAX_EXPERTS} in one campaign: split it by region")

    def _check_unique_people(self, located: list[tuple[Institution, yaml.Node | None]]) -> None:
        """Ids are unique across the roster; each duplicate is reported where it stands."""
        seen: set[str] = set()
        experts: set[str] = set()
        for i, node in located:
            if i.id in seen:
                self.r.error(node, f"duplicate institution id '{i.id}'; every ДОУ needs its own id")
            seen.add(i.id)
            for e in i.experts:
                if e.id in experts:
                    self.r.error(node, f"duplicate expert id '{e.id}'; every expert needs its own id")
                experts.add(e.id)

    def _titled_list(self, node: yaml.Node | None, what: str) -> tuple[Titled, ...]:
        if node is None:
            return ()
        items, seen = [], set()
        for n in self.r.sequence(node, f"{what}s"):
            f = self.r.mapping(n, what, ["id", "title"], [])
            if f is None:
                continue
            ident, title = self.r.identifier(f.get("id"), f"{what}.id"), self.r.one_line(f.get("title"), f"{what}.title")
            if ident in seen:
                self.r.error(f["id"], f"duplicate {what} id '{ident}'")
            elif ident and title:
                seen.add(ident)
                items.append(Titled(ident, title))
        return tuple(items)

    # -- reminders ----------------------------------------------------------

    def _defaults(self, node: yaml.Node | None) -> tuple[ReminderRule, ...] | None:
        if node is None:
            return None
        f = self.r.mapping(node, "defaults", [], ["reminders"])
        return self._reminders(f["reminders"]) if f and "reminders" in f else None

    def _reminders(self, node: yaml.Node) -> tuple[ReminderRule, ...]:
        rules = []
        nodes = self.r.sequence(node, "reminders")
        if len(nodes) > MAX_RULES:  # every rule is planned for every ДОУ
            self.r.error(node, f"reminders lists {len(nodes)} rules; at most {MAX_RULES} make sense for one stage")
            return ()
        for n in nodes:
            f = self.r.mapping(n, "reminder rule", [], ["before", "at", "overdue", "max"])
            if f is None:
                continue
            kinds = [k for k in ("before", "at", "overdue") if k in f]
            if len(kinds) != 1:
                self.r.error(n, "a reminder rule has exactly one of 'before: 3d', 'at: due|opens' or 'overdue: 1d'")
                continue
            kind = kinds[0]
            if "max" in f and kind != "overdue":
                self.r.error(f["max"], "'max' belongs to an 'overdue' rule only")
            if kind == "at":
                anchor = self.r.choice(f["at"], "reminder 'at'", ("due", "opens"))
                if anchor:
                    rules.append(ReminderRule("at", anchor=anchor))
                continue
            offset = self.r.duration(f[kind], f"reminder '{kind}'")
            if offset is not None and offset.amount == 0:
                self.r.error(f[kind], f"reminder '{kind}' must be longer than zero")
            maximum = self.r.integer(f["max"], "reminder 'max'", minimum=1, maximum=MAX_OVERDUE_REPEATS) if "max" in f else None
            if offset is not None:
                rules.append(ReminderRule(kind, offset=offset, max=maximum if kind == "overdue" else None))
        return tuple(rules)

    # -- stages -------------------------------------------------------------

    def _stages(self, node: yaml.Node, institutions: list[Institution]) -> list[Stage]:
        r = self.r
        nodes = r.sequence(node, "stages")
        if isinstance(node, yaml.SequenceNode) and not nodes:
            r.error(node, "stages is empty; list the order's stages")
        if len(nodes) > MAX_STAGES:
            r.error(node, f"stages lists {len(nodes)} stages; dqflow takes at most {MAX_STAGES} in one campaign")
            return []
        stages: list[Stage] = []
        where: dict[str, yaml.MappingNode] = {}
        for n in nodes:
            stage = self._stage(n)
            if stage is None:
                continue
            if stage.id in where:
                r.error(n, f"duplicate stage id '{stage.id}' (first at line {where[stage.id].start_mark.line + 1})")
                continue
            where[stage.id] = n
            stages.append(stage)
        self._check_references(stages, where)
        self._check_working_days(stages, where)
        self._check_handouts(stages, where)
        self._check_exclusions(stages, institutions)
        self._check_experts_per_institution(stages, where, institutions)
        self._check_span(stages, where)
        return stages

    def _stage(self, node: yaml.Node) -> Stage | None:
        r = self.r
        f = r.mapping(node, "stage", ["id", "title", "kind"], [
            "actor", "opens", "due", "at", "grace", "url", "responsible", "result", "after", "list",
            "experts_per_institution", "distinct_from", "audience", "reminders", "exclude", "max_load",
        ])
        if f is None:
            return None
        ident = r.slug(f.get("id"), "stage.id")
        kind = r.choice(f.get("kind"), "stage.kind", STAGE_KINDS)
        what = f"stage '{ident}'" if ident else "stage"
        title = r.one_line(f.get("title"), f"{what}: title")
        allowed = {
            "task": {"actor", "opens", "due", "grace", "list", "reminders"},
            "event": {"at", "audience", "reminders"},
            "assignment": {"opens", "due", "grace", "experts_per_institution", "distinct_from", "exclude", "max_load", "reminders"},
            "handout": {"opens", "due", "grace", "list", "reminders"},
        }.get(kind or "", set())
        common = {"id", "title", "kind", "url", "responsible", "result", "after"}
        if kind:
            for key in sorted(set(f) - common - allowed):
                key_node = next(k for k, v in node.value if k.value == key)
                r.error(key_node, f"{what}: '{key}' does not apply to a stage of kind '{kind}'")
        actor = None
        if kind == "task":
            actor = r.choice(f.get("actor"), f"{what}: actor", ACTORS) if "actor" in f else None
            if "actor" not in f:
                r.error(node, f"{what}: a task needs 'actor: institution', 'actor: expert' or 'actor: coordinator'")
        elif kind in ("assignment", "handout"):
            actor = "coordinator"
        times = self._stage_times(f, node, what, kind)
        list_stage = r.slug(f["list"], f"{what}: list") if "list" in f else None
        if kind == "task" and actor == "expert" and "list" not in f:
            r.error(node, f"{what}: an expert task needs 'list: <assignment stage id>' naming the expert list it follows")
        if kind == "handout" and "list" not in f:
            r.error(node, f"{what}: a handout needs 'list: <assignment stage id>'")
        per = (r.integer(f["experts_per_institution"], f"{what}: experts_per_institution", minimum=1, maximum=MAX_EXPERTS_PER_INSTITUTION)
               if "experts_per_institution" in f else None)
        exclude = self._exclude(f["exclude"], what) if "exclude" in f else ()
        max_load = r.integer(f["max_load"], f"{what}: max_load", minimum=1) if "max_load" in f else None
        audience = ()
        if kind == "event":
            audience = ("institutions",)
            if "audience" in f:
                audience = tuple(a for n in r.sequence(f["audience"], f"{what}: audience") if (a := r.choice(n, f"{what}: audience", AUDIENCES)))
        after = tuple(a for n in r.sequence(f["after"], f"{what}: after") if (a := r.slug(n, f"{what}: after"))) if "after" in f else ()
        reminders = self._reminders(f["reminders"]) if "reminders" in f else None
        if None in (ident, kind, title, times):
            return None
        opens_at, due_at, locks_at, grace, all_day = times
        return Stage(
            id=ident, title=title, kind=kind, actor=actor, opens_at=opens_at, due_at=due_at, locks_at=locks_at,
            grace=grace, url=self._url(f.get("url"), what), responsible=r.one_line(f.get("responsible"), f"{what}: responsible"),
            result=r.one_line(f.get("result"), f"{what}: result"), after=after, list=list_stage,
            experts_per_institution=(per or 2) if kind == "assignment" else None,
            distinct_from=r.slug(f["distinct_from"], f"{what}: distinct_from") if "distinct_from" in f else None,
            audience=audience, reminders=reminders, all_day=all_day, exclude=exclude, max_load=max_load,
        )

    def _stage_times(self, f: dict[str, yaml.Node], node: yaml.Node, what: str, kind: str | None):
        r, tz = self.r, self.tz
        if kind == "event":
            if "at" not in f:
                r.error(node, f"{what}: an event needs 'at: <date and time>'")
                return None
            at = r.moment(f["at"], f"{what}: at", tz)
            return None if at is None else (at, at, at, None, is_date_only(f["at"].value))
        if kind is None:
            return None
        for key in ("opens", "due"):
            if key not in f:
                r.error(node, f"{what}: needs '{key}: <date or date and time>'")
        opens = r.moment(f.get("opens"), f"{what}: opens", tz)
        due = r.moment(f.get("due"), f"{what}: due", tz, end_of_day=True)
        grace = r.duration(f["grace"], f"{what}: grace") if "grace" in f else None
        if opens is None or due is None or tz is None:
            return None
        if opens > due:
            r.error(f["opens"], f"{what}: opens {show(opens, tz)} is after due {show(due, tz)}; swap them or fix the dates")
            return None
        locks = grace.after(due, tz, self.calendar) if grace else due
        return opens, due, locks, grace, False

    def _url(self, node: yaml.Node | None, what: str) -> str | None:
        url = self.r.one_line(node, f"{what}: url")
        if url is not None and not re.fullmatch(r"https?://\S+", url):
            self.r.error(node, f"{what}: url '{url}' must start with http:// or https://")
            return None
        return url

    def _exclude(self, node: yaml.Node, what: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for n in self.r.sequence(node, f"{what}: exclude"):
            pair = self.r.sequence(n, f"{what}: exclude pair")
            if len(pair) != 2:
                self.r.error(n, f"{what}: each exclude entry is a pair [institution id, expert id]")
                continue
            inst, expert = (self.r.identifier(item, f"{what}: exclude") for item in pair)
            if inst and expert:
                pairs.append((inst, expert))
                self._exclude_nodes[(inst, expert)] = n
        return tuple(pairs)

    def _check_references(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        r, tz = self.r, self.tz
        by_id = {s.id: s for s in stages}

        def field_node(stage: Stage, key: str) -> yaml.Node:
            return next((v for k, v in where[stage.id].value if k.value == key), where[stage.id])

        for stage in stages:
            for key in ("list", "distinct_from"):
                ref = getattr(stage, key)
                if ref is None:
                    continue
                target = by_id.get(ref)
                if target is None:
                    r.error(field_node(stage, key), f"stage '{stage.id}': {key} '{ref}' is not a stage id{suggest(ref, by_id)}")
                elif target.kind != "assignment":
                    r.error(field_node(stage, key), f"stage '{stage.id}': {key} '{ref}' must name an assignment stage, not a {target.kind}")
                elif key == "distinct_from" and ref == stage.id:
                    r.error(field_node(stage, key), f"stage '{stage.id}': distinct_from cannot name the stage itself")
            for dep in stage.after:
                target = by_id.get(dep)
                node = field_node(stage, "after")
                if target is None:
                    r.error(node, f"stage '{stage.id}': after '{dep}' is not a stage id{suggest(dep, by_id)}")
                elif dep == stage.id:
                    r.error(node, f"stage '{stage.id}' cannot come after itself")
                elif target.due_at > stage.opens_at:
                    r.error(node, f"stage '{stage.id}' opens {show(stage.opens_at, tz)}, before '{dep}' it comes after ends "
                                  f"{show(target.due_at, tz)}; move 'opens' or drop '{dep}' from 'after'")
        cycle = _find_cycle({s.id: [d for d in s.after if d in by_id and d != s.id] for s in stages})
        if cycle:
            r.error(where[cycle[0]], f"stages depend on each other in a circle: {' → '.join(cycle + [cycle[0]])}")

    def _check_exclusions(self, stages: list[Stage], institutions: list[Institution]) -> None:
        known_institutions = {i.id for i in institutions}
        known_experts = {e.id for i in institutions for e in i.experts}
        for stage in stages:
            for inst, expert in stage.exclude:
                node = self._exclude_nodes.get((inst, expert))
                if inst not in known_institutions:
                    self.r.error(node, f"stage '{stage.id}': exclude names ДОУ '{inst}', which is not in institutions")
                if expert not in known_experts:
                    self.r.error(node, f"stage '{stage.id}': exclude names expert '{expert}', who is not in any ДОУ's experts")

    def _check_experts_per_institution(self, stages: list[Stage], where: dict[str, yaml.MappingNode],
                                       institutions: list[Institution]) -> None:
        """An expert list cannot ask for more experts than any ДОУ could get from the others."""
        total = sum(len(i.experts) for i in institutions)
        for stage in stages:
            node = next((v for k, v in where[stage.id].value if k.value == "experts_per_institution"), None)
            if stage.kind != "assignment" or node is None or not institutions:
                continue
            excluded: dict[str, int] = {}
            for inst, _ in set(stage.exclude):
                excluded[inst] = excluded.get(inst, 0) + 1
            most = max(total - len(i.experts) - excluded.get(i.id, 0) for i in institutions)
            if stage.experts_per_institution > most:
                self.r.error(node, f"stage '{stage.id}': experts_per_institution {stage.experts_per_institution} is more than the roster "
                                   f"allows: no ДОУ can get more than {most} experts from other ДОУ; give at most {most} or add experts")

    def _check_span(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """A campaign is one yearly cycle; a far-off year is a typo, and would make a replay endless."""
        if not stages:
            return
        first = min(stages, key=lambda s: s.opens_at)
        last = max(stages, key=lambda s: s.locks_at)
        if last.locks_at - first.opens_at > MAX_SPAN:
            key = "at" if last.kind == "event" else "due"
            node = next((v for k, v in where[last.id].value if k.value == key), where[last.id])
            self.r.error(node, f"stage '{last.id}' ends {show(last.locks_at, self.tz)}, more than {MAX_SPAN.days} days after "
                               f"stage '{first.id}' opens ({show(first.opens_at, self.tz)}); a campaign is one yearly cycle: check the years")

    def _check_working_days(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        tz = self.tz
        for stage in stages:
            key = "at" if stage.kind == "event" else "due"
            day = stage.due_at.astimezone(tz).date()
            if not self.calendar.is_working_day(day):
                node = next((v for k, v in where[stage.id].value if k.value == key), where[stage.id])
                self.r.warn(node, f"stage '{stage.id}': {key} {day.strftime('%d.%m.%Y')} is {self.calendar.why_off(day)}, "
                                  f"not a working day of the campaign calendar")


    def _check_handouts(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """A handout mails the experts the links submitted so far: warn when a ДОУ task that the
        review waits for is still open then (those links reach the experts only in later reminders)."""
        by_id = {s.id: s for s in stages}
        for handout in (s for s in stages if s.kind == "handout"):
            review = next((s for s in stages if s.actor == "expert" and s.list == handout.list), None)
            for dep in (by_id[d] for d in (review.after if review else ()) if d in by_id):
                if dep.actor == "institution" and dep.due_at > handout.opens_at:
                    self.r.warn(where[handout.id], f"stage '{handout.id}' hands out on {handout.opens_at.astimezone(self.tz):%d.%m.%Y}, "
                                f"before '{dep.id}' is due ({dep.due_at.astimezone(self.tz):%d.%m.%Y %H:%M}): experts get later "
                                "links only in their reminders")


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in graph:
        if start not in state and (found := visit(start)):
            return found
    return None


def digest_of(text: str) -> str:
    """The digest of a campaign's JSON (`to_json`)."""
    return hashlib.sha256(text.encode()).hexdigest()


def to_json(campaign: Campaign) -> str:
    """The campaign as JSON, stored with the loaded campaign so the file need not stay around."""
    return json.dumps(_plain(campaign), ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> Campaign:
    data = json.loads(text)

    def rules(items):
        if items is None:
            return None
        return tuple(ReminderRule(r["kind"], Duration.parse(r["offset"]) if r["offset"] else None, r["anchor"], r["max"]) for r in items)

    def stage(s):
        times = {k: datetime.fromisoformat(s[k]) for k in ("opens_at", "due_at", "locks_at")}
        return Stage(**{**s, **times, "grace": Duration.parse(s["grace"]) if s["grace"] else None,
                        "after": tuple(s["after"]), "audience": tuple(s["audience"]), "reminders": rules(s["reminders"]),
                        "exclude": tuple(tuple(p) for p in s["exclude"])})

    return Campaign(
        **{k: data[k] for k in ("id", "title", "timezone", "locale", "order", "notifications")},
        coordinator=Contact(**data["coordinator"]),
        operator=Contact(**data["operator"]) if data["operator"] else None,
        institutions=tuple(Institution(**{**i, "experts": tuple(Expert(**e) for e in i["experts"])}) for i in data["institutions"]),
        stages=tuple(stage(s) for s in data["stages"]),
        calendar=WorkCalendar.from_dict(data["calendar"]),
        areas=tuple(Titled(**a) for a in data["areas"]),
        levels=tuple(Titled(**lv) for lv in data["levels"]),
        default_reminders=rules(data["default_reminders"]),
        sending=Sending(**data["sending"]),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, WorkCalendar):
        return value.to_dict()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
