"""Amending a running campaign: `dqflow load FILE` on a changed file shows the plan and writes nothing;
`--apply --reason` makes exactly that plan (issue 9, item 1)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import TOMSK, Cli, counting_statements, dump_tables, levels, query
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)

DOU = ["2", "4", "5", "6", "15", "35", "40", "62", "73", "86", "94"]


def edited(path: Path, old: str, new: str, count: int = 1) -> Path:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def outbox(url: str, where: str = "1=1") -> list[tuple]:
    return query(url, "SELECT recipient, institution_id, stage_id, rule, deadline, send_at, state, reason FROM outbox "
                      f"WHERE {where} ORDER BY recipient, stage_id, rule, send_at")


def same_moment(value, text: str) -> bool:
    """A stored UTC time (SQLite gives naive text, PostgreSQL an aware datetime) against 'YYYY-MM-DD HH:MM' in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) == datetime.fromisoformat(text)


@pytest.fixture
def running(dq: Cli, workflow_copy: Path, smtp_server):  # noqa: F811
    """Tomsk loaded on 10.11, the 'stage opened' notices of fill-form sent on 19.11."""
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    sender = Cli(dq.db_url, env=smtp_server.env())
    sender.ok("send", "--now", "2021-11-19 09:00")
    assert len(smtp_server.recipients()) >= 11
    return dq


def test_a_moved_deadline_moves_every_persons_reminders(running: Cli, workflow_copy: Path):
    url = running.db_url
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-29")
    sent_before = outbox(url, "state = 'sent'")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--json"))
    assert [m["stage"] for m in plan["stages_moved"]] == ["fill-form"]
    assert plan["stages_moved"][0]["due_at"] == ["2021-11-30T23:59:59+07:00", "2021-11-29T23:59:59+07:00"]
    assert not plan["rewrites"] and not plan["refused"]
    out = running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "приказ № 1200",
                     "--plan", plan["digest"])
    assert "перенесён" in out and "29.11.2021 23:59" in out

    assert outbox(url, "state = 'sent'") == sent_before  # the ledger keeps what went out
    fill = [r for r in outbox(url, "stage_id = 'fill-form'")]
    old_unsent = [r for r in fill if same_moment(r[4], "2021-11-30 16:59:59") and r[6] != "sent"]
    assert old_unsent and all(r[6] == "skipped" and r[7] == "deadline-moved" for r in old_unsent)
    new = [r for r in fill if same_moment(r[4], "2021-11-29 16:59:59") and r[6] == "pending"]
    for dou in DOU:  # before:2wd on 25.11, 'today is the deadline' on 29.11, the missed notice on 30.11, at 09:00 Tomsk
        mine = {(r[3], r[5] if isinstance(r[5], str) else r[5].replace(tzinfo=None).isoformat(sep=" ")) for r in new if r[1] == dou}
        times = {rule: moment for rule, moment in mine}
        assert same_moment(times["before:2wd"], "2021-11-25 02:00") and same_moment(times["due"], "2021-11-29 02:00")
        assert same_moment(times["missed"], "2021-11-30 02:00"), mine
    assert {r[1] for r in new} == set(DOU)

    view = running.json("status", "--institutions", "--now", "2021-11-24 10:00")
    fill_view = next(s for s in view["stages"] if s["id"] == "fill-form")
    assert fill_view["due_at"] == "2021-11-29T23:59:59+07:00" and fill_view["locks_at"] == "2021-11-29T23:59:59+07:00"
    assert "29.11.2021 23:59" in running.ok("status", "--now", "2021-11-24 10:00")
    trail = running.json("history", "4")
    assert any(e["action"] == "amend" and e["stage"] == "fill-form" for e in trail)
    assert json.loads(query(url, "SELECT detail FROM audit WHERE action = 'amend' AND institution_id IS NULL")[0][0])["reason"] == "приказ № 1200"
    assert "уже загружена из того же файла" in running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00")


def test_the_dry_plan_writes_nothing(running: Cli, workflow_copy: Path):
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-29")
    edited(workflow_copy, "email: dou4@example.org", "email: dou4-new@example.org")
    before = dump_tables(running.db_url)
    out = running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00")
    assert "Отменяются неотправленные напоминания" in out and "Планируются напоминания" in out
    assert "dou4@example.org → dou4-new@example.org" in out
    assert re.search(r"--apply --plan [0-9a-f]{16} --reason", out)
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--json")
    assert dump_tables(running.db_url) == before


def test_apply_needs_a_reason_and_the_plan_that_was_shown(running: Cli, workflow_copy: Path):
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-29")
    before = dump_tables(running.db_url)
    result = running("load", str(workflow_copy), "--apply", "--now", "2021-11-24 10:00")
    assert result.exit_code == 1 and "--reason" in result.stderr
    result = running("load", str(workflow_copy), "--apply", "--reason", "x", "--plan", "0123456789abcdef", "--now", "2021-11-24 10:00")
    assert result.exit_code == 1 and "а не 0123456789abcdef" in result.stderr and "Traceback" not in result.output
    assert dump_tables(running.db_url) == before


