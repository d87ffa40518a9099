"""One wake-up of a campaign: reconcile with `now`, deliver what is due, bring the kept final levels up to date for a
while (`engine.catch_up_finals`, `CATCH_UP`), and say when to wake next.

The daemon, `simulate` and `send` all run this sequence, so they cannot drift apart; none of it reads the clock but
through `wall` (the sending lease, the catch-up's time). `preview` is the same sequence run forward in a session that
is rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dqflow import engine
from dqflow.campaign import spec
from dqflow.delivery import BUDGET, due
from dqflow.delivery.outbox import DrainReport, Sent, begin, drain, judged_pages
from dqflow.delivery.writer import Batch
from dqflow.engine.reminders import Clock
from dqflow.store import dry_run, transaction

BUSY_RETRY = timedelta(seconds=30)  # another process holds the sending lease
BACKOFF = (timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=15))
PREVIEW_STEPS = 1000  # send times looked at before `preview` gives up finding a message
log = logging.getLogger("dqflow.delivery.wake")
CATCH_UP = timedelta(seconds=10)  # a wake-up's time for the kept final levels' catch-up; the next wake-up goes on at once


@dataclass
class Wake:
    changes: list[engine.Change]
    report: DrainReport
    next_at: datetime | None  # when something is next due; None when the campaign is over
    caught_up: bool = True  # False: the kept final levels' catch-up ran out of its time (`CATCH_UP`)

    def resume_at(self, now: datetime) -> datetime | None:
        """When the daemon wakes next: at once while the catch-up is behind, unless the send says to wait (another
        process holds the lease, the server keeps failing: `_hold_off`); else `next_at`. `simulate` and `send` read
        `next_at`: the catch-up changes nothing anyone is sent or shown, only how soon the справка reads kept levels."""
        if self.caught_up or self.report.busy or self.report.stopped == "server":
            return self.next_at
        return now


async def wake(db: Engine, campaign_id: str | None, now: datetime, transport, *, wall: Callable[[], datetime],
               sender: str | None = None,
               budget: timedelta = BUDGET, on_sent: Callable[[Sent], None] | None = None, failing: int = 0,
               recorded_at: datetime | None = None, stopping: Callable[[], bool] = lambda: False) -> Wake:
    """Reconcile, send, catch the kept final levels up, and find the next moment. `failing`: how many wake-ups in a row
    found the server failing; the next attempt then waits longer (1, 2, 5, 10, 15 minutes). `wall`: the real
    clock, for the sending lease and the catch-up's time. `recorded_at`:
    the real clock as the edge read it, for the audit rows (see `store.transaction`). `stopping`: the daemon is
    stopping (the catch-up, in a thread of its own, ends after its step)."""
    with transaction(db, recorded_at=recorded_at) as session:
        campaign = engine.definition(session, campaign_id)
        changes = engine.reconcile(session, campaign.id, now)
    report = await drain(db, campaign, now, transport, wall=wall, sender=sender, budget=budget, on_sent=on_sent)
    caught_up = await catch_up(db, campaign, wall, stopping)
    with dry_run(db) as session:
        upcoming = due.next_moment(session, campaign, now)
    return Wake(changes, report, _hold_off(upcoming, report, now, failing), caught_up)


async def catch_up(db: Engine, campaign: spec.Campaign, wall: Callable[[], datetime], stopping: Callable[[], bool]) -> bool:
    """The kept final levels' catch-up (`engine.catch_up_finals`: a short transaction a step, so that the portal's writers
    take turns) for `CATCH_UP` at most, in a thread: the event loop (the portal beside the daemon) goes on; cancelled, the
    thread ends after the step it is in (a cancelled `to_thread` does not stop its thread, and `asyncio.run` waits for
    it: Ctrl-C in `send` would otherwise wait out `CATCH_UP`). Whether
    caught up; what is left waits for the next wake-up. A step that fails (a lock waited for too long) is logged and
    left to the next wake-up: the catch-up is a cache's, and the wake-up has sent its mail."""
    until = wall() + CATCH_UP
    cancelled = threading.Event()  # the wake-up cancelled (Ctrl-C in `send`, the daemon stopping): the thread ends after its step
    try:
        return await asyncio.to_thread(engine.catch_up_finals, lambda: dry_run(db), lambda: transaction(db), campaign,
                                       lambda: wall() < until and not stopping() and not cancelled.is_set())
    except asyncio.CancelledError:
        cancelled.set()
        raise
    except Exception as failed:
        log.warning("catching up the kept final levels of %s failed (%s); the next wake-up goes on", campaign.id, failed)
        return True


def _hold_off(upcoming: datetime | None, report: DrainReport, now: datetime, failing: int) -> datetime | None:
    """Rows left due would make the next moment 'now': wait a little when another process is
    sending, longer each time the server keeps failing; go on at once when only the budget ran out."""
    if report.busy:
        floor = now + BUSY_RETRY
    elif report.stopped == "server":
        floor = now + BACKOFF[min(failing, len(BACKOFF) - 1)]
    else:
        return upcoming
    return max(upcoming, floor) if upcoming else floor


def preview(session: Session, campaign: spec.Campaign, now: datetime) -> tuple[datetime | None, list[Batch]]:
    """The next send time and its messages, as they would be: the send's own steps (`begin`, `judged_pages`)
    run forward in `session`, which the caller rolls back."""
    clock = Clock(campaign)
    when = clock.next_send_time(now)
    for _ in range(PREVIEW_STEPS):
        engine.reconcile(session, campaign.id, when)
        _, addresses, writer = begin(lambda: nullcontext(session), lambda: nullcontext(session), campaign, when,
                                     campaign.coordinator.email)
        batches = [batch for _, kept, progress in judged_pages(lambda: nullcontext(session), campaign, when, addresses, writer)
                   for batch in writer.batches(session, kept, progress)]
        if batches:
            return when, batches
        upcoming = due.next_moment(session, campaign, when)
        if upcoming is None:
            return None, []
        when = clock.next_send_time(upcoming)
    return None, []
