#!/usr/bin/env python3
"""The portal as people use it, against a running `dqflow serve` (whole processes, start-up included).

    .venv/bin/python benchmarks/portal.py [--modes floor,scale,rush] [--seconds 15] [--clients 50]
        [--sizes 1000 50000] [--rush-size 2000] [--burst 600] [--mix KIND=W,...] [--prepared FILE|NAME] [--no-daemon]
        [--workers N [N ...]] [--rounds R] [--think SECONDS] [--python PATH] [--db URL] [--folder DIR] [--json PATH]

Three modes, each against `dqflow serve` started by --python (default: this interpreter; give another checkout's
venv to measure the code before or after a change) on a seeded roster (`roster.py`: the Tomsk schedule, 1–2
experts per ДОУ), with one client (asyncio + httpx, bounded concurrency) and a time limit per measurement:

- floor: a ДОУ's page at 1 and at --clients clients, beside the floor measured in the same run by the same
  client: a bare Starlette page of the same byte size served by --python's `dqflow.web.server.run`, as `serve` serves
  (the same uvicorn options, HTTP parser and event loop). Target: the ДОУ page at ≥ 50 % of the floor's requests/s
  (on SQLite). Roster: the smallest of --sizes, on 25.11.2021.
- scale: one client, p50 of a ДОУ's page, an expert's page (list 1), the coordinator's home (signed in with the
  password) and /board at each of --sizes (loaded, list 1 drawn, 25.11.2021 10:00). Target: the same p50 at
  50,000 as at 1,000.
- rush: the deadline rush on --rush-size ДОУ at 10.12.2021 10:00 (`dqflow simulate --keep-db` up to 08:00 that
  day: `refill` open to its deadline, `review2` open, ~8,000 notices due): --clients clients for --seconds doing
  a mix of ДОУ pages, hand-ins with links, expert pages and reviews with a level for every area (each GET, then
  the form with the page's CSRF token, as a browser posts it), the board and the coordinator's home and ДОУ
  cards; beside it `dqflow run` sends into a loopback aiosmtpd sink in its own process, and a burst of --burst
  wrong passwords hits /signin from another address (127.0.0.2) in its own process. Reports requests/s,
  p50/p99/max per kind and errors by status; afterwards checks that every accepted hand-in's link and every
  accepted review is in the database (and that `dqflow status --json` answers), that the ledger has no duplicate
  key or Message-ID and that the sink got no Message-ID twice. Target: p99 ≤ 500 ms on SQLite and PostgreSQL.

--db postgresql+psycopg://…/NAME runs every mode on that PostgreSQL database (its public schema is dropped and
made again for each roster); by default each roster is a SQLite file. --folder keeps the SQLite rosters of the
floor and scale modes between runs (50,000 ДОУ take a few minutes to prepare), and the rush's database and logs
(its prepared.db: the replayed database, which --prepared FILE copies instead of replaying again, so runs before and
after a change act on the same rows; on PostgreSQL a rush on --db …/NAME keeps it as the database NAME_prepared, which
--prepared NAME_prepared copies). --no-daemon and --burst 0 run the rush without its neighbours; --mix
hand_in=1 (kinds of `Rush.MIX`, weights) runs other kinds and weights. The servers' CPU per answer is given beside
requests/s: on a shared machine it moves less. Prints one line per figure; --json writes them all.

The rush's server is `dqflow serve --workers N` (--workers 1 2: one rush each, in turn, --rounds times, every run from the
same prepared rows, and a table of the runs at the end: a pair run minutes apart shares the machine's load of the moment).
Beside each rush: the CPU of the server's processes (a supervisor and its workers), of this process (the load
generator: it shares the machine with what it measures: its clients each speak HTTP/1.1 over their own connection by
hand, `Lean`, ~0.4 ms of CPU a request against httpx's ~3.5 ms, which `--client httpx` keeps), of the daemon and of
the burst, and how busy the whole machine was, in cores. The clients never pause by default (a closed loop: the mean
wait is about clients / requests-per-second, Little's law); --think S makes each pause S seconds on average
(exponential) between its actions, as people reading a page do: fewer requests are offered, and the latencies say how
long a person waits rather than how long a queue is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roster import campaign_file  # noqa: E402

PASSWORD = "пароль координатора"
SCALE_LOADED, SCALE_NOW = "2021-11-18 09:00", "2021-11-25 10:00"  # fill-form open, list 1 drawn (at 25.11 00:00)
RUSH_PREPARED, RUSH_NOW = "2021-12-10T08:00", "2021-12-10 10:00"  # refill open (due 12.12), review2 open (due 14.12)
AREAS = ["conditions", "guidelines", "parents", "health", "special-needs"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
figures: dict[str, object] = {}
no_answer: Counter = Counter()  # why a request got no answer (status 0), by httpx's exception


def say(key: str, line: str, value: object) -> None:
    print(line, flush=True)
    figures[key] = value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, started: float, limit: float = 120) -> float:
    """Seconds from the process's start to its first answer."""
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"the server at {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=5)
            return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"no answer from {url} in {limit:.0f} s")


# -- latencies ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a kind of request got: latencies of the answers as expected, and every status otherwise."""

    seconds: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def add(self, status: int, seconds: float, expected: tuple[int, ...]) -> None:
        self.statuses[status] += 1
        if status in expected:
            self.seconds.append(seconds)

    def summary(self, wall: float) -> dict:
        s = sorted(self.seconds)

        def pick(q: float) -> float:
            return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")

        return {"n": len(s), "per_second": len(s) / wall, "p50_ms": pick(0.5) * 1000, "p99_ms": pick(0.99) * 1000,
                "max_ms": (s[-1] if s else float("nan")) * 1000, "statuses": dict(self.statuses)}


