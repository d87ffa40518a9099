"""How the portal's reads meet the database (`site.Reads`, issue 20), on SQLite and on PostgreSQL.

A read of one statement runs on its own (on PostgreSQL in autocommit: no BEGIN, no ROLLBACK), so a ДОУ's link is checked
and its kept page's key read in one statement (`Site.admit`); a page of several statements reads them in one snapshot.
What that must not break: a revoked or expired link is refused, a kept page too; a page does not mix two states of the
database; a connection lent back to the pool is a transaction's again for the next writer.
"""

import warnings
from datetime import datetime

from sqlalchemy import text

from conftest import Cli
from dqflow import store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local, zone

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

TZ = zone("Asia/Tomsk")
BASE = "https://portal.example.org"
AUDIT = text("SELECT count(*) FROM audit")
DIGEST = text("SELECT digest FROM campaign")


class Portal:
    def __init__(self, db_url: str):
        self.db = store.connect(db_url)
        self.now = parse_local("2021-11-25 10:00", TZ)
        self.app = create_app(self.db, None, lambda: self.now, lambda: datetime.now(UTC))
        self.site = self.app.state.portal
        self.client = TestClient(self.app, base_url=BASE)

    def path(self, role: str, subject: str) -> str:
        with store.dry_run(self.db) as session:
            return links.links(session, "tomsk-2021").path(role, subject)


def revoke(tomsk: Cli, institution: str) -> str:
    """A new link for the ДОУ, written by another process's command while the portal runs: the new path."""
    tomsk.env = {"DQFLOW_BASE_URL": BASE}
    return tomsk.ok("link", "revoke", institution, "--now", "2021-11-25 10:00").split("Новая: ")[1].strip().removeprefix(BASE)


def test_a_kept_page_is_refused_once_its_link_is_revoked_or_expired(tomsk: Cli, db_url: str):
    portal = Portal(db_url)
    try:
        good = portal.path("institution", "4")
        first = portal.client.get(good)
        assert first.status_code == 200 and "МБДОУ № 4" in first.text
        assert portal.site.kept.get("4") is not None  # the next request is served from what was kept, if its link holds
        assert portal.client.get(good).text == first.text

        new = revoke(tomsk, "4")
        refused = portal.client.get(good)
        assert refused.status_code == 403 and "отозвана" in refused.text and "МБДОУ № 4" not in refused.text
        assert portal.client.get(new).status_code == 200
        portal.now = parse_local("2022-06-01 10:00", TZ)
        expired = portal.client.get(new)
        assert expired.status_code == 403 and "истёк" in expired.text
    finally:
        portal.client.close()
        portal.db.dispose()


def test_a_page_reads_one_snapshot_while_another_process_commits(tomsk: Cli, db_url: str):
    """Between two statements of one page another process commits (a link revoked: an audit row): the page's second
    statement sees the database as its first did — in `Site.reading` and in what `Site.admit` reads for a page."""
    portal = Portal(db_url)
    try:
        with portal.site.reading() as session:
            before = session.execute(AUDIT).scalar_one()
            revoke(tomsk, "4")
            assert session.execute(AUDIT).scalar_one() == before
        with store.dry_run(portal.db) as session:
            assert session.execute(AUDIT).scalar_one() == before + 1  # it was committed

        def read(session):
            seen = session.execute(AUDIT).scalar_one()
            revoke(tomsk, "5")
            return seen, session.execute(AUDIT).scalar_one()

        token = portal.path("institution", "6").rsplit("/", 1)[1]
        why, (seen, again) = portal.site.admit("institution", "6", token, read)
        assert why is None and seen == again == before + 1
    finally:
        portal.db.dispose()


def test_a_connection_lent_back_after_pages_is_a_transactions_again(tomsk: Cli, db_url: str):
    """The reads' autocommit (PostgreSQL) stays theirs: after pages and a refused post, every connection the pool holds
    rolls a write transaction back."""
    portal = Portal(db_url)
    try:
        good = portal.path("institution", "4")
        assert portal.client.get(good).status_code == 200
        assert portal.client.get(portal.path("expert", "e15")).status_code == 200
        assert portal.client.post(good, data={"csrf": "x", "stage": "fill-form"}).status_code == 403
        held = portal.db.pool.checkedin()
        assert held >= 1
        connections = [portal.db.connect() for _ in range(held)]
        try:
            for connection in connections:
                before = connection.execute(DIGEST).scalar_one()
                connection.execute(text("UPDATE campaign SET digest = 'changed'"))
                connection.rollback()
                assert connection.execute(DIGEST).scalar_one() == before != "changed"
                connection.rollback()
        finally:
            for connection in connections:
                connection.close()
    finally:
        portal.client.close()
        portal.db.dispose()
