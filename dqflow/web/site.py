"""What every page of the portal shares: the campaign as stored now, the signer, the pages, the clock.

`Site` is the base of the route modules (`personal`, `coordinator`, `public`), which `app.Portal` joins
into one object; the guard in `middleware` uses it too. A route reads the person the guard found
(`middleware.person_of`) and never checks a session, a link or a form token itself.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator, Sequence, TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import escape
from sqlalchemy import Integer, String, TextClause, column, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.selectable import TextualSelect
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from dqflow import engine, store
from dqflow.access import links, sessions
from dqflow.calendar import show, show_date
from dqflow.campaign import spec
from dqflow.engine import definitions, workspace
from dqflow.errors import DqflowError, NotAllowed, NotFound
from dqflow.present import labels, refusals
from dqflow.store import CampaignRow, LinkRow
from dqflow.web import board, snapshots, threads

OK_RU = {
    "submitted": "Материалы приняты. Спасибо!",
    "form-saved": "Сохранено в черновик формы.",
    "form-handed-in": "Форма сдана. Спасибо! Эта версия зафиксирована.",
    "reviewed": "Экспертиза сохранена. Её можно изменить до закрытия этапа.",
    "extended": "Срок продлён.",
    "excused": "{t.nom} освобожден{t.past} от этапа.",  # t: the campaign's Terms
    "settled": "Уровень показателя согласован; это итоговый уровень показателя в этом этапе экспертизы.",
    "experts": "Эксперты назначены.",
    "signed-in": "Вы вошли как координатор.",
}
REFUSED_RU = {
    "tampered": "Ссылка неверна: возможно, она скопирована не полностью или изменена.",
    "revoked": "Эта ссылка отозвана координатором, и вам выдана новая.",
    "expired": "Срок действия ссылки истёк: кампания завершена.",
    "unknown": "Такой ссылки нет.",
    "used": "Эта ссылка для входа уже использована: она действует один раз.",
    "session": "Эта страница — для координатора. Войдите по паролю или по одноразовой ссылке.",
    "form": "Форма устарела или открыта не с этой страницы. Откройте страницу заново и повторите.",
    "origin": "Форма отправлена не со страницы портала. Откройте страницу портала заново и повторите.",
    "page": "Такой страницы нет. Проверьте адрес: ссылка из письма должна быть скопирована целиком.",
    "method": "Эту страницу так открыть нельзя. Откройте её по ссылке или из меню портала.",
    "server": "На портале произошла ошибка, ваши данные не изменены. Повторите через минуту.",
    "headers": "Запрос слишком велик. Удалите файлы cookie этого сайта в браузере и откройте страницу заново.",
}
TOO_MANY_RU = {
    "link": "Слишком много неверных ссылок с этого адреса. Попробуйте снова через {minutes} минут.",
    "signin": "Слишком много попыток входа. Попробуйте снова через {minutes} минут "
              "или войдите по одноразовой ссылке из dqflow link coordinator.",
}


T = TypeVar("T")
# A personal link's admission in one statement: the stored definition's digest (`Site._refresh`) and the person's link
# version (`links.Links`; no row: version 1), both primary-key reads; with a page's key statement (`Site.admit`: a
# SELECT), its columns after these two, on each of its rows (a join to a one-row subquery instead: a scan SQLite plans)
_ADMISSION_SQL = (f"SELECT (SELECT digest FROM {CampaignRow.__tablename__} WHERE id = :campaign) AS digest, "
                  f"(SELECT version FROM {LinkRow.__tablename__} WHERE campaign_id = :campaign AND role = :role "
                  f"AND subject_id = :subject) AS link_version")
Key = Callable[[spec.Campaign], "tuple[TextClause | TextualSelect, dict[str, Any]] | None"]  # `Site.admit`'s key: (statement, values)
KEYED = "dqflow.keyed"  # session.info: (the key's statement, its values, its rows) read with the admission (`Site.keyed`)


@functools.lru_cache(maxsize=64)
def _admission(key: TextClause | TextualSelect | None) -> TextClause | TextualSelect:
    """The admission's statement, with `key`'s columns after its two (made once per key statement)."""
    if key is None:
        return text(_ADMISSION_SQL)
    clause = key.element if isinstance(key, TextualSelect) else key
    assert isinstance(clause, TextClause) and clause.text.startswith("SELECT "), key
    joined = text(f"{_ADMISSION_SQL}, {clause.text.removeprefix('SELECT ')}")
    if not isinstance(key, TextualSelect):
        return joined
    return joined.columns(column("digest", String), column("link_version", Integer),
                          *[column(c.name, c.type) for c in key.selected_columns])


def keyed(session: Session, statement: TextClause | TextualSelect, values: dict[str, Any]) -> list[Any] | None:
    """The rows of a key `statement` with these `values` when `Site.admit` read it with the admission, else None."""
    found = session.info.get(KEYED)
    return found[2] if found is not None and found[0] is statement and found[1] == values else None


DIGEST = "dqflow.digest"  # session.info: the stored digest `Site.admit` read in this transaction
_DIGEST = text(f"SELECT digest FROM {CampaignRow.__tablename__} WHERE id = :campaign")  # `Site.refresh`'s read, made once


class Site:
    def __init__(self, db: Engine, campaign_id: str | None, clock: Callable[[], datetime], wall: Callable[[], datetime]):
        self.db, self.clock, self.wall = db, clock, wall
        self.reads = Reads(db)
        with store.dry_run(db) as session:
            self.campaign = engine.definition(session, campaign_id)
            self.signer = links.signer(session, self.campaign.id)
            self.digest = self._stored_digest(session)
        self.defined = (self.digest, self.campaign)  # the two together, replaced at once (`_refresh`)
        self.tz = self.campaign.tz
        self.base_url = links.base_url(self.campaign)
        self.snapshots = snapshots.Snapshots()  # the board and the coordinator's counts, while the campaign's state holds
        self.kept: snapshots.KeptPages | None = snapshots.KeptPages()  # each ДОУ's page while its state holds (None: none kept)
        self.expires: tuple[spec.Campaign | None, datetime] = (None, datetime.min)  # `_check_link`'s definition and its links' end
        self.shown: tuple[datetime | None, Any, dict[str, bytes]] = (None, None, {})  # `fill`'s last moment, zone and their slots
        self.refused = sessions.RecentRefusals()  # a copy of the database's refusals, to shed a burst cheaply
        # compiled once per process (no `auto_reload`: the templates are the installed package's, never edited under a
        # running portal, and checking their files' times cost a stat per request); what they show of the campaign
        # follows an amendment through `campaign` in the globals (`refresh`)
        self.pages = Environment(loader=PackageLoader("dqflow.web", "templates"), autoescape=select_autoescape(default=True),
                                 trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.pages.globals.update(show=lambda t: _show(t, self.tz), show_date=lambda t: _show_date(t, self.tz),
                                  STATUS_RU=labels.STATUS_RU, STATE_RU=labels.STATE_RU, KIND_RU=labels.KIND_RU, campaign=self.campaign,
                                  rule_ru=labels.rule_ru, reason_ru=lambda r: labels.reason_ru(r, self.campaign.terms),
                                  OUTBOX_STATE_RU=labels.OUTBOX_STATE_RU, broken_ru=lambda r: labels.broken_ru(r, self.campaign.terms))
        self.pages.filters["fromjson"] = json.loads

    def _stored_digest(self, session: Session) -> str:
        return session.execute(_DIGEST, {"campaign": self.campaign.id}).scalar_one()

    def refresh(self, session_id: str | None = None, now: datetime | None = None) -> bool:
        """An amendment (`dqflow load FILE --apply`) changes the stored campaign while the portal runs: the definition
        is read again when the stored digest moved (one primary-key read per request), so a ДОУ or expert added gets
        their page and one withdrawn loses it, without restarting `dqflow serve`. With a coordinator's session id (a
        signed cookie's): whether that session is live at `now` (`sessions.live`), read in the same statement."""
        with self.reads.quick() as session:
            return self._refresh_session(session, session_id, now or self.clock())[2]

    def _refresh(self, session: Session, digest: str | None = None) -> tuple[str, spec.Campaign]:
        """The stored digest read in `session` (or given, read there), and a definition as new as it or newer (the same
        object while the digest holds; read in `session` when it moved): what this request's page is made of and kept
        under, whatever another thread does to the portal's own."""
        digest = digest or self._stored_digest(session)
        defined = self.defined
        if digest == defined[0]:
            return defined
        campaign = engine.definition(session, self.campaign.id)
        self.campaign, self.defined = campaign, (digest, campaign)
        self.tz, self.digest = campaign.tz, digest
        self.base_url = links.base_url(campaign)
        self.pages.globals["campaign"] = campaign
        return digest, campaign

    def _refresh_session(self, session: Session, session_id: str | None, now: datetime) -> tuple[str, spec.Campaign, bool]:
        """`_refresh`, and whether the session is live (none: not), the digest and the session read in one statement."""
        if session_id is None:
            return (*self._refresh(session), False)
        stored, live = sessions.digest_and_live(session, self.campaign.id, session_id, now)
        return (*self._refresh(session, stored), live)

    def admit(self, role: str, subject_id: str, token: str, read: Callable[[Session], T] | None = None,
              key: Key | None = None) -> tuple[str | None, T | None]:
        """A personal link's request in one worker-thread call (each call costs more than the primary-key reads in it):
        the campaign read again if an amendment changed it (`refresh`), the link checked (`link_refusal`: why it is no
        good, or None) in one statement, and only when it is this person's, `read` (a page's data) in one snapshot
        (`Reads.snapshot`), knowing the definition just checked. `key`: a statement of the page's own (its state's key)
        read in the admission's statement, its rows left for `read` (`keyed`). On PostgreSQL the admission needs no
        transaction (a post's guard, a refused link, a kept page: one round trip, no BEGIN, no ROLLBACK); the page's
        snapshot begins after it, so what the page reads is never older than the check and the key."""
        keyed = key(self.campaign) if key is not None and read is not None else None
        statement, values = _admission(keyed[0] if keyed else None), {"campaign": self.campaign.id, "role": role, "subject": subject_id}
        with self.reads.quick() as session:
            rows = session.execute(statement, {**keyed[1], **values} if keyed else values).all()
            digest, version = rows[0][:2]
            digest, campaign = self._refresh(session, digest)
            why = self._check_link(role, subject_id, token, version)
            if why is not None or read is None:
                return why, None
            return None, self._page(session, digest, campaign, (*keyed, [row[2:] for row in rows]) if keyed else None, read)

    def _page(self, session: Session, digest: str, campaign: spec.Campaign, keyed: tuple[Any, dict[str, Any], Sequence[Any]] | None,
              read: Callable[[Session], T]) -> T:
        """`read` in one snapshot, knowing the definition of `digest` and the key's rows read with the link's check."""
        definitions.known(session, campaign)
        session.info[DIGEST] = digest
        if keyed:
            session.info[KEYED] = keyed
        with self.reads.snapshot(session):
            return read(session)

    def admit_inline(self, role: str, subject_id: str, token: str, read: Callable[[Session], T] | None = None,
                     key: Key | None = None, answer: Callable[[spec.Campaign, str, Any], T | None] | None = None
                     ) -> tuple[str | None, T | None, Callable[[], T] | None] | None:
        """`admit`'s check on the calling thread (the event loop's), with no worker thread's hop, where its one
        statement cannot block (`Reads.inline`: on SQLite, a read of a few indexed rows that never waits for a lock):
        (why the link is no good or None, the page, None) — the page is `answer(campaign, digest, (the key's
        statement, its values, its rows))` when those rows alone give it (a kept page), else (None, None, `rest`): the
        page's `read` for a worker thread to run (`rest()`), in a snapshot that begins after the check (as on
        PostgreSQL: never older than the check and the key). None: not checked here (PostgreSQL, SQLite busy, an
        amendment to read) — `admit` on a worker thread then does it all."""
        keyed = key(self.campaign) if key is not None and read is not None else None
        statement, values = _admission(keyed[0] if keyed else None), {"campaign": self.campaign.id, "role": role, "subject": subject_id}
        rows = self.reads.inline(statement, {**keyed[1], **values} if keyed else values)
        if rows is None:
            return None
        digest, version = rows[0][:2]
        stored, campaign = self.defined
        if digest != stored:  # an amendment: the definition is read again on a worker thread (`_refresh`)
            return None
        why = self._check_link(role, subject_id, token, version)
        if why is not None or read is None:
            return why, None, None
        given = (*keyed, [row[2:] for row in rows]) if keyed else None
        found = answer(campaign, digest, given) if answer is not None and given is not None else None
        if found is not None:
            return None, found, None
        return None, None, lambda: self._admitted(digest, given, read)

    def _admitted(self, digest: str, keyed: tuple[Any, dict[str, Any], Sequence[Any]] | None, read: Callable[[Session], T]) -> T:
        """`admit_inline`'s page on a worker thread: `read` knowing the definition of the digest checked with the link
        (another thread moved the portal's meanwhile: the digest read again, with this snapshot's definition)."""
        with self.reads.quick() as session:
            digest, campaign = self._refresh(session, None if digest != self.defined[0] else digest)
            return self._page(session, digest, campaign, keyed, read)

    def link_refusal(self, role: str, subject_id: str, token: str) -> str | None:
        """Why a personal link is no good ('expired', 'tampered', 'revoked'), or None when it is this person's.
        One primary-key read (the person's link version), whatever the roster: the secret is the signer's."""
        with self.reads.quick() as session:
            return self._link_refusal(session, role, subject_id, token)

    def _link_refusal(self, session: Session, role: str, subject_id: str, token: str) -> str | None:
        row = session.get(LinkRow, (self.campaign.id, role, subject_id))
        return self._check_link(role, subject_id, token, row.version if row is not None else None)

    def _check_link(self, role: str, subject_id: str, token: str, version: int | None) -> str | None:
        """`_link_refusal` with the person's stored link version read (None: no row, version 1)."""
        campaign, expires = self.expires
        if campaign is not self.campaign:  # the links' end, worked out once per definition
            self.expires = campaign, expires = self.campaign, links.expires_at(self.campaign)
        if self.clock() > expires:
            return "expired"
        known = (subject_id in self.campaign.institution_ids if role == "institution"
                 else subject_id in workspace.roster(self.campaign).experts)  # a lookup, not a scan of the roster
        if not known:
            return "tampered"
        versions = {(role, subject_id): version} if version is not None else {}
        return links.Links(self.campaign.id, self.signer.secret, versions).check(role, subject_id, token)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A page's reads in one snapshot (`Reads.snapshot`), writing nothing, knowing the definition this request
        checked (`Site.refresh`): the engine's `definition` costs no statement in it."""
        with self.reads.quick() as session, self.reads.snapshot(session):
            session.info[snapshots.BEGAN] = time.monotonic()  # before its first row: what kept pages are dated by
            definitions.known(session, self.campaign)
            yield session

    def state_key(self, session: Session, now: datetime) -> tuple:
        """The campaign's state as of `now` (`snapshots.state_key`), with the zone as the pages name it at `now`."""
        return snapshots.state_key(session, self.campaign, self.digest, now) + (board.offset(self.tz, now),)

    def admit_session(self, session_id: str | None, now: datetime, read: Callable[[Session, Request, datetime], T],
                      request: Request, required: bool = True) -> tuple[bool, T | None]:
        """A coordinator's or public page's GET in one worker-thread call, as `admit` does a personal link's: the
        campaign read again if an amendment changed it and the session checked (whether it is live; none given: not)
        in one statement (`refresh`), then `read` (the page's data) in one snapshot (`Reads.snapshot`) when the session
        is live or not `required` (`read(session, request, now)`)."""
        with self.reads.quick() as session:
            session.info[snapshots.BEGAN] = time.monotonic()  # before the check: a kept page is never dated later than its rows
            digest, campaign, live = self._refresh_session(session, session_id, now)
            if required and not live:
                return False, None
            definitions.known(session, campaign)
            session.info[DIGEST] = digest
            with self.reads.snapshot(session):
                return live, read(session, request, now)

    def render(self, name: str, status: int = 200, **context) -> HTMLResponse:
        """A page; the guard adds the security headers to it as to every response."""
        now = context.pop("now", None) or self.clock()
        html = self.pages.get_template(name).render(now=now, zone=board.offset(self.tz, now), **context)
        return HTMLResponse(html, status_code=status)

    def render_parts(self, name: str, now: datetime, **context) -> tuple[bytes | int, ...]:
        """A page as `render` makes it, cut where each request puts in its own (`snapshots.SLOTS`): the form token, the
        flash, the zone and the time shown. `fill` puts them in."""
        return snapshots.parts_of(self.pages.get_template(name).render(now=now, **snapshots.MARKS, **context))

    def fill(self, page: snapshots.KeptPage, now: datetime, csrf: str, ok: str | None = None,
             error: str | None = None) -> HTMLResponse:
        """A kept page with this request's slots, byte for byte what `render` gives for the same state and `now`."""
        flash = self.pages.get_template("_flash.html").render(ok=ok, error=error) if ok or error else self.no_flash
        shown = self.shown
        if shown[0] != now or shown[1] is not self.tz:  # the zone and the time as shown: said once a second, not per request
            shown = self.shown = (now, self.tz, {"zone": str(escape(board.offset(self.tz, now))).encode(),
                                                 "clock": str(escape(show(now, self.tz))).encode()})
        values = {"csrf": str(escape(csrf)).encode(), "flash": str(flash).encode(), **shown[2]}
        return HTMLResponse(page.body(tuple(values[name] for name in snapshots.SLOTS)))

    @functools.cached_property
    def no_flash(self) -> str:
        """The flash of a page with nothing to say (most requests): rendered once, not per request."""
        return self.pages.get_template("_flash.html").render(ok=None, error=None)

    def ok_ru(self, ok: str | None) -> str | None:
        said = OK_RU.get(ok or "")
        return said.format(t=self.campaign.terms) if said else None

    def said(self, exc: DqflowError) -> str:
        return refusals.said(exc, self.campaign)

    async def write(self, act: Callable[[], T]) -> T:
        """Run `act` (a write transaction) in a worker thread of the writers' own (`threads.writers`: on SQLite one, so
        writes queue in the event loop in the order they came), never waiting for a thread behind the pages'."""
        done = await threads.write(act, self.db)
        self.snapshots.acted()  # the coordinator's next page here shows it (another worker's: within `snapshots.STALE`)
        return done

    def transaction(self, actor: str) -> AbstractContextManager[Session]:
        return store.transaction(self.db, recorded_at=self.wall().replace(microsecond=0), actor=actor)

    def refuse(self, request: Request, why: str, status: int = 403) -> HTMLResponse:
        return self.render("refused.html", status, why=why, message=REFUSED_RU[why])

    async def guessed(self, request: Request, why: str) -> HTMLResponse:
        """A refused link ('tampered', 'unknown', …): counted for its address in the database (any worker sees it),
        and 429 once the address refused too many. A valid link never comes here, so it is never locked out."""
        def count() -> int | None:
            return sessions.reserve(self.db, self.campaign.id, sessions.LINK, client(request), self.wall())

        if await threads.signin(count) is None:  # a burst of guessed links waits behind itself, as sign-ins do
            self.refused.note(sessions.LINK, client(request), self.wall())
            return self.too_many(sessions.LINK)
        return self.refuse(request, why)

    def too_many(self, bucket: str) -> HTMLResponse:
        minutes = int(sessions.LIMITS[bucket].window.total_seconds() // 60)
        said = TOO_MANY_RU[bucket].format(minutes=minutes)
        response = self.render("refused.html", 429, why="rate", message=said)
        response.headers["Retry-After"] = str(minutes * 60)
        return response


@functools.lru_cache(maxsize=64)
def _driver_form(statement: TextClause | TextualSelect, dialect: Any) -> tuple[str, tuple[str, ...], tuple[Callable | None, ...]]:
    """A plain-text statement as the driver takes it (`Reads.inline`): its SQL, its parameters' names in order, and
    what SQLAlchemy does to each column of its rows (a typed column's values read as SQLAlchemy reads them). Its values
    are plain strings and numbers, sent as given."""
    compiled = statement.compile(dialect=dialect)
    columns = statement.selected_columns if isinstance(statement, TextualSelect) else ()
    return (compiled.string, tuple(compiled.positiontup or ()),
            tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns))


