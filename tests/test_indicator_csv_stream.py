"""indicators.csv and the CSV folder written as streams (issue 23).

- `results.write(…, "csv", …)` streams each file into place (`csvfile.write`, 10,000 rows at a time); its bytes equal
  the whole-text writer's (`tables.files`, `csvfile.text`), and no part file is left beside them;
- the final levels' table is keyed (ДОУ, stage, indicator) on SQLite, yet the rows of every ДОУ come in `ROSTER_ORDER`
  (withdrawn ДОУ last, then position, then id; not the ids' order, which the key's would be), each ДОУ's indicators in
  the campaign's order — checked against the order computed here in Python.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from test_indicator_report import NOW, at, many

from dqflow import results, store
from dqflow.results import figures, tables
from dqflow.store import InstitutionRow, table


def test_the_streamed_folder_is_the_whole_texts_bytes(database, tmp_path: Path):
    campaign = many(database, tmp_path, 40)
    out = tmp_path / "csv"
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=False, rows=True, town=False)
        written = results.write(found, "csv", out)
        expected = {name: text.encode("utf-8") for name, text in tables.files(found).items()}
    assert {p.name for p in written} == set(expected) == {p.name for p in out.iterdir()}  # nothing else: no part file left
    for name, data in expected.items():
        assert (out / name).read_bytes() == data, name
    assert expected["indicators.csv"].count(b"\r\n") == 1 + 40 * len(campaign.indicators)


def test_the_rows_come_in_roster_order_not_the_ids(database, tmp_path: Path):
    campaign = many(database, tmp_path, 30)
    i = table(InstitutionRow).c
    with store.transaction(database) as session:  # the roster's positions reversed, one ДОУ withdrawn: ids' order is not the roster's
        session.execute(update(table(InstitutionRow)).where(i.campaign_id == campaign.id).values(position=1000 - i.position))
        gone = campaign.institutions[-1].id
        session.execute(update(table(InstitutionRow)).where(i.campaign_id == campaign.id, i.id == gone)
                        .values(withdrawn_at=at(campaign, "2021-12-01 10:00")))
        stored = session.execute(select(i.id, i.position, i.withdrawn_at).where(i.campaign_id == campaign.id)).all()
    roster = [inst for inst, _, _ in sorted(stored, key=lambda r: (r[2] is not None, r[1], r[0]))]
    assert roster != sorted(roster) and roster[-1] == gone
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, at(campaign, NOW), detail=False, rows=True, town=False)
        assert found.rows is not None
        keys = [(inst, stage, ind) for inst, _, stage, ind, *_ in found.rows.indicators()]
    expected = [(inst, "review1", ind) for inst in roster for ind in campaign.indicators]
    assert keys == expected


def test_the_writer_streams_the_texts_bytes_across_its_chunks():
    """Past a chunk (10,000 rows) and exactly at its edges: the bytes of the whole text, the header once."""
    from dqflow.present import csvfile

    for n in (0, 1, 10_000, 20_000, 25_001):
        rows = [(f"=id{k}", "Детский сад «Ромашка», №" + str(k), k, None, "-1") for k in range(n)]
        file = io.BytesIO()
        csvfile.write(file, ["id", "name", "n", "empty", "level"], iter(rows))
        assert file.getvalue() == csvfile.text(["id", "name", "n", "empty", "level"], rows).encode("utf-8"), n


CELLS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False, width=16),
                  st.sampled_from(["", " ", "a", "a,b", 'a"b', "a\nb", "a\rb", "=1+1", "-1", "+7", "@x", " =x", "Ромашка", "1", "True"]),
                  st.text(max_size=6))


@settings(max_examples=300, deadline=None)
@given(header=st.lists(CELLS, max_size=4), rows=st.lists(st.lists(CELLS, max_size=5), max_size=12), memo=st.sampled_from([1, 2, 50]))
def test_the_remembered_cells_are_the_csv_modules_bytes(header, rows, memo):
    """Each text's cell remembered per column (`csvfile._Lines`) writes what the `csv` module writes of the guarded row,
    whatever the values (a number, a bool and a text of the same spelling; ragged rows; one empty cell), however small the
    memory of each column."""
    from dqflow.present import csvfile
    from dqflow.present.guard import csv_row

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    writer.writerows(map(csv_row, rows))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "MEMO", memo)
        assert csvfile.text(header, rows) == buffer.getvalue()
        file = io.BytesIO()
        csvfile.write(file, header, iter(rows))
    assert file.getvalue() == buffer.getvalue().encode("utf-8")
