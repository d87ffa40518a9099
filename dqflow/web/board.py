"""The public board: stages on a timeline with today marked, progress per stage, ДОУ × stages by status.

It carries ДОУ names and statuses only: no addresses, no experts, no review contents. `write` saves it
as a static page to publish anywhere (`dqflow board --out DIR`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Table, and_
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow import engine
from dqflow.calendar import show, show_date, utc_offset
from dqflow.campaign import spec
from dqflow.engine import CampaignView, InstitutionView, rules
from dqflow.errors import DqflowError
from dqflow.present import labels
from dqflow.results.coverage import StageFigures
from dqflow.store import ROSTER_ORDER, InstitutionRow, ProgressRow
from dqflow.web import snapshots

_PROGRESS: Table = ProgressRow.__table__  # type: ignore[attr-defined]  # SQLModel's typing does not declare it
_INSTITUTION: Table = InstitutionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Bar:
    title: str
    kind: str
    state: str
    left: float  # percent of the campaign's span
    width: float
    when: str
    done: int  # ДОУ that handed in (on time or late) …
    total: int  # … of those expected (not excused): the справка's coverage

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class Board:
    title: str
    now: datetime
    today: float | None  # where today is on the timeline, percent; None outside the campaign
    bars: list[Bar]
    columns: list[tuple[str, str]]  # (stage id, title) of the grid
    rows: list[Markup]  # each ДОУ's row of the grid (`row`); or a page's rows as one piece, joined (`write`)

    @classmethod
    def of(cls, view: CampaignView) -> "Board":
        campaign, tz = view.campaign, view.campaign.tz
        at = lambda t: timeline(campaign, t)  # noqa: E731
        bars = []
        for s in view.stages:
            stage, figures = s.stage, StageFigures(s.stage, s.state, s.counts)  # handed in of expected, as the справка counts
            when = (show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)) if stage.kind == "event" \
                else f"{show_date(stage.opens_at, tz)} – {show(stage.due_at, tz)}"
            bars.append(Bar(stage.label, stage.kind, s.state, at(stage.opens_at), max(at(stage.locks_at) - at(stage.opens_at), 0.8),
                            when, figures.handed_in, figures.expected))
        columns = [(s.id, s.label) for s in campaign.stages if s.per_institution]
        return cls(campaign.title, view.now, today(campaign, view.now), bars, columns,
                   [row(name, statuses) for name, statuses in grid(columns, view.institutions)])


def row(name: str, statuses: Sequence[str | None]) -> Markup:
    """A ДОУ's row of the board's grid: its name and its status cells (None: no row, not begun)."""
    return Markup(_line(name, _cells(tuple(statuses))))


def _line(name: str, cells: str) -> str:
    """`row`'s text: the name escaped as the template escapes any text (`escape`, asked only of a name it would change:
    a third of the board's rendering at 50,000 ДОУ otherwise), the cells as they are (`_cells`)."""
    return f"<tr><td>{escape(name) if _ESCAPED(name) else name}</td>{cells}</tr>"


_ESCAPED = re.compile("[&<>\"']").search  # the characters markupsafe's `escape` replaces; it leaves any other text as it is


@lru_cache(maxsize=4096)
def _cells(statuses: tuple[str | None, ...]) -> str:
    """A ДОУ's status cells, made once per combination of statuses: a national roster has a few hundred (bounded: the
    portal lives on through many states and campaigns)."""
    return "".join([_cell(status or "upcoming") for status in statuses])


@cache
def _cell(status: str) -> Markup:
    return Markup('<td class="cell"><span class="status {}">{}</span></td>').format(status, labels.STATUS_RU[status])


def grid(columns: list[tuple[str, str]], institutions: list[InstitutionView]) -> list[tuple[str, list[str]]]:
    """The board's rows: each ДОУ's name and its status in each column's stage (not begun when it has no row)."""
    return [(i.institution.name, [i.stages.get(sid, "upcoming") for sid, _ in columns]) for i in institutions]


FEW = 32  # ДОУ whose statuses are read as rows and said in Python (`rules.statuses_at`); more, in the database


