"""What `dqflow publish` may say in public: the site's pages and its open data (`results.open_data`) read it alone.

`Public.of(results)` reads the справка's figures (`results.figures`: `compute`'s Results and its InstitutionResult, nothing
else) and keeps only what the official site may carry: the town's participation and levels, and per ДОУ its statuses,
its final levels by area and, when the campaign declares `publish: {recommendations: true}`, the texts of its
recommendations. Never an address, an expert's name, a contact person, a link handed in, an extension's reason or a
review's levels per expert. A recommendation's text is a person's writing: any address in it, and any name of the
campaign's experts and contact persons, is replaced by «…» before it is published.

Everything is in a fixed order (ДОУ by name as people sort it, then id; areas and levels as the campaign lists them), so
the same figures give the same bytes. Levels are the справка's (the lower of the experts' levels in the latest review
stage with a review), given by their ids as the справка's CSV gives them and by their titles.

Where the campaign's experts review per indicator (`Campaign.reviews_by_indicator`), the final levels per indicator come
from the справка по показателям (`results.indicators`, set-based over `engine.finals.FinalsSql`; nothing is re-derived
here): `Public.indicator_tables` (a `LevelTable` per area, a row per indicator: the distribution over the ДОУ's latest
review stage with a review), each ДОУ's `indicator_levels` (its final levels in the stage its area levels come from),
and in the open data the columns `indicator_id`, `indicator_title` with one more row per ДОУ × indicator. A campaign
without them gives exactly the files it gave before (no column, no key).

Dynamics beside `campaign.previous` (`results.dynamics`, the справка's one computation) live in data.json alone, under
`dynamics` (`open_data.dynamics_json`: the figures of the справка's dynamics.csv, typed); data.csv keeps its grain. A campaign
without a loaded previous campaign has no such key and no such field in schema.json.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dqflow.calendar import show, show_date, zone_label
from dqflow.campaign.nodes import EMAIL
from dqflow.campaign.terms import Terms
from dqflow.engine.rules import Status
from dqflow.present import labels
from dqflow.results import words

if TYPE_CHECKING:  # the figures are read through their public API alone (`results.compute`): named for the type checker only
    from dqflow.campaign.model import Stage
    from dqflow.results.detail import InstitutionResult
    from dqflow.results.figures import Results

HANDED_IN = (Status.DONE.value, Status.LATE.value)
HIDDEN = "…"  # what stands in a published text where an address or a person's name was


@dataclass(frozen=True)
class StageLine:
    """One ДОУ stage of the campaign for the town: how many ДОУ were expected, handed in, handed in by their deadline."""

    id: str
    label: str
    due: str  # dd.mm.yyyy
    expected: int
    handed_in: int
    on_time: int

    @property
    def handed_in_share(self) -> str:
        return words.percent(self.handed_in / self.expected if self.expected else None)

    @property
    def on_time_share(self) -> str:
        return words.percent(self.on_time / self.expected if self.expected else None)


@dataclass(frozen=True)
class LevelRow:
    """One area (one indicator, when they come): how many ДОУ stand at each level of the scale, and how many have none."""

    id: str
    title: str
    counts: tuple[int, ...]  # in the scale's order
    unrated: int

    @property
    def total(self) -> int:
        return sum(self.counts) + self.unrated


@dataclass(frozen=True)
class LevelTable:
    scope: str  # "area", or "indicator" (a table per area, a row per indicator)
    heading: str
    rows: tuple[LevelRow, ...]


@dataclass(frozen=True)
class PublicStage:
    id: str
    label: str
    due: str
    status: str  # the status code, as `status --json` and the справка's CSV give it

    @property
    def status_ru(self) -> str:
        return labels.STATUS_RU.get(self.status, self.status)


@dataclass(frozen=True)
class PublicLevel:
    area_id: str
    area_title: str
    level: str | None  # the level's id; None when the ДОУ has no level in this area
    level_title: str | None
    at_or_below_base: bool | None  # None without a level or without a scale


@dataclass(frozen=True)
class PublicIndicatorLevel:
    """One indicator's final level of a ДОУ (`results.indicators`), in the stage its area levels come from."""

    indicator_id: str
    indicator_title: str
    area_id: str
    area_title: str
    level: str | None
    level_title: str | None


