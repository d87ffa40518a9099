"""The store's writers side by side: audit ids seen in commit order on PostgreSQL (the portal's state key names every
state it stands for), and the turn to write to one SQLite file shared by every process through the file beside it."""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from conftest import TOMSK, Cli
from dqflow import engine, store
from dqflow.store import AuditRow, statistics, turns
from dqflow.web import snapshots

TZ = ZoneInfo("Asia/Tomsk")
HANDED_IN = datetime(2021, 11, 22, 10, 0, tzinfo=TZ)  # the fill-form open, due 25.11
LINK = ("https://dou.example.org/materials",)
DOU = ["2", "4", "5", "6", "15", "35", "40", "62", "73", "86", "94"]  # the Tomsk campaign's ДОУ
WAIT = 1.0  # seconds a writer is given to get past a turn it should not have (it is let through at once otherwise)


# -- PostgreSQL: audit ids in commit order ----------------------------------------------------------------------------

def _key_and_ids(db) -> tuple[tuple, set[int]]:
    """The portal's state key and the audit ids, as one reader sees them (one snapshot)."""
    with store.dry_run(db) as session:
        campaign = engine.definition(session, "tomsk-2021")
        _, digest = store.campaign_digest(session, "tomsk-2021")
        key = snapshots.state_key(session, campaign, digest, HANDED_IN)
        return key, set(session.execute(text("SELECT id FROM audit")).scalars())


def _hand_in(db, inst: str) -> None:
    with store.transaction(db) as session:
        engine.submit(session, "tomsk-2021", inst, "fill-form", HANDED_IN, LINK, scoped=True)


def test_a_hand_in_that_commits_first_has_the_smaller_audit_id_on_postgresql(pg_url):
    """Two hand-ins side by side: the first has inserted its audit row and not committed; the second, on another ДОУ,
    must not commit a later audit id before it (its commit would be seen with the latest audit id while the first's
    change is not, and that id would stay the latest after it is: the board kept under that key stale)."""
    Cli(pg_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(pg_url)
    try:
        _hand_in(db, "2")  # the campaign brought to the hand-ins' moment: each of the two below writes its own rows only
        second_done = threading.Event()
        errors: list[BaseException] = []

        def second() -> None:
            try:
                _hand_in(db, "5")
            except BaseException as exc:  # noqa: BLE001 - said by the assertion below
                errors.append(exc)
            second_done.set()

        with store.transaction(db) as session:
            engine.submit(session, "tomsk-2021", "4", "fill-form", HANDED_IN, LINK, scoped=True)
            mine = session.execute(text("SELECT max(id) FROM audit")).scalar_one()  # inserted by now
            thread = threading.Thread(target=second)
            thread.start()
            second_done.wait(WAIT)  # it waits for this commit (else it commits now, after taking a later id)
            during, seen = _key_and_ids(db)
        after_first, _ = _key_and_ids(db)
        thread.join(60)
        assert not errors
        finally_seen = _key_and_ids(db)[1]
        assert mine in finally_seen
        # a reader that saw an audit id saw every one below it that was ever to be seen …
        assert {i for i in finally_seen if i <= max(seen)} == seen
        # … so the first hand-in's commit changed the key
        assert after_first != during
    finally:
        db.dispose()


def test_hand_ins_and_a_reconcile_side_by_side_end_without_a_deadlock_on_postgresql(pg_url):
    """The turn is taken after the row locks each writer takes first (a share or exclusive lock on the campaign, its
    ДОУ's rows): hand-ins on many threads beside ticks all commit, and every audit row of theirs is there."""
    Cli(pg_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(pg_url)
    try:
        _hand_in(db, "2")
        errors: list[BaseException] = []

        def hand_ins(insts: list[str]) -> None:
            try:
                for inst in insts * 3:  # handed in, then again (a resubmit)
                    _hand_in(db, inst)
            except BaseException as exc:  # noqa: BLE001 - said by the assertion below
                errors.append(exc)

        def ticks() -> None:
            try:
                for minute in range(6):
                    with store.transaction(db) as session:
                        engine.reconcile(session, "tomsk-2021", HANDED_IN.replace(minute=minute))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=hand_ins, args=(DOU[n::4],)) for n in range(4)]
        threads.append(threading.Thread(target=ticks))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        with db.connect() as c:
            handed = set(c.execute(text("SELECT institution_id FROM audit WHERE action = 'submit' AND stage_id = 'fill-form'"))
                         .scalars())
        assert handed == set(DOU)
    finally:
        db.dispose()