def statuses(session: Session, campaign: spec.Campaign, now: datetime, institution_ids: list[str]) -> dict[str, list[str]]:
    """These ДОУ's (at most `IN_CHUNK`) statuses at `now` in the grid's stages, as `grid` shows them, in one SELECT either
    way the rules say them: for a few (what changed since a page was made), their rows by the primary key, each ДОУ's
    said by `rules.statuses_at` (the review columns of `status_at_sql` scan every ДОУ's materials, ~11 ms at 2,000 ДОУ
    for one); for more, `status_at_sql` in the database, a row per ДОУ (twice as fast as the Python for a page of 500).
    Run with no ДОУ too (an empty IN), so a page's statements do not depend on what changed."""
    p, stages = _PROGRESS.c, [s.id for s in campaign.stages if s.per_institution]
    if len(institution_ids) > FEW:
        query = (sa_select(p.institution_id, *rules.statuses_by_stage_sql(campaign.stages, now, campaign.id))
                 .where(p.campaign_id == campaign.id, p.institution_id.in_(institution_ids), p.stage_id.in_(stages))
                 .group_by(p.institution_id))
        found = {inst: [status or "upcoming" for status in found_all] for inst, *found_all in session.execute(query)}
        return {i: found.get(i) or ["upcoming"] * len(stages) for i in institution_ids}
    rows: dict[str, dict[str, Any]] = {}
    for row in session.execute(sa_select(p.institution_id, p.stage_id, p.status, p.opens_at, p.due_at, p.locks_at)
                               .where(p.campaign_id == campaign.id, p.institution_id.in_(institution_ids))):
        rows.setdefault(row.institution_id, {})[row.stage_id] = row
    reviewed = rules.reviews(campaign.stages)
    said = {i: rules.statuses_at(rows.get(i, {}), campaign.stages, now, reviewed) for i in institution_ids}
    return {i: [said[i].get(stage_id, "upcoming") for stage_id in stages] for i in institution_ids}


def roster_page(session: Session, campaign: spec.Campaign, start: int, total: int, size: int = 0) -> list[spec.Institution]:
    """A page of the roster as `engine.status(institutions=True)` lists it: the file's ДОУ, then those an amendment
    withdrew (`engine.withdrawn`: read when there are some, `total` — every ДОУ's stored row — beyond the file's)."""
    size = size or PAGE
    shown = list(campaign.institutions[start:start + size])
    if total <= len(campaign.institutions) or len(shown) == size:
        return shown
    left = [spec.Institution(r.id, r.name, r.email) for r in engine.withdrawn(session, campaign.id)]
    past = max(start - len(campaign.institutions), 0)
    return shown + left[past:past + size - len(shown)]


def page_rows(session: Session, campaign: spec.Campaign, now: datetime, shown: list[spec.Institution], grid_name: str,
              kept: snapshots.KeptRows | None, epoch: tuple, render: Callable[[spec.Institution, list[str]], Markup]) -> list[Markup]:
    """A page's grid rows, each `render`ed from its ДОУ's statuses: those whose ДОУ has not changed since they were
    kept (`snapshots.kept_rows`: its version, read from the audit rows past the last read, and `epoch`) as kept, the
    others read in one statement. Two statements, whatever the page's size and however many ДОУ changed."""
    ids = [i.id for i in shown]
    by_id = {i.id: i for i in shown}
    versions = kept.versions(session, campaign.id, ids) if kept is not None else {}
    return snapshots.kept_rows(kept, grid_name, epoch, versions, ids, lambda missing: statuses(session, campaign, now, missing),
                               lambda i, found: render(by_id[i], found))


def stages(kept: snapshots.Snapshots, session: Session, campaign: spec.Campaign, now: datetime, key: tuple) -> CampaignView:
    """The campaign's stages and their counts as of the state `key` names (`engine.status`, no ДОУ listed): computed
    once per state for the board and the coordinator's home both, and never the state's before (`exact`: they are kept
    under this key). The counts are the ДОУ's kept per state of each (`Snapshots.standing`), when kept."""
    def make() -> CampaignView:
        standing = kept.standing(key, session, campaign, now)
        return engine.status(session, campaign.id, now, counts=standing.counts if standing is not None else None)

    return kept.get(key, ("stages",), make, exact=True)


