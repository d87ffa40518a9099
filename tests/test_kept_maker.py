"""The board and the coordinator's home made off the request path (`web.maker.Maker`, started with the served app's
lifespan), and the rule that bounds how old a kept page may be (`snapshots.STALE`): a page whose state moved by writes
alone is served as kept while it was read at most `stale` seconds before the request's state, and made again by the
maker; past that, made on the request path. A coordinator sees their own change on the next page load without a
maker, and within `STALE` seconds with one — on SQLite and on PostgreSQL."""

import contextlib
import re
import time
import warnings
from datetime import datetime
from pathlib import Path

from conftest import counting_statements
from test_kept_page import Loaded
from test_page_cost import BASE

from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC
from dqflow.web import snapshots

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402
from dqflow.web.maker import Maker  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def row_statuses(home: str, institution: str) -> list[str]:
    """The statuses of a ДОУ's row in the home's grid."""
    row = re.search(rf'<a href="/coordinator/dou/{institution}">[^<]*</a></td>\n(.*?)</tr>', home)
    assert row is not None, home[:500]
    return re.findall(r'class="status (\w+)"', row[1])


class Portals(Loaded):
    """The campaign of `Loaded` behind two portals: `served` (the one a test gives a maker) and `plain` (none: each
    page made for its request's state, as a reference)."""

    def __init__(self, db, folder: Path):
        super().__init__(db, folder)
        self.apps = [create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC)) for _ in range(2)]
        self.portal = self.apps[0].state.portal
        self.plain = TestClient(self.apps[1], base_url=BASE)

    def sign_in(self, client: TestClient) -> None:
        with store.transaction(self.db) as session:
            started = links.start_session(session, self.portal.campaign, self.now, "link")
        client.cookies.set("dqflow_session", self.portal.signer.session_cookie(started, self.now))

    def kept(self, name: tuple) -> tuple | None:
        with self.portal.snapshots.lock:
            return self.portal.snapshots.values.get(name)


def wait_for(what, seconds: float = 10.0):
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        found = what()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("not in time")


def test_a_kept_page_is_served_at_most_stale_seconds_older_than_its_request(db_url: str, tmp_path: Path):
    """A maker that made one round and then rests (its pause an hour): right after a hand-in the board is served as
    kept (its state read less than `stale` before the request's); once the kept one is older than that, the request
    makes the board for its own state, whatever the maker does."""
    db = store.connect(db_url)
    loaded = Portals(db, tmp_path)
    portal, served = loaded.portal, TestClient(loaded.apps[0], base_url=BASE)
    portal.snapshots.stale = 2.0
    maker = Maker(portal.snapshots, portal.reading, portal.state_key, portal.clock, pause=3600)
    try:
        maker.start()
        maker.ask(("board", 0), lambda session, now, key: portal.board_rendering(session, now, 0, key))
        wait_for(lambda: maker.rounds == 1)
        made_at = loaded.kept(("board", 0))[2]
        before = served.get("/board").text
        assert before == loaded.plain.get("/board").text
        loaded.act(lambda s: engine.submit(s, loaded.id, "2", "fill-form", loaded.now, ("https://dou2.example.org/new",)))
        right_after = served.get("/board").text
        fresh = loaded.plain.get("/board").text
        assert fresh != before  # the hand-in shows on a page made for its state
        assert time.monotonic() - made_at < portal.snapshots.stale, "the machine was too slow for this test's timing"
        assert right_after == before  # served as kept, the maker asked (it rests)
        time.sleep(max(made_at + portal.snapshots.stale - time.monotonic(), 0) + 0.05)
        assert served.get("/board").text == fresh  # never older than `stale`: made on the request path
        assert maker.rounds == 1
    finally:
        maker.stop()
        served.close()
        loaded.plain.close()
        db.dispose()


