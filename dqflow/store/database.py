"""The database: connecting (and bringing the schema up), transactions, the campaign lock, and the
set-based helpers every writer shares. The writers' turns are `turns`, the planner's statistics `statistics`. No
business rules here."""

from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Iterator, cast

from sqlalchemy import Connection, Insert, Select, bindparam, event, insert
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, SQLModel, create_engine, select

from dqflow.errors import DqflowError, NotFound
from dqflow.redact import redact, redact_url, url_secrets
from dqflow.store import schema, statistics, turns
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
        turns.unshared(engine)
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
        engine = create_engine(url, connect_args={"timeout": turns.BUSY_SECONDS} if url.startswith("sqlite") else {})
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DqflowError(f"нельзя использовать базу данных '{shown}': {redact(str(exc), secrets)}; "
                          "укажите --db ПУТЬ или адрес вида postgresql+psycopg://host/db") from None
    if engine.dialect.name == "sqlite" and write:
        _create_private(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_settings)
        event.listen(engine, "before_cursor_execute", turns.audit_in_commit_order)
    event.listen(engine, "after_cursor_execute", statistics.count_written)
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
    `turns.writing` first. synchronous=NORMAL in WAL: a commit is appended to the WAL without an fsync (the WAL is synced at
    each checkpoint), so a committed transaction survives any crash of the process (its pages are in the operating
    system's cache) and the database is never corrupted, but the last commits before a power loss or a crash of the
    operating system may be rolled back: a hand-in the portal acknowledged in the last moments before the machine lost
    power would be gone, and the ledger's sent marks (the delivery guarantee then sends those letters again).
    synchronous=FULL would make every commit durable at one fsync of the WAL each: 2.7 ms a write transaction on this
    project's machine against 0.01 ms, inside the write lock; chosen against so far (PostgreSQL, the backend for a
    deployment that must not lose an acknowledged hand-in to a power loss, syncs every commit by default)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={turns.BUSY_SECONDS * 1000}")
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
    with turns.writing(engine) if sqlite else nullcontext(), Session(engine, expire_on_commit=False) as session:
        session.info["recorded_at"] = recorded_at
        session.info["actor"] = actor
        session.info[statistics.WRITTEN] = written = Counter[str]()
        try:
            if sqlite:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    statistics.after_commit(engine, written, session.info.get(statistics.FILLED, set()))


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
def dry_run(engine: Engine, *, snapshot: bool = False) -> Iterator[Session]:
    """A session whose changes are always rolled back: 'as if it had run', writing nothing.

    On SQLite the transaction is begun explicitly: the driver begins one by itself only before a statement
    that starts with INSERT, UPDATE or DELETE, and would commit a `WITH … INSERT` at once (WAL: a reader
    holds no lock that keeps a writer waiting). Its statements then read one snapshot of the database.
    `snapshot`: on PostgreSQL too (REPEATABLE READ), where each statement otherwise sees what was committed before it
    began — for a document whose figures must all be of one moment (the справка). Not for a dry run that writes rows
    others may change meanwhile (a reconcile run forward): REPEATABLE READ refuses such a write."""
    with Session(engine, expire_on_commit=False) as session:
        session.info[_DRY] = True
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN")
            session.info[_SNAPSHOT] = True
        elif snapshot:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            session.info[_SNAPSHOT] = True
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


# made once: a write transaction asks it under the lock (a hand-in's, a review's), and building it cost about what running it did
_DIGEST_OF = select(CampaignRow.id, CampaignRow.digest).where(CampaignRow.id == bindparam("campaign"))
_DIGEST_ANY = select(CampaignRow.id, CampaignRow.digest).limit(2)


def campaign_digest(session: Session, campaign_id: str | None) -> tuple[str, str]:
    """(id, digest) of the campaign named, or of the only one loaded: one narrow read, the stored
    definition (megabytes for a national roster) stays on disk."""
    if campaign_id is not None:
        found = session.execute(_DIGEST_OF, {"campaign": campaign_id}).all()
    else:
        found = session.execute(_DIGEST_ANY).all()
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


_DRY = "dqflow_dry_run"  # session.info: a `dry_run`'s
_SNAPSHOT = "dqflow_snapshot"  # session.info: every statement of the session reads one snapshot (`dry_run`)


def one_snapshot(session: Session) -> bool:
    """Whether every statement of `session` reads the same snapshot of the database (`dry_run`'s `snapshot`)."""
    return bool(session.info.get(_SNAPSHOT))


@event.listens_for(Session, "after_begin")
def _link_counter(session: Session, _transaction, connection: Connection) -> None:
    """The connection's writes count into the session's tally (`transaction`'s), none into a dry run's; a dry run's
    audit rows are never seen, so it inserts them without the turn (`turns.audit_in_commit_order`): a preview that runs
    reconcile forward keeps no other writer of audit rows waiting to its end (a sign-in, another campaign's acts)."""
    connection.info[statistics.WRITTEN] = session.info.get(statistics.WRITTEN)
    if session.info.get(_DRY):
        turns.needs_no_audit_turn(connection)


def driver_mark(dialect: Any) -> str:
    """The driver's placeholder for a value in a statement run through it (`exec_driver_sql`): sqlite3's `?`, psycopg's `%s`."""
    return "?" if dialect.paramstyle == "qmark" else "%s"
