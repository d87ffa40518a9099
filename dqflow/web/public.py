"""The pages anyone may open: the portal's home and the public board (no personal data on either)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from dqflow.calendar import show
from dqflow.web import board, snapshots
from dqflow.web.middleware import COORDINATOR, PUBLIC, Page, person_of, read_of
from dqflow.web.site import Site

NOW, TODAY = "\x00now\x00", "\x00today\x00"  # what changes with the clock alone, marked in the kept rendering


class Public(Site):
    async def board(self, request: Request) -> Response:
        """The board from a rendering kept while the campaign's state holds (`snapshots`): a request costs one statement
        (the state's key) and two string replacements (the time and today's mark), whatever the roster's size."""
        found = read_of(request)  # read by the guard (`board_read`) in its one thread call
        if found is None:
            now = self.clock()

            def read() -> str:
                with self.reading() as session:
                    return self.board_read(session, request, now)

            found = now, await run_in_threadpool(read)
        now, html = found
        shown = board.today(self.campaign, now)
        html = html.replace(NOW, show(now, self.tz)).replace(TODAY, "" if shown is None else str(shown))
        return HTMLResponse(html)

    def board_read(self, session: Session, request: Request, now: datetime) -> str:
        """The board's page for the state read in `session` (`Page.view`), with its marks."""
        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))
        key = self.state_key(session, now)
        return self.snapshots.page(key, ("board", start), session, now, lambda s, at, k: self.board_rendering(s, at, start, k))

    def board_rendering(self, session: Session, now: datetime, start: int, key: tuple) -> str:
        """The board's page with the time and today's mark left as marks (`NOW`, `TODAY`) to fill in per request: the
        stages' counts shared with the coordinator's home (`board.stages`), the grid's rows of the ДОУ changed since
        (`board.page_rows`)."""
        view = board.stages(self.snapshots, session, self.campaign, now, key)
        shown_dou = board.roster_page(session, self.campaign, start, view.total)
        rows = board.page_rows(session, self.campaign, now, shown_dou, "board", self.snapshots.rows, snapshots.rows_epoch(key),
                               lambda i, found: board.row(i.name, found))
        view = replace(view, offset=start, institutions=[])
        shown = replace(board.Board.of(view), rows=rows)
        shown = replace(shown, today=TODAY if shown.today is not None else None)  # type: ignore[arg-type]  # a mark, filled in later
        marked = lambda t: NOW if t is now else show(t, self.tz)  # noqa: E731
        return self.pages.get_template("board.html").render(now=now, zone=board.offset(self.tz, now), board=shown, public=True,
                                                            pager=board.pager(view, len(rows), "/board"), show=marked)

    async def home(self, request: Request) -> Response:
        return self.render("home.html", signed_in=person_of(request).role == COORDINATOR)


def routes(portal: Public) -> list[BaseRoute]:
    return [Page("/", portal.home, who=PUBLIC),
            Page("/board", portal.board, who=PUBLIC, view=portal.board_read)]
