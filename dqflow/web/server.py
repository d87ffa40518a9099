"""Serving the portal with uvicorn: alone (`dqflow serve`) or inside the daemon's event loop (`dqflow run --http`)."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from contextlib import contextmanager

import uvicorn

from dqflow.errors import DqflowError

log = logging.getLogger("dqflow.web")


def address(text: str) -> tuple[str, int]:
    """`HOST:PORT` of --http (`127.0.0.1:8000`, `[::1]:8000`)."""
    match = re.fullmatch(r"\[?([^\s\[\]]+?)\]?:(\d{1,5})", text.strip())
    if not match or not 1 <= int(match[2]) <= 65535:
        raise DqflowError(f"--http '{text}' must be HOST:PORT, like 127.0.0.1:8000")
    return match[1], int(match[2])


def _config(app, host: str, port: int) -> uvicorn.Config:
    # proxy_headers: behind a reverse proxy on the same machine the client's address (rate limits) is the proxy's header
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=True,
                          server_header=False, lifespan="off")


def run(app, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM, then exit cleanly."""
    async def main() -> bool:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        return await serve_until(app, host, port, stopped)

    if not asyncio.run(main()):
        raise DqflowError(f"cannot serve on {host}:{port}: is the port taken or the address not this machine's? "
                          "choose another --host or --port")


class _Embedded(uvicorn.Server):
    @contextmanager
    def capture_signals(self):
        yield  # the daemon owns SIGINT and SIGTERM and stops the server itself


async def serve_until(app, host: str, port: int, stopped: asyncio.Event) -> bool:
    """Serve in the running event loop until `stopped` is set; False when it could not start."""
    server = _Embedded(_config(app, host, port))

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


async def beside_daemon(app, host: str, port: int, stopped: asyncio.Event) -> None:
    """`run --http`: the portal in the daemon's loop; when it cannot start the daemon goes on sending."""
    if not await serve_until(app, host, port, stopped):
        log.error("the portal could not start on %s:%d; the daemon goes on without it", host, port)
