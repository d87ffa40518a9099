"""Delivering the outbox: take the lease, read the due rows a page at a time, skip what is no
longer wanted, compose, send over the transport's connections, and record each message as the
server accepts it.

A message's outcome is committed before the next message on its connection can be accepted, so
a crash at any instant repeats at most the messages in flight then: one per connection. The same rows give
the same Message-ID, so a repeat is recognisably the same message. Composing runs while the
connections wait for the server. A send stops at its time budget, or when the server keeps
failing, and leaves the rest for the next one.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.delivery import BUDGET, due
from dqflow.delivery.digest import has_news
from dqflow.delivery.lease import Lease
from dqflow.delivery.mail import RETRY_AFTER_MINUTES, Outcome
from dqflow.delivery.writer import Batch, Writer, groups
from dqflow.engine import skips
from dqflow.store import OutboxRow, driver_mark, dry_run, table, transaction

Progress = dict[tuple[str, str], Any]  # a page's ДОУ × stage → its progress (`skips.Progress`)

COMPOSED_AHEAD = 64  # messages composed while the connections wait for the server: CPU that would idle
FAILING_AFTER = 3  # connection failures in a row: the server is down or stalled, the rest waits


@dataclass
class Sent:
    at: datetime
    to: str
    subject: str
    message_id: str
    state: str  # as written to the ledger: sent | failed | dead
    detail: str


@dataclass
class DrainReport:
    skipped: int = 0
    messages: list[Sent] = field(default_factory=list)
    busy: bool = False  # another process holds the sending lease: nothing was done
    deferred: int = 0  # messages still due when the send stopped early
    stopped: str | None = None  # why it stopped early: budget | server | lease
    detail: str = ""  # the last server error when it stopped for the server

    def count(self, state: str) -> int:
        return sum(1 for m in self.messages if m.state == state)


async def drain(db: Engine, campaign: spec.Campaign, now: datetime, transport, *, wall: Callable[[], datetime],
                sender: str | None = None, budget: timedelta = BUDGET,
                on_sent: Callable[[Sent], None] | None = None) -> DrainReport:
    """Send everything due as of `now` once, unless another process holds the sending lease.
    `wall` reads the real clock, for the lease: `now` may be a campaign's `--now`."""
    lease = Lease(db, f"send:{campaign.id}", wall)
    if not lease.acquire():
        return DrainReport(busy=True)
    try:
        return await _Drain(db, campaign, now, transport, sender or campaign.coordinator.email, budget, lease, on_sent).run()
    finally:
        lease.release()


