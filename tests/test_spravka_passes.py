"""The справка по показателям in fewer passes (issue 23): what it computes and writes, on SQLite and PostgreSQL.

- the справка asks `engine.status` without the count of disputed indicators (`awaiting=False`: a GROUP BY over every
  expert's level that no face of the справка shows), which `status` itself still counts;
- the town's gap between self-assessment and final (`indicators._town`'s GROUP BY) equals the count of each ДОУ's own
  and final level read row by row (`IndicatorTable`);
- the sheet «Показатели по ДОУ» made from its columns' remembered markup (`sheetdata.Plain`) is the same workbook as the
  one made cell by cell.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from conftest import counting_statements
from sqlalchemy import delete
from test_indicator_report import NOW, at, many

from dqflow import engine, store
from dqflow.results import excel, figures, sheetdata
from dqflow.store import FormEntryRow, table

DISPUTES = "HAVING count(distinct(review_level.level))"  # `engine.finals.disputed_sql`'s mark in its statement


def test_the_spravka_does_not_count_disputes_status_does(database, tmp_path: Path):
    campaign = many(database, tmp_path, 20)
    now = at(campaign, NOW)
    with store.dry_run(database) as session, counting_statements(database) as statements:
        view = engine.status(session, campaign.id, now)
    assert any(DISPUTES in s for s in statements) and "review1" in view.awaiting_settlement
    with store.dry_run(database) as session, counting_statements(database) as statements:
        found = figures.compute(session, campaign.id, now, detail=False)
    assert found.indicators is not None and found.indicators.figures
    assert not any(DISPUTES in s for s in statements)


def test_the_gap_equals_each_rows_own_and_final(database, tmp_path: Path):
    campaign = many(database, tmp_path, 120, seed=7)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=True)
    report = found.indicators
    assert report is not None and report.table is not None
    places = {lv.id: n for n, lv in enumerate(campaign.levels)}
    sums: dict[str, Counter] = defaultdict(Counter)
    for _, _, stage, ind, own, _, _, _, _, fin in report.table.rows():
        assert stage == "review1"  # the only review stage with levels: each ДОУ's latest
        if own is None or fin is None:
            continue
        diff = places[own] - places[fin]
        mine = sums[ind]
        mine["sum"] += diff
        mine["count"] += 1
        mine["higher" if diff > 0 else "same" if diff == 0 else "lower"] += 1
    assert sum(m["count"] for m in sums.values()) > 1000 and all(m["higher"] and m["same"] and m["lower"] for m in sums.values())
    for f in report.figures:
        mine = sums[f.indicator.id]
        assert (f.gap_sum, f.gap_count, f.higher, f.same, f.lower) == (mine["sum"], mine["count"], mine["higher"], mine["same"],
                                                                        mine["lower"]), f.indicator.id


def test_remembered_rows_make_the_same_workbook(database, tmp_path: Path, monkeypatch):
    campaign = many(database, tmp_path, 60, seed=3)
    middle = list(campaign.indicators)[2]  # not a ДОУ's first row (whose name is new: never remembered whole)
    with store.transaction(database) as session:  # no own level (an empty cell) in some rows
        e = table(FormEntryRow).c
        session.execute(delete(table(FormEntryRow)).where(e.campaign_id == campaign.id, e.indicator_id == middle))
    learned = []
    real_learn = sheetdata.Plain.learn

    def learn(self, i, value):
        learned.append(i)
        return real_learn(self, i, value)
    monkeypatch.setattr(sheetdata.Plain, "learn", learn)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=False, rows=True)
        fast = excel.render(found)
    rows = 60 * len(campaign.indicators)
    slow_rows = len(learned) / 10  # a row not remembered whole learns each of its 10 stored values
    assert 0 < slow_rows < rows / 2  # most rows were remembered whole (a ДОУ's first row has a new name: cell by cell)
    real_rows = excel._indicator_rows

    def converted(results):  # the same rows as the plan's cells, written cell by cell (`sheetdata.Cells.row`)
        header, stored, plan = real_rows(results)
        return header, ([v for ask, value in zip(plan, row, strict=True) for v in ask(value)] for row in stored), None
    monkeypatch.setattr(excel, "_indicator_rows", converted)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=False, rows=True)
        slow = excel.render(found)

    def sheets(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return {name: book.read(name) for name in book.namelist()}
    assert sheets(fast) == sheets(slow)
