"""A send reads what its page of addresses names, not the whole campaign: the submissions of the
ДОУ its letters name, the experts of its addresses (by address) and what their lists give them,
and each address's due rows without visiting its sent and future ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: a database whose tables a dqflow made before it kept a revision is upgraded from 0001
    # and has every index of its models already (SQLite's reflection does not list one on an expression,
    # so asking first, as 0006 does, would not do)
    op.create_index("ix_submission_institution", "submission", ["campaign_id", "institution_id"], if_not_exists=True)
    op.create_index("ix_expert_address", "expert", ["campaign_id", sa.text("lower(email)")], if_not_exists=True)
    op.create_index("ix_assignment_expert", "assignment", ["campaign_id", "expert_id", "stage_id", "institution_id"],
                    if_not_exists=True)
    op.drop_index("ix_outbox_recipient", table_name="outbox")
    op.create_index("ix_outbox_recipient", "outbox", ["campaign_id", "recipient", "state", "send_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient", table_name="outbox")
    op.create_index("ix_outbox_recipient", "outbox", ["campaign_id", "recipient"])
    op.drop_index("ix_assignment_expert", table_name="assignment")
    op.drop_index("ix_expert_address", table_name="expert")
    op.drop_index("ix_submission_institution", table_name="submission")
