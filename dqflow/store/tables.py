"""SQLModel tables: every row dqflow stores, with its indexes. No business rules here."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Index, String, Table, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

from dqflow.calendar import UTC, as_utc

DEFAULT_DB = "dqflow.db"
MEMO_MOMENTS = 65_536  # stored moments remembered per column type, parsed once each (`UTCDateTime.result_processor`)
_UNSEEN = object()


def table(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements (SQLModel's classes do not declare `__table__` to a type checker)."""
    return cast(Table, getattr(model, "__table__"))


class UTCDateTime(TypeDecorator):
    """Aware UTC in and out, whatever the driver keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; domain code must pass aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def result_processor(self, dialect, coltype):
        """`process_result_value` after the driver's own parsing, remembered per stored value: a page of the outbox
        or of progress repeats a few deadlines and send times thousands of times, and parsing SQLite's text and
        converting it cost more than the rest of reading the row. Datetimes are immutable, so one object may be shared."""
        convert = super().result_processor(dialect, coltype)
        if convert is None:
            return None
        memo: dict[Any, datetime | None] = {}

        def process(value):
            found = memo.get(value, _UNSEEN)
            if found is _UNSEEN:
                if len(memo) >= MEMO_MOMENTS:  # bounded: a long-running process meets every moment of its campaign
                    memo.clear()
                found = memo[value] = convert(value)
            return found
        return process


class Definition(TypeDecorator):
    """A campaign's JSON, written in the layout `codec.stored` gives it: the roster after the rest, so
    reading the campaign back parses its stages without its 50,000 ДОУ. Text already laid out passes as it is."""

    impl = String()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None or "\n" in value:
            return value
        from dqflow.campaign import codec  # it knows the layout; only writers of a campaign need it

        return codec.stored(value)


def _when(**kwargs) -> datetime:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"
    id: str = Field(primary_key=True)
    title: str
    timezone: str
    digest: str
    definition: str = Field(sa_column=Column(Definition(), nullable=False))  # the validated campaign as JSON: the file need not stay around
    loaded_at: datetime = _when(nullable=False)
    secret: str | None = Field(default_factory=lambda: secrets.token_urlsafe(32))  # signs the portal's links (`links`)
    password_hash: str | None = None  # the coordinator's password as `links.hash_password` keeps it; None: links only


class StageRow(SQLModel, table=True):
    __tablename__ = "stage"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    position: int
    kind: str
    actor: str | None = None
    state: str
    opens_at: datetime = _when(nullable=False)
    due_at: datetime = _when(nullable=False)
    locks_at: datetime = _when(nullable=False)
    reminders_planned: bool = False  # campaign-wide mail (events, coordinator work, handouts) is planned once
    followup_planned: bool = False  # review stages: the recommendations to each ДОУ


class InstitutionRow(SQLModel, table=True):
    __tablename__ = "institution"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    position: int
    name: str
    email: str
    withdrawn_at: datetime | None = _when(nullable=True)  # removed from the campaign file by an amendment; records kept
    inn: str | None = None  # ИНН of the legal entity, when the roster gives it: the same ДОУ in another year (`engine.lineage`)


# The stored ДОУ in roster order: the definition's by their position (which load and every amendment keep as the file's),
# then those an amendment withdrew (`engine.withdrawn`'s order). Every list of ДОУ read from this table sorts by it.
ROSTER_ORDER = (table(InstitutionRow).c.withdrawn_at.is_not(None), table(InstitutionRow).c.position, table(InstitutionRow).c.id)


class ExpertRow(SQLModel, table=True):
    __tablename__ = "expert"
    __table_args__ = (Index("ix_expert_address", "campaign_id", text("lower(email)")),)  # a send's experts found by their address
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    id: str = Field(primary_key=True)
    institution_id: str | None = None  # None: an expert of no ДОУ (an ИМЦ methodologist)
    name: str
    email: str
    withdrawn_at: datetime | None = _when(nullable=True)  # removed from the campaign file by an amendment; records kept


class AssignmentRow(SQLModel, table=True):
    """An expert assigned to review a ДОУ in one expert list (an assignment stage)."""

    __tablename__ = "assignment"
    # what a list gives the experts of a page
    __table_args__ = (Index("ix_assignment_expert", "campaign_id", "expert_id", "stage_id", "institution_id"),)
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)


class ReviewRow(SQLModel, table=True):
    """One expert's review of one ДОУ in one review stage: levels by area and recommendations."""

    __tablename__ = "review"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)
    at: datetime = _when(nullable=False)
    levels: str = "{}"  # JSON {area id: level id}
    recommendations: str = ""


class ReviewLevelRow(SQLModel, table=True):
    """One expert's level (and comment) for one indicator of a ДОУ in one review stage, where the campaign reviews
    per indicator (`Campaign.reviews_by_indicator`). Keyed as `ReviewRow` with the indicator: one review is one
    index range. The review row keeps the expert's levels by area, derived from these (`engine.finals.area_level`),
    so what reads areas reads them as before."""

    __tablename__ = "review_level"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    expert_id: str = Field(primary_key=True)
    indicator_id: str = Field(primary_key=True)
    level: str  # a level id of the campaign's scale
    comment: str | None = None


