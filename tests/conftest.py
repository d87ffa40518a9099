"""Shared fixtures: the bundled Tomsk campaign, a fresh database per test on each backend, the CLI.

`db_url` (and so `dq` and `tomsk`) is parametrised over SQLite and PostgreSQL: every test that talks to
dqflow only through its CLI or engine runs on both. The PostgreSQL half runs where a server answers at
`DQFLOW_TEST_PG` (default `postgresql+psycopg://postgres@127.0.0.1:5432`, trust auth, admin database
`test`) and is skipped, with the reason, where none does. A test that inspects the SQLite file itself
(its bytes, modes, WAL, triggers) says so with `@pytest.mark.sqlite_only("why")`.
"""

import functools
import json
import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from click.testing import CliRunner
from sqlalchemy.pool import NullPool

from dqflow.cli import cli
from dqflow.redact import redact_url

ROOT = Path(__file__).resolve().parent.parent
TOMSK = ROOT / "workflows" / "tomsk-2021.yaml"


def seeded_campaign(folder: Path, n: int = 60):
    """`benchmarks/roster.py`'s seeded roster of `n` ДОУ with two experts each, on the Tomsk schedule, loaded as a spec."""
    import importlib.util

    from dqflow.campaign import spec

    found = importlib.util.spec_from_file_location("roster", ROOT / "benchmarks" / "roster.py")
    assert found is not None and found.loader is not None
    roster = importlib.util.module_from_spec(found)
    found.loader.exec_module(roster)
    return spec.load(roster.campaign_file(folder, n, experts=2, seed=1))


@contextmanager
def counting_statements(target=sqlalchemy.engine.Engine, *, but_thread: str | None = None):
    """Every SQL statement `target` (an engine; by default any engine) sends to its database while the block runs (but
    those of the thread named `but_thread`: the requests', not the kept pages' maker's)."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if but_thread is None or threading.current_thread().name != but_thread:
            seen.append(statement)

    sqlalchemy.event.listen(target, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(target, "before_cursor_execute", count)


PG_SERVER = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ("sqlite", "postgresql")


@functools.cache
def pg_absent() -> str | None:
    """Why the PostgreSQL tests cannot run (None when a server answers); asked once per session."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        psycopg.connect(PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means the same: no server for these tests
        return redact_url(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return None


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): runs on the SQLite half only (it inspects the SQLite file itself)")
    config.addinivalue_line("markers", "postgresql: the PostgreSQL half of a test parametrised over both backends")


def pytest_sessionstart(session) -> None:
    """Where CI promises a server (DQFLOW_TEST_PG_REQUIRED=1), its absence fails the run instead of skipping half."""
    if os.environ.get("DQFLOW_TEST_PG_REQUIRED", "") not in ("", "0") and pg_absent():
        pytest.exit(f"DQFLOW_TEST_PG_REQUIRED is set but there is no PostgreSQL at {redact_url(PG_SERVER)}: {pg_absent()}", returncode=3)


def pytest_generate_tests(metafunc) -> None:
    """Every test using `db_url` (directly or through `dq`/`tomsk`) runs once per backend, unless sqlite_only."""
    if "db_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        params = [pytest.param("sqlite", id="sqlite")]
    else:
        params = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql)]
    metafunc.parametrize("db_url", params, indirect=True)


def pytest_report_header(config) -> str:
    """Say up front whether the PostgreSQL half of the suite runs, and why not when it does not."""
    server = redact_url(PG_SERVER)
    why = pg_absent()
    if why:
        return f"PostgreSQL at {server}: absent ({why}); the [postgresql] half of the suite is SKIPPED, only SQLite runs"
    return f"PostgreSQL at {server}: available; the suite runs on SQLite and on PostgreSQL"


_PG_OUTCOMES: dict[str, str] = {}


