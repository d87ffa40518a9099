"""What the portal computes from the whole campaign (the board, the coordinator's counts and lists), kept per
process while the campaign's state as of the moment stays the same.

The state is named by a key read in one statement (`state_key`): the stored definition's digest, the latest audit
row of the database (every act, tick, list, extension and amendment writes one) and the number of extended rows whose own lock has
passed, with, from the definition alone, which stage boundaries `now` has passed. Level-triggered: a boundary that
passes with no tick (no audit row yet) still changes the key, so nothing shown is ever older than the state it names.

The grids' rows (`KeptRows`) and the home's late lists (`KeptLate`) are kept per state of their ДОУ: made again for the
ДОУ whose audit rows moved, not for the whole roster at every state.

A ДОУ's page is kept the same way per ДОУ (`KeptPages`): under the state of that ДОУ alone (`institution_version`, the
moments its page turns at, its links' checks), rendered once with marks where each request puts in its own (`SLOTS`).
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Generic, Hashable, Iterable, Sequence, TypeVar

from markupsafe import Markup
from sqlalchemy import Integer, String, TextClause, bindparam, column, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.sql.selectable import TextualSelect
from sqlmodel import Session, col, select

from dqflow.campaign import spec
from dqflow.engine import late, rules
from dqflow.store import IN_CHUNK, AuditRow, LinkCheckRow, ProgressRow, StageRow, chunks, table
from dqflow.web.changes import Changes

if TYPE_CHECKING:  # the maker asks `Snapshots`, which only holds it: named for the type checker
    from dqflow.web.maker import Maker

log = logging.getLogger("dqflow.web")
T = TypeVar("T")
KEPT = 16  # entries per state: pages of the board and of the coordinator's home


def state_key(session: Session, campaign: spec.Campaign, digest: str, now: datetime) -> tuple[Any, ...]:
    """The campaign's state as of `now`, as a key: equal keys, equal board and counts. One statement, two index probes."""
    # The database's latest audit row, whatever its campaign: the end of the primary key, one probe on either backend
    # (filtered by campaign, SQLite would walk the campaign's index over every row). Another campaign's change only
    # refreshes this one's early. It names every change before it because audit ids are seen in commit order (on
    # PostgreSQL, where hand-ins commit side by side, `store.turns.audit_in_commit_order` makes it so).
    latest = select(func.max(col(AuditRow.id))).scalar_subquery()
    # the extended rows whose lock has passed, as (how many, the latest of those locks): a lock passing by time alone
    # raises the latest (it is later than every lock passed before it), so the pair never comes back to a value it had
    # — a count alone would, when an extension moves a passed lock out and another passes (the rows' key drops the
    # latest audit id: `rows_epoch`)
    passed_extended = [col(ProgressRow.campaign_id) == campaign.id, col(ProgressRow.extended).is_(True),
                       rules.has_locked_sql(col(ProgressRow.locks_at), now)]  # ix_progress_extended
    count = select(func.count()).select_from(ProgressRow).where(*passed_extended).scalar_subquery()
    last = select(func.max(col(ProgressRow.locks_at))).where(*passed_extended).scalar_subquery()
    audit_id, n, last_lock = session.execute(sa_select(latest, count, last)).one()
    extended_locked = (n, str(last_lock))
    passed = tuple((rules.has_opened(s.opens_at, now), rules.past_due(s.due_at, now), rules.has_locked(s.locks_at, now))
                   for s in campaign.stages)
    return digest, audit_id, extended_locked, passed


STALE = 1.0  # seconds: the most a kept page of the board or the home is older than the state its request read (`Snapshots`)
BEGAN = "dqflow.began"  # session.info: `time.monotonic()` as its reading transaction began (`Site.reading`), before any row


def began(session: Session) -> float:
    """When `session`'s reading began (its rows are at least as new), or now when nobody noted it."""
    return session.info.get(BEGAN) or time.monotonic()


