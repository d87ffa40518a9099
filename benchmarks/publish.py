"""`dqflow publish` as a whole process on a replayed campaign of N ДОУ (issue 22, part 3).

    .venv/bin/python benchmarks/publish.py [--runs 3] [--folder DIR] [N…]     # default: 1000 10000

For each N: the seeded roster on the Tomsk schedule (benchmarks/roster.py, 1–2 experts a ДОУ) is replayed by
`dqflow simulate --keep-db` (not timed; with `--folder DIR` the database is kept as DIR/N/replayed.db and a
database already there is used as it is), then, in turn, `runs` times each:

- floor: `dqflow --version` (a process that loads no database) and `dqflow report --format csv` at the same moment
  (the same `results.compute`, a few small files written): what publish cannot beat;
- `dqflow publish --out DIR` at the same moment.

Prints the minimum and median wall seconds and the peak RSS of each, the SQL statements one publish sends (counted
in-process: a bounded number whatever N, `results.compute`'s set-based reads), the site's files and bytes, and
whether two runs wrote the same bytes. Load average before and after.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster import campaign_file  # noqa: E402

DQFLOW = str(Path(sys.executable).with_name("dqflow"))
NOW = "2022-01-21 12:00"


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MB of one process."""
    start = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = child.communicate()
    took = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"{' '.join(args)} failed: {err.decode()}")
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def digest(folder: Path) -> tuple[str, int, int]:
    sha, count, size = hashlib.sha256(), 0, 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            sha.update(str(path.relative_to(folder)).encode() + b"\0" + data)
            count, size = count + 1, size + len(data)
    return sha.hexdigest()[:16], count, size


def statements(db: str) -> int:
    """The SQL statements one publish sends, counted in this process."""
    import sqlalchemy
    from click.testing import CliRunner

    from dqflow.cli import cli

    seen: list[str] = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", listener)
    try:
        with tempfile.TemporaryDirectory() as out:
            result = CliRunner().invoke(cli, ["--db", db, "publish", "--out", str(Path(out) / "site"), "--now", NOW])
            assert result.exit_code == 0, result.output
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", listener)
    return len(seen)


def main(sizes: list[int], runs: int, kept: Path | None) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = kept / str(n) if kept else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            db = f"sqlite:///{folder / 'replayed.db'}"
            if (folder / "replayed.db").exists():
                print(f"\n{n} ДОУ: the database kept in {folder}")
            else:
                path = campaign_file(folder, n, experts=2, seed=1)
                start = time.perf_counter()
                subprocess.run([DQFLOW, "simulate", str(path), "--keep-db", db], cwd=folder, check=True, stdout=subprocess.DEVNULL)
                print(f"\n{n} ДОУ: replayed in {time.perf_counter() - start:.0f} s (not timed below)")
            for made in ("site", "csv"):
                shutil.rmtree(folder / made, ignore_errors=True)
            commands = {
                "floor: dqflow --version": [DQFLOW, "--version"],
                "floor: report --format csv": [DQFLOW, "--db", db, "report", "--format", "csv", "--out", "csv", "--now", NOW],
                "publish": [DQFLOW, "--db", db, "publish", "--out", "site", "--now", NOW],
            }
            figures: dict[str, list[float]] = {name: [] for name in commands}
            peaks: dict[str, float] = {}
            digests = []
            for _ in range(runs):
                for name, args in commands.items():
                    took, peak = timed(args, folder)
                    figures[name].append(took)
                    peaks[name] = peak  # RUSAGE_CHILDREN is the largest child so far: publish runs last
                    if name == "publish":
                        digests.append(digest(folder / "site"))
            for name, took in figures.items():
                print(f"  {name:<28} min {min(took):6.2f} s   median {statistics.median(took):6.2f} s   (runs: {len(took)})")
            print(f"  peak RSS of the largest child so far: {peaks['publish']:.0f} MB")
            sha, count, size = digests[-1]
            print(f"  site: {count} files, {size / 1e6:.1f} MB; same bytes every run: {len(set(digests)) == 1} ({sha})")
            print(f"  SQL statements one publish sends: {statements(db)}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


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
    main([int(a) for a in args] or [1000, 10000], runs, kept)
