"""Indexes for a reconcile whose cost follows what changed: each "is anything due?" probe of an idle
reconcile is a range read of an index, whatever the roster's size (issue 12).

The progress table's status index becomes four narrower ones (the old one is a prefix of the first)
and a partial index of the rows whose reminders are not planned for their deadline; the audit log
gets an index by moment (status reads the latest change).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNPLANNED = "planned_due IS NULL OR planned_due != due_at"
INDEXES = {
    "ix_progress_opens": ["campaign_id", "stage_id", "status", "opens_at"],
    "ix_progress_locks": ["campaign_id", "stage_id", "status", "locks_at"],
    "ix_progress_due": ["campaign_id", "stage_id", "status", "due_at"],
    "ix_progress_extended": ["campaign_id", "extended", "locks_at"],
}


def upgrade() -> None:
    existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("progress")}
    if "ix_progress_stage_status" in existing:
        op.drop_index("ix_progress_stage_status", table_name="progress")
    for name, columns in INDEXES.items():
        if name not in existing:
            op.create_index(name, "progress", columns)
    if "ix_audit_at" not in {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("audit")}:
        op.create_index("ix_audit_at", "audit", ["campaign_id", "at"])
    if "ix_progress_unplanned" not in existing:
        op.create_index("ix_progress_unplanned", "progress", ["campaign_id", "stage_id", "status"],
                        sqlite_where=sa.text(UNPLANNED), postgresql_where=sa.text(UNPLANNED))


def downgrade() -> None:
    for name in [*INDEXES, "ix_progress_unplanned"]:
        op.drop_index(name, table_name="progress")
    op.drop_index("ix_audit_at", table_name="audit")
    op.create_index("ix_progress_stage_status", "progress", ["campaign_id", "stage_id", "status"])
