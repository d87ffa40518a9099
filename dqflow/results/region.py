"""The regional справка: several municipal campaigns of one database merged into one picture (issue 22, parts 4–5).

`compute` reads every campaign's figures in one pass: a fixed number of GROUP BYs keyed by campaign, whatever the number
of municipalities and the size of their rosters (a region of 40 × 300 ДОУ is a few statements, not 40 runs of
`figures.compute`). It asks the справка's own definitions instead of re-deriving them: a ДОУ's status in a stage as
`status` says it (`rules.status_at_sql`), a stage's expected, handed-in and on-time ДОУ (`coverage.StageFigures`), a
ДОУ's level in an area (`region_levels.CampaignLevels`, the keyed form of the справка's level SQL), the base level
(`Campaign.base_level`), the experts' agreement (two or more levels of one ДОУ, stage and area, all the same).

A municipality is one campaign, named by its title. Campaigns are compared only on one set of areas and one
scale of levels: with different areas (by id and title) or levels (by id and title, in order) `compute` refuses
with one line naming what differs, unless `common` is set, when it keeps the areas with the same id and title
in every campaign and the levels with the same id in every scale (a ДОУ's level outside them is not counted).

Levels by indicator: where every campaign's experts review per indicator (`Campaign.reviews_by_indicator`) with the
same indicator ids (in the same order), each municipality's and the region's final levels per indicator are counted,
as the справка по показателям counts them (`results.indicators`: each campaign's `FinalsSql` final levels at each ДОУ's
latest review stage with a review): one statement, a UNION ALL of each campaign's GROUP BY. With `common`, the
indicator ids every campaign shares are compared. Else (a campaign reviewed per area, different indicators, none
shared) nothing is counted and `Region.indicators_note` says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow import engine
from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.engine.rules import Status
from dqflow.errors import DqflowError
from dqflow.results import indicators as indicator_figures
from dqflow.results.coverage import StageFigures
from dqflow.results.region_levels import CampaignLevels
from dqflow.store import InstitutionRow, ProgressRow, StageRow, table

__all__ = ["Municipality", "Region", "compute"]

_PROGRESS = table(ProgressRow)
_INSTITUTION = table(InstitutionRow)
_STAGE = table(StageRow)
REGION = "Регион"  # the region's own line beside its municipalities' (tables, sheets)


@dataclass
class Municipality:
    campaign: spec.Campaign
    institutions: int  # ДОУ in the campaign (withdrawn ones included), as the справка counts them
    stages: list[StageFigures]  # its form-filling stages (actor: institution), as the справка counts them
    distribution: dict[str, dict[str, int]]  # area → level → ДОУ (the compared areas and levels only)
    below_base: list[tuple[spec.Institution, list[str]]]  # ДОУ with some compared area at or below the base level
    agreement: dict[str, tuple[int, int]]  # area → (agreed, compared), as the справка counts them
    indicator_distribution: dict[str, dict[str, int]] = field(default_factory=dict)  # indicator → level → ДОУ (compared only)

    @property
    def id(self) -> str:
        return self.campaign.id

    @property
    def title(self) -> str:
        return self.campaign.title

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
    indicators: list[tuple[str, str, str]] = field(default_factory=list)  # (id, title, area title) compared, first campaign's order
    indicators_note: str = ""  # why levels by indicator are not compared (empty when they are)

    @property
    def indicator_distribution(self) -> dict[str, dict[str, int]]:
        """indicator → level → ДОУ of the whole region."""
        return {ind: {lv: sum(m.indicator_distribution[ind][lv] for m in self.municipalities) for lv, _ in self.levels}
                for ind, _, _ in self.indicators}

    @property
    def distribution(self) -> dict[str, dict[str, int]]:
        """area → level → ДОУ of the whole region."""
        return {a: {lv: sum(m.distribution[a][lv] for m in self.municipalities) for lv, _ in self.levels} for a, _ in self.areas}

    def indicator_scopes(self) -> list[tuple[str, dict[str, dict[str, int]]]]:
        """(title, indicator → level → ДОУ) of each municipality, then of the region."""
        return [*((m.title, m.indicator_distribution) for m in self.municipalities), (REGION, self.indicator_distribution)]

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

    def level_title(self, level_id: str) -> str:
        return dict(self.levels).get(level_id, level_id)

    def when(self, instant: datetime | None) -> str:
        return show(instant, self.tz) if instant else "—"

    @property
    def zone(self) -> str:
        return zone_label(self.tz, self.now)


def compute(session: Session, campaign_ids: list[str], now: datetime, *, common: bool = False) -> Region:
    """The regional figures of the campaigns (at least one; an unknown id is refused with the loaded ones listed) as of
    `now`, refused when their areas or scales differ and not `common`. Call it in a session that is rolled back.

    Each campaign's definition is read (its digest and text); then the figures of all of them in five statements: the
    stages' stored states, the ДОУ counted per campaign, the form-filling stages' statuses at `now` counted per campaign,
    stage and status, the levels counted per campaign, area and level with the ДОУ at or below the base level, and the
    experts' agreement counted per campaign and area."""
    if not campaign_ids:
        raise DqflowError("не выбрано ни одной кампании; укажите --campaign ID")
    campaigns = [engine.definition(session, campaign_id) for campaign_id in dict.fromkeys(campaign_ids)]
    _one_year(campaigns)
    if common:
        areas, levels, left_out = _shared(campaigns)
    else:
        _same(campaigns)
        areas = [(a.id, a.title) for a in campaigns[0].areas]
        levels = [(lv.id, lv.title) for lv in campaigns[0].levels]
        left_out = []
    area_ids, level_ids = [a for a, _ in areas], [lv for lv, _ in levels]
    ids = [c.id for c in campaigns]
    own = {c.id: [s for s in c.stages if s.per_institution and s.actor == "institution"] for c in campaigns}
    stages = _stages(session, campaigns, own, now)
    i = _INSTITUTION.c
    totals = {cid: int(n) for cid, n in session.execute(sa_select(i.campaign_id, func.count()).where(i.campaign_id.in_(ids))
                                                        .group_by(i.campaign_id))}
    keyed = CampaignLevels(campaigns)
    distribution = {cid: {a: {lv: 0 for lv in level_ids} for a in area_ids} for cid in ids}
    below: dict[str, list[tuple[spec.Institution, list[str]]]] = {cid: [] for cid in ids}
    agreement = {cid: {a: (0, 0) for a in area_ids} for cid in ids}
    if keyed.usable and area_ids:
        _levels(session, keyed, campaigns, area_ids, distribution, below)
        _agreement(session, keyed, area_ids, agreement)
    indicators, note = _compared_indicators(campaigns, common)
    by_indicator = {cid: {ind: {lv: 0 for lv in level_ids} for ind, _, _ in indicators} for cid in ids}
    if indicators and level_ids:
        _indicator_levels(session, campaigns, [ind for ind, _, _ in indicators], by_indicator)
    municipalities = [Municipality(c, totals.get(c.id, 0), stages[c.id], distribution[c.id], below[c.id], agreement[c.id], by_indicator[c.id])
                      for c in campaigns]
    return Region(municipalities, areas, levels, common, left_out, now, campaigns[0].tz, indicators, note)


