"""The portal's routes through Starlette's TestClient, on the same database the CLI writes: personal links,
the ДОУ's and the expert's forms, the coordinator's sign-in and pages, the public board, and the letters'
personal links. Every write is checked through the CLI (status, history) as the coordinator would see it."""

import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import Cli, dump_tables, form_levels, levels
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)
from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local, zone

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

TZ = zone("Asia/Tomsk")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


class Portal:
    """A portal on the test's database with a clock the test sets."""

    def __init__(self, db_url: str):
        self.db = store.connect(db_url)
        self.now = parse_local("2021-11-25 10:00", TZ)
        self.app = create_app(self.db, None, lambda: self.now, lambda: datetime.now(UTC))  # the test is the edge: the real clock records
        self.client = TestClient(self.app, base_url="https://portal.example.org")

    def at(self, text: str) -> "Portal":
        self.now = parse_local(text, TZ)
        return self

    def path(self, role: str, subject: str) -> str:
        with store.dry_run(self.db) as session:
            return links.links(session, "tomsk-2021").path(role, subject)

    def csrf(self, html: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', html)[1]

    def post_form(self, path: str, data: dict):
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        return self.client.post(path, data={"csrf": self.csrf(page.text), **data}, follow_redirects=False)


@pytest.fixture
def portal(tomsk: Cli, db_url: str):
    made = Portal(db_url)
    yield made
    made.db.dispose()


def status_of(dq: Cli, institution: str, stage: str, now: str) -> str:
    view = dq.json("status", "--institution", institution, "--now", now)
    return next(s["status"] for s in view["stages"] if s["id"] == stage)


# -- a ДОУ ------------------------------------------------------------------------------


def test_a_dou_hands_in_links_through_its_page_and_the_audit_names_it(portal: Portal, tomsk: Cli):
    page = portal.client.get(portal.path("institution", "4"))
    assert page.status_code == 200
    assert "МБДОУ № 4" in page.text and 'type="url"' in page.text and "<label" in page.text
    assert page.headers["referrer-policy"] == "same-origin" and "<script" not in page.text
    assert "по местному времени (UTC+7)" in page.text and "Asia/Tomsk" not in page.text

    done = portal.post_form(portal.path("institution", "4"), {"stage": "fill-form",
                                                              "link": ["https://dou4.example.org/a", "https://dou4.example.org/b", ""]})
    assert done.status_code == 303 and "?ok=submitted#stage-fill-form" in done.headers["location"]
    after = portal.client.get(done.headers["location"])
    assert "Материалы приняты" in after.text and "https://dou4.example.org/b" in after.text

    assert status_of(tomsk, "4", "fill-form", "2021-11-25 10:00") == "done"
    submit = next(r for r in tomsk.json("history", "4") if r["action"] == "submit")
    assert submit["by"] == "institution:4" and submit["detail"] == {"links": ["https://dou4.example.org/a", "https://dou4.example.org/b"]}
    assert "МБДОУ № 4 «Монтессори» (портал)" in tomsk.ok("history", "4")


def test_the_engine_refuses_what_the_cli_refuses_and_nothing_is_written(portal: Portal, tomsk: Cli, db_url: str):
    path = portal.path("institution", "4")
    page = portal.client.get(path)
    token = portal.csrf(page.text)
    before = dump_tables(db_url)
    portal.at("2021-12-03 10:00")  # fill-form locked on 02.12 for everyone; the page offers no form, a crafted post:
    signed = portal.app.state.portal.signer.form_token(f"institution:4:{path.rsplit('/', 1)[1]}", portal.now)
    late = portal.client.post(path, data={"csrf": signed, "stage": "fill-form", "link": "https://dou4.example.org/a"})
    assert late.status_code == 409 and "Не сохранено: приём закрыт" in late.text
    not_a_link = portal.at("2021-11-25 10:00").client.post(path, data={"csrf": token, "stage": "fill-form", "link": "javascript:alert(1)"})
    assert not_a_link.status_code == 400 and "не адрес в интернете" in not_a_link.text
    early = portal.client.post(path, data={"csrf": token, "stage": "refill", "link": "https://dou4.example.org/a"})
    assert early.status_code == 409 and "этап ещё не открыт: он откроется 07.12.2021 00:00" in early.text
    forged = portal.client.post(path, data={"csrf": "1.forged", "stage": "fill-form", "link": "https://dou4.example.org/a"})
    assert forged.status_code == 403 and "Форма устарела" in forged.text
    other = portal.client.post(portal.path("institution", "5"), data={"csrf": token, "stage": "fill-form"})
    assert other.status_code == 403  # a form token is the person's own
    assert dump_tables(db_url) == before


def test_a_tampered_or_revoked_link_gets_403_saying_whom_to_ask_and_failures_are_rate_limited(portal: Portal, tomsk: Cli):
    good = portal.path("institution", "4")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    refused = portal.client.get(tampered)
    assert refused.status_code == 403 and "kdo@imc.example.org" in refused.text and "МБДОУ № 4" not in refused.text
    assert portal.client.get("/dou/999/1.abc").status_code == 403
    cut = portal.client.get(good.rsplit("/", 1)[0])  # a link cut short in a mail client
    assert cut.status_code == 404 and "скопирована целиком" in cut.text
    assert portal.client.get(good.replace("/dou/4/", "/expert/4/")).status_code == 403

    tomsk.env = {"DQFLOW_BASE_URL": "https://portal.example.org"}
    new = tomsk.ok("link", "revoke", "4", "--now", "2021-11-25 10:00").split("Новая: ")[1].strip()
    assert new == "https://portal.example.org" + portal.path("institution", "4") != "https://portal.example.org" + good
    revoked = portal.client.get(good)
    assert revoked.status_code == 403 and "отозвана" in revoked.text
    assert portal.client.get(new.removeprefix("https://portal.example.org")).status_code == 200
    assert tomsk.ok("link", "show", "4").strip() == new
    assert next(r for r in tomsk.json("history", "4") if r["action"] == "link-revoke")["by"] == "coordinator:cli"

    for _ in range(10):
        portal.client.get(tampered)
    blocked = portal.client.get(tampered)
    assert blocked.status_code == 429 and "Слишком много" in blocked.text and blocked.headers["retry-after"] == "600"
    assert portal.client.get("/dou/999/1.abc").status_code == 429  # any other guess from the address too
    # a valid link from the same address (a school's NAT, a proxy) is never locked out by someone else's guesses
    assert portal.client.get(new.removeprefix("https://portal.example.org")).status_code == 200


def test_links_expire_after_the_campaign(portal: Portal):
    path = portal.path("expert", "e15")
    assert portal.at("2022-02-01 10:00").client.get(path).status_code == 200
    expired = portal.at("2022-06-01 10:00").client.get(path)
    assert expired.status_code == 403 and "истёк" in expired.text


# -- an expert ----------------------------------------------------------------------------


def test_an_expert_sees_the_assigned_dou_with_their_links_and_records_a_review(portal: Portal, tomsk: Cli):
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-30 12:00")
    tomsk.ok("tick", "--now", "2021-12-01 10:00")
    assigned = tomsk.json("experts", "show", "list1")["assignments"]
    expert = next(es for a in assigned if a["institution"] == "4" for es in a["experts"])
    path = portal.path("expert", expert)
    page = portal.at("2021-12-01 10:00").client.get(path)
    assert page.status_code == 200 and "МБДОУ № 4" in page.text and "https://dou4.example.org/form" in page.text
    assert "<select" in page.text and "<textarea" in page.text

    saved = portal.post_form(path, {"stage": "review1", "institution": "4", **form_levels(conditions="2", parents="3"),
                                    "recommendations": "Дополнить ссылки на протоколы.\r\n"})
    assert saved.status_code == 303
    again = portal.client.get(path)
    assert "Дополнить ссылки на протоколы." in again.text and 'value="2" selected' in again.text
    review = next(r for r in tomsk.json("history", "4") if r["action"] == "review")
    assert review["by"] == f"expert:{expert}" and review["detail"]["levels"] == {"conditions": "2", "guidelines": "2", "parents": "3", "health": "2", "special-needs": "2"}

    stranger = next(e for a in assigned if a["institution"] != "4" for e in a["experts"] if e not in
                    next(x["experts"] for x in assigned if x["institution"] == "4"))
    refused = signed_post(portal, "expert", stranger, {"stage": "review1", "institution": "4", **form_levels(conditions="1")})
    assert refused.status_code == 409 and "вы не назначены экспертом этого ДОУ" in refused.text


def test_the_experts_page_groups_the_work_under_each_review_stage_with_the_experts_own_progress(portal: Portal, tomsk: Cli):
    tomsk.ok("tick", "--now", "2021-11-25 00:05")  # list 1 drawn; no tick after it: the page projects the rest itself
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-26 12:00")
    assigned = {a["institution"]: a["experts"] for a in tomsk.json("experts", "show", "list1")["assignments"]}
    expert = assigned["4"][0]
    path = portal.path("expert", expert)
    page = portal.at("2021-12-02 12:00").client.get(path).text
    assert '<h2 id="task-review1">Первичная экспертиза</h2>' in page and "Экспертиза: 01.12.2021" in page
    assert "Составление списка 1" not in page  # not under the list-drawing stage's title
    card = lambda html, inst: html.split(f'id="dou-{inst}"')[1].split("</section>")[0]  # noqa: E731
    assert '<span class="status open">оценка не записана</span>' in card(page, "4") and "Ваша экспертиза: оценка не записана." in card(page, "4")
    assert portal.post_form(path, {"stage": "review1", "institution": "4", **form_levels()}).status_code == 303
    page = portal.client.get(path).text
    assert '<span class="status done">оценка записана</span>' in card(page, "4")
    assert "Ваша экспертиза: оценка записана 02.12.2021 12:00." in card(page, "4")  # the review's time, in the campaign's zone
    nothing = next(i for i, es in assigned.items() if i != "4" and es)  # handed in nothing by the lock
    other = portal.client.get(portal.path("expert", assigned[nothing][0])).text
    assert '<span class="status excused">нечего оценивать</span>' in card(other, nothing)
    assert "Ваша экспертиза: экспертировать нечего." in card(other, nothing)


def test_an_expert_no_longer_sees_a_withdrawn_dou_and_cannot_review_it(portal: Portal, tomsk: Cli, workflow_copy: Path):
    """The portal runs through the amendment: it reads the changed campaign without a restart."""
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-30 12:00")
    tomsk.ok("tick", "--now", "2021-12-01 10:00")
    assigned = {a["institution"]: a["experts"] for a in tomsk.json("experts", "show", "list1")["assignments"]}
    expert = assigned["4"][0]
    path = portal.path("expert", expert)
    csrf = portal.csrf(portal.at("2021-12-01 10:00").client.get(path).text)
    text = workflow_copy.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines(keepends=True) if '{id: "4", name:' in ln)
    workflow_copy.write_text(text.replace(line, ""), encoding="utf-8")
    assert "ДОУ «МБДОУ № 4 «Монтессори»» выбывает" in tomsk.ok("load", str(workflow_copy), "--now", "2021-12-01 10:30", "--apply", "--reason", "ДОУ закрыт")
    page = portal.at("2021-12-01 11:00").client.get(path)
    assert page.status_code == 200 and "МБДОУ № 4" not in page.text
    assert any(name in page.text for inst, es in assigned.items() if expert in es and inst != "4"
               for name in (f"ДОУ № {inst}",))  # its other ДОУ are still there
    refused = portal.client.post(path, data={"csrf": csrf, "stage": "review1", "institution": "4", **form_levels(conditions="2"),
                                             "recommendations": "Текст."}, follow_redirects=False)
    assert refused.status_code in (404, 409) and "выбыло из кампании" in refused.text


