"""`dqflow publish` as a whole process on a replayed campaign of N ДОУ (issue 22, parts 3 and 5).

    .venv/bin/python benchmarks/publish.py [--runs 3] [--folder DIR] [N…]     # default: 1000 10000
    .venv/bin/python benchmarks/publish.py --copied [--db postgresql|sqlite] [--runs 3] [N…]     # default: 12000

With `--copied` the campaign of N ДОУ is built set-based (benchmarks/region.py): one campaign of 300 ДОУ replayed
whole, then copied into one campaign N/300 times with INSERT…SELECT (each copy's ДОУ and experts get their own ids),
on SQLite or on a fresh PostgreSQL database `publish_bench`; the floor is then also a process sending one
`SELECT count(*)` over the campaign's progress. Without it the seeded roster of N is replayed by simulate (slow at
10,000).

For each N: the seeded roster on the Tomsk schedule (benchmarks/roster.py, 1–2 experts a ДОУ) is replayed by
`dqflow simulate --keep-db` (not timed; with `--folder DIR` the database is kept as DIR/N/replayed.db and a
database already there is used as it is), then, in turn, `runs` times each:

- floor: `dqflow --version` (a process that loads no database) and `dqflow report --format csv` at the same moment
  (the same `results.compute`, a few small files written): what publish cannot beat;
- `dqflow publish --out DIR` at the same moment;
- in-process, one publish's parts: the figures (`results.compute`), the pages and data rendered (`publish.build`),
  the folder written (`publish.write`).

Prints the minimum and median wall seconds, the CPU seconds and the peak RSS of each process (its own rusage), the
SQL statements one publish sends (counted in-process: a bounded number whatever N, `results.compute`'s set-based
reads), the site's files and bytes, and whether two runs wrote the same bytes. Load average before and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from region import copy_campaign, fresh_database, replay, run, statements  # noqa: E402
from roster import campaign_file  # noqa: E402

DQFLOW = str(Path(sys.executable).with_name("dqflow"))
NOW = "2022-01-21 12:00"


def digest(folder: Path) -> tuple[str, int, int]:
    sha, count, size = hashlib.sha256(), 0, 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            sha.update(str(path.relative_to(folder)).encode() + b"\0" + data)
            count, size = count + 1, size + len(data)
    return sha.hexdigest()[:16], count, size


def parts(db: str, campaign_id: str | None, out: Path) -> str:
    """One publish's parts timed in this process: figures, rendering, writing."""
    from dqflow import engine, results, store
    from dqflow.calendar import parse_local
    from dqflow.results import publish

    engine_ = store.connect(db)
    with store.dry_run(engine_) as session:
        campaign = engine.definition(session, campaign_id)
        start = time.perf_counter()
        figures = results.compute(session, campaign.id, parse_local(NOW, campaign.tz))
        computed = time.perf_counter() - start
    start = time.perf_counter()
    files = publish.build(figures)
    built = time.perf_counter() - start
    start = time.perf_counter()
    publish.write(files, out)
    written = time.perf_counter() - start
    engine_.dispose()
    return f"figures {computed:.2f} s, pages and data rendered {built:.2f} s, written {written:.2f} s"


def copied(kind: str, folder: Path, n: int) -> tuple[str, str]:
    """A campaign of `n` ДОУ made of a replayed one of 300 copied n/300 times: its database URL and id."""
    url = fresh_database(kind, folder, "publish")
    start = time.perf_counter()
    template = replay(url, folder, 300)
    print(f"replayed one campaign of 300 ДОУ in {time.perf_counter() - start:.0f} s (not timed below)", flush=True)
    db = sqlalchemy_engine(url)
    start = time.perf_counter()
    target = f"publish-{n}"
    copy_campaign(db, template, target, f"Мониторинг качества дошкольного образования, {n} ДОУ, 2021")
    for k in range(2, n // 300 + 1):
        copy_campaign(db, template, target, "", suffix=f"-{k}")
    with db.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    db.dispose()
    print(f"copied into one campaign of {n} ДОУ in {time.perf_counter() - start:.1f} s", flush=True)
    return url, target


def sqlalchemy_engine(url: str):
    import sqlalchemy

    return sqlalchemy.create_engine(url)


def main(sizes: list[int], runs: int, kept: Path | None, kind: str | None) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = kept / str(n) if kept else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            campaign: list[str] = []
            if kind is not None:
                db, campaign_id = copied(kind, folder, n)
                campaign = ["--campaign", campaign_id]
                print(f"\n{n} ДОУ in one campaign on {db.split(':')[0]}")
            elif (folder / "replayed.db").exists():
                db = f"sqlite:///{folder / 'replayed.db'}"
                print(f"\n{n} ДОУ: the database kept in {folder}")
            else:
                db = f"sqlite:///{folder / 'replayed.db'}"
                path = campaign_file(folder, n, experts=2, seed=1)
                start = time.perf_counter()
                subprocess.run([DQFLOW, "simulate", str(path), "--keep-db", db], cwd=folder, check=True, stdout=subprocess.DEVNULL)
                print(f"\n{n} ДОУ: replayed in {time.perf_counter() - start:.0f} s (not timed below)")
            for made in ("site", "csv"):
                shutil.rmtree(folder / made, ignore_errors=True)
            commands = {"floor: dqflow --version": [DQFLOW, "--version"]}
            if campaign:
                where = f"WHERE campaign_id = '{campaign[1]}'"
                commands["floor: SELECT count(*) over progress"] = [
                    sys.executable, "-c", f"import sqlalchemy; e = sqlalchemy.create_engine({db!r}); c = e.connect(); "
                                          f"print(c.execute(sqlalchemy.text(\"SELECT count(*) FROM progress {where}\")).scalar())"]
            commands["floor: report --format csv"] = [DQFLOW, "--db", db, *campaign, "report", "--format", "csv", "--out", "csv",
                                                      "--now", NOW]
            commands["publish"] = [DQFLOW, "--db", db, *campaign, "publish", "--out", "site", "--now", NOW]
            figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
            digests = []
            for _ in range(runs):
                for name, args in commands.items():
                    figures[name].append(run(args, folder))
                    if name == "publish":
                        digests.append(digest(folder / "site"))
            for name, measured in figures.items():
                wall = [w for w, _, _ in measured]
                print(f"  {name:<40} wall min {min(wall):6.2f} s  median {statistics.median(wall):6.2f} s   "
                      f"CPU min {min(c for _, c, _ in measured):6.2f} s   peak {max(p for _, _, p in measured):5.0f} MB", flush=True)
            sha, count, size = digests[-1]
            print(f"  site: {count} files, {size / 1e6:.1f} MB; same bytes every run: {len(set(digests)) == 1} ({sha})")
            print(f"  one publish in-process: {parts(db, campaign[1] if campaign else None, folder / 'site-parts')}")
            sent = statements(["--db", db, *campaign, "publish"], "site")
            print(f"  SQL statements one publish sends: {sent}")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    args = sys.argv[1:]
    runs = 3
    if "--runs" in args:
        at = args.index("--runs")
        runs = int(args[at + 1])
        del args[at:at + 2]
    kept = None
    if "--folder" in args:
        at = args.index("--folder")
        kept = Path(args[at + 1])
        del args[at:at + 2]
    kind = None
    if "--copied" in args:
        args.remove("--copied")
        kind = "sqlite"
    if "--db" in args:
        at = args.index("--db")
        kind = args[at + 1]
        del args[at:at + 2]
    main([int(a) for a in args] or ([12000] if kind else [1000, 10000]), runs, kept, kind)
