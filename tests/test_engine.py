"""The engine through its CLI on real SQLite files: the Tomsk schedule day by day, per-ДОУ statuses,
submissions, time-zone edges, extensions, idempotent and catch-up reconcile, the audit trail."""

import dataclasses
import json
import re
import shutil
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from conftest import LINK, TOMSK, Cli, dump_tables, query
from dqflow import engine, store
from dqflow.calendar import Duration
from dqflow.campaign import spec
from dqflow.engine import rules, workspace
from dqflow.errors import DqflowError, NotAllowed
from dqflow.store import ProgressRow

TZ = ZoneInfo("Asia/Tomsk")
ALL = ["2", "4", "5", "6", "15", "35", "40", "62", "73", "86", "94"]
PER_DOU = ["fill-form", "review1", "refill", "review2", "final-fix", "operator-submission"]
NAME = {s.id: s.label for s in spec.load(TOMSK).stages}  # a stage as the terminal names it


# The order's schedule, copied by hand from workflows/tomsk-2021.yaml (local dates, Asia/Tomsk):
# dated stages open at the start of `opens` and lock at the end of `due` (no grace in the file).
DATED = {
    "fill-form": ("2021-11-19", "2021-11-30"),
    "list1": ("2021-11-25", "2021-11-25"),
    "handout1": ("2021-11-30", "2021-11-30"),
    "review1": ("2021-12-01", "2021-12-05"),
    "refill": ("2021-12-07", "2021-12-12"),
    "list2": ("2021-12-08", "2021-12-08"),
    "handout2": ("2021-12-10", "2021-12-10"),
    "review2": ("2021-12-10", "2021-12-14"),
    "final-fix": ("2021-12-15", "2021-12-19"),
    "operator-submission": ("2021-12-20", "2021-12-20"),
    "analysis": ("2021-12-20", "2022-01-20"),
}
EVENTS = {
    "kickoff-webinar": datetime(2021, 11, 19, 14, 0, tzinfo=TZ),
    "review1-webinar": datetime(2021, 12, 6, 0, 0, tzinfo=TZ),
    "review2-webinar": datetime(2021, 12, 15, 0, 0, tzinfo=TZ),
}
# The ДОУ stages each review stage reviews (every ДОУ task before it), by hand: a review of a ДОУ whose stages all
# locked without a hand-in is not due, `no-materials`.
REVIEWED = {"review1": ("fill-form",), "review2": ("fill-form", "refill")}
RANK = {"scheduled": 0, "open": 1, "held": 2, "locked": 2}
DOU_RANK = {"upcoming": 0, "open": 1, "missed": 2, "no-materials": 2}


def opens_at(stage: str) -> datetime:
    return datetime.combine(date.fromisoformat(DATED[stage][0]), time(0), TZ)


def locks_at(stage: str) -> datetime:
    return datetime.combine(date.fromisoformat(DATED[stage][1]), time(23, 59, 59), TZ)


def expected_state(stage: str, now: datetime) -> str:
    if stage in EVENTS:
        return "held" if now >= EVENTS[stage] else "scheduled"
    if now < opens_at(stage):
        return "scheduled"
    return "open" if now <= locks_at(stage) else "locked"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def audit_rows(db_url: str) -> list[tuple]:
    return sorted(dict(dump_tables(db_url))["audit"])


def stage_of(view: dict, stage_id: str) -> dict:
    return next(s for s in view["stages"] if s["id"] == stage_id)


def dou_of(view: dict, institution_id: str) -> dict:
    return next(i for i in view["institutions"] if i["id"] == institution_id)


def with_grace(workflow_copy: Path, grace: str = "2d") -> Path:
    """The Tomsk file with `grace` on fill-form only (handout1 has the same due date)."""
    text = workflow_copy.read_text(encoding="utf-8")
    anchor = "    due: 2021-11-30\n    responsible: ДОУ\n"
    assert text.count(anchor) == 1
    workflow_copy.write_text(text.replace(anchor, f"    due: 2021-11-30\n    grace: {grace}\n    responsible: ДОУ\n"), encoding="utf-8")
    return workflow_copy


@pytest.fixture
def graced(dq: Cli, workflow_copy: Path) -> Cli:
    """Tomsk with a 2-day grace on fill-form: due 30.11.2021 23:59:59, lock 02.12.2021 23:59:59."""
    dq.ok("load", str(with_grace(workflow_copy)), "--now", "2021-11-10 09:00")
    return dq


# -- 1. the whole schedule, day by day --------------------------------------------------


