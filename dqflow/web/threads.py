"""The portal's worker threads: how many run database work at once, and which wait for which.

Starlette runs a route's blocking work on anyio's default limiter, 40 threads. Forty threads of one process take
turns on one GIL, and each statement a thread runs lets the GIL go and waits to get it back behind the others (up to
`sys.getswitchinterval()`, 5 ms, each time); SQLAlchemy's pool (5 + 10 connections) made the threads beyond 15 wait
for a connection too; and a write queued for the write lock could then wait for a thread behind the pages. So the
portal runs its reads on `READERS` threads, its writes on threads of their own (`WRITERS`: on SQLite one, where
writers take turns on one lock anyway), so a write never waits for a thread behind the pages, and the password
sign-in's work (the attempt reserved, the hash) on `SIGNIN` threads of its own, so a burst of guesses queues behind
itself, never ahead of anyone's page. The pool holds a connection for every thread (`POOL`). Requests beyond these
wait in the event loop, in the order they came (anyio's limiters are first come, first served), holding neither a
thread nor a connection.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Callable, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from sqlalchemy.engine import Engine

T = TypeVar("T")

# threads for the pages' reads and the guard's checks. Few: the process's threads share one GIL, and a write thread
# gets about one runnable thread's share of it. With 8 readers a portal hand-in (2.3 ms alone) took ~38 ms at a
# rush, and hand-ins waited 1.6 s (p50) behind each other; with 3, 0.33 s, the pages 0.33 s instead of 0.06 s, every
# p99 under 0.5 s but the coordinator's (benchmarks/README, «The rush's waits»)
READERS = 3
WRITERS = {"sqlite": 1, "postgresql": 4}  # threads for write transactions, by backend
SIGNIN = 1  # threads for the password sign-in: a burst of 600 guesses is 600 reserved attempts, one after the other
MAKER = 1  # the kept pages' maker's thread (`maker.Maker`), reading beside the requests
POOL = READERS + max(WRITERS.values()) + SIGNIN + MAKER  # connections the portal's engine must be able to hold at once

_writers: RunVar[anyio.CapacityLimiter] = RunVar("dqflow_writers")
_signins: RunVar[anyio.CapacityLimiter] = RunVar("dqflow_signins")


_settled: tuple[weakref.ref, int] | None = None  # the event loop whose limiter `settle` sized last, and to what


def settle() -> None:
    """Size the running event loop's default limiter (the one `run_in_threadpool` uses) to `READERS`; call in the loop.
    Once per loop (anyio's limiter is the loop's): asking anyio for it cost every request a few lookups of its own."""
    global _settled
    loop = asyncio.get_running_loop()
    if _settled is not None and _settled[0]() is loop and _settled[1] == READERS:
        return
    limiter = anyio.to_thread.current_default_thread_limiter()
    if limiter.total_tokens != READERS:
        limiter.total_tokens = READERS
    _settled = weakref.ref(loop), READERS


def writers(db: Engine) -> anyio.CapacityLimiter:
    """The running loop's limiter of write threads for this backend."""
    try:
        return _writers.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(WRITERS.get(db.dialect.name, 1))
        _writers.set(limiter)
        return limiter


async def write(act: Callable[[], T], db: Engine) -> T:
    """Run `act` (a write transaction) on a writer's thread, once one is free."""
    return await anyio.to_thread.run_sync(act, limiter=writers(db))


async def signin(act: Callable[..., T], *args) -> T:
    """Run `act(*args)` (the password sign-in's database work or its hash) on a sign-in's thread, once one is free."""
    try:
        limiter = _signins.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(SIGNIN)
        _signins.set(limiter)
    return await anyio.to_thread.run_sync(act, *args, limiter=limiter)
