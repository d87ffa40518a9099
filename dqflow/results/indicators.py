"""The справка по показателям, where experts review per indicator (`Campaign.reviews_by_indicator`): set-based SQL.

For the town, per indicator, over each ДОУ's latest review stage with a review (the stage its area levels come from,
`levels.Levels`): the distribution of final levels (`engine.finals`), the share at or above the base level
(`Campaign.base_level`), the ДОУ below it (a count and the first `town.ATTENTION` in roster order), the gap between
the ДОУ's own level (its self-assessment in the version the review read: `engine.form.reviewed_versions`) and the final
level (the mean signed difference in places on the scale, and how many rated themselves higher, the same, lower), and
the experts' agreement (the share of ДОУ where two or more experts gave it the same level).

Per ДОУ, every review stage it has levels in: each indicator's self / expert 1 / expert 2 (by their ids) / final level,
one SELECT ordered as the roster (`rows_query`). The XLSX sheet «Показатели по ДОУ» and `indicators.csv` read it as they
are written (`rows.Rows.indicators`, 5,000 rows at a time, `plain_rows`): nothing held per row. A ДОУ's section or page
reads it held as small integers (`IndicatorTable`, `compute(rows=True)`).

Every figure is a GROUP BY or one SELECT whatever the roster (the cost is counted in tests/test_spravka_scale.py and
tests/test_indicator_report.py at 15 and 1,500 ДОУ).
"""

from __future__ import annotations

import hashlib
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, column, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy import table as sa_table
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.engine import finals, form
from dqflow.engine.rules import Status
from dqflow.store import ROSTER_ORDER, FormEntryRow, InstitutionRow, ProgressRow, ReviewRow, one_snapshot, table

_ENTRY = table(FormEntryRow)
_PROGRESS = table(ProgressRow)
_REVIEW = table(ReviewRow)
_INSTITUTION = table(InstitutionRow)
HANDED_IN = tuple(s.value for s in Status if s.submitted)  # a form version handed in (`Status.submitted`)
NONE = -1  # no level, in `IndicatorTable`'s integer columns


@dataclass
class IndicatorFigures:
    """One indicator across the town (each ДОУ's latest review stage with a review)."""

    area: spec.Area
    indicator: spec.Indicator
    distribution: dict[str, int]  # level id → ДОУ with that final level (every level of the scale, zeros included)
    pending: int = 0  # ДОУ with experts' levels and no final one yet (disputed under `settle: coordinator`)
    at_or_above: int = 0  # ДОУ whose final level is at or above the base level
    below: int = 0  # ДОУ whose final level is below the base level
    gap_sum: int = 0  # Σ (own place − final place) over the ДОУ with both
    gap_count: int = 0
    higher: int = 0  # ДОУ that rated themselves higher than the final level
    same: int = 0
    lower: int = 0
    agreed: int = 0  # ДОУ where two or more experts gave the same level
    compared: int = 0  # ДОУ where two or more experts gave a level

    @property
    def rated(self) -> int:
        """ДОУ with a final level."""
        return sum(self.distribution.values())

    @property
    def share_at_or_above(self) -> float | None:
        return self.at_or_above / self.rated if self.rated else None

    @property
    def gap(self) -> float | None:
        """The mean signed difference, in places on the scale, of the ДОУ's own level over the final (positive: rated
        itself higher than the experts' final level)."""
        return self.gap_sum / self.gap_count if self.gap_count else None

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass
class IndicatorTable:
    """Each ДОУ × review stage × indicator with a level: own / expert 1 / expert 2 / final, as places on the scale and
    indexes into `institutions`, `stages`, `indicators` and `experts` (small integers, `NONE` for none), roster order."""

    campaign: spec.Campaign
    institutions: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    experts: list[str] = field(default_factory=list)
    columns: tuple[array, ...] = field(default_factory=lambda: tuple(array("i") for _ in range(9)))
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # ДОУ id → its rows' range

    def __len__(self) -> int:
        return len(self.columns[0])

    def level(self, place: int) -> str | None:
        return self.campaign.levels[place].id if 0 <= place < len(self.campaign.levels) else None

    def rows(self, institution_id: str | None = None) -> Iterator[tuple[str, str, str, str, str | None, str | None, str | None,
                                                                        str | None, str | None, str | None]]:
        """(ДОУ id, name, stage id, indicator id, own, expert 1 id, expert 1's level, expert 2 id, expert 2's level, final)
        — level ids or None — of every row, or of one ДОУ's."""
        stages = [s.id for s in self.campaign.stages]
        indicators = list(self.campaign.indicators)
        start, end = self.spans.get(institution_id, (0, 0)) if institution_id is not None else (0, len(self))
        inst, stage, ind, own, e1, l1, e2, l2, fin = self.columns
        for n in range(start, end):
            inst_id, name = self.institutions[inst[n]]
            yield (inst_id, name, stages[stage[n]], indicators[ind[n]], self.level(own[n]),
                   self.experts[e1[n]] if e1[n] != NONE else None, self.level(l1[n]),
                   self.experts[e2[n]] if e2[n] != NONE else None, self.level(l2[n]), self.level(fin[n]))

    def by_stage(self, institution_id: str) -> list[tuple[str, list[tuple[str, str | None, str | None, str | None, str | None]]]]:
        """One ДОУ's rows by review stage: (stage id, [(indicator, own, expert 1, expert 2, final)])."""
        found: dict[str, list[tuple[str, str | None, str | None, str | None, str | None]]] = defaultdict(list)
        for _, _, stage, ind, own, _, l1, _, l2, fin in self.rows(institution_id):
            found[stage].append((ind, own, l1, l2, fin))
        return list(found.items())


