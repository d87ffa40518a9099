"""The kept pages' maker: a thread of each portal worker that keeps the board's and the coordinator's home pages made
for the newest state off the request path (`Maker`), so that at a rush a coordinator's request finds its page kept
(`snapshots.Snapshots.page`: at most `snapshots.STALE` older than the state it read) instead of making it in the
queue of every other page. Started and stopped with the served app (`app.Portal.start_making`).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Callable, Hashable

from sqlmodel import Session

from dqflow.web.snapshots import STALE, Snapshots, began

__all__ = ["Maker", "REMAKE", "WARM", "STALE"]

log = logging.getLogger("dqflow.web")
REMAKE = 0.25  # seconds: the least between two rounds of the `Maker` (its CPU at a rush: a few makings of each page a second)
WARM = 30.0  # seconds: a page asked this recently is kept made for the newest state by the `Maker`


class Maker:
    """The thread that keeps the pages asked (`Snapshots.page`) made for the newest state, off the request path: every
    `pause` seconds (a slow round spaces the next by twice its time) while some page was asked in the last `warm`
    seconds, in one reading transaction (`reading`: a session whose `began` is noted), the state's key read
    (`state_key`: one statement) and each such page made for it unless kept for it already (`Snapshots.get`: one
    making of a name at a time, shared with the requests). Asked nothing for `warm` seconds, it sleeps; a failed
    round is logged and the next one tries again. Started and stopped with the served app (`start`, `stop`)."""

    def __init__(self, snapshots: Snapshots, reading: Callable[[], AbstractContextManager[Session]],
                 state_key: Callable[[Session, datetime], tuple[Any, ...]], clock: Callable[[], datetime], pause: float = REMAKE,
                 warm: float = WARM):
        self.snapshots, self.reading, self.state_key, self.clock = snapshots, reading, state_key, clock
        self.pause, self.warm = pause, warm
        self.wanted: dict[Hashable, tuple[Callable[[Session, datetime, tuple[Any, ...]], Any], float]] = {}  # name → (make, asked at)
        self.wake = threading.Condition()
        self.running = False
        self.rounds = 0  # rounds made, for tests and curiosity
        self.thread: threading.Thread | None = None

    def ask(self, name: Hashable, make: Callable[[Session, datetime, tuple[Any, ...]], Any]) -> None:
        """Keep `name` made while it is asked; at most half as many pages as `Snapshots` keeps, the least lately asked
        let go first: a page the maker made must still be kept when it is asked (pages of a national roster's grids
        are a hundred, and the kept ones sixteen)."""
        with self.wake:
            fresh = name not in self.wanted
            self.wanted.pop(name, None)
            self.wanted[name] = (make, time.monotonic())  # last: the dict in the order of asking
            while len(self.wanted) > max(self.snapshots.kept // 2, 1):
                self.wanted.pop(next(iter(self.wanted)))
            if fresh:
                self.wake.notify()

    def start(self) -> None:
        self.snapshots.maker, self.running = self, True
        self.thread = threading.Thread(target=self._run, name="dqflow-maker", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.wake:
            self.running = False
            self.wake.notify()
        if self.thread is not None:
            self.thread.join(timeout=30)
        if self.snapshots.maker is self:
            self.snapshots.maker = None

    def _run(self) -> None:
        last, gap = -self.pause, self.pause
        while True:
            with self.wake:
                while self.running and (not self.wanted or time.monotonic() < last + gap):
                    self.wake.wait(timeout=max(last + gap - time.monotonic(), 0.0) if self.wanted else None)
                if not self.running:
                    return
                since = time.monotonic() - self.warm
                self.wanted = {name: asked for name, asked in self.wanted.items() if asked[1] >= since}
                wanted = {name: make for name, (make, _) in self.wanted.items()}
            last = time.monotonic()
            if not wanted:
                continue
            try:
                self.round(wanted)
            except Exception:  # the next round tries again; meanwhile requests past `STALE` make their pages themselves
                log.exception("making the kept pages failed")
            # a slow round (a loaded worker, many pages asked) spaces the next: the maker takes at most a third of a
            # thread's time from the requests, and pages it cannot keep within `STALE` are made on the requests' way
            gap = max(self.pause, 2 * (time.monotonic() - last))

    def round(self, wanted: dict[Hashable, Callable[[Session, datetime, tuple[Any, ...]], Any]]) -> None:
        """The pages `wanted`, made for the state read now (those not kept for it), in one transaction."""
        with self.reading() as session:
            now = self.clock()
            key = self.state_key(session, now)
            for name, make in wanted.items():
                self.snapshots.get(key, name, lambda: make(session, now, key), as_of=began(session))
        self.rounds += 1
