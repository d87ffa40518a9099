"""The database: connecting (and bringing the schema up), transactions, the campaign lock, and the
set-based helpers every writer shares. No business rules here."""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import time
import weakref
from collections import Counter
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Iterable, Iterator, cast

from sqlalchemy import Connection, Insert, Select, event, insert, inspect, text
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, SQLModel, create_engine, select

try:
    import fcntl
except ImportError:  # not on Windows: there writers of several processes meet at SQLite's lock alone
    fcntl = None  # type: ignore[assignment]

from dqflow.errors import DqflowError, NotFound
from dqflow.redact import redact, redact_url, url_secrets
from dqflow.store import schema
from dqflow.store.tables import DEFAULT_DB, AuditRow, CampaignRow
from dqflow.store.tables import table as table_of


def database_url(value: str | None) -> str:
    """`--db` / DQFLOW_DB: a SQLAlchemy URL, or a path to a SQLite file."""
    value = value or os.environ.get("DQFLOW_DB") or DEFAULT_DB
    return value if "://" in value else f"sqlite:///{value}"


def connect(url: str | None = None, *, throwaway: bool = False) -> Engine:
    """An engine on a database at the current schema revision (`schema`: a new one is created, an older
    one upgraded in place, a newer one refused): WAL and a busy timeout on SQLite, a new SQLite file
    private to its owner. Messages never show the URL's password. `throwaway`: a SQLite file nobody
    keeps (the replay's own) is never synced to disk: a crash loses nothing anyone wanted."""
    engine, shown, secrets = _open(url)
    if throwaway and engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _unsynced)
        _unshared.add(engine)  # one process writes it: no turn file beside it (nothing left behind when it goes)
    _schema_step(engine, shown, secrets, lambda: schema.ensure(engine, shown))
    return engine


def migrate(url: str | None = None) -> tuple[str, schema.State | None]:
    """Bring the database to the current revision now: (the database as messages name it, the state it
    was found in, or None when it was current already)."""
    engine, shown, secrets = _open(url)
    try:
        return shown, _schema_step(engine, shown, secrets, lambda: schema.ensure(engine, shown))
    finally:
        engine.dispose()


def schema_state(url: str | None = None) -> tuple[str, schema.State]:
    """Where the database's schema stands, writing nothing: a missing SQLite file is not created, nor is
    a database switched to WAL."""
    engine, shown, secrets = _open(url, write=False)
    try:
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and not path.startswith("file:") and not os.path.exists(path):
            return shown, schema.State(None, False)

        def read() -> schema.State:
            with engine.connect() as connection:
                return schema.state(connection)

        return shown, _schema_step(engine, shown, secrets, read)
    finally:
        engine.dispose()


def _open(url: str | None, write: bool = True) -> tuple[Engine, str, list[str]]:
    url = database_url(url)
    shown, secrets = redact_url(url), url_secrets(url)
    try:
        engine = create_engine(url, connect_args={"timeout": BUSY_SECONDS} if url.startswith("sqlite") else {})
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DqflowError(f"нельзя использовать базу данных '{shown}': {redact(str(exc), secrets)}; "
                          "укажите --db ПУТЬ или адрес вида postgresql+psycopg://host/db") from None
    if engine.dialect.name == "sqlite" and write:
        _create_private(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_settings)
        event.listen(engine, "before_cursor_execute", _audit_in_commit_order)
    event.listen(engine, "after_cursor_execute", _count_written)
    return engine, shown, secrets


