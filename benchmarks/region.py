"""The regional справка at a region's scale (issue 22, part 5): M municipalities × N ДОУ over two years in one database.

    .venv/bin/python benchmarks/region.py [--municipalities 40] [--dou 300] [--db URL|postgresql|sqlite] [--runs 3] [--folder DIR]

The data is built set-based: one campaign of N ДОУ (the seeded roster of benchmarks/roster.py on the Tomsk schedule,
1–2 experts a ДОУ) is replayed whole by `dqflow simulate --keep-db` into the database, then copied with INSERT…SELECT
as M municipalities × 2 years (`copy_campaign`: every table of the campaign, its id, title and definition rewritten;
the second year's campaigns name the first as `previous`, and keep its dates). The replayed campaign stays (the audit
log is append-only): the database holds 2·M + 1 campaigns.
`--db postgresql` makes a fresh database `region_bench` on the server of DQFLOW_TEST_PG; `sqlite` (default) a file.
With `--folder DIR` a SQLite database already built there is used as it is, and `--db URL` names a database an
earlier run built (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/region_bench), used as it is.

Then, in turn, `runs` times each, as whole processes (wall seconds, CPU seconds of the process, its peak RSS):
- floor: `dqflow --version`, and a process that connects and sends one `SELECT count(*)` over the progress of the
  year's M campaigns (what any command reading that database cannot beat);
- `dqflow region report` of the M campaigns of the second year, in each format (html, xlsx, docx, csv);
- `dqflow publish` of one municipality (N ДОУ in a database of 2·M campaigns).
It prints the minimum and median of each, the SQL statements one region report sends (counted in-process, for M and
for 2 campaigns: the same number but the one definition read per campaign), and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy
from sqlalchemy import Integer, literal, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster import campaign_file  # noqa: E402

DQFLOW = str(Path(sys.executable).with_name("dqflow"))
PG_SERVER = os.environ.get("DQFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
NOW = "2022-01-21 12:00"
TEMPLATE_TITLE = "Мониторинг качества дошкольного образования, г. Томск, 2021"
# a campaign's rows: what the figures, the pages and the audit read (the outbox, sessions and sign-ins are not copied)
TABLES = ["stage", "institution", "expert", "assignment", "review", "review_level", "settlement", "progress", "submission",
          "extension", "audit", "form_entry", "form_evidence", "link", "link_check"]


def fresh_database(kind: str, folder: Path, name: str = "region") -> str:
    """A URL of an empty database: `postgresql` (NAME_bench on the test server, dropped and made again), `sqlite`
    (NAME.db in `folder`), or a URL as given."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}"
    if kind != "postgresql":
        return kind
    admin = sqlalchemy.create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}_bench WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}_bench"))
    admin.dispose()
    return f"{PG_SERVER}/{name}_bench"


