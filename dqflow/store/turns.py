"""The turns writers take, so that what readers see follows the order of commits: on SQLite the turn to write (a
process's writers queue on a lock, then every process's on a file lock beside the database), on PostgreSQL the turn to
insert audit rows (audit ids handed out in commit order). Nothing here decides what is written."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import weakref
from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

try:
    import fcntl
except ImportError:  # not on Windows: there writers of several processes meet at SQLite's lock alone
    fcntl = None  # type: ignore[assignment]

from dqflow.store.tables import AuditRow

_log = logging.getLogger(__name__)

BUSY_SECONDS = 30  # how long a SQLite writer waits for the write lock (the busy timeout) before it fails


@contextmanager
def writing(engine: Engine) -> Iterator[None]:
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


def unshared(engine: Engine) -> None:
    """A throwaway SQLite file (`connect`'s): written by its own process alone, so no turn file beside it (nothing left
    behind when it goes)."""
    _unshared.add(engine)


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
# SQLite: write transactions are serialised whole already (`writing`).

AUDIT_TURN = 0x6471666C6F77  # the advisory lock's key ("dqflow" in ASCII): the turn to insert audit rows
_HELD = "dqflow_audit_turn"  # connection.info: the transaction that holds the turn (or needs none)


def audit_in_commit_order(connection: Connection, cursor, _statement, _parameters, context, _executemany) -> None:
    """Before a transaction's first INSERT into `audit` on PostgreSQL: wait for the turn (see above)."""
    if context is None or not context.isinsert:
        return
    table = getattr(getattr(context.compiled, "statement", None), "table", None)
    if getattr(table, "name", None) != AuditRow.__tablename__:
        return
    transaction = connection.get_transaction()
    held = connection.info.get(_HELD)
    if transaction is not None and held is not None and held() is transaction:
        return
    turn = cursor.connection.cursor()
    try:
        turn.execute(f"SELECT pg_advisory_xact_lock({AUDIT_TURN})")
    finally:
        turn.close()
    if transaction is not None:  # held until it ends (a new transaction is another object)
        connection.info[_HELD] = weakref.ref(transaction)


def audit_turn_let_go(connection: Connection) -> None:
    """A savepoint of the connection's transaction was rolled back: PostgreSQL let go of the locks taken in it, the turn
    among them if taken there, so the transaction's next audit insert takes it again (once more at most: a turn held
    already is taken again at no wait)."""
    connection.info.pop(_HELD, None)


def needs_no_audit_turn(connection: Connection) -> None:
    """The connection's current transaction inserts audit rows nobody will see (a dry run's, rolled back): no turn."""
    transaction = connection.get_transaction()
    if transaction is not None:
        connection.info[_HELD] = weakref.ref(transaction)
