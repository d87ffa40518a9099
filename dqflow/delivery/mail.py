"""Messages and their delivery: RFC 5322 messages from rendered templates, sent over SMTP or to a maildir.

Nothing here changes campaign state; the outbox decides what to send and records outcomes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import quopri
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path

import aiosmtplib
from aiosmtplib.email import quote_address
from markupsafe import Markup

from dqflow.errors import DqflowError
from dqflow.intake.templates import LAYOUT, render_block, render_blocks, render_item

RETRY_AFTER_MINUTES = (1, 5, 15, 60, 180, 360)  # then the message is dead
SMTP_LINE_LIMIT = 998  # bytes per line (RFC 5321 4.5.3.1.6); servers reject longer ones
NL = "\n"  # as Python's own generator writes; the SMTP client turns line ends into CRLF on the wire


class HeaderInjection(DqflowError):
    """A header value would carry CR/LF: refused rather than sent."""


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | retry | dead
    detail: str = ""
    connection: bool = False  # the server could not be reached or dropped us: it says nothing of this message


@dataclass(frozen=True)
class Letter:
    """One item of a message: which template, and the names it uses."""

    kind: str
    item: dict


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (an invitation's .ics): its name, MIME type with parameters, bytes."""

    filename: str
    content_type: str  # e.g. 'text/calendar; charset="utf-8"; method=PUBLISH'
    data: bytes
    encoded: bytes | None = field(default=None, compare=False, repr=False)  # its base64 lines, when already known


@dataclass(frozen=True)
class Outgoing:
    """One composed message: the bytes for the wire, built once, and the headers people look at.

    Built by hand rather than through `email.message`: flattening and folding there cost more
    than the SMTP exchange itself. The bodies are 8bit unless a line passes SMTP's limit; a
    server without 8BITMIME gets them re-encoded as quoted-printable.
    """

    sender: str
    recipient: str
    subject: str
    message_id: str
    head: str  # every header of the message, each line ending in a newline
    boundary: str
    parts: tuple[tuple[str, str], ...]  # (subtype, body) alternatives
    data: bytes = field(repr=False, default=b"")
    attachments: tuple[Attachment, ...] = ()  # when any: multipart/mixed around the alternatives

    def __getitem__(self, name: str) -> str:
        return {"From": self.sender, "To": self.recipient, "Subject": self.subject, "Message-ID": self.message_id}[name]

    def as_bytes(self, *, seven_bit: bool = False) -> bytes:
        return _wire(self.head, self.boundary, self.parts, seven_bit, self.attachments) if seven_bit else self.data


def message_id(keys: list[str], sender: str) -> str:
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rpartition('@')[2] or 'dqflow.invalid'}>"


def compose(*, folder: str, letters: list[Letter], recipient: str, sender: str, reply_to: str, when: datetime,
            msg_id: str, layout: dict, rendered: list[dict] | None = None, sender_name: str | None = None,
            attachments: tuple[Attachment, ...] = (), bodies: bool = True) -> Outgoing:
    """One message for one recipient holding every letter, text and HTML alternatives.
    `rendered` (the letters already rendered, in order) saves rendering them again; `sender_name`
    is shown in From (the coordinator's name), the address alone goes on the envelope. With
    `attachments` the alternatives are the first part of a multipart/mixed message. Without `bodies`
    (nobody keeps the message: a replay without a maildir) only the headers are built; `rendered`
    then needs each letter's subject alone."""
    rendered = rendered if rendered is not None else [render_item(folder, letter.kind, letter.item) for letter in letters]
    subject, text, html = laid_out(folder, layout, rendered, bodies)
    return assemble(subject=subject, text=text, html=html, recipient=recipient, sender=sender, reply_to=reply_to, when=when,
                    msg_id=msg_id, sender_name=sender_name, attachments=attachments, bodies=bodies)


def laid_out(folder: str, layout: dict, rendered: list[dict], bodies: bool = True) -> tuple[str, str | None, str | None]:
    """The message's subject, text and HTML (None without `bodies`): the letters in the layout."""
    context = {**layout, "items": [{"subject": r["subject"], "text": r["text"], "html": Markup(r["html"])} for r in rendered]}
    several = len(rendered) > 1
    if not bodies:
        return render_block(folder, f"{LAYOUT}.txt", "subject", context) if several else rendered[0]["subject"], None, None
    text, *combined = render_blocks(folder, f"{LAYOUT}.txt", ("body", "subject") if several else ("body",), context)
    return combined[0] if several else rendered[0]["subject"], text, render_block(folder, f"{LAYOUT}.html", "body", context)


