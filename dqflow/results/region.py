"""The regional справка: several municipal campaigns of one database merged into one picture (issue 22, part 4).

Pure: `merge` takes each municipality's figures as `figures.compute` gives them (`Results`) and returns the
regional ones; it reads no database and asks the справка's own definitions (a stage's expected, handed-in and
on-time ДОУ, a ДОУ's level in an area, the base level, the experts' agreement) instead of re-deriving them.

A municipality is one campaign, named by its title. Campaigns are compared only on one set of areas and one
scale of levels: with different areas (by id and title) or levels (by id and title, in order) `merge` refuses
with one line naming what differs, unless `common` is set, when it keeps the areas with the same id and title
in every campaign and the levels with the same id in every scale (a ДОУ's level outside them is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dqflow.calendar import show, zone_label
from dqflow.errors import DqflowError
from dqflow.results.figures import InstitutionResult, Results, StageFigures

__all__ = ["Municipality", "Region", "csv_files", "html", "merge"]


@dataclass
class Municipality:
    results: Results
    stages: list[StageFigures]  # its form-filling stages (actor: institution), as the справка counts them
    distribution: dict[str, dict[str, int]]  # area → level → ДОУ (the compared areas and levels only)
    below_base: list[tuple[InstitutionResult, list[str]]]  # ДОУ with some compared area at or below the base level
    agreement: dict[str, tuple[int, int]]  # area → (agreed, compared), as the справка counts them

    @property
    def id(self) -> str:
        return self.results.campaign.id

    @property
    def title(self) -> str:
        return self.results.campaign.title

    @property
    def institutions(self) -> int:
        return len(self.results.institutions)

    @property
    def expected(self) -> int:
        return sum(f.expected for f in self.stages)

    @property
    def handed_in(self) -> int:
        return sum(f.handed_in for f in self.stages)

    @property
    def on_time(self) -> int:
        return sum(f.on_time for f in self.stages)

    @property
    def agreed(self) -> tuple[int, int]:
        return sum(a for a, _ in self.agreement.values()), sum(n for _, n in self.agreement.values())


@dataclass
class Region:
    municipalities: list[Municipality]
    areas: list[tuple[str, str]]  # (id, title) compared, in the first campaign's order
    levels: list[tuple[str, str]]  # (id, title) compared, in the first campaign's scale order
    common: bool  # compared on what the campaigns share (--common)
    left_out: list[str]  # with common: what was not compared, as people read it
    now: datetime
    tz: ZoneInfo

    @property
    def distribution(self) -> dict[str, dict[str, int]]:
        """area → level → ДОУ of the whole region."""
        return {a: {lv: sum(m.distribution[a][lv] for m in self.municipalities) for lv, _ in self.levels} for a, _ in self.areas}

    def rated(self, distribution: dict[str, dict[str, int]], area: str) -> int:
        return sum(distribution[area].values())

    @property
    def institutions(self) -> int:
        return sum(m.institutions for m in self.municipalities)

    @property
    def expected(self) -> int:
        return sum(m.expected for m in self.municipalities)

    @property
    def handed_in(self) -> int:
        return sum(m.handed_in for m in self.municipalities)

    @property
    def on_time(self) -> int:
        return sum(m.on_time for m in self.municipalities)

    @property
    def below_base(self) -> int:
        return sum(len(m.below_base) for m in self.municipalities)

    @property
    def agreement(self) -> dict[str, tuple[int, int]]:
        """area → (agreed, compared) over the region."""
        return {a: (sum(m.agreement[a][0] for m in self.municipalities), sum(m.agreement[a][1] for m in self.municipalities))
                for a, _ in self.areas}

    @property
    def agreed(self) -> tuple[int, int]:
        pairs = [m.agreed for m in self.municipalities]
        return sum(a for a, _ in pairs), sum(n for _, n in pairs)

    def area_title(self, area_id: str) -> str:
        return dict(self.areas).get(area_id, area_id)

    def when(self, instant: datetime | None) -> str:
        return show(instant, self.tz) if instant else "—"

    @property
    def zone(self) -> str:
        return zone_label(self.tz, self.now)


def merge(found: list[Results], *, common: bool = False) -> Region:
    """The regional figures of the municipalities' figures (at least one), refused when they differ and not `common`."""
    if not found:
        raise DqflowError("не выбрано ни одной кампании; укажите --campaign ID")
    first = found[0]
    if common:
        areas, levels, left_out = _shared(found)
    else:
        _same(found)
        areas = [(a.id, a.title) for a in first.campaign.areas]
        levels = [(lv.id, lv.title) for lv in first.campaign.levels]
        left_out = []
    area_ids, level_ids = [a for a, _ in areas], {lv for lv, _ in levels}
    municipalities = []
    for results in found:
        distribution = {a: {lv: 0 for lv, _ in levels} for a in area_ids}
        for inst in results.institutions:
            for area, level in inst.levels.items():
                if area in distribution and level in level_ids:
                    distribution[area][level] += 1
        below = [(inst, [a for a in low if a in distribution]) for inst, low in results.at_or_below_base()]
        agreement = results.agreement()
        municipalities.append(Municipality(
            results, [f for f in results.stages if f.stage.per_institution and f.stage.actor == "institution"],
            distribution, [(inst, low) for inst, low in below if low], {a: agreement.get(a, (0, 0)) for a in area_ids}))
    return Region(municipalities, areas, levels, common, left_out, first.now, first.campaign.tz)


