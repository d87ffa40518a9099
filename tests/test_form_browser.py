"""The monitoring form end to end in headless Chromium (issue 21 part 8): a real `dqflow serve` process over a campaign
with a form; a ДОУ fills two indicators on its page (one link to a local HTTP server that answers 403), saves each and
hands the form in; `dqflow links check` (loopback allowed by DQFLOW_LINKCHECK_ALLOW) marks that link closed and the
ДОУ's page says so; an expert reviews per indicator on their page, where the closed link and the ДОУ's own levels are
shown; then `status --json`, `form show --json`, the history and the stored review rows agree.

A screenshot of each page is written under the test's temp folder (`page-*.png`)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import TOMSK, query

from dqflow import store
from tests.test_browser import Site, press, text_of

pytestmark = pytest.mark.sqlite_only("one server process and its database; the engine and routes run on both in test_expertise")

FILL = "2021-11-22 10:00"  # fill-form runs 19.11 – 30.11
CHECK = "2021-11-23 09:00"
REVIEW1 = "2021-12-02 10:00"  # review1 runs 01.12 – 05.12


class Materials(BaseHTTPRequestHandler):
    """A ДОУ's materials: /ok opens, /closed answers 403 (a folder whose owner did not open access)."""

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_GET(self) -> None:
        self.answer(head=False)

    def answer(self, head: bool) -> None:
        status, body = (200, b"<html>photos</html>") if self.path == "/ok" else (403, b"<html>forbidden</html>")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


