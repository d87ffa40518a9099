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
