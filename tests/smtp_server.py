"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, with scriptable failures.

    server.fail_next(451, 2)          # the next 2 messages get "451" at DATA
    server.refuse("dou4@example.org") # RCPT TO for that address gets 550
    server.drop_next(1)               # the next message: connection reset during DATA
    server.delay = 0.03               # every message takes this long at DATA (a slow server)
    server.messages                   # what was accepted, parsed (policy.default)
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    peer: tuple
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage = field(repr=False)

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]


class RecordingHandler:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.sessions: set[tuple] = set()  # peers that said EHLO/HELO: one per connection
        self.ehlos = 0
        self._fail: list[int] = []  # codes for the next messages, at DATA
        self._drop = 0
        self._refused: dict[str, int] = {}
        self.dropped = 0
        self.failed = 0
        self.logins: list[tuple[bytes, bytes]] = []
        self.delay = 0.0

    # -- scripting ----------------------------------------------------------
    def fail_next(self, code: int, n: int = 1) -> None:
        with self.lock:
            self._fail += [code] * n

    def drop_next(self, n: int = 1) -> None:
        with self.lock:
            self._drop += n

    def refuse(self, address: str, code: int = 550) -> None:
        with self.lock:
            self._refused[address.lower()] = code

    # -- aiosmtpd hooks -----------------------------------------------------
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.ehlos += 1
            self.sessions.add(session.peer)
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with self.lock:
            self.ehlos += 1
            self.sessions.add(session.peer)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self._refused.get(address.lower())
        if code:
            return f"{code} 5.1.1 <{address}>: recipient rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self._drop:
                self._drop -= 1
                self.dropped += 1
                drop = True
            else:
                drop = False
            code = None if drop or not self._fail else self._fail.pop(0)
            if code:
                self.failed += 1
        if drop:
            server.transport.abort()
            return "421 gone"  # never reaches the client: the connection is already reset
        if code:
            return f"{code} {'4.3.0 try again later' if code < 500 else '5.7.1 message rejected'}"
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append(Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return "250 Message accepted for delivery"

    # -- reading ------------------------------------------------------------
    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def recipients(self) -> list[str]:
        return sorted(r for m in self.messages for r in m.rcpt_tos)


class SmtpServer:
    """aiosmtpd in a thread; start/stop may be repeated on the same port."""

    def __init__(self, port: int | None = None, *, password: str | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.password = password
        self.controller: Controller | None = None

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.handler.logins.append((auth_data.login, auth_data.password))
            if auth_data.password == self.password.encode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> "SmtpServer":
        kwargs = {}
        if self.password is not None:
            kwargs = dict(authenticator=self._authenticator, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    # convenience
    def __getattr__(self, name):
        return getattr(self.handler, name)

    def __setattr__(self, name, value):
        if name == "delay":
            self.handler.delay = value
        else:
            super().__setattr__(name, value)

    def env(self, **extra: str) -> dict[str, str]:
        return {"DQFLOW_SMTP_HOST": self.host, "DQFLOW_SMTP_PORT": str(self.port), "DQFLOW_SMTP_SECURITY": "none",
                "DQFLOW_SMTP_FROM": "monitoring@imc.example.org", **extra}

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.handler.messages) >= count:
                return True
            time.sleep(0.05)
        return len(self.handler.messages) >= count


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
