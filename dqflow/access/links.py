"""Personal links to the portal, the coordinator's sign-in, sessions and form tokens: capabilities, signed.

As HotCRP's review tokens and TEAMMATES' links for unregistered students do, a ДОУ and an expert act
through a link that is theirs alone: `/dou/ID/VERSION.MAC`, `/expert/ID/VERSION.MAC`. MAC is an HMAC of
the campaign, the role, the id and the version under the campaign's random secret (made at load, kept
in the database, never shown), so a link cannot be guessed or altered, and no token is stored: a send
computes every recipient's link from the secret and the versions in two queries. Revoking moves the
person's version on: the old link no longer verifies. Links expire `AFTER_CAMPAIGN` after the last lock.

The coordinator signs in with a one-time link (only its hash is stored; spent on use) or with a password
set from the CLI (kept as a salted scrypt hash, checked outside any transaction), and then holds a session
(`sessions`: a row in the database) named by a signed cookie.
Forms carry a token signed for the person and the moment (CSRF).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping
from urllib.parse import quote

from sqlmodel import Session, select

from dqflow.access import sessions
from dqflow.calendar import show
from dqflow.campaign import spec
from dqflow.engine import changes
from dqflow.errors import DqflowError, NotFound
from dqflow.intake import text as texts
from dqflow.store import AuditRow, CampaignRow, LinkRow, SigninRow, acting, insert_ignore, recorded_at

ROLES = {"institution": "dou", "expert": "expert"}  # role → the first segment of its link's path
AFTER_CAMPAIGN = timedelta(days=60)  # recommendations and results stay readable for a while after the last lock
SIGNIN_VALID = timedelta(hours=1)
SESSION_VALID = timedelta(hours=12)
FORM_VALID = timedelta(hours=12)
BASE_URL_ENV = "DQFLOW_BASE_URL"


def base_url(campaign: spec.Campaign, env: Mapping[str, str] | None = None) -> str | None:
    """Where the portal is reached from outside: DQFLOW_BASE_URL, else `campaign.portal.base_url`, else None."""
    value = (os.environ if env is None else env).get(BASE_URL_ENV, "").strip()
    if value:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise DqflowError(f"{BASE_URL_ENV} '{value}' must be a web address without ? or #, like https://monitoring.example.org",
                              code="bad-base-url", name=BASE_URL_ENV, value=value)
        return value.rstrip("/")
    return campaign.portal.base_url if campaign.portal else None


def expires_at(campaign: spec.Campaign) -> datetime:
    return max(s.locks_at for s in campaign.stages) + AFTER_CAMPAIGN


def _mac(secret: str, *parts: str, size: int = 22) -> str:
    digest = hmac.digest(secret.encode(), "\x1f".join(parts).encode(), "sha256")  # one call into OpenSSL, as hmac.new(…).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:size]


@functools.lru_cache(maxsize=8192)
def _link_mac(secret: str, campaign_id: str, role: str, subject_id: str, version: str) -> str:
    """A link's MAC, worked out once per link in a process (`Links.check`: the portal checks the same links again and
    again). Whether a link is revoked or expired is never kept: that is the database's and the clock's, every time."""
    return _mac(secret, "link", campaign_id, role, subject_id, version)


def _secret(session: Session, campaign_id: str) -> str:
    row = session.get(CampaignRow, campaign_id)
    if row is None or not row.secret:
        raise NotFound(f"no campaign '{campaign_id}' is loaded", code="no-campaign", campaign_id=campaign_id, loaded="—")
    return row.secret


@dataclass(frozen=True)
class Links:
    """Every personal link of one campaign, from its secret and the link versions (read once)."""

    campaign_id: str
    secret: str
    versions: dict[tuple[str, str], int]

    def version(self, role: str, subject_id: str) -> int:
        return self.versions.get((role, subject_id), 1)

    def path(self, role: str, subject_id: str) -> str:
        version = self.version(role, subject_id)
        mac = _mac(self.secret, "link", self.campaign_id, role, subject_id, str(version))
        return f"/{ROLES[role]}/{quote(subject_id, safe='')}/{version}.{mac}"

    def url(self, base: str, role: str, subject_id: str) -> str:
        return base + self.path(role, subject_id)

    def check(self, role: str, subject_id: str, token: str) -> str | None:
        """Why the token is no good for this person ('tampered', 'revoked'), or None when it is theirs."""
        version, _, mac = token.partition(".")
        if not version.isdigit() or len(version) > 9:
            return "tampered"
        expected = _link_mac(self.secret, self.campaign_id, role, subject_id, version)
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return "tampered"
        return "revoked" if int(version) != self.version(role, subject_id) else None


def links(session: Session, campaign_id: str) -> Links:
    """Two queries, whatever the roster: the secret and the versions of revoked links."""
    versions = {(role, subject): version for role, subject, version in session.exec(
        select(LinkRow.role, LinkRow.subject_id, LinkRow.version).where(LinkRow.campaign_id == campaign_id)).all()}
    return Links(campaign_id, _secret(session, campaign_id), versions)


def subject(campaign: spec.Campaign, who: str) -> tuple[str, str]:
    """A ДОУ or expert id as the CLI names it: (role, id)."""
    if any(i.id == who for i in campaign.institutions):
        return "institution", who
    if any(e.id == who for e, _ in campaign.every_expert()):
        return "expert", who
    raise NotFound(f"'{who}' is neither a ДОУ nor an expert of campaign '{campaign.id}'; give a ДОУ id (like 2) or an expert id (like e2)",
                   code="no-person", who=who)


def revoke(session: Session, campaign: spec.Campaign, who: str, now: datetime, reason: str = "") -> tuple[str, int]:
    """Make the person's link stop working and give them a new one: (role, new version). Audited, with the reason
    when one is given: the person's letter says it."""
    reason = texts.check(reason.strip(), "причина") if reason.strip() else ""
    role, subject_id = subject(campaign, who)
    current = session.get(LinkRow, (campaign.id, role, subject_id))
    version = (current.version if current else 1) + 1
    if current is None:
        insert_ignore(session, LinkRow, [{"campaign_id": campaign.id, "role": role, "subject_id": subject_id,
                                          "version": version, "changed_at": now}])
    else:
        current.version, current.changed_at = version, now
        session.add(current)
    session.add(AuditRow(campaign_id=campaign.id, institution_id=subject_id if role == "institution" else None,
                         action="link-revoke", at=now, recorded_at=recorded_at(session, now), actor=acting(session),
                         detail=json.dumps({"role": role, "id": subject_id, "version": version,
                                             **({"reason": reason} if reason else {})}, ensure_ascii=False)))
    # the person gets the new link at the next send, with what happened to the old one
    email = next(i.email for i in campaign.institutions if i.id == subject_id) if role == "institution" else campaign.expert_addresses[subject_id]
    changes.plan(session, campaign, now, [changes.Tell(email, role, subject_id if role == "institution" else None, None,
                                                       changes.RELINKED, str(version))])
    return role, version