def replay(url: str, folder: Path, n: int) -> str:
    """One campaign of `n` ДОУ replayed whole into `url`; its id."""
    path = campaign_file(folder, n, experts=2, seed=1)
    subprocess.run([DQFLOW, "simulate", str(path), "--keep-db", url], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return f"national-{n}"


def copy_campaign(db: sqlalchemy.Engine, source: str, target: str, title: str, *, previous: str | None = None,
                  suffix: str | None = None) -> None:
    """Every row of campaign `source` again as campaign `target` (INSERT…SELECT per table, one transaction); with
    `suffix`, into `target` as more ДОУ: every ДОУ and expert id (and ДОУ name) gets the suffix. The definition is
    rewritten (id, title, previous; with a suffix its roster grows by the copies)."""
    meta = sqlalchemy.MetaData()
    meta.reflect(db, only=["campaign", *TABLES])
    with db.begin() as conn:
        campaign = meta.tables["campaign"]
        if suffix is None:
            definition = conn.execute(select(campaign.c.definition).where(campaign.c.id == source)).scalar_one()
            head, _, roster = definition.partition("\n")
            data = json.loads(head)
            data["id"], data["title"], data["previous"] = target, title, previous
            values = {c.name: c for c in campaign.c}
            values.update(id=literal(target), title=literal(title))
            values["definition"] = literal(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n" + roster)
            conn.execute(campaign.insert().from_select(list(values), select(*values.values()).where(campaign.c.id == source)))
        for name in TABLES:
            table = meta.tables[name]
            if suffix is not None and name in ("stage", "link", "link_check"):
                continue  # the campaign's own rows, not its ДОУ's
            columns = {}
            for c in table.c:
                if c.name == "id" and isinstance(c.type, Integer):
                    continue  # a serial id: the database gives the copy its own
                value = literal(target) if c.name == "campaign_id" else c
                if suffix is not None and (c.name in ("institution_id", "expert_id") or (name in ("institution", "expert") and c.name == "id")
                                           or (name == "institution" and c.name == "name")):
                    value = c + literal(suffix)  # NULL stays NULL (an audit line of no ДОУ)
                columns[c.name] = value
            conn.execute(table.insert().from_select(list(columns), select(*columns.values()).where(table.c.campaign_id == source)))
        if suffix is not None:
            definition = conn.execute(select(campaign.c.definition).where(campaign.c.id == target)).scalar_one()
            head, _, roster = definition.partition("\n")
            original = conn.execute(select(campaign.c.definition).where(campaign.c.id == source)).scalar_one().partition("\n")[2]
            grown = json.loads(roster) + [{**i, "id": i["id"] + suffix, "name": i["name"] + suffix,
                                          "experts": [{**e, "id": e["id"] + suffix} for e in i["experts"]]}
                                         for i in json.loads(original)]
            conn.execute(campaign.update().where(campaign.c.id == target)
                         .values(definition=head + "\n" + json.dumps(grown, ensure_ascii=False)))


def analyze(db: sqlalchemy.Engine) -> None:
    with db.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def build_region(url: str, folder: Path, m: int, n: int) -> list[list[str]]:
    """M municipalities × 2 years of N ДОУ each; the campaign ids of each year."""
    start = time.perf_counter()
    template = replay(url, folder, n)
    print(f"replayed one campaign of {n} ДОУ in {time.perf_counter() - start:.0f} s (not timed below)", flush=True)
    db = sqlalchemy.create_engine(url)
    start = time.perf_counter()
    years: list[list[str]] = [[], []]
    for k in range(1, m + 1):
        for y, year in enumerate((2021, 2022)):
            target = f"mun-{k:02d}-{year}"
            copy_campaign(db, template, target, f"Мониторинг качества дошкольного образования, муниципалитет {k:02d}, {year}",
                          previous=f"mun-{k:02d}-2021" if y else None)
            years[y].append(target)
    analyze(db)
    print(f"copied as {m} municipalities × 2 years in {time.perf_counter() - start:.1f} s", flush=True)
    db.dispose()
    return years


def run(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one process, as GNU time measures it (a child
    forked from this process would start with this process's RSS as its peak)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measured:
        child = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", measured.name, *args], cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if child.returncode:
            raise SystemExit(f"{' '.join(args)} failed: {child.stderr.decode()}")
        wall, user, system, peak = measured.read().split()[-4:]
    return float(wall), float(user) + float(system), int(peak) / 1024


def report(figures: dict[str, list[tuple[float, float, float]]]) -> None:
    floor = min(w for w, _, _ in figures["floor: SELECT count(*) over progress"])
    for name, runs in figures.items():
        wall = [w for w, _, _ in runs]
        cpu = [c for _, c, _ in runs]
        print(f"  {name:<44} wall min {min(wall):6.2f} s  median {statistics.median(wall):6.2f} s   CPU min {min(cpu):6.2f} s   "
              f"peak {max(p for _, _, p in runs):5.0f} MB   {min(wall) / floor:5.1f}× floor", flush=True)


def statements(argv: list[str], out: str) -> int:
    """The SQL statements one dqflow command sends, run in this process with `out` a fresh path in a temporary folder."""
    from click.testing import CliRunner

    from dqflow.cli import cli
    from dqflow.engine import definitions

    definitions._PARSED.clear()  # as in a fresh process: no definition parsed by an earlier count
    seen: list[str] = []

    def count(*a):
        seen.append(a[2])

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    try:
        with tempfile.TemporaryDirectory() as folder:
            result = CliRunner().invoke(cli, [*argv, "--out", str(Path(folder) / out), "--now", NOW])
            assert result.exit_code == 0, result.output
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    return len(seen)


def region_statements(url: str, ids: list[str]) -> int:
    return statements(["--db", url, "region", "report", *[a for c in ids for a in ("--campaign", c)], "--format", "csv"], "csv")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--municipalities", type=int, default=40)
    parser.add_argument("--dou", type=int, default=300)
    parser.add_argument("--db", default="sqlite", help="postgresql, sqlite (default), or the URL of a database an earlier run built")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None, help="keep the SQLite database here (reused when present)")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        kept = (args.db == "sqlite" and (folder / "region.db").exists()) or "://" in args.db
        url = fresh_database(args.db, folder) if not kept else args.db if "://" in args.db else f"sqlite:///{folder / 'region.db'}"
        if kept:
            years = [[f"mun-{k:02d}-{y}" for k in range(1, args.municipalities + 1)] for y in (2021, 2022)]
            print(f"the database kept in {folder}")
        else:
            years = build_region(url, folder, args.municipalities, args.dou)
        ids = years[1]
        quoted = ", ".join(f"'{c}'" for c in ids)
        floor_sql = (f"import sqlalchemy; e = sqlalchemy.create_engine({url!r}); c = e.connect(); "
                     f"print(c.execute(sqlalchemy.text(\"SELECT count(*) FROM progress WHERE campaign_id IN ({quoted})\")).scalar())")
        campaigns = [a for c in ids for a in ("--campaign", c)]
        commands = {
            "floor: dqflow --version": [DQFLOW, "--version"],
            "floor: SELECT count(*) over progress": [sys.executable, "-c", floor_sql],
            **{f"region report --format {fmt}": [DQFLOW, "--db", url, "region", "report", *campaigns, "--format", fmt,
                                                 "--out", f"region-out/r.{fmt}" if fmt != "csv" else "region-out/csv", "--now", NOW]
               for fmt in ("html", "xlsx", "docx", "csv")},
            f"publish (one municipality, {args.dou} ДОУ)": [DQFLOW, "--db", url, "--campaign", ids[0], "publish", "--out", "site",
                                                            "--now", NOW],
        }
        print(f"\n{args.municipalities} municipalities × {args.dou} ДОУ × 2 years on {url.split(':')[0]}; region report of the "
              f"{len(ids)} campaigns of the second year ({len(ids) * args.dou} ДОУ)", flush=True)
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                shutil.rmtree(folder / "site", ignore_errors=True)
                figures[name].append(run(command, folder))
        report(figures)
        sizes = {p.name: p.stat().st_size for p in (folder / "region-out").iterdir() if p.is_file()}
        print(f"  files: {', '.join(f'{k} {v / 1024:.0f} KiB' for k, v in sorted(sizes.items()))}")
        region_statements(url, ids[:1])  # the first command of a process also checks the schema's version
        print(f"  SQL statements of one region report: {region_statements(url, ids)} for {len(ids)} campaigns, "
              f"{region_statements(url, ids[:2])} for 2 (the definition's digest and text read per campaign, the figures in the "
              "same statements)")
        shutil.rmtree(folder / "region-out", ignore_errors=True)
        shutil.rmtree(folder / "site", ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
