"""Commands on the web portal: serve it, and the personal and sign-in links (link …)."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, resolve_now, running_clock, wall_clock, with_campaign
from dqflow.errors import DqflowError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes on the one port (sessions and limits live in the database, so any worker "
                   "answers any request; with SQLite every write still waits its turn: use PostgreSQL for many).")
@click.option("--forwarded-allow-ips", "forwarded_allow_ips", metavar="IPS",
              help="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto to trust "
                   "(like 127.0.0.1); default: none, the connection's own address counts.")
@click.option("--now", "now_text", metavar="TIME",
              help="Start the portal's clock at this moment (it then runs at the wall clock's pace); for rehearsals and tests.")
@pass_app
def serve_command(app: App, host: str, port: int, workers: int, forwarded_allow_ips: str | None, now_text: str | None) -> None:
    """Serve the web portal: personal pages of ДОУ and experts, the coordinator's pages, the public board."""
    from dqflow.web import create_app, server

    with store.dry_run(app.db) as session:
        campaign = engine.definition(session, app.campaign_id)
    base = links.base_url(campaign)
    click.echo(f"Портал dqflow кампании {campaign.id}: http://{host}:{port}/"
               + (f" (ссылки в письмах: {base})" if base else " (задайте DQFLOW_BASE_URL, чтобы в письмах были личные ссылки)")
               + (f", процессов: {workers}" if workers > 1 else "") + "; остановить — Ctrl-C", err=True)
    if workers > 1:
        start = resolve_now(now_text, campaign.timezone) if now_text else None
        server.run_workers(store.database_url(app.db_url), campaign.id, start, host, port, workers, forwarded_allow_ips)
        return
    portal = create_app(app.db, campaign.id, running_clock(now_text, campaign.timezone), wall_clock)
    server.run(portal, host, port, forwarded_allow_ips)


@click.group("link")
def link_group() -> None:
    """Personal links to the portal: show, revoke; the coordinator's sign-in link."""


def _base(campaign: spec.Campaign) -> str:
    base = links.base_url(campaign)
    if base is None:
        raise DqflowError("не задан адрес портала: задайте DQFLOW_BASE_URL (например, https://monitoring.example.org) или campaign.portal.base_url")
    return base


@link_group.command("show")
@click.argument("who", metavar="INSTITUTION|EXPERT")
@pass_app
def link_show(app: App, who: str) -> None:
    """Print the personal link of a ДОУ or an expert (the one their emails carry)."""
    with store.dry_run(app.db) as session:
        campaign = engine.definition(session, app.campaign_id)
        role, subject_id = links.subject(campaign, who)
        found = links.links(session, campaign.id)
    click.echo(found.url(_base(campaign), role, subject_id))


@link_group.command("revoke")
@click.argument("who", metavar="INSTITUTION|EXPERT")
@click.option("--reason", default="", help="Why (kept in the audit log and said in the person's letter).")
@now_option
@pass_app
@with_campaign
def link_revoke(app: App, campaign: spec.Campaign, now: datetime, who: str, reason: str) -> None:
    """Make a personal link stop working and print the new one (emails carry it from now on)."""
    base = _base(campaign)
    with app.transaction() as session:
        role, _ = links.revoke(session, campaign, who, now, reason)
        found = links.links(session, campaign.id)
    click.echo(f"Прежняя ссылка отозвана. Новая: {found.url(base, role, who)}")


@link_group.command("coordinator")
@click.option("--revoke-sessions", is_flag=True,
              help="End every signed-in session of the coordinator at once (on every worker) instead of printing a link.")
@now_option
@pass_app
@with_campaign
def link_coordinator(app: App, campaign: spec.Campaign, now: datetime, revoke_sessions: bool) -> None:
    """Print a one-time sign-in link to the coordinator's pages (valid one hour), or end every session."""
    if revoke_sessions:
        with app.transaction() as session:
            ended = links.end_sessions(session, campaign, now, "revoke")
        click.echo(f"Сеансы координатора завершены: {ended}. Войти снова можно по паролю или по новой ссылке.")
        return
    base = _base(campaign)
    with app.transaction() as session:
        token, until = links.new_signin(session, campaign, now)
    click.echo(f"{base}/signin/{token}")
    click.echo(f"Ссылка действует один раз, до {show(until, campaign.tz)} ({zone_label(campaign.tz, until)}).", err=True)


@link_group.command("password")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of asking twice at the terminal.")
@now_option
@pass_app
@with_campaign
def link_password(app: App, campaign: spec.Campaign, now: datetime, from_stdin: bool) -> None:
    """Set the coordinator's password for signing in at /signin (kept as a salted hash; replaces the previous one
    and ends every session signed in before)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Пароль", hide_input=True, confirmation_prompt="Повторите пароль", err=True)
    with app.transaction() as session:
        links.set_password(session, campaign, password, now)
    base = links.base_url(campaign)
    click.echo(f"Пароль координатора сохранён. Вход: {base or 'адрес портала'}/signin")
