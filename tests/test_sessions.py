"""The coordinator's sessions and the sign-in limit live in the database: any worker answers any request.

In process (both backends): signing out, a new password and `link coordinator --revoke-sessions` each end
every session at once; a password attempt is reserved before it is hashed, per address and against a global
ceiling; a burst at /signin refuses nobody's personal page. Across processes (PostgreSQL): two real
`dqflow serve` on one database, signed in on one, acting on the other, signed out on the first and refused
on the second, the limit holding across both; and `serve --workers 2`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import TOMSK, Cli
from sqlalchemy import func
from sqlmodel import select
from test_web import Portal

from dqflow import store
from dqflow.access import sessions
from dqflow.store.tables import AttemptRow, AuditRow, SessionRow

PASSWORD = "пароль координатора"
LIMIT = sessions.LIMITS[sessions.SIGNIN]


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def sign_in(client, password: str = PASSWORD):
    return client.post("/signin", data={"csrf": csrf(client.get("/signin").text), "password": password}, follow_redirects=False)


def sign_out(client) -> None:
    out = client.post("/signout", data={"csrf": csrf(client.get("/coordinator").text)}, follow_redirects=False)
    assert out.status_code == 303, out.text


@pytest.fixture
def portal(tomsk: Cli, db_url: str):
    tomsk.ok("link", "password", "--stdin", input=PASSWORD + "\n")
    made = Portal(db_url)
    yield made
    made.db.dispose()


def count(db, table, *where) -> int:
    with store.dry_run(db) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


# -- in process, on either backend -----------------------------------------------------------


def test_signing_out_ends_the_session_even_for_a_copied_cookie(portal: Portal):
    assert sign_in(portal.client).status_code == 303
    cookie = dict(portal.client.cookies)
    assert portal.client.get("/coordinator").status_code == 200
    sign_out(portal.client)
    portal.client.cookies.update(cookie)  # the cookie kept (a copy, another tab): still signed, no longer a session
    refused = portal.client.get("/coordinator")
    assert refused.status_code == 403 and "Войдите" in refused.text
    assert count(portal.db, SessionRow, SessionRow.revoked_at.is_(None)) == 0


@pytest.mark.parametrize("ending", [["link", "password", "--stdin"], ["link", "coordinator", "--revoke-sessions"]])
def test_a_new_password_or_revoke_sessions_ends_every_session(portal: Portal, tomsk: Cli, ending: list[str]):
    other = Portal(tomsk.db_url)
    try:
        for client in (portal.client, other.client):
            assert sign_in(client).status_code == 303 and client.get("/coordinator").status_code == 200
        said = tomsk.ok(*ending, input="новый пароль координатора\n")
        assert ending[-1] != "--revoke-sessions" or "Сеансы координатора завершены: 2" in said
        assert portal.client.get("/coordinator").status_code == 403 and other.client.get("/coordinator").status_code == 403
        with store.dry_run(portal.db) as session:
            ended = session.exec(select(AuditRow.detail, AuditRow.actor).where(AuditRow.action == "sessions-end")).all()
        assert [(json.loads(detail)["why"], actor) for detail, actor in ended] == \
            [("password" if "password" in ending else "revoke", "coordinator:cli")]
    finally:
        other.db.dispose()


def test_the_sign_in_limit_is_reserved_before_the_hash_and_forgotten_on_success(portal: Portal):
    assert sign_in(portal.client).status_code == 303  # a success leaves no attempt behind
    assert count(portal.db, AttemptRow) == 0
    answers = [sign_in(portal.client, "не тот пароль").status_code for _ in range(LIMIT.per_address + 3)]
    assert answers == [403] * LIMIT.per_address + [429] * 3
    refused = sign_in(portal.client)  # even the right password: the address is over its limit for the window
    assert refused.status_code == 429 and "dqflow link coordinator" in refused.text and refused.headers["retry-after"] == "600"
    assert count(portal.db, AttemptRow) == LIMIT.per_address
    # the limit is the sign-in's: the same address's personal pages answer as ever
    assert portal.client.get(portal.path("institution", "4")).status_code == 200
    assert portal.client.get(portal.path("expert", "e15")).status_code == 200


def test_the_global_ceiling_holds_against_many_addresses_and_old_attempts_age_out(portal: Portal):
    now = portal.app.state.portal.wall()
    with store.transaction(portal.db) as session:  # guesses from many addresses, under each one's own limit
        session.add_all([AttemptRow(campaign_id="tomsk-2021", bucket="signin", address=f"10.0.{n // 200}.{n % 200}", at=now)
                         for n in range(LIMIT.overall)])
    assert sign_in(portal.client).status_code == 429
    assert portal.client.get(portal.path("institution", "4")).status_code == 200
    later = now + LIMIT.window + timedelta(seconds=1)
    assert sessions.reserve(portal.db, "tomsk-2021", sessions.SIGNIN, "10.9.9.9", later) is not None
    assert count(portal.db, AttemptRow) == 1  # the old ones pruned as the new one came


# -- across processes, on PostgreSQL -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(db_url: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "dqflow", "--db", db_url, "serve", "--port", str(port),
                                "--now", "2021-11-25 10:00", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "DQFLOW_BASE_URL": f"http://127.0.0.1:{port}"})
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(base + "/board", timeout=2)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read())
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"dqflow serve did not answer on {base}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def pg_portal(pg_url: str):
    dq = Cli(pg_url)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("link", "password", "--stdin", input=PASSWORD + "\n")
    return dq


def test_two_workers_on_postgresql_share_sessions_and_the_limit(pg_portal: Cli, pg_url: str):
    (first, one), (second, two) = start(pg_url), start(pg_url)
    try:
        a = httpx.Client(base_url=one)
        assert sign_in(a).status_code == 303
        b = httpx.Client(base_url=two, cookies=a.cookies)  # the same browser, sent to the other worker
        page = b.get("/coordinator/dou/4")
        assert page.status_code == 200
        done = b.post("/coordinator/dou/4", data={"csrf": csrf(page.text), "action": "extend", "stage": "fill-form",
                                                  "until": "2021-12-10", "reason": "карантин"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        assert next(r for r in pg_portal.json("history", "4") if r["action"] == "extend")["by"] == "coordinator:web"
        sign_out(a)
        assert b.get("/coordinator").status_code == 403  # signed out on the first: refused on the second

        guesses = 4 * LIMIT.per_address  # concurrent wrong passwords, split over both workers

        def guess(n: int) -> int:
            with httpx.Client(base_url=(one, two)[n % 2]) as client:
                return sign_in(client, "не тот пароль").status_code

        with ThreadPoolExecutor(guesses) as pool:
            answers = list(pool.map(guess, range(guesses)))
        assert set(answers) <= {403, 429}
        assert answers.count(403) <= LIMIT.per_address and answers.count(429) >= guesses - LIMIT.per_address
        assert httpx.get(one + "/board").status_code == 200
    finally:
        stop(first)
        stop(second)


def test_serve_with_workers_on_postgresql(pg_portal: Cli, pg_url: str):
    process, base = start(pg_url, "--workers", "2")
    try:
        clients = [httpx.Client(base_url=base, headers={"Connection": "close"}) for _ in range(2)]
        assert sign_in(clients[0]).status_code == 303
        clients[1].cookies = clients[0].cookies
        assert all(clients[1].get("/coordinator").status_code == 200 for _ in range(6))  # whichever worker answers
        sign_out(clients[0])
        assert all(clients[1].get("/coordinator").status_code == 403 for _ in range(6))
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")  # Linux: the workers are processes of their own
        if children.exists():
            assert len(children.read_text().split()) >= 2
    finally:
        stop(process)


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_addresses_count_only_from_a_named_proxy(tmp_path: Path, trusted: bool):
    db = f"sqlite:///{tmp_path / 'dqflow.db'}"
    dq = Cli(db)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("link", "password", "--stdin", input=PASSWORD + "\n")
    process, base = start(db, *(["--forwarded-allow-ips", "127.0.0.1"] if trusted else []))
    try:
        with httpx.Client(base_url=base) as client:
            page = client.get("/signin")
            answers = [client.post("/signin", data={"csrf": csrf(page.text), "password": "не тот пароль"},
                                   headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
                       for n in range(LIMIT.per_address + 5)]
    finally:
        stop(process)
    # untrusted: the header is ignored, every guess is 127.0.0.1's; trusted: each address has its own count
    assert answers == ([403] * len(answers) if trusted else [403] * LIMIT.per_address + [429] * 5)