def described(kind: str, summary: dict) -> str:
    errors = {k: v for k, v in summary["statuses"].items() if k not in (200, 303)}
    return (f"{kind:<22} {summary['n']:6d} ok  {summary['per_second']:7.1f}/s  p50 {summary['p50_ms']:7.1f} ms  "
            f"p99 {summary['p99_ms']:7.1f} ms  max {summary['max_ms']:7.1f} ms  errors {errors or 0}")


async def timed(client, method: str, url: str, **kwargs) -> tuple[int, float, httpx.Response | Answer | None]:
    started = time.perf_counter()
    try:
        answer = await client.request(method, url, **kwargs)
        return answer.status_code, time.perf_counter() - started, answer
    except httpx.HTTPError as exc:
        no_answer[type(exc).__name__] += 1
        return 0, time.perf_counter() - started, None  # no answer (status 0)


class Lean:
    """One keep-alive HTTP/1.1 connection of the rush's load generator, asyncio streams and a hand-made request: httpx
    (h11 in pure Python, its pool and cookie jar) cost ~3.5 ms of CPU a request here, as much as the server's answer, so
    a rush on one 2-core machine measured the generator's share as much as the portal's (`--client httpx` keeps it). It
    speaks only what the portal answers with: a status line, headers, a body of Content-Length bytes or chunked."""

    def __init__(self, base: str, cookies: httpx.Cookies | None = None):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        cookie = "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())
        self.fixed = f"Host: {parts.netloc}\r\nUser-Agent: rush\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None, data: dict | None = None) -> "Answer":
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else b""
        head = f"{method} {url} HTTP/1.1\r\n{self.fixed}" + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if data is not None:
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        for attempt in (1, 2):  # a kept connection the server closed meanwhile: once more on a new one
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                assert self.reader is not None
                self.writer.write(head.encode() + b"\r\n" + body)
                return await self._answer(self.reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.close()
                if attempt == 2:
                    raise httpx.TransportError(str(exc)) from exc
        raise AssertionError("unreachable")

    async def _answer(self, reader: asyncio.StreamReader) -> "Answer":
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size + 2))
            await reader.readuntil(b"\r\n")
            body = b"".join(c[:-2] for c in chunks)
        else:
            body = await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def cpu_seconds(pid: int | None) -> float:
    """CPU seconds (user + system) a process and its living descendants have used so far (Linux: /proc/PID/stat;
    `serve --workers N` is a supervisor and N worker processes), or nan."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")
    return own + sum(cpu_seconds(child) for child in children(pid))


def postgres_cpu(db: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `db`'s database (by pid; {} on SQLite): the server's own
    work for the portal, the daemon and the commands, which the portal's CPU does not show."""
    if not db.startswith("postgresql"):
        return {}
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")).scalars().all()
    finally:
        engine.dispose()
    return {pid: cpu_seconds(pid) for pid in pids}


def children(pid: int | None) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except (OSError, ValueError):
            pass
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, every core (/proc/stat): how much of the cores was used."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK"), sum(values[:8]) / os.sysconf("SC_CLK_TCK")


async def hammer(base: str, paths: list[str], clients: int, seconds: float, cookies: httpx.Cookies | None = None,
                 at_least: int = 0, server: int | None = None) -> dict:
    """`clients` loops GETting `paths` in turn for `seconds` (and until `at_least` answers): requests/s and latencies of the
    200s, and with `server` (its process id) the CPU milliseconds it spent per answer: on a machine shared with other
    work that figure moves less than requests/s do."""
    tally, turn = Tally(), iter(range(10**9))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits, cookies=cookies) as client:
        await client.get(paths[0])  # the connection and the process's first rendering, not counted
        stop = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < stop or sum(tally.statuses.values()) < at_least:
                status, took, _ = await timed(client, "GET", paths[next(turn) % len(paths)])
                tally.add(status, took, (200,))

        started, cpu = time.perf_counter(), cpu_seconds(server)
        await asyncio.gather(*(loop() for _ in range(clients)))
        summary = tally.summary(time.perf_counter() - started)
        summary["server_cpu_ms"] = (cpu_seconds(server) - cpu) * 1000 / max(1, summary["n"])
        return summary


# -- a served portal ---------------------------------------------------------------------------------