# -- the coordinator -------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signin(session: Session, campaign: spec.Campaign, now: datetime) -> tuple[str, datetime]:
    """A one-time sign-in token for the coordinator and when it expires; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    until = now + SIGNIN_VALID
    session.add(SigninRow(token_hash=_hash(token), campaign_id=campaign.id, created_at=now, expires_at=until))
    session.add(AuditRow(campaign_id=campaign.id, action="signin-link", at=now, recorded_at=recorded_at(session, now),
                         actor=acting(session), detail=json.dumps({"expires_at": until.isoformat()})))
    return token, until


def spend_signin(session: Session, campaign: spec.Campaign, token: str, now: datetime) -> str | None:
    """Use a sign-in token once: why it cannot be used ('unknown', 'used', 'expired'), or None (now spent)."""
    row = session.get(SigninRow, _hash(token))
    if row is None or row.campaign_id != campaign.id:
        return "unknown"
    if row.used_at is not None:
        return "used"
    if now > row.expires_at:
        return "expired"
    row.used_at = now
    session.add(row)
    return None


def start_session(session: Session, campaign: spec.Campaign, now: datetime, by: str) -> str:
    """The coordinator signed in (`by` 'link' or 'password'): a new session's id for the cookie. Audited."""
    session_id = sessions.start(session, campaign.id, now, SESSION_VALID)
    session.add(AuditRow(campaign_id=campaign.id, action="signin", at=now, recorded_at=recorded_at(session, now),
                         actor="coordinator:web", detail=json.dumps({"until": show(now + SESSION_VALID, campaign.tz), "by": by},
                                                                    ensure_ascii=False)))
    return session_id