@dataclass
class IndicatorReport:
    campaign: spec.Campaign
    base_level: str | None
    figures: list[IndicatorFigures]
    below: list[tuple[spec.Institution, list[str]]]  # the first `ATTENTION` ДОУ with an indicator below base, with those
    below_total: int  # ДОУ with an indicator below the base level, in all
    table: IndicatorTable | None = None  # each ДОУ's rows (`compute(rows=True)`)


FINALS_TABLE = "dqflow_finals"  # the final levels of one `compute`, a temporary table of its rolled-back session (per campaign)


def materialize(session: Session, campaign: spec.Campaign, *, experts: bool = False) -> Any:
    """The campaign's final indicator levels (`finals.FinalsSql.finals`, with the experts' columns when `experts`) made
    once into a temporary table of the session's connection, so that every figure reads 1 row per ДОУ × stage ×
    indicator instead of aggregating the experts' levels again (a national roster: 3 million rows to 1.5 million).
    Temporary and inside the caller's transaction, which `compute`'s callers roll back: nothing of the campaign is
    written. Three statements (four on PostgreSQL, which is given the table's statistics). Named for the campaign: a
    comparison's previous year, computed in the same session, makes its own beside this one, which `Results.rows` reads
    after it (each ДОУ's rows, `rows_query`).
    On SQLite the table is keyed by (ДОУ, stage, indicator), which its GROUP BY gives in order: the town's figures look
    each ДОУ's latest stage up by that key instead of making an automatic index of 1.5 million rows first.
    Where the campaign's final levels are kept current (`finals.stored`, issue 23), those are read instead, nothing
    computed (they carry the experts' columns whatever `experts` says): in place (one read of their state) where the
    session's statements read one snapshot (`store.one_snapshot`: SQLite's, the справка's on PostgreSQL); otherwise,
    each statement seeing its own, copied into the temporary table by one statement that checks them too
    (`finals.checked`: none copied unless current, and then computed as before)."""
    name = f"{FINALS_TABLE}_{hashlib.sha256(campaign.id.encode()).hexdigest()[:12]}"
    if one_snapshot(session):  # the caller's statements read one snapshot (`store.dry_run`): the kept levels in place
        kept = finals.stored(session, campaign)
        if kept is not None:
            return kept.subquery("kept_finals")
    elif campaign.reviews_by_indicator:  # each statement its own snapshot (PostgreSQL): the kept levels copied at once
        copied = temporary(session, name, finals.checked(campaign), finals.FINAL_COLUMNS)
        if session.execute(sa_select(literal(1)).select_from(copied).limit(1)).first() is not None:
            return copied
    names = ["inst", "stage", "indicator", "low", "high", "given", "settled", "final", *(["first", "last"] if experts else [])]
    return temporary(session, name, finals.FinalsSql(campaign).finals(experts=experts), names, key=("inst", "stage", "indicator"))


