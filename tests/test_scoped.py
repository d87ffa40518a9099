"""A portal's hand-in and review bring only their ДОУ's rows to now (`scoped=True`: `reconciler.catch_up`), where the CLI's
reconcile the whole campaign first. Whatever the moment and the ДОУ's situation (open, in its grace period, locked,
extended, excused, already handed in), both must record the same thing for that ДОУ — the same status or the same
refusal, the same row, the same audit of that row — on copies of one database (hypothesis)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from conftest import TOMSK, Cli, complete
from dqflow import engine, store
from dqflow.engine import experts
from dqflow.errors import DqflowError

TZ = ZoneInfo("Asia/Tomsk")
START = datetime(2021, 11, 18, 0, 0, tzinfo=TZ)  # before the fill-form opens (19.11) …
SPAN_HOURS = 24 * 20  # … to past review1's lock (05.12)
LINK = ("https://dou.example.org/materials",)
pytestmark = pytest.mark.sqlite_only("the database is copied as a file for each side of the comparison")


@pytest.fixture(scope="module")
def untouched(tmp_path_factory) -> Path:
    """Tomsk loaded on 10.11, ДОУ 4 extended to 03.12 18:00 and ДОУ 5 excused on 17.11, and no reconcile since: every
    row of the fill-form still waits to be opened (19.11), locked, missed — what a scoped hand-in must bring itself."""
    folder = tmp_path_factory.mktemp("untouched")
    dq = Cli(f"sqlite:///{folder / 'base.db'}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин", "--now", "2021-11-17 10:00")
    dq.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-17 10:00")
    return folder / "base.db"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """Tomsk loaded on 10.11 and never ticked after: ДОУ 4 extended to 03.12 18:00, ДОУ 5 excused, ДОУ 6 handed in on
    22.11; list 1 drawn on 25.11 and ДОУ 2 and 15 handed in before it, so their experts have something to review."""
    folder = tmp_path_factory.mktemp("scoped")
    dq = Cli(f"sqlite:///{folder / 'base.db'}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин", "--now", "2021-11-20 10:00")
    dq.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-20 10:00")
    for inst in ("2", "6", "15"):
        dq.ok("submit", inst, "--stage", "fill-form", "--link", LINK[0], "--now", "2021-11-22 10:00")
    dq.ok("tick", "--now", "2021-11-25 12:00")  # list 1 drawn; nothing later ticked
    return folder / "base.db"


def _copy(base: Path, folder: Path, name: str) -> str:
    """The database as a file of its own (its write-ahead log too: what is committed may be there still)."""
    target = folder / name
    for suffix in ("", "-wal"):
        if Path(f"{base}{suffix}").exists():
            shutil.copyfile(f"{base}{suffix}", f"{target}{suffix}")
        else:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{target}"


def _act(url: str, act, scoped: bool) -> tuple[str, list[tuple], list[tuple]]:
    """The outcome (status or refusal code), the acted row, and the audit rows of that ДОУ's stage."""
    db = store.connect(url)
    try:
        try:
            with store.transaction(db) as session:
                outcome = act(session, scoped)
        except DqflowError as refused:
            outcome = f"refused:{refused.code}"
        inst, stage = act.inst, act.stage
        with db.connect() as c:
            row = list(c.execute(text("SELECT status, opens_at, due_at, locks_at, extended, submitted_at FROM progress "
                                      "WHERE institution_id = :i AND stage_id = :s"), {"i": inst, "s": stage}))
            audit = list(c.execute(text("SELECT action, source, dest, at, detail, actor FROM audit "
                                        "WHERE institution_id = :i AND stage_id = :s ORDER BY at, action"), {"i": inst, "s": stage}))
        return outcome, row, audit
    finally:
        db.dispose()


class Submit:
    def __init__(self, inst: str, now: datetime):
        self.inst, self.stage, self.now = inst, "fill-form", now

    def __call__(self, session, scoped: bool) -> str:
        return engine.submit(session, "tomsk-2021", self.inst, self.stage, self.now, LINK, scoped=scoped).status


class Review:
    def __init__(self, inst: str, expert: str, now: datetime):
        self.inst, self.stage, self.expert, self.now = inst, "review1", expert, now

    def __call__(self, session, scoped: bool) -> str:
        entry = experts.ReviewEntry(self.inst, self.stage, self.expert, complete(), "")
        return engine.review_many(session, "tomsk-2021", [entry], self.now, scoped=scoped)[0]


def _expert_of(base: Path, inst: str) -> str:
    db = store.connect(f"sqlite:///{base}")
    try:
        with db.connect() as c:
            return c.execute(text("SELECT expert_id FROM assignment WHERE stage_id = 'list1' AND institution_id = :i "
                                  "ORDER BY expert_id"), {"i": inst}).scalars().first() or "e2"
    finally:
        db.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=st.sampled_from(["2", "4", "5", "6", "40"]), hours=st.integers(0, SPAN_HOURS), minutes=st.sampled_from([0, 30, 59]))
def test_a_scoped_hand_in_records_what_a_whole_reconcile_would(untouched: Path, prepared: Path, tmp_path: Path, inst: str,
                                                               hours: int, minutes: int):
    now = START + timedelta(hours=hours, minutes=minutes)
    act = Submit(inst, now)
    for base in (untouched, prepared):  # rows no reconcile has moved, and rows moved, handed in, extended, excused
        scoped = _act(_copy(base, tmp_path, f"s-{inst}-{hours}-{minutes}.db"), act, True)
        whole = _act(_copy(base, tmp_path, f"w-{inst}-{hours}-{minutes}.db"), act, False)
        assert scoped == whole, (base.parent.name, inst, now)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=st.sampled_from(["2", "15", "40", "5"]), hours=st.integers(24 * 7, SPAN_HOURS), minutes=st.sampled_from([0, 30, 59]))
def test_a_scoped_review_records_what_a_whole_reconcile_would(prepared: Path, tmp_path: Path, inst: str, hours: int, minutes: int):
    now = START + timedelta(hours=hours, minutes=minutes)
    act = Review(inst, _expert_of(prepared, inst), now)
    scoped = _act(_copy(prepared, tmp_path, f"s-{inst}-{hours}-{minutes}.db"), act, True)
    whole = _act(_copy(prepared, tmp_path, f"w-{inst}-{hours}-{minutes}.db"), act, False)
    assert scoped == whole, (inst, now)
