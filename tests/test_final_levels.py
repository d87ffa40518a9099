"""The final levels kept (issue 23, `engine.finals.stored`, `keep`, `refresh`; revision 0015's `final_level`, `final_state`,
`final_dirty` and triggers): after random acts — reviews per indicator by one or two experts with random levels, their
replacements, settlements, a withdrawal, an amendment of the scale or of the `settle:` rule, a write to `review_level`
behind the acts' back — whatever the справка would read as kept equals `FinalsSql.finals` computed afresh and the
Python rules of `engine.finals`; the справка's bytes are the same from kept and from computed levels; the statements of
the acts and of the справка do not grow with the roster; a database of revision 0014 upgrades and its справка is
unchanged. On SQLite and PostgreSQL (the `db_url` fixtures)."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from conftest import PG_SERVER, Cli, counting_statements
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text
from test_form import REQUIRED, form_file
from test_indicator_report import many
from test_migrations import alembic, revision, shape

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.delivery import wake
from dqflow.delivery.daemon import Daemon
from dqflow.delivery.mail import SmtpSettings, SmtpTransport
from dqflow.delivery.outbox import DrainReport
from dqflow.engine import amend, experts, finals, form, settle
from dqflow.errors import DqflowError
from dqflow.results import figures, indicators
from dqflow.store import FinalDirtyRow, FinalLevelRow, FinalStateRow, OutboxRow, ReviewLevelRow, SettlementRow, table
from dqflow.store.schema import HEAD
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)

ROSTER = ("1", "2", "3", "4")


def at(campaign: spec.Campaign, moment: str) -> datetime:
    return parse_local(moment, campaign.tz)


def campaign_file(folder: Path, *, settle_rule: str | None = None, scale: int = 4, withdrawn: tuple[str, ...] = (),
                  n: int = len(ROSTER)) -> spec.Campaign:
    """The Tomsk campaign with its form and a roster of `n` ДОУ (two experts each), with the amendable parts given."""
    path = form_file(folder, n, name="kept")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if settle_rule is not None:
        data["settle"] = settle_rule
    data["levels"] = data["levels"][:scale]
    roster = folder / f"roster-{n}.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    roster.write_text("\n".join(line for line in lines if line.split(",")[0] not in withdrawn) + "\n", encoding="utf-8")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(path)


def tick(db, campaign_id: str, when: datetime) -> None:
    """As `dqflow tick` does: a reconcile, then the kept final levels caught up in steps (`engine.catch_up_finals`)."""
    with store.transaction(db) as session:
        engine.reconcile(session, campaign_id, when)
    with store.dry_run(db) as session:
        campaign = engine.definition(session, campaign_id)
    assert engine.catch_up_finals(lambda: store.dry_run(db), lambda: store.transaction(db), campaign)


def prepare(url: str, folder: Path, n: int = len(ROSTER)) -> spec.Campaign:
    """Loaded, list 1 drawn, every ДОУ's form handed in (its own level 2 everywhere); reconciled once in review 1, so the
    final levels are kept (none yet)."""
    campaign = campaign_file(folder, n=n)
    db = store.connect(url)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, at(campaign, "2021-11-10 09:00"))
        when = at(campaign, "2021-11-25 10:00")
        with store.transaction(db) as session:
            for inst in [str(i) for i in range(1, n + 1)]:
                for ind in campaign.indicators:
                    links = [(f"https://dou{inst}.example.org/{ind}", None)] if ind in REQUIRED else None
                    form.save(session, campaign.id, inst, "fill-form", ind, when, links=links, level="2")
        with store.transaction(db) as session:
            for inst in [str(i) for i in range(1, n + 1)]:
                engine.submit(session, campaign.id, inst, "fill-form", when + timedelta(minutes=5))
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, at(campaign, "2021-12-01 12:00"))
    finally:
        db.dispose()
    return campaign


class Copies:
    """A prepared database, copied afresh for each example (a file on SQLite; a database made from it as a template on
    PostgreSQL)."""

    def __init__(self, url: str, folder: Path):
        self.url, self.folder, self.made = url, folder, []
        self.campaign = prepare(url, folder)

    def fresh(self) -> str:
        name = f"ex_{uuid.uuid4().hex[:10]}"
        if self.url.startswith("sqlite"):
            target = self.folder / f"{name}.db"
            shutil.copyfile(self.url.removeprefix("sqlite:///"), target)
            return f"sqlite:///{target}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.url.rsplit("/", 1)[1]}"')
        self.made.append(name)
        return f"{PG_SERVER}/{name}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test", autocommit=True) as connection:
            connection.execute(statement)

    def drop(self, url: str) -> None:
        if not url.startswith("sqlite"):
            self._admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def copies(db_url: str, tmp_path: Path) -> Copies:
    return Copies(db_url, tmp_path)


def kept_rows(session, campaign: spec.Campaign) -> set[tuple] | None:
    """What the справка would read as the kept final levels, or None where it would compute them."""
    kept = finals.stored(session, campaign)
    return None if kept is None else {tuple(r) for r in session.execute(kept)}


def computed_rows(session, campaign: spec.Campaign) -> set[tuple]:
    return {tuple(r) for r in session.execute(finals.FinalsSql(campaign).finals(experts=True))}


def by_the_rules(session, campaign: spec.Campaign) -> dict[tuple[str, str, str], int | None]:
    """(ДОУ, stage, indicator) → the final place by the Python rules (`finals.final`) from the stored rows."""
    rl, st_ = table(ReviewLevelRow).c, table(SettlementRow).c
    scale = [lv.id for lv in campaign.levels]
    stages = [s.id for s in finals.review_stages(campaign)]
    given: dict[tuple[str, str, str], list[str]] = {}
    for inst, stage, ind, level in session.execute(select(rl.institution_id, rl.stage_id, rl.indicator_id, rl.level)
                                                   .where(rl.campaign_id == campaign.id)):
        if stage in stages and ind in campaign.indicators:
            given.setdefault((inst, stage, ind), []).append(level)
    settled = {(inst, stage, ind): level for inst, stage, ind, level in session.execute(
        select(st_.institution_id, st_.stage_id, st_.indicator_id, st_.level).where(st_.campaign_id == campaign.id))
        if stage in stages and ind in campaign.indicators}
    found = {}
    for key in set(given) | set(settled):
        level = finals.final(given.get(key, []), settled.get(key), scale, campaign.settle)
        found[key] = scale.index(level) if level in scale else None
    return found


def check(url: str) -> bool:
    """The invariant: where the справка would read kept levels, they are those computed afresh and the Python rules'.
    Whether it would read them."""
    db = store.connect(url)
    try:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, None)
            kept, computed = kept_rows(session, campaign), computed_rows(session, campaign)
            rules = by_the_rules(session, campaign)
    finally:
        db.dispose()
    assert {(i, s, ind): fin for i, s, ind, _, _, _, _, fin, _, _ in computed} == rules
    if kept is not None:
        assert kept == computed
    return kept is not None


ACTS = st.one_of(
    st.tuples(st.just("review"), st.sampled_from(ROSTER), st.integers(0, 1), st.lists(st.sampled_from("1234"), min_size=1, max_size=3)),
    st.tuples(st.just("settle"), st.sampled_from(ROSTER), st.sampled_from(("1.1", "1.2", "2.1")), st.sampled_from("1234")),
    st.tuples(st.just("amend"), st.sampled_from(("scale", "settle", "withdraw")), st.sampled_from(("lower", "coordinator",
                                                                                                       "mean-rounded-down"))),
    st.tuples(st.just("behind"), st.sampled_from(ROSTER), st.sampled_from(("1.1", "2.1")), st.sampled_from("1234")),
    st.tuples(st.just("tick")),
)


def play(url: str, folder: Path, act: tuple, when: datetime, amended: dict[str, Any]) -> str:
    """One act at `when` in its own transaction; what kind of act it was for the invariant ('act': it keeps what it
    changes; 'other': it may leave the kept levels to be computed; 'refused')."""
    db = store.connect(url)
    try:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, None)
            assigned = experts.stored(session, campaign.id, "list1")
        kind = act[0]
        if kind == "tick":
            tick(db, campaign.id, when)
            return "tick"
        try:
            with store.transaction(db) as session:
                if kind == "review":
                    _, inst, which, levels = act
                    mine = sorted(assigned.get(inst, []))
                    if which >= len(mine):
                        return "refused"
                    every = {ind: levels[n % len(levels)] for n, ind in enumerate(campaign.indicators)}
                    engine.review(session, campaign.id, inst, "review1", mine[which], every, "", when)
                elif kind == "settle":
                    _, inst, indicator, level = act
                    settle.settle(session, campaign.id, inst, "review1", indicator, level, "решено", when)
                elif kind == "amend":
                    _, what, rule = act
                    if what == "scale":
                        amended["scale"] = 3 if amended.get("scale", 4) == 4 else 4
                    elif what == "settle":
                        amended["settle_rule"] = rule
                    else:
                        amended["withdrawn"] = ("4",)
                    amend.apply(session, campaign_file(folder, **amended), when, "приказ", force=True)
                    return "other"
                elif kind == "behind":  # a write that is no act's: an operator's SQL, a test's rows
                    _, inst, indicator, level = act
                    session.execute(delete(ReviewLevelRow).where(table(ReviewLevelRow).c.institution_id == inst,
                                                                 table(ReviewLevelRow).c.indicator_id == indicator))
                    session.execute(insert(ReviewLevelRow).values(campaign_id=campaign.id, stage_id="review1", institution_id=inst,
                                                                  expert_id="behind", indicator_id=indicator, level=level))
                    return "other"
        except DqflowError:
            return "refused"
        return "act"
    finally:
        db.dispose()


DISAGREE = [("review", "1", 0, ["1"]), ("review", "1", 1, ["3", "1"]), ("review", "2", 0, ["4"]), ("review", "2", 1, ["4", "2"])]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acts=st.lists(ACTS, min_size=1, max_size=10))
@example(acts=[*DISAGREE, ("amend", "settle", "coordinator"), ("settle", "1", "1.1", "2"), ("amend", "settle", "mean-rounded-down")])
@example(acts=[*DISAGREE, ("amend", "scale", "lower"), ("review", "2", 1, ["4"]), ("amend", "scale", "lower")])
@example(acts=[*DISAGREE, ("settle", "2", "1.2", "1"), ("review", "2", 0, ["2"]), ("amend", "withdraw", "lower"), ("behind", "1", "2.1", "4"),
               ("review", "3", 0, ["1"]), ("tick",)])
def test_kept_final_levels_are_those_computed_after_any_acts(copies: Copies, acts):
    url = copies.fresh()
    try:
        folder = copies.folder / f"files-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        when = at(copies.campaign, "2021-12-02 10:00")
        amended: dict[str, Any] = {}
        assert check(url)  # prepared: reconciled, so kept (none yet)
        kept = True
        for n, act in enumerate(acts):
            done = play(url, folder, act, when + timedelta(minutes=n), amended)
            now_kept = check(url)
            if done in ("act", "refused") and kept:  # an act keeps what it changes: still read as kept
                assert now_kept, (act, done)
            elif done == "tick":  # a tick brings them up to date, whatever happened before
                assert now_kept, act
            kept = now_kept
        db = store.connect(url)
        try:
            tick(db, copies.campaign.id, when + timedelta(minutes=len(acts)))
        finally:
            db.dispose()
        assert check(url)
    finally:
        copies.drop(url)


# -- the справка the same from kept and from computed levels -------------------------------------------------------

NOW = "2021-12-20 12:00"


def settled_many(db, folder: Path, n: int) -> spec.Campaign:
    """`many`'s campaign (each ДОУ reviewed by its two experts, written as sets) with every third ДОУ's 1.1 settled, and
    a tick that brings the kept levels up to date (the sets were written behind the acts' back)."""
    campaign = many(db, folder, n)
    with store.transaction(db) as session:
        session.execute(insert(SettlementRow), [{"campaign_id": campaign.id, "stage_id": "review1", "institution_id": inst.id,
                                                 "indicator_id": "1.1", "level": "3", "reason": "решено",
                                                 "at": at(campaign, "2021-12-04 10:00")} for inst in campaign.institutions[::3]])
    with store.dry_run(db) as session:
        assert finals.stored(session, campaign) is None  # marked by the database: computed until a tick
    tick(db, campaign.id, at(campaign, "2021-11-25 00:05"))
    with store.dry_run(db) as session:
        assert finals.stored(session, campaign) is not None
    return campaign


def reports(url: str, campaign: spec.Campaign, out: Path) -> dict[str, bytes]:
    """Every face of the справка (HTML with each ДОУ's section, the CSV tables, the workbook), as bytes by file name."""
    out.mkdir(parents=True)
    dq = Cli(url)
    for fmt, target in (("html", out / "s.html"), ("csv", out / "csv"), ("xlsx", out / "s.xlsx"), ("md", out / "s.md"), ("docx", out / "s.docx")):
        dq.ok("--campaign", campaign.id, "report", "--format", fmt, "--out", str(target), "--now", NOW)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_the_spravka_is_the_same_from_kept_and_from_computed_levels(db_url: str, database, tmp_path: Path):
    campaign = settled_many(database, tmp_path, 15)
    kept = reports(db_url, campaign, tmp_path / "kept")
    with store.transaction(database) as session:  # no longer kept: the report computes them
        session.execute(delete(FinalStateRow))
    with store.dry_run(database) as session:
        assert finals.stored(session, campaign) is None
    computed = reports(db_url, campaign, tmp_path / "computed")
    assert "csv/indicators.csv" in kept and kept == computed


@pytest.mark.parametrize("snapshot", [True, False], ids=["one-snapshot", "statement-snapshots"])
def test_kept_levels_are_read_not_computed(database, tmp_path: Path, snapshot: bool):
    """With kept levels the справка reads `final_level` and computes none: in place (no temporary table of the final
    levels) where its statements read one snapshot (SQLite's; PostgreSQL's with `dry_run(snapshot=True)`, as `report`
    opens it); otherwise copied into it by one statement, which reads no expert's level."""
    campaign = settled_many(database, tmp_path, 15)
    with store.dry_run(database, snapshot=snapshot) as session, counting_statements(database) as statements:
        figures.compute(session, campaign.id, at(campaign, NOW), detail=True)
    said = [s.lower() for s in statements]
    assert any("final_level" in s for s in said)
    made = [s for s in said if s.startswith("create temporary table dqflow_finals")]
    if snapshot or database.dialect.name == "sqlite":
        assert made == []
    else:
        assert len(made) == 1 and "from final_level" in made[0] and "review_level" not in made[0]


@pytest.mark.parametrize("snapshot", [True, False], ids=["one-snapshot", "statement-snapshots"])
def test_a_report_reads_its_kept_levels_of_one_moment(database, tmp_path: Path, snapshot: bool):
    """What the справка reads of the kept levels does not change under it when another transaction commits new ones:
    read in place from one snapshot, or (each statement seeing its own) copied at once."""
    campaign = settled_many(database, tmp_path, 15)
    with store.dry_run(database, snapshot=snapshot) as session:
        source = indicators.materialize(session, campaign, experts=True)
        before = sorted(tuple(r) for r in session.execute(select(source)))
        with store.transaction(database) as other:  # as a later refresh under other rules would
            other.execute(delete(FinalLevelRow))
        assert before and sorted(tuple(r) for r in session.execute(select(source))) == before


# -- the cost -------------------------------------------------------------------------------------------------------


def test_statements_equal_at_15_and_1500_dou(database, tmp_path: Path):
    """The справка's figures with kept levels, and a review and a settlement that keep them, cost the same statements at
    15 and at 1,500 ДОУ."""
    seen: dict[tuple[int, str], int] = {}

    def counted(statements: list[str]) -> int:  # but PostgreSQL's statistics, refreshed once this process's writes pass their
        # share of a table (`store.statistics`: the sets' rows, at 1,500 ДОУ), whatever the act
        return len([s for s in statements if not s.startswith(("ANALYZE", "SELECT relname, reltuples FROM pg_class"))])

    for n in (15, 1500):
        campaign = settled_many(database, tmp_path, n)
        for detail in (False, True):
            with store.dry_run(database) as session, counting_statements(database) as statements:
                found = figures.compute(session, campaign.id, at(campaign, NOW), detail=detail)
            assert found.indicators is not None and sum(f.rated for f in found.indicators.figures) == n * len(campaign.indicators)
            seen[(n, f"figures {detail}")] = counted(statements)
        with store.dry_run(database) as session:
            mine = sorted(experts.stored(session, campaign.id, "list1")["2"])
        when = at(campaign, "2021-12-04 11:00")
        with counting_statements(database) as statements, store.transaction(database) as session:
            engine.review(session, campaign.id, "2", "review1", mine[0], {ind: "1" for ind in campaign.indicators}, "", when)
        seen[(n, "review")] = counted(statements)
        with store.transaction(database) as session:
            engine.review(session, campaign.id, "2", "review1", mine[1], {ind: "4" for ind in campaign.indicators}, "", when)
        with counting_statements(database) as statements, store.transaction(database) as session:
            settle.settle(session, campaign.id, "2", "review1", "1.2", "2", "решено", when)
        seen[(n, "settle")] = counted(statements)
        with store.dry_run(database) as session:
            assert finals.stored(session, campaign) is not None  # the acts kept what they changed
            assert session.execute(select(table(FinalDirtyRow))).first() is None
            assert {tuple(r) for r in session.execute(finals.stored(session, campaign))} == computed_rows(session, campaign)
    assert {what: seen[(15, what)] for _, what in seen} == {what: seen[(1500, what)] for _, what in seen}


# -- a database of the previous revision ------------------------------------------------------------------------------


def test_a_database_of_revision_0014_upgrades_and_its_spravka_is_unchanged(db_url: str, database, tmp_path: Path):
    campaign = settled_many(database, tmp_path, 15)
    database.dispose()
    before = reports(db_url, campaign, tmp_path / "now")
    alembic(db_url, "downgrade", "0014")  # as the previous dqflow left it: no table of kept levels, no trigger
    assert revision(db_url) == "0014" and "final_level" not in shape(db_url)
    upgraded = reports(db_url, campaign, tmp_path / "upgraded")  # its first command upgrades it: computed, none kept yet
    assert revision(db_url) == HEAD and upgraded == before
    with store.dry_run(database) as session:
        assert finals.stored(session, campaign) is None and session.execute(select(table(FinalLevelRow))).first() is None
    Cli(db_url).ok("--campaign", campaign.id, "tick", "--now", "2021-11-25 00:05")  # keeps them
    with store.dry_run(database) as session:
        kept = finals.stored(session, campaign)
        assert kept is not None and {tuple(r) for r in session.execute(kept)} == computed_rows(session, campaign)
    assert reports(db_url, campaign, tmp_path / "ticked") == before
    with store.transaction(database) as session:  # and the upgraded database marks what is written behind the acts' back
        session.execute(delete(ReviewLevelRow).where(table(ReviewLevelRow).c.institution_id == "3"))
    with store.dry_run(database) as session:
        assert finals.stored(session, campaign) is None
        assert {tuple(r) for r in session.execute(select(table(FinalDirtyRow).c.institution_id))} == {("3",)}


# -- new rules caught up in bounded steps (`engine.step_finals`, `catch_up_finals`) -----------------------------------


def amended_file(folder: Path, campaign: spec.Campaign) -> Path:
    """`settled_many`'s campaign file (`many`'s) with another `settle:` rule."""
    data = yaml.safe_load((folder / f"many-{len(campaign.institutions)}.yaml").read_text(encoding="utf-8"))
    data["settle"] = "mean-rounded-down" if campaign.settle != "mean-rounded-down" else "lower"
    path = folder / "amended.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def amended_settle(db, folder: Path, campaign: spec.Campaign) -> spec.Campaign:
    """`settled_many`'s campaign amended to another `settle:` rule (its file is `many`'s): every kept level now follows
    other rules, and the amendment's reconcile only marks them (`finals.refresh`)."""
    amended = spec.load(amended_file(folder, campaign))
    with store.transaction(db) as session:
        amend.apply(session, amended, at(campaign, "2021-12-04 12:00"), "приказ", force=True)
    return amended


def marked(session) -> set[str]:
    """The ДОУ with a review stage marked (`final_dirty`)."""
    return {inst for inst, in session.execute(select(table(FinalDirtyRow).c.institution_id))}


def test_new_rules_are_kept_in_bounded_steps_and_the_spravka_is_computed_until_the_last(db_url: str, database, tmp_path: Path):
    """After an amendment of the `settle:` rule the reconcile only marks every ДОУ; each step then computes at most its
    `size` ДОУ's levels in a transaction of its own. A report between two steps is the computed one (nothing kept is read
    while anything is marked), and so is the report from the levels kept after the last step."""
    campaign = settled_many(database, tmp_path, 15)
    amended = amended_settle(database, tmp_path, campaign)
    with store.dry_run(database) as session:
        assert finals.stored(session, amended) is None
        assert marked(session) == {inst.id for inst in amended.institutions}
        old = {tuple(r) for r in session.execute(select(table(FinalLevelRow)).with_only_columns(
            *(table(FinalLevelRow).c[c] for c in ("institution_id", "stage_id", "indicator_id", "final"))))}
        new = {(i, s, ind, fin) for i, s, ind, _, _, _, _, fin, _, _ in computed_rows(session, amended)}
        assert old != new  # the rule matters here: what is kept is stale until computed again
    computed = reports(db_url, amended, tmp_path / "computed")
    steps, left = 0, True
    while left:
        with store.transaction(database) as session:
            before = marked(session)
            left = engine.step_finals(session, amended.id, size=4)
            assert len(before - marked(session)) == min(4, len(before))  # 4 ДОУ a step: no more, no fewer
        steps += 1
        if steps == 2:  # half way: 8 ДОУ kept under the new rule, 7 under the old one
            with store.dry_run(database) as session:
                assert finals.stored(session, amended) is None
            assert reports(db_url, amended, tmp_path / "midway") == computed
    assert steps == 4
    with store.dry_run(database) as session:
        assert kept_rows(session, amended) == computed_rows(session, amended)
    assert reports(db_url, amended, tmp_path / "kept") == computed


def test_a_catch_up_interrupted_leaves_marks_and_the_next_tick_finishes_it(db_url: str, database, tmp_path: Path):
    """Level-triggered: a catch-up stopped by its time (`more`) or by a failure in a step's transaction leaves the rest
    marked (nothing read as kept), and the next `tick` computes what is left."""
    campaign = settled_many(database, tmp_path, 15)
    amended = amended_settle(database, tmp_path, campaign)
    assert not engine.catch_up_finals(lambda: store.dry_run(database), lambda: store.transaction(database), amended,
                                      more=lambda: False, size=4)  # out of time after one step
    with store.dry_run(database) as session:
        assert len(marked(session)) == 11 and finals.stored(session, amended) is None
    with pytest.raises(RuntimeError), store.transaction(database) as session:  # a step that fails before its commit
        engine.step_finals(session, amended.id, size=4)
        raise RuntimeError("crash")
    with store.dry_run(database) as session:
        assert len(marked(session)) == 11
    Cli(db_url).ok("--campaign", amended.id, "tick", "--now", "2021-12-04 13:00")
    with store.dry_run(database) as session:
        assert marked(session) == set() and kept_rows(session, amended) == computed_rows(session, amended)


def test_send_catches_the_kept_levels_up_as_the_daemon_does(db_url: str, database, tmp_path: Path, smtp_server):
    """Every wake-up (the daemon's, `send`'s, `run --once`'s) catches the kept levels up after it has sent, for
    `wake.CATCH_UP` at most (15 ДОУ: one step)."""
    campaign = settled_many(database, tmp_path, 15)
    amended = amended_settle(database, tmp_path, campaign)
    Cli(db_url, env=smtp_server.env()).ok("--campaign", amended.id, "send", "--now", "2021-12-04 13:00")
    with store.dry_run(database) as session:
        assert kept_rows(session, amended) == computed_rows(session, amended)


def test_an_amendment_applied_from_the_command_line_catches_the_kept_levels_up(db_url: str, database, tmp_path: Path):
    """`load --apply` of new rules (here `settle:`) marks every kept level in its transaction, then computes them again
    in steps once committed, as `tick` does: nothing is left marked, and what is kept is what the new rules compute."""
    path = amended_file(tmp_path, settled_many(database, tmp_path, 15))
    Cli(db_url).ok("load", str(path), "--apply", "--force", "--reason", "приказ", "--now", "2021-12-04 12:00")
    amended = spec.load(path)
    with store.dry_run(database) as session:
        assert marked(session) == set()
        kept = kept_rows(session, amended)
        assert kept is not None and kept == computed_rows(session, amended)


def test_a_stop_asked_during_the_rest_between_steps_takes_no_further_step(db_url: str, database, tmp_path: Path):
    """`more()` is asked after each step and again after the rest that follows it: a stop asked meanwhile (Ctrl-C, the
    daemon stopping) ends the catch-up there, not after one more step."""
    campaign = settled_many(database, tmp_path, 15)
    amended = amended_settle(database, tmp_path, campaign)
    answers = iter([True, False])  # go on after the first step; stopped by the end of its rest
    assert not engine.catch_up_finals(lambda: store.dry_run(database), lambda: store.transaction(database), amended,
                                      more=lambda: next(answers), size=4, rest=0.01)
    with store.dry_run(database) as session:
        assert len(marked(session)) == 11  # one step of 4 ДОУ


def _failing_kept_writes(database) -> None:
    """Every write of a kept level refused from now on (a lock waited for too long, as far as the catch-up can tell)."""
    with store.transaction(database) as session:
        if database.dialect.name == "sqlite":
            session.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON final_level BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            session.execute(text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"))
            session.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON final_level FOR EACH ROW EXECUTE FUNCTION refuse()"))


def test_a_failing_catch_up_is_a_warning_after_load_apply_and_tick(db_url: str, database, tmp_path: Path):
    """The amendment (or the tick) is committed and said before the catch-up; a catch-up step that fails then is a
    warning on stderr, the command succeeds, and the marks stay for the next tick (the справка computes meanwhile)."""
    campaign = settled_many(database, tmp_path, 15)
    _failing_kept_writes(database)
    path = amended_file(tmp_path, campaign)
    for argv in (["load", str(path), "--apply", "--force", "--reason", "приказ", "--now", "2021-12-04 12:00"],
                 ["--campaign", campaign.id, "tick", "--now", "2021-12-04 13:00"]):
        done = Cli(db_url)(*argv)
        assert done.exit_code == 0, done.output
        assert "предупреждение: итоговые уровни для справки пересчитаны не все (" in done.stderr and "refused" in done.stderr
        with store.dry_run(database) as session:
            assert len(marked(session)) == 15 and finals.stored(session, spec.load(path)) is None


def test_levels_of_a_dou_outside_the_roster_follow_new_rules_too(db_url: str, database, tmp_path: Path):
    """Levels written behind dqflow's back for a ДОУ neither in the roster nor reviewed (an operator's SQL) are counted by
    `FinalsSql.finals`; new rules mark them too (`finals.refresh` marks what the levels are computed from), so what is
    kept after the catch-up is what is computed, theirs included."""
    campaign = settled_many(database, tmp_path, 15)
    stage, indicator = finals.review_stages(campaign)[0].id, next(iter(campaign.indicators))
    lowest, highest = campaign.levels[0].id, campaign.levels[-1].id
    with store.transaction(database) as session:
        session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": stage, "institution_id": "zzz",
                                                  "expert_id": expert, "indicator_id": indicator, "level": level}
                                                 for expert, level in (("e1", lowest), ("e2", highest))])
    tick(database, campaign.id, at(campaign, "2021-12-04 11:00"))
    amended = amended_settle(database, tmp_path, campaign)
    tick(database, amended.id, at(campaign, "2021-12-04 13:00"))
    with store.dry_run(database) as session:
        kept, computed = kept_rows(session, amended), computed_rows(session, amended)
    assert kept is not None and "zzz" in {row[0] for row in kept}
    assert kept == computed


