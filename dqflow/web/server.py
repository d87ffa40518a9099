"""Serving the portal with uvicorn: alone (`dqflow serve`, one worker or N), or inside the daemon's event loop
(`dqflow run --http`).

N workers are N processes, each making its own portal with `worker_app` from what `serve` put in the
environment (the database, the campaign, the clock's shift): nothing about sessions or limits lives in a
worker's memory, so any of them answers any request. On SQLite their writes take one turn across processes (a lock on
a file beside the database, `store.turns._Turn`), each woken when the writer before it ends. A client's address (what the rate limits count) is the
connection's, unless it comes from a proxy named in --forwarded-allow-ips: then it is the proxy's
X-Forwarded-For.

Every way of serving parses HTTP with httptools (C, where uvicorn's default without it is h11, pure Python), and
`serve` (one worker or N) runs its event loop on uvloop: a bare page's CPU an answer 0.45 ms → 0.15–0.25 ms against h11
and asyncio's loop (benchmarks/README, «The HTTP layer: httptools and uvloop»). The daemon's loop (`run --http`) stays
asyncio's (its scheduler and mail were never run on another): the portal beside it parses with httptools in that loop.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import re
import signal
from contextlib import contextmanager
from datetime import datetime, timedelta

import uvicorn

from dqflow.calendar import UTC
from dqflow.errors import DqflowError

# What `serve --workers N` hands its workers (each a new process that imports `worker_app`)
DB_ENV, CAMPAIGN_ENV, SHIFT_ENV = "DQFLOW_DB", "DQFLOW_SERVE_CAMPAIGN", "DQFLOW_SERVE_SHIFT"

log = logging.getLogger("dqflow.web")


def address(text: str) -> tuple[str, int]:
    """`HOST:PORT` of --http (`127.0.0.1:8000`, `[::1]:8000`)."""
    match = re.fullmatch(r"\[?([^\s\[\]]+?)\]?:(\d{1,5})", text.strip())
    if not match or not 1 <= int(match[2]) <= 65535:
        raise DqflowError(f"--http '{text}' must be HOST:PORT, like 127.0.0.1:8000", code="bad-http", value=text)
    return match[1], int(match[2])


HTTP, LOOP = "httptools", "uvloop"  # uvicorn's parser and event loop for `serve` (dependencies, never guessed by "auto")


def _loop() -> str:
    """`serve`'s event loop: uvloop's, a dependency everywhere it builds (not on Windows: asyncio's own there)."""
    return LOOP if importlib.util.find_spec(LOOP) is not None else "asyncio"


def _options(forwarded_allow_ips: str | None) -> dict:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: any local client (or a proxy passing the header
    # through) could then rotate its address past the rate limits. Trusted only when named. The lifespan on: it starts
    # and stops the kept pages' maker (`app.create_app`, `maker.Maker`).
    return dict(log_level="warning", access_log=False, server_header=False, lifespan="on", http=HTTP,
                proxy_headers=bool(forwarded_allow_ips), forwarded_allow_ips=forwarded_allow_ips or "")


def _config(app, host: str, port: int, forwarded_allow_ips: str | None = None) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, **_options(forwarded_allow_ips))


def worker_app():
    """The portal of one worker of `serve --workers N` (uvicorn's factory): from the environment `serve` set."""
    from dqflow import store
    from dqflow.web import create_app

    shift = timedelta(seconds=float(os.environ.get(SHIFT_ENV) or 0))
    return create_app(store.connect(os.environ.get(DB_ENV)), os.environ.get(CAMPAIGN_ENV) or None,
                      lambda: (datetime.now(UTC) + shift).replace(microsecond=0), lambda: datetime.now(UTC))


def run_workers(db_url: str, campaign_id: str, now: datetime | None, host: str, port: int, workers: int,
                forwarded_allow_ips: str | None = None) -> None:
    """Serve with `workers` processes on one socket until Ctrl-C or SIGTERM (uvicorn's supervisor restarts a
    worker that dies). `now`: the moment the portal's clock starts at (--now), else the wall clock."""
    shift = (now - datetime.now(UTC)).total_seconds() if now is not None else 0.0
    os.environ.update({DB_ENV: db_url, CAMPAIGN_ENV: campaign_id, SHIFT_ENV: str(shift)})
    try:
        uvicorn.run("dqflow.web.server:worker_app", factory=True, host=host, port=port, workers=workers, loop=_loop(),
                    **_options(forwarded_allow_ips))
    except SystemExit:  # uvicorn's way of saying it could not bind; it logged why
        raise DqflowError(f"cannot serve on {host}:{port}: is the port taken or the address not this machine's? "
                          "choose another --host or --port", code="cannot-serve", host=host, port=str(port)) from None


def run(app, host: str, port: int, forwarded_allow_ips: str | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM, then exit cleanly, in an event loop of uvloop's."""
    async def main() -> bool:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        return await serve_until(app, host, port, stopped, forwarded_allow_ips)

    new_loop = None
    if _loop() == LOOP:
        import uvloop  # here, not above: the daemon and the CLI's other commands, which import this module, never load it

        new_loop = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=new_loop) as runner:
        served = runner.run(main())
    if not served:
        raise DqflowError(f"cannot serve on {host}:{port}: is the port taken or the address not this machine's? "
                          "choose another --host or --port", code="cannot-serve", host=host, port=str(port))


class _Embedded(uvicorn.Server):
    @contextmanager
    def capture_signals(self):
        yield  # the daemon owns SIGINT and SIGTERM and stops the server itself


async def serve_until(app, host: str, port: int, stopped: asyncio.Event, forwarded_allow_ips: str | None = None) -> bool:
    """Serve in the running event loop until `stopped` is set; False when it could not start."""
    server = _Embedded(_config(app, host, port, forwarded_allow_ips))

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn's way of saying it could not bind; it logged why
            pass

    task = asyncio.create_task(serve())
    waiting = asyncio.create_task(stopped.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    waiting.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return server.started


async def beside_daemon(app, host: str, port: int, stopped: asyncio.Event, forwarded_allow_ips: str | None = None) -> None:
    """`run --http`: the portal in the daemon's loop; when it cannot start the daemon goes on sending."""
    if not await serve_until(app, host, port, stopped, forwarded_allow_ips):
        log.error("the portal could not start on %s:%d; the daemon goes on without it", host, port)
