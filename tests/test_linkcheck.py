"""The link checker (`delivery.linkcheck`) against a real HTTP server on 127.0.0.1: what it calls ok, broken and
closed; its limits (timeout, redirects, bytes); the SSRF refusals; results stored, shown on the ДОУ's page and in
its reminder; `dqflow links check`."""

from __future__ import annotations

import asyncio
import gzip
import re
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address

import pytest
from conftest import Cli
from hypothesis import given
from hypothesis import strategies as st

from dqflow import store
from dqflow.calendar import UTC
from dqflow.delivery import link_checker, link_policy, link_transport, linkcheck
from dqflow.delivery.link_checker import BROKEN, CLOSED, OK
from dqflow.delivery.link_policy import Policy
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)
from tests.test_daemon import TOMSK_TZ, drive

HUGE_CHUNK = b"x" * 65536
LOOPBACK = (link_policy.allowed_networks("127.0.0.1/32"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str]] = []  # (method, host, path) of every request
    in_flight: dict[str, int] = {}  # host → requests to /pause being answered now
    most: dict[str, int] = {}  # host → the most at once
    lock = threading.Lock()
    huge_sent = [0]

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_GET(self) -> None:
        self.answer(head=False)

    def reply(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def answer(self, head: bool) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        path = self.path
        Handler.seen.append((self.command, host, path))
        if host == "cloud.mail.ru":  # compressed although asked not to: the page is read all the same
            page = gzip.compress("<html><div>Доступ к файлу ограничен владельцем</div></html>".encode())
            return self.reply(200, page, {"Content-Encoding": "gzip"}, head=head)
        if host == "disk.yandex.ru":  # a cloud drive: its page says whether access is denied
            if path.startswith("/d/closed"):
                return self.reply(200, "<html><h1>Доступ запрещён</h1><p>Владелец ограничил доступ</p></html>".encode(), head=head)
            return self.reply(200, "<html><h1>Папка «Материалы»</h1></html>".encode(), head=head)
        if path == "/ok":
            return self.reply(200, b"<html>hello</html>", head=head)
        if path.startswith("/pause/"):  # counts how many requests to one host are answered at once
            with Handler.lock:
                Handler.in_flight[host] = Handler.in_flight.get(host, 0) + 1
                Handler.most[host] = max(Handler.most.get(host, 0), Handler.in_flight[host])
            time.sleep(0.1)
            with Handler.lock:
                Handler.in_flight[host] -= 1
            return self.reply(200, b"paused", head=head)
        if path == "/no-head":  # HEAD refused, GET fine
            return self.reply(405, b"", head=head) if head else self.reply(200, b"fine")
        if path in ("/404", "/410", "/403", "/401", "/500"):
            return self.reply(int(path[1:]), b"no", head=head)
        if path == "/login-redirect":
            return self.reply(302, b"", {"Location": "/accounts/login?next=/folder"}, head=head)
        if path == "/hop":
            return self.reply(301, b"", {"Location": "/ok"}, head=head)
        if path == "/loop-a":
            return self.reply(302, b"", {"Location": "/loop-b"}, head=head)
        if path == "/loop-b":
            return self.reply(302, b"", {"Location": "/loop-a"}, head=head)
        if path.startswith("/chain/"):  # /chain/N → /chain/N+1: never ends
            return self.reply(302, b"", {"Location": f"/chain/{int(path.rsplit('/', 1)[1]) + 1}"}, head=head)
        if path == "/to-private":
            return self.reply(302, b"", {"Location": "http://10.20.30.40/secret"}, head=head)
        if path == "/to-metadata":
            return self.reply(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}, head=head)
        if path == "/slow":
            time.sleep(3)
            return self.reply(200, b"late", head=head)
        if path == "/huge":  # HEAD refused, so the checker GETs a body without end: only its byte limit stops it
            if head:
                return self.reply(405, b"", head=True)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                while Handler.huge_sent[0] < 1 << 30:
                    self.wfile.write(HUGE_CHUNK)
                    Handler.huge_sent[0] += len(HUGE_CHUNK)
            except OSError:
                pass
            return None
        return self.reply(404, b"unknown", head=head)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def run(urls, **kwargs):
    kwargs.setdefault("allow", LOOPBACK)
    kwargs.setdefault("timeout", 0.5)
    kwargs.setdefault("deadline", 5)
    kwargs.setdefault("host_delay", 0)
    return asyncio.run(link_checker.check(urls, Policy(**kwargs)))


