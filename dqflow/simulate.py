"""Replaying a whole campaign on a virtual clock in a throw-away database.

Every stage boundary, submission and send time is visited in order; each ДОУ behaves as
the scenario says (or as a seeded mix of on-time, late and silent ДОУ); every email is
rendered as the real message and written to the maildir. Same input and seed, same bytes.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import yaml

from dqflow import engine, experts, spec, store
from dqflow.calendar import parse_local
from dqflow.errors import DqflowError, NotAllowed, Problem, SpecError
from dqflow.mail import MaildirTransport
from dqflow.reminders import Clock
from dqflow.wake import wake

LATE_EXTENSION = timedelta(days=2)


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
    """`submissions: [{institution, stage, at}]`, checked against the campaign."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DqflowError(f"cannot read scenario {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError([Problem(path, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, f"YAML syntax: {exc}")]) from None
    if not isinstance(data, dict) or set(data) != {"submissions"} or not isinstance(data["submissions"], list):
        raise SpecError([Problem(path, 1, 1, "a scenario is a mapping with one key, submissions: a list of {institution, stage, at}")])
    stages = {s.id for s in campaign.stages if s.per_institution}
    institutions = {i.id for i in campaign.institutions}
    planned = []
    for n, entry in enumerate(data["submissions"], 1):
        where = f"{path}: submission {n}"
        if not isinstance(entry, dict) or set(entry) != {"institution", "stage", "at"}:
            raise DqflowError(f"{where}: needs exactly institution, stage and at")
        inst, stage = str(entry["institution"]), str(entry["stage"])
        if inst not in institutions:
            raise DqflowError(f"{where}: no ДОУ '{inst}' in campaign '{campaign.id}'")
        if stage not in stages:
            raise DqflowError(f"{where}: '{stage}' is not a stage ДОУ submit to ({', '.join(sorted(stages))})")
        try:
            at = parse_local(str(entry["at"]), campaign.tz)
        except ValueError as exc:
            raise DqflowError(f"{where}: {exc}") from None
        action = "review" if campaign.stage(stage).actor == "expert" else "submit"
        planned.append(Planned(at, inst, stage, action))
    return planned


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


def replay(campaign: spec.Campaign, plan: list[Planned], until: datetime | None, maildir: Path | None) -> Replay:
    start = min(s.opens_at for s in campaign.stages) - timedelta(days=1)
    start = datetime.combine(start.astimezone(campaign.tz).date(), time(0), campaign.tz)
    end = until or max(s.locks_at for s in campaign.stages) + timedelta(days=1)
    result = Replay(campaign)
    transport = MaildirTransport(maildir)
    clock = Clock(campaign)
    with tempfile.TemporaryDirectory(prefix="dqflow-sim-") as tmp:
        db = store.connect(str(Path(tmp) / "simulation.db"))
        with store.transaction(db) as session:
            engine.load(session, campaign, start)
        pending = list(plan)
        now = start
        while now <= end:
            while pending and pending[0].at <= now:
                _act(db, campaign, pending.pop(0), result)
            woken = asyncio.run(wake(db, campaign.id, now, transport))
            for change in woken.changes:
                result.events.append({"at": change.at, "type": change.action, "stage": change.stage_id,
                                      "institution": change.institution_id, "from": change.source, "to": change.dest})
            for sent in woken.report.messages:
                result.emails.append({"at": sent.at, "to": sent.to, "subject": sent.subject, "file": sent.detail or None})
            daily = clock.next_send_time(datetime.combine(clock.day_of(now) + timedelta(days=1), time(0), campaign.tz))
            candidates = [t for t in (woken.next_at, daily, pending[0].at if pending else None) if t is not None and t > now]
            if not candidates:
                break
            now = min(candidates)
        with store.dry_run(db) as session:
            result.final = engine.status(session, campaign.id, min(now, end))
        db.dispose()
    result.events.sort(key=lambda e: e["at"])
    return result


def _act(db, campaign: spec.Campaign, step: Planned, result: Replay) -> None:
    if step.action == "review":
        return _review(db, campaign, step, result)
    try:
        with store.transaction(db) as session:
            if step.action == "extend":
                engine.extend(session, campaign.id, step.institution, step.stage, step.until, "моделирование: продление", step.at)
            else:
                row = engine.submit(session, campaign.id, step.institution, step.stage, step.at, step.links)
        event = {"at": step.at, "type": step.action, "stage": step.stage, "institution": step.institution}
        event["to" if step.action == "submit" else "until"] = row.status if step.action == "submit" else step.until
        result.events.append(event)
    except NotAllowed as exc:
        result.events.append({"at": step.at, "type": "refused", "stage": step.stage, "institution": step.institution,
                              "reason": str(exc)})


def _review(db, campaign: spec.Campaign, step: Planned, result: Replay) -> None:
    """Each assigned expert reviews the ДОУ, except the silent one in five (seeded per expert)."""
    stage = campaign.stage(step.stage)
    with store.dry_run(db) as session:
        assigned = experts.stored(session, campaign.id, stage.list).get(step.institution, [])
    for n, expert in enumerate(assigned):
        rng = random.Random(f"{step.seed}:{step.stage}:{step.institution}:{expert}")
        if rng.random() < 0.2:
            continue
        levels = {a.id: rng.choice(campaign.levels).id for a in campaign.areas} if campaign.levels else {}
        text = f"Дополнить ссылки на подтверждающие материалы по области «{rng.choice(campaign.areas).title}»." if campaign.areas else ""
        at = step.at + timedelta(hours=n)
        try:
            with store.transaction(db) as session:
                row = engine.review(session, campaign.id, step.institution, step.stage, expert, levels, text, at)
            result.events.append({"at": at, "type": "review", "stage": step.stage, "institution": step.institution,
                                  "expert": expert, "to": row.status})
        except NotAllowed as exc:
            result.events.append({"at": at, "type": "refused", "stage": step.stage, "institution": step.institution,
                                  "reason": str(exc)})
