#!/usr/bin/env python3
"""The kept final levels caught up after a migration to 0015 (or new rules), and the writers beside it: SQLite.

    .venv/bin/python benchmarks/catchup.py DB CAMPAIGN --dqflow BIN [--dqflow BIN …] [--runs R] [--keep DIR]

DB: a SQLite file of `benchmarks/indicators.py` (its `--folder`: N/dqflow.db, built as sets, its final levels kept);
CAMPAIGN: its id (indicators-N). The file is copied and ticked to 03.12.2021 12:00 once by the first dqflow given (so
that the ticks measured have nothing to reconcile). For each dqflow (a `dqflow` executable of a venv: main's, this
branch's), in turn, R times: that copy copied, its `final_state` rows deleted (as a database just migrated to 0015 has none: every level is
to be computed), then, each a process of its own:

- a writer beside, as another dqflow process writes (the portal's hand-ins): `store.transaction` (the turn to write, the
  write lock, SQLite's 30 s busy timeout) and one INSERT into a table of its own, every 50 ms, from before the tick
  until it ends: how long each waited for its turn and its commit, and how many failed ("database is locked");
- `dqflow tick` (the reconcile, then whatever it does to keep the final levels);
- the floor: `dqflow tick` again on the same file, where nothing is left to compute.

Printed: the tick's wall and CPU seconds (user + system, `os.wait4`) and peak RSS, the floor's, the writer's longest,
99th-percentile and median wait, its failures, and whether the kept levels are complete (nothing marked). The kept
levels of each dqflow (`final_level` in key order) are written to DIR and compared byte for byte (cmp).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOW = "2021-12-03 12:00"
WRITER = r"""
import json, os, sys, time
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from dqflow.store import turns
from dqflow.store.database import transaction

url, ready, stop = sys.argv[1:4]
engine = create_engine(url, connect_args={"timeout": turns.BUSY_SECONDS})
waits, failed = [], 0
while not os.path.exists(stop):
    began = time.perf_counter()
    try:
        with transaction(engine) as session:
            session.execute(text("INSERT INTO bench_writer (at) VALUES (:at)"), {"at": time.time()})
        waits.append((time.perf_counter() - began, time.time() - (time.perf_counter() - began)))
    except OperationalError:
        failed += 1
    if not os.path.exists(ready):
        open(ready, "w").close()
    time.sleep(0.05)
print(json.dumps({"waits": waits, "failed": failed}))
"""


def run(command: list[str]) -> dict:
    """A child process: its wall and CPU seconds and peak RSS; its output must be empty of errors."""
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/tmp", text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    out, err = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command}: exit {os.waitstatus_to_exitcode(status)}\n{out}\n{err}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def copied(source: Path, target: Path) -> None:
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, target)


def ticked(source: Path, campaign: str, dqflow: str, work: Path) -> Path:
    """`source` copied and ticked to `NOW` once by `dqflow` (the first one given: main's, which leaves the schema as it
    is): the reconcile of the measured ticks then has nothing to do but the kept levels. Kept for the next run."""
    base = work / "base.db"
    if not (work / "base-ready").exists():
        copied(source, base)
        run([dqflow, "--db", f"sqlite:///{base}", "--campaign", campaign, "tick", "--now", NOW])
        (work / "base-ready").touch()
    return base


def prepared(source: Path, target: Path) -> str:
    """`source` copied to `target`, its kept levels forgotten (as after a migration to 0015), a table for the writer."""
    copied(source, target)
    with sqlite3.connect(target) as db:
        db.execute("DELETE FROM final_state")
        db.execute("CREATE TABLE bench_writer (at REAL)")
    return f"sqlite:///{target}"


def dump(path: Path, out: Path) -> dict:
    """The kept levels in key order into `out`; what is left marked and the rules' row."""
    with sqlite3.connect(path) as db, out.open("w", encoding="utf-8") as f:
        for row in db.execute("SELECT * FROM final_level ORDER BY campaign_id, institution_id, stage_id, indicator_id"):
            f.write("\t".join("" if v is None else str(v) for v in row) + "\n")
        return {"kept": db.execute("SELECT count(*) FROM final_level").fetchone()[0],
                "marked": db.execute("SELECT count(*) FROM final_dirty").fetchone()[0],
                "state": db.execute("SELECT count(*) FROM final_state").fetchone()[0]}


def once(dqflow: str, source: Path, campaign: str, work: Path, out: Path) -> dict:
    target = work / "catchup.db"
    url = prepared(source, target)
    ready, stop = work / "writer-ready", work / "writer-stop"
    for flag in (ready, stop):
        flag.unlink(missing_ok=True)
    writer = subprocess.Popen([str(Path(dqflow).with_name("python")), "-c", WRITER, url, str(ready), str(stop)],
                              stdout=subprocess.PIPE, cwd="/tmp", text=True)
    while not ready.exists():
        time.sleep(0.01)
    started = time.time()
    tick = run([dqflow, "--db", url, "--campaign", campaign, "tick", "--now", NOW])
    stop.touch()
    beside = json.loads(writer.communicate()[0])
    floor = run([dqflow, "--db", url, "--campaign", campaign, "tick", "--now", NOW])
    state = dump(target, out)
    waits = sorted(w for w, _ in beside["waits"])
    longest = sorted(beside["waits"], reverse=True)[:5]
    return {"tick": tick, "floor": floor, **state, "writes": len(waits), "failed": beside["failed"],
            "longest_at": [(round(w, 2), round(at - started, 2)) for w, at in longest],
            "longest": waits[-1] if waits else None, "p99": waits[int(len(waits) * 0.99)] if waits else None,
            "median": statistics.median(waits) if waits else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("campaign")
    parser.add_argument("--dqflow", action="append", required=True, help="A dqflow executable (repeat: before, after).")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Write each dqflow's kept levels here (compared byte for byte).")
    parser.add_argument("--work", type=Path, help="Where the copies go (default: a temporary folder).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="dqflow-catchup-"))
    keep = args.keep or work
    keep.mkdir(parents=True, exist_ok=True)
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", file=sys.stderr)
    found: dict[str, list[dict]] = {d: [] for d in args.dqflow}
    base = ticked(args.db, args.campaign, args.dqflow[0], work)
    for r in range(args.runs):
        for n, dqflow in enumerate(args.dqflow):
            figures = once(dqflow, base, args.campaign, work, keep / f"kept-{n}.tsv")
            found[dqflow].append(figures)
            t, f = figures["tick"], figures["floor"]
            print(f"run {r + 1} {dqflow}: tick {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU, {t['rss_mb']:.0f} MB; "
                  f"floor (idle tick) {f['wall']:.1f} s wall, {f['cpu']:.1f} s CPU; writer beside: {figures['writes']} writes, "
                  f"{figures['failed']} failed, longest wait {figures['longest']:.2f} s, p99 {figures['p99']:.2f} s, "
                  f"median {figures['median'] * 1000:.0f} ms; kept {figures['kept']:,}, marked {figures['marked']}, "
                  f"state {figures['state']}; load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    if len(args.dqflow) > 1:
        same = all(subprocess.run(["cmp", str(keep / "kept-0.tsv"), str(keep / f"kept-{n}.tsv")]).returncode == 0
                   for n in range(1, len(args.dqflow)))
        print(f"kept levels byte for byte the same: {same}", file=sys.stderr)
    print(json.dumps(found, indent=1))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