@dataclass(frozen=True)
class PublicRecommendation:
    area_id: str | None  # None: «Общие рекомендации»
    heading: str
    stage_id: str | None
    stage: str
    text: str


@dataclass(frozen=True)
class PublicInstitution:
    id: str
    name: str
    page: str  # the page's path in the site: dou/ID.html
    withdrawn: bool
    stages: tuple[PublicStage, ...]
    levels: tuple[PublicLevel, ...]
    levels_from: str | None  # the review stage's label the levels come from
    levels_from_id: str | None
    recommendations: tuple[PublicRecommendation, ...] | None  # None: the campaign does not publish them
    indicator_levels: tuple[PublicIndicatorLevel, ...] = ()  # every indicator, where experts review per indicator

    def indicator_levels_by_area(self) -> list[tuple[str, list[PublicIndicatorLevel]]]:
        grouped: dict[str, list[PublicIndicatorLevel]] = {}
        for lv in self.indicator_levels:
            grouped.setdefault(lv.area_title, []).append(lv)
        return list(grouped.items())

    @cached_property  # asked for every row of the open data: computed once
    def took_part(self) -> bool:
        """Handed in at least one of its stages (on time or late)."""
        return any(s.status in HANDED_IN for s in self.stages)

    @cached_property
    def on_time(self) -> bool:
        """Handed in every stage it was due at (not excused) by its deadline."""
        due = [s for s in self.stages if s.status != Status.EXCUSED.value]
        return bool(due) and all(s.status == Status.DONE.value for s in due)

    @property
    def participation(self) -> str:
        """One phrase for the list of ДОУ."""
        due = [s for s in self.stages if s.status != Status.EXCUSED.value]
        if self.on_time:
            return "все материалы сданы в срок"
        if due and all(s.status in HANDED_IN for s in due):
            return "все материалы сданы, часть с опозданием"
        if self.took_part:
            return "материалы сданы не по всем этапам"
        return "материалы не сданы"

    @property
    def rated(self) -> bool:
        return any(lv.level is not None for lv in self.levels)

    def recommendations_by_heading(self) -> list[tuple[str, list[PublicRecommendation]]]:
        grouped: dict[str, list[PublicRecommendation]] = {}
        for rec in self.recommendations or ():
            grouped.setdefault(rec.heading, []).append(rec)
        return list(grouped.items())


@dataclass(frozen=True)
class Public:
    """The town's results as the official site may show them."""

    campaign_id: str
    title: str
    publisher: str  # the coordinator (an office, as the справка names it)
    as_of: str  # «по состоянию на dd.mm.yyyy HH:MM (томское время, UTC+7)»
    as_of_time: str  # dd.mm.yyyy HH:MM
    zone: str
    order: str  # «приказ от … № …», or ""
    word: Terms  # the campaign's word: ДОУ, ДОО…
    areas: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str], ...]
    base_level: str | None
    stages: tuple[StageLine, ...]
    tables: tuple[LevelTable, ...]
    institutions: tuple[PublicInstitution, ...]
    recommendations_public: bool
    indicators: tuple[tuple[str, str, str], ...] = ()  # (id, title, area id), where experts review per indicator
    indicator_tables: tuple[LevelTable, ...] = ()  # a table per area, a row per indicator

    @property
    def took_part(self) -> int:
        return sum(i.took_part for i in self.institutions)

    @property
    def on_time(self) -> int:
        return sum(i.on_time for i in self.institutions)

    @property
    def rated(self) -> int:
        return sum(i.rated for i in self.institutions)

    @property
    def at_or_below_base(self) -> int:
        return sum(any(lv.at_or_below_base for lv in i.levels) for i in self.institutions)

    def share(self, part: int) -> str:
        return words.percent(part / len(self.institutions) if self.institutions else None)

    @classmethod
    def of(cls, results: Results) -> Public:
        campaign, tz = results.campaign, results.campaign.tz
        own = [s for s in results.per_institution_stages if s.actor == "institution"]
        figures = {f.stage.id: f for f in results.stages}
        stages = tuple(StageLine(s.id, s.label, show_date(s.due_at, tz), figures[s.id].expected, figures[s.id].handed_in,
                                 figures[s.id].on_time) for s in own)
        rank = {lv.id: n for n, lv in enumerate(campaign.levels)}
        base = rank.get(results.base_level or "", None)
        scrub = _Scrubber(results)
        titles = _Titles(results)
        area_ids: dict[str, str] = {}
        for area in campaign.areas:
            area_ids.setdefault(area.title, area.id)
        public_recommendations = campaign.publish.recommendations
        institutions = []
        per_indicator = _IndicatorLevels(results)
        for inst in sorted(results.institutions, key=lambda i: (_natural(i.institution.name), i.institution.id)):
            found = _institution(results, inst, own, rank, base, scrub, area_ids if public_recommendations else None, titles)
            institutions.append(per_indicator.of(found, titles) if per_indicator.active else found)
        return cls(
            campaign_id=campaign.id, title=campaign.title, publisher=campaign.coordinator.name, as_of=words.as_of(results),
            as_of_time=show(results.now, tz), zone=zone_label(tz, results.now), order=words.order_line(results), word=campaign.terms,
            areas=tuple((a.id, a.title) for a in campaign.areas), levels=tuple((lv.id, lv.title) for lv in campaign.levels),
            base_level=results.base_level, stages=stages, tables=_tables(results), institutions=tuple(institutions),
            recommendations_public=public_recommendations,
            indicators=tuple((ind.id, ind.title, area.id) for area, ind in campaign.indicators.values()) if per_indicator.active else (),
            indicator_tables=_indicator_tables(results) if per_indicator.active else ())


