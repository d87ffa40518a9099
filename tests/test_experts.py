"""Expert lists, handouts, reviews and recommendations on the Tomsk 2021 campaign.

Everything goes through the CLI against a real SQLite file; mail goes over real SMTP to an
aiosmtpd server on localhost, so what the experts and ДОУ would read is what is checked.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from conftest import TOMSK, Cli, hand_in_all, levels, levels_cell

import yaml

CAMPAIGN = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
INSTITUTIONS = [str(i["id"]) for i in CAMPAIGN["institutions"]]
NAMES = {str(i["id"]): i["name"] for i in CAMPAIGN["institutions"]}
HOME = {e["id"]: str(i["id"]) for i in CAMPAIGN["institutions"] for e in i["experts"]}
EXPERT_EMAIL = {e["id"]: e["email"] for i in CAMPAIGN["institutions"] for e in i["experts"]}
EXPERT_NAME = {e["id"]: e["name"] for i in CAMPAIGN["institutions"] for e in i["experts"]}
DOU_EMAIL = {str(i["id"]): i["email"] for i in CAMPAIGN["institutions"]}
COORDINATOR = CAMPAIGN["campaign"]["coordinator"]["email"]
AREAS = {a["id"]: a["title"] for a in CAMPAIGN["areas"]}
LEVELS = {str(lv["id"]): lv["title"] for lv in CAMPAIGN["levels"]}

LIST1_OPEN = "2021-11-25 00:05"  # list1 opens 25.11 00:00 and locks at the end of that day
REVIEW1_INSIDE = "2021-12-02 10:00"  # review1 runs 01.12 – 05.12


# -- helpers ---------------------------------------------------------------------------


def show(dq: Cli, stage: str) -> dict:
    return dq.json("experts", "show", stage)


def lists(dq: Cli, stage: str) -> dict[str, list[str]]:
    return {a["institution"]: a["experts"] for a in show(dq, stage)["assignments"]}


def status_of(dq: Cli, now: str, stage: str) -> dict[str, str]:
    view = dq.json("status", "--institutions", "--now", now)
    return {i["id"]: i["stages"][stage] for i in view["institutions"]}


def drawn(dq: Cli, hand_in: bool = True) -> dict[str, list[str]]:
    dq.ok("tick", "--now", LIST1_OPEN)
    if hand_in:
        hand_in_all(dq)  # the experts review what was handed in (`rules.materials`)
    return lists(dq, "list1")


def fails(dq: Cli, *args: str, input: str | None = None) -> str:
    result = dq(*args, input=input)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


class Inbox:
    """An SMTP server on localhost that keeps every message it is given."""

    def __init__(self):
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address.lower() in (r.lower() for r in rcpt)]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


@pytest.fixture
def inbox():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.env = {"DQFLOW_SMTP_HOST": "127.0.0.1", "DQFLOW_SMTP_PORT": str(port), "DQFLOW_SMTP_SECURITY": "none",
               "DQFLOW_SMTP_FROM": "dqflow@imc.example.org"}
    yield box
    controller.stop()


@pytest.fixture
def mailing(tomsk: Cli, inbox: Inbox) -> Cli:
    """The Tomsk campaign with `dqflow send` delivering to the local inbox."""
    return Cli(tomsk.db_url, env=inbox.env)


def ledger(dq: Cli) -> list[dict]:
    return json.loads(dq.ok("outbox", "--json"))


# -- drawing ---------------------------------------------------------------------------


def test_list1_is_drawn_by_itself_when_its_stage_opens(tomsk: Cli, tmp_path: Path):
    before = show(tomsk, "list1")
    assert all(a["experts"] == [] for a in before["assignments"])
    tomsk.ok("tick", "--now", "2021-11-24 23:59")
    assert all(a["experts"] == [] for a in show(tomsk, "list1")["assignments"])

    tomsk.ok("tick", "--now", LIST1_OPEN)
    shown = show(tomsk, "list1")
    assert {"stage", "assignments", "load"} <= set(shown)
    assert shown["stage"] == "list1"
    assert [a["institution"] for a in shown["assignments"]] == INSTITUTIONS  # roster order
    for a in shown["assignments"]:
        assert set(a) >= {"institution", "experts"}
        assert len(a["experts"]) == 2 and len(set(a["experts"])) == 2, a
        assert all(e in HOME for e in a["experts"])
        assert all(HOME[e] != a["institution"] for e in a["experts"]), f"own expert reviews ДОУ {a['institution']}"
    # 11 ДОУ × 2 places over 11 experts: everyone reviews exactly two, no reciprocal pair
    assert shown["load"] == {e: 2 for e in sorted(HOME)}
    reviewed = {(a["institution"], HOME[e]) for a in shown["assignments"] for e in a["experts"]}
    assert not any((b, a) in reviewed for a, b in reviewed)
    assert shown.get("problems", []) == []

    # the automatic draw is reproducible: another database, the same list
    other = Cli(f"sqlite:///{tmp_path / 'other.db'}")
    other.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    other.ok("tick", "--now", "2021-11-25 15:00")
    assert show(other, "list1")["assignments"] == shown["assignments"]


def test_experts_assign_draws_before_the_stage_opens_and_the_opening_keeps_it(tomsk: Cli):
    out = tomsk.ok("experts", "assign", "list1", "--seed", "7", "--now", "2021-11-20 10:00")
    assert "list1" in out
    early = lists(tomsk, "list1")
    assert all(len(es) == 2 and all(HOME[e] != i for e in es) for i, es in early.items())
    tomsk.ok("tick", "--now", LIST1_OPEN)
    assert lists(tomsk, "list1") == early  # not redrawn when the stage opens

    # a second draw must be asked for explicitly
    assert "уже составлен" in fails(tomsk, "experts", "assign", "list1", "--now", "2021-11-25 10:00")
    assert lists(tomsk, "list1") == early
    tomsk.ok("experts", "assign", "list1", "--replace", "--seed", "8", "--now", "2021-11-25 10:00")
    redrawn = lists(tomsk, "list1")
    assert all(len(es) == 2 and all(HOME[e] != i for e in es) for i, es in redrawn.items())
    # after the lock nothing is drawn any more
    assert "больше не меняется" in fails(tomsk, "experts", "assign", "list1", "--replace", "--now", "2021-11-26 09:00")
    assert lists(tomsk, "list1") == redrawn
    # a stage that is not a list is refused with the lists named
    assert "list1, list2" in fails(tomsk, "experts", "assign", "fill-form", "--now", "2021-11-20 10:00")


def test_experts_set_edits_until_the_lock_and_never_breaks_a_hard_rule(tomsk: Cli):
    before = drawn(tomsk)
    others = [e for e in sorted(HOME) if HOME[e] != "2"]
    pick = [e for e in others if e not in before["2"]][:2]

    out = tomsk.ok("experts", "set", "list1", "2", *pick, "--now", "2021-11-25 12:00")
    assert ", ".join(f"{EXPERT_NAME[e]} ({e})" for e in sorted(pick)) in out  # by name, the id the coordinator types beside it
    after = lists(tomsk, "list1")
    assert after["2"] == sorted(pick)
    assert {i: es for i, es in after.items() if i != "2"} == {i: es for i, es in before.items() if i != "2"}

    # own ДОУ's expert: refused, nothing written
    err = fails(tomsk, "experts", "set", "list1", "2", "e2", pick[0], "--now", "2021-11-25 13:00")
    assert "эксперт e2 работает в МАДОУ № 2 и не может его проверять" in err
    err = fails(tomsk, "experts", "set", "list1", "4", "nobody", "--now", "2021-11-25 13:00")
    assert "nobody" in err
    err = fails(tomsk, "experts", "set", "list1", "4", "e5", "e5", "--now", "2021-11-25 13:00")
    assert "указан дважды" in err
    assert lists(tomsk, "list1") == after

    # the last second of the due day is still editable, the next one is frozen
    tomsk.ok("experts", "set", "list1", "2", *before["2"], "--now", "2021-11-25 23:59:59")
    assert lists(tomsk, "list1") == before
    err = fails(tomsk, "experts", "set", "list1", "2", *pick, "--now", "2021-11-26 00:00:01")
    assert "больше не меняется" in err and "25.11.2021 23:59" in err
    assert lists(tomsk, "list1") == before


def test_show_csv_has_one_row_per_institution_and_expert(tomsk: Cli):
    assigned = drawn(tomsk)
    text = tomsk.ok("experts", "show", "list1", "--csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["institution", "institution_name", "expert_id", "expert_name", "expert_email", "expert_institution"]
    assert len(rows) == 22
    assert {(r["institution"], r["expert_id"]) for r in rows} == {(i, e) for i, es in assigned.items() for e in es}
    for r in rows:
        assert r["institution_name"] == NAMES[r["institution"]]
        assert r["expert_name"] == EXPERT_NAME[r["expert_id"]]
        assert r["expert_email"] == EXPERT_EMAIL[r["expert_id"]]
        assert r["expert_institution"] == HOME[r["expert_id"]] != r["institution"]


def test_list2_is_distinct_from_list1_and_diff_shows_it(tomsk: Cli):
    first = drawn(tomsk)
    tomsk.ok("tick", "--now", "2021-12-08 00:05")
    shown = show(tomsk, "list2")
    second = {a["institution"]: a["experts"] for a in shown["assignments"]}
    assert shown["problems"] == []
    for inst in INSTITUTIONS:
        assert len(second[inst]) == 2 and all(HOME[e] != inst for e in second[inst])
        assert not set(first[inst]) & set(second[inst]), f"ДОУ {inst} sees an expert of list1 again"

    text = tomsk.ok("experts", "diff", "list1", "list2")
    assert "ДОУ с повторным экспертом: 0" in text
    for inst in INSTITUTIONS:
        line = next(ln for ln in text.splitlines() if ln.split() and ln.split()[0] == inst)
        assert all(e in line for e in first[inst] + second[inst]), line

    # a hand edit that repeats a list1 expert is allowed (soft rule) but shown everywhere
    repeat = [first["5"][0], second["5"][0]]
    result = tomsk("experts", "set", "list2", "5", *repeat, "--now", "2021-12-08 10:00")
    assert result.exit_code == 0, result.output
    assert "снова получает эксперта из предыдущего списка" in result.output
    text = tomsk.ok("experts", "diff", "list1", "list2")
    assert "ДОУ с повторным экспертом: 1" in text
    line = next(ln for ln in text.splitlines() if ln.split() and ln.split()[0] == "5")
    both = line.split("  ")[1:]  # the columns after the ДОУ: in both lists first, each expert by name with the id beside it
    assert next(c for c in both if c.strip()).strip() == f"{EXPERT_NAME[first['5'][0]]} ({first['5'][0]})", line
    assert any(p.startswith("ДОУ 5 снова получает эксперта из предыдущего списка") for p in show(tomsk, "list2")["problems"])


# -- handouts ---------------------------------------------------------------------------


def test_handout_gives_each_expert_one_email_with_their_institutions_and_links(mailing: Cli, inbox: Inbox):
    assigned = drawn(mailing, hand_in=False)
    mailing.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form",
               "--link", "https://dou2.example.org/photos", "--now", "2021-11-26 10:00")
    mailing.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/form", "--now", "2021-11-29 10:00")
    links = {"2": ["https://dou2.example.org/form", "https://dou2.example.org/photos"], "4": ["https://dou4.example.org/form"]}

    mailing.ok("send", "--now", "2021-11-30 09:00")
    by_expert: dict[str, list[str]] = {}
    for inst, es in assigned.items():
        for e in es:
            by_expert.setdefault(e, []).append(inst)
    for expert, insts in by_expert.items():
        mails = inbox.to(EXPERT_EMAIL[expert])
        assert len(mails) == 1, f"{expert} got {len(mails)} emails"
        text = body(mails[0])
        listed = re.findall(r"^\d+\. (.+)$", text, flags=re.M)
        assert sorted(listed) == sorted(NAMES[i] for i in insts), (expert, listed)
        for inst in insts:
            for link in links.get(inst, []):
                assert link in text
        for inst, inst_links in links.items():
            if inst not in insts:
                assert not any(link in text for link in inst_links), f"{expert} sees links of ДОУ {inst}"
        if any(i not in links for i in insts):
            assert "Материалы пока не поступили." in text
        assert "05.12.2021 23:59" in text  # the review deadline
        assert mails[0]["Subject"].startswith("Экспертиза «Первичная экспертиза»: ДОУ для оценки — 2, срок до 05.12.2021 23:59")

    copies = [m for m in inbox.to(COORDINATOR) if "Копия" in str(m["Subject"]) or "Копия" in body(m)]
    assert len(copies) == 1
    text = body(copies[0])
    for inst, es in assigned.items():
        assert NAMES[inst] in text
        assert all(EXPERT_NAME[e] in text for e in es)

    # sending again sends no second handout
    count = len(inbox.messages)
    mailing.ok("send", "--now", "2021-11-30 09:30")
    assert not any(rcpt[0] in EXPERT_EMAIL.values() for rcpt, _ in inbox.messages[count:])


# -- reviews ----------------------------------------------------------------------------


def test_review_by_an_assigned_expert_in_the_window_and_refusals(tomsk: Cli, tmp_path: Path):
    assigned = drawn(tomsk)
    first, second = assigned["2"]
    stranger = next(e for e in sorted(HOME) if e not in assigned["2"] and HOME[e] != "2")
    assert "этап ещё не открыт" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", second,
                                   *levels(), "--now", "2021-11-30 10:00")

    out = tomsk.ok("review", "2", "--stage", "review1", "--expert", first, *levels("conditions=2", "health=3"), "--recommendations", "-", "--now", REVIEW1_INSIDE,
                   input="Дополнить ссылки на фотоматериалы.\n")
    assert "записана" in out
    assert status_of(tomsk, REVIEW1_INSIDE, "review1")["2"] == "open"  # one of two experts reported

    # refusals: each one line, exit 1, nothing written
    assert "не назначен" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", stranger, *levels(), "--now", REVIEW1_INSIDE)
    assert "не назначен" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", "e2", *levels(), "--now", REVIEW1_INSIDE)
    assert "нет уровня «9»" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", second,
                                   *levels("conditions=9"), "--now", REVIEW1_INSIDE)
    assert "нет области качества «beauty»" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", second,
                                       *levels("beauty=1"), "--now", REVIEW1_INSIDE)
    assert "ОБЛАСТЬ=УРОВЕНЬ" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", second,
                                 *levels("conditions"), "--now", REVIEW1_INSIDE)
    assert "приём закрыт" in fails(tomsk, "review", "2", "--stage", "review1", "--expert", second, *levels(), "--now", "2021-12-06 10:00")
    assert "а не эксперты" in fails(tomsk, "review", "2", "--stage", "fill-form", "--expert", second,
                                         *levels(), "--now", "2021-11-26 10:00")
    assert status_of(tomsk, REVIEW1_INSIDE, "review1")["2"] == "open"
    history = json.dumps(tomsk.json("history", "2"), ensure_ascii=False)
    assert second not in history and stranger not in history

    # the second assigned expert completes the ДОУ's review stage
    out = tomsk.ok("review", "2", "--stage", "review1", "--expert", second, *levels("conditions=3"),
                   "--now", "2021-12-03 11:00")
    assert "выполнено" in out
    statuses = status_of(tomsk, "2021-12-03 11:00", "review1")
    assert statuses["2"] == "done"
    assert all(s == "open" for i, s in statuses.items() if i != "2")


def test_a_review_dated_before_the_stage_opens_is_refused_even_once_it_has_opened(tomsk: Cli):
    """Outside the window means outside it, whatever was reconciled before: a review dated
    30.11 (review1 opens 01.12) must not be recorded, let alone complete the ДОУ's stage."""
    assigned = drawn(tomsk)
    first, second = assigned["2"]
    tomsk.ok("review", "2", "--stage", "review1", "--expert", first, *levels(), "--now", REVIEW1_INSIDE)
    err = fails(tomsk, "review", "2", "--stage", "review1", "--expert", second, *levels(), "--now", "2021-11-30 10:00")
    assert "ещё не открыт" in err
    assert status_of(tomsk, REVIEW1_INSIDE, "review1")["2"] == "open"


