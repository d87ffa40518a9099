"""A NUL in anything a person sends is refused where it comes in, before anything looks it up, and nothing is written.

PostgreSQL refuses a NUL in any text parameter, even one only looked up: a stage or ДОУ id that held one was a 500
there (a query error), where SQLite said "no such stage". The rule is `intake.text.refuse_nul`: the portal's guard asks
it of every path, query and form field (400, the portal's Russian line for an invisible character), the CLI of every
argument (its one-line refusal, exit 2); text a command reads from a file or stdin is checked as all stored text is
(`text.check`)."""

from __future__ import annotations

import warnings

import pytest
from conftest import Cli, dump_tables, levels
from test_web_guards import BASE, Scene, every_form

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

LINE = "в тексте есть невидимый служебный символ"  # the portal's line for text-unprintable (`present.refusals`)


@pytest.fixture
def answering(tomsk: Cli, db_url: str, monkeypatch):
    """`test_web_guards`' scene, whose browsers get the portal's 500 page for a server error, as a person would."""
    monkeypatch.delenv("DQFLOW_BASE_URL", raising=False)
    made = Scene(tomsk, db_url)
    made.browser = lambda: TestClient(made.app, base_url=BASE, raise_server_exceptions=False)  # type: ignore[method-assign]
    yield made
    made.portal.db.dispose()


def answer(response) -> str:
    """How the portal answered: "refused" (400, its page and the line for an invisible character), else the status."""
    if response.status_code == 400 and "Страница недоступна" in response.text and LINE in response.text:
        return "refused"
    return str(response.status_code)


def test_a_nul_in_any_field_of_any_form_is_refused_and_nothing_is_written(answering: Scene):
    answers = {}
    for route, form in every_form(answering):
        token = answering.token(form.browser, form.page)
        before = dump_tables(answering.db_url)
        for field in [*form.data, "extra"]:
            value = form.data.get(field, "")
            data = {**form.data, "csrf": token, field: value[:1] + "\x00" + value[1:]}
            answers[f"{route}: {field}"] = answer(form.browser.post(form.path, data=data, follow_redirects=False))
        named = form.browser.post(form.path, data={**form.data, "csrf": token, "a\x00b": "1"}, follow_redirects=False)
        answers[f"{route}: a field's name"] = answer(named)
        if dump_tables(answering.db_url) != before:
            answers[f"{route}: what was posted"] = "recorded"
        accepted = form.browser.post(form.path, data={**form.data, "csrf": token}, follow_redirects=False)
        if accepted.status_code not in (200, 303):  # the same post without the NUL is taken
            answers[f"{route}: without the NUL"] = str(accepted.status_code)
    assert {where: said for where, said in answers.items() if said != "refused"} == {}


def test_a_nul_in_an_address_is_refused_before_anything_looks_it_up(answering: Scene):
    answering.at("2021-12-01 14:00")
    answering.dq.ok("tick", "--now", answering.moment)
    dou, expert = answering.portal.path("institution", "4"), answering.portal.path("expert", answering.assigned()["4"][0])
    coordinator = answering.coordinator()
    before = dump_tables(answering.db_url)
    answers = {path: answer(coordinator.get(path)) for path in [
                 dou.replace("/4/", "/4%00/"), dou + "%00", dou + "?ok=%00", expert.replace("/expert/", "/expert/%00"),
                 "/coordinator/dou/4%00", "/coordinator/experts/list1%00", "/coordinator/outbox?recipient=%00",
                 "/coordinator/outbox?state=%00", "/coordinator/outbox?%00=1", "/board?offset=%00", "/signin/%00"]}
    assert {path: said for path, said in answers.items() if said != "refused"} == {}
    assert dump_tables(answering.db_url) == before


@pytest.fixture
def reviewing(tomsk: Cli) -> tuple[Cli, str]:
    """Tomsk with ДОУ 4's materials handed in and review1 open: (the CLI, an expert of ДОУ 4)."""
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-30 12:00")
    tomsk.ok("tick", "--now", "2021-12-01 10:00")
    return tomsk, next(es for a in tomsk.json("experts", "show", "list1")["assignments"] if a["institution"] == "4"
                       for es in a["experts"])


@pytest.mark.parametrize("args", [
    ["submit", "4\x00", "--stage", "fill-form", "--link", "https://dou4.example.org/a", "--now", "2021-11-30 12:00"],
    ["submit", "4", "--stage", "fill-form\x00", "--link", "https://dou4.example.org/a", "--now", "2021-11-30 12:00"],
    ["extend", "4", "--stage", "fill-form", "--until", "2021-12-20", "--reason", "бо\x00лезнь", "--now", "2021-11-30"],
    ["history", "4\x00"],
    ["why", "dou4\x00@example.org", "--now", "2021-11-30 12:00"],
], ids=["institution", "stage", "reason", "history", "why"])
def test_a_nul_in_a_command_line_argument_is_refused_and_nothing_is_written(reviewing: tuple[Cli, str], args: list[str]):
    dq, _ = reviewing
    before = dump_tables(dq.db_url)
    result = dq(*args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "символ NUL" in lines[0], result.output
    assert dump_tables(dq.db_url) == before


def test_a_nul_in_recommendations_read_from_stdin_is_refused_and_nothing_is_written(reviewing: tuple[Cli, str]):
    dq, expert = reviewing
    before = dump_tables(dq.db_url)
    result = dq("review", "4", "--stage", "review1", "--expert", expert, *levels(), "--recommendations", "-",
                "--now", "2021-12-02 10:00", input="Дополнить\x00 ссылки")
    assert result.exit_code == 1 and result.output.strip() == (
        "ошибка: рекомендации: в тексте есть невидимый служебный символ (так бывает при копировании из PDF); "
        "наберите это место заново."), result.output
    assert dump_tables(dq.db_url) == before
