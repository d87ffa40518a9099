"""Every form the portal serves, posted as an attacker would: without a token, with another person's token,
with a stale one, and from another site with a valid one. The guard (`web.middleware`) refuses each with 403
before any route runs, so nothing is recorded; the same post from the person's own page is accepted.

The forms are the app's own routes that take POST: a new form is attacked here as soon as it exists, and
this file fails until it says (in FORMS) how a person reaches that form."""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
import sqlalchemy
import yaml
from conftest import TOMSK, Cli, dump_tables, form_levels
from sqlalchemy.pool import NullPool

from dqflow.web.middleware import HEADERS

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from test_web import Portal  # noqa: E402

ROSTER = [str(i["id"]) for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"]]
BASE = "https://portal.example.org"  # where the test client sends its requests (its Host)


class Scene:
    """The Tomsk campaign on a portal whose clock the test sets; browsers of different people on it."""

    def __init__(self, tomsk: Cli, db_url: str):
        self.dq, self.db_url = tomsk, db_url
        tomsk.env = {"DQFLOW_BASE_URL": BASE}  # the CLI prints links (sign-in links too) under the portal's address
        for dou in ROSTER:  # materials for the experts to review; ДОУ 5 hands in nothing (the coordinator extends it)
            if dou != "5":
                tomsk.ok("submit", dou, "--stage", "fill-form", "--link", f"https://dou{dou}.example.org/form", "--now", "2021-11-25 11:00")
        tomsk.ok("tick", "--now", "2021-11-25 12:00")  # list1 drawn: every ДОУ has its experts
        self.portal = Portal(db_url)
        self.app = self.portal.app

    def at(self, text: str) -> None:
        self.portal.at(text)
        self.moment = text

    def browser(self) -> TestClient:
        return TestClient(self.app, base_url=BASE)

    def token(self, browser: TestClient, page: str) -> str:
        shown = browser.get(page)
        assert shown.status_code == 200, (page, shown.text)
        return self.portal.csrf(shown.text)

    def signin_path(self) -> str:
        return self.dq.ok("link", "coordinator", "--now", self.moment).splitlines()[0].removeprefix(BASE)

    def coordinator(self) -> TestClient:
        """A browser signed in as the coordinator (a session of its own) through a one-time link."""
        browser, path = self.browser(), self.signin_path()
        entered = browser.post(path, data={"csrf": self.token(browser, path)}, follow_redirects=False)
        assert entered.status_code == 303 and "dqflow_session=" in entered.headers["set-cookie"]
        return browser

    def assigned(self) -> dict[str, list[str]]:
        return {a["institution"]: a["experts"] for a in self.dq.json("experts", "show", "list1")["assignments"]}


@dataclass
class Form:
    path: str  # where the form posts
    page: str  # the page that serves it to its person (who reads the form token there)
    browser: TestClient  # the person's browser, with their cookies
    data: dict[str, str]  # what the form sends: it records something when it is accepted
    others_token: Callable[[], str]  # a good form token of somebody else


def dou_form(scene: Scene) -> Form:
    path = scene.portal.path("institution", "4")
    return Form(path, path, scene.browser(), {"stage": "fill-form", "link": "https://dou4.example.org/more"},
                lambda: scene.token(scene.browser(), scene.portal.path("institution", "5")))


def expert_form(scene: Scene) -> Form:
    scene.dq.ok("tick", "--now", scene.moment)  # review1 opens on 01.12
    assigned = scene.assigned()
    mine = assigned["4"][0]
    stranger = next(e for dou, es in assigned.items() if dou != "5" for e in es if e not in assigned["4"])  # has a form too
    path = scene.portal.path("expert", mine)
    return Form(path, path, scene.browser(), {"stage": "review1", "institution": "4", **form_levels(conditions="2"),
                                               "recommendations": "Дополнить ссылки на протоколы."},
                lambda: scene.token(scene.browser(), scene.portal.path("expert", stranger)))


def password_form(scene: Scene) -> Form:
    scene.dq.ok("link", "password", "--stdin", "--now", scene.moment, input="пароль координатора\n")
    return Form("/signin", "/signin", scene.browser(), {"password": "пароль координатора"},
                lambda: scene.token(scene.browser(), scene.portal.path("institution", "4")))


def signin_form(scene: Scene) -> Form:
    path, another = scene.signin_path(), scene.signin_path()
    return Form(path, path, scene.browser(), {}, lambda: scene.token(scene.browser(), another))


def coordinator_form(path: str, data: dict[str, str], page: str | None = None) -> Callable[[Scene], Form]:
    """A form on the coordinator's pages; somebody else's token is another session's."""
    return lambda scene: Form(path, page or path, scene.coordinator(), data, lambda: scene.token(scene.coordinator(), page or path))


# Every route that takes POST → (the moment its form is open, how its person reaches it).
FORMS: dict[str, tuple[str, Callable[[Scene], Form]]] = {
    "/dou/{subject}/{token}": ("2021-11-25 12:00", dou_form),
    "/expert/{subject}/{token}": ("2021-12-01 14:00", expert_form),  # 13 h earlier its form is open too
    "/signin": ("2021-11-25 12:00", password_form),
    "/signin/{token}": ("2021-11-25 12:00", signin_form),
    "/signout": ("2021-11-25 12:00", coordinator_form("/signout", {}, page="/coordinator")),
    "/coordinator/dou/{subject}": ("2021-11-25 12:00", coordinator_form(
        "/coordinator/dou/5", {"action": "extend", "stage": "fill-form", "until": "2021-12-06T18:00", "reason": "больничный"})),
    "/coordinator/experts/{stage}": ("2021-11-25 12:00", coordinator_form(
        "/coordinator/experts/list1", {"institution": "4", "experts": "e5 e6", "action": "save"})),
}


def post_routes(app) -> set[str]:
    """The app's own forms: every route that takes POST."""
    return {r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}


def every_form(scene: Scene):
    """(route, form) for every route that takes POST, in the campaign's order (a form opens when its stage does)."""
    unknown = post_routes(scene.app) - set(FORMS)
    assert not unknown, f"forms this file does not attack yet: {sorted(unknown)}; add to FORMS how their person reaches them"
    for route, (moment, reach) in sorted(FORMS.items(), key=lambda item: (item[1][0], item[0])):
        scene.at(moment)
        yield route, reach(scene)


@pytest.fixture
def scene(tomsk: Cli, db_url: str, monkeypatch):
    monkeypatch.delenv("DQFLOW_BASE_URL", raising=False)  # the portal's own address is the one it is reached at
    made = Scene(tomsk, db_url)
    yield made
    made.portal.db.dispose()


def refused(scene: Scene, route: str, form: Form, response) -> None:
    """403 with the portal's Russian page; nothing recorded, no cookie set or cleared; the person is still in."""
    assert response.status_code == 403, (route, response.status_code, response.text[:500])
    assert "Страница недоступна" in response.text and "set-cookie" not in response.headers, route
    assert form.browser.get(form.page).status_code == 200, route


def attempt(scene: Scene, route: str, form: Form, token: str | None, headers: dict[str, str] | None = None):
    data = dict(form.data, **({"csrf": token} if token is not None else {}))
    before = dump_tables(scene.db_url)
    response = form.browser.post(form.path, data=data, headers=headers or {}, follow_redirects=False)
    assert dump_tables(scene.db_url) == before, f"{route}: a refused post recorded something"
    return response


ATTACKS: dict[str, Callable[[Scene, Form], str | None]] = {
    "without a token": lambda scene, form: None,
    "with an empty token": lambda scene, form: "",
    "with another person's token": lambda scene, form: form.others_token(),
    "with a forged token": lambda scene, form: scene.token(form.browser, form.page).split(".")[0] + ".forged",
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_form_refuses_a_post_without_the_persons_own_token(scene: Scene, attack: str):
    for route, form in every_form(scene):
        refused(scene, route, form, attempt(scene, route, form, ATTACKS[attack](scene, form)))


def test_every_form_refuses_a_stale_token(scene: Scene):
    """A token from the person's own page, opened longer ago than a form stays valid (12 h)."""
    for route, form in every_form(scene):
        scene.portal.now -= timedelta(hours=13)
        stale = scene.token(form.browser, form.page)
        scene.at(scene.moment)
        refused(scene, route, form, attempt(scene, route, form, stale))


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example.org"},
    {"Origin": "null"},  # a sandboxed frame, a data: page
    {"Origin": "http://portal.example.org"},  # the portal's host, but not its scheme
    {"Origin": "https://portal.example.org.evil.example.org"},
    {"Origin": "https://portal.example.org:8443"},
    {"Referer": "https://evil.example.org/page"},  # no Origin: the Referer says where the form was
    {"Origin": "https://evil.example.org", "Referer": BASE + "/"},  # the Origin is what counts
], ids=lambda h: " ".join(f"{k}={v}" for k, v in h.items()))
def test_every_form_refuses_a_valid_token_posted_from_another_site(scene: Scene, headers: dict[str, str]):
    for route, form in every_form(scene):
        refused(scene, route, form, attempt(scene, route, form, scene.token(form.browser, form.page), headers))