def test_review_import_records_many_reviews_at_once_or_none(tomsk: Cli, tmp_path: Path):
    assigned = drawn(tomsk)
    good = tmp_path / "reviews.csv"
    rows = [["institution", "stage", "expert", "levels", "recommendations"]]
    rows += [["4", "review1", e, levels_cell("conditions=1;parents=2"), "Уточнить план взаимодействия с семьями."] for e in assigned["4"]]
    rows += [["5", "review1", assigned["5"][0], levels_cell("guidelines=4"), ""]]
    with good.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)

    bad = tmp_path / "bad.csv"
    stranger = next(e for e in sorted(HOME) if e not in assigned["6"] and HOME[e] != "6")
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows[:2] + [["6", "review1", stranger, levels_cell("conditions=1"), ""]])
    assert "не назначен" in fails(tomsk, "review", "--import", str(bad), "--now", REVIEW1_INSIDE)
    assert status_of(tomsk, REVIEW1_INSIDE, "review1")["4"] == "open"  # all or nothing

    levels = tmp_path / "levels.csv"
    with levels.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows[:1] + [["4", "review1", assigned["4"][0], levels_cell("conditions=7"), ""]])
    err = fails(tomsk, "review", "--import", str(levels), "--now", REVIEW1_INSIDE)
    assert f"{levels}:2:4:" in err

    out = tomsk.ok("review", "--import", str(good), "--now", REVIEW1_INSIDE)
    assert out.count("записана") == 3
    statuses = status_of(tomsk, REVIEW1_INSIDE, "review1")
    assert statuses["4"] == "done"
    assert statuses["5"] == "open"


