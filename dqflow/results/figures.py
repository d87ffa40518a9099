"""The figures of the аналитическая справка, computed from stored state as of a moment.

Everything is read in a few set-based queries (progress, submissions, extensions, assignments,
reviews: one SELECT each, whatever the roster size) inside the caller's session, which must be
rolled back (`store.dry_run`): like `status`, the figures are those of the campaign brought
forward to `now`, and computing them never writes anything.

Definitions (the справка states them too):
- a stage's *expected* ДОУ are all ДОУ not excused from it; *coverage* is the share of them that
  handed in (on time or late), the *on-time rate* the share that handed in by their deadline;
- an expert's review is *on time* when recorded by that ДОУ's effective deadline of the stage;
- two or more experts of one ДОУ *agree* in an area when they gave it the same level;
- a ДОУ's *level* in an area is the lower of its experts' levels in its latest review stage that
  has a review (the cautious reading of two opinions); where experts review per indicator, the area's level of its
  final indicator levels in that stage (`engine.finals`); its *weak areas* are those at its lowest level;
- the *base level* is the level marked `baseline: true`, else the one titled «Базовый…», else the first
  (`Campaign.base_level`); a ДОУ is listed
  «на базовом уровне и ниже» when some area's level is at or below it;
- an expert's recommendations are one text per review: the справка lists a text under each area that
  review rated at or below the base level (what the text is most likely about, and what the ДОУ must
  correct), a text of a review that rated no area that low under «Общие рекомендации».

People read names, never ids: stages by `Stage.label`, experts by name (`expert_name`), ДОУ by name.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, and_, case, cast, func, literal, or_, true, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dqflow import engine
from dqflow.campaign import spec
from dqflow.engine import finals, rules
from dqflow.engine.rules import Status
from dqflow.results import indicators as indicator_figures
from dqflow.results.rows import Rows
from dqflow.store import ROSTER_ORDER, AssignmentRow, ExtensionRow, InstitutionRow, ProgressRow, ReviewRow, SubmissionRow, table

_PROGRESS = table(ProgressRow)
_REVIEW = table(ReviewRow)
_ASSIGNMENT = table(AssignmentRow)
_INSTITUTION = table(InstitutionRow)

HANDED_IN = (Status.DONE.value, Status.LATE.value)


@dataclass(frozen=True, slots=True)
class Extension:
    until: datetime
    reason: str
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Submission:
    at: datetime
    links: tuple[str, ...]


@dataclass(slots=True)
class StageOutcome:
    """One ДОУ in one of its stages."""

    stage_id: str
    status: str
    due_at: datetime
    extended: bool
    submitted_at: datetime | None
    submissions: list[Submission] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return [link for s in self.submissions for link in s.links]


@dataclass(frozen=True, slots=True)
class Review:
    expert_id: str
    at: datetime
    levels: dict[str, str]
    recommendations: str
    on_time: bool


@dataclass(slots=True)
class ReviewPanel:
    """One ДОУ in one review stage: who was assigned, who reported, and whether they agree."""

    stage_id: str
    status: str
    assigned: list[str]
    reviews: list[Review]

    @property
    def reported(self) -> list[str]:
        return [r.expert_id for r in self.reviews]

    def agreement(self, areas: list[str]) -> dict[str, bool | None]:
        """Per area: True when all (two or more) experts gave the same level, None when fewer than two did."""
        found: dict[str, bool | None] = {}
        for area in areas:
            given = [r.levels[area] for r in self.reviews if area in r.levels]
            found[area] = None if len(given) < 2 else len(set(given)) == 1
        return found


@dataclass(slots=True)
class InstitutionResult:
    institution: spec.Institution
    state: str
    stages: dict[str, StageOutcome]
    reviews: dict[str, ReviewPanel]
    levels: dict[str, str]  # area → the ДОУ's level (see the module's definitions); areas without one are absent
    levels_from: str | None  # the review stage they come from
    weak_areas: list[str]  # the areas at its lowest level

    @property
    def recommendations(self) -> list[tuple[str, str, str]]:
        """(stage, expert, text) of every review that carries recommendations."""
        return [(p.stage_id, r.expert_id, r.recommendations) for p in self.reviews.values() for r in p.reviews if r.recommendations]


@dataclass(frozen=True)
class Recommendation:
    """One expert's text as the справка shows it: the stage and the expert by name."""

    stage: str
    expert: str
    text: str


GENERAL = "Общие рекомендации"  # the heading of texts whose review rated no area at or below the base level