class SettlementRow(SQLModel, table=True):
    """The coordinator's level for one indicator of a ДОУ in one review stage, where its experts disagreed
    (`dqflow settle`): it is the indicator's final level there, whatever the campaign's `settle:` rule says."""

    __tablename__ = "settlement"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)
    indicator_id: str = Field(primary_key=True)
    level: str
    reason: str
    at: datetime = _when(nullable=False)


class FinalLevelRow(SQLModel, table=True):
    """One indicator's final level of a ДОУ in a review stage as `engine.finals.FinalsSql.finals(experts=True)` computes
    it from `review_level` and `settlement` (places on the scale; `first`/`last`: an expert's id and level), kept where
    those change so that the справка reads them instead of computing 1.5 million of them per report. Only meaningful
    while the campaign's `FinalStateRow` names the rules they were computed under (`engine.finals.stored`)."""

    __tablename__ = "final_level"
    __table_args__ = {"sqlite_with_rowid": False}  # read by its key: rows in key order, no second index to look up
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    institution_id: str = Field(primary_key=True)
    stage_id: str = Field(primary_key=True)
    indicator_id: str = Field(primary_key=True)
    low: int | None = None
    high: int | None = None
    given: int = 0
    settled: int | None = None
    final: int | None = None
    first: str | None = None
    last: str | None = None


class FinalStateRow(SQLModel, table=True):
    """Under which rules (`engine.finals.FinalsSql.digest`: the scale, the `settle:` rule, the indicators, the review
    stages) a campaign's `final_level` rows were computed; no row: none are kept yet (the справка computes them)."""

    __tablename__ = "final_state"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    rules: str


class FinalDirtyRow(SQLModel, table=True):
    """A ДОУ's review stage whose `review_level` or `settlement` rows changed since its `final_level` rows were computed:
    marked by the database itself (triggers of revision 0015, whoever writes) while the campaign's are kept, unmarked
    when they are recomputed (`engine.finals.keep`). While any is marked, the справка computes the final levels."""

    __tablename__ = "final_dirty"
    __table_args__ = {"sqlite_with_rowid": False}
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    stage_id: str = Field(primary_key=True)
    institution_id: str = Field(primary_key=True)


UNPLANNED = "planned_due IS NULL OR planned_due != due_at"  # the partial index's condition, as queries spell it


class ProgressRow(SQLModel, table=True):
    """One ДОУ in one per-ДОУ stage: its status and its own effective times."""

    __tablename__ = "progress"
    # Each index answers one "is anything due?" probe of an idle reconcile (see `engine`, `reminders`,
    # `due.next_moment`) by a range read, whatever the roster's size.
    __table_args__ = (
        Index("ix_progress_opens", "campaign_id", "stage_id", "status", "opens_at"),  # rows to open
        Index("ix_progress_locks", "campaign_id", "stage_id", "status", "locks_at"),  # rows to lock, missed lately
        Index("ix_progress_due", "campaign_id", "stage_id", "status", "due_at"),  # rows overdue (the digest)
        Index("ix_progress_extended", "campaign_id", "extended", "locks_at"),  # the next extended lock
        # Rows whose reminders are not planned for their deadline: few once planned, the planner reads only them.
        Index("ix_progress_unplanned", "campaign_id", "stage_id", "status",
              sqlite_where=text(UNPLANNED), postgresql_where=text(UNPLANNED)),
    )
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    institution_id: str = Field(primary_key=True)
    stage_id: str = Field(primary_key=True)
    status: str
    opens_at: datetime = _when(nullable=False)
    due_at: datetime = _when(nullable=False)
    locks_at: datetime = _when(nullable=False)
    extended: bool = False
    submitted_at: datetime | None = _when(nullable=True)
    planned_due: datetime | None = _when(nullable=True)  # the deadline its reminders were planned for


class SubmissionRow(SQLModel, table=True):
    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_institution", "campaign_id", "institution_id"),)  # a send reads the ДОУ it names
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True)
    institution_id: str
    stage_id: str
    at: datetime = _when(nullable=False)
    links: str = "[]"  # JSON list of URLs


class FormEntryRow(SQLModel, table=True):
    """One indicator of a ДОУ's monitoring form in one form stage: its own level and comment. A stage's rows are the
    ДОУ's draft while the stage is open for it and its frozen version once handed in (the progress row says which).
    The key puts a ДОУ's form, every version of it, in one index range: (campaign, ДОУ, stage, indicator). A stage's
    rows are written all at once, for every indicator, at the ДОУ's first save or hand-in there (`engine.form`)."""

    __tablename__ = "form_entry"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    institution_id: str = Field(primary_key=True)
    stage_id: str = Field(primary_key=True)
    indicator_id: str = Field(primary_key=True)
    level: str | None = None  # the ДОУ's own level (a level id of the campaign's scale)
    comment: str | None = None
    updated_at: datetime = _when(nullable=False)


