"""The experts' timeliness in the справка: each expert's reviews assigned, given on time and late (an expert's review is
on time when recorded by that ДОУ's effective deadline of the stage), counted in one GROUP BY."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.engine import finals, rules
from dqflow.results.levels import materialized
from dqflow.store import AssignmentRow, ProgressRow, ReviewRow, table

_PROGRESS = table(ProgressRow)
_REVIEW = table(ReviewRow)
_ASSIGNMENT = table(AssignmentRow)


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


def experts(session: Session, campaign: spec.Campaign) -> list[ExpertFigures]:
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
    assigned_to = materialized(session, union_all(*each).cte("assigned_to"))
    query = (sa_select(assigned_to.c.expert, func.count(), func.sum(assigned_to.c.on_time), func.count(assigned_to.c.at))
             .group_by(assigned_to.c.expert))
    for expert, assigned, on_time, given in session.execute(query):
        mine = figures.get(expert)
        if mine is not None:
            mine.assigned, mine.on_time, mine.late = int(assigned), int(on_time or 0), int(given) - int(on_time or 0)
    return list(figures.values())
