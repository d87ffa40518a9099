"""How dqflow carries a big campaign: the Tomsk schedule for N ДОУ (default 50,000, the national case).

    .venv/bin/python benchmarks/scale.py [N]

Prints seconds and peak memory for: validating the file, loading, the first reconcile (which
plans every reminder), a reconcile at a stage boundary, an idle reconcile, status, and
drawing an expert list,
and sending the 'stage opened' email to every ДОУ into a maildir.
"""

import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

import asyncio

from dqflow import engine, store
from dqflow.delivery import mail
from dqflow.delivery import outbox
from dqflow.campaign import spec
from dqflow.calendar import parse_local
from dqflow.cli import wall_clock

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"


@contextmanager
def timed(label: str):
    start = time.perf_counter()
    yield
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s   peak RSS {peak:7.0f} MB", flush=True)


def campaign_file(folder: Path, n: int) -> Path:
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["institutions"] = {"file": "roster.csv"}
    rows = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    rows += [f"{i},ДОУ № {i},dou{i}@example.org,,e{i},Эксперт ДОУ № {i},expert{i}@example.org" for i in range(1, n + 1)]
    (folder / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / "big.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main(n: int) -> None:
    print(f"Tomsk schedule, {n} ДОУ, SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = campaign_file(folder, n)
        with timed("validate + parse"):
            campaign = spec.load(path)
        db = store.connect(str(folder / "big.db"))
        tz = campaign.tz
        with timed("load"), store.transaction(db) as s:
            engine.load(s, campaign, parse_local("2021-11-18", tz))
        with timed("first reconcile (plans all reminders)"), store.transaction(db) as s:
            engine.reconcile(s, campaign.id, parse_local("2021-11-18 10:00", tz))
        with timed("reconcile at a boundary (fill-form opens)"), store.transaction(db) as s:
            changes = engine.reconcile(s, campaign.id, parse_local("2021-11-19 00:00", tz))
        print(f"   {len(changes)} changes")
        with timed("send at 09:00 (every ДОУ's 'stage opened' email)"):
            report = asyncio.run(outbox.drain(db, campaign, parse_local("2021-11-19 09:00", tz),
                                              mail.MaildirTransport(folder / "sent"), wall=wall_clock))
        print(f"   {report.count('sent')} messages written")
        with timed("idle reconcile"), store.transaction(db) as s:
            engine.reconcile(s, campaign.id, parse_local("2021-11-19 00:05", tz))
        with timed("status (as if reconciled, rolled back)"), store.dry_run(db) as s:
            engine.status(s, campaign.id, parse_local("2021-11-20 12:00", tz))
        with timed("reconcile at list 1 (draws the expert list)"), store.transaction(db) as s:
            engine.reconcile(s, campaign.id, parse_local("2021-11-25 00:00", tz))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
