"""The coordinator's sessions and the portal's rate limits, kept in the database so that any worker (of one
`dqflow serve --workers N`, or of several machines over one PostgreSQL) answers any request alike.

A session is a row (only the hash of its id is kept) that the signed cookie names: signing out, setting a new
password or `dqflow link coordinator --revoke-sessions` marks every session of the campaign revoked at once.

A sign-in with a password is limited per address and in all (a ceiling that many addresses cannot pass either):
an attempt is RESERVED in one short write transaction before its password is hashed (DESIGN 13: nothing slow
under a lock), so concurrent guesses are counted as sequential ones are, and forgotten when it signs in.
Refused links count in their own bucket, so a burst at /signin never refuses anyone's personal page.
Rows older than the window are ignored and pruned as new ones come.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, delete, func, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dqflow.store import dry_run, transaction
from dqflow.store.tables import AttemptRow, CampaignRow, SessionRow

SIGNIN, LINK = "signin", "link"  # the buckets


@dataclass(frozen=True)
class Limit:
    per_address: int  # attempts one address may make in the window …
    overall: int  # … and all addresses together (0: no ceiling)
    window: timedelta


WINDOW = timedelta(minutes=10)
SIGNIN_PER_ADDRESS = 10  # password attempts from one address in the window, then 429 …
SIGNIN_OVERALL = 100  # … and from all addresses together (one-time links still sign in: `dqflow link coordinator`)
LINKS_PER_ADDRESS = 10  # refused personal and sign-in links from one address in the window
LIMITS = {
    SIGNIN: Limit(per_address=SIGNIN_PER_ADDRESS, overall=SIGNIN_OVERALL, window=WINDOW),
    LINK: Limit(per_address=LINKS_PER_ADDRESS, overall=0, window=WINDOW),
}


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


# -- sessions ---------------------------------------------------------------------------


def start(session: Session, campaign_id: str, now: datetime, valid: timedelta) -> str:
    """A new session's id (for the cookie; only its hash is stored). Sessions long expired are pruned."""
    session_id = secrets.token_urlsafe(24)
    session.execute(delete(SessionRow).where(col(SessionRow.campaign_id) == campaign_id,
                                             col(SessionRow.expires_at) < now - timedelta(days=1)))
    session.add(SessionRow(id_hash=_hash(session_id), campaign_id=campaign_id, created_at=now, expires_at=now + valid))
    return session_id


def live(session: Session, campaign_id: str, session_id: str, now: datetime) -> bool:
    """Whether the session is this campaign's, not revoked and not expired: one primary-key read."""
    return _live(session.get(SessionRow, _hash(session_id)), campaign_id, now)


# the campaign's stored digest with a session's row beside it (its columns NULL when there is none): a primary-key read each
_DIGEST_AND_SESSION = (sa_select(col(CampaignRow.digest), col(SessionRow.campaign_id), col(SessionRow.expires_at), col(SessionRow.revoked_at))
                       .select_from(CampaignRow)
                       .outerjoin(SessionRow, col(SessionRow.id_hash) == bindparam("hash", type_=String))
                       .where(col(CampaignRow.id) == bindparam("campaign", type_=String)))


def digest_and_live(session: Session, campaign_id: str, session_id: str, now: datetime) -> tuple[str, bool]:
    """The campaign's stored digest and whether the session is live (`live`), in one statement: what the guard of a
    coordinator's page reads (`Site.refresh`)."""
    row = session.execute(_DIGEST_AND_SESSION, {"campaign": campaign_id, "hash": _hash(session_id)}).one()
    return row.digest, _live(row, campaign_id, now)


def _live(row: Any, campaign_id: str, now: datetime) -> bool:
    """Whether a session's row (or its columns, None when there is none) is this campaign's, not revoked, not expired."""
    return row is not None and row.campaign_id == campaign_id and row.revoked_at is None and now <= row.expires_at


def end_all(session: Session, campaign_id: str, now: datetime) -> int:
    """Revoke every live session of the campaign (signing out, a new password, --revoke-sessions); how many."""
    # expired ones too: the CLI's clock need not be the portal's (`serve --now`)
    result = session.execute(update(SessionRow).where(col(SessionRow.campaign_id) == campaign_id,
                                                      col(SessionRow.revoked_at).is_(None)).values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


# -- rate limits --------------------------------------------------------------------------


def _counts(session: Session, campaign_id: str, bucket: str, address: str, now: datetime) -> tuple[int, int]:
    since = now - LIMITS[bucket].window
    recent = (col(AttemptRow.campaign_id) == campaign_id, col(AttemptRow.bucket) == bucket, col(AttemptRow.at) > since)
    mine = session.exec(select(func.count()).select_from(AttemptRow).where(*recent, col(AttemptRow.address) == address)).one()
    overall = session.exec(select(func.count()).select_from(AttemptRow).where(*recent)).one() if LIMITS[bucket].overall else 0
    return mine, overall


def _over(bucket: str, counts: tuple[int, int]) -> bool:
    limit = LIMITS[bucket]
    return counts[0] >= limit.per_address or (limit.overall > 0 and counts[1] >= limit.overall)


def _serialise(session: Session, campaign_id: str, bucket: str) -> None:
    """Count-then-insert made atomic: SQLite's write transaction already holds the database's write lock;
    PostgreSQL takes an advisory lock of this campaign's bucket (not the campaign's row, which hand-ins take)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"dqflow-attempts:{campaign_id}:{bucket}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def blocked(db: Engine, campaign_id: str, bucket: str, address: str, now: datetime) -> bool:
    """Whether the address (or everyone) is over the bucket's limit now: a read, no lock taken."""
    with dry_run(db) as session:
        return _over(bucket, _counts(session, campaign_id, bucket, address, now))


def reserve(db: Engine, campaign_id: str, bucket: str, address: str, now: datetime) -> int | None:
    """Count an attempt before the slow work it allows: its id (to `forget` on success), or None when over the
    limit (nothing reserved). Refuses without writing when a plain read already shows the limit reached, so a
    burst of refused guesses takes no write lock at all."""
    if blocked(db, campaign_id, bucket, address, now):
        return None
    with transaction(db) as session:
        _serialise(session, campaign_id, bucket)
        if _over(bucket, _counts(session, campaign_id, bucket, address, now)):
            return None
        session.execute(delete(AttemptRow).where(col(AttemptRow.campaign_id) == campaign_id, col(AttemptRow.bucket) == bucket,
                                                 col(AttemptRow.at) <= now - LIMITS[bucket].window))
        row = AttemptRow(campaign_id=campaign_id, bucket=bucket, address=address, at=now)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def forget(session: Session, attempt_id: int) -> None:
    """An attempt that succeeded does not count against its address."""
    session.execute(delete(AttemptRow).where(col(AttemptRow.id) == attempt_id))


class RecentRefusals:
    """Which addresses this worker heard the database refuse lately (`reserve` → None), so that the rest of a
    burst from them is refused before it costs a database read or a thread: a copy of the database's answer
    kept `MEMO` long, never a decision of its own (the limits themselves are the database's, for every worker)."""

    MEMO = timedelta(seconds=2)
    SIZE = 10_000  # addresses kept at most (forgotten all at once past it)

    def __init__(self) -> None:
        self.until: dict[tuple[str, str], datetime] = {}

    def note(self, bucket: str, address: str, now: datetime) -> None:
        if len(self.until) >= self.SIZE:
            self.until.clear()
        self.until[(bucket, address)] = now + self.MEMO

    def lately(self, bucket: str, address: str, now: datetime) -> bool:
        until = self.until.get((bucket, address))
        return until is not None and now < until
