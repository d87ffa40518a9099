"""Cost follows what changed: an idle reconcile is a fixed set of indexed probes, whatever the
roster's size (issue 12). Speed itself is measured in benchmarks/, never here."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.calendar import parse_local, zone

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"
TZ = zone("Asia/Tomsk")
# Moments across the Tomsk campaign: before it, inside fill-form, after list 1 was drawn, inside
# review 1, between stages, inside review 2, after the end.
MOMENTS = ["2021-11-17 12:00", "2021-11-22 10:00", "2021-11-26 10:00", "2021-12-03 10:00", "2021-12-09 10:00",
           "2021-12-13 10:00", "2022-02-01 10:00"]


def campaign_of(tmp_path: Path, n: int) -> spec.Campaign:
    """The Tomsk campaign with a roster of `n` ДОУ, each with one expert of its own."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"tomsk-{n}"
    data["institutions"] = [{"id": str(i), "name": f"ДОУ № {i}", "email": f"dou{i}@example.org",
                             "experts": [{"id": f"e{i}", "name": f"Эксперт {i}", "email": f"expert{i}@example.org"}]}
                            for i in range(1, n + 1)]
    path = tmp_path / f"tomsk-{n}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(path)


@contextmanager
def counting(db, steps: list[int] | None = None):
    """The statements sent while the block runs; with `steps`, SQLite's virtual machine steps too."""
    seen: list[tuple[str, tuple]] = []

    def step() -> int:
        steps[0] += 1
        return 0

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))
        if steps is not None:
            conn.connection.dbapi_connection.set_progress_handler(step, 1)

    event.listen(db, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", count)
        if steps is not None:
            with db.connect() as connection:
                connection.connection.dbapi_connection.set_progress_handler(None, 1)


def idle_statements(db, campaign: spec.Campaign, steps: bool = False) -> dict:
    """At each moment: reconcile once (whatever is due happens), then record the statements of a second
    one (or, with `steps`, how many steps SQLite took for them)."""
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local("2021-11-17", TZ))
    found = {}
    for moment in MOMENTS:
        now = parse_local(moment, TZ)
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, now)
        taken = [0]
        with counting(db, taken if steps else None) as seen, store.transaction(db) as session:
            assert engine.reconcile(session, campaign.id, now) == []
        found[moment] = taken[0] if steps else seen
    return found


def test_an_idle_reconcile_issues_the_same_statements_at_two_roster_sizes(db_url: str, tmp_path: Path):
    """Same statements at 8 and at 80 ДОУ (two campaigns in one database): no read grows with the
    roster (no page of rows, no query per row), so an idle tick is a fixed set of indexed probes. A
    per-ДОУ query would add 72 statements; how each probe is answered (an index range, not a scan)
    shows in benchmarks/, whose figures are flat in N."""
    db = store.connect(db_url)
    try:
        small = idle_statements(db, campaign_of(tmp_path, 8))
        large = idle_statements(db, campaign_of(tmp_path, 80))
    finally:
        db.dispose()
    assert {m: len(s) for m, s in small.items()} == {m: len(s) for m, s in large.items()}
    assert {m: [q for q, _ in s] for m, s in small.items()} == {m: [q for q, _ in s] for m, s in large.items()}
    assert max(len(s) for s in small.values()) < 60


@pytest.mark.sqlite_only("counts the SQLite engine's own steps")
def test_an_idle_reconcile_makes_sqlite_do_the_same_work_at_two_roster_sizes(db_url: str, tmp_path: Path):
    """The steps of SQLite's virtual machine (a progress handler called on every step) for an idle
    reconcile at 8 and at 80 ДОУ: within a few percent, where a scan of a stage's rows, or of a
    wide index range, grows tenfold. This is what made an idle tick cost 2.3 s at 50,000 ДОУ."""
    db = store.connect(db_url)
    try:
        small = idle_statements(db, campaign_of(tmp_path, 8), steps=True)
        large = idle_statements(db, campaign_of(tmp_path, 80), steps=True)
    finally:
        db.dispose()
    for moment in MOMENTS:
        assert large[moment] <= small[moment] * 1.1 + 50, moment


