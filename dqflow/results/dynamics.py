"""Dynamics: this year's справка beside last year's (issue 22, part 2). One computation (`for_report` → `Dynamics`) that every
format renders: the tables here (`town_rows`, `timeliness_rows`, `institution_rows`, `followup_rows`, `notes`, `sheet_rows`,
`csv_text`) are what the HTML, DOCX, MD, XLSX and CSV writers show. Read from two computed справки (`figures.Results`: the
town's levels are its GROUP BYs, each ДОУ's its set-based reads), the relation of their ДОУ (`engine.lineage`) and, by
indicator, the final indicator levels in SQL (`engine.finals`): nothing here recomputes a level or a status.

- Levels by area, for each ДОУ of this year and for the town, over the areas both campaigns have (by id). A change is
  counted in steps of the scale (+1: one level higher) when both campaigns use the same scale (the same level ids in the
  same order); with different scales the levels stand side by side and the change is left empty.
- By indicator: the same, where both campaigns review by indicator (`Campaign.reviews_by_indicator`) with the same
  indicator ids; a ДОУ's level of an indicator is its final level (`engine.finals`) in its latest review stage with one.
- A ДОУ new this year is marked as new (`new`), never shown as a fall from nothing; a ДОУ of both years without a level
  last year (or this year) in an area has no change there. The ДОУ of last year not in this year's roster, and this
  year's ДОУ withdrawn by an amendment, are listed (not compared).
- The town's level in an area (or an indicator) is the mean position of the ДОУ's levels on the scale (1 = the lowest),
  over the ДОУ with a level; the distribution of levels is given for both years.
- Timeliness: for each ДОУ stage both campaigns have (by id), the share handed in on time (`StageFigures.on_time_rate`)
  last year and this year (and the share handed in at all, `StageFigures.coverage`, which the published site shows); a
  stage of this year with no stage of that id last year is named as not compared.
- Follow-ups: last year's recommendations to a ДОУ, in the areas they addressed (`Results.recommendations_by_area`: the
  areas its review rated at or below the base level), beside its levels there this year.

Each ДОУ's part is read only when the справка shows each ДОУ (`Results.detailed`): a summary alone compares the town.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow import engine
from dqflow.campaign import spec
from dqflow.campaign.terms import Terms
from dqflow.engine import lineage as lineages
from dqflow.engine.lineage import Lineage, Member
from dqflow.errors import DqflowError
from dqflow.present import csvfile
from dqflow.results import words
from dqflow.results.figures import Results, compute
from dqflow.results.indicators import IndicatorSql

NEW = "new"  # dynamics.csv's `previous` of a ДОУ new this year
NEW_RU = "новое в этом году"
TITLE = "Динамика по сравнению с прошлым годом"


@dataclass(frozen=True)
class LevelChange:
    institution_id: str
    name: str
    area: str
    previous: str | None  # last year's level id (None: none there, or the ДОУ is new)
    current: str | None
    change: int | None  # steps of the scale, when both levels are known and the scales are the same
    new: bool = False  # the ДОУ is new this year
    indicator: str | None = None  # an indicator's row (`area` is then the indicator's area)


@dataclass(frozen=True)
class AreaChange:
    area: str
    previous_mean: float | None  # the mean position on the scale (1 = the lowest) of the ДОУ with a level
    current_mean: float | None
    previous_counts: dict[str, int]  # level id → ДОУ
    current_counts: dict[str, int]
    indicator: str | None = None  # the town's row of an indicator (`area` is then the indicator's area)
    comparable: bool = True  # the same scale both years

    @property
    def change(self) -> float | None:
        if self.previous_mean is None or self.current_mean is None or not self.comparable:
            return None
        return round(self.current_mean - self.previous_mean, 2)


@dataclass(frozen=True)
class StageChange:
    stage: str
    label: str
    previous: float | None  # share on time
    current: float | None
    previous_handed_in: float | None = None  # share handed in, on time or late (`StageFigures.coverage`)
    current_handed_in: float | None = None

    @property
    def change(self) -> int | None:
        """In percentage points, as the shares are shown (rounded to whole per cent)."""
        return _points(self.previous, self.current)

    @property
    def handed_in_change(self) -> int | None:
        return _points(self.previous_handed_in, self.current_handed_in)


def _points(previous: float | None, current: float | None) -> int | None:
    if previous is None or current is None:
        return None
    return round(current * 100) - round(previous * 100)


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
    current: spec.Campaign
    previous: spec.Campaign
    followups: tuple[Followup, ...] = ()
    indicators: tuple[str, ...] = ()  # the indicators compared (both campaigns review by them, with the same ids)
    indicator_institutions: tuple[LevelChange, ...] = ()
    indicator_town: tuple[AreaChange, ...] = ()
    indicators_note: str = ""  # why indicators are not compared (empty when they are, or neither campaign has any)
    stages_not_compared: tuple[str, ...] = ()  # this year's ДОУ stages (labels) with no stage of that id last year
    withdrawn: tuple[Member, ...] = ()  # this year's ДОУ an amendment withdrew (not compared)
    detailed: bool = True  # each ДОУ was compared (`Results.detailed`)
    # each ДОУ's rows, follow-ups and whether it is new, looked up per ДОУ as a section or a page is rendered
    _by_institution: dict[str, list[LevelChange]] = field(default_factory=dict, repr=False, compare=False)
    _followups: dict[str, list[Followup]] = field(default_factory=dict, repr=False, compare=False)
    _new: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        for row in (*self.institutions, *self.indicator_institutions):
            self._by_institution.setdefault(row.institution_id, []).append(row)
        for followup in self.followups:
            self._followups.setdefault(followup.institution_id, []).append(followup)
        self._new.update(m.id for m in self.lineage.appeared)

    @property
    def new(self) -> tuple[Member, ...]:
        return self.lineage.appeared

    @property
    def gone(self) -> tuple[Member, ...]:
        """Last year's ДОУ not in this year's roster."""
        return self.lineage.disappeared

    def is_new(self, institution_id: str) -> bool:
        return institution_id in self._new

    def of(self, institution_id: str) -> list[LevelChange]:
        """One ДОУ's rows: by area, then by indicator."""
        return self._by_institution.get(institution_id, [])

    def followups_of(self, institution_id: str) -> list[Followup]:
        return self._followups.get(institution_id, [])


