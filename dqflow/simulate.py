"""Replaying a whole campaign on a virtual clock in a throw-away database.

Every stage boundary, submission and send time is visited in order; each ДОУ behaves as
the scenario says (or as a seeded mix of on-time, late and silent ДОУ); every email is
rendered as the real message and written to the maildir. Same input and seed, same bytes.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable

from dqflow import engine, experts, files, spec, store
from dqflow.calendar import show
from dqflow.errors import DqflowError, NotAllowed, Problem, SpecError
from dqflow.mail import MaildirTransport
from dqflow.reminders import Clock
from dqflow.wake import wake
from dqflow.yamlnodes import NodeReader

LATE_EXTENSION = timedelta(days=2)
# How far past the last lock a replay may be asked to run: reminders and digests after a lock
# last days, not months; beyond that every day replayed would be an idle one.
MAX_AFTER_LAST_LOCK = timedelta(days=60)
NEVER = datetime.max.replace(tzinfo=timezone.utc)  # no wake ahead: nothing will fall due


@dataclass(frozen=True)
class Planned:
    """What one ДОУ does in the replay."""

    at: datetime
    institution: str
    stage: str
    action: str = "submit"  # submit | extend | review (by every assigned expert who is not silent)
    until: datetime | None = None
    seed: int = 0
    links: tuple[str, ...] = ()


@dataclass
class Replay:
    campaign: spec.Campaign
    events: list[dict] = field(default_factory=list)
    emails: list[dict] = field(default_factory=list)
    final: engine.CampaignView | None = None


def scenario_from_file(path: str, campaign: spec.Campaign) -> list[Planned]:
    """`submissions: [{institution, stage, at}]`, checked against the campaign; errors at FILE:LINE:COL."""
    try:
        text = files.read_bytes(path, files.MAX_SCENARIO).decode("utf-8")
    except files.Unreadable as exc:
        raise SpecError([Problem(path, 1, 1, str(exc))]) from None
    except UnicodeDecodeError:
        raise SpecError([Problem(path, 1, 1, "not UTF-8 text; save the file as UTF-8")]) from None
    r = NodeReader(path, Path(path).parent)
    root = r.document(text, "a scenario file")
    top = r.mapping(root, "a scenario", ["submissions"], []) if root is not None else None
    known = ({i.id for i in campaign.institutions}, {s.id: s for s in campaign.stages if s.per_institution})
    planned = [step for node in (r.sequence(top["submissions"], "submissions") if top and "submissions" in top else [])
               if (step := _planned(r, node, campaign, *known))]
    if r.problems:
        raise SpecError(sorted(r.problems, key=lambda p: (p.line, p.column)))
    return planned


def _planned(r: NodeReader, node, campaign: spec.Campaign, institutions: set[str], stages: dict[str, spec.Stage]) -> Planned | None:
    f = r.mapping(node, "submission", ["institution", "stage", "at"], [])
    if f is None or len(f) < 3:
        return None
    inst, stage_id = r.one_line(f["institution"], "submission: institution"), r.one_line(f["stage"], "submission: stage")
    at = r.moment(f["at"], "submission: at", campaign.tz)
    if inst is not None and inst not in institutions:
        r.error(f["institution"], f"no ДОУ '{inst}' in campaign '{campaign.id}'")
        return None
    if stage_id is not None and stage_id not in stages:
        r.error(f["stage"], f"'{stage_id}' is not a stage ДОУ submit to ({', '.join(sorted(stages))})")
        return None
    if None in (inst, stage_id, at):
        return None
    return Planned(at, inst, stage_id, "review" if stages[stage_id].actor == "expert" else "submit")


def seeded_scenario(campaign: spec.Campaign, seed: int) -> list[Planned]:
    """Each ДОУ is on time (60 %), late (20 %) or silent (20 %) in each of its own stages.

    A late ДОУ misses the deadline; where the stage has grace it submits in the grace
    period, otherwise the coordinator extends its deadline by two days the next morning
    and it submits then.
    """
    rng = random.Random(seed)
    clock = Clock(campaign)
    planned = []
    for stage in campaign.stages:
        if stage.per_institution and stage.actor == "expert":
            planned += [Planned(_between(rng, stage.opens_at, stage.due_at), i.id, stage.id, "review", seed=seed)
                        for i in campaign.institutions]
        if not (stage.per_institution and stage.actor == "institution"):
            continue
        for inst in campaign.institutions:
            roll = rng.random()
            links = (f"https://dou{inst.id}.example.org/monitoring/{stage.id}",)
            if roll < 0.6:
                planned.append(Planned(_between(rng, stage.opens_at, stage.due_at), inst.id, stage.id, links=links))
            elif roll < 0.8:
                if stage.locks_at > stage.due_at:
                    planned.append(Planned(_between(rng, stage.due_at + timedelta(minutes=1), stage.locks_at), inst.id, stage.id, links=links))
                else:
                    morning = clock.window_start(clock.day_of(stage.locks_at) + timedelta(days=1), forward=True) + timedelta(hours=1)
                    until = datetime.combine(clock.day_of(morning + LATE_EXTENSION), time(23, 59, 59), campaign.tz)
                    planned.append(Planned(morning, inst.id, stage.id, "extend", until))
                    planned.append(Planned(_between(rng, morning + timedelta(hours=1), until), inst.id, stage.id, links=links))
    return sorted(planned, key=lambda p: (p.at, p.institution, p.stage))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole minute between start and end (inclusive)."""
    span = int((end - start).total_seconds() // 60)
    return (start + timedelta(minutes=rng.randint(0, max(span, 0)))).replace(second=0, microsecond=0)


def replay(campaign: spec.Campaign, plan: list[Planned], until: datetime | None, maildir: Path | None,
           wall: Callable[[], datetime], keep: str | None = None) -> Replay:
    """`wall` reads the real clock (the sending lease of the throw-away database); the replay's own is virtual.

    `keep` (a database URL or SQLite path) replays into that database instead of a throw-away one and
    leaves it there, for `report`, `calendar` and `status` to read; it must not hold the campaign yet."""
    start = min(s.opens_at for s in campaign.stages) - timedelta(days=1)
    start = datetime.combine(start.astimezone(campaign.tz).date(), time(0), campaign.tz)
    last_lock = max(s.locks_at for s in campaign.stages)
    if until is not None and until > last_lock + MAX_AFTER_LAST_LOCK:
        raise DqflowError(f"the replay would end {show(until, campaign.tz)} ({campaign.timezone}), more than "
                          f"{MAX_AFTER_LAST_LOCK.days} days after the campaign's last lock ({show(last_lock, campaign.tz)}); "
                          "give an earlier --until, or none to end a day after the last lock")
    end = until or last_lock + timedelta(days=1)
    result = Replay(campaign)
    transport = MaildirTransport(maildir)
    clock = Clock(campaign)
    with tempfile.TemporaryDirectory(prefix="dqflow-sim-") as tmp:
        db = store.connect(keep or str(Path(tmp) / "simulation.db"))
        with store.transaction(db) as session:
            if keep and session.get(store.CampaignRow, campaign.id) is not None:
                db.dispose()
                raise NotAllowed(f"--keep-db: campaign '{campaign.id}' is already in that database; "
                                 "give a new file or an empty database")
            engine.load(session, campaign, start)
        pending = deque(plan)
        now = start
        while now <= end:
            calm_until = None  # once an act at `now` committed its reconcile, the rest need none until the wake's
            while pending and pending[0].at <= now:
                if _act(db, campaign, pending.popleft(), result, calm_until):
                    calm_until = calm_until or now + timedelta(microseconds=1)
            woken = asyncio.run(wake(db, campaign.id, now, transport, wall=wall))
            for change in woken.changes:
                result.events.append({"at": change.at, "type": change.action, "stage": change.stage_id,
                                      "institution": change.institution_id, "from": change.source, "to": change.dest})
            for sent in woken.report.messages:
                result.emails.append({"at": sent.at, "to": sent.to, "subject": sent.subject, "file": sent.detail or None})
            daily = clock.next_send_time(datetime.combine(clock.day_of(now) + timedelta(days=1), time(0), campaign.tz))
            wakes = [t for t in (woken.next_at, daily) if t is not None and t > now]
            _play_until(db, campaign, pending, min(wakes, default=None), end, result)
            candidates = wakes + ([pending[0].at] if pending else [])
            if not candidates:
                break
            now = min(candidates)
        with store.dry_run(db) as session:
            result.final = engine.status(session, campaign.id, min(now, end))
        db.dispose()
    result.events.sort(key=lambda e: e["at"])
    return result


def _play_until(db, campaign: spec.Campaign, pending: deque, wake_at: datetime | None, end: datetime, result: Replay) -> None:
    """Play the acts before the next wake without waking at each one's moment: nothing is due in between
    (`wake_at` is the next boundary, lock or send) and each act reconciles the campaign itself, at its
    own moment, through probes that cost the same whatever the roster. An extension stops the clock
    (it makes new reminders to plan), as does the first act of a later stretch."""
    while pending and pending[0].action != "extend" and pending[0].at <= end and (wake_at is None or pending[0].at < wake_at):
        _act(db, campaign, pending.popleft(), result, calm_until=wake_at or NEVER)


def _act(db, campaign: spec.Campaign, step: Planned, result: Replay, calm_until: datetime | None = None) -> bool:
    """`calm_until`: the next wake; an act before it skips reconcile's probes, since nothing falls due
    between the last wake and the next that the last wake did not bring about. True when the act
    committed (a refused one rolls its reconcile back)."""
    if step.action == "review":
        return _review(db, campaign, step, result, calm_until)
    reconciled = calm_until is not None and step.at < calm_until
    try:
        with store.transaction(db) as session:
            if step.action == "extend":
                engine.extend(session, campaign.id, step.institution, step.stage, step.until, "моделирование: продление", step.at,
                              reconciled=reconciled)
            else:
                row = engine.submit(session, campaign.id, step.institution, step.stage, step.at, step.links,
                                    reconciled=reconciled)
        event = {"at": step.at, "type": step.action, "stage": step.stage, "institution": step.institution}
        event["to" if step.action == "submit" else "until"] = row.status if step.action == "submit" else step.until
        result.events.append(event)
        return True
    except NotAllowed as exc:
        result.events.append({"at": step.at, "type": "refused", "stage": step.stage, "institution": step.institution,
                              "reason": str(exc)})
        return False


def _review(db, campaign: spec.Campaign, step: Planned, result: Replay, calm_until: datetime | None) -> bool:
    """Each assigned expert reviews the ДОУ, except the silent one in five (seeded per expert). True
    when a review committed."""
    committed = False
    stage = campaign.stage(step.stage)
    with store.dry_run(db) as session:
        assigned = experts.stored(session, campaign.id, stage.list, [step.institution]).get(step.institution, [])
    for n, expert in enumerate(assigned):
        rng = random.Random(f"{step.seed}:{step.stage}:{step.institution}:{expert}")
        if rng.random() < 0.2:
            continue
        levels = {a.id: rng.choice(campaign.levels).id for a in campaign.areas} if campaign.levels else {}
        text = f"Дополнить ссылки на подтверждающие материалы по области «{rng.choice(campaign.areas).title}»." if campaign.areas else ""
        at = step.at + timedelta(hours=n)
        try:
            with store.transaction(db) as session:
                row = engine.review(session, campaign.id, step.institution, step.stage, expert, levels, text, at,
                                    reconciled=calm_until is not None and at < calm_until)
            result.events.append({"at": at, "type": "review", "stage": step.stage, "institution": step.institution,
                                  "expert": expert, "to": row.status})
            committed = True
        except NotAllowed as exc:
            result.events.append({"at": at, "type": "refused", "stage": step.stage, "institution": step.institution,
                                  "reason": str(exc)})
    return committed