def temporary(session: Session, name: str, query: Any, names: list[str], key: tuple[str, ...] = ()) -> Any:
    """`query`'s rows made into the temporary table `name` of the session's connection (replacing one left by an earlier
    `compute` in the same transaction), given its statistics on PostgreSQL: a table to select from. `key`: on SQLite the
    table's primary key (a table without rowid: what joins it by those columns looks rows up instead of indexing it)."""
    bind = session.get_bind()
    text = query.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    if key and bind.dialect.name == "sqlite":
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({', '.join(names)}, PRIMARY KEY ({', '.join(key)})) WITHOUT ROWID")
        connection.exec_driver_sql(f"INSERT INTO {name} ({', '.join(names)}) {text}")
    else:
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS {text}")
    if bind.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {name}")
    return sa_table(name, *(column(n) for n in names))


class IndicatorSql:
    """The SQL of the report: the final levels (`finals.FinalsSql`), each ДОУ's latest review stage with a review, its
    own levels in the version each review stage read, each expert's level as columns."""

    def __init__(self, campaign: spec.Campaign, source: Any = None):
        self.campaign = campaign
        self.stages = [s.id for s in finals.review_stages(campaign)]
        self.rules = finals.FinalsSql(campaign, self.stages)
        self.forms = [s.id for s in campaign.stages]
        self.source = source  # the materialized final levels (`materialize`), else computed in each statement

    def finals(self, experts: bool = False) -> Any:
        if self.source is not None:
            return sa_select(self.source).subquery("final")
        return self.rules.finals(experts=experts).subquery("final")

    def order(self, stage: Any) -> Any:
        return case({sid: n for n, sid in enumerate(self.stages)}, value=stage, else_=-1)

    def latest(self) -> Any:
        r = _REVIEW.c
        return (sa_select(r.institution_id.label("inst"), func.max(self.order(r.stage_id)).label("ord"))
                .where(r.campaign_id == self.campaign.id, r.stage_id.in_(self.stages)).group_by(r.institution_id).subquery("latest"))

    def latest_finals(self) -> Any:
        """(inst, indicator, final) of each ДОУ's final levels in its latest review stage with a review — what the справка
        по показателям, the region and the dynamics count (`final` a place on the scale, NULL while none)."""
        latest, done = self.latest(), self.finals()
        return (sa_select(done.c.inst, done.c.indicator, done.c.final)
                .join(latest, and_(latest.c.inst == done.c.inst, latest.c.ord == self.order(done.c.stage))).subquery("latest_finals"))

    def with_own(self, source: Any, keys: Any) -> tuple[Any, Any]:
        """`source` joined to the ДОУ's own level of each row's (inst, stage, indicator) — `keys`' columns — in the version
        each review stage read: per review stage, the latest of its form stages (`form.reviewed_versions`) the ДОУ handed
        in; (the join, the own level's place, NULL where none). The entry is read by its key (campaign, ДОУ, stage,
        indicator): one index lookup a row, no scan of the forms."""
        p, e = _PROGRESS.c, _ENTRY.c
        position = case({sid: n for n, sid in enumerate(self.forms)}, value=p.stage_id, else_=-1)
        chosen = [sa_select(p.institution_id.label("inst"), literal(stage).label("stage"), func.max(position).label("version"))
                  .where(p.campaign_id == self.campaign.id, p.stage_id.in_(versions), p.status.in_(HANDED_IN))
                  .group_by(p.institution_id)
                  for stage in self.stages if (versions := form.reviewed_versions(self.campaign, stage))]
        if not chosen:
            return source, literal(None)
        picked = union_all(*chosen).subquery("version")
        version = sa_select(picked.c.inst, picked.c.stage, case({n: sid for n, sid in enumerate(self.forms)}, value=picked.c.version)
                            .label("form_stage")).subquery("version_stage")
        joined = (source.outerjoin(version, and_(version.c.inst == keys.inst, version.c.stage == keys.stage))
                  .outerjoin(_ENTRY, and_(e.campaign_id == self.campaign.id, e.institution_id == version.c.inst,
                                          e.stage_id == version.c.form_stage, e.indicator_id == keys.indicator)))
        return joined, self.rules.place(e.level)