class FormEvidenceRow(SQLModel, table=True):
    """A link to evidence for one indicator of a ДОУ's form in one form stage, in the order the ДОУ gave them;
    keyed as `FormEntryRow` with the link's place, so a ДОУ's evidence is the same one index range."""

    __tablename__ = "form_evidence"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    institution_id: str = Field(primary_key=True)
    stage_id: str = Field(primary_key=True)
    indicator_id: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    url: str
    title: str | None = None


class ExtensionRow(SQLModel, table=True):
    __tablename__ = "extension"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True)
    institution_id: str
    stage_id: str
    until: datetime = _when(nullable=False)
    reason: str
    granted_at: datetime = _when(nullable=False)


class OutboxRow(SQLModel, table=True):
    """One planned reminder to one address; messages group the rows due for one address.

    `key` (campaign, recipient, stage, rule, effective deadline) makes planning idempotent:
    a re-plan never duplicates, a moved deadline gets fresh keys.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "campaign_id", "state", "send_at", "recipient"),  # due addresses read from the index alone
        Index("ix_outbox_recipient", "campaign_id", "recipient", "state", "send_at"),  # a page's due rows, address by address
        Index("ix_outbox_progress", "campaign_id", "institution_id", "stage_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    campaign_id: str
    recipient: str
    role: str  # institution | expert | coordinator
    institution_id: str | None = None  # whose deadline it is about
    stage_id: str | None = None
    rule: str
    kind: str  # the template: opened, before_due, due_today, overdue, missed, event, task, digest
    deadline: datetime | None = _when(nullable=True)
    send_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    state: str = "pending"  # pending → sent | skipped | failed → … | dead
    reason: str | None = None
    attempts: int = 0
    retry_at: datetime | None = _when(nullable=True)
    message_id: str | None = None
    planned_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when(nullable=True)
    reported: bool = False  # a dead row is reported once in the coordinator's digest


class LeaseRow(SQLModel, table=True):
    """Who may do an exclusive job (sending a campaign's mail) until when; see `lease`."""

    __tablename__ = "lease"
    name: str = Field(primary_key=True)
    holder: str = ""
    host: str = ""
    pid: int = 0
    expires_at: datetime = _when(nullable=False)


class AuditRow(SQLModel, table=True):
    """Every change, written in the transaction that makes it. `at` is when it took effect (the
    moment the command named), `recorded_at` when the row was written (the real clock). Rows are
    never changed or removed: the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_institution", "campaign_id", "institution_id", "id"),
        Index("ix_audit_at", "campaign_id", "at"),  # the latest change (status): read backwards, not scanned
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str
    institution_id: str | None = None
    stage_id: str | None = None
    action: str
    source: str | None = None
    dest: str | None = None
    at: datetime = _when(nullable=False)
    recorded_at: datetime = _when(nullable=False)
    detail: str | None = None
    actor: str | None = None  # who did it: 'institution:ID', 'expert:ID', 'coordinator:web|cli'; None: the clock


class LinkRow(SQLModel, table=True):
    """A person's personal link is signed with its version: revoking a link moves the version on, so the
    old link no longer verifies. A person without a row has version 1 (no row is written per person)."""

    __tablename__ = "link"
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    role: str = Field(primary_key=True)  # institution | expert
    subject_id: str = Field(primary_key=True)
    version: int = 1
    changed_at: datetime = _when(nullable=False)


class SigninRow(SQLModel, table=True):
    """A one-time sign-in link for the coordinator: only its hash is kept; used once, then spent."""

    __tablename__ = "signin"
    token_hash: str = Field(primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id")
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when(nullable=True)


class SessionRow(SQLModel, table=True):
    """A coordinator's session: its cookie carries the id, signed; only the id's hash is kept. Any worker
    reads it here, so signing out (or a new password) ends it for every worker at once."""

    __tablename__ = "coordinator_session"
    __table_args__ = (Index("ix_coordinator_session_campaign", "campaign_id", "expires_at"),)
    id_hash: str = Field(primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id")
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    revoked_at: datetime | None = _when(nullable=True)


class AttemptRow(SQLModel, table=True):
    """A sign-in attempt reserved before its password is checked, or a refused link: what the rate limits count.
    Rows older than the window are ignored and pruned."""

    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_window", "campaign_id", "bucket", "at"),
                      Index("ix_attempt_address", "campaign_id", "bucket", "address", "at"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str
    bucket: str  # 'signin' (passwords at /signin) or 'link' (refused personal and sign-in links)
    address: str
    at: datetime = _when(nullable=False)


class LinkCheckRow(SQLModel, table=True):
    """The last check of one URL a campaign's ДОУ gave (`delivery.linkcheck`): ok | broken | closed, why, when."""

    __tablename__ = "link_check"
    __table_args__ = (Index("ix_link_check_state", "campaign_id", "state"),)  # the coordinator's counts
    campaign_id: str = Field(primary_key=True, foreign_key="campaign.id")
    url: str = Field(primary_key=True)
    state: str
    detail: str = ""
    http_status: int | None = None
    checked_at: datetime = _when(nullable=False)
