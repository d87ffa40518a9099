"""One name for each stage everywhere people read it, experts by name (issue 19, deliverable 5).

Tomsk's refill and final fix share the order's title «Заполнение формы мониторинга» and have their own
`short:` names: the ДОУ page, the coordinator's card and expert list, the calendars and the terminal
show the `short:` name (`Stage.label`), never the shared title as a stage's name; experts read by name in the
terminal card, in history and in the expert lists. (The letters: tests/test_emails.py; validate's refusal of
two stages of one name: tests/test_terms.py.)"""

import re

import pytest
from conftest import TOMSK, Cli, hand_in_all, levels
from test_web import Portal

from dqflow.calendar import parse_local, zone
from dqflow.campaign import spec

TZ = zone("Asia/Tomsk")
CAMPAIGN = spec.load(TOMSK)
SHARED = "Заполнение формы мониторинга"  # the order's title of refill and final-fix alike
REFILL, FINAL = CAMPAIGN.stage("refill").label, CAMPAIGN.stage("final-fix").label
NAMES = CAMPAIGN.expert_names


def test_the_two_stages_share_a_title_and_not_a_name():
    assert CAMPAIGN.stage("refill").title == CAMPAIGN.stage("final-fix").title == SHARED
    assert REFILL == "Повторное заполнение формы" and FINAL == "Итоговая корректировка формы"


def reviewed(dq: Cli) -> tuple[str, str]:
    """ДОУ 4's review1: every ДОУ handed in, list 1 drawn; its first expert reviews, the second does not. Their ids."""
    hand_in_all(dq)
    drawn = dq.json("experts", "show", "list1")
    first, second = next(a["experts"] for a in drawn["assignments"] if a["institution"] == "4")
    said = dq.ok("review", "4", "--stage", "review1", "--expert", first, *levels(), "--now", "2021-12-02 10:00")
    assert said.startswith(f"ДОУ 4, этап «Первичная экспертиза»: экспертиза эксперта {NAMES[first]} записана"), said
    return first, second


@pytest.fixture
def scene(tomsk: Cli) -> tuple[Cli, str, str]:
    return (tomsk, *reviewed(tomsk))


def test_the_terminal_card_names_stages_and_experts(scene):
    dq, first, second = scene
    out = dq.ok("status", "--institution", "4", "--now", "2021-12-16 10:00")
    for name in (REFILL, FINAL, "Первичная экспертиза: отчитались 1 из 2 экспертов", f"  {NAMES[second]}: не отчитался",
                 f"  {NAMES[first]}, 02.12.2021 10:00:"):
        assert name in out, out
    assert f"сейчас: {FINAL}" in out  # the open stage by its name
    for raw in ("refill", "final-fix", "review1", "fill-form", f"{first}:", f"{second}:", f"({first}", SHARED):
        assert raw not in out, (raw, out)
    markdown = dq.ok("status", "--institution", "4", "--format", "md", "--now", "2021-12-16 10:00")
    assert REFILL in markdown and FINAL in markdown and SHARED not in markdown and "review1" not in markdown


def test_history_names_the_stage_and_the_expert(scene, db_url):
    dq, first, _ = scene
    text = dq.ok("history", "4")
    assert "Первичная экспертиза: экспертиза записана" in text and f"эксперт {NAMES[first]}" in text, text
    assert "Первичное заполнение формы: материалы сданы" in text
    assert not re.search(rf"\b(fill-form|review1|{first})\b", text), text
    # the portal's review: who acted is the expert, by name
    portal = Portal(db_url).at("2021-12-03 10:00")
    try:
        path = portal.path("expert", first)
        page = portal.client.get(path)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        form = {f"level-{a.id}": "3" for a in CAMPAIGN.areas}
        saved = portal.client.post(path, data={"csrf": token, "institution": "4", "stage": "review1", **form}, follow_redirects=False)
        assert saved.status_code == 303, saved.text
    finally:
        portal.db.dispose()
    corrected = [line for line in dq.ok("history", "4").splitlines() if "экспертиза исправлена" in line]
    assert corrected and f"— эксперт {NAMES[first]} (портал)" in corrected[-1], corrected


def test_status_names_stages_and_keeps_ids_in_json(scene):
    dq, _, _ = scene
    out = dq.ok("status", "--institutions", "--now", "2021-12-16 10:00")
    for stage in CAMPAIGN.stages:
        assert re.search(rf"^{re.escape(stage.label)} +{re.escape(stage.id)} ", out, re.MULTILINE), (stage.id, out)
    assert f"refill — {REFILL}" in out and f"final-fix — {FINAL}" in out  # the ids heading the ДОУ × stage columns
    assert re.search(rf"^4 +МБДОУ № 4 «Монтессори» +{FINAL} ", out, re.MULTILINE), out
    markdown = dq.ok("status", "--institutions", "--format", "md", "--now", "2021-12-16 10:00")
    assert f"| {REFILL} |" in markdown and f"| {FINAL} |" in markdown and "final-fix" not in markdown
    data = dq.json("status", "--institutions", "--now", "2021-12-16 10:00")
    assert {s["id"] for s in data["stages"]} == {s.id for s in CAMPAIGN.stages}
    assert next(i for i in data["institutions"] if i["id"] == "4")["state"] == "final-fix"


