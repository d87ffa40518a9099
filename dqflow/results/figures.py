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

The figures are made of parts, one module a noun: a stage's coverage (`coverage`), each ДОУ's detail (`detail`) and
review panels (`panels`), the experts' timeliness (`timeliness`), the town's figures (`town`), all counting the ДОУ's
levels as `levels` spells them in SQL; `compute` puts them together in `Results`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow import engine
from dqflow.campaign import spec
from dqflow.results import indicators as indicator_figures
from dqflow.results import timeliness
from dqflow.results import town as town_figures
from dqflow.results.coverage import StageFigures
from dqflow.results.detail import InstitutionResult, institutions
from dqflow.results.levels import Levels
from dqflow.results.rows import Rows
from dqflow.results.timeliness import ExpertFigures


@dataclass(frozen=True)
class Recommendation:
    """One expert's text as the справка shows it: the stage and the expert by name."""

    stage: str
    expert: str
    text: str


GENERAL = "Общие рекомендации"  # the heading of texts whose review rated no area at or below the base level


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
    attention: list[tuple[spec.Institution, list[str]]] = field(default_factory=list)  # the first `town.ATTENTION` ДОУ at or below base
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
    levels = Levels(campaign)
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
        distribution, weak, low_total = town_figures.level_counts(session, levels, base)
        results.experts, results.town_distribution, results.town_agreement = (timeliness.experts(session, campaign), distribution,
                                                                              town_figures.agreement(session, campaign, levels))
        results.town_weak, results.low_total = weak, low_total
        results.attention = town_figures.attention(session, campaign, levels, base) if low_total else []
    if detail:
        results.institutions = institutions(session, campaign, now, levels)
    if rows:
        results.rows = Rows(session, campaign, now, levels)
    if campaign.reviews_by_indicator:  # a few statements more, whatever the roster; each ДОУ's rows held for its section or
        # page (`detail`); the workbook and the CSV read them as they are written (`Rows.indicators`)
        results.indicators = indicator_figures.compute(session, campaign, town=town, rows=bool(detail), attention=town_figures.ATTENTION,
                                                       source=levels.source)
    return results


def _base_level(campaign: spec.Campaign) -> str | None:
    return campaign.base_level  # the level marked baseline, else «Базовый…», else the first (`model.base_level`)