@pytest.mark.parametrize("headers", [{"Origin": BASE}, {"Referer": BASE + "/board"}, {}],
                         ids=["its own origin", "its own referer", "no origin, no referer (not a browser)"])
def test_every_form_accepts_the_persons_post_from_its_own_page(scene: Scene, headers: dict[str, str]):
    """The positive control: the same posts, with the person's own token, are accepted and recorded."""
    for route, form in every_form(scene):
        before = dump_tables(scene.db_url)
        done = form.browser.post(form.path, data={**form.data, "csrf": scene.token(form.browser, form.page)}, headers=headers,
                                 follow_redirects=False)
        assert done.status_code == 303, (route, done.status_code, done.text[:500])
        assert dump_tables(scene.db_url) != before or "set-cookie" in done.headers, f"{route}: accepted but nothing happened"


def test_the_portal_address_is_the_configured_one_behind_a_proxy(tomsk: Cli, db_url: str, monkeypatch):
    """With DQFLOW_BASE_URL (the address in the emails) a form comes from there, whatever Host the proxy passes on."""
    monkeypatch.setenv("DQFLOW_BASE_URL", "https://monitoring.example.org/mkdo")
    scene = Scene(tomsk, db_url)
    try:
        scene.at("2021-11-25 12:00")
        form = dou_form(scene)
        token = scene.token(form.browser, form.page)
        refused(scene, "/dou", form, attempt(scene, "/dou", form, token, {"Origin": BASE}))  # the inner address
        for headers in ({"Origin": "https://monitoring.example.org"}, {"Referer": "https://monitoring.example.org/mkdo" + form.page}):
            assert form.browser.post(form.path, data={**form.data, "csrf": token}, headers=headers,
                                     follow_redirects=False).status_code == 303
    finally:
        scene.portal.db.dispose()


