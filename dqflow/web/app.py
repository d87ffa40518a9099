"""The portal's routes: personal pages of ДОУ and experts, the coordinator's pages, the public board.

A route parses, makes one engine call (inside one transaction, audited with who acted), and renders
or redirects; the engine enforces every rule. Database work runs in a worker thread so the event loop
(shared with the daemon under `dqflow run --http`) never waits on it. Pages are plain HTML, no script.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from datetime import datetime
from typing import Callable
from urllib.parse import parse_qs, quote

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import parse_local, show, show_date
from dqflow.delivery.letters import digest_content
from dqflow.engine import experts, reminders, skips, workspace
from dqflow.errors import DqflowError, NotAllowed, NotFound
from dqflow.present import labels, sending
from dqflow.present.history import history_entries
from dqflow.store import CampaignRow
from dqflow.web import board, refusals

COOKIE = "dqflow_session"
OUTBOX_PAGE = 500  # outbox rows a page
LATE_SHOWN = 100  # rows of "who is late" on the overview; the ДОУ grid below it shows every one
MAX_BODY = 256 * 1024  # a form: twenty links and a few pages of recommendations
FAILURES_ALLOWED = 10  # refused links per client address …
FAILURE_WINDOW = 600.0  # … within this many seconds, then 429 until the oldest one ages out

OK_RU = {
    "submitted": "Материалы приняты. Спасибо!",
    "reviewed": "Экспертиза сохранена. Её можно изменить до закрытия этапа.",
    "extended": "Срок продлён.",
    "excused": "{t.nom} освобожден{t.past} от этапа.",  # t: the campaign's Terms
    "experts": "Эксперты назначены.",
    "signed-in": "Вы вошли как координатор.",
}
REFUSED_RU = {
    "tampered": "Ссылка неверна: возможно, она скопирована не полностью или изменена.",
    "revoked": "Эта ссылка отозвана координатором, и вам выдана новая.",
    "expired": "Срок действия ссылки истёк: кампания завершена.",
    "unknown": "Такой ссылки нет.",
    "used": "Эта ссылка для входа уже использована: она действует один раз.",
    "session": "Эта страница — для координатора. Войдите по паролю или по одноразовой ссылке.",
    "form": "Форма устарела или открыта не с этой страницы. Откройте страницу заново и повторите.",
}


PASSWORD_RU = {
    "password": "Пароль не подходит. Проверьте раскладку клавиатуры и Caps Lock и повторите.",
    "no-password": "Пароль координатора ещё не задан. Задайте его командой dqflow link password "
                   "или войдите по ссылке из dqflow link coordinator.",
}


class Failures:
    """Refused links per client address in a sliding window: guessing links gets slow at once."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW):
        self.allowed, self.window = allowed, window
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        seen, now = self.seen[client], time.monotonic()
        while seen and now - seen[0] > self.window:
            seen.popleft()
        return len(seen) >= self.allowed

    def add(self, client: str) -> None:
        self.seen[client].append(time.monotonic())