def settled(pid: int, workers: int, limit: float = 90) -> None:
    """Wait until the supervisor `pid` has its `workers` worker processes and each sits idle (done importing and making
    its portal): the first answer came from one of them, and a worker still starting would be timed as slow."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        found = children(pid)
        if len(found) >= workers:
            before = [cpu_seconds(c) for c in found]
            time.sleep(0.5)
            if all(cpu_seconds(c) - b < 0.05 for c, b in zip(found, before)):
                return
        else:
            time.sleep(0.2)
    print(f"warning: {workers} idle workers not seen in {limit:.0f} s", file=sys.stderr, flush=True)


class Served:
    """A roster in a database, and `dqflow serve` over it."""

    def __init__(self, python: str, db: str, folder: Path):
        self.python, self.db, self.folder = python, db, folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "DQFLOW_BASE_URL": self.base}
        self.server: subprocess.Popen | None = None
        self.started_in = 0.0

    def dq(self, *args: str, input: str | None = None, check: bool = True) -> str:
        done = subprocess.run([self.python, "-m", "dqflow", "--db", self.db, *args], input=input, capture_output=True,
                              text=True, env=self.env, cwd=self.folder)
        if check and done.returncode != 0:
            raise SystemExit(f"dqflow {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
        return done.stdout

    def serve(self, now: str, workers: int = 1) -> None:
        log = (self.folder / "serve.log").open("a")
        started = time.perf_counter()
        self.server = subprocess.Popen([self.python, "-m", "dqflow", "--db", self.db, "serve", "--port", str(self.port), "--now", now,
                                        *(["--workers", str(workers)] if workers > 1 else [])],
                                       stdout=log, stderr=log, env=self.env, cwd=self.folder)
        self.started_in = wait_for(self.base + "/board", self.server, started)
        if workers > 1:
            settled(self.server.pid, workers)


    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=60)
            self.server = None

    def paths(self) -> tuple[dict[str, str], dict[str, str]]:
        """Every ДОУ's and expert's personal path, from the campaign's secret (as a send computes them)."""
        from sqlalchemy import text

        from dqflow import store
        from dqflow.access import links

        engine = store.connect(self.db)
        with engine.connect() as connection:
            campaign_id = connection.execute(text("SELECT id FROM campaign")).scalar_one()
            institutions = [r[0] for r in connection.execute(text("SELECT id FROM institution WHERE campaign_id = :c"), {"c": campaign_id})]
            experts = [r[0] for r in connection.execute(text("SELECT id FROM expert WHERE campaign_id = :c"), {"c": campaign_id})]
        with store.dry_run(engine) as session:
            found = links.links(session, campaign_id)
        engine.dispose()
        return ({i: found.path("institution", i) for i in institutions}, {e: found.path("expert", e) for e in experts})

    def handed_in(self) -> set[str]:
        """The ДОУ with a hand-in (of fill-form or refill): their experts have something to review."""
        return self.distinct("SELECT DISTINCT institution_id FROM submission")

    def sent_ids(self) -> set[str]:
        return self.distinct("SELECT DISTINCT message_id FROM outbox WHERE state = 'sent'")

    def distinct(self, sql: str) -> set[str]:
        """The values of one column of `sql` in the served database."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db)
        with engine.connect() as connection:
            found = {r[0] for r in connection.execute(text(sql))}
        engine.dispose()
        return found

    async def signed_in(self) -> httpx.Cookies:
        """The coordinator's session cookie, by the password at /signin (set by `dqflow link password`)."""
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            token = CSRF.search((await client.get("/signin")).text)[1]
            answer = await client.post("/signin", data={"csrf": token, "password": PASSWORD}, headers={"Origin": self.base})
            if answer.status_code != 303 or not client.cookies:
                raise SystemExit(f"the coordinator could not sign in: HTTP {answer.status_code}")
            return client.cookies


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def copy_postgres(source: str, target: str) -> None:
    """Make the database `target` (a URL) again as a copy of `source` (a URL or a database name on the same server).
    Nobody may be connected to `source` meanwhile."""
    from sqlalchemy import create_engine, text

    server, name = target.rsplit("/", 1)
    origin = source.rsplit("/", 1)[-1]
    engine = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{origin}"'))
    engine.dispose()


