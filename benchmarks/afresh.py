#!/usr/bin/env python3
"""What the board and the coordinator's home cost when nothing is kept (issue 20): in-process, on a prepared database.

    PYTHONPATH=TREE .venv/bin/python benchmarks/afresh.py DB_URL --campaign ID --now "dd.mm.yyyy hh:mm" [--rounds 5]

DB_URL: e.g. the scale roster `portal.py --modes scale --sizes 1000 50000 --folder DIR` keeps in DIR/scale-50000
(sqlite:///DIR/scale-50000/dqflow.db, campaign national-50000, `now` 25.11.2021 10:00). Each round, in one reading
transaction: `KeptLate.standing` of a new `KeptLate` (what the first request after a stage boundary, an extended lock
passing or an amendment makes: every ДОУ's rows read and said), its CPU (`time.process_time`), its peak of Python
memory while made and what it keeps after (tracemalloc, a separate round: tracing slows it); then the board's and the
home's renderings with nothing kept (`Public.board_rendering`, `Coordinator.overview_rendering`, as `remake.py`'s
"both afresh"). Run from each tree in turn (PYTHONPATH=TREE) for a paired before/after.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from datetime import datetime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db")
    parser.add_argument("--campaign", required=True)
    parser.add_argument("--now", required=True, help="dd.mm.yyyy hh:mm, the portal's zone")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    import dqflow
    from dqflow import store
    from dqflow.calendar import UTC, parse_local
    from dqflow.web import create_app, snapshots

    db = store.connect(args.db)
    app = create_app(db, args.campaign, lambda: now, lambda: datetime.now(UTC))
    portal = app.state.portal
    now = parse_local(args.now, portal.tz)
    campaign = portal.campaign
    standing_cpu, pages_cpu, standing_wall = [], [], []
    with portal.reading() as session:
        epoch = snapshots.late_epoch(portal.state_key(session, now))
        kept = snapshots.KeptLate()
        kept.standing(session, campaign, now, epoch)  # warm: statements compiled, the connection's cache
        for _ in range(args.rounds):
            kept = snapshots.KeptLate()
            gc.collect()
            wall, started = time.perf_counter(), time.process_time()
            standing = kept.standing(session, campaign, now, epoch)
            standing_cpu.append(time.process_time() - started)
            standing_wall.append(time.perf_counter() - wall)
        del kept
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        kept = snapshots.KeptLate()
        kept.standing(session, campaign, now, epoch)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    for n in range(args.rounds):
        portal.snapshots.rows = type(portal.snapshots.rows)()
        portal.snapshots.late = type(portal.snapshots.late)()
        with portal.reading() as session:
            key = portal.state_key(session, now) + ("afresh", n)  # a key no snapshot holds
            started = time.process_time()
            portal.board_rendering(session, now, 0, key)
            portal.overview_rendering(session, now, 0, key)
            pages_cpu.append(time.process_time() - started)
    db.dispose()
    roster = len(getattr(kept, "counts", None) or kept.found)  # before: the audit counts read; after: the ДОУ found
    print(f"{args.label or dqflow.__file__}: {roster:,} ДОУ, {args.rounds} rounds; KeptLate.standing afresh: CPU "
          f"{1000 * statistics.median(standing_cpu):.0f} ms median (min {1000 * min(standing_cpu):.0f}), wall "
          f"{1000 * statistics.median(standing_wall):.0f} ms; peak {(peak - base) / 2**20:.1f} MB, kept "
          f"{(held - base) / 2**20:.1f} MB; board + home with nothing kept: CPU {1000 * statistics.median(pages_cpu):.0f} ms "
          f"median (min {1000 * min(pages_cpu):.0f}); {standing.late_total:,} late rows, {standing.nothing_total:,} reviews of nothing",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