def first_mail(db, campaign: spec.Campaign) -> datetime:
    """The first moment after the amendment (`amended_settle`) with a letter to send."""
    with store.dry_run(db) as session:
        return session.execute(select(func.min(OutboxRow.send_at)).where(
            OutboxRow.campaign_id == campaign.id, OutboxRow.state == "pending",
            OutboxRow.send_at >= at(campaign, "2021-12-04 13:00"))).scalar_one()


def test_a_wake_up_whose_catch_up_fails_or_runs_late_keeps_its_mail_and_its_moment(db_url: str, database, tmp_path: Path,
                                                                                    smtp_server):
    """The catch-up is a cache's: a step that fails (here the kept levels' table is gone) is logged and the wake-up ends
    as it would have, its mail sent and its next moment said; while the catch-up is behind the daemon wakes again at
    once (`Wake.resume_at`), unless the send says to wait (the lease held, the server failing)."""
    campaign = settled_many(database, tmp_path, 15)
    amended = amended_settle(database, tmp_path, campaign)
    with store.transaction(database) as session:
        session.execute(text("ALTER TABLE final_level RENAME TO final_level_gone"))
    now = first_mail(database, amended)
    transport = SmtpTransport(SmtpSettings.from_env(smtp_server.env()))
    woken = asyncio.run(wake.wake(database, amended.id, now, transport, wall=lambda: datetime.now(timezone.utc)))
    assert woken.caught_up and woken.next_at is not None and woken.next_at > now
    assert woken.report.count("sent") == len(smtp_server.messages) > 0  # its mail went out and is said
    with store.dry_run(database) as session:
        assert finals.stored(session, amended) is None  # still marked: computed until a wake-up that can catch up
    behind = wake.Wake([], DrainReport(), woken.next_at, caught_up=False)
    assert behind.resume_at(now) == now
    for report in (DrainReport(busy=True), DrainReport(stopped="server")):
        assert wake.Wake([], report, woken.next_at, caught_up=False).resume_at(now) == woken.next_at