@dataclass
class StageFigures:
    stage: spec.Stage
    state: str
    counts: dict[str, int]

    @property
    def expected(self) -> int:
        """The ДОУ (for a review stage: the reviews) due: neither excused nor reviews of nothing."""
        return sum(self.counts.values()) - self.counts.get(Status.EXCUSED.value, 0) - self.no_materials

    @property
    def no_materials(self) -> int:
        """A review stage's reviews of a ДОУ that handed in nothing (`Status.NOTHING`): not due, not missed."""
        return self.counts.get(Status.NOTHING.value, 0)

    @property
    def handed_in(self) -> int:
        return sum(self.counts.get(s, 0) for s in HANDED_IN)

    @property
    def on_time(self) -> int:
        return self.counts.get(Status.DONE.value, 0)

    @property
    def coverage(self) -> float | None:
        return self.handed_in / self.expected if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.expected if self.expected else None


@dataclass
class ExpertFigures:
    expert: spec.Expert
    institution_id: str | None  # the expert's own ДОУ (None for an expert of no ДОУ)
    assigned: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def missing(self) -> int:
        return self.assigned - self.on_time - self.late

    @property
    def punctuality(self) -> float | None:
        return self.on_time / self.assigned if self.assigned else None


@dataclass
class Results:
    campaign: spec.Campaign
    now: datetime
    stages: list[StageFigures]
    institutions: list[InstitutionResult]  # every ДОУ, in roster order (withdrawn last); empty unless `detailed`
    experts: list[ExpertFigures]
    base_level: str | None
    total: int = 0  # ДОУ in the campaign (withdrawn ones included), whether `institutions` lists them or not
    detailed: bool = True  # `institutions` were read (`compute(detail=True)`)
    # the town's figures, counted in the database (see `compute`); the methods below give them
    town_distribution: dict[str, dict[str, int]] = field(default_factory=dict)
    town_agreement: dict[str, tuple[int, int]] = field(default_factory=dict)
    town_weak: list[tuple[str, int]] = field(default_factory=list)
    attention: list[tuple[spec.Institution, list[str]]] = field(default_factory=list)  # the first `ATTENTION` ДОУ at or below base
    low_total: int = 0  # ДОУ with an area at or below the base level, in all
    rows: Rows | None = None  # every ДОУ's tables as plain rows, read in `compute`'s session as they are written (`compute(rows=True)`)
    dynamics: Any = None  # this year beside last year (`results.dynamics.Dynamics`) when the справка compares (`--compare`)
    # the справка по показателям, where experts review per indicator (`Campaign.reviews_by_indicator`); else None
    indicators: indicator_figures.IndicatorReport | None = None

    @property
    def per_institution_stages(self) -> list[spec.Stage]:
        return [f.stage for f in self.stages if f.stage.per_institution]

    @property
    def review_stages(self) -> list[spec.Stage]:
        return [s for s in self.per_institution_stages if s.actor == "expert"]

    @property
    def area_ids(self) -> list[str]:
        return [a.id for a in self.campaign.areas]

    def stage_label(self, stage_id: str) -> str:
        """The stage's one distinct name (`Stage.label`); a stage an amendment removed keeps its id."""
        stage = self.campaign.stage(stage_id)
        return stage.label if stage else stage_id

    def expert_name(self, expert_id: str) -> str:
        """The expert's name; an expert no longer in the roster (an amendment dropped them) reads as such."""
        return self.campaign.expert_names.get(expert_id) or "эксперт исключён из списка"

    def institution_name(self, institution_id: str | None) -> str:
        return self.campaign.institution_names.get(institution_id or "", "") if institution_id else ""

    def recommendations_by_area(self, inst: InstitutionResult) -> list[tuple[str, list[Recommendation]]]:
        """(area title or «Общие рекомендации», texts) in the campaign's order of areas, general last; areas without
        a text are left out. A text stands under each area its review rated at or below the base level (see the module)."""
        rank = {lv.id: n for n, lv in enumerate(self.campaign.levels)}
        base = rank.get(self.base_level or "", -1)
        grouped: dict[str, list[Recommendation]] = defaultdict(list)
        for panel in inst.reviews.values():
            for review in panel.reviews:
                if not review.recommendations:
                    continue
                said = Recommendation(self.stage_label(panel.stage_id), self.expert_name(review.expert_id), review.recommendations)
                low = [a for a in self.area_ids if a in review.levels and rank.get(review.levels[a], base + 1) <= base]
                for area in low or [GENERAL]:
                    grouped[area].append(said)
        order = [*self.area_ids, GENERAL]
        return [(GENERAL if key == GENERAL else self.area_title(key), grouped[key]) for key in order if grouped.get(key)]

    def area_title(self, area_id: str) -> str:
        return next((a.title for a in self.campaign.areas if a.id == area_id), area_id)

    def level_title(self, level_id: str) -> str:
        return next((lv.title for lv in self.campaign.levels if lv.id == level_id), level_id)

    def distribution(self) -> dict[str, dict[str, int]]:
        """area → level → how many ДОУ have that level there (every level of the scale, zeros included)."""
        return {area: dict(found) for area, found in self.town_distribution.items()}

    def agreement(self) -> dict[str, tuple[int, int]]:
        """area → (ДОУ×review stages where the experts agreed, where two or more experts gave a level)."""
        return dict(self.town_agreement)

    def at_or_below_base(self) -> list[tuple[InstitutionResult, list[str]]]:
        """Every ДОУ with an area at or below the base level, with those areas (needs `detailed`; a summary reads the
        bounded `attention` and `low_total`)."""
        if self.base_level is None:
            return []
        if not self.detailed:
            raise ValueError("the figures were computed without each ДОУ's detail: read `attention` and `low_total`")
        rank = {lv.id: n for n, lv in enumerate(self.campaign.levels)}
        base = rank[self.base_level]
        found = []
        for inst in self.institutions:
            low = [a for a, lv in inst.levels.items() if rank.get(lv, base + 1) <= base]
            if low:
                found.append((inst, low))
        return found

    def weak_areas(self) -> list[tuple[str, int]]:
        """Areas by how many ДОУ have them among their weakest, most frequent first."""
        return list(self.town_weak)

    def expert_totals(self) -> ExpertFigures:
        """Every expert's figures summed: the town's line of the experts' timeliness."""
        total = ExpertFigures(spec.Expert("", "", ""), None)
        for e in self.experts:
            total.assigned += e.assigned
            total.on_time += e.on_time
            total.late += e.late
        return total


