"""The portal end to end in headless Chromium: a real `dqflow serve` process on a loopback port, over a
database the CLI loaded and `dqflow send` mailed from (to a real SMTP server on loopback, each message
kept as an .eml file). A ДОУ opens the link in its email and hands in a link, an expert records a review,
the coordinator signs in and extends a deadline, a tampered link is refused, the board shows no address.

One server and one database for the module, in the campaign's order; a screenshot of each page is
written under the test's temp folder (`page-*.png`)."""

from __future__ import annotations

import csv
import email
import io
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TOMSK, Cli
from tests.smtp_server import SmtpServer, free_port
from tests.test_migrations import fetch

pytestmark = pytest.mark.sqlite_only("one server process and its database for the module; the routes run on both in test_web")


def campaign_with_link_lines(folder: Path) -> Path:
    """The Tomsk campaign, its templates copied beside it. Templates that do not print the personal link
    yet get a line that does, so the test reads the link out of the email either way."""
    shutil.copytree(TOMSK.parent, folder)
    templates = folder / "templates"
    shutil.copytree(ROOT / "notifications" / "ru", templates)
    for path in templates.glob("*.*"):
        text = path.read_text(encoding="utf-8")
        if path.stem not in ("message",) and "item.link" not in "".join(p.read_text(encoding="utf-8") for p in templates.glob("_*")) \
                and "item.link" not in text and "{% block body %}" in text:
            line = "\nЛичная страница: {{ item.link }}\n" if path.suffix == ".txt" else '\n<p><a href="{{ item.link }}">Личная страница</a></p>\n'
            head, _, tail = text.rpartition("{% endblock %}")
            path.write_text(head + "{% if item.link %}" + line + "{% endif %}{% endblock %}" + tail, encoding="utf-8")
    campaign = folder / TOMSK.name
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text.replace("  locale: ru\n", "  locale: ru\n  notifications: templates/\n", 1), encoding="utf-8")
    return campaign


