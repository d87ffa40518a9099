#!/usr/bin/env python3
"""The deadline rush's requests in-process: the portal's CPU per kind of request, without a server or a network.

    .venv/bin/python benchmarks/rushcpu.py --prepared DIR/rush/prepared.db [--actions 1500] [--clients 1] [--seed 1]
        [--mix KIND=W,...] [--json PATH]
    .venv/bin/python benchmarks/rushcpu.py --db postgresql+psycopg://postgres@127.0.0.1:5432/NAME --prepared NAME_prepared …

The portal (`create_app`, as `dqflow serve` makes it: its clock started at 10.12.2021 10:00) over a copy of the rush's
prepared SQLite database (`portal.py --modes rush --folder DIR` keeps it as DIR/rush/prepared.db) or, with --db, over
the PostgreSQL database --db made again from the prepared one (`portal.py --modes rush --db …/NAME` keeps it as the
database NAME_prepared; --db is dropped and made again from it, so nobody may use either meanwhile), asked through httpx's
ASGI transport in one event loop by --clients clients (1: one request at a time, so each request's CPU is its own) doing
--actions of `portal.Rush.MIX`'s actions in all (a ДОУ's page; a hand-in: its page, then its form with 1–2 links; an
expert's page; a review: the page, then a level for every area; the board; the coordinator's home and a ДОУ's card, with
the coordinator's cookie), drawn by --seed as the rush draws them. The kept pages start empty, as in a new `serve`;
--maker runs the kept pages' maker beside (as `serve`'s lifespan does).

Prints, per kind of request, how many, the CPU per request (`time.process_time`: every thread of this process, the
client's share included), the wall time per request (on PostgreSQL: the round trips and the server's work too) and the
SQL statements per request (counted on the portal's engine; exact with one client); and the same for a bare Starlette page of the same size
through the same client (the client's and the ASGI hop's share). Run it with another checkout's interpreter
(`/work/main/.venv/bin/python benchmarks/rushcpu.py …`) for the figures before a change: both on the same rows.
Where the CPU goes: run it under py-spy (`py-spy record -r 500 -f speedscope -o FILE -- PYTHON benchmarks/rushcpu.py …`;
the worker threads' samples too, which cProfile would not see).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from portal import AREAS, CSRF, PASSWORD, RUSH_NOW, Rush, copy_postgres  # noqa: E402

warnings.filterwarnings("ignore")
BASE = "http://portal.test"


class InProcess:
    """The portal over a copy of the prepared database, and what the rush's clients ask of it."""

    def __init__(self, prepared: str, folder: Path, db: str | None = None):
        from sqlalchemy import text

        from dqflow import engine, store
        from dqflow.access import links
        from dqflow.calendar import UTC, parse_local, zone
        from dqflow.web import create_app

        if db:
            copy_postgres(prepared, db)
        else:
            shutil.copyfile(prepared, folder / "rush.db")
        self.db = store.connect(db or f"sqlite:///{folder / 'rush.db'}")
        with self.db.connect() as connection:
            campaign_id = connection.execute(text("SELECT id FROM campaign")).scalar_one()
            institutions = list(connection.execute(text("SELECT id FROM institution WHERE campaign_id = :c ORDER BY id"),
                                                   {"c": campaign_id}).scalars())
            experts = list(connection.execute(text("SELECT id FROM expert WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id}).scalars())
            handed = set(connection.execute(text("SELECT DISTINCT institution_id FROM submission")).scalars())
            pairs = [(i, e) for i, e in connection.execute(text(
                "SELECT institution_id, expert_id FROM assignment WHERE stage_id = 'list2' ORDER BY institution_id, expert_id"))
                if i in handed]
        with store.dry_run(self.db) as session:
            campaign = engine.definition(session, campaign_id)
            found = links.links(session, campaign_id)
        # the clock of `serve --now`: started at the rush's moment, running at the wall clock's pace, to the second
        start, started = parse_local(RUSH_NOW, zone(campaign.timezone)), time.monotonic()
        self.app = create_app(self.db, campaign_id, lambda: start + timedelta(seconds=round(time.monotonic() - started)),
                              lambda: datetime.now(UTC))
        self.institutions = {i: found.path("institution", i) for i in institutions}
        self.experts = {e: found.path("expert", e) for e in experts}
        random.Random(2).shuffle(pairs)
        self.pairs = pairs


class Measured:
    """CPU and wall seconds and SQL statements of each kind of request (exact with one client: one request at a time)."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.sent = 0  # statements sent so far (`count`, on the portal's engine)
        self.trips: dict[str, list[int]] = defaultdict(list)
        self.waited = 0  # PostgreSQL: psycopg's waits for the server so far (`RoundTrips`): BEGIN and ROLLBACK too

    def count(self, *args) -> None:
        self.sent += 1

    async def request(self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs) -> httpx.Response:
        sent, waited, cpu, wall = self.sent, self.waited, time.process_time(), time.perf_counter()
        answer = await client.request(method, path, **kwargs)
        self.trips[kind].append(self.waited - waited)
        self.cpu[kind].append(time.process_time() - cpu)
        self.wall[kind].append(time.perf_counter() - wall)
        self.statements[kind].append(self.sent - sent)
        self.statuses[kind][answer.status_code] += 1
        return answer


def count_round_trips(measured: Measured) -> None:
    """Count the round trips psycopg's connections of this process make (BEGIN, a statement, ROLLBACK), which the
    statement count does not see: each `Connection.wait` whose generator waits for the server (setting a flag waits for
    nothing), and one more when it talks outside a transaction and not in autocommit: psycopg sends BEGIN first, in the
    same wait. A statement's first preparing on a connection is one more, not counted (once per connection)."""
    import psycopg
    from psycopg.pq import TransactionStatus

    wait = psycopg.Connection.wait

    def counted(self, gen, *args, **kwargs):
        begins = not self.autocommit and self.pgconn.transaction_status == TransactionStatus.IDLE
        return wait(self, talking(gen, 2 if begins else 1), *args, **kwargs)

    def talking(gen, trips):
        try:
            value = next(gen)
        except StopIteration as done:  # nothing to wait for: no round trip
            return done.value
        measured.waited += trips  # the generator waits for the socket: it sent the server something
        try:
            while True:
                value = gen.send((yield value))
        except StopIteration as done:
            return done.value

    psycopg.Connection.wait = counted  # type: ignore[method-assign]


class Clients:
    """`Rush`'s actions, in-process."""

    def __init__(self, portal: InProcess, measured: Measured, cookies: httpx.Cookies):
        self.portal, self.measured, self.cookies, self.seq = portal, measured, cookies, 0

    async def get(self, client, kind: str, path: str) -> httpx.Response | None:
        answer = await self.measured.request(client, kind, "GET", path)
        return answer if answer.status_code == 200 else None

    async def dou_page(self, client, signed, rng) -> None:
        await self.get(client, "ДОУ page", self.portal.institutions[rng.choice(list(self.portal.institutions))])

    async def hand_in(self, client, signed, rng) -> None:
        institution = rng.choice(list(self.portal.institutions))
        path = self.portal.institutions[institution]
        page = await self.get(client, "ДОУ page", path)
        if page is None:
            return
        self.seq += 1
        links = [f"https://dou{institution}.example.org/rush/{self.seq}-{k}" for k in range(rng.randint(1, 2))]
        await self.measured.request(client, "hand-in (POST)", "POST", path, headers={"Origin": BASE},
                                    data={"csrf": CSRF.search(page.text)[1], "stage": "refill", "link": links})

    async def expert_page(self, client, signed, rng) -> None:
        await self.get(client, "expert page", self.portal.experts[rng.choice(list(self.portal.experts))])

    async def review(self, client, signed, rng) -> None:
        if not self.portal.pairs:
            return await self.expert_page(client, signed, rng)
        institution, expert = self.portal.pairs.pop()
        page = await self.get(client, "expert page", self.portal.experts[expert])
        if page is None or f'name="institution" value="{institution}"' not in page.text:
            return
        self.seq += 1
        form = {"csrf": CSRF.search(page.text)[1], "stage": "review2", "institution": institution,
                "recommendations": f"Дополнить материалы (rush-review-{self.seq}).",
                **{f"level-{a}": str(rng.randint(1, 4)) for a in AREAS}}
        await self.measured.request(client, "review (POST)", "POST", self.portal.experts[expert], headers={"Origin": BASE}, data=form)

    async def board(self, client, signed, rng) -> None:
        await self.get(client, "board", "/board")

    async def coordinator(self, client, signed, rng) -> None:
        await self.get(signed, "coordinator home", "/coordinator")

    async def card(self, client, signed, rng) -> None:
        await self.get(signed, "coordinator card", f"/coordinator/dou/{rng.choice(list(self.portal.institutions))}")


async def signed_in(app) -> httpx.Cookies:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        token = CSRF.search((await client.get("/signin")).text)[1]
        answer = await client.post("/signin", data={"csrf": token, "password": PASSWORD}, headers={"Origin": BASE})
        if answer.status_code != 303:
            raise SystemExit(f"the coordinator could not sign in: HTTP {answer.status_code}")
        return client.cookies


async def floor(size: int, n: int) -> Measured:
    """A bare Starlette page of `size` bytes through the same client: what the client and the ASGI hop cost."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    body = "x" * size

    async def page(request):
        return HTMLResponse(body)

    app = Starlette(routes=[Route("/", page)])
    measured = Measured()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for _ in range(n):
            await measured.request(client, "bare page", "GET", "/")
    return measured


async def main_async(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="rushcpu-") as folder:
        portal = InProcess(args.prepared, Path(folder), args.db)
        cookies = await signed_in(portal.app)
        maker = portal.app.state.portal.start_making() if args.maker else None  # as `serve`'s lifespan starts it
        measured = Measured()
        sqlalchemy.event.listen(portal.db, "before_cursor_execute", measured.count)
        if args.db:
            count_round_trips(measured)
        clients = Clients(portal, measured, cookies)
        mix = args.mix or Rush.MIX
        kinds, weights = list(mix), list(mix.values())
        transport = httpx.ASGITransport(app=portal.app)
        left = iter(range(args.actions))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client, \
                httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as signed:

            async def loop(k: int) -> None:
                rng = random.Random(args.seed * 1000 + k)
                for _ in left:
                    await getattr(clients, rng.choices(kinds, weights)[0])(client, signed, rng)

            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(loop(k) for k in range(args.clients)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if maker is not None:
            maker.stop()
        portal.db.dispose()
    bare = await floor(9000, 500)
    result = {"actions": args.actions, "clients": args.clients, "db": "postgresql" if args.db else "sqlite", "cpu_s": cpu, "wall_s": wall,
              "requests": sum(len(v) for v in measured.cpu.values()), "kinds": {}}
    print(f"{args.actions} actions by {args.clients} client(s){' beside the maker' if args.maker else ''}: "
          f"{result['requests']} requests, CPU {cpu:.2f} s "
          f"({cpu * 1000 / max(1, result['requests']):.2f} ms a request), wall {wall:.2f} s")
    for kind, group in sorted({**measured.cpu, **{"bare page": bare.cpu["bare page"]}}.items()):
        walls = (bare.wall if kind == "bare page" else measured.wall)[kind]
        statuses = dict((bare.statuses if kind == "bare page" else measured.statuses)[kind])
        statements = measured.statements.get(kind) or [0]
        trips = measured.trips.get(kind) or [0]
        row = {"n": len(group), "cpu_ms_mean": statistics.fmean(group) * 1000, "cpu_ms_median": statistics.median(group) * 1000,
               "wall_ms_mean": statistics.fmean(walls) * 1000, "wall_ms_median": statistics.median(walls) * 1000,
               "statements_mean": statistics.fmean(statements), "statements_max": max(statements), "statuses": statuses}
        if args.db:
            row["round_trips_mean"] = statistics.fmean(trips)
        result["kinds"][kind] = row
        print(f"{kind:<18} {row['n']:5d}  CPU mean {row['cpu_ms_mean']:7.2f} ms  median {row['cpu_ms_median']:7.2f} ms  "
              f"wall mean {row['wall_ms_mean']:7.2f} ms  median {row['wall_ms_median']:7.2f} ms  "
              f"statements {row['statements_mean']:5.2f} (max {row['statements_max']})"
              + (f"  round trips {row['round_trips_mean']:5.2f}" if args.db else "") + f"  {statuses}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", required=True, help="The rush's prepared SQLite database (portal.py's DIR/rush/prepared.db); "
                                                         "with --db, the PostgreSQL database NAME_prepared (portal.py's, of a rush on --db …/NAME).")
    parser.add_argument("--db", help="A PostgreSQL URL: made again from --prepared (dropped first) and served from; default: a copy "
                                     "of the SQLite --prepared.")
    parser.add_argument("--actions", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", type=lambda text: {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))})
    parser.add_argument("--json", type=Path)
    parser.add_argument("--maker", action="store_true", help="Run the kept pages' maker beside the requests, as `serve` does (its "
                        "CPU counts in the whole run's, not in any kind's): a tree that has one (`Portal.start_making`).")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
