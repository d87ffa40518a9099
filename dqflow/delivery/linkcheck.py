"""The campaign's links and their checks: which links the ДОУ gave, which need a check, what each check found.
Results are kept with the moment of the check (`LinkCheckRow`), one row per campaign and URL.

`campaign_links` is the one source of the URLs (the hand-ins of the submission ledger, and the evidence of forms not
handed in yet), so `dqflow links check`, the daemon, the letters and the pages agree. No database work happens while
links are fetched (`link_checker.check` takes URLs and gives results): `save` writes them in one short transaction,
`stale` reads which links need a check.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import Select, String, bindparam, delete, func, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dqflow.delivery.link_checker import BROKEN, CLOSED, OK, Result, check
from dqflow.engine import rules
from dqflow.store import FormEvidenceRow, LinkCheckRow, OutboxRow, ProgressRow, SubmissionRow, chunks, transaction
from dqflow.store.tables import table

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import BindParameter

    from dqflow.delivery.link_policy import Policy

STATES = (OK, CLOSED, BROKEN)
FRESH = timedelta(hours=6)  # a check younger than this is not repeated before a reminder
IN_LIST = 500  # URLs per IN (...) list
SUBMITTED = tuple(s.value for s in rules.Status if s.submitted)  # a stage handed in: its form's links are in the ledger

# What people read of a state, and what to do about it (the ДОУ's page, its reminders, `links check`).
STATE_RU = {OK: "открывается", CLOSED: "доступ закрыт", BROKEN: "не открывается"}
ADVICE_RU = {CLOSED: "откройте доступ по ссылке", BROKEN: "проверьте адрес"}


@dataclass(frozen=True)
class Link:
    institution_id: str
    stage_id: str
    url: str


def campaign_links(session: Session, campaign_id: str, stage_id: str | None = None,
                   institutions: Sequence[str] | None = None, drafts_too: bool = True) -> list[Link]:
    """Every link a ДОУ gave (of one stage, of some ДОУ), each (ДОУ, stage, URL) once: the one source of what is
    checked. The hand-ins of the submission ledger in hand-in order (a handed-in form's links are there), then the
    evidence of the forms not handed in (`engine.form`'s drafts, in the form's order), so a ДОУ learns which links do
    not open before it hands its form in. `drafts_too=False` (a campaign without a form stage has no drafts) spares
    their query."""
    query, drafts = _links_sql(stage_id is not None, institutions is not None)
    values: dict[str, Any] = {"campaign": campaign_id} if stage_id is None else {"campaign": campaign_id, "stage": stage_id}
    rows: list = []
    drafted: list = []
    if institutions is None:
        rows = list(session.execute(query, values))
        drafted = list(session.execute(drafts, values)) if drafts_too else []
    else:
        for chunk in chunks(sorted(set(institutions)), IN_LIST):
            values["institutions"] = chunk
            rows += session.execute(query, values)
            if drafts_too:
                drafted += session.execute(drafts, values)
    found: dict[tuple[str, str, str], Link] = {}
    for inst, stage, text in rows:
        for url in json.loads(text):
            found.setdefault((inst, stage, url), Link(inst, stage, url))
    for inst, stage, url in drafted:
        found.setdefault((inst, stage, url), Link(inst, stage, url))
    return list(found.values())


@functools.lru_cache(maxsize=4)
def _links_sql(of_stage: bool, of_institutions: bool) -> tuple[Select, Select]:
    """`campaign_links`' two statements (the hand-ins, the drafts' evidence) for one stage or all, some ДОУ or all,
    made once with the campaign, the stage and the ДОУ as parameters (building them cost a ДОУ's page more than running
    them)."""
    evidence, progress = table(FormEvidenceRow), table(ProgressRow)
    e, p, h = evidence.c, progress.c, table(SubmissionRow).c
    campaign, stage = bindparam("campaign", type_=String), bindparam("stage", type_=String)
    query = sa_select(h.institution_id, h.stage_id, h.links).where(h.campaign_id == campaign).order_by(h.at, h.id)
    drafts = (sa_select(e.institution_id, e.stage_id, e.url)
              .join(progress, (p.campaign_id == e.campaign_id) & (p.institution_id == e.institution_id) & (p.stage_id == e.stage_id))
              .where(e.campaign_id == campaign, p.status.not_in(SUBMITTED))
              .order_by(e.institution_id, e.stage_id, e.indicator_id, e.position))
    if of_stage:
        query, drafts = query.where(h.stage_id == stage), drafts.where(e.stage_id == stage)
    if of_institutions:
        institutions: BindParameter[list[str]] = bindparam("institutions", expanding=True)
        query, drafts = query.where(h.institution_id.in_(institutions)), drafts.where(e.institution_id.in_(institutions))
    return query, drafts


def reminded(session: Session, campaign_id: str, now: datetime, kinds: Sequence[str], fresh: timedelta | None = None,
             limit: int = 500) -> list[Link]:
    """The links to check before the reminders due at `now` go out: of each ДОУ that a pending reminder of these kinds
    (its deadline reminders) is due to, the links never checked or checked before `now - fresh`; at most `limit`, the
    ДОУ reminded first first. Two queries and a chunk of ДОУ per query. `fresh`: `FRESH`, read at the call."""
    institutions = [i for i in session.exec(
        select(OutboxRow.institution_id).where(OutboxRow.campaign_id == campaign_id, OutboxRow.role == "institution",
                                               OutboxRow.state == "pending", col(OutboxRow.kind).in_(list(kinds)),
                                               OutboxRow.send_at <= now, col(OutboxRow.institution_id).is_not(None))
        .group_by(col(OutboxRow.institution_id)).order_by(func.min(OutboxRow.send_at), col(OutboxRow.institution_id))).all()
        if i is not None]
    found: list[Link] = []
    for chunk in chunks(institutions, IN_LIST):
        links = campaign_links(session, campaign_id, institutions=chunk)
        due = set(stale(session, campaign_id, (link.url for link in links), now, fresh))
        found += [link for link in links if link.url in due]
        if len({link.url for link in found}) >= limit:
            break
    kept: list[Link] = []
    urls: set[str] = set()
    for link in found:
        if link.url not in urls and len(urls) >= limit:
            continue
        urls.add(link.url)
        kept.append(link)
    return kept


def results(session: Session, campaign_id: str, urls: Iterable[str]) -> dict[str, LinkCheckRow]:
    """The stored result of each of these URLs that was checked."""
    found: dict[str, LinkCheckRow] = {}
    for chunk in chunks(sorted(set(urls)), IN_LIST):
        for row in session.exec(select(LinkCheckRow).where(LinkCheckRow.campaign_id == campaign_id,
                                                            col(LinkCheckRow.url).in_(chunk))).all():
            found[row.url] = row
    return found


def stale(session: Session, campaign_id: str, urls: Iterable[str], now: datetime, fresh: timedelta | None = None) -> list[str]:
    """The URLs never checked, or checked before `now - fresh` (`FRESH`, read at the call), in the order given."""
    fresh = FRESH if fresh is None else fresh
    urls = list(dict.fromkeys(urls))
    known = results(session, campaign_id, urls)
    return [u for u in urls if u not in known or known[u].checked_at < now - fresh]


def counts(session: Session, campaign_id: str) -> dict[str, int]:
    """How many checked URLs of the campaign are in each state (one GROUP BY)."""
    found = dict(session.exec(select(LinkCheckRow.state, func.count()).where(LinkCheckRow.campaign_id == campaign_id)
                              .group_by(col(LinkCheckRow.state))).all())
    return {state: int(found.get(state, 0)) for state in STATES}


def save(db: Engine, campaign_id: str, found: dict[str, Result], now: datetime) -> None:
    """Write the results in one short transaction (a URL's earlier result is replaced)."""
    if not found:
        return
    rows = [{"campaign_id": campaign_id, "url": r.url, "state": r.state, "detail": r.detail, "http_status": r.http_status,
             "checked_at": now} for r in found.values()]
    t = table(LinkCheckRow)
    with transaction(db) as session:
        for chunk in chunks(rows, IN_LIST):
            session.execute(delete(t).where(t.c.campaign_id == campaign_id, t.c.url.in_([r["url"] for r in chunk])))
            session.execute(insert(t), chunk)


@dataclass
class Report:
    """What one check found, link by link (a URL given by two ДОУ is listed for each); `unchecked`: the links a
    budget that ran out left for a later check."""

    now: datetime
    links: list[tuple[Link, Result]]
    seconds: float = 0.0
    unchecked: int = 0

    def count(self, state: str) -> int:
        return sum(1 for _, r in self.links if r.state == state)


async def check_links(db: Engine, campaign_id: str, links: Sequence[Link], now: datetime,
                      policy: Policy | None = None, budget: float | None = None) -> Report:
    """Fetch every link (no transaction open meanwhile), then store the results in one short transaction (in a
    thread: a daemon's loop goes on meanwhile). With `budget` (seconds) the fetching stops when it runs out, and the
    results of the links checked by then are stored all the same."""
    started = time.monotonic()
    found = await check((link.url for link in links), policy, budget)
    await asyncio.to_thread(save, db, campaign_id, found, now)
    checked = [(link, found[link.url]) for link in links if link.url in found]
    return Report(now, checked, time.monotonic() - started, unchecked=len(links) - len(checked))
