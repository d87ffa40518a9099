"""Everyone is told what changed for them (issue 19, 3): an extension, an excuse, a withdrawal, dates moved by an
amendment, a corrected address and a revoked link each send the person concerned one letter at the next `dqflow send`,
saying what changed, the new date and why; a second send sends nothing more. After `load --apply --reason` a ДОУ's
history shows the old and new dates, the reason and who did it.

Through the real CLI (CliRunner) and a real SMTP server (aiosmtpd on loopback).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TOMSK, Cli, hand_in_all
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)

BASE = "https://portal.example.org/mkdo"


@pytest.fixture
def mailer(db_url: str, smtp_server) -> Cli:  # noqa: F811
    """The Tomsk campaign on SQLite and on PostgreSQL, with a portal and a real SMTP server."""
    dq = Cli(db_url, env={**smtp_server.env(), "DQFLOW_BASE_URL": BASE})
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    return dq


def drained(dq: Cli, server, now: str) -> None:
    """Everything due by `now` sent and forgotten: what the next send brings is the change's."""
    dq.ok("send", "--now", now)
    server.handler.messages.clear()


def plain(received) -> str:
    return received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def changed(server, address: str, marker: str) -> list[str]:
    """The texts of the messages to `address` whose subject carries `marker`."""
    return [plain(m) for m in server.messages if address in m.rcpt_tos and marker in str(m.message["Subject"])]


def edited(tmp_path: Path, *pairs: tuple[str, str]) -> Path:
    text = TOMSK.read_text(encoding="utf-8")
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    target = tmp_path / "amended.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def test_an_extension_is_told_at_the_next_send_once(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    mailer.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин в группе",
              "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    texts = changed(smtp_server, "dou4@example.org", "Срок продлён")
    assert len(texts) == 1, [str(m.message["Subject"]) for m in smtp_server.messages]
    text = texts[0]
    assert "до 03.12.2021 18:00" in text and "прежний был до 30.11.2021 23:59" in text and "по местному времени (UTC+7)" in text
    assert "Причина — карантин в группе" in text
    assert f"Перейдите по персональной ссылке: {BASE}/dou/4/" in text
    assert smtp_server.to("dou2@example.org") == []  # nobody else hears of it
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-11-24 12:00")
    assert smtp_server.messages == []


