"""`dqflow load` is all or nothing (issue 8, item 6): a failure the database itself raises after the
first insert — at each table load writes, and half-way through one table's rows — leaves nothing at
all written, on SQLite and PostgreSQL. The failure is injected with a trigger (SQLite) or a CHECK
constraint (PostgreSQL) that the test adds; dqflow's code runs unchanged.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from conftest import TOMSK, Cli
from dqflow.store import schema

# The rows load writes, in the order it writes them: (table, the row that fails, a CHECK that refuses it).
FAILURES = {
    "stage": ("the third stage", "stage", "position < 2", "(SELECT count(*) FROM stage) >= 2"),
    "institution": ("the last ДОУ", "institution", "id <> '94'", "NEW.id = '94'"),
    "expert": ("the first expert", "expert", "false", "1"),
    "progress": ("the 40th progress row", "progress", None, "(SELECT count(*) FROM progress) >= 39"),
    "audit": ("the audit row, the last insert", "audit", "action <> 'load'", "NEW.action = 'load'"),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dqflow.db'}"
    return request.getfixturevalue("pg_url")


def rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in [*schema.RELEASE_TABLES, "lease"]}
    finally:
        engine.dispose()


def inject(url: str, table: str, check: str | None, when: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if url.startswith("sqlite"):
                connection.execute(text(f"CREATE TRIGGER injected BEFORE INSERT ON {table} WHEN {when} "
                                        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
            elif check is not None:
                connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT injected CHECK ({check})"))
            else:  # a row-count condition is no CHECK: a trigger that counts what is already there
                connection.execute(text(f"CREATE FUNCTION injected() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                        f"IF {when} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$"))
                connection.execute(text(f"CREATE TRIGGER injected BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION injected()"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_a_failure_at_the_database_after_the_first_insert_writes_nothing(url: str, failure: str):
    label, table, check, when = FAILURES[failure]
    dq = Cli(url)
    dq.ok("migrate")  # the tables, so the test can arm its trap before the load
    inject(url, table, check, when)
    empty = rows(url)
    assert set(empty.values()) == {0}

    result = dq("load", str(TOMSK), "--now", "2021-11-10 09:00")
    assert result.exit_code == 1, (label, result.output)
    assert result.stdout == "" and "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("ошибка: база данных: ") and ("injected" in line or "check constraint" in line), line
    assert rows(url) == empty, label  # not the campaign, not its stages, nothing

    status = dq("status")
    assert status.exit_code == 1 and "кампания не загружена" in status.stderr


def test_without_a_trap_the_same_load_writes_every_one_of_those_tables(url: str):
    """Without the trap the same load writes every table: the counts above are not zero by accident."""
    dq = Cli(url)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    written = rows(url)
    assert {t for t, n in written.items() if n} == {"campaign", "stage", "institution", "expert", "progress", "audit"}
    assert written["progress"] > 39 and written["stage"] > 2
