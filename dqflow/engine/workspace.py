"""What one person has to do, read for their portal page: a ДОУ's stages, submissions and released
recommendations; an expert's assigned ДОУ with their links and the reviews already recorded.

Reads only the person's own rows (a few indexed reads, whatever the roster's size) and projects them to `now`
with the rules (`rules.status_at`, `rules.materials`), as reconcile at `now` would leave them: a page never runs
the reconciler, so a database no tick brought past a boundary costs a page no more than one that was. Writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import expertise, experts, form, rules
from dqflow.engine.acts import Progress
from dqflow.errors import NotFound
from dqflow.store import AssignmentRow, ProgressRow, ReviewLevelRow, ReviewRow, StageRow, SubmissionRow, table

# The pages' statements, made once with their values as parameters: building a statement in the expression language
# (its clauses, their coercions) cost a page about as much as running it, at every request
_CAMPAIGN: BindParameter[str] = bindparam("campaign")
_INSTITUTION: BindParameter[str] = bindparam("institution")
_EXPERT: BindParameter[str] = bindparam("expert")
_STAGES: BindParameter[list[str]] = bindparam("stages", expanding=True)
_INSTITUTIONS: BindParameter[list[str]] = bindparam("institutions", expanding=True)
_p, _h, _st, _r = table(ProgressRow).c, table(SubmissionRow).c, table(StageRow).c, table(ReviewRow).c
# a ДОУ's page (`institution_desk`), in two statements: its rows, each with its hand-ins (a row once per hand-in, in
# hand-in order; once with NULLs when it has none), as plain values; and each review stage with whether its
# recommendations are sent and the reviews of the ДОУ in it (released or not: the page shows those released)
_ITS_ROWS = (sa_select(*(_p[f.name] for f in fields(Progress)), _h.at, _h.links)
             .outerjoin(table(SubmissionRow), (_h.campaign_id == _p.campaign_id) & (_h.institution_id == _p.institution_id)
                        & (_h.stage_id == _p.stage_id))
             .where(_p.campaign_id == _CAMPAIGN, _p.institution_id == _INSTITUTION).order_by(_h.id))
_ITS_REVIEWS = (sa_select(_st.id, _st.followup_planned, _r.expert_id, _r.levels, _r.recommendations)
                .outerjoin(table(ReviewRow), (_r.campaign_id == _st.campaign_id) & (_r.stage_id == _st.id)
                           & (_r.institution_id == _INSTITUTION))
                .where(_st.campaign_id == _CAMPAIGN, _st.id.in_(_STAGES)).order_by(_r.at, _r.expert_id))
# an expert's page (`expert_desk`), in two statements: their assignments, each with its ДОУ's rows in the stages an
# expert's page reads (`Roster.experts_read`; a row once per assignment of its ДОУ) with the expert's own review in that
# stage (a review stage's row); and the hand-ins of those ДОУ
_a = table(AssignmentRow).c
_ASSIGNED = (sa_select(_a.stage_id, _a.institution_id, *(_p[f.name] for f in fields(Progress)), _r.at, _r.levels, _r.recommendations)
             .outerjoin(table(ProgressRow), (_p.campaign_id == _a.campaign_id) & (_p.institution_id == _a.institution_id)
                        & _p.stage_id.in_(_STAGES))
             .outerjoin(table(ReviewRow), (_r.campaign_id == _p.campaign_id) & (_r.stage_id == _p.stage_id)
                        & (_r.institution_id == _p.institution_id) & (_r.expert_id == _a.expert_id))
             .where(_a.campaign_id == _CAMPAIGN, _a.expert_id == _EXPERT))
_THEIR_HAND_INS = (sa_select(_h.institution_id, _h.links)
                   .where(_h.campaign_id == _CAMPAIGN, _h.institution_id.in_(_INSTITUTIONS))
                   .order_by(_h.at, _h.id))


@dataclass(frozen=True)
class Roster:
    """A definition's people by id, built once per definition (a page looks one up, never scans 50,000)."""

    position: dict[str, int]  # ДОУ id → its place in the roster
    experts: dict[str, tuple[spec.Expert, spec.Institution | None]]  # expert id → (expert, their ДОУ or None)
    reviewed: dict[str, tuple[str, ...]]  # review stage → the ДОУ stages it reviews (`rules.reviews`)
    materials: dict[str, tuple[str, ...]]  # every experts' task → its `rules.materials_stages` (empty ones too)
    reviewing: tuple[spec.Stage, ...]  # the experts' tasks (the stages a ДОУ's page shows recommendations of)
    experts_read: tuple[str, ...]  # the stages an expert's page may read rows of: the reviews of lists and their materials
    tasks: tuple[tuple[spec.Stage, spec.Stage | None, spec.Stage | None], ...]  # each expert list, its review, its handout

    @classmethod
    def of(cls, campaign: spec.Campaign) -> "Roster":
        homes = {i.id: i for i in campaign.institutions}
        stages = campaign.stages
        reviewing = tuple(s for s in stages if s.actor == "expert" and s.kind == "task")
        return cls({i.id: n for n, i in enumerate(campaign.institutions)},
                   {e.id: (e, homes.get(inst) if inst else None) for e, inst in campaign.every_expert()},
                   rules.reviews(stages), {s.id: rules.materials_stages(stages, s) for s in stages if s.actor == "expert"},
                   reviewing,
                   tuple(sorted({s.id for s in reviewing if s.list} | {m for s in reviewing if s.list for m in rules.materials_stages(stages, s)})),
                   tuple((stage, next((s for s in reviewing if s.list == stage.id), None),
                          next((s for s in stages if s.kind == "handout" and s.list == stage.id), None))
                         for stage in stages if stage.kind == "assignment"))


