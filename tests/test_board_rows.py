"""The board and the coordinator's home made again from the grid rows kept per state of their ДОУ (`web.snapshots.KeptRows`)
are never stale: after a hand-in, an extension, a stage locking by time alone (no tick), an amendment moving a deadline
and one withdrawing a ДОУ, every page of both is byte for byte what a portal that keeps no row makes for the same database
and `now`, its grid the rows `engine.status` lists (the rules in SQL) — on SQLite and on PostgreSQL, with the ДОУ that
changed said in Python (`board.FEW`) and in the database (FEW = 0).

Two portals over one database: `kept` (as served) and `plain` (`Snapshots.rows = None`: every row read and made afresh).
"""

import re
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import counting_statements
from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC
from dqflow.campaign import spec
from dqflow.engine import amend
from dqflow.web import board
from dqflow.web.snapshots import Snapshots
from test_kept_page import Loaded
from test_page_cost import BASE

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

PAGES = ("/board", "/board?offset=10", "/coordinator", "/coordinator?offset=10")
CSRF = re.compile(r'name="csrf" value="[^"]+"')


class Two(Loaded):
    def __init__(self, db, folder: Path):
        super().__init__(db, folder)
        self.apps = [create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC)) for _ in range(2)]
        self.apps[1].state.portal.snapshots.rows = None  # `plain`: no row kept …
        self.apps[1].state.portal.snapshots.late = None  # … and the late lists asked of `late` afresh
        self.clients = [TestClient(app, base_url=BASE) for app in self.apps]
        self.sign_in()

    def sign_in(self) -> None:
        """A session on each portal, started now (the test's clock moves days)."""
        for app, client in zip(self.apps, self.clients):
            with store.transaction(self.db) as session:
                started = links.start_session(session, app.state.portal.campaign, self.now, "link")
            client.cookies.set("dqflow_session", app.state.portal.signer.session_cookie(started, self.now))

    def pages(self) -> str:
        """Every page of the board and of the home from both portals, equal (but the form tokens); the board's grid as
        `engine.status` says it. The pages' text, joined."""
        kept, plain = self.clients
        texts = []
        for path in PAGES:
            with counting_statements(self.db) as asked:
                first = kept.get(path)
            fresh = plain.get(path)
            assert first.status_code == fresh.status_code == 200, (path, first.status_code, fresh.text[:300])
            assert CSRF.sub("", first.text) == CSRF.sub("", fresh.text), path
            assert len(asked) < 40
            texts.append(first.text)
        with store.dry_run(self.db) as session:
            view = engine.status(session, self.id, self.now, institutions=True, limit=None)
        rows = board.Board.of(view).rows  # each ДОУ's statuses as `status_at_sql` says them in the database
        assert "".join(f"{row}\n" for row in rows[:10]) in texts[0] and "".join(f"{row}\n" for row in rows[10:]) in texts[1]
        return "\n".join(texts)


@pytest.mark.parametrize("few", [board.FEW, 0])
def test_the_board_and_home_made_from_kept_rows_equal_pages_made_afresh_at_every_change(db_url: str, tmp_path: Path,
                                                                                      monkeypatch: pytest.MonkeyPatch, few: int):
    monkeypatch.setattr(board, "PAGE", 10)  # two pages of 15 ДОУ: the second one's rows with those withdrawn
    monkeypatch.setattr(board, "FEW", few)
    db = store.connect(db_url)
    two = Two(db, tmp_path)
    try:
        two.pages()
        kept = two.apps[0].state.portal.snapshots.rows
        assert len(kept.rows) == 2 * 15  # each ДОУ's row of either grid

        two.act(lambda s: engine.submit(s, two.id, "2", "fill-form", two.now, ("https://dou2.example.org/new",)))
        two.pages()  # a hand-in

        two.act(lambda s: engine.extend(s, two.id, "3", "fill-form", two.at("2021-12-10 18:00"), "болезнь", two.now))
        two.pages()  # an extension

        data = yaml.safe_load(two.path.read_text(encoding="utf-8"))
        fill = next(s for s in data["stages"] if s["id"] == "fill-form")
        fill["due"] = "2021-11-29"
        data["institutions"] = {"file": "roster-14.csv"}  # ДОУ 15 withdrawn: last on the second page
        roster = (tmp_path / "roster-15.csv").read_text(encoding="utf-8").splitlines()
        (tmp_path / "roster-14.csv").write_text("\n".join(r for r in roster if not r.startswith("15,")) + "\n", encoding="utf-8")
        two.path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        two.act(lambda s: amend.apply(s, spec.load(two.path), two.now, "перенос срока, ДОУ 15 закрыт"))
        two.pages()  # an amendment

        two.now = two.at("2021-12-02 12:00")  # fill-form locked, no tick: ДОУ 3 still open by its extension
        two.sign_in()
        page = two.pages()
        assert '<span class="status missed">' in page  # a stage locking by time alone

        two.now = two.at("2021-12-11 12:00")  # ДОУ 3's extension locked by time alone: no tick, no audit row
        two.sign_in()
        two.pages()

        two.act(lambda s: engine.reconcile(s, two.id, two.now))
        two.pages()  # a tick
    finally:
        for client in two.clients:
            client.close()
        db.dispose()