def pager(view: CampaignView, shown: int, path: str) -> "Pager":
    """The pager of a page of `shown` rows from `view.offset` of the roster at `path`."""
    return Pager.of(view.offset, shown, view.total, lambda at: f"{path}?offset={at}" if at else path, PAGE)


Line = tuple[Any, ...]  # a ДОУ's line of the whole grid: its name, then its status in each column's stage (None: no row)


def roster_grid(session: Session, campaign: spec.Campaign, now: datetime) -> list[Line]:
    """The whole roster's grid as `engine.status(institutions=True, limit=None)` lists it, read as plain values: each
    ДОУ's `Line` in roster order (the file's ДОУ by their position, which load and every amendment keep as the file's,
    then those an amendment withdrew: `engine.withdrawn`'s order), its statuses at `now` as the rules say them
    (`rules.statuses_by_stage_sql`, a review of nothing is NOTHING, as `status` counts). One SELECT, a row per ДОУ (its
    stages' rows turned into columns in the database), read as the driver's tuples: no result row object per ДОУ, no
    view object, and the definition's roster is never parsed.

    Every row of the ДОУ is joined, whatever its stage: each column picks its own stage's, and the range of the
    progress table's key per ДОУ is read at once (a join on the grid's stages made SQLite seek each stage's row apart:
    18 % more of the statement's time at 50,000 ДОУ, 10 % more of PostgreSQL's). The rows are joined to the ДОУ before
    they are grouped: grouped first (as `results.rows` does), SQLite saved ~10 %, but PostgreSQL planned the grouping in
    parallel and each worker hashed the review columns' sets of ДОУ with nothing again (`rules.no_materials_sql`): 1.5×
    the server's CPU."""
    p, i = _PROGRESS.c, _INSTITUTION.c
    query = (sa_select(i.name, *rules.statuses_by_stage_sql(campaign.stages, now, campaign.id))
             .select_from(_INSTITUTION.outerjoin(_PROGRESS, and_(p.campaign_id == i.campaign_id, p.institution_id == i.id)))
             .where(i.campaign_id == campaign.id)
             .group_by(i.campaign_id, i.id)
             .order_by(*ROSTER_ORDER))
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall())  # the driver's own rows: names and statuses are text, nothing to convert
    finally:
        result.close()


def counted(campaign: spec.Campaign, lines: list[Line]) -> dict[str, dict[str, int]]:
    """Stage → status → ДОУ of the whole grid (`roster_grid`): `engine.status`'s counts (its `counts=`), each ДОУ's
    status summed where it has a row, as the portal sums its kept statuses (`snapshots.KeptLate`)."""
    stages = [s.id for s in campaign.stages if s.per_institution]
    counts: dict[str, dict[str, int]] = {stage_id: {} for stage_id in stages}
    for statuses, n in Counter(line[1:] for line in lines).items():  # a few hundred combinations, however many ДОУ
        for stage_id, status in zip(stages, statuses, strict=True):
            if status is not None:
                counts[stage_id][status] = counts[stage_id].get(status, 0) + n
    return counts


def timeline(campaign: spec.Campaign, at: datetime) -> float:
    """Where a moment is on the campaign's timeline: percent of its span from its first opening to its last lock."""
    start = min(s.opens_at for s in campaign.stages)
    span = max((max(s.locks_at for s in campaign.stages) - start).total_seconds(), 1.0)
    return round(100 * (at - start).total_seconds() / span, 2)


def today(campaign: spec.Campaign, now: datetime) -> float | None:
    """Where today is on the timeline; None outside the campaign (a stage boundary moves it in or out)."""
    inside = min(s.opens_at for s in campaign.stages) <= now <= max(s.locks_at for s in campaign.stages)
    return timeline(campaign, now) if inside else None