class Snapshots:
    """Each name's latest value with the state key it was computed for and when that state was read (`began`); safe
    across the portal's worker threads, and single-flight: while one thread computes a name for a new key, the others
    are served that name's value for the key before (one computation old, and read at most `STALE` seconds before
    their own state) instead of computing it too — at a deadline rush every act changes the key, and fifty threads
    recomputing the same board at once would stall the process. A name never computed yet, or kept too old, makes a
    thread wait.

    With a `Maker` running (`dqflow serve`: the app's lifespan), a page (`page`) whose state moved by writes alone is
    served as kept while it was read at most `STALE` seconds before the request's state, and the maker keeps it made
    for the newest state off the request path (every `REMAKE` seconds while it is asked): so a page shows every change
    committed `STALE` seconds before its request, and usually all but those of the last `REMAKE` seconds and a making.
    A definition's change, a stage boundary or an extended lock passing (`rows_epoch`) is made on the request path, as
    is everything without a maker (tests/test_kept_maker.py)."""

    def __init__(self, kept: int = KEPT, stale: float = STALE):
        self.kept, self.stale = kept, stale
        self.values: OrderedDict[Hashable, tuple[tuple[Any, ...], Any, float]] = OrderedDict()  # name → (its key, value, read at)
        self.computing: dict[Hashable, threading.Event] = {}
        self.lock = threading.Lock()
        self.maker: Maker | None = None
        self.floor = 0.0  # `time.monotonic()` of this process's last coordinator's act: no kept page read before it is served
        changes = Changes()  # the audit rows past the last read, read once for both below
        self.rows: KeptRows | None = KeptRows(changes=changes)  # the grids' rows, per state of their ДОУ (None: each made afresh)
        self.late: KeptLate | None = KeptLate(changes=changes)  # every ДОУ's late rows and statuses, per state of each (None: asked afresh)

    def standing(self, key: tuple[Any, ...], session: Session, campaign: spec.Campaign, now: datetime) -> Standing | None:
        """The ДОУ's `Standing` at the state `key` names (`KeptLate`), once a state for the board and the home both;
        None when nothing is kept (`late` None)."""
        kept = self.late
        if kept is None:
            return None
        return self.get(key, ("standing",), lambda: kept.standing(session, campaign, now, late_epoch(key)), exact=True)

    def page(self, key: tuple[Any, ...], name: Hashable, session: Session, now: datetime,
             make: Callable[[Session, datetime, tuple[Any, ...]], T]) -> T:
        """A whole page (`make(session, now, key)`) for the state `key` read in `session`: as kept for it; or, with a
        maker running, as kept for a state of the same `rows_epoch` read at most `stale` seconds before `session`'s, and
        the maker asked for it at the newest state; else made here (`get`)."""
        as_of = began(session)
        maker = self.maker
        running = maker is not None and maker.running
        if maker is not None and running:
            maker.ask(name, make)  # kept made for the newest state while it is asked (`Maker.warm`)
        for _ in range(2 if running else 0):  # once more after waiting for a making under way
            with self.lock:
                kept, busy = self.values.get(name), self.computing.get(name)
            if kept is not None and kept[0] != key and self._servable(kept, key, as_of):
                return kept[1]
            if busy is None or (kept is not None and kept[0] == key):
                break
            busy.wait()  # the maker's first making (as the portal starts), or one a request began
        return self.get(key, name, lambda: make(session, now, key), as_of=as_of)

    def acted(self) -> None:
        """A coordinator's act committed in this process: its next page shows it (no page kept from before is served)."""
        self.floor = time.monotonic()

    def _servable(self, kept: tuple[tuple[Any, ...], Any, float], key: tuple[Any, ...], as_of: float) -> bool:
        """Whether a page kept for another state may stand for the state `key` read at `as_of`: the same `rows_epoch`
        (no stage boundary, lock or amendment between them), read at most `stale` seconds before, and after this
        process's last coordinator's act (`acted`)."""
        return rows_epoch(kept[0]) == rows_epoch(key) and as_of - kept[2] <= self.stale and kept[2] >= self.floor

    def get(self, key: tuple[Any, ...], name: Hashable, make: Callable[[], T], exact: bool = False,
            as_of: float | None = None) -> T:
        """`exact`: never the value of the key before (a part of another name's value, kept under this key): wait for
        the computation under way, then compute it for this key if that one was for another. `as_of`: when the
        caller's state was read (`began`; now if not given): a value read more than `stale` seconds before it is not
        served while another thread computes the name (it waits for that computation instead)."""
        as_of = time.monotonic() if as_of is None else as_of
        while True:
            with self.lock:
                kept = self.values.get(name)
                if kept is not None and kept[0] == key:
                    self.values.move_to_end(name)
                    return kept[1]
                busy = self.computing.get(name)
                if busy is None:
                    self.computing[name] = threading.Event()
                    break
                if kept is not None and not exact and self._servable(kept, key, as_of):
                    return kept[1]
            busy.wait()  # the first computation of this name (or kept too old): wait for it, then look again
        try:
            value = make()
            with self.lock:
                old = self.values.get(name)
                if old is None or old[2] <= as_of:  # never over a value of a newer state (the maker's, kept meanwhile)
                    self.values[name] = (key, value, as_of)
                    self.values.move_to_end(name)
                while len(self.values) > self.kept:
                    self.values.popitem(last=False)
            return value
        finally:
            with self.lock:
                self.computing.pop(name).set()


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    """K → V, least recently used dropped first beyond `limit` of the values' `weight`; safe across worker threads.
    Nothing here is ever told of a change: a value carries the state it was made for, and its reader compares that
    with the state read in its own transaction — so several workers may serve one database."""

    def __init__(self, limit: int, weight: Callable[[V], int]):
        self.limit, self.weight, self.size = limit, weight, 0
        self.held: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self.lock:
            found = self.held.get(key)
            if found is not None:
                self.held.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self.lock:
            old = self.held.pop(key, None)
            self.size -= self.weight(old) if old is not None else 0
            self.held[key] = value
            self.size += self.weight(value)
            while self.size > self.limit and len(self.held) > 1:
                self.size -= self.weight(self.held.popitem(last=False)[1])


