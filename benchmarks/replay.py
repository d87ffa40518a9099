"""`simulate`'s replay of a seeded national roster (benchmarks/roster.py), without a maildir.

    .venv/bin/python benchmarks/replay.py [--floor] [--json] [N…]
    .venv/bin/python benchmarks/replay.py --floor-of KEPT.db

Prints acts, events, emails, wall and CPU seconds, peak memory, and a digest of the events and
emails: same N and code, same digest (compare it before and after a change to the replay).

`--floor` keeps the replay's database (`--keep-db`, so synced as a kept one is: its figures are a little
above a run without `--floor`) and then times the bare SQL its ledger and records amount to, on a
fresh database of the same schema with the kept one attached: every outbox row inserted as planned
(INSERT…SELECT, 10,000 a transaction), read back a page of addresses at a time, and updated to its
outcome (500 a transaction, as a send commits a page); every audit, submission and review row
inserted; every progress row updated. The replay cannot beat that; what it spends above it is Python.
"""

import hashlib
import json
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster import campaign_file  # noqa: E402

from dqflow import store  # noqa: E402
from dqflow.delivery import simulate
from dqflow.campaign import spec

PAGE = 500  # addresses read together, outcomes written per transaction: as a send does
PLANNED = 10_000  # rows inserted per transaction: a reconcile plans a stage's reminders in one statement


def _digest(replay) -> str:
    """The SHA-1 of `json.dumps([events, emails], default=str, sort_keys=True)`, taken a record at a time:
    the same text, without holding it whole."""
    sha = hashlib.sha1()
    for n, records in enumerate((replay.events, replay.emails)):
        sha.update(b"[[" if n == 0 else b"], [")
        for i, record in enumerate(records):
            sha.update(((", " if i else "") + json.dumps(record, default=str, sort_keys=True)).encode())
    sha.update(b"]]")
    return sha.hexdigest()


def floor(kept: Path, fresh: Path) -> dict[str, float]:
    """CPU seconds of each kind of bare statement the kept replay's rows amount to (see the docstring), copied
    by SQL from the kept database attached: nothing bound or built in Python but the pages read. CPU, as the
    replay's own figure: SQLite works in this process, and on a loaded machine its wall time says more of the
    others' work than of its own."""
    store.connect(str(fresh), throwaway=True).dispose()  # the schema, indexes and triggers
    db = sqlite3.connect(fresh)
    db.execute("PRAGMA synchronous=OFF")  # as the replay's own database (store.connect(throwaway=True))
    db.execute("PRAGMA cache_size=-32768")
    db.execute("ATTACH DATABASE ? AS kept", (str(kept),))
    took: dict[str, float] = {}

    def timed(name: str, sql: str, size: int, top: int) -> None:
        """`sql` for each range of ids [low, low + size), a transaction each."""
        start = time.process_time()
        for low in range(0, top + 1, size):
            db.execute(sql, (low, low + size))
            db.commit()
        took[name] = time.process_time() - start

    top = db.execute("SELECT max(id) FROM kept.outbox").fetchone()[0] or 0
    columns = [c[1] for c in db.execute("PRAGMA table_info(outbox)")]
    outcome = ("state", "reason", "sent_at", "message_id", "attempts")
    planned = ["'pending'" if c == "state" else "0" if c == "attempts" else "NULL" if c in outcome else c for c in columns]
    timed("insert outbox", f"INSERT INTO outbox ({', '.join(columns)}) SELECT {', '.join(planned)} FROM kept.outbox "
                           "WHERE id >= ? AND id < ? ORDER BY id", PLANNED, top)
    campaign = db.execute("SELECT campaign_id FROM outbox LIMIT 1").fetchone()[0]
    addresses = [a for (a,) in db.execute("SELECT DISTINCT recipient FROM outbox ORDER BY recipient")]
    start = time.process_time()
    for low in range(0, len(addresses), PAGE):
        page = addresses[low:low + PAGE]
        db.execute(f"SELECT * FROM outbox WHERE campaign_id = ? AND state = 'pending' AND send_at <= ? "
                   f"AND recipient IN ({', '.join('?' * len(page))})", [campaign, "9999-12-31 00:00:00.000000", *page]).fetchall()
    took["read outbox"] = time.process_time() - start
    timed("update outbox", f"UPDATE outbox SET ({', '.join(outcome)}) = (SELECT {', '.join(outcome)} FROM kept.outbox k "
                           "WHERE k.id = outbox.id) WHERE id >= ? AND id < ?", PAGE, top)
    for table in ("audit", "submission"):
        timed(f"insert {table}", f"INSERT INTO {table} SELECT * FROM kept.{table} WHERE id >= ? AND id < ? ORDER BY id", PLANNED,
              db.execute(f"SELECT max(id) FROM kept.{table}").fetchone()[0] or 0)
    timed("insert review", "INSERT INTO review SELECT * FROM kept.review WHERE rowid >= ? AND rowid < ?", PLANNED,
          db.execute("SELECT max(rowid) FROM kept.review").fetchone()[0] or 0)
    db.execute("INSERT INTO progress SELECT * FROM kept.progress")
    db.commit()
    timed("update progress", "UPDATE progress SET (status, due_at, locks_at, submitted_at) = (SELECT k.status, k.due_at, k.locks_at, "
                             "k.submitted_at FROM kept.progress k WHERE k.campaign_id = progress.campaign_id AND "
                             "k.institution_id = progress.institution_id AND k.stage_id = progress.stage_id) "
                             "WHERE rowid >= ? AND rowid < ?", PAGE, db.execute("SELECT max(rowid) FROM progress").fetchone()[0] or 0)
    return took