def scale_roster(python: str, pg: str | None, folder: Path, n: int) -> str:
    """N ДОУ loaded on 18.11 and ticked at 25.11 00:05 (list 1 drawn); a SQLite file is kept in `folder`."""
    if pg:
        empty_postgres(pg)
        db = pg
    else:
        place = folder / f"scale-{n}"
        place.mkdir(parents=True, exist_ok=True)
        db = f"sqlite:///{place / 'dqflow.db'}"
        if (place / "ready").exists():
            return db
        for stale in place.glob("dqflow.db*"):
            stale.unlink()
    started = time.perf_counter()
    served = Served(python, db, folder)
    path = campaign_file(folder, n, experts=2, seed=1)
    served.dq("load", str(path), "--now", SCALE_LOADED)
    served.dq("tick", "--now", SCALE_NOW)  # up to date, as the daemon keeps it
    served.dq("link", "password", "--stdin", input=PASSWORD + "\n")
    if not pg:
        (folder / f"scale-{n}" / "ready").write_text("")
    print(f"prepared {n:,} ДОУ in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return db


# -- the floor ---------------------------------------------------------------------------------------

# served as `dqflow serve` serves (`web.server.run`: its uvicorn options, HTTP parser and event loop) by --python's dqflow
FLOOR_APP = """
import sys
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from dqflow.web import server
body = "ы" * (int(sys.argv[2]) // 2) + "." * (int(sys.argv[2]) % 2)
async def page(request):
    return HTMLResponse(body)
app = Starlette(routes=[Route("/dou/{subject}/{token}", page)])
server.run(app, "127.0.0.1", int(sys.argv[1]))
"""


async def floor_mode(args, folder: Path) -> None:
    n = min(args.sizes)
    db = scale_roster(args.python, args.db, folder, n)
    served = Served(args.python, db, folder)
    served.serve(SCALE_NOW)
    floor = None
    try:
        institutions, _ = served.paths()
        paths = list(institutions.values())
        random.Random(1).shuffle(paths)
        sizes = [len(httpx.get(served.base + p, timeout=60).content) for p in paths[:20]]
        size = round(statistics.mean(sizes))
        port = free_port()
        started = time.perf_counter()
        floor = subprocess.Popen([args.python, "-c", FLOOR_APP, str(port), str(size)], cwd=folder)  # --python's dqflow, not a checkout's in the cwd
        floor_base = f"http://127.0.0.1:{port}"
        wait_for(floor_base + paths[0], floor, started)
        assert len(httpx.get(floor_base + paths[0]).content) == size
        say("floor.page_bytes", f"floor: a ДОУ page at {n:,} ДОУ is {size:,} bytes (mean of 20; min {min(sizes):,}, max {max(sizes):,}); "
            f"the bare Starlette page the same", size)
        for clients in (1, args.clients):
            bare = await hammer(floor_base, paths, clients, args.seconds, server=floor.pid)
            dou = await hammer(served.base, paths, clients, args.seconds, server=served.server.pid if served.server else None)
            ratio = dou["per_second"] / bare["per_second"]
            say(f"floor.{clients}.bare", described(f"bare page, {clients} cl.", bare) + f"  server CPU {bare['server_cpu_ms']:.2f} ms/answer", bare)
            say(f"floor.{clients}.dou", described(f"ДОУ page, {clients} cl.", dou) + f"  server CPU {dou['server_cpu_ms']:.2f} ms/answer", dou)
            say(f"floor.{clients}.ratio", f"ДОУ page / floor at {clients} client(s): {ratio:.2f} (target ≥ 0.50); by the servers' CPU "
                f"per answer: {bare['server_cpu_ms'] / dou['server_cpu_ms']:.2f}", ratio)
            if clients == 1:  # each of those ДОУ asked once more, in the same state: the page the portal kept for it
                asked = paths[:max(1, dou["n"])]
                again = await hammer(served.base, asked, 1, args.seconds, server=served.server.pid if served.server else None)
                say("floor.1.dou_again", described("ДОУ page again, 1 cl.", again) + f"  server CPU {again['server_cpu_ms']:.2f} ms/answer"
                    f" ({len(asked)} ДОУ asked before, state unchanged)", again)
                say("floor.1.ratio_again", f"ДОУ page asked again / floor at 1 client: {again['per_second'] / bare['per_second']:.2f}; by the "
                    f"servers' CPU per answer: {bare['server_cpu_ms'] / again['server_cpu_ms']:.2f}", again["per_second"] / bare["per_second"])
            if no_answer:
                say(f"floor.{clients}.no_answer", f"requests with no answer (status 0) so far, by why: {dict(no_answer)}", dict(no_answer))
    finally:
        if floor is not None:
            floor.terminate()
            floor.wait(timeout=30)
        served.stop()


# -- p50 against the roster's size -----------------------------------------------------------------


async def scale_mode(args, folder: Path) -> None:
    p50: dict[str, dict[int, float]] = defaultdict(dict)
    for n in args.sizes:
        db = scale_roster(args.python, args.db, folder, n)
        served = Served(args.python, db, folder)
        served.serve(SCALE_NOW)
        try:
            say(f"scale.{n}.serve_started_s", f"scale, {n:,} ДОУ: `dqflow serve` answered {served.started_in:.2f} s after it started",
                served.started_in)
            institutions, experts = served.paths()
            rng = random.Random(n)
            cookies = await served.signed_in()
            pages = {"ДОУ page": rng.sample(sorted(institutions.values()), min(200, len(institutions))),
                     "expert page": rng.sample(sorted(experts.values()), min(200, len(experts))),
                     "coordinator home": ["/coordinator"], "board": ["/board"]}
            for kind, paths in pages.items():
                signed = cookies if kind == "coordinator home" else None  # a ДОУ, an expert, the public carry no session
                async with httpx.AsyncClient(base_url=served.base, timeout=300, cookies=signed) as client:
                    status, first, _ = await timed(client, "GET", paths[0])
                summary = await hammer(served.base, paths[1:] or paths, 1, args.seconds / 4, signed, at_least=7)
                summary["first_ms"] = first * 1000
                p50[kind][n] = summary["p50_ms"]
                say(f"scale.{n}.{kind}", described(f"{kind}, {n:,}", summary) + f"  first {first * 1000:.0f} ms (HTTP {status})", summary)
        finally:
            served.stop()
    small, large = min(args.sizes), max(args.sizes)
    if small != large:
        for kind, by_size in p50.items():
            say(f"scale.ratio.{kind}", f"{kind}: p50 at {large:,} / at {small:,} ДОУ = {by_size[large] / by_size[small]:.2f} (target ≈ 1)",
                by_size[large] / by_size[small])


# -- the deadline rush -----------------------------------------------------------------------------


def sink(port: int, record: str, ready) -> None:
    """A loopback SMTP server that accepts everything and notes each message's Message-ID, one a line."""
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    out = open(record, "a", buffering=1)

    class Note:
        async def handle_DATA(self, server, session, envelope):
            headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
            out.write(f"{headers.get('Message-ID', '')}\n")
            return "250 OK"

    controller = Controller(Note(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


async def guesser(base: str, burst: int) -> None:
    """The burst of wrong passwords, in a process of its own, from 127.0.0.2."""
    limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2", limits=limits)
    async with httpx.AsyncClient(base_url=base, timeout=300, transport=transport) as client:
        token = CSRF.search((await client.get("/signin")).text)[1]
        print("started", flush=True)
        started = time.perf_counter()

        async def guess() -> int:
            try:
                return (await client.post("/signin", data={"csrf": token, "password": "не тот пароль"},
                                          headers={"Origin": base})).status_code
            except httpx.HTTPError:
                return 0

        answers = await asyncio.gather(*(guess() for _ in range(burst)))
        print(json.dumps({"answers": answers, "seconds": time.perf_counter() - started, "cpu_s": time.process_time()}), flush=True)


@dataclass
class Rush:
    base: str
    institutions: dict[str, str]
    experts: dict[str, str]
    pairs: list[tuple[str, str]]  # (ДОУ, expert) of list 2, shuffled: each reviewed at most once in the run
    cookies: httpx.Cookies
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    handed_in: list[tuple[str, str]] = field(default_factory=list)  # (ДОУ, link) accepted
    reviewed: list[tuple[str, str, str]] = field(default_factory=list)  # (ДОУ, expert, marker) accepted
    seq: int = 0
    no_form: int = 0
    lean: bool = True  # --client lean (default) or httpx
    mix: dict[str, int] | None = None  # --mix: other weights than MIX
    think: float = 0.0  # --think: a client's mean pause between its actions (0: never pauses)

    def next(self) -> int:
        self.seq += 1
        return self.seq

    async def get(self, client, kind: str, path: str) -> httpx.Response | None:
        status, took, answer = await timed(client, "GET", path)
        self.tallies[kind].add(status, took, (200,))
        return answer if status == 200 else None

    async def dou_page(self, client, rng, signed=None) -> None:
        await self.get(client, "ДОУ page", self.institutions[rng.choice(list(self.institutions))])

    async def hand_in(self, client, rng, signed=None) -> None:
        institution = rng.choice(list(self.institutions))
        page = await self.get(client, "ДОУ page", self.institutions[institution])
        if page is None:
            return
        links = [f"https://dou{institution}.example.org/rush/{self.next()}" for _ in range(rng.randint(1, 2))]
        status, took, _ = await timed(client, "POST", self.institutions[institution], headers={"Origin": self.base},
                                      data={"csrf": CSRF.search(page.text)[1], "stage": "refill", "link": links})
        self.tallies["hand-in (POST)"].add(status, took, (303,))
        if status == 303:
            self.handed_in.extend((institution, link) for link in links)

    async def expert_page(self, client, rng, signed=None) -> None:
        await self.get(client, "expert page", self.experts[rng.choice(list(self.experts))])

    async def review(self, client, rng, signed=None) -> None:
        if not self.pairs:
            return await self.expert_page(client, rng, signed)
        institution, expert = self.pairs.pop()
        page = await self.get(client, "expert page", self.experts[expert])
        if page is None:
            return
        if f'name="institution" value="{institution}"' not in page.text:  # no form for it on the page (cannot be reviewed)
            self.no_form += 1
            return
        marker = f"rush-review-{self.next()}"
        form = {"csrf": CSRF.search(page.text)[1], "stage": "review2", "institution": institution,
                "recommendations": f"Дополнить материалы ({marker}).", **{f"level-{a}": str(rng.randint(1, 4)) for a in AREAS}}
        status, took, _ = await timed(client, "POST", self.experts[expert], headers={"Origin": self.base}, data=form)
        self.tallies["review (POST)"].add(status, took, (303,))
        if status == 303:
            self.reviewed.append((institution, expert, marker))

    async def board(self, client, rng, signed=None) -> None:
        await self.get(client, "board", "/board")

    async def coordinator(self, client, rng, signed=None) -> None:
        await self.get(signed, "coordinator home", "/coordinator")

    async def card(self, client, rng, signed=None) -> None:
        await self.get(signed, "coordinator card", f"/coordinator/dou/{rng.choice(list(self.institutions))}")

    MIX = {"dou_page": 35, "hand_in": 15, "expert_page": 15, "review": 15, "board": 10, "coordinator": 5, "card": 5}

    async def run(self, clients: int, seconds: float) -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        mix = self.mix or self.MIX
        kinds, weights = list(mix), list(mix.values())
        # the coordinator's pages with the session cookie; everyone else's without (a ДОУ, an expert, the public)
        async with httpx.AsyncClient(base_url=self.base, timeout=120, limits=limits) as shared, \
                httpx.AsyncClient(base_url=self.base, timeout=120, limits=limits, cookies=self.cookies) as shared_signed:
            stop = time.perf_counter() + seconds

            async def loop(k: int) -> None:
                rng = random.Random(k)
                # each client its own connections (lean), or every client the pool of one httpx client
                client, signed = (Lean(self.base), Lean(self.base, self.cookies)) if self.lean else (shared, shared_signed)
                try:
                    while time.perf_counter() < stop:
                        await getattr(self, rng.choices(kinds, weights)[0])(client, rng, signed)
                        if self.think:  # a person reading the page before the next click (not timed)
                            await asyncio.sleep(min(rng.expovariate(1 / self.think), max(0.0, stop - time.perf_counter())))
                finally:
                    if self.lean:
                        client.close()
                        signed.close()

            started = time.perf_counter()
            await asyncio.gather(*(loop(k) for k in range(clients)))
            return time.perf_counter() - started


def rush_roster(args, folder: Path) -> tuple[str, Callable[[], None]]:
    """--rush-size ДОУ replayed by `simulate` up to 10.12.2021 08:00 (or copied from --prepared), and a function that
    makes the rush's database again as that prepared one: every run of a rush, and each of a pair's, starts from the
    same rows."""
    folder.mkdir(parents=True, exist_ok=True)
    path = campaign_file(folder, args.rush_size, experts=2, seed=1)
    if args.db:
        source = str(args.prepared) if args.prepared else args.db.rsplit("/", 1)[1] + "_prepared"

        def again() -> None:  # the database made again from the prepared one (a template), no replay
            copy_postgres(source, args.db)
    else:
        source = str(args.prepared or folder / "prepared.db")

        def again() -> None:  # a copy of the prepared database: the same rows, no replay
            for stale in folder.glob("rush.db*"):
                stale.unlink()
            shutil.copyfile(source, folder / "rush.db")
    db = args.db or f"sqlite:///{folder / 'rush.db'}"
    if args.prepared:
        print(f"the rush's database copied from {args.prepared} before each run", file=sys.stderr, flush=True)
        return db, again
    if args.db:
        empty_postgres(args.db)
    else:
        for stale in folder.glob("rush.db*"):
            stale.unlink()
    started = time.perf_counter()
    served = Served(args.python, db, folder)
    done = subprocess.run([args.python, "-m", "dqflow", "simulate", str(path), "--until", RUSH_PREPARED, "--keep-db", db],
                          capture_output=True, text=True, env=served.env, cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"dqflow simulate failed: {done.stderr.strip()[-800:]}")
    served.dq("link", "password", "--stdin", input=PASSWORD + "\n")
    # the links handed in so far checked as of the rush (none opens here: example.org has no address), as a running
    # daemon would have checked them before: else the rush's daemon spends its first wake-up checking them (up to
    # `LINKS_BUDGET`, longer than a rush) and sends nothing beside the portal
    served.dq("links", "check", "--now", RUSH_NOW)
    if not args.db:  # kept as prepared, for --prepared
        with sqlite3.connect(folder / "rush.db") as connection:
            connection.execute("VACUUM INTO ?", (source,))
    else:  # kept as the database NAME_prepared, for --prepared NAME_prepared
        copy_postgres(args.db, args.db.rsplit("/", 1)[0] + "/" + source)
        print(f"the replayed database kept as {source} (--prepared {source})", file=sys.stderr, flush=True)
    print(f"prepared the rush's {args.rush_size:,} ДОУ in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return db, again


def check_rush(served: Served, rush: Rush, record: Path, sent_before: set[str], key: str = "rush") -> None:
    """Every accepted hand-in and review in the database; no duplicate key or Message-ID in the ledger or the sink."""
    from sqlalchemy import create_engine, text

    engine = create_engine(served.db)
    with engine.connect() as connection:
        stored_links = set()
        for institution, links in connection.execute(text("SELECT institution_id, links FROM submission WHERE stage_id = 'refill'")):
            stored_links.update((institution, link) for link in json.loads(links))
        reviews = {(i, e): r for i, e, r in connection.execute(
            text("SELECT institution_id, expert_id, recommendations FROM review WHERE stage_id = 'review2'"))}
        twice_key = connection.execute(text("SELECT count(*) FROM (SELECT key FROM outbox GROUP BY key HAVING count(*) > 1) t")).scalar_one()
        # One message may carry several letters (rows) to one address: a Message-ID on two addresses is a duplicate
        twice_id = connection.execute(text("SELECT count(*) FROM (SELECT message_id FROM outbox WHERE message_id IS NOT NULL "
                                           "GROUP BY message_id HAVING count(DISTINCT recipient) > 1) t")).scalar_one()
        by_state = dict(connection.execute(text("SELECT state, count(*) FROM outbox GROUP BY state")).all())
        sent_ids = {r[0] for r in connection.execute(text("SELECT DISTINCT message_id FROM outbox WHERE state = 'sent'"))}
        ledger_states = {r[0]: r[1] for r in connection.execute(text("SELECT message_id, state FROM outbox WHERE message_id IS NOT NULL"))}
    engine.dispose()
    lost_links = [x for x in rush.handed_in if x not in stored_links]
    lost_reviews = [x for x in rush.reviewed if (x[0], x[1]) not in reviews or x[2] not in reviews[(x[0], x[1])]]
    say(f"{key}.lost_hand_ins", f"accepted hand-in links: {len(rush.handed_in)}, missing from the database: {len(lost_links)}", len(lost_links))
    say(f"{key}.no_form", f"reviews not posted, the expert's page showing no form for that ДОУ: {rush.no_form}", rush.no_form)
    say(f"{key}.lost_reviews", f"accepted reviews: {len(rush.reviewed)}, missing from the database: {len(lost_reviews)}", len(lost_reviews))
    status = json.loads(served.dq("status", "--json", "--now", RUSH_NOW))
    refill = next((s for s in status["stages"] if s["id"] == "refill"), {})
    say(f"{key}.status_refill", f"`dqflow status --json` answers; refill: {refill.get('counts', refill.get('statuses', '?'))}",
        refill.get("counts", refill.get("statuses")))
    ids = [line.strip() for line in record.read_text().splitlines() if line.strip()]
    twice_sink = sum(1 for _, c in Counter(ids).items() if c > 1)
    new_sent = sent_ids - sent_before
    unrecorded, unreceived = set(ids) - sent_ids, new_sent - set(ids)
    say(f"{key}.ledger", f"ledger: {by_state}, {len(new_sent)} messages sent during the rush; duplicate keys {twice_key}, "
        f"Message-IDs on two addresses {twice_id}", {**by_state, "sent_in_rush": len(new_sent), "dup_keys": twice_key, "dup_message_ids": twice_id})
    say(f"{key}.sink", f"sink: {len(ids)} messages received, {twice_sink} Message-ID(s) received twice, {len(unrecorded)} not sent "
        f"in the ledger, {len(unreceived)} sent in the ledger but not received",
        {"received": len(ids), "twice": twice_sink, "unrecorded": len(unrecorded), "unreceived": len(unreceived)})
    if unrecorded:  # received but not recorded as sent: a stop between the server's 250 and the ledger's commit
        states = Counter(ledger_states.get(i, "no row with this Message-ID") for i in unrecorded)
        say(f"{key}.unrecorded", f"    received but not sent in the ledger, their rows: {dict(states)}", dict(states))


async def rush_mode(args, folder: Path) -> None:
    """One rush per --workers value, --rounds times in turn (1 2 1 2 …: a pair's runs share the machine's load of the
    moment), each from the same prepared rows; a table of the runs at the end when there are several."""
    db, again = rush_roster(args, folder)
    runs = [workers for _ in range(args.rounds) for workers in args.workers]
    rows = []
    for n, workers in enumerate(runs, 1):
        again()
        key = "rush" if len(runs) == 1 else f"rush.{n}"
        if len(runs) > 1:
            print(f"\n-- run {n} of {len(runs)}: `serve --workers {workers}`", flush=True)
        rows.append(await one_rush(args, folder, db, workers, key))
    if len(runs) > 1:
        print(f"\nthe runs ({'closed loop, no pause' if not args.think else f'think time {args.think:g} s (mean)'}; ms; "
              "CPU in cores = CPU-seconds / wall seconds):", flush=True)
        print("| run | workers | requests/s | all p50 / p99 | coordinator home p50 / p99 | ДОУ page p99 | hand-in p99 | server CPU "
              "| load generator CPU | machine busy | load start → end | errors; lost |")
        for n, row in enumerate(rows, 1):
            print(f"| {n} | {row['workers']} | {row['per_second']:.1f} | {row['p50']:.0f} / {row['p99']:.0f} | "
                  f"{row['home_p50']:.0f} / {row['home_p99']:.0f} | {row['page_p99']:.0f} | {row['hand_in_p99']:.0f} | "
                  f"{row['server_cores']:.2f} | {row['client_cores']:.2f} | {row['machine_cores']:.2f} of {os.cpu_count()} | "
                  f"{row['load'][0]:.1f} → {row['load'][1]:.1f} | {row['errors']}; {row['lost']} |", flush=True)
        figures["rush.runs"] = rows


async def one_rush(args, folder: Path, db: str, workers: int, key: str) -> dict:
    """One rush against `serve --workers N` on the database as prepared; its figures under `key`, a row of them back."""
    no_answer.clear()
    served = Served(args.python, db, folder)
    smtp_port, record = free_port(), folder / "sink.txt"
    record.write_text("")
    ready = multiprocessing.Event()
    smtp = multiprocessing.Process(target=sink, args=(smtp_port, str(record), ready), daemon=True)
    smtp.start()
    ready.wait(30)
    daemon = burster = None
    served.serve(RUSH_NOW, workers)
    try:
        institutions, experts = served.paths()
        assignments = json.loads(served.dq("experts", "show", "list2", "--json"))["assignments"]
        with_materials = served.handed_in()
        pairs = [(a["institution"], e) for a in assignments for e in a["experts"] if a["institution"] in with_materials]
        random.Random(2).shuffle(pairs)
        rush = Rush(served.base, institutions, experts, pairs, await served.signed_in(), mix=args.mix, think=args.think,
                    lean=args.client == "lean")
        sent_before = served.sent_ids()
        env = {**served.env, "DQFLOW_SMTP_HOST": "127.0.0.1", "DQFLOW_SMTP_PORT": str(smtp_port), "DQFLOW_SMTP_SECURITY": "none"}
        if not args.no_daemon:
            daemon = subprocess.Popen([args.python, "-m", "dqflow", "--db", db, "run", "-v", "--now", RUSH_NOW],
                                      stdout=(folder / "run.log").open("w"), stderr=subprocess.STDOUT, env=env, cwd=folder)
        if args.burst:
            burster = await asyncio.create_subprocess_exec(sys.executable, __file__, "--guesser", served.base, "--burst", str(args.burst),
                                                           stdout=asyncio.subprocess.PIPE)
            assert burster.stdout is not None
            await burster.stdout.readline()  # "started"
        server_pid = served.server.pid if served.server else None
        load_before = os.getloadavg()[0]
        backends = postgres_cpu(db)
        cpu, client_cpu, busy = cpu_seconds(server_pid), time.process_time(), machine_busy()
        daemon_cpu = cpu_seconds(daemon.pid) if daemon is not None else 0.0
        wall = await rush.run(args.clients, args.seconds)
        cpu, client_cpu = cpu_seconds(server_pid) - cpu, time.process_time() - client_cpu
        pg_cpu = sum(now - backends.get(pid, 0.0) for pid, now in postgres_cpu(db).items() if now == now)  # nan: gone
        daemon_cpu = cpu_seconds(daemon.pid) - daemon_cpu if daemon is not None else 0.0
        busy_after = machine_busy()
        machine = (busy_after[0] - busy[0]) / wall
        load_after = os.getloadavg()[0]
        burst = {"answers": [], "seconds": 0.0, "cpu_s": 0.0}
        if burster is not None:
            assert burster.stdout is not None
            burst = json.loads(await burster.stdout.readline())
            await burster.wait()
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=120)
        total = sum(len(t.seconds) for t in rush.tallies.values())
        everything = Tally([s for t in rush.tallies.values() for s in t.seconds], sum((t.statuses for t in rush.tallies.values()), Counter()))
        loop = "closed loop, no pause" if not args.think else f"each client thinking {args.think:g} s (mean, exponential) between actions"
        say(f"{key}.all", f"rush, {args.rush_size:,} ДОУ, {args.clients} clients ({loop}), `serve --workers {workers}`, {wall:.1f} s: "
            f"{total} answered, {total / wall:.1f} requests/s; the server's CPU {cpu:.1f} s, {cpu * 1000 / max(1, total):.1f} ms an answer",
            {"wall_s": wall, "answered": total, "per_second": total / wall, "server_cpu_s": cpu, "workers": workers,
             "think_s": args.think})
        say(f"{key}.cpu", f"CPU during the rush, in cores (CPU-s / {wall:.1f} s): server {cpu / wall:.2f} ({workers} worker(s)), "
            f"load generator (this process) {client_cpu / wall:.2f}, daemon {daemon_cpu / wall:.2f}, burst process "
            f"{burst.get('cpu_s', 0.0) / wall:.2f} (its whole life); the whole machine {machine:.2f} of {os.cpu_count()} "
            f"(the rest: PostgreSQL, other work); load average {load_before:.1f} → {load_after:.1f}"
            + (f"; PostgreSQL's backends of this database {pg_cpu / wall:.2f}, {pg_cpu * 1000 / max(1, total):.1f} ms an answer"
               if db.startswith("postgresql") else ""),
            {"server": cpu / wall, "postgresql": pg_cpu / wall, "postgresql_ms_an_answer": pg_cpu * 1000 / max(1, total),
             "client": client_cpu / wall, "daemon": daemon_cpu / wall, "burst": burst.get("cpu_s", 0.0) / wall,
             "machine": machine, "load": [load_before, load_after]})
        say(f"{key}.kind.all", described("all", everything.summary(wall)) + "  (target p99 ≤ 500 ms)", everything.summary(wall))
        for kind, tally in sorted(rush.tallies.items()):
            say(f"{key}.kind.{kind}", described(kind, tally.summary(wall)), tally.summary(wall))
        if no_answer:
            say(f"{key}.no_answer", f"requests with no answer (status 0), by why: {dict(no_answer)}", dict(no_answer))
        answers: Counter = Counter(burst["answers"])
        others = {k: v for k, v in answers.items() if k not in (403, 429)} or 0
        if args.burst:
            say(f"{key}.burst", f"sign-in burst from 127.0.0.2: {args.burst} wrong passwords in {burst['seconds']:.1f} s: "
                f"{answers.get(403, 0)} checked (403), {answers.get(429, 0)} refused (429), others {others}",
                {"seconds": burst["seconds"], "answers": dict(answers)})
        served.stop()
        check_rush(served, rush, record, sent_before, key)
        log = (folder / "serve.log").read_text()
        say(f"{key}.server_log", f"server log: {log.count('Traceback')} traceback(s), {log.count('database is locked')} «database is locked»",
            {"tracebacks": log.count("Traceback"), "locked": log.count("database is locked")})
        for line, count in Counter(re.findall(r"^[\w.]+(?:Error|Exception|Exit)\b.*$", log, re.M)).most_common(5):
            print(f"    {count} × {line[:200]}")
        (folder / "serve.log").rename(folder / f"serve-{key}.log")  # the next run's log starts empty
        summary, home = everything.summary(wall), rush.tallies["coordinator home"].summary(wall)
        errors = sum(n for status, n in summary["statuses"].items() if status not in (200, 303))
        return {"workers": workers, "per_second": total / wall, "p50": summary["p50_ms"], "p99": summary["p99_ms"],
                "home_p50": home["p50_ms"], "home_p99": home["p99_ms"], "page_p99": rush.tallies["ДОУ page"].summary(wall)["p99_ms"],
                "hand_in_p99": rush.tallies["hand-in (POST)"].summary(wall)["p99_ms"], "server_cores": cpu / wall, "pg_cores": pg_cpu / wall,
                "client_cores": client_cpu / wall, "machine_cores": machine, "load": [load_before, load_after], "errors": errors,
                "lost": figures.get(f"{key}.lost_hand_ins", 0) + figures.get(f"{key}.lost_reviews", 0)}  # type: ignore[operator]
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=120)
        served.stop()
        smtp.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="floor,scale,rush", help="Comma-separated: floor, scale, rush.")
    parser.add_argument("--seconds", type=float, default=15, help="Time limit of each measurement (scale: of each size's four pages together).")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000], help="Roster sizes of the scale mode (the smallest: the floor's).")
    parser.add_argument("--rush-size", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=600, help="Wrong passwords sent at once during the rush (0: none).")
    parser.add_argument("--mix", type=lambda text: {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))},
                        help="The rush's kinds and weights, like hand_in=1,dou_page=1 (default: "
                             f"{','.join(f'{k}={v}' for k, v in Rush.MIX.items())}).")
    parser.add_argument("--prepared", type=Path, help="SQLite: copy this database (an earlier rush's prepared.db, kept in its --folder) "
                                                     "instead of replaying the roster; PostgreSQL: make --db again from this database "
                                                     "(NAME_prepared, kept by an earlier rush on --db NAME).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="The rush: `dqflow serve --workers N`; several values run one rush each, in turn (with --rounds).")
    parser.add_argument("--rounds", type=int, default=1, help="The rush: run the --workers values this many times in turn (1 2 1 2 …).")
    parser.add_argument("--think", type=float, default=0.0,
                        help="The rush: each client pauses this many seconds on average (exponential) between its actions; "
                             "0 (default): a closed loop that never pauses.")
    parser.add_argument("--client", choices=["lean", "httpx"], default="lean",
                        help="The rush's load generator: lean (asyncio streams, a connection per client: default) or httpx (its pool).")
    parser.add_argument("--no-daemon", action="store_true", help="The rush without its sending daemon (with --burst 0: the portal alone).")
    parser.add_argument("--python", default=sys.executable, help="The interpreter whose dqflow serves (another checkout's venv).")
    parser.add_argument("--db", help="A PostgreSQL URL to use (its public schema is dropped first); default: SQLite files.")
    parser.add_argument("--folder", type=Path, help="Keep the scale mode's SQLite rosters here (reused when present).")
    parser.add_argument("--json", type=Path, help="Write every figure here too.")
    parser.add_argument("--guesser", metavar="BASE", help=argparse.SUPPRESS)  # the burst's own process
    args = parser.parse_args()
    if args.guesser:
        asyncio.run(guesser(args.guesser, args.burst))
        return
    args.python = os.path.abspath(args.python)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-portal-"))
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dqflow-portal-run-"))
    described_run = (f"{os.uname().nodename}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, serving: {args.python}, "
                     f"{'PostgreSQL' if args.db else 'SQLite'}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                     f"load {os.getloadavg()[0]:.1f}")
    say("run", described_run, described_run)
    try:
        for mode in args.modes.split(","):
            runner = {"floor": floor_mode, "scale": scale_mode, "rush": rush_mode}[mode.strip()]
            # the rush's database and logs (serve.log, run.log) kept in --folder when given, else thrown away
            asyncio.run(runner(args, folder if mode.strip() != "rush" else folder / "rush" if args.folder else work))
    finally:
        figures["load_at_end"] = os.getloadavg()[0]
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        shutil.rmtree(work, ignore_errors=True)
        if args.folder is None:  # a roster nobody asked to keep
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