class Portal:
    def __init__(self, db: Engine, campaign_id: str | None, clock: Callable[[], datetime], wall: Callable[[], datetime]):
        self.db, self.clock, self.wall = db, clock, wall
        with store.dry_run(db) as session:
            self.campaign = engine.definition(session, campaign_id)
            self.signer = links.signer(session, self.campaign.id)
            self.digest = self._stored_digest(session)
        self.tz = self.campaign.tz
        self.failures = Failures()
        self.pages = Environment(loader=PackageLoader("dqflow.web", "templates"), autoescape=select_autoescape(default=True),
                                 trim_blocks=True, lstrip_blocks=True)
        self.pages.globals.update(show=lambda t: show(t, self.tz), show_date=lambda t: show_date(t, self.tz),
                                  STATUS_RU=labels.STATUS_RU, STATE_RU=labels.STATE_RU, KIND_RU=labels.KIND_RU, campaign=self.campaign,
                                  rule_ru=labels.rule_ru, reason_ru=lambda r: labels.reason_ru(r, self.campaign.terms),
                                  OUTBOX_STATE_RU=labels.OUTBOX_STATE_RU, broken_ru=lambda r: labels.broken_ru(r, self.campaign.terms))
        self.pages.filters["fromjson"] = json.loads

    # -- plumbing ----------------------------------------------------------------------

    def _stored_digest(self, session) -> str:
        return session.execute(select(CampaignRow.digest).where(CampaignRow.id == self.campaign.id)).scalar_one()

    def refresh(self) -> None:
        """An amendment (`dqflow load FILE --apply`) changes the stored campaign while the portal runs: the definition
        is read again when the stored digest moved (one primary-key read per request), so a ДОУ or expert added gets
        their page and one withdrawn loses it, without restarting `dqflow serve`."""
        with store.dry_run(self.db) as session:
            digest = self._stored_digest(session)
            if digest != self.digest:
                self.campaign = engine.definition(session, self.campaign.id)
                self.tz, self.digest = self.campaign.tz, digest
                self.pages.globals["campaign"] = self.campaign

    def render(self, name: str, status: int = 200, **context) -> HTMLResponse:
        now = context.pop("now", None) or self.clock()
        html = self.pages.get_template(name).render(now=now, zone=board.offset(self.tz, now), **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def ok_ru(self, ok: str | None) -> str | None:
        said = OK_RU.get(ok or "")
        return said.format(t=self.campaign.terms) if said else None

    def said(self, exc: DqflowError) -> str:
        return refusals.said(exc, self.campaign)

    def transaction(self, actor: str):
        return store.transaction(self.db, recorded_at=self.wall().replace(microsecond=0), actor=actor)

    def refuse(self, request: Request, why: str, status: int = 403) -> HTMLResponse:
        if why not in ("session", "form"):
            self.failures.add(_client(request))
        return self.render("refused.html", status, why=why, message=REFUSED_RU[why])

    def too_many(self) -> HTMLResponse:
        return self.render("refused.html", 429, why="rate", message="Слишком много неверных ссылок с этого адреса. "
                           f"Попробуйте снова через {int(FAILURE_WINDOW // 60)} минут.")

    async def form(self, request: Request) -> dict[str, list[str]]:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise DqflowError(f"the form is larger than {MAX_BODY // 1024} KB", code="form-too-large", kb=str(MAX_BODY // 1024))
        try:
            return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            raise DqflowError("the form could not be read", code="form-unreadable") from None

    def person(self, request: Request, role: str) -> tuple[str, str, str | None]:
        """(id, token, why refused or None) of a personal link."""
        subject_id, token = request.path_params["subject"], request.path_params["token"]
        if self.clock() > links.expires_at(self.campaign):
            return subject_id, token, "expired"

        def check() -> str | None:
            with store.dry_run(self.db) as session:
                known = (any(i.id == subject_id for i in self.campaign.institutions) if role == "institution"
                         else any(e.id == subject_id for e, _ in self.campaign.every_expert()))
                return links.links(session, self.campaign.id).check(role, subject_id, token) if known else "tampered"

        return subject_id, token, check()

    # -- a ДОУ and an expert: their own page, one form ------------------------------------

    PAGES = {"institution": ("institution.html", workspace.institution_desk),
             "expert": ("expert.html", workspace.expert_desk)}

    async def personal(self, request: Request, role: str) -> Response:
        """GET: the person's page. POST: their form → one engine call as them → redirect to the page."""
        if self.failures.blocked(_client(request)):
            return self.too_many()
        subject_id, token, why = await run_in_threadpool(self.person, request, role)
        if why:
            return self.refuse(request, why)
        if request.method == "GET":
            return await self.personal_page(role, subject_id, token, ok=request.query_params.get("ok"))
        form = await self.form(request)
        if not self.signer.form_ok(f"{role}:{subject_id}:{token}", _one(form, "csrf"), self.clock()):
            return self.refuse(request, "form")
        act, done = self.submission(form, subject_id) if role == "institution" else self.review(form, subject_id)

        def write() -> None:
            with self.transaction(f"{role}:{subject_id}") as session:
                act(session, self.clock())

        try:
            await run_in_threadpool(write)
        except DqflowError as exc:
            return await self.personal_page(role, subject_id, token, error=self.said(exc), status=_status(exc))
        return _redirect(request.url.path + done)

    def submission(self, form: dict, institution_id: str):
        stage_id = _one(form, "stage")
        urls = tuple(u.strip() for u in form.get("link", []) if u.strip())
        return (lambda session, now: engine.submit(session, self.campaign.id, institution_id, stage_id, now, urls),
                "?ok=submitted#stage-" + quote(stage_id))

    def review(self, form: dict, expert_id: str):
        levels = {a.id: _one(form, f"level-{a.id}") for a in self.campaign.areas if _one(form, f"level-{a.id}")}
        entry = experts.ReviewEntry(_one(form, "institution"), _one(form, "stage"), expert_id, levels,
                                    _one(form, "recommendations").replace("\r\n", "\n"))
        return (lambda session, now: engine.review_many(session, self.campaign.id, [entry], now),
                "?ok=reviewed#dou-" + quote(entry.institution_id))

    async def personal_page(self, role: str, subject_id: str, token: str, ok: str | None = None, error: str | None = None,
                            status: int = 200) -> Response:
        now = self.clock()
        template, desk_of = self.PAGES[role]

        def read():
            with store.dry_run(self.db) as session:
                return desk_of(session, self.campaign, subject_id, now)

        desk = await run_in_threadpool(read)
        return self.render(template, status, now=now, desk=desk, ok=self.ok_ru(ok), error=error,
                           csrf=self.signer.form_token(f"{role}:{subject_id}:{token}", now))

    # -- the coordinator -------------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        if self.failures.blocked(_client(request)):
            return self.too_many()
        token = request.path_params["token"]
        now = self.clock()
        if request.method == "GET":  # a mail scanner or a preview fetching the link does not spend it
            def pending() -> bool:
                with store.dry_run(self.db) as session:
                    return links.signin_pending(session, self.campaign.id, token)

            if not await run_in_threadpool(pending):
                return self.refuse(request, "unknown")
            return self.render("signin.html", csrf=self.signer.form_token(f"signin:{token}", now))
        form = await self.form(request)
        if not self.signer.form_ok(f"signin:{token}", _one(form, "csrf"), now):
            return self.refuse(request, "form")

        def spend() -> str | None:
            with self.transaction("coordinator:web") as session:
                return links.spend_signin(session, self.campaign, token, now)

        why = await run_in_threadpool(spend)
        if why:
            return self.refuse(request, why)
        return self.start_session(request, now)

    async def password_signin(self, request: Request) -> Response:
        """/signin: the coordinator's password (set with `dqflow link password`); wrong ones count as failed links."""
        if self.failures.blocked(_client(request)):
            return self.too_many()
        now = self.clock()

        def ready() -> bool:
            with store.dry_run(self.db) as session:
                return links.has_password(session, self.campaign.id)

        ready_now = await run_in_threadpool(ready)
        page = lambda status=200, error=None: self.render(  # noqa: E731
            "password.html", status, csrf=self.signer.form_token("signin:password", now), error=error, ready=ready_now)
        if request.method == "GET":
            return page()
        form = await self.form(request)
        if not self.signer.form_ok("signin:password", _one(form, "csrf"), now):
            return self.refuse(request, "form")

        def check() -> str | None:
            with self.transaction("coordinator:web") as session:
                return links.sign_in_with_password(session, self.campaign, _one(form, "password"), now)

        why = await run_in_threadpool(check)
        if why:
            self.failures.add(_client(request))
            return page(403, PASSWORD_RU[why])
        return self.start_session(request, now)

    def start_session(self, request: Request, now: datetime) -> Response:
        response = _redirect("/coordinator?ok=signed-in")
        response.set_cookie(COOKIE, self.signer.session_cookie(now), max_age=int(links.SESSION_VALID.total_seconds()),
                            httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
        return response

    def session(self, request: Request) -> str | None:
        return self.signer.session(request.cookies.get(COOKIE), self.clock())

    async def signout(self, request: Request) -> Response:
        sid = self.session(request)
        form = await self.form(request)
        if sid and not self.signer.form_ok(f"coordinator:{sid}", _one(form, "csrf"), self.clock()):
            return self.refuse(request, "form")
        response = _redirect("/")
        response.delete_cookie(COOKIE, path="/")
        return response

    async def coordinator(self, request: Request) -> Response:
        """Every coordinator page: the session is checked, then the page's own handler runs."""
        sid = self.session(request)
        if sid is None:
            return self.refuse(request, "session")
        csrf = self.signer.form_token(f"coordinator:{sid}", self.clock())
        page = request.path_params.get("page", "overview")
        if request.method == "POST":
            form = await self.form(request)
            if not self.signer.form_ok(f"coordinator:{sid}", _one(form, "csrf"), self.clock()):
                return self.refuse(request, "form")
            return await getattr(self, f"post_{page}")(request, form, csrf)
        return await getattr(self, f"get_{page}")(request, csrf)

    async def get_overview(self, request: Request, csrf: str, error: str | None = None) -> Response:
        now = self.clock()
        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))

        def read():
            with store.dry_run(self.db) as session:
                view = engine.status(session, self.campaign.id, now, institutions=True, offset=start, limit=board.PAGE)
                names = {i.id: i.name for i in self.campaign.institutions}
                return view, digest_content(session, self.campaign, names, now)

        view, late = await run_in_threadpool(read)
        return self.render("coordinator.html", now=now, view=view, late=late, csrf=csrf, pager=_pager(view, "/coordinator"),
                           LATE_SHOWN=LATE_SHOWN,
                           ok=self.ok_ru(request.query_params.get("ok")), error=error,
                           lists=[s for s in self.campaign.stages if s.kind == "assignment"])

    async def get_card(self, request: Request, csrf: str, error: str | None = None, status: int = 200) -> Response:
        institution_id = request.path_params["subject"]
        now = self.clock()

        def read():
            with store.dry_run(self.db) as session:
                return (engine.institution_detail(session, self.campaign.id, institution_id, now),
                        engine.history(session, self.campaign.id, institution_id))

        try:
            details, history = await run_in_threadpool(read)
        except NotFound:
            return self.render("refused.html", 404, why="unknown", message=f"Такого {self.campaign.terms.gen} нет в кампании.")
        institution = next(i for i in self.campaign.institutions if i.id == institution_id)
        return self.render("card.html", status, now=now, institution=institution, details=details,
                           history=history_entries(history, self.tz, self.campaign),
                           csrf=csrf, ok=self.ok_ru(request.query_params.get("ok")), error=error)

    async def post_card(self, request: Request, form: dict, csrf: str) -> Response:
        institution_id = request.path_params["subject"]
        action, stage_id, reason = _one(form, "action"), _one(form, "stage"), _one(form, "reason")
        now = self.clock()

        def act() -> None:
            with self.transaction("coordinator:web") as session:
                if action == "extend":
                    try:
                        until = parse_local(_one(form, "until").replace("T", " "), self.tz, end_of_day=True)
                    except ValueError as exc:
                        raise DqflowError(f"the new deadline: {exc}", code="bad-deadline") from None
                    engine.extend(session, self.campaign.id, institution_id, stage_id, until, reason, now)
                elif action == "excuse":
                    engine.excuse(session, self.campaign.id, institution_id, stage_id, reason, now)
                else:
                    raise DqflowError(f"unknown action '{action}'", code="unknown-action")

        try:
            await run_in_threadpool(act)
        except DqflowError as exc:
            return await self.get_card(request, csrf, error=self.said(exc), status=_status(exc))
        return _redirect(f"/coordinator/dou/{quote(institution_id)}?ok={'extended' if action == 'extend' else 'excused'}")

    async def get_experts(self, request: Request, csrf: str, error: str | None = None, check: dict | None = None,
                          status: int = 200) -> Response:
        stage_id = request.path_params["stage"]

        def read():
            with store.dry_run(self.db) as session:
                return experts.current(session, self.campaign, stage_id)

        try:
            current = await run_in_threadpool(read)
        except DqflowError as exc:
            return self.render("refused.html", 404, why="unknown", message=self.said(exc))
        people = {e.id: e.name for e, _ in self.campaign.every_expert()}
        names = {i.id: i.name for i in self.campaign.institutions}
        rows = list(current.assignments.items())
        start = board.page_offset(request.query_params.get("offset"), len(rows))
        path = f"/coordinator/experts/{quote(current.stage.id)}"
        return self.render("experts.html", status, current=current, people=people, names=names, csrf=csrf, error=error,
                           check=check, ok=self.ok_ru(request.query_params.get("ok")), rows=rows[start:start + board.PAGE],
                           pager=board.Pager.of(start, len(rows[start:start + board.PAGE]), len(rows),
                                                lambda at: f"{path}?offset={at}" if at else path, board.PAGE))

    async def post_experts(self, request: Request, form: dict, csrf: str) -> Response:
        """Check first (the rule report of the list as it would be), then save on a second press."""
        stage_id, institution_id = request.path_params["stage"], _one(form, "institution")
        chosen = [e for e in _one(form, "experts").replace(",", " ").split() if e]
        now = self.clock()

        def check() -> list[str]:
            with store.dry_run(self.db) as session:
                return experts.set_experts(session, self.campaign, stage_id, institution_id, chosen, now).problems

        def save() -> None:
            with self.transaction("coordinator:web") as session:
                experts.set_experts(session, self.campaign, stage_id, institution_id, chosen, now)

        try:
            if _one(form, "action") != "save":
                problems = await run_in_threadpool(check)
                return await self.get_experts(request, csrf, check={"institution": institution_id, "experts": " ".join(chosen),
                                                                     "problems": problems})
            await run_in_threadpool(save)
        except DqflowError as exc:
            return await self.get_experts(request, csrf, error=self.said(exc), status=_status(exc))
        return _redirect(f"/coordinator/experts/{quote(stage_id)}?ok=experts")

    async def get_outbox(self, request: Request, csrf: str) -> Response:
        state = request.query_params.get("state") or None
        recipient = (request.query_params.get("recipient") or "").strip()
        now = self.clock()

        state = state if state in labels.OUTBOX_STATE_RU else None

        def read():
            with store.dry_run(self.db) as session:
                total = reminders.ledger_size(session, self.campaign.id, state)
                start = board.page_offset(request.query_params.get("offset"), total)
                rows = reminders.ledger(session, self.campaign.id, state, offset=start, limit=OUTBOX_PAGE)
                why = None
                if recipient:
                    found, gaps = reminders.explain(session, self.campaign, recipient, None)
                    why = sending.why_text(recipient, found, gaps, self.tz, now, skips.foreseen(session, self.campaign.id, found),
                                           self.campaign.terms)
                return rows, total, start, why

        rows, total, start, why = await run_in_threadpool(read)
        query = "&".join(f"{k}={quote(v)}" for k, v in (("state", state or ""), ("recipient", recipient)) if v)
        href = lambda at: "/coordinator/outbox?" + "&".join(p for p in (query, f"offset={at}" if at else "") if p)  # noqa: E731
        return self.render("outbox.html", rows=rows, total=total, state=state, recipient=recipient, why=why, csrf=csrf,
                           pager=board.Pager.of(start, len(rows), total, href, OUTBOX_PAGE), pager_what="Письма",
                           stage_label={s.id: s.label for s in self.campaign.stages})

    # -- public --------------------------------------------------------------------------

    async def board(self, request: Request) -> Response:
        now = self.clock()

        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))

        def read():
            with store.dry_run(self.db) as session:
                return engine.status(session, self.campaign.id, now, institutions=True, offset=start, limit=board.PAGE)

        view = await run_in_threadpool(read)
        return self.render("board.html", now=now, board=board.Board.of(view), public=True, pager=_pager(view, "/board"))

    async def home(self, request: Request) -> Response:
        return self.render("home.html", signed_in=self.session(request) is not None)