def test_a_dou_reads_its_recommendations_once_released_without_expert_names(portal: Portal, tomsk: Cli):
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-30 12:00")
    expert = next(es for a in tomsk.json("experts", "show", "list1")["assignments"] if a["institution"] == "4" for es in a["experts"])
    tomsk.ok("review", "4", "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--recommendations", "-",
             "--now", "2021-12-02 10:00", input="Дополнить ссылки на протоколы.")
    path = portal.path("institution", "4")
    before = portal.at("2021-12-02 11:00").client.get(path).text
    assert "Дополнить ссылки на протоколы." not in before  # not released yet
    tomsk.ok("recommendations", "send", "review1", "--now", "2021-12-02 12:00")
    after = portal.at("2021-12-02 13:00").client.get(path).text
    assert "Рекомендации экспертов" in after and "Дополнить ссылки на протоколы." in after and "Эксперт 1" in after
    assert "Образовательные условия" in after and "Эксперт ДОУ" not in after


# -- the coordinator ------------------------------------------------------------------------


def sign_in(portal: Portal, tomsk: Cli) -> None:
    tomsk.env = {"DQFLOW_BASE_URL": "https://portal.example.org"}
    url = tomsk.ok("link", "coordinator", "--now", "2021-11-25 10:00").splitlines()[0]
    path = url.removeprefix("https://portal.example.org")
    page = portal.client.get(path)
    assert page.status_code == 200 and "Войти" in page.text
    entered = portal.client.post(path, data={"csrf": portal.csrf(page.text)}, follow_redirects=False)
    assert entered.status_code == 303
    cookie = entered.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "secure" in cookie.lower()
    again = portal.client.post(path, data={"csrf": portal.csrf(page.text)})
    assert again.status_code == 403 and "один раз" in again.text