ATTENTION = 50  # the ДОУ at or below the base level a summary names (`Results.attention`); the rest are counted
DETAIL_UP_TO = 300  # `compute(detail=None)` reads each ДОУ's detail for a roster of at most this many ДОУ


def compute(session: Session, campaign_id: str | None, now: datetime, *, detail: bool | None = True, rows: bool = False,
            town: bool = True) -> Results:
    """The справка's figures as of `now`. Call it in a session that is rolled back.

    The town's figures (stage counts, levels by area, weakest areas, the ДОУ at or below the base level, expert
    agreement, expert timeliness) are GROUP BYs in the database: a fixed number of statements whatever the roster.
    Every status is the rules' (`engine.status` for the counts, `rules.status_at_sql` row by row), as `status`
    shows it at `now`: a campaign not ticked since is brought forward exactly as `status` brings it, without writing.

    `detail`: also each ДОУ's stages, hand-ins, extensions, experts and reviews (`Results.institutions`), read as plain
    column tuples, a few statements for the whole roster. Without it `institutions` is empty (`Results.detailed`
    says so): a summary needs none of it. None: only for a roster of at most `DETAIL_UP_TO` ДОУ (what the single-file
    HTML справка shows). `rows`: also `Results.rows` (`results.rows.Rows`), the tables of every ДОУ (statuses, levels,
    hand-ins, reviews) as plain rows, each one SELECT read in this session as it is written: what the workbook's sheets
    and the CSV tables of every ДОУ show, so the справка is written before the session ends.
    `town=False` leaves out the town's figures but the stage counts (levels,
    weakest areas, attention, agreement, experts stay empty): what the CSV tables do not show."""
    view = engine.status(session, campaign_id, now, awaiting=False)  # the stage counts; the справка shows no count of disputes
    campaign = view.campaign
    stages = [StageFigures(s.stage, s.state, s.counts) for s in view.stages]
    levels = _Levels(campaign)
    base = _base_level(campaign)
    if detail is None:
        detail = view.total <= DETAIL_UP_TO
    if campaign.reviews_by_indicator:  # the final indicator levels, made once for every figure that reads them
        levels.source = indicator_figures.materialize(session, campaign, experts=bool(detail or rows))
    if (town or detail) and (levels.usable or campaign.reviews_by_indicator):  # each ДОУ's area levels, made once: several read them
        # named for the campaign: a comparison's previous year, computed in the same session, makes its own beside this
        # one, which `Results.rows` may read after it
        name = f"dqflow_area_levels_{hashlib.sha256(campaign.id.encode()).hexdigest()[:12]}"
        levels.table = indicator_figures.temporary(session, name, sa_select(levels.by_institution(session)),
                                                   ["inst", "ord", "area", "rank"])
    results = Results(campaign, now, stages, [], [], base, total=view.total, detailed=detail)
    if town:
        distribution, weak, low_total = _town_levels(session, levels, base)
        results.experts, results.town_distribution, results.town_agreement = (_experts(session, campaign), distribution,
                                                                              _agreement(session, campaign, levels))
        results.town_weak, results.low_total = weak, low_total
        results.attention = _attention(session, campaign, levels, base) if low_total else []
    if detail:
        results.institutions = _institutions(session, campaign, now, levels)
    if rows:
        results.rows = Rows(session, campaign, now, levels)
    if campaign.reviews_by_indicator:  # a few statements more, whatever the roster; each ДОУ's rows held for its section or
        # page (`detail`); the workbook and the CSV read them as they are written (`Rows.indicators`)
        results.indicators = indicator_figures.compute(session, campaign, town=town, rows=bool(detail), attention=ATTENTION,
                                                       source=levels.source)
    return results


