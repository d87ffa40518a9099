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
    """Each name's latest value with the state key it was computed for; safe across the portal's worker threads, and
    single-flight: while one thread computes a name for a new key, the others are served that name's value for the
    key before (at most one computation old) instead of computing it too — at a deadline rush every act changes the
    key, and fifty threads recomputing the same board at once would stall the process. Only a name never computed
    yet makes a thread wait."""

    def __init__(self, kept: int = KEPT):
        self.kept = kept
        self.values: OrderedDict[Hashable, tuple[tuple[Any, ...], Any]] = OrderedDict()  # name → (its key, value)
        self.computing: dict[Hashable, threading.Event] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], name: Hashable, make: Callable[[], T]) -> T:
        while True:
            with self.lock:
                kept = self.values.get(name)
                if kept is not None and kept[0] == key:
                    self.values.move_to_end(name)
                    return kept[1]
                busy = self.computing.get(name)
                if busy is None:
                    self.computing[name] = threading.Event()
                    break
                if kept is not None:
                    return kept[1]
            busy.wait()  # the first computation of this name: wait for it, then look again
        try:
            value = make()
            with self.lock:
                self.values[name] = (key, value)
                self.values.move_to_end(name)
                while len(self.values) > self.kept:
                    self.values.popitem(last=False)
            return value
        finally:
            with self.lock:
                self.computing.pop(name).set()
