"""The personal posts' writes (hand-ins, form saves, reviews), committed a group at a time.

At a deadline rush these writes came one per transaction, each on the writers' thread (`threads.write`) in turn: the
thread was handed the next write by the event loop only after the loop had taken the previous one's answer, so while
the loop rendered pages each write waited for it twice, and on SQLite each took the turn and the file lock
(`turns.writing`), BEGIN IMMEDIATE and a commit of its own. Here the writes that queue while one group is written go
into the next group: one transaction, each write in a savepoint of its own (a refused write undoes only itself, its
person is told why, the others commit), one commit for all of them, and the writers' thread goes on to the next
group without waiting for the loop (for `ROUND` seconds at most: then it lets the loop give the thread to any other
write that waits, the coordinator's). Each write is acted exactly as it was alone: as its own person (the audit rows'
actor, `store.acting`), recorded when its own turn came (`store.recorded_at`), on the definition read after the
campaign's lock (`definitions.locked`, which each act takes again in the transaction it shares). A write is answered
only after the commit that holds it: nothing is acknowledged before it is in the database. On PostgreSQL the groups
are of one write (`GROUP`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dqflow import store
from dqflow.store import turns
from dqflow.web import threads

# writes in one transaction at most, by backend: a group's commit answers them all, the first after the last's work.
# PostgreSQL: one, each write its own transaction as before (its writers' threads write side by side, and a group would
# hold the turn to insert audit rows, `turns.audit_in_commit_order`, from its first write's audit rows to its commit,
# so the other threads' writes would wait for all of its writes instead of one write's last statements)
GROUP = {"sqlite": 32, "postgresql": 1}
ROUND = 0.1  # seconds a writers' thread writes group after group before it lets the loop give it to other writes


@dataclass
class Write:
    """One person's write: `act(session)` in a savepoint, as `actor`, recorded at the wall clock's reading then."""

    act: Callable[[Session], object]
    actor: str
    done: asyncio.Future
    failed: BaseException | None = field(default=None)


class Grouped:
    """One process's queue of personal writes to one database (see the module's docstring)."""

    def __init__(self, db: Engine, wall: Callable[[], datetime]):
        self.db, self.wall = db, wall
        self.waiting: deque[Write] = deque()
        self.guard = threading.Lock()  # `waiting` is filled on the loop and emptied on writers' threads
        self.driving = 0  # tasks handing groups to writers' threads now (on the loop)
        self.most = threads.WRITERS.get(db.dialect.name, 1)
        self.group = GROUP.get(db.dialect.name, 1)
        self.tasks: set[asyncio.Task] = set()
        self.groups = 0  # transactions committed (for tests and figures)

    async def write(self, act: Callable[[Session], object], actor: str) -> None:
        """Run `act` in a write transaction as `actor`; return once it is committed, or raise what it raised."""
        done = asyncio.get_running_loop().create_future()
        with self.guard:
            self.waiting.append(Write(act, actor, done))
        if self.driving < self.most:
            self.driving += 1
            task = asyncio.create_task(self._drive())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await asyncio.shield(done)  # a client gone while it waits: the write is still committed, as before

    async def _drive(self) -> None:
        try:
            while self.waiting:
                await threads.write(self._rounds, self.db)
        except BaseException as exc:  # what `_commit` lets through (not an Exception), or this task cancelled at shutdown
            if self.driving == 1:  # no other driver will take the writes still waiting, nor would a post come to start one
                self._fail_waiting(exc)
            raise
        finally:
            self.driving -= 1

    def _fail_waiting(self, exc: BaseException) -> None:
        """Every write still waiting answered with `exc` (on the loop): none of them ran, nothing of them is written."""
        with self.guard:
            left = list(self.waiting)
            self.waiting.clear()
        for write in left:
            _settle(write.done, exc)

    def _rounds(self) -> None:
        """On a writers' thread: groups one after the other while writes wait, for `ROUND` seconds at most."""
        ends = time.monotonic() + ROUND
        while time.monotonic() < ends:
            with self.guard:
                group = [self.waiting.popleft() for _ in range(min(self.group, len(self.waiting)))]
            if not group:
                return
            self._commit(group)

    def _commit(self, group: list[Write]) -> None:
        try:
            with store.transaction(self.db) as session:
                if len(group) == 1:  # alone: no savepoint, its failure rolls the transaction back
                    self._as(session, group[0]).act(session)
                else:
                    for write in group:
                        self._one(session, write)
            self.groups += 1
        except BaseException as exc:  # the commit failed (or the one write raised): none of them is in the database
            for write in group:
                write.failed = write.failed or exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for write in group:
                write.done.get_loop().call_soon_threadsafe(_settle, write.done, write.failed)

    def _one(self, session: Session, write: Write) -> None:
        """One write of several in a savepoint: undone alone when it raises."""
        connection = session.connection()
        try:
            with session.begin_nested():
                self._as(session, write).act(session)
        except Exception as exc:
            write.failed = exc
            if not _open(connection):  # an error that rolled the whole transaction back (SQLite: disk full, I/O, out of
                # memory), the writes before this one with it: the group fails whole, none of it is answered as saved
                raise
            # PostgreSQL lets go of the locks a savepoint took when it is rolled back, the audit turn among them
            turns.audit_turn_let_go(connection)

    def _as(self, session: Session, write: Write) -> Write:
        """`session` acting for `write`'s person, its audit rows recorded now (`store.acting`, `store.recorded_at`)."""
        session.info["actor"] = write.actor
        session.info["recorded_at"] = self.wall().replace(microsecond=0)
        return write


def _open(connection) -> bool:
    """Whether the group's transaction is still open after a write's savepoint was (or could not be) rolled back."""
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return bool(raw.in_transaction)
    from psycopg.pq import TransactionStatus

    return raw.info.transaction_status == TransactionStatus.INTRANS


def _settle(done: asyncio.Future, failed: BaseException | None) -> None:
    if done.done():
        return
    if failed is None:
        done.set_result(None)
    else:
        done.set_exception(failed)