def test_adding_an_institution_after_list1_gives_it_two_experts_and_disturbs_nobody(running: Cli, workflow_copy: Path):
    running.ok("tick", "--now", "2021-11-26 10:00")
    before = running.json("experts", "show", "list1")
    edited(workflow_copy, "\nstages:", '\n  - {id: "99", name: МАДОУ № 99, email: dou99@example.org, '
                                       "experts: [{id: e99, name: Эксперт ДОУ № 99, email: expert99@example.org}]}\n\nstages:")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00", "--json"))
    assert plan["institutions_added"] == ["99"] and plan["experts_added"] == ["e99"]
    assert [(e["list"], e["institution"], len(e["added"])) for e in plan["lists"]] == [("list1", "99", 2)]
    running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00", "--apply", "--reason", "новый ДОУ")
    after = running.json("experts", "show", "list1")
    old = {a["institution"]: a["experts"] for a in before["assignments"]}
    new = {a["institution"]: a["experts"] for a in after["assignments"]}
    assert {k: v for k, v in new.items() if k != "99"} == old
    assert len(new["99"]) == 2 and "e99" not in new["99"]
    view = running.json("status", "--institutions", "--now", "2021-11-26 10:00")
    ninety_nine = next(i for i in view["institutions"] if i["id"] == "99")
    assert ninety_nine["stages"]["fill-form"] == "open"
    assert outbox(running.db_url, "recipient = 'dou99@example.org' AND state = 'pending' AND stage_id = 'fill-form'")
    running.ok("submit", "99", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-27 10:00")


def test_a_withdrawn_institution_keeps_its_history_and_is_reminded_no_more(running: Cli, workflow_copy: Path):
    url = running.db_url
    running.ok("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-22 10:00")
    edited(workflow_copy, '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, '
                          'email: expert5@example.org}]}\n', "")
    out = running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00")
    assert "ДОУ «МАДОУ № 5» выбывает" in out and "эксперт «Эксперт ДОУ № 5» выбывает" in out and "(томское время, UTC+7)" in out
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "ДОУ закрыт на ремонт")
    unsent = outbox(url, "(recipient IN ('dou5@example.org', 'expert5@example.org') OR institution_id = '5') "
                         "AND state IN ('pending', 'failed')")
    assert sorted(r[:4] for r in unsent) == [("dou5@example.org", "5", None, "withdrawn#1"),  # one letter each: that they leave
                                             ("expert5@example.org", None, None, "released#1")]
    assert {r[7] for r in outbox(url, "recipient = 'dou5@example.org' AND state = 'skipped'")} >= {"withdrawn"}
    running.ok("tick", "--now", "2021-12-20 10:00")  # the whole campaign later: nothing new for it
    assert outbox(url, "(recipient IN ('dou5@example.org', 'expert5@example.org') OR institution_id = '5') "
                       "AND state = 'pending'") == unsent
    assert not any("e5" in a["experts"] for a in running.json("experts", "show", "list2")["assignments"])
    view = running.json("status", "--institutions", "--now", "2021-11-24 10:00")
    five = next(i for i in view["institutions"] if i["id"] == "5")
    assert five["state"] == "withdrawn" and five["stages"]["fill-form"] == "done" and five["stages"]["refill"] == "excused"
    assert "выбыл" in running.ok("status", "--institutions", "--now", "2021-11-24 10:00")
    actions = [e["action"] for e in running.json("history", "5")]
    assert actions[:2] == ["open", "submit"] and "withdraw" in actions
    refused = running("submit", "5", "--stage", "refill", "--link", "https://example.org/materials", "--now", "2021-12-08 10:00")
    assert refused.exit_code == 1 and "ДОУ 5 выбыло из кампании" in refused.stderr


def test_a_corrected_address_readdresses_pending_reminders(running: Cli, workflow_copy: Path):
    url = running.db_url
    sent = outbox(url, "recipient = 'dou4@example.org' AND state = 'sent'")
    pending = outbox(url, "recipient = 'dou4@example.org' AND state = 'pending'")
    assert sent and pending
    edited(workflow_copy, "email: dou4@example.org", "email: dou4-new@example.org")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--json"))
    assert plan["institutions_changed"] == [{"id": "4", "email": ["dou4@example.org", "dou4-new@example.org"]}]
    assert plan["readdressed"] == [{"from": "dou4@example.org", "to": "dou4-new@example.org", "messages": len(pending)}]
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "опечатка в адресе")
    assert outbox(url, "recipient = 'dou4@example.org' AND state = 'sent'") == sent
    assert not outbox(url, "recipient = 'dou4@example.org' AND state = 'pending'")
    moved = outbox(url, "recipient = 'dou4-new@example.org' AND state = 'pending' AND kind <> 'changed'")
    assert [r[1:] for r in moved] == [r[1:] for r in pending]
    told = outbox(url, "recipient = 'dou4-new@example.org' AND kind = 'changed'")  # and the new address is told why
    assert [r[3] for r in told] == ["readdressed#1"]
    keys = [k for (k,) in query(url, "SELECT key FROM outbox WHERE recipient = 'dou4-new@example.org'")]
    assert all("|dou4-new@example.org|" in k for k in keys)
    running.ok("tick", "--now", "2021-12-07 10:00")  # refill: planned for the new address
    assert outbox(url, "recipient = 'dou4-new@example.org' AND stage_id = 'refill'")
    assert not outbox(url, "recipient = 'dou4@example.org' AND stage_id = 'refill'")


def test_rewriting_a_locked_stages_outcome_needs_force(running: Cli, workflow_copy: Path):
    running.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-29 12:00")
    running.ok("tick", "--now", "2021-12-02 10:00")
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-28")  # ДОУ 2 submitted on time, now it would be late
    out = running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:00")
    assert "нужен --force" in out and "этап «Первичное заполнение формы», ДОУ «МАДОУ № 2»: выполнено → с опозданием" in out
    before = dump_tables(running.db_url)
    refused = running("load", str(workflow_copy), "--now", "2021-12-02 10:00", "--apply", "--reason", "приказ")
    assert refused.exit_code == 1 and "--force" in refused.stderr and "переписывает записанные итоги (1)" in refused.stderr
    assert dump_tables(running.db_url) == before
    running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:00", "--apply", "--reason", "приказ", "--force")
    two = next(i for i in running.json("status", "--institutions", "--now", "2021-12-02 10:00")["institutions"] if i["id"] == "2")
    assert two["stages"]["fill-form"] == "late"