def test_each_kind_of_answer_gets_its_state(server):
    base, port = server
    cases = {"/ok": OK, "/no-head": OK, "/hop": OK, "/404": BROKEN, "/410": BROKEN, "/500": BROKEN,
             "/403": CLOSED, "/401": CLOSED, "/login-redirect": CLOSED, "/loop-a": BROKEN, "/chain/0": BROKEN,
             "/slow": BROKEN}
    found = run([base + path for path in cases])
    assert {path: found[base + path].state for path in cases} == cases
    assert found[base + "/404"].http_status == 404 and "не найдена" in found[base + "/404"].detail
    assert "страницу входа" in found[base + "/login-redirect"].detail
    assert "по кругу" in found[base + "/loop-a"].detail
    assert "больше 5 переадресаций" in found[base + "/chain/0"].detail
    assert "не ответил" in found[base + "/slow"].detail
    assert not any(path.startswith("/accounts/login") for _, _, path in Handler.seen)  # a sign-in page is not fetched
    assert ("GET", "127.0.0.1", "/no-head") in Handler.seen  # HEAD refused: a GET decided


def test_no_more_requests_to_one_host_at_once_than_its_share_and_waiting_for_it_is_no_timeout(server):
    base, port = server
    Handler.most.clear()
    one, two = f"http://one.example.org:{port}", f"http://two.example.org:{port}"  # two hosts, one server
    # 24 links a host, 2 at once, 0.1 s each: the last waits over a second for its turn, past the 1 s deadline of a request
    found = run([f"{one}/pause/{i}" for i in range(24)] + [f"{two}/pause/{i}" for i in range(24)], per_host=2, deadline=1,
                hosts={"one.example.org": ("127.0.0.1",), "two.example.org": ("127.0.0.1",)})
    assert {r.state for r in found.values()} == {OK}, {r.detail for r in found.values()}
    assert Handler.most == {"one.example.org": 2, "two.example.org": 2}  # each host its 2 at once


def test_a_body_without_end_is_read_only_up_to_the_byte_limit(server):
    base, _ = server
    Handler.huge_sent[0] = 0
    found = run([base + "/huge"], max_bytes=100_000, timeout=5, deadline=20)
    assert found[base + "/huge"].state == OK, found
    assert Handler.huge_sent[0] < 64 << 20  # the server stopped far short of its gigabyte: the client hung up


def test_a_cloud_drives_access_denied_page_is_closed(server):
    base, port = server
    hosts = {"disk.yandex.ru": ("127.0.0.1",), "cloud.mail.ru": ("127.0.0.1",)}
    closed, open_ = f"http://disk.yandex.ru:{port}/d/closed-folder", f"http://disk.yandex.ru:{port}/d/open-folder"
    mail = f"http://cloud.mail.ru:{port}/public/abc"
    found = run([closed, open_, mail], hosts=hosts)
    assert found[closed].state == CLOSED and found[closed].detail.startswith("Яндекс Диск"), found[closed]
    assert found[open_].state == OK
    assert found[mail].state == CLOSED and found[mail].detail.startswith("Облако Mail.ru"), found[mail]
    assert ("GET", "disk.yandex.ru", "/d/open-folder") in Handler.seen  # a drive's page is read, not only its headers


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/ok", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:{port}/ok", "http://0.0.0.0:{port}/ok", "http://[::ffff:127.0.0.1]:{port}/ok",
                                 "http://224.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/"])
