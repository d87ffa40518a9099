"""The kept final levels forgotten when a table they depend on is emptied by TRUNCATE (PostgreSQL).

Revision 0015's triggers mark what a write to `review_level` or `settlement` leaves stale, row by row (through the
statement's transition tables). TRUNCATE deletes no rows one by one: it fires no INSERT, UPDATE or DELETE trigger, and
the kept levels (`final_level`) of the rows it emptied would be read as current. Here a statement trigger `AFTER
TRUNCATE` on each of them, and on `final_level` and `final_dirty` themselves (emptied, they no longer say what is kept
and what is stale), deletes every campaign's `final_state` row: nothing kept is read until the next `tick` records the
rules again and computes them (`engine.finals.refresh`, `catch_up`); until then the справка computes them as before.

SQLite has no TRUNCATE (its `DELETE FROM t` without WHERE fires the row triggers of `review_level` and `settlement`): no
trigger there. Not seen on either backend: rows of `final_level` or `final_dirty` deleted or changed by hand (they have no
row triggers) — whoever does so deletes the campaign's `final_state` row too. Not seen on PostgreSQL: writes with the
triggers switched off (`session_replication_role = replica`, `ALTER TABLE … DISABLE TRIGGER`, `pg_restore
--disable-triggers` of some tables only) — see docs/upgrading.md.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

EMPTIED = ("review_level", "settlement", "final_level", "final_dirty")  # what a TRUNCATE of leaves the kept levels unknown
POSTGRESQL_FUNCTION = ("CREATE OR REPLACE FUNCTION dqflow_final_forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "DELETE FROM final_state; RETURN NULL; END $$")  # TRUNCATE names no rows, so no campaign: all of them


def _postgresql_triggers() -> dict[str, str]:
    return {f"{table}_final_truncate": f"CREATE TRIGGER {table}_final_truncate AFTER TRUNCATE ON {table} "
                                       "FOR EACH STATEMENT EXECUTE FUNCTION dqflow_final_forget()"
            for table in EMPTIED}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(POSTGRESQL_FUNCTION)
    regclasses = ", ".join(f"to_regclass('{t}')" for t in EMPTIED)
    present = set(bind.execute(sa.text(f"SELECT tgname FROM pg_trigger WHERE tgrelid IN ({regclasses}) AND NOT tgisinternal")).scalars())
    for name, statement in _postgresql_triggers().items():
        if name not in present:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _postgresql_triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {name.removesuffix('_final_truncate')}")
    op.execute("DROP FUNCTION IF EXISTS dqflow_final_forget()")