def test_the_maker_makes_the_first_pages_as_the_portal_starts_and_again_after_a_change(db_url: str, tmp_path: Path):
    """With the app's lifespan (as `dqflow serve` runs it) the board's and the home's first pages are made before any
    request; after a hand-in the maker makes the board again for the new state, and the request after it is served
    that, costing only the statements of a kept page."""
    db = store.connect(db_url)
    loaded = Portals(db, tmp_path)
    try:
        with TestClient(loaded.apps[0], base_url=BASE) as served:  # the lifespan: the maker runs
            maker = loaded.portal.snapshots.maker
            assert maker is not None and maker.running
            first = wait_for(lambda: loaded.kept(("board", 0)))  # no request yet
            assert wait_for(lambda: loaded.kept(("overview", 0)))
            with counting_statements(db, but_thread="dqflow-maker") as asked:
                assert served.get("/board").text == loaded.plain.get("/board").text
            kept_page = len(asked)
            loaded.act(lambda s: engine.submit(s, loaded.id, "2", "fill-form", loaded.now, ("https://dou2.example.org/new",)))
            served.get("/board")  # kept, or made here: either way the maker is asked for the new state
            remade = wait_for(lambda: (loaded.kept(("board", 0)) or first)[0] != first[0] and loaded.kept(("board", 0)))
            assert remade[0][1] > first[0][1]  # a newer audit row in its state
            with counting_statements(db, but_thread="dqflow-maker") as asked:
                assert served.get("/board").text == loaded.plain.get("/board").text
            assert len(asked) == kept_page  # served as the maker made it
        assert loaded.portal.snapshots.maker is None and not maker.running and not maker.thread.is_alive()  # stopped with the app
    finally:
        loaded.plain.close()
        db.dispose()


def test_a_coordinator_sees_their_own_excuse_on_the_next_page_load(db_url: str, tmp_path: Path):
    """The next load of the home shows the coordinator's own excuse, with the maker running as without one (a page kept
    from before their act is not served by the worker that wrote it: `Snapshots.acted`); the card, never kept, at once;
    and a change another process committed shows on any load `STALE` seconds after it."""
    db = store.connect(db_url)
    loaded = Portals(db, tmp_path)

    def excuse(client: TestClient, institution: str) -> None:
        token = CSRF.search(client.get(f"/coordinator/dou/{institution}").text)[1]
        answer = client.post(f"/coordinator/dou/{institution}", data={"csrf": token, "action": "excuse", "stage": "fill-form",
                                                                      "reason": "карантин"},
                             headers={"Origin": BASE}, follow_redirects=False)
        assert answer.status_code == 303, answer.text[:500]

    try:
        plain = loaded.plain
        loaded.sign_in(plain)
        assert "excused" not in row_statuses(plain.get("/coordinator").text, "3")
        excuse(plain, "3")
        assert "excused" in row_statuses(plain.get("/coordinator").text, "3")  # the next page load

        with TestClient(loaded.apps[0], base_url=BASE) as served:
            loaded.sign_in(served)
            assert "excused" not in row_statuses(served.get("/coordinator").text, "4")
            wait_for(lambda: loaded.kept(("overview", 0)))  # the maker keeps the home made
            excuse(served, "4")
            assert '<span class="status excused">' in served.get("/coordinator/dou/4?ok=excused").text  # the card
            assert "excused" in row_statuses(served.get("/coordinator").text, "4")  # the very next load of the home
            assert "excused" not in row_statuses(served.get("/coordinator").text, "5")
            loaded.act(lambda s: engine.excuse(s, loaded.id, "5", "fill-form", "карантин", loaded.now))  # another process
            committed = time.monotonic()
            time.sleep(max(committed + snapshots.STALE - time.monotonic(), 0) + 0.05)
            assert "excused" in row_statuses(served.get("/coordinator").text, "5")
    finally:
        loaded.plain.close()
        db.dispose()


def test_pages_are_addressed_by_their_first_row_and_the_maker_keeps_no_more_than_is_kept(database, tmp_path: Path):
    """`?offset=` of any row is its page's first row (a page is kept and made per page: offsets of every row would have
    the maker making pages nobody pages to); the maker keeps made at most half as many pages as are kept, the least
    lately asked let go."""
    from dqflow.web import board

    assert [board.page_offset(text, 2000) for text in ("0", "7", "499", "500", "503", "1999", "2000", "x")] == [0, 0, 0, 500, 500, 1500, 0, 0]
    assert board.page_offset("25", 100, 10) == 20
    kept = snapshots.Snapshots()
    maker = Maker(kept, contextlib.nullcontext, lambda session, now: (), lambda: datetime.now(UTC))
    for n in range(3 * kept.kept):
        maker.ask(("board", n * board.PAGE), lambda session, now, key: None)
    assert list(maker.wanted) == [("board", n * board.PAGE) for n in range(3 * kept.kept - kept.kept // 2, 3 * kept.kept)]
