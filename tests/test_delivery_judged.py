"""A send judges its page of due rows `due.JUDGED` addresses at a time, each in a short write transaction of its own
(on SQLite the write lock is held from the transaction's first read: a portal's hand-in waits for it), and decides
exactly what one transaction over the whole page decided: the same rows go out, the same are skipped, for the same
reasons."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from conftest import seeded_campaign
from sqlalchemy import text

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.delivery import due, outbox, simulate

MIDWAY = datetime(2021, 12, 3, 3, 0, tzinfo=UTC)  # the first review under way
SEND = datetime(2021, 12, 6, 2, 0, tzinfo=UTC)  # 09:00 in Tomsk, Monday: 115 addresses with due reminders




def _judged(db, campaign: spec.Campaign, when: datetime, session_for) -> tuple[list[str], set[int], set[int]]:
    """(the addresses, the ids of the rows read, of those that go out) of one send's producer loop at `when`."""
    _, addresses, writer = outbox.begin(lambda: store.transaction(db), lambda: store.dry_run(db), campaign, when, "c@example.org")
    read: set[int] = set()
    going: set[int] = set()
    for rows, kept, _ in outbox.judged_pages(session_for, campaign, when, addresses, writer):
        read.update(r.id for r in rows)
        going.update(r.id for r in kept)
    return addresses, read, going


def test_a_page_is_judged_in_short_transactions_that_decide_what_one_long_one_did(db_url: str, tmp_path: Path, monkeypatch):
    campaign = seeded_campaign(tmp_path)
    simulate.replay(campaign, simulate.seeded_scenario(campaign, 1), MIDWAY, None, lambda: datetime.now(UTC), keep=db_url)
    db = store.connect(db_url)
    when = SEND
    try:
        with store.transaction(db) as session:  # as a wake-up does before it sends
            engine.reconcile(session, campaign.id, when)
        with store.dry_run(db) as session:  # one transaction over the whole page, as before: what it decides
            monkeypatch.setattr(due, "JUDGED", due.PAGE)
            judgings = []
            _, read_whole, going_whole = _judged(db, campaign, when, lambda: judgings.append(1) or nullcontext(session))
            whole_skipped = _skipped(session, campaign)
        monkeypatch.undo()
        assert len(judgings) == 1  # the baseline is judged at once (`due.JUDGED` read at the call, not at definition)

        transactions = 0

        @contextmanager
        def counted():
            nonlocal transactions
            transactions += 1
            with store.transaction(db) as session:
                yield session

        addresses, read, going = _judged(db, campaign, when, counted)
        with store.dry_run(db) as session:
            skipped = _skipped(session, campaign)
    finally:
        db.dispose()
    assert len(addresses) > 2 * due.JUDGED, len(addresses)  # several short transactions for the one page of addresses
    assert len(addresses) <= due.PAGE
    assert transactions == -(-len(addresses) // due.JUDGED), (transactions, len(addresses))
    assert read == read_whole and going == going_whole  # the same rows read, the same go out
    assert skipped == whole_skipped and skipped, "the same rows skipped, for the same reasons, committed"


def _skipped(session, campaign: spec.Campaign) -> dict[int, str]:
    found = session.execute(text("SELECT id, reason FROM outbox WHERE campaign_id = :c AND state = 'skipped'"), {"c": campaign.id})
    return dict(found.all())


def test_the_addresses_one_person_writes_differently_are_judged_together():
    """The skip policy compares addresses without case (one reminder of a deadline per person): a batch never splits them."""
    from dqflow.delivery.outbox import _batches

    page = [f"a{n}@example.org" for n in range(4)] + ["Anna@example.org", "b@example.org", "anna@example.org", "c@example.org"]
    batches = list(_batches(page, 5))
    assert [a for batch in batches for a in batch] == page[:5] + ["anna@example.org", "b@example.org", "c@example.org"]
    assert batches[0] == page[:5] + ["anna@example.org"] and len(batches) == 2
    assert list(_batches(page[:4], 2)) == [page[:2], page[2:4]]