def assemble(*, subject: str, text: str | None, html: str | None, recipient: str, sender: str, reply_to: str, when: datetime,
             msg_id: str, sender_name: str | None = None, attachments: tuple[Attachment, ...] = (), bodies: bool = True) -> Outgoing:
    """The message from its laid-out subject, text and HTML: headers, parts and the bytes for the wire."""
    boundary = "=_dqflow_" + hashlib.sha256(msg_id.encode()).hexdigest()[:24]
    head = "".join(_header(name, value) for name, value in (
        ("From", _display(sender_name, sender)), ("To", recipient), ("Reply-To", reply_to), ("Subject", subject))) + (
        f"Date: {_date(when)}{NL}Message-ID: {_clean('Message-ID', msg_id)}{NL}"
        f"Auto-Submitted: auto-generated{NL}Content-Language: ru{NL}MIME-Version: 1.0{NL}"
        + (f'Content-Type: multipart/mixed; boundary="{_mixed(boundary)}"{NL}' if attachments else
           f'Content-Type: multipart/alternative; boundary="{boundary}"{NL}'))
    parts = (("plain", _lines(text + "\n")), ("html", _lines(html + "\n"))) if bodies and text is not None and html is not None else ()
    return Outgoing(sender, recipient, subject, msg_id, head, boundary, parts, _wire(head, boundary, parts, False, attachments),
                    attachments)


@lru_cache(maxsize=64)
def _display(name: str | None, address: str) -> str:
    """`"КДО МАУ ИМЦ" <kdo@…>`, the name RFC 2047-encoded and the address left readable."""
    return formataddr((_clean("From", name), address), charset="utf-8") if name else address


def _clean(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"header {name} would contain a line break: {value!r}")
    return value


@lru_cache(maxsize=4096)
def _header(name: str, value: str) -> str:
    """`Name: value` and a newline, RFC 2047-encoded and folded when needed; the same value is encoded once."""
    _clean(name, value)
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}{NL}"
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep=NL)
    return f"{name}: {encoded}{NL}"


@lru_cache(maxsize=256)
def _date(when: datetime) -> str:
    return format_datetime(when)


def _lines(text: str) -> str:
    return re.sub(r"\r\n?", NL, text) if "\r" in text else text


def _mixed(boundary: str) -> str:
    return boundary + "_mixed"


def _wire(head: str, boundary: str, parts: tuple[tuple[str, str], ...], seven_bit: bool,
          attachments: tuple[Attachment, ...] = ()) -> bytes:
    chunks = [head.encode("ascii"), b"\n"]
    if attachments:  # the alternatives nest as the first part of multipart/mixed
        chunks.append(f'--{_mixed(boundary)}{NL}Content-Type: multipart/alternative; boundary="{boundary}"{NL}{NL}'.encode("ascii"))
    for subtype, body in parts:
        encoding, payload = _encoded(body, seven_bit)
        chunks.append((f"--{boundary}{NL}Content-Type: text/{subtype}; charset=\"utf-8\"{NL}"
                       f"Content-Transfer-Encoding: {encoding}{NL}{NL}").encode("ascii"))
        chunks.append(payload)
    chunks.append(f"--{boundary}--{NL}".encode("ascii"))
    for attachment in attachments:  # base64: an .ics keeps its CRLF line ends and folding exactly
        chunks.append((f"--{_mixed(boundary)}{NL}Content-Type: {_clean('Content-Type', attachment.content_type)}{NL}"
                       f'Content-Disposition: attachment; filename="{_clean("filename", attachment.filename)}"{NL}'
                       f"Content-Transfer-Encoding: base64{NL}{NL}").encode("ascii"))
        chunks.append(attachment.encoded if attachment.encoded is not None else base64.encodebytes(attachment.data))
    if attachments:
        chunks.append(f"--{_mixed(boundary)}--{NL}".encode("ascii"))
    return b"".join(chunks)


def _encoded(body: str, seven_bit: bool) -> tuple[str, bytes]:
    """8bit keeps the Cyrillic readable in the .eml files; a line over SMTP's limit (a long list, an
    expert's one-paragraph recommendations), or a server without 8BITMIME, needs quoted-printable."""
    raw = body.encode("utf-8")
    if not seven_bit and max(map(len, raw.split(b"\n"))) <= SMTP_LINE_LIMIT:
        return "8bit", raw
    return "quoted-printable", quopri.encodestring(raw)