def test_private_addresses_are_refused_by_default(server, url):
    _, port = server
    url = url.format(port=port)
    before = len(Handler.seen)
    found = run([url], allow=())
    assert found[url].state == BROKEN and "внутренней сети" in found[url].detail, found[url]
    assert len(Handler.seen) == before  # never asked


def test_a_name_resolving_to_a_private_address_and_a_redirect_to_one_are_refused(server):
    base, port = server
    named = f"http://intranet.example.org:{port}/ok"
    found = run([named], allow=(), hosts={"intranet.example.org": ("93.184.215.14", "127.0.0.1")})
    assert found[named].state == BROKEN and "127.0.0.1" in found[named].detail  # one private address among them is enough
    found = run([base + "/to-private", base + "/to-metadata"])  # 127.0.0.1 allowed, not where it redirects
    assert "10.20.30.40" in found[base + "/to-private"].detail
    assert "169.254.169.254" in found[base + "/to-metadata"].detail


def test_only_http_and_https_are_fetched_and_a_malformed_link_is_broken_not_the_end_of_the_check(server):
    base, _ = server
    odd = ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "http:///nohost", "http://exa mple.org/",
           "http://[::1/", "https://example.org:99999/", "http://" + "a" * 300 + ".org/"]
    found = run([*odd, base + "/ok"])
    assert {found[u].state for u in odd} == {BROKEN}, {u: found[u] for u in odd}
    assert found[base + "/ok"].state == OK
    assert "http://" in found["file:///etc/passwd"].detail


def test_the_allow_variable_is_read_and_a_bad_one_refused(monkeypatch):
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32, 10.0.0.0/8")
    assert [str(n) for n in link_policy.policy_from_env().allow] == ["127.0.0.1/32", "10.0.0.0/8"]
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/33")
    with pytest.raises(link_policy.DqflowError, match="DQFLOW_LINKCHECK_ALLOW"):
        link_policy.policy_from_env()


PRIVATE = ["10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "100.64.0.0/10",
           "0.0.0.0/8", "240.0.0.0/4"]


@given(st.sampled_from(PRIVATE), st.integers(0, 2**32 - 1))
def test_no_address_of_a_private_or_special_network_is_public(network, bits):
    from ipaddress import ip_network

    net = ip_network(network)
    address = IPv4Address(int(net.network_address) | (bits & int(net.hostmask)))
    assert not link_policy.public(str(address))
    assert not link_policy.public(f"::ffff:{address}")
    assert link_policy.public(str(address), [net])


# -- stored, shown, and `dqflow links check` --------------------------------------------------------------------


def test_campaign_links_of_a_stage_and_of_some_dou_are_those_of_every_link_so_filtered(tomsk: Cli, db_url):
    """`campaign_links`' statements (made once, the stage and the ДОУ bound as parameters) filter by what they are
    given, and only by that: each (stage, ДОУ) asked gives the campaign's links of it, in the same order."""
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://a.example.org/2", "--link", "https://b.example.org/2",
             "--now", "2021-11-26 10:00")
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://a.example.org/4", "--now", "2021-11-26 11:00")
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            every = linkcheck.campaign_links(session, "tomsk-2021")
            assert [(link.institution_id, link.url) for link in every] == [
                ("2", "https://a.example.org/2"), ("2", "https://b.example.org/2"), ("4", "https://a.example.org/4")]
            for stage in ("fill-form", "refill", None):
                for institutions in (None, ["4"], ["2", "4", "nope"], ["nope"], []):
                    for drafts_too in (True, False):
                        wanted = [link for link in every if stage in (None, link.stage_id)
                                  and (institutions is None or link.institution_id in institutions)]
                        assert linkcheck.campaign_links(session, "tomsk-2021", stage, institutions, drafts_too) == wanted, \
                            (stage, institutions, drafts_too)
            assert linkcheck.campaign_links(session, "another", "fill-form", ["2"]) == []
        # and `snapshots.link_checks` (its statement made once too) gives the stored check of the URLs asked, and only those
        from dqflow.web import snapshots

        at = datetime(2021, 11, 27, 2, 0, tzinfo=UTC)
        linkcheck.save(db, "tomsk-2021", {link.url: link_checker.Result(link.url, OK, "") for link in every}, at)
        urls = tuple(sorted({link.url for link in every}))
        with store.dry_run(db) as session:
            assert snapshots.link_checks(session, "tomsk-2021", urls[1:]) == tuple((url, OK, "", at) for url in urls[1:])
            assert snapshots.link_checks(session, "tomsk-2021", ()) == snapshots.link_checks(session, "another", urls) == ()
    finally:
        db.dispose()


