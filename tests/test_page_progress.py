"""A send reads its page of due rows with each row's progress in the same statements (`due.page_and_progress`), and the
skip policy then reads only a review's materials apart (`skips.Facts.read(progress=…)`). Through the second half of a
seeded campaign of 60 ДОУ with two experts each, at every send time, the facts are those read the old way: the page's
ДОУ × stages read apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import seeded_campaign
from sqlalchemy import text

from dqflow import engine, store
from dqflow.delivery import due, simulate
from dqflow.engine import skips
from dqflow.engine.reminders import Clock


def test_a_page_read_with_its_progress_gives_the_facts_read_apart(db_url: str, tmp_path: Path):
    campaign = seeded_campaign(tmp_path)
    midway = datetime(2021, 12, 3, 3, 0, tzinfo=UTC)  # the first review under way, the refill and second review ahead
    simulate.replay(campaign, simulate.seeded_scenario(campaign, 1), midway, None, lambda: datetime.now(UTC), keep=db_url)
    db = store.connect(db_url)
    clock = Clock(campaign)
    lists = skips.handout_lists(campaign)
    pages = materials = reminders = 0
    try:
        with store.dry_run(db) as session:  # rolled back: the send times ahead visited, every due row then marked sent
            when = clock.next_send_time(midway)
            end = max(s.locks_at for s in campaign.stages)
            while when <= end:
                engine.reconcile(session, campaign.id, when)
                addresses = due.recipients(session, campaign, when)
                for start in range(0, len(addresses), 40):  # pages of 40 addresses: several per send
                    rows, progress = due.page_and_progress(session, campaign, when, addresses[start:start + 40])
                    assert rows == due.page(session, campaign, when, addresses[start:start + 40])
                    joined = skips.Facts.read(session, campaign.id, rows, lists=lists, progress=progress)
                    apart = skips.Facts.read(session, campaign.id, rows, lists=lists)
                    assert joined.progress == apart.progress, when
                    assert joined.materials == apart.materials, when
                    assert skips.judge(rows, joined, when) == skips.judge(rows, apart, when)
                    pages += 1
                    materials += len(apart.materials)
                    reminders += sum(1 for r in rows if r.kind in skips.REMINDER_KINDS and (r.institution_id, r.stage_id) in progress)
                session.execute(text("UPDATE outbox SET state = 'sent' WHERE campaign_id = :c AND state IN ('pending', 'failed') "
                                     "AND send_at <= :t"), {"c": campaign.id, "t": due._bound(session, "send_at", when)})
                when = clock.next_send_time(when.replace(hour=23, minute=59))
    finally:
        db.dispose()
    assert pages > 5 and reminders > 100, (pages, reminders)
    assert materials > 10, "experts' reminders of a review among the pages: their materials read apart"
