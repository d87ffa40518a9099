#!/usr/bin/env python3
"""A burst of wrong passwords at /signin against a running `dqflow serve`, and what it does to everyone else.

    .venv/bin/python benchmarks/signin.py [--burst 600] [--python PATH] [--db URL]

Loads the Tomsk campaign into a fresh SQLite file (or the PostgreSQL database --db names, emptied first),
sets the coordinator's password and starts `dqflow serve` with the interpreter --python (default: this one;
give another checkout's venv to measure the code before a change). Then, quiet first and during a burst of
--burst concurrent wrong-password POSTs from 127.0.0.1: the latency of a ДОУ's hand-in (its page, then the
form posted) from another address (127.0.0.2) and of a CLI `submit` (another ДОУ each time); after the burst,
whether a ДОУ's page still opens from the burst's own address (a school's NAT, a proxy). Prints how many guesses had their password checked (403),
how many were refused (429) and how many failed (5xx, or no answer), and the server's log lines about a
locked database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOMSK = ROOT / "workflows" / "tomsk-2021.yaml"
PASSWORD = "пароль координатора"
NOW = "2021-11-25 10:00"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Bench:
    def __init__(self, python: str, db: str, base: str):
        self.python, self.db, self.base = python, db, base
        self.env = {**os.environ, "DQFLOW_BASE_URL": base}
        self.paths: dict[str, str] = {}

    def dq(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, "-m", "dqflow", "--db", self.db, *args], input=input, capture_output=True,
                              text=True, env=self.env, cwd=tempfile.gettempdir())

    def ok(self, *args: str, input: str | None = None) -> str:
        done = self.dq(*args, input=input)
        if done.returncode != 0:
            raise SystemExit(f"dqflow {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    async def hand_in(self, client: httpx.AsyncClient, institution: str) -> tuple[float, int]:
        """The ДОУ opens its page and hands in: the time of both, as the person waits for them."""
        path = self.paths[institution]
        started = time.perf_counter()
        page = await client.get(path)
        if page.status_code != 200:  # refused (the code before this change: 429 for an address a burst came from)
            return time.perf_counter() - started, page.status_code
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        done = await client.post(path, data={"csrf": token, "stage": "fill-form", "link": f"https://dou{institution}.example.org/a"})
        return time.perf_counter() - started, done.status_code

    async def submit(self, institution: str) -> tuple[float, int]:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            self.python, "-m", "dqflow", "--db", self.db, "submit", institution, "--stage", "fill-form", "--link", "https://example.org/materials",
            "--now", NOW,
            env=self.env, cwd=tempfile.gettempdir(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        code = await process.wait()
        return time.perf_counter() - started, code


async def guess(client: httpx.AsyncClient, token: str) -> int:
    try:
        return (await client.post("/signin", data={"csrf": token, "password": "не тот пароль"})).status_code
    except httpx.HTTPError:
        return 0  # no answer


async def guesser(base: str, burst: int) -> None:
    """The burst, in a process of its own (so the latencies measured are not this client's own queueing)."""
    limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/signin")).text)[1]
        started = time.perf_counter()
        print("started", flush=True)
        answers = await asyncio.gather(*(guess(client, token) for _ in range(burst)))
        print(json.dumps({"answers": answers, "seconds": time.perf_counter() - started}), flush=True)


async def measure(bench: Bench, burst: int) -> None:
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")  # someone else: not the burst's address
    async with httpx.AsyncClient(base_url=bench.base, timeout=300, transport=other) as client:
        quiet_hand_in = await bench.hand_in(client, "2")
        quiet_submit = await bench.submit("5")
        print(f"quiet:  hand-in {quiet_hand_in[0] * 1000:7.0f} ms (HTTP {quiet_hand_in[1]}), "
              f"CLI submit {quiet_submit[0] * 1000:7.0f} ms (exit {quiet_submit[1]})")
        burster = await asyncio.create_subprocess_exec(sys.executable, __file__, "--guesser", bench.base, "--burst", str(burst),
                                                       stdout=asyncio.subprocess.PIPE)
        assert burster.stdout is not None
        await burster.stdout.readline()  # "started"
        await asyncio.sleep(0.5)  # the burst is under way
        during = await asyncio.gather(bench.hand_in(client, "4"), bench.submit("6"))
        result = json.loads(await burster.stdout.readline())
        await burster.wait()
    async with httpx.AsyncClient(base_url=bench.base, timeout=300) as same:
        same_address = (await same.get(bench.paths["2"])).status_code
    (hand_in, hand_in_status), (submit, submit_code) = during
    print(f"burst:  hand-in {hand_in * 1000:7.0f} ms (HTTP {hand_in_status}), CLI submit {submit * 1000:7.0f} ms (exit {submit_code})")
    answers = result["answers"]
    checked, refused = answers.count(403), answers.count(429)
    print(f"guesses: {burst} in {result['seconds']:.1f} s: {checked} checked (403), {refused} refused (429), "
          f"{burst - checked - refused} failed ({sorted({a for a in answers if a not in (403, 429)})})")
    print(f"after:  a ДОУ's page from the burst's address: HTTP {same_address}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose dqflow serves")
    parser.add_argument("--db", help="a PostgreSQL URL to use (its tables are dropped first); default: a fresh SQLite file")
    parser.add_argument("--guesser", metavar="BASE", help=argparse.SUPPRESS)  # the burst's own process
    args = parser.parse_args()
    if args.guesser:
        asyncio.run(guesser(args.guesser, args.burst))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'signin.db'}"
        if args.db:
            from sqlalchemy import create_engine, text

            engine = create_engine(args.db)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        port = free_port()
        bench = Bench(os.path.abspath(args.python), db, f"http://127.0.0.1:{port}")
        bench.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
        bench.ok("link", "password", "--stdin", input=PASSWORD + "\n")
        bench.paths = {i: bench.ok("link", "show", i).strip().removeprefix(bench.base) for i in ("2", "4")}
        log = Path(tmp) / "serve.log"
        with log.open("w") as written:
            server = subprocess.Popen([bench.python, "-m", "dqflow", "--db", db, "serve", "--port", str(port), "--now", NOW],
                                      stdout=written, stderr=written, env=bench.env, cwd=tmp)
        try:
            for _ in range(100):
                try:
                    httpx.get(bench.base + "/board", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            asyncio.run(measure(bench, args.burst))
        finally:
            server.terminate()
            server.wait(timeout=30)
        locked = log.read_text().count("database is locked")
        print(f"server log: {locked} line(s) saying «database is locked»")


if __name__ == "__main__":
    main()