def test_the_same_extension_again_plans_no_second_letter(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    for _ in range(2):
        mailer.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин",
                  "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    assert len(changed(smtp_server, "dou4@example.org", "Срок продлён")) == 1


def test_an_extension_out_of_hours_waits_for_the_sending_window(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    mailer.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин",
              "--now", "2021-11-24 20:00")
    mailer.ok("send", "--now", "2021-11-24 20:05")
    assert changed(smtp_server, "dou4@example.org", "Срок продлён") == []
    mailer.ok("send", "--now", "2021-11-25 09:00")
    assert len(changed(smtp_server, "dou4@example.org", "Срок продлён")) == 1


def test_an_excuse_is_told_with_its_reason(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    mailer.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт здания", "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    texts = changed(smtp_server, "dou5@example.org", "Освобождение от этапа")
    assert len(texts) == 1
    assert "Вы освобождены от этапа «Первичное заполнение формы»" in texts[0] and "Причина — ремонт здания" in texts[0]
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-11-24 12:00")
    assert smtp_server.messages == []


def test_a_review_extension_tells_the_experts_of_that_dou(mailer, smtp_server):  # noqa: F811
    hand_in_all(mailer)
    drained(mailer, smtp_server, "2021-12-02 10:00")
    experts = next(a["experts"] for a in mailer.json("experts", "show", "list1")["assignments"] if a["institution"] == "6")
    mailer.ok("extend", "6", "--stage", "review1", "--until", "2021-12-08 18:00", "--reason", "болезнь эксперта",
              "--now", "2021-12-02 11:00")
    mailer.ok("send", "--now", "2021-12-02 11:05")
    for expert in experts:
        texts = changed(smtp_server, f"expert{expert.removeprefix('e')}@example.org", "Срок продлён")
        assert len(texts) == 1, expert
        assert "Кому: эксперту, этап «Первичная экспертиза»\n\nСрок экспертизы МАДОУ № 6" in texts[0]
        assert "до 08.12.2021 18:00" in texts[0] and "болезнь эксперта" in texts[0]


def test_an_amendment_tells_each_dou_its_old_and_new_dates_and_history_says_who_and_why(mailer, smtp_server, tmp_path):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    amended = edited(tmp_path, ("    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-29\n"))
    mailer.ok("load", str(amended), "--apply", "--reason", "приказ № 123 от 24.11.2021", "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    for dou in ("2", "4", "94"):
        texts = changed(smtp_server, f"dou{dou}@example.org", "Сроки мониторинга изменены")
        assert len(texts) == 1, dou
        assert "этап «Первичное заполнение формы»: срок 30.11.2021 23:59 → 29.11.2021 23:59" in texts[0]
        assert "Причина — приказ № 123 от 24.11.2021" in texts[0]
    assert not any("expert" in m.to for m in smtp_server.messages)  # the review's dates did not move
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-11-24 12:00")
    assert smtp_server.messages == []
    history = mailer.ok("history", "4")
    line = next(line for line in history.splitlines() if "приказом" in line)
    assert "срок 30.11.2021 23:59 → 29.11.2021 23:59" in line
    assert "причина: приказ № 123 от 24.11.2021" in line and "— координатор (командная строка)" in line
    entries = json.loads(mailer.ok("history", "4", "--json"))
    amend = next(e for e in entries if e["action"] == "amend")
    assert amend["by"] == "coordinator:cli" and amend["detail"]["previous"]["due_at"].startswith("2021-11-30T23:59")


def test_a_moved_webinar_is_told_to_everyone_who_heard_of_it_with_the_old_and_new_time(mailer, smtp_server, tmp_path):  # noqa: F811
    mailer.ok("send", "--now", "2021-12-03 10:00")
    heard = {m.rcpt_tos[0] for m in smtp_server.messages if "Вебинар по итогам первичной экспертизы" in str(m.message["Subject"])}
    assert "dou4@example.org" in heard and any(a.startswith("expert") for a in heard), heard  # its reminder went out
    smtp_server.handler.messages.clear()
    gone = next(a for a in sorted(heard) if a.startswith("dou") and a != "dou4@example.org")
    leaving = next(line for line in TOMSK.read_text(encoding="utf-8").splitlines(keepends=True) if f"email: {gone}," in line)
    amended = edited(tmp_path, ("    at: 2021-12-06\n", "    at: 2021-12-07\n"), (leaving, ""))  # one ДОУ leaves by the same order
    mailer.ok("load", str(amended), "--apply", "--force", "--reason", "приказ № 130", "--now", "2021-12-03 11:00")
    mailer.ok("send", "--now", "2021-12-03 11:05")
    told = {m.rcpt_tos[0]: plain(m) for m in smtp_server.messages if "Сроки мониторинга изменены" in str(m.message["Subject"])}
    left = {gone, gone.replace("dou", "expert")}  # the ДОУ and its own expert (its roster line) leave together
    assert not left & set(told)  # who left is not told of the new time
    assert set(told) == heard - left  # each who knew the old time and is still in, once; nobody else
    text = told["dou4@example.org"]
    assert "«Вебинар по итогам первичной экспертизы» переносится: 06.12.2021 → 07.12.2021 (по местному времени" in text, text
    assert "Причина — приказ № 130" in text and "Как сдать" not in text and "/dou/" not in text  # it asks nothing of them
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-12-03 12:00")
    assert not [m for m in smtp_server.messages if "Сроки мониторинга изменены" in str(m.message["Subject"])]


def test_a_withdrawal_tells_the_dou_and_its_experts(mailer, smtp_server, tmp_path):  # noqa: F811
    hand_in_all(mailer)
    drained(mailer, smtp_server, "2021-12-02 10:00")
    experts = next(a["experts"] for a in mailer.json("experts", "show", "list1")["assignments"] if a["institution"] == "62")
    gone = next(line for line in TOMSK.read_text(encoding="utf-8").splitlines(keepends=True) if 'id: "62"' in line)
    amended = edited(tmp_path, (gone, ""))
    mailer.ok("load", str(amended), "--apply", "--reason", "реорганизация", "--now", "2021-12-02 11:00")
    mailer.ok("send", "--now", "2021-12-02 11:05")
    texts = changed(smtp_server, "dou62@example.org", "Участие в мониторинге завершено")
    assert len(texts) == 1 and "МБДОУ № 62 выбывает из мониторинга" in texts[0] and "Причина — реорганизация" in texts[0]
    for expert in experts:
        texts = changed(smtp_server, f"expert{expert.removeprefix('e')}@example.org", "Экспертиза не нужна")
        assert len(texts) == 1, expert
        assert "МБДОУ № 62 выбыло из мониторинга: ваша экспертиза на этапе «Первичная экспертиза»" in texts[0]
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-12-02 12:00")
    assert smtp_server.messages == []


def test_an_expert_taken_off_the_roster_is_told_nothing_more_is_asked_of_them(mailer, smtp_server, tmp_path):  # noqa: F811
    hand_in_all(mailer)
    drained(mailer, smtp_server, "2021-12-02 10:00")
    assert any("e6" in a["experts"] for a in mailer.json("experts", "show", "list1")["assignments"])  # they had ДОУ to review
    amended = edited(tmp_path, ("experts: [{id: e6, name: Эксперт ДОУ № 6, email: expert6@example.org}]", "experts: []"))
    mailer.ok("load", str(amended), "--apply", "--reason", "эксперт в отпуске", "--now", "2021-12-02 11:00")
    mailer.ok("send", "--now", "2021-12-02 11:05")
    texts = changed(smtp_server, "expert6@example.org", "Вы больше не эксперт мониторинга")
    assert len(texts) == 1 and "больше не участвуете в мониторинге как эксперт" in texts[0]
    assert "Причина — эксперт в отпуске" in texts[0]
    assert not changed(smtp_server, "expert6@example.org", "Экспертиза не нужна")  # not told as if a ДОУ had left
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-12-02 12:00")
    assert not [m for m in smtp_server.messages if "expert6@example.org" in m.rcpt_tos]


def test_a_corrected_address_is_told_at_the_new_one(mailer, smtp_server, tmp_path):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    amended = edited(tmp_path, ("email: dou5@example.org", "email: head5@example.org"))
    mailer.ok("load", str(amended), "--apply", "--reason", "сменился ответственный", "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    texts = changed(smtp_server, "head5@example.org", "Адрес для писем мониторинга изменён")
    assert len(texts) == 1
    assert "теперь приходят на этот адрес: head5@example.org" in texts[0]
    assert "Прежний адрес dou5@example.org больше не используется" in texts[0] and "сменился ответственный" in texts[0]
    assert smtp_server.to("dou5@example.org") == []
    assert "адрес исправлен" in mailer.ok("history", "5")


def test_a_revoked_link_sends_the_new_one(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    out = mailer.ok("link", "revoke", "e15", "--now", "2021-11-24 11:00")
    new = out.strip().rsplit(" ", 1)[1]
    mailer.ok("send", "--now", "2021-11-24 11:05")
    texts = changed(smtp_server, "expert15@example.org", "Новая персональная ссылка")
    assert len(texts) == 1
    assert "Прежняя персональная ссылка на вашу страницу в мониторинге отозвана" in texts[0] and f"Новая ссылка: {new}" in texts[0]
    assert "Кому: эксперту\n\nПрежняя" in texts[0] and "Причина" not in texts[0]
    smtp_server.handler.messages.clear()
    mailer.ok("send", "--now", "2021-11-24 12:00")
    assert smtp_server.messages == []


def test_a_link_revoked_with_a_reason_says_why(mailer, smtp_server):  # noqa: F811
    drained(mailer, smtp_server, "2021-11-24 10:00")
    mailer.ok("link", "revoke", "4", "--reason", "ссылку переслали в общий чат", "--now", "2021-11-24 11:00")
    mailer.ok("send", "--now", "2021-11-24 11:05")
    texts = changed(smtp_server, "dou4@example.org", "Новая персональная ссылка")
    assert len(texts) == 1 and "отозвана и больше не действует.\nПричина — ссылку переслали в общий чат" in texts[0]
    assert any(e["action"] == "link-revoke" and "ссылку переслали в общий чат" in json.dumps(e, ensure_ascii=False)
               for e in mailer.json("history", "4"))


def test_the_coordinators_card_shows_the_amendment_with_its_dates_reason_and_author(tmp_path):
    from tests.test_web import Portal, sign_in

    dq = Cli(f"sqlite:///{tmp_path / 'card.db'}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    amended = edited(tmp_path, ("    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-29\n"))
    dq.ok("load", str(amended), "--apply", "--reason", "приказ № 123", "--now", "2021-11-24 11:00")
    portal = Portal(dq.db_url)
    try:
        sign_in(portal, dq)
        card = portal.client.get("/coordinator/dou/4")
    finally:
        portal.db.dispose()
    assert card.status_code == 200
    row = next(r for r in card.text.split("<tr>") if "сроки изменены приказом" in r)
    assert "срок 30.11.2021 23:59 → 29.11.2021 23:59" in row and "причина: приказ № 123" in row
    assert "координатор (командная строка)" in row


def test_the_plan_shown_before_an_amendment_lists_the_letters_it_will_send(mailer, tmp_path):
    amended = edited(tmp_path, ("email: dou5@example.org", "email: head5@example.org"))
    plan = json.loads(mailer.ok("load", str(amended), "--now", "2021-11-24 11:00", "--json"))
    assert [(n["recipient"], n["rule"], n["kind"]) for n in plan["planned"] if n["kind"] == "changed"] == [
        ("head5@example.org", "readdressed#1", "changed")]
    assert "readdressed#1: head5@example.org" in mailer.ok("load", str(amended), "--now", "2021-11-24 11:00")


def test_a_plan_shown_earlier_is_still_the_plan_applied_though_its_letters_go_later(mailer, tmp_path):
    amended = edited(tmp_path, ("    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-29\n"))
    plan = json.loads(mailer.ok("load", str(amended), "--now", "2021-11-24 11:00", "--json"))
    mailer.ok("load", str(amended), "--apply", "--reason", "приказ", "--plan", plan["digest"], "--now", "2021-11-24 11:05")