class Site:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = f"sqlite:///{root / 'dqflow.db'}"
        self.maildir = root / "mail"
        self.maildir.mkdir()
        self.cli = Cli(self.db, env={"DQFLOW_BASE_URL": self.base})
        self.process: subprocess.Popen | None = None
        self.shots = 0

    def send(self, now: str, smtp: SmtpServer) -> None:
        before = len(smtp.messages)
        self.cli.env = {**smtp.env(), "DQFLOW_BASE_URL": self.base}
        assert self.cli.ok("send", "--now", now).startswith("Отправлено писем: ")
        for n, received in enumerate(smtp.messages[before:], before):
            (self.maildir / f"{n:05d}-{received.to}.eml").write_bytes(received.raw)

    def serve(self, now: str) -> None:
        self.stop()
        self.process = subprocess.Popen([sys.executable, "-m", "dqflow", "--db", self.db, "serve", "--port", str(self.port),
                                         "--now", now], cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, "DQFLOW_BASE_URL": self.base})
        fetch(self.base + "/board")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=30) == 0, self.process.stderr.read()
            self.process = None

    def link_in_mail(self, recipient: str, role: str) -> str:
        """The personal link in the text of the last email to `recipient` that carries one."""
        for path in sorted(self.maildir.glob(f"*-{recipient}.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found = re.search(rf"{re.escape(self.base)}/{role}/\S+?(?=[\s>\"<]|$)", message.get_body(("plain",)).get_content())
            if found:
                return found[0].rstrip(".,)")
        raise AssertionError(f"no email to {recipient} carries a /{role}/ link: {sorted(p.name for p in self.maildir.iterdir())}")

    def shot(self, browser, name: str) -> Path:
        self.shots += 1
        path = self.root / f"page-{self.shots:02d}-{name}.png"
        width = 1280 if "phone" not in name else 390
        browser.set_window_size(width, 600)
        height = browser.execute_script("return document.documentElement.scrollHeight")  # the whole page
        browser.set_window_size(width, min(max(height, 600), 4000))
        assert browser.save_screenshot(str(path))
        return path


@pytest.fixture(scope="module")
def site(tmp_path_factory, chromium):
    root = tmp_path_factory.mktemp("portal")
    made = Site(root)
    smtp = SmtpServer().start()
    try:
        made.cli.ok("load", str(campaign_with_link_lines(root / "campaign")), "--now", "2021-11-10 09:00")
        made.send("2021-11-19 10:00", smtp)  # fill-form opens: every ДОУ gets its notice
        made.serve("2021-11-25 10:00")
        made.smtp = smtp
        yield made
    finally:
        made.stop()
        smtp.stop()


def press(browser, element) -> None:
    """Submit the form `element` is in — by `element` itself when it is a submit button, else by the form's first — and
    wait for the next page (POST → redirect → GET) to load."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import WebDriverException

    page = browser.find_element("tag name", "html")
    if element.tag_name == "button" and element.get_attribute("type") == "submit":
        element.click()
    else:
        form = element if element.tag_name == "form" else element.find_element("xpath", "ancestor-or-self::form")
        form.find_element("css selector", "button[type=submit]").click()
    # While the old document is torn down chromedriver may answer "Node with given id does not belong to the
    # document" instead of "stale element": that is the same news, one poll early, so poll again.
    wait = WebDriverWait(browser, 20, ignored_exceptions=(WebDriverException,))
    wait.until(expected_conditions.staleness_of(page))
    wait.until(lambda b: b.execute_script("return document.readyState") == "complete")


def text_of(browser) -> str:
    return browser.find_element("tag name", "body").text


def test_a_dou_opens_the_link_in_its_email_and_hands_in_a_link(site: Site, browser):
    link = site.link_in_mail("dou4@example.org", "dou")
    browser.set_window_size(390, 900)  # a phone
    browser.get(link)
    assert "МБДОУ № 4" in text_of(browser)
    field = browser.find_element("id", "link-fill-form-1")
    assert browser.find_element("css selector", "label[for=link-fill-form-1]").text.startswith("Ссылка на материалы")
    field.send_keys("https://dou4.example.org/monitoring")
    site.shot(browser, "dou-phone-before")
    press(browser, field)
    assert "Материалы приняты" in text_of(browser) and "https://dou4.example.org/monitoring" in text_of(browser)
    assert "?ok=submitted" in browser.current_url  # POST → redirect → GET
    site.shot(browser, "dou-phone-after")
    view = site.cli.json("status", "--institutions", "--now", "2021-11-25 10:00")
    assert next(i for i in view["institutions"] if i["id"] == "4")["stages"]["fill-form"] == "done"
    assert not browser.get_log("browser")  # no script, no console errors


def test_a_tampered_link_is_refused_with_whom_to_ask(site: Site, browser):
    link = site.link_in_mail("dou5@example.org", "dou")
    browser.get(link[:-2] + ("xy" if not link.endswith("xy") else "zz"))
    page = text_of(browser)
    assert "Страница недоступна" in page and "kdo@imc.example.org" in page and "МАДОУ № 5" not in page
    site.shot(browser, "refused")


def test_the_coordinator_signs_in_and_extends_a_deadline(site: Site, browser):
    url = site.cli.ok("link", "coordinator", "--now", "2021-11-25 10:00").splitlines()[0]
    browser.set_window_size(1280, 900)
    browser.get(url)
    press(browser, browser.find_element("css selector", "button[type=submit]"))
    assert "Вы вошли как координатор" in text_of(browser)
    site.shot(browser, "coordinator")
    browser.get(site.base + "/coordinator/dou/5")
    until = browser.find_element("id", "until-fill-form")
    browser.execute_script("arguments[0].value = '2021-12-06T18:00'", until)  # the picker's typing order depends on the locale
    browser.find_element("id", "reason-e-fill-form").send_keys("больничный")
    press(browser, until)
    assert "Срок продлён" in text_of(browser)
    site.shot(browser, "card")
    fill = next(s for s in site.cli.json("status", "--institution", "5", "--now", "2021-11-25 10:00")["stages"] if s["id"] == "fill-form")
    assert fill["extended"] and fill["due_at"] == "2021-12-06T18:00:00+07:00"
    assert next(r for r in site.cli.json("history", "5") if r["action"] == "extend")["by"] == "coordinator:web"


def test_an_expert_opens_the_link_in_the_handout_and_records_a_review(site: Site, browser):
    site.send("2021-12-01 10:00", site.smtp)  # the handout: each expert's ДОУ with their links
    site.serve("2021-12-02 10:00")
    experts = next(a["experts"] for a in site.cli.json("experts", "show", "list1")["assignments"] if a["institution"] == "4")
    rows = csv.DictReader(io.StringIO(site.cli.ok("experts", "show", "list1", "--csv")))
    address = next(r["expert_email"] for r in rows if r["institution"] == "4" and r["expert_id"] == experts[0])
    browser.get(site.link_in_mail(address, "expert"))
    page = text_of(browser)
    assert "МБДОУ № 4" in page and "https://dou4.example.org/monitoring" in page
    from selenium.webdriver.support.ui import Select

    for area in ("conditions", "guidelines", "parents", "health", "special-needs"):  # a review counts with every area assessed
        Select(browser.find_element("id", f"level-4-{area}")).select_by_visible_text("Базовый уровень")
    browser.find_element("id", "rec-4").send_keys("Дополнить ссылки на протоколы родительских собраний.")
    press(browser, browser.find_element("id", "rec-4"))
    assert "Экспертиза сохранена" in text_of(browser)
    site.shot(browser, "expert")
    review = next(r for r in site.cli.json("history", "4") if r["action"] == "review")
    assert review["by"] == f"expert:{experts[0]}" and review["detail"]["levels"] == {"conditions": "1", "guidelines": "1", "parents": "1", "health": "1", "special-needs": "1"}


def test_the_board_shows_no_address(site: Site, browser, tmp_path: Path):
    browser.get(site.base + "/board")
    page = text_of(browser)
    assert "Ход мониторинга" in page and "МБДОУ № 4" in page
    assert "@" not in page
    assert "Эксперт ДОУ" not in page and "Дополнить ссылки" not in page  # no expert names, no review contents
    site.shot(browser, "board")


def test_the_coordinator_signs_in_with_the_password_set_from_the_cli(site: Site, browser):
    browser.delete_all_cookies()
    site.cli.ok("link", "password", "--stdin", input="длинный пароль координатора\n")
    browser.set_window_size(390, 900)  # a phone
    browser.get(site.base + "/coordinator")
    assert "Войти по паролю" in text_of(browser)
    browser.find_element("link text", "Войти по паролю").click()
    field = browser.find_element("id", "password")
    assert browser.find_element("css selector", "label[for=password]").text == "Пароль"
    field.send_keys("неверный пароль")
    press(browser, field)
    assert "Пароль не подходит" in text_of(browser)
    browser.find_element("id", "password").send_keys("длинный пароль координатора")
    site.shot(browser, "signin-password")
    press(browser, browser.find_element("id", "password"))
    assert "Вы вошли как координатор" in text_of(browser) and "по местному времени (UTC+7)" in text_of(browser)
    site.shot(browser, "coordinator-phone")
    logged = [m["message"] for m in browser.get_log("browser")]
    assert len(logged) == 2 and all("403" in m for m in logged), logged  # only the two refusals asked for: page, wrong password
