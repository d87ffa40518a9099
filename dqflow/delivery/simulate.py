"""Replaying a whole campaign on a virtual clock in a throw-away database.

Every stage boundary, submission and send time is visited in order; each ДОУ behaves as
the scenario says (or as a seeded mix of on-time, late and silent ДОУ); every email is
rendered as the real message and written to the maildir. Same input and seed, same bytes.

In a form stage (`form: true`) the ДОУ fills its form through `engine.form` just before its hand-in (`_fill_form`),
and where experts review per indicator (`Campaign.reviews_by_indicator`) their levels are keyed by indicator.
A campaign without form stages replays exactly as before.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable

from dqflow import engine, store
from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.campaign.nodes import NodeReader
from dqflow.delivery.mail import MaildirTransport
from dqflow.delivery.wake import wake
from dqflow.engine import experts, form, rules
from dqflow.engine.reminders import Clock
from dqflow.errors import DqflowError, NotAllowed, Problem, SpecError
from dqflow.intake import files

LATE_EXTENSION = timedelta(days=2)
# How far past the last lock a replay may be asked to run: reminders and digests after a lock
# last days, not months; beyond that every day replayed would be an idle one.
MAX_AFTER_LAST_LOCK = timedelta(days=60)
NEVER = datetime.max.replace(tzinfo=timezone.utc)  # no wake ahead: nothing will fall due
# Container objects allocated (net) before the cycle collector's youngest pass, during a replay (CPython's default: 700).
# A replay keeps what it logs to its end and every page's rows, tuples and dicts live a page long: at 700 the collector
# ran thousands of passes over young objects that were no garbage (a tenth of the replay's CPU at 2,000 ДОУ). Garbage
# in cycles is still collected, after at most this many objects: the peak memory stayed the same.
COLLECT_AFTER = 100_000


@dataclass(frozen=True)
class Planned:
    """What one ДОУ does in the replay."""

    at: datetime
    institution: str
    stage: str
    action: str = "submit"  # submit | extend | review (by every assigned expert who is not silent) | reviewed (by one)
    until: datetime | None = None
    seed: int = 0
    links: tuple[str, ...] = ()
    expert: str | None = None  # who reviewed


class Log(Sequence):
    """Records appended as dicts and read back as dicts, kept as tuples of their values beside one
    shared tuple of keys per shape: a national replay logs millions, and a dict costs three times
    a tuple. Every shape starts with "at", the moment it is about."""

    def __init__(self) -> None:
        self.records: list[tuple] = []
        self.shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def append(self, record: dict) -> None:
        keys = tuple(record)
        shape = self.shapes.get(keys)
        if shape is None:
            assert keys[0] == "at", "a record starts with its moment"
            shape = self.shapes[keys] = keys
        self.records.append((shape, *record.values()))

    def extend(self, records) -> None:
        for record in records:
            self.append(record)

    def sort_by_time(self) -> None:
        self.records.sort(key=lambda r: r[1])  # stable: what happened at one moment stays in the order it was logged

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [dict(zip(r[0], r[1:])) for r in self.records[index]]
        r = self.records[index]
        return dict(zip(r[0], r[1:]))

    def __iter__(self):
        for r in self.records:
            yield dict(zip(r[0], r[1:]))


@dataclass
class Replay:
    campaign: spec.Campaign
    events: Log = field(default_factory=Log)
    emails: Log = field(default_factory=Log)
    final: engine.CampaignView | None = None


def scenario_from_file(path: str, campaign: spec.Campaign) -> list[Planned]:
    """`submissions: [{institution, stage, at}]`, checked against the campaign; errors at FILE:LINE:COL."""
    try:
        text = files.read_bytes(path, files.MAX_SCENARIO).decode("utf-8")
    except files.Unreadable as exc:
        raise SpecError([Problem(path, 1, 1, str(exc))]) from None
    except UnicodeDecodeError:
        raise SpecError([Problem(path, 1, 1, "текст не в UTF-8; сохраните файл в кодировке UTF-8")]) from None
    r = NodeReader(path, Path(path).parent)
    root = r.document(text, "файл сценария")
    top = r.mapping(root, "сценарий", ["submissions"], []) if root is not None else None
    known = ({i.id for i in campaign.institutions}, {s.id: s for s in campaign.stages if s.per_institution})
    planned = [step for node in (r.sequence(top["submissions"], "submissions") if top and "submissions" in top else [])
               if (step := _planned(r, node, campaign, *known))]
    if r.problems:
        raise SpecError(sorted(r.problems, key=lambda p: (p.line, p.column)))
    return planned


def _planned(r: NodeReader, node, campaign: spec.Campaign, institutions: set[str], stages: dict[str, spec.Stage]) -> Planned | None:
    f = r.mapping(node, "submissions", ["institution", "stage", "at"], [])
    if f is None or len(f) < 3:
        return None
    inst, stage_id = r.one_line(f["institution"], "submissions, institution"), r.one_line(f["stage"], "submissions, stage")
    at = r.moment(f["at"], "submissions, at", campaign.tz)
    if inst is not None and inst not in institutions:
        r.error(f["institution"], f"submissions, institution: {campaign.terms.gen} «{inst}» в кампании нет; проверьте id")
        return None
    if stage_id is not None and stage_id not in stages:
        r.error(f["stage"], f"submissions, stage: «{stage_id}» — не этап, в который сдаёт {campaign.terms.nom} ({', '.join(sorted(stages))})")
        return None
    if inst is None or stage_id is None or at is None:
        return None
    if stages[stage_id].actor == "expert":
        return Planned(at, inst, stage_id, "review")
    return Planned(at, inst, stage_id, "submit", links=_links(stages[stage_id], inst))


def seeded_scenario(campaign: spec.Campaign, seed: int) -> list[Planned]:
    """Each ДОУ is on time (60 %), late (20 %) or silent (20 %) in each of its own stages.

    A late ДОУ misses the deadline; where the stage has grace it submits in the grace
    period, otherwise the coordinator extends its deadline by two days the next morning
    and it submits then.
    """
    rng = random.Random(seed)
    clock = Clock(campaign)
    planned: list[Planned] = []
    for stage in campaign.stages:
        if stage.per_institution and stage.actor == "expert":  # the experts review what was handed in, once it was
            materials = rules.materials_stages(campaign.stages, stage)
            handed: dict[str, datetime] = {}
            for p in planned:
                if p.action == "submit" and p.stage in materials:
                    handed[p.institution] = min(handed.get(p.institution, p.at), p.at)
            for i in (i for i in campaign.institutions if i.id in handed):
                start = min(max(stage.opens_at, handed[i.id] + timedelta(minutes=1)), stage.locks_at)
                planned.append(Planned(_between(rng, start, stage.due_at), i.id, stage.id, "review", seed=seed))
        if not (stage.per_institution and stage.actor == "institution"):
            continue
        for inst in campaign.institutions:
            roll = rng.random()
            links = _links(stage, inst.id)
            if roll < 0.6:
                planned.append(Planned(_between(rng, stage.opens_at, stage.due_at), inst.id, stage.id, links=links, seed=seed))
            elif roll < 0.8:
                if stage.locks_at > stage.due_at:
                    planned.append(Planned(_between(rng, stage.due_at + timedelta(minutes=1), stage.locks_at), inst.id, stage.id,
                                           links=links, seed=seed))
                else:
                    morning = clock.window_start(clock.day_of(stage.locks_at) + timedelta(days=1), forward=True) + timedelta(hours=1)
                    until = datetime.combine(clock.day_of(morning + LATE_EXTENSION), time(23, 59, 59), campaign.tz)
                    planned.append(Planned(morning, inst.id, stage.id, "extend", until))
                    planned.append(Planned(_between(rng, morning + timedelta(hours=1), until), inst.id, stage.id, links=links, seed=seed))
    return sorted(planned, key=lambda p: (p.at, p.institution, p.stage))


def _links(stage: spec.Stage, institution_id: str) -> tuple[str, ...]:
    """What a hand-in gives: a link to the stage's materials, or nothing in a form stage (its hand-in is the form, filled
    before it: `_fill_form`)."""
    return () if stage.form else (f"https://dou{institution_id}.example.org/monitoring/{stage.id}",)


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
        raise DqflowError(f"the replay would end {show(until, campaign.tz)} ({zone_label(campaign.tz, until)}), more than "
                          f"{MAX_AFTER_LAST_LOCK.days} days after the campaign's last lock ({show(last_lock, campaign.tz)}); "
                          "give an earlier --until, or none to end a day after the last lock", code="replay-too-long",
                          at=show(until, campaign.tz), days=str(MAX_AFTER_LAST_LOCK.days), last=show(last_lock, campaign.tz))
    end = until or last_lock + timedelta(days=1)
    result = Replay(campaign)
    transport = MaildirTransport(maildir)
    clock = Clock(campaign)
    with tempfile.TemporaryDirectory(prefix="dqflow-sim-") as tmp:
        db = store.connect(keep or str(Path(tmp) / "simulation.db"), throwaway=not keep)
        with store.transaction(db) as session:
            if keep and session.get(store.CampaignRow, campaign.id) is not None:
                db.dispose()
                raise NotAllowed(f"--keep-db: campaign '{campaign.id}' is already in that database; "
                                 "give a new file or an empty database", code="keep-db-taken", campaign_id=campaign.id)
            engine.load(session, campaign, start)
        pending = _Pending(db, campaign, plan)
        shared: dict[str, str] = {}
        now = start
        # one event loop for every wake: `asyncio.run` per wake made a loop each time and, on the way out, formatted the
        # finished task's result (the whole report) for its signal handler's check
        loop = asyncio.new_event_loop()
        collecting = gc.get_threshold()
        gc.set_threshold(max(COLLECT_AFTER, collecting[0]), *collecting[1:])
        try:
            while now <= end:
                _play(db, campaign, pending.take(until=now), result, reconciled=False)
                woken = loop.run_until_complete(wake(db, campaign.id, now, transport, wall=wall))
                _log(result, woken.changes)
                for sent in woken.report.messages:  # addresses and subjects recur: one string each (a national replay's log)
                    result.emails.append({"at": sent.at, "to": shared.setdefault(sent.to, sent.to),
                                          "subject": shared.setdefault(sent.subject, sent.subject), "file": sent.detail or None})
                daily = clock.next_send_time(datetime.combine(clock.day_of(now) + timedelta(days=1), time(0), campaign.tz))
                wakes = [t for t in (woken.next_at, daily) if t is not None and t > now]
                # The acts before the next wake need no wake of their own: nothing falls due in between (the
                # next boundary, lock or send is the wake), and the last wake reconciled the campaign. An
                # extension stops the stretch: it makes new reminders to plan.
                _play(db, campaign, pending.take(before=min(wakes, default=NEVER), until=end, extensions=False), result, reconciled=True)
                candidates = wakes + ([pending.first] if pending.first else [])
                if not candidates:
                    break
                now = min(candidates)
        finally:
            gc.set_threshold(*collecting)
            loop.close()
        if keep:  # kept for report, calendar and status: planned from statistics of the whole replay
            store.analyze_all(db)
        with store.dry_run(db) as session:
            result.final = engine.status(session, campaign.id, min(now, end))
        db.dispose()
    result.events.sort_by_time()
    return result


class _Pending:
    """The acts still to play, earliest first. A review step becomes one act per assigned expert, an
    hour apart (the silent one in five skips it, seeded per expert), once the list is known: when
    the step is taken."""

    def __init__(self, db, campaign: spec.Campaign, plan: list[Planned]):
        self.db, self.campaign = db, campaign
        self.heap = [(step.at, n, step) for n, step in enumerate(plan)]
        heapq.heapify(self.heap)
        self.added = len(plan)
        self.lists: dict[str, dict[str, list[str]]] = {}  # a drawn list's experts: nothing redraws it in a replay

    @property
    def first(self) -> datetime | None:
        return self.heap[0][0] if self.heap else None

    def take(self, *, until: datetime, before: datetime = NEVER, extensions: bool = True) -> list[Planned]:
        """The acts at or before `until` and before `before`, in order; without `extensions`, up to the first one."""
        taken: list[Planned] = []
        while self.heap and self.heap[0][0] <= until and self.heap[0][0] < before:
            step = self.heap[0][2]
            if step.action == "extend" and not extensions:
                break
            heapq.heappop(self.heap)
            if step.action == "review":
                self._expand(step)
            else:
                taken.append(step)
        return taken

    def _expand(self, step: Planned) -> None:
        stage = self.campaign.stage(step.stage)
        listed = stage.list if stage is not None else None
        if listed is None:  # a review stage names its list: `validate` makes sure
            return
        if not self.lists.get(listed):  # read until it is drawn (a review before its list is refused anyway)
            with store.dry_run(self.db) as session:
                self.lists[listed] = experts.stored(session, self.campaign.id, listed)
        for n, expert in enumerate(self.lists[listed].get(step.institution, [])):
            if random.Random(f"{step.seed}:{step.stage}:{step.institution}:{expert}").random() >= 0.2:
                act = replace(step, at=step.at + timedelta(hours=n), action="reviewed", expert=expert)
                heapq.heappush(self.heap, (act.at, self.added, act))
                self.added += 1


def _play(db, campaign: spec.Campaign, steps: list[Planned], result: Replay, reconciled: bool) -> None:
    """Play steps in order in one transaction, all at once (`engine.play`): submissions, reviews and
    extensions. A refusal writes nothing of its own and the others go on. `reconciled`: nothing fell
    due since the last reconcile; else the campaign is reconciled at the first step's moment, its
    changes logged like a wake's, and the steps need no more."""
    if not steps:
        return
    with store.transaction(db) as session:
        store.lock_campaign(session, campaign.id)  # before any audit row: the order every writer takes its locks in (store)
        if not reconciled:
            _log(result, engine.reconcile(session, campaign.id, steps[0].at))
        outcomes: list[str | DqflowError] = []
        acts: list[engine.Act] = []
        stages = {s.id: s for s in campaign.stages}  # asked per step: `Campaign.stage` looks through the list
        for step in steps:
            stage = stages.get(step.stage)
            if step.action == "submit" and stage is not None and stage.form:  # the form is filled first, after the acts before it
                if acts:
                    outcomes += engine.play(session, campaign.id, acts, reconciled=True)
                    acts = []
                _fill_form(session, campaign, stage, step)
            acts.append(_act(campaign, step))
        outcomes += engine.play(session, campaign.id, acts, reconciled=True)
        result.events.extend(_event(s, outcome) for s, outcome in zip(steps, outcomes))


