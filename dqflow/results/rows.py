"""Every ДОУ of the справка as plain rows, read from the database as a table of them is written: the workbook's
sheets of the ДОУ, of their hand-ins and of their experts' reviews, the CSV folder's institutions.csv and
reviews.csv (issue 23); where experts review per indicator, the sheet «Показатели по ДОУ» and indicators.csv.

Each table is one SELECT in roster order (the stored ДОУ by `ROSTER_ORDER`, each ДОУ's stages in the campaign's
order), read in chunks as it is written: no object per ДОУ, stage or review, nothing held but a chunk. Nothing is
judged here: a status is the rules' at `now` (`rules.status_at_sql`, a review of nothing said so, as `status`
says it), a review on time by `rules.on_time_sql`, a ДОУ's level per area the справка's (`levels.Levels`, read
from the table `figures.compute` made of them).

The rows are read in the session `figures.compute` ran in (`Results.rows`), so the справка is written before that
session ends: the tables are of the same state, brought forward to the same `now`, as the figures beside them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, and_, case, exists, func, literal, type_coerce, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.engine import finals, rules
from dqflow.results import indicators as indicator_rows
from dqflow.store import ROSTER_ORDER, AssignmentRow, ExtensionRow, InstitutionRow, ProgressRow, ReviewRow, SubmissionRow, table

_PROGRESS = table(ProgressRow)
_REVIEW = table(ReviewRow)
_ASSIGNMENT = table(AssignmentRow)
_INSTITUTION = table(InstitutionRow)
_SUBMISSION = table(SubmissionRow)
_EXTENSION = table(ExtensionRow)

JOINED_UP_TO = 48  # stages whose rows `Rows._statuses` joins to each ДОУ (SQLite joins at most 64 tables; the workbook's table joins more)
CHUNK = 5_000  # rows fetched at a time (on PostgreSQL through a server-side cursor): a national table is never held
_MEMO = 20_000  # distinct stored values (moments, levels' JSON) remembered converted, then forgotten


class Rows:
    """The tables of every ДОУ of one campaign as of `now`, each a generator of plain tuples (see the module)."""

    def __init__(self, session: Session, campaign: spec.Campaign, now: datetime, levels: Any):
        self.session = session
        self.campaign = campaign
        self.now = now
        self.levels = levels  # `levels.Levels`: the areas, the scale and each ДОУ's level per area (`by_institution`)
        self.stages = [s.id for s in campaign.stages if s.per_institution]
        self.review_stages = finals.review_stages(campaign)
        self.status = rules.status_at_sql(now, materials=rules.reviews(campaign.stages), campaign_id=campaign.id)  # as `status` says it
        self.moment = _moments(session)

    def _stream(self, query: Any) -> Iterator[Any]:
        return iter(self.session.execute(query, execution_options={"yield_per": CHUNK}))

    def _order(self, stage: Any) -> Any:
        """A stage's place in the campaign (the order of a ДОУ's stages in every table)."""
        return case({sid: n for n, sid in enumerate(s.id for s in self.campaign.stages)}, value=stage, else_=len(self.campaign.stages))

    def institutions(self, levels: bool = True) -> Iterator[tuple[str, str, str, tuple[str | None, ...], tuple[str | None, ...], list[str]]]:
        """(id, name, address, status per stage, level per area, weak areas) of every ДОУ: a status for each of the
        campaign's stages of each ДОУ (None where the ДОУ has no row: a stage added after it was withdrawn), its level
        in each area (a level id, None where it has none) and its weak areas, those at its lowest level, in the
        campaign's order (without `levels`: no levels, no weak areas). One SELECT, a row per ДОУ."""
        i = _INSTITUTION.c
        source, statuses = self._statuses()
        columns: list[Any] = [i.id, i.name, i.email, *statuses]
        ranked = levels and self.levels.usable
        if ranked:
            level = self.levels.by_institution(self.session)
            areas = self.levels.areas
            per = (sa_select(level.c.inst, func.min(level.c.rank).label("low"),
                             *[func.min(case((level.c.area == a, level.c.rank))).label(f"a{n}") for n, a in enumerate(areas)])
                   .group_by(level.c.inst).subquery("ranks"))
            columns += [per.c.low, *[per.c[f"a{n}"] for n in range(len(areas))]]
            source = source.outerjoin(per, per.c.inst == i.id)
        query = sa_select(*columns).select_from(source).where(i.campaign_id == self.campaign.id).order_by(*ROSTER_ORDER)
        count = len(self.stages)
        for row in self._stream(query):
            found = tuple(row[3:3 + count])
            if not ranked:
                yield row[0], row[1], row[2], found, (), []
                continue
            low, ranks = row[3 + count], row[4 + count:]
            yield (row[0], row[1], row[2], found, tuple(None if r is None else self.levels.level_id(r) for r in ranks),
                   [a for a, r in zip(self.levels.areas, ranks, strict=True) if r is not None and r == low])

    def statuses(self) -> Iterator[tuple]:
        """(id, name, status per stage …) of every ДОУ, as `institutions(levels=False)` gives them, flat: institutions.csv's
        rows as the driver gives them (`_tuples`). One SELECT."""
        i = _INSTITUTION.c
        source, statuses = self._statuses()
        return self._tuples(sa_select(i.id, i.name, *statuses).select_from(source)
                            .where(i.campaign_id == self.campaign.id).order_by(*ROSTER_ORDER))

    def _statuses(self) -> tuple[Any, list[Any]]:
        """The ДОУ joined to its row of each of the campaign's stages (by the progress table's key: no GROUP BY of every
        row), and a column per stage: the rules' status of that row at `now` (`rules.status_at_sql`, a review of nothing
        judged by the stages it reviews), NULL where the ДОУ has no row (a stage added after it was withdrawn). Above
        `JOINED_UP_TO` stages (a join per stage would pass SQLite's 64 tables) the same statuses from a GROUP BY of the
        ДОУ's rows (`rules.statuses_by_stage_sql`)."""
        i = _INSTITUTION.c
        if len(self.stages) > JOINED_UP_TO:  # SQLite joins at most 64 tables: the rows turned into columns by a GROUP BY
            p = _PROGRESS.c
            pivot = (sa_select(p.institution_id.label("inst"), *[status.label(f"s{n}") for n, status in enumerate(
                rules.statuses_by_stage_sql(self.campaign.stages, self.now, self.campaign.id))])
                .where(p.campaign_id == self.campaign.id, p.stage_id.in_(self.stages)).group_by(p.institution_id).subquery("statuses"))
            return _INSTITUTION.outerjoin(pivot, pivot.c.inst == i.id), [pivot.c[f"s{n}"] for n in range(len(self.stages))]
        reviewed = rules.reviews(self.campaign.stages)
        source: Any = _INSTITUTION
        statuses = []
        for n, stage in enumerate(self.stages):
            row = _PROGRESS.alias(f"p{n}")
            source = source.outerjoin(row, and_(row.c.campaign_id == i.campaign_id, row.c.institution_id == i.id, row.c.stage_id == stage))
            statuses.append(rules.status_at_sql(self.now, row.c, materials={stage: reviewed[stage]} if stage in reviewed else None,
                                                campaign_id=self.campaign.id))
        return source, statuses

    def handed_in(self) -> Iterator[tuple[str, str, str, str, datetime | None, bool, datetime | None, list[str], list[tuple[datetime, str]]]]:
        """(ДОУ id, name, stage, status, due (as extended), extended, handed in at, links, extensions (until, reason))
        of every ДОУ's row of each of its stages: the links of its hand-ins and its extensions each in the order
        given. Three SELECTs: the hand-ins' links and the extensions (a few per ДОУ at most) read first, then the rows."""
        p, i, s, e = _PROGRESS.c, _INSTITUTION.c, _SUBMISSION.c, _EXTENSION.c
        links: dict[tuple[str, str], list[str]] = defaultdict(list)
        for inst, stage, given in self._stream(sa_select(s.institution_id, s.stage_id, s.links)
                                               .where(s.campaign_id == self.campaign.id).order_by(s.id)):
            links[(inst, stage)] += json.loads(given or "[]")
        extensions: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
        for inst, stage, until, reason in self._stream(sa_select(e.institution_id, e.stage_id, e.until, e.reason)
                                                       .where(e.campaign_id == self.campaign.id).order_by(e.id)):
            extensions[(inst, stage)].append((until, reason))
        moment = self.moment
        query = (sa_select(i.id, i.name, p.stage_id, self.status, _raw(p.due_at), p.extended, _raw(p.submitted_at))
                 .select_from(_INSTITUTION.join(_PROGRESS, and_(p.campaign_id == i.campaign_id, p.institution_id == i.id)))
                 .where(i.campaign_id == self.campaign.id, p.stage_id.in_(self.stages))
                 .order_by(*ROSTER_ORDER, self._order(p.stage_id)))
        for inst, name, stage, status, due_at, extended, submitted_at in self._stream(query):
            key = (inst, stage)
            yield inst, name, stage, status, moment(due_at), extended, moment(submitted_at), links.pop(key, []), extensions.pop(key, [])

    def reviews(self) -> Iterator[tuple[str, str, str, str, datetime | None, bool | None, tuple[str | None, ...], str | None]]:
        """(ДОУ id, name, review stage, expert, reviewed at, on time, level per area, recommendations) of every expert
        of every ДОУ in each review stage it has a row of: the experts its list assigned (by id), then those who
        reviewed it unassigned (by when); an assigned expert who did not report with None for the review's values (and no
        levels). The levels: the level id the review gave in each of the campaign's areas (None where it gave none).
        On time: by the ДОУ's effective deadline of the stage (`rules.on_time_sql`). One SELECT."""
        if not self.review_stages:
            return
        p, i, a, r = _PROGRESS.c, _INSTITUTION.c, _ASSIGNMENT.c, _REVIEW.c
        campaign_id = self.campaign.id
        listed = {s.id: s.list for s in self.review_stages if s.list}
        assigned = [sa_select(a.institution_id.label("inst"), literal(stage_id, String).label("stage"), a.expert_id.label("expert"),
                              literal(0, Integer).label("kind"))
                    .where(a.campaign_id == campaign_id, a.stage_id == list_id) for stage_id, list_id in listed.items()]
        on_list = exists().where(a.campaign_id == r.campaign_id, a.stage_id == case(listed, value=r.stage_id, else_=None),
                                 a.institution_id == r.institution_id, a.expert_id == r.expert_id) if listed else literal(False)
        unassigned = (sa_select(r.institution_id, r.stage_id, r.expert_id, literal(1, Integer))
                      .where(r.campaign_id == campaign_id, r.stage_id.in_([s.id for s in self.review_stages]), ~on_list))
        who = union_all(*assigned, unassigned).subquery("who")
        query = (sa_select(i.id, i.name, who.c.stage, who.c.expert, _raw(r.at), rules.on_time_sql(p.due_at, r.at), r.levels,
                           r.recommendations)
                 .select_from(who.join(_PROGRESS, and_(p.campaign_id == campaign_id, p.institution_id == who.c.inst,
                                                       p.stage_id == who.c.stage))
                              .join(_INSTITUTION, and_(i.campaign_id == campaign_id, i.id == who.c.inst))
                              .outerjoin(_REVIEW, and_(r.campaign_id == campaign_id, r.institution_id == who.c.inst,
                                                       r.stage_id == who.c.stage, r.expert_id == who.c.expert)))
                 .order_by(*ROSTER_ORDER, self._order(who.c.stage), who.c.kind, case((who.c.kind == 1, r.at)), who.c.expert))
        areas = self.levels.areas
        moment, by_area = self.moment, _Memo(lambda text: tuple(_parsed(text).get(a) for a in areas))
        for inst, name, stage, expert, at, on_time, levels, text in self._stream(query):
            if at is None:
                yield inst, name, stage, expert, None, None, (), None
            else:
                yield inst, name, stage, expert, moment(at), bool(on_time), by_area(levels), text

    def indicators(self) -> Iterator[indicator_rows.Row]:
        """(ДОУ id, name, review stage, indicator, own, expert 1, expert 1's level, expert 2, expert 2's level, final) of
        every ДОУ × review stage × indicator with a level, in roster order, then the stage's and the indicator's place in
        the campaign (`indicators.rows_query`): the справка по показателям's sheet «Показатели по ДОУ» and indicators.csv.
        The final levels are those `figures.compute` made (`indicators.materialize`, with the experts' columns), the own
        level the version each review read (`IndicatorSql.with_own`), levels as their ids. One SELECT."""
        if not self.campaign.reviews_by_indicator:
            return iter(())
        sql = indicator_rows.IndicatorSql(self.campaign, self.levels.source)
        query = indicator_rows.rows_query(sql, ids=True, ordered=indicator_rows.roster(self.session, self.campaign))
        return iter(()) if query is None else indicator_rows.plain_rows(self.campaign, self._tuples(query))

    def _tuples(self, query: Any) -> Iterator[tuple]:
        """`query`'s rows as the driver gives them, `CHUNK` at a time: on SQLite its own cursor's tuples (a national
        table's 1.5 million rows without a result row object each), elsewhere `_stream`'s rows (a server-side cursor)."""
        connection = self.session.connection()
        if connection.dialect.name != "sqlite":
            return self._stream(query)
        driver = connection.connection.driver_connection
        assert driver is not None, "a connection the session holds"
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        return _fetched(driver.cursor(), sql, connection.dialect)

    def levels_given(self) -> Iterator[tuple[str, str, str, tuple[tuple[str, Any], ...]]]:
        """(ДОУ id, review stage, expert, (area, level) of each level it gave) of every review of a review stage, by ДОУ
        in roster order, stage, then when given; its levels in the campaign's order of areas, then any other key the
        review holds, in its order: one SELECT."""
        if not self.review_stages:
            return
        i, r = _INSTITUTION.c, _REVIEW.c
        query = (sa_select(r.institution_id, r.stage_id, r.expert_id, r.levels)
                 .select_from(_REVIEW.join(_INSTITUTION, and_(i.campaign_id == r.campaign_id, i.id == r.institution_id)))
                 .where(r.campaign_id == self.campaign.id, r.stage_id.in_([s.id for s in self.review_stages]))
                 .order_by(*ROSTER_ORDER, self._order(r.stage_id), r.at, r.expert_id))
        areas = self.levels.areas

        def pairs(text: str | None) -> tuple[tuple[str, Any], ...]:
            given = _parsed(text)
            return tuple((a, given[a]) for a in [*(a for a in areas if a in given), *(a for a in given if a not in areas)])
        given = _Memo(pairs)
        for inst, stage, expert, levels in self._tuples(query):
            yield inst, stage, expert, given(levels)