def _same(found: list[Results]) -> None:
    """Refuses, in one line naming the first difference, campaigns whose areas or levels differ."""
    first = found[0].campaign
    for other in (r.campaign for r in found[1:]):
        mine = {a.id: a.title for a in first.areas}
        theirs = {a.id: a.title for a in other.areas}
        hint = "; сравните по общим областям и уровням с --common"
        for area_id, title in mine.items():
            if area_id not in theirs:
                raise DqflowError(f"области качества различаются: область «{title}» ({area_id}) есть в кампании {first.id}, "
                                  f"но нет в {other.id}{hint}")
            if theirs[area_id] != title:
                raise DqflowError(f"области качества различаются: область {area_id} называется «{title}» в кампании {first.id} "
                                  f"и «{theirs[area_id]}» в {other.id}{hint}")
        for area_id, title in theirs.items():
            if area_id not in mine:
                raise DqflowError(f"области качества различаются: область «{title}» ({area_id}) есть в кампании {other.id}, "
                                  f"но нет в {first.id}{hint}")
        scale = [(lv.id, lv.title) for lv in first.levels]
        other_scale = [(lv.id, lv.title) for lv in other.levels]
        if scale != other_scale:
            raise DqflowError(f"шкалы уровней различаются: в кампании {first.id} — {_scale(scale)}, в {other.id} — "
                              f"{_scale(other_scale)}{hint}")


def _scale(levels: list[tuple[str, str]]) -> str:
    return ", ".join(f"{lv} «{title}»" for lv, title in levels)


def _shared(found: list[Results]) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """The areas with the same id and title in every campaign, the levels with the same id in every scale,
    and what was left out (refused when nothing of one of them is shared)."""
    first = found[0].campaign
    areas = [(a.id, a.title) for a in first.areas
             if all(any(b.id == a.id and b.title == a.title for b in r.campaign.areas) for r in found[1:])]
    levels = [(lv.id, lv.title) for lv in first.levels if all(any(m.id == lv.id for m in r.campaign.levels) for r in found[1:])]
    if not areas:
        raise DqflowError("у выбранных кампаний нет общих областей качества (с одинаковыми id и названием); сравнивать нечего")
    if not levels:
        raise DqflowError("у выбранных кампаний нет общих уровней качества (с одинаковыми id); сравнивать нечего")
    kept_areas, kept_levels = {a for a, _ in areas}, {lv for lv, _ in levels}
    left_out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for results in found:
        for a in results.campaign.areas:
            if a.id not in kept_areas and (a.id, "area") not in seen:
                seen.add((a.id, "area"))
                left_out.append(f"область «{a.title}» ({a.id}, кампания {results.campaign.id})")
        for lv in results.campaign.levels:
            if lv.id not in kept_levels and (lv.id, "level") not in seen:
                seen.add((lv.id, "level"))
                left_out.append(f"уровень «{lv.title}» ({lv.id}, кампания {results.campaign.id})")
    return areas, levels, left_out


def html(region: Region) -> str:
    """The regional справка as one HTML page (templates/region.html), in Russian."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from dqflow.results import words

    env = Environment(loader=PackageLoader("dqflow.results", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("region.html").render(g=region, percent=words.percent, share=_share)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def csv_files(region: Region) -> dict[str, str]:
    """File name → CSV text (ids as `status --json` gives them), every cell through the one CSV writer's guard:
    participation.csv, levels.csv (scope: a campaign id or «region»), below_base.csv, agreement.csv."""
    from dqflow.present import csvfile

    participation = [[m.id, m.title, m.institutions, f.stage.id, f.stage.label, f.expected, f.handed_in, f.on_time,
                      f.counts.get("late", 0)] for m in region.municipalities for f in m.stages]
    levels = [[scope, area, level, count]
              for scope, distribution in [*((m.id, m.distribution) for m in region.municipalities), ("region", region.distribution)]
              for area, by_level in distribution.items() for level, count in by_level.items()]
    below = [[m.id, m.title, inst.institution.id, inst.institution.name, ";".join(areas)]
             for m in region.municipalities for inst, areas in m.below_base]
    agreement = [[m.id, area, agreed, compared] for m in region.municipalities for area, (agreed, compared) in m.agreement.items()]
    return {
        "participation.csv": csvfile.text(["campaign", "title", "institutions", "stage", "stage_label", "expected", "handed_in",
                                           "on_time", "late"], participation),
        "levels.csv": csvfile.text(["scope", "area", "level", "institutions"], levels),
        "below_base.csv": csvfile.text(["campaign", "title", "institution", "name", "areas"], below),
        "agreement.csv": csvfile.text(["campaign", "area", "agreed", "compared"], agreement),
    }