def compare(current: Results, previous: Results, lineage: Lineage, *,
            indicator_levels: tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]] | None = None,
            indicators_note: str = "", withdrawn: tuple[Member, ...] = ()) -> Dynamics:
    """This year's figures beside last year's (see the module). `indicator_levels`: (this year's, last year's) ДОУ →
    indicator → final level, when indicators are compared (`final_indicator_levels`)."""
    scale = [lv.id for lv in current.campaign.levels]
    same_scale = bool(scale) and scale == [lv.id for lv in previous.campaign.levels]
    position = {lv: n + 1 for n, lv in enumerate(scale)}
    before_positions = {lv.id: n + 1 for n, lv in enumerate(previous.campaign.levels)}
    areas = tuple(a for a in current.area_ids if a in set(previous.area_ids))
    last_year = {i.institution.id: i.levels for i in previous.institutions}
    previous_of = lineage.previous_of()
    gone_now = {m.id for m in withdrawn}
    here = [i for i in current.institutions if i.institution.id not in gone_now]
    rows = _changes([(i.institution.id, i.institution.name, i.levels) for i in here], last_year, previous_of,
                    [(a, None) for a in areas], position, same_scale)
    before_counts, now_counts = previous.distribution(), current.distribution()
    town = tuple(AreaChange(area, _mean(before_counts.get(area, {}), before_positions), _mean(now_counts.get(area, {}), position),
                            before_counts.get(area, {}), now_counts.get(area, {}), comparable=same_scale) for area in areas)
    last_stages = {f.stage.id: f for f in previous.stages if f.stage.per_institution}
    timeliness = tuple(StageChange(f.stage.id, f.stage.label, last_stages[f.stage.id].on_time_rate, f.on_time_rate,
                                   last_stages[f.stage.id].coverage, f.coverage)
                       for f in current.stages if f.stage.per_institution and f.stage.id in last_stages)
    unmatched = tuple(f.stage.label for f in current.stages if f.stage.per_institution and f.stage.id not in last_stages)
    indicators: tuple[str, ...] = ()
    indicator_rows: list[LevelChange] = []
    indicator_town: tuple[AreaChange, ...] = ()
    if indicator_levels is not None:
        now_levels, then_levels = indicator_levels
        known = current.campaign.indicators
        indicators = tuple(known)
        pairs: list[tuple[str, str | None]] = [(ind, known[ind][0].id) for ind in indicators]
        names = {i.institution.id: i.institution.name for i in here}
        if current.detailed:
            indicator_rows = _changes([(inst, name, now_levels.get(inst, {})) for inst, name in names.items()], then_levels,
                                      previous_of, pairs, position, same_scale)
        indicator_town = tuple(AreaChange(area or "", _mean(_counts(then_levels, ind), before_positions), _mean(_counts(now_levels, ind), position),
                                          _counts(then_levels, ind), _counts(now_levels, ind), ind, same_scale) for ind, area in pairs)
    return Dynamics(previous.campaign.id, current.campaign.id, same_scale, areas, tuple(rows), town, timeliness, lineage,
                    current.campaign, previous.campaign, _followups(previous, rows, previous_of, areas), indicators,
                    tuple(indicator_rows), indicator_town, indicators_note, unmatched, withdrawn, current.detailed)


