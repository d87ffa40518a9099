"""Letters about a change, planned in the transaction that makes it: an extension, an excuse, a withdrawal, dates
moved by an amendment, a corrected address, a revoked personal link. Each tells the person concerned, at the next
send time, what changed for them; the letter (`delivery.change_letters`) reads what, from when to when, why and by
whom from the change's audit row, written in the same transaction at the same moment.

The rule of a row names the change (`CHANGES`), and its key (`rules.outbox_key`) the person, ДОУ, stage and the new
deadline (or the amendment's ordinal, the link's version): a re-run of the same change plans nothing more. A newer
change of the same kind for the same person, ДОУ and stage makes an older unsent letter about it moot: skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.engine.schedule import RECOMMENDATIONS_LIFETIME, Clock
from dqflow.engine.skips import Skip, reason
from dqflow.store import AssignmentRow, AuditRow, ExpertRow, InstitutionRow, OutboxRow, insert_ignore

KIND = "changed"  # the template of every change letter
EXTENDED, EXCUSED, WITHDRAWN, AMENDED, READDRESSED, RELINKED = "extended", "excused", "withdrawn", "amended", "readdressed", "relinked"
RELEASED = "released"  # an expert taken off the roster: nothing more is asked of them (WITHDRAWN is about a ДОУ)
CHANGES = (EXTENDED, EXCUSED, WITHDRAWN, AMENDED, READDRESSED, RELINKED, RELEASED)
AUDITED = {EXTENDED: "extend", EXCUSED: "excuse", WITHDRAWN: "withdraw", RELEASED: "withdraw", AMENDED: "amend", READDRESSED: "readdress",
           RELINKED: "link-revoke"}  # the audit action each change letter reads


def what(rule: str) -> str:
    """The change a row's rule names: 'amended#3' → 'amended'."""
    return rule.partition("#")[0]


@dataclass(frozen=True)
class Tell:
    """One change letter to one person: about a ДОУ (and stage) or about themselves."""

    recipient: str
    role: str  # institution | expert
    institution_id: str | None
    stage_id: str | None
    change: str  # one of CHANGES
    tag: str = ""  # what tells two changes of one kind apart when the deadline does not (an amendment's ordinal)
    deadline: datetime | None = None  # the new deadline, when the change gives one
    until: datetime | None = None  # till when the news matters (default: two weeks after it goes)

    @property
    def rule(self) -> str:
        return f"{self.change}#{self.tag}" if self.tag else self.change


def plan(session: Session, campaign: spec.Campaign, now: datetime, tells: list[Tell]) -> int:
    """Plan the letters at the next send time; older unsent letters of the same change about the same thing are moot."""
    if not tells:
        return 0
    clock = Clock(campaign)
    send_at = clock.next_send_time(now)
    rows = {}
    for t in tells:
        key = rules.outbox_key(campaign.id, t.recipient, t.institution_id, t.stage_id, t.rule, t.deadline)
        expires = max(t.until or send_at, send_at + RECOMMENDATIONS_LIFETIME)
        rows[key] = {"key": key, "campaign_id": campaign.id, "recipient": t.recipient, "role": t.role,
                     "institution_id": t.institution_id, "stage_id": t.stage_id, "rule": t.rule, "kind": KIND,
                     "deadline": t.deadline, "send_at": send_at, "expires_at": expires, "state": "pending", "reason": None,
                     "attempts": 0, "planned_at": now, "reported": False}
    written = insert_ignore(session, OutboxRow, list(rows.values()))
    _supersede(session, campaign, tells)
    return written


def _supersede(session: Session, campaign: spec.Campaign, tells: list[Tell]) -> None:
    """Unsent letters of a change older than another letter of the same change to the same person about the same ДОУ
    and stage: skipped (the newer says what holds now). One UPDATE per kind of change, whatever the number of letters."""
    about = sorted({t.institution_id for t in tells if t.institution_id})
    people = sorted({t.recipient for t in tells if not t.institution_id})
    # Only the rows about these ДОУ (ix_outbox_progress) or to these people: the ledger's other pending rows (a
    # hundred thousand in a town's campaign) are not read at each extension. An empty half of the scope is left out:
    # `IN ()` beside the other half made SQLite read every pending row of the campaign (a million at 50,000 ДОУ) instead.
    scope = or_(*([col(OutboxRow.institution_id).in_(about)] if about else []),
                *([col(OutboxRow.recipient).in_(people)] if people else []))
    for change in sorted({t.change for t in tells}):
        newer = aliased(OutboxRow)
        # about these ДОУ alone, the newer row is about the same ДОУ: said so, the lookup reads that ДОУ's rows only
        same = (col(newer.institution_id) == col(OutboxRow.institution_id),) if not people else ()
        later = select(newer.id).where(
            newer.campaign_id == campaign.id, *same, newer.kind == KIND, _of(newer.rule, change), col(newer.id) > col(OutboxRow.id),
            func.lower(newer.recipient) == func.lower(OutboxRow.recipient),
            func.coalesce(newer.institution_id, "") == func.coalesce(OutboxRow.institution_id, ""),
            func.coalesce(newer.stage_id, "") == func.coalesce(OutboxRow.stage_id, ""))
        session.execute(update(OutboxRow).where(
            col(OutboxRow.campaign_id) == campaign.id, scope, col(OutboxRow.kind) == KIND,
            col(OutboxRow.state).in_(["pending", "failed"]), _of(OutboxRow.rule, change), later.exists())
            .values(state="skipped", reason=reason(Skip.SUPERSEDED if change in (READDRESSED, RELINKED) else Skip.DEADLINE_MOVED))
            .execution_options(synchronize_session=False))


