"""Each rule that a set-based query needs has a Python form and a SQL form (`dqflow.engine.rules`): here the
SQL form, evaluated by the real database on a real table, gives exactly the Python form's answer for
generated rows and moments, the boundaries included (a moment equal to a row's opening, due time or
lock, and a microsecond either side). Runs on SQLite and, where a server answers, on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, String, Table, case, insert, select
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from dqflow.campaign.nodes import EMAIL
from dqflow.engine import rules
from dqflow.engine.rules import Status
from dqflow.store import CampaignRow, ProgressRow, ReviewRow
from dqflow.store.tables import UTCDateTime

CAMPAIGN = "agree"
UTC = timezone.utc
BASE = datetime(2021, 11, 30, 16, 59, 59, tzinfo=UTC)  # a Tomsk due time: the end of 30.11.2021, Asia/Tomsk
ZONES = (UTC, ZoneInfo("Asia/Tomsk"), ZoneInfo("America/St_Johns"))  # one moment written in several zones
PROGRESS = ProgressRow.__table__
REVIEW = ReviewRow.__table__
KEY_PARTS = Table("key_parts", MetaData(), Column("n", String, primary_key=True), Column("recipient", String, nullable=False),
                  Column("institution_id", String), Column("rule", String, nullable=False),
                  Column("deadline", UTCDateTime()), Column("deadline_text", String, nullable=False))
AGREE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def on_lattice(hours: int, micros: int, tz) -> datetime:
    return (BASE + timedelta(hours=hours, microseconds=micros)).astimezone(tz)


# Moments on a small lattice, so that a row's times and the moment asked about often coincide or lie 1 µs apart.
moments = st.builds(on_lattice, st.integers(-3, 3), st.sampled_from([-1, 0, 1]), st.sampled_from(ZONES))
progress_rows = st.lists(st.fixed_dictionaries({
    "status": st.sampled_from([s.value for s in Status]),
    "opens_at": moments, "due_at": moments, "locks_at": moments,  # in any order: the two forms agree on any row
    "submitted_at": st.none() | moments, "extended": st.booleans(),
}), min_size=1, max_size=12)


@st.composite
def rows_and_moment(draw):
    """Rows, and a moment: one of their boundaries exactly, a microsecond either side, or any moment at all."""
    rows = draw(progress_rows)
    row = draw(st.sampled_from(rows))
    near = draw(st.sampled_from(["opens_at", "due_at", "locks_at"]))
    moment = row[near] + timedelta(microseconds=draw(st.sampled_from([-1, 0, 1])))
    return rows, draw(st.sampled_from([moment.astimezone(draw(st.sampled_from(ZONES))), draw(moments)]))


@pytest.fixture
def database(db_url: str):
    """The dqflow tables (and one of the key's parts) on a fresh database, with one campaign row."""
    engine = sqlalchemy.create_engine(db_url, poolclass=NullPool)
    SQLModel.metadata.create_all(engine)
    KEY_PARTS.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(CampaignRow.__table__).values(id=CAMPAIGN, title="t", timezone="Asia/Tomsk", digest="-",
                                                                definition="{}", loaded_at=BASE))
    yield engine
    engine.dispose()


def evaluated(engine, table: Table, rows: list[dict], key, *columns) -> list[tuple]:
    """(`key`, *`columns`) selected by the database from `rows` written into `table`, by `key`; nothing stays written."""
    with engine.connect() as connection:
        with connection.begin() as transaction:
            connection.execute(insert(table), rows)
            found = connection.execute(select(key, *columns).order_by(key)).all()
            transaction.rollback()
    return [tuple(r) for r in found]


def progress(rows: list[dict]) -> list[dict]:
    return [{"campaign_id": CAMPAIGN, "institution_id": f"d{n:02}", "stage_id": "s", **row} for n, row in enumerate(rows)]


@AGREE
@given(rows_and_moment())
def test_a_dou_status_at_a_moment_is_the_same_in_sql(database, drawn):
    rows, now = drawn
    stored = progress(rows)
    in_sql = evaluated(database, PROGRESS, stored, PROGRESS.c.institution_id, rules.status_at_sql(now))
    in_python = [(r["institution_id"], rules.status_at(SimpleNamespace(**r), now)) for r in stored]
    assert in_sql == in_python, now


PREDICATES = {  # name → (Python form over a row, SQL form over the table's columns)
    "has_opened": (lambda r, now: rules.has_opened(r["opens_at"], now), lambda c, now: rules.has_opened_sql(c.opens_at, now)),
    "has_locked": (lambda r, now: rules.has_locked(r["locks_at"], now), lambda c, now: rules.has_locked_sql(c.locks_at, now)),
    "on_time now": (lambda r, now: rules.on_time(r["due_at"], now), lambda c, now: rules.on_time_sql(c.due_at, now)),
    "on_time handed in": (lambda r, now: r["submitted_at"] is not None and rules.on_time(r["due_at"], r["submitted_at"]),
                          lambda c, now: rules.on_time_sql(c.due_at, c.submitted_at)),
    "past_due": (lambda r, now: rules.past_due(r["due_at"], now), lambda c, now: rules.past_due_sql(c.due_at, now)),
    "expired": (lambda r, now: rules.expired(r["locks_at"], now), lambda c, now: rules.expired_sql(c.locks_at, now)),
}


