"""Each ДОУ's detail in the справка (`InstitutionResult`): its stages with what it handed in and the extensions it was
given, its review panels, its level per area and its weakest areas. Read as plain column tuples, one SELECT a kind for
the whole roster (`institutions`); the definitions are `figures`'."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow import engine
from dqflow.campaign import spec
from dqflow.engine import finals, rules
from dqflow.results.levels import Levels
from dqflow.results.panels import Review, ReviewPanel
from dqflow.store import AssignmentRow, ExtensionRow, ProgressRow, ReviewRow, SubmissionRow, table

_PROGRESS = table(ProgressRow)


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


@dataclass(slots=True)
class InstitutionResult:
    institution: spec.Institution
    state: str
    stages: dict[str, StageOutcome]
    reviews: dict[str, ReviewPanel]
    levels: dict[str, str]  # area → the ДОУ's level (see `figures`' definitions); areas without one are absent
    levels_from: str | None  # the review stage they come from
    weak_areas: list[str]  # the areas at its lowest level

    @property
    def recommendations(self) -> list[tuple[str, str, str]]:
        """(stage, expert, text) of every review that carries recommendations."""
        return [(p.stage_id, r.expert_id, r.recommendations) for p in self.reviews.values() for r in p.reviews if r.recommendations]


def institutions(session: Session, campaign: spec.Campaign, now: datetime, levels: Levels) -> list[InstitutionResult]:
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
