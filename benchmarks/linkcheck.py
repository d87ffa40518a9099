"""The link checker's rate (`dqflow.delivery.link_checker`) against a local server answering each request after 50 ms.

    .venv/bin/python benchmarks/linkcheck.py [N] [HOSTS] [--latency 0.05] [--runs 3] [--server-processes 1]

N links (default 2,000) spread over HOSTS hosts (default 8: 127.0.0.1 … 127.0.0.8), served by --server-processes
asyncio processes sharing each port (SO_REUSEPORT; default 1), so the checker does not share its interpreter. The
servers' CPU a request is printed: ~0.1 ms, so one process answers ~10,000 requests/s on a free core and is not
what the checker waits for (with 2 processes and 32 hosts the one-pool floor met connection resets: left at 1).
Measured in the same run, each `--runs` times (best and median given):

- the bound: what the checker's politeness allows at all, HOSTS × per_host / (latency + host_delay);
- floor, one pool: bare httpx, HEAD of every link, at most `per_host` in flight per host, no rest, one client (one
  connection pool) for all hosts: what the checker was built on before, and what bounded both;
- floor: the same with a client (a pool of `per_host` connections) per host, the way the checker now holds them;
- dqflow: `link_checker.check` with its default policy (127.0.0.0/8 allowed), every link `ok`;
- dqflow + store: `linkcheck.check_links` writing the results into a fresh SQLite database.

Prints links/s and the client's CPU ms a link for each, the server's CPU ms a request (is the server the limit?),
the load average before and after, and the target (at least 200 links/s).
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
from dqflow.delivery import link_checker, link_policy, linkcheck  # noqa: E402

PORT = 8731
BODY = b"<html><body>materials</body></html>"


def serve(hosts: int, latency: float, ready, cpu, served) -> None:
    """A bare HTTP/1.1 server with keep-alive: every request answered 200 after `latency` seconds. Adds its CPU
    seconds and its requests to `cpu` and `served` (shared with the benchmark) as it goes."""
    import socket

    counted = [0, time.process_time()]

    def account() -> None:
        now = time.process_time()
        with cpu.get_lock():
            cpu.value += now - counted[1]
        with served.get_lock():
            served.value += counted[0]
        counted[:] = [0, now]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(latency)
                method = head.split(b" ", 1)[0]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                             + (b"" if method == b"HEAD" else BODY))
                counted[0] += 1
                if counted[0] >= 100:
                    account()
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, f"127.0.0.{h}", PORT, backlog=1024, reuse_port=True,
                                              family=socket.AF_INET) for h in range(1, hosts + 1)]
        ready.set()

        async def tick() -> None:
            while True:
                await asyncio.sleep(0.5)
                account()

        await asyncio.gather(tick(), *(s.serve_forever() for s in servers))

    asyncio.run(main())


def urls(n: int, hosts: int) -> list[str]:
    return [f"http://127.0.0.{i % hosts + 1}:{PORT}/materials/{i}" for i in range(n)]


async def floor(links: list[str], per_host: int, pool_per_host: bool) -> float:
    """Bare httpx: HEAD each link, `per_host` in flight per host; one client for all hosts, or one per host."""
    limits: dict[str, asyncio.Semaphore] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    shared = httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=256, max_keepalive_connections=256))
    started = time.perf_counter()

    async def one(url: str) -> int:
        host = url.split("/")[2]
        http = shared
        if pool_per_host:
            http = clients.get(host) or clients.setdefault(host, httpx.AsyncClient(
                trust_env=False, limits=httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)))
        async with limits.setdefault(host, asyncio.Semaphore(per_host)):
            return (await http.head(url)).status_code

    codes = await asyncio.gather(*(one(u) for u in links))
    elapsed = time.perf_counter() - started
    for http in [shared, *clients.values()]:
        await http.aclose()
    assert set(codes) == {200}, set(codes)
    return elapsed


async def dqflow_check(links: list[str], policy: link_policy.Policy) -> float:
    started = time.perf_counter()
    found = await link_checker.check(links, policy)
    elapsed = time.perf_counter() - started
    assert {r.state for r in found.values()} == {linkcheck.OK}, {r.detail for r in found.values()}
    return elapsed


async def dqflow_stored(links: list[str], policy: link_policy.Policy, folder: str) -> float:
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
    parser.add_argument("--server-processes", type=int, default=1)
    args = parser.parse_args()
    cpu, served = multiprocessing.Value("d", 0.0), multiprocessing.Value("q", 0)
    servers = []
    for _ in range(args.server_processes):
        ready = multiprocessing.Event()
        process = multiprocessing.Process(target=serve, args=(args.hosts, args.latency, ready, cpu, served), daemon=True)
        process.start()
        ready.wait(10)
        servers.append(process)
    policy = link_policy.Policy(allow=link_policy.allowed_networks("127.0.0.0/8"))
    links = urls(args.n, args.hosts)
    load_before = os.getloadavg()
    bound = args.hosts * policy.per_host / (args.latency + policy.host_delay)
    print(f"{args.n} links over {args.hosts} hosts, {args.latency * 1000:.0f} ms a response; per_host {policy.per_host}, "
          f"host_delay {policy.host_delay * 1000:.0f} ms, concurrency {policy.concurrency}; cores: {os.cpu_count()}; "
          f"server processes: {args.server_processes}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"bound (politeness): {bound:.0f} links/s")
    client_cpu: dict[str, list[float]] = {}
    server_cpu: dict[str, list[float]] = {}
    figures: dict[str, list[float]] = {"floor, one pool (bare httpx, one client for all hosts)": [],
                                       "floor (bare httpx, a client of per_host connections per host)": [],
                                       "dqflow check": [], "dqflow check + store (SQLite)": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            for name, run in zip(figures, (lambda: floor(links, policy.per_host, False), lambda: floor(links, policy.per_host, True),
                                           lambda: dqflow_check(links, policy), lambda: dqflow_stored(links, policy, folder))):
                time.sleep(0.6)  # the servers' CPU is accounted every 0.5 s
                started, server_before, served_before = time.process_time(), cpu.value, served.value
                figures[name].append(args.n / asyncio.run(run()))
                client_cpu.setdefault(name, []).append((time.process_time() - started) / args.n * 1000)
                time.sleep(0.6)
                server_cpu.setdefault(name, []).append((cpu.value - server_before) / max(served.value - served_before, 1) * 1000)
    for name, rates in figures.items():
        print(f"{name}: best {max(rates):.0f} links/s, median {statistics.median(rates):.0f} links/s; "
              f"CPU {min(client_cpu[name]):.2f} ms a link (so at most {1000 / min(client_cpu[name]):.0f} links/s on one free core); "
              f"server CPU {statistics.median(server_cpu[name]):.2f} ms a request")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    best = max(figures["dqflow check"])
    floor_best = max(figures["floor (bare httpx, a client of per_host connections per host)"])
    print(f"dqflow check / floor: {best / floor_best:.2f}; target ≥ 200 links/s: {'met' if best >= 200 else 'MISSED'}")
    for process in servers:
        process.terminate()


if __name__ == "__main__":
    main()