# -- transports ----------------------------------------------------------------------


class MaildirTransport:
    """Writes each message as an .eml file (numbered in sending order): the simulation's 'sent' folder.

    Without a folder it only counts: the messages' headers are composed (their subjects are the
    replay's record) but nobody reads their bodies or calendar attachments, so `keeps_messages`
    tells the sender to leave those out.
    """

    connections = 1

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder else None
        self.keeps_messages = self.folder is not None
        self.count = 0
        if self.folder:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DqflowError(f"--maildir {folder}: cannot create the folder ({exc.strerror}); give a writable folder",
                                  code="maildir-unwritable", folder=str(folder), why=str(exc.strerror)) from None
            for old in self.folder.glob("*.eml"):  # a replay starts from an empty folder
                old.unlink()

    async def deliver(self, message: Outgoing, before_data: asyncio.Future | None = None) -> Outcome:
        if before_data is not None:
            await before_data
        self.count += 1
        if self.folder is None:
            return Outcome("sent", "")
        slug = re.sub(r"[^a-z0-9]+", "-", message.recipient.lower()).strip("-")
        path = self.folder / f"{self.count:05d}-{slug}.eml"
        path.write_bytes(message.as_bytes())
        return Outcome("sent", str(path))

    async def send(self, messages: list[Outgoing]) -> list[Outcome]:
        return await send_all(self, messages)

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
    timeout: float = 60.0  # one reply while connecting, one message's exchange after; a relay silent for a minute is stalled
    connect_timeout: float = 15.0

    @classmethod
    def from_env(cls, given: Mapping[str, str] | None = None) -> "SmtpSettings":
        env = os.environ if given is None else given
        host = env.get("DQFLOW_SMTP_HOST")
        if not host:
            raise DqflowError("DQFLOW_SMTP_HOST is not set; set DQFLOW_SMTP_HOST (and _PORT, _SECURITY, _USERNAME, _PASSWORD, _FROM)",
                              code="no-smtp-host")
        security = env.get("DQFLOW_SMTP_SECURITY", "starttls").lower()
        if security not in ("none", "starttls", "tls"):
            raise DqflowError(f"DQFLOW_SMTP_SECURITY '{security}' must be none, starttls or tls", code="bad-smtp-security", value=security)
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        port = _number(env, "DQFLOW_SMTP_PORT", default_port, int, 1, 65535)
        pool = _number(env, "DQFLOW_SMTP_CONNECTIONS", cls.pool, int, 1, 32)
        timeout = _number(env, "DQFLOW_SMTP_TIMEOUT", cls.timeout, float, 0.1, 600)
        return cls(host, port, security, env.get("DQFLOW_SMTP_USERNAME"), env.get("DQFLOW_SMTP_PASSWORD"),
                   env.get("DQFLOW_SMTP_FROM"), pool=pool, timeout=timeout, connect_timeout=min(timeout, cls.connect_timeout))

    def __repr__(self) -> str:  # never show the password, even in a debugger or a log line
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, username={self.username!r})"


def _number(env, name: str, default, kind, low, high):
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise DqflowError(f"{name} '{text}' must be a number from {low} to {high}", code="bad-number-setting", name=name, value=text,
                          low=str(low), high=str(high))
    return value


