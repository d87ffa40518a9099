"""Reads a send makes over and over, which the replay of a national campaign meets thousands of times (issue 23, 5):
the coordinator's digest finds its last sending among the rows about no ДОУ and no stage, not by walking every sent
row of the campaign; stored moments are parsed once per value and shared, and read back right however many there are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from dqflow import engine, store
from dqflow.calendar import UTC
from dqflow.delivery import due
from dqflow.delivery.digest import digest_content
from dqflow.engine import skips
from dqflow.store import tables
from tests.conftest import counting_statements


@pytest.mark.sqlite_only("reads SQLite's query plan")
def test_the_digest_finds_its_last_sending_among_the_rows_about_no_dou_not_every_sent_row(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    db = store.connect(db_url)
    try:
        with counting_statements() as seen, store.dry_run(db) as session:
            campaign = engine.definition(session, "tomsk-2021")
            digest_content(session, campaign, campaign.institution_names, datetime(2021, 11, 22, 3, 0, tzinfo=UTC))
        [statement] = [s for s in seen if s.startswith("SELECT outbox.sent_at")]
        with db.connect() as connection:
            plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, (None,) * statement.count("?"))]
    finally:
        db.dispose()
    assert plan[0].startswith("SEARCH outbox USING INDEX ix_outbox_progress (campaign_id=? AND institution_id=? AND stage_id=?)"), plan


@pytest.mark.parametrize("bound", [None, 7])
def test_stored_moments_read_back_as_written_within_and_past_the_memo_bound(tomsk, db_url, monkeypatch, bound):
    if bound is not None:
        monkeypatch.setattr(tables, "MEMO_MOMENTS", bound)  # the memo is cleared many times over: each value still read right
    start = datetime(2021, 11, 10, 9, 0, 0, 123456, tzinfo=UTC)
    moments = [start + timedelta(minutes=n % 23, microseconds=n) for n in range(100)]
    db = sqlalchemy.create_engine(db_url, poolclass=NullPool)  # a new engine: its column processors and memo are its own
    audit = store.table(store.AuditRow).c
    try:
        with db.begin() as connection:
            first = connection.execute(select(audit.id).order_by(audit.id.desc()).limit(1)).scalar() or 0
            connection.execute(sqlalchemy.insert(store.table(store.AuditRow)), [
                {"campaign_id": "tomsk-2021", "at": at, "action": "test", "institution_id": None, "stage_id": None,
                 "source": None, "dest": None, "detail": None, "recorded_at": at} for at in moments])
            read = [at for at, in connection.execute(select(audit.at).where(audit.id > first).order_by(audit.id))]
            again = [at for at, in connection.execute(select(audit.at).where(audit.id > first).order_by(audit.id))]
    finally:
        db.dispose()
    assert read == moments and again == moments
    assert all(at.utcoffset() == timedelta(0) for at in read)


def test_a_sends_page_and_its_progress_read_through_the_driver_hold_what_sqlalchemy_reads(tomsk, db_url):
    """`due.page` and the skip policy's progress (`skips.driver_rows`: plain SQL through the driver, the columns' own
    result processors) give the values a SQLAlchemy statement of the same rows gives: aware stored moments, booleans,
    NULLs; an extended ДОУ's row among them."""
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 12:00", "--reason", "больничный", "--now", "2021-11-29")
    now = datetime(2021, 11, 30, 3, 0, tzinfo=UTC)
    db = store.connect(db_url)
    outbox, progress = store.table(store.OutboxRow).c, store.table(store.ProgressRow).c
    try:
        with store.transaction(db) as session:
            campaign = engine.definition(session, "tomsk-2021")
            engine.reconcile(session, campaign.id, now)
            addresses = due.recipients(session, campaign, now)
            page = due.page(session, campaign, now, addresses)
            expected = sorted((tuple(row) for state, moment in (("pending", "send_at"), ("failed", "retry_at"))
                               for row in session.execute(select(*due.COLUMNS).where(
                                   outbox.campaign_id == campaign.id, outbox.state == state, outbox[moment] <= now,
                                   outbox.recipient.in_(addresses)))),
                              key=lambda r: (r[2], r[8] or datetime.min.replace(tzinfo=UTC), r[0]))
            pairs = {(r.institution_id, r.stage_id) for r in page if r.institution_id and r.stage_id}
            stages, institutions = {s for _, s in pairs}, {i for i, _ in pairs}
            read = skips._progress_rows(session, campaign.id, stages, institutions)
            whole = skips._progress_rows(session, campaign.id, stages, set(map(str, range(skips.MAX_IN_LIST + 1))))
            columns = (*skips.PROGRESS, progress.opens_at)
            reference = set(session.execute(select(*columns).where(
                progress.campaign_id == campaign.id, progress.stage_id.in_(stages), progress.institution_id.in_(institutions))).all())
            every = set(session.execute(select(*columns).where(progress.campaign_id == campaign.id, progress.stage_id.in_(stages))).all())
    finally:
        db.dispose()
    assert len(page) > 10 and [tuple(row) for row in page] == expected
    assert all(isinstance(row, due.Due) and row.send_at.utcoffset() == timedelta(0) for row in page)
    assert {tuple(row) for row in read} == {tuple(row) for row in reference} and len(read) == len(reference)
    assert {tuple(row) for row in whole} == {tuple(row) for row in every}, "a list past one IN (…) reads the stages whole"
    assert any(row.extended is True for row in read) and all(type(row.extended) is bool for row in read)
    assert all(row.due_at.utcoffset() == timedelta(0) and row.opens_at.tzinfo is not None for row in read)
