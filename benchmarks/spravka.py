"""The справка at national scale (issue 23): whole-process `dqflow report` on a replayed campaign.

    .venv/bin/python benchmarks/spravka.py [--db-folder DIR] [--pg] [--before DQFLOW] [--runs R] N…

For each N: the seeded roster (`roster.py`, 2 experts a ДОУ at most) replayed whole by `simulate --keep-db` into
DIR/nN/sim.db (and, with --pg, into a PostgreSQL database `spravka_bench_N` at DQFLOW_TEST_PG): kept, so a second
run reuses it. Then, each as a fresh process, median of R runs: `report --format html --out FILE.html` (the summary
alone above 300 ДОУ), `--format html --out DIR` (summary + a page per ДОУ), `--format csv`; wall seconds, peak RSS
(`/usr/bin/time -v`), the output's size. The floor, measured in the same run: `dqflow --version` (the interpreter
and dqflow's imports). `--before PATH` runs another installation's dqflow (the code before a change) on the same
databases for the same steps.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster import campaign_file  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
DQFLOW = str(HERE / ".venv" / "bin" / "dqflow")
PG = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
NOW = "2022-01-21 12:00"


def build(folder: Path, n: int, url: str) -> None:
    """The roster replayed whole into `url`, unless it is there already (`folder/nN/.built-<backend>` says so)."""
    mark = folder / f"n{n}" / f".built-{url.split(':')[0]}"
    if mark.exists():
        return
    (folder / f"n{n}").mkdir(parents=True, exist_ok=True)
    path = campaign_file(folder / f"n{n}", n, experts=2, seed=1)
    start = time.perf_counter()
    subprocess.run([DQFLOW, "simulate", str(path), "--keep-db", url], check=True, stdout=subprocess.DEVNULL)
    print(f"  replayed {n} ДОУ into {url.split(':')[0]} in {time.perf_counter() - start:.0f} s", flush=True)
    mark.touch()


def synthetic(folder: Path, n: int, url: str) -> None:
    """Faster than a replay, for the largest N: the roster loaded, reconciled to the end of the campaign (both expert
    lists drawn, every stage locked), a hand-in of the form by 4 ДОУ in 5 and a review by every assigned expert in both
    review stages (seeded levels, on time or late), written as sets. The справка reads the same tables a replay fills
    (no extensions, no outbox history: neither is read by `report`). The review stages' own statuses are left to the
    clock (missed): the reviews are inserted, not recorded by the acts."""
    import random
    from datetime import timedelta

    from sqlalchemy import bindparam, insert, select, update

    from dqflow import engine, store
    from dqflow.calendar import parse_local
    from dqflow.campaign import spec
    from dqflow.store import AssignmentRow, ProgressRow, ReviewRow, SubmissionRow

    mark = folder / f"n{n}" / f".built-{url.split(':')[0]}"
    if mark.exists():
        return
    (folder / f"n{n}").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    campaign = spec.load(campaign_file(folder / f"n{n}", n, experts=2, seed=1))
    db = store.connect(url)
    at = lambda text: parse_local(text, campaign.tz)  # noqa: E731
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-18 09:00"))
    rng = random.Random(1)
    handed = [str(i) for i in range(1, n + 1) if rng.random() < 0.8]
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at("2021-11-22 00:05"))
    with store.transaction(db) as session:
        session.execute(insert(SubmissionRow), [{"campaign_id": campaign.id, "institution_id": i, "stage_id": "fill-form",
                                                  "at": at("2021-11-29 12:00"), "links": f'["https://dou{i}.example.org/form"]'}
                                                 for i in handed])
        progress = ProgressRow.__table__  # type: ignore[attr-defined]
        session.execute(update(progress).where(progress.c.campaign_id == campaign.id, progress.c.stage_id == "fill-form",
                                               progress.c.institution_id == bindparam("i"))
                        .values(status="done", submitted_at=at("2021-11-29 12:00")), [{"i": i} for i in handed])
    for moment, stage, list_id in (("2021-12-01 00:05", "review1", "list1"), ("2021-12-20 00:05", "review2", "list2")):
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, at(moment))
            assigned = session.execute(select(AssignmentRow.institution_id, AssignmentRow.expert_id).where(
                AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == list_id)).all()
            areas = sorted(a.id for a in campaign.areas)
            session.execute(insert(ReviewRow), [
                {"campaign_id": campaign.id, "stage_id": stage, "institution_id": inst, "expert_id": expert,
                 "at": at(moment) + timedelta(days=rng.choice((1, 2, 20))), "recommendations": "Рекомендации эксперта.",
                 "levels": "{" + ", ".join(f'"{a}": "{rng.choice("1234")}"' for a in areas) + "}"}
                for inst, expert in assigned if rng.random() < 0.85])
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at("2022-01-21 00:00"))
    db.dispose()
    print(f"  built {n} ДОУ (synthetic) into {url.split(':')[0]} in {time.perf_counter() - start:.0f} s", flush=True)
    mark.touch()


def pg_url(n: int) -> str:
    import psycopg

    name = f"spravka_bench_{n}"
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def timed(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS in MB) of one process."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024  # type: ignore[union-attr]
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr).group(1))  # type: ignore[union-attr]
              for kind in ("User", "System"))
    return wall, cpu, peak


def size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(label: str, dqflow: str, url: str, fmt: str, out: Path, runs: int) -> None:
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        if out.is_dir():
            shutil.rmtree(out)
        wall, cpu, peak = timed([dqflow, "--db", url, "report", "--format", fmt, "--out", str(out), "--now", NOW])
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
    what = f"{fmt} → {'folder' if fmt == 'csv' or not out.suffix else 'file'}"
    print(f"  {label:<8} {what:<14} {statistics.median(walls):7.2f} s wall (min {min(walls):.2f}), "
          f"{statistics.median(cpus):6.2f} s CPU  peak {max(peaks):6.0f} MB  "
          f"output {size(out) / 1e6:8.2f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--db-folder", type=Path, default=Path("/tmp/spravka-bench"))
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--before", help="another installation's dqflow executable, measured on the same databases")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-folder", action="store_true", help="leave out --format html --out DIR")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="sizes from N up are built by `synthetic` (load, reconcile, hand-ins and reviews as sets), not replayed")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", flush=True)
    floor = [timed([DQFLOW, "--version"]) for _ in range(args.runs)]
    print(f"floor: dqflow --version {statistics.median(f[0] for f in floor):.2f} s wall, "
          f"{statistics.median(f[1] for f in floor):.2f} s CPU, {max(f[2] for f in floor):.0f} MB", flush=True)
    for n in args.sizes:
        urls = {"sqlite": f"sqlite:///{args.db_folder / f'n{n}' / 'sim.db'}"}
        if args.pg:
            urls["postgres"] = pg_url(n)
        for backend, url in urls.items():
            (synthetic if args.synthetic and n >= args.synthetic else build)(args.db_folder, n, url)
            print(f"{n} ДОУ, {backend} (load {os.getloadavg()[0]:.1f}):", flush=True)
            out = args.db_folder / f"n{n}" / f"out-{backend}"
            out.mkdir(exist_ok=True)
            for label, dqflow in [("after", DQFLOW)] + ([("before", args.before)] if args.before else []):
                measure(label, dqflow, url, "html", out / f"{label}.html", args.runs)
                if not args.no_folder and label == "after":
                    measure(label, dqflow, url, "html", out / f"{label}-pages", args.runs)
                measure(label, dqflow, url, "csv", out / f"{label}-csv", args.runs)


if __name__ == "__main__":
    main()
