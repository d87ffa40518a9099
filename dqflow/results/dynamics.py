"""Dynamics: this year's справка beside last year's (issue 22, part 2). Read from two computed справки (`figures.Results`)
and the relation of their ДОУ (`engine.lineage`): nothing here recomputes a level or a status.

- Levels by area, for each ДОУ of this year and for the town, over the areas both campaigns have (by id). A change is
  counted in steps of the scale (+1: one level higher) when both campaigns use the same scale (the same level ids in the
  same order); with different scales the levels stand side by side and the change is left empty.
- A ДОУ new this year is marked as new (`new`), never shown as a fall from nothing; a ДОУ of both years without a level
  last year (or this year) in an area has no change there.
- The town's level in an area is the mean position of the ДОУ's levels on the scale (1 = the lowest), over the ДОУ with a
  level; the distribution of levels is given for both years.
- Timeliness: for each ДОУ stage both campaigns have (by id), the share handed in on time (`StageFigures.on_time_rate`)
  last year and this year.
- Follow-ups: last year's recommendations to a ДОУ, in the areas they addressed (`Results.recommendations_by_area`: the
  areas its review rated at or below the base level), beside its levels there this year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dqflow.engine import lineage as lineages
from dqflow.engine.lineage import Lineage
from dqflow.errors import DqflowError
from dqflow.present import csvfile
from dqflow.results.figures import Results, compute

NEW = "new"  # dynamics.csv's `previous` of a ДОУ new this year


@dataclass(frozen=True)
class LevelChange:
    institution_id: str
    name: str
    area: str
    previous: str | None  # last year's level id (None: none there, or the ДОУ is new)
    current: str | None
    change: int | None  # steps of the scale, when both levels are known and the scales are the same
    new: bool = False  # the ДОУ is new this year


@dataclass(frozen=True)
class AreaChange:
    area: str
    previous_mean: float | None  # the mean position on the scale (1 = the lowest) of the ДОУ with a level
    current_mean: float | None
    previous_counts: dict[str, int]  # level id → ДОУ
    current_counts: dict[str, int]

    @property
    def change(self) -> float | None:
        if self.previous_mean is None or self.current_mean is None:
            return None
        return round(self.current_mean - self.previous_mean, 2)


@dataclass(frozen=True)
class StageChange:
    stage: str
    label: str
    previous: float | None  # share on time
    current: float | None


@dataclass(frozen=True)
class Followup:
    institution_id: str  # this year's id
    area: str
    recommendations: tuple[str, ...]  # last year's texts addressed to that area
    level: LevelChange  # the ДОУ's levels there, last year and this year


@dataclass(frozen=True)
class Dynamics:
    previous_id: str
    current_id: str
    same_scale: bool
    areas: tuple[str, ...]
    institutions: tuple[LevelChange, ...]
    town: tuple[AreaChange, ...]
    timeliness: tuple[StageChange, ...]
    lineage: Lineage
    followups: tuple[Followup, ...] = ()


def compare(current: Results, previous: Results, lineage: Lineage) -> Dynamics:
    """This year's figures beside last year's (see the module)."""
    scale = [lv.id for lv in current.campaign.levels]
    same_scale = bool(scale) and scale == [lv.id for lv in previous.campaign.levels]
    position = {lv: n + 1 for n, lv in enumerate(scale)}
    before_positions = {lv.id: n + 1 for n, lv in enumerate(previous.campaign.levels)}
    areas = tuple(a for a in current.area_ids if a in set(previous.area_ids))
    last_year = {i.institution.id: i.levels for i in previous.institutions}
    previous_of = lineage.previous_of()
    rows = []
    for inst in current.institutions:
        before_id = previous_of.get(inst.institution.id)
        before = last_year.get(before_id, {}) if before_id is not None else {}
        for area in areas:
            now_level, then_level = inst.levels.get(area), before.get(area)
            change = (position[now_level] - position[then_level]
                      if same_scale and now_level in position and then_level in position else None)
            rows.append(LevelChange(inst.institution.id, inst.institution.name, area, then_level, now_level, change, before_id is None))
    town = tuple(AreaChange(area, _mean(previous, area, before_positions), _mean(current, area, position),
                            previous.distribution().get(area, {}), current.distribution().get(area, {})) for area in areas)
    last_stages = {f.stage.id: f for f in previous.stages if f.stage.per_institution}
    timeliness = tuple(StageChange(f.stage.id, f.stage.label, last_stages[f.stage.id].on_time_rate, f.on_time_rate)
                       for f in current.stages if f.stage.per_institution and f.stage.id in last_stages)
    return Dynamics(previous.campaign.id, current.campaign.id, same_scale, areas, tuple(rows), town, timeliness, lineage,
                    _followups(previous, rows, previous_of, areas))


def _followups(previous: Results, rows: list[LevelChange], previous_of: dict[str, str], areas: tuple[str, ...]) -> tuple[Followup, ...]:
    by_title = {a.title: a.id for a in previous.campaign.areas}
    last_year = {i.institution.id: i for i in previous.institutions}
    level = {(r.institution_id, r.area): r for r in rows}
    found = []
    for current_id, before_id in previous_of.items():
        inst = last_year.get(before_id)
        for title, said in previous.recommendations_by_area(inst) if inst is not None else []:
            area = by_title.get(title)
            if area in areas and (current_id, area) in level:
                found.append(Followup(current_id, area, tuple(r.text for r in said), level[(current_id, area)]))
    return tuple(found)


def for_report(session: Session, current: Results, previous_id: str | None, now: datetime, *, asked: bool) -> Dynamics | None:
    """The справка's dynamics against `previous_id` (`--compare`, else `campaign.previous`): None without one, or when the
    campaign the file names is not loaded; a campaign asked for with --compare that is not there is refused."""
    if previous_id is None or previous_id == current.campaign.id:
        if asked:
            raise DqflowError(f"--compare {previous_id}: это сама кампания; укажите кампанию прошлого года (список — dqflow campaigns)")
        return None
    if not lineages.loaded(session, previous_id):
        if asked:
            raise DqflowError(f"--compare {previous_id}: такой кампании нет в базе данных; список загруженных — dqflow campaigns")
        return None
    return compare(current, compute(session, previous_id, now), lineages.between(session, current.campaign.id, previous_id))


def _mean(results: Results, area: str, position: dict[str, int]) -> float | None:
    found = [position[i.levels[area]] for i in results.institutions if i.levels.get(area) in position]
    return round(sum(found) / len(found), 2) if found else None


def csv_text(dynamics: Dynamics) -> str:
    """dynamics.csv: a row per ДОУ of this year and area (levels as ids; `previous` is `new` for a ДОУ new this year), then
    a row per area for the town (`institution` empty; the mean positions on the scale)."""
    rows: list[list[object]] = [[r.institution_id, r.name, r.area, NEW if r.new else (r.previous or ""), r.current or "",
                                 "" if r.change is None else r.change] for r in dynamics.institutions]
    rows += [["", "", a.area, _number(a.previous_mean), _number(a.current_mean), _number(a.change)] for a in dynamics.town]
    return csvfile.text(["institution", "name", "area", "previous", "current", "change"], rows)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
