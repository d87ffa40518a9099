#!/usr/bin/env python3
"""The monitoring form at national scale, in-process: the ДОУ's form page, a form read, a draft saved, a hand-in.

    .venv/bin/python benchmarks/form.py [--sizes 1000 50000] [--indicators 30] [--sample 100] [--db URL] [--json PATH]

For each size: the Tomsk schedule for N ДОУ (`roster.py`) with a form of --indicators indicators (spread over the five
areas) on its fill, refill and final fix; loaded, then the form tables filled set-based (INSERT … SELECT from the
progress rows and a table of the indicators, one statement per stage and table, no acts) as a finished campaign would
hold them: every ДОУ's fill and refill versions and its final fix (one link per indicator) — 3 × N × indicators
entries and as many links (4.5 million each at 50,000 ДОУ × 30) — except for --sample ДОУ, whose final fix is left to
measure. At 16.12.2021 10:00 (the final fix open) each sampled ДОУ, one after another, in its own transaction:

- page: GET of the ДОУ's personal page (its form, the refill's version shown) through the portal's ASGI app,
  in-process (Starlette's TestClient: no server, no network);
- show: `form.show_form` (what `dqflow form show` asks);
- first save: `form.save` of one indicator (copies the refill's version in: the lazy copy),
- save: `form.save` of another indicator,
- hand-in: `engine.submit` of the final fix (reconcile first, then the form checked and the ledger written),

beside two floors measured in the same loop: a transaction running `SELECT 1` (for the in-process operations), and
a bare Starlette page of the same size through the same TestClient (for the page). Prints p50/p95 in ms and the SQL
statements of each operation per size, and the load average. Target: flat between 1,000 and 50,000 (the same
statements, the same p50 within the load's noise).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Column, MetaData, String, Table, event, insert, literal, select, text, true

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from roster import campaign_file  # noqa: E402

from dqflow import engine, store  # noqa: E402
from dqflow.calendar import parse_local  # noqa: E402
from dqflow.campaign import spec  # noqa: E402
from dqflow.engine import form  # noqa: E402
from dqflow.store import FormEntryRow, FormEvidenceRow, ProgressRow, table  # noqa: E402

FORM_STAGES = ("fill-form", "refill", "final-fix")


def formed(folder: Path, n: int, indicators: int) -> Path:
    path = campaign_file(folder, n)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    per = max(1, indicators // len(data["areas"]))
    for number, area in enumerate(data["areas"], 1):
        area["indicators"] = [{"id": f"{number}.{k}", "title": f"Показатель {number}.{k}"} for k in range(1, per + 1)]
    for stage in data["stages"]:
        if stage["id"] in FORM_STAGES:
            stage["form"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def fill(db, campaign: spec.Campaign, sample: set[str], now) -> int:
    """Every ДОУ's versions, set-based: per stage one INSERT … SELECT of entries and one of links, from the stage's
    progress rows crossed with a table of the indicators (`bench_indicator`, made here). Returns the entries written."""
    meta = MetaData()
    indicators = Table("bench_indicator", meta, Column("id", String, primary_key=True))
    meta.create_all(db)
    entry, evidence, progress = table(FormEntryRow), table(FormEvidenceRow), table(ProgressRow)
    p, i = progress.c, indicators.c
    written = 0
    with store.transaction(db) as session:
        session.execute(insert(indicators), [{"id": ind} for ind in campaign.indicators])
        for stage in FORM_STAGES:
            rows = (select().select_from(progress.join(indicators, true()))
                    .where(p.campaign_id == campaign.id, p.stage_id == stage))
            if stage == "final-fix":
                rows = rows.where(p.institution_id.not_in(sorted(sample)))
            session.execute(insert(entry).from_select(
                ["campaign_id", "institution_id", "stage_id", "indicator_id", "level", "comment", "updated_at"],
                rows.add_columns(p.campaign_id, p.institution_id, p.stage_id, i.id, literal("2"), literal(None, String),
                                 literal(now, entry.c.updated_at.type))))
            session.execute(insert(evidence).from_select(
                ["campaign_id", "institution_id", "stage_id", "indicator_id", "position", "url", "title"],
                rows.add_columns(p.campaign_id, p.institution_id, p.stage_id, i.id, literal(0),
                                 literal("https://dou") + p.institution_id + literal(f".example.org/{stage}/") + i.id,
                                 literal(None, String))))
        written = session.execute(select(text("count(*)")).select_from(entry)).scalar_one()
    indicators.drop(db)
    return written


def counted(db):
    """A list every SQL statement `db` sends is appended to (the tests' `counting_statements`)."""
    seen: list[str] = []
    event.listen(db, "before_cursor_execute", lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def floor_app(size: int):
    """A bare Starlette page of `size` bytes: what any page served through the same client costs."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    body = "<!doctype html><html><body>" + "x" * max(0, size - 42) + "</body></html>"

    async def page(request):
        return HTMLResponse(body)

    return Starlette(routes=[Route("/", page)])


def measure(db_url: str | None, n: int, indicators: int, sample_size: int) -> dict[str, dict[str, float]]:
    import warnings

    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from dqflow.access import links
    from dqflow.calendar import UTC
    from dqflow.web import create_app

    with tempfile.TemporaryDirectory() as folder:
        path = formed(Path(folder), n, indicators)
        campaign = spec.load(path)
        tz = campaign.tz
        url = db_url or f"sqlite:///{Path(folder) / 'form.db'}"
        db = store.connect(url)
        started = time.perf_counter()
        with store.transaction(db) as session:
            engine.load(session, campaign, parse_local("2021-11-10 09:00", tz))
        now = parse_local("2021-12-16 10:00", tz)
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, now)
        rng = random.Random(n)
        sample = set(rng.sample([i.id for i in campaign.institutions], sample_size))
        loaded = time.perf_counter()
        rows = fill(db, campaign, sample, now)
        store.analyze_all(db)
        print(f"  {n} ДОУ: loaded in {loaded - started:.0f} s; {rows:,} entries and as many links written set-based in "
              f"{time.perf_counter() - loaded:.0f} s", flush=True)
        clock = {"now": now}
        portal = TestClient(create_app(db, campaign.id, lambda: clock["now"], lambda: datetime.now(UTC)),
                            base_url="https://portal.example.org")
        with store.dry_run(db) as session:
            paths = {inst: links.links(session, campaign.id).path("institution", inst) for inst in sample}
        size = len(portal.get(paths[min(sample)]).content)
        bare = TestClient(floor_app(size), base_url="https://portal.example.org")
        assert abs(len(bare.get("/").content) - size) < 64
        kinds = ("floor: SELECT 1", "page floor: bare page", "page", "show", "first save", "save", "hand-in")
        times: dict[str, list[float]] = {k: [] for k in kinds}
        statements: dict[str, list[int]] = {k: [] for k in kinds}
        seen = counted(db)
        first, second = list(campaign.indicators)[:2]
        for number, inst in enumerate(sorted(sample)):
            at = now + timedelta(seconds=number)
            clock["now"] = at

            def timed(kind: str, work) -> None:
                del seen[:]
                begin = time.perf_counter()
                work()
                times[kind].append((time.perf_counter() - begin) * 1000)
                statements[kind].append(len(seen))

            def floor() -> None:
                with store.transaction(db) as session:
                    session.execute(text("SELECT 1"))

            def page() -> None:
                response = portal.get(paths[inst])
                assert response.status_code == 200 and 'id="indicator-' in response.text, response.status_code

            def show() -> None:
                with store.dry_run(db) as session:
                    form.show_form(session, campaign.id, inst, "final-fix", at)

            def save(indicator: str) -> None:
                with store.transaction(db) as session:
                    form.save(session, campaign.id, inst, "final-fix", indicator, at, level="3", comment="итог",
                              links=[(f"https://dou{inst}.example.org/final/{indicator}", "итог")])

            def hand_in() -> None:
                with store.transaction(db) as session:
                    engine.submit(session, campaign.id, inst, "final-fix", at)

            timed("floor: SELECT 1", floor)
            timed("page floor: bare page", lambda: bare.get("/"))
            timed("page", page)
            timed("show", show)
            timed("first save", lambda: save(first))
            timed("save", lambda: save(second))
            timed("hand-in", hand_in)
        portal.close()
        bare.close()
        db.dispose()
        return {kind: {"p50": statistics.median(found), "p95": statistics.quantiles(found, n=20)[-1],
                       "statements": max(statements[kind]), "statements_min": min(statements[kind])}
                for kind, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--indicators", type=int, default=30)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--db", help="a PostgreSQL URL to a database whose schema may be dropped (default: a SQLite file per size)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    found = {}
    for n in args.sizes:
        if args.db:
            from sqlalchemy import create_engine

            with create_engine(args.db).begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        found[n] = measure(args.db, n, args.indicators, args.sample)
        for kind, figures in found[n].items():
            spread = "" if figures["statements"] == figures["statements_min"] else f"–{figures['statements']}"
            print(f"{n:>7} ДОУ  {kind:<22} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  "
                  f"statements {figures['statements_min']}{spread}", flush=True)
    if len(found) > 1:
        small, large = found[min(found)], found[max(found)]
        for kind in small:
            print(f"{kind:<22} {max(found)} / {min(found)}: p50 × {large[kind]['p50'] / small[kind]['p50']:.2f}, statements "
                  f"{small[kind]['statements']} → {large[kind]['statements']}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(found, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