def test_a_new_state_remakes_only_the_rows_of_the_dou_that_changed(tmp_path: Path):
    """After one hand-in, the board made again renders that ДОУ's row alone: the others are the kept objects."""
    db = store.connect(f"sqlite:///{tmp_path / 'dqflow.db'}")
    two = Two(db, tmp_path)
    try:
        two.clients[0].get("/board")
        kept = two.apps[0].state.portal.snapshots.rows
        before = {key: row for key, (_, row) in kept.rows.items()}
        two.act(lambda s: engine.submit(s, two.id, "2", "fill-form", two.now, ("https://dou2.example.org/new",)))
        assert "https://dou2" not in two.clients[0].get("/board").text  # the board names no link: the row is its statuses
        after = {key: row for key, (_, row) in kept.rows.items()}
        remade = {key for key in before if after[key] is not before[key]}
        assert remade == {("board", "2")}
        assert before[("board", "2")] != after[("board", "2")]  # open → handed in
    finally:
        for client in two.clients:
            client.close()
        db.dispose()


def test_the_stages_shared_by_both_pages_are_never_those_of_the_state_before():
    """`Snapshots.get(exact=True)`: while the counts of one state are computed, a page of the next state waits and gets
    its own state's counts, never the ones before (a page kept under its key holds them until the next change)."""
    snapshots, started = Snapshots(), threading.Event()
    snapshots.get(("state", 1), "stages", lambda: "first")

    def slow() -> str:
        started.set()
        time.sleep(0.3)
        return "second"

    computing = threading.Thread(target=lambda: snapshots.get(("state", 2), "stages", slow))
    computing.start()
    started.wait()
    assert snapshots.get(("state", 2), "stages", lambda: "not asked") == "first"  # a whole page: the one before will do
    assert snapshots.get(("state", 2), "stages", lambda: "not asked", exact=True) == "second"  # waited for it
    assert snapshots.get(("state", 3), "stages", lambda: "third", exact=True) == "third"
    computing.join()


def test_a_row_is_made_again_when_its_own_extended_lock_passes_after_another_was_moved_out(db_url: str, tmp_path: Path,
                                                                                         monkeypatch):
    """The rows' key holds the campaign's passed extended locks as (how many, the latest): a count alone came back to a
    value it had when one ДОУ's passed lock was extended again and another's passed by time alone, and the second's row
    kept from before showed it open, not missed."""
    monkeypatch.setattr(board, "PAGE", 10)
    db = store.connect(db_url)
    two = Two(db, tmp_path)
    try:
        two.act(lambda s: engine.extend(s, two.id, "4", "fill-form", two.at("2021-11-26 12:00"), "W", two.now))
        two.act(lambda s: engine.extend(s, two.id, "13", "fill-form", two.at("2021-11-27 12:00"), "Z", two.now))
        two.now = two.at("2021-11-26 13:00")
        two.sign_in()
        two.pages()  # ДОУ 13's row kept: open
        two.act(lambda s: engine.extend(s, two.id, "4", "fill-form", two.at("2021-11-28 12:00"), "W again", two.now))
        two.clients[0].get("/board")  # only the first page viewed in this state
        two.now = two.at("2021-11-27 13:00")  # ДОУ 13's lock passed, no tick yet
        two.sign_in()
        two.pages()  # each page equal to one made afresh
    finally:
        for client in two.clients:
            client.close()
        db.dispose()
