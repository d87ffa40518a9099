"""The public board: stages on a timeline with today marked, progress per stage, ДОУ × stages by status.

It carries ДОУ names and statuses only: no addresses, no experts, no review contents. `write` saves it
as a static page to publish anywhere (`dqflow board --out DIR`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
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
    rows: list[Markup]  # each ДОУ's row of the grid (`row`)

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


def row(name: str, statuses: list[str]) -> Markup:
    """A ДОУ's row of the board's grid: its name and its status cells (each status's cell is made once)."""
    return Markup("<tr><td>{}</td>{}</tr>").format(name, Markup("".join([_cell(st) for st in statuses])))


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
        query = (sa_select(p.institution_id, *rules.statuses_by_stage_sql(campaign.stages, now))
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


def roster_grid(session: Session, campaign: spec.Campaign, now: datetime) -> list[tuple[str, list[str]]]:
    """`grid` of the whole roster as `engine.status(institutions=True, limit=None)` lists it, read as plain values:
    the ДОУ's stored rows in roster order (the file's ДОУ by their position, which load and every amendment keep
    as the file's, then those an amendment withdrew: `engine.withdrawn`'s order), each with its status at `now` in
    each stage as the rules say it (`rules.status_at_sql`, a review of nothing is NOTHING, as `status` counts):
    one SELECT, a row per ДОУ (its stages' rows turned into columns in the database). No view object per ДОУ, and
    the definition's roster is never parsed."""
    p, i = _PROGRESS.c, _INSTITUTION.c
    stages = [s.id for s in campaign.stages if s.per_institution]
    columns = rules.statuses_by_stage_sql(campaign.stages, now)
    query = (sa_select(i.name, *columns)
             .select_from(_INSTITUTION.outerjoin(_PROGRESS, and_(p.campaign_id == i.campaign_id, p.institution_id == i.id,
                                                                 p.stage_id.in_(stages))))
             .where(i.campaign_id == campaign.id)
             .group_by(i.campaign_id, i.id)
             .order_by(*ROSTER_ORDER))
    return [(name, [found or "upcoming" for found in found_all]) for name, *found_all in session.execute(query)]


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


def write(view: CampaignView, folder: Path, size: int | None = None, rows: list[tuple[str, list[str]]] | None = None) -> Path:
    """The board as static pages in `folder` (made if missing): `index.html` with the stages and the first
    `size` ДОУ, then `page-2.html`, … with the next ones, each linking to its neighbours; self-contained.
    `rows`: the whole roster's (`roster_grid`), else those of the view's ДОУ.

    The pages are `render`'s of each page of the roster, made as a stream: the template compiled once, the
    stages' bars computed once, each page's rows rendered and written before the next."""
    whole = Board.of(replace(view, institutions=[]))
    rows, size = grid(whole.columns, view.institutions) if rows is None else rows, size or PAGE
    template = environment().get_template("board.html")
    context = _context(view)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for start in range(0, max(len(rows), 1), size):
            part = rows[start:start + size]
            pager = Pager.of(start, len(part), len(rows), lambda at: file_name(at, size), size) if len(rows) > size else None
            page = template.render(board=replace(whole, rows=[row(name, found) for name, found in part]), pager=pager, **context)
            (folder / file_name(start, size)).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DqflowError(f"--out {folder}: cannot write the board ({exc.strerror}); give a writable folder", code="cannot-write",
                          out=str(folder), why=str(exc.strerror)) from None
    return folder / "index.html"
