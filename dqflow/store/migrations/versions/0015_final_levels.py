"""The final indicator levels kept (`final_level`), the rules they were computed under (`final_state`) and the ДОУ's
review stages whose levels changed since (`final_dirty`), where experts review per indicator: the справка reads the
kept levels instead of computing every ДОУ's final levels per report (`engine.finals.stored`).

The database itself marks what a write to `review_level` or `settlement` leaves stale: a trigger puts the row's
(campaign, stage, ДОУ) into `final_dirty` whenever the campaign's levels are kept (a `final_state` row), whoever writes
(an act, a test, an operator's SQL). The acts recompute and unmark their own in the same transaction
(`engine.finals.keep`); a report of a campaign with any mark left computes the levels as before.

No backfill of rows here: a campaign without a `final_state` row has none kept, so its справка computes them as before,
and its next `tick` computes and keeps them (`engine.finals.refresh`) with the rules of the dqflow that runs it rather
than a copy frozen into this revision.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WATCHED = ("review_level", "settlement")  # what the final levels are computed from


def _mark(row: str) -> str:
    """The statement that marks `row`'s (campaign, stage, ДОУ) (NEW or OLD) while the campaign's levels are kept."""
    return (f"INSERT INTO final_dirty (campaign_id, stage_id, institution_id) "
            f"SELECT {row}.campaign_id, {row}.stage_id, {row}.institution_id "
            f"WHERE EXISTS (SELECT 1 FROM final_state s WHERE s.campaign_id = {row}.campaign_id)")


def _sqlite_triggers() -> dict[str, str]:
    found = {}
    for watched in WATCHED:
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("NEW", "OLD")), ("DELETE", ("OLD",))):
            name = f"{watched}_final_dirty_{event.lower()}"
            marks = " ".join(f"{_mark(row).replace('INSERT INTO', 'INSERT OR IGNORE INTO', 1)};" for row in rows)
            found[name] = f"CREATE TRIGGER {name} AFTER {event} ON {watched} BEGIN {marks} END"
    return found


# PostgreSQL: a trigger per statement, over its transition tables: a write of many rows (a review's 30, an import's
# thousands) marks each (campaign, stage, ДОУ) in one statement, not a statement per row. A mark already there is
# updated, not skipped: its row lock makes two transactions writing one ДОУ's stage take turns, so the second one's
# `finals.keep` sees the first one's kept rows (DO NOTHING locks nothing: both inserted the same kept rows, and the
# second failed on the key). Transactions that write several ДОУ's stages in different orders could deadlock on the
# marks: today one is written per transaction under the campaign's shared lock, batches under its exclusive one.
_MARK_ALL = ("INSERT INTO final_dirty (campaign_id, stage_id, institution_id) "
             "SELECT DISTINCT w.campaign_id, w.stage_id, w.institution_id FROM {rows} w "
             "WHERE EXISTS (SELECT 1 FROM final_state s WHERE s.campaign_id = w.campaign_id) "
             "ON CONFLICT (campaign_id, stage_id, institution_id) DO UPDATE SET institution_id = EXCLUDED.institution_id")
POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION dqflow_final_dirty() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'DELETE' THEN {_MARK_ALL.format(rows='new_rows')}; END IF; "
    f"IF TG_OP <> 'INSERT' THEN {_MARK_ALL.format(rows='old_rows')}; END IF; "
    "RETURN NULL; END $$")
_REFERENCING = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows"}


def _postgresql_triggers() -> dict[str, str]:
    return {f"{watched}_final_dirty_{event.lower()}": f"CREATE TRIGGER {watched}_final_dirty_{event.lower()} AFTER {event} ON "
                                                     f"{watched} REFERENCING {referencing} FOR EACH STATEMENT "
                                                     "EXECUTE FUNCTION dqflow_final_dirty()"
            for watched in WATCHED for event, referencing in _REFERENCING.items()}


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    if "final_level" not in present:
        op.create_table("final_level",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("indicator_id", sa.String(), nullable=False),
                        sa.Column("low", sa.Integer(), nullable=True),
                        sa.Column("high", sa.Integer(), nullable=True),
                        sa.Column("given", sa.Integer(), nullable=False),
                        sa.Column("settled", sa.Integer(), nullable=True),
                        sa.Column("final", sa.Integer(), nullable=True),
                        sa.Column("first", sa.String(), nullable=True),
                        sa.Column("last", sa.String(), nullable=True),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "institution_id", "stage_id", "indicator_id"),
                        sqlite_with_rowid=False)
    if "final_state" not in present:
        op.create_table("final_state",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("rules", sa.String(), nullable=False),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id"))
    if "final_dirty" not in present:
        op.create_table("final_dirty",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "stage_id", "institution_id"),
                        sqlite_with_rowid=False)
    triggers = _triggers(bind)
    if bind.dialect.name == "sqlite":
        wanted = _sqlite_triggers()
    elif bind.dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        wanted = _postgresql_triggers()
    else:
        wanted = {}
    for name, statement in wanted.items():
        if name not in triggers:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif bind.dialect.name == "postgresql":
        for name in _postgresql_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {name.split('_final_dirty')[0]}")
        op.execute("DROP FUNCTION IF EXISTS dqflow_final_dirty()")
    op.drop_table("final_dirty")
    op.drop_table("final_state")
    op.drop_table("final_level")


def _triggers(bind) -> set[str]:
    names = ", ".join(f"'{t}'" for t in WATCHED)
    if bind.dialect.name == "sqlite":
        query = f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})"
    elif bind.dialect.name == "postgresql":
        regclasses = ", ".join(f"to_regclass('{t}')" for t in WATCHED)
        query = f"SELECT tgname FROM pg_trigger WHERE tgrelid IN ({regclasses}) AND NOT tgisinternal"
    else:
        return set()
    return set(bind.execute(sa.text(query)).scalars())
