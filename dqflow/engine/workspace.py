"""What one person has to do, read for their portal page: a ДОУ's stages, submissions and released
recommendations; an expert's assigned ДОУ with their links and the reviews already recorded.

Reads only, in the caller's (rolled back) session, after reconcile brought the campaign to `now`.
A page costs a few queries per stage of the campaign, whatever the roster's size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import experts, rules
from dqflow.engine.reconciler import reconcile
from dqflow.engine.views import StageDetail, institution_detail
from dqflow.errors import NotFound
from dqflow.store import ProgressRow, ReviewRow, StageRow, SubmissionRow


@dataclass
class Released:
    """A review stage's recommendations to one ДОУ, once they are released (sent or the stage locked)."""

    stage: spec.Stage
    reviews: list[dict]  # {"n", "levels": [(area title, level title)], "recommendations"}; no expert names


@dataclass
class InstitutionDesk:
    institution: spec.Institution
    stages: list[StageDetail]
    released: list[Released]

    def can_submit(self, detail: StageDetail, now: datetime) -> bool:
        """Whether to offer the form: the ДОУ's own stage and nothing refuses a hand-in now (`rules.refusal`)."""
        return detail.stage.actor == "institution" and rules.refusal(detail.progress, now) is None


def institution_desk(session: Session, campaign: spec.Campaign, institution_id: str, now: datetime) -> InstitutionDesk:
    institution = next((i for i in campaign.institutions if i.id == institution_id), None)
    if institution is None:
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'")
    details = institution_detail(session, campaign.id, institution_id, now)  # reconciles first
    followed = dict(session.exec(select(StageRow.id, StageRow.followup_planned).where(StageRow.campaign_id == campaign.id)).all())
    released = []
    for stage in campaign.stages:
        if stage.actor == "expert" and stage.kind == "task" and (followed.get(stage.id) or rules.has_locked(stage.locks_at, now)):
            reviews = experts.reviews(session, campaign.id, stage.id, institution_id)
            if reviews:
                released.append(Released(stage, [_shown(campaign, n, r) for n, r in enumerate(reviews, 1)]))
    return InstitutionDesk(institution, details, released)


def _shown(campaign: spec.Campaign, n: int, review: ReviewRow) -> dict:
    marks = json.loads(review.levels)
    levels = {lv.id: lv.title for lv in campaign.levels}
    return {"n": n, "recommendations": review.recommendations,
            "levels": [(a.title, levels.get(marks[a.id], marks[a.id])) for a in campaign.areas if a.id in marks]}


@dataclass
class Assigned:
    institution: spec.Institution
    links: list[str]
    progress: ProgressRow | None  # in the review stage, when there is one
    review: ReviewRow | None  # this expert's, when recorded
    materials: rules.Materials = rules.Materials.PRESENT  # what there is to review now (`rules.materials`)
    awaited_until: datetime | None = None  # while awaited: the soonest due time of the ДОУ's open stages
    status: str | None = None  # the ДОУ's status in the review stage now (`rules.status_at`: a review of nothing is NOTHING)

    @property
    def levels(self) -> dict[str, str]:
        return json.loads(self.review.levels) if self.review else {}


@dataclass
class ExpertTask:
    """One expert list and the review stage that works from it."""

    list_stage: spec.Stage
    review_stage: spec.Stage | None
    assigned: list[Assigned] = field(default_factory=list)

    handout: spec.Stage | None = None  # the stage that hands this list's ДОУ to the experts

    def can_review(self, item: Assigned, now: datetime) -> bool:
        """Whether to offer the review form: nothing refuses a review of the ДОУ now (`rules.refusal`), the
        handout gave it to the expert and it has materials to review (`rules.materials`)."""
        return (self.review_stage is not None and item.progress is not None and rules.refusal(item.progress, now) is None
                and item.materials is rules.Materials.PRESENT
                and (self.handout is None or rules.has_opened(self.handout.opens_at, now)))


@dataclass
class ExpertDesk:
    expert: spec.Expert
    home: spec.Institution | None  # None for an expert of no ДОУ (the ИМЦ's methodologists)
    tasks: list[ExpertTask]