def test_tomsk_schedule_walked_day_by_day(tomsk: Cli):
    first_seen: dict[tuple[str, str], datetime] = {}
    previous: dict[str, str] = {}
    previous_dou: dict[tuple[str, str], str] = {}
    day = date(2021, 11, 18)
    while day <= date(2021, 12, 31):
        for clock in (time(0, 5), time(12, 0)):
            now = datetime.combine(day, clock, TZ)
            text = now.strftime("%Y-%m-%d %H:%M")
            ticked = tomsk.ok("tick", "--now", text)
            view = tomsk.json("status", "--institutions", "--now", text)
            assert view["now"] == now.isoformat()
            for stage in [*DATED, *EVENTS]:
                got = stage_of(view, stage)["state"]
                assert got == expected_state(stage, now), (stage, text)
                assert RANK[got] >= RANK[previous.get(stage, "scheduled")], f"{stage} went back to {got} at {text}"
                previous[stage] = got
                first_seen.setdefault((stage, got), now)
            for stage in PER_DOU:
                want = {"scheduled": "upcoming", "open": "open", "locked": "missed"}[expected_state(stage, now)]
                if stage in REVIEWED and all(expected_state(m, now) == "locked" for m in REVIEWED[stage]):
                    want = "no-materials"  # nobody handed in anything: there is nothing to review
                counts = stage_of(view, stage)["counts"]
                assert counts[want] == len(ALL) and sum(counts.values()) == len(ALL), (stage, text, counts)
                for inst in view["institutions"]:
                    got = inst["stages"][stage]
                    assert got == want, (inst["id"], stage, text)
                    assert DOU_RANK[got] >= DOU_RANK[previous_dou.get((inst["id"], stage), "upcoming")]
                    previous_dou[(inst["id"], stage)] = got
            if clock == time(12, 0):
                # nothing in the file opens, locks or happens between 00:05 and 12:00
                assert ticked.splitlines()[0] == "Изменений нет.", text
            else:
                for stage in DATED:
                    if opens_at(stage).date() == day:
                        assert f"{NAME[stage]}: запланирован → открыт" in ticked, (stage, text)
                    if locks_at(stage).date() == day - timedelta(days=1):
                        assert f"{NAME[stage]}: открыт → закрыт" in ticked, (stage, text)
        day += timedelta(days=1)

    for stage in DATED:
        # open exactly from its opening day, locked from the first tick after its due day
        assert first_seen[(stage, "open")] == datetime.combine(opens_at(stage).date(), time(0, 5), TZ), stage
        if locks_at(stage) < datetime(2021, 12, 31, tzinfo=TZ):
            assert first_seen[(stage, "locked")] == datetime.combine(locks_at(stage).date() + timedelta(days=1), time(0, 5), TZ)
        else:
            assert (stage, "locked") not in first_seen
    assert first_seen[("kickoff-webinar", "held")] == datetime(2021, 11, 20, 0, 5, tzinfo=TZ)  # 14:00 falls between ticks
    assert first_seen[("review1-webinar", "held")] == datetime(2021, 12, 6, 0, 5, tzinfo=TZ)
    assert first_seen[("review2-webinar", "held")] == datetime(2021, 12, 15, 0, 5, tzinfo=TZ)


def test_stage_boundaries_to_the_second(tomsk: Cli):
    def state(stage: str, when: str) -> str:
        return stage_of(tomsk.json("status", "--institutions", "--now", when), stage)["state"]

    assert state("kickoff-webinar", "2021-11-19 13:59:59") == "scheduled"
    assert state("kickoff-webinar", "2021-11-19 14:00") == "held"
    assert state("fill-form", "2021-11-18 23:59:59") == "scheduled"
    assert state("fill-form", "2021-11-19 00:00") == "open"
    assert state("fill-form", "2021-11-30 23:59:59") == "open"  # the deadline is inclusive
    assert state("fill-form", "2021-12-01 00:00") == "locked"
    assert state("review1-webinar", "2021-12-05 23:59:59") == "scheduled"
    assert state("review1-webinar", "2021-12-06 00:00") == "held"


def test_stage_times_in_status_match_the_file(tomsk: Cli):
    view = tomsk.json("status", "--institutions", "--now", "2021-11-18 12:00")
    for stage, (opens, due) in DATED.items():
        s = stage_of(view, stage)
        assert s["opens_at"] == f"{opens}T00:00:00+07:00", stage
        assert s["due_at"] == f"{due}T23:59:59+07:00", stage
        assert s["locks_at"] == s["due_at"], stage
    for stage, at in EVENTS.items():
        assert stage_of(view, stage)["opens_at"] == at.isoformat()


# -- 2. every per-ДОУ status -------------------------------------------------------------