def test_a_late_hand_in_is_judged_again_when_the_deadline_moves_past_it(dq: Cli, workflow_copy: Path):
    """The machine's `submit`, asked again at the moment of the hand-in under the new deadline: late becomes done; one
    handed in on time stays done, and a ДОУ that has not handed in stays open."""
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-29\n    grace: 3d")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    dq.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30 10:00")
    dq.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-25 10:00")
    edited(workflow_copy, "due: 2021-11-29\n", "due: 2021-11-30\n")
    plan = json.loads(dq.ok("load", str(workflow_copy), "--now", "2021-12-01 10:00", "--json"))
    assert plan["rewrites"] == [{"stage": "fill-form", "institution": "2", "from": "late", "to": "done"}]
    dq.ok("load", str(workflow_copy), "--now", "2021-12-01 10:00", "--apply", "--reason", "приказ", "--force", "--plan", plan["digest"])
    view = dq.json("status", "--institutions", "--now", "2021-12-01 10:00")
    assert {i["id"]: i["stages"]["fill-form"] for i in view["institutions"] if i["id"] in ("2", "4", "5")} == {
        "2": "done", "4": "done", "5": "open"}


def test_a_withdrawn_institution_keeps_the_stages_it_missed(running: Cli, workflow_copy: Path):
    """Withdrawal excuses what is still to come; a stage the ДОУ already missed is its history and stays missed."""
    running.ok("tick", "--now", "2021-12-02 10:00")  # fill-form locked on 30.11: every silent ДОУ missed it
    edited(workflow_copy, '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, '
                          'email: expert5@example.org}]}\n', "")
    running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:00", "--apply", "--reason", "ДОУ закрыт")
    five = next(i for i in running.json("status", "--institutions", "--now", "2021-12-02 10:00")["institutions"] if i["id"] == "5")
    assert five["state"] == "withdrawn" and five["stages"]["fill-form"] == "missed" and five["stages"]["refill"] == "excused"


def test_moving_a_locked_deadline_later_reopens_missed_only_with_force(running: Cli, workflow_copy: Path):
    running.ok("tick", "--now", "2021-12-11 10:00")  # refill (due 12.12) open, fill-form locked, all missed
    edited(workflow_copy, "due: 2021-12-05", "due: 2021-12-05\n    grace: 8d")  # review1 locks 13.12 instead of 05.12
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-12-11 10:00", "--json"))
    assert {"stage": "review1", "institution": None, "from": "locked", "to": "open"} in plan["rewrites"]
    assert running("load", str(workflow_copy), "--now", "2021-12-11 10:00", "--apply", "--reason", "r").exit_code == 1
    running.ok("load", str(workflow_copy), "--now", "2021-12-11 10:00", "--apply", "--reason", "r", "--force")
    view = running.json("status", "--institutions", "--now", "2021-12-11 10:00")
    review1 = next(s for s in view["stages"] if s["id"] == "review1")
    # reopened, not missed: each review is open again, or, where the ДОУ handed in nothing, a review of nothing
    assert review1["state"] == "open" and review1["counts"]["missed"] == 0
    assert review1["counts"]["open"] + review1["counts"]["no-materials"] == 11


def test_an_extension_longer_than_the_new_deadline_stays_a_shorter_one_gives_way(running: Cli, workflow_copy: Path):
    running.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "болезнь", "--now", "2021-11-24 10:00")
    running.ok("extend", "6", "--stage", "fill-form", "--until", "2021-11-29 10:00", "--reason", "болезнь", "--now", "2021-11-24 10:00")
    edited(workflow_copy, "due: 2021-11-30", "due: 2021-11-29 12:00\n    grace: 1d")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-11-24 11:00", "--json"))
    assert {(e["institution"], e["kept"]) for e in plan["extensions"]} == {("4", True), ("6", False)}
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 11:00", "--apply", "--reason", "r")
    four = running.json("status", "--institution", "4", "--now", "2021-11-24 11:00")["stages"][0]
    six = running.json("status", "--institution", "6", "--now", "2021-11-24 11:00")["stages"][0]
    assert four["due_at"] == "2021-12-03T23:59:59+07:00" and four["extended"]
    assert six["due_at"] == "2021-11-29T12:00:00+07:00" and six["locks_at"] == "2021-11-30T12:00:00+07:00"