# -- reminders and recommendations ------------------------------------------------------------


def test_review_reminders_go_only_to_experts_who_have_not_reported(mailing: Cli, inbox: Inbox):
    assigned = drawn(mailing)
    done_expert, waiting_expert = assigned["2"]
    mailing.ok("review", "2", "--stage", "review1", "--expert", done_expert, *levels("conditions=2"),
               "--now", "2021-12-01 08:00")
    for day in ("2021-12-01", "2021-12-02", "2021-12-03"):
        mailing.ok("send", "--now", f"{day} 09:00")

    rows = [r for r in ledger(mailing) if r["stage"] == "review1" and r["institution"] == "2"
            and r["kind"] in ("opened", "before_due", "due_today", "overdue")]
    sent_to = {r["recipient"] for r in rows if r["state"] == "sent"}
    assert EXPERT_EMAIL[waiting_expert] in sent_to, rows
    assert EXPERT_EMAIL[done_expert] not in sent_to, rows
    assert all(r["state"] == "skipped" for r in rows if r["recipient"] == EXPERT_EMAIL[done_expert])
    # ... but about the other ДОУ that expert has not reviewed yet, they are reminded
    other = next(i for i, es in assigned.items() if done_expert in es and i != "2")
    assert any(NAMES[other] in body(m) for m in inbox.to(EXPERT_EMAIL[done_expert])), \
        f"{done_expert} reviewed ДОУ 2 but was never reminded about ДОУ {other}"
    # every expert of every other ДОУ was reminded: nobody reported for them
    for inst, es in assigned.items():
        if inst == "2":
            continue
        for e in es:
            assert any(r["recipient"] == EXPERT_EMAIL[e] and r["institution"] == inst and r["state"] == "sent"
                       for r in ledger(mailing) if r["stage"] == "review1"), (inst, e)
    # the mail really went out: the waiting expert's reminders name ДОУ 2
    assert any(NAMES["2"] in body(m) for m in inbox.to(EXPERT_EMAIL[waiting_expert]))