def _changes(institutions: list[tuple[str, str, dict[str, str]]], last_year: dict[str, dict[str, str]], previous_of: dict[str, str],
             keys: list[tuple[str, str | None]], position: dict[str, int], same_scale: bool) -> list[LevelChange]:
    """A row per ДОУ and key: `keys` are (area, None) or (indicator, its area); levels are keyed by area or indicator."""
    rows = []
    for inst, name, levels in institutions:
        before_id = previous_of.get(inst)
        before = last_year.get(before_id, {}) if before_id is not None else {}
        for key, area in keys:
            now_level, then_level = levels.get(key), before.get(key)
            change = (position[now_level] - position[then_level]
                      if same_scale and now_level in position and then_level in position else None)
            rows.append(LevelChange(inst, name, area or key, then_level, now_level, change, before_id is None,
                                    key if area is not None else None))
    return rows


def _counts(levels: dict[str, dict[str, str]], indicator: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for mine in levels.values():
        if indicator in mine:
            found[mine[indicator]] = found.get(mine[indicator], 0) + 1
    return found


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
    campaign the file names is not loaded; a campaign asked for with --compare that is not there is refused. Last year's
    ДОУ are read one by one only when this year's are (`Results.detailed`)."""
    if previous_id is None or previous_id == current.campaign.id:
        if asked:
            raise DqflowError(f"--compare {previous_id}: это сама кампания; укажите кампанию прошлого года (список — dqflow campaigns)")
        return None
    if not lineages.loaded(session, previous_id):
        if asked:
            raise DqflowError(f"--compare {previous_id}: такой кампании нет в базе данных; список загруженных — dqflow campaigns")
        return None
    previous = compute(session, previous_id, now, detail=current.detailed)
    withdrawn = tuple(Member(row.id, row.name, row.inn) for row in engine.withdrawn(session, current.campaign.id))
    note, indicator_levels = _indicators(session, current.campaign, previous.campaign)
    return compare(current, previous, lineages.between(session, current.campaign.id, previous_id),
                   indicator_levels=indicator_levels, indicators_note=note, withdrawn=withdrawn)


def _indicators(session: Session, current: spec.Campaign, previous: spec.Campaign
                ) -> tuple[str, tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]] | None]:
    """(why not, (this year's, last year's) final indicator levels): indicators are compared where both campaigns review by
    indicator with the same indicator ids."""
    if not (current.reviews_by_indicator or previous.reviews_by_indicator):
        return "", None
    if not (current.reviews_by_indicator and previous.reviews_by_indicator):
        return "по показателям не сравнивается: оценки по показателям есть только в одной из кампаний", None
    if set(current.indicators) != set(previous.indicators):
        return "по показателям не сравнивается: у кампаний разные показатели (сравниваются области)", None
    return "", (final_indicator_levels(session, current), final_indicator_levels(session, previous))


def final_indicator_levels(session: Session, campaign: spec.Campaign) -> dict[str, dict[str, str]]:
    """ДОУ → indicator → its final level (`engine.finals`: settled, agreed or by `settle:`) in the ДОУ's latest review stage
    with a review, as the справка по показателям counts it (`indicators.IndicatorSql.latest_finals`): one SELECT."""
    rows = IndicatorSql(campaign).latest_finals()
    scale = [lv.id for lv in campaign.levels]
    found: dict[str, dict[str, str]] = {}
    for inst, indicator, place in session.execute(sa_select(rows.c.inst, rows.c.indicator, rows.c.final).where(rows.c.final.is_not(None))):
        if 0 <= place < len(scale):
            found.setdefault(inst, {})[indicator] = scale[place]
    return found


def _mean(counts: dict[str, int], position: dict[str, int]) -> float | None:
    n = sum(c for lv, c in counts.items() if lv in position)
    return round(sum(position[lv] * c for lv, c in counts.items() if lv in position) / n, 2) if n else None


# -- what every format shows --------------------------------------------------------------------------------------------

PREVIOUS, CURRENT, CHANGE = "Прошлый год", "Этот год", "Изменение"