def roster(session: Session, campaign_id: str) -> list[spec.Institution]:
    """Every ДОУ of the campaign as stored, in roster order: the definition's ДОУ by their position (which load and every
    amendment keep as the file's), then those an amendment withdrew (`engine.withdrawn`'s order); id, name and address
    only. One SELECT: a national roster's definition is never parsed for it."""
    i = _INSTITUTION.c
    return [spec.Institution(iid, name, email) for iid, name, email in session.execute(
        sa_select(i.id, i.name, i.email).where(i.campaign_id == campaign_id).order_by(*ROSTER_ORDER))]


# -- the levels the experts gave, in SQL ------------------------------------------------------------


def _pairs(session: Session, levels: Any) -> Any:
    """The (key, value) rows of a JSON object stored as text (a review's levels), as a table-valued function to join:
    parsed once per review (`json_each` on SQLite, `json_each_text` on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_each_text(cast(levels, JSON)).table_valued("key", "value").alias("pairs")
    return func.json_each(levels).table_valued("key", "value").alias("pairs")


def _materialized(session: Session, cte: Any) -> Any:
    """A CTE computed once and read as a table (PostgreSQL 12+, SQLite 3.35+): the join it feeds probes it per row."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" or (dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)):
        return cte.prefix_with("MATERIALIZED")
    return cte


class _Levels:
    """The reviews' levels as rows (ДОУ, review stage, its order, area, level, rank in the scale), and the ДОУ's
    level per area (`by_institution`: the lowest of its experts' in its latest review stage with a review): the
    definitions of the module, spelled once in SQL for every figure that counts them."""

    def __init__(self, campaign: spec.Campaign):
        self.campaign = campaign
        self.stages = [s.id for s in finals.review_stages(campaign)]
        self.ids = [lv.id for lv in campaign.levels]
        self.areas = [a.id for a in campaign.areas]
        self.source: Any = None  # where experts review per indicator: the final levels, made once (`indicators.materialize`)
        self.table: Any = None  # and then each ДОУ's level per area (`by_institution`'s rows), made once

    @property
    def usable(self) -> bool:
        return bool(self.stages and self.areas and self.ids)

    def rank(self, level: Any) -> ColumnElement[int]:
        return case({lv: n for n, lv in enumerate(self.ids)}, value=level, else_=len(self.ids))

    def order(self, stage: Any) -> ColumnElement[int]:
        return case({sid: n for n, sid in enumerate(self.stages)}, value=stage, else_=-1)

    def given(self, session: Session, latest: Any = None):
        """(inst, stage, ord, area, level) of every level a review gives in one of the campaign's areas, each review's
        JSON parsed once; with `latest` (a CTE of (inst, ord)), of each ДОУ's latest review stage only: a CTE."""
        r = _REVIEW.c
        pairs = _pairs(session, r.levels)
        order = self.order(r.stage_id)
        query = (sa_select(r.institution_id.label("inst"), r.stage_id.label("stage"), order.label("ord"),
                           pairs.c.key.label("area"), pairs.c.value.label("level"))
                 .select_from(_REVIEW).join(pairs, true())
                 .where(r.campaign_id == self.campaign.id, r.stage_id.in_(self.stages), pairs.c.key.in_(self.areas)))
        if latest is not None:
            query = query.join(latest, and_(latest.c.inst == r.institution_id, latest.c.ord == order))
        return query.cte("given_latest" if latest is not None else "given")

    def by_institution(self, session: Session):
        """(inst, ord, area, rank) of each ДОУ's level per area: the lowest rank its experts gave in the latest review
        stage it has a review in; where experts review per indicator (`Campaign.reviews_by_indicator`), the area's level
        of its final indicator levels there (`finals.FinalsSql.area_levels`, none while an indicator lacks one): a CTE."""
        if self.table is not None:
            return sa_select(self.table).cte("level")
        r = _REVIEW.c
        latest = _materialized(session, sa_select(r.institution_id.label("inst"), func.max(self.order(r.stage_id)).label("ord"))
                               .where(r.campaign_id == self.campaign.id, r.stage_id.in_(self.stages))
                               .group_by(r.institution_id).cte("latest"))
        if self.campaign.reviews_by_indicator:  # the area levels of its final indicator levels (`engine.finals`)
            source = sa_select(self.source) if self.source is not None else None
            areas = finals.FinalsSql(self.campaign, self.stages).area_levels(source).subquery("area_final")
            order = self.order(areas.c.stage)
            return (sa_select(areas.c.inst, order.label("ord"), areas.c.area, areas.c.place.label("rank"))
                    .join(latest, and_(latest.c.inst == areas.c.inst, latest.c.ord == order)).cte("level"))
        given = self.given(session, latest)
        return (sa_select(given.c.inst, given.c.ord, given.c.area, func.min(self.rank(given.c.level)).label("rank"))
                .group_by(given.c.inst, given.c.ord, given.c.area).cte("level"))

    def level_id(self, rank: int) -> str | None:
        return self.ids[rank] if 0 <= rank < len(self.ids) else None


