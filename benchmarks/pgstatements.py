#!/usr/bin/env python3
"""What the PostgreSQL server spends on each statement of one command (issue 23): `auto_explain` in the command's sessions.

    (as a user that may read the server's log; root here)
    .venv/bin/python benchmarks/pgstatements.py [--min-ms 50] [--log PATH] [--plans] -- COMMAND …

COMMAND runs once with PGOPTIONS loading `auto_explain` into each session it opens (`session_preload_libraries`, a
superuser's connection: postgres here) and logging every statement of at least --min-ms with EXPLAIN ANALYZE (timing
on: the figures are inflated by the clocks read per row, and by waiting for a core on a loaded machine; read them as
shares). Then the server's log written meanwhile (default /var/log/postgresql/postgresql-15-main.log) is read: each
statement's duration and its first words, longest first, and their sum; with --plans the plans too.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

LOG = "/var/log/postgresql/postgresql-15-main.log"
ENTRY = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] \S+ LOG:  duration: ([\d.]+) ms  plan:\n(.*?)(?=^\S+ \S+ \S+ \[|\Z)", re.M | re.S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-ms", type=float, default=50)
    parser.add_argument("--log", default=LOG)
    parser.add_argument("--plans", action="store_true")
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.parse_args(argv)
        parser.error("the command goes after --")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]
    options = (f"-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration={args.min_ms} "
               "-c auto_explain.log_analyze=on -c auto_explain.log_nested_statements=on")
    start = os.path.getsize(args.log)
    started = time.perf_counter()
    subprocess.run(command, env={**os.environ, "PGOPTIONS": options}, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    time.sleep(0.5)
    with open(args.log, encoding="utf-8", errors="replace") as log:
        log.seek(start)
        written = log.read()
    found = []
    for pid, ms, body in ENTRY.findall(written):
        text = body.split("\n\t", 1)[0].replace("Query Text:", "").strip() if "Query Text:" in body else body
        found.append((float(ms), pid, " ".join(text.split())[:160], body))
    found.sort(reverse=True)
    for ms, pid, text, body in found:
        print(f"{ms / 1000:8.2f} s  [{pid}]  {text}")
        if args.plans:
            plan = body.split("\n", body.count("\n"))
            print("\n".join(line for line in plan if not line.lstrip("\t").startswith(("Query Text", "FROM", "WHERE")))[:6000])
    print(f"{sum(ms for ms, *_ in found) / 1000:8.2f} s  in {len(found)} statements of ≥ {args.min_ms:g} ms; wall {wall:.2f} s; "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