def number(value: float | None, *, signed: bool = False) -> str:
    """A mean position as people write it: «2,33», a change «+0,33» (a minus sign «−»); «—» for none."""
    if value is None:
        return "—"
    text = f"{abs(value) if signed else value:.2f}".replace(".", ",")
    return (("+" if value > 0 else "−" if value < 0 else "") + text) if signed else text


def steps(change: int | None) -> str:
    """A change in steps of the scale: «+1», «−1», «0»; empty for none."""
    if change is None:
        return ""
    return f"+{change}" if change > 0 else f"−{-change}" if change < 0 else "0"


def points(change: int | None) -> str:
    if change is None:
        return "—"
    return (f"+{change}" if change > 0 else f"−{-change}" if change < 0 else "0") + "\u00a0п.\u00a0п."


def level_text(d: Dynamics, level: str | None, *, last_year: bool = False) -> str:
    campaign = d.previous if last_year else d.current
    if level is None:
        return "—"
    title = next((lv.title for lv in campaign.levels if lv.id == level), level)
    return title if title == level else f"{level} — {title}"


def area_title(d: Dynamics, area: str) -> str:
    return next((a.title for a in d.current.areas if a.id == area), area)


def indicator_title(d: Dynamics, indicator: str) -> str:
    found = d.current.indicators.get(indicator)
    return f"{indicator} {found[1].title}" if found else indicator


def campaign_line(d: Dynamics) -> str:
    return f"Сравнение с кампанией «{d.previous.title}» ({d.previous_id}): прошлый год — её итоги, этот год — итоги этой справки."


def scale_note(d: Dynamics) -> str:
    """How the town's mean level reads."""
    if not d.same_scale:
        return "Шкалы уровней кампаний различаются: уровни приведены рядом, изменение не вычисляется."
    levels = d.current.levels
    ends = f" (1 — «{levels[0].title}», {len(levels)} — «{levels[-1].title}»)" if levels else ""
    return (f"Средний уровень — среднее мест уровней на шкале{ends} по тем, у кого есть оценка; изменение — разность средних. "
            "Изменение уровня — на сколько ступеней шкалы он выше (+) или ниже (−) прошлогоднего.")


def notes(d: Dynamics) -> list[str]:
    """What was not compared, and why: stages without a stage of the same id last year, indicators."""
    said = []
    if d.stages_not_compared:
        said.append("Не сравниваются (в прошлом году не было этапа с тем же идентификатором): " + ", ".join(d.stages_not_compared) + ".")
    if d.indicators_note:
        said.append(f"Уровни {d.indicators_note}.".replace("Уровни по показателям", "По показателям"))
    return said


def town_rows(d: Dynamics) -> tuple[list[str], list[list[str]]]:
    header = ["Область качества", f"{PREVIOUS}: средний уровень", f"{CURRENT}: средний уровень", CHANGE]
    return header, [[area_title(d, a.area), number(a.previous_mean), number(a.current_mean), number(a.change, signed=True)]
                    for a in d.town]


def indicator_town_rows(d: Dynamics) -> tuple[list[str], list[list[str]]]:
    header = ["Показатель", f"{PREVIOUS}: средний уровень", f"{CURRENT}: средний уровень", CHANGE]
    return header, [[indicator_title(d, a.indicator or ""), number(a.previous_mean), number(a.current_mean), number(a.change, signed=True)]
                    for a in d.indicator_town]


def timeliness_rows(d: Dynamics) -> tuple[list[str], list[list[str]]]:
    header = ["Этап", f"{PREVIOUS}: доля в срок", f"{CURRENT}: доля в срок", CHANGE]
    return header, [[s.label, words.percent(s.previous), words.percent(s.current), points(s.change)] for s in d.timeliness]


def participation_rows(d: Dynamics) -> tuple[list[str], list[list[str]]]:
    """The share of the ДОУ expected at a stage that handed it in (on time or late), last year and this year."""
    header = ["Этап", f"{PREVIOUS}: доля сдавших", f"{CURRENT}: доля сдавших", CHANGE]
    return header, [[s.label, words.percent(s.previous_handed_in), words.percent(s.current_handed_in), points(s.handed_in_change)]
                    for s in d.timeliness]


def institution_rows(d: Dynamics, institution_id: str) -> tuple[list[str], list[list[str]]]:
    """One ДОУ's levels by area (then by indicator) beside last year's; a ДОУ new this year has «новое в этом году» for
    last year and no change."""
    header = ["Область качества / показатель", PREVIOUS, CURRENT, CHANGE]
    rows = [[indicator_title(d, r.indicator) if r.indicator else area_title(d, r.area),
             NEW_RU if r.new else level_text(d, r.previous, last_year=True), level_text(d, r.current), steps(r.change)]
            for r in d.of(institution_id)]
    return header, rows


