"""Done means done (issue 19, points 1 and 2): nothing empty counts, and nobody is chased for what cannot be done.

Through the real CLI, the real portal (Starlette's TestClient) and the real SMTP server on loopback: an empty
hand-in and an incomplete review are refused with nothing recorded; an expert whose ДОУ handed in nothing by its
lock gets no reminder and no «не поступила» about it, is not counted late, and the coordinator sees that ДОУ apart;
a review before the handout, or of materials still awaited, is refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import LINK, Cli, dump_tables, form_levels, levels
from test_experts import EXPERT_EMAIL, LIST1_OPEN, NAMES, REVIEW1_INSIDE, Inbox, body, fails, inbox, lists, mailing  # noqa: F401
from test_web import Portal, portal, said, signed_post  # noqa: F401

from dqflow import store
from dqflow.calendar import parse_local, zone
from dqflow.engine import late
from dqflow.engine.definitions import definition

TZ = zone("Asia/Tomsk")
HANDED_IN = ["2", "4", "5"]  # the ДОУ that hand in fill-form in these tests; the others hand in nothing


def hand_in(dq: Cli, *institutions: str, now: str = "2021-11-29 10:00") -> None:
    for inst in institutions:
        dq.ok("submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/form", "--now", now)


# -- nothing empty counts ------------------------------------------------------------------------


def test_an_empty_hand_in_is_refused_by_the_cli_and_records_nothing(tomsk: Cli):
    tomsk.ok("tick", "--now", "2021-11-25 10:00")  # the clock's own changes first: what follows is the act's alone
    before = dump_tables(tomsk.db_url)
    refused = fails(tomsk, "submit", "2", "--stage", "fill-form", "--now", "2021-11-25 10:00")
    assert "не дано ни одной ссылки на материалы" in refused and refused.count("\n") == 1, refused
    assert dump_tables(tomsk.db_url) == before
    assert json.loads(tomsk.ok("status", "--institution", "2", "--now", "2021-11-25 10:00", "--json"))  # still readable
    assert tomsk.ok("submit", "2", "--stage", "fill-form", "--link", LINK[0], "--now", "2021-11-25 10:00")


def test_an_incomplete_review_is_refused_by_the_cli_and_an_import_and_records_nothing(tomsk: Cli, tmp_path: Path):
    hand_in(tomsk, "2")
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)
    expert = lists(tomsk, "list1")["2"][0]
    before = dump_tables(tomsk.db_url)
    refused = fails(tomsk, "review", "2", "--stage", "review1", "--expert", expert, "--level", "conditions=2",
                    "--level", "health=3", "--now", REVIEW1_INSIDE)
    assert "не оценены области: «Образовательные ориентиры», «Взаимодействие с родителями», «Условия для лиц с ОВЗ»" in refused and refused.count("\n") == 1, refused
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["institution", "stage", "expert", "levels", "recommendations"],
                                      ["2", "review1", expert, "conditions=2", "Текст."]])
    refused = fails(tomsk, "review", "--import", str(path), "--now", REVIEW1_INSIDE)
    assert f"{path}:2:" in refused and "не оценены области" in refused, refused
    assert dump_tables(tomsk.db_url) == before
    tomsk.ok("review", "2", "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--now", REVIEW1_INSIDE)


def test_the_portal_refuses_an_empty_hand_in_and_an_incomplete_review_in_russian(portal: Portal, tomsk: Cli):
    tomsk.ok("tick", "--now", "2021-11-25 10:00")
    before = dump_tables(tomsk.db_url)
    path = portal.path("institution", "2")
    refused = portal.at("2021-11-25 10:00").post_form(path, {"stage": "fill-form", "link": ["", " "]})
    said(refused, 400, "не дано ни одной ссылки")
    assert 'name="link"' in refused.text  # the form is shown again
    assert dump_tables(tomsk.db_url) == before

    hand_in(tomsk, "4")
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)
    expert = lists(tomsk, "list1")["4"][0]
    before = dump_tables(tomsk.db_url)
    form = {k: v for k, v in form_levels(conditions="2").items() if k in ("level-conditions", "level-parents")}
    refused = portal.at(REVIEW1_INSIDE).post_form(portal.path("expert", expert), {"stage": "review1", "institution": "4", **form})
    said(refused, 400, "не оценены области: «Образовательные ориентиры», «Здоровье, безопасность и повседневный уход»")
    assert "<select" in refused.text  # the form is shown again
    assert dump_tables(tomsk.db_url) == before


# -- nobody is chased for what cannot be done -----------------------------------------------------


def test_a_review_before_the_handout_or_of_materials_still_awaited_is_refused(tomsk: Cli, workflow_copy: Path, tmp_path: Path):
    dq = Cli(f"sqlite:///{tmp_path / 'late-handout.db'}")  # the campaign with its handout moved after the review opens
    text = workflow_copy.read_text(encoding="utf-8")
    moved = text.replace("    opens: 2021-11-30\n    due: 2021-11-30\n", "    opens: 2021-12-03\n    due: 2021-12-03\n", 1)
    moved = moved.replace("after: [fill-form, handout1]", "after: [fill-form]")  # as Kemerovo's review names only its list
    assert moved != text
    workflow_copy.write_text(moved, encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    hand_in(dq, "2")
    dq.ok("tick", "--now", REVIEW1_INSIDE)
    expert = lists(dq, "list1")["2"][0]
    refused = fails(dq, "review", "2", "--stage", "review1", "--expert", expert, *levels(), "--now", REVIEW1_INSIDE)
    assert "выдача (этап «handout1»)" in refused and "03.12.2021" in refused, refused

    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 12:00", "--reason", "больничный", "--now", "2021-11-29")
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)
    assigned = lists(tomsk, "list1")
    refused = fails(tomsk, "review", "4", "--stage", "review1", "--expert", assigned["4"][0], *levels(), "--now", REVIEW1_INSIDE)
    assert "ещё не сдало материалы: их ждут до" in refused and "03.12.2021 12:00" in refused, refused
    refused = fails(tomsk, "review", "6", "--stage", "review1", "--expert", assigned["6"][0], *levels(), "--now", REVIEW1_INSIDE)
    assert "экспертировать нечего" in refused, refused


def test_the_portal_says_in_russian_that_there_is_nothing_to_review(portal: Portal, tomsk: Cli):
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)
    expert = lists(tomsk, "list1")["6"][0]
    before = dump_tables(tomsk.db_url)
    page = portal.at(REVIEW1_INSIDE).client.get(portal.path("expert", expert)).text
    assert "не сдало материалы к сроку: экспертировать нечего" in page and 'name="institution" value="6"' not in page  # no form
    refused = signed_post(portal, "expert", expert, {"stage": "review1", "institution": "6", **form_levels()})
    said(refused, 409, "не сдало материалы к сроку: экспертировать нечего")
    assert dump_tables(tomsk.db_url) == before


def test_no_reminder_and_no_missed_notice_to_an_expert_whose_dou_handed_in_nothing(mailing: Cli, inbox: Inbox):
    mailing.ok("tick", "--now", LIST1_OPEN)
    hand_in(mailing, *HANDED_IN)
    assigned = lists(mailing, "list1")
    for day in ("2021-12-01", "2021-12-02", "2021-12-03", "2021-12-06", "2021-12-07"):
        mailing.ok("send", "--now", f"{day} 09:00")
    rows = [r for r in json.loads(mailing.ok("outbox", "--json")) if r["stage"] == "review1" and r["role"] == "expert"]
    silent = [inst for inst in assigned if inst not in HANDED_IN]
    assert silent
    for inst in silent:  # planned before anyone knew, skipped at send time: nothing to review
        about = [r for r in rows if r["institution"] == inst]
        assert about and all(r["state"] == "skipped" and r["reason"].startswith("no-materials") for r in about), about
    for inst in HANDED_IN:  # those who have something to review are reminded, and told when they missed it
        assert any(r["institution"] == inst and r["state"] == "sent" for r in rows), inst
        assert any(r["institution"] == inst and r["kind"] == "missed" and r["state"] == "sent" for r in rows), inst
    for inst in silent:
        for expert in assigned[inst]:
            for message in inbox.to(EXPERT_EMAIL[expert]):  # no «…не поступила» about it
                assert not (NAMES[inst] in body(message) and "не поступила" in str(message["Subject"])), body(message)
    assert any("экспертиза не поступила" in str(m["Subject"]) for _, m in inbox.messages)  # as those who had something to review are


def test_a_review_of_nothing_is_not_late_and_the_coordinator_sees_it_apart(tomsk: Cli):
    tomsk.ok("tick", "--now", LIST1_OPEN)
    hand_in(tomsk, *HANDED_IN)
    tomsk.ok("tick", "--now", "2021-12-07 10:00")
    db = store.connect(tomsk.db_url)
    try:
        with store.dry_run(db) as session:
            campaign = definition(session, "tomsk-2021")
            now = parse_local("2021-12-07 10:00", TZ)
            late_reviews = {inst for inst, stage in ((x.institution_id, x.stage_id) for x in late.who(session, campaign, now))
                            if stage == "review1"}
            apart = late.without_materials(session, campaign, now)
            assert late.count(session, campaign, now) == len(late.who(session, campaign, now))
            assert late.first(session, campaign, now, 4) == (late.who(session, campaign, now, limit=4), late.count(session, campaign, now))
    finally:
        db.dispose()
    everyone = {i.id for i in campaign.institutions}
    assert late_reviews == set(HANDED_IN)  # nobody reviewed: late are the reviews of what was handed in, and only those
    assert {inst for inst, stage in apart if stage == "review1"} == everyone - set(HANDED_IN)


# -- a review of nothing is its own status: «нет материалов», on every face ---------------------------------


AFTER_REVIEW1 = "2021-12-07 10:00"  # review1 locked 05.12: nobody reviewed


def test_status_and_its_json_show_a_review_of_nothing_as_no_materials_not_missed(tomsk: Cli):
    tomsk.ok("tick", "--now", LIST1_OPEN)
    hand_in(tomsk, *HANDED_IN)
    tomsk.ok("tick", "--now", AFTER_REVIEW1)
    nothing = sorted(set(NAMES) - set(HANDED_IN))
    shown = json.loads(tomsk.ok("status", "--json", "--institutions", "--now", AFTER_REVIEW1))
    stages = {s["id"]: s for s in shown["stages"]}
    counts = stages["review1"]["counts"]
    assert counts["no-materials"] == len(nothing) and counts["missed"] == len(HANDED_IN), counts  # unreviewed, yet only these missed
    assert stages["fill-form"]["counts"]["missed"] == len(nothing) and "no-materials" not in stages["fill-form"]["counts"]
    rows = {i["id"]: i for i in shown["institutions"]}
    assert {i for i, row in rows.items() if row["stages"]["review1"] == "no-materials"} == set(nothing)
    assert {i for i, row in rows.items() if row["stages"]["review1"] == "missed"} == set(HANDED_IN)
    for stage_id, stage in stages.items():  # the counts add up, and say what the listing says, status by status
        if stage["counts"]:
            assert sum(stage["counts"].values()) == len(rows), stage_id
            listed = [row["stages"][stage_id] for row in rows.values() if stage_id in row["stages"]]
            assert {k: n for k, n in stage["counts"].items() if n} == {k: listed.count(k) for k in set(listed)}, stage_id
    text = tomsk.ok("status", "--now", AFTER_REVIEW1)
    line = next((line for line in text.splitlines() if line.startswith("Первичная экспертиза ")), text)  # review1 by its name
    assert f"нет материалов {len(nothing)}" in line and f"пропущено {len(HANDED_IN)}" in line, line
    table = tomsk.ok("status", "--institutions", "--now", AFTER_REVIEW1)
    assert "нет мат." in next(line for line in table.splitlines() if line.startswith(f"{nothing[0]} ")), table
    card = json.loads(tomsk.ok("status", "--institution", nothing[0], "--json", "--now", AFTER_REVIEW1))
    assert {s["id"]: s["status"] for s in card["stages"]}["review1"] == "no-materials"
    assert "нет материалов" in next(line for line in tomsk.ok("status", "--institution", nothing[0], "--now", AFTER_REVIEW1).splitlines()
                                    if line.startswith("Первичная экспертиза"))

    # an extension that reopens the materials stage makes the review due again: nothing stored to undo
    tomsk.ok("extend", nothing[0], "--stage", "fill-form", "--until", "2021-12-09 12:00", "--reason", "больничный", "--now", AFTER_REVIEW1)
    again = json.loads(tomsk.ok("status", "--json", "--institutions", "--now", AFTER_REVIEW1))
    assert {i["id"]: i for i in again["institutions"]}[nothing[0]]["stages"]["review1"] == "missed"
    assert {s["id"]: s for s in again["stages"]}["review1"]["counts"]["no-materials"] == len(nothing) - 1


def test_the_board_and_the_spravka_count_a_review_of_nothing_apart(tomsk: Cli, tmp_path: Path):
    tomsk.ok("tick", "--now", LIST1_OPEN)
    hand_in(tomsk, *HANDED_IN)
    tomsk.ok("tick", "--now", AFTER_REVIEW1)
    nothing = len(NAMES) - len(HANDED_IN)
    db = store.connect(tomsk.db_url)
    try:
        from dqflow import engine
        from dqflow.results import coverage
        from dqflow.web import board

        with store.dry_run(db) as session:
            now = parse_local(AFTER_REVIEW1, TZ)
            view = engine.status(session, "tomsk-2021", now, institutions=True, limit=None)
            review = next(coverage.StageFigures(s.stage, s.state, s.counts) for s in view.stages if s.stage.id == "review1")
            page = board.render(view)
    finally:
        db.dispose()
    assert review.no_materials == nothing and review.counts["missed"] == len(HANDED_IN)
    assert review.expected == len(HANDED_IN)  # the reviews due: those of what was handed in
    assert page.count('class="status no-materials">нет материалов<') == nothing, page


def test_reminders_against_a_moved_review_deadline_skip_a_dou_known_to_have_nothing(mailing: Cli, inbox: Inbox):
    """Planning after the materials locked (a review deadline moved by an extension) plans as a fresh load would, for
    every ДОУ; at send time the reminders about the ДОУ with nothing are skipped (`no-materials`), the others go."""
    mailing.ok("tick", "--now", LIST1_OPEN)
    hand_in(mailing, *HANDED_IN)
    nothing = next(i for i in NAMES if i not in HANDED_IN)
    for inst in (HANDED_IN[0], nothing):
        mailing.ok("extend", inst, "--stage", "review1", "--until", "2021-12-09 12:00", "--reason", "больничный эксперта",
                   "--now", REVIEW1_INSIDE)
    for day in ("2021-12-06", "2021-12-07", "2021-12-08", "2021-12-09", "2021-12-10"):
        mailing.ok("send", "--now", f"{day} 09:00")
    rows = [r for r in json.loads(mailing.ok("outbox", "--json")) if r["stage"] == "review1" and r["role"] == "expert"]
    moved = [r for r in rows if r["deadline"] and r["deadline"].startswith("2021-12-09")]
    assert any(r["institution"] == HANDED_IN[0] and r["state"] == "sent" for r in moved), moved
    mine = [r for r in moved if r["institution"] == nothing and r["kind"] != "changed"]  # the extension's own letter goes
    assert mine and not any(r["state"] == "sent" for r in mine), [(r["rule"], r["state"], r["reason"], r["send_at"]) for r in mine if r["state"] == "sent"]
    assert any(r["reason"] == "no-materials" for r in mine), mine


def test_the_digest_lists_a_review_of_nothing_apart_from_the_missed(mailing: Cli, inbox: Inbox):
    mailing.ok("tick", "--now", LIST1_OPEN)
    hand_in(mailing, *HANDED_IN)
    for day in ("2021-12-01", "2021-12-02", "2021-12-06", "2021-12-07"):
        mailing.ok("send", "--now", f"{day} 09:00")
    digests = [body(m) for m in inbox.to("kdo@imc.example.org") if "Сводка" in str(m["Subject"])]
    assert digests
    apart = [d for d in digests if "Нет материалов для экспертизы" in d]
    assert len(apart) == 1, digests  # said once, when it became known
    section = apart[0].split("Нет материалов для экспертизы", 1)[1].split("\n\n", 1)[0]
    for inst in NAMES:
        assert (f"- {NAMES[inst]} — «Первичная экспертиза»" in section) == (inst not in HANDED_IN), section
    for digest in digests:  # never among the missed reviews
        missed = digest.split("Этап закрыт без материалов или экспертиз:", 1)[1].split("\n\n", 1)[0] if "Этап закрыт" in digest else ""
        reviews_missed = {i for i in NAMES if f"- {NAMES[i]} — «Первичная экспертиза»" in missed}
        assert reviews_missed <= set(HANDED_IN), missed
    assert any(f"- {NAMES[HANDED_IN[0]]} — «Первичная экспертиза»" in d for d in digests)  # as the unreviewed are