_ROSTERS: dict[int, tuple[spec.Campaign, Roster]] = {}  # id(definition) → (the definition, kept alive, its roster)
_ROSTERS_KEPT = 4


def roster(campaign: spec.Campaign) -> Roster:
    """The definition's `Roster`, built on its first use in this process (a definition is immutable: see `definitions`)."""
    found = _ROSTERS.get(id(campaign))
    if found is None or found[0] is not campaign:
        while len(_ROSTERS) >= _ROSTERS_KEPT:
            _ROSTERS.pop(next(iter(_ROSTERS)))
        found = _ROSTERS[id(campaign)] = (campaign, Roster.of(campaign))
    return found[1]


@dataclass
class Released:
    """A review stage's recommendations to one ДОУ, once they are released (sent or the stage locked)."""

    stage: spec.Stage
    # {"n", "levels": [(area title, level title)], "indicators": [(id, title, level title, comment)], "recommendations"};
    # no expert names. `indicators` where the campaign reviews per indicator, in the form's order.
    reviews: list[dict]


@dataclass(frozen=True)
class Submitted:
    """One hand-in as the page shows it: when, and its links (JSON, as stored)."""

    at: datetime
    links: str


@dataclass
class DeskStage:
    """A stage of the ДОУ's page: its row (`acts.Progress`, plain values, projected to `now`), its hand-ins in order, and
    its status at `now` (a review of nothing is NOTHING). The ДОУ's extensions show in its row's times; the coordinator's
    card lists them (`views.StageDetail`)."""

    stage: spec.Stage
    progress: Progress
    submissions: list[Submitted]
    status: str


@dataclass
class InstitutionDesk:
    institution: spec.Institution
    stages: list[DeskStage]
    released: list[Released]
    forms: dict[str, form.Form] = field(default_factory=dict)  # the form stage the ДОУ works on now → its form (`form.current_stage`)

    def can_submit(self, detail: DeskStage, now: datetime) -> bool:
        """Whether to offer the form: the ДОУ's own stage and nothing refuses a hand-in now (`rules.refusal`)."""
        return detail.stage.actor == "institution" and rules.refusal(detail.progress, now) is None