def test_the_daemon_goes_on_at_once_while_the_catch_up_is_behind(db_url: str, database, tmp_path: Path, smtp_server):
    """A wake-up that left marks (501 ДОУ: a step computes 500, and the daemon stopping ends the catch-up after it) is
    followed by the next at once (`Wake.resume_at`; its waits for the lease and the failing server: the test above)."""
    campaign = settled_many(database, tmp_path, 501)
    amended = amended_settle(database, tmp_path, campaign)
    now = first_mail(database, amended)

    async def go() -> Daemon:
        daemon = Daemon(database, amended.id, SmtpTransport(SmtpSettings.from_env(smtp_server.env())), lambda: now,
                        sender="monitoring@imc.example.org", check_links=False)
        daemon.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        daemon.scheduler.start(paused=True)
        daemon.stopped.set()  # one step of the catch-up, then it ends
        try:
            await daemon.wake()
        finally:
            daemon.scheduler.shutdown(wait=False)
        return daemon

    daemon = asyncio.run(go())
    with store.dry_run(database) as session:
        assert len(marked(session)) == 1  # one step taken, one ДОУ left
    assert len(smtp_server.messages) > 0 and daemon.next_at == now


def test_a_cancelled_catch_up_ends_after_its_step(db_url: str, database, tmp_path: Path):
    """Ctrl-C in `send` (or the daemon cancelling its wake-up) cancels the catch-up's task; its thread, which a
    cancellation does not stop, ends after the step it is in instead of going on for `wake.CATCH_UP` (501 ДОУ: two steps
    of 500, the task cancelled during the first)."""
    campaign = settled_many(database, tmp_path, 501)
    amended = amended_settle(database, tmp_path, campaign)
    reads = 0

    async def go() -> None:
        loop, task = asyncio.get_running_loop(), None

        def wall() -> datetime:  # read before the first step and after each: cancel the task after the first
            nonlocal reads
            reads += 1
            if reads == 2:
                loop.call_soon_threadsafe(task.cancel)
                time.sleep(0.5)  # the cancellation reaches the task while this step's `more()` waits
            return datetime.now(timezone.utc)

        task = asyncio.ensure_future(wake.catch_up(database, amended, wall, lambda: False))
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert reads == 2
    with store.dry_run(database) as session:
        assert len(marked(session)) == 1  # one step taken, one ДОУ left for the next wake-up


