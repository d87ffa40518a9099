"""The schema of the release 1a76da4: campaigns, stages, ДОУ, experts, lists, reviews, progress,
submissions, extensions, the outbox and the audit log.

A database that release made has these tables and no version table: dqflow.store.schema recognises it and
records it at this revision without running it.

Revision ID: 0001
Revises:
Create Date: 2021-11-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def _campaign_key() -> tuple:
    return _text("campaign_id"), sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"])


def upgrade() -> None:
    op.create_table("campaign", _text("id"), _text("title"), _text("timezone"), _text("digest"), _text("definition"),
                    _when("loaded_at"), sa.PrimaryKeyConstraint("id"))
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("stage", campaign_id, _text("id"), sa.Column("position", sa.Integer(), nullable=False),
                    _text("kind"), _text("actor", nullable=True), _text("state"),
                    _when("opens_at"), _when("due_at"), _when("locks_at"),
                    sa.Column("reminders_planned", sa.Boolean(), nullable=False),
                    sa.Column("followup_planned", sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint("campaign_id", "id"), campaign_fk)
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("institution", campaign_id, _text("id"), sa.Column("position", sa.Integer(), nullable=False),
                    _text("name"), _text("email"), sa.PrimaryKeyConstraint("campaign_id", "id"), campaign_fk)
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("expert", campaign_id, _text("id"), _text("institution_id"), _text("name"), _text("email"),
                    sa.PrimaryKeyConstraint("campaign_id", "id"), campaign_fk)
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("assignment", campaign_id, _text("stage_id"), _text("institution_id"), _text("expert_id"),
                    sa.PrimaryKeyConstraint("campaign_id", "stage_id", "institution_id", "expert_id"), campaign_fk)
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("review", campaign_id, _text("stage_id"), _text("institution_id"), _text("expert_id"),
                    _when("at"), _text("levels"), _text("recommendations"),
                    sa.PrimaryKeyConstraint("campaign_id", "stage_id", "institution_id", "expert_id"), campaign_fk)
    campaign_id, campaign_fk = _campaign_key()
    op.create_table("progress", campaign_id, _text("institution_id"), _text("stage_id"), _text("status"),
                    _when("opens_at"), _when("due_at"), _when("locks_at"),
                    sa.Column("extended", sa.Boolean(), nullable=False),
                    _when("submitted_at", nullable=True), _when("planned_due", nullable=True),
                    sa.PrimaryKeyConstraint("campaign_id", "institution_id", "stage_id"), campaign_fk)
    op.create_index("ix_progress_stage_status", "progress", ["campaign_id", "stage_id", "status"])

    op.create_table("submission", sa.Column("id", sa.Integer(), nullable=False), _text("campaign_id"),
                    _text("institution_id"), _text("stage_id"), _when("at"), _text("links"), sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_submission_campaign_id", "submission", ["campaign_id"])
    op.create_table("extension", sa.Column("id", sa.Integer(), nullable=False), _text("campaign_id"),
                    _text("institution_id"), _text("stage_id"), _when("until"), _text("reason"), _when("granted_at"),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_extension_campaign_id", "extension", ["campaign_id"])

    op.create_table("outbox", sa.Column("id", sa.Integer(), nullable=False), _text("key"), _text("campaign_id"),
                    _text("recipient"), _text("role"), _text("institution_id", nullable=True), _text("stage_id", nullable=True),
                    _text("rule"), _text("kind"), _when("deadline", nullable=True), _when("send_at"), _when("expires_at"),
                    _text("state"), _text("reason", nullable=True), sa.Column("attempts", sa.Integer(), nullable=False),
                    _when("retry_at", nullable=True), _text("message_id", nullable=True), _when("planned_at"),
                    _when("sent_at", nullable=True), sa.Column("reported", sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("key"))
    op.create_index("ix_outbox_due", "outbox", ["state", "send_at"])
    op.create_index("ix_outbox_recipient", "outbox", ["campaign_id", "recipient"])
    op.create_index("ix_outbox_progress", "outbox", ["campaign_id", "institution_id", "stage_id"])

    op.create_table("audit", sa.Column("id", sa.Integer(), nullable=False), _text("campaign_id"),
                    _text("institution_id", nullable=True), _text("stage_id", nullable=True), _text("action"),
                    _text("source", nullable=True), _text("dest", nullable=True), _when("at"), _when("recorded_at"),
                    _text("detail", nullable=True), sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_audit_institution", "audit", ["campaign_id", "institution_id", "id"])


def downgrade() -> None:
    for table in ("audit", "outbox", "extension", "submission", "progress", "review", "assignment", "expert",
                  "institution", "stage", "campaign"):
        op.drop_table(table)
