"""The pages anyone may open: the portal's home and the public board (no personal data on either)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from dqflow import engine
from dqflow.calendar import show
from dqflow.web import board
from dqflow.web.middleware import COORDINATOR, PUBLIC, Page, person_of
from dqflow.web.site import Site, pager

NOW, TODAY = "\x00now\x00", "\x00today\x00"  # what changes with the clock alone, marked in the kept rendering


class Public(Site):
    async def board(self, request: Request) -> Response:
        """The board from a rendering kept while the campaign's state holds (`snapshots`): a request costs one statement
        (the state's key) and two string replacements (the time and today's mark), whatever the roster's size."""
        now = self.clock()
        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))

        def read() -> str:
            with self.reading() as session:
                key = self.state_key(session, now)
                return self.snapshots.get(key, ("board", start), lambda: self.board_rendering(session, now, start))

        html = await run_in_threadpool(read)
        shown = board.today(self.campaign, now)
        html = html.replace(NOW, show(now, self.tz)).replace(TODAY, "" if shown is None else str(shown))
        return HTMLResponse(html)

    def board_rendering(self, session: Session, now: datetime, start: int) -> str:
        """The board's page with the time and today's mark left as marks (`NOW`, `TODAY`) to fill in per request."""
        view = engine.status(session, self.campaign.id, now, institutions=True, offset=start, limit=board.PAGE)
        shown = board.Board.of(view)
        shown = replace(shown, today=TODAY if shown.today is not None else None)  # type: ignore[arg-type]  # a mark, filled in later
        marked = lambda t: NOW if t is now else show(t, self.tz)  # noqa: E731
        return self.pages.get_template("board.html").render(now=now, zone=board.offset(self.tz, now), board=shown, public=True,
                                                            pager=pager(view, "/board"), show=marked)

    async def home(self, request: Request) -> Response:
        return self.render("home.html", signed_in=person_of(request).role == COORDINATOR)


def routes(portal: Public) -> list[BaseRoute]:
    return [Page("/", portal.home, who=PUBLIC),
            Page("/board", portal.board, who=PUBLIC)]
