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
from functools import cached_property
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import Duration, WorkCalendar, Written, known_country, show, zone
from dqflow.campaign import dating
from dqflow.campaign import terms as vocabulary
from dqflow.campaign.nodes import EMAIL, SLUG, NodeReader, suggest
from dqflow.errors import Problem, SpecError
from dqflow.intake import files, templates
from dqflow.intake import table as table_files
from dqflow.intake import text as texts

SCHEMA_VERSION = 1
STAGE_KINDS = ("task", "event", "assignment", "handout")
ACTORS = ("institution", "expert", "coordinator")
AUDIENCES = ("institutions", "experts", "coordinator")
READERS = {"institutions": "the ДОУ", "experts": "the experts", "coordinator": "the coordinator"}
ROSTER_COLUMNS = ("id", "name", "email", "contact", "expert_id", "expert_name", "expert_email")
EXPERT_COLUMNS = ("id", "name", "email", "institution")

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
    institution: str | None = None  # a top-level expert's ДОУ, when they have one (a ДОУ's own experts: None)


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
    short: str | None = None  # the name in subjects and tables, where two titles are alike or long
    submit_to: str | None = None  # "operator": the ДОУ hand their forms to campaign.operator, whom the mail names

    @property
    def label(self) -> str:
        return self.short or self.title

    @property
    def audiences(self) -> frozenset[str]:
        """Who reads this stage's title in their mail: `validate` keeps it distinct for them."""
        if self.kind == "event":
            return frozenset(self.audience)
        if self.kind == "handout":
            return frozenset({"experts", "coordinator"})
        return frozenset({{"institution": "institutions", "expert": "experts"}.get(self.actor or "", "coordinator")})

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
class Portal:
    base_url: str | None = None  # where `dqflow serve` is reached from outside: personal links start with it


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
    portal: Portal | None = None
    experts: tuple[Expert, ...] = ()  # experts who belong to no ДОУ's list (top-level `experts:`)
    terms: vocabulary.Terms = field(default_factory=vocabulary.Terms)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def every_expert(self) -> list[tuple[Expert, str | None]]:
        """Each expert with their ДОУ (None for one of no ДОУ): the ДОУ's own experts, then the top-level ones."""
        return [(e, i.id) for i in self.institutions for e in i.experts] + [(e, e.institution) for e in self.experts]

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    @cached_property
    def institution_ids(self) -> frozenset[str]:
        """The ДОУ in the campaign now (not those an amendment withdrew): built once, a set lookup per act."""
        return frozenset(i.id for i in self.institutions)

    @cached_property
    def institution_names(self) -> dict[str, str]:
        """ДОУ id → name, built once: every send names thousands. Shared: read it, never change it."""
        return {i.id: i.name for i in self.institutions}

    @cached_property
    def expert_names(self) -> dict[str, str]:
        """Expert id → name, built once (see `institution_names`)."""
        return {e.id: e.name for e, _ in self.every_expert()}

    @cached_property
    def expert_addresses(self) -> dict[str, str]:
        """Expert id → address in lower case, built once (see `institution_names`)."""
        return {e.id: e.email.lower() for e, _ in self.every_expert()}

    def digest(self) -> str:
        """Fingerprint of the content (not of comments or layout): equal files load as no-ops."""
        return digest_of(to_json(self))


@dataclass(frozen=True)
class Validated:
    campaign: Campaign | None
    problems: list[Problem]
    notes: tuple[str, ...] = ()  # how each roster file was read: "roster.csv read as CSV, Windows-1251, separated by ';'"
    # each relative date as written (its YAML node and rule) with the date it resolved to: `instantiate` writes them out
    relative: list[tuple[yaml.Node, dating.Relative, Written]] = field(default_factory=list)

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
        return None, [Problem(str(path), line, column, "not UTF-8 text; save the file as UTF-8")]


