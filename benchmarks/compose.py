"""Composing alone: the delivery benchmark's messages built by the Writer, nothing sent.

    .venv/bin/python benchmarks/compose.py [N]

Loads the N-ДОУ copy of the Tomsk schedule, reads and judges the due pages as a send would, then
builds every message (`Writer.batch`) twice and prints the second pass's CPU time and a digest of
all the messages' bytes: the same digest before and after a change means the same emails.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import campaign_file  # noqa: E402

from dqflow import engine, store  # noqa: E402
from dqflow.delivery import due
from dqflow.campaign import spec
from dqflow.calendar import parse_local  # noqa: E402
from dqflow.delivery.writer import Writer, groups  # noqa: E402
from dqflow.delivery.outbox import sort_out  # noqa: E402


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        campaign = spec.load(campaign_file(folder, n))
        now = parse_local("2021-11-19 15:00", campaign.tz)  # every ДОУ's 'stage opened' notice, as in delivery.py
        db = store.connect(str(folder / "big.db"))
        with store.transaction(db) as session:
            engine.load(session, campaign, parse_local("2021-11-10", campaign.tz))
            engine.reconcile(session, campaign.id, now)
        pages = []
        with store.dry_run(db) as session:
            writer = Writer(session, campaign, now, campaign.coordinator.email)
            for rows in due.pages(session, campaign, now):
                pages.append(sort_out(session, campaign, rows, writer, now))

        def build() -> tuple[int, str]:
            digest, count = hashlib.sha256(), 0
            with store.dry_run(db) as session:
                for kept, progress in pages:
                    for (_, existing), members in groups(kept).items():
                        digest.update(writer.batch(session, members, progress, existing).message.as_bytes())
                        count += 1
            return count, digest.hexdigest()[:12]

        build()  # the first pass reads the campaign's names and links and fills the per-send caches
        cpu = time.process_time()
        count, digest = build()
        cpu = time.process_time() - cpu
    print(f"{count} messages composed: {cpu:.2f} s of CPU, {cpu / count * 1e6:.0f} µs a message; digest {digest}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
