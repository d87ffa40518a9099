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


# -- The coordinator's settlements in SQL (issue 21 part 5: `engine.settle`, the portal's and `status`'s counts) -------
# A block of its own, apart from the справка's SQL forms: `disputed` said in SQL, for counts over the whole campaign
# in one statement. An indicator of a ДОУ in a review stage is disputed when its experts' `review_level` rows hold more
# than one level and it has no `settlement` row; tests/test_settle.py keeps this equal to `disputed` by a property test.

from sqlalchemy import Select, exists, func  # noqa: E402  (imports of this block, kept with it)
from sqlalchemy import select as sa_select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from dqflow.store import InstitutionRow, ReviewLevelRow, SettlementRow, table  # noqa: E402


def review_stages(campaign: spec.Campaign) -> list[spec.Stage]:
    """The stages whose experts review each ДОУ: where indicators are disputed and settled."""
    return [s for s in campaign.stages if s.per_institution and s.actor == "expert"]


def disputed_sql(campaign_id: str) -> Select:
    """(stage, ДОУ, indicator) of every disputed indicator of the campaign (`disputed`), a ДОУ's review as one group
    of the review_level primary key."""
    level, settled = table(ReviewLevelRow).c, table(SettlementRow).c
    settlement = exists().where(settled.campaign_id == level.campaign_id, settled.stage_id == level.stage_id,
                                settled.institution_id == level.institution_id, settled.indicator_id == level.indicator_id)
    return (sa_select(level.stage_id, level.institution_id, level.indicator_id)
            .where(level.campaign_id == campaign_id, level.level != "", ~settlement)
            .group_by(level.stage_id, level.institution_id, level.indicator_id)
            .having(func.count(func.distinct(level.level)) > 1))


def awaiting_sql(campaign_id: str) -> Select:
    """`disputed_sql` for the ДОУ still in the campaign (those an amendment withdrew keep their records unchanged, so
    nothing of theirs waits for a settlement)."""
    keys = disputed_sql(campaign_id).subquery()
    inst = table(InstitutionRow).c
    present = exists().where(inst.campaign_id == campaign_id, inst.id == keys.c.institution_id, inst.withdrawn_at.is_(None))
    return sa_select(keys.c.stage_id, keys.c.institution_id, keys.c.indicator_id).where(present)


def awaiting_settlement(session: Session, campaign: spec.Campaign) -> dict[str, int]:
    """Review stage id → how many indicators of the campaign's ДОУ are disputed and wait for the coordinator's
    settlement (`awaiting_sql`); {} where the experts review per area. One statement, whatever the roster."""
    if not campaign.reviews_by_indicator:
        return {}
    keys = awaiting_sql(campaign.id).subquery()
    found = dict(session.execute(sa_select(keys.c.stage_id, func.count()).group_by(keys.c.stage_id)).all())
    return {s.id: found.get(s.id, 0) for s in review_stages(campaign)}