def test_a_route_that_checks_nothing_is_still_guarded(scene: Scene):
    """A new route declaring no audience is the coordinator's: it gets no post without a session and the token."""
    ran = []

    async def careless(request):
        ran.append(request.method)
        from starlette.responses import PlainTextResponse
        return PlainTextResponse("done")

    scene.app.routes.append(Route("/careless", careless, methods=["GET", "POST"]))
    scene.at("2021-11-25 12:00")
    stranger, coordinator = scene.browser(), scene.coordinator()
    assert stranger.get("/careless").status_code == 403 and stranger.post("/careless").status_code == 403
    assert coordinator.post("/careless", data={"csrf": scene.token(coordinator, "/coordinator").split(".")[0] + ".x"}).status_code == 403
    assert not ran
    assert coordinator.post("/careless", data={"csrf": scene.token(coordinator, "/coordinator")}).text == "done"
    assert ran == ["POST"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_change_nothing(scene: Scene, method: str):
    scene.at("2021-11-25 12:00")
    coordinator = scene.coordinator()
    token = scene.token(coordinator, "/coordinator")
    before = dump_tables(scene.db_url)
    for route in scene.app.routes:
        path = route.path.replace("{subject}", "4").replace("{stage}", "list1").replace("{token}", "1.x")
        answer = coordinator.request(method, path, data={"csrf": token})
        assert answer.status_code in (403, 405) and "Страница недоступна" in answer.text, (method, path, answer.status_code)
    assert dump_tables(scene.db_url) == before


def secured(response) -> None:
    """The security headers, whoever answered; an error is the portal's Russian page."""
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.status_code, name, response.headers)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("text/html") and '<html lang="ru">' in response.text
        assert "Страница недоступна" in response.text, response.text
        for english in ("Not Found", "Method Not Allowed", "Internal Server Error", "Traceback"):
            assert english not in response.text


