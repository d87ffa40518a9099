"""What is due in the outbox and when the next thing is: one definition for `send`, the daemon,
the simulation, `load` and `tick`.

A row is due when it is pending and its send time has come, or failed and its retry time has
come, and only inside the campaign's sending window. Reads are indexed probes and pages in
recipient order, never the whole ledger at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from dqflow import skips, spec
from dqflow.reminders import Clock
from dqflow.store import OutboxRow, ProgressRow

PAGE = 500  # recipients read, judged and composed together: memory stays flat whatever the roster
COLUMNS = (OutboxRow.id, OutboxRow.key, OutboxRow.recipient, OutboxRow.role, OutboxRow.institution_id, OutboxRow.stage_id,
           OutboxRow.rule, OutboxRow.kind, OutboxRow.deadline, OutboxRow.send_at, OutboxRow.expires_at, OutboxRow.state,
           OutboxRow.attempts, OutboxRow.message_id)


def _is_due(campaign_id: str, now: datetime):
    return (OutboxRow.campaign_id == campaign_id,
            or_((OutboxRow.state == "pending") & (OutboxRow.send_at <= now),
                (OutboxRow.state == "failed") & (OutboxRow.retry_at <= now)))


def recipients(session: Session, campaign: spec.Campaign, now: datetime) -> list[str]:
    """Every address with a due row, in order: read once per send from the due index alone (it carries
    the address), so its cost follows what is due, not the ledger's size. One range per state: joined
    by OR, or sorted in SQL, the planner walks the addresses' index and looks at every row."""
    if not Clock(campaign).in_window(now):
        return []
    found: set[str] = set()
    for state, moment in (("pending", OutboxRow.send_at), ("failed", OutboxRow.retry_at)):
        found.update(session.exec(select(OutboxRow.recipient).where(
            OutboxRow.campaign_id == campaign.id, OutboxRow.state == state, moment <= now)).all())
    return sorted(found)


def page(session: Session, campaign: spec.Campaign, now: datetime, addresses: list[str]) -> list:
    """The due rows of these addresses (a page of `recipients`), as tuples, by recipient then deadline."""
    if not addresses:
        return []
    return list(session.execute(select(*COLUMNS).where(*_is_due(campaign.id, now), col(OutboxRow.recipient).in_(addresses))
                                .order_by(OutboxRow.recipient, OutboxRow.deadline, OutboxRow.id)).all())


def pages(session: Session, campaign: spec.Campaign, now: datetime, size: int = PAGE):
    """Every due row, `size` addresses at a time (for reading; the sender pages itself, committing as it goes)."""
    found = recipients(session, campaign, now)
    for start in range(0, len(found), size):
        if rows := page(session, campaign, now, found[start:start + size]):
            yield rows


def expire(session: Session, campaign_id: str, now: datetime) -> int:
    """Pending and failed rows whose moment is over become skipped: one UPDATE."""
    return session.execute(
        update(OutboxRow).where(OutboxRow.campaign_id == campaign_id, col(OutboxRow.state).in_(["pending", "failed"]),
                                OutboxRow.expires_at <= now)
        .values(state="skipped", reason=skips.reason(skips.Skip.EXPIRED))
        .execution_options(synchronize_session=False)
    ).rowcount


def skip(session: Session, found: dict[int, str]) -> None:
    """Mark the judged rows skipped with their reasons: one executemany."""
    if found:
        session.execute(update(OutboxRow), [{"id": i, "state": "skipped", "reason": r} for i, r in found.items()])


def defer(session: Session, campaign: spec.Campaign, now: datetime, why: str) -> None:
    """Note on each pending row still due why it waits for the next send."""
    session.execute(update(OutboxRow).where(*_is_due(campaign.id, now), OutboxRow.state == "pending")
                    .values(reason=why).execution_options(synchronize_session=False))


def count_recipients(session: Session, campaign: spec.Campaign, now: datetime) -> int:
    """How many messages are due: one per address."""
    if not Clock(campaign).in_window(now):
        return 0
    return session.exec(select(func.count(func.distinct(OutboxRow.recipient))).where(*_is_due(campaign.id, now))).one()


def next_moment(session: Session, campaign: spec.Campaign, now: datetime) -> datetime | None:
    """The next instant after `now` at which reconcile or the sender has something to do: a few indexed probes."""
    clock = Clock(campaign)
    soon = now + timedelta(seconds=1)
    candidates = [t for s in campaign.stages for t in (s.opens_at, s.locks_at + timedelta(seconds=1)) if t > now]
    extended = session.exec(select(ProgressRow.locks_at).where(
        ProgressRow.campaign_id == campaign.id, ProgressRow.extended, ProgressRow.locks_at > now)
        .order_by(ProgressRow.locks_at).limit(1)).first()
    candidates += [extended] if extended else []
    for state, moment in (("pending", OutboxRow.send_at), ("failed", OutboxRow.retry_at)):
        first = session.exec(select(moment).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == state)
                             .order_by(moment).limit(1)).first()
        if first is not None:  # the sending window only moves a moment later: the earliest row decides
            candidates.append(clock.next_send_time(max(first, soon)))
    return min(candidates) if candidates else None


def overdue_notices(session: Session, campaign: spec.Campaign, now: datetime) -> tuple[int, datetime]:
    """How many rows planned for a moment before `now` will still go out at the next send time, and when."""
    when = Clock(campaign).next_send_time(now)
    count = 0
    for rows in pages(session, campaign, when):
        facts = skips.Facts.read(session, campaign.id, rows, lists=skips.handout_lists(campaign))
        unwanted = skips.judge(rows, facts, when)
        count += sum(1 for r in rows if r.id not in unwanted and r.send_at < now)
    return count, when
