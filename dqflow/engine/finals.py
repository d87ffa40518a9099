"""Final levels, where experts review per indicator (`Campaign.reviews_by_indicator`): the one place their rules live.

- An indicator's *final* level in a review stage is the coordinator's settled level where there is one; else,
  when its experts agree, their level; else the campaign's `settle:` rule decides: `lower` (the lower of their
  levels), `mean-rounded-down` (the mean of their places on the scale, rounded down), or `coordinator` (none until
  the coordinator settles it). One expert's level is final on its own.
- An indicator is *disputed* when its experts gave different levels and nobody settled it: what the coordinator
  is shown to settle (under `coordinator` there is no final level until then).
- An area's level follows from its indicators' levels by the campaign's `area_level:` rule (`lower` or
  `mean-rounded-down`), and only when every indicator of the area has one. It is computed both for one expert's
  review (kept in `ReviewRow.levels`, so what reads area levels reads them as before) and for the final levels.

Levels are compared by their place on the campaign's scale (`campaign.levels`, lowest first). The SQL forms of
these rules, for the справка at national scale, are kept equal to these by a property test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dqflow.campaign import spec


def places(campaign: spec.Campaign) -> dict[str, int]:
    """Each level id's place on the scale, 0 for the lowest."""
    return {lv.id: n for n, lv in enumerate(campaign.levels)}