class Reads:
    """How the portal's reads meet the database. A read of one statement needs no transaction: on PostgreSQL it runs on
    an autocommit connection (`quick`), one round trip where BEGIN, the statement and ROLLBACK were three (and a READ
    COMMITTED transaction gave each statement its own snapshot anyway). A page of several statements reads them in one
    snapshot (`snapshot`): on PostgreSQL a REPEATABLE READ, READ ONLY transaction that psycopg begins with the first of
    them (a page with nothing more to read, a kept one: no BEGIN, no ROLLBACK); on SQLite `store.dry_run`'s transaction is
    one snapshot already (WAL), and a statement costs no round trip."""

    def __init__(self, db: Engine):
        self.db = db
        # SQLite: a connection of its own for the statements the event loop runs itself (`inline`), out of the pool (it
        # never goes back to it with its busy timeout of 0), one thread at a time
        self.loop: Connection | None = None
        self.loop_free = threading.Lock()
        if db.dialect.name == "sqlite" and db.url.database not in (None, "", ":memory:"):  # a file's (a pool of its own)
            self.loop = db.connect()
            self.loop.detach()
            self.loop.exec_driver_sql("PRAGMA busy_timeout=0")  # busy: answered "not here" at once, never waited for
            self.loop.rollback()
            self.loop_driver: Any = self.loop.connection.dbapi_connection  # the driver's own (sqlite3's) connection
        # the same pool; a connection is put in autocommit as it is lent and back as it returns (psycopg's own flag: no statement)
        self.autocommit = db.execution_options(isolation_level="AUTOCOMMIT") if db.dialect.name == "postgresql" else None
        if self.autocommit is not None:
            from psycopg import IsolationLevel  # only with PostgreSQL (the `postgres` extra)

            self.REPEATABLE_READ = IsolationLevel.REPEATABLE_READ

    @contextmanager
    def quick(self) -> Iterator[Session]:
        """A session whose statements write nothing: on PostgreSQL each its own (autocommit), on SQLite a rolled-back
        transaction's."""
        if self.autocommit is None:
            with store.dry_run(self.db) as session:
                yield session
            return
        with Session(self.autocommit, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.expunge_all()  # what was read stays readable after the session

    def inline(self, statement: TextClause | TextualSelect, values: dict[str, Any]) -> Sequence[Any] | None:
        """The rows of one read-only statement, run on the calling thread without a worker thread's hop, a pool's
        connection or a Session, where it cannot block: on SQLite in WAL a reader never waits for the writer, and a
        busy database (a checkpoint restarting the WAL, a recovery) is answered at once (busy timeout 0). The statement
        is its own snapshot (no BEGIN: the driver begins a transaction only before a write). None: not here — on
        PostgreSQL (a round trip to a server may take any time), when SQLite was busy, or when another thread (another
        event loop: tests) holds the connection; the caller then reads on a worker thread. Run on the driver's cursor
        (SQLAlchemy's execute cost more than the statement), with the engine's cursor events fired as SQLAlchemy fires
        them, so whatever counts or watches statements sees these too."""
        connection = self.loop
        if connection is None or not self.loop_free.acquire(blocking=False):
            return None
        try:
            sql, names, processors = _driver_form(statement, self.db.dialect)
            parameters = tuple(values[name] for name in names)
            cursor = self.loop_driver.cursor()
            dispatch = self.db.dispatch
            try:
                dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, False)
                rows = cursor.execute(sql, parameters).fetchall()
                dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, False)
            finally:
                cursor.close()
        except sqlite3.OperationalError:  # SQLITE_BUSY or the like: a worker thread waits for it instead
            return None
        finally:
            self.loop_free.release()
        if any(processors):
            rows = [tuple(p(v) if p is not None else v for p, v in zip(processors, row)) for row in rows]
        return rows

    @contextmanager
    def snapshot(self, session: Session) -> Iterator[None]:
        """The block's statements in `session` (a `quick` one) see one snapshot of the database and can write nothing.
        On PostgreSQL psycopg begins the transaction with the block's first statement (none: no BEGIN, no ROLLBACK)."""
        if self.autocommit is None:
            yield
            return
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        raw.autocommit, raw.isolation_level, raw.read_only = False, self.REPEATABLE_READ, True  # psycopg's flags: no statement
        try:
            yield
        finally:
            raw.rollback()  # psycopg sends ROLLBACK only when a statement began the transaction
            raw.read_only, raw.isolation_level, raw.autocommit = None, None, True


# A page shows the same few moments again and again (the stages' times, on every ДОУ's and expert's page): each said
# once per process, as `calendar.show` says it
_show = functools.lru_cache(maxsize=4096)(show)
_show_date = functools.lru_cache(maxsize=1024)(show_date)


def client(request: Request) -> str:
    return request.client.host if request.client else "?"


def one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def refusal_status(exc: DqflowError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, NotAllowed) else 400