# -- a row of the board's and of the coordinator's grid, kept rendered per state of its ДОУ ---------------------------------

ROWS = 20_000  # kept rows of a process, of both grids together: 40 pages of 500 ДОУ (a row ~1 KB: ~20 MB at most)


def rows_epoch(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """What of a `state_key` (with the zone `Site.state_key` adds) every grid row depends on: all of it but the latest
    audit row. A ДОУ's own changes are told by its audit rows (`Changes`); the definition, the stage
    boundaries `now` has passed and the extended rows' locks passed (the moments a row's status turns at by time alone)
    remake every row."""
    return (key[0],) + tuple(key[2:])


class KeptRows(Kept[tuple[str, str], tuple[tuple[Any, ...], Markup]]):
    """(grid, ДОУ id) → (the row's key, its HTML), at most `limit` rows. A row is used only under the key it was
    rendered for (`rows_epoch` with its ДОУ's version, `Changes.versions`, read in the request's transaction)."""

    def __init__(self, limit: int = ROWS, changes: Changes | None = None):
        super().__init__(limit, lambda _: 1)
        self.changes = changes if changes is not None else Changes(log=0)  # the ДОУ's versions alone: no log

    @property
    def rows(self) -> OrderedDict[tuple[str, str], tuple[tuple[Any, ...], Markup]]:
        return self.held

    def row(self, grid: str, institution_id: str, key: tuple[Any, ...]) -> Markup | None:
        """The row kept for this ДОУ in this grid, if it was rendered under `key`."""
        found = self.get((grid, institution_id))
        return found[1] if found is not None and found[0] == key else None

    def versions(self, session: Session, campaign_id: str, institution_ids: list[str]) -> dict[str, tuple[int, int] | None]:
        """These ДОУ's versions as `session` sees them (`Changes`): one statement, however many ДОУ."""
        return self.changes.versions(institution_ids, self.changes.advance(session, campaign_id))


def kept_rows(rows: KeptRows | None, grid: str, epoch: tuple[Any, ...], versions: dict[str, tuple[int, int] | None],
              institution_ids: list[str], read: Callable[[list[str]], dict[str, T]], render: Callable[[str, T], Markup]) -> list[Markup]:
    """The rows of these ДОУ in order: each kept one whose key holds, the others read in one call (`read`, of the ДОУ
    not kept: always called, with none too, so a page costs the same statements whatever changed) and rendered, and
    kept when their version is known. `rows` None: every row read and rendered."""
    keys = {i: (epoch, versions[i]) if versions.get(i) is not None else None for i in institution_ids}
    found: dict[str, Markup | None] = {}
    if rows is not None:
        found = {i: rows.row(grid, i, key) if key is not None else None for i, key in keys.items()}
    missing = [i for i in institution_ids if found.get(i) is None]
    values = read(missing)
    for i in missing:
        found[i] = made = render(i, values[i])
        key = keys[i]
        if rows is not None and key is not None:
            rows.put((grid, i), (key, made))
    return [found[i] or Markup() for i in institution_ids]  # every one found or made


# -- who is late (the coordinator's home), kept per state of each ДОУ -------------------------------------------------------


def late_epoch(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """What of a `state_key` every ДОУ's late rows and reviews of nothing depend on besides the ДОУ's own audit rows: the
    definition's digest (an amendment: the times, the stages' and the roster's positions, who is withdrawn), the
    extended rows' locks passed and the stage boundaries `now` has passed (the moments a row turns late at by time
    alone: a row's times are its stage's, or an extension's, whose due is its lock: `rules.extended_times`). Neither
    the latest audit row (the ДОУ's own count says whether it changed) nor the zone (nothing here is shown)."""
    return key[0], key[2], key[3]


AFRESH = IN_CHUNK  # more ДОУ changed than this (at most one IN (…)): every ДОУ found afresh, their statuses said in SQL
SHOWN = 100  # late rows and reviews of nothing the coordinator's home shows at most (`coordinator.LATE_SHOWN`)


@dataclass(frozen=True)
class Standing:
    """What the board and the coordinator's home read of every ДОУ at one state (`KeptLate.standing`): the first late
    rows and how many (`late.first`'s, unnamed), the first reviews of nothing and how many (`late.without_materials`'),
    and stage → status → ДОУ (`engine.status`'s counts)."""

    first_late: list[late.LateRow]
    late_total: int
    first_nothing: list[late.NothingRow]
    nothing_total: int
    counts: dict[str, dict[str, int]]


class KeptLate:
    """What the whole campaign's pages read of every ДОУ (`late.by_institution`: its late rows, its reviews of nothing,
    its statuses), each ДОУ's kept under the state it was found in (`late_epoch`, and the audit rows read: `Changes`);
    all the ДОУ's late rows and reviews of nothing in two lists sorted in `late.who`'s and `late.without_materials`'
    order, and their statuses counted per stage. A new state costs one read of the audit rows past the last read (a
    range of the primary key: `Changes.advance`) and one SELECT of the rows of the ДОУ they name, whose entries are
    moved in the lists (a binary search each) and in the counts: O(ДОУ changed) but the counts. A new epoch, or more
    changed than one IN (…) holds, finds every ДОУ's afresh in one SELECT. Safe across worker threads (one updates at
    a time)."""

    def __init__(self, limit: int = SHOWN, changes: Changes | None = None) -> None:
        self.limit = limit  # late rows and reviews of nothing a `Standing` holds: at least what the home shows
        self.changes = changes if changes is not None else Changes()
        self.lock = threading.Lock()
        self.epoch: tuple[Any, ...] | None = None
        self.generation = 0  # the `Changes.generation` and …
        self.seen = 0  # … the latest audit id the kept lists were found under: every ДОУ's rows as of it or newer
        self.found: dict[str, late.Found] = {}
        self.late: list[late.LateRow] = []  # every ДОУ's, in `late.who`'s order
        self.nothing: list[late.NothingRow] = []  # in `late.without_materials`' order
        self.by_stage: dict[str, dict[str, int]] = {}  # stage → status → ДОУ

    def standing(self, session: Session, campaign: spec.Campaign, now: datetime, epoch: tuple[Any, ...]) -> Standing:
        """The state read in `session` (`epoch` its `late_epoch`), as `late.first`, `late.without_materials` and
        `engine.status` count it (or a newer state's, when another thread kept one newer than `session` sees)."""
        with self.lock:
            seen = self.changes.advance(session, campaign.id)  # before the rows: a ДОУ's rows are never older than it
            generation = self.changes.generation
            changed: list[str] | None = None
            if epoch == self.epoch and generation == self.generation:
                since = self.changes.since(generation, self.seen, seen) if seen >= self.seen else set()
                changed = sorted(since) if since is not None and len(since) <= AFRESH else None
            found = late.by_institution(session, campaign, now, changed)  # always asked, with none changed too
            self.epoch = None  # while the lists move: a failure half-way leaves nothing to trust
            if changed is None:
                self.found, self.by_stage = found, {}
                self.late = sorted(row for f in found.values() for row in f.late)
                self.nothing = sorted(row for f in found.values() for row in f.nothing)
                for statuses, n in Counter(f.statuses for f in found.values()).items():  # a few hundred tuples, shared
                    self._count(statuses, n)
            else:
                for inst in changed:
                    old = self.found.pop(inst, None)
                    if old is not None:
                        _remove(self.late, old.late)
                        _remove(self.nothing, old.nothing)
                        self._count(old.statuses, -1)
                    self.found[inst] = new = found[inst]
                    for row in new.late:
                        bisect.insort(self.late, row)
                    for rest in new.nothing:
                        bisect.insort(self.nothing, rest)
                    self._count(new.statuses, 1)
            self.epoch, self.generation, self.seen = epoch, generation, max(seen, self.seen) if changed is not None else seen
            return Standing(self.late[:self.limit], len(self.late), self.nothing[:self.limit], len(self.nothing),
                            {stage_id: dict(n) for stage_id, n in self.by_stage.items()})

    def _count(self, statuses: tuple[tuple[str, str], ...], times: int) -> None:
        for stage_id, status in statuses:
            mine = self.by_stage.setdefault(stage_id, {})
            mine[status] = mine.get(status, 0) + times


def _remove(ordered: list[Any], rows: Iterable[Any]) -> None:
    for row in rows:
        at = bisect.bisect_left(ordered, row)
        assert ordered[at] == row, row
        del ordered[at]


# -- a ДОУ's page, kept rendered per state of that ДОУ -----------------------------------------------------------------

PAGE_BYTES = 48 * 2**20  # the kept ДОУ pages of a process together: about 5,000 pages of 9 KB


def institution_version(session: Session, campaign: spec.Campaign, institution_id: str,
                        urls: tuple[str, ...] = ()) -> tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...] | None]:
    """What a ДОУ's page shows of the database, as a key read in one statement: how many audit rows name the ДОУ (every
    change to its rows — a hand-in, a form's save, an extension, an excuse, a review of it, a tick moving its rows —
    writes one in the transaction that makes it, and audit rows are never changed or removed, so the count moves with
    every commit that touches the ДОУ, in whatever order the ids were drawn: ix_audit_institution, a range of the ДОУ's
    rows), and which of the campaign's review stages have their recommendations sent (`StageRow.followup_planned`:
    the page shows a review stage's recommendations from then). The definition's digest is the caller's (an amendment
    changes it).

    With `urls` (a kept page's links), in the same statement the stored check of each (`link_checks`' values: the link
    checker writes no audit row); None for the checks when there are more than one IN (…) holds (then `link_checks`)."""
    statement, values = version_statement(campaign, institution_id, urls)
    return version_of(session.execute(statement, values).all(), campaign, urls)