def _by_rule(levels: Sequence[str], scale: Sequence[str], rule: str) -> str | None:
    place = {lv: n for n, lv in enumerate(scale)}
    ranks = [place[lv] for lv in levels if lv in place]
    if not ranks:
        return None
    if rule == "lower":
        return scale[min(ranks)]
    if rule == "mean-rounded-down":
        return scale[sum(ranks) // len(ranks)]
    raise ValueError(f"unknown rule {rule!r}")


def agreed(levels: Sequence[str], scale: Sequence[str], rule: str) -> str | None:
    """The final level the experts' `levels` for one indicator give by the campaign's `settle:` rule, without a
    settlement: theirs when they agree (or one expert alone), else by the rule; None under `coordinator`."""
    given = [lv for lv in levels if lv]
    if not given:
        return None
    if len(set(given)) == 1:
        return given[0]
    return None if rule == "coordinator" else _by_rule(given, scale, rule)


def disputed(levels: Sequence[str], settled: str | None) -> bool:
    """Whether the experts' levels for one indicator differ and the coordinator has not settled it."""
    return settled is None and len({lv for lv in levels if lv}) > 1


def final(levels: Sequence[str], settled: str | None, scale: Sequence[str], rule: str) -> str | None:
    """An indicator's final level in a review stage: the settled one, else `agreed`."""
    return settled if settled else agreed(levels, scale, rule)


def area_level(indicator_levels: Mapping[str, str | None], area: spec.Area, scale: Sequence[str], rule: str) -> str | None:
    """An area's level from its indicators' levels by the campaign's `area_level:` rule; None while any of its
    indicators has none."""
    given = [indicator_levels.get(ind.id) for ind in area.indicators]
    if not given or any(not lv for lv in given):
        return None
    return _by_rule([lv for lv in given if lv], scale, rule)


def area_levels(indicator_levels: Mapping[str, str | None], campaign: spec.Campaign) -> dict[str, str]:
    """Every area's level that its indicators' levels give (`area_level`); areas without one are absent."""
    scale = [lv.id for lv in campaign.levels]
    found = {a.id: area_level(indicator_levels, a, scale, campaign.area_level) for a in campaign.areas}
    return {a: lv for a, lv in found.items() if lv}


# -- the same rules in SQL (indicators helper) --------------------------------------------------------------------
# Set-based forms of `final` and `area_level` for the справка at national scale: SQLAlchemy Core selectables over
# `review_level` and `settlement`, one GROUP BY each, on SQLite and PostgreSQL alike. tests/test_indicator_report.py
# keeps them equal to the Python rules above on random reviews and settlements (hypothesis, both backends).

from typing import Any as _Any  # noqa: E402 - this block is appended apart from the Python rules

from sqlalchemy import Integer as _Integer  # noqa: E402
from sqlalchemy import case as _case  # noqa: E402
from sqlalchemy import func as _func  # noqa: E402
from sqlalchemy import literal as _literal  # noqa: E402
from sqlalchemy import null as _null  # noqa: E402
from sqlalchemy import select as _select  # noqa: E402
from sqlalchemy import union_all as _union_all  # noqa: E402

from dqflow.store import ReviewLevelRow, ReviewRow, SettlementRow, table  # noqa: E402

_REVIEW_LEVEL = table(ReviewLevelRow)
_SETTLEMENT = table(SettlementRow)
_REVIEWS = table(ReviewRow)


EXPERT_MARK = "\x01"  # between an expert's id and their level in `FinalsSql.finals(experts=True)`: sorts below any id's character


def split_expert(said: str | None) -> tuple[str | None, str | None]:
    """(expert id, level) of a `first`/`last` column of `FinalsSql.finals(experts=True)`."""
    if not said:
        return None, None
    expert, _, level = said.partition(EXPERT_MARK)
    return expert, level


class FinalsSql:
    """The final-level rules of one campaign as SQL. Levels are carried as places on the scale (`places`); `level_id`
    turns a place back into the level's id. Every selectable is keyed (inst, stage, indicator) or (inst, stage, area)."""

    def __init__(self, campaign: spec.Campaign, stages: Sequence[str] | None = None):
        self.campaign = campaign
        self.scale = [lv.id for lv in campaign.levels]
        self.stages = list(stages) if stages is not None else [
            s.id for s in campaign.stages if s.per_institution and s.actor == "expert"]
        self.indicators = {ind_id: area.id for ind_id, (area, _) in campaign.indicators.items()}
        self.sizes = {a.id: len(a.indicators) for a in campaign.areas if a.indicators}

    def place(self, level: _Any) -> _Any:
        """A level id's place on the scale (NULL for an id not on it: the Python rules leave such a level out)."""
        return _case({lv: n for n, lv in enumerate(self.scale)}, value=level, else_=_null()).cast(_Integer)

    def level_id(self, place: _Any) -> _Any:
        """A place back to its level id (NULL for none)."""
        return _case({n: lv for n, lv in enumerate(self.scale)}, value=place, else_=_null())

    def area_of(self, indicator: _Any) -> _Any:
        return _case(self.indicators, value=indicator, else_=_null()) if self.indicators else _null()

    def expert_levels(self) -> _Any:
        """(inst, stage, indicator, expert, level) of every expert's level (`review_level`)."""
        rl = _REVIEW_LEVEL.c
        return (_select(rl.institution_id.label("inst"), rl.stage_id.label("stage"), rl.indicator_id.label("indicator"),
                        rl.expert_id.label("expert"), rl.level.label("level"))
                .where(rl.campaign_id == self.campaign.id, rl.stage_id.in_(self.stages), rl.indicator_id.in_(list(self.indicators))))

    def finals(self, experts: bool = False) -> _Any:
        """(inst, stage, indicator, low, high, given, settled, final) per indicator that has an expert's level or a
        settlement: the lowest and highest place the experts gave, how many gave one, the settled place, and the final
        place (`final`): the settled one; else theirs when they agree; else by `settle:` (NULL under `coordinator`).
        One GROUP BY over the union of both tables' rows. With `experts`, also `first` and `last`: the expert of the
        lowest and of the highest id with their level, as `EXPERT_MARK`-joined text (`split_expert`), in the same pass."""
        rl, st = _REVIEW_LEVEL.c, _SETTLEMENT.c
        known = list(self.indicators)
        rows = _union_all(
            _select(rl.institution_id.label("inst"), rl.stage_id.label("stage"), rl.indicator_id.label("indicator"),
                    self.place(rl.level).label("given"), _null().cast(_Integer).label("settled"),
                    *([(rl.expert_id + _literal(EXPERT_MARK) + rl.level).label("said")] if experts else []))
            .where(rl.campaign_id == self.campaign.id, rl.stage_id.in_(self.stages), rl.indicator_id.in_(known)),
            _select(st.institution_id, st.stage_id, st.indicator_id, _null().cast(_Integer), self.place(st.level),
                    *([_null()] if experts else []))
            .where(st.campaign_id == self.campaign.id, st.stage_id.in_(self.stages), st.indicator_id.in_(known)),
        ).subquery("levels_given")
        low, high = _func.min(rows.c.given), _func.max(rows.c.given)
        total, count, settled = _func.sum(rows.c.given), _func.count(rows.c.given), _func.max(rows.c.settled)
        by_rule = {"lower": low, "mean-rounded-down": (total // count).cast(_Integer), "coordinator": _null().cast(_Integer)}
        rule = self.campaign.settle
        if rule not in by_rule:
            raise ValueError(f"unknown rule {rule!r}")
        final_place = _case((settled.is_not(None), settled), (low == high, low), else_=by_rule[rule])
        said = (_func.min(rows.c.said).label("first"), _func.max(rows.c.said).label("last")) if experts else ()
        return (_select(rows.c.inst, rows.c.stage, rows.c.indicator, low.label("low"), high.label("high"), count.label("given"),
                        settled.label("settled"), final_place.label("final"), *said)
                .group_by(rows.c.inst, rows.c.stage, rows.c.indicator))

    def area_levels(self, finals: _Any | None = None) -> _Any:
        """(inst, stage, area, place) of each area whose every indicator has a final level (`area_level` of the final
        levels, by `area_level:`); `finals`: a selectable with (inst, stage, indicator, final), `finals()` by default."""
        found = (finals if finals is not None else self.finals()).subquery("finals")
        rows = _select(found.c.inst, found.c.stage, self.area_of(found.c.indicator).label("area"), found.c.final).subquery("by_area")
        size = _case(self.sizes, value=rows.c.area, else_=-1) if self.sizes else _literal(-1)
        rule = self.campaign.area_level
        place = {"lower": _func.min(rows.c.final), "mean-rounded-down": (_func.sum(rows.c.final) // _func.count(rows.c.final)).cast(_Integer)}
        if rule not in place:
            raise ValueError(f"unknown rule {rule!r}")
        return (_select(rows.c.inst, rows.c.stage, rows.c.area, place[rule].label("place"))
                .where(rows.c.final.is_not(None))
                .group_by(rows.c.inst, rows.c.stage, rows.c.area)
                .having(_func.count(rows.c.final) == size))