def _compared_indicators(campaigns: list[spec.Campaign], common: bool) -> tuple[list[tuple[str, str, str]], str]:
    """The indicators compared (id, title, area title; the first campaign's), or none and why, in one Russian sentence."""
    no = "Уровни по показателям не сравниваются: "
    by_area = [c.id for c in campaigns if not c.reviews_by_indicator]
    if by_area:
        return [], (no + f"в кампании {', '.join(by_area)} эксперты оценивают области, а не показатели "
                         "(показатели оцениваются, только если в кампании есть показатели и этап с формой мониторинга).")
    first = campaigns[0]
    mine = list(first.indicators)
    if common:
        shared = [ind for ind in mine if all(ind in c.indicators for c in campaigns[1:])]
        if not shared:
            return [], no + "у выбранных кампаний нет общих показателей (с одинаковыми id)."
    else:
        for other in campaigns[1:]:
            theirs = list(other.indicators)
            if theirs != mine:
                missing = next((i for i in mine if i not in other.indicators), None)
                extra = next((i for i in theirs if i not in first.indicators), None)
                what = (f"показатель {missing} есть в кампании {first.id}, но нет в {other.id}" if missing else
                        f"показатель {extra} есть в кампании {other.id}, но нет в {first.id}" if extra else
                        f"показатели кампаний {first.id} и {other.id} идут в разном порядке")
                return [], no + f"показатели кампаний различаются ({what}); сравните по общим показателям с --common."
        shared = mine
    return [(ind, first.indicators[ind][1].title, first.indicators[ind][0].title) for ind in shared], ""