def version_statement(campaign: spec.Campaign, institution_id: str,
                      urls: tuple[str, ...] = ()) -> tuple[TextClause | TextualSelect, dict[str, Any]]:
    """`institution_version`'s statement and its values, for a caller that runs it joined to a read of its own (the
    guard's admission: `Site.admit`); `version_of` reads its rows."""
    reviewing = _reviewing(campaign)
    asked = urls if len(urls) <= IN_CHUNK else ()
    values = {"campaign": campaign.id, "institution": institution_id, **{f"s{n}": sid for n, sid in enumerate(reviewing)},
              **{f"u{n}": url for n, url in enumerate(asked)}}
    return _version_sql(reviewing, len(asked)), values


def version_of(rows: Sequence[Any], campaign: spec.Campaign,
               urls: tuple[str, ...] = ()) -> tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...] | None]:
    """`institution_version` from the rows of `version_statement`."""
    width = 1 + bool(_reviewing(campaign))
    checks = tuple(sorted(tuple(row[width:]) for row in rows if row[width] is not None)) if urls and len(urls) <= IN_CHUNK \
        else None if urls else ()
    return tuple(rows[0][:width]), checks


def _reviewing(campaign: spec.Campaign) -> tuple[str, ...]:
    return tuple(s.id for s in campaign.stages if s.actor == "expert" and s.kind == "task")


