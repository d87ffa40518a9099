"""The town's figures of the справка, counted in the database from each ДОУ's level per area (`levels.Levels`): how
many ДОУ have each level in each area, the areas most often among a ДОУ's weakest, the ДОУ at or below the base level
(a count and the first `ATTENTION` in roster order), and where two or more experts of one ДОУ agree. A fixed number of
statements whatever the roster; the definitions are `figures`'."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.results.levels import Levels
from dqflow.store import ROSTER_ORDER, InstitutionRow, table

_INSTITUTION = table(InstitutionRow)

ATTENTION = 50  # the ДОУ at or below the base level a summary names (`Results.attention`); the rest are counted


def level_counts(session: Session, levels: Levels, base: str | None) -> tuple[dict[str, dict[str, int]], list[tuple[str, int]], int]:
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


def agreement(session: Session, campaign: spec.Campaign, levels: Levels) -> dict[str, tuple[int, int]]:
    found = {a: (0, 0) for a in levels.areas}
    if not levels.usable:
        return found
    given = levels.given(session)
    compared = (sa_select(given.c.area, case((func.count(func.distinct(given.c.level)) == 1, 1), else_=0).label("agreed"))
                .group_by(given.c.inst, given.c.stage, given.c.area).having(func.count(given.c.level) >= 2).subquery())
    for area, n, agreed in session.execute(sa_select(compared.c.area, func.count(), func.sum(compared.c.agreed)).group_by(compared.c.area)):
        found[area] = (int(agreed or 0), int(n))
    return found


def attention(session: Session, campaign: spec.Campaign, levels: Levels, base: str | None) -> list[tuple[spec.Institution, list[str]]]:
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
