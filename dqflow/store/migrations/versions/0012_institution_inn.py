"""The ИНН of a ДОУ on its institution row: campaigns of different years relate their ДОУ by it (`engine.lineage`).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column without a default: SQLite and PostgreSQL add it without rewriting the table
    op.add_column("institution", sa.Column("inn", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("institution") as batch:
        batch.drop_column("inn")