def compute(session: Session, campaign: spec.Campaign, *, town: bool = True, rows: bool = False, attention: int = 50,
            source: Any = None) -> IndicatorReport:
    """The справка по показателям (see the module): a fixed number of statements whatever the roster. `source`: the final
    levels `materialize` made (with the experts' columns when `rows`)."""
    sql = IndicatorSql(campaign, source)
    base = campaign.base_level
    scale = [lv.id for lv in campaign.levels]
    report = IndicatorReport(campaign, base, [], [], 0)
    if town:
        report.figures, report.below, report.below_total = _town(session, sql, base, scale, attention)
    if rows:
        report.table = _table(session, sql)
    return report


def _town(session: Session, sql: IndicatorSql, base: str | None, scale: list[str],
          attention: int) -> tuple[list[IndicatorFigures], list[tuple[spec.Institution, list[str]]], int]:
    campaign = sql.campaign
    figures = {ind_id: IndicatorFigures(area, ind, {lv: 0 for lv in scale}) for ind_id, (area, ind) in campaign.indicators.items()}
    if not (sql.stages and scale):
        return list(figures.values()), [], 0
    at_latest = _at_latest(session, sql)
    f = at_latest.c
    joined, own_place = sql.with_own(at_latest, f)
    diff = own_place - f.final
    both = and_(own_place.is_not(None), f.final.is_not(None))
    two = f.given >= 2
    query = (sa_select(f.indicator, f.final, func.count(),
                       func.sum(case((two, 1), else_=0)), func.sum(case((and_(two, f.low == f.high), 1), else_=0)),
                       func.sum(case((both, diff), else_=0)), func.sum(case((both, 1), else_=0)),
                       func.sum(case((and_(both, diff > 0), 1), else_=0)), func.sum(case((and_(both, diff == 0), 1), else_=0)),
                       func.sum(case((and_(both, diff < 0), 1), else_=0)))
             .select_from(joined).group_by(f.indicator, f.final))
    base_place = scale.index(base) if base in scale else None
    for ind, place, n, compared, agreed, gap_sum, gap_n, higher, same, lower in session.execute(query):
        mine = figures.get(ind)
        if mine is None:
            continue
        n = int(n)
        if place is None or not 0 <= place < len(scale):
            mine.pending += n
        else:
            mine.distribution[scale[place]] += n
            if base_place is not None:
                if place >= base_place:
                    mine.at_or_above += n
                else:
                    mine.below += n
        mine.compared += int(compared or 0)
        mine.agreed += int(agreed or 0)
        mine.gap_sum += int(gap_sum or 0)
        mine.gap_count += int(gap_n or 0)
        mine.higher += int(higher or 0)
        mine.same += int(same or 0)
        mine.lower += int(lower or 0)
    if base_place is None or not any(fig.below for fig in figures.values()):
        return list(figures.values()), [], 0
    return list(figures.values()), *_below(session, sql, at_latest, base_place, attention)


AT_LATEST_TABLE = "dqflow_at_latest"  # `_at_latest`'s rows on PostgreSQL, a temporary table like `FINALS_TABLE`


def _at_latest(session: Session, sql: IndicatorSql) -> Any:
    """The final levels (`IndicatorSql.finals`' columns) of each ДОУ's latest review stage with a review: what the town's
    figures and the ДОУ below the base level count. On PostgreSQL made once into a temporary table with its statistics
    (two statements more): the planner cannot estimate a join on the stage's order (a CASE beside a max), guessed a
    two-hundredth of the rows (7,564 for 1.5 million at 50,000 ДОУ × 30) and looked each row's own level up in a nested
    loop; from the table it knows the rows and joins the own levels by hash. SQLite plans the subquery as well as the table."""
    latest, done = sql.latest(), sql.finals()
    query = sa_select(done).join(latest, and_(latest.c.inst == done.c.inst, latest.c.ord == sql.order(done.c.stage)))
    if session.get_bind().dialect.name != "postgresql":
        return query.subquery("at_latest")
    return temporary(session, AT_LATEST_TABLE, query, list(query.selected_columns.keys())).alias("at_latest")


