"""The levels of several campaigns at once, keyed by campaign (the regional справка): `CampaignLevels` asks each
campaign's `levels.Levels` for its definitions and counts every campaign in one pass."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.results.levels import Levels, json_pairs, materialized
from dqflow.store import ReviewRow, table

_REVIEW = table(ReviewRow)

UNRATED = 1_000_000  # the rank of a level outside its campaign's scale: above every level, never at or below the base


class CampaignLevels:
    """`Levels` of several campaigns in one pass: the same definitions (each campaign's review stages in order, its
    areas, its scale, asked of `Levels`) keyed by a `camp` column, so that one GROUP BY counts every campaign.
    `by_institution` is `Levels.by_institution` with the campaign in its key: (camp, inst, ord, area, rank) of each
    ДОУ's level per area, the lowest rank its experts gave in the latest review stage it has a review in."""

    def __init__(self, campaigns: list[spec.Campaign]):
        self.each = {c.id: Levels(c) for c in campaigns}
        self.usable = {cid: lv for cid, lv in self.each.items() if lv.usable}
        # a campaign whose experts review per indicator has its ДОУ's levels from its final indicator levels (`Levels`
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
        pairs = json_pairs(session, r.levels)
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
        latest = materialized(session, sa_select(r.campaign_id.label("camp"), r.institution_id.label("inst"), func.max(order).label("ord"))
                               .where(r.campaign_id.in_(self.pooled), self._mine(r.campaign_id, r.stage_id, "stages", self.pooled))
                               .group_by(r.campaign_id, r.institution_id).cte("region_latest"))
        given = self.given(session, latest)
        return materialized(session, sa_select(given.c.camp, given.c.inst, given.c.ord, given.c.area,
                                                func.min(self.rank(given.c.camp, given.c.level)).label("rank"))
                             .group_by(given.c.camp, given.c.inst, given.c.ord, given.c.area).cte("region_level"))

    def alone(self, session: Session, campaign_id: str):
        """One campaign's (camp, inst, ord, area, rank) as the справка reads them (`Levels.by_institution`): a CTE."""
        level = self.each[campaign_id].by_institution(session)
        camp = cast(literal(campaign_id), String).label("camp")
        return materialized(session, sa_select(camp, level.c.inst, level.c.ord, level.c.area, level.c.rank).cte("region_level"))

    def level_id(self, campaign_id: str, rank: int) -> str | None:
        return self.each[campaign_id].level_id(rank)
