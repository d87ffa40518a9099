"""The coordinator's password (set from the CLI with `dqflow link password`): a salted scrypt hash
kept with the campaign, never the password itself.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "password_hash" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("campaign")}:
        op.add_column("campaign", sa.Column("password_hash", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("password_hash")
