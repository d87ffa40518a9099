"""The pages anyone may open: the portal's home and the public board (no personal data on either)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from dqflow import engine, store
from dqflow.web import board
from dqflow.web.middleware import COORDINATOR, PUBLIC, Page, person_of
from dqflow.web.site import Site, pager


class Public(Site):
    async def board(self, request: Request) -> Response:
        now = self.clock()

        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))

        def read():
            with store.dry_run(self.db) as session:
                return engine.status(session, self.campaign.id, now, institutions=True, offset=start, limit=board.PAGE)

        view = await run_in_threadpool(read)
        return self.render("board.html", now=now, board=board.Board.of(view), public=True, pager=pager(view, "/board"))

    async def home(self, request: Request) -> Response:
        return self.render("home.html", signed_in=person_of(request).role == COORDINATOR)


def routes(portal: Public) -> list[BaseRoute]:
    return [Page("/", portal.home, who=PUBLIC),
            Page("/board", portal.board, who=PUBLIC)]
