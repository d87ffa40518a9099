"""The CSV folder's cheaper rows (issue 23: `report --format csv` at 50,000 ДОУ), the same bytes as before.

- `csvfile.Grouped`: rows given as groups that share their first cells (reviews.csv: a review's ДОУ, stage and expert)
  are written as the `csv` module writes those rows one by one, whatever the values (numbers, bools and texts of the same
  spelling, lists, empty tails, one-cell rows), the same tails object again or an equal one of other types, however
  small the writer's memory;
- `Rows.statuses` (institutions.csv, each ДОУ's row of each stage joined by key) gives every ДОУ's status per stage as
  `status` says it, at any moment of the replayed Tomsk campaign (reviews of nothing included), in roster order, and
  what `Rows.institutions(levels=False)` gives; reviews.csv is each review's levels in the order `levels_given` says.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io

import pytest
from conftest import TOMSK, Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_results import sim  # noqa: F401  (fixture: the Tomsk campaign replayed per backend)
from test_spravka_scale import MOMENTS, replayed  # noqa: F401  (fixture: its engine)

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.present import csvfile
from dqflow.present.guard import csv_row
from dqflow.results import figures, tables

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", " ", "1", "True", "a,b", 'a"b', "a\nb", "=1", "-1", "x"]),
                   st.text(max_size=4))
TAILS = st.lists(st.lists(VALUES, max_size=3).map(tuple), max_size=4).map(tuple)


def by_the_csv_module(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    writer.writerows(map(csv_row, rows))
    return buffer.getvalue()


@settings(max_examples=400, deadline=None)
@given(groups=st.lists(st.tuples(st.lists(VALUES, max_size=3).map(tuple), st.integers(0, 3), TAILS), max_size=10),
       shared_tails=st.lists(TAILS, min_size=1, max_size=3), as_lists=st.booleans(), memo=st.sampled_from([1, 2, 50]))
def test_grouped_rows_are_the_csv_modules_bytes_of_the_rows(groups, shared_tails, as_lists, memo):
    """Some groups share one tails object (as `levels_given`'s remembered levels do), others bring their own."""
    made = [(list(shared) if as_lists else shared, shared_tails[pick % len(shared_tails)] if pick else tails)
            for shared, pick, tails in groups]
    rows = [[*shared, *tail] for shared, tails in made for tail in tails]
    header = ["a", "b", "c"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "MEMO", memo)
        assert csvfile.text(header, csvfile.Grouped(made)) == by_the_csv_module(header, rows)
        file = io.BytesIO()
        csvfile.write(file, header, csvfile.Grouped(iter(made)))
    assert file.getvalue() == by_the_csv_module(header, rows).encode("utf-8")
    assert [list(row) for row in csvfile.Grouped(made)] == rows  # read by anything but the writer: the rows


@pytest.mark.parametrize("memo", [1, 2, 50])
def test_fresh_tails_objects_of_other_values_are_written_as_they_are(memo):
    """Tails made afresh for each group and dropped once written (a chunk of one group: their ids reused by the next
    ones, as CPython reuses a freed tuple's memory): each group's own texts."""
    def made():
        for k in range(300):
            a, b = str(k % 7), "x" * (k % 3)
            yield (f"s{k}",), ((a, b),) if k % 2 else ((a, b), (b, a))

    rows = [[*shared, *tail] for shared, tails in made() for tail in tails]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "MEMO", memo)
        patch.setattr(csvfile, "_GROUPS", 1)
        assert csvfile.text(["s", "t", "u"], csvfile.Grouped(made())) == by_the_csv_module(["s", "t", "u"], rows)


def test_a_groups_chunks_are_the_whole_texts_bytes():
    """Past a chunk of groups and at its edges; a review's shared cells repeat, an expert's id is new at each."""
    levels = tuple((f"area{k}", str(k % 4 + 1)) for k in range(5))
    for n in (0, 1, 2_000, 4_001):
        made = [((f"=inst{k // 3}", "review1", f"e{k}"), levels) for k in range(n)]
        rows = [[*shared, *tail] for shared, tails in made for tail in tails]
        file = io.BytesIO()
        csvfile.write(file, ["institution", "stage", "expert", "area", "level"], csvfile.Grouped(iter(made)))
        assert file.getvalue() == by_the_csv_module(["institution", "stage", "expert", "area", "level"], rows).encode("utf-8"), n


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=MOMENTS)
def test_the_csv_tables_say_what_status_says_at_any_moment(replayed, moment):
    campaign = spec.load(TOMSK)
    now = moment.replace(tzinfo=campaign.tz)
    with store.dry_run(replayed) as session:
        found = figures.compute(session, campaign.id, now, detail=False, rows=True, town=False)
        assert found.rows is not None
        statuses = [tuple(row) for row in found.rows.statuses()]
        institutions = [(inst, name, *st) for inst, name, _, st, _, _ in found.rows.institutions(levels=False)]
        given_levels = list(found.rows.levels_given())
        texts = tables.files(found)
        view = engine.status(session, campaign.id, now, institutions=True, limit=None)
    stages = [s.id for s in found.per_institution_stages]
    assert statuses == institutions == [(i.institution.id, i.institution.name, *(i.stages.get(s) for s in stages))
                                        for i in view.institutions]
    assert texts["institutions.csv"] == by_the_csv_module(["id", "name", *stages], statuses)
    assert texts["reviews.csv"] == by_the_csv_module(["institution", "stage", "expert", "area", "level"],
                                                     [(inst, stage, expert, area, level) for inst, stage, expert, levels in given_levels
                                                      for area, level in levels])


