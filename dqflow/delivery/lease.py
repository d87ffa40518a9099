"""One sender per database: a lease held in the database itself.

Whoever reaches the database (by another path, a symlink, from another host) sees the same row,
so two processes never send one campaign's mail at once. The holder renews the lease while it
works; a holder that died stops renewing and its lease expires. On the same host a holder whose
process is gone is taken over at once, so a `send` restarted after a crash need not wait.

The lease runs on the wall clock the edge (CLI, daemon) hands in, never on a campaign's `--now`.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dqflow.calendar import UTC
from dqflow.store import LeaseRow, insert_ignore, rowcount

LEASE = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Lease:
    def __init__(self, db: Engine, name: str, wall: Callable[[], datetime], length: timedelta = LEASE):
        self.db, self.name, self.wall, self.length = db, name, wall, length
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.holder = f"{self.host}/{self.pid}/{secrets.token_hex(4)}"
        self.held = False
        self.renewed = 0.0  # time.monotonic() of the last taking or renewal

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or held by a dead process of this host."""
        now = self.wall()
        with Session(self.db) as session:
            insert_ignore(session, LeaseRow, [{"name": self.name, "holder": "", "host": "", "pid": 0, "expires_at": EPOCH}])
            taken = self._take(session, or_(col(LeaseRow.holder) == self.holder, col(LeaseRow.expires_at) <= now), now)
            if not taken:
                holder, host, pid = session.exec(select(LeaseRow.holder, LeaseRow.host, LeaseRow.pid).where(LeaseRow.name == self.name)).one()
                if host == self.host and not _alive(pid):
                    taken = self._take(session, col(LeaseRow.holder) == holder, now)
            session.commit()
        self.held, self.renewed = taken, time.monotonic()
        return taken

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken by another process)."""
        with Session(self.db) as session:
            self.held = self._take(session, col(LeaseRow.holder) == self.holder, self.wall())
            session.commit()
        self.renewed = time.monotonic()
        return self.held

    def keep(self) -> bool:
        """Renew once a quarter of the lease has passed since the last renewal, as a heartbeat would: a
        holder checking at every step of its work does not write the lease row at every step."""
        if time.monotonic() - self.renewed < self.length.total_seconds() / 4:
            return self.held
        return self.renew()

    def release(self) -> None:
        if not self.held:
            return
        with Session(self.db) as session:
            session.execute(update(LeaseRow).where(col(LeaseRow.name) == self.name, col(LeaseRow.holder) == self.holder)
                            .values(holder="", expires_at=EPOCH))
            session.commit()
        self.held = False

    def _take(self, session: Session, condition: ColumnElement[bool], now: datetime) -> bool:
        return rowcount(session, update(LeaseRow).where(col(LeaseRow.name) == self.name, condition).values(
            holder=self.holder, host=self.host, pid=self.pid, expires_at=now + self.length)) == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