def _below(session: Session, sql: IndicatorSql, at_latest: Any, base_place: int,
           attention: int) -> tuple[list[tuple[spec.Institution, list[str]]], int]:
    """The first `attention` ДОУ (roster order, withdrawn last) with an indicator below the base level, with those
    indicators, and how many there are: two SELECTs."""
    campaign = sql.campaign
    f, i = at_latest.c, _INSTITUTION.c
    low = f.final < base_place
    lows = sa_select(f.inst).where(low).distinct().subquery("lows")
    total = int(session.execute(sa_select(func.count()).select_from(lows)).scalar_one())
    first = (sa_select(i.id, i.name, i.email, i.position, i.withdrawn_at.is_not(None).label("gone"))
             .join(lows, lows.c.inst == i.id).where(i.campaign_id == campaign.id)
             .order_by(*ROSTER_ORDER).limit(attention).subquery("first"))
    found: dict[str, list[str]] = defaultdict(list)
    named: dict[str, tuple[str, str]] = {}
    for inst, name, email, indicator in session.execute(
            sa_select(first.c.id, first.c.name, first.c.email, f.indicator).join(at_latest, f.inst == first.c.id).where(low)
            .order_by(first.c.gone, first.c.position, first.c.id)):
        named.setdefault(inst, (name, email))
        found[inst].append(indicator)
    known = {inst.id: inst for inst in campaign.institutions}
    order = list(campaign.indicators)
    return ([(known.get(inst) or spec.Institution(inst, name, email), [ind for ind in order if ind in found[inst]])
             for inst, (name, email) in named.items()], total)


ROSTER_TABLE = "dqflow_roster"  # the roster in its order, a temporary table like `FINALS_TABLE` (SQLite, `roster`)


def roster(session: Session, campaign: spec.Campaign) -> Any | None:
    """On SQLite, the campaign's ДОУ (n, inst, name) in `ROSTER_ORDER` (n from 1) made into a temporary table keyed by n
    (its rowid): `rows_query` reads the ДОУ in that order and sorts only each ДОУ's rows (stage, indicator), where ordering
    the whole join by `ROSTER_ORDER` sorted all its 1.5 million rows at 50,000 ДОУ × 30 (a tenth of the SELECT's time).
    None on PostgreSQL, which sorts the join as it plans it."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    i = _INSTITUTION.c
    query = (sa_select(func.row_number().over(order_by=ROSTER_ORDER).label("n"), i.id.label("inst"), i.name.label("name"))
             .where(i.campaign_id == campaign.id))
    text = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {ROSTER_TABLE}")
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {ROSTER_TABLE} (n INTEGER PRIMARY KEY, inst, name)")
    connection.exec_driver_sql(f"INSERT INTO {ROSTER_TABLE} (n, inst, name) {text}")
    return sa_table(ROSTER_TABLE, column("n"), column("inst"), column("name"))


def rows_query(sql: IndicatorSql, *, ids: bool = False, ordered: Any = None) -> Any:
    """Each ДОУ's rows (see `IndicatorTable`): one SELECT of (ДОУ id, name, stage, indicator, own, first expert, second
    expert, final) in roster order (withdrawn ДОУ last), then review stage and indicator in the campaign's order; own and
    final as places on the scale (NULL for none), or with `ids` as level ids (`FinalsSql.level_id`); the experts as
    `finals.split_expert` reads them, the second NULL unless two or more gave a level. None when the campaign has no
    review stage or no indicator. `sql.source`: the final levels made with the experts' columns. `ordered`: the roster
    table `roster` made, read in its order instead of the ДОУ's table."""
    campaign = sql.campaign
    if not (sql.stages and campaign.indicators):
        return None
    done = sql.finals(experts=True)
    f, i = done.c, _INSTITUTION.c
    stage_index = {s.id: n for n, s in enumerate(campaign.stages)}
    indicator_index = {ind: n for n, ind in enumerate(campaign.indicators)}
    order: tuple[Any, ...]
    if ordered is None:
        name, order = i.name, ROSTER_ORDER
        joined = done.join(_INSTITUTION, and_(i.campaign_id == campaign.id, i.id == f.inst))
    else:
        name, order = ordered.c.name, (ordered.c.n,)
        joined = ordered.join(done, ordered.c.inst == f.inst)
    source, own_place = sql.with_own(joined, f)
    own, final = (sql.rules.level_id(own_place), sql.rules.level_id(f.final)) if ids else (own_place, f.final)
    return (sa_select(f.inst, name, f.stage, f.indicator, own, f.first, case((f.given > 1, f.last)), final)
            .select_from(source)
            .order_by(*order, case(stage_index, value=f.stage, else_=len(stage_index)),
                      case(indicator_index, value=f.indicator, else_=len(indicator_index))))


