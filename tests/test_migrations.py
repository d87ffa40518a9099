"""Migrations (issue 8, item 5): a database made by the previous release (1a76da4) upgrades in place
on SQLite and PostgreSQL, keeps its data and then works with every command; a new database equals
the models; an up-to-date one is only read; a newer one is refused; processes starting together
upgrade once; a failed upgrade changes nothing.

The release databases are SQL dumps that the 1a76da4 code itself made (tests/data/make_release_dumps.sh).
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import click
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from conftest import ROOT, TOMSK, Cli, levels, levels_cell
from dqflow import store
from dqflow.store import schema
from dqflow.engine import skips
from dqflow.cli import cli
from dqflow.redact import redact_url
from tests.smtp_server import free_port, smtp_server  # noqa: F401  (fixture)

DATA = Path(__file__).resolve().parent / "data"
BACKENDS = ["sqlite", "postgresql"]

# What the release stored as English sentences, as codes now (dqflow.engine.skips); every reason in the dumps.
REASONS = {
    "its time had passed when it was planned": "planned-late",
    "its moment passed before it could be sent": "expired",
    "it would go out before the stage opens": "before-opening",
    "the deadline moved": "deadline-moved",
    "already submitted": "submitted",
    "the stage is done, not missed": "not-missed:done",
    "the stage is excused, not missed": "not-missed:excused",
    "this expert already reviewed the ДОУ": "reviewed",
    "same send time as rule 'opens'": "same-moment:opens",
    "superseded by a later reminder for the same deadline": "superseded",
}


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path: Path) -> str:
    """A database URL on each backend; the PostgreSQL one skips with the reason where there is no server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dqflow.db'}"
    return request.getfixturevalue("pg_url")


def dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def restore_release(url: str) -> None:
    """The database 1a76da4 made, from its dump."""
    if dialect(url) == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.executescript((DATA / "release-1a76da4.sqlite.sql").read_text(encoding="utf-8"))
            connection.execute("PRAGMA journal_mode=WAL")  # as 1a76da4 left its databases
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute((DATA / "release-1a76da4.postgresql.sql").read_text(encoding="utf-8"))


def plain(url: str) -> Engine:
    """An engine that is not dqflow's: it neither creates nor upgrades anything."""
    return create_engine(url)


def contents(url: str) -> dict[str, list[dict]]:
    """Every row of the release's tables (its columns: later revisions add some), in a stable order, as the driver
    returns it."""
    engine = plain(url)
    try:
        with engine.connect() as connection:
            return {table: [dict(row) for row in connection.execute(
                        text(f"SELECT {', '.join(sorted(columns))} FROM {table} ORDER BY {', '.join(sorted(columns))}")).mappings()]
                    for table, columns in schema.RELEASE_TABLES.items()}
    finally:
        engine.dispose()


def shape(url: str) -> dict:
    """Tables with their columns, keys, constraints and indexes (names included), triggers, and the
    version: what two databases must share to be the same schema."""
    engine = plain(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            found = {}
            for table in sorted(inspector.get_table_names()):
                found[table] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                    "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "foreign keys": sorted((fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                                           for fk in inspector.get_foreign_keys(table)),
                    "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
                    "indexes": sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"])) for ix in inspector.get_indexes(table)),
                }
            found["triggers"] = sorted(triggers(connection))
            found["every index"] = sorted(indexes(connection))  # the inspector leaves out SQLite's on expressions
            return found
    finally:
        engine.dispose()


def indexes(connection) -> list[str]:
    """Every index of dqflow's own tables (the version table's is its business: it has a table of its own above)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name != :version"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename != :version"
    return list(connection.execute(text(query), {"version": schema.VERSION_TABLE}).scalars())


def triggers(connection) -> list[str]:
    if connection.dialect.name == "sqlite":
        return list(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    return list(connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())


def revision(url: str) -> str | None:
    engine = plain(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(schema.VERSION_TABLE):
                return None
            return connection.execute(text(f"SELECT version_num FROM {schema.VERSION_TABLE}")).scalar_one()
    finally:
        engine.dispose()


def differences(url: str) -> list:
    """What Alembic's autogenerate would change to make the database equal the models."""
    engine = plain(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": schema.VERSION_TABLE, "compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def alembic(url: str, action: str, target: str) -> None:
    """Run an Alembic command on the package's migrations (what dqflow itself never does: downgrade)."""
    engine = plain(url)
    try:
        with engine.begin() as connection:
            getattr(command, action)(schema._config(connection), target)
    finally:
        engine.dispose()


# -- the revisions ---------------------------------------------------------------------------


def test_the_head_is_the_newest_revision_of_one_chain():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema._config())
    assert scripts.get_heads() == [schema.HEAD]
    chain = [s.revision for s in scripts.walk_revisions()]
    assert chain == [f"{n:04d}" for n in range(len(chain), 0, -1)]  # 0002, 0001: one line, numbered in order
    assert schema.BASELINE == chain[-1]


