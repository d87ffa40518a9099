"""The guard: what every request to the portal shares, checked in one place so that no route can forget it.

Before any route runs (as Starlette's `SessionMiddleware` does for sessions):

- the campaign is read again when an amendment changed it (`Site.refresh`);
- the person is found from the audience the route declares (`Page(..., who=...)`; a plain `Route` is the
  coordinator's): a ДОУ's or an expert's personal link (signed, current, not expired), the coordinator's
  session cookie (required on every coordinator page; its session is looked up in the database, so signing out
  ends it on every worker), or a sign-in form; refused links are rate-limited per address in the database (a
  valid link never is; password sign-ins have their own limit, at /signin);
- a state-changing request (any method but GET, HEAD, OPTIONS) must come from the portal's own pages: its
  `Origin` (or, absent, its `Referer`) is the portal's own address, its body is read (limited while it
  streams) and carries a form token signed for this person at most `links.FORM_VALID` ago. Else: 403 (400 for
  a body too large or unreadable) and no route runs, so nothing is written;
- every response, whoever made it (a page, a redirect, a 404, 405 or 500), carries the security headers,
  and an error is the portal's Russian page, never plain text.

A route reads what the guard found with `person_of` and `form_of`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dqflow.access import sessions
from dqflow.campaign import spec
from dqflow.engine import form as entry_form
from dqflow.errors import DqflowError
from dqflow.intake import text as texts
from dqflow.web import threads
from dqflow.web.site import REFUSED_RU, Site, client, one

log = logging.getLogger("dqflow.web")

HEADERS = {
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the portal's own forms
    # (Fetch, "serializing a request origin"), which the origin check must refuse. A personal link in the address
    # still never leaves the portal: other sites get no Referer (and the links to materials say rel="noreferrer").
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
_HEADERS_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]  # as ASGI sends them
COOKIE = "dqflow_session"
MAX_BODY = 256 * 1024  # a form: twenty links and a few pages of recommendations (a ДОУ's whole form: `form_limits`)
MAX_FIELDS = 200
# a request's headers, names and values: a browser sends a few KB; uvicorn's httptools parser bounds them by nothing
# (h11 reset a connection at 1 MB), and what the guard keeps of them (`origin`'s cache) must not be a client's to size
MAX_HEADERS = 64 * 1024
ORIGIN_KEPT = 256  # the longest Origin or Referer whose parsing is remembered (a real one is far shorter)
MAX_FORM_BODY = 2 * 2**20  # a whole form of many indicators, at most: parsing it takes ~0.1 s of a thread
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})  # every other method changes state and is guarded

# Who a route serves: the guard finds that person, or refuses.
INSTITUTION, EXPERT = "institution", "expert"  # by the personal link in the path: /dou/{subject}/{token}, /expert/…
PERSONAL = (INSTITUTION, EXPERT)
SIGNIN = "signin"  # the coordinator's one-time sign-in link: /signin/{token}
PASSWORD = "password"  # the coordinator's password form
COORDINATOR = "coordinator"  # by the session cookie; the audience of a route that names none
PUBLIC = "public"  # anyone; a state-changing request to it is the coordinator's
LIMITED = {PASSWORD: sessions.SIGNIN}  # audiences whose posts the database limits per address (`sessions`)


Read = Callable[[Session, str, str, datetime], Any]  # a personal page's data: (session, role, subject id, now)
View = Callable[[Session, Request, datetime], Any]  # a coordinator's or public page's data: (session, the request, now)
# a personal page's key: (the campaign, the subject id) → a statement and its values the guard reads with the link's check
Key = Callable[[spec.Campaign, str], Any]
# a personal page's GET from its key's rows alone: (the campaign, the subject id, the digest, (statement, values, rows), now)
Kept = Callable[[spec.Campaign, str, str, Any, datetime], Any]


class Page(Route):
    """A route with its audience (`who`): whom the guard lets in, and whose form token a post must carry.
    `read`: for a personal page (`who` INSTITUTION or EXPERT), what a GET shows, read by the guard once the link is
    admitted, in the same worker-thread call as its check (`Site.admit`); the route finds it with `read_of`. `key`:
    a statement `read` asks first (a ДОУ's state's key), which the guard reads in the one statement of the check.
    `view`: the same as `read` for a coordinator's or public page's GET, read once the session is checked, in the
    same worker-thread call as the check and the definition's refresh (`Site.admit_session`): one wait for a reader
    thread, not three (the refresh, the session, the page: each queued behind every page at a rush). `kept`: what a
    GET shows when the key's rows alone give it (a ДОУ's kept page), read with the check on the event loop's own
    thread where that cannot block (`Site.admit_inline`); None from it: `read` on a worker thread as above."""

    def __init__(self, path: str, endpoint: Any, *, who: str = COORDINATOR, methods: list[str] | None = None,
                 read: Read | None = None, view: View | None = None, key: Key | None = None, kept: Kept | None = None):
        super().__init__(path, endpoint, methods=methods)
        self.who, self.read, self.view, self.key, self.kept = who, read, view, key, kept


@dataclass(frozen=True)
class Person:
    """Who is asking: a ДОУ or an expert by their link, the coordinator by a session, a sign-in form, or a guest."""

    role: str  # INSTITUTION, EXPERT, COORDINATOR, SIGNIN, PASSWORD or "guest"
    id: str = ""  # the ДОУ's or expert's id, the session's id, the sign-in token
    token: str = ""  # the personal link's token
    csrf: str = ""  # a form token for this person, signed as the request came in

    @property
    def principal(self) -> str:
        """What the person's form tokens are signed for: the link itself, the session, the sign-in form."""
        return f"{self.role}:{self.id}:{self.token}" if self.token else f"{self.role}:{self.id}"


