#!/usr/bin/env python3
"""`dqflow status` as a whole process on prepared databases, two installations in turn (issue 23: the floor under the
справка and the board, which run `engine.status`'s counts).

    .venv/bin/python benchmarks/statuscost.py --db URL [--db URL …] [--now TIME] [--runs R] [--before DQFLOW]

For each database (a SQLite file's URL, or a PostgreSQL database's: nothing else may use it meanwhile, its backends'
CPU is counted as `pgcpu.py` does), R rounds after one not counted; each round runs, each as a process of its own and
in turn, `dqflow --version` (the floor), `status` (the text, with its list of reviews of nothing) and `status --json`
(the counts alone, as the справка and the board ask them), of this installation and of --before's when given.
Printed per command: wall, CPU (user + system of the finished child) and, on PostgreSQL, the server's CPU, min /
median / max, and the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pgcpu import measure  # noqa: E402

OURS = str(HERE.parent / ".venv" / "bin" / "dqflow")
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the bytecode cached, as an installation has it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, metavar="URL")
    parser.add_argument("--now", default="2022-01-21 12:00")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", metavar="DQFLOW", help="Another installation's dqflow, timed in turn with this one.")
    args = parser.parse_args()
    installs = ([("before", args.before)] if args.before else []) + [("after", OURS)]
    for url in args.db:
        database = url.rsplit("/", 1)[1] if url.startswith("postgresql") else ""
        print(f"== {url}  load at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        commands = {(label, what): [dqflow, *argv] for label, dqflow in installs for what, argv in (
            ("--version", ["--version"]), ("status", ["--db", url, "status", "--now", args.now]),
            ("status --json", ["--db", url, "status", "--json", "--now", args.now]))}
        found: dict[tuple[str, str], list[tuple[float, float, float]]] = {key: [] for key in commands}
        for round_ in range(args.runs + 1):
            for key, command in commands.items():
                figures = measure(database, command) if database else measure_sqlite(command)
                if round_:
                    found[key].append(figures)
        for (label, what), runs in found.items():
            line = f"{label:6s} {what:14s}"
            for name, k in (("wall", 0), ("cpu", 1)) + ((("server cpu", 2),) if database else ()):
                values = [r[k] for r in runs]
                line += f"  {name} {min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} s"
            print(line, flush=True)
        print(f"   load at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)


def measure_sqlite(command: list[str]) -> tuple[float, float, float]:
    import subprocess
    import time

    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)}: exit {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, 0.0


if __name__ == "__main__":
    main()