def test_links_check_stores_the_results_and_says_what_to_do(tomsk: Cli, server, db_url, monkeypatch):
    base, _ = server
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32")
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", base + "/ok", "--link", base + "/403", "--now", "2021-11-26 10:00")
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", base + "/404", "--now", "2021-11-26 11:00")
    text = tomsk.ok("links", "check", "--stage", "fill-form", "--now", "2021-11-27 09:00")
    assert "Проверено ссылок этапа «" in text and ": 3 на 27.11.2021 09:00" in text
    assert "открывается: 1; доступ закрыт: 1; не открывается: 1." in text
    assert "Доступ закрыт — откройте доступ по ссылке:" in text and "Не открывается — проверьте адрес:" in text
    closed_line = next(line for line in text.splitlines() if base + "/403" in line)
    assert "№ 2" in closed_line and "HTTP 403" in closed_line
    data = tomsk.json("links", "check", "--now", "2021-11-27 09:05")
    assert data["counts"] == {"ok": 1, "closed": 1, "broken": 1} and data["total"] == 3
    assert {(x["institution"], x["url"], x["state"]) for x in data["links"]} == {
        ("2", base + "/ok", "ok"), ("2", base + "/403", "closed"), ("4", base + "/404", "broken")}
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            rows = linkcheck.results(session, "tomsk-2021", [base + "/ok", base + "/403", base + "/404"])
    finally:
        db.dispose()
    assert {u: (r.state, r.http_status) for u, r in rows.items()} == {
        base + "/ok": ("ok", 200), base + "/403": ("closed", 403), base + "/404": ("broken", 404)}
    assert {r.checked_at for r in rows.values()} == {datetime(2021, 11, 27, 2, 5, tzinfo=UTC)}  # 09:05 Tomsk, stored UTC


def test_links_check_refuses_an_unknown_stage_and_a_bad_allow(tomsk: Cli, monkeypatch):
    result = tomsk("links", "check", "--stage", "nope", "--now", "2021-11-27 09:00")
    assert result.exit_code == 1 and "ошибка: --stage: этапа «nope» нет" in result.output
    bad = Cli(tomsk.db_url, env={link_policy.ALLOW_ENV: "localhost"})
    result = bad("links", "check", "--now", "2021-11-27 09:00")
    assert result.exit_code == 1 and "DQFLOW_LINKCHECK_ALLOW" in result.output and "Traceback" not in result.output


def test_private_links_are_refused_by_the_command_without_the_allow_variable(tomsk: Cli, server, monkeypatch):
    base, _ = server
    monkeypatch.delenv(link_policy.ALLOW_ENV, raising=False)
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", base + "/ok", "--now", "2021-11-26 10:00")
    data = tomsk.json("links", "check", "--now", "2021-11-27 09:00")
    assert data["counts"]["broken"] == 1 and "внутренней сети" in data["links"][0]["detail"]


