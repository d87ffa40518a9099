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

from conftest import ROOT, TOMSK, Cli
from dqflow import engine, report, store
from dqflow.calendar import parse_local
from dqflow.errors import DqflowError
from dqflow.store import AuditRow
from tests.smtp_server import SmtpServer

TZ = ZoneInfo("Asia/Tomsk")
SERVER = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
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


@pytest.fixture
def pg_url():
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    admin = SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test"
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}".splitlines()[0])
    name = f"dqflow_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.close()


# -- the database file is private ----------------------------------------------------------


def test_a_new_database_and_its_wal_shm_and_lock_files_are_private(tmp_path: Path, umask_022):
    path = tmp_path / "dqflow.db"
    Cli(f"sqlite:///{path}").ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    assert mode(path) == 0o600

    db = store.connect(str(path))
    try:
        with store.transaction(db) as session:  # an open write: SQLite keeps the -wal and -shm files
            session.execute(text("UPDATE stage SET state = state"))
            assert mode(Path(f"{path}-wal")) == 0o600 and mode(Path(f"{path}-shm")) == 0o600
        with store.exclusive(db, "send-tomsk-2021") as held:
            assert held
        locks = list(tmp_path.glob("dqflow.db.*.lock"))
        assert locks and all(mode(lock) == 0o600 for lock in locks)
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