Row = tuple[str, str, str, str, str | None, str | None, str | None, str | None, str | None, str | None]


def plain_rows(campaign: spec.Campaign, found: Iterator[Any]) -> Iterator[Row]:
    """`rows_query(ids=True)`'s rows as `IndicatorTable.rows` gives them: (ДОУ id, name, stage id, indicator id, own,
    expert 1 id, expert 1's level, expert 2 id, expert 2's level, final), a level not on the scale as None. A row is a
    tuple made once, nothing else is kept: the workbook's sheet and `indicators.csv` read them as they are written. An
    expert's column is read once per distinct value (`_Experts`): a roster's few thousand experts give four levels."""
    said = _Experts(finals.places(campaign))
    for inst, name, stage, ind, own, first, second, fin in found:
        e1, l1 = said[first]
        e2, l2 = said[second]
        yield inst, name, stage, ind, own, e1, l1, e2, l2, fin


class _Experts(dict):
    """An expert's column (`finals.split_expert`) → (expert id, level id on the scale, else None), each asked once
    (`MEMO` remembered at most)."""

    MEMO = 20_000

    def __init__(self, places: dict[str, int]):
        super().__init__()
        self.places = places

    def __missing__(self, said: str | None) -> tuple[str | None, str | None]:
        if len(self) >= self.MEMO:
            self.clear()
        expert, level = finals.split_expert(said)
        found = self[said] = (expert, level if level and level in self.places else None)
        return found


def _table(session: Session, sql: IndicatorSql) -> IndicatorTable:
    """Each ДОУ's rows (`rows_query`) held as `IndicatorTable`'s small integers: what a ДОУ's section or page reads."""
    campaign = sql.campaign
    found = IndicatorTable(campaign)
    query = rows_query(sql)
    if query is None:
        return found
    stage_index = {s.id: n for n, s in enumerate(campaign.stages)}
    indicator_index = {ind: n for n, ind in enumerate(campaign.indicators)}
    expert_index: dict[str, int] = {}
    inst_col, stage_col, ind_col, own_col, e1_col, l1_col, e2_col, l2_col, fin_col = found.columns
    current, start = None, 0

    def place(value: Any) -> int:
        return NONE if value is None else int(value)

    def expert(value: str | None) -> int:
        if value is None:
            return NONE
        if value not in expert_index:
            expert_index[value] = len(found.experts)
            found.experts.append(value)
        return expert_index[value]

    places = {lv.id: n for n, lv in enumerate(campaign.levels)}
    for inst, name, stage, ind, mine, first, second, fin in session.execute(query):
        e1, l1 = finals.split_expert(first)
        e2, l2 = finals.split_expert(second)
        if inst != current:
            if current is not None:
                found.spans[current] = (start, len(inst_col))
            current, start = inst, len(inst_col)
            found.institutions.append((inst, name))
        inst_col.append(len(found.institutions) - 1)
        stage_col.append(stage_index[stage])
        ind_col.append(indicator_index[ind])
        own_col.append(place(mine))
        e1_col.append(expert(e1))
        l1_col.append(places.get(l1, NONE) if l1 else NONE)
        e2_col.append(expert(e2))
        l2_col.append(places.get(l2, NONE) if l2 else NONE)
        fin_col.append(place(fin))
    if current is not None:
        found.spans[current] = (start, len(inst_col))
    return found



