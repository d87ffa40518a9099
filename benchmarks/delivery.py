"""dqflow's delivery rate next to a bare aiosmtplib client, against the same loopback SMTP server.

    .venv/bin/python benchmarks/delivery.py [N] [CONNECTIONS]

Both send N messages (default 5,000) over the same number of connections (default 2) to one
aiosmtpd server running in its own process, which accepts and discards them. The bare client
pushes prebuilt bytes (a real dqflow message, one per recipient); dqflow runs a whole `send`:
reads the due rows, judges them, renders and composes each message, sends it and commits its
outcome. Prints both rates and their ratio (the target is at least 0.8).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import campaign_file  # noqa: E402  (the same N-ДОУ copy of the Tomsk schedule)

from dqflow import engine, store  # noqa: E402
from dqflow.delivery import mail
from dqflow.delivery import outbox
from dqflow.campaign import spec
from dqflow.calendar import parse_local  # noqa: E402
from dqflow.cli import wall_clock  # noqa: E402

PORT = 8725


def serve(port: int, ready) -> None:
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


async def bare(messages: list[tuple[str, bytes]], connections: int) -> float:
    queue = iter(messages)

    async def worker():
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=PORT)
        await client.connect()
        for recipient, data in queue:
            await client.sendmail("monitoring@imc.example.org", [recipient], data, mail_options=["BODY=8BITMIME"])
        await client.quit()

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    print(f"(bare client CPU {time.process_time() - cpu:.2f} s)")
    return time.perf_counter() - start


def main(n: int, connections: int) -> None:
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(PORT, ready), daemon=True)
    server.start()
    ready.wait(10)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            campaign = spec.load(campaign_file(folder, n))
            tz = campaign.tz
            now = parse_local("2021-11-19 15:00", tz)  # after the webinar: every ДОУ's 'stage opened' notice
            db = store.connect(str(folder / "big.db"))
            with store.transaction(db) as s:
                engine.load(s, campaign, parse_local("2021-11-10", tz))
                engine.reconcile(s, campaign.id, now)
            sample = asyncio.run(_preview(db, campaign, now))
            prebuilt = [(f"dou{i}@example.org", sample.replace(b"dou1@example.org", f"dou{i}@example.org".encode()))
                        for i in range(1, n + 1)]
            bare_seconds = asyncio.run(bare(prebuilt, connections))
            settings = mail.SmtpSettings("127.0.0.1", PORT, "none", None, None, "monitoring@imc.example.org", pool=connections)
            transport = mail.SmtpTransport(settings)

            async def send():
                try:
                    return await outbox.drain(db, campaign, now, transport, wall=wall_clock)
                finally:
                    await transport.close()

            start, cpu = time.perf_counter(), time.process_time()
            report = asyncio.run(send())
            print(f"(dqflow CPU {time.process_time() - cpu:.2f} s)")
            ours = time.perf_counter() - start
            sent = report.count("sent")
    finally:
        server.terminate()
    print(f"{n} messages, {connections} connections, loopback aiosmtpd in its own process")
    print(f"bare aiosmtplib, prebuilt bytes  {bare_seconds:7.2f} s  {n / bare_seconds:7.0f} msg/s")
    print(f"dqflow send ({sent} sent)      {ours:7.2f} s  {sent / ours:7.0f} msg/s")
    print(f"ratio                            {(sent / ours) / (n / bare_seconds):7.2f}")


async def _preview(db, campaign, now) -> bytes:
    """One real dqflow message, to give the bare client the same bytes to push."""
    from dqflow.delivery.wake import preview

    with store.dry_run(db) as session:
        _, batches = preview(session, campaign, now)
    return next(b.message.as_bytes() for b in batches if b.recipient == "dou1@example.org")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
