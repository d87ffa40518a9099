"""`simulate`'s replay of a seeded national roster (benchmarks/roster.py), without a maildir.

    .venv/bin/python benchmarks/replay.py [--floor] [N…]

Prints acts, events, emails, wall and CPU seconds, peak memory, and a digest of the events and
emails: same N and code, same digest (compare it before and after a change to the replay).

`--floor` keeps the replay's database (`--keep-db`, so synced as a kept one is) and then times the bare
SQL its ledger and records amount to, on a fresh database of the same schema, through the driver
alone: every outbox row inserted as planned, read back a page of addresses at a time, and updated
to its outcome; every audit, submission and review row inserted; every progress row updated. The
replay cannot beat that; what it spends above it is Python.
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

from dqflow import simulate, spec, store  # noqa: E402

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
    """Seconds of each kind of bare statement the kept replay's rows amount to (see the docstring)."""
    store.connect(str(fresh), throwaway=True).dispose()  # the schema, indexes and triggers
    source, db = sqlite3.connect(kept), sqlite3.connect(fresh)
    db.execute("PRAGMA synchronous=OFF")  # as the replay's own database (store.connect(throwaway=True))
    db.execute("PRAGMA cache_size=-32768")
    took: dict[str, float] = {}

    def timed(name: str, work) -> None:
        start = time.perf_counter()
        work()
        took[name] = time.perf_counter() - start

    def chunks(sql: str, rows: list, size: int = PAGE) -> None:
        for start in range(0, len(rows), size):
            db.executemany(sql, rows[start:start + size])
            db.commit()

    columns = [c[1] for c in source.execute("PRAGMA table_info(outbox)")]
    final = source.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    at = {name: columns.index(name) for name in ("state", "reason", "sent_at", "message_id", "attempts", "recipient", "id")}
    planned = [tuple("pending" if i == at["state"] else 0 if i == at["attempts"] else None if i in
                     (at["reason"], at["sent_at"], at["message_id"]) else v for i, v in enumerate(row)) for row in final]
    timed("insert outbox", lambda: chunks(f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                          planned, PLANNED))
    campaign = final[0][columns.index("campaign_id")]
    addresses = sorted({row[at["recipient"]] for row in final})

    def read() -> None:
        for start in range(0, len(addresses), PAGE):
            page = addresses[start:start + PAGE]
            db.execute(f"SELECT * FROM outbox WHERE campaign_id = ? AND state = 'pending' AND send_at <= ? "
                       f"AND recipient IN ({', '.join('?' * len(page))})", [campaign, "9999-12-31 00:00:00.000000", *page]).fetchall()
    timed("read outbox", read)
    outcomes = [(row[at["state"]], row[at["reason"]], row[at["sent_at"]], row[at["message_id"]], row[at["attempts"]],
                 row[at["id"]]) for row in final]
    timed("update outbox", lambda: chunks("UPDATE outbox SET state = ?, reason = ?, sent_at = ?, message_id = ?, attempts = ? "
                                          "WHERE id = ?", outcomes))
    for table in ("audit", "submission", "review"):
        columns = [c[1] for c in source.execute(f"PRAGMA table_info({table})")]
        rows = source.execute(f"SELECT * FROM {table}").fetchall()
        timed(f"insert {table}", lambda: chunks(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                                rows, PLANNED))
    progress = source.execute("SELECT status, due_at, locks_at, submitted_at, campaign_id, institution_id, stage_id "
                              "FROM progress").fetchall()
    db.executemany("INSERT INTO progress (status, due_at, locks_at, submitted_at, campaign_id, institution_id, stage_id, opens_at, "
                   "extended) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", [(*row, row[1]) for row in progress])
    db.commit()
    timed("update progress", lambda: chunks("UPDATE progress SET status = ?, due_at = ?, locks_at = ?, submitted_at = ? "
                                            "WHERE campaign_id = ? AND institution_id = ? AND stage_id = ?", progress))
    return took


def main(sizes: list[int], with_floor: bool) -> None:
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
            if kept:
                took = floor(kept, Path(tmp) / "floor.db")
                print(f"{'':>6}  floor: {sum(took.values()):.1f} s of bare SQL ("
                      + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items()) + ")", flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main([int(a) for a in arguments if a != "--floor"] or [1000], "--floor" in arguments)