def _town_levels(session: Session, levels: _Levels, base: str | None) -> tuple[dict[str, dict[str, int]], list[tuple[str, int]], int]:
    """(area → level → ДОУ, areas by how many ДОУ have them among their weakest, ДОУ with an area at or below `base`):
    one GROUP BY over the ДОУ's levels, each row marked whether it is at its ДОУ's lowest, and whether it is the
    ДОУ's first row of a ДОУ at or below base (so that ДОУ are counted once)."""
    distribution = {a: {lv: 0 for lv in levels.ids} for a in levels.areas}
    if not levels.usable:
        return distribution, [], 0
    level = levels.by_institution(session)
    lowest = func.min(level.c.rank).over(partition_by=level.c.inst)
    first = func.row_number().over(partition_by=level.c.inst, order_by=level.c.area)
    marked = sa_select(level.c.area, level.c.rank, lowest.label("low"), first.label("first")).subquery()
    weakest = case((marked.c.rank == marked.c.low, 1), else_=0)
    below = (case((and_(marked.c.first == 1, marked.c.low <= levels.ids.index(base)), 1), else_=0) if base is not None
             else literal(0))
    weak: dict[str, int] = defaultdict(int)
    low_total = 0
    for area, rank, is_weak, is_low, n in session.execute(
            sa_select(marked.c.area, marked.c.rank, weakest, below, func.count()).group_by(marked.c.area, marked.c.rank, weakest, below)):
        lv = levels.level_id(rank)
        if lv is not None:
            distribution.setdefault(area, {})[lv] = distribution.get(area, {}).get(lv, 0) + n
        weak[area] += n if is_weak else 0
        low_total += n if is_low else 0
    ordered = sorted(((a, n) for a, n in weak.items() if n), key=lambda item: (-item[1], levels.areas.index(item[0])
                                                                                if item[0] in levels.areas else 0))
    return distribution, ordered, low_total


def _agreement(session: Session, campaign: spec.Campaign, levels: _Levels) -> dict[str, tuple[int, int]]:
    found = {a: (0, 0) for a in levels.areas}
    if not levels.usable:
        return found
    given = levels.given(session)
    compared = (sa_select(given.c.area, case((func.count(func.distinct(given.c.level)) == 1, 1), else_=0).label("agreed"))
                .group_by(given.c.inst, given.c.stage, given.c.area).having(func.count(given.c.level) >= 2).subquery())
    for area, n, agreed in session.execute(sa_select(compared.c.area, func.count(), func.sum(compared.c.agreed)).group_by(compared.c.area)):
        found[area] = (int(agreed or 0), int(n))
    return found


def _attention(session: Session, campaign: spec.Campaign, levels: _Levels, base: str | None) -> list[tuple[spec.Institution, list[str]]]:
    """The first `ATTENTION` ДОУ (in roster order, withdrawn ones last) with an area at or below the base level, with
    those areas: one SELECT."""
    if base is None or not levels.usable:
        return []
    level = levels.by_institution(session)
    low = level.c.rank <= levels.ids.index(base)
    i = _INSTITUTION.c
    lows = sa_select(level.c.inst).where(low).distinct().subquery()
    first = (sa_select(i.id, i.name, i.email, i.position, i.withdrawn_at.is_not(None).label("gone"))
             .join(lows, lows.c.inst == i.id).where(i.campaign_id == campaign.id)
             .order_by(*ROSTER_ORDER).limit(ATTENTION).subquery())
    areas: dict[str, list[str]] = defaultdict(list)
    named: dict[str, tuple[str, str]] = {}
    for inst, name, email, area in session.execute(
            sa_select(first.c.id, first.c.name, first.c.email, level.c.area).join(level, level.c.inst == first.c.id).where(low)
            .order_by(first.c.gone, first.c.position, first.c.id)):
        named.setdefault(inst, (name, email))
        areas[inst].append(area)
    known = {inst.id: inst for inst in campaign.institutions}
    return [(known.get(inst) or spec.Institution(inst, name, email), [a for a in levels.areas if a in areas[inst]])
            for inst, (name, email) in named.items()]