def _indicator_levels(session: Session, campaigns: list[spec.Campaign], indicator_ids: list[str],
                      found: dict[str, dict[str, dict[str, int]]]) -> None:
    """The ДОУ at each final level of each compared indicator per campaign: each campaign's final levels at each ДОУ's
    latest review stage with a review, as the справка по показателям reads them (`indicators.IndicatorSql`: `FinalsSql.finals`
    joined to the latest stage), grouped, in one UNION ALL — one statement whatever the rosters."""
    parts = []
    for campaign in campaigns:
        sql = indicator_figures.IndicatorSql(campaign)
        if not sql.stages:
            continue
        done = sql.latest_finals()
        parts.append(sa_select(literal(campaign.id).label("camp"), done.c.indicator, done.c.final, func.count().label("n"))
                     .where(done.c.indicator.in_(indicator_ids), done.c.final.is_not(None))
                     .group_by(done.c.indicator, done.c.final))
    if not parts:
        return
    scales = {c.id: [lv.id for lv in c.levels] for c in campaigns}
    for cid, ind, place, n in session.execute(union_all(*parts)):
        scale = scales[cid]
        if place is None or not 0 <= int(place) < len(scale):
            continue
        level = scale[int(place)]
        if ind in found[cid] and level in found[cid][ind]:
            found[cid][ind][level] += int(n)


def _stages(session: Session, campaigns: list[spec.Campaign], own: dict[str, list[spec.Stage]],
            now: datetime) -> dict[str, list[StageFigures]]:
    """Each campaign's form-filling stages with their state and their ДОУ counted by status at `now` (`status_at_sql`:
    what `status` counts), every status named with its zero as `status` names them: two statements for all campaigns."""
    wanted = [(cid, [s.id for s in stages]) for cid, stages in own.items() if stages]
    if not wanted:
        return {cid: [] for cid in own}
    s, p = _STAGE.c, _PROGRESS.c
    stored = {(row.campaign_id, row.id): row for row in session.execute(
        sa_select(_STAGE).where(or_(*(and_(s.campaign_id == cid, s.id.in_(found)) for cid, found in wanted)))).all()}
    status = rules.status_at_sql(now).label("st")  # no review stage is counted here: no review of nothing to judge
    at = sa_select(p.campaign_id, p.stage_id, status).where(or_(*(and_(p.campaign_id == cid, p.stage_id.in_(found))
                                                                   for cid, found in wanted))).subquery()
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for cid, stage_id, st, n in session.execute(sa_select(at.c.campaign_id, at.c.stage_id, at.c.st, func.count())
                                                .group_by(at.c.campaign_id, at.c.stage_id, at.c.st)):
        counts[(cid, stage_id)][st] = int(n)
    return {cid: [StageFigures(stage, rules.stage_state_at(stored[(cid, stage.id)], now),
                               {k.value: counts[(cid, stage.id)].get(k.value, 0) for k in Status if k is not Status.NOTHING})
                  for stage in stages if (cid, stage.id) in stored]
            for cid, stages in own.items()}


def _levels(session: Session, keyed: CampaignLevels, campaigns: list[spec.Campaign], area_ids: list[str],
            distribution: dict[str, dict[str, dict[str, int]]], below: dict[str, list[tuple[spec.Institution, list[str]]]]) -> None:
    """The ДОУ at each level of each compared area per campaign (a GROUP BY), and each campaign's ДОУ with a compared
    area at or below its base level, in roster order (withdrawn ones last), with those areas in the campaign's order:
    one statement, the levels computed once for both (a UNION ALL over the materialized levels); one more for each
    campaign whose experts review per indicator (`CampaignLevels.alone`)."""
    levels = ([keyed.by_institution(session)] if keyed.pooled else []) + [keyed.alone(session, cid) for cid in keyed.apart]
    found: dict[tuple[str, str], tuple[tuple[int, int, str], spec.Institution, set[str]]] = {}
    for level in levels:
        _counted(session, keyed, campaigns, area_ids, level, distribution, found)
    order = {c.id: [a.id for a in c.areas] for c in campaigns}
    for (cid, _), (_, inst, areas) in sorted(found.items(), key=lambda item: item[1][0]):  # the ДОУ as stored: no roster parsed
        below[cid].append((inst, [a for a in order[cid] if a in areas]))