# -- TRUNCATE on PostgreSQL (revision 0016) ----------------------------------------------------------------------------


def test_a_truncate_forgets_the_kept_levels_until_the_next_tick(pg_url: str, tmp_path: Path):
    """TRUNCATE fires no row trigger: emptying `review_level`, `settlement`, `final_level` or `final_dirty` forgets the
    kept levels (`final_state`), so the справка computes them, and the next tick keeps them again."""
    db = store.connect(pg_url)
    try:
        campaign = settled_many(db, tmp_path, 15)
        for n, emptied in enumerate(("final_dirty", "final_level", "settlement", "review_level")):
            if emptied == "final_dirty":  # a mark to lose: a write behind the acts' back
                with store.transaction(db) as session:
                    session.execute(table(ReviewLevelRow).update().where(table(ReviewLevelRow).c.institution_id == "2").values(level="1"))
            with store.transaction(db) as session:
                session.execute(text(f"TRUNCATE {emptied}"))
            with store.dry_run(db) as session:
                assert finals.stored(session, campaign) is None, emptied
                assert session.execute(finals.checked(campaign)).first() is None, emptied
            computed = reports(pg_url, campaign, tmp_path / f"computed-{emptied}") if emptied == "review_level" else None
            Cli(pg_url).ok("--campaign", campaign.id, "tick", "--now", f"2021-12-05 1{n}:00")
            with store.dry_run(db) as session:
                kept = kept_rows(session, campaign)
                assert kept is not None and kept == computed_rows(session, campaign), emptied
            if computed is not None:  # the experts' levels gone: the settlements alone, computed and then kept
                assert reports(pg_url, campaign, tmp_path / "kept") == computed
    finally:
        db.dispose()


