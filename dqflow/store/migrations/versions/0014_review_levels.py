"""Expertise per indicator: each expert's level and comment per indicator (`review_level`), and the coordinator's
settled level where the experts disagreed (`settlement`).

Both are keyed by their review's key with the indicator: one review, or one ДОУ's settled indicators in a stage, is
one range of the primary key whatever the roster.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "review_level" not in present:
        op.create_table("review_level",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.Column("expert_id", sa.String(), nullable=False),
                        sa.Column("indicator_id", sa.String(), nullable=False),
                        sa.Column("level", sa.String(), nullable=False),
                        sa.Column("comment", sa.String(), nullable=True),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "stage_id", "institution_id", "expert_id", "indicator_id"))
    if "settlement" not in present:
        op.create_table("settlement",
                        sa.Column("campaign_id", sa.String(), nullable=False),
                        sa.Column("stage_id", sa.String(), nullable=False),
                        sa.Column("institution_id", sa.String(), nullable=False),
                        sa.Column("indicator_id", sa.String(), nullable=False),
                        sa.Column("level", sa.String(), nullable=False),
                        sa.Column("reason", sa.String(), nullable=False),
                        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
                        sa.PrimaryKeyConstraint("campaign_id", "stage_id", "institution_id", "indicator_id"))


def downgrade() -> None:
    op.drop_table("settlement")
    op.drop_table("review_level")