class _Drain:
    def __init__(self, db, campaign, now, transport, sender, budget, lease, on_sent):
        self.db, self.campaign, self.now, self.transport, self.sender = db, campaign, now, transport, sender
        self.lease, self.on_sent = lease, on_sent
        self.deadline = time.monotonic() + budget.total_seconds()
        self.report = DrainReport()
        self.failures = 0

    async def run(self) -> DrainReport:
        expired, self.addresses, self.writer = begin(lambda: transaction(self.db), lambda: dry_run(self.db), self.campaign,
                                                     self.now, self.sender)
        self.report.skipped += expired
        # a counting transport reads neither the calendar attachments nor the bodies
        self.writer.invitations = self.writer.bodies = getattr(self.transport, "keeps_messages", True)
        self.loop_deadline = asyncio.get_running_loop().time() + self.deadline - time.monotonic()
        self.ledger = _Ledger(self.db)
        if not self.writer.bodies:
            return await self._count()
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=COMPOSED_AHEAD)
        workers = [asyncio.create_task(self._work(queue)) for _ in range(self.transport.connections)]
        heartbeat = asyncio.create_task(self._heartbeat())
        producer = asyncio.create_task(self._produce(queue, len(workers)))
        try:
            await asyncio.gather(producer, *workers)  # a failure in any of them ends the send
        finally:  # also when stopped from outside (the daemon's SIGTERM): what was recorded stays, the rest waits
            tasks = (producer, *workers, heartbeat)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.ledger.close()
        if self.report.stopped:
            self._defer()
        return self.report

    def stop(self, why: str, detail: str = "") -> None:
        if self.report.stopped is None:
            self.report.stopped, self.report.detail = why, detail

    # -- producing: pages of due rows, judged, composed one message at a time ----------------

    async def _produce(self, queue: asyncio.Queue, workers: int) -> None:
        for rows, progress in self._judged_pages():
            if self.report.stopped is not None:
                break
            with dry_run(self.db) as session:  # reads only: links, lists and reviews, once per send
                self.writer.prepare(session, rows)
                for (_, existing), members in groups(rows).items():
                    if self.report.stopped:
                        break
                    await queue.put(self.writer.batch(session, members, progress, existing))  # waits while the queue is full
                    await asyncio.sleep(0)  # one message at a time: the connections' answers are never kept waiting
        for _ in range(workers):
            await queue.put(None)  # each connection ends after what is queued

    async def _count(self) -> DrainReport:
        """A transport that keeps no message (the replay's without a maildir) sends nothing anyone could
        read twice: its outcomes are committed a page at a time, without a pipeline per connection."""
        try:
            for rows, progress in self._judged_pages(due.PAGE):  # a replay's: no portal writes beside it
                if time.monotonic() >= self.deadline:
                    self.stop("budget")
                elif not self.lease.keep():
                    self.stop("lease")
                if self.report.stopped:
                    break
                with dry_run(self.db) as session:
                    batches = self.writer.batches(session, rows, progress)
                for batch in batches:
                    self._record(batch, await self.transport.deliver(batch.message))
                    if self.report.stopped:  # the transport keeps failing
                        break
                self.ledger.flush()
        finally:
            self.ledger.close()
        if self.report.stopped:
            self._defer()
        return self.report

    def _judged_pages(self, judged: int | None = None) -> Iterator[tuple[list[Any], Progress]]:
        """`judged_pages`, each page read, judged and its skips committed in write transactions of its own: an
        extension, a hand-in or an amendment committed while a page was judged outside them would go unseen, and a
        reminder with the old deadline would go out."""
        for rows, kept, progress in judged_pages(lambda: transaction(self.db), self.campaign, self.now, self.addresses, self.writer,
                                                 judged):
            self.report.skipped += len(rows) - len(kept)
            yield kept, progress

    # -- sending and recording, one connection per worker ----------------------------------

    async def _work(self, queue: asyncio.Queue) -> None:
        """One connection's messages. A message's outcome goes to the ledger as soon as the server
        answers, and the next message's content is not sent before it is committed: at any instant
        at most one accepted message per connection is unrecorded. The commit runs while the next
        message's envelope is on the wire, so it costs the server no waiting. The send's budget
        bounds the whole loop: a server that stalls cannot hold it longer."""
        on_the_wire: list[Batch] = []
        ended = False
        try:
            async with asyncio.timeout_at(self.loop_deadline):
                ended = await self._send(queue, on_the_wire)
        except TimeoutError:
            if on_the_wire:  # stalled past the budget: whether it arrived is unknown, so it is retried
                detail = "no answer from the server within the send's time budget"
                self.stop("server", detail)
                await self._record(on_the_wire[0], Outcome("retry", detail, connection=True))
            else:
                self.stop("budget")
        while not ended:  # the send stopped early: what was composed stays pending for the next one
            ended = await queue.get() is None

    async def _send(self, queue: asyncio.Queue, on_the_wire: list[Batch]) -> bool:
        """Send until the queue ends (True) or the send stops early (False)."""
        recorded: asyncio.Future | None = None  # the commit of the previous outcome
        ended = False
        while self.report.stopped is None:
            if (batch := await queue.get()) is None:
                ended = True
                break
            if time.monotonic() >= self.deadline:
                self.stop("budget")
                break
            on_the_wire.append(batch)
            outcome = await self.transport.deliver(batch.message, recorded)
            on_the_wire.clear()
            if recorded is not None:
                await recorded  # done already, unless the message failed before its content went
            recorded = self._record(batch, outcome)
        if recorded is not None:
            await recorded
        return ended

    def _record(self, batch: Batch, outcome: Outcome) -> asyncio.Future:
        """Hand this message's outcome to the ledger; the future is done once it is committed."""
        self.failures = self.failures + 1 if outcome.connection else 0
        if self.failures >= FAILING_AFTER:
            self.stop("server", outcome.detail)
        message_id = batch.message.message_id
        rows = [(*_outcome_values(outcome, attempts, self.now), message_id, row_id)
                for row_id, attempts in zip(batch.row_ids, batch.attempts)]
        committed = self.ledger.record(rows, batch.reported if outcome.state == "sent" else ())
        state = "dead" if all(row[0] == "dead" for row in rows) else rows[0][0]
        sent = Sent(self.now, batch.recipient, batch.message.subject, batch.message.message_id, state, outcome.detail)
        self.report.messages.append(sent)
        if self.on_sent:
            self.on_sent(sent)
        return committed

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease.length.total_seconds() / 4)
            if not self.lease.renew():
                self.stop("lease")

    def _defer(self) -> None:
        """Say on every row still due why it waits, and count the messages left."""
        with transaction(self.db) as session:
            due.defer(session, self.campaign, self.now, skips.reason(skips.Skip.DEFERRED, self.report.stopped))
            self.report.deferred = due.count_recipients(session, self.campaign, self.now)