def _experts(session: Session, campaign: spec.Campaign) -> list[ExpertFigures]:
    """Each expert: the ДОУ assigned to them in every review stage (that ДОУ has a row in), reviewed on time (by that
    ДОУ's effective deadline, `rules.on_time_sql`) and late: one GROUP BY."""
    figures = {e.id: ExpertFigures(e, inst) for e, inst in campaign.every_expert()}
    reviewed = [(s.list, s.id) for s in finals.review_stages(campaign) if s.list]
    if not reviewed:
        return list(figures.values())
    a, p, r = _ASSIGNMENT.c, _PROGRESS.c, _REVIEW.c
    # each assignment of a list beside its ДОУ's row of the stage and the expert's review, a list at a time: read in the
    # list's key order (ДОУ by ДОУ), the rows it probes are near each other; one expert's assignments are far apart
    each = [sa_select(a.expert_id.label("expert"), case((and_(r.at.is_not(None), rules.on_time_sql(p.due_at, r.at)), 1), else_=0)
                      .label("on_time"), r.at.label("at"))
            .select_from(_ASSIGNMENT.join(_PROGRESS, and_(p.campaign_id == a.campaign_id, p.institution_id == a.institution_id,
                                                          p.stage_id == stage_id))
                         .outerjoin(_REVIEW, and_(r.campaign_id == p.campaign_id, r.institution_id == p.institution_id,
                                                  r.stage_id == p.stage_id, r.expert_id == a.expert_id)))
            .where(a.campaign_id == campaign.id, a.stage_id == list_id)
            for list_id, stage_id in reviewed]
    assigned_to = _materialized(session, union_all(*each).cte("assigned_to"))
    query = (sa_select(assigned_to.c.expert, func.count(), func.sum(assigned_to.c.on_time), func.count(assigned_to.c.at))
             .group_by(assigned_to.c.expert))
    for expert, assigned, on_time, given in session.execute(query):
        mine = figures.get(expert)
        if mine is not None:
            mine.assigned, mine.on_time, mine.late = int(assigned), int(on_time or 0), int(given) - int(on_time or 0)
    return list(figures.values())


# -- each ДОУ, as plain tuples -----------------------------------------------------------------------


def _institutions(session: Session, campaign: spec.Campaign, now: datetime, levels: _Levels) -> list[InstitutionResult]:
    """Every ДОУ of the campaign (those an amendment withdrew after, their records kept) with its stages, reviews and
    levels: one SELECT a kind, whatever the roster's size."""
    p = _PROGRESS.c
    per = [s.id for s in campaign.stages if s.per_institution]
    rows: dict[str, dict[str, tuple]] = defaultdict(dict)
    status = rules.status_at_sql(now, materials=rules.reviews(campaign.stages))  # as `status` says it, a review of nothing too
    for inst, stage_id, st, due_at, extended, submitted_at in session.execute(
            sa_select(p.institution_id, p.stage_id, status, p.due_at, p.extended, p.submitted_at).where(p.campaign_id == campaign.id)):
        rows[inst][stage_id] = (st, due_at, extended, submitted_at)
    submissions = _submissions(session, campaign.id)
    extensions = _extensions(session, campaign.id)
    lists = _lists(session, campaign.id)
    reviews = _reviews(session, campaign.id)
    found_levels: dict[str, dict[str, int]] = defaultdict(dict)
    source: dict[str, str] = {}
    if levels.usable:
        level = levels.by_institution(session)
        for inst, order, area, rank in session.execute(sa_select(level.c.inst, level.c.ord, level.c.area, level.c.rank)):
            found_levels[inst][area] = rank
            source[inst] = levels.stages[order]
    left = [spec.Institution(row.id, row.name, row.email) for row in engine.withdrawn(session, campaign.id)]
    gone = {i.id for i in left}
    expert_stages = {s.id: s for s in finals.review_stages(campaign)}
    results = []
    for inst in [*campaign.institutions, *left]:  # what is read of a ДОУ is let go as its objects are made
        mine = rows.pop(inst.id, {})
        outcomes, panels = {}, {}
        for stage_id in per:
            if stage_id not in mine:  # a stage added after the ДОУ was withdrawn: it has no row
                continue
            st, due_at, extended, submitted_at = mine[stage_id]
            outcomes[stage_id] = StageOutcome(stage_id, st, due_at, extended, submitted_at,
                                              submissions.pop((inst.id, stage_id), []), extensions.pop((inst.id, stage_id), []))
            stage = expert_stages.get(stage_id)
            if stage is not None:
                given = [Review(expert, at, lv, text, rules.on_time(due_at, at)) for expert, at, lv, text in reviews.pop((inst.id, stage_id), ())]
                panels[stage_id] = ReviewPanel(stage_id, st, lists.get((stage.list or "", inst.id), []), given)
        ranks = found_levels.pop(inst.id, {})
        mine_levels = {a: lv for a in levels.areas if a in ranks and (lv := levels.level_id(ranks[a])) is not None}
        lowest = min(ranks.values()) if ranks else None
        weak = [a for a in levels.areas if a in ranks and ranks[a] == lowest]
        state = rules.institution_state({sid: o.status for sid, o in outcomes.items()}, withdrawn=inst.id in gone)
        results.append(InstitutionResult(inst, state, outcomes, panels, mine_levels, source.get(inst.id), weak))
    return results


def _base_level(campaign: spec.Campaign) -> str | None:
    return campaign.base_level  # the level marked baseline, else «Базовый…», else the first (`model.base_level`)


