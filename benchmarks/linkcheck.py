"""The link checker's rate (`dqflow.delivery.linkcheck`) against a local server answering each request after 50 ms.

    .venv/bin/python benchmarks/linkcheck.py [N] [HOSTS] [--latency 0.05] [--runs 3]

N links (default 2,000) spread over HOSTS hosts (default 8: 127.0.0.1 … 127.0.0.8, all one server in its own
process, so the checker does not share its interpreter). Measured in the same run, each `--runs` times (best
and median given):

- the bound: what the checker's politeness allows at all, HOSTS × per_host / (latency + host_delay);
- the floor: bare httpx, HEAD of every link, at most `per_host` in flight per host and no rest between requests
  (what any checker of this politeness pays for HTTP alone);
- dqflow: `linkcheck.check` with its default policy (127.0.0.0/8 allowed), every link `ok`;
- dqflow + store: `linkcheck.check_links` writing the results into a fresh SQLite database.

Prints links/s for each, the load average before and after, and the target (at least 200 links/s).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dqflow import store  # noqa: E402
from dqflow.calendar import UTC  # noqa: E402
from dqflow.delivery import linkcheck  # noqa: E402

PORT = 8731
BODY = b"<html><body>materials</body></html>"


def serve(hosts: int, latency: float, ready) -> None:
    """A bare HTTP/1.1 server with keep-alive: every request answered 200 after `latency` seconds."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(latency)
                method = head.split(b" ", 1)[0]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                             + (b"" if method == b"HEAD" else BODY))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, f"127.0.0.{h}", PORT, backlog=1024) for h in range(1, hosts + 1)]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def urls(n: int, hosts: int) -> list[str]:
    return [f"http://127.0.0.{i % hosts + 1}:{PORT}/materials/{i}" for i in range(n)]


async def floor(links: list[str], per_host: int) -> float:
    """Bare httpx: HEAD each link, `per_host` in flight per host."""
    limits: dict[str, asyncio.Semaphore] = {}
    started = time.perf_counter()
    async with httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=256, max_keepalive_connections=256)) as http:
        async def one(url: str) -> int:
            host = url.split("/")[2]
            async with limits.setdefault(host, asyncio.Semaphore(per_host)):
                return (await http.head(url)).status_code

        codes = await asyncio.gather(*(one(u) for u in links))
    assert set(codes) == {200}, set(codes)
    return time.perf_counter() - started


async def dqflow_check(links: list[str], policy: linkcheck.Policy) -> float:
    started = time.perf_counter()
    found = await linkcheck.check(links, policy)
    elapsed = time.perf_counter() - started
    assert {r.state for r in found.values()} == {linkcheck.OK}, {r.detail for r in found.values()}
    return elapsed


async def dqflow_stored(links: list[str], policy: linkcheck.Policy, folder: str) -> float:
    """`check_links` into a fresh database holding one campaign row (the results' foreign key)."""
    from sqlalchemy import text

    db = store.connect(f"sqlite:///{folder}/bench-{time.monotonic_ns()}.db")
    now = datetime.now(UTC).replace(microsecond=0)
    with store.transaction(db) as session:
        session.execute(text("INSERT INTO campaign (id, title, timezone, digest, definition, loaded_at) "
                             "VALUES ('bench', 'bench', 'UTC', '', '{}\n', :now)"), {"now": now.replace(tzinfo=None)})
    found = [linkcheck.Link(str(i), "fill-form", u) for i, u in enumerate(links)]
    started = time.perf_counter()
    report = await linkcheck.check_links(db, "bench", found, now, policy)
    elapsed = time.perf_counter() - started
    assert report.count(linkcheck.OK) == len(links)
    db.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=2000)
    parser.add_argument("hosts", nargs="?", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(args.hosts, args.latency, ready), daemon=True)
    server.start()
    ready.wait(10)
    policy = linkcheck.Policy(allow=linkcheck.allowed_networks("127.0.0.0/8"))
    links = urls(args.n, args.hosts)
    load_before = os.getloadavg()
    bound = args.hosts * policy.per_host / (args.latency + policy.host_delay)
    print(f"{args.n} links over {args.hosts} hosts, {args.latency * 1000:.0f} ms a response; per_host {policy.per_host}, "
          f"host_delay {policy.host_delay * 1000:.0f} ms, concurrency {policy.concurrency}; cores: {os.cpu_count()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"bound (politeness): {bound:.0f} links/s")
    cpu: dict[str, list[float]] = {}
    figures: dict[str, list[float]] = {"floor (bare httpx, HEAD, per_host in flight, no rest)": [], "dqflow check": [],
                                       "dqflow check + store (SQLite)": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            for name, run in zip(figures, (lambda: floor(links, policy.per_host), lambda: dqflow_check(links, policy),
                                           lambda: dqflow_stored(links, policy, folder))):
                started = time.process_time()
                figures[name].append(args.n / asyncio.run(run()))
                cpu.setdefault(name, []).append((time.process_time() - started) / args.n * 1000)
    for name, rates in figures.items():
        print(f"{name}: best {max(rates):.0f} links/s, median {statistics.median(rates):.0f} links/s; "
              f"CPU {min(cpu[name]):.2f} ms a link (so at most {1000 / min(cpu[name]):.0f} links/s on one free core)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    best = max(figures["dqflow check"])
    print(f"target ≥ 200 links/s: {'met' if best >= 200 else 'MISSED'}")
    server.terminate()


if __name__ == "__main__":
    main()
