"""Safe by default (issue 8, item 3) and stage changes made once under concurrent reconciles (item 4).

Real SQLite files, PostgreSQL where a server answers (skipped with the reason where not), real
`dqflow` processes for what a process prints and for concurrency.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from conftest import LINK, ROOT, TOMSK, Cli
from dqflow import engine, redact, store
from dqflow.present import csvfile, history
from dqflow.calendar import parse_local
from dqflow.errors import DqflowError
from dqflow.store import AuditRow
from tests.smtp_server import SmtpServer

TZ = ZoneInfo("Asia/Tomsk")
SECRET = "PgSecret99"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dqflow(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command in its own process, as cron runs it."""
    return subprocess.run([sys.executable, "-m", "dqflow", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def umask_022():
    """The usual umask, under which a file opened without a mode would be world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- the database file is private ----------------------------------------------------------


def test_a_new_database_and_its_wal_and_shm_files_are_private(tmp_path: Path, umask_022):
    path = tmp_path / "dqflow.db"
    Cli(f"sqlite:///{path}").ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    assert mode(path) == 0o600

    db = store.connect(str(path))
    try:
        with store.transaction(db) as session:  # an open write: SQLite keeps the -wal and -shm files
            session.execute(text("UPDATE stage SET state = state"))
            assert mode(Path(f"{path}-wal")) == 0o600 and mode(Path(f"{path}-shm")) == 0o600
        # the sending lease lives in the database: the one file beside it is the writers' turn (private too)
        assert [p.name for p in tmp_path.glob("*.lock")] == ["dqflow.db-writer.lock"]
        assert mode(Path(f"{path}-writer.lock")) == 0o600
    finally:
        db.dispose()


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path, umask_022):
    path = tmp_path / "shared.db"
    dq = Cli(f"sqlite:///{path}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    path.chmod(0o640)  # e.g. a backup group may read it
    dq.ok("tick", "--now", "2021-11-20")
    assert mode(path) == 0o640
    path.chmod(0o600)
    dq.ok("tick", "--now", "2021-11-21")
    assert mode(path) == 0o600  # never loosened


# -- secrets are never printed --------------------------------------------------------------


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x",  # nobody listens: the error names the server
    f"postgresql+psycopg://u:{SECRET}@127.0.0.1:notaport/x",  # the URL does not parse
    f"nosuchdb://u:{SECRET}@127.0.0.1/x",  # no such dialect
    f"postgresql+psycopg://u:Pg@{SECRET}@127.0.0.1:1/x",  # an unencoded @: the driver sees part of it as the host
])
def test_a_password_in_the_database_url_is_never_printed(url: str, tmp_path: Path):
    for how in (["--db", url], [f"--db={url}"]):
        result = dqflow(*how, "status", "--now", "2021-12-01")
        assert result.returncode == 1
        assert result.stderr.startswith("ошибка: ") and "***" in result.stderr, result.stderr
        assert SECRET not in result.stdout + result.stderr and "Traceback" not in result.stderr
    from_env = dqflow("history", "2", env={"DQFLOW_DB": url})
    assert from_env.returncode == 1 and "***" in from_env.stderr
    assert SECRET not in from_env.stdout + from_env.stderr


@pytest.mark.parametrize("url", [f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/x", f"nosuchdb://u:{SECRET}@127.0.0.1/x"])
def test_the_library_names_a_database_without_its_password(url: str):
    """The daemon and the portal print store's messages without the CLI's last net."""
    with pytest.raises(DqflowError) as caught:
        store.connect(url)
    assert SECRET not in str(caught.value) and "u:***@127.0.0.1" in str(caught.value)


def test_a_database_password_quoted_by_an_error_is_masked_too(tmp_path: Path, pg_url: str):
    """The server trusts 127.0.0.1, so the password reaches a later error: a campaign not loaded."""
    with_password = pg_url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://postgres:{SECRET}@")
    result = dqflow("--db", with_password, "--campaign", f"no-{SECRET}", "status")
    assert result.returncode == 1 and "кампания «no-***» не загружена" in result.stderr, result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_the_smtp_password_is_never_printed(tomsk: Cli, tmp_path: Path):
    server = SmtpServer(password="the-right-one").start()  # refuses our login
    try:
        env = server.env(DQFLOW_SMTP_USERNAME="kdo", DQFLOW_SMTP_PASSWORD="SmtpSecret77")
        db = tomsk.db_url
        outputs = []
        for args in (["send", "--now", "2021-11-19 10:00"], ["outbox"], ["outbox", "--json"], ["why", "dou2@example.org"]):
            result = dqflow("--db", db, *args, env=env)
            assert result.returncode == (75 if args[0] == "send" else 0), result.stderr  # 75: the server kept failing
            outputs.append(result.stdout + result.stderr)
        assert server.handler.logins and server.handler.logins[0][1] == b"SmtpSecret77"  # it was really tried
        assert "повтор" in outputs[1]  # the refusal is in the ledger …
        assert all("SmtpSecret77" not in out for out in outputs)  # … the password nowhere
        # a message quoting the value (here a port set to it by mistake) shows *** instead
        bad = dqflow("--db", db, "send", "--now", "2021-11-19 10:00", env={**env, "DQFLOW_SMTP_PORT": "SmtpSecret77"})
        assert bad.returncode == 1 and "SmtpSecret77" not in bad.stdout + bad.stderr
    finally:
        server.stop()


def test_log_records_lose_their_secrets(tmp_path: Path):
    """`dqflow run` puts this filter on its log handlers: a message or a traceback quoting a secret is masked."""
    import logging

    root, stream = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        redact.protect_logging(redact.known_secrets(f"postgresql+psycopg://u:{SECRET}@db/x", {"DQFLOW_SMTP_PASSWORD": "SmtpSecret77"}))
        log = logging.getLogger("dqflow.delivery.daemon")
        log.warning("cannot reach %s with %s", f"postgresql://u:{SECRET}@db/x", "SmtpSecret77")
        try:
            raise RuntimeError(f"login SmtpSecret77 refused by smtp://kdo:{SECRET}@mail")
        except RuntimeError:
            log.exception("wake failed")
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert "wake failed" in written and "RuntimeError: login *** refused by smtp://kdo:***@mail" in written
    assert SECRET not in written and "SmtpSecret77" not in written


# -- CSV exports cannot carry formulas ------------------------------------------------------


def test_expert_list_csv_neutralises_formulas_from_the_roster(workflow_copy: Path, dq: Cli):
    text_ = workflow_copy.read_text(encoding="utf-8")
    text_ = text_.replace("name: Эксперт ДОУ № 2,", 'name: "=HYPERLINK(\\"http://evil.example/?x\\", \\"открыть\\")",')
    text_ = text_.replace("name: МАДОУ № 5,", 'name: "+7 (3822) 00-00-00",')
    text_ = text_.replace("name: Эксперт ДОУ № 6,", 'name: "@SUM(1+1)",')
    text_ = text_.replace("name: МАДОУ № 6,", 'name: "-1+1",')
    workflow_copy.write_text(text_, encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", "2021-11-25 12:00")  # list1 draws itself

    rows = list(csv.reader(io.StringIO(dq.ok("experts", "show", "list1", "--csv"))))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=HYPERLINK(\"http://evil.example/?x\", \"открыть\")" in cells  # the text itself is kept, made inert
    assert "'+7 (3822) 00-00-00" in cells and "'@SUM(1+1)" in cells and "'-1+1" in cells
    assert "МАДОУ № 2" in cells  # ordinary cells unchanged


def test_every_csv_export_goes_through_the_one_guard():
    """A new export (results, reports) must use present.csvfile, not a csv writer of its own."""
    package = ROOT / "dqflow"
    writers = {path.relative_to(package).as_posix(): len(re.findall(r"csv\.(?:writer|DictWriter)\(", path.read_text(encoding="utf-8")))
               for path in package.rglob("*.py")}
    assert {name: n for name, n in writers.items() if n} == {"present/csvfile.py": 1}
    source = (package / "present" / "csvfile.py").read_text(encoding="utf-8")
    assert source.index("csv.writer(") > source.index("def text(")
    assert csvfile.text(["a"], [["-2"], ["=1"], ["\r=1"], ["a\rb"], ["ok"]]) == "a\r\n'-2\r\n'=1\r\n\"'\r=1\"\r\n\"a\rb\"\r\nok\r\n"


# -- the audit log: the real clock beside the named moment, and append-only ----------------


def test_recorded_at_is_the_real_clock_and_history_shows_both(tomsk: Cli):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-22 10:00")
    after = datetime.now(timezone.utc)

    rows = tomsk.json("history", "2")
    submit = next(r for r in rows if r["action"] == "submit")
    assert submit["at"] == "2021-11-22T10:00:00+07:00"  # the moment the command named
    recorded = datetime.fromisoformat(submit["recorded_at"])
    assert before <= recorded <= after  # when it was written
    opened = next(r for r in rows if r["action"] == "open")  # reconcile's catch-up of the opening
    assert opened["at"] == "2021-11-19T00:00:00+07:00" and before <= datetime.fromisoformat(opened["recorded_at"]) <= after

    line = next(line for line in tomsk.ok("history", "2").splitlines() if "материалы сданы" in line)
    assert line.startswith("22.11.2021 10:00  Первичное заполнение формы: материалы сданы")
    assert line.endswith(f"[записано {recorded.astimezone(TZ):%d.%m.%Y %H:%M}]")


def test_history_shows_one_time_when_written_at_the_moment_it_names(tomsk: Cli):
    """A change written when it happened (the daemon, a command without --now) shows one time."""
    db = store.connect(tomsk.db_url)
    try:
        at = parse_local("2021-11-22 10:00", TZ)
        with store.transaction(db, recorded_at=at) as session:
            engine.submit(session, "tomsk-2021", "2", "fill-form", at, LINK)
        with store.dry_run(db) as session:
            rows = engine.history(session, "tomsk-2021", "2")
    finally:
        db.dispose()
    assert rows[-1].action == "submit" and rows[-1].at == rows[-1].recorded_at == at
    text_ = history.history_text(rows, TZ, at).splitlines()
    assert text_[-1] == "22.11.2021 10:00  fill-form: материалы сданы (открыт → выполнено); https://example.org/materials"
    assert "[записано" in text_[1]  # the opening was caught up by that later submit


def test_a_command_without_now_records_one_moment(dq: Cli):
    dq.ok("load", str(TOMSK))
    db = store.connect(dq.db_url)
    try:
        with db.connect() as connection:
            at, recorded = connection.execute(text("SELECT at, recorded_at FROM audit WHERE action = 'load'")).one()
    finally:
        db.dispose()
    assert at == recorded


AUDIT_TAMPERING = ["UPDATE audit SET detail = 'forged'", "UPDATE audit SET at = recorded_at WHERE 0 = 1",
                   "DELETE FROM audit", "DELETE FROM audit WHERE action = 'submit'"]
# SQLite's REPLACE deletes the row it collides with without firing a delete trigger: the insert guard refuses it
AUDIT_REPLACING = ["REPLACE INTO audit(id, campaign_id, action, at, recorded_at, detail) "
                   "SELECT id, campaign_id, 'forged', at, recorded_at, 'forged' FROM audit WHERE action = 'submit'",
                   "INSERT OR REPLACE INTO audit(id, campaign_id, action, at, recorded_at) "
                   "SELECT id, campaign_id, 'forged', at, recorded_at FROM audit ORDER BY id LIMIT 1"]


@pytest.mark.sqlite_only("SQLite's triggers, through the file; PostgreSQL's rule has its own test below")
def test_the_audit_table_refuses_update_delete_and_replace_on_sqlite(tomsk: Cli, tmp_path: Path):
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-22 10:00")
    path = tmp_path / "dqflow.db"
    with sqlite3.connect(path) as connection:
        before = connection.execute("SELECT * FROM audit ORDER BY id").fetchall()
        for statement in AUDIT_TAMPERING + AUDIT_REPLACING + ["INSERT INTO audit(id, campaign_id, action, at, recorded_at) "
                                                              "SELECT id, campaign_id, 'forged', at, recorded_at FROM audit WHERE true "
                                                              "ON CONFLICT(id) DO UPDATE SET detail = 'forged'"]:
            if "0 = 1" in statement:
                continue  # SQLite row triggers fire per row: nothing to refuse when nothing matches
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement)
        assert connection.execute("SELECT * FROM audit ORDER BY id").fetchall() == before
    tomsk.ok("tick", "--now", "2021-11-26")  # appending still works
    with sqlite3.connect(path) as connection:
        assert len(connection.execute("SELECT * FROM audit").fetchall()) > len(before)


@pytest.mark.sqlite_only("drops SQLite's triggers through the file (a pre-guard database is made by hand)")
def test_a_database_without_the_guard_gets_it_on_first_use(tomsk: Cli, tmp_path: Path):
    """A database made before the guard existed (same tables, no triggers, and no version table: it
    predates migrations too) is protected once opened."""
    path = tmp_path / "dqflow.db"
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE dqflow_version")
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("DROP TRIGGER audit_no_delete")
        connection.execute("DROP TRIGGER audit_no_replace")
        connection.execute("DELETE FROM audit WHERE action = 'load'")  # unguarded: possible
    tomsk.ok("history", "2")  # any command, even one that only reads
    tomsk.ok("tick", "--now", "2021-11-20")
    with sqlite3.connect(path) as connection, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM audit")


def test_the_audit_table_refuses_update_delete_upsert_and_truncate_on_postgresql(pg_url: str):
    import psycopg

    dq = Cli(pg_url)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-22 10:00")
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        before = connection.execute("SELECT * FROM audit ORDER BY id").fetchall()
        for statement in AUDIT_TAMPERING + ["TRUNCATE audit", "INSERT INTO audit(id, campaign_id, action, at, recorded_at) "
                                            "SELECT id, campaign_id, 'forged', at, recorded_at FROM audit "
                                            "ON CONFLICT (id) DO UPDATE SET detail = 'forged'"]:
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                connection.execute(statement)
        with pytest.raises(psycopg.errors.UniqueViolation):  # no REPLACE on PostgreSQL; an insert naming a kept id collides
            connection.execute("INSERT INTO audit(id, campaign_id, action, at, recorded_at) "
                               "SELECT id, campaign_id, 'forged', at, recorded_at FROM audit ORDER BY id LIMIT 1")
        assert connection.execute("SELECT * FROM audit ORDER BY id").fetchall() == before
    dq.ok("tick", "--now", "2021-11-26")
    with psycopg.connect(plain) as connection:
        assert connection.execute("SELECT count(*) FROM audit").fetchone()[0] > len(before)


# -- concurrent reconciles record each change once -------------------------------------------

# Each process imports dqflow first, then waits at a gate, so all of them reconcile at the same moment.
GATED_TICK = """
import os, sys, time
from dqflow.cli import main
gate = sys.argv[1]
while not os.path.exists(gate):
    time.sleep(0.002)
sys.argv = ["dqflow", *sys.argv[2:]]
main()
"""
PARALLEL = 8


def parallel_ticks(db_url: str, now: str, tmp_path: Path) -> list[subprocess.CompletedProcess]:
    gate = tmp_path / f"gate-{uuid.uuid4().hex}"
    processes = [subprocess.Popen([sys.executable, "-c", GATED_TICK, str(gate), "--db", db_url, "tick", "--now", now],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(PARALLEL)]
    time.sleep(3)  # let every process finish importing (2 shared cores)
    gate.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def audit_trail(db_url: str) -> tuple[list[tuple], tuple[int, int]]:
    """Every audit row but the load's, and (outbox rows, distinct outbox keys)."""
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            trail = [(r.stage_id, r.institution_id, r.action, r.source, r.dest, r.at)
                     for r in session.exec(select(AuditRow).where(AuditRow.action != "load"))]
            planned = tuple(session.execute(text("SELECT count(*), count(DISTINCT key) FROM outbox")).one())
    finally:
        db.dispose()
    return trail, planned


def check_once(db_url: str, tmp_path: Path) -> Counter:
    """Ticks across many boundaries at once (stage openings, a lock, an event, a list draw)."""
    Cli(db_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    results = parallel_ticks(db_url, "2021-12-02 10:00", tmp_path)
    assert [r.returncode for r in results] == [0] * PARALLEL, [r.stderr for r in results]
    assert sum(r.stdout.splitlines()[0] != "Изменений нет." for r in results) == 1  # one did the work, the others found it done

    trail, planned = audit_trail(db_url)
    reference = f"sqlite:///{tmp_path / f'reference-{uuid.uuid4().hex}.db'}"
    Cli(reference).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    Cli(reference).ok("tick", "--now", "2021-12-02 10:00")
    expected, expected_planned = audit_trail(reference)

    counts = Counter((stage, inst, action) for stage, inst, action, *_ in trail)
    stage_level = {k: n for k, n in counts.items() if k[1] is None}
    assert {"fill-form", "list1", "handout1", "review1", "kickoff-webinar"} <= {stage for stage, _, _ in stage_level}
    assert len(stage_level) == 9 and len(trail) == 9 + 33  # 8 stage changes and a draw; 33 ДОУ moves
    assert set(stage_level.values()) == {1}, stage_level  # each opening, lock, event, draw: once
    assert set(counts.values()) == {1}  # and each ДОУ's move too
    assert Counter(trail) == Counter(expected)  # the same trail one tick alone writes
    assert planned[0] == planned[1] == expected_planned[0] > 0
    return counts


def test_parallel_ticks_record_each_stage_change_once_on_sqlite(tmp_path: Path):
    check_once(f"sqlite:///{tmp_path / 'dqflow.db'}", tmp_path)


def test_parallel_ticks_record_each_stage_change_once_on_postgresql(pg_url: str, tmp_path: Path):
    check_once(pg_url, tmp_path)