def test_extend_excuse_and_a_hand_set_list_name_the_stage_and_the_experts(tomsk: Cli):
    extended = tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "болезнь", "--now", "2021-11-20 10:00")
    assert extended.startswith("ДОУ 4, этап «Первичное заполнение формы»: срок продлён до 03.12.2021 23:59"), extended
    excused = tomsk.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-20 10:00")
    assert excused.startswith("ДОУ 5 освобождено от этапа «Первичное заполнение формы»"), excused
    tomsk.ok("tick", "--now", "2021-11-25 10:00")  # list 1 is drawn when its stage opens
    current = tomsk.json("experts", "show", "list1")
    experts = next(a["experts"] for a in current["assignments"] if a["institution"] == "4")
    said = tomsk("experts", "set", "list1", "4", *experts, "--now", "2021-11-25 10:00").output
    assert f"ДОУ 4, список «Список экспертов 1»: эксперты {NAMES[experts[0]]} ({experts[0]})" in said, said


def test_tick_and_submit_name_the_stage(tomsk: Cli):
    tick = tomsk.ok("tick", "--now", "2021-11-19 10:00")
    assert "Первичное заполнение формы: ожидается → открыт" in tick and "fill-form:" not in tick, tick
    receipt = tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/a", "--now", "2021-11-20 10:00")
    assert "этап «Первичное заполнение формы»: сдано 20.11.2021 10:00" in receipt, receipt


def test_expert_lists_name_the_list_and_the_experts(scene):
    dq, first, second = scene
    out = dq.ok("experts", "show", "list1")
    assert out.startswith("Список экспертов 1 (list1)\n"), out
    assert f"{NAMES[first]} ({first})" in out and f"{NAMES[second]} ({second})" in out
    dq.ok("tick", "--now", "2021-12-08 10:00")
    diff = dq.ok("experts", "diff", "list1", "list2")
    assert diff.startswith("list1 — Список экспертов 1; list2 — Список экспертов 2"), diff
    assert re.search(r"[А-ЯЁ][а-яё]+.* \(e\d+\)", diff), diff


def unfold(ics: str) -> str:
    return ics.replace("\r\n", "\n").replace("\n ", "")


def summaries(ics: str) -> list[str]:
    return re.findall(r"^SUMMARY:(.*)$", unfold(ics), re.MULTILINE)


def test_calendars_name_entries_by_the_stage_name(scene):
    dq, first, _ = scene
    for who in (["--institution", "4"], ["--coordinator"], ["--expert", first]):
        ics = dq.ok("calendar", *who, "--out", "-", "--now", "2021-12-16 10:00")
        found = summaries(ics)
        assert found, ics
        assert not any(s.endswith(SHARED) for s in found), found  # no entry named by the order's shared title
        if who[0] != "--expert":
            assert any(s.endswith(REFILL) for s in found) and any(s.endswith(FINAL) for s in found), found
        else:
            assert any(s.endswith("— Первичная экспертиза") for s in found), found
            assert re.search(rf"^X-WR-CALNAME:.*: эксперт {NAMES[first]}$", unfold(ics), re.MULTILINE), ics
        description = unfold(ics)
        if who[0] == "--institution":
            assert f"Этап «{REFILL}».\\nВ приказе: «{SHARED}»." in description, description


def headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>.*", "", h).strip() for h in re.findall(r"<h2>(.*?)</h2>", html)]


def test_pages_name_each_stage_once(scene, db_url):
    dq, first, _ = scene
    portal = Portal(db_url)
    try:
        portal.now = parse_local("2021-12-16 10:00", TZ)
        page = portal.client.get(portal.path("institution", "4")).text
        shown = headings(page)
        assert REFILL in shown and FINAL in shown and "Первичная экспертиза" in shown, shown
        assert SHARED not in shown and len(shown) == len(set(shown)), shown
        assert f"В приказе: «{SHARED}»" in page  # the order's wording, a note under the name
        dq.env = {"DQFLOW_BASE_URL": "https://portal.example.org"}
        path = dq.ok("link", "coordinator", "--now", "2021-12-16 10:00").splitlines()[0].removeprefix("https://portal.example.org")
        entered = portal.client.post(path, data={"csrf": portal.csrf(portal.client.get(path).text)}, follow_redirects=False)
        assert entered.status_code == 303, entered.text
        card = portal.client.get("/coordinator/dou/4")
        assert card.status_code == 200, card.text
        shown = headings(card.text)
        assert REFILL in shown and FINAL in shown and SHARED not in shown and len(shown) == len(set(shown)), shown
        history = card.text[card.text.index("<h2>История</h2>"):]
        assert "<td>Первичная экспертиза</td>" in history and f"эксперт {NAMES[first]}" in history
        assert "<td>review1</td>" not in history and "<td>fill-form</td>" not in history
        experts = portal.client.get("/coordinator/experts/list1")
        assert "<h1>Список экспертов 1</h1>" in experts.text and f"{NAMES[first]} ({first})" in experts.text
    finally:
        portal.db.dispose()
