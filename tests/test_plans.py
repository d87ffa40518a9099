"""The planner's choices (issue 23): PostgreSQL plans well from the first command after a load, with no autovacuum to
gather statistics, and `history` reads a ДОУ's rows from its own index on both backends.

On PostgreSQL every statement that reconcile, status, an idle tick's look ahead and the drain send while they run is
explained as it is sent (`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of the very text and parameters SQLAlchemy compiled,
inside a savepoint rolled back, so a write is explained without being made twice), on a freshly loaded campaign of a
few thousand ДОУ whose tables have autovacuum off. A plan fails the test when one of its scans reads many more
blocks than the rows it visited account for (a range read once per element of an IN list, or once per row of an
outer loop), when a page of the drain's due rows reads the due range only to throw most of it away (the due range
read whole for every page of 500 addresses: a page's scans keep at least half the rows they read), when a nested
loop reads a whole table once per outer row, or when the planner believed a scan would yield a small fraction of
the rows it did (the statistics it had were none or stale). A join's own estimate is not judged: the planner
multiplies the selectivities of a join on several columns that go together (the reminders' sends joined on
opening, deadline and lock), which no statistics of single tables correct. A statement run once that reads a
stage's rows to count or skip them is linear, not judged here (benchmarks/ measure it). Timing is never asserted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy
import yaml
from conftest import Cli, query
from sqlalchemy import event, text
from sqlalchemy.pool import NullPool

from dqflow import engine, store
from dqflow.calendar import parse_local, zone
from dqflow.campaign import spec
from dqflow.delivery import due
from dqflow.engine import views

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"
TZ = zone("Asia/Tomsk")
N = 3000  # ДОУ: enough rows that a plan scanning a range per page reads ten times what a good one does
LOADED, OPENED, IDLE, SEND = "2021-11-18 10:00", "2021-11-19 00:00", "2021-11-19 08:00", "2021-11-19 09:00"

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
BIG = {"outbox", "progress", "audit", "institution", "expert", "assignment"}
BLOCKS_PER_LOOP = 8  # an index descent and its heap page, with room to spare
BLOCKS_PER_ROW = 4  # a heap page per row visited, and the index pages leading to it
DISCARDED = 100  # rows a page's scan may read and throw away, if it keeps at least half as many
UNDERESTIMATE = 50  # the planner believed this many times fewer rows than came…
UNDERESTIMATE_ROWS = 1000  # …of at least this many


def campaign_of(tmp_path: Path, n: int) -> spec.Campaign:
    """The Tomsk schedule with `n` ДОУ, each with one expert of its own."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"plans-{n}"
    data["institutions"] = [{"id": str(i), "name": f"ДОУ № {i}", "email": f"dou{i}@example.org",
                             "experts": [{"id": f"e{i}", "name": f"Эксперт {i}", "email": f"expert{i}@example.org"}]}
                            for i in range(1, n + 1)]
    path = tmp_path / f"plans-{n}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(path)


@dataclass
class Explained:
    statement: str
    plan: dict
    faults: list[str] = field(default_factory=list)