GUEST = Person("guest")


def person_of(request: Request) -> Person:
    return request.state.person


def form_of(request: Request) -> dict[str, list[str]]:
    """The posted form the guard read and checked ({} for a GET)."""
    return request.state.form


def read_of(request: Request) -> tuple[datetime, Any] | None:
    """(now, what the route's `Page.read` or `Page.view` gave) when the guard read the page's data at admission, else None."""
    return request.state.read


class Refused(Exception):
    """The guard's answer instead of the route's."""

    def __init__(self, response: Response):
        self.response = response


class Guard:
    def __init__(self, app: ASGIApp, site: Site):
        self.app, self.site = app, site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        threads.settle()
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = with_headers(message.get("headers") or [])
            await send(message)

        try:
            await self.guarded(scope, receive, send_with_headers)
        except ClientDisconnect:
            pass  # the client left while its form was read: nobody to answer, nothing done
        except Refused as refused:
            await refused.response(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await self.server_error()(scope, receive, send_with_headers)
            raise  # the server logs it

    async def guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        site = self.site
        route, params = self.route(scope)
        request = Request({**scope, "path_params": params})
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADERS:
            raise Refused(site.refuse(request, "headers", 431))
        try:  # before anything looks the address's values up (a form's: `parse_form`)
            texts.refuse_nul([*(v for v in params.values() if isinstance(v, str)), *chain(*request.query_params.multi_items())], "адрес")
        except DqflowError as exc:
            raise Refused(site.render("refused.html", 400, why="form", message=site.said(exc))) from None
        unsafe = scope["method"] not in SAFE
        who = route.who if isinstance(route, Page) else COORDINATOR
        viewer = route.view if isinstance(route, Page) and not unsafe else None  # a GET read with its session's check
        if route is not None and unsafe and who in LIMITED and site.refused.lately(LIMITED[who], client(request), site.wall()):
            raise Refused(site.too_many(LIMITED[who]))  # the rest of a burst: no database read, no thread, no body read
        known: tuple[str | None, bool] | None = None  # a coordinator's session and whether it is live, when read here
        if route is not None and unsafe and who in LIMITED:  # a sign-in's post: on the sign-in's threads, behind its burst,
            address = client(request)

            def refresh() -> None:  # not at all once the database refused its address while it waited
                if not site.refused.lately(LIMITED[who], address, site.wall()):
                    site.refresh()

            await threads.signin(refresh)
        elif route is None or (who not in PERSONAL and viewer is None):
            # a personal link's request reads it again with its check, a page's GET with its view (`Site.admit_session`);
            # else a coordinator's session cookie: its session read in the same statement (`Site.refresh`)
            now = site.clock()
            cookie = request.cookies.get(COOKIE) if route is not None and who in (COORDINATOR, PUBLIC) else None
            signed = site.signer.session(cookie, now) if cookie else None
            known = signed, await run_in_threadpool(site.refresh, signed, now)
        if route is None:  # no such page, or not with this method: the router answers 404 or 405 and nothing runs
            await self.app(scope, receive, send)
            return
        who = COORDINATOR if who == PUBLIC and unsafe else who
        if unsafe and not self.same_origin(scope):
            raise Refused(site.refuse(request, "origin"))
        reader = route.read if isinstance(route, Page) and not unsafe else None
        person, read = await self.identify(request, who, params, reader, route.key if isinstance(route, Page) else None, known, viewer,
                                           route.kept if isinstance(route, Page) and not unsafe else None)
        form: dict[str, list[str]] = {}
        if unsafe:
            try:
                size, fields = form_limits(site.campaign, person.role)
                body = await read_body(scope, receive, size)
                # a big form is parsed off the event loop: every other request of the worker waits on it meanwhile
                form = parse_form(body, fields) if len(body) <= MAX_BODY else await run_in_threadpool(parse_form, body, fields)
            except DqflowError as exc:
                raise Refused(site.render("refused.html", 400, why="form", message=site.said(exc))) from None
            if not site.signer.form_ok(person.principal, one(form, "csrf"), site.clock()):
                raise Refused(site.refuse(request, "form"))
            receive = replay(body, receive)
        state = scope.setdefault("state", {})
        state["person"], state["form"], state["read"] = person, form, read
        await self.app(scope, receive, send)

    def route(self, scope: Scope) -> tuple[Route | None, dict[str, Any]]:
        """The route that will answer (with its path parameters), as the router will find it."""
        router: list[BaseRoute] = scope["app"].routes
        for route in router:
            match, child = route.matches(scope)
            if match == Match.FULL and isinstance(route, Route):
                return route, child["path_params"]
        return None, {}

    async def identify(self, request: Request, who: str, params: dict[str, Any], reader: Read | None = None,
                       key: Key | None = None, known: tuple[str | None, bool] | None = None,
                       viewer: View | None = None, kept: Kept | None = None) -> tuple[Person, tuple[datetime, Any] | None]:
        """The person (with a form token for them), and for a page's GET what its `reader` (`viewer`, `kept`) read.
        `known`: the coordinator's session the cookie signs and whether it is live, when the guard has read it
        (`Site.refresh`)."""
        site, now = self.site, self.site.clock()
        read = None
        if who in PERSONAL:
            subject, token = params["subject"], params["token"]
            fetch = (lambda session: reader(session, who, subject, now)) if reader is not None else None
            keyed = (lambda campaign: key(campaign, subject)) if key is not None else None
            answer = (lambda campaign, digest, rows: kept(campaign, subject, digest, rows, now)) if kept is not None else None
            # the link checked on this thread where that cannot block (a kept page served with it), else on a worker's
            checked = site.admit_inline(who, subject, token, fetch, keyed, answer)
            if checked is None:
                why, found = await run_in_threadpool(site.admit, who, subject, token, fetch, keyed)
            else:
                why, found, rest = checked
                if rest is not None:
                    found = await run_in_threadpool(rest)
            if why:
                raise Refused(await site.guessed(request, why))
            person = Person(who, subject, token)
            read = (now, found) if reader is not None else None
        elif who == SIGNIN:
            person = Person(SIGNIN, params["token"])
        elif who == PASSWORD:
            person = Person(PASSWORD)
        else:
            if viewer is not None:  # the refresh, the session's check and the page's data in one thread call
                session = site.signer.session(request.cookies.get(COOKIE), now)
                live, found = await run_in_threadpool(site.admit_session, session, now, viewer, request, who == COORDINATOR)
                read = (now, found) if live or who != COORDINATOR else None
            else:  # the guard read the session with the definition's refresh (`Site.refresh`)
                assert known is not None, "a coordinator's or public request without a view has its session read by the guard"
                session, live = known
            if session is not None and not live:
                session = None  # signed out, or ended by a new password: on every worker at once
            if session is None and who == COORDINATOR:
                raise Refused(site.refuse(request, "session"))
            person = Person(COORDINATOR, session) if session else GUEST
        if person is GUEST:
            return person, read
        return Person(person.role, person.id, person.token, site.signer.form_token(person.principal, now)), read

    def same_origin(self, scope: Scope) -> bool:
        """Whether the request comes from the portal's own pages, as the browser says: its `Origin`, or else its
        `Referer`, is the portal's address (`DQFLOW_BASE_URL` or the campaign's `portal.base_url` when set: behind a
        proxy that is the address people use; else the address this request was sent to). A browser posting a form
        always sends one of the two under the portal's Referrer-Policy; a request with neither is not a browser's
        and holds no one's cookie, and it still needs the person's form token."""
        headers = Headers(scope=scope)
        claimed = headers.get("origin")
        if claimed is None:
            referer = headers.get("referer")
            if referer is None:
                return True
            claimed = referer
        return origin(claimed) == self.own_origin(scope, headers)

    def own_origin(self, scope: Scope, headers: Headers) -> str:
        if self.site.base_url:
            return origin(self.site.base_url)
        host = headers.get("host")
        if host is None and scope.get("server"):
            host = "%s:%d" % tuple(scope["server"])
        return origin(f"{scope.get('scheme', 'http')}://{host}")

    def server_error(self) -> Response:
        try:
            return self.site.render("refused.html", 500, why="server", message=REFUSED_RU["server"])
        except Exception:  # the page itself failed: say it in plain Russian HTML
            log.exception("the error page could not be rendered")
            return HTMLResponse(f"<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\"><title>Ошибка</title>"
                                f"<p>{REFUSED_RU['server']}</p></html>", status_code=500)


def with_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with each of `HEADERS` it does not set itself (a route's own value stays)."""
    raw = list(raw)
    have = {name.lower() for name, _ in raw}
    raw.extend(header for header in _HEADERS_RAW if header[0] not in have)
    return raw


def origin(url: str) -> str:
    """`scheme://host[:port]` of an address, the default port left out; '' for what is not one (`null`)."""
    return _origin(url) if len(url) <= ORIGIN_KEPT else _origin.__wrapped__(url)


@functools.lru_cache(maxsize=1024)  # the portal's own address and the few origins browsers send, parsed once each
def _origin(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port and port != default else "")


def form_limits(campaign: spec.Campaign, role: str) -> tuple[int, int]:
    """The largest body and the most fields a person's post may carry (read only after their link or session is
    checked): a ДОУ's page of a form campaign posts its whole form — every indicator with up to `MAX_EVIDENCE` links
    and their titles, its level and a comment — and an expert reviewing per indicator a level and a comment for each;
    everyone else a form of a few fields. A body is never over `MAX_FORM_BODY`."""
    rows = entry_form.MAX_EVIDENCE + 2  # the links a page shows an indicator with: the stored ones and two empty
    if role == "institution" and campaign.form_stages():
        each, fields = 2 * rows * 500 + texts.MAX_NOTE * 6, 4 + 2 * rows  # links with titles, a comment (Cyrillic: 6 bytes)
    elif role == "expert" and campaign.reviews_by_indicator:
        each, fields = texts.MAX_NOTE * 6, 2  # a level and a comment per indicator
    else:
        each, fields = 0, 0
    n = len(campaign.indicators)
    return min(MAX_FORM_BODY, max(MAX_BODY, n * each)), max(MAX_FIELDS, n * fields + 16)


async def read_body(scope: Scope, receive: Receive, limit: int = 0) -> bytes:
    """The request's body, refused as soon as it grows past `limit` (MAX_BODY by default; never held whole when it is
    larger)."""
    limit = limit or MAX_BODY
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> DqflowError:
    return DqflowError(f"the form is larger than {limit // 1024} KB", code="form-too-large", kb=str(limit // 1024))


def parse_form(body: bytes, fields: int = 0) -> dict[str, list[str]]:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=fields or MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise DqflowError("the form could not be read", code="form-unreadable") from None
    texts.refuse_nul(chain(form, *form.values()), "форма")
    return form


def replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, handed once more to whatever reads it after the guard."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again

