"""Experts who belong to no ДОУ (a campaign's top-level `experts:`): expert.institution_id may be NULL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot alter a column: batch mode copies the table (it has no triggers or dependants).
    with op.batch_alter_table("expert") as batch:
        batch.alter_column("institution_id", existing_type=sa.String(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("expert") as batch:
        batch.alter_column("institution_id", existing_type=sa.String(), nullable=False)