def test_the_stored_definition_is_parsed_once_per_content(db_url: str, tmp_path: Path):
    """The roster's JSON is read and parsed by the first command of a process only: later ones read its digest."""
    campaign = campaign_of(tmp_path, 8)
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, parse_local("2021-11-17", TZ))
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, parse_local("2021-11-22 10:00", TZ))
        with counting(db) as seen, store.transaction(db) as session:
            assert engine.definition(session, None) == campaign
            engine.reconcile(session, campaign.id, parse_local("2021-11-22 10:00", TZ))
        assert not [q for q, _ in seen if "definition" in q]
    finally:
        db.dispose()


# -- status: counts as if reconciled, without reconciling; ДОУ on request, a page at a time ----------


def test_status_shows_what_a_tick_would_make_of_the_stored_rows(tomsk):
    """At moments across the campaign, status before the tick equals status after it: the counts and each
    ДОУ's statuses are computed from the stored rows as reconcile would move them (a submission, a late
    one in an extension, an excused ДОУ, a reopened stage along the way)."""
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-20 10:00")
    tomsk.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-21 10:00")
    for moment in ["2021-11-18 12:00", "2021-11-19 00:00", "2021-11-30 23:59", "2021-12-01 00:00", "2021-12-02 10:00",
                   "2021-12-05 23:59:59", "2021-12-06 00:00", "2021-12-13 12:00", "2022-02-01 00:00"]:
        if moment == "2021-12-02 10:00":
            tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-04", "--reason", "болезнь", "--now", moment)
        before = tomsk.json("status", "--institutions", "--now", moment)
        tomsk.ok("tick", "--now", moment)
        assert tomsk.json("status", "--institutions", "--now", moment) == before, moment


def test_status_lists_the_roster_a_page_at_a_time(tomsk):
    everyone = tomsk.json("status", "--institutions", "--now", "2021-11-25 10:00")["institutions"]
    pages, offset = [], 0
    while offset is not None:
        page = tomsk.json("status", "--institutions", "--limit", "4", "--offset", str(offset), "--now", "2021-11-25 10:00")
        pages += page["institutions"]
        assert page["page"]["count"] == len(page["institutions"]) <= 4 and page["page"]["total"] == 11
        offset = page["page"]["next_offset"]
    assert pages == everyone and len(everyone) == 11
    text = tomsk.ok("status", "--institutions", "--limit", "4", "--offset", "4", "--now", "2021-11-25 10:00")
    assert "МАДОУ № 15" in text and "МАДОУ № 2 " not in text
    assert "Показаны ДОУ 5–8 из 11; следующие: dqflow status --institutions --offset 8" in text
    plain = tomsk.ok("status", "--now", "2021-11-25 10:00")
    assert "МАДОУ № 15" not in plain and "ДОУ: 11; по этапам: dqflow status --institutions" in plain