def test_recommendations_send_gives_each_reviewed_institution_its_areas_and_levels(mailing: Cli, inbox: Inbox):
    assigned = drawn(mailing)
    first, second = assigned["6"]
    mailing.ok("review", "6", "--stage", "review1", "--expert", first, *levels("conditions=2", "parents=4"),
               "--recommendations", "-", "--now", "2021-12-02 10:00", input="Обновить паспорт доступности.\n")
    mailing.ok("review", "6", "--stage", "review1", "--expert", second, *levels("health=1"),
               "--recommendations", "-", "--now", "2021-12-02 11:00", input="Добавить план закаливания.\n")
    mailing.ok("review", "15", "--stage", "review1", "--expert", assigned["15"][0], *levels("guidelines=3"),
               "--now", "2021-12-02 11:30")

    assert "не этап экспертизы" in fails(mailing, "recommendations", "send", "fill-form", "--now", "2021-12-03 10:00")
    out = mailing.ok("recommendations", "send", "review1", "--now", "2021-12-03 10:00")
    assert "2" in out  # two ДОУ reviewed so far
    out = mailing.ok("recommendations", "send", "review1", "--now", "2021-12-03 10:05")
    assert "уже" in out

    mailing.ok("send", "--now", "2021-12-03 10:10")
    recs = lambda inst: [m for m in inbox.to(DOU_EMAIL[inst])  # noqa: E731
                         if "эксперты подготовили адресные рекомендации" in body(m)]
    six = recs("6")
    assert len(six) == 1
    text = body(six[0])
    for area, level in (("conditions", "2"), ("parents", "4"), ("health", "1")):
        assert f"{AREAS[area]}: {LEVELS[level]}" in text
    assert "Обновить паспорт доступности." in text and "Добавить план закаливания." in text
    assert NAMES["6"] in text
    fifteen = recs("15")
    assert len(fifteen) == 1 and f"{AREAS['guidelines']}: {LEVELS['3']}" in body(fifteen[0])
    assert "Обновить паспорт доступности." not in body(fifteen[0])
    for inst in INSTITUTIONS:
        if inst not in ("6", "15"):
            assert recs(inst) == [], f"ДОУ {inst} was not reviewed yet got recommendations"