def test_every_per_dou_status_is_reached(graced: Cli):
    dq = graced

    def statuses(when: str) -> dict[str, str]:
        view = dq.json("status", "--institutions", "--now", when)
        return {i["id"]: i["stages"]["fill-form"] for i in view["institutions"]}

    assert set(statuses("2021-11-18 12:00").values()) == {"upcoming"}
    assert dou_of(dq.json("status", "--institutions", "--now", "2021-11-18 12:00"), "2")["state"] == "waiting"
    assert set(statuses("2021-11-20 10:00").values()) == {"open"}
    assert dou_of(dq.json("status", "--institutions", "--now", "2021-11-20 10:00"), "2")["state"] == "fill-form"

    assert "освобождено" in dq.ok("excuse", "5", "--stage", "fill-form", "--reason", "здание на ремонте", "--now", "2021-11-25 09:00")
    assert "в срок" in dq.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/f", "--now", "2021-11-29 10:00")
    assert "с опозданием" in dq.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 10:00")

    in_grace = statuses("2021-12-02 12:00")
    assert in_grace["2"] == "done" and in_grace["4"] == "late" and in_grace["5"] == "excused"
    assert in_grace["6"] == "open"  # after the deadline, before the lock: still open

    final = statuses("2021-12-03 00:05")
    assert final["2"] == "done" and final["4"] == "late" and final["5"] == "excused"
    assert {final[i] for i in ALL if i not in ("2", "4", "5")} == {"missed"}
    counts = stage_of(dq.json("status", "--institutions", "--now", "2021-12-03 00:05"), "fill-form")["counts"]
    assert counts == {"upcoming": 0, "open": 0, "done": 1, "late": 1, "missed": 8, "excused": 1}
    assert stage_of(dq.json("status", "--institutions", "--now", "2021-12-03 00:05"), "fill-form")["locks_at"] == "2021-12-02T23:59:59+07:00"


def test_excuse_needs_a_reason_and_a_known_dou(tomsk: Cli):
    assert tomsk("excuse", "5", "--stage", "fill-form", "--now", "2021-11-25").exit_code == 2
    empty = tomsk("excuse", "5", "--stage", "fill-form", "--reason", "  ", "--now", "2021-11-25")
    assert empty.exit_code == 1 and "reason" in empty.output
    unknown = tomsk("excuse", "999", "--stage", "fill-form", "--reason", "x", "--now", "2021-11-25")
    assert unknown.exit_code == 1 and "999" in unknown.output
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-11-25"), "5")["stages"]["fill-form"] == "open"


# -- 3. submit -------------------------------------------------------------------------


def test_submit_before_open_is_refused_and_writes_nothing(tomsk: Cli, db_url: str):
    before = audit_rows(db_url)
    early = tomsk("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-18 12:00")
    assert early.exit_code == 1
    assert "ещё не открыт" in early.output and "19.11.2021 00:00" in early.output
    assert audit_rows(db_url) == before
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-11-20"), "2")["stages"]["fill-form"] == "open"


def test_submit_on_time_is_done_and_a_second_submission_adds_links(tomsk: Cli):
    out = tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/a", "--now", "2021-11-25 10:00")
    assert "в срок" in out and "25.11.2021 10:00" in out and "30.11.2021 23:59" in out
    again = tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/b", "--now", "2021-11-30 20:00")
    assert "в срок" in again
    card = tomsk.json("status", "--institution", "2", "--now", "2021-12-02")
    fill = next(s for s in card["stages"] if s["id"] == "fill-form")
    assert fill["status"] == "done"
    assert fill["submitted_at"] == "2021-11-25T10:00:00+07:00"
    assert [s["links"] for s in fill["submissions"]] == [["https://dou2.example.org/a"], ["https://dou2.example.org/b"]]


def test_submit_in_grace_is_late(graced: Cli):
    out = graced.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-02 23:00")
    assert "с опозданием" in out
    assert dou_of(graced.json("status", "--institutions", "--now", "2021-12-05"), "4")["stages"]["fill-form"] == "late"


def test_submit_after_lock_is_refused_with_the_lock_time(tomsk: Cli, db_url: str):
    before = audit_rows(db_url)
    late = tomsk("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 10:00")
    assert late.exit_code == 1
    assert "приём закрыт" in late.output and "30.11.2021 23:59" in late.output
    assert "dqflow extend 4 --stage fill-form" in late.output  # how to reopen it
    assert audit_rows(db_url) == before
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-12-01 10:00"), "4")["stages"]["fill-form"] == "missed"


def test_submit_after_grace_lock_is_refused(graced: Cli):
    late = graced("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-03 00:30")
    assert late.exit_code == 1 and "приём закрыт" in late.output and "02.12.2021 23:59" in late.output


