#!/usr/bin/env python3
"""How soon a command answers, as a whole process, at any roster size (issue 18, item 7).

    .venv/bin/python benchmarks/startup.py [N …] [--runs R] [--folder DIR] [--before DQFLOW] [--json PATH]

For each N (default 1000 and 50000) a database is prepared once in DIR (default: a temporary folder; give
--folder to keep it for the next run): `roster.py`'s seeded roster on the Tomsk schedule (1–2 experts per ДОУ)
loaded on 18.11.2021 and ticked at 19.11.2021 00:00, when fill-form opens. Then, at 19.11.2021 08:00, an hour
before the sending window opens, with every ДОУ's notices of the kick-off webinar overdue and unsent:

- `dqflow --version`;
- `dqflow status --now …` (counts per stage and status);
- `dqflow tick --now …`, idle: nothing opens or locks, and it says how many overdue notices the next send delivers.

Each is run R times (after one run not counted, which also leaves the modules' bytecode cached, as an
installation has it) as a process of its own, in turn with the others and with the
floor measured in the same run: `python -c pass` (the interpreter) and `python -c "import sqlalchemy"` and
`import sqlmodel` (what any command on the database must load). Printed: wall and CPU seconds (the CPU the
process used, from the kernel's accounting of the finished child), min / median / max, and each command's
median at N against the smallest N. With --before PATH (the `dqflow` script of another installation, e.g. main's),
that installation prepares its own databases and runs every command too, in turn with this one.

Targets: --version ≤ 0.15 s; status and an idle tick ≤ 0.4 s at 1,000 ДОУ and within 1.3× of that at 50,000.
On a shared machine quote medians and ratios; the CPU seconds move less than the wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roster import campaign_file  # noqa: E402

LOADED, OPENED, NOW = "18.11.2021", "19.11.2021 00:00", "19.11.2021 08:00"
PYTHON = sys.executable
# As an installed dqflow runs: its modules' bytecode cached (pip writes it when installing a wheel; an editable
# install writes it on first use, unless PYTHONDONTWRITEBYTECODE says not to, and then every run compiles them all).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FLOORS = {"python -c pass": [PYTHON, "-c", "pass"], "import sqlalchemy": [PYTHON, "-c", "import sqlalchemy"],
          "import sqlmodel": [PYTHON, "-c", "import sqlmodel"]}


@dataclass
class Figure:
    label: str
    argv: list[str]
    series: str | None = None  # the same command at every size: each is set against the smallest
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self, counted: bool) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{self.label}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
        if counted:
            self.wall.append(wall)
            self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    def line(self, base: Figure | None) -> str:
        def three(values: list[float]) -> str:
            return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"

        against = f"   ×{statistics.median(self.wall) / statistics.median(base.wall):.2f} of {base.label}" if base else ""
        return f"{self.label:<40} wall {three(self.wall)} s   cpu {three(self.cpu)} s{against}"

    def to_dict(self) -> dict:
        return {"label": self.label, "wall": self.wall, "cpu": self.cpu,
                "median_wall": statistics.median(self.wall), "median_cpu": statistics.median(self.cpu)}


def prepare(dqflow: str, folder: Path, n: int) -> Path:
    """The database at N ДОУ, loaded and opened by this `dqflow` (kept in `folder` for the next run)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "dqflow.db"
    if (folder / "ready").exists():
        return db
    for stale in folder.glob("dqflow.db*"):
        stale.unlink()
    path = campaign_file(folder, n, experts=2, seed=1)
    started = time.perf_counter()
    for args in (["load", str(path), "--now", LOADED], ["tick", "--now", OPENED]):
        done = subprocess.run([dqflow, "--db", str(db), *args], capture_output=True, text=True, env=ENV)
        if done.returncode != 0:
            raise SystemExit(f"preparing {n} ДОУ: dqflow {args[0]}: {done.stderr.strip()[-500:]}")
    (folder / "ready").write_text("")
    print(f"prepared {n:,} ДОУ with {dqflow} in {time.perf_counter() - started:.0f} s: {db}", file=sys.stderr)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 50000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--folder", type=Path, help="Keep the prepared databases here (reused when present).")
    parser.add_argument("--before", metavar="DQFLOW", help="Another installation's dqflow script, timed in turn with this one.")
    parser.add_argument("--json", type=Path, help="Write every figure here too.")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-startup-"))
    mine = str(Path(PYTHON).with_name("dqflow"))
    versions = {"": mine} | ({"before: ": args.before} if args.before else {})

    figures = [Figure(label, argv) for label, argv in FLOORS.items()]
    base: dict[str, Figure] = {}
    for prefix, dqflow in versions.items():
        figures.append(Figure(f"{prefix}dqflow --version", [dqflow, "--version"]))
        for n in sorted(args.sizes):
            db = prepare(dqflow, folder / f"{'before-' if prefix else ''}{n}", n)
            for command in ("status", "tick"):
                figures.append(Figure(f"{prefix}{command} at {n:,} ДОУ", [dqflow, "--db", str(db), command, "--now", NOW],
                                      series=prefix + command))
    for round_ in range(args.runs + 1):  # in turn, so that a slower minute of the machine falls on all of them
        for figure in figures:
            figure.run(counted=round_ > 0)

    print(f"{os.uname().nodename}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} runs each "
          f"(min / median / max), load {os.getloadavg()[0]:.1f} at the end")
    for figure in figures:
        first = base.setdefault(figure.series, figure) if figure.series else None
        print(figure.line(first if first is not figure else None))
    if args.json:
        args.json.write_text(json.dumps([f.to_dict() for f in figures], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