def test_the_digest_names_the_experts_who_did_not_report(mailing: Cli, inbox: Inbox):
    """After a review stage locks, the coordinator learns which experts are missing, not just which ДОУ."""
    assigned = drawn(mailing)
    first, second = assigned["6"]
    mailing.ok("review", "6", "--stage", "review1", "--expert", first, *levels("conditions=2"), "--now", "2021-12-02 10:00")
    mailing.ok("send", "--now", "2021-12-06 09:00")  # review1 locked 05.12 23:59
    digests = [m for m in inbox.to("kdo@imc.example.org") if m["Subject"].startswith("Сводка")]
    assert len(digests) == 1
    line = next(ln for ln in body(digests[0]).splitlines() if ln.startswith(f"- {NAMES['6']} — «Первичная"))
    expert_names = {e["id"]: e["name"] for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"]
                    for e in i["experts"]}
    assert line.endswith(f"(не отчитались эксперты: {expert_names[second]})")
    assert expert_names[first] not in line


# -- experts of no ДОУ (the ИМЦ's methodologists) ---------------------------------------------

METHODOLOGISTS = """
experts:
  - {id: m1, name: Методист ИМЦ 1, email: m1@imc.example.org}
  - {id: m2, name: Методист ИМЦ 2, email: m2@imc.example.org}
  - {id: m3, name: Методист ДОУ № 2, email: m3@imc.example.org, institution: "2"}
"""