def test_status_issues_the_same_statements_at_two_roster_sizes(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    try:
        found = []
        for n in (8, 80):
            campaign = campaign_of(tmp_path, n)
            with store.transaction(db) as session:
                engine.load(session, campaign, parse_local("2021-11-17", TZ))
            with store.transaction(db) as session:
                engine.reconcile(session, campaign.id, parse_local("2021-11-26 10:00", TZ))
            with counting(db) as seen, store.dry_run(db) as session:
                view = engine.status(session, campaign.id, parse_local("2021-12-03 10:00", TZ))
            assert view.institutions == [] and view.total == n
            found.append([q for q, _ in seen])
    finally:
        db.dispose()
    assert found[0] == found[1] and not [q for q in found[0] if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


# -- correctness at scale: the same outcomes as the naive design -----------------------------------


class NaiveStage:
    """One ДОУ in one stage as the naive design runs it: a `transitions.Machine` of its own, its own times."""

    def __init__(self, stage: spec.Stage):
        from transitions import Machine

        self.opens, self.due, self.locks = stage.opens_at, stage.due_at, stage.locks_at
        self.status = "upcoming"
        Machine(model=self, states=["upcoming", "open", "done", "late", "missed"], initial="upcoming", auto_transitions=False,
                model_attribute="status", transitions=[
                    {"trigger": "open", "source": "upcoming", "dest": "open"},
                    {"trigger": "lock", "source": "open", "dest": "missed"},
                    {"trigger": "reopen", "source": "missed", "dest": "open"},
                    {"trigger": "finish", "source": "open", "dest": "done", "conditions": "on_time"},
                    {"trigger": "finish", "source": "open", "dest": "late"}])

    def on_time(self, at) -> bool:
        return at <= self.due

    def advance(self, now) -> None:
        if self.status == "upcoming" and now >= self.opens:
            self.open()
        if self.status == "open" and now > self.locks:
            self.lock()

    def act(self, step) -> None:
        self.advance(step.at)
        if step.action == "extend" and self.status in ("open", "missed"):
            self.due = self.locks = step.until
            if self.status == "missed":
                self.reopen()
        elif step.action == "submit" and self.status == "open":
            self.finish(step.at)


@pytest.mark.sqlite_only("one replay of 2,000 ДОУ is enough; the backends agree elsewhere")
def test_a_2000_dou_replay_ends_as_the_naive_design_does_and_logs_every_step(db_url: str, tmp_path: Path):
    """The seeded scenario (on time, late in grace, extended, silent, reviewed) replayed by `simulate`
    and played through a Machine per ДОУ and stage: every ДОУ ends every stage in the same status. And
    the replay's log tells each ДОУ's story in each stage step by step: every change starts where the
    one before it ended, no act is refused while the log says the stage was open, and the story ends
    where the database does."""
    from datetime import UTC, datetime

    from dqflow.delivery import simulate

    campaign = campaign_of(tmp_path, 2000)
    plan = simulate.seeded_scenario(campaign, seed=3)
    acts = [a for a in plan if a.action != "review"]
    stages = [s for s in campaign.stages if s.per_institution and s.actor == "institution"]
    naive = {(i.id, s.id): NaiveStage(s) for i in campaign.institutions for s in stages}
    for step in acts:
        naive[(step.institution, step.stage)].act(step)
    end = max(s.locks_at for s in campaign.stages) + timedelta(days=1)
    for dou in naive.values():
        dou.advance(end)

    replay = simulate.replay(campaign, plan, None, None, lambda: datetime.now(UTC), keep=db_url)
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            view = engine.status(session, campaign.id, end, institutions=True, limit=None)
    finally:
        db.dispose()
    outcomes = {(i.institution.id, s.id): i.stages[s.id] for i in view.institutions for s in stages}
    assert len(outcomes) == 2000 * len(stages) and len(acts) > 2000
    assert outcomes == {key: dou.status for key, dou in naive.items()}
    assert {"done", "missed"} <= set(outcomes.values()) and any(a.action == "extend" for a in acts)

    story: dict[tuple[str, str], str] = {}
    for event in replay.events:  # in time order
        if event["institution"] is None:
            continue  # a stage's own state
        key = (event["institution"], event["stage"])
        now = story.get(key, "upcoming")
        if event["type"] in ("open", "lock"):
            assert event["from"] == now, (event, now)
            story[key] = event["to"]
        elif event["type"] == "extend":
            story[key] = "open" if now == "missed" else now
        elif event["type"] == "submit":
            assert now == "open" and event["to"] in ("done", "late"), (event, now)
            story[key] = event["to"]
        elif event["type"] == "refused":
            assert now != "open" or "review" in event["reason"], (event, now)  # an expert may be late; a ДОУ is refused only when locked
    assert {key: story.get(key, "upcoming") for key in outcomes} == outcomes
    reviews = [e for e in replay.events if e["type"] == "review"]
    assert reviews and all(a["at"] <= b["at"] for a, b in zip(replay.events, replay.events[1:]))