def pytest_runtest_logreport(report) -> None:
    if "postgresql" in report.keywords and (report.when == "call" or report.outcome != "passed"):
        _PG_OUTCOMES.setdefault(report.nodeid, report.outcome)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Repeat at the end (where CI logs are read) whether the PostgreSQL half ran, and why not."""
    if not _PG_OUTCOMES:
        return
    counts: dict[str, int] = {}
    for outcome in _PG_OUTCOMES.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    why = pg_absent()
    shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    verdict = f"SKIPPED ({why})" if why and set(counts) == {"skipped"} else "ran"
    terminalreporter.write_sep("-", f"PostgreSQL half at {redact_url(PG_SERVER)}: {verdict}: {shown}")


def query(url: str, sql: str) -> list[tuple]:
    """The rows of one SQL statement, on either backend, through a connection closed after it."""
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(sql))]
    finally:
        engine.dispose()


def dump_tables(url: str) -> list[tuple[str, list[tuple]]]:
    """Every table's rows, sorted, on either backend: what "writes nothing" compares ([] with no tables).

    A SQLite file that does not exist is [] too, and is not created by looking."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            names = sorted(sqlalchemy.inspect(connection).get_table_names())
            return [(name, sorted(map(tuple, connection.execute(sqlalchemy.text(f'SELECT * FROM "{name}"'))), key=repr))
                    for name in names]
    finally:
        engine.dispose()


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
def db_url(request, tmp_path: Path) -> str:
    """A fresh database on the backend this run of the test is for (see pytest_generate_tests)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'dqflow.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def database(db_url: str):
    """An engine on a fresh database of this run's backend, at the current schema (`store.connect`)."""
    from dqflow import store

    db = store.connect(db_url)
    yield db
    db.dispose()


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
    why = pg_absent()
    if why:
        pytest.skip(f"no PostgreSQL at {redact_url(PG_SERVER)}: {why}")
    import psycopg

    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test"
    connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    name = f"dqflow_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.close()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven through its matching chromedriver (Selenium), shared by a session.

    `.ci/run` installs `chromium` and `chromium-driver` where they are absent; elsewhere the tests that
    need a browser are skipped with the reason. Console messages are kept (`get_log("browser")`) so a
    test can assert a page logged no error; `print_page()` gives a PDF, `save_screenshot()` a PNG.
    """
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        pytest.skip("no Debian chromium/chromium-driver here (apt-get install chromium chromium-driver; .ci/run does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)
    yield chrome
    chrome.quit()


@pytest.fixture
def browser(chromium):
    """The shared Chromium with its console log emptied: what a test reads was logged by its own pages."""
    chromium.get_log("browser")
    return chromium


# A review counts only with a level for every area of the campaign (`rules.counts_as_review`): the tests that
# record one for something else give the levels they name and a level for each other area.
AREAS = ("conditions", "guidelines", "parents", "health", "special-needs")  # the areas of the bundled campaigns


def complete(*given: str) -> dict[str, str]:
    """AREA=LEVEL pairs (a malformed one kept as it is, under its own text) and "2" for each area not named."""
    found = dict(pair.split("=", 1) if "=" in pair else (pair, "") for pair in given)
    return {**found, **{a: "2" for a in AREAS if a not in found}}


def levels(*given: str) -> list[str]:
    """`--level` arguments for `dqflow review`: those given, and a level for each other area."""
    return [arg for area, level in complete(*given).items() for arg in ("--level", f"{area}={level}" if level else area)]


def levels_cell(cell: str) -> str:
    """The levels cell of a review import: those given, and a level for each other area."""
    return ";".join(f"{a}={lv}" if lv else a for a, lv in complete(*[p for p in cell.split(";") if p]).items())


def form_levels(**given: str) -> dict[str, str]:
    """The portal's review form: the levels given (`conditions="2"`, underscores for hyphens), and one for each other area."""
    named = {a.replace("_", "-"): lv for a, lv in given.items()}
    return {f"level-{a}": lv for a, lv in complete(*(f"{a}={lv}" for a, lv in named.items())).items()}

LINK = ("https://example.org/materials",)  # a hand-in counts only with a link (`rules.counts_as_submission`)


def hand_in_all(dq: "Cli", now: str = "2021-11-25 00:05", stage: str = "fill-form") -> None:
    """Every ДОУ of the Tomsk campaign hands in a link: its experts have something to review (`rules.materials`)."""
    import yaml

    for inst in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"]:
        dq.ok("submit", str(inst["id"]), "--stage", stage, "--link", f"https://dou{inst['id']}.example.org/form", "--now", now)