@functools.lru_cache(maxsize=64)
def _version_sql(reviewing: tuple[str, ...], urls: int) -> TextClause | TextualSelect:
    """`institution_version`'s statement for a definition's review stages and a number of links, made once (plain SQL:
    building and keying the same statement in SQLAlchemy's expression language cost a request more than running it).
    The links' checks are joined to one row of the key, so the key's values repeat on each (one row, NULLs, if none)."""
    changes = f"SELECT count(*) FROM {AuditRow.__tablename__} WHERE campaign_id = :campaign AND institution_id = :institution"
    key = f"({changes})"
    if reviewing:
        ids = ", ".join(f":s{n}" for n in range(len(reviewing)))
        bits = " ".join(f"WHEN :s{n} THEN {2 ** n}" for n in range(len(reviewing)))
        sent = (f"SELECT coalesce(sum(CASE id {bits} ELSE 0 END), 0) FROM {StageRow.__tablename__} "
                f"WHERE campaign_id = :campaign AND id IN ({ids}) AND followup_planned")
        key += f", ({sent})"
    if not urls:
        return text(f"SELECT {key}")
    c = table(LinkCheckRow).c
    asked = ", ".join(f":u{n}" for n in range(urls))
    checks = [c.url, c.state, c.detail, c.checked_at]  # typed: `checked_at` read as `link_checks` reads it
    return (text(f"SELECT {key}, lc.{', lc.'.join(k.name for k in checks)} FROM (SELECT 1 AS one) one "
                 f"LEFT JOIN {LinkCheckRow.__tablename__} lc ON lc.campaign_id = :campaign AND lc.url IN ({asked})")
            .columns(*[column(f"k{n}", Integer) for n in range(1 + bool(reviewing))], *[column(k.name, k.type) for k in checks]))