@AGREE
@given(rows_and_moment())
def test_each_time_boundary_is_the_same_in_sql(database, drawn):
    rows, now = drawn
    stored = progress(rows)
    columns = [case((sql(PROGRESS.c, now), 1), else_=0) for _, sql in PREDICATES.values()]
    in_sql = evaluated(database, PROGRESS, stored, PROGRESS.c.institution_id, *columns)
    in_python = [(r["institution_id"], *(int(python(r, now)) for python, _ in PREDICATES.values())) for r in stored]
    assert in_sql == in_python, (now, list(PREDICATES))


def test_the_boundaries_are_where_the_rules_say():
    """The rules themselves, pinned: open from the opening instant, on time at the due instant, locked only after the lock."""
    due = lock = BASE
    assert rules.has_opened(BASE, BASE) and not rules.has_opened(BASE, BASE - timedelta(microseconds=1))
    assert rules.on_time(due, BASE) and not rules.on_time(due, BASE + timedelta(microseconds=1))
    assert not rules.has_locked(lock, BASE) and rules.has_locked(lock, BASE + timedelta(microseconds=1))
    at_lock = SimpleNamespace(status=Status.OPEN.value, opens_at=BASE - timedelta(days=1), locks_at=lock)
    assert rules.refusal(at_lock, lock) is None and rules.refusal(at_lock, lock + timedelta(microseconds=1)) is rules.Refusal.LOCKED
    assert rules.status_at(at_lock, lock) == "open" and rules.status_at(at_lock, lock + timedelta(microseconds=1)) == "missed"


text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12)  # what `texts.check` lets in
addresses = st.from_regex(EMAIL, fullmatch=True, alphabet=st.characters(blacklist_categories=("Cc", "Cs"))) | st.sampled_from(
    ["Zav@Example.org", "ЗАВ@example.org", "İnfo@EXAMPLE.ORG", "straße@example.org", "ǅ@example.org"])


@AGREE
@given(st.lists(st.tuples(addresses, st.none() | text, text, st.none() | moments), min_size=1, max_size=8),
       text, st.none() | text)
def test_the_outbox_key_is_the_same_in_sql(database, parts, campaign_id, stage_id):
    rows = [{"n": f"{n:02}", "recipient": recipient, "institution_id": institution, "rule": rule, "deadline": deadline,
             "deadline_text": rules.deadline_text(deadline)} for n, (recipient, institution, rule, deadline) in enumerate(parts)]
    c = KEY_PARTS.c
    in_sql = evaluated(database, KEY_PARTS, rows, c.n, rules.outbox_key_sql(campaign_id, c.recipient, c.institution_id, stage_id,
                                                                              c.rule, c.deadline_text))
    in_python = [(r["n"], rules.outbox_key(campaign_id, r["recipient"], r["institution_id"], stage_id, r["rule"], r["deadline"]))
                 for r in rows]
    assert in_sql == in_python


def test_the_key_keeps_its_spelling():
    """Keys already stored stay valid: the spelling of an ASCII address's key is what it always was."""
    deadline = datetime(2021, 11, 30, 23, 59, 59, tzinfo=ZoneInfo("Asia/Tomsk"))
    assert rules.outbox_key("tomsk-2021", "Dou2@Example.org", "2", "fill-form", "due", deadline) == \
        "tomsk-2021|dou2@example.org|2|fill-form|due|2021-11-30T16:59:59+00:00"
    assert rules.outbox_key("tomsk-2021", "imc@example.org", None, None, "digest:2021-12-01", None) == \
        "tomsk-2021|imc@example.org|-|-|digest:2021-12-01|-"


levels = st.dictionaries(st.sampled_from(["conditions", "orientations", "parents", "health", "ovz", "gone"]),
                         st.sampled_from(["1", "2", "3", "4", ""]), max_size=6)


@AGREE
@given(st.lists(levels, min_size=1, max_size=8), st.lists(st.sampled_from(["conditions", "orientations", "parents", "health"]),
                                                           unique=True))
def test_what_counts_as_a_review_is_the_same_in_sql(database, marks, areas):
    rows = [{"campaign_id": CAMPAIGN, "stage_id": "review1", "institution_id": f"d{n:02}", "expert_id": "e", "at": BASE,
             "levels": json.dumps(m, sort_keys=True)} for n, m in enumerate(marks)]
    counted = case((rules.counts_as_review_sql(REVIEW.c.levels, areas), 1), else_=0)
    in_sql = evaluated(database, REVIEW, rows, REVIEW.c.institution_id, counted)
    assert in_sql == [(r["institution_id"], int(rules.counts_as_review(json.loads(r["levels"]), areas))) for r in rows]


