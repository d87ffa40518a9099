"""What the commands share: the App a command runs in (database, chosen campaign, the wall clock read once),
--now and the clocks it sets, the campaign handed to a command, and the notice of overdue reminders.

Every command module imports this one; it imports none of them, so imports flow one way."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, Callable

import click

from dqflow.calendar import UTC, parse_local, show, zone, zone_label
from dqflow.errors import DqflowError

if TYPE_CHECKING:  # the database and the campaign model are imported by the commands that use them
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from dqflow.campaign import spec

NOW_HELP = ("Act as if it were this moment (dd.mm.yyyy [HH:MM] or ISO-8601; without an offset, in the campaign's zone). "
            "Default: now.")


@dataclass
class App:
    db_url: str | None
    campaign_id: str | None
    _engine: Engine | None = None
    _wall: datetime | None = None

    @property
    def db(self) -> Engine:
        if self._engine is None:
            from dqflow import store

            self._engine = store.connect(self.db_url)
        return self._engine

    @property
    def wall(self) -> datetime:
        """The real clock, read once per command (to the second): `now` without --now, and always
        the `recorded_at` of the audit rows the command writes."""
        if self._wall is None:
            self._wall = datetime.now(UTC).replace(microsecond=0)
        return self._wall

    def transaction(self) -> AbstractContextManager[Session]:
        from dqflow import store

        return store.transaction(self.db, recorded_at=self.wall, actor="coordinator:cli")

    def reading(self) -> AbstractContextManager[Session]:
        """A session that writes nothing (`store.dry_run`)."""
        from dqflow import store

        return store.dry_run(self.db)


pass_app = click.make_pass_decorator(App)


def now_option(command: Callable) -> Callable:
    return click.option("--now", "now_text", metavar="TIME", help=NOW_HELP)(command)


def wall_clock() -> datetime:
    """The real clock, for what coordinates processes (the sending lease), whatever --now says."""
    return datetime.now(UTC)


def running_clock(now_text: str | None, timezone: str) -> Callable[[], datetime]:
    """A clock for a long-running command: the wall clock, or one started at --now that runs at its pace."""
    start, started = resolve_now(now_text, timezone), time.monotonic()
    return lambda: start + timedelta(seconds=round(time.monotonic() - started))


def resolve_now(text: str | None, timezone: str, wall: datetime | None = None) -> datetime:
    """--now in the campaign's zone, or the wall clock (to the second)."""
    if text is None:
        return wall or datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_local(text, zone(timezone))
    except ValueError as exc:
        raise DqflowError(f"--now: {exc}") from None  # calendar says it in Russian


def with_campaign(command: Callable) -> Callable:
    """Hands the command the chosen campaign's definition and the resolved `now`."""

    @wraps(command)
    def wrapper(app: App, now_text: str | None, **kwargs: Any) -> Any:
        from dqflow import engine

        with app.reading() as session:
            campaign = engine.definition(session, app.campaign_id)
        try:
            return command(app, campaign, resolve_now(now_text, campaign.timezone, app.wall), **kwargs)
        except DqflowError as exc:  # the terminal says a refusal in the campaign's words (its ДОУ/ДОО, its stage names)
            exc.campaign = getattr(exc, "campaign", None) or campaign
            raise

    return wrapper


def say_overdue(session: Session, campaign: spec.Campaign, now: datetime) -> None:
    """Notices whose planned moment has passed but which are still true go out at the next send."""
    from dqflow.delivery import due

    count, when = due.overdue_notices(session, campaign, now)
    if count:
        click.echo(f"Уведомлений, время которых уже прошло, но которые ещё актуальны: {count}. Они уйдут при ближайшей "
                   f"отправке, {show(when, campaign.tz)} ({zone_label(campaign.tz, when)}): dqflow send или dqflow run.")


def say_waiting(app: App, campaign: spec.Campaign, now: datetime) -> None:
    """When nothing went out at `now`: how many letters wait, when they go, and why not now (`due.ahead`)."""
    from dqflow.delivery import due
    from dqflow.present import sending

    with app.reading() as session:
        found = due.ahead(session, campaign, now)
    for line in sending.waiting_text(campaign, now, found.at if found else None, found.letters if found else 0):
        click.echo(line)


def catch_up_finals(app: App, campaign: spec.Campaign) -> None:
    """The kept final levels caught up in short steps (`engine.catch_up_finals`) once a command's change is committed
    and said (`tick`, `load --apply`). A cache's work: a step that fails (a lock waited for too long) is a warning, not
    the command's failure — the change stands, the справка computes the levels meanwhile, and the next tick or wake-up
    goes on from the marks left."""
    from sqlalchemy.exc import SQLAlchemyError

    from dqflow import engine

    try:
        engine.catch_up_finals(app.reading, app.transaction, campaign)
    except SQLAlchemyError as failed:
        why = str(getattr(failed, "orig", None) or failed).strip().splitlines()[0]
        click.echo(f"предупреждение: итоговые уровни для справки пересчитаны не все ({why}); изменения сохранены, "
                   "справка пока считает уровни сама, остальное пересчитает следующий dqflow tick", err=True)

