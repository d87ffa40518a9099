"""What is due in the outbox and when the next thing is: one definition for `send`, the daemon,
the simulation, `load` and `tick`.

A row is due when it is pending and its send time has come, or failed and its retry time has
come, and only inside the campaign's sending window. Reads are indexed probes and pages in
recipient order, never the whole ledger at once.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import func, union, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.calendar import as_utc
from dqflow.campaign import spec
from dqflow.engine import rules, skips
from dqflow.engine.reminders import Clock
from dqflow.store import OutboxRow, ProgressRow, driver_mark, rowcount, table

PAGE = 500  # recipients read, judged and composed together: memory stays flat whatever the roster
# recipients of a page read and judged in one write transaction (`outbox.judged_pages`): on SQLite that transaction holds
# the database's write lock from its first read, and a page of 500 held it 8–370 ms (mean 105 ms) at a send of the
# 2,000-ДОУ rush (load ~7), so a hand-in or a review posted meanwhile waited that long; 50 hold it a tenth as long
JUDGED = 50
_OUTBOX = table(OutboxRow)  # pages are read and skips written through the table: the ORM's work per row cost more than the SQL
COLUMNS = tuple(_OUTBOX.c[name] for name in ("id", "key", "recipient", "role", "institution_id", "stage_id", "rule", "kind",
                                              "deadline", "send_at", "expires_at", "state", "attempts", "message_id"))
# a due row as the send reads it, a plain named tuple: the page's rows are read a dozen times each (judged, grouped, written),
# and an attribute of SQLAlchemy's Row cost eight times one of a named tuple
Due = namedtuple("Due", [c.name for c in COLUMNS])  # type: ignore[misc]  # the columns' names, as `page` reads them
_WAITING = (("pending", "send_at"), ("failed", "retry_at"))  # the states a due row is in, and the moment each waits for
_NO_DEADLINE = datetime.min.replace(tzinfo=timezone.utc)  # first, as SQLite sorts NULL (PostgreSQL sorted it last)
# a row still waiting only: a row another process has changed (sent, dead, skipped by an amendment) keeps what that
# process wrote
# written through the driver (SQLAlchemy's work per parameter set of an executemany cost more than SQLite's), as `_SKIP`
# with the dialect's placeholder: a row still waiting only
_SKIP = ("UPDATE outbox SET state = 'skipped', reason = {mark} WHERE id = {mark} AND state IN ("
         + ", ".join(f"'{state}'" for state, _ in _WAITING) + ")")


def recipients(session: Session, campaign: spec.Campaign, now: datetime) -> list[str]:
    """Every address with a due row, in order: read once per send from the due index alone (it carries
    the address), so its cost follows what is due, not the ledger's size. One range per state: joined
    by OR, or sorted in SQL, the planner walks the addresses' index and looks at every row."""
    if not Clock(campaign).in_window(now):
        return []
    c = _OUTBOX.c
    found: set[str] = set()
    for state, moment in _WAITING:
        found.update(session.execute(sa_select(c.recipient).where(c.campaign_id == campaign.id, c.state == state, c[moment] <= now))
                     .scalars())
    return sorted(found)


def page(session: Session, campaign: spec.Campaign, now: datetime, addresses: list[str]) -> list[Any]:
    """The due rows of these addresses (a page of `recipients`), as named tuples (`Due`), by recipient then deadline.
    One range per state, as in `recipients`: each address's due rows are then read from its own index
    range, its sent and future rows never visited."""
    return page_and_progress(session, campaign, now, addresses)[0]


# A page's rows with their progress (`skips.Progress`): the row's own ДОУ and stage, by the progress table's key
_JOINED: tuple[tuple[Any, ...], str] = (
    COLUMNS + skips.PROGRESS_COLUMNS[2:],
    "outbox LEFT JOIN progress ON progress.campaign_id = outbox.campaign_id AND progress.institution_id = outbox.institution_id "
    "AND progress.stage_id = outbox.stage_id")
_DUE_WIDTH = len(COLUMNS)
_INSTITUTION, _STAGE = (Due._fields.index(name) for name in ("institution_id", "stage_id"))


def page_and_progress(session: Session, campaign: spec.Campaign, now: datetime, addresses: list[str]) -> tuple[list[Any], dict]:
    """`page`, and the progress of each ДОУ and stage its rows are about (`skips.Progress` by (ДОУ, stage), the pairs that
    have a progress row), read in the same statements: what the skip policy and the letters ask of each row comes with it,
    not in a read of the page's ДОУ of its own."""
    if not addresses:
        return [], {}
    rows: list[Any] = []
    progress: dict[tuple[str, str], Any] = {}
    for state, moment in _WAITING:
        found = skips.driver_columns(
            session, (_JOINED[0], _JOINED[1], f"outbox.campaign_id = {{mark}} AND outbox.state = {{mark}} AND outbox.{moment} <= {{mark}}"),
            [campaign.id, state, _bound(session, moment, now)], ("outbox.recipient", addresses))
        if not found:
            continue
        rows += map(Due._make, zip(*found[:_DUE_WIDTH]))
        # a row with a status is about a ДОУ and a stage that have a progress row: the skip policy's `Progress` of them
        joined = zip(found[_INSTITUTION], found[_STAGE], *found[_DUE_WIDTH:])
        progress.update(((values[0], values[1]), skips.Progress._make(values)) for values in joined if values[2] is not None)
    return sorted(rows, key=lambda r: (r.recipient, r.deadline or _NO_DEADLINE, r.id)), progress


