"""A ДОУ's page kept rendered per state of that ДОУ (`web.snapshots.KeptPage`) is never stale: after each kind of change
(a hand-in, an extension, a link's check, an amendment moving a deadline, a review released by the stage locking, a
stage locking by time alone with no tick) the page shows the new state, and it is byte for byte the page a portal that
keeps nothing renders for the same database and `now` — on SQLite and on PostgreSQL.

Two portals over one database: `kept` (as served) and `plain` (`Site.kept = None`: every page rendered afresh). Each
check asks `kept` twice (the second from what it kept, when nothing changed) and `plain` once, and compares the bytes.
"""

import warnings
from datetime import datetime
from pathlib import Path

import yaml

from conftest import complete, counting_statements
from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local
from dqflow.campaign import spec
from dqflow.delivery import linkcheck
from dqflow.engine import amend, experts
from test_page_cost import BASE, campaign_file

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

RELEASED = "Рекомендации экспертов"


class Loaded:
    """A campaign of 15 ДОУ loaded, list 1 drawn, the test's clock at 26.11.2021 10:00 (`now`, moved by the test)."""

    def __init__(self, db, folder: Path):
        self.path = campaign_file(folder, 15)
        campaign = spec.load(self.path)
        self.id, self.tz, self.db = campaign.id, campaign.tz, db
        with store.transaction(db) as session:
            engine.load(session, campaign, self.at("2021-11-18 09:00"))
        with store.transaction(db) as session:
            engine.reconcile(session, self.id, self.at("2021-11-25 00:05"))  # list 1 drawn
        self.now = self.at("2021-11-26 10:00")

    def at(self, text: str) -> datetime:
        return parse_local(text, self.tz)

    def act(self, do) -> None:
        with store.transaction(self.db) as session:
            do(session)


class Two(Loaded):
    def __init__(self, db, folder: Path):
        super().__init__(db, folder)
        self.kept = create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC))
        self.plain = create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC))
        self.plain.state.portal.kept = None
        self.clients = [TestClient(app, base_url=BASE) for app in (self.kept, self.plain)]
        with store.dry_run(db) as session:
            found = links.links(session, self.id)
            self.paths = {i: found.path("institution", i) for i in ("2", "3")}
            self.expert = experts.stored(session, self.id, "list1")["2"][0]

    def page(self, institution: str = "2") -> str:
        """The ДОУ's page from the keeping portal, twice, equal to the plain portal's; its text."""
        kept, plain = self.clients
        first = kept.get(self.paths[institution])
        with counting_statements(self.db) as asked_again:
            again = kept.get(self.paths[institution])
        with counting_statements(self.db) as rendered:
            fresh = plain.get(self.paths[institution])
        assert first.status_code == again.status_code == fresh.status_code == 200
        assert first.content == again.content == fresh.content
        assert len(asked_again) < len(rendered)  # served from what was kept the second time: no desk read
        return first.text

    def close(self) -> None:
        for client in self.clients:
            client.close()


def test_a_kept_dou_page_shows_every_change_and_equals_a_fresh_rendering(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    two = Two(db, tmp_path)
    try:
        before = two.page()
        assert "https://dou2.example.org/new" not in before and 'name="link"' in before  # fill-form open, nothing handed in

        two.act(lambda s: engine.submit(s, two.id, "2", "fill-form", two.now, ("https://dou2.example.org/new",)))
        assert "https://dou2.example.org/new" in two.page()  # a hand-in

        assert "продлён" not in two.page("3")
        two.act(lambda s: engine.extend(s, two.id, "3", "fill-form", two.at("2021-12-10 18:00"), "болезнь", two.now))
        assert "продлён" in two.page("3")  # an extension

        assert linkcheck.STATE_RU["broken"] not in two.page()
        linkcheck.save(db, two.id, {"https://dou2.example.org/new": linkcheck.Result("https://dou2.example.org/new", "broken",
                                                                                    "страница не найдена", 404)}, two.now)
        assert linkcheck.STATE_RU["broken"] in two.page()  # a link's check: no audit row, read beside the key

        data = yaml.safe_load(two.path.read_text(encoding="utf-8"))
        refill = next(s for s in data["stages"] if s["id"] == "refill")
        assert str(refill["due"]) == "2021-12-12" and "до 13.12.2021" not in two.page()
        refill["due"] = "2021-12-13"
        two.path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        two.act(lambda s: amend.apply(s, spec.load(two.path), two.now, "перенос срока"))
        assert "до 13.12.2021" in two.page()  # an amendment moving a deadline

        assert '<span class="status missed">' not in two.page("3")
        two.now = two.at("2021-12-02 12:00")  # fill-form locked, no tick: ДОУ 3 still open by its extension
        two.act(lambda s: engine.review_many(s, two.id, [experts.ReviewEntry("2", "review1", two.expert, complete(),
                                                                               "Добавить фотоотчёт")], two.now))
        page = two.page()
        assert RELEASED not in page and "Добавить фотоотчёт" not in page  # recorded, not released yet
        assert 'name="stage" value="fill-form"' in two.page("3") and '<span class="status missed">' not in two.page("3")
        two.act(lambda s: engine.send_recommendations(s, two.id, "review1", two.now))
        page = two.page()  # released by the coordinator before the lock: the stage's row, no audit row of the ДОУ
        assert RELEASED in page and "Добавить фотоотчёт" in page

        two.now = two.at("2021-12-11 12:00")  # ДОУ 3's extension locked by time alone: no tick, no audit row
        assert RELEASED in two.page()
        page = two.page("3")
        assert '<span class="status missed">' in page and 'name="stage" value="fill-form"' not in page  # a stage locking
    finally:
        two.close()
        db.dispose()


def test_a_kept_dou_page_shows_a_review_released_by_its_stage_locking_with_no_tick(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    two = Two(db, tmp_path)
    try:
        two.act(lambda s: engine.submit(s, two.id, "2", "fill-form", two.now, ("https://dou2.example.org/a",)))
        two.now = two.at("2021-12-02 12:00")
        two.act(lambda s: engine.review_many(s, two.id, [experts.ReviewEntry("2", "review1", two.expert, complete(),
                                                                               "Добавить фотоотчёт")], two.now))
        page = two.page()
        assert RELEASED not in page and "Добавить фотоотчёт" not in page
        two.now = two.at("2021-12-06 12:00")  # review1 locked on 05.12: nothing written since the review
        page = two.page()
        assert RELEASED in page and "Добавить фотоотчёт" in page
    finally:
        two.close()
        db.dispose()
