#!/usr/bin/env python3
"""The monitoring form at national scale, in-process: a ДОУ's form read, a draft saved, a hand-in.

    .venv/bin/python benchmarks/form.py [--sizes 1000 50000] [--indicators 30] [--sample 100] [--db URL] [--json PATH]

For each size: the Tomsk schedule for N ДОУ (`roster.py`) with a form of --indicators indicators (spread over the five
areas) on its fill, refill and final fix; loaded, then the form tables filled set-based as a finished campaign would
hold them: every ДОУ's fill and refill versions and its final fix (one link per indicator) — 3 × N × indicators entries
and as many links (4.5 million each at 50,000 ДОУ × 30) — except for --sample ДОУ, whose final fix is left to measure.
At 16.12.2021 10:00 (the final fix open) each sampled ДОУ, one after another, in its own transaction:

- show: `form.show_form` (the final fix not started: the refill's version shown),
- first save: `form.save` of one indicator (copies the refill's version in: the lazy copy),
- save: `form.save` of another indicator,
- hand-in: `engine.submit` of the final fix (reconcile first, then the form checked and the ledger written),

beside a floor measured in the same loop: a transaction running `SELECT 1`. Prints p50/p95 in ms per operation and
size, and the load average. Target: the same p50 at 50,000 as at 1,000 (bounded statements, one index range).
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
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from roster import campaign_file  # noqa: E402

from dqflow import engine, store  # noqa: E402
from dqflow.calendar import parse_local  # noqa: E402
from dqflow.campaign import spec  # noqa: E402
from dqflow.engine import form  # noqa: E402
from dqflow.store import FormEntryRow, FormEvidenceRow, table  # noqa: E402

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
    """Every ДОУ's versions, set-based, a stage and a slice of ДОУ at a time; returns the entries written."""
    written = 0
    ids = list(campaign.indicators)
    for stage in FORM_STAGES:
        for start in range(0, len(campaign.institutions), 2000):
            chunk = [i.id for i in campaign.institutions[start:start + 2000] if not (stage == "final-fix" and i.id in sample)]
            entries = [{"campaign_id": campaign.id, "institution_id": inst, "stage_id": stage, "indicator_id": ind, "level": "2",
                        "comment": None, "updated_at": now} for inst in chunk for ind in ids]
            links = [{"campaign_id": campaign.id, "institution_id": inst, "stage_id": stage, "indicator_id": ind, "position": 0,
                      "url": f"https://dou{inst}.example.org/{stage}/{ind}", "title": None} for inst in chunk for ind in ids]
            with store.transaction(db) as session:
                session.execute(insert(table(FormEntryRow)), entries)
                session.execute(insert(table(FormEvidenceRow)), links)
            written += len(entries)
    return written


def measure(db_url: str | None, n: int, indicators: int, sample_size: int) -> dict[str, dict[str, float]]:
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
        rows = fill(db, campaign, sample, now)
        print(f"  {n} ДОУ: loaded and {rows:,} entries (and as many links) written in {time.perf_counter() - started:.0f} s", flush=True)
        times: dict[str, list[float]] = {k: [] for k in ("floor", "show", "first save", "save", "hand-in")}
        first, second = list(campaign.indicators)[:2]
        for number, inst in enumerate(sorted(sample)):
            at = now + timedelta(seconds=number)

            def timed(kind: str, work) -> None:
                begin = time.perf_counter()
                work()
                times[kind].append((time.perf_counter() - begin) * 1000)

            def floor() -> None:
                with store.transaction(db) as session:
                    session.execute(text("SELECT 1"))

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

            timed("floor", floor)
            timed("show", show)
            timed("first save", lambda: save(first))
            timed("save", lambda: save(second))
            timed("hand-in", hand_in)
        db.dispose()
        return {kind: {"p50": statistics.median(found), "p95": statistics.quantiles(found, n=20)[-1]} for kind, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--indicators", type=int, default=30)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--db", help="a PostgreSQL URL to a database whose schema may be dropped (default: a SQLite file per size)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    found = {}
    for n in args.sizes:
        if args.db:
            from sqlalchemy import create_engine

            with create_engine(args.db).begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        found[n] = measure(args.db, n, args.indicators, args.sample)
        for kind, figures in found[n].items():
            print(f"{n:>7} ДОУ  {kind:<11} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms", flush=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(found, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