def _bound(session: Session, column: str, value: datetime) -> Any:
    """A moment as the driver is given it for `column` (SQLite: naive UTC text), as a statement of SQLAlchemy's binds it."""
    dialect = session.connection().dialect
    processor = _OUTBOX.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


def pages(session: Session, campaign: spec.Campaign, now: datetime, size: int = PAGE) -> Iterator[list[Any]]:
    """Every due row, `size` addresses at a time (for reading; the sender pages itself, committing as it goes)."""
    found = recipients(session, campaign, now)
    for start in range(0, len(found), size):
        if rows := page(session, campaign, now, found[start:start + size]):
            yield rows


def expire(session: Session, campaign_id: str, now: datetime) -> int:
    """Due rows whose moment is over become skipped. A pending row is looked at once its send time
    has come (the due index's range), not before: one not due yet would be judged at its time anyway,
    and scanning every pending row at every send would cost the whole ledger."""
    c = _OUTBOX.c
    expired = update(_OUTBOX).values(state="skipped", reason=skips.reason(skips.Skip.EXPIRED))
    pending = rowcount(session, expired.where(c.campaign_id == campaign_id, c.state == "pending", c.send_at <= now,
                                              rules.expired_sql(c.expires_at, now)))
    failed = rowcount(session, expired.where(  # few: failures waiting for their retry
        c.campaign_id == campaign_id, c.state == "failed", rules.expired_sql(c.expires_at, now)))
    return pending + failed


def skip(session: Session, found: dict[int, str]) -> None:
    """Mark the judged rows skipped with their reasons: one executemany."""
    if found:
        connection = session.connection()
        mark = driver_mark(connection.dialect)
        connection.exec_driver_sql(_SKIP.format(mark=mark), [(r, i) for i, r in found.items()])


def defer(session: Session, campaign: spec.Campaign, now: datetime, why: str) -> None:
    """Note on each pending row still due why it waits for the next send (the due index's range)."""
    c = _OUTBOX.c
    session.execute(update(_OUTBOX).where(c.campaign_id == campaign.id, c.state == "pending", c.send_at <= now).values(reason=why))


def count_recipients(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """How many messages are due: one per address."""
    return len(recipients(session, campaign, now))


def next_moment(session: Session, campaign: spec.Campaign, now: datetime) -> datetime | None:
    """The next instant after `now` at which reconcile or the sender has something to do: a few indexed probes."""
    clock = Clock(campaign)
    soon = now + timedelta(seconds=1)
    candidates = [t for s in campaign.stages for t in (s.opens_at, s.locks_at + timedelta(seconds=1)) if t > now]
    locks_at = col(ProgressRow.locks_at)
    extended = session.exec(select(locks_at).where(
        col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.extended), locks_at > now).order_by(locks_at).limit(1)).first()
    candidates += [extended] if extended else []
    c = _OUTBOX.c
    for state, name in _WAITING:
        first = session.execute(sa_select(c[name]).where(c.campaign_id == campaign.id, c.state == state)
                                .order_by(c[name]).limit(1)).scalar()
        if first is not None:  # the sending window only moves a moment later: the earliest row decides
            candidates.append(clock.next_send_time(max(first, soon)))
    return min(candidates) if candidates else None


def overdue_notices(session: Session, campaign: spec.Campaign, now: datetime) -> tuple[int, datetime]:
    """How many rows planned for a moment before `now` will still go out at the next send time, and when:
    counted in SQL by the skip policy's set-based form (`skips.kept`), never read row by row."""
    when = Clock(campaign).next_send_time(now)
    c = _OUTBOX.c
    kept = skips.kept(c, campaign.id, when, skips.handout_lists(campaign), skips.review_materials(campaign))
    count = sum(session.execute(sa_select(func.count()).where(
        c.campaign_id == campaign.id, c.state == state, c[moment] <= when, c.send_at < now, kept)).scalar_one()
        for state, moment in _WAITING)  # one indexed range per state, as in `recipients`
    return count, when


LOOK_AHEAD = 64  # send times `ahead` looks at, each holding only rows the skip policy would drop, before it gives up


@dataclass(frozen=True)
class Ahead:
    """The next send time at which letters go, and how many (one per address), as the ledger stands now."""

    at: datetime
    letters: int


def ahead(session: Session, campaign: spec.Campaign, now: datetime) -> Ahead | None:
    """When the next letters go and how many: the first send time from `now` (the sending window's, `Clock`) at which
    a waiting row is still kept by the skip policy (`skips.kept`, counted in SQL), or None when nothing waits. Rows
    that reconcile has not planned yet (a stage not open) are not counted: this is the ledger's answer."""
    clock = Clock(campaign)
    c = _OUTBOX.c
    lists, materials = skips.handout_lists(campaign), skips.review_materials(campaign)
    when = clock.next_send_time(now)
    for _ in range(LOOK_AHEAD):
        kept = skips.kept(c, campaign.id, when, lists, materials)
        addresses = union(*(sa_select(c.recipient).where(c.campaign_id == campaign.id, c.state == state, c[moment] <= when, kept)
                            for state, moment in _WAITING)).subquery()
        letters = session.execute(sa_select(func.count()).select_from(addresses)).scalar_one()
        if letters:
            return Ahead(when, letters)
        later = [session.execute(sa_select(func.min(c[moment])).where(c.campaign_id == campaign.id, c.state == state,
                                                                      c[moment] > when)).scalar()
                 for state, moment in _WAITING]
        found = [as_utc(t) for t in later if t is not None]
        if not found:
            return None
        when = clock.next_send_time(min(found))
    return None
