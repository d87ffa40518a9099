"""One ДОУ's review stages as the справка and `status --institution` show them: who was assigned, who reported, the
levels they gave, and whether they agree (`ReviewPanel`)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import finals
from dqflow.store import AssignmentRow, ProgressRow, ReviewRow


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
