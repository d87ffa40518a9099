#!/usr/bin/env python3
"""The справка по показателям at national scale (issue 21 parts 6–7): `report` as whole processes on a form campaign.

    .venv/bin/python benchmarks/indicators.py [N …] [--indicators 30] [--runs R] [--folder DIR] [--db URL] [--json PATH]
        [--formats html,csv,xlsx,docx] [--no-floors] [--keep DIR]

For each N (default 1000 and 50000) a form campaign is prepared once in DIR (default: a temporary folder; --folder
keeps it for the next run): `roster.py`'s seeded roster (1–2 experts per ДОУ) on the Tomsk schedule with fill, refill
and final fix marked `form: true` and its areas carrying `--indicators` indicators in all; loaded, reconciled to
25.11.2021 12:00 (list 1 drawn); then, as sets (INSERT … SELECT in the database, not through the acts): every ДОУ's
fill-form handed in with its own level for every indicator, a review by every assigned expert in review 1 with a level
for every indicator (the second expert differs on about one indicator in five), a settlement on every tenth ДОУ's first
indicator; reconciled again (a tick: the final levels kept, `engine.catch_up_finals`); ANALYZE. With --db URL (a
PostgreSQL server's URL without a database) it is made in a database `indicators_N` there instead of a SQLite file.

Then, as of 03.12.2021 12:00, each a process of its own, in turn with the floors measured in the same run:

- `dqflow report --format html --out FILE.html` (the summary with «Показатели»; a section per ДОУ up to 300 ДОУ),
  `--format csv --out DIR` (indicators.csv among the files), `--format xlsx --out FILE` (two sheets of indicators);
- the floors: `dqflow status` (process start, definition, counts) and a bare `SELECT count(*) FROM review_level`
  in a Python process with SQLAlchemy (the interpreter, the driver, one scan of the biggest table).

Printed: wall and CPU seconds (user + system), peak RSS of the child (`os.wait4`), min / median / max of R runs, the
size written, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import yaml  # noqa: E402
from exports import Figure, measure  # noqa: E402
from roster import campaign_file  # noqa: E402

NOW = "2021-12-03 12:00"
PYTHON = sys.executable
FORM_STAGES = ("fill-form", "refill", "final-fix")


def form_campaign(folder: Path, n: int, indicators: int) -> Path:
    """`roster.py`'s campaign of n ДОУ with a form of `indicators` indicators spread over its areas."""
    path = campaign_file(folder, n, experts=2, seed=1)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"indicators-{n}"
    for stage in data["stages"]:
        if stage["id"] in FORM_STAGES:
            stage["form"] = True
    areas = data["areas"]
    for a, area in enumerate(areas):
        count = indicators // len(areas) + (1 if a < indicators % len(areas) else 0)
        area["indicators"] = [{"id": f"{a + 1}.{k + 1}", "title": f"Показатель {a + 1}.{k + 1}", "evidence": "optional"}
                              for k in range(count)]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare(folder: Path, n: int, indicators: int, server: str | None, database: str | None = None) -> tuple[str, str]:
    """The form campaign at N ДОУ, built as sets (kept for the next run): (its database URL, its id)."""
    from sqlalchemy import create_engine, text

    folder.mkdir(parents=True, exist_ok=True)
    name = database or f"indicators_{n}"
    url = f"{server.rstrip('/')}/{name}" if server else f"sqlite:///{folder / 'dqflow.db'}"
    ready = folder / ("ready-pg" if server else "ready")
    campaign_id = f"indicators-{n}"
    if ready.exists():
        return url, campaign_id
    if server:
        admin = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        for stale in folder.glob("dqflow.db*"):
            stale.unlink()
    from dqflow import engine, store
    from dqflow.calendar import parse_local
    from dqflow.campaign import spec

    started = time.perf_counter()
    campaign = spec.load(form_campaign(folder, n, indicators))
    db = store.connect(url)
    at = lambda moment: parse_local(moment, campaign.tz)  # noqa: E731
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-18 09:00"))
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at("2021-11-25 12:00"))
    ids = list(campaign.indicators)
    with store.transaction(db) as session:
        session.execute(text("CREATE TEMPORARY TABLE bench_indicator (indicator_id VARCHAR PRIMARY KEY, n INTEGER)"))
        session.execute(text("INSERT INTO bench_indicator (indicator_id, n) VALUES (:i, :n)"), [{"i": i, "n": k} for k, i in enumerate(ids)])
        when = {"at": at("2021-11-20 12:00"), "review": at("2021-12-01 12:00"), "c": campaign.id}
        session.execute(text("UPDATE progress SET status = 'done', submitted_at = :at WHERE campaign_id = :c AND stage_id = 'fill-form'"),
                        when)
        session.execute(text(
            "INSERT INTO form_entry (campaign_id, institution_id, stage_id, indicator_id, level, comment, updated_at) "
            "SELECT i.campaign_id, i.id, 'fill-form', b.indicator_id, CAST((i.position * 7 + b.n * 13) % 4 + 1 AS VARCHAR), NULL, :at "
            "FROM institution i CROSS JOIN bench_indicator b WHERE i.campaign_id = :c"), when)
        session.execute(text(
            "INSERT INTO review (campaign_id, stage_id, institution_id, expert_id, at, levels, recommendations) "
            "SELECT a.campaign_id, 'review1', a.institution_id, a.expert_id, :review, '{}', 'Рекомендации эксперта.' "
            "FROM assignment a WHERE a.campaign_id = :c AND a.stage_id = 'list1'"), when)
        session.execute(text(
            "INSERT INTO review_level (campaign_id, stage_id, institution_id, expert_id, indicator_id, level, comment) "
            "SELECT a.campaign_id, 'review1', a.institution_id, a.expert_id, b.indicator_id, "
            "CAST((i.position * 5 + b.n * 3 + CASE WHEN a.expert_id LIKE '%-2' AND (i.position + b.n) % 5 = 0 THEN 1 ELSE 0 END) % 4 + 1 "
            "AS VARCHAR), NULL FROM assignment a JOIN institution i ON i.campaign_id = a.campaign_id AND i.id = a.institution_id "
            "CROSS JOIN bench_indicator b WHERE a.campaign_id = :c AND a.stage_id = 'list1'"), when)
        session.execute(text(
            "INSERT INTO settlement (campaign_id, stage_id, institution_id, indicator_id, level, reason, at) "
            "SELECT i.campaign_id, 'review1', i.id, :first, '2', 'решение координатора', :review FROM institution i "
            "WHERE i.campaign_id = :c AND i.position % 10 = 0"), {**when, "first": ids[0]})
    with store.transaction(db) as session:  # as the next tick would: the final levels the sets left marked kept (issue 23),
        engine.reconcile(session, campaign.id, at("2021-11-25 12:00"))
    engine.catch_up_finals(lambda: store.dry_run(db), lambda: store.transaction(db), campaign)  # …in steps, once committed
    with db.connect() as connection:
        if db.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()
        rows = connection.execute(text("SELECT count(*) FROM review_level")).scalar_one()
    db.dispose()
    ready.write_text("")
    print(f"prepared {n:,} ДОУ × {len(ids)} indicators ({rows:,} expert levels) in {time.perf_counter() - started:.0f} s: {url}",
          file=sys.stderr)
    return url, campaign_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 50000])
    parser.add_argument("--indicators", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="Keep the prepared campaigns here (reused when present).")
    parser.add_argument("--db", metavar="URL", help="A PostgreSQL server (URL without a database) instead of SQLite.")
    parser.add_argument("--json", type=Path, help="Write every figure here too.")
    parser.add_argument("--database", help="With --db: the database's name on that server (default indicators_N).")
    parser.add_argument("--no-warmup", action="store_true", help="Count the first run too (a slow machine, a big N).")
    parser.add_argument("--formats", default="html,csv,xlsx", help="The report's formats to measure (html,csv,xlsx,docx).")
    parser.add_argument("--no-floors", action="store_true", help="Measure the reports alone.")
    parser.add_argument("--keep", type=Path, help="Keep the outputs here (to compare two versions' bytes).")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # the child that builds one campaign (see below)
    args = parser.parse_args()
    if args.prepare is not None:  # in a process of its own: a child forked from a big parent would count its pages as its peak
        print(json.dumps(prepare(args.prepare, args.sizes[0], args.indicators, args.db, args.database)))
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dqflow-indicators-"))
    out = args.keep or Path(tempfile.mkdtemp(prefix="dqflow-indicators-out-"))
    out.mkdir(parents=True, exist_ok=True)
    formats = args.formats.split(",")
    dqflow = str(Path(PYTHON).with_name("dqflow"))
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", file=sys.stderr)
    figures: list[Figure] = []
    for n in sorted(args.sizes):
        built = subprocess.run([PYTHON, __file__, str(n), "--indicators", str(args.indicators), "--prepare", str(folder / str(n)),
                                *(["--db", args.db] if args.db else []), *(["--database", args.database] if args.database else [])],
                               stdout=subprocess.PIPE, text=True, check=True)
        url, campaign_id = json.loads(built.stdout)
        tag = f"{n:,} ДОУ × {args.indicators}"
        base = [dqflow, "--db", url, "--campaign", campaign_id]
        count = ("import sqlalchemy as s, sys; e = s.create_engine(sys.argv[1]); "
                 "c = e.connect(); print(c.execute(s.text('SELECT count(*) FROM review_level')).scalar_one())")
        if not args.no_floors:
            figures.append(Figure(f"{tag}: SELECT count(*) review_level (floor)", [PYTHON, "-c", count, url]))
            figures.append(Figure(f"{tag}: status (floor)", [*base, "status", "--now", NOW]))
        for fmt, target in (("html", out / f"{n}.html"), ("csv", out / f"csv-{n}"), ("xlsx", out / f"{n}.xlsx"),
                            ("docx", out / f"{n}.docx")):
            if fmt not in formats:
                continue
            figures.append(Figure(f"{tag}: report --format {fmt}", [*base, "report", "--format", fmt, "--out", str(target), "--now", NOW],
                                  target))
    measure(figures, args.runs, not args.no_warmup, "PostgreSQL" if args.db else "SQLite", args.json)
    if args.keep is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
