"""What the portal computes from the whole campaign (the board, the coordinator's counts and lists), kept per
process while the campaign's state as of the moment stays the same.

The state is named by a key read in one statement (`state_key`): the stored definition's digest, the latest audit
row of the database (every act, tick, list, extension and amendment writes one) and the number of extended rows whose own lock has
passed, with, from the definition alone, which stage boundaries `now` has passed. Level-triggered: a boundary that
passes with no tick (no audit row yet) still changes the key, so nothing shown is ever older than the state it names.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, Hashable, TypeVar

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.store import AuditRow, ProgressRow

T = TypeVar("T")
KEPT = 16  # entries per state: pages of the board and of the coordinator's home


def state_key(session: Session, campaign: spec.Campaign, digest: str, now: datetime) -> tuple[Any, ...]:
    """The campaign's state as of `now`, as a key: equal keys, equal board and counts. One statement, two index probes."""
    # The database's latest audit row, whatever its campaign: the end of the primary key, one probe on either backend
    # (filtered by campaign, SQLite would walk the campaign's index over every row). Another campaign's change only
    # refreshes this one's early.
    latest = select(func.max(col(AuditRow.id))).scalar_subquery()
    extended = (select(func.count()).select_from(ProgressRow)
                .where(col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.extended).is_(True),
                       rules.has_locked_sql(col(ProgressRow.locks_at), now)).scalar_subquery())  # ix_progress_extended
    audit_id, extended_locked = session.execute(sa_select(latest, extended)).one()
    passed = tuple((rules.has_opened(s.opens_at, now), rules.past_due(s.due_at, now), rules.has_locked(s.locks_at, now))
                   for s in campaign.stages)
    return digest, audit_id, extended_locked, passed


class Snapshots:
    """Values computed for one state key; a new key drops them all. Safe across the portal's worker threads
    (two threads may compute the same value once each; both are right)."""

    def __init__(self, kept: int = KEPT):
        self.kept = kept
        self.key: tuple[Any, ...] | None = None
        self.values: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], name: Hashable, make: Callable[[], T]) -> T:
        with self.lock:
            if key == self.key and name in self.values:
                self.values.move_to_end(name)
                return self.values[name]
        value = make()
        with self.lock:
            if key != self.key:
                self.key, self.values = key, OrderedDict()
            self.values[name] = value
            while len(self.values) > self.kept:
                self.values.popitem(last=False)
        return value
