"""What the coordinator sees: the campaign as of a moment (`status`), one ДОУ's stages and history.

`status` computes, without writing, what reconcile at `now` would leave: each stage's state and each
ДОУ's status are the rules' (`rules.stage_state_at`, `rules.status_at_sql`), counted in SQL.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from sqlalchemy import Table, and_, case, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from dqflow.calendar import as_utc
from dqflow.campaign import spec
from dqflow.engine import finals, late, rules
from dqflow.engine.definitions import definition
from dqflow.engine.rules import Status
from dqflow.errors import NotFound
from dqflow.store import AuditRow, ExtensionRow, InstitutionRow, ProgressRow, StageRow, SubmissionRow

_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]  # SQLModel's typing does not declare it


@dataclass
class StageView:
    stage: spec.Stage
    state: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class InstitutionView:
    institution: spec.Institution
    state: str
    stages: dict[str, str]


@dataclass
class CampaignView:
    campaign: spec.Campaign
    now: datetime
    stages: list[StageView]
    institutions: list[InstitutionView]  # those asked for: none, a page of the roster, or one
    recorded_until: datetime | None = None  # the latest change already stored; status cannot rewind past it
    total: int = 0  # ДОУ in the campaign
    offset: int = 0  # where `institutions` starts in the roster
    # review stage → indicators its experts disagree on, not settled yet (`finals.awaiting_settlement`); {} where the
    # experts review per area
    awaiting_settlement: dict[str, int] = field(default_factory=dict)
    # (ДОУ, review stage) of the reviews of nothing of the ДОУ still in the campaign, in `late.without_materials`' order,
    # when asked for (`status(…, without_materials=True)`); else empty
    without_materials: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class StageDetail:
    stage: spec.Stage
    progress: ProgressRow
    extensions: list[ExtensionRow]
    submissions: list[SubmissionRow]
    status: str = ""  # the ДОУ's status in the stage at the moment asked (`rules.status_at`: a review of nothing is NOTHING)


INSTITUTIONS_PAGE = 1000  # ДОУ shown by `status --institutions` at a time


def status(session: Session, campaign_id: str | None, now: datetime, *, institutions: bool = False,
           institution_id: str | None = None, offset: int = 0, limit: int | None = INSTITUTIONS_PAGE,
           counts: dict[str, dict[str, int]] | None = None, awaiting: bool = True, without_materials: bool = False) -> CampaignView:
    """The campaign as of `now`, as if reconcile had run, computed from the stored rows without
    running it (nothing is written, no list is drawn): counts per stage and status in one GROUP BY.
    ДОУ are listed only when asked: a page of the roster (`institutions`, from `offset`, at most
    `limit`), or the one `institution_id`. `counts`: stage → status → ДОУ at `now` as `_counts_at` counts them, when
    the caller holds them (each ДОУ's `rules.statuses_at`, summed: the portal keeps them per state of each ДОУ).
    `awaiting=False` leaves `awaiting_settlement` empty, uncounted (a GROUP BY over every expert's level): for a caller
    that does not show it (the справка). `without_materials`: also list the reviews of nothing
    (`late.without_materials`), found once for the list and the counts (`late.reviews_of_nothing`)."""
    campaign = definition(session, campaign_id)
    recorded = session.exec(select(AuditRow.at).where(AuditRow.campaign_id == campaign.id, AuditRow.action != "load")
                            .order_by(col(AuditRow.at).desc()).limit(1)).first()
    stored = session.exec(select(StageRow).where(StageRow.campaign_id == campaign.id)).all()
    states = {row.id: rules.stage_state_at(row, now) for row in stored}
    if without_materials:
        with _serial(session):
            nothing: list[late.Nothing] | None = late.reviews_of_nothing(session, campaign, now)
    else:
        nothing = None
    counts = _counts_at(session, campaign, now, nothing) if counts is None else counts
    reviews = rules.reviews(campaign.stages)  # only their rows can be reviews of nothing: the others have no such count
    stage_views = [
        StageView(s, states[s.id], {k.value: counts.get(s.id, {}).get(k.value, 0) for k in Status
                                    if k is not Status.NOTHING or s.id in reviews} if s.per_institution else {})
        for s in campaign.stages
    ]
    roster: list[spec.Institution] = []
    gone: set[str] = set()
    if institution_id is not None or institutions:  # an amendment's withdrawn ДОУ follow the file's: their records stay
        left = [spec.Institution(row.id, row.name, row.email) for row in withdrawn(session, campaign.id)]
        roster, gone = list(campaign.institutions) + left, {i.id for i in left}
        total = len(roster)
    else:  # only counted: in SQL, and the roster of the definition is never parsed (every ДОУ has its row, withdrawn too)
        total = session.exec(select(func.count()).select_from(InstitutionRow).where(col(InstitutionRow.campaign_id) == campaign.id)).one()
    if institution_id is not None:
        shown = [i for i in roster if i.id == institution_id]
    elif institutions:
        shown = roster[offset:offset + limit if limit is not None else None]
    else:
        shown = []
    return CampaignView(campaign, now, stage_views, _institution_views(session, campaign, shown, gone, now),
                        as_utc(recorded) if recorded else None, total=total, offset=offset,
                        awaiting_settlement=finals.awaiting_settlement(session, campaign) if awaiting else {},
                        without_materials=[(n.institution_id, n.stage_id) for n in nothing or () if not n.withdrawn])


def _counts_at(session: Session, campaign: spec.Campaign, now: datetime,
               nothing: list[late.Nothing] | None = None) -> dict[str, dict[str, int]]:
    """Stage → status → ДОУ, as reconcile at `now` would leave them: the stored counts (one GROUP BY that
    the status index answers alone), moved by the rows each of the clock's ticks would move (an indexed
    range per tick, every stage's at once; `rules.CLOCK` tells those rows apart by their stored status, `rules.onward`
    says where they go on to), and for the review stages the reviews of nothing (`_count_nothing`): four statements,
    whatever the stages (three without review stages, or when the caller found the reviews of nothing: `nothing`,
    `late.reviews_of_nothing`).
    `status_at_sql` says the same row by row (`_institution_views`)."""
    p = _PROGRESS.c
    counts: dict[str, dict[str, int]] = {}
    for stage_id, st, n in session.execute(sa_select(p.stage_id, p.status, func.count())
                                           .where(p.campaign_id == campaign.id).group_by(p.stage_id, p.status)):
        counts.setdefault(stage_id, {})[st] = n
    counted = [s.id for s in campaign.stages if s.per_institution]
    for stage_id in counted:
        counts.setdefault(stage_id, {})
    for tick in rules.CLOCK:
        onward = rules.onward(tick)
        # of the rows the tick moves, how many the later ticks move on (a row goes on while each is due): a sum per row, no sort
        further = [func.coalesce(func.sum(case((and_(*(t.due_sql(p[t.moment], now) for t in onward[:k + 1])), 1), else_=0)), 0)
                   for k in range(len(onward))]
        for stage_id, source, moved, *on in session.execute(
                sa_select(p.stage_id, p.status, func.count(), *further)
                .where(p.campaign_id == campaign.id, p.stage_id.in_(counted), p.status.in_(tick.sources),
                       tick.due_sql(p[tick.moment], now)).group_by(p.stage_id, p.status)):
            mine = counts[stage_id]
            reached = [moved, *on, 0]  # rows that reached the tick's destination, then each later one's
            mine[source] = mine.get(source, 0) - moved
            for k, dest in enumerate([tick.dest, *(t.dest for t in onward)]):
                mine[dest] = mine.get(dest, 0) + reached[k] - reached[k + 1]
    _count_nothing(session, campaign, counted, counts, now, nothing)
    return counts


def _count_nothing(session: Session, campaign: spec.Campaign, counted: list[str], counts: dict[str, dict[str, int]],
                   now: datetime, found: list[late.Nothing] | None) -> None:
    """The review stages' reviews of nothing (`Status.NOTHING`), moved out of the status the clock alone gives them:
    the rows still due (`rules.DUE`, stored and so at `now`) that `status_at_sql` with the materials calls NOTHING.
    One statement for every review stage, the materials grouped of this campaign's rows alone; none when the caller
    `found` them."""
    reviews = {stage_id: stages for stage_id, stages in rules.reviews(campaign.stages).items() if stage_id in counted}
    if not reviews:
        return
    if found is not None:
        moved = Counter((n.stage_id, n.clock) for n in found if n.stage_id in reviews)
    else:
        p = _PROGRESS.c
        nothing = sa_select(p.stage_id, rules.status_at_sql(now).label("was")).where(
            p.campaign_id == campaign.id, p.stage_id.in_(list(reviews)), p.status.in_(rules.DUE),
            rules.status_at_sql(now, materials=reviews, campaign_id=campaign.id) == Status.NOTHING.value).subquery()
        with _serial(session):
            moved = Counter({(stage_id, was): n for stage_id, was, n in session.execute(
                sa_select(nothing.c.stage_id, nothing.c.was, func.count()).group_by(nothing.c.stage_id, nothing.c.was))})
    for (stage_id, was), n in moved.items():
        mine = counts[stage_id]
        mine[was] = mine.get(was, 0) - n
        mine[Status.NOTHING.value] = mine.get(Status.NOTHING.value, 0) + n


_WORKERS = "max_parallel_workers_per_gather"


@contextmanager
def _serial(session: Session) -> Iterator[None]:
    """On PostgreSQL, the statements inside run without parallel workers: a review of nothing is judged by a hashed
    subplan over the reviewed stages' rows (`rules.no_materials_sql`), and every worker builds it again, so a parallel
    plan paid the server three times the CPU for no shorter wait (issue 23: 0.7 s against 0.4 s of the server's
    CPU for `status` at 50,000 ДОУ). The caller's setting is given back after; after an error, the end of the
    transaction gives it back (the setting is local to it)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.execute(text(f"SELECT current_setting('{_WORKERS}'), set_config('{_WORKERS}', '0', true)")).one()[0]
    yield
    session.execute(text(f"SELECT set_config('{_WORKERS}', :before, true)"), {"before": before})


def _institution_views(session: Session, campaign: spec.Campaign, shown: list[spec.Institution], gone: set[str],
                       now: datetime) -> list[InstitutionView]:
    if not shown:
        return []
    p = _PROGRESS.c
    per_institution: dict[str, dict[str, str]] = {}
    status = rules.status_at_sql(now, materials=rules.reviews(campaign.stages), campaign_id=campaign.id)  # a review of nothing is NOTHING, as counted
    for inst, stage_id, st in session.execute(sa_select(p.institution_id, p.stage_id, status).where(
            p.campaign_id == campaign.id, p.institution_id.in_([i.id for i in shown]))):
        per_institution.setdefault(inst, {})[stage_id] = st
    order = [s.id for s in campaign.stages if s.per_institution]
    views = []
    for i in shown:
        mine = per_institution.get(i.id, {})
        ordered = {sid: mine[sid] for sid in order if sid in mine}
        views.append(InstitutionView(i, rules.institution_state(ordered, withdrawn=i.id in gone), ordered))
    return views


def withdrawn(session: Session, campaign_id: str) -> list[InstitutionRow]:
    """The ДОУ an amendment withdrew, in roster order."""
    return list(session.exec(select(InstitutionRow).where(InstitutionRow.campaign_id == campaign_id,
                                                          col(InstitutionRow.withdrawn_at).is_not(None))
                             .order_by(col(InstitutionRow.position), col(InstitutionRow.id))).all())


def _known(session: Session, campaign: spec.Campaign, institution_id: str) -> bool:
    """In the campaign, or withdrawn from it (its records stay readable). Its stored row first, one read by key: the
    definition's set of ids decodes the whole roster (0.7 s at 50,000 ДОУ), so `history` would grow with it."""
    return session.get(InstitutionRow, (campaign.id, institution_id)) is not None or institution_id in campaign.institution_ids


def institution_detail(session: Session, campaign_id: str | None, institution_id: str, now: datetime) -> list[StageDetail]:
    """A ДОУ's stages as of `now`: its rows with their status projected to `now` (`rules.status_at`, what reconcile at
    `now` would leave), its extensions and hand-ins. Reads the ДОУ's own rows only (three indexed reads, whatever the
    roster's size) and writes nothing: the rows given back are detached copies."""
    campaign = definition(session, campaign_id)
    if not _known(session, campaign, institution_id):
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'", code="no-dou", institution=institution_id,
                       known=", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else ""))
    progress = {row.stage_id: _projected(session, row, now) for row in session.exec(select(ProgressRow).where(
        ProgressRow.campaign_id == campaign.id, ProgressRow.institution_id == institution_id)).all()}
    extensions: dict[str, list[ExtensionRow]] = {}
    for ext in session.exec(select(ExtensionRow).where(ExtensionRow.campaign_id == campaign.id, ExtensionRow.institution_id == institution_id)
                            .order_by(col(ExtensionRow.id))).all():
        extensions.setdefault(ext.stage_id, []).append(ext)
    submissions: dict[str, list[SubmissionRow]] = {}
    for sub in session.exec(select(SubmissionRow).where(SubmissionRow.campaign_id == campaign.id, SubmissionRow.institution_id == institution_id)
                            .order_by(col(SubmissionRow.id))).all():
        submissions.setdefault(sub.stage_id, []).append(sub)
    statuses = rules.statuses_at(progress, campaign.stages, now)  # each row's is the clock's; a review of nothing said so
    return [StageDetail(stage, progress[stage.id], extensions.get(stage.id, []), submissions.get(stage.id, []), statuses[stage.id])
            for stage in campaign.stages if stage.per_institution and stage.id in progress]  # none: a stage added after a withdrawal


def _projected(session: Session, row: ProgressRow, now: datetime) -> ProgressRow:
    """The row as reconcile at `now` would leave it, detached from the session so that nothing is ever flushed."""
    session.expunge(row)
    row.status = rules.status_at(row, now)
    return row


def history(session: Session, campaign_id: str | None, institution_id: str) -> list[AuditRow]:
    """A ДОУ's audit trail, oldest first (by when each change took effect)."""
    campaign = definition(session, campaign_id)
    if not _known(session, campaign, institution_id):
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'", code="no-dou", institution=institution_id,
                       known=", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else ""))
    return sorted(session.exec(history_query(campaign.id, institution_id)).all(), key=lambda r: (r.at, r.id))


def history_query(campaign_id: str, institution_id: str) -> SelectOfScalar[AuditRow]:
    """A ДОУ's audit rows, unordered: sorted in SQL by (at, id), SQLite walked the campaign's whole log in time order
    (ix_audit_at) to avoid sorting a few rows; asked for the ДОУ's rows only, both databases read ix_audit_institution."""
    return select(AuditRow).where(AuditRow.campaign_id == campaign_id, AuditRow.institution_id == institution_id)
