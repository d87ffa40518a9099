"""SQLModel tables, the database connection and the audit log. No business rules here."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlalchemy import DateTime, Index, event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from dqflow import schema
from dqflow.calendar import UTC, as_utc
from dqflow.errors import DqflowError, NotFound
from dqflow.redact import redact, redact_url, url_secrets

DEFAULT_DB = "dqflow.db"


class UTCDateTime(TypeDecorator):
    """Aware UTC in and out, whatever the driver keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; domain code must pass aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def _when(**kwargs) -> datetime:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"
    id: str = Field(primary_key=True)
    title: str
    timezone: str
    digest: str
    definition: str  # the validated campaign as JSON: the file need not stay around
    loaded_at: datetime = _when(nullable=False)
    secret: str | None = Field(default_factory=lambda: secrets.token_urlsafe(32))  # signs the portal's links (`links`)
    password_hash: str | None = None  # the coordinator's password as `links.hash_password` keeps it; None: links only


class StageRow(SQLModel, table=True):
    __tablename__ = "stage"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    position: int
    kind: str
    actor: str | None = None
    state: str
    opens_at: datetime = _when(nullable=False)
    due_at: datetime = _when(nullable=False)
    locks_at: datetime = _when(nullable=False)
    reminders_planned: bool = False  # campaign-wide mail (events, coordinator work, handouts) is planned once
    followup_planned: bool = False  # review stages: the recommendations to each ДОУ


class InstitutionRow(SQLModel, table=True):
    __tablename__ = "institution"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    position: int
    name: str
    email: str
    withdrawn_at: datetime | None = _when(nullable=True)  # removed from the campaign file by an amendment; records kept


class ExpertRow(SQLModel, table=True):
    __tablename__ = "expert"
    __table_args__ = (Index("ix_expert_address", "campaign_id", text("lower(email)")),)  # a send's experts found by their address
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    institution_id: str | None = None  # None: an expert of no ДОУ (an ИМЦ methodologist)
    name: str
    email: str
    withdrawn_at: datetime | None = _when(nullable=True)  # removed from the campaign file by an amendment; records kept


class AssignmentRow(SQLModel, table=True):
    """An expert assigned to review a ДОУ in one expert list (an assignment stage)."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_expert", "campaign_id", "expert_id", "stage_id", "institution_id"),)  # what a list gives the experts of a page
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)


class ReviewRow(SQLModel, table=True):
    """One expert's review of one ДОУ in one review stage: levels by area and recommendations."""

    __tablename__ = "review"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)
    at: datetime = _when(nullable=False)
    levels: str = "{}"  # JSON {area id: level id}
    recommendations: str = ""


UNPLANNED = "planned_due IS NULL OR planned_due != due_at"  # the partial index's condition, as queries spell it


class ProgressRow(SQLModel, table=True):
    """One ДОУ in one per-ДОУ stage: its status and its own effective times."""

    __tablename__ = "progress"
    # Each index answers one "is anything due?" probe of an idle reconcile (see `engine`, `reminders`,
    # `due.next_moment`) by a range read, whatever the roster's size.
    __table_args__ = (
        Index("ix_progress_opens", "campaign_id", "stage_id", "status", "opens_at"),  # rows to open
        Index("ix_progress_locks", "campaign_id", "stage_id", "status", "locks_at"),  # rows to lock, missed lately
        Index("ix_progress_due", "campaign_id", "stage_id", "status", "due_at"),  # rows overdue (the digest)
        Index("ix_progress_extended", "campaign_id", "extended", "locks_at"),  # the next extended lock
        # Rows whose reminders are not planned for their deadline: few once planned, the planner reads only them.
        Index("ix_progress_unplanned", "campaign_id", "stage_id", "status",
              sqlite_where=text(UNPLANNED), postgresql_where=text(UNPLANNED)),
    )
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    institution_id: str = Field(primary_key=True)
    stage_id: str = Field(primary_key=True)
    status: str
    opens_at: datetime = _when(nullable=False)
    due_at: datetime = _when(nullable=False)
    locks_at: datetime = _when(nullable=False)
    extended: bool = False
    submitted_at: datetime | None = _when(nullable=True)
    planned_due: datetime | None = _when(nullable=True)  # the deadline its reminders were planned for


class SubmissionRow(SQLModel, table=True):
    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_institution", "campaign_id", "institution_id"),)  # a send reads the ДОУ it names
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True)
    institution_id: str
    stage_id: str
    at: datetime = _when(nullable=False)
    links: str = "[]"  # JSON list of URLs


class ExtensionRow(SQLModel, table=True):
    __tablename__ = "extension"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True)
    institution_id: str
    stage_id: str
    until: datetime = _when(nullable=False)
    reason: str
    granted_at: datetime = _when(nullable=False)


