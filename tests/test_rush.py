"""What keeps a deadline rush's answers short (issue 20): the sender holds the write lock for its writes alone, the
portal's writes never wait for a thread behind its pages, and the pool holds a connection for every thread.

On SQLite and on PostgreSQL: a real send (`dqflow send` in-process, a real SMTP server) with every transaction of the
engine's connections recorded by SQLAlchemy's events; the portal's limiters in a real event loop."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dqflow import store
from dqflow.web import threads
from tests.conftest import Cli
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)


@pytest.fixture
def mailer(tomsk: Cli, smtp_server) -> Cli:  # noqa: F811
    return Cli(tomsk.db_url, env=smtp_server.env())


class Transactions:
    """Every transaction of every engine's connections, as the statements it ran and how it ended."""

    def __init__(self) -> None:
        self.open: dict[int, list[str]] = defaultdict(list)
        self.ended: list[tuple[str, list[str]]] = []

    def statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.open[id(conn)].append(" ".join(statement.split()))

    def end(self, how: str):
        def ended(conn) -> None:
            self.ended.append((how, self.open.pop(id(conn), [])))
        return ended

    def __enter__(self):
        self.listeners = [(Engine, "before_cursor_execute", self.statement), (Engine, "commit", self.end("commit")),
                          (Engine, "rollback", self.end("rollback"))]
        for target, name, fn in self.listeners:
            event.listen(target, name, fn)
        return self

    def __exit__(self, *exc) -> None:
        for target, name, fn in self.listeners:
            event.remove(target, name, fn)


def reads_the_ledger(statement: str) -> bool:
    """A page of due rows (`due.page`: the due rows of some addresses)."""
    said = statement.upper()
    return said.startswith("SELECT") and " FROM OUTBOX" in said and "RECIPIENT IN (" in said


def test_a_send_reads_and_judges_each_page_in_its_write_transaction(mailer, smtp_server):  # noqa: F811
    """A send reads each page of due rows and the facts it judges them by in the write transaction that skips what is
    no longer wanted: judged outside it (a rolled-back read, the lock taken afterwards for the skips), an extension
    committed meanwhile went unseen and the reminder with the old deadline went out (found in review)."""
    mailer.ok("tick", "--now", "2021-11-22 10:00")
    mailer.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-25 10:00")
    mailer.ok("excuse", "5", "--stage", "fill-form", "--reason", "карантин", "--now", "2021-11-25 10:00")
    with Transactions() as seen:
        out = mailer.ok("send", "--now", "2021-11-26 09:00")
    assert "Отправлено писем: 10" in out  # nine reminders and the excuse's letter; dou2's and dou5's reminders skipped
    committed = [statements for how, statements in seen.ended if how == "commit" and any("OUTBOX" in s.upper() for s in statements)]
    skips = [s for statements in committed for s in statements if s.upper().startswith("UPDATE OUTBOX SET STATE")]
    assert any("reason" in s for s in skips)  # the page's skips were written, in a committed transaction
    assert [statements for statements in committed if any(reads_the_ledger(s) for s in statements)
            and any(s.upper().startswith("UPDATE OUTBOX SET STATE") for s in statements)]  # read and skipped in one
    rolled_back = [statements for how, statements in seen.ended if how == "rollback"]
    assert not [s for statements in rolled_back for s in statements if reads_the_ledger(s)]
    assert smtp_server.to("dou2@example.org") == []
    rows = {(r["recipient"], r["rule"]): r for r in mailer.json("outbox") if r["stage"] == "fill-form"}
    assert (rows[("dou2@example.org", "before:2wd")]["state"], rows[("dou2@example.org", "before:2wd")]["reason"]) == ("skipped", "submitted")
    assert rows[("dou5@example.org", "before:2wd")]["state"] == "skipped" and "excused" in rows[("dou5@example.org", "before:2wd")]["reason"]