@pytest.mark.parametrize("args, named", [
    (("submit", "999", "--stage", "fill-form", "--link", "https://example.org/materials"), "999"),
    (("submit", "2", "--stage", "no-such-stage", "--link", "https://example.org/materials"), "no-such-stage"),
    (("submit", "2", "--stage", "list1", "--link", "https://example.org/materials"), "list1"),  # a stage ДОУ do not submit to
    (("submit", "2", "--stage", "kickoff-webinar", "--link", "https://example.org/materials"), "kickoff-webinar"),
])
def test_submit_to_unknown_dou_or_stage_names_it(tomsk: Cli, db_url: str, args, named):
    before = audit_rows(db_url)
    result = tomsk(*args, "--now", "2021-11-25 10:00")
    assert result.exit_code == 1
    assert named in result.output
    assert result.output.startswith("ошибка: ") and len(result.output.strip().splitlines()) == 1
    assert audit_rows(db_url) == before


# -- 4. time-zone edges ---------------------------------------------------------------


def test_deadline_is_read_on_the_campaign_wall_clock(tomsk: Cli):
    on_time, past = local("2021-11-30 23:30"), local("2021-12-01 00:30")
    assert on_time.astimezone(ZoneInfo("UTC")).date() == past.astimezone(ZoneInfo("UTC")).date()  # same UTC date

    assert "в срок" in tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30 23:30")
    refused = tomsk("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 00:30")
    assert refused.exit_code == 1 and "приём закрыт" in refused.output

    view = tomsk.json("status", "--institutions", "--now", "2021-12-01 00:31")
    assert dou_of(view, "2")["stages"]["fill-form"] == "done"
    assert dou_of(view, "4")["stages"]["fill-form"] == "missed"