class _Ledger:
    """Commits outcomes through the driver's own cursor on one connection kept for the whole send
    (SQLAlchemy's work per statement cost three times the SQL itself). An outcome is committed on
    the event loop's next turn, once the worker that handed it in has put its next message's first
    command on the wire; outcomes handed in during one turn are committed together."""

    COLUMNS = ("state", "attempts", "sent_at", "retry_at", "reason", "message_id")

    def __init__(self, db: Engine):
        dialect = db.dialect
        mark = driver_mark(dialect)
        processor = table(OutboxRow).c.sent_at.type.bind_processor(dialect)  # aware UTC as this driver stores it
        self.convert: Callable[[datetime | None], Any] = processor or (lambda value: value)
        self.moments: dict[datetime | None, Any] = {None: None}  # a send's outcomes share its moment: converted once
        self.update = f"UPDATE outbox SET {', '.join(f'{c} = {mark}' for c in self.COLUMNS)} WHERE id = {mark}"
        self.report = f"UPDATE outbox SET reported = {mark} WHERE id = {mark}"
        self.connection = db.raw_connection()
        self.loop = asyncio.get_running_loop()
        self.pending: list[tuple[list[tuple], tuple[int, ...], asyncio.Future]] = []

    def record(self, outcomes: list[tuple], reported: tuple[int, ...]) -> asyncio.Future:
        """`outcomes`: each row's (COLUMNS…, id). The future is done once the outcome is committed."""
        moment = self.moment
        rows = [(state, attempts, moment(sent_at), moment(retry_at), why, message_id, row_id)
                for state, attempts, sent_at, retry_at, why, message_id, row_id in outcomes]
        committed = self.loop.create_future()
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append((rows, reported, committed))
        return committed

    def moment(self, value: datetime | None) -> Any:
        found = self.moments.get(value)
        if found is None and value is not None:
            found = self.moments[value] = self.convert(value)
        return found

    def flush(self) -> None:
        group, self.pending = self.pending, []
        if not group:
            return
        cursor = self.connection.cursor()
        try:
            rows = [row for batch, _, _ in group for row in batch]
            if len(rows) == 1:  # the usual case, and execute is cheaper than executemany of one
                cursor.execute(self.update, rows[0])
            else:
                cursor.executemany(self.update, rows)
            reported = [(True, row_id) for _, ids, _ in group for row_id in ids]
            if reported:
                cursor.executemany(self.report, reported)
            self.connection.commit()
        except Exception as exc:  # the workers waiting for this commit raise it: the send ends
            self.connection.rollback()
            for _, _, committed in group:
                if not committed.done():
                    committed.set_exception(exc)
            return
        finally:
            cursor.close()
        for _, _, committed in group:
            if not committed.done():
                committed.set_result(None)

    def close(self) -> None:
        """Commit what is still pending (a send stopped from outside) and let the connection go."""
        try:
            self.flush()
        finally:
            self.connection.close()