def _submissions(session: Session, campaign_id: str) -> dict[tuple[str, str], list[Submission]]:
    found: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for inst, stage, at, links in session.exec(
            select(col(SubmissionRow.institution_id), col(SubmissionRow.stage_id), col(SubmissionRow.at), col(SubmissionRow.links))
            .where(SubmissionRow.campaign_id == campaign_id).order_by(col(SubmissionRow.id))):
        found[(inst, stage)].append(Submission(at, tuple(json.loads(links or "[]"))))
    return found


def _extensions(session: Session, campaign_id: str) -> dict[tuple[str, str], list[Extension]]:
    found: dict[tuple[str, str], list[Extension]] = defaultdict(list)
    for inst, stage, until, reason, granted_at in session.execute(
            sa_select(col(ExtensionRow.institution_id), col(ExtensionRow.stage_id), col(ExtensionRow.until), col(ExtensionRow.reason),
                      col(ExtensionRow.granted_at))
            .where(col(ExtensionRow.campaign_id) == campaign_id).order_by(col(ExtensionRow.id))):
        found[(inst, stage)].append(Extension(until, reason, granted_at))
    return found


def _lists(session: Session, campaign_id: str) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for stage_id, inst, expert in session.exec(
            select(AssignmentRow.stage_id, AssignmentRow.institution_id, AssignmentRow.expert_id)
            .where(AssignmentRow.campaign_id == campaign_id)
            .order_by(AssignmentRow.stage_id, AssignmentRow.institution_id, AssignmentRow.expert_id)):
        found[(stage_id, inst)].append(expert)
    return found


def _reviews(session: Session, campaign_id: str) -> dict[tuple[str, str], list[tuple[str, datetime, dict[str, str], str]]]:
    """(ДОУ, review stage) → (expert, when, levels, recommendations) of each review, oldest first."""
    found: dict[tuple[str, str], list[tuple[str, datetime, dict[str, str], str]]] = defaultdict(list)
    parsed = _Parsed()
    for inst, stage, expert, at, levels, text in session.execute(
            sa_select(col(ReviewRow.institution_id), col(ReviewRow.stage_id), col(ReviewRow.expert_id), col(ReviewRow.at),
                      col(ReviewRow.levels), col(ReviewRow.recommendations))
            .where(col(ReviewRow.campaign_id) == campaign_id).order_by(col(ReviewRow.at), col(ReviewRow.expert_id))):
        found[(inst, stage)].append((expert, at, parsed(levels), text))
    return found


class _Parsed(dict):
    """A review's levels (JSON text) → the dict they parse to, made once per distinct text and shared by every review
    that gave the same levels (a national roster's reviews repeat a few hundred combinations): read them, never change
    them. Bounded: past `_PARSED` texts it starts again."""

    def __call__(self, text: str | None) -> dict[str, str]:
        found = self.get(text)
        if found is None:
            if len(self) >= _PARSED:
                self.clear()
            found = self[text] = json.loads(text or "{}")
        return found


_PARSED = 10_000


def review_panels(session: Session, campaign: spec.Campaign, institution_id: str,
                  statuses: dict[str, ProgressRow]) -> dict[str, ReviewPanel]:
    """One ДОУ's review stages (for `status --institution`): experts assigned, who reported, levels.

    `statuses` are the ДОУ's progress rows by stage, as the caller read them; two SELECTs whatever the campaign."""
    stages = finals.review_stages(campaign)
    if not stages:
        return {}
    assigned: dict[str, list[str]] = defaultdict(list)
    for stage_id, expert in session.exec(select(AssignmentRow.stage_id, AssignmentRow.expert_id).where(
            AssignmentRow.campaign_id == campaign.id, AssignmentRow.institution_id == institution_id)
            .order_by(AssignmentRow.stage_id, AssignmentRow.expert_id)).all():
        assigned[stage_id].append(expert)
    given: dict[str, list[ReviewRow]] = defaultdict(list)
    for r in session.exec(select(ReviewRow).where(ReviewRow.campaign_id == campaign.id, ReviewRow.institution_id == institution_id)
                          .order_by(col(ReviewRow.at), col(ReviewRow.expert_id))).all():
        given[r.stage_id].append(r)
    panels = {}
    for stage in stages:
        row = statuses[stage.id]
        reviews = [Review(r.expert_id, r.at, json.loads(r.levels or "{}"), r.recommendations, r.at <= row.due_at)
                   for r in given.get(stage.id, [])]
        panels[stage.id] = ReviewPanel(stage.id, row.status, assigned.get(stage.list or "", []), reviews)
    return panels


# -- the levels of several campaigns at once, keyed by campaign (the regional справка) --------------

UNRATED = 1_000_000  # the rank of a level outside its campaign's scale: above every level, never at or below the base