def test_revision_0001_is_the_schema_of_the_release(backend: str, tmp_path: Path):
    """The first revision makes the very schema 1a76da4's own create_all made: the same tables, columns,
    keys, constraint and index names."""
    alembic(backend, "upgrade", "0001")
    made_by_revision = shape(backend)
    del made_by_revision[schema.VERSION_TABLE]

    release = f"sqlite:///{tmp_path / 'release.db'}" if dialect(backend) == "sqlite" else None
    if release is None:
        import psycopg

        admin = backend.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/test"
        name = f"dqflow_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        release = backend.rsplit("/", 1)[0] + f"/{name}"
    try:
        restore_release(release)
        assert shape(release) == made_by_revision
        assert {t: {c for c, _, _ in made_by_revision[t]["columns"]} for t in schema.RELEASE_TABLES} == schema.RELEASE_TABLES
    finally:
        if dialect(backend) == "postgresql":
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


# 0016: TRUNCATE fires no row trigger, so on PostgreSQL a statement trigger of its own forgets the kept final levels;
# SQLite has no TRUNCATE (its DELETE without WHERE fires the row triggers), so the two backends' names differ here.
TRUNCATED = {"sqlite": [], "postgresql": [f"{t}_final_truncate" for t in ("review_level", "settlement", "final_level", "final_dirty")]}


def test_a_new_database_is_made_at_the_head_and_equals_the_models(backend: str):
    store.connect(backend).dispose()
    assert revision(backend) == schema.HEAD
    assert differences(backend) == []
    dirty = [f"{t}_final_dirty_{event}" for t in ("review_level", "settlement") for event in ("delete", "insert", "update")]  # 0015
    expected = {"sqlite": ["audit_no_delete", "audit_no_replace", "audit_no_update"], "postgresql": ["audit_append_only"]}[dialect(backend)]
    assert shape(backend)["triggers"] == sorted(expected + dirty + TRUNCATED[dialect(backend)])
    assert {"ix_expert_address", "ix_assignment_expert", "ix_submission_institution"} <= set(shape(backend)["every index"])


# -- a database of the previous release ------------------------------------------------------


def fetch(url: str, timeout: float = 30) -> str:
    """A page, once the server answers (it may be starting)."""
    import urllib.error
    import urllib.request

    until = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode("utf-8")
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > until:
                raise
            time.sleep(0.2)