class _IndicatorLevels:
    """Each ДОУ's final indicator levels as the справка по показателям read them (`IndicatorReport.table`, one SELECT):
    those of the review stage its area levels come from."""

    def __init__(self, results: Results):
        report = results.indicators
        self.active = bool(results.campaign.reviews_by_indicator and report is not None)
        self.table = report.table if report is not None else None
        self.indicators = list(results.campaign.indicators.items())

    def of(self, inst: PublicInstitution, titles: _Titles) -> PublicInstitution:
        found: dict[str, str | None] = {}
        if self.table is not None and inst.levels_from_id is not None:
            for stage, rows in self.table.by_stage(inst.id):
                if stage == inst.levels_from_id:
                    found = {ind: fin for ind, _, _, _, fin in rows}
        levels = tuple(PublicIndicatorLevel(ind_id, ind.title, area.id, area.title, level, titles.level(level) if level else None)
                       for ind_id, (area, ind) in self.indicators for level in (found.get(ind_id),))
        return dataclasses.replace(inst, indicator_levels=levels)


class _Titles:
    """The titles of areas and levels, asked of the figures once each (not once per ДОУ and area)."""

    def __init__(self, results: Results):
        self.areas = {a: results.area_title(a) for a in results.area_ids}
        self._levels: dict[str, str] = {}
        self._results = results

    def level(self, level: str) -> str:
        if level not in self._levels:
            self._levels[level] = self._results.level_title(level)
        return self._levels[level]


def _tables(results: Results) -> tuple[LevelTable, ...]:
    """The distribution of levels by area (`Results.distribution`); issue 21's indicators add their table here."""
    if not (results.area_ids and results.campaign.levels):
        return ()
    distribution = results.distribution()
    total = len(results.institutions)
    rows = []
    for area in results.area_ids:
        counts = tuple(distribution.get(area, {}).get(lv.id, 0) for lv in results.campaign.levels)
        rows.append(LevelRow(area, results.area_title(area), counts, total - sum(counts)))
    return (LevelTable("area", "Уровни качества по областям", tuple(rows)),)


def _indicator_tables(results: Results) -> tuple[LevelTable, ...]:
    """The distribution of final levels per indicator (`results.indicators`' town figures), a table per area."""
    report = results.indicators
    if report is None or not results.campaign.levels:
        return ()
    total = len(results.institutions)
    by_area: dict[str, list[LevelRow]] = {}
    titles: dict[str, str] = {}
    for fig in report.figures:
        counts = tuple(fig.distribution.get(lv.id, 0) for lv in results.campaign.levels)
        titles[fig.area.id] = fig.area.title
        by_area.setdefault(fig.area.id, []).append(LevelRow(fig.indicator.id, f"{fig.indicator.id} {fig.indicator.title}", counts,
                                                            total - sum(counts)))
    return tuple(LevelTable("indicator", titles[area], tuple(rows)) for area, rows in by_area.items())


