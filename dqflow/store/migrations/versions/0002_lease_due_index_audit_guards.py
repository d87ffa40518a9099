"""What changed after the release 1a76da4: the sending lease table, the outbox's due index led by the
campaign, the audit log append-only in the database itself, and skip reasons stored as codes.

Databases made between 1a76da4 and this revision by an unreleased dqflow already have some of it
(and no version table): each step looks before it acts, so such a database upgrades as well.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DUE_COLUMNS = ["campaign_id", "state", "send_at"]
OLD_DUE_COLUMNS = ["state", "send_at"]

# The database refuses UPDATE and DELETE on the audit log (and TRUNCATE, on PostgreSQL).
GUARDS = {
    "sqlite": {
        "audit_no_update": ["CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END"],
        "audit_no_delete": ["CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
                            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END"],
    },
    "postgresql": {
        # A statement-level trigger also covers TRUNCATE, which row triggers and rules do not see.
        "audit_append_only": [
            "CREATE OR REPLACE FUNCTION dqflow_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused', "
            "ERRCODE = 'restrict_violation'; END $$",
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION dqflow_audit_append_only()",
        ],
    },
}
DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_append_only ON audit", "DROP FUNCTION IF EXISTS dqflow_audit_append_only()"],
}

# 1a76da4 stored why a row was skipped as an English sentence; dqflow.engine.skips stores a code
# (`code` or `code:parameter`) that people read in Russian. Rows an SMTP server failed keep its reply.
REASONS = {
    "its moment passed before it could be sent": "expired",
    "its time had passed when it was planned": "planned-late",
    "the deadline moved": "deadline-moved",
    "already submitted": "submitted",
    "excused from the stage": "excused",
    "the stage is locked": "locked",
    "the stage is not open yet": "not-open",
    "this expert already reviewed the ДОУ": "reviewed",
    "nothing to report": "no-news",
    "superseded by a later reminder for the same deadline": "superseded",
    "it would go out before the stage opens": "before-opening",
    "it would go out after the event starts": "after-event",
}
# Sentences with a parameter: (prefix, suffix, code); the parameter is what stands between.
PATTERNS = [("the stage is ", ", not missed", "not-missed"), ("same send time as rule '", "'", "same-moment")]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if not inspector.has_table("lease"):
        op.create_table("lease", sa.Column("name", sa.String(), nullable=False), sa.Column("holder", sa.String(), nullable=False),
                        sa.Column("host", sa.String(), nullable=False), sa.Column("pid", sa.Integer(), nullable=False),
                        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False), sa.PrimaryKeyConstraint("name"))
    _due_index(inspector, DUE_COLUMNS)
    present = _triggers(bind)
    for name, statements in GUARDS.get(bind.dialect.name, {}).items():
        if name not in present:
            for statement in statements:
                op.execute(statement)
    _rewrite_reasons(bind, {old: new for old, new in REASONS.items()}, _to_code)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in DROP_GUARDS.get(bind.dialect.name, []):
        op.execute(statement)
    _due_index(sa.inspect(bind), OLD_DUE_COLUMNS)
    op.drop_table("lease")
    _rewrite_reasons(bind, {new: old for old, new in REASONS.items()}, _to_sentence)


def _due_index(inspector, columns: list[str]) -> None:
    found = next((ix for ix in inspector.get_indexes("outbox") if ix["name"] == "ix_outbox_due"), None)
    if found is not None and found["column_names"] == columns:
        return
    if found is not None:
        op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", columns)


def _triggers(bind) -> set[str]:
    if bind.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
    elif bind.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit') AND NOT tgisinternal"
    else:
        return set()
    return set(bind.execute(sa.text(query)).scalars())


def _to_code(reason: str) -> str | None:
    for prefix, suffix, code in PATTERNS:
        if reason.startswith(prefix) and reason.endswith(suffix) and len(reason) > len(prefix) + len(suffix):
            return f"{code}:{reason[len(prefix):len(reason) - len(suffix)]}"
    return None


def _to_sentence(reason: str) -> str | None:
    code, _, parameter = reason.partition(":")
    return next((f"{prefix}{parameter}{suffix}" for prefix, suffix, c in PATTERNS if c == code and parameter), None)


def _rewrite_reasons(bind, plain: dict[str, str], shaped) -> None:
    """One UPDATE per distinct stored reason (a few dozen at most, whatever the roster's size)."""
    outbox = sa.table("outbox", sa.column("state", sa.String()), sa.column("reason", sa.String()))
    stored = bind.execute(sa.select(outbox.c.reason).where(outbox.c.state == "skipped", outbox.c.reason.is_not(None))
                          .distinct()).scalars().all()
    for reason in stored:
        new = plain.get(reason) or shaped(reason)
        if new is not None and new != reason:
            bind.execute(sa.update(outbox).where(outbox.c.state == "skipped", outbox.c.reason == reason).values(reason=new))
