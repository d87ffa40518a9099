"""Expert lists and reviews in the database: draw, edit, freeze, read, record.

Drawing is `allocation`'s job; this module turns the stored campaign into its request,
keeps the lists editable until their stage locks, and records reviews.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.engine import finals, rules
from dqflow.engine.allocation import Allocation, Request, Rule, allocate, explain, hard_problems
from dqflow.errors import DqflowError, NotAllowed, NotFound, Problem, SpecError
from dqflow.intake import files
from dqflow.intake import text as texts
from dqflow.store import AssignmentRow, AuditRow, ProgressRow, ReviewLevelRow, ReviewRow, acting, chunks, lock_campaign, recorded_at, table

# SQLModel's typing does not declare the tables its classes map; Core statements need them.
_ASSIGNMENT = table(AssignmentRow)
_REVIEW = table(ReviewRow)
_REVIEW_LEVEL = table(ReviewLevelRow)
# What a review (and an expert's page) reads of a list, made once with its values as parameters: building the same
# statement at every request cost about what running it did
_CAMPAIGN: BindParameter[str] = bindparam("campaign")
_STAGE: BindParameter[str] = bindparam("stage")
_INSTITUTIONS: BindParameter[list[str]] = bindparam("institutions", expanding=True)
_LIST = (select(AssignmentRow.institution_id, AssignmentRow.expert_id)
         .where(AssignmentRow.campaign_id == _CAMPAIGN, AssignmentRow.stage_id == _STAGE)
         .order_by(AssignmentRow.institution_id, AssignmentRow.expert_id))
_LIST_OF = _LIST.where(col(AssignmentRow.institution_id).in_(_INSTITUTIONS))
_DRAWN = select(AssignmentRow.expert_id).where(AssignmentRow.campaign_id == _CAMPAIGN, AssignmentRow.stage_id == _STAGE).limit(1)


@dataclass
class ExpertList:
    stage: spec.Stage
    assignments: dict[str, list[str]]  # ДОУ → experts, in roster order
    problems: list[Rule]  # what the list breaks, as codes (`report.broken_ru` says them)

    def load(self) -> dict[str, int]:
        return Allocation(self.assignments, []).load()

    def by_expert(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for inst, experts in self.assignments.items():
            for e in experts:
                found.setdefault(e, []).append(inst)
        return found


def assignment_stage(campaign: spec.Campaign, stage_id: str) -> spec.Stage:
    stage = campaign.stage(stage_id)
    if stage is None:
        raise NotFound(f"no stage '{stage_id}' in campaign '{campaign.id}'", code="no-stage", stage=stage_id,
                       known=", ".join(s.id for s in campaign.stages))
    if stage.kind != "assignment":
        lists = ", ".join(s.id for s in campaign.stages if s.kind == "assignment") or "none"
        raise NotAllowed(f"stage '{stage_id}' is not an expert list (it is {'an' if stage.kind[0] in 'aeiou' else 'a'} {stage.kind}); lists: {lists}",
                         code="not-a-list", stage=stage_id, known=lists)
    return stage


def _some_ids(campaign: spec.Campaign) -> str:
    return ", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else "")


def request_for(session: Session, campaign: spec.Campaign, stage: spec.Stage) -> Request:
    previous = {}
    if stage.distinct_from:
        previous = {i: frozenset(es) for i, es in stored(session, campaign.id, stage.distinct_from).items()}
    return Request(
        institutions=tuple(i.id for i in campaign.institutions),
        home={e.id: home for e, home in campaign.every_expert()},
        per=stage.experts_per_institution or 2,
        previous=previous,
        exclude=frozenset(stage.exclude),
        max_load=stage.max_load,
    )


def seed_for(campaign: spec.Campaign, stage: spec.Stage) -> int:
    """A list drawn by itself is reproducible: its seed comes from the campaign and stage ids."""
    return int(hashlib.sha256(f"{campaign.id}/{stage.id}".encode()).hexdigest()[:8], 16)


def stored(session: Session, campaign_id: str, stage_id: str, institutions: list[str] | None = None) -> dict[str, list[str]]:
    """A list as ДОУ → experts; of the `institutions` named only, when named (a read of their rows alone)."""
    found: dict[str, list[str]] = {}
    values: dict[str, Any] = {"campaign": campaign_id, "stage": stage_id}
    if institutions is not None:
        values["institutions"] = institutions
    for inst, expert in session.exec(_LIST if institutions is None else _LIST_OF, params=values).all():
        found.setdefault(inst, []).append(expert)
    return found


def drawn(session: Session, campaign_id: str, stage_id: str) -> bool:
    """Whether the list holds anyone: one probe of the primary key, not the list itself."""
    return session.exec(_DRAWN, params={"campaign": campaign_id, "stage": stage_id}).first() is not None


def draw(session: Session, campaign: spec.Campaign, stage_id: str, now: datetime, seed: int | None = None,
         replace: bool = False) -> ExpertList:
    """Draw and store a list. A stored list is kept unless `replace`; a locked one never changes."""
    stage = assignment_stage(campaign, stage_id)
    _check_editable(campaign, stage, now)
    lock_campaign(session, campaign.id)  # not at the same time as reconcile's own draw
    if stored(session, campaign.id, stage.id) and not replace:
        raise NotAllowed(f"list '{stage_id}' is already drawn; edit it with 'dqflow experts set' or redraw with --replace",
                         code="already-drawn", stage=stage_id)
    request = request_for(session, campaign, stage)
    result = allocate(request, seed=seed_for(campaign, stage) if seed is None else seed)
    _store(session, campaign, stage, result.assignments, now, "draw", {"seed": seed, "problems": [p.to_dict() for p in result.problems]}, now)
    _replan_review(session, campaign, stage, None)
    return ExpertList(stage, _roster_order(campaign, result.assignments), result.problems)


def draw_when_open(session: Session, campaign: spec.Campaign, stage: spec.Stage, now: datetime) -> datetime | None:
    """Reconcile's part: a list stage that is open (or was missed while down) draws itself once.

    Returns the moment the list counts as drawn, or None when nothing was drawn."""
    if not rules.has_opened(stage.opens_at, now) or drawn(session, campaign.id, stage.id):
        return None
    result = allocate(request_for(session, campaign, stage), seed=seed_for(campaign, stage))
    at = max(stage.opens_at, min(now, stage.locks_at))
    _store(session, campaign, stage, result.assignments, at, "draw", {"automatic": True, "problems": [p.to_dict() for p in result.problems]}, now)
    return at


def set_experts(session: Session, campaign: spec.Campaign, stage_id: str, institution_id: str, experts: list[str],
                now: datetime) -> ExpertList:
    """The coordinator's edit of one ДОУ's experts, checked against the hard rules."""
    stage = assignment_stage(campaign, stage_id)
    _check_editable(campaign, stage, now)
    if not any(i.id == institution_id for i in campaign.institutions):
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'", code="no-dou", institution=institution_id,
                       known=_some_ids(campaign))
    lock_campaign(session, campaign.id)
    request = request_for(session, campaign, stage)
    problems = hard_problems(request, {institution_id: experts})
    if problems:
        raise NotAllowed("; ".join(map(str, problems)), code="list-rules", rules=problems)
    lists = stored(session, campaign.id, stage.id)
    lists[institution_id] = list(experts)
    _store(session, campaign, stage, lists, now, "set", {"institution": institution_id, "experts": experts}, now)
    _replan_review(session, campaign, stage, [institution_id])
    return current(session, campaign, stage_id)


def _replan_review(session: Session, campaign: spec.Campaign, stage: spec.Stage, institutions: list[str] | None) -> None:
    """The ДОУ whose experts changed have their review reminders planned again by the next reconcile: the rows already
    there keep their keys, so only a new expert gets theirs (and, once the handout has gone, an addition to it)."""
    review = next((s for s in campaign.stages if s.actor == "expert" and s.list == stage.id), None)
    if review is None:
        return
    only = (col(ProgressRow.institution_id).in_(institutions),) if institutions is not None else ()
    session.execute(update(ProgressRow).where(col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.stage_id) == review.id, *only)
                    .values(planned_due=None).execution_options(synchronize_session=False))


def current(session: Session, campaign: spec.Campaign, stage_id: str) -> ExpertList:
    stage = assignment_stage(campaign, stage_id)
    assignments = stored(session, campaign.id, stage.id)
    problems = explain(request_for(session, campaign, stage), assignments) if assignments else []
    return ExpertList(stage, _roster_order(campaign, assignments), problems)


def _roster_order(campaign: spec.Campaign, assignments: dict[str, list[str]]) -> dict[str, list[str]]:
    return {i.id: sorted(assignments.get(i.id, [])) for i in campaign.institutions}


def _check_editable(campaign: spec.Campaign, stage: spec.Stage, now: datetime) -> None:
    if rules.has_locked(stage.locks_at, now):
        raise NotAllowed(f"list '{stage.id}' is locked since {show_time(stage.locks_at, campaign)} and frozen", code="list-locked",
                         at=show(stage.locks_at, campaign.tz))


def show_time(instant: datetime, campaign: spec.Campaign) -> str:
    return f"{show(instant, campaign.tz)} ({zone_label(campaign.tz, instant)})"


def _store(session: Session, campaign: spec.Campaign, stage: spec.Stage, assignments: dict[str, list[str]], at: datetime,
           action: str, detail: dict, now: datetime) -> None:
    session.execute(delete(AssignmentRow).where(col(AssignmentRow.campaign_id) == campaign.id, col(AssignmentRow.stage_id) == stage.id))
    rows = [{"campaign_id": campaign.id, "stage_id": stage.id, "institution_id": inst, "expert_id": e}
            for inst, experts in assignments.items() for e in experts]
    if rows:
        session.execute(insert(_ASSIGNMENT), rows)
    session.add(AuditRow(campaign_id=campaign.id, stage_id=stage.id, action=f"experts-{action}", at=at,
                         recorded_at=recorded_at(session, now), detail=json.dumps(detail, ensure_ascii=False),
                         actor=None if detail.get("automatic") else acting(session)))


def diff(session: Session, campaign: spec.Campaign, first: str, second: str) -> list[dict]:
    for stage_id in (first, second):
        if not stored(session, campaign.id, assignment_stage(campaign, stage_id).id):
            raise NotAllowed(f"list '{stage_id}' is not drawn yet: it is drawn when its stage opens, or by 'dqflow experts assign {stage_id}'",
                             code="not-drawn", stage=stage_id)
    a = current(session, campaign, first).assignments
    b = current(session, campaign, second).assignments
    return [{"institution": i.id, "both": sorted(set(a[i.id]) & set(b[i.id])), "only_" + first: sorted(set(a[i.id]) - set(b[i.id])),
             "only_" + second: sorted(set(b[i.id]) - set(a[i.id]))} for i in campaign.institutions]


# -- reviews -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewEntry:
    """One review to record: what an expert says about one ДОУ in one review stage. `where` names
    where it came from (FILE:LINE of an import), so a refusal can say which one it was."""

    institution_id: str
    stage_id: str
    expert_id: str
    levels: dict[str, str] = field(default_factory=dict)  # area → level; indicator → level where the campaign reviews per indicator
    recommendations: str = ""
    where: str | None = None
    comments: dict[str, str] = field(default_factory=dict)  # indicator → the expert's comment (per-indicator reviews only)


def parse_levels(campaign: spec.Campaign, pairs: list[str]) -> dict[str, str]:
    """`AREA=LEVEL` pairs (`INDICATOR=LEVEL` where the campaign reviews per indicator: `Campaign.reviews_by_indicator`)
    checked against the campaign's areas or indicators and its level scale."""
    found: dict[str, str] = {}
    example = f"{next(iter(campaign.indicators), '1.1')}=2" if campaign.reviews_by_indicator else "conditions=2"
    for pair in pairs:
        key, sep, level = pair.partition("=")
        if not sep:
            shape = "INDICATOR=LEVEL" if campaign.reviews_by_indicator else "AREA=LEVEL"
            raise DqflowError(f"--level '{pair}' must be {shape}, like {example}", code="bad-level", pair=pair, example=example)
        check_levels(campaign, {key: level}, "--level")
        if key in found and found[key] != level:
            message = f"--level: '{key}' is given twice ({found[key]} and {level}); give one level each"
            if campaign.reviews_by_indicator:
                raise DqflowError(message, code="indicator-twice", indicator=key, first=found[key], second=level)
            raise DqflowError(message, code="area-twice", area=key, first=found[key], second=level)
        found[key] = level
    return found


