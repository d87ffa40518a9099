"""`engine.play`: the acts of a stretch recorded at once end exactly where the same acts recorded
one by one (each in its own transaction, reconciled at its own moment) end: statuses, submissions,
reviews, extensions, audit rows and refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import NullPool

from conftest import TOMSK
from dqflow import engine, store
from dqflow.engine import experts
from dqflow.campaign import spec
from dqflow.calendar import parse_local
from dqflow.errors import DqflowError

CAMPAIGN = spec.load(TOMSK)
LEVELS = {a.id: "2" for a in CAMPAIGN.areas}  # a review counts with a level for every area
DOU = [i.id for i in CAMPAIGN.institutions]
# Two stretches in which nothing falls due: inside fill-form (refill not open yet), inside review 1
# (fill-form locked, list 1 drawn). Acts within seven hours of the start.
STRETCHES = ["2021-11-22 10:00", "2021-12-02 10:00"]
KINDS = ["fill-form", "refill", "review1", "review1-by-0", "review1-by-1", "review1-by-stranger",
         "extend-fill-form", "extend-refill", "extend-review1"]
# An extension's new deadline, days from the stretch's start (never inside the stretch: nothing falls due in it),
# and its reason: refused in the past, before refill opens (stretch 1), without a reason.
EXTENSIONS = [(-1, "справка"), (3, "справка"), (20, "больничный"), (3, "  ")]
COMPARED = ["progress", "submission", "review", "extension", "audit", "outbox"]


def loaded(folder: Path, name: str, start) -> str:
    url = f"sqlite:///{folder / name}"
    db = store.connect(url)
    try:
        with store.transaction(db) as session:
            engine.load(session, CAMPAIGN, parse_local("2021-11-10 09:00", CAMPAIGN.tz))
        with store.transaction(db) as session:
            engine.reconcile(session, CAMPAIGN.id, start)
    finally:
        db.dispose()
    return url


def tables(url: str, extended: set[tuple[str, str]]) -> dict[str, list]:
    """The compared tables' rows, but for the (ДОУ, stage) pairs `extended`: their reminders and when they were
    planned for, which the acts one by one re-plan at once (each reconciles) and a stretch at the next wake."""
    db = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with db.connect() as connection:
            found = {}
            for name in COMPARED:
                rows = connection.execute(sqlalchemy.text(f"SELECT * FROM {name}")).mappings()
                found[name] = sorted((tuple(None if name == "progress" and column == "planned_due" and (r["institution_id"], r["stage_id"])
                                            in extended else value for column, value in r.items())
                                      for r in rows if not (name == "outbox" and (r["institution_id"], r["stage_id"]) in extended)),
                                     key=repr)
            return found
    finally:
        db.dispose()


def acts_of(url: str, drawn: list[tuple[int, str, str, tuple[int, str]]], start) -> list[engine.Act]:
    """The drawn acts as the engine takes them: reviews by the ДОУ's first or second assigned expert, or
    by an expert of the campaign who is not assigned to it (refused); extensions of the ДОУ's deadline."""
    db = store.connect(url)
    try:
        with store.dry_run(db) as session:
            assigned = experts.stored(session, CAMPAIGN.id, "list1")
    finally:
        db.dispose()
    everyone = sorted(e.id for e, _ in CAMPAIGN.every_expert())
    found = []
    for minute, dou, kind, (days, reason) in sorted(drawn):
        at = start + timedelta(minutes=minute)
        if kind.startswith("extend-"):
            found.append(engine.Act(at, dou, kind.removeprefix("extend-"), until=start + timedelta(days=days), reason=reason))
            continue
        if not kind.startswith("review1-by-"):
            found.append(engine.Act(at, dou, kind, (f"https://dou{dou}.example.org/{minute}",)))
            continue
        mine = assigned.get(dou, [])
        who = kind.removeprefix("review1-by-")
        expert = next((e for e in everyone if e not in mine), None) if who == "stranger" else mine[int(who)] if int(who) < len(mine) else None
        if expert is not None:
            found.append(engine.Act(at, dou, "review1", expert_id=expert, levels=LEVELS, recommendations=f"Замечание {minute}"))
    return found


def recorded_alone(session, act: engine.Act) -> str:
    """The ДОУ's status after the act, recorded by the command that records it alone (reconciled at its moment)."""
    if act.until is not None:
        row = engine.extend(session, CAMPAIGN.id, act.institution_id, act.stage_id, act.until, act.reason, act.at)
    elif act.expert_id:
        row = engine.review(session, CAMPAIGN.id, act.institution_id, act.stage_id, act.expert_id, act.levels,
                            act.recommendations, act.at)
    else:
        row = engine.submit(session, CAMPAIGN.id, act.institution_id, act.stage_id, act.at, act.links)
    return row.status


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stretch=st.sampled_from(STRETCHES),
       drawn=st.lists(st.tuples(st.integers(0, 419), st.sampled_from(DOU), st.sampled_from(KINDS), st.sampled_from(EXTENSIONS)),
                      min_size=1, max_size=14))
def test_acts_played_at_once_end_where_the_same_acts_one_by_one_end(tmp_path_factory, stretch, drawn):
    folder = tmp_path_factory.mktemp("play")
    start = parse_local(stretch, CAMPAIGN.tz)
    at_once, one_by_one = loaded(folder, "at-once.db", start), loaded(folder, "one-by-one.db", start)
    acts = acts_of(at_once, drawn, start)

    db = store.connect(at_once)
    try:
        with store.transaction(db) as session:
            played = engine.play(session, CAMPAIGN.id, acts)
    finally:
        db.dispose()

    alone: list[str | DqflowError] = []
    db = store.connect(one_by_one)
    try:
        for act in acts:
            try:
                with store.transaction(db) as session:
                    alone.append(recorded_alone(session, act))
            except DqflowError as exc:
                alone.append(exc)
    finally:
        db.dispose()

    assert [str(p) if isinstance(p, DqflowError) else p for p in played] == \
           [str(a) if isinstance(a, DqflowError) else a for a in alone]
    assert [p.code for p in played if isinstance(p, DqflowError)] == [a.code for a in alone if isinstance(a, DqflowError)]
    # an extension's reminders are planned by the next reconcile (the replay's next wake), not by the acts after it
    extended = {(a.institution_id, a.stage_id) for a, p in zip(acts, played) if a.until is not None and not isinstance(p, DqflowError)}
    assert tables(at_once, extended) == tables(one_by_one, extended)
