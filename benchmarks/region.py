"""The regional справка at a region's scale (issue 22, part 5): M municipalities × N ДОУ in one database.

    .venv/bin/python benchmarks/region.py [M] [N] [--db URL]

Loads M copies of the Tomsk schedule (N ДОУ each, one expert each) and brings them to fill-form's opening,
with every 30th ДОУ handing in (--every). Then it times a floor (one bare GROUP BY of every campaign's stored
statuses), each campaign's `figures.compute` (which `region report` calls once per municipality), the regional
merge with its HTML and CSV rendering, and the whole `dqflow region report` through the CLI. No reviews are recorded: the levels and
agreement tables are all zeros, so what is timed is the reading of M campaigns and the merge."""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from dqflow import engine, results, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.cli import cli
from dqflow.results import region
from dqflow.store import ProgressRow

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"


def campaign_file(folder: Path, m: int, n: int) -> Path:
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"], data["campaign"]["title"] = f"mun-{m:02d}", f"Мониторинг, муниципалитет {m:02d}, 2021"
    data["institutions"] = {"file": f"roster-{m:02d}.csv"}
    rows = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    rows += [f"{i},ДОУ № {i},dou{i}@m{m}.example.org,,e{i},Эксперт ДОУ № {i},expert{i}@m{m}.example.org" for i in range(1, n + 1)]
    (folder / f"roster-{m:02d}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / f"mun-{m:02d}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def timed(label: str, start: float) -> float:
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<58} {took:8.2f} s   peak RSS {peak:7.0f} MB", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("m", type=int, nargs="?", default=40)
    parser.add_argument("n", type=int, nargs="?", default=300)
    parser.add_argument("--every", type=int, default=30, help="every EVERY-th ДОУ hands in (default 30)")
    parser.add_argument("--db", default=None, help="a database URL (an empty one); default a SQLite file in a temporary folder")
    args = parser.parse_args()
    print(f"{args.m} municipalities × {args.n} ДОУ; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.db or f"sqlite:///{folder / 'region.db'}"
        db = store.connect(url)
        ids = []
        start = time.perf_counter()
        for m in range(1, args.m + 1):
            campaign = spec.load(campaign_file(folder, m, args.n))
            tz = campaign.tz
            with store.transaction(db) as s:
                engine.load(s, campaign, parse_local("2021-11-18", tz))
            with store.transaction(db) as s:
                engine.reconcile(s, campaign.id, parse_local("2021-11-19 00:00", tz))
            with store.transaction(db) as s:  # some ДОУ hand in (the submission path is not what is timed)
                rows = s.exec(select(ProgressRow).where(ProgressRow.campaign_id == campaign.id, ProgressRow.stage_id == "fill-form")).all()
                for row in rows[::args.every]:
                    engine.submit(s, campaign.id, row.institution_id, "fill-form", parse_local("2021-11-24 10:00", tz),
                                  links=("https://example.org/f",))
            ids.append(campaign.id)
        timed(f"set-up: load, open and hand in ({args.m} campaigns)", start)
        now = parse_local("2021-11-26 10:00", tz)
        start = time.perf_counter()
        with store.dry_run(db) as s:  # the bare SQL floor: the stored statuses counted per campaign and stage, one query
            s.exec(text("SELECT campaign_id, stage_id, status, count(*) FROM progress GROUP BY campaign_id, stage_id, status")).all()
        timed("floor: one bare GROUP BY of every campaign's progress", start)
        start = time.perf_counter()
        with store.dry_run(db) as s:
            found = [results.compute(s, campaign_id, now) for campaign_id in ids]
        floor = timed("figures.compute of every campaign, one session", start)
        start = time.perf_counter()
        figures = region.merge(found)
        page = region.html(figures)
        files = region.csv_files(figures)
        timed(f"merge + HTML ({len(page) // 1024} KiB) + CSV ({len(files)} files)", start)
        start = time.perf_counter()
        argv = ["--db", url, "region", "report", *[a for c in ids for a in ("--campaign", c)], "--out", str(folder / "r.html"),
                "--now", "2021-11-26 10:00"]
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 0, result.output
        whole = timed("dqflow region report (HTML), in-process", start)
        print(f"   the whole command is {whole / floor:.2f}× the figures it reads; {len(figures.municipalities)} municipalities, "
              f"{figures.institutions} ДОУ, {figures.handed_in} hand-ins of {figures.expected}")


if __name__ == "__main__":
    main()
