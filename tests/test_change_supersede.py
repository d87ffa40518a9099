"""A newer change letter makes an older unsent one about the same ДОУ and stage moot (`engine.changes._supersede`),
whether the two extensions came by two commands or in one stretch of acts (`engine.play`, as `simulate` plays a
coordinator's morning of extensions: planned together), and the UPDATE that says so reads the ДОУ's own rows, not
every pending row of the campaign (issue 23, 5: at 50,000 ДОУ it read a million rows at each extension).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool

from dqflow import engine, store
from tests.conftest import counting_statements, query

TZ = ZoneInfo("Asia/Tomsk")


def letters(db_url: str) -> list[tuple]:
    """(ДОУ, deadline's day, state, reason) of every extension letter, in the order planned."""
    return [(inst, str(deadline)[:10], state, reason) for inst, deadline, state, reason in query(
        db_url, "SELECT institution_id, deadline, state, reason FROM outbox WHERE kind = 'changed' ORDER BY id")]


def test_a_second_extension_supersedes_the_first_letter_of_its_dou_only(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-22 10:01")
    tomsk.ok("extend", "5", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-22 10:02")
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-07", "--reason", "ещё неделя", "--now", "2021-11-22 10:03")
    assert letters(db_url) == [("4", "2021-12-03", "skipped", "deadline-moved"), ("5", "2021-12-03", "pending", None),
                               ("4", "2021-12-07", "pending", None)]


def test_extensions_at_one_moment_in_one_stretch_are_planned_together_and_the_newer_wins(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    at = datetime(2021, 11, 22, 10, 1, tzinfo=TZ)
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            outcomes = engine.play(session, "tomsk-2021", [
                engine.Act(at, "4", "fill-form", until=datetime(2021, 12, 3, 23, 59, tzinfo=TZ), reason="больничный"),
                engine.Act(at, "5", "fill-form", until=datetime(2021, 12, 3, 23, 59, tzinfo=TZ), reason="больничный"),
                engine.Act(at, "4", "fill-form", until=datetime(2021, 12, 7, 23, 59, tzinfo=TZ), reason="ещё неделя")],
                reconciled=True)
    finally:
        db.dispose()
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert letters(db_url) == [("4", "2021-12-03", "skipped", "deadline-moved"), ("5", "2021-12-03", "pending", None),
                               ("4", "2021-12-07", "pending", None)]


@pytest.mark.sqlite_only("reads SQLite's query plan")
def test_the_supersede_reads_the_rows_of_its_dou_not_the_pending_ledger(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    with counting_statements() as seen:
        tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-22 10:01")
    [statement] = [s for s in seen if s.startswith("UPDATE outbox SET state") and "EXISTS" in s]
    db = sqlalchemy.create_engine(db_url, poolclass=NullPool)
    try:
        with db.connect() as connection:
            plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, (None,) * statement.count("?"))]
    finally:
        db.dispose()
    assert plan[0] == "SEARCH outbox USING INDEX ix_outbox_progress (campaign_id=? AND institution_id=?)", plan
    assert any("outbox_1 USING INDEX ix_outbox_progress (campaign_id=? AND institution_id=?)" in step for step in plan), plan