def institution_desk(session: Session, campaign: spec.Campaign, institution_id: str, now: datetime) -> InstitutionDesk:
    if institution_id not in campaign.institution_ids:
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'", code="no-dou", institution=institution_id,
                       known=", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else ""))
    people = roster(campaign)
    institution = campaign.institutions[people.position[institution_id]]
    details = _desk_stages(session, campaign, people, institution_id, now)  # its own rows, projected to `now`
    released = []
    if people.reviewing:  # the review stages, whether each one's recommendations are sent, and the ДОУ's reviews in each
        followed: dict[str, bool] = {}
        found: dict[str, list[Review]] = {}
        for stage_id, sent, *review in session.execute(_ITS_REVIEWS, {"campaign": campaign.id, "institution": institution_id,
                                                                      "stages": [s.id for s in people.reviewing]}):
            followed[stage_id] = sent
            if review[0] is not None:
                found.setdefault(stage_id, []).append(Review(stage_id, *review))
        shown = [s for s in people.reviewing if (followed.get(s.id) or rules.has_locked(s.locks_at, now)) and found.get(s.id)]
        marks = _indicator_marks(session, campaign, institution_id, [s.id for s in shown])
        released = [Released(s, [_shown(campaign, n, r, marks.get((s.id, r.expert_id), {})) for n, r in enumerate(found[s.id], 1)])
                    for s in shown]
    working = form.current_stage(session, campaign, institution_id, now)  # a few range reads, only where the campaign has a form
    forms = {working.id: form.read(session, campaign, institution_id, working, now)} if working is not None else {}
    return InstitutionDesk(institution, details, released, forms)


@dataclass(frozen=True)
class Review:
    """One expert's review of the ДОУ as its page reads it (plain values)."""

    stage_id: str
    expert_id: str
    levels: str  # JSON, as stored
    recommendations: str


def _desk_stages(session: Session, campaign: spec.Campaign, people: Roster, institution_id: str, now: datetime) -> list[DeskStage]:
    """The ДОУ's stages as of `now`, as `views.institution_detail` gives them but read as plain values (Core, one range
    read of its rows with their hand-ins; ORM objects cost a page more than the reads) and without the extensions."""
    progress: dict[str, Progress] = {}
    submissions: dict[str, list[Submitted]] = {}
    width = len(fields(Progress))
    for values in session.execute(_ITS_ROWS, {"campaign": campaign.id, "institution": institution_id}):
        stage_id = values[2]
        if stage_id not in progress:
            row = progress[stage_id] = Progress(*values[:width])
            row.status = rules.status_at(row, now)
        if values[width + 1] is not None:
            submissions.setdefault(stage_id, []).append(Submitted(values[width], values[width + 1]))
    statuses = rules.statuses_at(progress, campaign.stages, now, people.reviewed)  # a review of nothing is said so
    return [DeskStage(stage, progress[stage.id], submissions.get(stage.id, []), statuses[stage.id])
            for stage in campaign.stages if stage.per_institution and stage.id in progress]  # none: a stage added after a withdrawal


def _indicator_marks(session: Session, campaign: spec.Campaign, institution_id: str,
                     stage_ids: list[str]) -> dict[tuple[str, str], dict[str, tuple[str, str | None]]]:
    """(stage, expert) → indicator → (level, comment) of the ДОУ's released reviews per indicator: one range read."""
    if not campaign.reviews_by_indicator or not stage_ids:
        return {}
    found: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {}
    for row in session.exec(select(ReviewLevelRow).where(
            ReviewLevelRow.campaign_id == campaign.id, col(ReviewLevelRow.stage_id).in_(stage_ids),
            ReviewLevelRow.institution_id == institution_id)).all():
        found.setdefault((row.stage_id, row.expert_id), {})[row.indicator_id] = (row.level, row.comment)
    return found