def followup_rows(d: Dynamics, institution_id: str) -> tuple[list[str], list[list[str]]]:
    header = ["Область качества", "Рекомендации прошлого года", f"Уровень: {PREVIOUS.lower()}", f"Уровень: {CURRENT.lower()}", CHANGE]
    return header, [[area_title(d, f.area), "\n".join(f.recommendations), level_text(d, f.level.previous, last_year=True),
                     level_text(d, f.level.current), steps(f.level.change)] for f in d.followups_of(institution_id)]


def roster_lines(d: Dynamics, terms: Terms) -> list[str]:
    """The ДОУ new this year, those of last year not in this year's roster, those withdrawn this year: one line each kind."""
    said = []
    if d.new:
        said.append(f"{NEW_RU.capitalize()} ({len(d.new)}): " + ", ".join(m.name for m in d.new) + " — сравнивать не с чем.")
    if d.gone:
        said.append(f"Были в прошлом году, в этом году не участвуют ({len(d.gone)}): " + ", ".join(m.name for m in d.gone) + ".")
    if d.withdrawn:
        said.append(f"Выбыли в ходе этой кампании ({len(d.withdrawn)}): " + ", ".join(m.name for m in d.withdrawn) + " — не сравниваются.")
    if not d.detailed:
        said.append(f"Динамика каждого {terms.gen} — на его странице в папке справки (dqflow report --format html --out ПАПКА), "
                    "в XLSX (лист «Динамика») и в CSV (dynamics.csv).")
    return said


def sheet_rows(d: Dynamics) -> tuple[list[str], list[list[object]]]:
    """The XLSX sheet «Динамика»: one table of every comparison, typed: the town by area and indicator (mean positions),
    the stages' timeliness (shares on time in whole per cent, as the other formats round them; the change in percentage
    points), then each ДОУ by area and indicator (levels, the change in steps of the scale)."""
    header = ["Раздел", "Код", "Название", "Область / этап", "Показатель", PREVIOUS, CURRENT, CHANGE, "Примечание"]
    rows: list[list[object]] = []
    for a in (*d.town, *d.indicator_town):
        rows.append(["Город: средний уровень", "", "", area_title(d, a.area), a.indicator or "", a.previous_mean, a.current_mean,
                     a.change, ""])
    for s in d.timeliness:
        rows.append([TIMELY, "", "", s.label, "", _percent(s.previous), _percent(s.current), s.change, ""])
    for label in d.stages_not_compared:
        rows.append([TIMELY, "", "", label, "", None, None, None, "не сравнивается: этапа с тем же идентификатором не было в прошлом году"])
    for r in (*d.institutions, *d.indicator_institutions):
        rows.append(["Уровень", r.institution_id, r.name, area_title(d, r.area), r.indicator or "",
                     None if r.new else _typed(r.previous), _typed(r.current), r.change, NEW_RU if r.new else ""])
    return header, rows


TIMELY = "Доля сдавших в срок, %"


def _percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def _typed(level: str | None) -> object:
    """A level id that is a number is stored as one (as the other sheets store levels)."""
    if level is None:
        return None
    return int(level) if level.isdigit() else level


def csv_text(dynamics: Dynamics) -> str:
    """dynamics.csv: a row per ДОУ of this year and area (levels as ids; `previous` is `new` for a ДОУ new this year), then
    a row per area for the town (`institution` empty; the mean positions on the scale); by indicator the same rows with the
    indicator in its column (`area` its area)."""
    rows: list[list[object]] = [[r.institution_id, r.name, r.area, r.indicator or "", NEW if r.new else (r.previous or ""),
                                 r.current or "", "" if r.change is None else r.change]
                                for r in (*dynamics.institutions, *dynamics.indicator_institutions)]
    rows += [["", "", a.area, a.indicator or "", _number(a.previous_mean), _number(a.current_mean), _number(a.change)]
             for a in (*dynamics.town, *dynamics.indicator_town)]
    return csvfile.text(["institution", "name", "area", "indicator", "previous", "current", "change"], rows)


def _number(value: float | None) -> Decimal | str:
    """A mean to two places, as a number: a fall (-0.50) is a number in the CSV, not text the formula guard marks."""
    return "" if value is None else Decimal(f"{value:.2f}")