def test_every_response_carries_the_security_headers_and_errors_are_russian_pages(scene: Scene, db_url: str):
    scene.at("2021-11-25 12:00")
    guest, coordinator = scene.browser(), scene.coordinator()
    dou = scene.portal.path("institution", "4")
    token = scene.token(guest, dou)
    answers = {
        200: guest.get("/board"),
        303: guest.post(dou, data={"csrf": token, "stage": "fill-form", "link": "https://dou4.example.org/x"}, follow_redirects=False),
        400: coordinator.post("/coordinator/dou/4", content=b"csrf=" + b"x" * (300 * 1024),
                              headers={"content-type": "application/x-www-form-urlencoded"}),
        403: guest.get("/coordinator"),
        404: guest.get("/nonesuch"),
        405: guest.post("/board"),
    }
    assert "форма слишком большая" in answers[400].text and "GET" in answers[405].headers["allow"]
    assert "скопирована целиком" in answers[404].text
    tampered = dou[:-3] + ("AAA" if not dou.endswith("AAA") else "BBB")
    for _ in range(10):
        guest.get(tampered)
    answers[429] = guest.get(tampered)  # a valid link never gets 429

    engine = sqlalchemy.create_engine(db_url, poolclass=NullPool)
    with engine.begin() as connection:  # a real fault: the table the outbox page reads is gone
        connection.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_gone")
    engine.dispose()
    failing = TestClient(scene.app, base_url=BASE, raise_server_exceptions=False, cookies=coordinator.cookies)
    answers[500] = failing.get("/coordinator/outbox")
    assert "ваши данные не изменены" in answers[500].text and "kdo@imc.example.org" in answers[500].text
    for status, response in answers.items():
        assert response.status_code == status, (status, response.status_code, response.text[:300])
        secured(response)


def test_a_head_request_acts_on_nothing(scene: Scene):
    """HEAD is answered like GET (a mail scanner checking a link): it spends no sign-in link and records nothing."""
    for route, form in every_form(scene):
        before = dump_tables(scene.db_url)
        answer = form.browser.head(form.path)
        assert answer.status_code in (200, 405) and "set-cookie" not in answer.headers, (route, answer.status_code)
        assert dump_tables(scene.db_url) == before, route


def test_a_body_too_large_is_refused_while_it_streams(scene: Scene):
    """A chunked post that never ends (no Content-Length) to the password form, which needs no sign-in: refused
    with the Russian 400 page after MAX_BODY, the rest never read. The server's side of ASGI is played here."""
    from dqflow.web.middleware import MAX_BODY

    chunk, read = b"x" * 65536, []

    async def receive():
        read.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": True}

    answer: list[dict] = []

    async def send(message):
        answer.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "https", "path": "/signin", "raw_path": b"/signin",
             "root_path": "", "query_string": b"", "server": ("portal.example.org", 443), "client": ("192.0.2.1", 50000),
             "headers": [(b"host", b"portal.example.org"), (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"transfer-encoding", b"chunked")]}
    asyncio.run(scene.app(scope, receive, send))
    assert answer[0]["status"] == 400 and sum(read) <= MAX_BODY + len(chunk)
    assert "форма слишком большая".encode() in b"".join(m.get("body", b"") for m in answer[1:])


def test_headers_too_large_are_refused_and_no_origin_is_kept_by_its_size(scene: Scene):
    """uvicorn's httptools parser bounds a request's headers by nothing: the guard refuses more than MAX_HEADERS with
    the Russian 431 page before anything runs, and an Origin longer than a real one is parsed each time, never kept
    (a client sending 1,024 different 4 MB Origins would otherwise pin 4 GB in the worker)."""
    from dqflow.web import middleware

    scene.at("2021-11-25 12:00")
    guest = scene.browser()
    dou = scene.portal.path("institution", "4")
    big = guest.get(dou, headers={"X-Padding": "x" * (middleware.MAX_HEADERS + 1)})
    assert big.status_code == 431 and "Запрос слишком велик" in big.text
    secured(big)
    assert guest.get(dou, headers={"X-Padding": "x" * (middleware.MAX_HEADERS // 2)}).status_code == 200

    token = scene.token(guest, dou)
    middleware._origin.cache_clear()
    long_origins = [BASE + "/" + "x" * (middleware.ORIGIN_KEPT + n) for n in range(5)]
    for claimed in long_origins:
        answer = guest.post(dou, data={"csrf": token, "stage": "fill-form", "link": "https://dou4.example.org/x"},
                            headers={"Origin": claimed}, follow_redirects=False)
        assert answer.status_code in (303, 403)
    assert middleware._origin.cache_info().currsize <= 2  # the portal's own address (and the short one, if any)
    assert middleware.origin(long_origins[0]) == middleware.origin(BASE)  # parsed all the same