def every_leaf_command(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for name, sub in group.commands.items():
        if isinstance(sub, click.Group):
            found |= every_leaf_command(sub, prefix + (name,))
        else:
            found.add(prefix + (name,))
    return found


def daemon_log(process: subprocess.Popen, until: re.Pattern, timeout: float = 60) -> list[str]:
    """The daemon's log lines, read as they come until one matches (or the time is up); the rest are
    collected in the background."""
    lines: list[str] = []
    seen = threading.Event()

    def read():
        for line in process.stderr:
            lines.append(line)
            if until.search(line):
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    if not seen.wait(timeout):
        process.kill()
        pytest.fail(f"the daemon did not get there in {timeout} s: {''.join(lines)}")
    return lines


def without_new_columns(rows: list[dict], release_rows: list[dict]) -> list[dict]:
    """The rows with the columns added since the release left out, once checked empty on every row it wrote."""
    added = set(rows[0]) - set(release_rows[0]) if rows and release_rows else set()
    assert all(r[c] is None for r in rows for c in added), added
    return [{k: v for k, v in r.items() if k not in added} for r in rows]


def test_a_release_database_upgrades_in_place_keeps_its_data_and_works_with_every_command(
        backend: str, tmp_path: Path, smtp_server):
    restore_release(backend)
    before = contents(backend)
    assert revision(backend) is None and shape(backend)["triggers"] == []
    sent_before = {r["key"]: r["message_id"] for r in before["outbox"] if r["state"] == "sent"}
    assert len(sent_before) > 20 and before["review"] and before["extension"]

    dq = Cli(backend, env=smtp_server.env())
    ran: set[tuple[str, ...]] = set()

    def ok(*args: str, input: str | None = None) -> str:
        ran.add(tuple(args[:2]) if isinstance(cli.commands[args[0]], click.Group) else (args[0],))
        return dq.ok(*args, input=input)

    # The first command upgrades it, and it still reads as the release left it.
    status = json.loads(ok("status", "--institutions", "--json", "--now", "2021-12-03 12:00"))
    assert revision(backend) == schema.HEAD
    assert {"ix_expert_address", "ix_assignment_expert", "ix_submission_institution"} <= set(shape(backend)["every index"])

    after = contents(backend)
    assert after.keys() == before.keys()
    for table in schema.RELEASE_TABLES:
        if table != "outbox":
            assert without_new_columns(after[table], before[table]) == before[table], table
    assert [{**r, "reason": None} for r in after["outbox"]] == [{**r, "reason": None} for r in before["outbox"]]
    old_reasons = {r["reason"] for r in before["outbox"] if r["state"] == "skipped"}
    assert old_reasons == set(REASONS)  # the dump has each of them; none is left unknown
    for old, new in zip(before["outbox"], after["outbox"]):
        assert new["reason"] == (REASONS[old["reason"]] if old["state"] == "skipped" else old["reason"])
        if new["state"] == "skipped":
            assert skips.parse(new["reason"])[0] is not None
    assert differences(backend) == []  # the upgraded schema is the models'

    fill = next(s for s in status["stages"] if s["id"] == "fill-form")
    assert fill["counts"] == {"upcoming": 0, "open": 1, "done": 2, "late": 0, "missed": 7, "excused": 1}, fill["counts"]
    assert next(i for i in status["institutions"] if i["id"] == "4")["stages"]["fill-form"] == "open"  # its extension
    assert ("29.11.2021 12:00  Заполнение утвержденной формы мониторинга: срок продлён; до 03.12.2021 23:59; прежний срок 30.11.2021 23:59; "
            "причина: ответственный на больничном"
            in ok("history", "4").splitlines())  # the release's audit trail, read by today's code
    history = json.loads(ok("history", "5", "--json"))
    assert [(h["stage"], h["action"], h["to"]) for h in history][:4] == [
        ("fill-form", "open", "open"), ("fill-form", "submit", "done"), ("review1", "open", "open"), ("review1", "review", None)]  # one of two experts

    # Every command on it.
    ok("status", "--institution", "4", "--now", "2021-12-03 12:00")
    ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-12-03 12:00")
    ok("extend", "15", "--stage", "fill-form", "--until", "2021-12-06", "--reason", "после праздника", "--now", "2021-12-03 12:00")
    ok("excuse", "35", "--stage", "review1", "--reason", "нет экспертов", "--now", "2021-12-03 12:00")
    ok("tick", "--now", "2021-12-03 12:30")
    lists = json.loads(ok("experts", "show", "list1", "--json"))
    experts_of = {a["institution"]: a["experts"] for a in lists["assignments"]}
    ok("review", "2", "--stage", "review1", "--expert", experts_of["2"][0], *levels("conditions=2"),
       "--recommendations", "-", "--now", "2021-12-04 10:00", input="Дополнить ссылки.")
    reviews = tmp_path / "reviews.csv"
    with reviews.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["institution", "stage", "expert", "levels", "recommendations"],
                                      ["2", "review1", experts_of["2"][1], levels_cell("conditions=3"), "Хорошо."]])
    ok("review", "--import", str(reviews), "--now", "2021-12-04 11:00")
    ok("recommendations", "send", "review1", "--now", "2021-12-04 12:00")
    ok("why", "dou2@example.org")
    assert "пока нет" in ok("links", "check", "--stage", "analysis", "--now", "2021-12-04 12:30")  # no links there: no network
    ok("remind", "--dry-run", "--now", "2021-12-06 09:00")

    sent = ok("send", "--now", "2021-12-06 10:00")
    assert sent.startswith("Отправлено писем: ") and int(sent.split()[2].rstrip(",")) > 0, sent

    ok("experts", "assign", "list2", "--now", "2021-12-08 09:00")
    list2 = {a["institution"]: a["experts"] for a in json.loads(ok("experts", "show", "list2", "--json"))["assignments"]}
    ok("experts", "set", "list2", "2", *reversed(list2["2"]), "--now", "2021-12-08 09:30")
    ok("experts", "diff", "list1", "list2")
    ok("tick", "--now", "2021-12-08 10:00")

    # The portal's commands on the upgraded database: links, the sign-in link, the board, and serve.
    dq.env = {**smtp_server.env(), "DQFLOW_BASE_URL": "http://127.0.0.1:8000"}
    assert ok("link", "show", "2").startswith("http://127.0.0.1:8000/dou/2/1.")
    assert "/dou/2/2." in ok("link", "revoke", "2", "--now", "2021-12-08 10:00")
    assert "/signin/" in ok("link", "coordinator", "--now", "2021-12-08 10:00")
    assert "/signin" in ok("link", "password", "--stdin", "--now", "2021-12-08 10:00", input="пароль координатора\n")
    assert ok("board", "--out", str(tmp_path / "board"), "--now", "2021-12-08 10:00") == f"Записано: {tmp_path / 'board' / 'index.html'}\n"
    assert ok("publish", "--out", str(tmp_path / "site"), "--now", "2021-12-08 10:00").startswith(f"Записано: {tmp_path / 'site'} (страниц: ")
    port = free_port()
    portal = subprocess.Popen([sys.executable, "-m", "dqflow", "--db", backend, "serve", "--port", str(port), "--now",
                               "2021-12-08 10:00"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert "МАДОУ № 2" in fetch(f"http://127.0.0.1:{port}/board")
    finally:
        portal.send_signal(signal.SIGTERM)
        assert portal.wait(timeout=30) == 0, portal.stderr.read()
    ran.add(("serve",))

    received = len(smtp_server.messages)
    port = free_port()
    daemon = subprocess.Popen([sys.executable, "-m", "dqflow", "--db", backend, "run", "--now", "2021-12-08 10:00",
                               "--max-sleep", "1", "-v", "--http", f"127.0.0.1:{port}"], cwd=ROOT, env={**os.environ, **smtp_server.env()},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = daemon_log(daemon, until=re.compile(r"wake at \S+: \d+ changes, [1-9]\d* sent"))  # a whole wake that sent
    assert "МАДОУ № 2" in fetch(f"http://127.0.0.1:{port}/board")  # the portal in the daemon's loop
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        pytest.fail(f"dqflow run did not stop on SIGTERM: {''.join(log)}")
    assert daemon.returncode == 0 and "Traceback" not in "".join(log), "".join(log)
    assert len(smtp_server.messages) > received
    ran.add(("run",))

    ledger = json.loads(ok("outbox", "--json"))
    assert len({r["key"] for r in ledger}) == len(ledger)
    assert {r["key"]: r["message_id"] for r in ledger if r["key"] in sent_before} == sent_before
    resent = {m.message["Message-ID"] for m in smtp_server.messages} & set(sent_before.values())
    assert not resent  # nothing the release had sent goes out again
    ok("outbox", "--state", "sent")

    # the справка and a calendar read the upgraded database (its reviews, extensions and history)
    assert ok("report", "--format", "md", "--now", "2021-12-08 11:00").strip()
    assert "BEGIN:VCALENDAR" in ok("calendar", "--institution", "4", "--out", "-", "--now", "2021-12-08 11:00")
    assert "tomsk-2021" in ok("campaigns", "--json", "--now", "2021-12-08 11:00")
    ok("region", "report", "--campaign", "tomsk-2021", "--format", "csv", "--out", str(tmp_path / "region"), "--now", "2021-12-08 11:00")
    # the release's own file: the bundled one without the keys added since (short names, submit_to). Two of its
    # stages share one title, which validate now refuses (a stage has one name people read): the file is refused
    # with the place and the fix, and loads once one of them has a short: name.
    released = tmp_path / "tomsk-release.yaml"
    released.write_text("".join(line for line in TOMSK.read_text(encoding="utf-8").splitlines(keepends=True)
                                if not line.lstrip().startswith(("short:", "submit_to:"))), encoding="utf-8")
    refused = dq("load", str(released), "--now", "2021-12-08 11:00")
    assert refused.exit_code == 1 and "под тем же названием «Заполнение формы мониторинга»" in refused.output
    plan = ok("load", str(TOMSK), "--now", "2021-12-08 11:00")  # today's file: an amendment of names, shown first
    assert "этап «Заполнение формы мониторинга» изменён: short (теперь «Итоговая корректировка формы»)" in plan and "Применить: dqflow load" in plan, plan
    assert ok("migrate", "--check").endswith(f"версия схемы {schema.HEAD}, актуальная.\n")
    ok("migrate")
    # The monitoring form on the upgraded database. Its campaign's experts reviewed per area: marking a form stage now
    # would have them review per indicator, leaving those levels where the справка no longer reads them — refused,
    # nothing written. A campaign with a form is loaded beside it; its form is filled and a dispute settled there.
    formed = tmp_path / "tomsk-form.yaml"
    formed.write_text(TOMSK.read_text(encoding="utf-8").replace("  - id: final-fix\n", "  - id: final-fix\n    form: true\n"), encoding="utf-8")
    refused = dq("load", str(formed), "--apply", "--reason", "форма мониторинга", "--now", "2021-12-08 11:30")
    assert refused.exit_code == 1 and "эксперты уже записали оценки по областям" in refused.output, refused.output
    formed.write_text(formed.read_text(encoding="utf-8").replace("  id: tomsk-2021\n", "  id: tomsk-form-2021\n", 1), encoding="utf-8")
    ok("load", str(formed), "--now", "2021-11-20 10:00")  # from its start: its lists are drawn when their stage opens

    def in_form(*args: str) -> str:
        ran.add(tuple(args[:2]) if isinstance(cli.commands[args[0]], click.Group) else (args[0],))
        return dq.ok("--campaign", "tomsk-form-2021", *args)

    in_form("form", "set", "2", "--stage", "final-fix", "--indicator", "1.1", "--link", "https://dou2.example.org/1.1", "--now", "2021-12-16 10:00")
    assert "https://dou2.example.org/1.1" in in_form("form", "show", "2", "--stage", "final-fix", "--now", "2021-12-16 10:00")
    # Two experts' levels of ДОУ 2's review1 for indicator 1.1 that differ (seeded: review1 locked before this campaign
    # was loaded, so no review act can write them now), then settled.
    in_form("tick", "--now", "2021-11-25 12:00")  # list 1 drawn
    pair = next(a["experts"] for a in json.loads(in_form("experts", "show", "list1", "--json"))["assignments"] if a["institution"] == "2")
    with plain(backend).begin() as connection:
        for expert, level in zip(pair, ("1", "3")):
            key = {"e": expert, "lv": level}
            connection.execute(store.table(store.ReviewRow).insert().values(  # its column type writes the moment as dqflow does
                campaign_id="tomsk-form-2021", stage_id="review1", institution_id="2", expert_id=expert,
                at=datetime(2021, 12, 3, 3, 0, tzinfo=timezone.utc), levels="{}", recommendations=""))
            connection.execute(text("INSERT INTO review_level (campaign_id, stage_id, institution_id, expert_id, indicator_id, level) "
                                    "VALUES ('tomsk-form-2021', 'review1', '2', :e, '1.1', :lv)"), key)
    assert "согласован уровень 2" in in_form("settle", "2", "--stage", "review1", "--indicator", "1.1", "--level", "2",
                                             "--reason", "сверено с материалами", "--now", "2021-12-16 10:00")
    # Commands that do not open the database, for completeness of the walk.
    ok("validate", str(TOMSK))
    ok("init", str(tmp_path / "starter"))
    ok("simulate", str(TOMSK), "--until", "2021-11-20")
    ok("import-order", str(ROOT / "tests" / "data" / "tomsk-2021-order-table.tsv"), "--out", str(tmp_path / "draft.yaml"))
    ok("instantiate", str(TOMSK.with_name("tomsk-template.yaml")), "--start", "18.11.2022", "--id", "tomsk-2022",
       "--out", str(tmp_path / "tomsk-2022.yaml"))
    assert ran >= every_leaf_command(), every_leaf_command() - ran

    with plain(backend).connect() as connection:  # the audit log is append-only now
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("DELETE FROM audit"))


def test_a_database_of_an_unreleased_dqflow_after_the_release_upgrades_too(backend: str):
    """Made by main between 1a76da4 and migrations: lease table, new index, triggers, codes, no version table."""
    dq = Cli(backend)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", "2021-11-22 10:00")
    made = shape(backend)
    engine = plain(backend)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {schema.VERSION_TABLE}"))
    engine.dispose()
    before = contents(backend)

    dq.ok("tick", "--now", "2021-11-22 10:00")
    assert revision(backend) == schema.HEAD
    assert shape(backend) == made  # each step saw what was there: no second trigger, index or table
    assert contents(backend) == before


# -- opening, refusing, checking -------------------------------------------------------------


def test_opening_an_up_to_date_database_only_reads_two_things(backend: str):
    """Two queries: is there a version table, which revision is in it. No DDL, no write lock."""
    store.connect(backend).dispose()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        store.connect(backend).dispose()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    words = [s.split()[0].upper() for s in statements]
    assert set(words) <= {"SELECT", "PRAGMA"}, statements  # no DDL, no write, no BEGIN IMMEDIATE
    assert not any(w in s.upper() for s in statements for w in ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"))
    queries = [s for s in statements if not s.upper().startswith("PRAGMA")]
    assert queries[-1] == f"SELECT version_num FROM {schema.VERSION_TABLE}"  # the listener saw the opening
    assert len(queries) <= 4, queries  # the dialect's own probes and the version


def test_a_database_newer_than_the_code_is_refused_in_one_line(backend: str):
    dq = Cli(backend)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    engine = plain(backend)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version_num = '0099'"))
    engine.dispose()
    before = contents(backend), shape(backend)

    for args in (["status"], ["tick", "--now", "2021-12-01"], ["migrate"], ["migrate", "--check"]):
        result = dq(*args)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.splitlines() == [
            f"ошибка: база данных '{redact_url(backend)}': версия её схемы 0099 новее этого dqflow, который знает "
            f"версии до {schema.HEAD}; работайте тем dqflow, который её обновил, или более новым"], result.stderr
    assert (contents(backend), shape(backend)) == before


def test_migrate_check_says_what_to_run_and_writes_nothing(tmp_path: Path):
    path = tmp_path / "dqflow.db"
    dq = Cli(f"sqlite:///{path}")

    missing = dq("migrate", "--check")
    assert missing.exit_code == 1 and not path.exists()
    assert missing.stderr == (f"ошибка: база данных 'sqlite:///{path}' новая (таблиц dqflow в ней ещё нет); этому dqflow нужна "
                              f"версия схемы {schema.HEAD}: её создаст первая же команда, а также: dqflow --db sqlite:///{path} migrate\n")

    restore_release(dq.db_url)
    dump = list(sqlite3.connect(path).iterdump())
    old = dq("migrate", "--check")
    assert old.exit_code == 1 and old.stderr.startswith(f"ошибка: база данных 'sqlite:///{path}' версии 0001 (создана до миграций")
    assert old.stderr.endswith(f"её обновит первая же команда, а также: dqflow --db sqlite:///{path} migrate\n")
    assert list(sqlite3.connect(path).iterdump()) == dump

    assert dq.ok("migrate") == (f"База данных 'sqlite:///{path}' обновлена до версии схемы {schema.HEAD}; была версия 0001 "
                                "(создана до миграций: выпуском 1a76da4 или невыпущенным dqflow после него).\n")
    assert dq.ok("migrate", "--check") == f"База данных 'sqlite:///{path}': версия схемы {schema.HEAD}, актуальная.\n"
    assert dq.ok("migrate") == f"База данных 'sqlite:///{path}': версия схемы {schema.HEAD}, актуальная; делать нечего.\n"

    new = tmp_path / "new.db"
    assert Cli(f"sqlite:///{new}").ok("migrate") == f"База данных 'sqlite:///{new}' создана: версия схемы {schema.HEAD}.\n"


def test_an_upgrade_that_fails_changes_nothing_and_names_the_command(backend: str):
    """The last step of revision 0002 (rewriting skip reasons) fails at the database, after its DDL ran."""
    restore_release(backend)
    engine = plain(backend)
    with engine.begin() as connection:
        if dialect(backend) == "sqlite":
            connection.execute(text("CREATE TRIGGER outbox_frozen BEFORE UPDATE ON outbox "
                                    "BEGIN SELECT RAISE(ABORT, 'outbox frozen by the test'); END"))
        else:
            connection.execute(text("CREATE FUNCTION outbox_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                    "RAISE EXCEPTION 'outbox frozen by the test'; END $$"))
            connection.execute(text("CREATE TRIGGER outbox_frozen BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_frozen()"))
    engine.dispose()
    before = contents(backend), shape(backend)

    result = Cli(backend)("status", "--now", "2021-12-03 12:00")
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "outbox frozen by the test" in line and "ничего не изменено" in line
    assert line.endswith(f"выполните: dqflow --db {backend} migrate")
    assert (contents(backend), shape(backend)) == before  # no lease table, old index, no guards, no version


def test_a_read_only_database_that_needs_an_upgrade_is_refused_with_the_command(tmp_path: Path):
    path = tmp_path / "dqflow.db"
    restore_release(f"sqlite:///{path}")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = Cli(read_only)("status")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"ошибка: база данных '{read_only}': она версии 0001 (создана до миграций: выпуском 1a76da4 или невыпущенным "
        f"dqflow после него), а этому dqflow нужна версия схемы {schema.HEAD}; обновить её на месте не удалось (attempt "
        f"to write a readonly database), ничего не изменено; от имени пользователя, которому можно её менять, выполните: "
        f"dqflow --db '{read_only}' migrate"]


def test_a_database_with_part_of_the_tables_is_refused(tmp_path: Path):
    path = tmp_path / "dqflow.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE campaign (id VARCHAR PRIMARY KEY, title VARCHAR)")
    result = Cli(f"sqlite:///{path}")("status")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "схема не совпадает ни с одним выпуском dqflow (нет: campaign.definition, campaign.digest" in line
    assert line.endswith("ничего не изменено: загрузите кампанию в новую базу данных")
    with sqlite3.connect(path) as connection:
        assert [r[0] for r in connection.execute("SELECT name FROM sqlite_master")] == ["campaign", "sqlite_autoindex_campaign_1"]


def test_revision_0002_downgrades_to_the_release(tmp_path: Path):
    """Not something dqflow does, but a revision that cannot be undone is a revision untested."""
    url = f"sqlite:///{tmp_path / 'dqflow.db'}"
    restore_release(url)
    release, data = shape(url), contents(url)
    store.connect(url).dispose()
    alembic(url, "downgrade", "0001")
    downgraded = shape(url)
    del downgraded[schema.VERSION_TABLE]
    assert downgraded == release and contents(url) == data


# -- processes starting together -------------------------------------------------------------

# Each process imports dqflow, says it is ready, then waits at a gate, so all open the database at once.
GATED = """
import os, sys, time
from dqflow.cli import main
ready, gate = sys.argv[1:3]
open(ready, "w").close()
while not os.path.exists(gate):
    time.sleep(0.002)
sys.argv = ["dqflow", *sys.argv[3:]]
main()
"""


def test_processes_starting_together_upgrade_the_release_database_once(backend: str, tmp_path: Path):
    restore_release(backend)
    before = contents(backend)
    gate = tmp_path / "gate"
    ready = [tmp_path / f"ready-{n}" for n in range(4)]
    processes = [subprocess.Popen([sys.executable, "-c", GATED, str(flag), str(gate), "--db", backend, "status", "--json",
                                   "--now", "2021-12-03 12:00"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for flag in ready]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.touch()
    results = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0] * len(processes), [err for _, err in results]
    assert len({out for out, _ in results}) == 1  # every one saw the same campaign

    assert revision(backend) == schema.HEAD and differences(backend) == []
    after = contents(backend)
    assert {k: without_new_columns(v, before[k]) for k, v in after.items() if k != "outbox"} == {
        k: v for k, v in before.items() if k != "outbox"}
    assert [r["reason"] for r in after["outbox"]] == [REASONS.get(r["reason"], r["reason"]) if r["state"] == "skipped"
                                                      else r["reason"] for r in before["outbox"]]
    dirty = [f"{t}_final_dirty_{event}" for t in ("review_level", "settlement") for event in ("delete", "insert", "update")]  # 0015
    expected = {"sqlite": ["audit_no_delete", "audit_no_replace", "audit_no_update"], "postgresql": ["audit_append_only"]}[dialect(backend)]
    assert shape(backend)["triggers"] == sorted(expected + dirty + TRUNCATED[dialect(backend)])
