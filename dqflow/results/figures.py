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
  has a review (the cautious reading of two opinions); its *weak areas* are those at its lowest level;
- the *base level* is the level marked `baseline: true`, else the one titled «Базовый…», else the first
  (`Campaign.base_level`); a ДОУ is listed
  «на базовом уровне и ниже» when some area's level is at or below it;
- an expert's recommendations are one text per review: the справка lists a text under each area that
  review rated at or below the base level (what the text is most likely about, and what the ДОУ must
  correct), a text of a review that rated no area that low under «Общие рекомендации».

People read names, never ids: stages by `Stage.label`, experts by name (`expert_name`), ДОУ by name.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow import engine
from dqflow.campaign import spec
from dqflow.engine.rules import Status
from dqflow.store import AssignmentRow, ExtensionRow, ProgressRow, ReviewRow, SubmissionRow

HANDED_IN = (Status.DONE.value, Status.LATE.value)


@dataclass(frozen=True)
class Extension:
    until: datetime
    reason: str
    granted_at: datetime


@dataclass(frozen=True)
class Submission:
    at: datetime
    links: tuple[str, ...]


@dataclass
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


@dataclass(frozen=True)
class Review:
    expert_id: str
    at: datetime
    levels: dict[str, str]
    recommendations: str
    on_time: bool


@dataclass
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


@dataclass
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
    institutions: list[InstitutionResult]
    experts: list[ExpertFigures]
    base_level: str | None

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
        found = {a: {lv.id: 0 for lv in self.campaign.levels} for a in self.area_ids}
        for inst in self.institutions:
            for area, level in inst.levels.items():
                found.setdefault(area, {})[level] = found.get(area, {}).get(level, 0) + 1
        return found

    def agreement(self) -> dict[str, tuple[int, int]]:
        """area → (ДОУ×review stages where the experts agreed, where two or more experts gave a level)."""
        found = {a: [0, 0] for a in self.area_ids}
        for inst in self.institutions:
            for panel in inst.reviews.values():
                for area, agreed in panel.agreement(self.area_ids).items():
                    if agreed is not None:
                        found[area][1] += 1
                        found[area][0] += int(agreed)
        return {a: (n[0], n[1]) for a, n in found.items()}

    def at_or_below_base(self) -> list[tuple[InstitutionResult, list[str]]]:
        if self.base_level is None:
            return []
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
        counted = Counter(a for inst in self.institutions for a in inst.weak_areas)
        return sorted(counted.items(), key=lambda item: (-item[1], self.area_ids.index(item[0]) if item[0] in self.area_ids else 0))


def compute(session: Session, campaign_id: str | None, now: datetime) -> Results:
    """The справка's figures as of `now`. Call it in a session that is rolled back.

    Every status is the status projection's (`engine.status`), as `status` shows it at `now`: a campaign not
    ticked since is brought forward exactly as `status` brings it, without writing anything."""
    view = engine.status(session, campaign_id, now, institutions=True, limit=None)
    campaign = view.campaign
    rank = {lv.id: n for n, lv in enumerate(campaign.levels)}

    def key(level: str) -> int:  # levels compare in the scale's order
        return rank.get(level, len(rank))
    deadlines = _deadlines(session, campaign.id)
    submissions = _submissions(session, campaign.id)
    extensions = _extensions(session, campaign.id)
    lists = _lists(session, campaign.id)
    reviews = _reviews(session, campaign.id)
    expert_figures = {e.id: ExpertFigures(e, inst) for e, inst in campaign.every_expert()}
    results = []
    for view_row in view.institutions:
        inst = view_row.institution
        outcomes, panels = {}, {}
        for stage in campaign.stages:
            status = view_row.stages.get(stage.id) if stage.per_institution else None
            if status is None:  # not a ДОУ's stage, or one added after the ДОУ was withdrawn: it has no row
                continue
            due_at, extended, submitted_at = deadlines[(inst.id, stage.id)]
            outcomes[stage.id] = StageOutcome(stage.id, status, due_at, extended, submitted_at,
                                              submissions.get((inst.id, stage.id), []), extensions.get((inst.id, stage.id), []))
            if stage.actor == "expert":
                given = [Review(expert, at, levels, text, at <= due_at) for expert, at, levels, text in reviews.get((inst.id, stage.id), [])]
                assigned = lists.get((stage.list or "", inst.id), [])
                panels[stage.id] = ReviewPanel(stage.id, status, assigned, given)
                for expert in assigned:
                    figures = expert_figures.get(expert)
                    if figures is None:
                        continue
                    figures.assigned += 1
                    mine = next((r for r in given if r.expert_id == expert), None)
                    if mine is not None:
                        figures.on_time += int(mine.on_time)
                        figures.late += int(not mine.on_time)
        levels, source = _levels(panels, [a.id for a in campaign.areas], key)
        lowest = min(levels.values(), key=key) if levels else None
        weak = [a for a, lv in levels.items() if lv == lowest]
        results.append(InstitutionResult(inst, view_row.state, outcomes, panels, levels, source, weak))
    stages = [StageFigures(s.stage, s.state, s.counts) for s in view.stages]
    return Results(campaign, now, stages, results, list(expert_figures.values()), _base_level(campaign))


def _levels(panels: dict[str, ReviewPanel], areas: list[str], key) -> tuple[dict[str, str], str | None]:
    """The lower of the experts' levels per area (in the campaign's order of areas), from the latest
    review stage with a review."""
    for stage_id in reversed(list(panels)):
        panel = panels[stage_id]
        if not panel.reviews:
            continue
        found: dict[str, str] = {}
        for review in panel.reviews:
            for area, level in review.levels.items():
                found[area] = min(found.get(area, level), level, key=key)
        return {a: found[a] for a in areas if a in found}, stage_id
    return {}, None


def _base_level(campaign: spec.Campaign) -> str | None:
    return campaign.base_level  # the level marked baseline, else «Базовый…», else the first (`model.base_level`)


def _deadlines(session: Session, campaign_id: str) -> dict[tuple[str, str], tuple[datetime, bool, datetime | None]]:
    """(ДОУ, stage) → its effective due time, whether it was extended, when it handed in: what the status leaves out."""
    rows = session.execute(sa_select(col(ProgressRow.institution_id), col(ProgressRow.stage_id), col(ProgressRow.due_at),
                                     col(ProgressRow.extended), col(ProgressRow.submitted_at))
                           .where(col(ProgressRow.campaign_id) == campaign_id))
    return {(inst, stage): (due, extended, submitted) for inst, stage, due, extended, submitted in rows}


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
    for inst, stage, expert, at, levels, text in session.execute(
            sa_select(col(ReviewRow.institution_id), col(ReviewRow.stage_id), col(ReviewRow.expert_id), col(ReviewRow.at),
                      col(ReviewRow.levels), col(ReviewRow.recommendations))
            .where(col(ReviewRow.campaign_id) == campaign_id).order_by(col(ReviewRow.at), col(ReviewRow.expert_id))):
        found[(inst, stage)].append((expert, at, json.loads(levels or "{}"), text))
    return found


def review_panels(session: Session, campaign: spec.Campaign, institution_id: str,
                  statuses: dict[str, ProgressRow]) -> dict[str, ReviewPanel]:
    """One ДОУ's review stages (for `status --institution`): experts assigned, who reported, levels.

    `statuses` are the ДОУ's progress rows by stage, as the caller read them; two SELECTs whatever the campaign."""
    stages = [s for s in campaign.stages if s.per_institution and s.actor == "expert"]
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
