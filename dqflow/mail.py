"""Messages and their delivery: RFC 5322 messages from rendered templates, sent over SMTP or to a maildir.

Nothing here changes campaign state; the outbox decides what to send and records outcomes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib
from markupsafe import Markup

from dqflow.errors import DqflowError
from dqflow.templates import LAYOUT, render_block, render_item

RETRY_AFTER_MINUTES = (1, 5, 15, 60, 180, 360)  # then the message is dead

# The classic (compat32) email API: four times faster than Message's header folding, which
# dominated a 50,000-ДОУ send.
UTF8_8BIT = Charset("utf-8")
UTF8_8BIT.body_encoding = None
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP
SMTP_LINE_LIMIT = 998  # bytes per line (RFC 5321 4.5.3.1.6); servers reject longer ones


class HeaderInjection(DqflowError):
    """A header value would carry CR/LF: refused rather than sent."""


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | retry | dead
    detail: str = ""


@dataclass(frozen=True)
class Letter:
    """One item of a message: which template, and the names it uses."""

    kind: str
    item: dict


def message_id(keys: list[str], sender: str) -> str:
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rpartition('@')[2] or 'dqflow.invalid'}>"


def compose(*, folder: str, letters: list[Letter], recipient: str, sender: str, reply_to: str, when: datetime,
            msg_id: str, layout: dict) -> Message:
    """One message for one recipient holding every letter, text and HTML alternatives."""
    rendered = [render_item(folder, letter.kind, letter.item) for letter in letters]
    context = {**layout, "items": [{"subject": r["subject"], "text": r["text"], "html": Markup(r["html"])} for r in rendered]}
    subject = rendered[0]["subject"] if len(rendered) == 1 else render_block(folder, f"{LAYOUT}.txt", "subject", context)
    message = MIMEMultipart("alternative", boundary="=_dqflow_" + hashlib.sha256(msg_id.encode()).hexdigest()[:24])
    for name, value in (("From", sender), ("To", recipient), ("Reply-To", reply_to), ("Subject", subject)):
        if "\r" in value or "\n" in value:
            raise HeaderInjection(f"header {name} would contain a line break: {value!r}")
        message[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
    message["Date"] = format_datetime(when)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "ru"
    for template, subtype in ((f"{LAYOUT}.txt", "plain"), (f"{LAYOUT}.html", "html")):
        body = render_block(folder, template, "body", context) + "\n"
        part = MIMEText(body, subtype, _body_charset(body))
        del part["MIME-Version"]  # belongs to the top level only
        message.attach(part)
    return message


def _body_charset(body: str) -> Charset:
    """8bit keeps the Cyrillic readable in the .eml files; a line over SMTP's limit (a long list, an
    expert's one-paragraph recommendations) needs quoted-printable, which wraps it."""
    if all(len(line.encode()) <= SMTP_LINE_LIMIT for line in body.splitlines()):
        return UTF8_8BIT
    return UTF8_QP


# -- transports ----------------------------------------------------------------------


class MaildirTransport:
    """Writes each message as an .eml file (numbered in sending order): the simulation's 'sent' folder.

    Without a folder it only counts: the messages were still fully rendered.
    """

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder else None
        self.count = 0
        if self.folder:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DqflowError(f"--maildir {folder}: cannot create the folder ({exc.strerror}); give a writable folder") from None
            for old in self.folder.glob("*.eml"):  # a replay starts from an empty folder
                old.unlink()

    async def send(self, messages: list[Message], on_outcome=None) -> list[Outcome]:
        outcomes = []
        for message in messages:
            self.count += 1
            if self.folder is None:
                outcomes.append(Outcome("sent", ""))
            else:
                slug = re.sub(r"[^a-z0-9]+", "-", message["To"].lower()).strip("-")
                path = self.folder / f"{self.count:05d}-{slug}.eml"
                path.write_bytes(message.as_bytes())
                outcomes.append(Outcome("sent", str(path)))
            if on_outcome:
                on_outcome(outcomes[-1])
        return outcomes

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    sender: str | None
    pool: int = 2
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SmtpSettings":
        env = os.environ if env is None else env
        host = env.get("DQFLOW_SMTP_HOST")
        if not host:
            raise DqflowError("DQFLOW_SMTP_HOST is not set; set DQFLOW_SMTP_HOST (and _PORT, _SECURITY, _USERNAME, _PASSWORD, _FROM)")
        security = env.get("DQFLOW_SMTP_SECURITY", "starttls").lower()
        if security not in ("none", "starttls", "tls"):
            raise DqflowError(f"DQFLOW_SMTP_SECURITY '{security}' must be none, starttls or tls")
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        try:
            port = int(env.get("DQFLOW_SMTP_PORT", default_port))
        except ValueError:
            raise DqflowError(f"DQFLOW_SMTP_PORT '{env.get('DQFLOW_SMTP_PORT')}' must be a port number") from None
        return cls(host, port, security, env.get("DQFLOW_SMTP_USERNAME"), env.get("DQFLOW_SMTP_PASSWORD"), env.get("DQFLOW_SMTP_FROM"))

    def __repr__(self) -> str:  # never show the password, even in a debugger or a log line
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, username={self.username!r})"


class SmtpTransport:
    """aiosmtplib over a small pool of reused connections; classifies every failure."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.idle: list[aiosmtplib.SMTP] = []
        self.connections_opened = 0

    async def _connection(self) -> aiosmtplib.SMTP:
        while self.idle:
            client = self.idle.pop()
            if client.is_connected:
                return client
        s = self.settings
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, username=s.username, password=s.password,
                                 use_tls=s.security == "tls", start_tls=True if s.security == "starttls" else False,
                                 timeout=s.timeout)
        await client.connect()
        self.connections_opened += 1
        return client

    async def _send_one(self, message: Message) -> Outcome:
        try:
            client = await self._connection()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome("retry", f"cannot connect to {self.settings.host}:{self.settings.port}: {_describe(exc)}")
        try:
            await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self.idle.append(client)
            codes = [r.code for r in exc.recipients]
            return Outcome("retry" if all(400 <= c < 500 for c in codes) else "dead",
                           "; ".join(f"{r.code} {r.message}" for r in exc.recipients))
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 or not client.is_connected:
                await _close(client)
            else:
                self.idle.append(client)
            return Outcome("retry" if 400 <= exc.code < 500 else "dead", f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await _close(client)
            return Outcome("retry", _describe(exc))
        self.idle.append(client)
        return Outcome("sent", f"{self.settings.host}:{self.settings.port}")

    async def send(self, messages: list[Message], on_outcome=None) -> list[Outcome]:
        """Send with at most `pool` connections at once, each reused for the next message."""
        queue = iter(enumerate(messages))  # shared by the workers: each takes the next message
        outcomes: list[Outcome | None] = [None] * len(messages)

        async def worker() -> None:
            for index, message in queue:
                outcomes[index] = await self._send_one(message)
                if on_outcome:
                    on_outcome(outcomes[index])

        await asyncio.gather(*(worker() for _ in range(min(self.settings.pool, len(messages)) or 1)))
        return [o for o in outcomes if o is not None]

    async def close(self) -> None:
        while self.idle:
            await _close(self.idle.pop())


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}".strip().rstrip(":")
