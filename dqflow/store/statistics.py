"""The planner's statistics: which tables a transaction filled, and ANALYZE run on them once it has committed
(PostgreSQL). Nothing here decides what is written."""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections import Counter
from typing import Any, Iterable

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, SQLModel

_log = logging.getLogger(__name__)

# -- the planner's statistics ----------------------------------------------------------------------------------------
#
# PostgreSQL plans from statistics that ANALYZE gathers. Autovacuum gathers them in time on a server where it is on
# and has reached the table; a freshly loaded table, or a server with autovacuum off, has none, and the planner then
# guesses (the due index's pages rescanned the whole due range once per page: 161 s for the first tick after loading
# 50,000 ДОУ, 4.9 s after a manual ANALYZE). So dqflow runs ANALYZE itself, on the tables a transaction filled, once it
# has committed: after a load, an amendment and a replay into --keep-db (`analyze_after`), and after any transaction
# whose statements wrote more than ANALYZE_ROWS rows into a table and a tenth of what the planner believes the table
# holds (autovacuum's own rule, `autovacuum_analyze_scale_factor`), counted per process across transactions so that
# many small writes (a send's) are caught up too. SQLite plans well without statistics here (measured:
# docs/benchmarks.md), and its ANALYZE reads every row of the table under the write lock: there it is not run.

ANALYZE_ROWS = 2000  # rows written into a table before its statistics are worth refreshing
ANALYZE_SHARE = 0.1  # …and this share of the rows the planner believes it holds
WRITTEN = "dqflow_written"  # session.info / connection.info: rows written per table by the transaction
FILLED = "dqflow_filled"  # session.info: tables to analyse after the commit whatever the count


class _Tally:
    """Rows written per table since this process last analysed it, and the rows the planner believed it held then."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.written: Counter[str] = Counter()
        self.believed: dict[str, float] = {}


_tallies: weakref.WeakKeyDictionary[Engine, _Tally] = weakref.WeakKeyDictionary()


def analyze_after(session: Session, *tables: str) -> None:
    """Note that this transaction filled `tables` (their names): `transaction` runs `analyze` on them once it has
    committed, whatever the number of rows (a load, an amendment)."""
    session.info.setdefault(FILLED, set()).update(tables)


def analyze(bind: Engine | Connection, tables: Iterable[str]) -> list[str]:
    """Refresh the planner's statistics of these tables, in their own short transaction (on PostgreSQL; SQLite is left
    to plan without them, see above). Returns the tables analysed. A failure is logged, never raised: the data it
    follows is committed, and the planner's guesses are only slower."""
    names = sorted(set(tables))
    if not names or bind.dialect.name != "postgresql":
        return []
    statement = "ANALYZE " + ", ".join(bind.dialect.identifier_preparer.quote(name) for name in names)
    try:
        if isinstance(bind, Connection):
            bind.exec_driver_sql(statement)
        else:
            with bind.begin() as connection:
                connection.exec_driver_sql(statement)
    except SQLAlchemyError as exc:
        _log.warning("ANALYZE %s failed: %s", ", ".join(names), getattr(exc, "orig", None) or exc)
        return []
    return names


def analyze_all(bind: Engine) -> list[str]:
    """`analyze` every table of dqflow's the database holds (after a replay into a kept database, by `migrate`)."""
    if bind.dialect.name != "postgresql":
        return []
    with bind.connect() as connection:
        present = set(inspect(connection).get_table_names())
    return analyze(bind, [t.name for t in SQLModel.metadata.sorted_tables if t.name in present])


def after_commit(engine: Engine, written: Counter[str], filled: set[str]) -> None:
    if engine.dialect.name != "postgresql" or not (written or filled):
        return
    tally = _tallies.setdefault(engine, _Tally())
    with tally.lock:
        tally.written.update(written)
        unknown = [t for t, n in tally.written.items() if n >= ANALYZE_ROWS and t not in tally.believed]
    believed = _believed(engine, unknown) if unknown else {}
    with tally.lock:  # decided and taken under the lock, analysed outside it: another thread's commit does not wait
        tally.believed.update(believed)
        due = set(filled) | {t for t, n in tally.written.items() if n >= max(ANALYZE_ROWS, ANALYZE_SHARE * tally.believed.get(t, 0))}
        for t in due:
            tally.written.pop(t, None)
    done = analyze(engine, due)
    if done:
        believed = _believed(engine, done)
        with tally.lock:
            tally.believed.update(believed)


def _believed(engine: Engine, tables: list[str]) -> dict[str, float]:
    """The rows the planner believes each table holds (0 for one never analysed)."""
    try:
        with engine.connect() as connection:
            query = text("SELECT relname, reltuples FROM pg_class WHERE oid = ANY(CAST(:names AS regclass[]))")
            found = {str(name): float(rows) for name, rows in connection.execute(query, {"names": tables}).all()}
    except SQLAlchemyError:
        return {}
    return {t: max(0.0, float(found.get(t, 0))) for t in tables}


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)  # a statement's table, by its text


def count_written(connection: Connection, cursor, statement: str, _parameters, context, _executemany) -> None:
    """Rows an INSERT, UPDATE or DELETE wrote, by table, into the transaction's tally (`analyze`'s rule). A statement run
    through the driver (`exec_driver_sql`: the send's skips, the acts' progress rows) has nothing compiled: its table is
    read from its text."""
    counter = connection.info.get(WRITTEN)
    if counter is None or context is None:
        return
    if context.compiled is None or not isinstance(getattr(context.compiled, "statement", None), Executable):
        found = _WRITE.match(statement)
        name: Any = found.group(1) if found else None
    elif context.isinsert or context.isupdate or context.isdelete:
        name = getattr(getattr(context.compiled.statement, "table", None), "name", None)
    else:
        return
    if isinstance(name, str) and cursor.rowcount and cursor.rowcount > 0:
        counter[name] += cursor.rowcount