# -- what every face of the справка shows (HTML, XLSX, DOCX, Markdown read these) ------------------------------------

DOU_HEADER = ["Показатель", "Самооценка", "Эксперт 1", "Эксперт 2", "Итоговый уровень"]
NOTE = ("Итоговый уровень показателя — уровень, установленный координатором при расхождении экспертов, иначе общий уровень "
        "экспертов, а при расхождении — по правилу кампании; уровень области — по итоговым уровням её показателей. "
        "Берётся последняя экспертиза, по которой есть оценки. Самооценка — уровень, указанный {nom} в сданной форме, которую читали эксперты; "
        "разница «самооценка − итог» — в ступенях шкалы (плюс: самооценка выше итога). Согласие экспертов — доля {gen_pl}, "
        "где два эксперта (и более) дали показателю один уровень.")


def town_header(campaign: spec.Campaign) -> list[str]:
    t = campaign.terms
    return ["Показатель", "Название", "Область", *[lv.title for lv in campaign.levels], "Без итогового уровня",
            "Базовый уровень и выше, %", "Ниже базового", "Самооценка − итог, ступеней", "Самооценка выше итога",
            "Совпала", "Ниже итога", "Согласие экспертов, %", f"Сравнений ({t.gen_pl})"]


def town_rows(report: IndicatorReport) -> list[list[Any]]:
    """Each indicator's line (shares as fractions, the gap as a number, None where there is none)."""
    levels = [lv.id for lv in report.campaign.levels]
    return [[f.indicator.id, f.indicator.title, f.area.title, *[f.distribution.get(lv, 0) for lv in levels], f.pending,
             f.share_at_or_above, f.below, None if f.gap is None else round(f.gap, 2), f.higher, f.same, f.lower, f.agreement,
             f.compared] for f in report.figures]


def gap_text(gap: float | None) -> str:
    """«+0,50», «−1,00», «0,00»; «—» for none."""
    if gap is None:
        return "—"
    return ("+" if gap > 0 else "−" if gap < 0 else "") + f"{abs(gap):.2f}".replace(".", ",")


def level_text(level: str | None) -> str:
    return level if level else "—"


def document_table(report: IndicatorReport, percent: Any) -> tuple[list[str], list[list[str]]]:
    """The town's table as a document shows it (DOCX, Markdown): counts, `percent(share)`, the gap's text."""
    header = ["Показатель", *[lv.title for lv in report.campaign.levels], "Без итога", "Базовый уровень и выше", "Ниже базового уровня",
              "Самооценка − итог", "Самооценка выше / совпала / ниже", "Согласие экспертов"]
    rows = [[f"{f.indicator.id} {f.indicator.title}", *[str(f.distribution.get(lv.id, 0)) for lv in report.campaign.levels], str(f.pending),
             percent(f.share_at_or_above), str(f.below), gap_text(f.gap), f"{f.higher} / {f.same} / {f.lower}", percent(f.agreement)]
            for f in report.figures]
    return header, rows


def document_rows(report: IndicatorReport, institution_id: str) -> list[tuple[str, list[list[str]]]]:
    """One ДОУ's tables as a document shows them: (review stage id, rows under `DOU_HEADER`)."""
    if report.table is None:
        return []
    titles = {ind_id: ind.title for ind_id, (_, ind) in report.campaign.indicators.items()}
    return [(stage, [[f"{ind} {titles.get(ind, '')}", level_text(own), level_text(e1), level_text(e2), level_text(fin)]
                     for ind, own, e1, e2, fin in rows]) for stage, rows in report.table.by_stage(institution_id)]


def below_lines(report: IndicatorReport) -> list[tuple[spec.Institution, str]]:
    """The ДОУ below the base level the summary names, each with its indicators."""
    return [(inst, ", ".join(inds)) for inst, inds in report.below]