def validate_text(text: str, filename: str = "<campaign>", base: Path | None = None, *,
                  start: date | None = None, campaign_id: str | None = None) -> Validated:
    """The campaign in `text`; `start` and `campaign_id` stand in for the file's own (as `instantiate` asks)."""
    reader = NodeReader(filename, base or Path("."))
    root = reader.document(text, "a campaign file")
    if root is None:
        return Validated(None, reader.problems)
    builder = _CampaignBuilder(reader, start=start, campaign_id=campaign_id)
    try:
        campaign = builder.build(root)
    except RecursionError:
        reader.error(None, "YAML nesting too deep")
        campaign = None
    problems = sorted(reader.problems, key=lambda p: (p.file != filename, p.file, p.line, p.column))
    has_errors = any(p.severity == "error" for p in problems)
    return Validated(None if has_errors else campaign, problems, notes=tuple(builder.notes), relative=builder.resolved_relative())


class _CampaignBuilder:
    """Walks the document once, building the Campaign and recording every problem found."""

    def __init__(self, reader: NodeReader, start: date | None = None, campaign_id: str | None = None):
        self.r = reader
        self._start_override, self._id_override = start, campaign_id
        self.tz: ZoneInfo | None = None
        self.calendar = WorkCalendar()
        self._exclude_nodes: dict[tuple[str, str], yaml.Node] = {}
        self.notes: list[str] = []  # how roster files were read, for validate's summary
        self.start: Written | None = None  # campaign.start, which relative dates may follow
        self._start_given = False
        self._dates: dict[int, Written] = {}  # id() of a stage's opens/due/at node → its resolved date
        self.relative: list[tuple[yaml.Node, dating.Relative]] = []  # relative dates as written, for `instantiate`
        self._submit_to: list[yaml.Node] = []  # stages that name the operator: the campaign must have one

    def build(self, root: yaml.Node) -> Campaign | None:
        r = self.r
        top = r.mapping(root, "the campaign file", ["version", "campaign", "institutions", "stages"],
                        ["areas", "levels", "defaults", "experts"])
        if top is None:
            return None
        if "version" in top and r.integer(top["version"], "version") not in (None, SCHEMA_VERSION):
            r.error(top["version"], f"schema version {top['version'].value} is not supported; this dqflow reads version {SCHEMA_VERSION}")
        head = self._campaign(top["campaign"]) if "campaign" in top else None
        institutions = self._institutions(top["institutions"]) if "institutions" in top else ()
        experts = self._experts(top["experts"], institutions) if "experts" in top else []
        if institutions or experts:
            self._check_roster_size(institutions, experts, top.get("institutions") or top["experts"])
        areas = self._titled_list(top.get("areas"), "area")
        levels = self._titled_list(top.get("levels"), "level")
        defaults = self._defaults(top.get("defaults"))
        stages = self._stages(top["stages"], institutions, experts) if "stages" in top else ()
        for node in self._submit_to if head is not None and head.get("operator") is None else ():
            r.error(node, "submit_to: operator needs campaign.operator (name and email) to name in the mail; add it")
        if head is None or any(p.severity == "error" for p in r.problems):
            return None
        return Campaign(
            institutions=tuple(institutions), stages=tuple(stages), areas=areas, levels=levels,
            default_reminders=defaults, experts=tuple(experts), **head,
        )

    # -- campaign ---------------------------------------------------------

    def _campaign(self, node: yaml.Node) -> dict[str, Any] | None:
        r = self.r
        f = r.mapping(node, "campaign", ["id", "title", "timezone", "coordinator"],
                      ["locale", "order", "operator", "calendar", "sending", "notifications", "portal", "start", "terms"])
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
            "terms": (vocabulary.read(r, f["terms"]) or vocabulary.DEFAULT) if "terms" in f else vocabulary.DEFAULT,
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

    def _portal(self, node: yaml.Node) -> Portal | None:
        f = self.r.mapping(node, "campaign.portal", [], ["base_url"])
        if f is None or "base_url" not in f:
            return None
        url = self.r.one_line(f["base_url"], "campaign.portal.base_url")
        if url is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
            self.r.error(f["base_url"], f"campaign.portal.base_url '{url}' must be a web address without ? or #, "
                                        "like https://monitoring.example.org")
            return None
        return Portal(url.rstrip("/")) if url else None

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
        ident, name = r.identifier(f.get("id"), "institution.id"), r.one_line(f.get("name"), "institution.name")
        email = r.email(f.get("email"), "institution.email")
        contact = r.one_line(f["contact"], "institution.contact") if "contact" in f else None
        if not (ident and name and email):
            return None
        return Institution(ident, name, email, contact, tuple(experts))

    def _read_table(self, node: yaml.Node, what: str, columns: tuple[str, ...], noun: str) -> tuple[table_files.Table, list[str]] | None:
        """The roster a `{file: …}` names and its header, lower-cased: the one reader of rosters, for
        institutions and experts alike. The header must hold the first three `columns`, in any order,
        and no other. None when it cannot be read (said)."""
        r = self.r
        table = self._table(node, what)
        if table is None:
            return None
        header = [c.strip().lower() for c in table.header]
        missing = [c for c in columns[:3] if c not in header]
        if missing:
            found = ", ".join(f"'{c.strip()[:40]}'" for c in table.header[:8] if c.strip()) or "nothing"
            r.problems.append(Problem(table.file, table.header_row, 1,
                                      f"the {noun}'s header row (read as {table.form}) holds {found}; it needs the columns "
                                      f"{', '.join(columns[:3])} (optional: {', '.join(columns[3:])}), "
                                      "named so, in any order, in the first row"))
            return None
        for col, column in enumerate(header, 1):
            if column and column not in columns:
                where = f" ({table.column(col)})" if table.letters else ""
                r.problems.append(Problem(table.file, table.header_row, col, f"unknown {noun} column '{column}'{where}{suggest(column, columns)}"))
        return table, header

    def _roster(self, node: yaml.Node) -> list[Institution]:
        """Institutions from a roster file: one row per ДОУ, or per ДОУ and expert."""
        r = self.r
        read = self._read_table(node, "institutions.file", ROSTER_COLUMNS, "roster")
        if read is None:
            return []
        table, header = read
        file = table.file
        found: dict[str, Institution] = {}
        for line, row in table.rows:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            institution = self._roster_row(table, line, header, record)
            if institution is None:
                continue
            known = found.get(institution.id)
            if known is None:
                found[institution.id] = institution
            elif (known.name, known.email) != (institution.name, institution.email) and (institution.name or institution.email):
                r.problems.append(Problem(file, line, 1, f"ДОУ '{institution.id}' is listed again with a different name or email; "
                                                               "repeat rows only to add experts"))
            else:
                found[institution.id] = Institution(known.id, known.name, known.email, known.contact, known.experts + institution.experts)
        if not found:
            r.problems.append(Problem(file, table.header_row, 1, "the roster lists no ДОУ"))
        self._check_unique_people([(i, node) for i in found.values()])
        return list(found.values())

    def _table(self, node: yaml.Node, what: str) -> table_files.Table | None:
        """The table a `file:` key names (CSV in UTF-8 or Windows-1251, `,` or `;`, or .xlsx), relative
        to the campaign file; None with the problems recorded. How it was read goes into `notes`."""
        r = self.r
        name = r.one_line(node, what)
        if name is None:
            return None
        path = r.base / name
        try:
            table = table_files.read(path, str(path))
        except files.Unreadable as exc:
            r.error(node, f"{what} '{name}': {exc}")
            return None
        except SpecError as exc:
            r.problems.extend(exc.problems)
            return None
        self.notes.append(f"{name} read as {table.form}")
        return table

    @staticmethod
    def _cell_checker(table: table_files.Table, line: int, header: list[str], record: dict[str, str],
                      problems: list[Problem]) -> Callable[..., None]:
        """`check(column, valid, message, limit=None)`: one roster cell checked for its length and form, a
        problem located at its row and column (with the column's letter in a workbook) on failure."""

        def check(column: str, valid: Callable[[str], bool], message: str, limit: int | None = None) -> None:
            value = record.get(column, "")
            col = header.index(column) + 1 if column in header else 1
            where = f" ({table.column(col)})" if table.letters else ""
            limit = limit or (texts.MAX_ID if column.endswith("id") else texts.MAX_EMAIL if column.endswith("email") else texts.MAX_LINE)
            why = texts.problem(value, limit)
            if why is not None:  # quoting the value would repeat what is wrong with it
                problems.append(Problem(table.file, line, col, f"{column}{where} {why}"))
            elif not valid(value):
                problems.append(Problem(table.file, line, col, f"{column}{where} '{value}' {message}"))

        return check

    def _roster_row(self, table: table_files.Table, line: int, header: list[str], record: dict[str, str]) -> Institution | None:
        problems: list[Problem] = []
        check = self._cell_checker(table, line, header, record, problems)

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

    def _check_roster_size(self, institutions: list[Institution], experts: list[Expert], node: yaml.Node) -> None:
        count = sum(len(i.experts) for i in institutions) + len(experts)
        if len(institutions) > MAX_INSTITUTIONS:
            self.r.error(node, f"institutions lists {len(institutions)} ДОУ; "
                                 f"dqflow takes at most {MAX_INSTITUTIONS} in one campaign: split it by region")
        if count > MAX_EXPERTS:
            self.r.error(node, f"the campaign lists {count} experts; dqflow takes at most {MAX_EXPERTS} in one campaign: split it by region")

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

    # -- experts of no ДОУ's list ---------------------------------------------

    def _experts(self, node: yaml.Node, institutions: list[Institution]) -> list[Expert]:
        """The top-level `experts:` (inline or `{file: …}`): ids unique with the ДОУ's own experts,
        an `institution` (optional) naming a ДОУ of the roster."""
        r = self.r
        if isinstance(node, yaml.MappingNode):
            f = r.mapping(node, "experts", ["file"], [])
            located = self._expert_roster(f["file"]) if f and "file" in f else []
        else:
            located = [(e, n) for n in r.sequence(node, "experts") if (e := self._expert(n))]
        known = {i.id for i in institutions}
        taken = {e.id for i in institutions for e in i.experts}
        found = []
        for expert, where in located:
            if expert.id in taken:
                self._located_error(where, f"duplicate expert id '{expert.id}'; every expert needs its own id")
                continue
            taken.add(expert.id)
            if expert.institution is not None and known and expert.institution not in known:
                self._located_error(where, f"expert '{expert.id}': institution '{expert.institution}' is not in institutions"
                                           f"{suggest(expert.institution, known)}")
                continue
            found.append(expert)
        return found

    def _located_error(self, where: yaml.Node | Problem, message: str) -> None:
        if isinstance(where, Problem):
            self.r.problems.append(Problem(where.file, where.line, where.column, message))
        else:
            self.r.error(where, message)

    def _expert(self, node: yaml.Node) -> Expert | None:
        r = self.r
        f = r.mapping(node, "expert", ["id", "name", "email"], ["institution"])
        if f is None:
            return None
        fields = (r.identifier(f.get("id"), "expert.id"), r.one_line(f.get("name"), "expert.name"), r.email(f.get("email"), "expert.email"))
        institution = r.identifier(f["institution"], "expert.institution") if "institution" in f else None
        if not all(fields) or ("institution" in f and institution is None):
            return None
        return Expert(*fields, institution=institution)

    def _expert_roster(self, node: yaml.Node) -> list[tuple[Expert, Problem]]:
        """Experts from a CSV file with the columns id,name,email[,institution]; each with where it stands."""
        r = self.r
        read = self._read_table(node, "experts.file", EXPERT_COLUMNS, "experts file")
        if read is None:
            return []
        table, header = read
        file = table.file
        found: list[tuple[Expert, Problem]] = []
        for line, row in table.rows:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            problems: list[Problem] = []
            check = self._cell_checker(table, line, header, record, problems)
            check("id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), "must be letters, digits, '.', '-' or '_'")
            check("name", bool, "is empty")
            check("email", lambda v: bool(EMAIL.fullmatch(v)), "is not an email address")
            if record.get("institution"):  # optional: an expert of no ДОУ leaves it empty
                check("institution", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), "must be a ДОУ id", texts.MAX_ID)
            r.problems.extend(problems)
            if not problems:
                found.append((Expert(record["id"], record["name"], record["email"], record.get("institution") or None),
                              Problem(file, line, 1, "")))
        if not found and not r.problems:
            r.problems.append(Problem(file, table.header_row, 1, "the experts file lists no expert"))
        return found

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

    def _stages(self, node: yaml.Node, institutions: list[Institution], experts: list[Expert]) -> list[Stage]:
        r = self.r
        nodes = r.sequence(node, "stages")
        if isinstance(node, yaml.SequenceNode) and not nodes:
            r.error(node, "stages is empty; list the order's stages")
        if len(nodes) > MAX_STAGES:
            r.error(node, f"stages lists {len(nodes)} stages; dqflow takes at most {MAX_STAGES} in one campaign")
            return []
        stages: list[Stage] = []
        where: dict[str, yaml.MappingNode] = {}
        declared = self._declared_stages(nodes)
        self._resolve_dates(nodes, declared)
        for n in nodes:
            stage = self._stage(n)
            if stage is None:
                continue
            if stage.id in where:
                r.error(n, f"duplicate stage id '{stage.id}' (first at line {where[stage.id].start_mark.line + 1})")
                continue
            where[stage.id] = n
            stages.append(stage)
        self._check_references(stages, where, declared)
        self._check_working_days(stages, where)
        self._check_handouts(stages, where)
        homes = [(e, i.id) for i in institutions for e in i.experts] + [(e, e.institution) for e in experts]
        self._check_distinct_titles(stages, where)
        self._check_exclusions(stages, institutions, homes)
        self._check_experts_per_institution(stages, where, institutions, homes)
        self._check_span(stages, where)
        return stages

    def _stage(self, node: yaml.Node) -> Stage | None:
        r = self.r
        f = r.mapping(node, "stage", ["id", "title", "kind"], [
            "actor", "opens", "due", "at", "grace", "url", "responsible", "result", "after", "list", "short", "submit_to",
            "experts_per_institution", "distinct_from", "audience", "reminders", "exclude", "max_load",
        ])
        if f is None:
            return None
        ident = r.slug(f.get("id"), "stage.id")
        kind = r.choice(f.get("kind"), "stage.kind", STAGE_KINDS)
        what = f"stage '{ident}'" if ident else "stage"
        title = r.one_line(f.get("title"), f"{what}: title")
        allowed = {
            "task": {"actor", "opens", "due", "grace", "list", "reminders", "submit_to"},
            "event": {"at", "audience", "reminders"},
            "assignment": {"opens", "due", "grace", "experts_per_institution", "distinct_from", "exclude", "max_load", "reminders"},
            "handout": {"opens", "due", "grace", "list", "reminders"},
        }.get(kind or "", set())
        common = {"id", "title", "kind", "url", "responsible", "result", "after", "short"}
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
        submit_to = r.choice(f["submit_to"], f"{what}: submit_to", ("operator",)) if "submit_to" in f else None
        if submit_to and actor != "institution":
            r.error(f["submit_to"], f"{what}: submit_to belongs to a task of the ДОУ (actor: institution)")
        elif submit_to:
            self._submit_to.append(f["submit_to"])
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
            short=r.one_line(f["short"], f"{what}: short") if "short" in f else None, submit_to=submit_to,
        )

    def _declared_stages(self, nodes: list[yaml.Node]) -> dict[str, str | None]:
        """Every stage id the file declares, with its kind (None when unreadable), read leniently
        before the stages are built: a stage that fails to parse still answers references to it,
        so one mistake gives one error (its own problems are reported when it is built)."""
        declared: dict[str, str | None] = {}
        for n in nodes:
            if not isinstance(n, yaml.MappingNode):
                continue
            keys = {k.value: v for k, v in n.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)}
            ident = keys.get("id")
            if ident is not None and SLUG.fullmatch(ident.value) and ident.value not in declared:
                kind = keys.get("kind")
                declared[ident.value] = kind.value if kind is not None and kind.value in STAGE_KINDS else None
        return declared

    def _resolve_dates(self, nodes: list[yaml.Node], declared: dict[str, str | None]) -> None:
        """Read every stage's opens/due/at (absolute or relative) and resolve them all at once,
        so a date may follow a stage written after it; problems are reported where written."""
        r, tz = self.r, self.tz
        entries: dict[str, Written | dating.Relative | None] = {}
        written_at: dict[str, yaml.Node] = {}
        for index, n in enumerate(nodes):
            if not isinstance(n, yaml.MappingNode):
                continue
            keys = {k.value: v for k, v in n.value if isinstance(k, yaml.ScalarNode)}
            ident = keys["id"].value if isinstance(keys.get("id"), yaml.ScalarNode) else None
            owner = ident if ident in declared and ident not in {k.partition(".")[0] for k in entries} else f"#{index}"
            what = f"stage '{ident}'" if ident else "stage"
            for name in dating.FIELDS:
                if name not in keys:
                    continue
                value = dating.read(r, keys[name], f"{what}: {name}")
                if isinstance(value, Written) and value.offset and tz is not None:  # an absolute instant: on the campaign's clock
                    local = value.moment(tz).astimezone(tz)
                    value = Written(local.date(), local.time())
                if isinstance(value, dating.Relative):
                    self.relative.append((keys[name], value))
                entries[f"{owner}.{name}"] = value
                written_at[f"{owner}.{name}"] = keys[name]
        if tz is None:
            return
        resolution = dating.resolve(entries, declared, self.start, self._start_given, self.calendar)
        for node, message in resolution.problems:
            r.error(node, message)
        self._dates = {id(written_at[key]): day for key, day in resolution.dates.items() if key in written_at}

    def resolved_relative(self) -> list[tuple[yaml.Node, dating.Relative, Written]]:
        return [(node, rule, self._dates[id(node)]) for node, rule in self.relative if id(node) in self._dates]

    def _date(self, node: yaml.Node | None) -> Written | None:
        return None if node is None else self._dates.get(id(node))

    def _stage_times(self, f: dict[str, yaml.Node], node: yaml.Node, what: str, kind: str | None):
        r, tz = self.r, self.tz
        if kind == "event":
            if "at" not in f:
                r.error(node, f"{what}: an event needs 'at: <date and time>'")
                return None
            at = self._date(f["at"])
            if at is None or tz is None:
                return None
            moment = at.moment(tz)
            return moment, moment, moment, None, at.clock is None
        if kind is None:
            return None
        for key in ("opens", "due"):
            if key not in f:
                r.error(node, f"{what}: needs '{key}: <date or date and time>'")
        opens_at, due_at = self._date(f.get("opens")), self._date(f.get("due"))
        grace = r.duration(f["grace"], f"{what}: grace") if "grace" in f else None
        if opens_at is None or due_at is None or tz is None:
            return None
        opens, due = opens_at.moment(tz), due_at.moment(tz, end_of_day=True)
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

    def _check_references(self, stages: list[Stage], where: dict[str, yaml.MappingNode], declared: dict[str, str | None]) -> None:
        """References between stages; one to a stage that failed to parse is not a second error."""
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
                if target is None and ref in declared:
                    continue
                if target is None:
                    r.error(field_node(stage, key), f"stage '{stage.id}': {key} '{ref}' is not a stage id{suggest(ref, declared)}")
                elif target.kind != "assignment":
                    r.error(field_node(stage, key), f"stage '{stage.id}': {key} '{ref}' must name an assignment stage, not a {target.kind}")
                elif key == "distinct_from" and ref == stage.id:
                    r.error(field_node(stage, key), f"stage '{stage.id}': distinct_from cannot name the stage itself")
            for dep in stage.after:
                target = by_id.get(dep)
                node = field_node(stage, "after")
                if target is None and dep in declared:
                    continue
                if target is None:
                    r.error(node, f"stage '{stage.id}': after '{dep}' is not a stage id{suggest(dep, declared)}")
                elif dep == stage.id:
                    r.error(node, f"stage '{stage.id}' cannot come after itself")
                elif target.due_at > stage.opens_at:
                    r.error(node, f"stage '{stage.id}' opens {show(stage.opens_at, tz)}, before '{dep}' it comes after ends "
                                  f"{show(target.due_at, tz)}; move 'opens' or drop '{dep}' from 'after'")
        cycle = _find_cycle({s.id: [d for d in s.after if d in by_id and d != s.id] for s in stages})
        if cycle:
            r.error(where[cycle[0]], f"stages depend on each other in a circle: {' → '.join(cycle + [cycle[0]])}")

    def _check_exclusions(self, stages: list[Stage], institutions: list[Institution],
                          homes: list[tuple[Expert, str | None]]) -> None:
        known_institutions = {i.id for i in institutions}
        known_experts = {e.id for e, _ in homes}
        for stage in stages:
            for inst, expert in stage.exclude:
                node = self._exclude_nodes.get((inst, expert))
                if inst not in known_institutions:
                    self.r.error(node, f"stage '{stage.id}': exclude names ДОУ '{inst}', which is not in institutions")
                if expert not in known_experts:
                    self.r.error(node, f"stage '{stage.id}': exclude names expert '{expert}', who is not among the campaign's experts")

    def _check_experts_per_institution(self, stages: list[Stage], where: dict[str, yaml.MappingNode],
                                       institutions: list[Institution], homes: list[tuple[Expert, str | None]]) -> None:
        """An expert list cannot ask for more experts than any ДОУ could get from the others."""
        total = len(homes)
        own: dict[str, int] = {}
        for _, home in homes:
            if home is not None:
                own[home] = own.get(home, 0) + 1
        for stage in stages:
            node = next((v for k, v in where[stage.id].value if k.value == "experts_per_institution"), None)
            if stage.kind != "assignment" or node is None or not institutions:
                continue
            excluded: dict[str, int] = {}
            for inst, _ in set(stage.exclude):
                excluded[inst] = excluded.get(inst, 0) + 1
            most = max(total - own.get(i.id, 0) - excluded.get(i.id, 0) for i in institutions)
            if stage.experts_per_institution > most:
                self.r.error(node, f"stage '{stage.id}': experts_per_institution {stage.experts_per_institution} is more than the roster "
                                   f"allows: no ДОУ can get more than {most} experts from outside it; give at most {most} or add experts")

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

    def _check_distinct_titles(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """Two stages that one reader sees under one name read as one: warn at the later one."""
        shown: dict[str, list[Stage]] = {}
        for stage in stages:
            for other in shown.get(stage.label, []):
                readers = stage.audiences & other.audiences
                if readers:
                    key = "short" if stage.short else "title"
                    node = next((v for k, v in where[stage.id].value if k.value == key), where[stage.id])
                    self.r.warn(node, f"stage '{stage.id}' shows the same title «{stage.label}» as stage '{other.id}' to "
                                      f"{' and '.join(READERS[r] for r in sorted(readers))}; "
                                      "give one of them a distinct 'short:' for subjects and tables")
                    break
            shown.setdefault(stage.label, []).append(stage)

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
    """The campaign as JSON, stored with the loaded campaign so the file need not stay around.
    Keys added since the first release are left out while unused (`_LATER_FIELDS`)."""
    data = _plain(campaign)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


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
        experts=tuple(Expert(**e) for e in data.get("experts", ())),
        stages=tuple(stage(s) for s in data["stages"]),
        calendar=WorkCalendar.from_dict(data["calendar"]),
        areas=tuple(Titled(**a) for a in data["areas"]),
        levels=tuple(Titled(**lv) for lv in data["levels"]),
        default_reminders=rules(data["default_reminders"]),
        sending=Sending(**data["sending"]),
        portal=Portal(**data["portal"]) if data.get("portal") else None,
        terms=vocabulary.Terms.from_dict(data.get("terms")),  # campaigns stored before terms existed say ДОУ
    )


# Fields added after campaigns were first stored, with their unused value: left out of the JSON while
# unused, so a campaign that does not use them keeps its digest (and loading the same file again stays
# a no-op); `from_json` gives them that value back.
_LATER_FIELDS = {("Campaign", "experts"): (), ("Expert", "institution"): None, ("Campaign", "portal"): None,
                 ("Campaign", "terms"): vocabulary.DEFAULT, ("Stage", "short"): None, ("Stage", "submit_to"): None}
_UNSET = object()


def _plain(value: Any) -> Any:
    if isinstance(value, WorkCalendar):
        return value.to_dict()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__
                if _LATER_FIELDS.get((type(value).__name__, name), _UNSET) != getattr(value, name)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