class CampaignLevels:
    """`_Levels` of several campaigns in one pass: the same definitions (each campaign's review stages in order, its
    areas, its scale, asked of `_Levels`) keyed by a `camp` column, so that one GROUP BY counts every campaign.
    `by_institution` is `_Levels.by_institution` with the campaign in its key: (camp, inst, ord, area, rank) of each
    ДОУ's level per area, the lowest rank its experts gave in the latest review stage it has a review in."""

    def __init__(self, campaigns: list[spec.Campaign]):
        self.each = {c.id: _Levels(c) for c in campaigns}
        self.usable = {cid: lv for cid, lv in self.each.items() if lv.usable}
        # a campaign whose experts review per indicator has its ДОУ's levels from its final indicator levels (`_Levels`
        # knows how): those are read campaign by campaign (`alone`), the others in one pass (`by_institution`)
        self.apart = [cid for cid, lv in self.usable.items() if lv.campaign.reviews_by_indicator]
        self.pooled = [cid for cid in self.usable if cid not in self.apart]

    def _keyed(self, campaign: Any, value: Any, mapping: dict[str, dict[str, int]], otherwise: int) -> ColumnElement[int]:
        """`value`'s number in its campaign's `mapping`: one CASE when every campaign maps alike (one scale), else a CASE
        on the campaign of CASEs on the value."""
        kinds = {tuple(sorted(m.items())) for m in mapping.values()}
        if len(kinds) == 1:
            return case(dict(next(iter(kinds))), value=value, else_=otherwise)
        return case({cid: case(m, value=value, else_=otherwise) for cid, m in mapping.items()}, value=campaign, else_=otherwise)

    def rank(self, campaign: Any, level: Any) -> ColumnElement[int]:
        return self._keyed(campaign, level, {cid: {lv: n for n, lv in enumerate(x.ids)} for cid, x in self.usable.items()}, UNRATED)

    def order(self, campaign: Any, stage: Any) -> ColumnElement[int]:
        return self._keyed(campaign, stage, {cid: {s: n for n, s in enumerate(x.stages)} for cid, x in self.usable.items()}, -1)

    def _mine(self, campaign: Any, column: Any, of: str, among: list[str]) -> ColumnElement[bool]:
        """`column` (a stage or an area) is one of its campaign's (`of`: "stages" or "areas"), of the campaigns `among`."""
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for cid in among:
            groups[tuple(getattr(self.usable[cid], of))].append(cid)
        return or_(*(and_(campaign.in_(ids), column.in_(values)) for values, ids in groups.items()))

    def given(self, session: Session, latest: Any = None):
        """(camp, inst, stage, ord, area, level) of every level a review gives in one of its campaign's areas (per area: a
        review per indicator keeps its area levels too), of every campaign, with `latest` of the pooled ones only: a CTE."""
        r = _REVIEW.c
        pairs = _pairs(session, r.levels)
        order = self.order(r.campaign_id, r.stage_id)
        among = list(self.usable) if latest is None else self.pooled
        query = (sa_select(r.campaign_id.label("camp"), r.institution_id.label("inst"), r.stage_id.label("stage"), order.label("ord"),
                           pairs.c.key.label("area"), pairs.c.value.label("level"))
                 .select_from(_REVIEW).join(pairs, true())
                 .where(r.campaign_id.in_(among), self._mine(r.campaign_id, r.stage_id, "stages", among),
                        self._mine(r.campaign_id, pairs.c.key, "areas", among)))
        if latest is not None:
            query = query.join(latest, and_(latest.c.camp == r.campaign_id, latest.c.inst == r.institution_id, latest.c.ord == order))
        return query.cte("region_given_latest" if latest is not None else "region_given")

    def by_institution(self, session: Session):
        """The pooled campaigns' (camp, inst, ord, area, rank), in one pass: a CTE."""
        r = _REVIEW.c
        order = self.order(r.campaign_id, r.stage_id)
        latest = _materialized(session, sa_select(r.campaign_id.label("camp"), r.institution_id.label("inst"), func.max(order).label("ord"))
                               .where(r.campaign_id.in_(self.pooled), self._mine(r.campaign_id, r.stage_id, "stages", self.pooled))
                               .group_by(r.campaign_id, r.institution_id).cte("region_latest"))
        given = self.given(session, latest)
        return _materialized(session, sa_select(given.c.camp, given.c.inst, given.c.ord, given.c.area,
                                                func.min(self.rank(given.c.camp, given.c.level)).label("rank"))
                             .group_by(given.c.camp, given.c.inst, given.c.ord, given.c.area).cte("region_level"))

    def alone(self, session: Session, campaign_id: str):
        """One campaign's (camp, inst, ord, area, rank) as the справка reads them (`_Levels.by_institution`): a CTE."""
        level = self.each[campaign_id].by_institution(session)
        camp = cast(literal(campaign_id), String).label("camp")
        return _materialized(session, sa_select(camp, level.c.inst, level.c.ord, level.c.area, level.c.rank).cte("region_level"))

    def level_id(self, campaign_id: str, rank: int) -> str | None:
        return self.each[campaign_id].level_id(rank)
