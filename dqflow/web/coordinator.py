"""The coordinator's pages: signing in and out, the campaign's overview, a ДОУ's card (extend, excuse, settle),
an expert list (check, then save), the outbox.

The guard (`middleware`) has checked the session on every page here (and the sign-in forms' tokens);
a route parses, makes one engine call in one transaction audited as `coordinator:web`, and renders
or redirects.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any, Awaitable, Callable, TypeVar
from urllib.parse import quote

from markupsafe import Markup
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from dqflow import engine, store
from dqflow.access import links, sessions
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.delivery import linkcheck
from dqflow.engine import experts, finals, late, reminders, settle, skips, workspace
from dqflow.engine.allocation import Rule
from dqflow.errors import DqflowError, NotFound
from dqflow.present import labels, sending
from dqflow.present.history import history_entries
from dqflow.store import InstitutionRow
from dqflow.web import board, snapshots, threads
from dqflow.web.middleware import COOKIE, PASSWORD, SIGNIN, Page, form_of, person_of, read_of
from dqflow.web.site import Site, client, one, redirect, refusal_status

T = TypeVar("T")
Overview = tuple[Markup, dict[str, int], tuple[Any, Any]]  # the home's kept overview, the links' counts, who awaits a settlement
OUTBOX_PAGE = 500  # outbox rows a page
LATE_SHOWN = snapshots.SHOWN  # rows of "who is late" on the overview; the ДОУ grid below it shows every one

PASSWORD_RU = {
    "password": "Пароль не подходит. Проверьте раскладку клавиатуры и Caps Lock и повторите.",
    "no-password": "Пароль координатора ещё не задан. Задайте его командой dqflow link password "
                   "или войдите по ссылке из dqflow link coordinator.",
}


class Coordinator(Site):
    # -- signing in and out ----------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        token = request.path_params["token"]
        now = self.clock()
        if request.method != "POST":  # a mail scanner or a preview fetching (or HEAD-ing) the link does not spend it
            def pending() -> bool:
                with store.dry_run(self.db) as session:
                    return links.signin_pending(session, self.campaign.id, token)

            if not await run_in_threadpool(pending):
                return await self.guessed(request, "unknown")
            return self.render("signin.html", csrf=person_of(request).csrf)

        def spend() -> tuple[str | None, str]:
            with self.transaction("coordinator:web") as session:
                why = links.spend_signin(session, self.campaign, token, now)
                return why, "" if why else links.start_session(session, self.campaign, now, "link")

        why, session_id = await self.write(spend)
        if why:
            return await self.guessed(request, why)
        return self.session_started(request, session_id, now)

    async def password_signin(self, request: Request) -> Response:
        """/signin: the coordinator's password (set with `dqflow link password`). A POST reserves an attempt for its
        address (and against the ceiling of all) before the password is hashed, outside any transaction: a burst of
        guesses is refused with 429 past the limit and never holds the database's write lock while hashing."""
        now = self.clock()

        def stored() -> str | None:
            with store.dry_run(self.db) as session:
                return links.stored_password(session, self.campaign.id)

        page = lambda status=200, error=None, ready=True: self.render(  # noqa: E731
            "password.html", status, csrf=person_of(request).csrf, error=error, ready=ready)
        if request.method != "POST":
            return page(ready=bool(await run_in_threadpool(stored)))
        address = client(request)

        def reserve() -> int | None:
            if self.refused.lately(sessions.SIGNIN, address, self.wall()):  # refused while this one waited for its turn
                return None
            return sessions.reserve(self.db, self.campaign.id, sessions.SIGNIN, address, self.wall())

        # a post's work on the sign-in's own threads (`threads.signin`): a burst waits behind itself, not ahead of the pages
        attempt = await threads.signin(reserve)
        if attempt is None:
            self.refused.note(sessions.SIGNIN, address, self.wall())
            return self.too_many(sessions.SIGNIN)
        hashed = await threads.signin(stored)
        if not hashed:
            return page(403, PASSWORD_RU["no-password"], ready=False)
        if not await threads.signin(links.password_matches, hashed, one(form_of(request), "password")):
            return page(403, PASSWORD_RU["password"])  # the reserved attempt stays: it counts as a failure

        def sign_in() -> str:
            with self.transaction("coordinator:web") as session:
                sessions.forget(session, attempt)
                return links.start_session(session, self.campaign, now, "password")

        return self.session_started(request, await threads.signin(sign_in), now)

    def session_started(self, request: Request, session_id: str, now: datetime) -> Response:
        response = redirect("/coordinator?ok=signed-in")
        response.set_cookie(COOKIE, self.signer.session_cookie(session_id, now), max_age=int(links.SESSION_VALID.total_seconds()),
                            httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
        return response

    async def signout(self, request: Request) -> Response:
        """Ends every session of the coordinator, on every worker (the guard looks each one up in the database)."""
        now = self.clock()

        def end() -> None:
            with self.transaction("coordinator:web") as session:
                links.end_sessions(session, self.campaign, now, "signout")

        await self.write(end)
        response = redirect("/")
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- the pages ---------------------------------------------------------------------------

    async def coordinator(self, request: Request) -> Response:
        """Every coordinator page (the guard checked the session, and a form's token): the page's own handler runs."""
        csrf = person_of(request).csrf
        page = request.path_params.get("page", "overview")
        if request.method == "POST":
            return await getattr(self, f"post_{page}")(request, form_of(request), csrf)
        return await getattr(self, f"get_{page}")(request, csrf)

    async def get_overview(self, request: Request, csrf: str, error: str | None = None) -> Response:
        """Counts, who is late and a page of the roster, computed and rendered once per state of the campaign (`snapshots`):
        a request costs one statement (the state's key) while nothing changed, whatever the roster's size. Read by the
        guard with the session's check (`overview_read`), or here after a refused post."""
        found = read_of(request)
        if found is None:
            now = self.clock()
            found = now, await run_in_threadpool(self.read_apart, self.overview_read, request, now)
        now, (shown, link_counts, (awaiting, disputes)) = found
        return self.render("coordinator.html", now=now, overview=shown, csrf=csrf, link_counts=link_counts, awaiting_settlement=awaiting,
                           disputes=disputes, disputes_shown=settle.SHOWN,
                           LINK_STATE_RU=linkcheck.STATE_RU,
                           ok=self.ok_ru(request.query_params.get("ok")), error=error,
                           lists=[s for s in self.campaign.stages if s.kind == "assignment"])

    def read_apart(self, view: Callable[[Session, Request, datetime], T], request: Request, now: datetime) -> T:
        """A page's `view` in a transaction of its own (the page again after a refused post: the guard read none)."""
        with self.reading() as session:
            return view(session, request, now)

    def overview_read(self, session: Session, request: Request, now: datetime) -> Overview:
        """What the home shows of the database (`Page.view`: read by the guard in its thread call): the overview kept for
        the state, the links' counts (they change with no state of the campaign: read apart, one GROUP BY) and who awaits
        a settlement (a review or a settlement writes an audit row, which moves the key: counted once per state)."""
        start = board.page_offset(request.query_params.get("offset"), len(self.campaign.institutions))
        key = self.state_key(session, now)
        return (self.snapshots.page(key, ("overview", start), session, now, lambda s, at, k: self.overview_rendering(s, at, start, k)),
                linkcheck.counts(session, self.campaign.id),
                self.snapshots.page(key, ("awaiting-settlement",), session, now, self.awaiting))

    def awaiting(self, session: Session, now: datetime, key: tuple) -> tuple[Any, Any]:
        """Who awaits a settlement: the ДОУ whose experts disagree, and the disputes (`finals`, `settle`)."""
        return finals.awaiting_settlement(session, self.campaign), settle.awaiting(session, self.campaign)

    def overview_rendering(self, session: Session, now: datetime, start: int, key: tuple) -> Markup:
        """The overview for the state `key` names: the stages' counts shared with the board (`board.stages`), who is late,
        and a page of the grid, its rows of the ДОУ changed since (`board.page_rows`)."""
        view = board.stages(self.snapshots, session, self.campaign, now, key)
        rows = board.page_rows(session, self.campaign, now, board.roster_page(session, self.campaign, start, view.total), "overview",
                               self.snapshots.rows, snapshots.rows_epoch(key), grid_row)
        view = replace(view, offset=start, institutions=[])
        lates, late_total, unreviewable, unreviewable_total = self.snapshots.get(
            key, ("late",), lambda: self.late_lists(session, now, key), exact=True)  # every page of the home's: once a state
        return Markup(self.pages.get_template("_overview.html").render(
            view=view, rows=rows, late=lates, late_total=late_total, stages={s.id: s for s in self.campaign.stages},  # a label a row
            unreviewable=unreviewable, unreviewable_total=unreviewable_total, pager=board.pager(view, len(rows), "/coordinator")))

    def late_lists(self, session: Session, now: datetime, key: tuple) -> tuple[list[late.Late], int, list[tuple[str, str]], int]:
        """Who is late (the first `LATE_SHOWN`, named, and how many) and the reviews of nothing (the first, and how
        many) for the state `key` names: `late.first`'s and `late.without_materials`' answers, found again only for the
        ДОУ changed since (`snapshots.KeptLate`), the shown ones named afresh (an expert list names no ДОУ's change)."""
        standing = self.snapshots.standing(key, session, self.campaign, now)
        if standing is None:
            unreviewable = late.without_materials(session, self.campaign, now)
            lates, late_total = late.first(session, self.campaign, now, LATE_SHOWN)  # the first 100 and how many: one statement
            return lates, late_total, unreviewable[:LATE_SHOWN], len(unreviewable)
        return (late.named(session, self.campaign, standing.first_late[:LATE_SHOWN]), standing.late_total,
                [(inst, stage_id) for *_, inst, stage_id in standing.first_nothing[:LATE_SHOWN]], standing.nothing_total)

    async def get_card(self, request: Request, csrf: str, error: str | None = None, status: int = 200) -> Response:
        found = read_of(request) if error is None else None  # read by the guard (`card_read`), or again after a refused post
        if found is None:
            now = self.clock()
            found = now, await run_in_threadpool(self.read_apart, self.card_read, request, now)
        now, read = found
        if read is None:
            return self.render("refused.html", 404, why="unknown", message=f"Такого {self.campaign.terms.gen} нет в кампании.")
        institution, details, history, settlements = read
        return self.render("card.html", status, now=now, institution=institution, statuses={d.stage.id: d.status for d in details},
                           details=details, history=history_entries(history, self.tz, self.campaign), csrf=csrf,
                           ok=self.ok_ru(request.query_params.get("ok")), error=error, settlements=settlements,
                           level_name=lambda lv: labels.level_name(self.campaign, lv), expert_name=lambda e: labels.expert_name(self.campaign, e),
                           actor_ru=lambda a: labels.actor_ru(a, self.campaign.terms, self.campaign),
                           settle_rule=labels.SETTLE_RULE_RU[self.campaign.settle])

    def card_read(self, session: Session, request: Request, now: datetime) -> tuple | None:
        """A ДОУ's card's data (`Page.view`): its own rows, projected to `now` (a withdrawn ДОУ's records stay readable);
        None for a ДОУ the campaign never had."""
        institution_id = request.path_params["subject"]
        try:
            details = engine.institution_detail(session, self.campaign.id, institution_id, now)
            return (self.institution(session, institution_id), details, engine.history(session, self.campaign.id, institution_id),
                    settle.settlements(session, self.campaign, institution_id))
        except NotFound:
            return None

    def institution(self, session: Session, institution_id: str) -> spec.Institution:
        """A ДОУ of the campaign, or one an amendment withdrew (its stored row)."""
        if institution_id in self.campaign.institution_ids:
            return self.campaign.institutions[workspace.roster(self.campaign).position[institution_id]]
        row = session.get(InstitutionRow, (self.campaign.id, institution_id))
        if row is None:
            raise NotFound(f"no ДОУ '{institution_id}' in campaign '{self.campaign.id}'")
        return spec.Institution(row.id, row.name, row.email)

    async def post_card(self, request: Request, form: dict[str, list[str]], csrf: str) -> Response:
        institution_id = request.path_params["subject"]
        action, stage_id, reason = one(form, "action"), one(form, "stage"), one(form, "reason")
        now = self.clock()

        def act() -> None:
            with self.transaction("coordinator:web") as session:
                if action == "extend":
                    try:
                        until = parse_local(one(form, "until").replace("T", " "), self.tz, end_of_day=True)
                    except ValueError as exc:
                        raise DqflowError(f"the new deadline: {exc}", code="bad-deadline") from None
                    engine.extend(session, self.campaign.id, institution_id, stage_id, until, reason, now)
                elif action == "excuse":
                    engine.excuse(session, self.campaign.id, institution_id, stage_id, reason, now)
                elif action == "settle":  # an indicator the experts disagree on (`engine.settle`)
                    settle.settle(session, self.campaign.id, institution_id, stage_id, one(form, "indicator"), one(form, "level"),
                                  reason, now)
                else:
                    raise DqflowError(f"unknown action '{action}'", code="unknown-action")

        try:
            await self.write(act)
        except DqflowError as exc:
            return await self.get_card(request, csrf, error=self.said(exc), status=refusal_status(exc))
        if action == "settle":
            return redirect(f"/coordinator/dou/{quote(institution_id)}?ok=settled#settle-{quote(stage_id)}")
        return redirect(f"/coordinator/dou/{quote(institution_id)}?ok={'extended' if action == 'extend' else 'excused'}")

    async def get_experts(self, request: Request, csrf: str, error: str | None = None, check: dict | None = None,
                          status: int = 200) -> Response:
        stage_id = request.path_params["stage"]

        def read():
            with self.reading() as session:
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

    async def post_experts(self, request: Request, form: dict[str, list[str]], csrf: str) -> Response:
        """Check first (the rule report of the list as it would be), then save on a second press."""
        stage_id, institution_id = request.path_params["stage"], one(form, "institution")
        chosen = [e for e in one(form, "experts").replace(",", " ").split() if e]
        now = self.clock()

        def check() -> list[Rule]:
            with store.dry_run(self.db) as session:
                return experts.set_experts(session, self.campaign, stage_id, institution_id, chosen, now).problems

        def save() -> None:
            with self.transaction("coordinator:web") as session:
                experts.set_experts(session, self.campaign, stage_id, institution_id, chosen, now)

        try:
            if one(form, "action") != "save":
                problems = await run_in_threadpool(check)
                return await self.get_experts(request, csrf, check={"institution": institution_id, "experts": " ".join(chosen),
                                                                     "problems": problems})
            await self.write(save)
        except DqflowError as exc:
            return await self.get_experts(request, csrf, error=self.said(exc), status=refusal_status(exc))
        return redirect(f"/coordinator/experts/{quote(stage_id)}?ok=experts")

    async def get_outbox(self, request: Request, csrf: str) -> Response:
        state = request.query_params.get("state") or None
        recipient = (request.query_params.get("recipient") or "").strip()
        now = self.clock()

        state = state if state in labels.OUTBOX_STATE_RU else None

        def read():
            with self.reading() as session:
                total = reminders.ledger_size(session, self.campaign.id, state)
                start = board.page_offset(request.query_params.get("offset"), total, OUTBOX_PAGE)
                rows = reminders.ledger(session, self.campaign.id, state, offset=start, limit=OUTBOX_PAGE)
                why = None
                if recipient:
                    found, gaps = reminders.explain(session, self.campaign, recipient, None)
                    why = sending.why_text(recipient, found, gaps, self.campaign, now,
                                          skips.foreseen(session, self.campaign.id, found))
                return rows, total, start, why

        rows, total, start, why = await run_in_threadpool(read)
        query = "&".join(f"{k}={quote(v)}" for k, v in (("state", state or ""), ("recipient", recipient)) if v)
        href = lambda at: "/coordinator/outbox?" + "&".join(p for p in (query, f"offset={at}" if at else "") if p)  # noqa: E731
        return self.render("outbox.html", rows=rows, total=total, state=state, recipient=recipient, why=why, csrf=csrf,
                           pager=board.Pager.of(start, len(rows), total, href, OUTBOX_PAGE), pager_what="Письма",
                           stage_label={s.id: s.label for s in self.campaign.stages})


def grid_row(institution: spec.Institution, statuses: list[str]) -> Markup:
    """A ДОУ's row of the overview's grid: its name linking to its card, and its status in each of the grid's stages
    (`board.statuses`), each status's cell made once."""
    return Markup('<tr><td><a href="/coordinator/dou/{}">{}</a></td>\n{}</tr>').format(
        institution.id, institution.name, Markup("".join([_grid_cell(st) for st in statuses])))


@cache
def _grid_cell(status: str) -> str:
    return Markup('<td><span class="status {}">{}</span></td>').format(status, labels.STATUS_RU[status])


def _page(portal: Coordinator, page: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request.path_params["page"] = page
        return await portal.coordinator(request)

    return endpoint


def routes(portal: Coordinator) -> list[BaseRoute]:
    """Every route here is the coordinator's (the guard's default audience), but the two ways of signing in."""
    both = ["GET", "POST"]
    return [Page("/signin", portal.password_signin, who=PASSWORD, methods=both),
            Page("/signin/{token}", portal.signin, who=SIGNIN, methods=both),
            Page("/signout", portal.signout, methods=["POST"]),
            Page("/coordinator", portal.coordinator, methods=["GET"], view=portal.overview_read),
            Page("/coordinator/dou/{subject}", _page(portal, "card"), methods=both, view=portal.card_read),
            Page("/coordinator/experts/{stage}", _page(portal, "experts"), methods=both),
            Page("/coordinator/outbox", _page(portal, "outbox"))]