@contextmanager
def explaining(db, paged: bool = False) -> Iterator[list[Explained]]:
    """Every statement `db` sends while the block runs, explained with its actual rows and blocks just before it runs."""
    seen: list[Explained] = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper()
        if executemany or head not in ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE") or "pg_class" in statement:
            return
        own = conn.connection.dbapi_connection.cursor()
        try:
            own.execute("SAVEPOINT dqflow_explain")
            own.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            plan = own.fetchone()[0][0]["Plan"]
            own.execute("ROLLBACK TO SAVEPOINT dqflow_explain")
            own.execute("RELEASE SAVEPOINT dqflow_explain")
        finally:
            own.close()
        seen.append(Explained(statement, plan, faults(plan, paged)))

    event.listen(db, "before_cursor_execute", explain)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", explain)


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def faults(plan: dict, paged: bool = False) -> list[str]:
    """What is wrong with an explained plan (see the module's docstring); [] when nothing is. `paged`: the statement
    reads one page of a range (the drain's addresses): its scans must not read much more than they keep."""
    found = []
    for node in nodes(plan):
        loops = node.get("Actual Loops", 0)
        if not loops:
            continue  # never executed
        kind, relation = node["Node Type"], node.get("Relation Name", "")
        rows = node["Actual Rows"]  # per loop, as are the rows removed
        if kind in SCANS:
            visited = (rows + node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)) * loops
            blocks = _blocks(node) - sum(_blocks(child) for child in node.get("Plans", []))  # its own: not its subplans'
            if blocks > BLOCKS_PER_LOOP * loops + BLOCKS_PER_ROW * visited + 100:
                found.append(f"{kind} on {relation} ({node.get('Index Name', 'no index')}) read {blocks} blocks for {visited} rows "
                             f"in {loops} loop(s): a range read again and again")
            removed = node.get("Rows Removed by Filter", 0)  # per loop
            if paged and removed >= max(DISCARDED, 2 * rows):
                found.append(f"{kind} on {relation} ({node.get('Index Name', 'no index')}) kept {rows} of the {rows + removed} rows "
                             f"it read (per loop, {loops} loop(s)): a range read to keep a few")
        if kind == "Nested Loop":
            inner = node["Plans"][1]
            if inner["Node Type"] == "Seq Scan" and inner.get("Relation Name") in BIG and inner.get("Actual Loops", 0) > 1:
                found.append(f"a nested loop reads the whole of {inner['Relation Name']} {inner['Actual Loops']} times")
        if kind in SCANS and rows * loops >= UNDERESTIMATE_ROWS and rows >= UNDERESTIMATE * max(node["Plan Rows"], 1):
            found.append(f"{kind}{' on ' + relation if relation else ''}: the planner believed {node['Plan Rows']} rows, "
                         f"{rows} came")
    return found


def _blocks(node: dict) -> int:
    return node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)


def fresh_campaign(pg_url: str, tmp_path: Path):
    """A campaign of N ДОУ loaded (by dqflow, as `load` does) into a database whose tables have autovacuum off."""
    db = store.connect(pg_url)
    with db.begin() as connection:
        for (name,) in connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")):
            connection.exec_driver_sql(f'ALTER TABLE "{name}" SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)')
    campaign = campaign_of(tmp_path, N)
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local(LOADED, TZ))
    return db, campaign


def exercise(db, campaign: spec.Campaign) -> dict[str, list[Explained]]:
    """The statements of a first tick after the load, status, an idle tick and its look ahead, and the drain's pages."""
    found = {}
    with explaining(db) as found["first reconcile"], store.transaction(db) as session:
        assert engine.reconcile(session, campaign.id, parse_local(OPENED, TZ))
    idle = parse_local(IDLE, TZ)
    with explaining(db) as found["status"], store.dry_run(db) as session:
        engine.status(session, campaign.id, idle)
    with explaining(db) as found["idle reconcile"], store.transaction(db) as session:
        assert engine.reconcile(session, campaign.id, idle) == []
    with explaining(db) as found["look ahead"], store.dry_run(db) as session:
        assert due.ahead(session, campaign, idle)
    send = parse_local(SEND, TZ)
    with store.dry_run(db) as session:
        with explaining(db) as found["drain"]:
            due.expire(session, campaign.id, send)
            addresses = due.recipients(session, campaign, send)
            due.next_moment(session, campaign, send)
        assert len(addresses) >= N  # every ДОУ has its notices due: several pages of addresses
        with explaining(db, paged=True) as found["drain's pages"]:
            for start in range(0, len(addresses), due.PAGE):
                assert due.page(session, campaign, send, addresses[start:start + due.PAGE])
    return found


def report(found: dict[str, list[Explained]]) -> list[str]:
    return [f"{step}: {' | '.join(e.faults)}\n    {' '.join(e.statement.split())[:400]}"
            for step, explained in found.items() for e in explained if e.faults]


