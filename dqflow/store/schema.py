"""The database's schema version: Alembic revisions (package data in `dqflow/store/migrations/versions`)
applied when a database is first opened.

- A new database is created at the head revision.
- A database of an older dqflow is upgraded in place on first use, in one transaction: on SQLite under
  the write lock (BEGIN IMMEDIATE), on PostgreSQL under an advisory lock, so processes starting
  together upgrade it once, one after the other, and a failed upgrade leaves it as it was.
- A database of the release 1a76da4 (or of an unreleased dqflow after it) has the tables but no version
  table: it is recognised by its tables and recorded at revision 0001 first.
- A database newer than this code is refused with one line, and so is one whose tables are no release's.
- An up-to-date database is only read (two queries), so a read-only copy opens and no DDL is issued.

`dqflow migrate` does the same on request and `dqflow migrate --check` says what it would do.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dqflow.errors import DqflowError

VERSION_TABLE = "dqflow_version"  # not alembic_version: a PostgreSQL database may hold another application too
HEAD = "0016"  # the newest revision in migrations/versions (a test keeps the two equal)
BASELINE = "0001"  # the release 1a76da4, whose databases have no version table

# The tables and columns of the release 1a76da4 (revision 0001): an unversioned database must have
# them all to be taken for one of its databases.
RELEASE_TABLES: dict[str, set[str]] = {
    "campaign": {"id", "title", "timezone", "digest", "definition", "loaded_at"},
    "stage": {"campaign_id", "id", "position", "kind", "actor", "state", "opens_at", "due_at", "locks_at",
              "reminders_planned", "followup_planned"},
    "institution": {"campaign_id", "id", "position", "name", "email"},
    "expert": {"campaign_id", "id", "institution_id", "name", "email"},
    "assignment": {"campaign_id", "stage_id", "institution_id", "expert_id"},
    "review": {"campaign_id", "stage_id", "institution_id", "expert_id", "at", "levels", "recommendations"},
    "progress": {"campaign_id", "institution_id", "stage_id", "status", "opens_at", "due_at", "locks_at", "extended",
                 "submitted_at", "planned_due"},
    "submission": {"id", "campaign_id", "institution_id", "stage_id", "at", "links"},
    "extension": {"id", "campaign_id", "institution_id", "stage_id", "until", "reason", "granted_at"},
    "outbox": {"id", "key", "campaign_id", "recipient", "role", "institution_id", "stage_id", "rule", "kind", "deadline",
               "send_at", "expires_at", "state", "reason", "attempts", "retry_at", "message_id", "planned_at", "sent_at",
               "reported"},
    "audit": {"id", "campaign_id", "institution_id", "stage_id", "action", "source", "dest", "at", "recorded_at", "detail"},
}


@dataclass(frozen=True)
class State:
    """Where a database stands. `revision` is None for a database without dqflow's tables."""

    revision: str | None
    versioned: bool  # False: no version table (new, or made by the release 1a76da4 or before migrations)

    @property
    def current(self) -> bool:
        return self.revision == HEAD and self.versioned

    @property
    def new(self) -> bool:
        return self.revision is None

    def describe(self) -> str:
        """'новая (…)' or 'версии N (…)', as people read it after «база данных 'X'» (a coordinator runs dqflow)."""
        if self.new:
            return "новая (таблиц dqflow в ней ещё нет)"
        if not self.versioned:
            return f"версии {self.revision} (создана до миграций: выпуском 1a76da4 или невыпущенным dqflow после него)"
        return f"версии {self.revision}"


def state(connection: Connection) -> State:
    """Read where the database stands, writing nothing. Refuses a database newer than this code and an
    unversioned one whose tables are no release's (DqflowError)."""
    inspector = inspect(connection)
    if inspector.has_table(VERSION_TABLE):
        revisions = list(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
        if len(revisions) != 1:
            raise DqflowError(f"в её таблице версий {VERSION_TABLE} записей {len(revisions)} вместо одной: её меняли вручную, "
                              "и dqflow не станет угадывать; восстановите базу из резервной копии")
        revision = revisions[0]
        if revision != HEAD and revision not in known_revisions():
            raise DqflowError(f"версия её схемы {revision} новее этого dqflow, который знает версии до {HEAD}; "
                              "работайте тем dqflow, который её обновил, или более новым")
        return State(revision, True)
    names = set(inspector.get_table_names())
    if not names & set(RELEASE_TABLES):
        return State(None, False)
    missing = _missing(inspector, names)
    if missing:
        raise DqflowError(f"в ней часть таблиц dqflow, но схема не совпадает ни с одним выпуском dqflow (нет: {', '.join(missing)}); "
                          "ничего не изменено: загрузите кампанию в новую базу данных")
    return State(BASELINE, False)


def _missing(inspector, names: set[str]) -> list[str]:
    found = []
    for table, columns in RELEASE_TABLES.items():
        if table not in names:
            found.append(table)
        else:
            found += [f"{table}.{c}" for c in sorted(columns - {c["name"] for c in inspector.get_columns(table)})]
    return found


def ensure(engine: Engine, shown: str) -> State | None:
    """Bring the database to the head revision if it is not there yet; return the state it was found in,
    or None when it already was at the head (then only two queries ran and nothing was written).
    `shown` is the database as messages may name it (no password)."""
    with engine.connect() as connection:
        found = state(connection)
    if found.current:
        return None
    try:
        return upgrade(engine)
    except DqflowError:
        raise
    except SQLAlchemyError as exc:
        if found.new:
            raise  # a new database that cannot be created: the caller's "cannot open" says why
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DqflowError(f"она {found.describe()}, а этому dqflow нужна версия схемы {HEAD}; обновить её на месте не удалось "
                          f"({reason}), ничего не изменено; от имени пользователя, которому можно её менять, выполните: "
                          f"{shlex.join(['dqflow', '--db', shown, 'migrate'])}") from None


def upgrade(engine: Engine) -> State:
    """Upgrade to the head in one transaction, serialised with other processes; returns the state it
    was found in under the lock (already current if another process got there first)."""
    with engine.begin() as connection:
        _lock(connection)
        found = state(connection)
        if found.current:
            return found
        config = _config(connection)
        from alembic import command

        if found.revision is not None and not found.versioned:
            command.stamp(config, found.revision)  # a database of 1a76da4: its tables are revision 0001's
        command.upgrade(config, "head")
    return found


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, before reading the state
    elif connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"dqflow-schema").digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def folder() -> Path:
    """The migrations: package data of `dqflow.store.migrations` (a real folder, as Alembic reads it)."""
    return Path(str(files("dqflow.store.migrations")))


def _config(connection: Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(folder()).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


def script_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise DqflowError(f"в {folder()} нет ни одной миграции: установка dqflow повреждена; переустановите пакет")
    return head


def draft(message: str) -> None:
    """For developers: write a new revision from what the models have that the head revision does not,
    by comparing them with a scratch SQLite database at the head. Check and finish it by hand (PostgreSQL,
    data, triggers), then move HEAD to it."""
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/draft.db")
        try:
            upgrade(engine)
            with engine.begin() as connection:
                number = f"{int(HEAD) + 1:04d}"
                command.revision(_config(connection), message, autogenerate=True, rev_id=number)
        finally:
            engine.dispose()
