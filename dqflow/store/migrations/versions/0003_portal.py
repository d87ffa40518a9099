"""The portal: who acted on each audit row, a per-campaign secret that signs personal links, link
versions (revocation) and the coordinator's one-time sign-in links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each step looks before it acts, as 0002's do: a database made by an unreleased dqflow may have it.
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    columns = {table: {c["name"] for c in inspector.get_columns(table)} for table in ("audit", "campaign")}
    if "actor" not in columns["audit"]:  # ADD COLUMN, not a batch rebuild: the append-only triggers stay
        op.add_column("audit", sa.Column("actor", sa.String(), nullable=True))
    if "secret" not in columns["campaign"]:
        op.add_column("campaign", sa.Column("secret", sa.String(), nullable=True))
    campaign = sa.table("campaign", sa.column("id", sa.String()), sa.column("secret", sa.String()))
    for (campaign_id,) in bind.execute(sa.select(campaign.c.id).where(campaign.c.secret.is_(None))).all():  # a few campaigns
        bind.execute(sa.update(campaign).where(campaign.c.id == campaign_id).values(secret=secrets.token_urlsafe(32)))
    if not inspector.has_table("link"):
        _create_tables()


def _create_tables() -> None:
    op.create_table(
        "link",
        sa.Column("campaign_id", sa.String(), nullable=False), sa.Column("role", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False), sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]), sa.PrimaryKeyConstraint("campaign_id", "role", "subject_id"))
    op.create_table(
        "signin",
        sa.Column("token_hash", sa.String(), nullable=False), sa.Column("campaign_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]), sa.PrimaryKeyConstraint("token_hash"))


def downgrade() -> None:
    op.drop_table("signin")
    op.drop_table("link")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("secret")
    op.drop_column("audit", "actor")  # SQLite 3.35+ drops a plain column in place