@pytest.mark.postgresql
def test_postgresql_plans_reconcile_status_and_the_drain_well_right_after_a_load(pg_url: str, tmp_path: Path):
    db, campaign = fresh_campaign(pg_url, tmp_path)
    try:
        found = exercise(db, campaign)
        with db.connect() as connection:
            analysed = set(connection.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE analyze_count > 0 AND autoanalyze_count = 0")).scalars())
    finally:
        db.dispose()
    assert {"institution", "expert", "progress", "stage", "outbox"} <= analysed  # by dqflow, after the load and the first tick
    explained = sum(len(e) for e in found.values())
    assert explained >= 20 and all(found.values()), {k: len(v) for k, v in found.items()}
    assert report(found) == []


@pytest.mark.postgresql
def test_without_dqflows_analyze_the_check_sees_the_bad_plans(pg_url: str, tmp_path: Path, monkeypatch):
    """The check above is worth something: with dqflow's ANALYZE taken away, the same steps plan badly, and it says so."""
    monkeypatch.setattr(store.statistics, "analyze", lambda bind, tables: [])
    db, campaign = fresh_campaign(pg_url, tmp_path)
    try:
        found = exercise(db, campaign)
    finally:
        db.dispose()
    assert report(found)


def history_plan(db, campaign_id: str, institution_id: str) -> str:
    """The plan the database gives `history`'s query, as the code compiles it."""
    query = views.history_query(campaign_id, institution_id)
    with db.connect() as connection:
        compiled = query.compile(dialect=connection.dialect)
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params[k] for k in compiled.positiontup))
            return "\n".join(str(r[-1]) for r in rows)
        rows = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        return "\n".join(str(r[0]) for r in rows)


def test_history_reads_the_dous_own_rows_whatever_the_size_of_the_audit_log(db_url: str, tmp_path: Path):
    """`history` is flat in the audit log's size: it reads the ДОУ's rows from ix_audit_institution, never the
    campaign's whole log in time order (ix_audit_at: 34 ms against 0.03 ms at 1.6 million rows on SQLite)."""
    db = store.connect(db_url)
    campaign = campaign_of(tmp_path, 300)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, parse_local(LOADED, TZ))
        for moment in (OPENED, "2021-11-26 10:00", "2021-12-03 10:00"):
            with store.transaction(db) as session:
                engine.reconcile(session, campaign.id, parse_local(moment, TZ))
        plan = history_plan(db, campaign.id, "17")
        with store.dry_run(db) as session:
            rows = engine.history(session, campaign.id, "17")
    finally:
        db.dispose()
    assert "ix_audit_institution" in plan and "ix_audit_at" not in plan, plan
    assert len(rows) >= 3 and [(r.at, r.id) for r in rows] == sorted((r.at, r.id) for r in rows)  # oldest first
    assert {r.institution_id for r in rows} == {"17"}


def analyse_counts(url: str) -> dict[str, int]:
    """How many times each table was analysed by hand (dqflow's ANALYZE), on PostgreSQL; autovacuum must not have."""
    rows = query(url, "SELECT relname, analyze_count, autoanalyze_count FROM pg_stat_user_tables")
    assert not any(auto for _, _, auto in rows)
    return {name: count for name, count, _ in rows}