def _schema_step(engine: Engine, shown: str, secrets: list[str], step):
    try:
        return step()
    except DqflowError as exc:
        engine.dispose()
        raise DqflowError(f"база данных '{shown}': {redact(str(exc), secrets)}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DqflowError(f"не удаётся открыть базу данных '{shown}': {redact(str(getattr(exc, 'orig', None) or exc), secrets)}") from None


def _create_private(engine: Engine) -> None:
    """Create a new SQLite file 0600 before SQLite opens it; its -wal and -shm files take the mode of
    the database file, so they are private too. An existing file keeps the mode its owner chose
    (dqflow never loosens it, and does not overrule a deliberate group read for backups)."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:") or engine.url.query.get("mode"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        pass  # it exists (keep its mode), or the folder is missing: SQLite's own error says so next


def _unsynced(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")
    # a replay reads each address's rows again at every send: 32 MB of pages kept, not 2, cost 8 % less
    # CPU at 10,000 ДОУ (64 MB gained nothing more)
    dbapi_connection.execute("PRAGMA cache_size=-32768")


def _postgresql_settings(dbapi_connection, _record) -> None:
    """No JIT compilation: dqflow's statements are short, and the cost the planner gives the skip policy's correlated
    probes (never run for most rows) passed the JIT's thresholds: 6.2 s of compiling for a 1.7 s count at 50,000 ДОУ."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET jit = off")
        dbapi_connection.commit()
    except Exception:  # noqa: BLE001 - a server without the setting (before PostgreSQL 11) has no JIT to turn off
        dbapi_connection.rollback()
    finally:
        cursor.close()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL: readers (the portal's pages) never wait for the writer, nor it for them. busy_timeout: a writer of another
    process (the daemon, a CLI command) waits up to 30 s for the write lock; the writers of one process queue on
    `_writer` first. synchronous=NORMAL in WAL: a commit is appended to the WAL without an fsync (the WAL is synced at
    each checkpoint), so a committed transaction survives any crash of the process (its pages are in the operating
    system's cache) and the database is never corrupted, but the last commits before a power loss or a crash of the
    operating system may be rolled back: a hand-in the portal acknowledged in the last moments before the machine lost
    power would be gone, and the ledger's sent marks (the delivery guarantee then sends those letters again).
    synchronous=FULL would make every commit durable at one fsync of the WAL each: 2.7 ms a write transaction on this
    project's machine against 0.01 ms, inside the write lock; chosen against so far (PostgreSQL, the backend for a
    deployment that must not lose an acknowledged hand-in to a power loss, syncs every commit by default)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def transaction(engine: Engine, *, recorded_at: datetime | None = None, actor: str | None = None) -> Iterator[Session]:
    """A session that commits on success and writes nothing on any error.

    `recorded_at` is the real clock as the edge (CLI, portal) read it: the audit rows of this
    transaction carry it, whatever moment the command names. On SQLite the transaction takes the
    write lock when it begins, so what it reads stays true until it commits: two processes
    reconciling at once run one after the other instead of both acting on the same old state.
    `actor` is the person the edge acts for: the audit rows of what people do carry it (`acting`).
    """
    sqlite = engine.dialect.name == "sqlite"
    with _turn(engine) if sqlite else nullcontext(), Session(engine, expire_on_commit=False) as session:
        session.info["recorded_at"] = recorded_at
        session.info["actor"] = actor
        session.info[_WRITTEN] = written = Counter[str]()
        try:
            if sqlite:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    _after_commit(engine, written, session.info.get(_FILLED, set()))


BUSY_SECONDS = 30  # how long a SQLite writer waits for the write lock (the busy timeout) before it fails


@contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """This process's turn to write (`_writer`), then the database's across processes (`_Turn.across`); after BUSY_SECONDS
    without them (in all), the transaction goes on to meet SQLite's own lock and its busy timeout, failing as it did before the
    queue was there rather than waiting for ever."""
    turn = _writer(engine)
    began = time.monotonic()
    held = turn.lock.acquire(timeout=BUSY_SECONDS)
    try:
        with turn.across(BUSY_SECONDS - (time.monotonic() - began)) if held else nullcontext():
            yield
    finally:
        if held:
            turn.lock.release()


_writers: weakref.WeakKeyDictionary[Engine, _Turn] = weakref.WeakKeyDictionary()
_writers_made = threading.Lock()
_unshared: weakref.WeakSet[Engine] = weakref.WeakSet()  # throwaway files (`connect`): written by their own process alone


def _writer(engine: Engine) -> _Turn:
    """The turn to write to a SQLite database: the process's write transactions queue on its lock, each woken the moment
    the one before it ends, instead of all polling SQLite's write lock (`busy_timeout` retries after sleeps growing to
    100 ms, so under a rush a writer could lose many times in a row and wait seconds behind writers that came later);
    the one holding it then queues the same way for the file lock beside the database that every process's writers
    take (`_Turn.across`): the workers of `serve --workers N`, the daemon and a CLI command. A re-entrant lock: a thread
    holding it behaves as it did without it."""
    with _writers_made:
        found = _writers.get(engine)
        if found is None:
            path = engine.url.database
            shared = (engine not in _unshared and path is not None and path not in ("", ":memory:")
                      and not path.startswith("file:") and not engine.url.query.get("mode"))
            found = _writers[engine] = _Turn(f"{path}{TURN_SUFFIX}" if shared and fcntl is not None else None, path)
        return found


TURN_SUFFIX = "-writer.lock"  # the file beside a SQLite database whose exclusive flock is the turn to write to it


class _Turn:
    """One process's turn to write to one SQLite database: `lock` among its threads, then (`across`) an exclusive flock
    on `path` (None: in memory, a throwaway file, or no fcntl: SQLite's own lock alone) among its processes. Each turn
    takes the flock on a descriptor of its own, opened for it and closed to let the turn go (a few microseconds against
    a write transaction): a wait given up can then only ever let go of its own descriptor, never a later writer's, and
    no descriptor outlives its turn (after a fork, or when the engine goes). Only the thread holding `lock` takes it,
    once however deep its transactions nest."""

    def __init__(self, path: str | None, database: str | None) -> None:
        self.lock = threading.RLock()
        self.path, self.database = path, database
        self.depth = 0  # transactions of the thread holding `lock` under the flock it took

    @contextmanager
    def across(self, seconds: float) -> Iterator[None]:
        fd = self._open() if not self.depth and self.path is not None else None
        held = fd is not None and _flock(fd, seconds)  # False: `fd` is already closed, or will be by the wait given up
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if held:
                assert fd is not None
                os.close(fd)  # its only descriptor closed: the flock is let go

    def _open(self) -> int | None:
        """A descriptor of the turn's file, made with the database's mode (private when it is) if missing; read-only when
        it cannot be opened for writing (a database shared by a group, the file made under another's umask: flock needs no
        write access); None when it cannot be opened at all (a read-only folder: SQLite's own lock alone, as before)."""
        assert self.path is not None
        try:  # the database's mode on a new file: private when the database is (`_create_private`)
            mode = stat.S_IMODE(os.stat(self.database).st_mode) & 0o666 if self.database else 0o600
        except OSError:
            mode = 0o600
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        except PermissionError:
            try:
                return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:
                problem: OSError = exc
        except OSError as exc:
            problem = exc
        _log.warning("no turn file %s (%s): writers of several processes meet at SQLite's lock", self.path, problem)
        self.path = None
        return None


def _flock(fd: int, seconds: float) -> bool:
    """Take the exclusive flock on `fd`, waiting at most `seconds` (asleep in the kernel, woken when it is released):
    True when held (the caller closes `fd` to let it go); False when not had in time, `fd` then closed here or, by the
    helper still waiting in flock, the moment it gets it (the caller goes on without the turn). flock has no timeout of
    its own: when the file is held, a helper thread waits in it. The turn only orders the writers: what keeps their
    transactions apart is SQLite's own lock, whatever happens to the turn."""
    assert fcntl is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if seconds <= 0:
            os.close(fd)
            return False
    done, guard = threading.Event(), threading.Lock()
    said = {"held": False, "late": False}

    def wait() -> None:
        assert fcntl is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = True
        except OSError:
            held = False
        with guard:
            if not said["late"]:
                said["held"] = held
                done.set()
                return
        os.close(fd)  # given up on: this wait's own descriptor, so closing it lets go of nobody else's turn

    threading.Thread(target=wait, name="dqflow-turn", daemon=True).start()
    done.wait(seconds)
    with guard:
        if not done.is_set():
            said["late"] = True
            return False
    if not said["held"]:
        os.close(fd)
    return said["held"]


def recorded_at(session: Session, now: datetime) -> datetime:
    """When this transaction's audit rows are written: the clock reading its edge gave, else `now`
    (callers that pass none, the daemon and the simulation, act on their own clock's `now`)."""
    return session.info.get("recorded_at") or now


def acting(session: Session) -> str | None:
    """Who this transaction acts for (see `transaction`); None when the clock itself acts."""
    return session.info.get("actor")


def lock_campaign(session: Session, campaign_id: str) -> None:
    """Make a read-decide-write on one campaign exclusive until the transaction ends, so a change
    (and its audit row) is made by one of several concurrent reconciles only. PostgreSQL: a row lock
    on the campaign. SQLite: the write transaction already holds the database's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(CampaignRow.id).where(CampaignRow.id == campaign_id).with_for_update())


def share_campaign(session: Session, campaign_id: str) -> None:
    """Act on some rows of one campaign beside other such acts, never beside a reconcile: the acts of a portal's hand-ins
    (each on its own ДОУ's rows, which it locks: `FOR UPDATE` on them) run side by side, while a reconcile, an amendment
    or anything else that takes `lock_campaign` waits for them, and they for it. PostgreSQL: a share lock on the
    campaign's row. SQLite: the write transaction already holds the database's write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(CampaignRow.id).where(CampaignRow.id == campaign_id).with_for_update(read=True))


@contextmanager
def dry_run(engine: Engine) -> Iterator[Session]:
    """A session whose changes are always rolled back: 'as if it had run', writing nothing.

    On SQLite the transaction is begun explicitly: the driver begins one by itself only before a statement
    that starts with INSERT, UPDATE or DELETE, and would commit a `WITH … INSERT` at once (WAL: a reader
    holds no lock that keeps a writer waiting)."""
    with Session(engine, expire_on_commit=False) as session:
        session.info[_DRY] = True
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN")
        try:
            yield session
        finally:
            session.expunge_all()  # what was read stays readable after the rollback
            session.rollback()


def campaign_ids(session: Session) -> list[str]:
    return list(session.exec(select(CampaignRow.id).order_by(CampaignRow.id)))


def campaign_row(session: Session, campaign_id: str | None) -> CampaignRow:
    """The campaign named, or the only one loaded."""
    found = session.get(CampaignRow, campaign_digest(session, campaign_id)[0])
    assert found is not None  # campaign_digest has just read it
    return found


def campaign_digest(session: Session, campaign_id: str | None) -> tuple[str, str]:
    """(id, digest) of the campaign named, or of the only one loaded: one narrow read, the stored
    definition (megabytes for a national roster) stays on disk."""
    query = select(CampaignRow.id, CampaignRow.digest)
    found = session.exec(query.where(CampaignRow.id == campaign_id) if campaign_id is not None else query.limit(2)).all()
    if len(found) == 1:
        return found[0][0], found[0][1]
    ids = campaign_ids(session)
    if campaign_id is None and not ids:
        raise NotFound("no campaign is loaded; run 'dqflow load FILE' first", code="no-campaign-loaded", named="")
    if campaign_id is None:
        raise NotFound(f"several campaigns are loaded ({', '.join(ids)}); pick one with --campaign ID", code="several-campaigns",
                       loaded=", ".join(ids))
    raise NotFound(f"no campaign '{campaign_id}' is loaded" + (f"; loaded: {', '.join(ids)}" if ids else "; run 'dqflow load FILE' first"),
                   code="no-campaign" if ids else "no-campaign-loaded", campaign_id=campaign_id, loaded=", ".join(ids), named=f" «{campaign_id}»")


def _insert_ignoring(session: Session, model: type[SQLModel]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING into the model's table, as this session's database spells it."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table_of(model)).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table_of(model)).on_conflict_do_nothing()
    raise DqflowError(f"база данных '{dialect}' не поддерживается; используйте SQLite или PostgreSQL")


IN_CHUNK = 500  # ids bound in one IN (…): well under SQLite's variable limit


def chunks(items: list, size: int = IN_CHUNK):
    """The items a slice of `size` at a time: a long list of ids bound into IN (…), a statement per slice."""
    return (items[start:start + size] for start in range(0, len(items), size))


def insert_ignore(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> int:
    """Insert rows, keeping the existing row on a unique-key clash; returns how many were offered."""
    if not rows:
        return 0
    # Core insert on the table: one executemany. The ORM's bulk insert splits the rows into a
    # statement per pattern of NULLs, thousands of round trips for a big campaign.
    session.execute(_insert_ignoring(session, model), rows)
    return len(rows)


def insert_select(session: Session, model: type[SQLModel], columns: list[str], query: Select[Any]) -> int:
    """INSERT…SELECT keeping the existing row on a unique-key clash; returns how many rows were added."""
    return rowcount(session, _insert_ignoring(session, model).from_select(columns, query))


def rowcount(session: Session, statement: Executable) -> int:
    """Run a write statement in the session (which flushes its pending changes first) and say how many rows it touched."""
    result: CursorResult[Any] = cast("CursorResult[Any]", session.execute(statement))  # a write's result is a cursor's
    return result.rowcount


def audit_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set-based insert of audit rows (one statement for a whole stage)."""
    if rows:
        session.execute(insert(table_of(AuditRow)), rows)


# -- the planner's statistics ----------------------------------------------------------------------------------------
#
# PostgreSQL plans from statistics that ANALYZE gathers. Autovacuum gathers them in time on a server where it is on
# and has reached the table; a freshly loaded table, or a server with autovacuum off, has none, and the planner then
# guesses (the due index's pages rescanned the whole due range once per page: 161 s for the first tick after loading
# 50,000 ДОУ, 4.9 s after a manual ANALYZE). So dqflow runs ANALYZE itself, on the tables a transaction filled, once it
# has committed: after a load, an amendment and a replay into --keep-db (`analyze_after`), and after any transaction
# whose statements wrote more than ANALYZE_ROWS rows into a table and a tenth of what the planner believes the table
# holds (autovacuum's own rule, `autovacuum_analyze_scale_factor`), counted per process across transactions so that
# many small writes (a send's) are caught up too. SQLite plans well without statistics here (measured:
# docs/benchmarks.md), and its ANALYZE reads every row of the table under the write lock: there it is not run.

ANALYZE_ROWS = 2000  # rows written into a table before its statistics are worth refreshing
ANALYZE_SHARE = 0.1  # …and this share of the rows the planner believes it holds
_WRITTEN = "dqflow_written"  # session.info / connection.info: rows written per table by the transaction
_FILLED = "dqflow_filled"  # session.info: tables to analyse after the commit whatever the count
_log = logging.getLogger(__name__)


class _Tally:
    """Rows written per table since this process last analysed it, and the rows the planner believed it held then."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.written: Counter[str] = Counter()
        self.believed: dict[str, float] = {}


_tallies: weakref.WeakKeyDictionary[Engine, _Tally] = weakref.WeakKeyDictionary()


def analyze_after(session: Session, *tables: str) -> None:
    """Note that this transaction filled `tables` (their names): `transaction` runs `analyze` on them once it has
    committed, whatever the number of rows (a load, an amendment)."""
    session.info.setdefault(_FILLED, set()).update(tables)


def analyze(bind: Engine | Connection, tables: Iterable[str]) -> list[str]:
    """Refresh the planner's statistics of these tables, in their own short transaction (on PostgreSQL; SQLite is left
    to plan without them, see above). Returns the tables analysed. A failure is logged, never raised: the data it
    follows is committed, and the planner's guesses are only slower."""
    names = sorted(set(tables))
    if not names or bind.dialect.name != "postgresql":
        return []
    statement = "ANALYZE " + ", ".join(bind.dialect.identifier_preparer.quote(name) for name in names)
    try:
        if isinstance(bind, Connection):
            bind.exec_driver_sql(statement)
        else:
            with bind.begin() as connection:
                connection.exec_driver_sql(statement)
    except SQLAlchemyError as exc:
        _log.warning("ANALYZE %s failed: %s", ", ".join(names), getattr(exc, "orig", None) or exc)
        return []
    return names


def analyze_all(bind: Engine) -> list[str]:
    """`analyze` every table of dqflow's the database holds (after a replay into a kept database, by `migrate`)."""
    if bind.dialect.name != "postgresql":
        return []
    with bind.connect() as connection:
        present = set(inspect(connection).get_table_names())
    return analyze(bind, [t.name for t in SQLModel.metadata.sorted_tables if t.name in present])


# -- audit ids in commit order (PostgreSQL) ------------------------------------------------------------------------------
#
# An audit row's id comes from a sequence when it is inserted, but the row is seen when its transaction commits: two
# hand-ins side by side (`share_campaign`) could take ids 104 and 105 and commit 105 first, and a reader then saw 105 as
# the latest audit row without 104's change, and went on seeing 105 after 104 came: the portal's state key
# (`web.snapshots.state_key`, the latest audit id) would name a state without that change until the next audit row.
# So a transaction takes a turn (a transaction-level advisory lock) before its first INSERT into `audit`, and holds it to
# its commit: audit ids are then handed out in commit order, and a reader that sees an audit id sees every audit row
# with a smaller one that will ever be seen. Every writer of audit rows is covered here, whatever module it is in
# (the ORM's flush of `AuditRow`s, `audit_many`, the reconciler's INSERT…SELECT). What it costs: writers of audit rows
# wait for one another from their first audit insert to their commit: for a hand-in or a review its last statements
# (`_Acts.write`: the audit rows, then its notices planned), for a reconcile everything after its first stage move (the
# lists drawn, the reminders planned) — while a tick plans, a sign-in or another campaign's act waits for it.
# Its lock order: a transaction locks the rows it acts on (`lock_campaign`, `share_campaign`, `FOR UPDATE`) before it
# inserts an audit row, never after; one that took a row lock after its first audit insert could wait for a
# transaction that waits for its turn (PostgreSQL would end the deadlock after deadlock_timeout, failing one of them).
# SQLite: write transactions are serialised whole already (`_turn`).

AUDIT_TURN = 0x6471666C6F77  # the advisory lock's key ("dqflow" in ASCII): the turn to insert audit rows
_AUDIT_TURN_HELD = "dqflow_audit_turn"  # connection.info: the transaction that holds the turn (or needs none)
_DRY = "dqflow_dry_run"  # session.info: a `dry_run`'s


def _audit_in_commit_order(connection: Connection, cursor, _statement, _parameters, context, _executemany) -> None:
    """Before a transaction's first INSERT into `audit` on PostgreSQL: wait for the turn (see above)."""
    if context is None or not context.isinsert:
        return
    table = getattr(getattr(context.compiled, "statement", None), "table", None)
    if getattr(table, "name", None) != AuditRow.__tablename__:
        return
    transaction = connection.get_transaction()
    held = connection.info.get(_AUDIT_TURN_HELD)
    if transaction is not None and held is not None and held() is transaction:
        return
    turn = cursor.connection.cursor()
    try:
        turn.execute(f"SELECT pg_advisory_xact_lock({AUDIT_TURN})")
    finally:
        turn.close()
    if transaction is not None:  # held until it ends (a new transaction is another object)
        connection.info[_AUDIT_TURN_HELD] = weakref.ref(transaction)


def _after_commit(engine: Engine, written: Counter[str], filled: set[str]) -> None:
    if engine.dialect.name != "postgresql" or not (written or filled):
        return
    tally = _tallies.setdefault(engine, _Tally())
    with tally.lock:
        tally.written.update(written)
        unknown = [t for t, n in tally.written.items() if n >= ANALYZE_ROWS and t not in tally.believed]
    believed = _believed(engine, unknown) if unknown else {}
    with tally.lock:  # decided and taken under the lock, analysed outside it: another thread's commit does not wait
        tally.believed.update(believed)
        due = set(filled) | {t for t, n in tally.written.items() if n >= max(ANALYZE_ROWS, ANALYZE_SHARE * tally.believed.get(t, 0))}
        for t in due:
            tally.written.pop(t, None)
    done = analyze(engine, due)
    if done:
        believed = _believed(engine, done)
        with tally.lock:
            tally.believed.update(believed)


def _believed(engine: Engine, tables: list[str]) -> dict[str, float]:
    """The rows the planner believes each table holds (0 for one never analysed)."""
    try:
        with engine.connect() as connection:
            query = text("SELECT relname, reltuples FROM pg_class WHERE oid = ANY(CAST(:names AS regclass[]))")
            found = {str(name): float(rows) for name, rows in connection.execute(query, {"names": tables}).all()}
    except SQLAlchemyError:
        return {}
    return {t: max(0.0, float(found.get(t, 0))) for t in tables}


@event.listens_for(Session, "after_begin")
def _link_counter(session: Session, _transaction, connection: Connection) -> None:
    """The connection's writes count into the session's tally (`transaction`'s), none into a dry run's; a dry run's
    audit rows are never seen, so it inserts them without the turn (`_audit_in_commit_order`): a preview that runs
    reconcile forward keeps no other writer of audit rows waiting to its end (a sign-in, another campaign's acts)."""
    connection.info[_WRITTEN] = session.info.get(_WRITTEN)
    transaction = connection.get_transaction()
    if session.info.get(_DRY) and transaction is not None:
        connection.info[_AUDIT_TURN_HELD] = weakref.ref(transaction)


def driver_mark(dialect: Any) -> str:
    """The driver's placeholder for a value in a statement run through it (`exec_driver_sql`): sqlite3's `?`, psycopg's `%s`."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)  # a statement's table, by its text


def _count_written(connection: Connection, cursor, statement: str, _parameters, context, _executemany) -> None:
    """Rows an INSERT, UPDATE or DELETE wrote, by table, into the transaction's tally (`analyze`'s rule). A statement run
    through the driver (`exec_driver_sql`: the send's skips, the acts' progress rows) has nothing compiled: its table is
    read from its text."""
    counter = connection.info.get(_WRITTEN)
    if counter is None or context is None:
        return
    if context.compiled is None or not isinstance(getattr(context.compiled, "statement", None), Executable):
        found = _WRITE.match(statement)
        name: Any = found.group(1) if found else None
    elif context.isinsert or context.isupdate or context.isdelete:
        name = getattr(getattr(context.compiled.statement, "table", None), "name", None)
    else:
        return
    if isinstance(name, str) and cursor.rowcount and cursor.rowcount > 0:
        counter[name] += cursor.rowcount