# -- SQLite: one turn to write across processes -----------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.readline()
""")

WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from dqflow import store
    from dqflow.store import AuditRow
    db = store.connect(sys.argv[1])
    now = datetime(2021, 11, 22, tzinfo=timezone.utc)
    for i in range(int(sys.argv[3])):
        with store.transaction(db) as session:
            session.add(AuditRow(campaign_id="tomsk-2021", action="test-write", at=now, recorded_at=now, detail=f"{sys.argv[2]}-{i}"))
""")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "dqflow.db"
    Cli(f"sqlite:///{path}").ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    return path


def _holder(lock_file: Path) -> subprocess.Popen:
    """Another process holding the turn (its flock alone: not SQLite's write lock), until told to let go."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    if not select.select([process.stdout], [], [], 10)[0]:
        process.kill()
        raise AssertionError("the turn was not let go of")
    assert process.stdout.readline() == "held\n"
    return process


def _write_in_thread(db) -> tuple[threading.Thread, threading.Event]:
    begun = threading.Event()

    def write() -> None:
        with store.transaction(db) as session:
            begun.set()
            session.execute(text("UPDATE campaign SET title = title || '~'"))

    thread = threading.Thread(target=write)
    thread.start()
    return thread, begun


def _dots(path: Path) -> int:
    db = store.connect(f"sqlite:///{path}")
    try:
        with db.connect() as c:
            return c.execute(text("SELECT title FROM campaign")).scalar_one().count("~")  # the writes that landed
    finally:
        db.dispose()


@pytest.mark.sqlite_only("the turn beside a SQLite file")
def test_a_write_transaction_begins_only_once_another_process_ends_its_turn(sqlite_db: Path):
    lock_file = Path(f"{sqlite_db}{turns.TURN_SUFFIX}")
    holder = _holder(lock_file)
    db = store.connect(f"sqlite:///{sqlite_db}")
    try:
        thread, begun = _write_in_thread(db)
        assert not begun.wait(WAIT)  # SQLite's write lock is free: only the turn keeps it waiting
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(10)
        assert begun.wait(10)
        thread.join(10)
        assert _dots(sqlite_db) == 1
    finally:
        holder.kill()
        db.dispose()


@pytest.mark.sqlite_only("the turn beside a SQLite file")
def test_after_the_busy_time_without_the_turn_a_writer_goes_on_to_sqlites_lock(sqlite_db: Path, monkeypatch):
    """As before the turn was shared: a process holding it for ever makes the others wait BUSY_SECONDS, not for ever;
    the turn given up on is not kept by the waiter when it comes."""
    monkeypatch.setattr(turns, "BUSY_SECONDS", 0.5)
    lock_file = Path(f"{sqlite_db}{turns.TURN_SUFFIX}")
    holder = _holder(lock_file)
    db = store.connect(f"sqlite:///{sqlite_db}")
    try:
        started = time.monotonic()
        with store.transaction(db) as session:
            session.execute(text("UPDATE campaign SET title = title || '~'"))
        assert time.monotonic() - started >= 0.5
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(10)
        again = _holder(lock_file)  # the waiter that came late let go of it at once
        again.kill()
        assert _dots(sqlite_db) == 1
    finally:
        holder.kill()
        db.dispose()


def _free(lock_file: Path) -> bool:
    """Whether another process could take the turn now (a try, let go of at once)."""
    probe = subprocess.run([sys.executable, "-c", "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\n"
                            "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(1)",
                            str(lock_file)], timeout=30)
    return probe.returncode == 0


@pytest.mark.sqlite_only("the turn beside a SQLite file")
def test_a_wait_given_up_never_lets_go_of_a_later_turn(sqlite_db: Path, monkeypatch):
    """A writer that gave up waiting leaves a helper waiting in flock; when the turn comes to it later, it lets go of its
    own wait only: the process's next writer, who was waiting too and holds the turn now, keeps it (the helper and the
    writer had shared one descriptor, and the helper's let-go freed the writer's turn to a third process)."""
    monkeypatch.setattr(turns, "BUSY_SECONDS", 0.5)
    lock_file = Path(f"{sqlite_db}{turns.TURN_SUFFIX}")
    db = store.connect(f"sqlite:///{sqlite_db}")
    try:
        for _ in range(3):
            holder = _holder(lock_file)
            with store.transaction(db) as session:  # gives up on the turn after 0.5 s, its helper left waiting
                session.execute(text("UPDATE campaign SET title = title || '~'"))
            assert holder.stdin is not None
            threading.Timer(0.1, lambda h=holder: (h.stdin.write("go\n"), h.stdin.close())).start()
            with store.transaction(db) as session:  # waits too, and has the turn once the holder lets go
                holder.wait(10)
                time.sleep(0.3)  # the helper given up on has had its turn to let go by now
                assert not _free(lock_file)
                session.execute(text("UPDATE campaign SET title = title || '~'"))
            assert _free(lock_file)
        assert _dots(sqlite_db) == 6
    finally:
        db.dispose()


@pytest.mark.sqlite_only("the turn beside a SQLite file")
def test_two_processes_writing_one_file_each_write_lands(sqlite_db: Path):
    url = f"sqlite:///{sqlite_db}"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, url, name, "150"]) for name in ("a", "b")]
    assert [w.wait(120) for w in writers] == [0, 0]
    db = store.connect(url)
    try:
        with db.connect() as c:
            written = set(c.execute(text("SELECT detail FROM audit WHERE action = 'test-write'")).scalars())
        assert written == {f"{name}-{i}" for name in ("a", "b") for i in range(150)}
    finally:
        db.dispose()
    lock_file = Path(f"{sqlite_db}{turns.TURN_SUFFIX}")
    assert stat.S_IMODE(os.stat(lock_file).st_mode) == stat.S_IMODE(os.stat(sqlite_db).st_mode) == 0o600


@pytest.mark.sqlite_only("the turn beside a SQLite file")
def test_no_turn_file_beside_a_throwaway_file_nor_for_a_database_in_memory(tmp_path: Path):
    for db in (store.connect(str(tmp_path / "replay.db"), throwaway=True), store.connect("sqlite://")):
        try:
            with store.transaction(db) as session:
                session.execute(text("SELECT 1"))
        finally:
            db.dispose()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(turns.TURN_SUFFIX)) == []


def test_a_dry_run_that_wrote_audit_rows_keeps_no_hand_in_waiting_on_postgresql(pg_url):
    """A dry run's audit rows are rolled back, never seen: it takes no turn, and a writer beside it (here a hand-in,
    which a dry run's reconcile would keep waiting at the campaign's lock anyway) goes on."""
    Cli(pg_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(pg_url)
    try:
        _hand_in(db, "2")
        with store.dry_run(db) as session:
            session.add(AuditRow(campaign_id="tomsk-2021", action="test-preview", at=HANDED_IN, recorded_at=HANDED_IN))
            session.flush()
            thread = threading.Thread(target=_hand_in, args=(db, "4"))
            thread.start()
            thread.join(10 * WAIT)
            assert not thread.is_alive()
        with db.connect() as c:
            assert c.execute(text("SELECT count(*) FROM audit WHERE action = 'submit' AND institution_id = '4'")).scalar_one() == 1
    finally:
        db.dispose()


def test_a_snapshot_dry_run_reads_one_moment_and_a_plain_one_on_postgresql_each_statement_its_own(db_url):
    """`dry_run(snapshot=True)` (the справка's session) reads the database as it was at its first statement, whatever
    commits meanwhile, on both backends; a plain dry run on PostgreSQL sees each commit in its next statement (READ
    COMMITTED), which is why a document of one moment asks for the snapshot."""
    Cli(db_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(db_url)
    count = text("SELECT count(*) FROM audit WHERE action = 'submit'")
    try:
        for snapshot in (True, False):
            with store.dry_run(db, snapshot=snapshot) as session:
                before = session.execute(count).scalar_one()
                _hand_in(db, "2" if snapshot else "4")
                after = session.execute(count).scalar_one()
            assert store.one_snapshot(session) is (snapshot or db.dialect.name == "sqlite")
            assert after == (before if store.one_snapshot(session) else before + 1)
    finally:
        db.dispose()


def test_rows_written_through_the_driver_count_toward_analyze(db_url):
    """The tally `analyze`'s rule reads counts what statements run through the driver wrote too (a hand-in's progress
    row, a send's skips): counted by compiled statements only, a rush of hand-ins never had its tables analysed."""
    Cli(db_url).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            engine.submit(session, "tomsk-2021", "4", "fill-form", HANDED_IN, LINK, scoped=True)
            tally = dict(session.info[statistics.WRITTEN])
        assert tally.get("progress", 0) >= 1 and tally.get("audit", 0) >= 1, tally
    finally:
        db.dispose()
