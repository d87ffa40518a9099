"""The daemon: APScheduler decides *when* to wake; `wake` decides everything else.

One date job is kept, always for the next moment something is due (a stage boundary, a
send time, a retry) and never more than `max_sleep` away. A missed wake-up is not lost:
`misfire_grace_time=None` runs it late, and reconcile is level-triggered anyway. When the
server keeps failing, `wake` says to come back later, a little later each time. What a coordinator reads about
each wake-up (in the campaign's language) is the `tell` callback's: the daemon itself only logs, in English.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Coroutine

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from dqflow.calendar import UTC
from dqflow.delivery import BUDGET
from dqflow.delivery.wake import Wake, wake

if TYPE_CHECKING:
    from dqflow.delivery.link_policy import Policy

log = logging.getLogger("dqflow.delivery.daemon")
MAX_SLEEP = timedelta(minutes=5)
LINKS_PER_WAKE = 500  # links checked before one wake-up's reminders at most; the rest keep their last result
LINKS_BUDGET = 120.0  # seconds a wake-up gives the link check at most


class Daemon:
    def __init__(self, db: Engine, campaign_id: str, transport, clock: Callable[[], datetime],
                 max_sleep: timedelta = MAX_SLEEP, sender: str | None = None, budget: timedelta = BUDGET,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 companion: Callable[[asyncio.Event], Coroutine[Any, Any, None]] | None = None,
                 tell: Callable[[datetime, Wake], None] | None = None, check_links: bool = True):
        self.db, self.campaign_id, self.transport, self.clock = db, campaign_id, transport, clock
        self.max_sleep, self.sender, self.budget = max_sleep, sender, budget
        self.wall = wall  # the real clock, for the sending lease: `clock` may run from a --now
        self.stopped = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None
        self.wakes = 0
        self.failing = 0  # wake-ups in a row that found the server failing
        self.next_at: datetime | None = None  # on the daemon's own clock: when it wakes next
        self.waking: asyncio.Task | None = None  # the wake-up running now, if any
        self.companion = companion  # runs beside the wake-ups until the daemon stops (the portal of run --http)
        self.tell = tell  # told each wake-up's outcome, for the terminal (`dqflow run`)
        self.check_links = check_links  # before a ДОУ's deadline reminder goes out, check its links (`linkcheck`)
        if check_links:  # a bad DQFLOW_LINKCHECK_ALLOW is refused now, with one line, not logged at every wake-up
            from dqflow.delivery import link_policy

            self.link_policy = link_policy.policy_from_env()

    async def wake(self) -> None:
        now = self.clock()
        self.wakes += 1
        self.waking = asyncio.current_task()
        next_at = None
        try:
            if self.check_links:
                await self.links_before_reminders(now)
            result = await wake(self.db, self.campaign_id, now, self.transport, wall=self.wall, sender=self.sender,
                                budget=self.budget,
                                failing=self.failing, stopping=self.stopped.is_set)
            report, next_at = result.report, result.resume_at(now)
            self.failing = self.failing + 1 if report.stopped == "server" else 0
            if report.busy:
                log.info("wake at %s: another process holds the sending lease; this wake sends nothing", now.isoformat())
            if report.stopped:
                log.warning("wake at %s: sending stopped early (%s) %s; %d messages wait", now.isoformat(), report.stopped,
                            report.detail, report.deferred)
            log.info("wake at %s: %d changes, %d sent, %d failed, %d dead, %d skipped", now.isoformat(), len(result.changes),
                     report.count("sent"), report.count("failed"), report.count("dead"), report.skipped)
            if not result.caught_up:
                log.info("wake at %s: the kept final levels are not caught up yet; the next wake-up goes on", now.isoformat())
            if self.tell is not None:
                self.tell(now, result)
        except asyncio.CancelledError:  # stopping: each message sent so far is recorded; the rest waits for the next run
            log.info("wake at %s interrupted: the daemon is stopping", now.isoformat())
            return
        except Exception:  # the daemon outlives a bad wake-up; the next one retries from stored state
            log.exception("wake at %s failed", now.isoformat())
        finally:
            self.waking = None
        self._schedule(now, next_at)

    async def links_before_reminders(self, now: datetime) -> None:
        await links_before_reminders(self.db, self.campaign_id, now, self.link_policy)

    def _schedule(self, now: datetime, next_at: datetime | None) -> None:
        run_at = self.next_at = min(t for t in (next_at, now + self.max_sleep) if t is not None)
        delay = max((run_at - now).total_seconds(), 0)
        wall_run_at = self.wall() + timedelta(seconds=delay)  # the daemon's own clock may be virtual (--now)
        log.info("next wake at %s", run_at.isoformat())
        assert self.scheduler is not None, "a wake-up is only ever started by the running scheduler"
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
        beside: asyncio.Task[None] | None = asyncio.create_task(self.companion(self.stopped)) if self.companion else None
        try:
            await self.stopped.wait()
        finally:
            if beside is not None:
                await asyncio.gather(beside, return_exceptions=True)
            self.scheduler.shutdown(wait=False)
            if self.waking is not None:  # a wake-up in the middle of sending: stop it now, not at its end
                self.waking.cancel()
                await asyncio.gather(self.waking, return_exceptions=True)
            await self.transport.close()
            log.info("stopped after %d wake-ups", self.wakes)

    def stop(self) -> None:
        self.stopped.set()


async def links_before_reminders(db: Engine, campaign_id: str, now: datetime, policy: Policy) -> None:
    """Check the links of the ДОУ whose deadline reminders are due now, unless checked lately (`linkcheck.FRESH`),
    so each reminder lists the links that do not open: what the daemon does first at every wake-up, and `run --once`
    as one step of it. Bounded (`LINKS_PER_WAKE`, `LINKS_BUDGET`: the links checked when the budget runs out are
    stored, the rest wait for the next wake-up); the database is read and written in a thread and the links fetched
    asynchronously, so the loop (the portal beside) goes on. A failure is logged and the reminders go out with the
    results known before."""
    from dqflow.delivery import linkcheck
    from dqflow.delivery.letters import UNOPENED_KINDS
    from dqflow.store import dry_run

    def due() -> list[linkcheck.Link]:
        with dry_run(db) as session:
            return linkcheck.reminded(session, campaign_id, now, UNOPENED_KINDS, limit=LINKS_PER_WAKE)

    try:
        links = await asyncio.to_thread(due)
        if not links:
            return
        report = await linkcheck.check_links(db, campaign_id, links, now, policy, budget=LINKS_BUDGET)
        log.info("wake at %s: %d links checked before the reminders: %d ok, %d closed, %d broken%s", now.isoformat(),
                 len(report.links), report.count(linkcheck.OK), report.count(linkcheck.CLOSED), report.count(linkcheck.BROKEN),
                 f"; {report.unchecked} left for the next wake-up (budget of {LINKS_BUDGET:g} s ran out)" if report.unchecked else "")
    except asyncio.CancelledError:
        raise
    except Exception:  # the reminders matter more than the check: they go out with what was known
        log.exception("wake at %s: checking the links before the reminders failed", now.isoformat())
