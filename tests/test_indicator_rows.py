"""The справка по показателям's rows of every ДОУ streamed from SQL (issue 23): `rows.Rows.indicators`, what the sheet
«Показатели по ДОУ» and indicators.csv read as they are written, without `IndicatorTable`.

- the streamed rows equal the rows `IndicatorTable` holds (what a ДОУ's section shows) on random own levels, hand-ins,
  experts' levels (some off the scale) and settlements, however few expert columns are remembered (hypothesis);
- a comparison's previous year computed in the same session leaves this year's rows as they were (its final levels
  are a temporary table of their own);
- the CSV and the workbook send the same statements at 15 and 1,500 ДОУ, and hold no `IndicatorTable`;
- the workbook read back with openpyxl equals the figures: «Показатели» the town's rows, «Показатели по ДОУ» every
  row, and indicators.csv the same rows.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import counting_statements
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from test_indicator_report import LEVELS, NOW, at, many, settle, small  # noqa: F401  (a fixture)

from dqflow import store
from dqflow.engine.rules import Status
from dqflow.results import dynamics, excel, figures, tables
from dqflow.results import indicators as indicator_figures
from dqflow.store import FormEntryRow, ProgressRow, ReviewLevelRow, SettlementRow, table

INSTITUTIONS = ("2", "4", "5", "6")
INDICATORS = ("1.1", "1.2", "1.3", "2.1", "2.2")
GIVEN = (*LEVELS, "9")  # "9" is on no scale: a level the rows leave out (None), as the table does
EXPERTS = ("e1", "e2", "e3")

OWN = st.lists(st.tuples(st.sampled_from(INSTITUTIONS), st.sampled_from(("fill-form", "refill")), st.sampled_from(INDICATORS),
                         st.sampled_from(GIVEN)), max_size=30)
HANDED = st.sets(st.tuples(st.sampled_from(INSTITUTIONS), st.sampled_from(("fill-form", "refill"))))
REVIEWED = st.lists(st.tuples(st.sampled_from(INSTITUTIONS), st.sampled_from(("review1", "review2")), st.sampled_from(INDICATORS),
                              st.sampled_from(EXPERTS), st.sampled_from(GIVEN)), max_size=40)
SETTLED = st.lists(st.tuples(st.sampled_from(INSTITUTIONS), st.sampled_from(("review1", "review2")), st.sampled_from(INDICATORS),
                             st.sampled_from(LEVELS)), max_size=6)


def streamed_and_held(database, campaign) -> tuple[list, list]:
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=True, rows=True)
        assert found.rows is not None and found.indicators is not None and found.indicators.table is not None
        return list(found.rows.indicators()), list(found.indicators.table.rows())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(own=OWN, handed=HANDED, reviewed=REVIEWED, settled=SETTLED, memo=st.sampled_from([1, 2, 20_000]))
def test_the_streamed_rows_equal_the_tables(database, small, own, handed, reviewed, settled, memo):
    campaign = small
    p = table(ProgressRow).c
    when = at(campaign, "2021-12-01 10:00")
    with store.transaction(database) as session:
        for t in (ReviewLevelRow, SettlementRow, FormEntryRow):
            session.execute(delete(t))
        session.execute(table(ProgressRow).update().where(p.campaign_id == campaign.id, p.stage_id.in_(("fill-form", "refill")))
                        .values(status=Status.OPEN.value))
        for inst, stage in handed:
            session.execute(table(ProgressRow).update().where(p.campaign_id == campaign.id, p.institution_id == inst, p.stage_id == stage)
                            .values(status=Status.DONE.value))
        entries = {(i, s, ind): lv for i, s, ind, lv in own}
        if entries:
            session.execute(insert(FormEntryRow), [{"campaign_id": campaign.id, "institution_id": i, "stage_id": s, "indicator_id": ind,
                                                    "level": lv, "updated_at": when} for (i, s, ind), lv in entries.items()])
        levels = {(i, s, ind, e): lv for i, s, ind, e, lv in reviewed}
        if levels:
            session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": s, "institution_id": i, "expert_id": e,
                                                      "indicator_id": ind, "level": lv} for (i, s, ind, e), lv in levels.items()])
        for (i, s, ind), lv in {(i, s, ind): lv for i, s, ind, lv in settled}.items():
            settle(session, campaign, i, s, ind, lv, when)
    with pytest.MonkeyPatch.context() as patch:  # each expert's column split once per value, however few are remembered
        patch.setattr(indicator_figures._Experts, "MEMO", memo)
        streamed, held = streamed_and_held(database, campaign)
    assert streamed == held
    assert len(streamed) == len({k[:3] for k in levels} | {(i, s, ind) for i, s, ind, _ in settled})


def test_a_previous_year_computed_in_the_same_session_leaves_this_years_rows(database, tmp_path: Path):
    """`--compare`: the previous year's figures are computed after this year's, in the same session, before the rows are
    read; each campaign's final levels are a temporary table of its own."""
    earlier = many(database, tmp_path, 12, seed=2)
    current = many(database, tmp_path, 15, seed=1)
    expected = streamed_and_held(database, current)[1]
    with store.dry_run(database) as session:
        found = figures.compute(session, current.id, at(current, NOW), detail=False, rows=True)
        dynamics.for_report(session, found, earlier.id, at(current, NOW), asked=True)
        assert found.rows is not None
        streamed = list(found.rows.indicators())
    assert streamed == expected and len(streamed) == 15 * len(current.indicators)