class OutboxRow(SQLModel, table=True):
    """One planned reminder to one address; messages group the rows due for one address.

    `key` (campaign, recipient, stage, rule, effective deadline) makes planning idempotent:
    a re-plan never duplicates, a moved deadline gets fresh keys.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "campaign_id", "state", "send_at", "recipient"),  # due addresses read from the index alone
        Index("ix_outbox_recipient", "campaign_id", "recipient", "state", "send_at"),  # a page's due rows, address by address
        Index("ix_outbox_progress", "campaign_id", "institution_id", "stage_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    campaign_id: str
    recipient: str
    role: str  # institution | expert | coordinator
    institution_id: str | None = None  # whose deadline it is about
    stage_id: str | None = None
    rule: str
    kind: str  # the template: opened, before_due, due_today, overdue, missed, event, task, digest
    deadline: datetime | None = _when(nullable=True)
    send_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    state: str = "pending"  # pending → sent | skipped | failed → … | dead
    reason: str | None = None
    attempts: int = 0
    retry_at: datetime | None = _when(nullable=True)
    message_id: str | None = None
    planned_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when(nullable=True)
    reported: bool = False  # a dead row is reported once in the coordinator's digest


class LeaseRow(SQLModel, table=True):
    """Who may do an exclusive job (sending a campaign's mail) until when; see `lease`."""

    __tablename__ = "lease"
    name: str = Field(primary_key=True)
    holder: str = ""
    host: str = ""
    pid: int = 0
    expires_at: datetime = _when(nullable=False)


class AuditRow(SQLModel, table=True):
    """Every change, written in the transaction that makes it. `at` is when it took effect (the
    moment the command named), `recorded_at` when the row was written (the real clock). Rows are
    never changed or removed: the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_institution", "campaign_id", "institution_id", "id"),
        Index("ix_audit_at", "campaign_id", "at"),  # the latest change (status): read backwards, not scanned
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str
    institution_id: str | None = None
    stage_id: str | None = None
    action: str
    source: str | None = None
    dest: str | None = None
    at: datetime = _when(nullable=False)
    recorded_at: datetime = _when(nullable=False)
    detail: str | None = None
    actor: str | None = None  # who did it: 'institution:ID', 'expert:ID', 'coordinator:web|cli'; None: the clock


class LinkRow(SQLModel, table=True):
    """A person's personal link is signed with its version: revoking a link moves the version on, so the
    old link no longer verifies. A person without a row has version 1 (no row is written per person)."""

    __tablename__ = "link"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    role: str = Field(primary_key=True)  # institution | expert
    subject_id: str = Field(primary_key=True)
    version: int = 1
    changed_at: datetime = _when(nullable=False)


class SigninRow(SQLModel, table=True):
    """A one-time sign-in link for the coordinator: only its hash is kept; used once, then spent."""

    __tablename__ = "signin"
    token_hash: str = Field(primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id")
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when(nullable=True)


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
        engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DqflowError(f"cannot use database '{shown}': {redact(str(exc), secrets)}; "
                          "pass --db PATH or a URL like postgresql+psycopg://host/db") from None
    if engine.dialect.name == "sqlite" and write:
        _create_private(engine)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine, shown, secrets


def _schema_step(engine: Engine, shown: str, secrets: list[str], step):
    try:
        return step()
    except DqflowError as exc:
        engine.dispose()
        raise DqflowError(f"database '{shown}': {redact(str(exc), secrets)}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DqflowError(f"cannot open database '{shown}': {redact(str(getattr(exc, 'orig', None) or exc), secrets)}") from None


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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
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
    with Session(engine, expire_on_commit=False) as session:
        session.info["recorded_at"] = recorded_at
        session.info["actor"] = actor
        try:
            if engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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


@contextmanager
def dry_run(engine: Engine) -> Iterator[Session]:
    """A session whose changes are always rolled back: 'as if it had run', writing nothing."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.expunge_all()  # what was read stays readable after the rollback
            session.rollback()


def campaign_ids(session: Session) -> list[str]:
    return list(session.exec(select(CampaignRow.id).order_by(CampaignRow.id)))


def campaign_row(session: Session, campaign_id: str | None) -> CampaignRow:
    """The campaign named, or the only one loaded."""
    return session.get(CampaignRow, campaign_digest(session, campaign_id)[0])


def campaign_digest(session: Session, campaign_id: str | None) -> tuple[str, str]:
    """(id, digest) of the campaign named, or of the only one loaded: one narrow read, the stored
    definition (megabytes for a national roster) stays on disk."""
    query = select(CampaignRow.id, CampaignRow.digest)
    found = session.exec(query.where(CampaignRow.id == campaign_id) if campaign_id is not None else query.limit(2)).all()
    if len(found) == 1:
        return found[0][0], found[0][1]
    ids = campaign_ids(session)
    if campaign_id is None and not ids:
        raise NotFound("no campaign is loaded; run 'dqflow load FILE' first")
    if campaign_id is None:
        raise NotFound(f"several campaigns are loaded ({', '.join(ids)}); pick one with --campaign ID")
    raise NotFound(f"no campaign '{campaign_id}' is loaded" + (f"; loaded: {', '.join(ids)}" if ids else "; run 'dqflow load FILE' first"))


def _dialect_insert(session: Session):
    """The INSERT construct that knows ON CONFLICT on this session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise DqflowError(f"database '{dialect}' is not supported; use SQLite or PostgreSQL")
    return insert


IN_CHUNK = 500  # ids bound in one IN (…): well under SQLite's variable limit


def chunks(items: list, size: int = IN_CHUNK):
    """The items a slice of `size` at a time: a long list of ids bound into IN (…), a statement per slice."""
    return (items[start:start + size] for start in range(0, len(items), size))


def insert_ignore(session: Session, table: type[SQLModel], rows: list[dict]) -> int:
    """Insert rows, keeping the existing row on a unique-key clash; returns how many were offered."""
    if not rows:
        return 0
    dialect_insert = _dialect_insert(session)
    # Core insert on the table: one executemany. The ORM's bulk insert splits the rows into a
    # statement per pattern of NULLs, thousands of round trips for a big campaign.
    session.execute(dialect_insert(table.__table__).on_conflict_do_nothing(), rows)
    return len(rows)


def insert_select(session: Session, table: type[SQLModel], columns: list[str], query) -> int:
    """INSERT…SELECT keeping the existing row on a unique-key clash; returns how many rows were added."""
    return session.execute(_dialect_insert(session)(table.__table__).from_select(columns, query).on_conflict_do_nothing()).rowcount


def audit_many(session: Session, rows: list[dict]) -> None:
    """Set-based insert of audit rows (one statement for a whole stage)."""
    if rows:
        session.execute(insert(AuditRow.__table__), rows)
