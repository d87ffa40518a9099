"""A personal link checked on the event loop's own thread (`Site.admit_inline`, `Reads.inline`; issue 20): on SQLite a
ДОУ's kept page is served with no worker thread's hop, its link's version, the definition's digest and the ДОУ's state
still read from the database on every request, so a link revoked by another process (or another worker) is refused on
the very next request, on any worker. On PostgreSQL the check stays on a worker thread, and on SQLite too while the
database is busy."""

import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest
import sqlalchemy
from conftest import Cli, counting_statements
from test_portal_reads import Portal, revoke
from test_sessions import start, stop

from dqflow import store
from dqflow.access import links

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")


def test_a_kept_page_is_one_statement_on_the_loops_own_thread_on_sqlite(tomsk: Cli, db_url: str):
    portal = Portal(db_url)
    try:
        path = portal.path("institution", "4")
        first = portal.client.get(path)
        assert first.status_code == 200 and portal.site.kept.get("4") is not None
        threads: list[str] = []
        with counting_statements(portal.db) as seen:
            def where(*_):
                threads.append(threading.current_thread().name)

            sqlalchemy.event.listen(portal.db, "before_cursor_execute", where)
            try:
                again = portal.client.get(path)
            finally:
                sqlalchemy.event.remove(portal.db, "before_cursor_execute", where)
        assert again.status_code == 200 and again.text == first.text
        assert len(seen) == 1, seen  # the link, the digest and the ДОУ's state: one statement, seen by the engine's events
        on_workers = [name for name in threads if name.startswith("AnyIO worker thread")]
        assert on_workers == ([] if db_url.startswith("sqlite") else threads), threads
    finally:
        portal.client.close()
        portal.db.dispose()


def test_a_link_revoked_by_another_process_is_refused_at_once_by_both_workers(tomsk: Cli, db_url: str):
    process, base = start(db_url, "--workers", "2")
    try:
        engine = store.connect(db_url)
        with store.dry_run(engine) as session:
            path = links.links(session, "tomsk-2021").path("institution", "4")
        engine.dispose()
        # each request on a new connection: the two workers take them in turn as the kernel hands them out; both
        # soon hold the ДОУ's page kept
        before = [httpx.get(base + path, timeout=30) for _ in range(24)]
        assert all(r.status_code == 200 and "МБДОУ № 4" in r.text for r in before)
        new = revoke(tomsk, "4").removeprefix(base)
        after = [httpx.get(base + path, timeout=30) for _ in range(16)]
        assert all("МБДОУ № 4" not in r.text for r in after)
        # refused as revoked, until the address has refused too many links (the limit counts them in the database)
        assert [r.status_code for r in after[:10]] == [403] * 10 and all("отозвана" in r.text for r in after[:10])
        assert {r.status_code for r in after[10:]} <= {403, 429}
        assert httpx.get(base + new, timeout=30).status_code == 200
    finally:
        stop(process)


# A process recovering the WAL's index (SQLite's `walIndexRecover`), as SQLite's own locks and header show it: the
# shared-memory index's write and recover locks held (bytes 120 and 122 of the -shm file, the unix VFS's) and its
# header's two copies unequal (byte 88: the second copy's checksum; https://sqlite.org/walformat.html). A reader then
# gets SQLITE_BUSY_RECOVERY at once with busy timeout 0; one with a busy timeout waits, then rebuilds the index itself
# once the locks are let go. (Another connection in exclusive locking mode cannot be had while the portal runs: every
# open WAL connection, the portal's own, holds a shared lock on the database file.)
RECOVERING = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for byte in (120, 122):
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, byte)
os.pwrite(fd, bytes([os.pread(fd, 1, 88)[0] ^ 0xFF]), 88)
print("held", flush=True)
sys.stdin.readline()
"""
HELD = 0.5  # seconds the index is held as if recovered


def test_a_link_checked_while_sqlite_is_busy_is_answered_on_a_worker_thread(tomsk: Cli, db_url: str):
    """`Reads.inline` on a busy SQLite (busy timeout 0): the request is not refused nor failed but taken the old way, the
    whole check and page on a worker thread, which waits for the database (its busy timeout) and answers as before."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's busy reader: on PostgreSQL the check is on a worker thread always")
    portal = Portal(db_url)
    try:
        path = portal.path("institution", "4")
        first = portal.client.get(path)
        assert first.status_code == 200 and "МБДОУ № 4" in first.text
        shm = sqlalchemy.engine.make_url(db_url).database + "-shm"
        recovering = subprocess.Popen([sys.executable, "-c", RECOVERING, shm], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert recovering.stdout is not None and recovering.stdout.readline() == "held\n"
        threads: list[str] = []

        def where(*_):
            threads.append(threading.current_thread().name)

        def recovered():
            assert recovering.stdin is not None
            recovering.stdin.close()

        sqlalchemy.event.listen(portal.db, "before_cursor_execute", where)
        released = threading.Timer(HELD, recovered)
        try:
            began = time.monotonic()
            released.start()
            again = portal.client.get(path)
            took = time.monotonic() - began
        finally:
            released.cancel()
            recovered()
            recovering.wait(10)
            sqlalchemy.event.remove(portal.db, "before_cursor_execute", where)
        assert again.status_code == 200 and again.text == first.text
        assert took >= HELD  # the page waited for the database on a worker thread: it was busy for the loop's statement
        on_workers = [name for name in threads if name.startswith("AnyIO worker thread")]
        assert threads[0] not in on_workers and on_workers, threads  # tried on the loop's thread, then done on a worker
    finally:
        portal.client.close()
        portal.db.dispose()