PAGE = 500  # ДОУ rows per page of the board and the coordinator's overview: a phone still scrolls it


@dataclass(frozen=True)
class Pager:
    """Where a page of ДОУ rows stands in the roster, and the links to its neighbours (None at an end)."""

    first: int  # 1-based number of the first row shown; 0 when none
    last: int
    total: int
    page: int
    pages: int
    previous: str | None
    next: str | None

    @classmethod
    def of(cls, offset: int, shown: int, total: int, href, size: int | None = None) -> "Pager":
        """`href(offset)` is the address of the page starting at that row."""
        size = size or PAGE
        pages = max(-(-total // size), 1)
        return cls(offset + 1 if shown else 0, offset + shown, total, offset // size + 1, pages,
                   href(max(offset - size, 0)) if offset > 0 else None,
                   href(offset + size) if offset + size < total else None)


def page_offset(text: str | None, total: int, size: int | None = None) -> int:
    """`?offset=` as a page's first row: a whole number of rows from the roster's start, rounded down to a page of
    `size` (an address of any other row names no page of its own: a page is kept and made per page, and offsets of
    every row would have the kept pages' maker making pages nobody pages to); anything else is the first page."""
    value, size = int(text) if text and text.isdigit() and len(text) < 10 else 0, size or PAGE  # `PAGE` as it is now
    return value - value % size if value < max(total, 1) else 0


def offset(tz, at: datetime) -> str:
    """The zone as people write it on a page: 'UTC+7', spelled as the emails spell it (`calendar.utc_offset`)."""
    return utc_offset(at, tz)


def environment() -> Environment:
    return Environment(loader=PackageLoader("dqflow.web", "templates"), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True)


def _context(view: CampaignView) -> dict:
    """What board.html reads besides the board and the pager: the same on every page of one view."""
    tz = view.campaign.tz
    return dict(now=view.now, zone=offset(tz, view.now), campaign=view.campaign, show=lambda t: show(t, tz),
                STATUS_RU=labels.STATUS_RU, STATE_RU=labels.STATE_RU, public=True)


def render(view: CampaignView, pages: Environment | None = None, pager: Pager | None = None) -> str:
    pages = pages or environment()
    return pages.get_template("board.html").render(board=Board.of(view), pager=pager, **_context(view))


def file_name(row_offset: int, size: int) -> str:
    """The static board's pages: index.html, then page-2.html, page-3.html, …"""
    return "index.html" if row_offset < size else f"page-{row_offset // size + 1}.html"


def write(view: CampaignView, folder: Path, size: int | None = None, lines: list[Line] | None = None) -> Path:
    """The board as static pages in `folder` (made if missing): `index.html` with the stages and the first
    `size` ДОУ, then `page-2.html`, … with the next ones, each linking to its neighbours; self-contained.
    `lines`: the whole roster's (`roster_grid`), else those of the view's ДОУ.

    The pages are `render`'s of each page of the roster, made as a stream: the template compiled once, the
    stages' bars computed once, each page's rows made as text (`row`'s, each combination of statuses' cells once)
    and handed to the template as one piece, written before the next page's."""
    whole = Board.of(replace(view, institutions=[]))
    if lines is None:
        lines = [(name, *statuses) for name, statuses in grid(whole.columns, view.institutions)]
    size = size or PAGE
    template = environment().get_template("board.html")
    context = _context(view)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for start in range(0, max(len(lines), 1), size):
            part = lines[start:start + size]
            pager = Pager.of(start, len(part), len(lines), lambda at: file_name(at, size), size) if len(lines) > size else None
            rows = [Markup("\n".join([_line(line[0], _cells(line[1:])) for line in part]))] if part else []  # joined as the template joins them
            page = template.render(board=replace(whole, rows=rows), pager=pager, **context)
            (folder / file_name(start, size)).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DqflowError(f"--out {folder}: cannot write the board ({exc.strerror}); give a writable folder", code="cannot-write",
                          out=str(folder), why=str(exc.strerror)) from None
    return folder / "index.html"