def _shown(campaign: spec.Campaign, n: int, review: Review, marks: dict[str, tuple[str, str | None]]) -> dict:
    areas = json.loads(review.levels)
    levels = {lv.id: lv.title for lv in campaign.levels}
    return {"n": n, "recommendations": review.recommendations,
            "levels": [(a.title, levels.get(areas[a.id], areas[a.id])) for a in campaign.areas if a.id in areas],
            "indicators": [(ind_id, ind.title, levels.get(marks[ind_id][0], marks[ind_id][0]), marks[ind_id][1])
                           for ind_id, (_, ind) in campaign.indicators.items() if ind_id in marks]}


@dataclass(frozen=True)
class OwnReview:
    """The expert's own review of an assigned ДОУ in a review stage, as their page shows it (plain values)."""

    at: datetime
    levels: str  # JSON, as stored
    recommendations: str


@dataclass
class Assigned:
    institution: spec.Institution
    links: list[str]
    progress: Progress | None  # in the review stage (its status at `now`), when there is one
    review: OwnReview | None  # this expert's, when recorded
    materials: rules.Materials = rules.Materials.PRESENT  # what there is to review now (`rules.materials`)
    awaited_until: datetime | None = None  # while awaited: the soonest due time of the ДОУ's open stages
    state: rules.ReviewProgress = rules.ReviewProgress.AWAITED  # the expert's own progress on it (`rules.review_progress`)
    form: expertise.Reviewed | None = None  # per-indicator review (`Campaign.reviews_by_indicator`): the version it judges

    @property
    def levels(self) -> dict[str, str]:
        return json.loads(self.review.levels) if self.review else {}


@dataclass
class ExpertTask:
    """One expert list and the review stage that works from it."""

    list_stage: spec.Stage
    review_stage: spec.Stage | None
    assigned: list[Assigned] = field(default_factory=list)

    handout: spec.Stage | None = None  # the stage that hands this list's ДОУ to the experts
    drawn: bool = True  # whether the list is stored (an open list no tick has drawn yet is not)

    @property
    def heading(self) -> spec.Stage:
        """The stage the expert's work is shown under: the review, or the list where no review works from it."""
        return self.review_stage or self.list_stage

    def can_review(self, item: Assigned, now: datetime) -> bool:
        """Whether to offer the review form: nothing refuses a review of the ДОУ now (`rules.refusal`), the
        handout gave it to the expert and it has materials to review (`rules.materials`)."""
        return (self.review_stage is not None and item.progress is not None and rules.refusal(item.progress, now) is None
                and item.materials is rules.Materials.PRESENT
                and (self.handout is None or rules.has_opened(self.handout.opens_at, now)))


@dataclass
class ExpertDesk:
    expert: spec.Expert
    home: spec.Institution | None  # None for an expert of no ДОУ (the ИМЦ's methodologists)
    tasks: list[ExpertTask]


