"""`status`'s counts at national scale (issue 23): a fixed handful of statements whatever the stages, the reviews of
nothing found once for the counts and the terminal's list alike, and on PostgreSQL judged without parallel workers
(each would build the materials' hashed subplan again). Speed itself is measured in benchmarks/, never here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import event, text
from test_scale import TZ, campaign_of, counting

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.engine import amend, late, views
from dqflow.engine.rules import Status

# After review 1 locked (its reviews of nothing), inside review 2, after the end.
MOMENTS = ["2021-12-07 12:00", "2021-12-13 10:00", "2022-02-01 10:00"]


def handed_in(db, tmp_path: Path, n: int = 9) -> spec.Campaign:
    """The Tomsk campaign of `n` ДОУ: ДОУ 1–4 hand in fill-form, 5 is excused from it, the rest hand in nothing; ДОУ 7
    (nothing handed in) is withdrawn by an amendment once review 1 locked: its rows kept, its review of nothing too."""
    campaign = campaign_of(tmp_path, n)
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local("2021-11-17", TZ))
    at = parse_local("2021-11-22 10:00", TZ)
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at)
        for inst in ("1", "2", "3", "4"):
            engine.submit(session, campaign.id, inst, "fill-form", at, ("https://example.org/materials",))
        engine.excuse(session, campaign.id, "5", "fill-form", "ремонт", at)
    path = tmp_path / f"tomsk-{n}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["institutions"] = [i for i in data["institutions"] if i["id"] != "7"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with store.transaction(db) as session:
        amend.apply(session, spec.load(path), parse_local("2021-12-07 10:00", TZ), "поправка", force=True)
    return campaign


def test_the_counts_take_four_statements_whatever_the_stages(database, tmp_path: Path):
    """The stored counts, one range per tick of the clock for every stage at once, one for the reviews of nothing; three
    when the caller found those (`late.reviews_of_nothing`). A statement per stage and tick made it 15 for Tomsk."""
    campaign = handed_in(database, tmp_path)
    now = parse_local(MOMENTS[0], TZ)
    with store.dry_run(database) as session:
        with counting(database) as seen:
            views._counts_at(session, campaign, now)
        assert len([q for q, _ in seen if "progress" in q]) == 4
        found = late.reviews_of_nothing(session, campaign, now)
        with counting(database) as seen:
            views._counts_at(session, campaign, now, found)
        assert len([q for q, _ in seen if "progress" in q]) == 3


def test_the_reviews_of_nothing_found_once_are_counted_and_listed_as_asked_apart(database, tmp_path: Path):
    """`status(…, without_materials=True)`: the same counts as `status` alone (the withdrawn ДОУ's review of nothing
    counted, as every ДОУ's row is), and the list `late.without_materials` gives (the withdrawn one left out)."""
    campaign = handed_in(database, tmp_path)
    for moment in MOMENTS:
        now = parse_local(moment, TZ)
        with store.dry_run(database) as session:
            listed = engine.status(session, campaign.id, now, without_materials=True)
            alone = engine.status(session, campaign.id, now)
            assert [s.counts for s in listed.stages] == [s.counts for s in alone.stages], moment
            assert listed.without_materials == late.without_materials(session, campaign, now), moment
            assert alone.without_materials == []
            nothing = {s.stage.id: s.counts.get(Status.NOTHING.value) for s in alone.stages if s.stage.id.startswith("review")}
            assert nothing["review1"] == 5 and ("7", "review1") not in listed.without_materials, moment  # ДОУ 5–9; 7 withdrawn
            assert [i for i, s in listed.without_materials if s == "review1"] == ["5", "6", "8", "9"], moment


@pytest.mark.usefixtures("pg_url")
def test_postgresql_judges_the_reviews_of_nothing_without_parallel_workers_and_gives_the_setting_back(pg_url: str, tmp_path: Path):
    """Each parallel worker would build the materials' hashed subplan again: the statements that judge the reviews of
    nothing run with `max_parallel_workers_per_gather` 0, and the caller's own setting is back after."""
    db = store.connect(pg_url)
    try:
        campaign = handed_in(db, tmp_path)
        workers: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            if "AS materials" in statement:  # `rules.no_materials_sql`'s subquery
                workers.append(conn.connection.dbapi_connection.execute("SHOW max_parallel_workers_per_gather").fetchone()[0])

        event.listen(db, "before_cursor_execute", seen)
        with store.dry_run(db) as session:
            session.execute(text("SET LOCAL max_parallel_workers_per_gather = 3"))
            engine.status(session, campaign.id, parse_local(MOMENTS[0], TZ), without_materials=True)
            engine.status(session, campaign.id, parse_local(MOMENTS[0], TZ))
            assert session.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one() == "3"
        event.remove(db, "before_cursor_execute", seen)
        assert workers == ["0", "0"]
    finally:
        db.dispose()


def test_the_terminal_lists_the_reviews_of_nothing_it_counted(tomsk, db_url: str):
    """The text's line «нет материалов» is `late.without_materials`' list, found with the counts the JSON gives."""
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-20 10:00")
    said = tomsk.ok("status", "--now", "2021-12-03 10:00")
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, None)
            found = [i for i, s in late.without_materials(session, campaign, parse_local("2021-12-03 10:00", TZ)) if s == "review1"]
    finally:
        db.dispose()
    assert len(found) == 10 and "2" not in found
    assert f"Нет материалов для экспертизы «Первичная экспертиза»: 10 ДОУ ({', '.join(found)})." in said
    counts = {s["id"]: s["counts"] for s in tomsk.json("status", "--now", "2021-12-03 10:00")["stages"]}
    assert counts["review1"][Status.NOTHING.value] == 10