def test_a_stage_that_opened_cannot_open_later(running: Cli, workflow_copy: Path):
    edited(workflow_copy, "opens: 2021-11-19", "opens: 2021-11-26")
    result = running("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "r", "--force")
    assert result.exit_code == 1 and "уже начался: его открытие нельзя перенести" in result.stderr
    assert "Нельзя применить" in running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00")


# -- the property: an amendment ends where a fresh load of the new file would be ----------------------

DATE = re.compile(r"^(    (?:opens|due|at): )(\d{4}-\d{2}-\d{2})", re.M)
STAGE_COUNT = 14


def shifted(text: str, prefix: int, earlier: int, suffix: int, later: int) -> str:
    """Stages before `prefix` move `earlier` days back, stages from `suffix` on move `later` days on: an order that
    keeps every `after` true."""
    head, _, body = text.partition("\nstages:\n")
    blocks = re.split(r"(?m)^(?=  - id: )", body)
    out = []
    n = -1
    for block in blocks:
        if block.startswith("  - id: "):
            n += 1
            days = -earlier if n < prefix else later if n >= suffix else 0
            block = DATE.sub(lambda m: m[1] + (date.fromisoformat(m[2]) + timedelta(days=days)).isoformat(), block)
        out.append(block)
    return head + "\nstages:\n" + "".join(out)


def state_of(url: str, now_iso: str) -> tuple:
    stages = query(url, "SELECT id, state, opens_at, due_at, locks_at FROM stage ORDER BY id")
    progress = query(url, "SELECT institution_id, stage_id, status, due_at, locks_at FROM progress ORDER BY institution_id, stage_id")
    pending = query(url, "SELECT recipient, institution_id, stage_id, rule, kind, deadline, send_at FROM outbox "
                         f"WHERE state = 'pending' AND kind NOT IN ('digest', 'recommendations', 'changed') ORDER BY 1, 2, 3, 4, 6, 7")
    cutoff = datetime.fromisoformat(now_iso)
    future = [r for r in pending if _naive(r[6]) >= cutoff]
    return stages, progress, future


def _naive(value) -> datetime:
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(tz=None).replace(tzinfo=None)


MOMENTS = ["2021-11-12 10:00", "2021-11-22 10:00", "2021-11-26 10:00", "2021-12-02 10:00", "2021-12-09 10:00", "2021-12-16 10:00"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(0, 3), second=st.integers(0, 2), prefix=st.integers(0, STAGE_COUNT), earlier=st.integers(0, 4),
       suffix=st.integers(0, STAGE_COUNT), later=st.integers(0, 6))
def test_an_amendment_ends_where_a_fresh_load_of_the_new_file_would(tmp_path_factory, first, second, prefix, earlier, suffix,
                                                                     later):
    """Invariant: with --force and no submissions, after `load --apply` the stage states, every ДОУ's statuses and times, and
    the pending reminders still to come (send time from the amendment on; digests and recommendations aside, their send
    time is the moment they were planned) equal those of the new file loaded fresh at the same moment. Only mail sent or
    planned before keeps its own rows in the amended ledger."""
    assume(earlier or later)
    folder = tmp_path_factory.mktemp("amend")
    original = TOMSK.read_text(encoding="utf-8")
    new_text = shifted(original, prefix, earlier, suffix, later)
    assume(new_text != original)
    start, moment = MOMENTS[first], MOMENTS[min(first + 1 + second, len(MOMENTS) - 1)]
    (folder / "new.yaml").write_text(new_text, encoding="utf-8")
    amended, fresh = Cli(f"sqlite:///{folder / 'amended.db'}"), Cli(f"sqlite:///{folder / 'fresh.db'}")
    amended.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    amended.ok("tick", "--now", start)
    result = amended("load", str(folder / "new.yaml"), "--now", moment, "--apply", "--reason", "r", "--force")
    if result.exit_code == 1 and ("уже начался" in result.stderr or "ошибка:" in result.stderr and ".yaml:" in result.stderr):
        assume(False)  # a schedule that cannot be made true, or a file that does not validate
    assert result.exit_code == 0, result.output
    fresh.ok("load", str(folder / "new.yaml"), "--now", "2021-11-10 09:00")
    amended.ok("tick", "--now", moment)
    fresh.ok("tick", "--now", moment)
    utc = (datetime.fromisoformat(moment) - timedelta(hours=7)).isoformat(sep=" ")
    a, f = state_of(amended.db_url, utc), state_of(fresh.db_url, utc)
    assert a[0] == f[0]
    assert a[1] == f[1]
    assert a[2] == f[2]


def test_a_withdrawn_id_is_not_reused(running: Cli, workflow_copy: Path):
    line = '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, email: expert5@example.org}]}\n'
    edited(workflow_copy, line, "")
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "закрыт")
    edited(workflow_copy, "\nstages:", "\n" + line + "\nstages:")
    out = running.ok("load", str(workflow_copy), "--now", "2021-11-25 10:00")
    assert "Нельзя применить" in out and "ДОУ с id «5» уже выбыл" in out and "эксперт с id «e5» уже выбыл" in out
    result = running("load", str(workflow_copy), "--now", "2021-11-25 10:00", "--apply", "--reason", "снова открыт")
    assert result.exit_code == 1 and "дайте в файле другой id" in result.stderr and "Traceback" not in result.output


