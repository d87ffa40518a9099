"""The portal's sessions and sign-in limits in the database (so any worker answers any request and signing
out ends a session everywhere), and the audit log refusing REPLACE on SQLite.

SQLite's `REPLACE INTO audit(id, …)` and `INSERT OR REPLACE` delete the row they collide with without firing
a delete trigger (no recursive triggers), so they overwrote a row past the guards of 0002: an insert that
names an id already there is now refused. PostgreSQL has no REPLACE; its upsert fires the UPDATE guard.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NO_REPLACE = ("CREATE TRIGGER IF NOT EXISTS audit_no_replace BEFORE INSERT ON audit "
              "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE id = NEW.id) "
              "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: REPLACE refused'); END")


def upgrade() -> None:
    # a database whose tables a dqflow made before it kept a revision is upgraded from 0001 and has these already
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "coordinator_session" not in present:
        _sessions()
    if "attempt" not in present:
        _attempts()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(NO_REPLACE)


def _sessions() -> None:
    op.create_table("coordinator_session",
                    sa.Column("id_hash", sa.String(), nullable=False),
                    sa.Column("campaign_id", sa.String(), nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                    sa.PrimaryKeyConstraint("id_hash"))
    op.create_index("ix_coordinator_session_campaign", "coordinator_session", ["campaign_id", "expires_at"])


def _attempts() -> None:
    op.create_table("attempt",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("campaign_id", sa.String(), nullable=False),
                    sa.Column("bucket", sa.String(), nullable=False),
                    sa.Column("address", sa.String(), nullable=False),
                    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_attempt_window", "attempt", ["campaign_id", "bucket", "at"])
    op.create_index("ix_attempt_address", "attempt", ["campaign_id", "bucket", "address", "at"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_no_replace")
    op.drop_index("ix_attempt_address", table_name="attempt")
    op.drop_index("ix_attempt_window", table_name="attempt")
    op.drop_table("attempt")
    op.drop_index("ix_coordinator_session_campaign", table_name="coordinator_session")
    op.drop_table("coordinator_session")