def end_sessions(session: Session, campaign: spec.Campaign, now: datetime, why: str) -> int:
    """End every session of the coordinator at once (`why`: 'signout', 'password', 'revoke'). Audited."""
    ended = sessions.end_all(session, campaign.id, now)
    if ended or why == "revoke":  # (the first password ends nothing: no row saying so)
        session.add(AuditRow(campaign_id=campaign.id, action="sessions-end", at=now, recorded_at=recorded_at(session, now),
                             actor=acting(session), detail=json.dumps({"why": why, "ended": ended})))
    return ended


def signin_pending(session: Session, campaign_id: str, token: str) -> bool:
    row = session.get(SigninRow, _hash(token))
    return row is not None and row.campaign_id == campaign_id and row.used_at is None


# The coordinator's password: scrypt (memory-hard, in hashlib) with a random salt per setting.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
PASSWORD_MIN = 10


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT["n"], r: int = SCRYPT["r"], p: int = SCRYPT["p"]) -> str:
    """`scrypt$N$r$p$SALT$HASH` (base64): the parameters travel with the hash, so they can grow later."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    encode = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${n}${r}${p}${encode(salt)}${encode(digest)}"


def password_matches(stored: str | None, password: str) -> bool:
    stored = stored or ""
    try:
        scheme, n, r, p, salt, _ = stored.split("$")
        if scheme != "scrypt":
            return False
        again = hash_password(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(again.encode(), stored.encode())


def set_password(session: Session, campaign: spec.Campaign, password: str, now: datetime) -> None:
    """Keep the coordinator's password (as a salted hash) for signing in at /signin. Audited, without it."""
    if len(password) < PASSWORD_MIN:
        raise DqflowError(f"the password has {len(password)} characters; give at least {PASSWORD_MIN} "
                          "(a phrase of a few words is easy to remember)", code="short-password", length=str(len(password)),
                          least=str(PASSWORD_MIN))
    row = session.get(CampaignRow, campaign.id)
    if row is None:
        raise NotFound(f"no campaign '{campaign.id}' is loaded", code="no-campaign", campaign_id=campaign.id, loaded="—")
    row.password_hash = hash_password(password)
    session.add(row)
    session.add(AuditRow(campaign_id=campaign.id, action="password-set", at=now, recorded_at=recorded_at(session, now),
                         actor=acting(session), detail="{}"))
    end_sessions(session, campaign, now, "password")  # whoever knew the old one is signed out everywhere


def has_password(session: Session, campaign_id: str) -> bool:
    return bool(stored_password(session, campaign_id))


def stored_password(session: Session, campaign_id: str) -> str | None:
    """The password's stored hash, read to be checked by `password_matches` outside any transaction (it is slow)."""
    row = session.get(CampaignRow, campaign_id)
    return row.password_hash if row is not None else None


@dataclass(frozen=True)
class Signer:
    """Signs what the portal hands to a browser and reads back: session cookies and form tokens."""

    campaign_id: str
    secret: str

    def session_cookie(self, session_id: str, now: datetime) -> str:
        """The cookie naming a session (`sessions.start`); signed, so a forged one is refused without a query."""
        until = str(int((now + SESSION_VALID).timestamp()))
        return f"{session_id}.{until}.{_mac(self.secret, 'session', self.campaign_id, session_id, until, size=32)}"

    def session(self, cookie: str | None, now: datetime) -> str | None:
        """The session's id when the cookie is one this portal signed and it has not expired (whether the session
        still lives, not signed out, is the database's to say: `sessions.live`)."""
        nonce, until, mac = ((cookie or "").split(".") + ["", "", ""])[:3]
        if not until.isdigit() or not hmac.compare_digest(mac.encode(), _mac(self.secret, "session", self.campaign_id, nonce,
                                                                               until, size=32).encode()):
            return None
        return nonce if now.timestamp() <= int(until) else None

    def form_token(self, principal: str, now: datetime) -> str:
        stamp = str(int(now.timestamp()))
        return f"{stamp}.{_mac(self.secret, 'form', self.campaign_id, principal, stamp)}"

    def form_ok(self, principal: str, token: str, now: datetime) -> bool:
        stamp, _, mac = token.partition(".")
        if not stamp.isdigit() or not hmac.compare_digest(mac.encode(), _mac(self.secret, "form", self.campaign_id, principal,
                                                                               stamp).encode()):
            return False
        return 0 <= now.timestamp() - int(stamp) <= FORM_VALID.total_seconds() + 300


def signer(session: Session, campaign_id: str) -> Signer:
    return Signer(campaign_id, _secret(session, campaign_id))