def expert_desk(session: Session, campaign: spec.Campaign, expert_id: str, now: datetime) -> ExpertDesk:
    homes = {i.id: i for i in campaign.institutions}
    found = next(((e, homes.get(inst) if inst else None) for e, inst in campaign.every_expert() if e.id == expert_id), None)
    if found is None:
        raise NotFound(f"no expert '{expert_id}' in campaign '{campaign.id}'")
    reconcile(session, campaign.id, now)
    by_id = {i.id: i for i in campaign.institutions}
    tasks = []
    for stage in campaign.stages:
        if stage.kind != "assignment":
            continue
        mine = [inst for inst, es in experts.stored(session, campaign.id, stage.id).items()
                if expert_id in es and inst in by_id]  # not a ДОУ an amendment withdrew: its list rows stay as history
        review = next((s for s in campaign.stages if s.kind == "task" and s.actor == "expert" and s.list == stage.id), None)
        handout = next((s for s in campaign.stages if s.kind == "handout" and s.list == stage.id), None)
        task = ExpertTask(stage, review, handout=handout)
        if mine:
            links = _links(session, campaign.id, mine)
            progress, reviews = {}, {}
            if review is not None:
                progress = {p.institution_id: p for p in session.exec(select(ProgressRow).where(
                    ProgressRow.campaign_id == campaign.id, ProgressRow.stage_id == review.id,
                    col(ProgressRow.institution_id).in_(mine))).all()}
                reviews = {r.institution_id: r for r in session.exec(select(ReviewRow).where(
                    ReviewRow.campaign_id == campaign.id, ReviewRow.stage_id == review.id, ReviewRow.expert_id == expert_id)).all()}
            order = [i.id for i in campaign.institutions]
            task.assigned = [Assigned(by_id[i], links.get(i, []), progress.get(i), reviews.get(i), status=_status(progress.get(i)))
                             for i in sorted(mine, key=order.index)]
            if review is not None:
                _judge_materials(session, campaign, review, task.assigned, now)
        tasks.append(task)
    return ExpertDesk(found[0], found[1], tasks)


def _judge_materials(session: Session, campaign: spec.Campaign, review: spec.Stage, assigned: list[Assigned], now: datetime) -> None:
    """What each assigned ДОУ has for the expert to review at `now` (`rules.materials`), and till when it is awaited."""
    stages = rules.materials_stages(campaign.stages, review)
    if not stages:
        return
    rows: dict[str, list[ProgressRow]] = {}
    for row in session.exec(select(ProgressRow).where(
            ProgressRow.campaign_id == campaign.id, col(ProgressRow.stage_id).in_(stages),
            col(ProgressRow.institution_id).in_([a.institution.id for a in assigned]))).all():
        rows.setdefault(row.institution_id, []).append(row)
    for item in assigned:
        mine = rows.get(item.institution.id, [])
        item.materials = rules.materials(rules.status_at(r, now) for r in mine)
        if item.progress is not None:
            item.status = rules.status_at(item.progress, now, materials=mine)
        if item.materials is rules.Materials.AWAITED:
            item.awaited_until = min(r.due_at for r in mine if rules.status_at(r, now) not in (rules.Status.MISSED.value,
                                                                                             rules.Status.EXCUSED.value))


def _status(progress: ProgressRow | None) -> str | None:
    """A review row's status as reconciled (`_judge_materials` says when it is a review of nothing)."""
    return progress.status if progress is not None else None


def _links(session: Session, campaign_id: str, institutions: list[str]) -> dict[str, list[str]]:
    """What these ДОУ handed in so far, in order, each link once."""
    found: dict[str, list[str]] = {}
    for inst, text in session.exec(select(SubmissionRow.institution_id, SubmissionRow.links).where(
            SubmissionRow.campaign_id == campaign_id, col(SubmissionRow.institution_id).in_(institutions))
            .order_by(col(SubmissionRow.at), col(SubmissionRow.id))).all():
        seen = found.setdefault(inst, [])
        seen += [link for link in json.loads(text) if link not in seen]
    return found