def test_the_daemon_checks_a_dous_links_before_its_reminder_which_lists_those_that_do_not_open(tomsk: Cli, server, smtp_server,  # noqa: F811
                                                                                               monkeypatch):
    base, _ = server
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32")
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", base + "/ok", "--link", base + "/403", "--link", base + "/410",
             "--now", "2021-11-26 10:00")
    refill_opens = datetime(2021, 12, 7, 0, 0, tzinfo=TOMSK_TZ)
    drive(tomsk.db_url, smtp_server, [refill_opens])  # plans the refill's reminders
    reminder = next(r for r in tomsk.json("outbox") if r["recipient"] == "dou2@example.org" and r["stage"] == "refill"
                    and r["kind"] == "before_due" and r["state"] == "pending")
    send_at = datetime.fromisoformat(reminder["send_at"])
    seen = len(smtp_server.messages)
    before = len(Handler.seen)
    drive(tomsk.db_url, smtp_server, [send_at])
    assert {(m, p) for m, _, p in Handler.seen[before:]} >= {("HEAD", "/ok"), ("HEAD", "/403"), ("GET", "/403"), ("GET", "/410")}
    mine = [m for m in smtp_server.messages[seen:] if m.to == "dou2@example.org"]
    others = [m for m in smtp_server.messages[seen:] if m.to != "dou2@example.org"]
    assert len(mine) == 1 and others  # the others were reminded too, with nothing of links
    text = mine[0].message.get_body(("plain",)).get_content()
    html = mine[0].message.get_body(("html",)).get_content()
    assert "Не все ваши ссылки на материалы открываются" in text
    closed = next(line for line in text.splitlines() if base + "/403" in line)
    broken = next(line for line in text.splitlines() if base + "/410" in line)
    assert "доступ закрыт" in closed and "откройте доступ по ссылке" in closed
    assert "не открывается" in broken and "проверьте адрес" in broken and "HTTP 410" in broken
    assert base + "/ok" not in text
    assert "откройте доступ по ссылке" in html and f'href="{base}/403"' in html
    assert not any("ссылки на материалы открываются" in m.message.get_body(("plain",)).get_content() for m in others)
    # a second wake-up soon after does not fetch them again: the results are fresh
    before = len(Handler.seen)
    drive(tomsk.db_url, smtp_server, [send_at + timedelta(minutes=5)])
    assert len(Handler.seen) == before


def test_the_dous_page_shows_each_links_state_and_the_coordinator_the_counts(tomsk: Cli, server, db_url, monkeypatch):
    from test_web import Portal, sign_in

    base, _ = server
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32")
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", base + "/ok", "--link", base + "/login-redirect",
             "--link", base + "/404", "--now", "2021-11-24 10:00")
    portal = Portal(db_url)
    try:
        page = portal.client.get(portal.path("institution", "4")).text
        assert base + "/404" in page and "не открывается" not in page  # not checked yet: nothing said
        tomsk.ok("links", "check", "--now", "2021-11-25 09:00")
        page = portal.client.get(portal.path("institution", "4")).text
        items = {url: re.search(rf'<li><a href="{re.escape(url)}".*?</li>', page, re.S)[0] for url in
                 (base + "/ok", base + "/login-redirect", base + "/404")}
        assert '<span class="status done">открывается</span>' in items[base + "/ok"]
        assert "доступ закрыт" in items[base + "/login-redirect"] and "откройте доступ по ссылке" in items[base + "/login-redirect"]
        assert "страницу входа" in items[base + "/login-redirect"] and "проверено 25.11.2021 09:00" in items[base + "/login-redirect"]
        assert "не открывается" in items[base + "/404"] and "проверьте адрес" in items[base + "/404"]
        sign_in(portal, tomsk)
        home = portal.client.get("/coordinator").text
        assert "открывается — 1; доступ закрыт — 1; не открывается — 1" in home
    finally:
        portal.db.dispose()


def test_run_refuses_a_bad_allow_variable_before_it_starts(tomsk: Cli):
    bad = Cli(tomsk.db_url, env={link_policy.ALLOW_ENV: "10.0.0.0/8,intranet", "DQFLOW_SMTP_HOST": "127.0.0.1",
                                 "DQFLOW_SMTP_SECURITY": "none"})
    result = bad("run", "--now", "2021-11-27 09:00")
    assert result.exit_code == 1 and "ошибка: DQFLOW_LINKCHECK_ALLOW: «intranet»" in result.output, result.output


