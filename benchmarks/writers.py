#!/usr/bin/env python3
"""Writers of several processes on one SQLite file: how long a write transaction waits for its turn.

    python benchmarks/writers.py [--python PATH [PATH ...]] [--rounds R] [--processes P] [--threads T]
        [--transactions N] [--hold-ms MS] [--folder DIR]

Each of --processes processes (as `serve --workers P`'s workers, the daemon, a CLI command) runs --threads threads, each
doing --transactions write transactions through `store.transaction` on one SQLite file (the Tomsk campaign loaded):
an audit row added, and --hold-ms of CPU spent inside the transaction (a hand-in's own work under the write lock). For
each interpreter of --python (another checkout's venv measures the code before a change), in turn, --rounds times:
the wall time, the transactions a second, the wait of a transaction (from asking for it to its commit) p50 / p99 / max,
how long the write lock stood free between one transaction's commit and the next one's BEGIN (every writer asks
again at once: a closed loop, so a free lock is time lost to waking, a poller's sleep or the scheduler), when the
first process was done (how evenly the processes were served), and the CPU of the writers. Every
transaction must land (counted afterwards). Stdlib only here; the writers import dqflow from their interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"

WRITER = r"""
import json, resource, sys, threading, time
from datetime import datetime, timezone
from dqflow import store
from dqflow.store import AuditRow

url, name, threads, count, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) / 1000
db = store.connect(url)
now = datetime(2021, 11, 22, tzinfo=timezone.utc)
waits = []
held = []  # (from BEGIN IMMEDIATE, to the commit's end) of each transaction
start = threading.Barrier(threads + 1)

def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def work(t):
    mine, spans = [], []
    start.wait()
    for i in range(count):
        asked = time.perf_counter()
        with store.transaction(db) as session:
            begun = time.perf_counter()  # the transaction has begun: it holds SQLite's write lock
            session.add(AuditRow(campaign_id="tomsk-2021", action="bench-write", at=now, recorded_at=now, detail=f"{name}-{t}-{i}"))
            session.flush()
            spin(hold)
        done = time.perf_counter()
        mine.append(done - asked)
        spans.append((begun, done))
    waits.extend(mine)
    held.extend(spans)

workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
print("ready", flush=True)
sys.stdin.readline()
before = resource.getrusage(resource.RUSAGE_SELF)
began = time.perf_counter()
start.wait()
for w in workers:
    w.join()
ended = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
print(json.dumps({"waits": waits, "began": began, "ended": ended, "cpu": cpu, "held": held}), flush=True)
"""


def prepare(python: str, folder: Path) -> Path:
    base = folder / "base.db"
    if not base.exists():
        subprocess.run([python, "-c", "from dqflow.cli import cli; cli()", "--db", str(base), "load", str(TOMSK),
                        "--now", "2021-11-10 09:00"], check=True, capture_output=True)
    return base


def one_run(python: str, base: Path, folder: Path, args) -> dict:
    db = folder / "writers.db"
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, db)
    os.chmod(db, 0o600)
    url = f"sqlite:///{db}"
    procs = [subprocess.Popen([python, "-c", WRITER, url, f"p{p}", str(args.threads), str(args.transactions),
                               str(args.hold_ms)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for p in range(args.processes)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:  # all at once
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    waits = sorted(w for r in results for w in r["waits"])
    spans = sorted(tuple(h) for r in results for h in r["held"])  # perf_counter is CLOCK_MONOTONIC: one clock for all
    idle, reach = 0.0, spans[0][0]
    for begun, done in spans:  # the write lock free while every writer was asking for it (a closed loop)
        idle += max(0.0, begun - reach)
        reach = max(reach, done)
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    import sqlite3

    with sqlite3.connect(db) as c:
        landed = c.execute("SELECT count(*) FROM audit WHERE action = 'bench-write'").fetchone()[0]
    expected = args.processes * args.threads * args.transactions
    return {
        "python": python, "wall": wall, "per_second": expected / wall,
        "p50": waits[len(waits) // 2] * 1000, "p99": waits[int(len(waits) * 0.99)] * 1000, "max": waits[-1] * 1000,
        "mean": statistics.fmean(waits) * 1000,
        "slowest_process": max(r["ended"] - r["began"] for r in results) / wall,
        "first_done": min(r["ended"] - r["began"] for r in results) / wall,
        "idle": idle, "cpu": sum(r["cpu"] for r in results), "landed": landed, "expected": expected,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", nargs="+", default=[sys.executable])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument("--hold-ms", type=float, default=2.0)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-writers-"))
    folder.mkdir(parents=True, exist_ok=True)
    base = prepare(args.python[0], folder)
    print(f"{args.processes} processes × {args.threads} threads × {args.transactions} transactions, {args.hold_ms} ms of CPU "
          f"in each, load {os.getloadavg()[0]:.1f}")
    print("| round | python | wall s | transactions/s | wait p50 / p99 / max ms | the lock free between transactions | first process done at | writers' CPU s | landed | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in range(args.rounds):
        for python in args.python:
            f = one_run(python, base, folder, args)
            print(f"| {r + 1} | {python} | {f['wall']:.2f} | {f['per_second']:.0f} | {f['p50']:.1f} / {f['p99']:.1f} / "
                  f"{f['max']:.0f} | {f['idle']:.2f} s, {f['idle'] / f['wall']:.0%} | {f['first_done']:.0%} of the wall | {f['cpu']:.2f} | {f['landed']} of {f['expected']} | "
                  f"{f['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