def parse_comments(campaign: spec.Campaign, pairs: list[str]) -> dict[str, str]:
    """`INDICATOR=TEXT` pairs of `--comment`: the expert's comment on an indicator (`check_comments`)."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise DqflowError(f"--comment '{pair}' must be INDICATOR=TEXT", code="bad-comment", pair=pair)
        if key in found:
            raise DqflowError(f"--comment: indicator '{key}' is given twice; give one comment each", code="comment-twice", indicator=key)
        found[key] = text
    return check_comments(campaign, found, "--comment")


def check_comments(campaign: spec.Campaign, comments: dict[str, str], what: str = "comments") -> dict[str, str]:
    """The expert's comments per indicator: only where the campaign reviews per indicator, each on an indicator of
    its form, each storable; blank ones dropped."""
    if comments and not campaign.reviews_by_indicator:
        raise DqflowError(f"{what}: this campaign is reviewed per area, not per indicator: comments per indicator are not taken; "
                          "put them in the recommendations", code="comments-per-area")
    kept = {}
    for indicator, text in comments.items():
        _check_indicator(campaign, indicator, what)
        text = texts.check(text.strip(), "комментарий", texts.MAX_NOTE)
        if text:
            kept[indicator] = text
    return kept


def _check_indicator(campaign: spec.Campaign, key: str, what: str) -> None:
    """`key` is an indicator of the form; an area id is refused saying which indicators it has."""
    if key in campaign.indicators:
        return
    area = next((a for a in campaign.areas if a.id == key), None)
    if area is not None:
        ids = ", ".join(ind.id for ind in area.indicators)
        raise DqflowError(f"{what}: '{key}' is an area; this campaign is reviewed per indicator: give a level for each of its "
                          f"indicators ({ids})", code="area-not-indicator", area=key, title=area.title, indicators=ids)
    known = ", ".join(campaign.indicators)
    raise DqflowError(f"{what}: no indicator '{key}' in the form; indicators: {known}", code="no-indicator", indicator=key, known=known)


def check_levels(campaign: spec.Campaign, levels: dict[str, str], what: str = "levels") -> dict[str, str]:
    """Every area (indicator, where the campaign reviews per indicator) and level of a review exists in the campaign
    (the engine's rule, whoever parsed them)."""
    areas = {a.id for a in campaign.areas}
    scale = {lv.id for lv in campaign.levels}
    for area, level in levels.items():
        if campaign.reviews_by_indicator:
            _check_indicator(campaign, area, what)
        elif area not in areas:
            raise DqflowError(f"{what}: no area '{area}' in the campaign; areas: {', '.join(sorted(areas)) or 'none declared'}",
                              code="no-area", area=area, known=", ".join(sorted(areas)) or "—")
        if level not in scale:
            raise DqflowError(f"{what}: no level '{level}' in the campaign; levels: {', '.join(sorted(scale)) or 'none declared'}",
                              code="no-level", level=level, known=", ".join(sorted(scale)) or "—")
    return levels


@functools.lru_cache(maxsize=16)
def _stored_reviews(areas: tuple[str, ...]) -> Select:
    """`ReviewBook._read`'s statement of every review of a stage, for a campaign's areas: made once."""
    return sa_select(_REVIEW.c.institution_id, _REVIEW.c.expert_id, rules.counts_as_review_sql(_REVIEW.c.levels, areas)).where(
        _REVIEW.c.campaign_id == _CAMPAIGN, _REVIEW.c.stage_id == _STAGE)


@functools.lru_cache(maxsize=8)
def _assigned_reviews(areas: tuple[str, ...]) -> Select:
    """`ReviewBook._read`'s statement for some ДОУ (`institutions`): each one's experts in the list (`list`, as `stored`
    reads them), each with whether their review in the stage (`stage`) is stored and counts (`rules.counts_as_review_sql`):
    one statement, made once per campaign's areas."""
    a, r = table(AssignmentRow).c, _REVIEW.c
    return (sa_select(a.institution_id, a.expert_id, r.expert_id.is_not(None), rules.counts_as_review_sql(r.levels, areas))
            .outerjoin(_REVIEW, (r.campaign_id == a.campaign_id) & (r.stage_id == _STAGE) & (r.institution_id == a.institution_id)
                       & (r.expert_id == a.expert_id))
            .where(a.campaign_id == _CAMPAIGN, a.stage_id == bindparam("list"), a.institution_id.in_(_INSTITUTIONS))
            .order_by(a.institution_id, a.expert_id))


def area_levels(campaign: spec.Campaign, indicators: dict[str, str]) -> dict[str, str]:
    """The levels by area a per-indicator review keeps in its review row (`ReviewRow.levels`): those its indicators'
    levels give by the campaign's `area_level:` rule (`finals.area_levels`), so what reads areas reads them as before."""
    return finals.area_levels(indicators, campaign)


class ReviewBook:
    """The reviews of one transaction: each review stage's list and stored reviews are read once,
    every review is checked against them in memory, and all are written at once by `write`.

    So recording a thousand reviews costs a few statements per stage plus two executemany calls,
    not a read of the whole expert list per review."""

    def __init__(self, session: Session, campaign: spec.Campaign, institutions: set[str] | None = None):
        """`institutions`: the ДОУ the reviews will be about; only their rows are read (a chunk at a time),
        so a stretch of acts costs what it names, not the whole list. None, or most of the roster: the
        whole list at once."""
        self.session, self.campaign = session, campaign
        self._areas = [a.id for a in campaign.areas]
        most = institutions is None or len(institutions) > len(campaign.institutions) // 2
        self._only = None if most or institutions is None else sorted(institutions)
        self._assigned: dict[str, dict[str, list[str]]] = {}  # stage → ДОУ → assigned experts
        self._reported: dict[str, dict[str, set[str]]] = {}  # stage → ДОУ → experts whose review counts (stored or new)
        self._stored: dict[str, set[tuple[str, str]]] = {}  # stage → (ДОУ, expert) reviews already in the database
        self._writes: dict[tuple[str, str, str], dict[str, Any]] = {}  # (stage, ДОУ, expert) → the review's values
        self._indicators: dict[tuple[str, str, str], list[dict[str, Any]]] = {}  # (stage, ДОУ, expert) → its `review_level` rows

    def _read(self, stage: spec.Stage) -> None:
        if stage.id in self._assigned:
            return
        assert stage.list is not None, "a review stage works from an expert list"
        assigned: dict[str, list[str]] = {}
        found: list[tuple[str, str, bool]] = []
        if self._only is None:  # the whole list, and every stored review of the stage
            assigned.update(stored(self.session, self.campaign.id, stage.list))
            found += [(inst, expert, bool(counted)) for inst, expert, counted in self.session.execute(
                _stored_reviews(tuple(self._areas)), {"campaign": self.campaign.id, "stage": stage.id})]
        for chunk in chunks(self._only) if self._only is not None else []:  # some ДОУ: their experts with their reviews
            for inst, expert, reviewed, counted in self.session.execute(_assigned_reviews(tuple(self._areas)), {
                    "campaign": self.campaign.id, "stage": stage.id, "list": stage.list, "institutions": chunk}):
                assigned.setdefault(inst, []).append(expert)
                if reviewed:  # a review of an expert no more assigned is never recorded again: not read
                    found.append((inst, expert, bool(counted)))
        reported: dict[str, set[str]] = {}
        for inst, expert, counted in found:
            if counted:
                reported.setdefault(inst, set()).add(expert)
        self._assigned[stage.id], self._reported[stage.id] = assigned, reported
        self._stored[stage.id] = {(inst, expert) for inst, expert, _ in found}

    def record(self, stage: spec.Stage, institution_id: str, expert_id: str, levels: dict[str, str],
               recommendations: str, now: datetime, indicators: dict[str, str] | None = None,
               comments: dict[str, str] | None = None) -> tuple[str, bool]:
        """Take one review (or a new version of one): its audit action ('review' or 'review-update')
        and whether every expert of the ДОУ has now reported (each one's review counts: `rules.counts_as_review`).
        `levels` are by area; a per-indicator review gives its `indicators` (indicator → level, with `comments`), which
        replace the expert's earlier ones for the ДОУ in the stage (`levels` are then the areas they give)."""
        self._read(stage)
        assigned = self._assigned[stage.id].get(institution_id, [])
        if expert_id not in assigned:
            who = ", ".join(assigned) or "nobody yet"
            raise NotAllowed(f"expert '{expert_id}' is not assigned to ДОУ '{institution_id}' in list '{stage.list}' "
                             f"(assigned: {who}); only they may review it", code="not-assigned",
                             expert=expert_id, institution=institution_id, assigned=", ".join(assigned) or "пока никто")
        written = (institution_id, expert_id) in self._stored[stage.id] or (stage.id, institution_id, expert_id) in self._writes
        action = "review-update" if written else "review"
        reported = self._reported[stage.id].setdefault(institution_id, set())
        if rules.counts_as_review(levels, self._areas):
            reported.add(expert_id)
        else:
            reported.discard(expert_id)
        self._writes[(stage.id, institution_id, expert_id)] = {
            "campaign_id": self.campaign.id, "stage_id": stage.id, "institution_id": institution_id, "expert_id": expert_id,
            "at": now, "levels": json.dumps(levels, ensure_ascii=False, sort_keys=True), "recommendations": recommendations}
        if indicators is not None:
            key = {"campaign_id": self.campaign.id, "stage_id": stage.id, "institution_id": institution_id, "expert_id": expert_id}
            self._indicators[(stage.id, institution_id, expert_id)] = [
                {**key, "indicator_id": ind, "level": level, "comment": (comments or {}).get(ind)} for ind, level in indicators.items()]
        return action, set(assigned) <= reported

    def write(self) -> None:
        """Store what `record` took: one INSERT for new reviews, one executemany UPDATE for new versions."""
        new = [v for (stage, inst, expert), v in self._writes.items() if (inst, expert) not in self._stored[stage]]
        changed = [{"k_" + k: v for k, v in values.items()} for (stage, inst, expert), values in self._writes.items()
                   if (inst, expert) in self._stored[stage]]
        if new:
            self.session.execute(insert(_REVIEW), new)
        if changed:
            r = _REVIEW.c
            self.session.execute(
                update(_REVIEW).where(r.campaign_id == bindparam("k_campaign_id"), r.stage_id == bindparam("k_stage_id"),
                                      r.institution_id == bindparam("k_institution_id"), r.expert_id == bindparam("k_expert_id"))
                .values(at=bindparam("k_at"), levels=bindparam("k_levels"), recommendations=bindparam("k_recommendations")),
                changed)
        self._write_indicators()
        for stage, pairs in self._stored.items():
            pairs.update((inst, expert) for (s, inst, expert) in self._writes if s == stage)
        self._writes.clear()

    def _write_indicators(self) -> None:
        """A per-indicator review's levels: the earlier rows of the reviews written before are deleted (one executemany
        DELETE), the new ones inserted (one INSERT)."""
        if not self._indicators:
            return
        table = _REVIEW_LEVEL
        earlier = [{"k_campaign_id": self.campaign.id, "k_stage_id": stage, "k_institution_id": inst, "k_expert_id": expert}
                   for stage, inst, expert in self._indicators if (inst, expert) in self._stored[stage]]
        if earlier:
            self.session.execute(
                delete(table).where(table.c.campaign_id == bindparam("k_campaign_id"), table.c.stage_id == bindparam("k_stage_id"),
                                    table.c.institution_id == bindparam("k_institution_id"),
                                    table.c.expert_id == bindparam("k_expert_id")), earlier)
        rows = [row for found in self._indicators.values() for row in found]
        if rows:
            self.session.execute(insert(table), rows)
        finals.keep(self.session, self.campaign, {(stage, inst) for stage, inst, _ in self._indicators})  # kept final levels
        self._indicators.clear()


def reviews(session: Session, campaign_id: str, stage_id: str, institution_id: str) -> list[ReviewRow]:
    return list(session.exec(select(ReviewRow).where(
        ReviewRow.campaign_id == campaign_id, ReviewRow.stage_id == stage_id, ReviewRow.institution_id == institution_id)
        .order_by(col(ReviewRow.at), col(ReviewRow.expert_id))).all())


def read_review_csv(path: str, campaign: spec.Campaign, say: Callable[[DqflowError], str] = str) -> list[ReviewEntry]:
    """Reviews from a CSV: institution,stage,expert,levels,recommendations[,comments]; errors as FILE:LINE:COL.

    `levels` is `area=level;…`, or `indicator=level;…` where the campaign reviews per indicator; the optional `comments`
    column (per-indicator reviews) holds `indicator=text`, one a line of the cell. `say` words a cell's refusal (the CLI
    gives the Russian line of `present.refusals`)."""
    columns = ["institution", "stage", "expert", "levels", "recommendations", "comments"]
    limits = [texts.MAX_ID, texts.MAX_ID, texts.MAX_ID, texts.MAX_LINE, texts.MAX_NOTE, texts.MAX_NOTE * 4]
    try:
        data = files.read_bytes(path, files.MAX_REVIEWS).decode("utf-8-sig")
    except files.Unreadable as exc:
        raise SpecError([Problem(path, 1, 1, str(exc))]) from None
    except UnicodeDecodeError:
        raise SpecError([Problem(path, 1, 1, "текст не в UTF-8; сохраните файл в кодировке UTF-8")]) from None
    rows = files.csv_rows(data, path)
    header = [c.strip() for c in rows[0][1]] if rows else []
    if header != columns[:5] and header != columns:
        raise SpecError([Problem(path, 1, 1, f"первая строка должна быть заголовком {','.join(columns[:5])} "
                                             f"(по показателям можно добавить столбец {columns[5]})")])
    columns, limits = columns[:len(header)], limits[:len(header)]
    entries, problems = [], []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            problems.append(Problem(path, line, len(columns) + 1, f"в строке больше {len(columns)} столбцов ({','.join(columns)}); "
                                    "значение с запятой возьмите в кавычки"))
            continue
        row = [c.strip() for c in row] + [""] * (len(columns) - len(row))
        unstorable = [(col, why) for col, (value, limit) in enumerate(zip(row, limits), 1) if (why := texts.problem(value, limit))]
        if unstorable:
            problems += [Problem(path, line, col, f"{columns[col - 1]}: {why}") for col, why in unstorable]
            continue
        pairs = [p for p in row[3].split(";") if p.strip()]
        try:
            marks = parse_levels(campaign, pairs)
        except DqflowError as exc:
            problems.append(Problem(path, line, 4, say(exc).replace("--level", "levels")))
            continue
        notes: dict[str, str] = {}
        if len(row) > 5 and row[5]:
            try:
                notes = parse_comments(campaign, [p.strip() for p in row[5].splitlines() if p.strip()])
            except DqflowError as exc:
                problems.append(Problem(path, line, 6, say(exc).replace("--comment", "comments")))
                continue
        for column, value in enumerate(row[:3], 1):
            if not value:
                problems.append(Problem(path, line, column, f"{columns[column - 1]}: пусто; заполните"))
        entries.append(ReviewEntry(row[0], row[1], row[2], marks, row[4], where=f"{path}:{line}", comments=notes))
    if problems:
        raise SpecError(problems)
    return entries