@pytest.fixture
def mixed(db_url: str, inbox: Inbox, tmp_path: Path) -> Cli:
    """The Tomsk campaign with three more experts at the top level: two of no ДОУ, one of ДОУ 2."""
    path = tmp_path / "tomsk-mixed.yaml"
    text = TOMSK.read_text(encoding="utf-8").replace("\nstages:\n", METHODOLOGISTS + "\nstages:\n")
    path.write_text(text, encoding="utf-8")
    dq = Cli(db_url, env=inbox.env)
    dq.ok("load", str(path), "--now", "2021-11-10 09:00")
    return dq


def test_experts_of_no_institution_are_stored_drawn_and_mailed(mixed: Cli, inbox: Inbox):
    from conftest import query

    rows = dict(query(mixed.db_url, "select id, institution_id from expert where id like 'm%' order by id"))
    assert rows == {"m1": None, "m2": None, "m3": "2"}
    assigned = drawn(mixed)
    home = {**HOME, "m1": None, "m2": None, "m3": "2"}
    used = {e for es in assigned.values() for e in es}
    assert {"m1", "m2", "m3"} <= used  # 22 places over 14 experts: everyone reviews
    for inst, es in assigned.items():
        assert len(es) == 2 and all(home[e] != inst for e in es), (inst, es)  # m3 never reviews ДОУ 2
    load = show(mixed, "list1")["load"]
    assert max(load.values()) - min(load.values()) <= 1
    csv_rows = list(csv.DictReader(io.StringIO(mixed.ok("experts", "show", "list1", "--csv"))))
    assert all(r["expert_institution"] == ("2" if r["expert_id"] == "m3" else "") for r in csv_rows if r["expert_id"].startswith("m"))

    mixed.ok("send", "--now", "2021-11-30 09:00")  # the handout of list1
    for expert in ("m1", "m2", "m3"):
        mails = inbox.to(f"{expert}@imc.example.org")
        assert len(mails) == 1 and mails[0]["Subject"].startswith("Экспертиза «Первичная экспертиза»: ДОУ для оценки"), expert
        listed = re.findall(r"^\d+\. (.+)$", body(mails[0]), flags=re.M)
        assert sorted(listed) == sorted(NAMES[i] for i, es in assigned.items() if expert in es)
    mixed.ok("send", "--now", "2021-12-06 09:00")  # the expert webinar invites every expert
    assert len(inbox.to("m1@imc.example.org")) >= 2