HEADERS = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
                                      "frame-ancestors 'none'",
           "Cache-Control": "no-store"}


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _pager(view: engine.CampaignView, path: str) -> board.Pager:
    return board.Pager.of(view.offset, len(view.institutions), view.total,
                          lambda at: f"{path}?offset={at}" if at else path, board.PAGE)


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _status(exc: DqflowError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, NotAllowed) else 400


def create_app(db: Engine, campaign_id: str | None, clock: Callable[[], datetime], wall: Callable[[], datetime]) -> Starlette:
    """The portal for one campaign. `clock` gives the campaign's `now` (the wall clock, or one started
    at a --now); `wall` the real clock for the audit's `recorded_at`."""
    portal = Portal(db, campaign_id, clock, wall)
    both = ["GET", "POST"]
    routes = [
        Route("/", portal.home),
        Route("/board", portal.board),
        Route("/dou/{subject}/{token}", _for_role(portal.personal, "institution"), methods=both),
        Route("/expert/{subject}/{token}", _for_role(portal.personal, "expert"), methods=both),
        Route("/signin", portal.password_signin, methods=both),
        Route("/signin/{token}", portal.signin, methods=both),
        Route("/signout", portal.signout, methods=["POST"]),
        Route("/coordinator", portal.coordinator, methods=["GET"]),
        Route("/coordinator/dou/{subject}", _page(portal, "card"), methods=both),
        Route("/coordinator/experts/{stage}", _page(portal, "experts"), methods=both),
        Route("/coordinator/outbox", _page(portal, "outbox")),
    ]

    async def bad_form(request: Request, exc: Exception) -> Response:
        return portal.render("refused.html", 400, why="form", message=portal.said(exc))

    async def not_found(request: Request, exc: Exception) -> Response:
        return portal.render("refused.html", 404, why="unknown", message="Такой страницы нет. Проверьте адрес: ссылка из письма "
                                                                          "должна быть скопирована целиком.")

    app = Starlette(routes=routes, exception_handlers={DqflowError: bad_form, 404: not_found},
                    middleware=[Middleware(_Fresh, portal=portal)])
    app.state.portal = portal
    return app


class _Fresh:
    """Each request sees the campaign as it is stored now (see `Portal.refresh`)."""

    def __init__(self, app, portal: Portal):
        self.app, self.portal = app, portal

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            await run_in_threadpool(self.portal.refresh)
        await self.app(scope, receive, send)


def _for_role(handler, role: str):
    """An async endpoint for one role (Starlette runs a lambda as a sync endpoint)."""
    async def endpoint(request: Request) -> Response:
        return await handler(request, role)

    return endpoint


def _page(portal: Portal, page: str):
    async def endpoint(request: Request) -> Response:
        request.path_params["page"] = page
        return await portal.coordinator(request)

    return endpoint