def begin(write_in: Callable[[], AbstractContextManager[Session]], read_in: Callable[[], AbstractContextManager[Session]],
          campaign: spec.Campaign, now: datetime, sender: str) -> tuple[int, list[str], Writer]:
    """A send's first step: what had expired, skipped now in `write_in`'s session (counted); then, in `read_in`'s, the
    addresses with a due row and the Writer. The send gives a write transaction of one statement per state and a read
    that takes no lock (a portal's writes go on meanwhile); its preview one session for both."""
    with write_in() as session:
        expired = due.expire(session, campaign.id, now)
    with read_in() as session:
        return expired, due.recipients(session, campaign, now), Writer(session, campaign, now, sender)


def judged_pages(session_for: Callable[[], AbstractContextManager[Session]], campaign: spec.Campaign, now: datetime,
                 addresses: list[str], writer: Writer, judged: int | None = None) -> Iterator[tuple[list[Any], list[Any], Progress]]:
    """The producer's loop, of a send and of its preview alike: the due rows of `addresses`, `due.PAGE` addresses at a time,
    each page read and judged `judged` addresses at a time, each in a session of its own (`session_for`: the send's a
    write transaction, short, so a portal's write never waits long behind it; a replay's judges a page at once), the
    rows no longer wanted skipped there: (the page's rows, those that go out, their ДОУ's progress). An address's rows
    are judged together (one reminder of a deadline per person: `skips.judge`), each as of the moment its transaction
    reads it. `judged`: `due.JUDGED` when not given (read at the call)."""
    judged = judged or due.JUDGED
    for start in range(0, len(addresses), due.PAGE):
        page = addresses[start:start + due.PAGE]
        rows: list[Any] = []
        kept: list[Any] = []
        progress: Progress = {}
        for batch in _batches(page, judged):
            with session_for() as session:
                found, known = due.page_and_progress(session, campaign, now, batch)
                going, known = sort_out(session, campaign, found, writer, now, known) if found else ([], {})
            rows += found
            kept += going
            progress.update(known)
        yield rows, kept, progress


def _batches(page: list[str], judged: int) -> Iterator[list[str]]:
    """`page`'s addresses about `judged` at a time, in their order, the addresses one person may write differently
    (`Anna@x`, `anna@x`: the skip policy compares them without case) always in one batch."""
    people: dict[str, list[str]] = {}
    for address in page:
        people.setdefault(address.lower(), []).append(address)
    batch: list[str] = []
    for same in people.values():
        batch += same
        if len(batch) >= judged:
            yield batch
            batch = []
    if batch:
        yield batch


def sort_out(session: Session, campaign: spec.Campaign, rows: list[Any], writer: Writer,
             now: datetime, progress: Progress | None = None) -> tuple[list[Any], Progress]:
    """Skip the rows of a page that are no longer wanted (in `session`); the rest and their ДОУ's progress. `progress`: the
    rows' own, read with them (`due.page_and_progress`)."""
    news = has_news(writer.letters.digest(session)) if any(r.kind == "digest" for r in rows) else True
    facts = skips.Facts.read(session, campaign.id, rows, digest_news=news, lists=skips.handout_lists(campaign), progress=progress)
    unwanted = skips.judge(rows, facts, now)
    due.skip(session, unwanted)
    return [r for r in rows if r.id not in unwanted], facts.progress


def _outcome_values(outcome: Outcome, attempts: int, now: datetime) -> tuple[str, int, datetime | None, datetime | None, str | None]:
    """(state, attempts, sent_at, retry_at, reason), as `_Ledger.COLUMNS` but the Message-ID: a 4xx or a dropped connection
    is retried with backoff until the schedule runs out; then the row is dead."""
    if outcome.state == "sent":
        return "sent", attempts + 1, now, None, None
    if outcome.state == "retry" and attempts < len(RETRY_AFTER_MINUTES):
        return "failed", attempts + 1, None, now + timedelta(minutes=RETRY_AFTER_MINUTES[attempts]), outcome.detail
    return "dead", attempts + 1, None, None, outcome.detail
