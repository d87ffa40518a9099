"""Shared fixtures: the bundled Tomsk campaign, a fresh SQLite file per test, the CLI."""

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from dqflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
TOMSK = ROOT / "workflows" / "tomsk-2021.yaml"


PG_SERVER = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def pytest_report_header(config) -> str:
    """Say up front which outside services the run has: the PostgreSQL tests skip without one."""
    server = PG_SERVER
    try:
        import psycopg

        psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://") + "/test", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means the same: no server for these tests
        return f"PostgreSQL at {server}: absent ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); tests/test_postgres.py is skipped"
    return f"PostgreSQL at {server}: available; tests/test_postgres.py runs"


class Cli:
    """Runs `dqflow` in-process against one database; a traceback is always a test failure."""

    def __init__(self, db_url: str, env: dict[str, str] | None = None):
        self.db_url = db_url
        self.env = env or {}

    def __call__(self, *args: str, input: str | None = None):
        result = CliRunner().invoke(cli, ["--db", self.db_url, *map(str, args)], input=input, env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, result.output
        return result.output

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dqflow.db'}"


@pytest.fixture
def dq(db_url: str) -> Cli:
    return Cli(db_url)


@pytest.fixture
def tomsk(dq: Cli) -> Cli:
    """The Tomsk campaign loaded a week before it starts."""
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    return dq


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    """A private copy of the Tomsk file (and anything beside it) that a test may edit."""
    target = tmp_path / "campaign"
    shutil.copytree(TOMSK.parent, target)
    return target / TOMSK.name


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped after it; skipped with the reason where there is no server."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test"
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {PG_SERVER}: {exc}".splitlines()[0])
    name = f"dqflow_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.close()