def test_a_budget_that_runs_out_mid_batch_keeps_the_results_of_the_links_checked(tomsk: Cli, server, db_url):
    """`check_links` with a budget: the links checked before it ran out are stored, the one still being fetched is
    left for a later check (not stored as broken, not lost with the others)."""
    base, _ = server
    now = datetime(2021, 11, 27, 2, 0, tzinfo=UTC)
    links = [linkcheck.Link("2", "fill-form", base + path) for path in ("/ok", "/404", "/slow")]
    db = store.connect(db_url)
    try:
        report = asyncio.run(linkcheck.check_links(db, "tomsk-2021", links, now, Policy(allow=LOOPBACK, timeout=10, host_delay=0),
                                                   budget=2.0))
        with store.dry_run(db) as session:
            rows = linkcheck.results(session, "tomsk-2021", [link.url for link in links])
    finally:
        db.dispose()
    assert report.unchecked == 1 and [(link.url, r.state) for link, r in report.links] == [(base + "/ok", OK), (base + "/404", BROKEN)]
    assert {u: r.state for u, r in rows.items()} == {base + "/ok": OK, base + "/404": BROKEN}


def test_the_daemon_stores_what_it_checked_when_its_budget_runs_out(tomsk: Cli, server, smtp_server, monkeypatch):  # noqa: F811
    from dqflow.delivery import daemon

    base, _ = server
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32")
    monkeypatch.setattr(daemon, "LINKS_BUDGET", 2.0)  # the slow link (3 s) outlasts it
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", base + "/403", "--link", base + "/slow", "--now", "2021-11-26 10:00")
    drive(tomsk.db_url, smtp_server, [datetime(2021, 12, 7, 0, 0, tzinfo=TOMSK_TZ)])
    reminder = next(r for r in tomsk.json("outbox") if r["recipient"] == "dou2@example.org" and r["stage"] == "refill"
                    and r["kind"] == "before_due" and r["state"] == "pending")
    seen = len(smtp_server.messages)
    drive(tomsk.db_url, smtp_server, [datetime.fromisoformat(reminder["send_at"])])
    db = store.connect(tomsk.db_url)
    try:
        with store.dry_run(db) as session:
            rows = linkcheck.results(session, "tomsk-2021", [base + "/403", base + "/slow"])
    finally:
        db.dispose()
    assert {u: r.state for u, r in rows.items()} == {base + "/403": CLOSED}
    mine = [m for m in smtp_server.messages[seen:] if m.to == "dou2@example.org"]
    assert len(mine) == 1 and base + "/403" in mine[0].message.get_body(("plain",)).get_content()


def test_run_once_is_one_daemon_step_and_checks_links_before_the_reminders(tomsk: Cli, server, smtp_server):  # noqa: F811
    base, _ = server
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", base + "/ok", "--link", base + "/403", "--now", "2021-11-26 10:00")
    env = smtp_server.env(**{link_policy.ALLOW_ENV: "127.0.0.1/32"})
    sender = Cli(tomsk.db_url, env=env)
    sender.ok("run", "--once", "--now", "2021-12-07 00:00")  # the refill opens: its reminders are planned
    reminder = next(r for r in tomsk.json("outbox") if r["recipient"] == "dou2@example.org" and r["stage"] == "refill"
                    and r["kind"] == "before_due" and r["state"] == "pending")
    send_at = datetime.fromisoformat(reminder["send_at"]).astimezone(TOMSK_TZ)
    seen, before = len(smtp_server.messages), len(Handler.seen)
    sender.ok("run", "--once", "--now", send_at.strftime("%Y-%m-%d %H:%M"))
    assert {(m, p) for m, _, p in Handler.seen[before:]} >= {("HEAD", "/ok"), ("HEAD", "/403")}
    mine = [m for m in smtp_server.messages[seen:] if m.to == "dou2@example.org"]
    assert len(mine) == 1
    text = mine[0].message.get_body(("plain",)).get_content()
    assert "Не все ваши ссылки на материалы открываются" in text and base + "/403" in text and base + "/ok" not in text


