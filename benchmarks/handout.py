"""The handout of list 1 for N ДОУ: every expert's email with their ДОУ and links, and the coordinator's copy.

    .venv/bin/python benchmarks/handout.py [N ...]

Loads the Tomsk schedule for N ДОУ (one expert each), lets every third ДОУ submit a link, draws
list 1, and times the send of 30.11 09:00 (handout 1) into a maildir that only counts.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import campaign_file  # noqa: E402

from dqflow import engine, store  # noqa: E402
from dqflow.delivery import outbox
from dqflow.campaign import spec
from dqflow.calendar import parse_local  # noqa: E402
from dqflow.cli import wall_clock  # noqa: E402
from dqflow.delivery.mail import MaildirTransport  # noqa: E402


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        campaign = spec.load(campaign_file(folder, n))
        tz = campaign.tz
        db = store.connect(str(folder / "h.db"))
        with store.transaction(db) as s:
            engine.load(s, campaign, parse_local("2021-11-10", tz))
            engine.reconcile(s, campaign.id, parse_local("2021-11-24 09:00", tz))
        with store.transaction(db) as s:
            for i in range(1, n + 1, 3):
                engine.submit(s, campaign.id, str(i), "fill-form", parse_local("2021-11-24 10:00", tz),
                              (f"https://dou{i}.example.org/form",))
        now = parse_local("2021-11-30 09:00", tz)
        with store.transaction(db) as s:
            engine.reconcile(s, campaign.id, now)
        start = time.perf_counter()
        report = asyncio.run(outbox.drain(db, campaign, now, MaildirTransport(None), wall=wall_clock))
        seconds = time.perf_counter() - start
        handouts = sum(1 for m in report.messages if "Экспертиза" in m.subject or "список" in m.subject.lower())
        print(f"{n:>6} ДОУ: send at the handout {seconds:6.2f} s, {report.count('sent')} messages ({handouts} handouts and copies)")


if __name__ == "__main__":
    for size in map(int, sys.argv[1:] or ["1000", "4000"]):
        main(size)