def test_a_skip_leaves_a_row_another_process_changed_since_the_page_was_read(tomsk):
    """A skip touches a row still waiting only: a row no longer waiting (sent, dead or skipped by another process)
    keeps what was written to it."""
    from sqlalchemy import text

    from dqflow.delivery import due

    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    engine = store.connect(tomsk.db_url)
    try:
        with engine.begin() as connection:
            sent, waiting = connection.execute(text("SELECT id FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 2")).scalars()
            connection.execute(text("UPDATE outbox SET state = 'sent', message_id = '<m@x>' WHERE id = :i"), {"i": sent})
        with store.transaction(engine) as session:
            due.skip(session, {sent: "submitted", waiting: "submitted"})
        with engine.connect() as connection:
            states = dict(connection.execute(text("SELECT id, state FROM outbox WHERE id IN (:a, :b)"), {"a": sent, "b": waiting}).all())
    finally:
        engine.dispose()
    assert states == {sent: "sent", waiting: "skipped"}


def test_the_pool_holds_a_connection_for_every_thread_of_the_portal(db_url):
    """Every reader's and writer's thread of the portal holds a connection at once and none waits for the pool (before:
    40 threads on 15 connections, a page waiting up to 30 s for one)."""
    engine = store.connect(db_url)
    engine.pool._timeout = 1  # a thread that would wait for a connection fails at once here
    try:
        held = [engine.connect() for _ in range(threads.POOL)]
        try:
            assert engine.pool.checkedout() == threads.POOL
        finally:
            for connection in held:
                connection.close()
    finally:
        engine.dispose()
    assert threads.POOL == threads.READERS + max(threads.WRITERS.values()) + threads.SIGNIN + threads.MAKER


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_write_never_waits_for_a_thread_behind_the_pages(dialect):
    """With every reader's thread busy (a page each, waiting), a write still gets a thread of its own at once; the
    pages beyond the readers wait in the event loop, holding no thread (and so no connection)."""
    class Db:
        class dialect:
            name = dialect

    release = threading.Event()
    busy: list[int] = []

    def page() -> None:
        busy.append(threading.get_ident())
        release.wait(30)

    async def main() -> tuple[int, int, int, int]:
        threads.settle()
        limiter = anyio.to_thread.current_default_thread_limiter()
        async with anyio.create_task_group() as group:
            for _ in range(threads.READERS + 5):
                group.start_soon(anyio.to_thread.run_sync, page)
            try:
                while len(busy) < threads.READERS:
                    await anyio.sleep(0.01)
                with anyio.fail_after(5):  # behind the pages it would wait until they end
                    written = await threads.write(lambda: 42, Db)  # type: ignore[arg-type]
                borrowed, waiting = limiter.borrowed_tokens, limiter.statistics().tasks_waiting
            finally:
                release.set()
        return written, borrowed, waiting, threads.writers(Db).total_tokens  # type: ignore[arg-type]

    written, borrowed, waiting, writers = anyio.run(main)
    assert written == 42
    assert (borrowed, waiting) == (threads.READERS, 5)  # the other five pages waited in the loop for a reader's thread
    assert writers == threads.WRITERS[dialect]


def test_a_burst_of_sign_ins_waits_behind_itself_not_ahead_of_the_pages():
    """The password sign-in's work runs on threads of its own: with its thread busy and guesses queued behind it, a
    page's read still gets a reader's thread at once."""
    release = threading.Event()

    def guess() -> None:
        release.wait(30)

    async def main() -> tuple[int, int]:
        threads.settle()
        async with anyio.create_task_group() as group:
            for _ in range(threads.SIGNIN + 20):
                group.start_soon(threads.signin, guess)
            try:
                await anyio.sleep(0.1)
                with anyio.fail_after(5):  # behind the guesses it would wait until they end
                    read = await anyio.to_thread.run_sync(lambda: 7)  # what `run_in_threadpool` runs a page's read on
                borrowed = anyio.to_thread.current_default_thread_limiter().borrowed_tokens
            finally:
                release.set()
        return read, borrowed

    read, borrowed = anyio.run(main)
    assert (read, borrowed) == (7, 0)
