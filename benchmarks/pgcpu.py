#!/usr/bin/env python3
"""A command's CPU beside the CPU of the PostgreSQL server processes that served it (issue 23, parts 3–4).

    (as a user that may read /proc of the server's processes; root here)
    .venv/bin/python benchmarks/pgcpu.py [--runs R] DATABASE -- COMMAND …

On a loaded machine the wall time of a command on PostgreSQL is mostly waiting for a core, and the process's own CPU
leaves out the server's work. This runs COMMAND R times (default 1) and, while it runs, polls `pg_stat_activity` every
50 ms for the backends connected to DATABASE (and their parallel workers, by `leader_pid`), reading each one's
user + system CPU from /proc/PID/stat; a backend's last reading before it exits is its CPU (up to 50 ms of it may be
missed). Printed per run: wall seconds, the command's CPU (user + system of the finished child), the server's CPU,
and their sum — the figure to set beside SQLite's CPU, where the database works inside the process. Nothing else may
use DATABASE meanwhile: its backends would be counted too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

PG = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of the whole line)


def watch(database: str, stop: threading.Event, seen: dict[int, float]) -> None:
    import psycopg

    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True) as admin:
        mine = admin.info.backend_pid
        query = ("SELECT pid FROM pg_stat_activity WHERE (datname = %s AND pid <> %s) OR leader_pid IN "
                 "(SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s)")
        while not stop.is_set():
            for (pid,) in admin.execute(query, (database, mine, database, mine)).fetchall():
                used = cpu_of(pid)
                if used is not None:
                    seen[pid] = max(seen.get(pid, 0.0), used)
            time.sleep(0.05)


def measure(database: str, command: list[str]) -> tuple[float, float, float]:
    """(wall, the command's CPU, the server's CPU for it) of one run."""
    seen: dict[int, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(database, stop, seen), daemon=True)
    watcher.start()
    time.sleep(0.1)
    before = {pid: cpu_of(pid) or 0.0 for pid in seen}  # a backend already connected (none, as a rule)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stop.set()
    watcher.join()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)}: exit {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, sum(v - before.get(pid, 0.0) for pid, v in seen.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--runs", type=int, default=1)
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.parse_args(argv)  # --help
        parser.error("the command goes after --")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]
    for _ in range(args.runs):
        wall, cpu, server = measure(args.database, command)
        print(f"wall {wall:.2f} s  cpu {cpu:.2f} s  server cpu {server:.2f} s  together {cpu + server:.2f} s  "
              f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