def _counted(session: Session, keyed: CampaignLevels, campaigns: list[spec.Campaign], area_ids: list[str], level: Any,
             distribution: dict[str, dict[str, dict[str, int]]],
             found: dict[tuple[str, str], tuple[tuple[int, int, str], spec.Institution, set[str]]]) -> None:
    i = _INSTITUTION.c
    counted = sa_select(level.c.camp, level.c.area, level.c.rank, func.count().label("n"), null().label("inst"), null().label("name"),
                        null().label("email"), null().label("gone"), null().label("position")).group_by(level.c.camp, level.c.area, level.c.rank)
    bases = {c.id: keyed.each[c.id].ids.index(c.base_level) for c in campaigns if c.base_level and c.id in keyed.usable}
    query: Any = counted
    if bases:
        low = (sa_select(level.c.camp, level.c.area, level.c.rank, null(), level.c.inst, i.name, i.email,
                         case((i.withdrawn_at.is_(None), 0), else_=1), i.position)
               .join(_INSTITUTION, and_(i.campaign_id == level.c.camp, i.id == level.c.inst))
               .where(level.c.rank <= case(bases, value=level.c.camp, else_=-1), level.c.area.in_(area_ids)))
        query = counted.union_all(low)
    for cid, area, rank, n, inst, name, email, gone, position in session.execute(query):
        if inst is None:
            lv = keyed.level_id(cid, rank)
            if area in distribution[cid] and lv in distribution[cid][area]:
                distribution[cid][area][lv] += int(n)
        else:
            found.setdefault((cid, inst), ((gone, position, inst), spec.Institution(inst, name, email), set()))[2].add(area)


def _agreement(session: Session, keyed: CampaignLevels, area_ids: list[str], agreement: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Per campaign and compared area: the ДОУ × review stages where two or more experts gave a level, and where they all
    gave the same: one GROUP BY."""
    given = keyed.given(session)
    compared = (sa_select(given.c.camp, given.c.area, case((func.count(func.distinct(given.c.level)) == 1, 1), else_=0).label("agreed"))
                .where(given.c.area.in_(area_ids))
                .group_by(given.c.camp, given.c.inst, given.c.stage, given.c.area).having(func.count(given.c.level) >= 2).subquery())
    for cid, area, n, agreed in session.execute(sa_select(compared.c.camp, compared.c.area, func.count(), func.sum(compared.c.agreed))
                                                .group_by(compared.c.camp, compared.c.area)):
        agreement[cid][area] = (int(agreed or 0), int(n))


def _one_year(campaigns: list[spec.Campaign]) -> None:
    """Refuses, in one line, campaigns of different years (`Campaign.year`): a regional справка is one year's monitoring;
    year over year is `report --compare`."""
    years = {c.id: c.year for c in campaigns}
    if len(set(years.values())) > 1:
        listed = ", ".join(f"{cid} — {year or 'без этапов'}" for cid, year in years.items())
        raise DqflowError(f"кампании разных лет: {listed}; региональная справка сводит кампании одного года "
                          "(сравнение с прошлым годом — report --compare)")


def _same(campaigns: list[spec.Campaign]) -> None:
    """Refuses, in one line naming the first difference, campaigns whose areas or levels differ."""
    first = campaigns[0]
    for other in campaigns[1:]:
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


def _shared(campaigns: list[spec.Campaign]) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """The areas with the same id and title in every campaign, the levels with the same id in every scale,
    and what was left out (refused when nothing of one of them is shared)."""
    first = campaigns[0]
    areas = [(a.id, a.title) for a in first.areas if all(any(b.id == a.id and b.title == a.title for b in c.areas) for c in campaigns[1:])]
    levels = [(lv.id, lv.title) for lv in first.levels if all(any(m.id == lv.id for m in c.levels) for c in campaigns[1:])]
    if not areas:
        raise DqflowError("у выбранных кампаний нет общих областей качества (с одинаковыми id и названием); сравнивать нечего")
    if not levels:
        raise DqflowError("у выбранных кампаний нет общих уровней качества (с одинаковыми id); сравнивать нечего")
    kept_areas, kept_levels = {a for a, _ in areas}, {lv for lv, _ in levels}
    left_out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for campaign in campaigns:
        for a in campaign.areas:
            if a.id not in kept_areas and (a.id, "area") not in seen:
                seen.add((a.id, "area"))
                left_out.append(f"область «{a.title}» ({a.id}, кампания {campaign.id})")
        for lv in campaign.levels:
            if lv.id not in kept_levels and (lv.id, "level") not in seen:
                seen.add((lv.id, "level"))
                left_out.append(f"уровень «{lv.title}» ({lv.id}, кампания {campaign.id})")
    return areas, levels, left_out
