"""The campaign as dqflow works with it: frozen dataclasses of the stages, the roster (ДОУ and experts),
the quality areas and levels, the reminder rules and the sending window.

This is the model alone: the campaign file's parser (`campaign.parser`) builds it and the storage codec
(`campaign.codec`) writes and reads it back; neither is imported here, so whatever only reads a campaign
needs neither YAML nor JSON.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dqflow.calendar import Duration, WorkCalendar, zone
from dqflow.campaign.terms import Terms

_PARSING = threading.RLock()  # a stored campaign's roster, parsed on first read (`Campaign.__getattr__`); re-entrant should parsing read another

STAGE_KINDS = ("task", "event", "assignment", "handout")
ACTORS = ("institution", "expert", "coordinator")
AUDIENCES = ("institutions", "experts", "coordinator")


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
    inn: str | None = None  # ИНН of the legal entity (10 digits): what relates the ДОУ across campaigns (`engine.lineage`)


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
    form: bool = False  # a ДОУ task whose hand-in is the monitoring form (indicators): a version of one form per such stage

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


EVIDENCE = ("required", "optional")
SETTLE_RULES = ("lower", "mean-rounded-down", "coordinator")  # `settle:`, see `engine.finals.agreed`
AREA_RULES = ("lower", "mean-rounded-down")  # `area_level:`, see `engine.finals.area_level`


@dataclass(frozen=True)
class Indicator:
    """One indicator (показатель) of a quality area: "1.1", its title, a hint for the ДОУ, whether evidence is required."""

    id: str
    title: str
    hint: str | None = None
    evidence: str = "required"  # required | optional

    @property
    def required(self) -> bool:
        return self.evidence == "required"


@dataclass(frozen=True)
class Area(Titled):
    """A quality area; with indicators when the campaign has a form."""

    indicators: tuple[Indicator, ...] = ()


@dataclass(frozen=True)
class Level(Titled):
    """A level of the scale; `baseline` marks the base level (at most one)."""

    baseline: bool = False


def base_level(levels: tuple[Titled, ...]) -> str | None:
    """The scale's base level: the one marked `baseline: true`, else the first titled «Базовый…», else the first.
    The one place this rule lives (the справка asks it through `Campaign.base_level`)."""
    if not levels:
        return None
    marked = [lv.id for lv in levels if getattr(lv, "baseline", False)]
    titled = [lv.id for lv in levels if lv.title.lower().startswith("базов")]
    return (marked or titled or [levels[0].id])[0]


@dataclass(frozen=True)
class Sending:
    window_start: str = "09:00"
    window_end: str = "18:00"
    working_days_only: bool = True


@dataclass(frozen=True)
class Portal:
    base_url: str | None = None  # where `dqflow serve` is reached from outside: personal links start with it


@dataclass(frozen=True)
class Publication:
    """What `dqflow publish` puts on the official site beyond levels and participation (`campaign.publish`)."""

    recommendations: bool = False  # the experts' recommendations to each ДОУ (their texts, never who wrote them)


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
    areas: tuple[Area, ...] = ()
    levels: tuple[Level, ...] = ()
    default_reminders: tuple[ReminderRule, ...] | None = None
    sending: Sending = field(default_factory=Sending)
    notifications: str | None = None
    portal: Portal | None = None
    experts: tuple[Expert, ...] = ()  # experts who belong to no ДОУ's list (top-level `experts:`)
    terms: Terms = field(default_factory=Terms)
    previous: str | None = None  # last year's campaign (`campaign.previous`), whose ДОУ `engine.lineage` relates to these
    publish: Publication = field(default_factory=Publication)
    settle: str = "lower"  # an indicator's final level where its experts differ: lower | mean-rounded-down | coordinator
    area_level: str = "mean-rounded-down"  # an area's level from its indicators' levels: lower | mean-rounded-down

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def every_expert(self) -> list[tuple[Expert, str | None]]:
        """Each expert with their ДОУ (None for one of no ДОУ): the ДОУ's own experts, then the top-level ones."""
        return [(e, i.id) for i in self.institutions for e in i.experts] + [(e, e.institution) for e in self.experts]

    @property
    def year(self) -> int | None:
        """The campaign's year: the year its first stage opens in, in its zone (a Tomsk campaign of
        November 2021 – January 2022 is 2021's); None for a campaign of no stages."""
        first = min((s.opens_at for s in self.stages), default=None)
        return first.astimezone(self.tz).year if first else None

    @property
    def base_level(self) -> str | None:
        """The id of the scale's base level (`base_level`), None without levels."""
        return base_level(self.levels)

    @property
    def has_form(self) -> bool:
        """Whether the areas carry indicators (then every area has at least one: `validate`)."""
        return any(a.indicators for a in self.areas)

    @property
    def reviews_by_indicator(self) -> bool:
        """Whether experts review per indicator (`engine.finals`): the campaign has a form, indicators and a stage
        whose hand-in is the form. Without a `form: true` stage the ДОУ give no evidence per indicator, and the
        experts review per area as in a campaign without indicators."""
        return self.has_form and any(s.form for s in self.stages)

    @cached_property
    def indicators(self) -> dict[str, tuple[Area, Indicator]]:
        """Indicator id → (its area, the indicator), in the form's order."""
        return {ind.id: (a, ind) for a in self.areas for ind in a.indicators}

    def form_stages(self) -> list[Stage]:
        """The stages whose hand-in is the form (`form: true`), in the order they open: the versions of one form."""
        return sorted((s for s in self.stages if s.form), key=lambda s: (s.opens_at, self.stages.index(s)))

    def earlier_form_stages(self, stage_id: str) -> list[Stage]:
        """The form stages before `stage_id`, nearest first: where its version starts from."""
        ordered = [s.id for s in self.form_stages()]
        if stage_id not in ordered:
            return []
        return [s for s in reversed(self.form_stages()[:ordered.index(stage_id)])]

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def next_institution_stage(self, stage_id: str) -> Stage | None:
        """The ДОУ's own stage that comes after `stage_id` (where a review's recommendations are to be used): of the ДОУ's
        tasks that follow it through `after` (directly or through other stages), the one opening first; without such a
        chain, the first ДОУ task that opens after it opens. None when the ДОУ have nothing left to do."""
        stage = self.stage(stage_id)
        if stage is None:
            return None
        followers, grown = {stage_id}, True
        while grown:  # `after` may name a stage written later in the file: grow until nothing is added (≤ 100 stages)
            found = {s.id for s in self.stages if set(s.after) & followers}
            grown = not found <= followers
            followers |= found
        tasks = [s for s in self.stages if s.kind == "task" and s.actor == "institution" and s.id != stage_id]
        chained = [s for s in tasks if s.id in followers]
        later_ones = chained or [s for s in tasks if s.opens_at > stage.opens_at]
        return min(later_ones, key=lambda s: s.opens_at, default=None)

    @cached_property
    def institution_ids(self) -> frozenset[str]:
        """The ДОУ in the campaign now (not those an amendment withdrew): built once, a set lookup per act."""
        return frozenset(i.id for i in self.institutions)

    @cached_property
    def institution_names(self) -> dict[str, str]:
        """ДОУ id → name, built once: every send names thousands. Shared: read it, never change it."""
        return {i.id: i.name for i in self.institutions}

    @cached_property
    def institution_emails(self) -> dict[str, str]:
        """ДОУ id → address, built once (see `institution_names`): a change letter per extension looked through the roster."""
        return {i.id: i.email for i in self.institutions}

    @cached_property
    def expert_names(self) -> dict[str, str]:
        """Expert id → name, built once (see `institution_names`)."""
        return {e.id: e.name for e, _ in self.every_expert()}

    @cached_property
    def expert_addresses(self) -> dict[str, str]:
        """Expert id → address in lower case, built once (see `institution_names`)."""
        return {e.id: e.email.lower() for e, _ in self.every_expert()}

    if not TYPE_CHECKING:  # for a type checker every attribute stays declared: this only completes a stored campaign

        def __getattr__(self, name: str) -> Any:
            """A campaign read back from storage (`codec.from_json`) parses its roster when it is first read: a command
            that needs only the stages, the calendar and the addresses of the campaign never pays for 50,000 ДОУ."""
            if name != "institutions":
                raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
            # one thread parses, the others wait and read its roster: a portal's threads may all ask at once after its
            # start, and two parsing together made the second's delete fail (KeyError: a worker's first pages got 500)
            with _PARSING:
                if "institutions" in self.__dict__:
                    return self.__dict__["institutions"]
                later = self.__dict__.get("_roster_later")
                if later is None:
                    raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
                roster = later()
                object.__setattr__(self, "institutions", roster)
                del self.__dict__["_roster_later"]
                return roster
