"""How the portal is served: uvicorn's C parser of HTTP (httptools) everywhere, and uvloop's event loop under `dqflow
serve` (one worker: `web.server.run`; N: uvicorn's workers), while `dqflow run --http` serves in the daemon's own
asyncio loop (`web.server.serve_until`). Each is asked of a server that really runs: an ASGI app says which loop runs
it and which of uvicorn's protocols called it; the workers of `serve --workers 2` are asked by the libraries they
loaded (/proc/PID/maps)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import TOMSK, Cli
from test_sessions import free_port, start, stop

from dqflow.web import server

# An ASGI app that answers with its event loop's class and the uvicorn protocol module that called it
WHERE = '''
import asyncio, json, sys
from pathlib import Path

async def where(scope, receive, send):
    if scope["type"] != "http":
        return
    frame, files = sys._getframe(), []
    while frame is not None:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    said = {"loop": type(asyncio.get_running_loop()).__module__,
            "protocol": next((Path(f).stem for f in files if "uvicorn/protocols/http" in f.replace("\\\\", "/")), "")}
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(said).encode()})
'''


def asked(base: str, process: subprocess.Popen | None = None) -> dict:
    for _ in range(150):
        try:
            return httpx.get(base + "/", timeout=2).json()
        except httpx.TransportError:
            if process is not None and process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.stderr else "the server exited") from None
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on {base}")


def test_serve_runs_on_uvloop_and_parses_with_httptools():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", WHERE + f"from dqflow.web import server\nserver.run(where, '127.0.0.1', {port})"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        said = asked(f"http://127.0.0.1:{port}", process)
    finally:
        stop(process)
    assert said == {"loop": "uvloop", "protocol": "httptools_impl"}
    assert process.returncode == 0  # SIGTERM: a clean stop, as before


def test_the_daemons_portal_parses_with_httptools_in_the_daemons_asyncio_loop():
    namespace: dict = {}
    exec(WHERE, namespace)
    port = free_port()

    async def daemon() -> tuple[dict, bool]:
        stopped = asyncio.Event()
        serving = asyncio.create_task(server.serve_until(namespace["where"], "127.0.0.1", port, stopped))
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    said = (await client.get(f"http://127.0.0.1:{port}/")).json()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        stopped.set()
        return said, await serving

    said, started = asyncio.run(daemon())  # a plain asyncio loop, as `dqflow run` makes
    assert started
    assert said == {"loop": "asyncio.unix_events", "protocol": "httptools_impl"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the workers are read from /proc")
def test_serve_with_workers_loads_uvloop_and_httptools_in_each_worker(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'dqflow.db'}"
    Cli(db).ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    process, base = start(db, "--workers", "2")
    try:
        assert httpx.get(base + "/board").status_code == 200
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        # uvicorn's workers, not multiprocessing's resource tracker
        workers = [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2
        for worker in workers:
            maps = Path(f"/proc/{worker}/maps").read_text()
            assert f"{os.sep}uvloop{os.sep}loop." in maps, "the worker's loop is not uvloop's"
            assert f"{os.sep}httptools{os.sep}parser{os.sep}parser." in maps, "the worker does not parse with httptools"
    finally:
        stop(process)

