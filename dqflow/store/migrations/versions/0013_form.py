"""The monitoring form: a ДОУ's entries per indicator (own level, comment) and its evidence links, per form stage.

Both tables are keyed (campaign, ДОУ, stage, indicator[, position]): a ДОУ's form, every version of it, is one
range of the primary key, whatever the roster (50,000 ДОУ × 30 indicators × 3 versions is 4.5 million entries).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "form_entry" not in present:
        op.create_table("form_entry",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("indicator_id", sa.String(), nullable=False),
                        sa.Column("level", sa.String(), nullable=True),
                        sa.Column("comment", sa.String(), nullable=True),
                        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "institution_id", "stage_id", "indicator_id"))
    if "form_evidence" not in present:
        op.create_table("form_evidence",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("indicator_id", sa.String(), nullable=False),
                        sa.Column("position", sa.Integer(), nullable=False),
                        sa.Column("url", sa.String(), nullable=False),
                        sa.Column("title", sa.String(), nullable=True),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "institution_id", "stage_id", "indicator_id", "position"))


def downgrade() -> None:
    op.drop_table("form_evidence")
    op.drop_table("form_entry")
