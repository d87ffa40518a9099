"""The results of checking the links ДОУ gave (`delivery.linkcheck`): one row per campaign and URL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database whose tables a dqflow made before it kept a revision is upgraded from 0001 and has it already
    if "link_check" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table("link_check",
                    sa.Column("campaign_id", sa.String(), nullable=False),
                    sa.Column("url", sa.String(), nullable=False),
                    sa.Column("state", sa.String(), nullable=False),
                    sa.Column("detail", sa.String(), nullable=False),
                    sa.Column("http_status", sa.Integer(), nullable=True),
                    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                    sa.PrimaryKeyConstraint("campaign_id", "url"))
    op.create_index("ix_link_check_state", "link_check", ["campaign_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_link_check_state", table_name="link_check")
    op.drop_table("link_check")
