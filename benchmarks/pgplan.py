#!/usr/bin/env python3
"""PostgreSQL from the first minute (issue 23, part 4): the first `tick` after a load and an idle `tick`, whole
processes, on SQLite and on PostgreSQL with autovacuum off on dqflow's tables.

    .venv/bin/python benchmarks/pgplan.py [N …] [--runs R] [--repeat K] [--python PATH] [--pg URL] [--json PATH]

For each N (default 1000 and 10000) and each backend, K times (default 1): a fresh database is made by
`dqflow migrate`; on PostgreSQL every table of it is then set `autovacuum_enabled = false` (a server whose
autovacuum has not reached a freshly loaded table yet, or has it off: only what dqflow runs itself gives the
planner statistics). `roster.py`'s seeded roster (1–2 experts per ДОУ) on the Tomsk schedule is loaded on
18.11.2021 (`dqflow load`, timed); the first `tick` at 19.11.2021 00:00 opens the form and plans every reminder
(timed: the INSERT…SELECT of the planner, the audit rows, and the lines it prints about the letters waiting);
then an idle `tick` at 19.11.2021 08:00 (nothing opens or locks; it says how many letters the next send delivers)
is run R times (default 5) after one run not counted, in turn on the two backends. The floor of the same run:
`python -c "import sqlmodel"` (what any command on the database loads before dqflow's own work).

Printed: wall and CPU seconds of each process (CPU: the kernel's accounting of the finished child; the PostgreSQL
server's own CPU is not in it, so on PostgreSQL the wall time is the figure), the median of the idle ticks, and
PostgreSQL against SQLite. Targets: the first tick on PostgreSQL within 2× of SQLite's, an idle tick within 1.5×.
After each PostgreSQL run: which tables were analysed by hand (dqflow's ANALYZE) and by autovacuum (none, if the
setting held), and the rows the planner believes each table holds.

`--python PATH` runs another checkout's dqflow (`PATH -m dqflow`, e.g. main's venv) instead of this one: the code
before a change. `--pg` names the server (default postgresql+psycopg://postgres@127.0.0.1:5432, admin database
`test`); the benchmark's databases are named pgplan_N_K and dropped afterwards.
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

LOADED, OPENED, IDLE = "18.11.2021", "19.11.2021 00:00", "19.11.2021 08:00"
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "DQFLOW_DB")}
PG = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


@dataclass
class Timed:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.wall)

    def text(self) -> str:
        if len(self.wall) == 1:
            return f"{self.wall[0]:8.3f} s (cpu {self.cpu[0]:.3f} s)"
        return (f"{min(self.wall):.3f} / {statistics.median(self.wall):.3f} / {max(self.wall):.3f} s "
                f"(cpu median {statistics.median(self.cpu):.3f} s)")


def run(argv: list[str], into: Timed | None = None) -> str:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[-4:])}: exit {done.returncode}: {done.stderr.strip()[-800:]}")
    if into is not None:
        into.wall.append(wall)
        into.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return done.stdout


def admin(sql: str, database: str = "test") -> list[tuple]:
    import psycopg

    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://") + f"/{database}", autocommit=True) as connection:
        cursor = connection.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []


@dataclass
class Case:
    backend: str
    n: int
    url: str
    pg_name: str | None = None
    load: Timed = field(default_factory=Timed)
    first: Timed = field(default_factory=Timed)
    idle: Timed = field(default_factory=Timed)
    work: list[float] = field(default_factory=list)
    stats: list[tuple] = field(default_factory=list)


def fresh(dqflow: list[str], backend: str, n: int, k: int, folder: Path) -> Case:
    if backend == "sqlite":
        case = Case(backend, n, f"sqlite:///{folder / f'sqlite-{n}-{k}.db'}")
        for stale in folder.glob(f"sqlite-{n}-{k}.db*"):
            stale.unlink()
    else:
        name = f"pgplan_{n}_{k}"
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin(f"CREATE DATABASE {name}")
        case = Case(backend, n, f"{PG}/{name}", name)
    run([*dqflow, "--db", case.url, "migrate"])
    if case.pg_name:
        tables = [t for (t,) in admin("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", case.pg_name)]
        admin("; ".join(f'ALTER TABLE "{t}" SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)' for t in tables),
              case.pg_name)
    return case


def work(url: str, runs: int) -> None:
    """In this process: the idle tick's work without the process around it (reconcile in its transaction, the count
    of the letters waiting), `runs` times after one not counted; prints the seconds as JSON."""
    from dqflow import engine, store
    from dqflow.calendar import parse_local
    from dqflow.delivery import due

    db = store.connect(url)
    with store.dry_run(db) as session:
        campaign = engine.definition(session, None)
    now = parse_local(IDLE, campaign.tz)
    took = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        with store.transaction(db) as session:
            assert engine.reconcile(session, campaign.id, now) == []
        with store.dry_run(db) as session:
            due.ahead(session, campaign, now)
        took.append(time.perf_counter() - started)
    print(json.dumps(took[1:]))


def pg_stats(case: Case) -> list[tuple]:
    assert case.pg_name
    return admin("SELECT s.relname, s.analyze_count, s.autoanalyze_count, s.n_live_tup, c.reltuples::bigint "
                 "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid ORDER BY s.relname", case.pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5, help="Idle ticks counted per database.")
    parser.add_argument("--repeat", type=int, default=1, help="Fresh databases (load, first tick) per size and backend.")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--python", default=sys.executable, help="The Python whose dqflow runs (`-m dqflow`).")
    parser.add_argument("--folder", type=Path, help="Where the rosters and SQLite files go (default: a temporary folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL databases.")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--work", metavar="URL", help=argparse.SUPPRESS)  # the in-process measure, in its own process
    args = parser.parse_args()
    if args.work:
        work(args.work, args.runs)
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-pgplan-"))
    folder.mkdir(parents=True, exist_ok=True)
    dqflow = [args.python, "-m", "dqflow"]
    backends = args.backends.split(",")
    floor = Timed()
    for _ in range(3):
        run([args.python, "-c", "import sqlmodel"], floor)
    print(f"{os.uname().nodename}, {os.cpu_count()} cores, {args.python}; load {os.getloadavg()[0]:.1f} at the start; "
          f"floor `import sqlmodel` {floor.text()}", flush=True)
    results: list[Case] = []
    for n in args.sizes:
        roster = folder / f"roster-{n}"
        roster.mkdir(exist_ok=True)
        path = campaign_file(roster, n, experts=2, seed=1)
        for k in range(args.repeat):
            cases = [fresh(dqflow, b, n, k, folder) for b in backends]
            for case in cases:  # one after the other: each has the machine to itself while it plans
                run([*dqflow, "--db", case.url, "load", str(path), "--now", LOADED], case.load)
                run([*dqflow, "--db", case.url, "tick", "--now", OPENED], case.first)
                print(f"{n:>6,} ДОУ  {case.backend:<10}  load {case.load.text()}   first tick {case.first.text()}", flush=True)
            for round_ in range(args.runs + 1):  # in turn, so that a slower minute of the machine falls on both
                for case in cases:
                    run([*dqflow, "--db", case.url, "tick", "--now", IDLE], case.idle if round_ else None)
            for case in cases:
                case.work = json.loads(run([args.python, __file__, "--work", case.url, "--runs", str(args.runs)]))
            for case in cases:
                print(f"{n:>6,} ДОУ  {case.backend:<10}  idle tick {case.idle.text()}; its work in process (reconcile and the "
                      f"count) min / median {min(case.work):.3f} / {statistics.median(case.work):.3f} s", flush=True)
                if case.pg_name:
                    case.stats = pg_stats(case)
                    analysed = [r[0] for r in case.stats if r[1]]
                    auto = [r[0] for r in case.stats if r[2]]
                    print(f"    analysed by dqflow: {', '.join(analysed) or 'none'}; by autovacuum: {', '.join(auto) or 'none'}")
                    print("    rows the planner believes (reltuples) / live: " + ", ".join(
                        f"{r[0]} {r[4]:,}/{r[3]:,}" for r in case.stats if r[3]))
                    if not args.keep:
                        admin(f"DROP DATABASE IF EXISTS {case.pg_name} WITH (FORCE)")
            results += cases
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    for n in args.sizes:
        by = {b: [c for c in results if c.n == n and c.backend == b] for b in backends}
        if by.get("sqlite") and by.get("postgresql"):
            first = {b: statistics.median([x for c in cs for x in c.first.wall]) for b, cs in by.items()}
            idle = {b: statistics.median([x for c in cs for x in c.idle.wall]) for b, cs in by.items()}
            work_ = {b: min(x for c in cs for x in c.work) for b, cs in by.items()}
            print(f"{n:>6,} ДОУ  PostgreSQL / SQLite, the idle tick's work in process, min: {work_['postgresql']:.3f} / "
                  f"{work_['sqlite']:.3f} s = {work_['postgresql'] / work_['sqlite']:.2f}×")
            print(f"{n:>6,} ДОУ  PostgreSQL / SQLite: first tick {first['postgresql']:.2f} / {first['sqlite']:.2f} s = "
                  f"{first['postgresql'] / first['sqlite']:.2f}× (target ≤ 2), idle tick {idle['postgresql']:.3f} / "
                  f"{idle['sqlite']:.3f} s = {idle['postgresql'] / idle['sqlite']:.2f}× (target ≤ 1.5)")
    if args.json:
        args.json.write_text(json.dumps({"floor": floor.wall, "cases": [
            {"backend": c.backend, "n": c.n, "load": c.load.wall, "first": c.first.wall, "first_cpu": c.first.cpu,
             "idle": c.idle.wall, "idle_cpu": c.idle.cpu, "work": c.work, "stats": c.stats} for c in results]}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
