"""The levels the experts gave, in SQL: the справка's definitions of a ДОУ's level (see `figures`), spelled once for
every figure that counts them (`Levels`), and the two pieces of SQL they are read with (`json_pairs`, `materialized`)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import JSON, and_, case, cast, func, true
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.engine import finals
from dqflow.store import ReviewRow, table

_REVIEW = table(ReviewRow)


def json_pairs(session: Session, levels: Any) -> Any:
    """The (key, value) rows of a JSON object stored as text (a review's levels), as a table-valued function to join:
    parsed once per review (`json_each` on SQLite, `json_each_text` on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_each_text(cast(levels, JSON)).table_valued("key", "value").alias("pairs")
    return func.json_each(levels).table_valued("key", "value").alias("pairs")


def materialized(session: Session, cte: Any) -> Any:
    """A CTE computed once and read as a table (PostgreSQL 12+, SQLite 3.35+): the join it feeds probes it per row."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" or (dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)):
        return cte.prefix_with("MATERIALIZED")
    return cte


class Levels:
    """The reviews' levels as rows (ДОУ, review stage, its order, area, level, rank in the scale), and the ДОУ's
    level per area (`by_institution`: the lowest of its experts' in its latest review stage with a review): the
    definitions of `figures`, spelled once in SQL for every figure that counts them."""

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
        pairs = json_pairs(session, r.levels)
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
        latest = materialized(session, sa_select(r.institution_id.label("inst"), func.max(self.order(r.stage_id)).label("ord"))
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