# -- a writer beside an act, a mark already there (PostgreSQL) ---------------------------------------------------------


def lock_waits(db) -> int:
    """How many connections to this database wait for a lock now."""
    with db.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock'")).scalar_one()


def test_a_write_beside_an_act_on_one_dou_is_waited_for_not_lost(pg_url: str, tmp_path: Path):
    """Revision 0015's mark trigger updates a mark already committed (ON CONFLICT DO UPDATE), which locks it: an act on
    a ДОУ's review stage whose levels another transaction is writing (an operator's SQL, which takes none of dqflow's
    locks) waits for it there, and keeps the levels computed with its write. With DO NOTHING nothing is locked: the act
    computed them without the other's write and removed the mark, and that write was lost from the kept levels, which
    were read as current. (Two acts of dqflow on one ДОУ's stage take turns anyway: the campaign's lock, or a scoped
    review's lock on the ДОУ's progress row, comes first.) Two real connections, the act in a thread of its own."""
    import threading
    import time

    db = store.connect(pg_url)
    try:
        campaign = settled_many(db, tmp_path, 15)
        rl = table(ReviewLevelRow)
        with store.transaction(db) as session:  # a mark committed: a write behind the acts' back
            session.execute(rl.update().where(rl.c.institution_id == "2", rl.c.indicator_id == "1.1").values(level="1"))
        with store.dry_run(db) as session:
            mine = sorted(experts.stored(session, campaign.id, "list1")["2"])
        failed: list[BaseException] = []

        def act() -> None:
            try:
                with store.transaction(db) as session:
                    engine.review(session, campaign.id, "2", "review1", mine[1], {ind: "2" for ind in campaign.indicators}, "",
                                  at(campaign, "2021-12-04 11:00"))
            except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
                failed.append(exc)

        with db.connect() as other:
            held = other.begin()
            other.execute(rl.update().where(rl.c.institution_id == "2", rl.c.expert_id == mine[0]).values(level="4"))
            thread = threading.Thread(target=act)
            thread.start()
            until = time.monotonic() + 30
            while thread.is_alive() and not lock_waits(db) and time.monotonic() < until:
                time.sleep(0.02)
            held.commit()
        thread.join(60)
        assert not thread.is_alive() and not failed, failed
    finally:
        db.dispose()
    assert check(pg_url)  # read as kept, and equal to those computed with both writes
