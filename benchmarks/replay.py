"""`simulate`'s replay of a seeded national roster (benchmarks/roster.py), without a maildir.

    .venv/bin/python benchmarks/replay.py [N…]

Prints acts, events, emails, wall and CPU seconds, peak memory, and a digest of the events and
emails: same N and code, same digest (compare it before and after a change to the replay).
"""

import hashlib
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster import campaign_file  # noqa: E402

from dqflow import simulate, spec  # noqa: E402


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


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            campaign = spec.load(campaign_file(Path(tmp), n, experts=2, seed=1))
            plan = simulate.seeded_scenario(campaign, 1)
            wall, cpu = time.perf_counter(), time.process_time()
            replay = simulate.replay(campaign, plan, None, None, lambda: datetime.now(UTC))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the replay's, not the digest's
        digest = _digest(replay)
        print(f"{n:>6} ДОУ: {len(plan)} acts, {len(replay.events)} events, {len(replay.emails)} emails: "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.0f} MB, digest {digest[:12]}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000])