def test_explicit_offsets_in_now(tomsk: Cli):
    out = tomsk.ok("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30T16:30:00+00:00")  # 23:30 in Tomsk
    assert "в срок" in out and "30.11.2021 23:30" in out
    assert "в срок" in tomsk.ok("submit", "6", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30T23:59:59+07:00")
    refused = tomsk("submit", "15", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30T17:30:00Z")  # 00:30 on 01.12 in Tomsk
    assert refused.exit_code == 1 and "приём закрыт" in refused.output
    view = tomsk.json("status", "--institutions", "--now", "2021-11-30T17:30:00+00:00")
    assert view["now"] == "2021-12-01T00:30:00+07:00"
    assert stage_of(view, "fill-form")["state"] == "locked"


def test_after_midnight_local_is_late_with_grace(graced: Cli):
    assert "в срок" in graced.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30 23:30")
    assert "с опозданием" in graced.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 00:30")
    assert "с опозданием" in graced.ok("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30T17:00:01Z")


# -- 5. extensions ----------------------------------------------------------------------


def test_extension_after_lock_reopens_for_that_dou(tomsk: Cli):
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-12-02 09:00"), "4")["stages"]["fill-form"] == "missed"
    out = tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "ответственный на больничном",
                   "--now", "2021-12-02 09:00")
    assert "03.12.2021 23:59" in out and "открыт" in out

    view = tomsk.json("status", "--institutions", "--now", "2021-12-02 12:00")
    assert dou_of(view, "4")["stages"]["fill-form"] == "open"
    assert dou_of(view, "4")["state"] == "fill-form"
    assert dou_of(view, "5")["stages"]["fill-form"] == "missed"  # only that ДОУ
    assert stage_of(view, "fill-form")["state"] == "locked"  # the stage itself stays locked
    assert tomsk("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-02 12:00").exit_code == 1

    assert tomsk.ok("tick", "--now", "2021-12-02 12:00").splitlines()[0] == "Изменений нет."  # reconcile does not re-lock it
    assert "в срок" in tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-03 23:30")
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-12-10"), "4")["stages"]["fill-form"] == "done"

    card = tomsk("status", "--institution", "4", "--now", "2021-12-04")
    assert card.exit_code == 0
    assert "срок продлён до 03.12.2021 23:59" in card.output and "ответственный на больничном" in card.output
    data = tomsk.json("status", "--institution", "4", "--now", "2021-12-04")
    fill = next(s for s in data["stages"] if s["id"] == "fill-form")
    assert fill["extended"] is True
    assert fill["due_at"] == fill["locks_at"] == "2021-12-03T23:59:59+07:00"
    assert fill["extensions"] == [{"until": "2021-12-03T23:59:59+07:00", "reason": "ответственный на больничном",
                                   "granted_at": "2021-12-02T09:00:00+07:00"}]

    history = tomsk.ok("history", "4")
    assert "срок продлён" in history and "ответственный на больничном" in history and "до 03.12.2021 23:59" in history
    assert "этап открыт повторно" in history


def test_extension_sets_the_lock_without_grace(tomsk: Cli):
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 12:00", "--reason", "болезнь", "--now", "2021-12-02")
    assert "в срок" in tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-03 12:00")  # at the very lock: counts
    tomsk.ok("extend", "6", "--stage", "fill-form", "--until", "2021-12-03 12:00", "--reason", "болезнь", "--now", "2021-12-02")
    refused = tomsk("submit", "6", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-03 12:01")
    assert refused.exit_code == 1 and "приём закрыт" in refused.output and "03.12.2021 12:00" in refused.output
    view = tomsk.json("status", "--institutions", "--now", "2021-12-03 12:01")
    assert dou_of(view, "4")["stages"]["fill-form"] == "done"
    assert dou_of(view, "6")["stages"]["fill-form"] == "missed"  # locked again at its own lock


def test_extension_replaces_grace_lock_too(graced: Cli):
    # before the deadline, a shorter-than-grace extension: its until is both deadline and lock
    graced.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-01", "--reason", "согласовано", "--now", "2021-11-29")
    assert "в срок" in graced.ok("submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 20:00")  # late without it
    graced.ok("extend", "6", "--stage", "fill-form", "--until", "2021-12-01", "--reason", "согласовано", "--now", "2021-11-29")
    refused = graced("submit", "6", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-02 10:00")  # inside the stage's grace, past its own lock
    assert refused.exit_code == 1 and "приём закрыт" in refused.output and "01.12.2021 23:59" in refused.output
    assert "с опозданием" in graced.ok("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-02 10:00")


def test_extension_needs_a_reason(tomsk: Cli, db_url: str):
    before = audit_rows(db_url)
    missing = tomsk("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--now", "2021-12-02")
    assert missing.exit_code == 2 and "--reason" in missing.output
    blank = tomsk("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", " ", "--now", "2021-12-02")
    assert blank.exit_code == 1 and "reason" in blank.output
    past = tomsk("extend", "4", "--stage", "fill-form", "--until", "2021-12-01", "--reason", "x", "--now", "2021-12-02")
    assert past.exit_code == 1 and "уже прошёл" in past.output
    assert audit_rows(db_url) == before
    assert dou_of(tomsk.json("status", "--institutions", "--now", "2021-12-02"), "4")["stages"]["fill-form"] == "missed"


# -- 6. reconcile is idempotent -----------------------------------------------------------


def test_tick_twice_at_the_same_moment_changes_nothing(tomsk: Cli, db_url: str):
    first = tomsk.ok("tick", "--now", "2021-12-02 10:00")
    assert "Первичное заполнение формы: открыт → закрыт" in first and "Первичная экспертиза: запланирован → открыт" in first
    rows = audit_rows(db_url)
    dump = dump_tables(db_url)
    assert tomsk.ok("tick", "--now", "2021-12-02 10:00").splitlines()[0] == "Изменений нет."
    assert audit_rows(db_url) == rows
    assert dump_tables(db_url) == dump
    assert tomsk.ok("tick", "--now", "2021-12-01 10:00").splitlines()[0] == "Изменений нет."  # an earlier moment undoes nothing
    assert audit_rows(db_url) == rows


# -- 7. catch-up ----------------------------------------------------------------------------


def test_single_catch_up_tick_equals_daily_ticks(tmp_path: Path, db_url: str):
    """The catch-up on the backend under test tells the same story as daily ticks on SQLite."""
    daily, once = Cli(f"sqlite:///{tmp_path / 'daily.db'}"), Cli(db_url)
    for dq in (daily, once):
        dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    day = date(2021, 11, 18)
    while day < date(2021, 12, 31):
        daily.ok("tick", "--now", day.isoformat() + " 00:05")
        day += timedelta(days=1)
    daily.ok("tick", "--now", "2021-12-31 00:05")
    caught_up = once.ok("tick", "--now", "2021-12-31 00:05")
    assert "Направление форм оператору: открыт → пропущено" in caught_up

    assert daily.json("status", "--institutions", "--now", "2021-12-31 00:05") == once.json("status", "--institutions", "--now", "2021-12-31 00:05")
    for inst in ("2", "94"):
        trail = lambda dq: [(r["at"], r["stage"], r["action"], r["from"], r["to"]) for r in json.loads(dq.ok("history", inst, "--json"))]  # noqa: E731
        assert trail(daily) == trail(once), inst
    final = once.json("status", "--institutions", "--now", "2021-12-31 00:05")
    assert all(i["state"] == "finished" for i in final["institutions"])
    assert stage_of(final, "analysis")["state"] == "open"


# -- 8. the audit trail ---------------------------------------------------------------------


def test_history_lists_every_change_oldest_first(tomsk: Cli):
    started = datetime.now(timezone.utc).replace(microsecond=0)
    tomsk.ok("tick", "--now", "2021-12-02 09:00")  # catches up the opening and the lock after the fact
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-12-02 10:00")
    tomsk.ok("submit", "4", "--stage", "fill-form", "--link", "https://dou4.example.org/f", "--now", "2021-12-03 11:00")
    tomsk.ok("tick", "--now", "2021-12-08 00:05")

    rows = json.loads(tomsk.ok("history", "4", "--json"))
    moments = [datetime.fromisoformat(r["at"]) for r in rows]
    assert moments == sorted(moments)
    assert all(r["at"].endswith("+07:00") for r in rows)
    events = [(r["at"], r["stage"], r["action"], r["from"], r["to"]) for r in rows]
    expected = [
        ("2021-11-19T00:00:00+07:00", "fill-form", "open", "upcoming", "open"),
        ("2021-11-30T23:59:59+07:00", "fill-form", "lock", "open", "missed"),
        ("2021-12-01T00:00:00+07:00", "review1", "open", "upcoming", "open"),
        ("2021-12-02T10:00:00+07:00", "fill-form", "extend", "missed", "missed"),
        ("2021-12-02T10:00:00+07:00", "fill-form", "reopen", "missed", "open"),
        ("2021-12-03T11:00:00+07:00", "fill-form", "submit", "open", "done"),
        ("2021-12-05T23:59:59+07:00", "review1", "lock", "open", "missed"),
        ("2021-12-07T00:00:00+07:00", "refill", "open", "upcoming", "open"),
    ]
    assert events == expected
    submit = next(r for r in rows if r["action"] == "submit")
    assert submit["detail"] == {"links": ["https://dou4.example.org/f"]}
    extend = next(r for r in rows if r["action"] == "extend")
    assert extend["detail"]["reason"] == "больничный" and datetime.fromisoformat(extend["detail"]["until"]) == local("2021-12-03 23:59:59")
    recorded = datetime.fromisoformat(next(r for r in rows if r["action"] == "open")["recorded_at"])
    assert started <= recorded <= datetime.now(timezone.utc)  # the real clock, not --now

    text = tomsk.ok("history", "4").splitlines()
    assert text[0] == "Томское время, UTC+7"
    body = text[1:]
    assert len(body) == len(expected)
    assert body[0].startswith("19.11.2021 00:00  Первичное заполнение формы: этап открыт")
    assert f"[записано {recorded.astimezone(ZoneInfo('Asia/Tomsk')):%d.%m.%Y %H:%M}]" in body[0]
    assert body[5].startswith("03.12.2021 11:00  Первичное заполнение формы: материалы сданы") and "https://dou4.example.org/f" in body[5]
    assert [datetime.strptime(line[:16], "%d.%m.%Y %H:%M") for line in body] == sorted(
        datetime.strptime(line[:16], "%d.%m.%Y %H:%M") for line in body)
    other = tomsk.ok("history", "5")
    assert "срок продлён" not in other and "материалы сданы" not in other


def test_history_of_unknown_dou_is_an_error(tomsk: Cli):
    result = tomsk("history", "999")
    assert result.exit_code == 1 and "999" in result.output


def test_excuse_is_in_history(tomsk: Cli):
    tomsk.ok("excuse", "5", "--stage", "fill-form", "--reason", "реорганизация", "--now", "2021-11-22 10:00")
    rows = json.loads(tomsk.ok("history", "5", "--json"))
    assert [(r["stage"], r["action"], r["from"], r["to"]) for r in rows] == [
        ("fill-form", "open", "upcoming", "open"), ("fill-form", "excuse", "open", "excused")]
    assert rows[1]["detail"] == {"reason": "реорганизация"}
    assert re.search(r"22\.11\.2021 10:00  Первичное заполнение формы: освобождён от этапа .*реорганизация", tomsk.ok("history", "5"))


# -- 9. the boundaries, on the rules, through the engine ---------------------------------------
# Each moment below is a stage's own time or a microsecond from it: what `rules` says at the boundary is
# what the engine does (reconcile, the acts, the portal's offer, the status projection), not a copy of it.

MICRO = timedelta(microseconds=1)


@contextmanager
def session_on(db_url: str):
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            yield session
    finally:
        db.dispose()


def fill_form(db_url: str):
    with session_on(db_url) as session:
        campaign = engine.definition(session, None)
    return campaign, campaign.stage("fill-form")


def test_a_hand_in_at_the_very_lock_is_late_and_a_microsecond_later_is_refused(graced: Cli, db_url: str):
    campaign, fill = fill_form(db_url)
    assert fill.locks_at - fill.due_at == timedelta(days=2)  # the grace: due and lock apart
    with session_on(db_url) as session:
        assert engine.submit(session, campaign.id, "2", "fill-form", fill.due_at, LINK).status == "done"  # the due instant is on time
    with session_on(db_url) as session:
        assert engine.submit(session, campaign.id, "4", "fill-form", fill.due_at + MICRO, LINK).status == "late"
    with session_on(db_url) as session:
        desk = workspace.institution_desk(session, campaign, "15", fill.locks_at)
        assert desk.can_submit(next(d for d in desk.stages if d.stage.id == "fill-form"), fill.locks_at)  # the portal offers the form
    with session_on(db_url) as session:
        assert engine.submit(session, campaign.id, "5", "fill-form", fill.locks_at, LINK).status == "late"  # the lock instant counts
    with session_on(db_url) as session:
        desk = workspace.institution_desk(session, campaign, "15", fill.locks_at + MICRO)
        assert not desk.can_submit(next(d for d in desk.stages if d.stage.id == "fill-form"), fill.locks_at + MICRO)
    with pytest.raises(NotAllowed) as refused:
        with session_on(db_url) as session:
            engine.submit(session, campaign.id, "6", "fill-form", fill.locks_at + MICRO, LINK)
    assert refused.value.code == "locked"
    statuses = {i["id"]: i["stages"]["fill-form"] for i in graced.json("status", "--institutions", "--now", "2021-12-05")["institutions"]}
    assert (statuses["2"], statuses["4"], statuses["5"], statuses["6"]) == ("done", "late", "late", "missed")


def stored_states(db_url: str, stage_id: str) -> tuple[str, set[str]]:
    """The stage's stored state, and the statuses stored for its ДОУ."""
    (state,), = query(db_url, f"SELECT state FROM stage WHERE id = '{stage_id}'")
    return state, {r[0] for r in query(db_url, f"SELECT status FROM progress WHERE stage_id = '{stage_id}'")}


@pytest.mark.parametrize("when, stage_state, dou_status", [
    ("opens - 1µs", "scheduled", "upcoming"), ("opens", "open", "open"),
    ("locks", "open", "open"), ("locks + 1µs", "locked", "missed")])
def test_reconcile_at_the_very_opening_and_lock(tomsk: Cli, db_url: str, when: str, stage_state: str, dou_status: str):
    campaign, fill = fill_form(db_url)
    moment = {"opens - 1µs": fill.opens_at - MICRO, "opens": fill.opens_at, "locks": fill.locks_at, "locks + 1µs": fill.locks_at + MICRO}[when]
    with session_on(db_url) as session:
        view = engine.status(session, campaign.id, moment, institutions=True)  # the projection, before anything is written
    projected = next(s for s in view.stages if s.stage.id == "fill-form")
    assert projected.state == stage_state and projected.counts[dou_status] == len(ALL)
    assert {i.stages["fill-form"] for i in view.institutions} == {dou_status}
    with session_on(db_url) as session:
        changes = engine.reconcile(session, campaign.id, moment)
    assert stored_states(db_url, "fill-form") == (stage_state, {dou_status})
    moved = {c.at for c in changes if c.stage_id == "fill-form"}
    assert moved <= {fill.opens_at, fill.locks_at}  # each change took effect at the stage's own moment


def test_an_extension_locks_at_its_own_instant(tomsk: Cli, db_url: str):
    campaign, fill = fill_form(db_url)
    until = fill.locks_at + timedelta(days=1)
    with session_on(db_url) as session:
        assert engine.extend(session, campaign.id, "4", "fill-form", until, "больничный", fill.locks_at + MICRO).status == "open"
        assert engine.extend(session, campaign.id, "6", "fill-form", until, "больничный", fill.locks_at + MICRO).status == "open"
    with session_on(db_url) as session:
        engine.reconcile(session, campaign.id, until)  # at the extension's lock: still open
    statuses = dict(query(db_url, "SELECT institution_id, status FROM progress WHERE stage_id = 'fill-form'"))
    assert statuses["4"] == statuses["6"] == "open" and statuses["5"] == "missed"
    with session_on(db_url) as session:
        assert engine.submit(session, campaign.id, "4", "fill-form", until, LINK).status == "done"  # its due time is its lock: on time
    with session_on(db_url) as session:
        view = engine.status(session, campaign.id, until + MICRO, institution_id="6")
        assert view.institutions[0].stages["fill-form"] == "missed"
        engine.reconcile(session, campaign.id, until + MICRO)
    statuses = dict(query(db_url, "SELECT institution_id, status FROM progress WHERE stage_id = 'fill-form'"))
    assert (statuses["4"], statuses["6"]) == ("done", "missed")


# -- 10. the status projection is what reconcile then writes --------------------------------------

PLAYED = ["fill-form", "review1", "refill"]
_TOMSK = spec.load(TOMSK)
_TOMSK = dataclasses.replace(_TOMSK, stages=tuple(  # two days' grace on fill-form, as `with_grace` writes it: late is reachable
    dataclasses.replace(s, grace=Duration(2, "d"), locks_at=s.locks_at + timedelta(days=2)) if s.id == "fill-form" else s
    for s in _TOMSK.stages))
_BOUNDARIES = sorted({t for s in _TOMSK.stages if s.id in PLAYED for t in (s.opens_at, s.due_at, s.locks_at)})
near_a_boundary = st.builds(lambda t, d: t + d * MICRO, st.sampled_from(_BOUNDARIES), st.sampled_from([-1, 0, 1]))
any_moment = st.builds(lambda h: _BOUNDARIES[0] + timedelta(hours=h), st.integers(-30, 24 * 30))
moments_drawn = near_a_boundary | any_moment


def around(stage_id: str):
    """A moment for an act on the stage: one of its own times ±1 µs, or anywhere from a day before it opens to a day after its lock."""
    stage = _TOMSK.stage(stage_id)
    own = st.builds(lambda t, d: t + d * MICRO, st.sampled_from([stage.opens_at, stage.due_at, stage.locks_at]), st.sampled_from([-1, 0, 1]))
    span = int((stage.locks_at - stage.opens_at).total_seconds()) + 2 * 86400
    return own | st.builds(lambda s: stage.opens_at - timedelta(days=1) + timedelta(seconds=s), st.integers(0, span))


acts_drawn = st.lists(st.sampled_from(PLAYED).flatmap(lambda stage_id: st.tuples(
    around(stage_id), st.sampled_from(["submit", "submit", "extend", "excuse"]), st.sampled_from(ALL), st.just(stage_id),
    st.integers(0, 72))), max_size=12)


@pytest.fixture(scope="module")
def loaded_tomsk(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tomsk.db"
    db = store.connect(f"sqlite:///{path}")
    with store.transaction(db) as session:
        engine.load(session, _TOMSK, local("2021-11-10 09:00"))
    db.dispose()
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acts=acts_drawn, moment=moments_drawn, ticks=st.lists(moments_drawn, max_size=3))
def test_status_at_a_moment_is_what_reconcile_at_it_writes(loaded_tomsk: Path, tmp_path_factory, acts, moment, ticks):
    """Acts (submissions, extensions, excuses) and ticks at drawn moments, boundaries ±1 µs included; then, for a
    drawn moment, `status` (computed, nothing written) says exactly what reconcile at that moment writes."""
    path = tmp_path_factory.mktemp("case") / "tomsk.db"
    shutil.copy(loaded_tomsk, path)
    url = f"sqlite:///{path}"
    db = store.connect(url)
    try:
        events = sorted([(at, "act", act) for at, *act in acts] + [(at, "tick", None) for at in ticks], key=lambda e: e[0])
        for at, kind, act in events:
            try:
                with store.transaction(db) as session:
                    if kind == "tick":
                        engine.reconcile(session, _TOMSK.id, at)
                    elif act[0] == "submit":
                        engine.submit(session, _TOMSK.id, act[1], act[2], at, LINK)
                    elif act[0] == "extend":
                        engine.extend(session, _TOMSK.id, act[1], act[2], at + timedelta(hours=act[3]), "по заявлению", at)
                    else:
                        engine.excuse(session, _TOMSK.id, act[1], act[2], "по заявлению", at)
            except DqflowError:
                pass  # refused (not open, locked, settled…): what a person would be told, nothing written
        with store.transaction(db) as session:
            view = engine.status(session, _TOMSK.id, moment, institutions=True)
        with store.transaction(db) as session:
            engine.reconcile(session, _TOMSK.id, moment)
        with store.dry_run(db) as session:  # what reconcile wrote, as the rule reads it: a review of nothing is NOTHING
            rows = session.exec(select(ProgressRow).where(ProgressRow.campaign_id == _TOMSK.id)).all()
            reviewed = rules.reviews(_TOMSK.stages)
            written = {(r.institution_id, r.stage_id): rules.status_at(r, moment, materials=[
                m for m in rows if m.institution_id == r.institution_id and m.stage_id in reviewed[r.stage_id]]
                if r.stage_id in reviewed else None) for r in rows}
            assert all(w == r.status for r in rows if (w := written[(r.institution_id, r.stage_id)]) != rules.Status.NOTHING.value)
    finally:
        db.dispose()
    stages = dict(query(url, "SELECT id, state FROM stage"))
    assert {s.stage.id: s.state for s in view.stages} == stages
    event(f"statuses written: {', '.join(sorted(set(written.values())))}")
    assert {(i.institution.id, s): st for i in view.institutions for s, st in i.stages.items()} == written
    for s in view.stages:
        if s.stage.per_institution:
            counted = {k: v for k, v in s.counts.items() if v}
            assert counted == {st: n for st in set(written.values())
                               if (n := sum(1 for (_, sid), w in written.items() if sid == s.stage.id and w == st))}, s.stage.id
