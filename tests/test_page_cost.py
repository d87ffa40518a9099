"""Every page of the portal costs what it shows: the same bounded number of SQL statements at 15 and at 1,500 ДОУ.

Two campaigns on the Tomsk schedule, of 15 and of 1,500 ДОУ, in one database (on SQLite and on PostgreSQL); real
requests through Starlette's TestClient, each counted with a `before_cursor_execute` listener on the portal's engine:
a ДОУ's page, an expert's page, the coordinator's home, a card, the outbox, an expert list, the board (its first
rendering and then from what the portal kept), a hand-in and a review. Pages are asked on a database no tick has brought past a
boundary (they must not reconcile), and again after one. The counts must be equal for both sizes and under the bounds.
"""

import contextlib
import re
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy
import yaml

from conftest import TOMSK, counting_statements, form_levels
from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local
from dqflow.campaign import spec
from dqflow.engine import experts

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

# Statements a request may cost, whatever the roster's size: a page computed afresh (the first after a change of the
# campaign's state: the board and the coordinator's home count the whole campaign in bounded GROUP BYs), a page
# served from what the portal kept for that state, and an act (the engine reconciles what it needs, set by set).
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
PAGE_BOUND, KEPT_BOUND, ACT_BOUND = 30, 8, 50
# What a deadline rush asks most, bounded closer (issue 20): a ДОУ's page is one rolled-back transaction that checks the
# link and reads the page (11 in three transactions before); a hand-in checks the link in that way, then writes the
# ДОУ's own row, its hand-in and its audit in one short transaction that reconciles only that row (45 with a
# whole-campaign reconcile inside before). Inside the hand-in's write transaction: at most HAND_IN_WRITE. A review on a
# drawn list likewise brings only its ДОУ's rows forward (47 with a whole-campaign reconcile inside before): inside its
# write transaction the list's probe, the definition's digest, the ДОУ's row with its materials' rows (one read), its
# experts with their reviews (one join), the review and its audit (REVIEW_WRITE; 10 before the rows and the experts were
# read in one statement each). A ДОУ's page: the digest and its link in one statement, its state's key
# (`snapshots.institution_version`), then its rows with their hand-ins (one join), the review stages with its reviews
# (one join) and its links' checks. The key is read in the admission's statement (`Site.admit`'s key): a first rendering
# in a state costs 5 (SQLite, with BEGIN; 4 on PostgreSQL, whose statements the snapshot's BEGIN and ROLLBACK do not
# count: ROUND_TRIPS; 8 when the hand-ins, the stages' followed flags, the reviews and the links were read each alone; 6
# with the key apart); asked again in the same state it is served from what the portal kept ("dou again": the
# admission with the key and the checks of its links: 1 — on SQLite run on the event loop's thread with no BEGIN,
# `Site.admit_inline`; 2 with a BEGIN on a worker thread, 3 and 2 with the key apart). An expert's page: the admission,
# BEGIN, their assignments each with its ДОУ's rows and the expert's own reviews (one join; 6 when the assignments, the
# rows and the reviews were read each alone), their hand-ins: 4. A post's admission is one statement with no BEGIN on
# either backend (hand-in 7, review 8; 8 and 9 with a BEGIN before it on SQLite).
# The coordinator's home at a new state: the state's key, the links' counts, every ДОУ's audit count and the rows of
# those changed (`snapshots.KeptLate`), the grid's, the stages and the silent experts of who is shown late (12 on SQLite;
# 29 when who is late, the reviews of nothing and the stages' counts were read from the whole campaign at every state;
# 14 when the definition's refresh, the session's check and the page were three transactions). The coordinator's and
# the board's pages are one worker-thread call with the refresh and the session's check (`Site.admit_session`): the home
# again 5, the board again 4 (BEGIN, the digest with the session — none for the board's guest —, the state's key, the
# links' counts), the card 9 (13 in three transactions).
CLOSER = {"dou": 5, "dou again": 1, "expert": 4, "hand-in": 7, "review": 8, "home": 12, "home again": 5, "card": 9, "board": 6,
          "board again": 4}
# Round trips on PostgreSQL (issue 20), BEGIN and ROLLBACK counted: a read of one statement runs in autocommit, a page of
# several in one snapshot (`site.Reads`), so a kept ДОУ page is its admission alone (4 with the key apart and BEGIN,
# ROLLBACK around both), a page afresh the admission, BEGIN, its rows' 3 statements, ROLLBACK (7 before); an expert's
# page the admission, BEGIN, 2, ROLLBACK; an act's guard one (3 before: BEGIN, the admission, ROLLBACK). A coordinator's
# page (and the board, with the coordinator's cookie): the digest and the session in one statement
# (`sessions.digest_and_live`), then the page in one snapshot (two reads, each in a transaction of its own, before:
# "home again" 7 statements on SQLite, 6 round trips on PostgreSQL, "board again" 6 and 5).
ROUND_TRIPS = {"dou": 6, "dou again": 1, "expert": 5, "hand-in": 10, "review": 11, "home again": 5, "board again": 4, "card": 9}
HAND_IN_WRITE = 6  # BEGIN IMMEDIATE (SQLite) or the campaign's share lock (PostgreSQL), the definition's digest, the row, 3 writes
REVIEW_WRITE = 7  # BEGIN IMMEDIATE (SQLite; the probe of the list comes before the share lock on PostgreSQL: 6), as above
KEPT = ("board again", "home again", "dou again")
ACTS = ("hand-in", "review")
SIZES = (15, 1500)
BASE = "https://portal.example.org"