FORM_COMMENT = "Материалы размещены на сайте ДОУ."
REFILL_COMMENT = "Материалы дополнены по рекомендациям экспертов."


def _fill_form(session, campaign: spec.Campaign, stage: spec.Stage, step: Planned) -> None:
    """The ДОУ fills its form before handing it in, at the moment of the hand-in, through `engine.form` as on its page:
    every indicator (links to evidence, its own level, a comment) where the form it starts from is empty or
    incomplete, else (a refill, a final fix starting from the previous version) two or three indicators changed: a
    link added or replaced, the level raised or lowered, so the versions differ. Seeded per ДОУ and stage. A form it
    may not change now (the stage locked for it) is left as it is: the hand-in is then refused with its reason."""
    rng = random.Random(f"{step.seed}:form:{step.stage}:{step.institution}")
    levels = [lv.id for lv in campaign.levels]
    now = step.at
    try:
        current = form.read(session, campaign, step.institution, stage, now)
        if not current.editable:
            return
        if current.empty or current.missing:
            for entry in current.entries:
                links: list[tuple[str, str | None]] = [(f"https://dou{step.institution}.example.org/{stage.id}/{entry.indicator_id}", None)]
                if rng.random() < 0.3:
                    links.append((f"https://disk.example.org/dou{step.institution}/{entry.indicator_id}", "Папка с материалами"))
                form.save(session, campaign.id, step.institution, stage.id, entry.indicator_id, now, links=links,
                          level=rng.choice(levels) if levels else None, comment=FORM_COMMENT if rng.random() < 0.5 else None)
            return
        for entry in rng.sample(current.entries, min(len(current.entries), rng.randint(2, 3))):
            kept: list[tuple[str, str | None]] = [(item.url, item.title) for item in entry.evidence][: form.MAX_EVIDENCE - 1]
            kept.append((f"https://dou{step.institution}.example.org/{stage.id}/{entry.indicator_id}", "Дополнено"))
            others = [lv for lv in levels if lv != entry.level]
            form.save(session, campaign.id, step.institution, stage.id, entry.indicator_id, now, links=kept,
                      level=rng.choice(others) if others and rng.random() < 0.5 else None, comment=REFILL_COMMENT)
    except DqflowError:
        return


