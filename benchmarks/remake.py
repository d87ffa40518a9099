#!/usr/bin/env python3
"""One re-making of the board and of the coordinator's home after one hand-in, in-process (issue 20), and a ДОУ's card.

    PYTHONPATH=TREE .venv/bin/python benchmarks/remake.py PREPARED_DB [--rounds 30] [--folder DIR] [--label NAME]

PREPARED_DB: a rush's prepared SQLite database (`portal.py --modes rush` keeps it as FOLDER/rush/prepared.db: 2,000 ДОУ
replayed to 10.12.2021 08:00). It is copied to --folder, and at 10.12.2021 10:00 (the rush's `now`), each round: one
hand-in of `refill` (`engine.submit`, a new state of the campaign), then, in one reading transaction at that state, the
board's page and the home's overview made by the functions the single-flight snapshots call
(`Public.board_rendering`, `Coordinator.overview_rendering`: the page-level snapshot bypassed, every kept part the
portal keeps used as served), then the coordinator's card of the ДОУ that handed in, asked through the ASGI app (a
TestClient, signed in); every third round, both pages again with nothing kept per ДОУ state (as at a stage boundary,
"both afresh"). CPU per making (`time.process_time`), median and quartiles of --rounds. Run it from each tree
in turn (PYTHONPATH=TREE) for a paired before/after; the script uses nothing but what both have.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")

NOW = "2021-12-10 10:00"
CAMPAIGN = "national-2000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prepared", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/remake"))
    parser.add_argument("--label", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from sqlalchemy import text
    from starlette.testclient import TestClient

    import dqflow
    from dqflow import engine, store
    from dqflow.access import links
    from dqflow.calendar import UTC, parse_local
    from dqflow.web import create_app

    args.folder.mkdir(parents=True, exist_ok=True)
    copy = args.folder / "remake.db"
    for stale in args.folder.glob("remake.db*"):
        stale.unlink()
    shutil.copyfile(args.prepared, copy)
    db = store.connect(f"sqlite:///{copy}")
    app = create_app(db, CAMPAIGN, lambda: now, lambda: datetime.now(UTC))
    portal = app.state.portal
    now = parse_local(NOW, portal.tz)
    with store.dry_run(db) as session:
        waiting = [r[0] for r in session.execute(text(
            "SELECT p.institution_id FROM progress p JOIN institution i ON i.campaign_id = p.campaign_id AND i.id = p.institution_id "
            "WHERE p.campaign_id = :c AND p.stage_id = 'refill' AND p.status = 'open' ORDER BY i.position"), {"c": CAMPAIGN})]
    with store.transaction(db) as session:
        signed_in = links.start_session(session, portal.campaign, now, "link")
    client = TestClient(app, base_url="https://portal.example.org")
    client.cookies.set("dqflow_session", portal.signer.session_cookie(signed_in, now))
    assert client.get("/coordinator").status_code == 200 and client.get("/board").status_code == 200  # everything made once

    times: dict[str, list[float]] = {"board": [], "home": [], "both": [], "card": [], "both afresh": []}
    picked = waiting[1::max(len(waiting) // (args.rounds + 1), 1)][:args.rounds]
    for n, inst in enumerate(picked):
        with store.transaction(db) as session:
            engine.submit(session, CAMPAIGN, inst, "refill", now, (f"https://dou{inst}.example.org/remake-{n}",))
        with portal.reading() as session:
            key = portal.state_key(session, now)
            started = time.process_time()
            portal.board_rendering(session, now, 0, key)
            board_done = time.process_time()
            portal.overview_rendering(session, now, 0, key)
            home_done = time.process_time()
        started_card = time.process_time()
        assert client.get(f"/coordinator/dou/{inst}").status_code == 200
        card_done = time.process_time()
        times["board"].append(board_done - started)
        times["home"].append(home_done - board_done)
        times["both"].append(home_done - started)
        times["card"].append(card_done - started_card)
        if n % 3 == 0:  # and as at a stage boundary: nothing kept per ДОУ state (rows, and the late lists where kept)
            kept = portal.snapshots
            kept.rows = type(kept.rows)()
            if getattr(kept, "late", None) is not None:
                kept.late = type(kept.late)()
            with portal.reading() as session:
                key = portal.state_key(session, now) + ("afresh", n)  # a key no snapshot holds
                started = time.process_time()
                portal.board_rendering(session, now, 0, key)
                portal.overview_rendering(session, now, 0, key)
                times["both afresh"].append(time.process_time() - started)
    client.close()
    db.dispose()
    figures = {}
    for name, found in times.items():
        q = statistics.quantiles(found, n=4)
        figures[name] = {"median_ms": round(1000 * statistics.median(found), 1), "q1_ms": round(1000 * q[0], 1),
                         "q3_ms": round(1000 * q[2], 1)}
    tree = Path(dqflow.__file__).resolve().parent.parent
    print(f"{args.label or tree}: {len(picked)} rounds, CPU ms median (q1–q3): " + ", ".join(
        f"{name} {f['median_ms']} ({f['q1_ms']}–{f['q3_ms']})" for name, f in figures.items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"tree": str(tree), "label": args.label, "figures": figures}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