def _fetched(cursor: Any, sql: str, dialect: Any) -> Iterator[tuple]:
    """`sql`'s rows from the driver's `cursor`, `CHUNK` at a time; the cursor closed however the reading ends. The
    driver's error is raised as SQLAlchemy raises it (`DBAPIError`), so that the command says it as it says any other
    error of the database (a locked file, a full disk) instead of a traceback."""
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(CHUNK):
            yield from chunk
    except dialect.dbapi.Error as failed:
        raise DBAPIError.instance(sql, None, failed, dialect.dbapi.Error, dialect=dialect) from failed
    finally:
        cursor.close()


def _raw(column: Any) -> Any:
    """A moment's column as the driver gives it (SQLite: text), converted by `_moments` once per distinct value."""
    return type_coerce(column, String)


def _moments(session: Session) -> _Memo:
    """A stored moment as the store reads it (aware, UTC: the column type's own conversion), made once per distinct
    stored value: a roster shares its deadlines."""
    dialect = session.get_bind().dialect
    convert = _PROGRESS.c.due_at.type.dialect_impl(dialect).result_processor(dialect, None) or (lambda value: value)
    return _Memo(lambda stored: None if stored is None else convert(stored))


class _Memo(dict):
    """`convert` of a stored value (a review's levels' JSON: a national roster's reviews repeat a few hundred), made
    once per distinct value and shared: read it, never change it."""

    def __init__(self, convert: Any):
        super().__init__()
        self.convert = convert

    def __call__(self, stored: Any) -> Any:
        found = self.get(stored)
        if found is None:
            if len(self) >= _MEMO:
                self.clear()
            found = self[stored] = self.convert(stored)
        return found


def _parsed(text: str | None) -> dict[str, Any]:
    return json.loads(text or "{}")