EXTENSION_REASON = "моделирование: продление"


def _act(campaign: spec.Campaign, step: Planned) -> engine.Act:
    if step.action == "submit":
        return engine.Act(step.at, step.institution, step.stage, step.links)
    if step.action == "extend":  # the coordinator extends a late ДОУ's deadline
        return engine.Act(step.at, step.institution, step.stage, until=step.until, reason=EXTENSION_REASON)
    rng = random.Random(f"{step.seed}:{step.stage}:{step.institution}:{step.expert}")
    rng.random()  # the draw that kept this expert from silence
    if campaign.reviews_by_indicator:
        return _indicator_review(campaign, step, rng)
    levels = {a.id: rng.choice(campaign.levels).id for a in campaign.areas} if campaign.levels else {}
    text = f"Дополнить ссылки на подтверждающие материалы по области «{rng.choice(campaign.areas).title}»." if campaign.areas else ""
    return engine.Act(step.at, step.institution, step.stage, expert_id=step.expert, levels=levels, recommendations=text)


def _indicator_review(campaign: spec.Campaign, step: Planned, rng: random.Random) -> engine.Act:
    """An expert's review per indicator (`Campaign.reviews_by_indicator`): a level for every indicator, a comment on a
    few, recommendations addressed per area as always."""
    levels = {ind_id: rng.choice(campaign.levels).id for ind_id in campaign.indicators} if campaign.levels else {}
    comments = {ind_id: "Подтверждающие материалы неполные." for ind_id in campaign.indicators if rng.random() < 0.2}
    text = f"Дополнить ссылки на подтверждающие материалы по области «{rng.choice(campaign.areas).title}»."
    return review_act(step.at, step.institution, step.stage, step.expert, levels, comments, text)


def review_act(at: datetime, institution_id: str, stage_id: str, expert_id: str | None, levels: dict[str, str],
               comments: dict[str, str], recommendations: str) -> engine.Act:
    """A per-indicator review act: `levels` and `comments` keyed by indicator id."""
    return engine.Act(at, institution_id, stage_id, expert_id=expert_id, levels=levels, recommendations=recommendations,
                      comments=comments)


def _event(step: Planned, outcome: str | DqflowError) -> dict:
    event = {"at": step.at, "type": step.action if step.action in ("submit", "extend") else "review", "stage": step.stage,
             "institution": step.institution}
    if isinstance(outcome, DqflowError):
        return {**event, "type": "refused", "reason": str(outcome)}
    if step.action == "extend":
        return {**event, "until": step.until}
    return {**event, **({"expert": step.expert} if step.expert else {}), "to": outcome}


def _log(result: Replay, changes: list[engine.Change]) -> None:
    result.events.extend({"at": c.at, "type": c.action, "stage": c.stage_id, "institution": c.institution_id,
                          "from": c.source, "to": c.dest} for c in changes)
