#!/usr/bin/env python3
"""The справка's workbook and the public board as whole processes at national scale (issue 23, parts 2 and 3).

    .venv/bin/python benchmarks/exports.py [N …] [--runs R] [--folder DIR] [--db URL] [--before DQFLOW] [--json PATH]

For each N (default 1000 and 10000) a campaign is prepared once in DIR (default: a temporary folder; give
--folder to keep it for the next run): `roster.py`'s seeded roster on the Tomsk schedule (1–2 experts per ДОУ,
seed 1), replayed by `dqflow simulate --until 03.12.2021 --keep-db` (hand-ins, extensions, the first expert list
and its reviews: the state the issue measured). With --db URL (a PostgreSQL server's URL without the database
name, e.g. postgresql+psycopg://postgres@127.0.0.1:5432) the replay goes into a database `exports_N` made
there instead of a SQLite file.

Then, as of 03.12.2021 12:00, each run a process of its own, in turn with the floor measured in the same run:

- `dqflow report --format xlsx --out FILE` (the workbook, written as a stream);
- `dqflow board --out DIR` (the board's static pages, 500 ДОУ a page);
- the floor: `dqflow status --now …` (the same process start, definition and counts, nothing written).

Printed: wall and CPU seconds (user + system) and the process's peak RSS (`ru_maxrss` of the finished child, from `os.wait4`), min /
median / max of R runs (after one not counted, unless --no-warmup), the size of what was written, and the load average.
With --before PATH (another installation's `dqflow`, e.g. main's) the same commands of that installation run
in turn with these, on the same databases.

With --synthetic N (issue 23's targets, the whole campaign): each size's database is `spravka.py`'s (sizes from N up
built as sets by `spravka.synthetic`, smaller ones replayed whole by `spravka.build`, kept in FOLDER/nN/sim.db), reported
as of 21.01.2022 12:00, and each size's figures are `dqflow --version` and `status` (the floors), `report --format html`
(the summary file), `xlsx`, `csv`, `board --out` and `history` of one ДОУ. --keep DIR keeps what they wrote (to compare
two versions' bytes: the --before installation's outputs are named before…).

Targets at 50,000 ДОУ: the summary HTML ≤ 10 s and ≤ 500 MB, the workbook ≤ 20 s and ≤ 500 MB, the CSV ≤ 5 s, the
board ≤ 3 s, `history` flat in the size of the audit log.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roster import campaign_file  # noqa: E402

UNTIL, NOW = "2021-12-03", "2021-12-03 12:00"
PYTHON = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Figure:
    label: str
    argv: list[str]
    output: Path | None = None  # what the command writes: removed before each run, measured after
    wall: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)  # MB
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the process
    written: int = 0  # bytes
    failed: str = ""

    def run(self, counted: bool) -> None:
        if self.output is not None:
            shutil.rmtree(self.output, ignore_errors=True) if self.output.is_dir() else self.output.unlink(missing_ok=True)
        started = time.perf_counter()
        child = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        stderr = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:  # said, and the others still measured
            self.failed = f"exit {os.waitstatus_to_exitcode(status)}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"
            return
        if counted:
            self.wall.append(wall)
            self.peak.append(usage.ru_maxrss / 1024)
            self.cpu.append(usage.ru_utime + usage.ru_stime)
            if self.output is not None:
                files = [self.output] if self.output.is_file() else list(self.output.iterdir())
                self.written = sum(f.stat().st_size for f in files)

    def line(self) -> str:
        if not self.wall:
            return f"{self.label:<44} FAILED: {self.failed}"
        def three(values: list[float], digits: int) -> str:
            return " / ".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))

        size = f"   wrote {self.written / 1e6:.2f} MB" if self.output is not None else ""
        return f"{self.label:<44} wall {three(self.wall, 2)} s   cpu {three(self.cpu, 2)} s   peak {three(self.peak, 0)} MB{size}"

    def to_dict(self) -> dict:
        if not self.wall:
            return {"label": self.label, "failed": self.failed}
        return {"label": self.label, "wall": self.wall, "cpu": self.cpu, "peak_mb": self.peak, "written": self.written,
                "median_wall": statistics.median(self.wall), "median_peak_mb": statistics.median(self.peak)}


def measure(figures: list[Figure], runs: int, warmup: bool, backend: str, json_path: Path | None) -> None:
    """Run every figure `runs` times in turn (after one run not counted, with `warmup`), then print them (and write
    them to `json_path`) with the machine and its load average."""
    first = 1 if warmup else 0
    for round_ in range(runs + first):  # in turn, so that a slower minute of the machine falls on all of them
        for figure in figures:
            figure.run(counted=round_ >= first)

    print(f"{os.uname().nodename}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{backend}, {runs} runs each (min / median / max), "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    for figure in figures:
        print(figure.line())
    if json_path:
        json_path.write_text(json.dumps([f.to_dict() for f in figures], indent=1), encoding="utf-8")


def prepare(dqflow: str, folder: Path, n: int, server: str | None) -> str:
    """The replayed campaign at N ДОУ (kept in `folder`, and on the server, for the next run): its database URL."""
    folder.mkdir(parents=True, exist_ok=True)
    if server:
        name = f"exports_{n}"
        url = f"{server.rstrip('/')}/{name}"
    else:
        url = f"sqlite:///{folder / 'dqflow.db'}"
    ready = folder / ("ready-pg" if server else "ready")
    if ready.exists():
        return url
    if server:
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        for stale in folder.glob("dqflow.db*"):
            stale.unlink()
    path = campaign_file(folder, n, experts=2, seed=1)
    started = time.perf_counter()
    done = subprocess.run([dqflow, "simulate", str(path), "--until", UNTIL, "--keep-db", url], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"preparing {n} ДОУ: dqflow simulate: {done.stderr.strip()[-500:]}")
    ready.write_text("")
    print(f"prepared {n:,} ДОУ in {time.perf_counter() - started:.0f} s: {url}", file=sys.stderr)
    return url


def whole(figures: list[Figure], folder: Path, out: Path, sizes: list[int], synthetic: int, versions: dict[str, str],
          db: str | None = None) -> None:
    """Issue 23's targets on the whole campaign: every size's database built (`spravka.py`'s, kept in `folder`), then
    each size's commands as of 21.01.2022 12:00, the floors first. With `db` (a PostgreSQL server) the databases are
    `spravka.py --pg`'s (`spravka_bench_N` on that server)."""
    import spravka

    if db:
        spravka.PG = db.rstrip("/")
    for n in sizes:
        url = spravka.pg_url(n) if db else f"sqlite:///{folder / f'n{n}' / 'sim.db'}"
        _in_child(spravka.synthetic if n >= synthetic else spravka.build, folder, n, url)
        for prefix, dqflow in versions.items():
            tag, name = f"{prefix}{n:,} ДОУ", f"{prefix.strip(': ')}{n}"
            base, now = [dqflow, "--db", url], ["--now", spravka.NOW]
            figures.append(Figure(f"{tag}: dqflow --version (floor)", [dqflow, "--version"]))
            figures.append(Figure(f"{tag}: status (floor)", [*base, "status", *now]))
            html = out / f"{name}.html"
            figures.append(Figure(f"{tag}: report --format html", [*base, "report", "--format", "html", "--out", str(html), *now], html))
            xlsx = out / f"{name}.xlsx"
            figures.append(Figure(f"{tag}: report --format xlsx", [*base, "report", "--format", "xlsx", "--out", str(xlsx), *now], xlsx))
            csv = out / f"{name}-csv"
            figures.append(Figure(f"{tag}: report --format csv", [*base, "report", "--format", "csv", "--out", str(csv), *now], csv))
            pages = out / f"{name}-board"
            figures.append(Figure(f"{tag}: board --out", [*base, "board", "--out", str(pages), *now], pages))
            figures.append(Figure(f"{tag}: history (one ДОУ)", [*base, "history", str(n // 2)]))


def _in_child(build: Callable[[Path, int, str], None], folder: Path, n: int, url: str) -> None:
    """`build` in a fresh interpreter of its own: this process stays small. The commands measured are this process's
    children, and a child's peak (`ru_maxrss`) starts at its parent's high-water mark when it is started (Linux keeps the
    old address space's mark across exec): a build of 50,000 ДОУ in this process made every later figure read 585 MB."""
    child = multiprocessing.get_context("spawn").Process(target=build, args=(folder, n, url))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"building {n:,} ДОУ failed (exit {child.exitcode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="Keep the prepared campaigns here (reused when present).")
    parser.add_argument("--db", metavar="URL", help="A PostgreSQL server (URL without a database) to replay into instead of SQLite.")
    parser.add_argument("--before", metavar="DQFLOW", help="Another installation's dqflow script, timed in turn with this one.")
    parser.add_argument("--json", type=Path, help="Write every figure here too.")
    parser.add_argument("--no-warmup", action="store_true", help="Count the first run too (a slow machine, a big N).")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="The whole campaign instead (issue 23's targets): sizes from N up built as sets (`spravka.synthetic`), "
                             "smaller ones replayed whole (`spravka.build`), in FOLDER/nN/sim.db, reported as of 21.01.2022 12:00; "
                             "and the summary HTML, the CSV folder and a ДОУ's history timed too, beside `dqflow --version`; with --db on that PostgreSQL server.")
    parser.add_argument("--only", metavar="WORDS", help="Time only the commands whose label holds one of these comma-separated words "
                        "(e.g. 'floor,csv': the floors and the CSV folder).")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Write the outputs here and keep them (to compare two versions' bytes).")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-exports-"))
    out = args.keep or Path(tempfile.mkdtemp(prefix="dqflow-exports-out-"))
    out.mkdir(parents=True, exist_ok=True)
    mine = str(Path(PYTHON).with_name("dqflow"))
    versions = {"": mine} | ({"before: ": args.before} if args.before else {})

    figures: list[Figure] = []
    if args.synthetic:
        whole(figures, folder, out, sorted(args.sizes), args.synthetic, versions, args.db)
    for n in sorted(args.sizes) if not args.synthetic else []:
        url = prepare(mine, folder / str(n), n, args.db)
        for prefix, dqflow in versions.items():
            tag = f"{prefix}{n:,} ДОУ"
            base = [dqflow, "--db", url]
            figures.append(Figure(f"{tag}: status (floor)", [*base, "status", "--now", NOW]))
            xlsx = out / f"{prefix.strip(': ')}{n}.xlsx"
            figures.append(Figure(f"{tag}: report --format xlsx", [*base, "report", "--format", "xlsx", "--out", str(xlsx), "--now", NOW], xlsx))
            pages = out / f"{prefix.strip(': ')}board-{n}"
            figures.append(Figure(f"{tag}: board --out", [*base, "board", "--out", str(pages), "--now", NOW], pages))
    if args.only:
        figures = [f for f in figures if any(word in f.label for word in args.only.split(","))]
    measure(figures, args.runs, not args.no_warmup, "PostgreSQL" if args.db else "SQLite", args.json)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
