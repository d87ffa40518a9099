#!/usr/bin/env python3
"""`board --out` alone, whole processes, in turn with its floors and with another installation (issue 23, part 3).

    .venv/bin/python benchmarks/board_out.py DB_URL [--runs R] [--before DQFLOW] [--now TIME] [--keep DIR] [--json PATH]

`exports.py --synthetic` times every command of the справка on the prepared databases (html, xlsx, csv: a minute a
round at 50,000 ДОУ); this times only what the board costs, on a database already prepared (e.g. exports.py's
FOLDER/n50000/sim.db, or spravka_bench_50000 on the PostgreSQL server), as of --now (default 21.01.2022 12:00, the
issue's): `dqflow --version` and `status` (the floors: process start, definition, counts), then `board --out DIR`, each
a process of its own, R runs in turn after one not counted (`exports.measure`); with --before the same commands of
that installation in the same rounds. --keep DIR keeps the last pages each wrote (DIR/board, DIR/before-board) to
compare their bytes (`diff -r`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from exports import PYTHON, Figure, measure  # noqa: E402

NOW = "2022-01-21 12:00"


def figures(versions: dict[str, str], url: str, now: str, out: Path) -> list[Figure]:
    found = []
    for prefix, dqflow in versions.items():
        base = [dqflow, "--db", url]
        found.append(Figure(f"{prefix}dqflow --version (floor)", [dqflow, "--version"]))
        found.append(Figure(f"{prefix}status (floor)", [*base, "status", "--now", now]))
        pages = out / f"{prefix.strip(': ')}{'-' if prefix else ''}board"
        found.append(Figure(f"{prefix}board --out", [*base, "board", "--out", str(pages), "--now", now], pages))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", metavar="DB_URL")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", metavar="DQFLOW", help="Another installation's dqflow script, timed in turn with this one.")
    parser.add_argument("--now", default=NOW)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Keep the pages written here (to compare two versions' bytes).")
    parser.add_argument("--json", type=Path, help="Write every figure here too.")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="dqflow-board-"))
    out.mkdir(parents=True, exist_ok=True)
    versions = {"": str(Path(PYTHON).with_name("dqflow"))} | ({"before: ": args.before} if args.before else {})
    measure(figures(versions, args.db, args.now, out), args.runs, True, args.db.split(":")[0], args.json)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