def test_each_host_has_its_own_small_pool_its_connection_reused_and_few_pools_are_kept(server):
    """A pool per host (httpcore's one pool for every host cost most of the checker's CPU): a host's links reuse its
    connection, and the pools of hosts done with are closed beyond `concurrency` of them."""
    _, port = server
    names = [f"h{n}.example.org" for n in range(6)]
    policy = Policy(allow=LOOPBACK, hosts={name: ("127.0.0.1",) for name in names}, concurrency=2, per_host=2, host_delay=0,
                    timeout=2, deadline=5)

    async def go():
        checker = link_checker.Checker(policy)
        async with link_transport.client(policy) as http:
            first = [await checker.one(http, f"http://{names[0]}:{port}/ok") for _ in range(3)]
            one_host = [len(pool._pool.connections) for pool in http._transport.pools.values()]
            others = [await checker.one(http, f"http://{name}:{port}/ok") for name in names[1:]]
            return first + others, one_host, [key[1] for key in http._transport.pools]

    found, one_host, kept = asyncio.run(go())
    assert [r.state for r in found] == [OK] * 8
    assert one_host == [1]  # three links, one connection
    assert kept == names[-2:]  # the two most recent hosts' pools; the others were closed


def test_the_links_of_a_form_not_yet_handed_in_are_checked(db_url, tmp_path, server, monkeypatch):
    """A form's draft evidence is among the campaign's links (`campaign_links`): `links check` (and so the daemon, the
    letters and the pages, which ask the same function) checks it before the hand-in."""
    from tests.test_form import form_file

    base, _ = server
    monkeypatch.setenv(link_policy.ALLOW_ENV, "127.0.0.1/32")
    dq = Cli(db_url)
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    dq.ok("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--link", base + "/403", "--link", base + "/ok",
          "--now", "2021-11-20 10:00")
    dq.ok("form", "set", "2", "--stage", "fill-form", "--indicator", "1.2", "--link", base + "/404", "--now", "2021-11-20 10:01")
    data = dq.json("links", "check", "--now", "2021-11-21 09:00")
    assert [(x["institution"], x["stage"], x["url"], x["state"]) for x in data["links"]] == [
        ("2", "fill-form", base + "/403", "closed"), ("2", "fill-form", base + "/ok", "ok"), ("2", "fill-form", base + "/404", "broken")]
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            assert [link.url for link in linkcheck.campaign_links(session, "tomsk-2021", institutions=["2"])] == [
                base + "/403", base + "/ok", base + "/404"]
    finally:
        db.dispose()
    # and the ДОУ sees each draft link's state on its page while it can still mend it, beside the link's input
    from test_web import Portal

    portal = Portal(db_url).at("2021-11-21 10:00")
    try:
        page = portal.client.get(portal.path("institution", "2")).text
        assert 'class="indicator" id="indicator-1.1"' in page and "Сдать форму" in page  # the form, still editable
        after = {url: page.split(f'value="{url}"', 1)[1].split("<label", 1)[0] for url in (base + "/403", base + "/ok", base + "/404")}
        assert "доступ закрыт" in after[base + "/403"] and "откройте доступ по ссылке" in after[base + "/403"]
        assert '<span class="status done">открывается</span>' in after[base + "/ok"]
        assert "не открывается" in after[base + "/404"] and "проверено 21.11.2021 09:00" in after[base + "/404"]
    finally:
        portal.db.dispose()


def test_many_hosts_at_once_with_few_pools_kept_all_open(server):
    """Pools made and closed while others are in use (more hosts than `concurrency`, all at once): no link is lost to
    a pool closed under it."""
    _, port = server
    names = [f"m{n}.example.org" for n in range(12)]
    policy = Policy(allow=LOOPBACK, hosts={name: ("127.0.0.1",) for name in names}, concurrency=3, per_host=1, host_delay=0,
                    timeout=5, deadline=10)
    found = asyncio.run(link_checker.check([f"http://{name}:{port}/pause/{k}" for k in range(3) for name in names], policy))
    assert len(found) == 36 and {r.state for r in found.values()} == {OK}