def campaign_file(folder: Path, n: int) -> Path:
    """The Tomsk schedule for `n` generated ДОУ (`national-<n>`), each with two experts of its own."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"national-{n}"
    data["institutions"] = {"file": f"roster-{n}.csv"}
    rows = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    rows += [f"{i},МБДОУ № {i},dou{i}@example.org,,e{i}-{k},Эксперт {k} ДОУ № {i},expert{i}-{k}@example.org"
             for i in range(1, n + 1) for k in (1, 2)]
    (folder / f"roster-{n}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / f"national-{n}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def counting_round_trips(db):
    """[n]: the round trips `db`'s psycopg connections make while the block runs (PostgreSQL; nothing on SQLite): each
    `Connection.wait` whose generator talks to the server, and one more when psycopg sends BEGIN ahead of a statement
    (outside a transaction, not in autocommit). What the statement count does not see: BEGIN, COMMIT, ROLLBACK."""
    trips = [0]
    if db.dialect.name != "postgresql":
        yield trips
        return
    import psycopg
    from psycopg.pq import TransactionStatus

    wait = psycopg.Connection.wait

    def talking(gen, count):
        try:
            value = next(gen)
        except StopIteration as done:  # setting a flag: nothing sent
            return done.value
        trips[0] += count
        try:
            while True:
                value = gen.send((yield value))
        except StopIteration as done:
            return done.value

    def counted(self, gen, *args, **kwargs):
        begins = not self.autocommit and self.pgconn.transaction_status == TransactionStatus.IDLE
        return wait(self, talking(gen, 2 if begins else 1), *args, **kwargs)

    psycopg.Connection.wait = counted
    try:
        yield trips
    finally:
        psycopg.Connection.wait = wait


class Costs:
    """One campaign behind its portal: counts what each request costs."""

    def __init__(self, db, folder: Path, n: int):
        campaign = spec.load(campaign_file(folder, n))
        self.id, self.tz, self.db = campaign.id, campaign.tz, db
        with store.transaction(db) as session:
            engine.load(session, campaign, self.at("2021-11-18 09:00"))
        with store.transaction(db) as session:
            engine.reconcile(session, self.id, self.at("2021-11-25 00:05"))  # list 1 drawn
        with store.transaction(db) as session:
            for inst in ("1", "3"):
                engine.submit(session, self.id, inst, "fill-form", self.at("2021-11-26 10:00"), (f"https://dou{inst}.example.org/a",))
        self.now = self.at("2021-11-29 12:00")
        self.app = create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC))
        self.client = TestClient(self.app, base_url=BASE)
        self.campaign = campaign
        self.sign_in()
        with store.dry_run(db) as session:
            found = links.links(session, self.id)
            self.expert = experts.stored(session, self.id, "list1")["1"][0]
            self.paths = {"dou": found.path("institution", "2"), "dou again": found.path("institution", "2"), "expert": found.path("expert", self.expert),
                          "home": "/coordinator", "card": "/coordinator/dou/2", "outbox": "/coordinator/outbox",
                          "experts": "/coordinator/experts/list1", "board": "/board", "board again": "/board",
                          "home again": "/coordinator"}
        self.seen: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    def sign_in(self) -> None:
        """A coordinator's session started now (a session lasts hours: the test's clock moves days)."""
        with store.transaction(self.db) as session:
            signed_in = links.start_session(session, self.campaign, self.now, "link")
        self.client.cookies.set("dqflow_session", self.app.state.portal.signer.session_cookie(signed_in, self.now))

    def at(self, text: str) -> datetime:
        return parse_local(text, self.tz)

    def tick(self, text: str) -> None:
        with store.transaction(self.db) as session:
            engine.reconcile(session, self.id, self.at(text))

    def count(self, label: str, request) -> str:
        with counting_statements(self.db) as statements, counting_round_trips(self.db) as trips:
            response = request()
        assert response.status_code in (200, 303), (label, response.status_code, response.text[:500])
        self.seen[label] = len(statements)
        if self.db.dialect.name == "postgresql":
            self.seen[f"{label} (round trips)"] = trips[0]
        if label in ACTS:  # what the write transaction holds: from its start (the write lock on SQLite) to its end
            start = next(n for n, s in enumerate(statements) if s.startswith("BEGIN IMMEDIATE") or s.rstrip().endswith("FOR SHARE"))
            self.seen[f"{label}: write transaction"] = len(statements) - start
        self.texts[label] = response.text
        if label not in ACTS:  # a page reads: it never brings the campaign forward in a rolled-back write
            assert not [s for s in statements if WRITE.match(s)], (label, [s for s in statements if WRITE.match(s)])
        return response.text

    def pages(self, moment: str) -> None:
        for page, path in self.paths.items():
            self.count(f"{moment}: {page}", lambda: self.client.get(path))

    def post(self, label: str, path: str, data: dict) -> None:
        token = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)[1]
        self.count(label, lambda: self.client.post(path, data={"csrf": token, **data}, follow_redirects=False))

    def run(self) -> dict[str, int]:
        self.pages("un-ticked, before the handout")
        self.post("hand-in", self.paths["dou"], {"stage": "fill-form", "link": "https://dou2.example.org/a"})
        self.now = self.at("2021-12-02 12:00")  # fill-form locked, the review open: no tick has seen it
        self.sign_in()
        self.pages("un-ticked, past a lock")
        self.tick("2021-12-02 12:00")
        self.pages("ticked")
        self.post("review", self.paths["expert"], {"stage": "review1", "institution": "1", **form_levels()})
        self.client.close()
        missed = '<span class="status missed">'
        assert missed not in self.texts["un-ticked, before the handout: board again"]
        assert missed in self.texts["un-ticked, past a lock: board again"]  # a lock passed without a tick: the board knows
        for moment in ("un-ticked, before the handout", "un-ticked, past a lock", "ticked"):  # kept, and as made afresh
            assert self.texts[f"{moment}: dou again"] == self.texts[f"{moment}: dou"]
        assert 'value="fill-form"' in self.texts["un-ticked, before the handout: dou again"]
        assert 'value="fill-form"' not in self.texts["un-ticked, past a lock: dou again"]  # locked by time alone: not the kept page
        return self.seen


def test_every_page_and_act_costs_the_same_bounded_statements_at_15_and_at_1500_dou(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    try:
        costs = {n: Costs(db, tmp_path, n).run() for n in SIZES}
    finally:
        db.dispose()
    small, large = costs[SIZES[0]], costs[SIZES[1]]
    assert small == large, "a request costs more statements on the larger roster"
    bound = lambda label: ACT_BOUND if label in ACTS else KEPT_BOUND if label.endswith(KEPT) else PAGE_BOUND  # noqa: E731
    over = {label: n for label, n in large.items() if n > bound(label)}
    assert not over, f"over the bound: {over}"
    closer = {label: n for label, n in large.items() if n > CLOSER.get(label.rpartition(": ")[2] if ": " in label else label, n)}
    assert not closer, f"over the closer bound {CLOSER}: {closer}"
    trips = {label.removesuffix(" (round trips)"): n for label, n in large.items() if label.endswith(" (round trips)")}
    assert bool(trips) == db_url.startswith("postgresql")
    over_trips = {label: n for label, n in trips.items() if n > ROUND_TRIPS.get(label.rpartition(": ")[2] if ": " in label else label, n)}
    assert not over_trips, f"over the round trips {ROUND_TRIPS}: {over_trips}"
    assert large["hand-in: write transaction"] <= HAND_IN_WRITE, large["hand-in: write transaction"]
    assert large["review: write transaction"] <= REVIEW_WRITE, large["review: write transaction"]
    assert set(large) >= {f"ticked: {page}" for page in ("dou", "expert", "home", "card", "outbox", "experts", "board")}


def test_a_personal_page_searches_its_own_rows_and_scans_no_table(tmp_path: Path):
    """The statements of a ДОУ's page (first rendering and kept) and an expert's page on 1,500 ДОУ, before and after a
    list opens undrawn: each table read by an index search narrower than the campaign (SQLite's EXPLAIN QUERY PLAN), none
    scanned — what would make a page grow with the roster at the same count of statements (the counts above do not see
    a plan)."""
    db = store.connect(f"sqlite:///{tmp_path / 'plans.db'}")
    try:
        costs = Costs(db, tmp_path, SIZES[1])
        plans: dict[str, list[str]] = {}

        def note(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                found = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                plans.setdefault(" ".join(statement.split()), []).extend(row[-1] for row in found)

        with store.dry_run(db) as session:
            handed_in = links.links(session, costs.id).path("institution", "1")  # its kept page's links are checked
        for now in ("2021-11-29 12:00", "2021-12-20 10:00"):  # list 2 open on 08.12, not drawn: the page asks whether it is
            costs.now = costs.at(now)
            sqlalchemy.event.listen(db, "before_cursor_execute", note)
            try:
                for path in (handed_in, handed_in, costs.paths["dou"], costs.paths["dou"], costs.paths["expert"]):
                    assert costs.client.get(path).status_code == 200
            finally:
                sqlalchemy.event.remove(db, "before_cursor_execute", note)
        costs.client.close()
        assert any("link_check" in s for s in plans) and any("assignment" in s for s in plans)
        scans = {s: [p for p in found if p.startswith("SCAN") and p not in ("SCAN one", "SCAN CONSTANT ROW")
                     or p.endswith("(campaign_id=?)")]  # a search of the whole campaign's rows is a scan of its roster
                 for s, found in plans.items()}
        assert not any(scans.values()), {s: p for s, p in scans.items() if p}
    finally:
        db.dispose()