_c = table(LinkCheckRow).c
# `link_checks`' statement, made once with its values as parameters (building it cost a ДОУ's page more than running it)
_CHECKS = (sa_select(_c.url, _c.state, _c.detail, _c.checked_at)
           .where(_c.campaign_id == bindparam("campaign", type_=String), _c.url.in_(bindparam("urls", expanding=True))))


def link_checks(session: Session, campaign_id: str, urls: tuple[str, ...]) -> tuple[tuple[Any, ...], ...]:
    """The stored check of each of these URLs, as plain values in URL order (the link checker replaces a URL's row)."""
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(list(urls)):
        found += session.execute(_CHECKS, {"campaign": campaign_id, "urls": chunk}).all()
    return tuple(sorted(tuple(row) for row in found))


def moments(campaign: spec.Campaign, rows: Iterable[Any]) -> tuple[datetime, ...]:
    """Every moment at which a ДОУ's page may change by time alone, sorted: the stages' times in the definition and the
    ДОУ's own rows' (an extension moves a row's): the times the rules compare `now` with (`rules.MOMENTS`), and nothing
    else (tests/test_kept_moments.py)."""
    return tuple(sorted(rules.moments(campaign.stages) | rules.moments(rows)))


def place(moments: tuple[datetime, ...], now: datetime) -> tuple[int, int]:
    """Where `now` stands among `moments`: two moments with the same place agree on every `now < t`, `now <= t`,
    `now == t` with each of them, so the rules say the same of both."""
    return bisect.bisect_left(moments, now), bisect.bisect_right(moments, now)


@dataclass(frozen=True)
class KeptPage:
    """A ДОУ's page rendered for one state: the definition's digest with `institution_version`, the place of the
    rendering's `now` among `moments`, the checks of the page's links; the bytes around what each request puts in
    (`parts`: bytes, or the number of a slot of `SLOTS`)."""

    key: tuple[Any, ...]
    moments: tuple[datetime, ...]
    place: tuple[int, int]
    urls: tuple[str, ...]
    checks: tuple[tuple[Any, ...], ...]
    parts: tuple[bytes | int, ...]

    @property
    def size(self) -> int:
        """Bytes held, about: the page's parts, and what it is kept under (a datetime ~56 bytes with its tuple slot,
        a link and its check ~200 and ~300, the key and the object ~500)."""
        return (sum(len(p) for p in self.parts if isinstance(p, bytes)) + 56 * len(self.moments) + 200 * len(self.urls)
                + 300 * len(self.checks) + 500)

    def fits(self, key: tuple[Any, ...], now: datetime) -> bool:
        return key == self.key and place(self.moments, now) == self.place

    def body(self, values: tuple[bytes, ...]) -> bytes:
        return b"".join(p if isinstance(p, bytes) else values[p] for p in self.parts)


SLOTS = ("csrf", "flash", "zone", "clock")  # what differs per request: the form token, the flash, the zone and the time
MARKS = {name: Markup(f"<\x00{name}\x00>") for name in SLOTS}  # user text is escaped ('<' → '&lt;'): no page holds one
_MARK = re.compile("<\x00(" + "|".join(SLOTS) + ")\x00>")


def parts_of(html: str) -> tuple[bytes | int, ...]:
    """A page rendered with `MARKS` in its slots, cut at them."""
    found: list[bytes | int] = []
    at = 0
    for mark in _MARK.finditer(html):
        found += [html[at:mark.start()].encode(), SLOTS.index(mark[1])]
        at = mark.end()
    return tuple(found + [html[at:].encode()])


class KeptPages(Kept[str, "KeptPage"]):
    """ДОУ id → its `KeptPage`, at most `limit` bytes. A page is served from here only when the state it was rendered
    for is the state read in the request's transaction (`KeptPage.fits`)."""

    def __init__(self, limit: int = PAGE_BYTES):
        super().__init__(limit, lambda page: page.size)