def test_the_coordinator_signs_in_once_and_extends_a_deadline(portal: Portal, tomsk: Cli):
    assert portal.client.get("/coordinator").status_code == 403
    sign_in(portal, tomsk)
    overview = portal.client.get("/coordinator")
    assert overview.status_code == 200 and "МБДОУ № 4" in overview.text

    card = portal.client.get("/coordinator/dou/4")
    assert card.status_code == 200 and "Продлить срок" in card.text
    no_reason = portal.client.post("/coordinator/dou/4", data={"csrf": portal.csrf(card.text), "action": "extend", "stage": "fill-form",
                                                               "until": "2021-12-06T18:00", "reason": " "})
    assert no_reason.status_code == 400 and "укажите причину" in no_reason.text
    done = portal.client.post("/coordinator/dou/4", data={"csrf": portal.csrf(card.text), "action": "extend", "stage": "fill-form",
                                                          "until": "2021-12-06T18:00", "reason": "больничный"}, follow_redirects=False)
    assert done.status_code == 303
    view = tomsk.json("status", "--institution", "4", "--now", "2021-11-25 10:00")
    fill = next(s for s in view["stages"] if s["id"] == "fill-form")
    assert fill["extended"] and fill["due_at"] == "2021-12-06T18:00:00+07:00"
    assert next(r for r in tomsk.json("history", "4") if r["action"] == "extend")["by"] == "coordinator:web"

    outbox = portal.client.get("/coordinator/outbox", params={"recipient": "dou4@example.org"})
    assert outbox.status_code == 200 and "dou4@example.org" in outbox.text