def floor_of(kept: Path) -> None:
    """`--floor-of KEPT`: the floor of a database a replay kept (a copy of `--floor`'s, `simulate --keep-db`'s)."""
    with tempfile.TemporaryDirectory() as tmp:
        wall = time.perf_counter()
        took = floor(kept, Path(tmp) / "floor.db")
        print(f"floor of {kept}: {sum(took.values()):.1f} s of CPU in bare SQL ({time.perf_counter() - wall:.1f} s wall; "
              + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items()) + ")", flush=True)


def main(sizes: list[int], with_floor: bool, as_json: bool = False) -> None:
    """`as_json`: a line `JSON {…}` after each N's, for `benchmarks/run`."""
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            campaign = spec.load(campaign_file(Path(tmp), n, experts=2, seed=1))
            plan = simulate.seeded_scenario(campaign, 1)
            kept = Path(tmp) / "kept.db" if with_floor else None
            wall, cpu = time.perf_counter(), time.process_time()
            replay = simulate.replay(campaign, plan, None, None, lambda: datetime.now(UTC), keep=kept and str(kept))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the replay's, not the digest's
            digest = _digest(replay)
            print(f"{n:>6} ДОУ: {len(plan)} acts, {len(replay.events)} events, {len(replay.emails)} emails: "
                  f"{wall:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.0f} MB, digest {digest[:12]}"
                  + (" (database kept)" if kept else ""), flush=True)
            took = floor(kept, Path(tmp) / "floor.db") if kept else {}
            if took:
                print(f"{'':>6}  floor: {sum(took.values()):.1f} s of CPU in bare SQL ("
                      + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items()) + ")", flush=True)
            if as_json:
                print("JSON " + json.dumps({"n": n, "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1), "peak_mb": round(peak),
                                            "floor_seconds": round(sum(took.values()), 1) if took else None, "floor": took,
                                            "acts": len(plan), "events": len(replay.events), "emails": len(replay.emails),
                                            "digest": digest[:12], "kept": bool(kept)}), flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--floor-of"]:
        floor_of(Path(arguments[1]))
        sys.exit()
    main([int(a) for a in arguments if not a.startswith("--")] or [1000], "--floor" in arguments, "--json" in arguments)