class SmtpTransport:
    """aiosmtplib over a small pool of reused connections; classifies every failure."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.connections = settings.pool
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
        await client.connect(timeout=s.connect_timeout)
        if client.is_ehlo_or_helo_needed:  # once per connection: the extensions decide how every message goes
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        client.timeout = None  # from here on each message's whole exchange is bounded at once (`deliver`)
        self.connections_opened += 1
        return client

    async def deliver(self, message: Outgoing, before_data: asyncio.Future | None = None) -> Outcome:
        """Send one message. `before_data`, when given, is awaited once the server has taken the
        envelope and before the content goes: the outbox finishes recording the previous message
        there, so that it is on record before this one can be accepted."""
        try:
            client = await self._connection()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            return Outcome("retry", f"cannot connect to {self.settings.host}:{self.settings.port}: {_describe(exc)}", connection=True)
        try:
            async with asyncio.timeout(self.settings.timeout):  # one timer a message, not one a reply
                await _transaction(client, message, before_data)
        except TimeoutError:  # the server stalled: what it makes of the half-sent message is unknown
            client.close()
            return Outcome("retry", f"no answer from {self.settings.host}:{self.settings.port} "
                                    f"within {self.settings.timeout:g} s", connection=True)
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
            return Outcome("retry" if 400 <= exc.code < 500 else "dead", f"{exc.code} {exc.message}", connection=exc.code == 421)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await _close(client)
            return Outcome("retry", _describe(exc), connection=True)
        self.idle.append(client)
        return Outcome("sent", f"{self.settings.host}:{self.settings.port}")

    async def send(self, messages: list[Outgoing]) -> list[Outcome]:
        return await send_all(self, messages)

    async def close(self) -> None:
        while self.idle:
            await _close(self.idle.pop())


async def send_all(transport, messages: list[Outgoing]) -> list[Outcome]:
    """Every message over at most `transport.connections` connections at once, outcomes in order."""
    queue = iter(enumerate(messages))  # shared by the workers: each takes the next message
    outcomes: list[Outcome | None] = [None] * len(messages)

    async def worker() -> None:
        for index, message in queue:
            outcomes[index] = await transport.deliver(message)

    await asyncio.gather(*(worker() for _ in range(min(transport.connections, len(messages)) or 1)))
    return [o for o in outcomes if o is not None]


async def _transaction(client: aiosmtplib.SMTP, message: Outgoing, before_data: asyncio.Future | None) -> None:
    """MAIL, RCPT and DATA for one message, raising what aiosmtplib's `sendmail` raises and
    resetting the envelope after a refusal as it does, without the work it repeats for every
    message: the addresses are checked and quoted once per address, and the size is counted
    without copying the message."""
    eight_bit = client.supports_extension("8BITMIME")
    data = message.as_bytes(seven_bit=not eight_bit)
    options = [b"BODY=8BITMIME"] if eight_bit else []
    if client.supports_extension("size"):  # RFC 1870: octets as sent, each line ending a CRLF
        options.append(b"SIZE=%d" % (len(data) + data.count(b"\n")))
    try:
        reply = await client.execute_command(b"MAIL", b"FROM:" + _quoted(message.sender), *options)
        if reply.code != 250:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, message.sender)
        reply = await client.execute_command(b"RCPT", b"TO:" + _quoted(message.recipient))
        if reply.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, message.recipient)])
        if before_data is not None:
            await before_data
        await _data(client, data)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        try:
            await client.rset()
        except (ConnectionError, aiosmtplib.SMTPResponseException):  # disconnected or refused: the error above says more
            pass
        raise


async def _data(client: aiosmtplib.SMTP, data: bytes) -> None:
    """DATA and the content, as aiosmtplib's `data` sends them. Our messages never hold a CR (headers
    refuse one, bodies are normalized, the calendar is base64), so their lines are made CRLF and
    dot-stuffed by two bytes replacements rather than its two regular-expression passes (94 µs
    against 9.5 µs for a 5.4 KB "stage opened" message); anything else goes through `data` itself."""
    protocol = client.protocol
    if b"\r" in data or protocol is None:
        await client.data(data)
        return
    reply = await client.execute_command(b"DATA")
    if reply.code != 354:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)
    try:
        protocol.write(_dot_stuffed(data))
        reply = await protocol.read_response()  # nothing else is on this connection until it answers
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    if reply.code != 250:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)


def _dot_stuffed(data: bytes) -> bytes:
    """The content as DATA carries it (RFC 5321 4.5.2), for content without a CR: each line ending a
    CRLF, the last one too, a line starting with a period given a second one, and the final period."""
    wire = data.replace(b"\n", b"\r\n")
    if not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    wire = wire.replace(b"\n.", b"\n..")
    return (b"." + wire if wire.startswith(b".") else wire) + b".\r\n"


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")  # needs no parsing to be quoted


@lru_cache(maxsize=4096)
def _quoted(address: str) -> bytes:
    """`<address>` for MAIL and RCPT; ValueError for an address that cannot be sent safely.
    A plain address (every roster's, in practice) is taken as it is: parsing it as a header
    would cost more than its whole exchange with the server."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return b"<" + address.encode("ascii") + b">"
    return quote_address(address).encode("ascii")


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=5)
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
        client.close()


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}".strip().rstrip(":")