def test_statements_of_the_csv_and_the_workbook_equal_at_15_and_1500_dou(database, tmp_path: Path):
    seen: dict[tuple[int, str], int] = {}
    for n in (15, 1500):
        campaign = many(database, tmp_path, n)
        for fmt in ("csv", "xlsx"):
            with store.dry_run(database) as session, counting_statements(database) as statements:
                found = figures.compute(session, campaign.id, at(campaign, NOW), detail=False, rows=True, town=fmt == "xlsx")
                assert found.indicators is not None and found.indicators.table is None  # nothing held per row
                if fmt == "csv":
                    written = tables.files(found)["indicators.csv"]
                    assert written.count("\r\n") == 1 + n * len(campaign.indicators)
                else:
                    excel.render(found)
            seen[(n, fmt)] = len(statements)
    assert seen[(15, "csv")] == seen[(1500, "csv")] and seen[(15, "xlsx")] == seen[(1500, "xlsx")], seen


def test_the_workbook_and_the_csv_read_back_equal_the_figures(db_url, database, tmp_path: Path):
    campaign = many(database, tmp_path, 40)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=True, rows=True)
        data = excel.render(found)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        written = tables.files(found)["indicators.csv"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # every cell's reference names its row (a reader may go by either)
        for name in (n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")):
            for number, cells in re.findall(r'<row r="(\d+)"[^>]*>(.*?)</row>', archive.read(name).decode("utf-8")):
                assert set(re.findall(r'<c r="[A-Z]+(\d+)"', cells)) <= {number}, (name, number)
    report = found.indicators
    assert report is not None and report.table is not None
    town = list(book["Показатели"].iter_rows(values_only=True))
    assert list(town[0]) == indicator_figures.town_header(campaign)
    assert [list(r) for r in town[1:]] == indicator_figures.town_rows(report)
    titles = {ind: (i.title, a.title) for ind, (a, i) in campaign.indicators.items()}

    def number(level):
        return None if level is None else int(level)

    expected = [(inst, name, found.stage_label(stage), ind, *titles[ind], number(own), found.expert_name(e1) if e1 else None, number(l1),
                 found.expert_name(e2) if e2 else None, number(l2), number(fin))
                for inst, name, stage, ind, own, e1, l1, e2, l2, fin in report.table.rows()]
    per = list(book["Показатели по ДОУ"].iter_rows(values_only=True))
    assert per[1:] == expected and len(expected) == 40 * len(campaign.indicators)
    read = [tuple(v or None for v in row.values()) for row in csv.DictReader(io.StringIO(written))]
    assert read == list(report.table.rows())


@pytest.mark.parametrize("limit", [7, "all"])
def test_the_streamed_sheet_continues_on_the_next_at_the_limit(database, tmp_path: Path, monkeypatch, limit):
    """Past a sheet's limit the rows go on in «… 2» (and «… 3»); exactly at it no empty sheet follows."""
    campaign = many(database, tmp_path, 2)
    total = 2 * len(campaign.indicators)
    limit = total if limit == "all" else limit
    monkeypatch.setattr(excel, "SHEET_ROWS", limit)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), rows=True)
        book = openpyxl.load_workbook(io.BytesIO(excel.render(found)), read_only=True)
    names = [n for n in book.sheetnames if n.startswith("Показатели по")]
    rows = [r for n in names for r in list(book[n].iter_rows(values_only=True))[1:]]
    assert len(names) == -(-total // limit) and len(rows) == total
    assert [r[0] for r in rows] == ["1"] * len(campaign.indicators) + ["2"] * len(campaign.indicators)