@pytest.fixture(scope="module")
def materials():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Materials)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def campaign_with_two_required(folder: Path) -> Path:
    """The Tomsk campaign with its example form on fill-form, refill and final-fix, only 1.1 and 1.2 required."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    for stage in data["stages"]:
        if stage["id"] in ("fill-form", "refill", "final-fix"):
            stage["form"] = True
    for area in data["areas"]:
        for indicator in area["indicators"]:
            indicator["evidence"] = "required" if str(indicator["id"]) in ("1.1", "1.2") else "optional"
    path = folder / "form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path, chromium, materials):
    made = Site(tmp_path)
    made.cli.ok("load", str(campaign_with_two_required(tmp_path)), "--now", "2021-11-10 09:00")
    try:
        yield made
    finally:
        made.stop()


def personal(site: Site, role: str, who: str) -> str:
    from dqflow.access import links

    db = store.connect(site.db)
    try:
        with store.dry_run(db) as session:
            return site.base + links.links(session, "tomsk-2021").path(role, who)
    finally:
        db.dispose()


def choose(browser, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", element_id)).select_by_value(value)


def type_into(browser, element_id: str, text: str) -> None:
    field = browser.find_element("id", element_id)
    field.clear()
    field.send_keys(text)


def test_a_dou_fills_two_indicators_one_link_closed_and_an_expert_reviews_per_indicator(site: Site, browser, materials):
    # the ДОУ fills two indicators on its page and hands the form in
    site.serve(FILL)
    browser.get(personal(site, "institution", "2"))
    assert "Не хватает ссылок по обязательным показателям: 1.1, 1.2" in text_of(browser)
    entries = {"1.1": (materials + "/ok", "Фото центров", "2", "Центры во всех группах"),
               "1.2": (materials + "/closed", "План повышения квалификации", "3", "")}
    for indicator, (url, title, level, comment) in entries.items():  # both typed before any button is pressed
        assert browser.find_element("css selector", f"label[for='link-{indicator}-0']").text == "Ссылка"
        type_into(browser, f"link-{indicator}-0", url)
        type_into(browser, f"title-{indicator}-0", title)
        choose(browser, f"level-{indicator}", level)
        if comment:
            type_into(browser, f"comment-{indicator}", comment)
    press(browser, browser.find_element("css selector", "button[name=action][value='save:1.2']"))  # 1.2's button saves 1.1 too
    assert "Сохранено в черновик формы." in text_of(browser)
    for indicator, (url, title, level, comment) in entries.items():
        assert browser.find_element("id", f"link-{indicator}-0").get_attribute("value") == url
        assert browser.find_element("id", f"level-{indicator}").get_attribute("value") == level
    assert browser.find_element("id", "comment-1.1").get_attribute("value") == "Центры во всех группах"
    site.shot(browser, "dou-form")
    hand_in = browser.find_element("css selector", "button[name=action][value=hand-in]")
    press(browser, hand_in)
    assert "Форма сдана: эта версия зафиксирована" in text_of(browser)
    site.stop()

    # the link checker marks the 403 closed; the ДОУ's page says so and what to do
    site.cli.env = {**site.cli.env, "DQFLOW_LINKCHECK_ALLOW": "127.0.0.0/8"}
    checked = site.cli.json("links", "check", "--now", CHECK)
    assert {link["url"]: link["state"] for link in checked["links"]} == {materials + "/ok": "ok", materials + "/closed": "closed"}
    site.serve("2021-11-23 10:00")
    browser.get(personal(site, "institution", "2"))
    closed = browser.find_element("xpath", f"//li[a[@href='{materials}/closed']]").text
    assert "доступ закрыт" in closed and "откройте доступ по ссылке" in closed
    assert "открывается" in browser.find_element("xpath", f"//li[a[@href='{materials}/ok']]").text
    site.shot(browser, "dou-link-closed")
    site.stop()

    # an expert of the ДОУ reviews per indicator
    site.cli.ok("tick", "--now", "2021-11-25 00:05")  # the expert list is drawn
    first, second = next(a["experts"] for a in site.cli.json("experts", "show", "list1")["assignments"] if a["institution"] == "2")
    site.serve(REVIEW1)
    browser.get(personal(site, "expert", first))
    fieldset = browser.find_element("id", "area-review1-2-conditions")
    assert fieldset.find_element("tag name", "legend").text == "Образовательные условия"
    block = browser.find_element("id", "ind-review1-2-1.2").text
    assert "План повышения квалификации" in block and "доступ закрыт" in block
    assert "Самооценка ДОУ: Уровень хорошего качества" in block
    assert "Центры во всех группах" in browser.find_element("id", "ind-review1-2-1.1").text
    given = {indicator: "1" for indicator in ("1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")}
    given |= {"1.1": "2", "1.2": "1"}  # 1.1 confirmed, 1.2 lowered: its evidence does not open
    for indicator, level in given.items():
        label = browser.find_element("css selector", f"label[for='level-review1-2-{indicator}']").text
        assert label == f"Ваш уровень по показателю {indicator}"
        assert browser.find_element("id", f"level-review1-2-{indicator}").get_attribute("value") == ""  # nothing preselected
        choose(browser, f"level-review1-2-{indicator}", level)
    type_into(browser, "comment-review1-2-1.2", "Ссылка закрыта: доказательства не открываются")
    type_into(browser, "rec-review1-2", "Откройте доступ к папке с планом.")
    site.shot(browser, "expert-per-indicator")
    press(browser, browser.find_element("id", "level-review1-2-1.1"))
    assert "оценка записана" in text_of(browser)
    assert browser.find_element("id", "level-review1-2-1.2").get_attribute("value") == "1"  # the recorded answer
    site.shot(browser, "expert-recorded")
    site.stop()
    assert not [m for m in browser.get_log("browser") if m["level"] == "SEVERE"]

    # what the commands and the stored rows say agree with what the pages showed and took
    rows = {ind: (level, comment) for ind, level, comment in query(
        site.db, f"SELECT indicator_id, level, comment FROM review_level WHERE institution_id = '2' AND expert_id = '{first}'")}
    assert rows == {ind: (level, "Ссылка закрыта: доказательства не открываются" if ind == "1.2" else None)
                    for ind, level in given.items()}
    review = next(r for r in site.cli.json("history", "2") if r["action"] == "review")
    assert review["by"] == f"expert:{first}" and review["detail"]["indicators"] == given
    assert review["detail"]["levels"]["conditions"] == "1"  # 2, 1, 1 by mean rounded down: the rule of engine.finals
    shown = site.cli.json("form", "show", "2", "--stage", "fill-form", "--now", REVIEW1)
    assert shown["handed_in"] and not shown["editable"]
    by_id = {ind["id"]: ind for ind in shown["indicators"]}
    assert by_id["1.1"]["links"] == [{"url": materials + "/ok", "title": "Фото центров"}] and by_id["1.1"]["level"] == "2"
    assert by_id["1.2"]["links"] == [{"url": materials + "/closed", "title": "План повышения квалификации"}]
    assert by_id["1.2"]["level"] == "3" and by_id["1.2"]["comment"] is None
    statuses = {i["id"]: i["stages"] for i in site.cli.json("status", "--institutions", "--now", REVIEW1)["institutions"]}
    assert statuses["2"]["fill-form"] == "done" and statuses["2"]["review1"] == "open"  # one expert of two so far
    site.cli.ok("review", "2", "--stage", "review1", "--expert", second,
                *[arg for ind in given for arg in ("--level", f"{ind}=2")], "--now", "2021-12-02 11:00")
    statuses = {i["id"]: i["stages"] for i in site.cli.json("status", "--institutions", "--now", "2021-12-02 11:00")["institutions"]}
    assert statuses["2"]["review1"] == "done"
