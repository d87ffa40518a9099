"""The coordinator's digest: who is late now, who missed since the last digest, whose reviews wait for want of
materials, which mail went dead (`digest_content`), and whether any of it is news (`has_news`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from dqflow.calendar import UTC, show
from dqflow.campaign import spec
from dqflow.engine import late
from dqflow.store import OutboxRow


def digest_content(session: Session, campaign: spec.Campaign, names: dict[str, str], now: datetime) -> dict:
    """Who is late now, who missed since the last digest, whose reviews are not due for want of materials (apart from
    the missed, not news by itself), which mail went dead: for the coordinator."""
    tz = campaign.tz
    # the digests' rows are about no ДОУ and no stage (`reminders.plan_digest`): read from that range of ix_outbox_progress, the
    # state compared as `state || ''` so that SQLite does not walk every sent row of the campaign by ix_outbox_due instead
    last = session.exec(select(OutboxRow.sent_at).where(
        OutboxRow.campaign_id == campaign.id, col(OutboxRow.institution_id).is_(None), col(OutboxRow.stage_id).is_(None),
        OutboxRow.kind == "digest", col(OutboxRow.state).concat("") == "sent").order_by(col(OutboxRow.sent_at).desc())).first()
    since = last or datetime.min.replace(tzinfo=UTC)  # UTC: a later zone's minimum would underflow
    title = {s.id: s.label for s in campaign.stages}  # a table: the short names
    found = late.who(session, campaign, now, missed_since=since)  # who is late: one rule (`engine.late`)
    overdue = [r for r in found if not r.missed]
    missed = sorted((r for r in found if r.missed), key=lambda r: r.locks_at)
    # the reviews of nothing (`Status.NOTHING`): not missed, not chased; said apart, once, when they became known
    nothing = late.without_materials(session, campaign, now, known_since=since)
    dead = session.exec(select(OutboxRow).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == "dead",
                                                col(OutboxRow.reported).is_(False)).order_by(col(OutboxRow.id))).all()
    return {
        "overdue": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                     "deadline": show(p.due_at, tz), "lock": show(p.locks_at, tz),
                     "experts": list(p.expert_names)} for p in overdue],
        "missed": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                    "lock": show(p.locks_at, tz), "experts": list(p.expert_names)} for p in missed],
        "no_materials": [{"institution_name": names.get(inst, inst), "stage_title": title[stage_id]} for inst, stage_id in nothing],
        "dead": [{"recipient": d.recipient, "error": d.reason or ""} for d in dict((d.recipient, d) for d in dead).values()],
        "dead_ids": [d.id for d in dead],
    }


def has_news(content: dict) -> bool:
    return bool(content["overdue"] or content["missed"] or content["dead"])