def test_the_replay_has_reviews_of_nothing_and_reviews(replayed):
    """What the test above is about: ДОУ whose review stage is a review of nothing, and reviews with levels."""
    campaign = spec.load(TOMSK)
    with store.dry_run(replayed) as session:
        found = figures.compute(session, campaign.id, figures_now(campaign), detail=False, rows=True, town=False)
        assert found.rows is not None
        said = {status for row in found.rows.statuses() for status in row[2:]}
        reviews = sum(1 for _ in found.rows.levels_given())
    assert "no-materials" in said and reviews > 0


def figures_now(campaign: spec.Campaign):
    from dqflow.calendar import parse_local

    return parse_local("2022-01-21 12:00", campaign.tz)


def test_the_writer_leaves_the_collectors_thresholds_as_it_found_them():
    """The writer raises the cyclic collector's first threshold while it writes (`csvfile.COLLECT_AFTER`), and gives it
    back, also when the rows fail midway."""
    import gc

    before = gc.get_threshold()
    seen = []

    def rows():
        seen.append(gc.get_threshold()[0])
        yield ("a", "b")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        csvfile.write(io.BytesIO(), ["x", "y"], rows())
    csvfile.write(io.BytesIO(), ["x", "y"], [("a", "b")])
    assert seen == [max(csvfile.COLLECT_AFTER, before[0])] and gc.get_threshold() == before


def many_stages(folder, extra: int):
    """The Tomsk campaign with `extra` more forms for the ДОУ to fill (copies of fill-form): more stages per ДОУ than
    SQLite joins tables in one statement (64) once `extra` passes about 50."""
    import yaml

    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    form = next(s for s in data["stages"] if s["id"] == "fill-form")
    at = data["stages"].index(form) + 1
    data["stages"][at:at] = [dict(form, id=f"form-{n}", short=f"Форма {n}") for n in range(extra)]
    path = folder / "many.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(path), path


@pytest.mark.parametrize("extra", [40, 60])
def test_the_tables_of_a_campaign_of_many_stages_say_what_status_says(db_url, tmp_path, extra):
    """Up to `rows.JOINED_UP_TO` stages each ДОУ is joined to its row of each; above, where a join per stage would pass
    SQLite's 64 tables, the rows are turned into columns by a GROUP BY: the CSV and the workbook are written either way,
    and the statuses are those `status` says (hand-ins, an excuse, the clock's locks)."""
    from dqflow.results import rows

    campaign, path = many_stages(tmp_path, extra)
    assert (len([s for s in campaign.stages if s.per_institution]) > rows.JOINED_UP_TO) is (extra == 60)
    cli = Cli(db_url)
    cli.ok("load", str(path), "--now", "2021-11-10 09:00")
    cli.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou.example.org/a", "--now", "2021-11-22 10:00")
    cli.ok("submit", "4", "--stage", "form-7", "--link", "https://dou.example.org/b", "--now", "2021-11-22 10:00")
    cli.ok("excuse", "5", "--stage", "form-3", "--reason", "карантин", "--now", "2021-11-22 10:00")
    for fmt, out in (("csv", tmp_path / "csv"), ("xlsx", tmp_path / "s.xlsx")):
        cli.ok("report", "--format", fmt, "--out", str(out), "--now", "2021-12-20 12:00")
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            view = engine.status(session, campaign.id, parse_local("2021-12-20 12:00", campaign.tz), institutions=True, limit=None)
    finally:
        db.dispose()
    stages = [s.id for s in campaign.stages if s.per_institution]
    said = [(i.institution.id, i.institution.name, *(i.stages.get(s) for s in stages)) for i in view.institutions]
    assert (tmp_path / "csv" / "institutions.csv").read_bytes() == by_the_csv_module(["id", "name", *stages], said).encode("utf-8")
    assert {"done", "excused"} <= {status for row in said for status in row[2:]}


def test_an_error_of_the_drivers_cursor_is_said_as_the_databases(tmp_path):
    """The tables read through SQLite's own cursor (`rows._fetched`) raise the driver's error as SQLAlchemy does, so the
    command says it in one line as any other error of the database (not a traceback), and the cursor is closed."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from dqflow.results import rows

    db = store.connect(f"sqlite:///{tmp_path / 'd.db'}")
    cursor = sqlite3.connect(tmp_path / "d.db").cursor()
    try:
        with pytest.raises(OperationalError, match="no such table: nowhere"):
            list(rows._fetched(cursor, "SELECT * FROM nowhere", db.dialect))
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            cursor.execute("SELECT 1")
    finally:
        db.dispose()
