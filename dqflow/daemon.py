"""The daemon: APScheduler decides *when* to wake; reconcile and the outbox decide everything else.

One date job is kept, always for the next moment something is due (a stage boundary, a
send time, a retry) and never more than `max_sleep` away. A missed wake-up is not lost:
`misfire_grace_time=None` runs it late, and reconcile is level-triggered anyway.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta
from typing import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from dqflow import engine, store
from dqflow.calendar import UTC
from dqflow.outbox import drain, next_moment

log = logging.getLogger("dqflow.daemon")
MAX_SLEEP = timedelta(minutes=5)


class Daemon:
    def __init__(self, db: Engine, campaign_id: str, transport, clock: Callable[[], datetime],
                 max_sleep: timedelta = MAX_SLEEP, sender: str | None = None):
        self.db, self.campaign_id, self.transport, self.clock = db, campaign_id, transport, clock
        self.max_sleep, self.sender = max_sleep, sender
        self.stopped = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None
        self.wakes = 0

    async def wake(self) -> None:
        now = self.clock()
        self.wakes += 1
        try:
            with store.transaction(self.db) as session:
                changes = engine.reconcile(session, self.campaign_id, now)
            report = await drain(self.db, self.campaign_id, now, self.transport, self.sender)
            if report.busy:
                log.info("wake at %s: another process is sending; this wake sends nothing", now.isoformat())
            log.info("wake at %s: %d changes, %d sent, %d failed, %d dead, %d skipped", now.isoformat(), len(changes),
                     report.count("sent"), report.count("failed"), report.count("dead"), report.skipped)
        except Exception:  # the daemon outlives a bad wake-up; the next one retries from stored state
            log.exception("wake at %s failed", now.isoformat())
        self._schedule_next(now)

    def _schedule_next(self, now: datetime) -> None:
        with store.dry_run(self.db) as session:
            campaign = engine.definition(session, self.campaign_id)
            upcoming = next_moment(session, campaign, now)
        run_at = min(t for t in (upcoming, now + self.max_sleep) if t is not None)
        delay = max((run_at - now).total_seconds(), 0)
        wall_run_at = datetime.now(UTC) + timedelta(seconds=delay)  # the daemon's own clock may be virtual in tests
        log.info("next wake at %s", run_at.isoformat())
        self.scheduler.add_job(self.wake, "date", run_date=wall_run_at, id="wake", replace_existing=True,
                               misfire_grace_time=None, coalesce=True)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stopped.set)
            except (NotImplementedError, RuntimeError):
                pass  # not the main thread (tests): stop() is the way out
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.start()
        self.scheduler.add_job(self.wake, "date", run_date=datetime.now(UTC), id="wake", misfire_grace_time=None)
        try:
            await self.stopped.wait()
        finally:
            self.scheduler.shutdown(wait=False)
            await self.transport.close()
            log.info("stopped after %d wake-ups", self.wakes)

    def stop(self) -> None:
        self.stopped.set()
