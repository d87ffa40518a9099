"""Which ДОУ changed since a state of the portal, read forward from the audit log (`Changes`): what the grids' kept rows
and the coordinator's kept late lists (`web.snapshots`) ask instead of counting every audit row of the campaign."""

from __future__ import annotations

import bisect
import threading
from typing import Iterable

from sqlalchemy import text
from sqlmodel import Session

from dqflow.store import AuditRow

CHANGES_READ = 5_000  # audit rows `Changes.advance` reads at most at once; more (a tick of every ДОУ): everything afresh
CHANGES_LOG = 200_000  # (audit id, ДОУ) entries `Changes` holds for `since`; beyond, the older half is dropped


class Changes:
    """Which ДОУ changed, read forward from the audit log: every change to a ДОУ's rows writes an audit row naming it
    in the transaction that makes it, and audit ids become visible in commit order on both backends (`store.turns`:
    the SQLite writer's turn, the PostgreSQL advisory lock before the first audit INSERT), so the rows with an id above
    the last one read name every ДОУ changed since — a range of the primary key, not every audit row of the campaign
    at each new state. Kept per process (several workers each read the log themselves); safe across worker threads.

    `generation` names the stretch of the log read without a gap: the first reading, or more than `CHANGES_READ` rows at
    once, starts a new one (every ДОУ's version unknown before it, so everything kept under an older one is made
    afresh)."""

    def __init__(self, read: int = CHANGES_READ, log: int = CHANGES_LOG) -> None:
        self.read_at_most, self.log_at_most = read, log
        self.lock = threading.Lock()
        self.generation = 0
        self.base = 0  # the latest audit id when the generation began: a ДОУ with no entry has not changed since
        self.last: int | None = None  # every audit row up to this id read
        self.latest: dict[str, int] = {}  # ДОУ → the latest audit id naming it, of this generation
        self.ids: list[int] = []  # the log of this generation, in id order: its audit ids …
        self.names: list[str] = []  # … and the ДОУ each names
        self.floor = 0  # the log holds every entry above this id

    def advance(self, session: Session, campaign_id: str) -> int:
        """Read the audit rows past the last read, in `session`: one statement, which also reads the latest audit id
        `session` sees (returned: every audit row up to it is visible there, and everything read after it in `session`
        is at least as new)."""
        with self.lock:
            values = {"last": self.last if self.last is not None else 2**62, "n": self.read_at_most}  # first: the latest id alone
            rows = session.execute(_ADVANCE, values).all()
            top = next((r[1] for r in rows if r[0] == 0), None) or 0
            fresh = [r[1:] for r in rows if r[0] == 1]
            if self.last is None or len(fresh) >= self.read_at_most:
                self._begin(top)
            elif top > self.last:
                for audit_id, campaign, institution_id in sorted(fresh):
                    if campaign == campaign_id and institution_id is not None:
                        self.latest[institution_id] = audit_id
                        if self.log_at_most:
                            self.ids.append(audit_id)
                            self.names.append(institution_id)
                self.last = top
                if not self.log_at_most:
                    self.floor = top  # no log: `since` knows nothing
                elif len(self.ids) > self.log_at_most:
                    cut = len(self.ids) // 2
                    self.floor = self.ids[cut - 1]
                    del self.ids[:cut], self.names[:cut]
            return top

    def _begin(self, top: int) -> None:
        self.generation += 1
        self.base = self.last = self.floor = top
        self.latest, self.ids, self.names = {}, [], []

    def versions(self, institution_ids: Iterable[str], seen: int) -> dict[str, tuple[int, int] | None]:
        """Each ДОУ's version as a session that sees every audit row up to `seen` (`advance`'s answer) sees it: (the
        generation, the latest audit id naming it up to `seen`, 0 for none), equal for equal rows of the ДОУ; None when
        not known (it changed past `seen`, or `seen` is before the generation began: that session's rows are older)."""
        with self.lock:
            if seen < self.base:
                return dict.fromkeys(institution_ids)
            found: dict[str, tuple[int, int] | None] = {}
            for i in institution_ids:
                v = self.latest.get(i, 0)
                found[i] = (self.generation, v) if v <= seen else None
            return found

    def since(self, generation: int, after: int, seen: int) -> set[str] | None:
        """The ДОУ named by audit rows above `after` up to `seen` of `generation`; None when that is not known (another
        generation, or entries dropped from the log)."""
        with self.lock:
            if generation != self.generation or after < self.floor:
                return None
            return set(self.names[bisect.bisect_right(self.ids, after):bisect.bisect_right(self.ids, seen)])


# `Changes.advance`'s statement: the latest audit id (a probe of the primary key's end), then the rows past the last
# read, at most :n, by the primary key (a range, on either backend), marked 0 and 1
_ADVANCE = text(f"SELECT 0, (SELECT max(id) FROM {AuditRow.__tablename__}), NULL, NULL UNION ALL "
                f"SELECT 1, id, campaign_id, institution_id FROM (SELECT id, campaign_id, institution_id FROM "
                f"{AuditRow.__tablename__} WHERE id > :last ORDER BY id LIMIT :n) fresh")