def test_an_amendment_issues_the_same_statements_at_any_roster_size(tmp_path):
    """A deadline moved, one ДОУ withdrawn, one added, one address corrected: as many statements for 15 ДОУ as for 150."""
    import yaml

    from dqflow import store
    from dqflow.engine import amend
    from dqflow.campaign import spec
    from dqflow.calendar import parse_local
    from tests.test_delivery import big_campaign

    counts = []
    for n in (15, 150):
        folder = tmp_path / str(n)
        folder.mkdir()
        Cli(f"sqlite:///{folder / 'c.db'}").ok("load", str(big_campaign(folder, n)), "--now", "2021-11-10 09:00")
        Cli(f"sqlite:///{folder / 'c.db'}").ok("tick", "--now", "2021-11-26 10:00")
        roster = (folder / "roster.csv").read_text(encoding="utf-8").splitlines()
        roster = [line for line in roster if not line.startswith("2,")] + [f"{n + 1},ДОУ № {n + 1},dou{n + 1}@example.org,,e{n + 1},Э,x{n + 1}@example.org"]
        roster = [line.replace("dou3@example.org", "dou3-new@example.org") for line in roster]
        (folder / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
        data = yaml.safe_load((folder / "big.yaml").read_text(encoding="utf-8"))
        next(s for s in data["stages"] if s["id"] == "fill-form")["due"] = "2021-11-29"
        (folder / "big.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        campaign = spec.load(folder / "big.yaml")
        db = store.connect(str(folder / "c.db"))
        try:
            with counting_statements(db) as seen, store.transaction(db) as session:
                done = amend.apply(session, campaign, parse_local("2021-11-26 10:00", campaign.tz), "r")
        finally:
            db.dispose()
        assert done.institutions_withdrawn == ["2"] and done.institutions_added == [str(n + 1)] and done.readdressed
        assert len({c.institution for c in done.cancelled if c.stage == "fill-form"}) == n  # ДОУ 2: withdrawn
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_a_withdrawn_experts_reviews_go_to_a_replacement_who_is_reminded(running: Cli, workflow_copy: Path):
    running.ok("tick", "--now", "2021-12-02 10:00")  # review1 open, list1 drawn
    before = {a["institution"]: a["experts"] for a in running.json("experts", "show", "list1")["assignments"]}
    reviewed_by_e5 = sorted(i for i, es in before.items() if "e5" in es and i != "5")
    assert reviewed_by_e5
    edited(workflow_copy, '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, '
                          'email: expert5@example.org}]}\n', "")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:00", "--json"))
    changes = {e["institution"]: e for e in plan["lists"] if e["list"] == "list1"}
    assert sorted(changes) == reviewed_by_e5 and all(c["removed"] == ["e5"] and len(c["added"]) == 1 for c in changes.values())
    for inst, change in changes.items():
        new_expert = change["added"][0]
        assert any(p["stage"] == "review1" and p["institution"] == inst and p["recipient"] == f"expert{new_expert[1:]}@example.org"
                   for p in plan["planned"]), (inst, new_expert)
    running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:00", "--apply", "--reason", "закрыт")
    after = {a["institution"]: a["experts"] for a in running.json("experts", "show", "list1")["assignments"]}
    assert {i: es for i, es in after.items() if i not in changes} == {i: es for i, es in before.items() if i not in changes and i != "5"}
    for inst in changes:
        assert "e5" not in after[inst] and len(after[inst]) == 2


FIRST = re.compile(r"ебинар по итогам первичной (внутренней )?экспертизы")  # the short title in a digest, else the full
SECOND = re.compile(r"ебинар по итогам вторичной (внутренней )?экспертизы")


def plain(message) -> str:
    return message.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_newcomers_are_invited_to_the_webinars_still_to_come(running: Cli, workflow_copy: Path, smtp_server):  # noqa: F811
    """An event is announced once; a ДОУ and an expert added after that still hear of it (and a ДОУ withdrawn
    by an earlier amendment does not, though the events are planned again)."""
    url = running.db_url
    sender = Cli(url, env=smtp_server.env())
    edited(workflow_copy, '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, '
                          'email: expert5@example.org}]}\n', "")
    running.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "ДОУ закрыт")
    sender.ok("send", "--now", "2021-12-03 10:00")  # everyone's invitation to the webinar of 06.12
    invited = {m.to for m in smtp_server.messages if FIRST.search(plain(m))}
    assert {"dou4@example.org", "expert4@example.org"} <= invited and "dou5@example.org" not in invited
    count = len(smtp_server.messages)

    edited(workflow_copy, "\nstages:", '\n  - {id: "99", name: МАДОУ № 99, email: dou99@example.org, '
                                       "experts: [{id: e99, name: Эксперт ДОУ № 99, email: expert99@example.org}]}\n\nstages:")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-12-03 12:00", "--json"))
    webinars = {(p["recipient"], p["stage"]) for p in plan["planned"] if p["kind"] == "event"}
    assert webinars == {(who, stage) for who in ("dou99@example.org", "expert99@example.org")
                        for stage in ("review1-webinar", "review2-webinar")}
    assert "«Вебинар по итогам первичной экспертизы» · before:1d: dou99@example.org" in running.ok("load", str(workflow_copy), "--now", "2021-12-03 12:00")
    running.ok("load", str(workflow_copy), "--now", "2021-12-03 12:00", "--apply", "--reason", "новый ДОУ", "--plan", plan["digest"])
    assert not outbox(url, "(recipient IN ('dou5@example.org', 'expert5@example.org') OR institution_id = '5') "
                           "AND state = 'pending'")

    sender.ok("send", "--now", "2021-12-03 12:30")  # the invitation's moment (09:00) has passed: still true, still said
    late = smtp_server.messages[count:]
    told = {m.to for m in late if FIRST.search(plain(m))}
    assert told == {"dou99@example.org", "expert99@example.org"}, [m.to for m in late]
    sender.ok("send", "--now", "2021-12-14 10:00")  # the second webinar's invitation, on time, once each
    second = [m.to for m in smtp_server.messages if SECOND.search(plain(m))]
    assert second.count("dou99@example.org") == 1 and second.count("expert99@example.org") == 1
    assert second.count("dou4@example.org") == 1 and "dou5@example.org" not in second


def an_expert_of_two(running: Cli) -> tuple[dict[str, list[str]], str, list[str]]:
    """List 1 as drawn (ДОУ → experts), and the first expert reviewing two ДОУ, with those two."""
    drawn = {a["institution"]: a["experts"] for a in running.json("experts", "show", "list1")["assignments"]}
    theirs: dict[str, list[str]] = {}
    for inst, es in drawn.items():
        for e in es:
            theirs.setdefault(e, []).append(inst)
    idle, gone = next((e, sorted(insts)) for e, insts in sorted(theirs.items()) if len(insts) == 2)
    return drawn, idle, gone


def withdrawn_keeping_their_experts(workflow_copy: Path, gone: list[str]) -> None:
    """The ДОУ leave the file; their experts stay on as experts of no ДОУ, so nobody's list is redrawn."""
    for inst in gone:
        line = next(ln for ln in workflow_copy.read_text(encoding="utf-8").splitlines(keepends=True) if f'{{id: "{inst}", name:' in ln)
        edited(workflow_copy, line, "")
    edited(workflow_copy, "\nstages:", "\nexperts:\n" + "".join(
        f"  - {{id: e{i}, name: Эксперт ДОУ № {i}, email: expert{i}@example.org}}\n" for i in gone) + "\nstages:")


def test_a_withdrawn_institution_is_not_handed_out_nor_reviewed(running: Cli, workflow_copy: Path, smtp_server):  # noqa: F811
    """Withdrawn after list 1 was drawn and before its handout: no expert's handout and not the coordinator's copy
    names it, an expert left with no ДОУ gets no handout, and a review of it is refused, saying why."""
    url = running.db_url
    running.ok("tick", "--now", "2021-11-26 10:00")  # list1 drawn on 25.11
    drawn, idle, gone = an_expert_of_two(running)  # both its ДОУ leave
    others = sorted({e for inst in gone for e in drawn[inst]} - {idle})
    withdrawn_keeping_their_experts(workflow_copy, gone)
    running.ok("load", str(workflow_copy), "--now", "2021-11-27 10:00", "--apply", "--reason", "ДОУ закрыты")
    count = len(smtp_server.messages)
    Cli(url, env=smtp_server.env()).ok("send", "--now", "2021-11-30 10:00")  # handout1
    handouts = {m.to: plain(m) for m in smtp_server.messages[count:]}
    named = re.compile("|".join(rf"М[АБ]ДОУ № {inst}\b" for inst in gone))  # the ДОУ, not "Эксперт ДОУ № 5"
    for expert in others:
        text = handouts[f"expert{expert[1:]}@example.org"]
        assert "ДОУ №" in text and not named.search(text), text
    copy = handouts["kdo@imc.example.org"]
    assert "МАДОУ № 2" in copy or "МАДОУ № 6" in copy
    assert not named.search(copy), copy
    assert f"expert{idle[1:]}@example.org" not in handouts, handouts.get(f"expert{idle[1:]}@example.org")  # nothing to hand out
    assert not outbox(url, f"recipient = 'expert{idle[1:]}@example.org' AND stage_id = 'handout1' AND state = 'pending'")
    refused = running("review", gone[0], "--stage", "review1", "--expert", idle, *levels("conditions=2"),
                      "--recommendations", "-", "--now", "2021-12-02 10:00", input="Текст.")
    assert refused.exit_code == 1 and "выбыло из кампании" in refused.stderr and "Traceback" not in refused.output


def test_raising_experts_per_institution_tops_up_a_drawn_list_and_lowering_it_is_refused(running: Cli, workflow_copy: Path):
    url = running.db_url
    running.ok("tick", "--now", "2021-11-26 10:00")  # list1 drawn on 25.11 with two experts per ДОУ
    before = {a["institution"]: a["experts"] for a in running.json("experts", "show", "list1")["assignments"]}
    assert all(len(es) == 2 for es in before.values())

    edited(workflow_copy, "experts_per_institution: 2", "experts_per_institution: 1")
    unchanged = dump_tables(url)
    out = running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00")
    assert "Нельзя применить" in out and "список «Список экспертов 1» составлен по 2 эксперта на ДОУ" in out and "оставьте 2" in out
    refused = running("load", str(workflow_copy), "--now", "2021-11-26 10:00", "--apply", "--reason", "меньше экспертов")
    assert refused.exit_code == 1 and "оставьте 2" in refused.stderr and "Traceback" not in refused.output
    assert dump_tables(url) == unchanged

    edited(workflow_copy, "experts_per_institution: 1", "experts_per_institution: 3")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00", "--json"))
    assert not plan["refused"] and {e["list"] for e in plan["lists"]} == {"list1"}
    assert {e["institution"]: len(e["added"]) for e in plan["lists"]} == {i: 1 for i in DOU}
    assert "список «Список экспертов 1», ДОУ «МБДОУ № 4 «Монтессори»»: добавлены эксперты" in running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00")
    running.ok("load", str(workflow_copy), "--now", "2021-11-26 10:00", "--apply", "--reason", "третий эксперт",
               "--plan", plan["digest"])
    shown = running.json("experts", "show", "list1")
    after = {a["institution"]: a["experts"] for a in shown["assignments"]}
    homes = {f"e{i}": i for i in DOU}
    for inst, es in after.items():
        assert set(before[inst]) < set(es) and len(set(es)) == 3  # the two it had, and one more
        assert all(homes[e] != inst for e in es)  # nobody reviews their own ДОУ
    load = Counter(e for es in after.values() for e in es)
    assert max(load.values()) - min(load.values()) <= 1, load  # the least loaded took the new places
    running.ok("tick", "--now", "2021-12-02 10:00")  # review1 open: the third experts are reminded of their ДОУ
    for inst, es in after.items():
        third = next(e for e in es if e not in before[inst])
        assert outbox(url, f"recipient = 'expert{third[1:]}@example.org' AND stage_id = 'review1' AND institution_id = '{inst}'")


def test_a_withdrawn_institution_reviewed_before_it_left_takes_no_more_reviews(running: Cli, workflow_copy: Path):
    """Its review stage was done before it left (so not excused): a new version of a review is refused all the same."""
    running.ok("submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/form", "--now", "2021-11-29 10:00")
    running.ok("tick", "--now", "2021-12-02 10:00")
    mine = next(a["experts"] for a in running.json("experts", "show", "list1")["assignments"] if a["institution"] == "5")
    for expert in mine:
        running.ok("review", "5", "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--recommendations", "-",
                   "--now", "2021-12-02 11:00", input="Текст.")
    view = running.json("status", "--institution", "5", "--now", "2021-12-02 11:00")
    assert next(s["status"] for s in view["stages"] if s["id"] == "review1") == "done"
    edited(workflow_copy, '  - {id: "5", name: МАДОУ № 5, email: dou5@example.org, experts: [{id: e5, name: Эксперт ДОУ № 5, '
                          'email: expert5@example.org}]}\n', "")
    running.ok("load", str(workflow_copy), "--now", "2021-12-03 10:00", "--apply", "--reason", "закрыт")
    before = dump_tables(running.db_url)
    again = running("review", "5", "--stage", "review1", "--expert", mine[0], *levels("conditions=3"), "--recommendations", "-",
                    "--now", "2021-12-03 11:00", input="Другой текст.")
    assert again.exit_code == 1 and "выбыло из кампании: записи можно читать, но не менять" in again.stderr
    assert dump_tables(running.db_url) == before


# -- handouts for experts assigned late -------------------------------------------------------------------------------


def handed_out_then_quiet(running: Cli, smtp_server) -> Cli:  # noqa: F811
    """ДОУ 2 hands in its form, the handout of list 1 goes out on 30.11, and everything due on 02.12 10:00 is sent: what
    goes out after that is what a later change caused."""
    running.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-29 12:00")
    sender = Cli(running.db_url, env=smtp_server.env())
    sender.ok("send", "--now", "2021-11-30 10:00")
    assert any("материалы которых вы оцениваете" in plain(m) for m in smtp_server.messages)
    sender.ok("send", "--now", "2021-12-02 10:00")
    return sender


def test_an_institution_added_after_the_handout_is_handed_out_to_its_new_experts_alone(running: Cli, workflow_copy: Path,
                                                                                        smtp_server):  # noqa: F811
    url = running.db_url
    sender = handed_out_then_quiet(running, smtp_server)
    edited(workflow_copy, "\nstages:", '\n  - {id: "99", name: МАДОУ № 99, email: dou99@example.org, '
                                       "experts: [{id: e99, name: Эксперт ДОУ № 99, email: expert99@example.org}]}\n"
                                       "\nexperts:\n  - {id: e100, name: Эксперт без ДОУ, email: expert100@example.org}\n\nstages:")
    plan = json.loads(running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:05", "--json"))
    chosen = next(e["added"] for e in plan["lists"] if e["list"] == "list1" and e["institution"] == "99")
    assert "e100" in chosen and len(chosen) == 2  # the least loaded: nobody's expert until now
    newcomers = {f"expert{e[1:]}@example.org" for e in chosen}
    first_time = "expert100@example.org"
    assert {(p["recipient"], p["institution"]) for p in plan["planned"] if p["rule"] == "handout-added"} == {
        (a, "99") for a in newcomers}
    running.ok("load", str(workflow_copy), "--now", "2021-12-02 10:05", "--apply", "--reason", "новый ДОУ", "--plan", plan["digest"])
    count = len(smtp_server.messages)
    sender.ok("send", "--now", "2021-12-02 10:30")
    late = {m.to: plain(m) for m in smtp_server.messages[count:]}
    assert set(late) == newcomers | {"kdo@imc.example.org"}, sorted(late)  # the other experts' lists did not change
    subjects = {m.to: m.message["Subject"] for m in smtp_server.messages[count:]}
    assert all("дополнение к вашему списку" in subjects[a] for a in newcomers - {first_time}), subjects
    assert "дополнение" not in subjects[first_time] and "Вы назначены экспертом этапа" in late[first_time]  # their first
    for address in newcomers:
        text = late[address]
        assert ("Дополнение к вашему списку" in text) == (address != first_time), text
        assert "МАДОУ № 99" in text and "Материалы пока не поступили" in text, text
        assert "05.12.2021 23:59 по местному времени (UTC+7)" in text and "МАДОУ № 2\n" not in text, text
        assert text.count("МАДОУ № 99") == 1, text  # review1's own "opened" notice about it is not repeated beside it
    copy = late["kdo@imc.example.org"]
    assert "дополнения к спискам выданы экспертам" in subjects["kdo@imc.example.org"]
    assert "изменился после выдачи материалов" in copy and "МАДОУ № 99: " in copy and "(добавлены: " in copy, copy
    assert "МАДОУ № 4:" not in copy  # only the ДОУ whose experts changed
    count = len(smtp_server.messages)
    sender.ok("send", "--now", "2021-12-03 12:00")
    assert not [m for m in smtp_server.messages[count:] if "Дополнение к вашему списку" in plain(m)]  # once
    assert not outbox(url, "rule = 'handout-added' AND state != 'sent'")


def test_experts_set_after_the_handout_hands_the_institution_to_the_expert_set(dq: Cli, workflow_copy: Path,
                                                                              smtp_server):  # noqa: F811
    """A list kept open past its handout (grace up to the review's deadline): the coordinator's edit reaches the expert set."""
    block = workflow_copy.read_text(encoding="utf-8").partition("  - id: list1\n")[2].partition("  - id: ")[0]
    edited(workflow_copy, block, block.replace("    due: 2021-11-25\n", "    due: 2021-11-25\n    grace: 9d\n"))
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    running = dq
    sender = handed_out_then_quiet(running, smtp_server)
    before = {a["institution"]: a["experts"] for a in running.json("experts", "show", "list1")["assignments"]}
    kept, dropped = before["2"]
    newcomer = next(e for e in (f"e{i}" for i in DOU) if e not in before["2"] and e != "e2")
    running.ok("experts", "set", "list1", "2", kept, newcomer, "--now", "2021-12-02 10:05")
    count = len(smtp_server.messages)
    sender.ok("send", "--now", "2021-12-02 10:30")
    late = {m.to: plain(m) for m in smtp_server.messages[count:]}
    assert set(late) == {f"expert{newcomer[1:]}@example.org", "kdo@imc.example.org"}, sorted(late)
    text = late[f"expert{newcomer[1:]}@example.org"]
    assert "Дополнение к вашему списку" in text and "МАДОУ № 2" in text and "https://dou2.example.org/form" in text, text
    assert "(добавлен: " in late["kdo@imc.example.org"]

    # changed again before it went: an addition whose ДОУ is no longer the expert's is skipped, saying why
    other = next(e for e in (f"e{i}" for i in DOU) if e not in (kept, dropped, newcomer, "e2"))
    running.ok("experts", "set", "list1", "2", kept, other, "--now", "2021-12-03 07:00")
    running.ok("tick", "--now", "2021-12-03 07:05")  # the addition for `other` planned for 09:00
    running.ok("experts", "set", "list1", "2", kept, newcomer, "--now", "2021-12-03 07:10")
    count = len(smtp_server.messages)
    sender.ok("send", "--now", "2021-12-03 09:00")
    theirs = [plain(m) for m in smtp_server.messages[count:] if m.to == f"expert{other[1:]}@example.org"]
    assert not [t for t in theirs if "Дополнение к вашему списку" in t or "МАДОУ № 2\n" in t], theirs  # (the webinar's invitation goes)
    assert [r[6:] for r in outbox(running.db_url, f"recipient = 'expert{other[1:]}@example.org' AND rule = 'handout-added'")] == [
        ("skipped", "not-assigned:2")]
    assert "эксперт больше не назначен на ДОУ 2" in running.ok("why", f"expert{other[1:]}@example.org")
    stale = outbox(running.db_url, f"recipient = 'expert{other[1:]}@example.org' AND stage_id = 'review1' "
                                   "AND institution_id = '2' AND send_at <= '2021-12-03 02:00:00'")
    assert ("skipped", "not-assigned:2") in {r[6:] for r in stale} and "sent" not in {r[6] for r in stale}, stale  # nor reminded


def test_a_newcomer_whose_first_list_came_as_an_addition_gets_later_ones_as_additions(dq: Cli, workflow_copy: Path,
                                                                                      smtp_server):  # noqa: F811
    """An expert of no ДОУ joins by an amendment (their whole list is their first handout), then the coordinator
    gives them one more ДОУ: that letter is an addition naming the new ДОУ alone, not the whole list again."""
    block = workflow_copy.read_text(encoding="utf-8").partition("  - id: list1\n")[2].partition("  - id: ")[0]
    edited(workflow_copy, block, block.replace("    due: 2021-11-25\n", "    due: 2021-11-25\n    grace: 9d\n"))
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    sender = handed_out_then_quiet(dq, smtp_server)
    edited(workflow_copy, "\nstages:", '\n  - {id: "99", name: МАДОУ № 99, email: dou99@example.org, '
                                       "experts: [{id: e99, name: Эксперт ДОУ № 99, email: expert99@example.org}]}\n"
                                       "\nexperts:\n  - {id: e100, name: Эксперт без ДОУ, email: expert100@example.org}\n\nstages:")
    plan = json.loads(dq.ok("load", str(workflow_copy), "--now", "2021-12-02 10:05", "--json"))
    dq.ok("load", str(workflow_copy), "--now", "2021-12-02 10:05", "--apply", "--reason", "новый ДОУ", "--plan", plan["digest"])
    sender.ok("send", "--now", "2021-12-02 10:30")
    lists = {a["institution"]: a["experts"] for a in dq.json("experts", "show", "list1")["assignments"]}
    assert "e100" in lists["99"]
    other = next(i for i, chosen in lists.items() if i != "99" and "e100" not in chosen)
    dq.ok("experts", "set", "list1", other, lists[other][0], "e100", "--now", "2021-12-03 07:00")
    count = len(smtp_server.messages)
    sender.ok("send", "--now", "2021-12-03 12:00")
    mine = [m for m in smtp_server.messages[count:] if m.to == "expert100@example.org"]
    assert len(mine) == 1, [m.message["Subject"] for m in mine]
    text = plain(mine[0])
    assert "дополнение к вашему списку" in mine[0].message["Subject"] and "Дополнение к вашему списку" in text, text
    assert "дополнение к вашему списку — ДОУ: 1," in text and "Вы назначены экспертом этапа" not in text, text


def test_a_handout_left_with_no_institution_is_skipped_when_it_would_go(running: Cli, workflow_copy: Path,
                                                                        smtp_server):  # noqa: F811
    """Planned at the handout's opening; both ДОУ of one expert withdrawn before it goes: it is skipped, saying why."""
    url = running.db_url
    running.ok("tick", "--now", "2021-11-30 08:00")  # handout1 planned for 09:00
    _, idle, gone = an_expert_of_two(running)
    address = f"expert{idle[1:]}@example.org"
    assert outbox(url, f"recipient = '{address}' AND stage_id = 'handout1' AND state = 'pending'")
    withdrawn_keeping_their_experts(workflow_copy, gone)
    running.ok("load", str(workflow_copy), "--now", "2021-11-30 08:30", "--apply", "--reason", "ДОУ закрыты")
    count = len(smtp_server.messages)
    Cli(url, env=smtp_server.env()).ok("send", "--now", "2021-11-30 09:00")
    assert address not in {m.to for m in smtp_server.messages[count:]}
    assert [r[6:] for r in outbox(url, f"recipient = '{address}' AND stage_id = 'handout1'")] == [
        ("skipped", "nothing-to-hand-out:list1")]
    shown = running.ok("outbox", "--state", "skipped")
    assert f"в списке list1 у эксперта не осталось ДОУ" in shown, shown
    assert "в списке list1 у эксперта не осталось ДОУ: они выбыли или эксперт снят с них" in running.ok("why", address)