def _of(rule, change: str):
    return (col(rule) == change) | col(rule).startswith(change + "#")


def experts_of(session: Session, campaign: spec.Campaign, stage: spec.Stage, institutions: list[str]) -> dict[str, list[str]]:
    """ДОУ → the addresses of the experts its review stage's list gives it (none before the list), present experts only."""
    if stage.actor != "expert" or not stage.list or not institutions:
        return {}
    found: dict[str, list[str]] = {}
    for inst, email in session.exec(select(AssignmentRow.institution_id, ExpertRow.email)
                                    .join(ExpertRow, (col(ExpertRow.campaign_id) == col(AssignmentRow.campaign_id))
                                          & (col(ExpertRow.id) == col(AssignmentRow.expert_id)))
                                    .where(AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == stage.list,
                                           col(ExpertRow.withdrawn_at).is_(None), col(AssignmentRow.institution_id).in_(institutions))
                                    .order_by(col(AssignmentRow.institution_id), col(ExpertRow.email))).all():
        found.setdefault(inst, []).append(email)
    return found


def about_stage(session: Session, campaign: spec.Campaign, stage: spec.Stage, change: str, moved: list[tuple[str, datetime | None]],
                tag: str = "", until: datetime | None = None) -> list[Tell]:
    """The letters of a change to ДОУ in one stage (each ДОУ with its new deadline or None): the ДОУ itself for its
    own stage, the experts its list gives it for a review stage."""
    if stage.actor == "institution":
        emails = campaign.institution_emails  # built once per campaign: a dict of the roster per extension was quadratic
        return [Tell(emails[inst], "institution", inst, stage.id, change, tag, due, until or due)
                for inst, due in moved if inst in emails]
    if stage.actor != "expert":
        return []
    experts = experts_of(session, campaign, stage, [inst for inst, _ in moved])
    return [Tell(email, "expert", inst, stage.id, change, tag, due, until or due) for inst, due in moved for email in experts.get(inst, [])]


def about_event(session: Session, campaign: spec.Campaign, stage: spec.Stage, tag: str) -> list[Tell]:
    """The letters of an event moved by an amendment: to each ДОУ and expert already told of it (a reminder of it
    went to them), so nobody keeps the old time; who has heard nothing yet learns the new time from its reminders.
    About the event, not a ДОУ: the letter reads the stage's own audit row (`amend-stage`)."""
    sent = (OutboxRow.campaign_id == campaign.id, OutboxRow.stage_id == stage.id, OutboxRow.state == "sent", OutboxRow.kind != KIND)
    # who is still in the campaign, at the address they have now (a ДОУ withdrawn since, or an address corrected since,
    # is not written to at the one its reminder went to)
    institutions = session.exec(select(InstitutionRow.email).where(
        InstitutionRow.campaign_id == campaign.id, col(InstitutionRow.withdrawn_at).is_(None),
        col(InstitutionRow.id).in_(select(OutboxRow.institution_id).where(*sent, OutboxRow.role == "institution")))
        .order_by(col(InstitutionRow.email))).all()
    experts = session.exec(select(ExpertRow.email).where(
        ExpertRow.campaign_id == campaign.id, col(ExpertRow.withdrawn_at).is_(None),
        func.lower(ExpertRow.email).in_(select(func.lower(OutboxRow.recipient)).where(*sent, OutboxRow.role == "expert")))
        .order_by(col(ExpertRow.email))).all()
    return [Tell(email, role, None, stage.id, AMENDED, tag, stage.due_at, stage.due_at)
            for role, emails in (("institution", institutions), ("expert", experts)) for email in dict.fromkeys(emails)]


def amendment_ordinal(session: Session, campaign_id: str) -> int:
    """Which amendment of the campaign this is (1 for the first): what tells its letters from another's."""
    return session.exec(select(func.count()).select_from(AuditRow).where(
        AuditRow.campaign_id == campaign_id, AuditRow.action == "amend", col(AuditRow.institution_id).is_(None),
        col(AuditRow.stage_id).is_(None))).one() + 1
