"""The portal: one Starlette application for one campaign, its routes by whom they serve, behind the guard.

Routes live in `personal` (a ДОУ's and an expert's pages), `coordinator` (sign-in and the coordinator's
pages) and `public` (home, board); `middleware.Guard` checks sessions, links, form tokens and origins for
every request and gives every response its headers; `site.Site` is what they share. A route parses,
makes one engine call (inside one transaction, audited with who acted), and renders or redirects; the
engine enforces every rule. Database work runs in a worker thread so the event loop (shared with the
daemon under `dqflow run --http`) never waits on it. Pages are plain HTML, no script.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import AsyncIterator, Callable

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from dqflow.errors import DqflowError
from dqflow.web import coordinator, personal, public
from dqflow.web.maker import Maker
from dqflow.web.middleware import Guard
from dqflow.web.site import REFUSED_RU


class Portal(personal.Personal, coordinator.Coordinator, public.Public):
    """Every page of the portal on one shared `Site`: one campaign, one signer, one set of templates."""

    def start_making(self) -> Maker:
        """The kept pages' maker (`maker.Maker`) started, and asked at once for the board's and the coordinator's
        home's first pages: made as the portal starts, not by its first visitors."""
        maker = Maker(self.snapshots, self.reading, self.state_key, self.clock)
        maker.start()
        maker.ask(("board", 0), lambda session, now, key: self.board_rendering(session, now, 0, key))
        maker.ask(("overview", 0), lambda session, now, key: self.overview_rendering(session, now, 0, key))
        maker.ask(("awaiting-settlement",), self.awaiting)
        return maker


def create_app(db: Engine, campaign_id: str | None, clock: Callable[[], datetime], wall: Callable[[], datetime]) -> Starlette:
    """The portal for one campaign. `clock` gives the campaign's `now` (the wall clock, or one started
    at a --now); `wall` the real clock for the audit's `recorded_at`."""
    portal = Portal(db, campaign_id, clock, wall)
    routes = public.routes(portal) + personal.routes(portal) + coordinator.routes(portal)

    async def bad_form(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DqflowError)
        return portal.render("refused.html", 400, why="form", message=portal.said(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        """404 and 405 from the router, as the portal's Russian page."""
        assert isinstance(exc, HTTPException)
        why = "method" if exc.status_code == 405 else "page"
        response = portal.render("refused.html", exc.status_code, why=why, message=REFUSED_RU[why])
        response.headers.update(exc.headers or {})  # Allow: on a 405
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """While served: the kept pages made off the request path (`Portal.start_making`)."""
        maker = portal.start_making()
        try:
            yield
        finally:
            await run_in_threadpool(maker.stop)

    app = Starlette(routes=routes, exception_handlers={DqflowError: bad_form, HTTPException: http_error},
                    middleware=[Middleware(Guard, site=portal)], lifespan=lifespan)
    app.state.portal = portal
    return app
