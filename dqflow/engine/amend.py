"""Amending a running campaign ("приказ о внесении изменений"): what a changed campaign file changes, and
making exactly that change.

`amend` works inside the caller's session: it brings the stored campaign to `now`, notes the outbox's
unsent rows, makes the change (stage times, the roster, expert lists, addresses, the stored definition),
reconciles again, and reads back which unsent reminders were cancelled and which were planned. Run in a
session that is rolled back it is the plan shown to the coordinator; run in a transaction with a reason it
is the amendment, audited. The plan's digest ties the two: `--plan DIGEST` refuses an amendment whose plan
is no longer the one that was shown.

The plan is a value (`amend_plan.Plan`); people read it through `present.amendment`. The changes are made by
`amend_stages` (a stage added, removed or moved: its state, every ДОУ's times and status in it) and
`amend_roster` (ДОУ and experts who join, leave or are corrected, and the drawn lists). Whatever would rewrite
a recorded outcome (reopen a locked stage, lock an open one retroactively, turn done into late or back, drop a
stage that has opened) needs `force`; what cannot be made true (a stage that has opened opening later) is
refused. Unsent reminders of what moved are cancelled (`deadline-moved`, `amended`), sent ones stay in the
ledger; reconcile plans the new ones.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dqflow import engine
from dqflow.campaign.codec import digest, digest_of, to_json
from dqflow.campaign.model import Campaign
from dqflow.engine.amend_plan import Names, Notice, Plan, Readdress, Rewrite
from dqflow.engine.amend_roster import RosterChanges
from dqflow.engine.amend_stages import StageChanges
from dqflow.engine.amending import UNSENT
from dqflow.errors import DqflowError, NotAllowed
from dqflow.intake import text as texts
from dqflow.store import AuditRow, CampaignRow, OutboxRow, acting, analyze_after, recorded_at

__all__ = ["Plan", "apply", "plan"]


def plan(session: Session, new: Campaign, now: datetime) -> Plan:
    """The plan of loading `new` over the stored campaign of the same id, as of `now`. It writes into
    `session`: call it in one that is rolled back (`store.dry_run`)."""
    return _amend(session, new, now)


def apply(session: Session, new: Campaign, now: datetime, reason: str | None, *, force: bool = False,
          expected: str | None = None) -> Plan:
    """Amend the stored campaign to `new` inside the caller's transaction, audited with `reason`. Refused
    (and so nothing written) when the plan is not `expected`, rewrites an outcome without `force`, or
    cannot be made true."""
    reason = (reason or "").strip()
    if not reason:
        raise DqflowError("amending a campaign needs a reason: --reason TEXT", code="no-reason")
    texts.check(reason, "причина")
    stored = session.get(CampaignRow, new.id)
    old_digest = stored.digest if stored is not None else None
    done = _amend(session, new, now, reason)
    if done.refused:
        raise NotAllowed("; ".join(done.refused))  # said in Russian already: the plan shows these lines too
    if expected and expected != done.digest:
        raise NotAllowed(f"the plan is now {done.digest}, not {expected}: the file or the database changed since it was shown; "
                         "run 'dqflow load FILE' again to see the new plan", code="plan-changed", now=done.digest, expected=expected)
    if done.rewrites and not force:
        raise NotAllowed(f"this change rewrites {len(done.rewrites)} recorded outcome(s) ({_rewrites_en(done.rewrites)}); "
                         "check the plan (dqflow load FILE) and add --force to apply it", code="needs-force", n=str(len(done.rewrites)))
    session.add(AuditRow(campaign_id=new.id, action="amend", at=now, recorded_at=recorded_at(session, now), actor=acting(session),
                         detail=json.dumps({"reason": reason, "plan": done.digest, "from": old_digest, "to": digest(new),
                                            "summary": done.summary()}, ensure_ascii=False)))
    # an amendment moves times, statuses and people and re-plans the ledger: statistics refreshed once it commits
    analyze_after(session, "stage", "institution", "expert", "assignment", "progress", "outbox", "audit")
    return done


def _rewrites_en(rewrites: list[Rewrite]) -> str:
    shown = [f"{r.stage}{'/' + r.institution if r.institution else ''} {r.source}→{r.dest}" for r in rewrites[:5]]
    return ", ".join(shown) + (" …" if len(rewrites) > 5 else "")


class _Amendment(StageChanges, RosterChanges):
    """The writes of one amendment: its stages and its people, over one shared state (`amending.Amending`)."""


def _amend(session: Session, new: Campaign, now: datetime, reason: str | None = None) -> Plan:
    old = engine.definition(session, new.id)
    engine.reconcile(session, new.id, now)  # what is due before the change is not part of it
    result = Plan(new.id, new.timezone, at=now, names=_names(old, new))
    before = {r.id: r for r in session.execute(select(OutboxRow.id, OutboxRow.recipient, OutboxRow.state).where(
        OutboxRow.campaign_id == new.id, col(OutboxRow.state).in_(UNSENT))).all()}
    top = session.exec(select(func.max(OutboxRow.id)).where(OutboxRow.campaign_id == new.id)).one() or 0
    work = _Amendment(session, old, new, now, result, reason)
    work.campaign_keys()
    work.stages()
    work.roster()
    work.resize_lists()
    work.announce_to_newcomers()
    text = to_json(new)
    session.execute(update(CampaignRow).where(col(CampaignRow.id) == new.id).values(
        title=new.title, timezone=new.timezone, digest=digest_of(text), definition=text))
    session.flush()
    session.expire_all()
    engine.forget(session)
    engine.reconcile(session, new.id, now)
    work.cancel_withdrawn()  # whatever reconcile still addressed to them (an event planned once for everyone)
    work.tell()  # then each person concerned is told what changed for them (the plan lists these letters too)
    _read_outbox(session, new, before, top, result)
    result.digest = result.fingerprint()
    return result


def _names(old: Campaign, new: Campaign) -> Names:
    """Each id as people knew it before the change (a renamed ДОУ by its old name, the line shows the new one), an
    added one by its new name."""
    was = {s.id: s.label for s in old.stages}
    return Names(stages={**{s.id: s.label for s in new.stages}, **was},
                 institutions={**new.institution_names, **old.institution_names},
                 experts={**new.expert_names, **old.expert_names},
                 renamed_stages={s.id: s.label for s in new.stages if s.id in was and was[s.id] != s.label})


def _read_outbox(session: Session, campaign: Campaign, before: dict[int, Any], top: int, result: Plan) -> None:
    columns = [col(c) for c in (OutboxRow.id, OutboxRow.recipient, OutboxRow.role, OutboxRow.institution_id, OutboxRow.stage_id,
                                OutboxRow.rule, OutboxRow.kind, OutboxRow.deadline, OutboxRow.send_at, OutboxRow.state, OutboxRow.reason)]
    # the unsent rows of before and the new ones: read by state, not by a list of ids (a national ledger's ids
    # would pass SQLite's limit of bound parameters)
    rows = session.execute(sa_select(*columns).where(col(OutboxRow.campaign_id) == campaign.id,
                                                      (col(OutboxRow.id) > top) | (col(OutboxRow.state) != "sent"))
                           .order_by(col(OutboxRow.send_at), col(OutboxRow.recipient), col(OutboxRow.id))).all()

    def notice(r: Row[Any], reason: str | None = None) -> Notice:
        return Notice(r.recipient, r.role, r.institution_id, r.stage_id, r.rule, r.kind, r.deadline, r.send_at, reason)

    moved: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r.id in before and r.state == "skipped":
            result.cancelled.append(notice(r, r.reason))
        elif r.id in before and r.recipient != before[r.id].recipient:
            moved[(before[r.id].recipient, r.recipient)] += 1
        elif r.id > top and r.state == "pending":
            result.planned.append(notice(r))
    result.readdressed = [Readdress(a, b, n) for (a, b), n in sorted(moved.items())]
