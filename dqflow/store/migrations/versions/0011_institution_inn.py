"""The ИНН of a ДОУ on its institution row: campaigns of different years relate their ДОУ by it (`engine.lineage`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database whose tables a dqflow made before it kept a revision is upgraded from 0001 and may have it already
    if "inn" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("institution")}:
        return
    # a nullable column without a default: SQLite and PostgreSQL add it without rewriting the table
    op.add_column("institution", sa.Column("inn", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("institution") as batch:
        batch.drop_column("inn")
