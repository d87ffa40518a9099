"""The portal's personal writes committed a group at a time (`web.grouped`): the writes that queue while one is
written share the next transaction, each in a savepoint of its own, each acted as its own person; a refused one undoes
only itself; each is answered once the commit that holds it is done."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest
from conftest import TOMSK
from sqlmodel import select

from dqflow import engine, store
from dqflow.calendar import UTC, parse_local
from dqflow.campaign import spec
from dqflow.errors import DqflowError
from dqflow.store import AuditRow, SubmissionRow
from dqflow.web.grouped import Grouped

WALL = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)


@pytest.fixture
def campaign(database) -> spec.Campaign:
    campaign = spec.load(TOMSK)
    with store.transaction(database) as session:
        engine.load(session, campaign, parse_local("2021-11-18 09:00", campaign.tz))
    with store.transaction(database) as session:
        engine.reconcile(session, campaign.id, parse_local("2021-11-25 00:05", campaign.tz))
    return campaign


def test_writes_that_queue_share_one_transaction_and_a_refused_one_undoes_only_itself(database, campaign: spec.Campaign):
    now = parse_local("2021-11-26 10:00", campaign.tz)
    grouped = Grouped(database, lambda: WALL)
    assert grouped.group == {"sqlite": 32, "postgresql": 1}[database.dialect.name]
    grouped.most = 1  # one writers' thread (SQLite's; PostgreSQL's four would take the queued writes in groups of their own)
    grouped.group = 32  # the savepoints on either backend (PostgreSQL writes one a transaction by default)
    writing, release = threading.Event(), threading.Event()

    def hand_in(institution: str, then=None):
        def act(session) -> None:
            engine.submit(session, campaign.id, institution, "fill-form", now, (f"https://dou{institution}.example.org/a",), scoped=True)
            if then is not None:
                then()
        return act

    def refused() -> None:  # after its hand-in was written: the savepoint must undo it
        raise DqflowError("refused after writing", code="test-refusal")

    def held() -> None:  # the first write holds the writers' thread while the others queue
        writing.set()
        release.wait(30)

    async def rush() -> list:
        first = asyncio.create_task(grouped.write(hand_in("2", held), "institution:2"))
        await asyncio.to_thread(writing.wait, 30)
        queued = [asyncio.create_task(grouped.write(hand_in(i, refused if i == "5" else None), f"institution:{i}"))
                  for i in ("4", "5", "6", "15")]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *queued, return_exceptions=True)

    answers = asyncio.run(rush())

    assert [type(a).__name__ for a in answers] == ["NoneType", "NoneType", "DqflowError", "NoneType", "NoneType"]
    assert grouped.groups == 2, "the four writes that queued behind the first were committed in one transaction"
    with store.dry_run(database) as session:
        handed_in = set(session.exec(select(SubmissionRow.institution_id).where(SubmissionRow.campaign_id == campaign.id)))
        actors = {(a.institution_id, a.actor) for a in session.exec(select(AuditRow).where(AuditRow.action == "submit"))}
    assert handed_in == {"2", "4", "6", "15"}  # "5" refused: its hand-in, written before the refusal, undone alone
    assert actors == {(i, f"institution:{i}") for i in ("2", "4", "6", "15")}  # each acted as its own person


def test_a_write_alone_that_fails_writes_nothing_and_is_told(database, campaign: spec.Campaign):
    now = parse_local("2021-11-26 10:00", campaign.tz)
    grouped = Grouped(database, lambda: WALL)

    def act(session) -> None:
        engine.submit(session, campaign.id, "2", "fill-form", now, ("https://dou2.example.org/a",), scoped=True)
        raise DqflowError("refused after writing", code="test-refusal")

    async def post() -> None:
        await grouped.write(act, "institution:2")

    with pytest.raises(DqflowError, match="refused after writing"):
        asyncio.run(post())
    with store.dry_run(database) as session:
        assert not session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == campaign.id)).all()


def test_an_error_that_ends_the_transaction_fails_the_whole_group(database):
    """SQLite rolls a whole transaction back on some errors (here the disk full, as `max_page_count` makes it): the
    writes before the failing one in its group are gone with it, so none of the group may be answered as saved, and
    the writes after it must not commit in a transaction of their own."""
    if database.dialect.name != "sqlite":
        pytest.skip("an error that rolls back the whole transaction: SQLite's disk full (PostgreSQL writes one a transaction)")
    with database.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (who TEXT, body TEXT)")
    grouped = Grouped(database, lambda: WALL)
    grouped.most = 1
    writing, release = threading.Event(), threading.Event()

    def write(who: str, *, hold: bool = False, fill: bool = False):
        def act(session) -> None:
            connection = session.connection()
            connection.exec_driver_sql("INSERT INTO scratch VALUES (?, 'x')", (who,))
            if hold:
                writing.set()
                release.wait(30)
            if fill:  # the file may grow by two pages more: the disk is full
                pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
                connection.exec_driver_sql(f"PRAGMA max_page_count={pages + 2}")
                for _ in range(200):
                    connection.exec_driver_sql("INSERT INTO scratch VALUES (?, ?)", (who, "y" * 4000))
        return act

    async def rush() -> list:
        first = asyncio.create_task(grouped.write(write("A", hold=True), "A"))
        await asyncio.to_thread(writing.wait, 30)
        queued = [asyncio.create_task(grouped.write(write(w, fill=w == "C"), w)) for w in "BCD"]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *queued, return_exceptions=True)

    answers = asyncio.run(rush())
    assert answers[0] is None and all(isinstance(a, Exception) for a in answers[1:]), answers
    with database.begin() as connection:
        connection.exec_driver_sql("PRAGMA max_page_count=1073741823")
        assert sorted({who for (who,) in connection.exec_driver_sql("SELECT who FROM scratch")}) == ["A"]


class Halt(BaseException):
    """Not an Exception: what `_commit` lets through, as it does CancelledError, KeyboardInterrupt, SystemExit."""


@pytest.mark.parametrize("raised", [asyncio.CancelledError, Halt])
def test_writes_queued_behind_one_that_raises_a_base_exception_are_each_answered(database, campaign: spec.Campaign, raised):
    """A write that raised a BaseException (not an Exception) ended the task driving the queue: the writes queued
    behind it waited for the next post to start another, forever when none came. They fail with it, none written."""
    now = parse_local("2021-11-26 10:00", campaign.tz)
    grouped = Grouped(database, lambda: WALL)
    grouped.most = 1  # one writers' thread: the queued writes wait for the driver that raised
    writing, release = threading.Event(), threading.Event()

    def hand_in(institution: str, hold: bool = False):
        def act(session) -> None:
            engine.submit(session, campaign.id, institution, "fill-form", now, (f"https://dou{institution}.example.org/a",), scoped=True)
            if hold:  # holds the writers' thread while the others queue, then raises
                writing.set()
                release.wait(30)
                raise raised()
        return act

    async def rush() -> list:
        first = asyncio.create_task(grouped.write(hand_in("2", hold=True), "institution:2"))
        await asyncio.to_thread(writing.wait, 30)
        driver = set(grouped.tasks)  # the task driving the queue, whose end is looked at below
        queued = [asyncio.create_task(grouped.write(hand_in(i), f"institution:{i}")) for i in ("4", "5", "6")]
        await asyncio.sleep(0.05)
        release.set()
        done, waiting = await asyncio.wait([first, *queued], timeout=10)
        for task in waiting:
            task.cancel()
        ended = await asyncio.gather(*driver, return_exceptions=True)  # it ends with the error, not hiding it
        return [("waiting" if task in waiting else "cancelled" if task.cancelled() else type(task.exception()).__name__)
                for task in (first, *queued)] + [type(e).__name__ for e in ended]

    answers = asyncio.run(rush())
    told = "cancelled" if raised is asyncio.CancelledError else "Halt"
    assert answers == [told] * 4 + [raised.__name__], answers  # not "waiting": each queued write is answered, with the error
    assert grouped.driving == 0 and not grouped.waiting
    with store.dry_run(database) as session:
        assert not session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == campaign.id)).all()


def test_writes_queued_behind_one_that_raises_a_base_exception_are_driven_on_by_another_driver(database, campaign: spec.Campaign):
    """Where two tasks drive the queue, the one that raised leaves the waiting writes to the other, which writes them."""
    now = parse_local("2021-11-26 10:00", campaign.tz)
    grouped = Grouped(database, lambda: WALL)
    grouped.most = 2
    writing, first_goes, second_goes = threading.Event(), threading.Event(), threading.Event()

    def hand_in(institution: str, wait: threading.Event | None = None, halt: bool = False):
        def act(session) -> None:
            engine.submit(session, campaign.id, institution, "fill-form", now, (f"https://dou{institution}.example.org/a",), scoped=True)
            if wait is not None:
                if halt:
                    writing.set()
                wait.wait(30)
            if halt:
                raise Halt()
        return act

    async def rush() -> list:
        first = asyncio.create_task(grouped.write(hand_in("2", first_goes, halt=True), "institution:2"))
        await asyncio.to_thread(writing.wait, 30)
        second = asyncio.create_task(grouped.write(hand_in("4", second_goes), "institution:4"))  # the second driver's
        await asyncio.sleep(0.05)
        drivers = set(grouped.tasks)
        assert len(drivers) == 2
        queued = [asyncio.create_task(grouped.write(hand_in(i), f"institution:{i}")) for i in ("5", "6")]
        await asyncio.sleep(0.05)
        first_goes.set()
        await asyncio.wait([first], timeout=10)
        await asyncio.sleep(0.05)  # the first driver has ended meanwhile, the queued writes left to the second
        second_goes.set()
        answers = await asyncio.gather(first, second, *queued, return_exceptions=True)
        await asyncio.gather(*drivers, return_exceptions=True)
        return [type(a).__name__ for a in answers]

    assert asyncio.run(rush()) == ["Halt", "NoneType", "NoneType", "NoneType"]
    with store.dry_run(database) as session:
        handed_in = set(session.exec(select(SubmissionRow.institution_id).where(SubmissionRow.campaign_id == campaign.id)))
    assert handed_in == {"4", "5", "6"}