@pytest.mark.postgresql
def test_load_amendment_migrate_and_a_kept_replay_refresh_the_statistics(pg_url: str, workflow_copy: Path):
    """Each command that fills tables analyses them once it has committed: a load, an amendment, `migrate`, and a
    replay kept in a database; a tick that writes a few hundred rows does not."""
    dq = Cli(pg_url)
    first = dq.ok("migrate")
    assert "ANALYZE" in first.splitlines()[-1] and "таблиц:" in first
    with sqlalchemy.create_engine(pg_url, poolclass=NullPool).begin() as connection:
        for (name,) in connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")):
            connection.exec_driver_sql(f'ALTER TABLE "{name}" SET (autovacuum_enabled = false)')
    migrated = analyse_counts(pg_url)
    assert migrated["outbox"] == migrated["progress"] == 1
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    loaded = analyse_counts(pg_url)
    assert all(loaded[t] == migrated[t] + 1 for t in ("stage", "institution", "expert", "progress")), loaded
    assert loaded["outbox"] == migrated["outbox"]
    dq.ok("tick", "--now", "2021-11-19 00:00")  # a town's first tick: a few hundred rows, left to the planner's guess
    assert analyse_counts(pg_url) == loaded
    text_ = workflow_copy.read_text(encoding="utf-8")
    workflow_copy.write_text(text_.replace("due: 2021-11-30", "due: 2021-11-29", 1), encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-24 10:00", "--apply", "--reason", "приказ № 1200")
    amended = analyse_counts(pg_url)
    assert all(amended[t] == loaded[t] + 1 for t in ("progress", "outbox", "audit", "stage")), amended


@pytest.mark.postgresql
def test_a_replay_kept_in_postgresql_is_analysed(pg_url: str):
    from click.testing import CliRunner

    from dqflow.cli import cli

    result = CliRunner().invoke(cli, ["simulate", str(TOMSK), "--until", "2021-11-20", "--keep-db", pg_url])
    assert result.exit_code == 0, result.output
    counts = analyse_counts(pg_url)
    assert counts and all(counts[t] >= 1 for t in ("outbox", "progress", "audit", "institution")), counts


def test_migrate_says_what_it_did_and_analyses_only_postgresql(dq: Cli):
    out = dq.ok("migrate")
    assert ("ANALYZE" in out) == dq.db_url.startswith("postgresql"), out


@pytest.mark.postgresql
def test_dqflows_connections_to_postgresql_do_not_jit_compile(pg_url: str):
    """The look-ahead count's cost (its correlated probes, never run for most rows) passed the JIT's thresholds: 6.2 s
    of compiling for a 1.7 s count at 50,000 ДОУ."""
    db = store.connect(pg_url)
    try:
        with db.connect() as connection:
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        db.dispose()


def misestimated_joins(plan: dict) -> list[str]:
    """The joins whose rows the planner believed `UNDERESTIMATE` times fewer than came (of at least
    `UNDERESTIMATE_ROWS`): what makes it look each of them up again in a nested loop."""
    return [f"{node['Node Type']}: the planner believed {node['Plan Rows']} rows, {node['Actual Rows']} came"
            for node in nodes(plan) if node["Node Type"] in ("Hash Join", "Nested Loop", "Merge Join") and node.get("Actual Loops")
            and node["Actual Rows"] >= UNDERESTIMATE_ROWS and node["Actual Rows"] >= UNDERESTIMATE * max(node["Plan Rows"], 1)]


def indicator_plans(pg_url: str, tmp_path: Path) -> list[Explained]:
    """The statements of the справка по показателям's town figures and each ДОУ's rows (`results.indicators`) on a form
    campaign of 1,500 ДОУ reviewed per indicator, explained as they are sent."""
    from test_indicator_report import many

    from dqflow.results import indicators

    db = store.connect(pg_url)
    try:
        campaign = many(db, tmp_path, 1500)
        store.analyze_all(db)  # statistics current (the set-based fill wrote fewer rows a table than dqflow's threshold)
        with store.dry_run(db) as session, explaining(db) as seen:
            source = indicators.materialize(session, campaign, experts=True)
            found = indicators.compute(session, campaign, rows=True, source=source)
    finally:
        db.dispose()
    assert sum(f.rated for f in found.figures) == 1500 * len(campaign.indicators)
    return seen


@pytest.mark.postgresql
def test_the_indicator_figures_join_the_own_levels_to_rows_the_planner_has_counted(pg_url: str, tmp_path: Path):
    """The town's GROUP BY per indicator reads each ДОУ's latest review stage's final levels from a table with its
    statistics: joined to the ДОУ's latest stage by the stage's order (a CASE beside a max), the planner guessed a
    two-hundredth of the rows (7,564 for 1.5 million at 50,000 ДОУ × 30) and looked each own level up in a nested loop."""
    seen = indicator_plans(pg_url, tmp_path)
    town = [e for e in seen if "dqflow_at_latest" in e.statement and "GROUP BY" in e.statement]
    assert town, [e.statement[:200] for e in seen]
    assert [(e.statement[:300], bad) for e in seen for bad in misestimated_joins(e.plan) + e.faults] == []


@pytest.mark.postgresql
def test_without_the_latest_stages_table_the_check_sees_the_misestimate(pg_url: str, tmp_path: Path, monkeypatch):
    """The check above is worth something: with the join to the latest stage left in the statement, it says so."""
    from sqlalchemy import and_
    from sqlalchemy import select as sa_select

    from dqflow.results import indicators

    def inline(session, sql):
        latest, done = sql.latest(), sql.finals()
        return sa_select(done).join(latest, and_(latest.c.inst == done.c.inst, latest.c.ord == sql.order(done.c.stage))).subquery("at_latest")

    monkeypatch.setattr(indicators, "_at_latest", inline)
    seen = indicator_plans(pg_url, tmp_path)
    assert any(misestimated_joins(e.plan) for e in seen if "GROUP BY" in e.statement)