def test_the_coordinator_signs_in_with_a_password_set_from_the_cli(portal: Portal, tomsk: Cli, db_url: str):
    unset = portal.client.get("/signin")
    assert unset.status_code == 200 and "dqflow link password" in unset.text and 'type="password"' not in unset.text
    short = tomsk("link", "password", "--stdin", "--now", "2021-11-25 10:00", input="short\n")
    assert short.exit_code != 0 and "не меньше 10" in short.output and "Traceback" not in short.output
    assert "не совпадают" not in tomsk.ok("link", "password", "--now", "2021-11-25 10:00",
                                          input="верный пароль 1\nверный пароль 1\n")
    with store.dry_run(portal.db) as session:
        kept = session.get(store.CampaignRow, "tomsk-2021").password_hash
    assert kept.startswith("scrypt$") and "верный" not in kept
    tomsk.ok("link", "password", "--stdin", "--now", "2021-11-25 10:00", input="новый пароль 2\n")  # replaces it

    page = portal.client.get("/signin")
    assert page.status_code == 200 and '<label for="password">' in page.text and 'type="password"' in page.text
    forged = portal.client.post("/signin", data={"csrf": "1.forged", "password": "новый пароль 2"}, follow_redirects=False)
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    old = portal.client.post("/signin", data={"csrf": portal.csrf(page.text), "password": "верный пароль 1"}, follow_redirects=False)
    assert old.status_code == 403 and "Пароль не подходит" in old.text and "set-cookie" not in old.headers
    entered = portal.client.post("/signin", data={"csrf": portal.csrf(page.text), "password": "новый пароль 2"}, follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/coordinator?ok=signed-in"
    assert "httponly" in entered.headers["set-cookie"].lower()
    assert portal.client.get("/coordinator").status_code == 200
    actions = [r[0] for r in store.connect(db_url).connect().exec_driver_sql(
        "SELECT action, actor FROM audit WHERE action IN ('password-set', 'signin') ORDER BY id").all()]
    assert actions == ["password-set", "password-set", "signin"]

    portal.client.cookies.clear()
    for _ in range(9):  # wrong passwords count as failed links: guessing gets slow at once
        portal.client.post("/signin", data={"csrf": portal.csrf(page.text), "password": "угадываю"})
    blocked = portal.client.post("/signin", data={"csrf": portal.csrf(page.text), "password": "новый пароль 2"})
    assert blocked.status_code == 429 and "set-cookie" not in blocked.headers


def test_the_overview_and_the_board_list_every_dou_a_page_at_a_time(portal: Portal, tomsk: Cli, tmp_path: Path, monkeypatch):
    from dqflow.web import board

    monkeypatch.setattr(board, "PAGE", 4)
    sign_in(portal, tomsk)
    seen = {}
    for path in ("/coordinator", "/board"):
        first = portal.client.get(path)
        assert first.status_code == 200 and "ДОУ 1–4 из 11 (страница 1 из 3)" in first.text
        assert "предыдущие" not in first.text and f'href="{path}?offset=4"' in first.text
        assert "выполнено" in first.text or "Этапы" in first.text  # the counts stay on the first screen
        pages = [first.text] + [portal.client.get(path, params={"offset": at}).text for at in (4, 8)]
        assert "ДОУ 9–11 из 11 (страница 3 из 3)" in pages[2] and "следующие" not in pages[2]
        rows = [re.findall(r"<tr><td>(?:<a [^>]*>)?(М[АБ]ДОУ № \d+[^<]*)<", html) for html in pages]
        assert [len(r) for r in rows] == [4, 4, 3]
        seen[path] = [name for r in rows for name in r]
        assert portal.client.get(path, params={"offset": "9999"}).text.count("ДОУ 1–4 из 11") == 2  # out of range: page 1
        assert portal.client.get(path, params={"offset": "-3"}).status_code == 200
    tomsk.ok("tick", "--now", "2021-11-25 12:00")
    lists = [portal.at("2021-11-25 12:00").client.get("/coordinator/experts/list1", params={"offset": at}).text for at in (0, 4, 8)]
    assert "ДОУ 1–4 из 11" in lists[0] and [len(re.findall(r'name="experts"', html)) for html in lists] == [4, 4, 3]
    assert seen["/coordinator"] == seen["/board"] and len(set(seen["/board"])) == 11
    assert seen["/board"][1] == "МБДОУ № 4 «Монтессори»"  # roster order, as `dqflow status --institutions`

    out = Path(tomsk.ok("board", "--out", str(tmp_path / "pub"), "--now", "2021-11-25 10:00").strip().removeprefix("Записано: "))
    files = sorted(p.name for p in out.parent.iterdir())
    assert files == ["index.html", "page-2.html", "page-3.html"]
    static = [re.findall(r"<tr><td>(М[АБ]ДОУ № \d+[^<]*)<", (out.parent / f).read_text(encoding="utf-8")) for f in files]
    assert [name for r in static for name in r] == seen["/board"]
    assert 'href="page-2.html"' in (out.parent / "index.html").read_text(encoding="utf-8")


def test_the_outbox_page_shows_a_page_of_letters_at_a_time_with_its_filters(portal: Portal, tomsk: Cli, monkeypatch):
    from dqflow.web import coordinator

    monkeypatch.setattr(coordinator, "OUTBOX_PAGE", 5)
    sign_in(portal, tomsk)
    assert "Писем пока нет" in portal.client.get("/coordinator/outbox").text
    tomsk.ok("tick", "--now", "2021-11-25 10:00")
    ledger = tomsk.json("outbox", "--json")
    first = portal.client.get("/coordinator/outbox")
    assert f"Письма 1–5 из {len(ledger)}" in first.text and 'href="/coordinator/outbox?offset=5"' in first.text
    rows = lambda html: re.findall(r'<tr><td>[^<]+</td><td>[^<]+</td><td><a href="[^"]+">([^<]+)</a>', html)  # noqa: E731
    pages = [rows(portal.client.get("/coordinator/outbox", params={"offset": at}).text) for at in range(0, len(ledger), 5)]
    assert [r for page in pages for r in page] == [r["recipient"] for r in ledger]  # every letter once, in sending order
    assert re.search(r'<td title="[\w-]+">[А-Яа-я]', first.text) and not re.search(r'<td title="[\w-]+">[a-z]', first.text)  # stages by name
    state = max({r["state"] for r in ledger}, key=lambda k: sum(r["state"] == k for r in ledger))
    filtered = portal.client.get("/coordinator/outbox", params={"state": state})
    assert f"из {sum(r['state'] == state for r in ledger)}" in filtered.text
    assert f'href="/coordinator/outbox?state={state}&amp;offset=5"' in filtered.text


def test_the_outbox_page_shows_when_a_sent_letter_really_went_beside_its_planned_time(portal: Portal, tomsk: Cli, smtp_server):  # noqa: F811
    """The 'two working days before' reminders planned for 26.11 09:00 went out on 29.11 at 09:05: the row says both."""
    sign_in(portal, tomsk)
    mailer = Cli(tomsk.db_url, env=smtp_server.env())
    mailer.ok("tick", "--now", "2021-11-18 10:00")
    mailer.ok("send", "--now", "2021-11-29 09:05")
    page = portal.client.get("/coordinator/outbox", params={"state": "sent"}).text
    assert "<th>Запланировано</th><th>Отправлено</th>" in page
    assert re.search(r'<tr><td>26\.11\.2021 09:00</td><td>29\.11\.2021 09:05</td><td><a href="[^"]+">dou2@example.org</a>', page)
    waiting = portal.client.get("/coordinator/outbox", params={"state": "pending"}).text
    assert re.search(r'<tr><td>[\d.: ]+</td><td>—</td><td><a href', waiting)  # not sent yet: no real time


def test_the_coordinator_checks_an_expert_list_edit_before_saving_it(portal: Portal, tomsk: Cli):
    sign_in(portal, tomsk)
    portal.at("2021-11-25 12:00")
    tomsk.ok("tick", "--now", "2021-11-25 12:00")
    page = portal.client.get("/coordinator/experts/list1")
    assert page.status_code == 200
    own = portal.client.post("/coordinator/experts/list1", data={"csrf": portal.csrf(page.text), "institution": "4",
                                                                 "experts": "e4 e5", "action": "check"})
    assert own.status_code == 409 and "e4" in own.text  # its own expert: a hard rule
    check = portal.client.post("/coordinator/experts/list1", data={"csrf": portal.csrf(page.text), "institution": "4",
                                                                   "experts": "e5 e6", "action": "check"})
    assert check.status_code == 200 and "Сохранить" in check.text
    assert tomsk.json("experts", "show", "list1")["assignments"][1]["experts"] != ["e5", "e6"]
    saved = portal.client.post("/coordinator/experts/list1", data={"csrf": portal.csrf(check.text), "institution": "4",
                                                                   "experts": "e5 e6", "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303
    assert next(a for a in tomsk.json("experts", "show", "list1")["assignments"] if a["institution"] == "4")["experts"] == ["e5", "e6"]


# -- the board --------------------------------------------------------------------------------


def test_the_board_shows_progress_without_addresses_experts_or_reviews(portal: Portal, tomsk: Cli, tmp_path: Path):
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-30 12:00")
    tomsk.ok("review", "4", "--stage", "review1", "--expert", next(
        es for a in tomsk.json("experts", "show", "list1")["assignments"] if a["institution"] == "4" for es in a["experts"]),
        *levels("conditions=2"), "--recommendations", "-", "--now", "2021-12-02 10:00", input="Секретная рекомендация.")
    board = portal.at("2021-12-02 12:00").client.get("/board")
    assert board.status_code == 200 and "МБДОУ № 4" in board.text and "выполнено" in board.text
    exported = Path(tomsk.ok("board", "--out", str(tmp_path / "pub"), "--now", "2021-12-02 12:00").strip().removeprefix("Записано: "))
    for html in (board.text, exported.read_text(encoding="utf-8")):
        text = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
        assert not EMAIL.findall(text)
        assert "Эксперт ДОУ" not in text and "Секретная" not in text and "dou4.example.org" not in text
        assert 'class="today"' in text


# -- letters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, "https://portal.example.org/mkdo"])
def test_every_letter_item_gets_its_readers_personal_link(tomsk: Cli, db_url: str, base: str | None, monkeypatch):
    from dqflow import engine
    from dqflow.delivery import writer as writers
    from dqflow.store import OutboxRow
    from sqlmodel import select

    monkeypatch.delenv("DQFLOW_BASE_URL", raising=False)
    if base:
        monkeypatch.setenv("DQFLOW_BASE_URL", base)
    tomsk.ok("tick", "--now", "2021-12-01 10:00")
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, None)
            found = links.links(session, campaign.id)
            writer = writers.Writer(session, campaign, parse_local("2021-12-01 10:00", TZ), "kdo@imc.example.org")
            rows = session.exec(select(OutboxRow)).all()
            items = [writer.letters.letter(session, row, None).item for row in rows]
    finally:
        db.dispose()
    experts = {e.email: e.id for i in campaign.institutions for e in i.experts}
    for row, item in zip(rows, items):
        if base is None:
            assert item["link"] is None
        elif row.role == "institution":
            assert item["link"] == found.url(base, "institution", row.institution_id)
        elif row.role == "expert":
            assert item["link"] == found.url(base, "expert", experts[row.recipient])
        else:
            assert item["link"] == base + "/coordinator"
    assert {r.role for r in rows} >= {"institution", "expert", "coordinator"}


def test_run_http_takes_host_and_port(tomsk: Cli):
    tomsk.env = {"DQFLOW_SMTP_HOST": "127.0.0.1"}
    for bad in ("8000", "localhost", "127.0.0.1:0", "127.0.0.1:99999", "a b:80"):
        result = tomsk("run", "--http", bad)
        assert result.exit_code == 1 and result.stderr.splitlines() == [f"ошибка: --http «{bad}»: нужно ХОСТ:ПОРТ, например 127.0.0.1:8000."]


def test_link_commands_need_a_portal_address(tomsk: Cli, monkeypatch):
    monkeypatch.delenv("DQFLOW_BASE_URL", raising=False)
    result = tomsk("link", "show", "4")
    assert result.exit_code == 1 and "DQFLOW_BASE_URL" in result.stderr
    tomsk.env = {"DQFLOW_BASE_URL": "ftp://x"}
    assert tomsk("link", "show", "4").exit_code == 1
    tomsk.env = {"DQFLOW_BASE_URL": "https://portal.example.org"}
    unknown = tomsk("link", "show", "nobody")
    assert unknown.exit_code == 1 and "не ДОУ и не эксперт кампании" in unknown.stderr





def test_the_campaign_file_can_name_the_portal_and_the_environment_overrides_it(dq: Cli, workflow_copy: Path, monkeypatch):
    monkeypatch.delenv("DQFLOW_BASE_URL", raising=False)
    text = workflow_copy.read_text(encoding="utf-8")
    workflow_copy.write_text(text.replace("  locale: ru\n", "  locale: ru\n  portal: {base_url: ftp://monitoring.example.org}\n", 1),
                             encoding="utf-8")
    bad = dq("validate", str(workflow_copy))
    line = text[:text.index("  locale: ru\n")].count("\n") + 2
    assert bad.exit_code == 1 and bad.stderr.startswith(f"{workflow_copy}:{line}:")
    assert "campaign.portal.base_url: «ftp://monitoring.example.org» — нужен адрес сайта без ? и #" in bad.stderr
    workflow_copy.write_text(text.replace("  locale: ru\n", "  locale: ru\n  portal: {base_url: https://monitoring.example.org/}\n", 1),
                             encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    assert dq.ok("link", "show", "4").startswith("https://monitoring.example.org/dou/4/1.")
    dq.env = {"DQFLOW_BASE_URL": "http://127.0.0.1:8000"}
    assert dq.ok("link", "show", "4").startswith("http://127.0.0.1:8000/dou/4/1.")


# -- refusals, in Russian ----------------------------------------------------------------------

ENGLISH = re.compile(r"\b(is|not|the|stage|give|link|expert|already|needs?)\b")


def said(response, status: int, russian: str) -> None:
    """The refusal's status, its Russian line, and no English sentence on the page."""
    assert response.status_code == status, response.text
    text = re.sub(r"<style>.*?</style>", "", response.text, flags=re.S)
    flash = re.search(r'role="alert">(.*?)</(div|p)>', text, flags=re.S)
    shown = flash[1] if flash else re.search(r"<h1>.*?</section>", text, flags=re.S)[0]
    assert russian in shown, shown
    assert not ENGLISH.search(re.sub(r"<[^>]+>|https?://\S+|dqflow [a-z -]+", "", shown)), shown


@pytest.mark.parametrize("kind, data, at, status, russian", [
    ("not-open", {"stage": "refill", "link": "https://dou4.example.org/a"}, "2021-11-25 10:00", 409, "этап ещё не открыт: он откроется 07.12.2021 00:00"),
    ("locked", {"stage": "fill-form", "link": "https://dou4.example.org/a"}, "2021-12-03 10:00", 409, "приём закрыт 30.11.2021 23:59"),
    ("not-a-web-address", {"stage": "fill-form", "link": "ftp://dou4.example.org/a"}, "2021-11-25 10:00", 400, "не адрес в интернете"),
    ("too-many-links", {"stage": "fill-form", "link": [f"https://dou4.example.org/{n}" for n in range(21)]}, "2021-11-25 10:00", 400,
     "ссылок 21, а принимается не больше 20"),
    ("text-unprintable", {"stage": "fill-form", "link": "https://dou4.example.org/a\x07"}, "2021-11-25 10:00", 400, "невидимый служебный символ"),
    ("text-too-long", {"stage": "fill-form", "link": "https://dou4.example.org/" + "a" * 2100}, "2021-11-25 10:00", 400,
     "не больше 2000"),
    ("stage-for-experts", {"stage": "review1", "link": "https://dou4.example.org/a"}, "2021-12-01 10:00", 409, "выполняют эксперты"),
    ("not-for-dou", {"stage": "list1", "link": "https://dou4.example.org/a"}, "2021-11-25 10:00", 409, "ведёт координатор"),
    ("no-stage", {"stage": "nonesuch", "link": "https://dou4.example.org/a"}, "2021-11-25 10:00", 404, "такого этапа в кампании нет"),
])
def test_a_dou_reads_each_refusal_in_russian(portal: Portal, kind: str, data: dict, at: str, status: int, russian: str):
    said(signed_post(portal.at(at), "institution", "4", data), status, russian)


def signed_post(portal: Portal, role: str, subject: str, data: dict):
    """A form posted as the person's page would post it, also where the page offers no form any more."""
    path = portal.path(role, subject)
    token = portal.app.state.portal.signer.form_token(f"{role}:{subject}:{path.rsplit('/', 1)[1]}", portal.now)
    return portal.client.post(path, data={"csrf": token, **data})


def sign_in_with_password(portal: Portal, tomsk: Cli) -> str:
    """Signs the test client in at the portal's current moment; the form token of the coordinator's pages."""
    tomsk.ok("link", "password", "--stdin", input="пароль координатора\n")
    page = portal.client.get("/signin")
    portal.client.post("/signin", data={"csrf": portal.csrf(page.text), "password": "пароль координатора"})
    return portal.csrf(portal.client.get("/coordinator/dou/4").text)


def test_an_excused_dou_and_a_stranger_expert_read_their_refusals_in_russian(portal: Portal, tomsk: Cli):
    tomsk.ok("excuse", "4", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-25 10:00")
    said(signed_post(portal, "institution", "4", {"stage": "fill-form", "link": "https://dou4.example.org/a"}), 409,
         "ДОУ освобождено от этого этапа")
    tomsk.ok("submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/form", "--now", "2021-11-25 10:00")
    tomsk.ok("tick", "--now", "2021-12-01 10:00")
    portal.at("2021-12-01 10:00")
    assigned = {a["institution"]: a["experts"] for a in tomsk.json("experts", "show", "list1")["assignments"]}
    mine, stranger = assigned["5"][0], next(e for es in assigned.values() for e in es if e not in assigned["5"])
    said(signed_post(portal, "expert", stranger, {"stage": "review1", "institution": "5", **form_levels(conditions="1")}),
         409, "вы не назначены экспертом этого ДОУ")
    said(portal.post_form(portal.path("expert", mine), {"stage": "review1", "institution": "5", **form_levels(conditions="9")}),
         400, "нет уровня «9»")
    said(portal.post_form(portal.path("expert", mine), {"stage": "fill-form", "institution": "5", **form_levels(conditions="1")}),
         409, "этот этап выполняют ДОУ")
    said(portal.post_form(portal.path("expert", mine), {"stage": "review1", "institution": "5", "recommendations": "д" * 20_001}),
         400, "20001 знаков, а можно не больше 20000")


def test_the_coordinator_reads_each_refusal_in_russian(portal: Portal, tomsk: Cli):
    sign_in(portal, tomsk)
    tomsk.ok("submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/a", "--now", "2021-11-25 09:00")
    csrf = portal.csrf(portal.client.get("/coordinator/dou/4").text)
    card = lambda subject, **data: portal.client.post(f"/coordinator/dou/{subject}", data={"csrf": csrf, "stage": "fill-form",  # noqa: E731
                                                                                          "reason": "больничный", **data})
    said(card("4", action="extend", until="2021-11-20T18:00"), 409, "новый срок 20.11.2021 18:00 уже прошёл")
    said(card("4", action="extend", until="в пятницу"), 400, "укажите дату и время, например")
    said(card("4", action="extend", until="2021-12-06T18:00", reason=""), 400, "укажите причину")
    said(card("5", action="extend", until="2021-12-06T18:00"), 409, "материалы уже сданы 25.11.2021 09:00")
    said(card("5", action="excuse"), 409, "освобождать от этапа незачем")
    said(card("4", action="delete"), 400, "неизвестное действие")
    said(card("4", action="extend", until="2021-12-06T18:00", stage="nonesuch"), 404, "такого этапа в кампании нет")
    too_big = portal.client.post("/coordinator/dou/4", content=b"csrf=" + b"x" * (300 * 1024),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    said(too_big, 400, "форма слишком большая")

    tomsk.ok("tick", "--now", "2021-11-25 12:00")
    portal.at("2021-11-25 12:00")
    experts = lambda **data: portal.client.post("/coordinator/experts/list1", data={"csrf": csrf, "institution": "4",  # noqa: E731
                                                                                     "action": "check", **data})
    said(experts(experts="e4 e5"), 409, "эксперт e4 работает в МБДОУ № 4 «Монтессори» и не может его проверять")
    said(experts(experts="e5 e5"), 409, "у МБДОУ № 4 «Монтессори» один и тот же эксперт указан дважды")
    said(experts(experts="e5 e404"), 409, "эксперта «e404» нет в кампании")
    both = experts(experts="e4 e4")
    assert both.text.count("<li>") >= 2 and "работает в" in both.text and "дважды" in both.text  # each rule on its own line
    said(portal.client.get("/coordinator/experts/review1"), 404, "этот этап — не список экспертов")
    csrf = sign_in_with_password(portal.at("2021-12-20 12:00"), tomsk)
    said(portal.client.post("/coordinator/experts/list1", data={"csrf": csrf, "institution": "4", "experts": "e5 e6", "action": "check"}),
         409, "список закрыт")


def test_every_refusal_code_the_engine_raises_has_a_russian_line():
    import dqflow
    from dqflow.present import refusals

    raised = set()
    for source in Path(dqflow.__file__).parent.rglob("*.py"):
        raised |= set(re.findall(r'\bcode="([a-z-]+)"', source.read_text(encoding="utf-8")))
    raised |= {"text-too-long", "text-unprintable"}  # text.check picks one of the two
    assert raised - {"list-rules"} <= set(refusals.BY_CODE) | set(refusals.TERMINAL) and "list-rules" in raised
    assert set(refusals.BY_CODE) | set(refusals.TERMINAL) <= raised  # no line for a refusal nobody raises


def test_the_portal_says_the_campaign_word(db_url: str, workflow_copy: Path):
    """A campaign that says ДОО: the pages, a refusal, the coordinator's outbox and card say ДОО, never ДОУ."""
    text = workflow_copy.read_text(encoding="utf-8").replace("  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n", 1)
    workflow_copy.write_text(text.replace("ДОУ", "ДОО"), encoding="utf-8")  # the campaign's own titles and names too
    dq = Cli(db_url)
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    dq.ok("excuse", "4", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-25 09:00")
    dq.ok("tick", "--now", "2021-11-25 10:00")  # list1 drawn
    portal = Portal(db_url)
    try:
        expert = next(e for a in dq.json("experts", "show", "list1")["assignments"] if a["institution"] == "5" for e in a["experts"])
        pages = [portal.client.get(portal.path("institution", "4")).text, portal.client.get(portal.path("expert", expert)).text,
                 portal.client.get("/").text]
        assert "Личная страница ДОО" in pages[0] and "Здесь — ДОО, назначенные вам" in pages[1]
        refused = signed_post(portal, "institution", "4", {"stage": "fill-form", "link": "https://dou4.example.org/a"})
        assert "ДОО освобождена от этого этапа" in refused.text
        sign_in(portal, dq)
        pages += [refused.text, portal.client.get("/coordinator").text, portal.client.get("/coordinator/dou/4").text,
                  portal.client.get("/coordinator/outbox?recipient=dou4%40example.org").text, portal.client.get("/board").text]
        assert "не будет отправлено: ДОО освобождена от этапа" in pages[-2]
        csrf = portal.csrf(pages[-3])
        own = portal.client.post("/coordinator/experts/list1", data={"csrf": csrf, "institution": "4", "experts": "e4 e5",
                                                                     "action": "check"})
        assert "эксперт e4 работает в МБДОО № 4 «Монтессори» и не может её проверять: выберите эксперта другой ДОО" in own.text
        pages += [own.text, portal.client.get("/coordinator/experts/list1").text]
        for page in pages:
            found = re.search("ДОУ", page)
            assert not found, page[max(0, found.start() - 300):found.end() + 100]
    finally:
        portal.db.dispose()


# -- a hand-in at a deadline rush: its ДОУ's rows only, one short transaction ---------------------------------------


def test_a_hand_in_brings_only_its_own_row_forward_and_the_tick_after_brings_the_rest_once(portal: Portal, tomsk: Cli, db_url: str):
    """No tick has opened fill-form (loaded 10.11, opened 19.11): the portal's hand-in opens its ДОУ's row as reconcile
    would (audited at the moment it opened, by the clock), writes nothing of any other ДОУ, and the tick after opens the
    others and not that one again. Its trail is the one a CLI `submit` (a whole-campaign reconcile) leaves."""
    done = portal.post_form(portal.path("institution", "4"), {"stage": "fill-form", "link": "https://dou4.example.org/a"})
    assert done.status_code == 303
    with store.dry_run(portal.db) as session:
        stored = dict(session.execute(text(
            "SELECT institution_id, status FROM progress WHERE stage_id = 'fill-form'")).all())
        audited = session.execute(text("SELECT DISTINCT institution_id FROM audit WHERE institution_id IS NOT NULL")).all()
    assert stored.pop("4") == "done" and set(stored.values()) == {"upcoming"}  # nobody else's row was touched
    assert audited == [("4",)]
    tomsk.ok("submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/a", "--now", "2021-11-25 10:00")
    tomsk.ok("tick", "--now", "2021-11-25 10:00")
    trail = lambda dou: [(r["action"], r["at"], r["by"]) for r in tomsk.json("history", dou) if r["stage"] == "fill-form"]  # noqa: E731
    assert [(a, at) for a, at, _ in trail("4")] == [(a, at) for a, at, _ in trail("5")] == [
        ("open", "2021-11-19T00:00:00+07:00"), ("submit", "2021-11-25T10:00:00+07:00")]
    assert trail("4")[0][2] is None and trail("4")[1][2] == "institution:4"  # the clock opened it; the ДОУ handed in
    assert status_of(tomsk, "6", "fill-form", "2021-11-25 10:00") == "open"


def test_concurrent_hand_ins_of_one_dou_are_one_submission_and_the_rest_additions(portal: Portal, tomsk: Cli):
    """Hand-ins of one ДОУ at once (a double click, two people of one ДОУ): each waits for the one before on the ДОУ's
    row (PostgreSQL: the row is locked; SQLite: one writer), so exactly one is the submission and the others add
    materials to it; every link is kept."""
    tomsk.ok("tick", "--now", "2021-11-25 10:00")
    now, start = parse_local("2021-11-25 10:00", TZ), threading.Barrier(6)

    def hand_in(n: int) -> None:
        start.wait()
        with store.transaction(portal.db, actor="institution:4") as session:
            engine.submit(session, "tomsk-2021", "4", "fill-form", now, (f"https://dou4.example.org/{n}",), scoped=True)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(hand_in, range(6)))
    actions = [r["action"] for r in tomsk.json("history", "4") if r["stage"] == "fill-form"]
    assert actions.count("submit") == 1 and actions.count("resubmit") == 5, actions
    shown = tomsk.ok("status", "--institution", "4", "--now", "2021-11-25 10:00")
    assert all(f"https://dou4.example.org/{n}" in shown for n in range(6))