def test_an_address_in_the_key_lowers_ascii_letters_only():
    """SQLite's lower() lowers ASCII letters only, PostgreSQL's follows the locale: the key lowers ASCII alone on both."""
    assert rules.address("ЗАВ.Dou@Example.ORG") == "ЗАВ.dou@example.org"


@AGREE
@given(st.lists(st.tuples(st.sampled_from(["d1", "d2", "d3"]), st.sampled_from(["m1", "m2", "r"]), st.sampled_from([s.value for s in Status]),
                          moments, moments), min_size=1, max_size=9, unique_by=lambda t: (t[0], t[1])),
       moments, st.sampled_from([(), ("m1",), ("m1", "m2")]))
def test_whether_a_dou_has_nothing_to_review_is_the_same_in_sql(database, drawn, now, stages):
    """`rules.materials(...) is NONE` and `rules.no_materials_sql`, over each ДОУ's rows in the materials stages at `now`."""
    stored = [{"campaign_id": CAMPAIGN, "institution_id": inst, "stage_id": stage, "status": status, "opens_at": opens,
               "due_at": locks, "locks_at": locks, "extended": False} for inst, stage, status, opens, locks in drawn]
    outer = PROGRESS.c
    with database.connect() as connection:
        with connection.begin() as transaction:
            connection.execute(insert(PROGRESS), stored)
            in_sql = connection.execute(select(outer.institution_id, outer.stage_id, case(
                (rules.no_materials_sql(outer.institution_id, stages, now), 1), else_=0)).order_by(outer.institution_id, outer.stage_id)).all()
            transaction.rollback()
    def none(inst: str) -> bool:
        found = [SimpleNamespace(**r) for r in stored if r["institution_id"] == inst and r["stage_id"] in stages]
        return bool(found) and rules.materials(rules.status_at(r, now) for r in found) is rules.Materials.NONE
    assert [tuple(r) for r in in_sql] == [(r["institution_id"], r["stage_id"], int(none(r["institution_id"])))
                                          for r in sorted(stored, key=lambda r: (r["institution_id"], r["stage_id"]))]


@AGREE
@given(st.lists(st.tuples(st.sampled_from(["d1", "d2", "d3"]), st.sampled_from(["m1", "m2", "r"]), st.sampled_from([s.value for s in Status]),
                          moments, moments), min_size=1, max_size=9, unique_by=lambda t: (t[0], t[1])),
       moments, st.sampled_from([(), ("m1",), ("m1", "m2")]))
def test_a_review_of_nothing_is_the_same_status_in_sql(database, drawn, now, stages):
    """`status_at(row, now, materials=…)` and `status_at_sql(now, materials=…)`: a review row ('r') still due whose ДОУ
    handed in nothing in `stages` and can hand in nothing more is NOTHING in both, every other row its clock status."""
    stored = [{"campaign_id": CAMPAIGN, "institution_id": inst, "stage_id": stage, "status": status, "opens_at": opens,
               "due_at": locks, "locks_at": locks, "extended": False} for inst, stage, status, opens, locks in drawn]
    in_sql = evaluated(database, PROGRESS, stored, PROGRESS.c.institution_id + "/" + PROGRESS.c.stage_id,
                       rules.status_at_sql(now, materials={"r": stages}))

    def python(row: dict) -> str:
        mine = [SimpleNamespace(**r) for r in stored if r["institution_id"] == row["institution_id"] and r["stage_id"] in stages]
        return rules.status_at(SimpleNamespace(**row), now, materials=mine if row["stage_id"] == "r" and stages else None)
    in_python = sorted((f"{r['institution_id']}/{r['stage_id']}", python(r)) for r in stored)
    assert in_sql == in_python, now


def test_a_review_of_nothing_is_nothing_only_while_it_would_be_due():
    """Pinned: a locked unreported review of a ДОУ that missed its materials is NOTHING; a review given, or excused, keeps
    its status; a materials stage still open (an extension) makes the review due again: nothing stored to undo."""
    missed = SimpleNamespace(status=Status.MISSED.value, opens_at=BASE - timedelta(days=3), locks_at=BASE - timedelta(days=2))
    reopened = SimpleNamespace(status=Status.OPEN.value, opens_at=BASE - timedelta(days=3), locks_at=BASE + timedelta(days=1))
    review = SimpleNamespace(status=Status.OPEN.value, opens_at=BASE - timedelta(days=1), locks_at=BASE)
    after = BASE + timedelta(microseconds=1)
    assert rules.status_at(review, after) == Status.MISSED.value
    assert rules.status_at(review, after, materials=[missed]) == Status.NOTHING.value
    assert rules.status_at(review, BASE, materials=[missed]) == Status.NOTHING.value  # open, yet not due
    assert rules.status_at(review, after, materials=[reopened]) == Status.MISSED.value  # materials still awaited: due
    assert rules.status_at(review, after, materials=[]) == Status.MISSED.value  # a review of no stage has always something
    for kept in (Status.DONE, Status.LATE, Status.EXCUSED):
        assert rules.status_at(SimpleNamespace(**{**vars(review), "status": kept.value}), after, materials=[missed]) == kept.value