def expert_desk(session: Session, campaign: spec.Campaign, expert_id: str, now: datetime) -> ExpertDesk:
    """The expert's lists with their ДОУ, from the expert's own rows: their assignments (one indexed read), then the
    rows of those ДОУ alone with the expert's reviews, and their hand-ins, projected to `now`."""
    people = roster(campaign)
    found = people.experts.get(expert_id)
    if found is None:
        raise NotFound(f"no expert '{expert_id}' in campaign '{campaign.id}'", code="no-expert", expert=expert_id)
    mine: dict[str, list[str]] = {}
    read: dict[tuple[str, str], Any] = {}  # (ДОУ, stage) → its row's values with the expert's own review's
    width = len(fields(Progress))
    for stage_id, inst, *values in session.execute(_ASSIGNED, {"campaign": campaign.id, "expert": expert_id,
                                                             "stages": list(people.experts_read)}):
        if inst in people.position and inst not in mine.setdefault(stage_id, []):  # not a ДОУ an amendment withdrew:
            mine[stage_id].append(inst)  # its list rows stay as history
        if values[0] is not None:
            read[(inst, values[2])] = values
    mine = {stage_id: ids for stage_id, ids in mine.items() if ids}  # lists of withdrawn ДОУ alone: none
    tasks = []
    for stage, review, handout in people.tasks:
        drawn = bool(mine.get(stage.id)) or not rules.has_opened(stage.opens_at, now) or experts.drawn(session, campaign.id, stage.id)
        tasks.append(ExpertTask(stage, review, handout=handout, drawn=drawn))
    institutions = sorted({i for ids in mine.values() for i in ids}, key=people.position.__getitem__)
    if not institutions:
        return ExpertDesk(found[0], found[1], tasks)
    reviewing = [t.review_stage for t in tasks if t.review_stage is not None and mine.get(t.list_stage.id)]
    wanted = {s.id for s in reviewing} | {sid for s in reviewing for sid in people.materials[s.id]}
    rows: dict[tuple[str, str], Progress] = {}
    reviews: dict[tuple[str, str], OwnReview] = {}
    for inst in institutions:
        for stage_id in wanted:
            its = read.get((inst, stage_id))
            if its is None:
                continue
            row = rows[(inst, stage_id)] = Progress(*its[:width])
            row.status = rules.status_at(row, now)
            if its[width] is not None:  # the expert's own review in this (review) stage
                reviews[(inst, stage_id)] = OwnReview(*its[width:])
    links = _links(session, campaign.id, institutions)
    for task in tasks:
        ids = sorted(mine.get(task.list_stage.id, []), key=people.position.__getitem__)
        review = task.review_stage
        forms = _forms(session, campaign, review, expert_id, ids, rows) if review is not None else {}
        for inst in ids:
            item = Assigned(campaign.institutions[people.position[inst]], links.get(inst, []),
                            rows.get((inst, review.id)) if review else None, reviews.get((inst, review.id)) if review else None,
                            form=forms.get(inst))
            if review is not None:
                _judge_materials(people, review, item, rows)
                item.state = rules.review_progress(item.review is not None, item.materials,
                                                   item.progress.status if item.progress else None)
            task.assigned.append(item)
    return ExpertDesk(found[0], found[1], tasks)


def _forms(session: Session, campaign: spec.Campaign, review: spec.Stage, expert_id: str, institutions: list[str],
           rows: dict[tuple[str, str], Progress]) -> dict[str, expertise.Reviewed]:
    """Where the campaign reviews per indicator: each ДОУ's form version the expert judges in `review`
    (`expertise.reviewed`), by the ДОУ's rows in the form stages (already projected to `now`)."""
    if not campaign.reviews_by_indicator or not institutions:
        return {}
    stages = [s.id for s in campaign.form_stages()]
    statuses = {inst: {sid: rows[(inst, sid)].status for sid in stages if (inst, sid) in rows} for inst in institutions}
    return expertise.reviewed(session, campaign, review, expert_id, statuses)


def _judge_materials(people: Roster, review: spec.Stage, item: Assigned, rows: dict[tuple[str, str], Progress]) -> None:
    """What the assigned ДОУ has for the expert to review (`rules.materials`, its rows already projected to `now`), and
    till when it is awaited."""
    mine = [rows[key] for key in ((item.institution.id, sid) for sid in people.materials[review.id]) if key in rows]
    item.materials = rules.materials(r.status for r in mine)  # already projected to `now`
    if item.materials is rules.Materials.AWAITED:
        item.awaited_until = min(r.due_at for r in mine if r.status not in (rules.Status.MISSED.value, rules.Status.EXCUSED.value))


def _links(session: Session, campaign_id: str, institutions: list[str]) -> dict[str, list[str]]:
    """What these ДОУ handed in so far, in order, each link once."""
    found: dict[str, list[str]] = {}
    for inst, text in session.execute(_THEIR_HAND_INS, {"campaign": campaign_id, "institutions": institutions}):
        seen = found.setdefault(inst, [])
        seen += [link for link in json.loads(text) if link not in seen]
    return found