def _institution(results: Results, inst: InstitutionResult, own: list[Stage], rank: dict[str, int], base: int | None, scrub: _Scrubber,
                 area_ids: dict[str, str] | None, titles: _Titles) -> PublicInstitution:
    tz = results.campaign.tz
    stages = tuple(PublicStage(s.id, s.label, _day(inst.stages[s.id].due_at, tz), inst.stages[s.id].status)
                   for s in own if s.id in inst.stages)
    levels = []
    for area, area_title in titles.areas.items():
        level = inst.levels.get(area)
        low = None if level is None or base is None or level not in rank else rank[level] <= base
        levels.append(PublicLevel(area, area_title, level, titles.level(level) if level else None, low))
    recommendations = None
    if area_ids is not None:
        found = []
        for heading, said in results.recommendations_by_area(inst):
            seen = set()
            for rec in said:
                text = scrub(rec.text)
                if text in seen:  # two experts who wrote the same words: said once
                    continue
                seen.add(text)
                stage_id = next((s.id for s in results.campaign.stages if s.label == rec.stage), None)
                found.append(PublicRecommendation(area_ids.get(heading), heading, stage_id,  # «Общие рекомендации»: no area
                                                  rec.stage, text))
        recommendations = tuple(found)
    source = inst.levels_from
    return PublicInstitution(inst.institution.id, inst.institution.name, page_path(inst.institution.id),
                             inst.state == "withdrawn", stages, tuple(levels), results.stage_label(source) if source else None,
                             source, recommendations)


@lru_cache(maxsize=4096)
def _day(instant: datetime, tz: ZoneInfo) -> str:
    """dd.mm.yyyy in the campaign's zone: most ДОУ share a stage's deadline, so each is written once."""
    return show_date(instant, tz)


def page_path(institution_id: str) -> str:
    """A ДОУ's page in the site: `dou/ID.html` for an id of lower-case letters, digits, - and _; any other id (capitals,
    dots, other alphabets: ids are `[\\w.-]+`) as `dou/_HEX.html` of its UTF-8, which no plain id can be, so no two ДОУ
    share a page on a file system that ignores case and no id leaves the folder."""
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", institution_id):
        return f"dou/{institution_id}.html"
    return f"dou/_{institution_id.encode('utf-8').hex()}.html"


def _natural(name: str) -> list[Any]:
    """«МАДОУ № 2» before «МАДОУ № 15»: digits compare as numbers (split keeps text at even places, digits at odd)."""
    return [int(part) if n % 2 else part.casefold() for n, part in enumerate(re.split(r"(\d+)", name))]


class _Scrubber:
    """Takes addresses and the names of the campaign's people (experts, contact persons) out of a published text.

    Names are found by their first word (a dictionary look-up per word of the text), so the cost is the text's length,
    not the number of people in the roster."""

    def __init__(self, results: Results):
        campaign = results.campaign
        names = {e.name for e, _ in campaign.every_expert()} | {i.contact for i in campaign.institutions if i.contact}
        self.by_first: dict[str, list[str]] = {}
        for name in names:
            first = re.match(r"\W*(\w+)", name)
            if first:
                self.by_first.setdefault(first.group(1).casefold(), []).append(name.strip())
        for found in self.by_first.values():
            found.sort(key=len, reverse=True)  # the longest name first: «Эксперт 12» is not cut to «Эксперт 1»

    def __call__(self, text: str) -> str:
        text = EMAIL.sub(HIDDEN, text)
        out, at = [], 0
        folded = text.casefold()
        if len(folded) != len(text):  # a letter whose fold is longer (ß): compare unfolded, name by name
            folded = text
        for match in re.finditer(r"\w+", text):
            if match.start() < at:
                continue
            for name in self.by_first.get(match.group().casefold(), ()):
                start = match.start()
                if folded[start:start + len(name)] == (name.casefold() if folded is not text else name):
                    out.append(text[at:start] + HIDDEN)
                    at = start + len(name)
                    break
        out.append(text[at:])
        return "".join(out)
