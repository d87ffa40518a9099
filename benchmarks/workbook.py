#!/usr/bin/env python3
"""The workbook's writing alone, in-process: `excel.render` of one campaign's справка, its figures computed once.

    .venv/bin/python benchmarks/workbook.py URL CAMPAIGN [--now "2021-12-03 12:00"] [--runs R] [--level L] [--out FILE]
        [--profile N]

URL and CAMPAIGN as `dqflow --db URL --campaign CAMPAIGN` takes them (e.g. a campaign `indicators.py --folder DIR`
prepared: sqlite:///DIR/10000/dqflow.db, indicators-10000). Each run: `figures.compute(rows=True)` in a dry-run session
(as `report --format xlsx` does), then `excel.render` in that session — the rows' SELECTs, the sheets' markup, the
deflate — timed apart in CPU seconds (`time.process_time`). Printed per run: compute's and render's CPU, the workbook's
size, the load average. --level sets `excel.DEFLATE_LEVEL` (zlib's, 1–9); --profile N prints cProfile's N costliest
functions of the last render. The interpreter decides which dqflow is measured (a before tree's venv measures main).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("campaign")
    parser.add_argument("--now", default="2021-12-03 12:00")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--level", type=int, help="zlib's level for the workbook's entries (excel.DEFLATE_LEVEL)")
    parser.add_argument("--out", type=Path, help="write the last workbook here")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile the last render, print its N costliest functions")
    args = parser.parse_args()

    from dqflow import engine, store
    from dqflow.calendar import parse_local
    from dqflow.results import excel, figures

    if args.level is not None:
        excel.DEFLATE_LEVEL = args.level
    db = store.connect(args.url)
    data = b""
    for run in range(1, args.runs + 1):
        with store.dry_run(db) as session:
            started = time.process_time()
            now = parse_local(args.now, engine.definition(session, args.campaign).tz)
            results = figures.compute(session, args.campaign, now, detail=False, rows=True, town=True)
            computed = time.process_time() - started
            profile = cProfile.Profile() if args.profile and run == args.runs else None
            started = time.process_time()
            if profile is not None:
                profile.enable()
            data = excel.render(results)
            if profile is not None:
                profile.disable()
            rendered = time.process_time() - started
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"run {run}: compute {computed:.2f} s CPU, render {rendered:.2f} s CPU, {len(data) / 1e6:.1f} MB (load {load})", flush=True)
        if profile is not None:
            pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
    if args.out is not None:
        args.out.write_bytes(data)
    db.dispose()


if __name__ == "__main__":
    main()
