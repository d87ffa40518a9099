"""Commands on the outbox and its delivery: send once, run the daemon, show the ledger, explain, preview.
Each imports what it alone uses: the ledger's views load no SMTP client, no scheduler."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

import click

from dqflow import redact
from dqflow.calendar import show, zone_label
from dqflow.cli.common import App, now_option, pass_app, running_clock, say_waiting, wall_clock, with_campaign
from dqflow.delivery import BUDGET

if TYPE_CHECKING:
    from dqflow.campaign import spec
    from dqflow.delivery import wake


def budget_option(command: Callable) -> Callable:
    return click.option("--budget", default=int(BUDGET.total_seconds()), show_default=True, metavar="SECONDS",
                        type=click.IntRange(1, 86400),
                        help="Stop sending after this long (or when the server keeps failing); the rest waits for the next send.")(command)


# cron alerts on a non-zero exit: sending stopped early because the SMTP server kept failing (sysexits' EX_TEMPFAIL:
# try again later; what was not sent waits in the outbox). A budget that ran out or a busy lease is not a failure.
SERVER_FAILING = 75
FAILING_HELP = f"Exits {SERVER_FAILING} when it stops early because the SMTP server keeps failing (for cron to alert)."


@click.command("send", epilog=FAILING_HELP)
@budget_option
@now_option
@pass_app
@with_campaign
def send_command(app: App, campaign: spec.Campaign, now: datetime, budget: int) -> None:
    """Deliver what is due in the outbox once, then exit (for cron: run it every few minutes)."""
    from dqflow.delivery import mail

    settings = mail.SmtpSettings.from_env()
    result = _send_with_progress(app, campaign, now, mail.SmtpTransport(settings), settings.sender, timedelta(seconds=budget))
    _say_sent(app, campaign, now, result.report, budget)


def _say_sent(app: App, campaign: spec.Campaign, now: datetime, sent, budget: int) -> None:
    """What one send did, and its exit code (SERVER_FAILING when the server kept failing); when nothing went out,
    when the next letters go and why not now."""
    from dqflow.present import sending

    if sent.busy:
        click.echo(sending.BUSY_TEXT)
        return
    click.echo(sending.sent_text(sent.count("sent"), sent.count("failed"), sent.count("dead"), sent.deferred, sent.skipped))
    if sent.stopped:
        click.echo(sending.stopped_text(sent.stopped, sent.detail, budget, sent.deferred), err=True)
    if sent.stopped == "server":
        raise click.exceptions.Exit(SERVER_FAILING)
    if not sent.stopped and not any(sent.count(state) for state in ("sent", "failed", "dead")):
        say_waiting(app, campaign, now)


def _send_with_progress(app: App, campaign: spec.Campaign, now: datetime, transport: Any, sender: str | None,
                        budget: timedelta) -> wake.Wake:
    """`wake` once; on a terminal, a progress bar with the rate."""
    from dqflow.delivery import due, wake

    async def go():
        try:
            if not sys.stderr.isatty():
                return await wake.wake(app.db, campaign.id, now, transport, wall=wall_clock, sender=sender, budget=budget,
                                       recorded_at=app.wall)
            with app.reading() as session:
                total = due.count_recipients(session, campaign, now)
            started = time.monotonic()
            rate = lambda count: count and f"{count / max(time.monotonic() - started, 1e-3):.0f} писем/с"  # noqa: E731
            with click.progressbar(length=total, label="отправка", file=sys.stderr, item_show_func=rate) as bar:
                return await wake.wake(app.db, campaign.id, now, transport, wall=wall_clock, sender=sender, budget=budget,
                                       recorded_at=app.wall, on_sent=lambda _: bar.update(1, bar.pos + 1))
        finally:
            await transport.close()

    return asyncio.run(go())


@click.command("run", epilog=FAILING_HELP.replace("Exits", "With --once, exits"))
@click.option("--once", is_flag=True,
              help="Wake once as the daemon does (check the links of the ДОУ about to be reminded, reconcile, send what is due) and exit.")
@click.option("--max-sleep", default=300, show_default=True, metavar="SECONDS", type=click.IntRange(1, 86400),
              help="Wake at least this often.")
@click.option("-v", "--verbose", is_flag=True, help="Log each wake-up to stderr.")
@budget_option
@click.option("--now", "now_text", metavar="TIME",
              help="Start the daemon's clock at this moment (it then runs at the wall clock's pace); for rehearsals and tests.")
@click.option("--http", metavar="HOST:PORT", help="Also serve the portal (as 'dqflow serve' does) in the daemon's event loop.")
@click.option("--forwarded-allow-ips", "forwarded_allow_ips", metavar="IPS",
              help="With --http: reverse proxies whose X-Forwarded-For/-Proto to trust, as 'dqflow serve' takes it; default none.")
@pass_app
def run_command(app: App, once: bool, max_sleep: int, verbose: bool, budget: int, now_text: str | None, http: str | None,
                forwarded_allow_ips: str | None) -> None:
    """Run the daemon: reconcile at every boundary and send time, deliver mail; stop with Ctrl-C or SIGTERM."""
    from dqflow import engine
    from dqflow.delivery import daemon, mail
    from dqflow.delivery.link_policy import policy_from_env

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    redact.protect_logging(redact.known_secrets(app.db_url))
    with app.reading() as session:
        campaign = engine.definition(session, app.campaign_id)
    settings = mail.SmtpSettings.from_env()
    clock = running_clock(now_text, campaign.timezone)
    if once:
        if http:
            raise click.UsageError("--once просыпается один раз и выходит, портал не обслуживает; уберите --http (или --once)")
        link_policy = policy_from_env()  # a bad DQFLOW_LINKCHECK_ALLOW is refused before anything is done
        now = clock()
        # one step of the daemon: the links of the ДОУ about to be reminded are checked first, so the reminders list
        # those that do not open
        asyncio.run(daemon.links_before_reminders(app.db, campaign.id, now, link_policy))
        result = _send_with_progress(app, campaign, now, mail.SmtpTransport(settings), settings.sender, timedelta(seconds=budget))
        _say_sent(app, campaign, now, result.report, budget)
        return
    companion = None
    if http:
        from dqflow.web import create_app, server

        host, port = server.address(http)
        portal = create_app(app.db, campaign.id, clock, wall_clock)
        companion = lambda stopped: server.beside_daemon(portal, host, port, stopped, forwarded_allow_ips)  # noqa: E731
    runner = daemon.Daemon(app.db, campaign.id, mail.SmtpTransport(settings), clock,
                           max_sleep=timedelta(seconds=max_sleep), sender=settings.sender, budget=timedelta(seconds=budget),
                           wall=wall_clock, companion=companion, tell=_teller(app, campaign, budget))
    click.echo(f"dqflow работает для кампании {campaign.id}" + (f", портал: http://{http}/" if http else "") + "; остановить — Ctrl-C",
               err=True)
    asyncio.run(runner.run())


def _teller(app: App, campaign: spec.Campaign, budget: int) -> Callable[[datetime, wake.Wake], None]:
    """What the daemon says on the terminal after a wake-up: its counts when it sent (or tried to), and when the next
    letters go and why not now whenever that changed (a wake-up every few minutes that finds the same says nothing)."""
    from dqflow.delivery import due
    from dqflow.present import sending

    told: list[due.Ahead | None | str] = ["nothing yet"]

    def tell(now: datetime, result: wake.Wake) -> None:
        report = result.report
        if report.busy:
            return  # another process sends: it says what it sent
        if report.stopped or any(report.count(state) for state in ("sent", "failed", "dead")):
            click.echo(f"{show(now, campaign.tz)}: " + sending.sent_text(report.count("sent"), report.count("failed"),
                                                                         report.count("dead"), report.deferred, report.skipped))
            if report.stopped:
                click.echo(sending.stopped_text(report.stopped, report.detail, budget, report.deferred), err=True)
                return
        with app.reading() as session:
            found = due.ahead(session, campaign, now)
        if found != told[0]:
            told[0] = found
            for line in sending.waiting_text(campaign, now, found.at if found else None, found.letters if found else 0):
                click.echo(line)

    return tell


@click.command("outbox")
@click.option("--state", type=click.Choice(["pending", "sent", "skipped", "failed", "dead"]), help="Only rows in this state.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def outbox_command(app: App, state: str | None, as_json: bool) -> None:
    """The reminder ledger: every planned reminder with its state."""
    from dqflow import engine
    from dqflow.engine import reminders
    from dqflow.present import sending

    with app.reading() as session:
        campaign = engine.definition(session, app.campaign_id)
        rows = reminders.ledger(session, campaign.id, state=state)
    click.echo(sending.outbox_json(rows, campaign.tz) if as_json else sending.outbox_text(rows, campaign, app.wall))


@click.command("why")
@click.argument("recipient")
@click.option("--stage", "stage_id", metavar="STAGE", help="Only this stage.")
@pass_app
def why_command(app: App, recipient: str, stage_id: str | None) -> None:
    """Why each reminder to RECIPIENT was planned, sent, skipped, or not planned."""
    from dqflow import engine
    from dqflow.engine import reminders, skips
    from dqflow.present import sending

    with app.reading() as session:
        campaign = engine.definition(session, app.campaign_id)
        rows, gaps = reminders.explain(session, campaign, recipient, stage_id)
        foreseen = skips.foreseen(session, campaign.id, rows)
    click.echo(sending.why_text(recipient, rows, gaps, campaign, app.wall, foreseen))


@click.command("remind")
@click.option("--dry-run", is_flag=True, required=True, help="Show, send nothing (the only mode: 'dqflow send' sends).")
@now_option
@pass_app
@with_campaign
def remind_command(app: App, campaign: spec.Campaign, now: datetime, dry_run: bool) -> None:
    """Who would get what at the next send time."""
    from dqflow.delivery import wake

    with app.reading() as session:
        when, batches = wake.preview(session, campaign, now)
    if when is None or not batches:
        click.echo("Ничего не запланировано." if when is None else f"На {show(when, campaign.tz)} писем нет.")
        return
    assert when is not None  # batches are planned for a send time
    click.echo(f"Отправка {show(when, campaign.tz)} ({zone_label(campaign.tz, when)}): писем {len(batches)}")
    for batch in batches:
        click.echo(f"  {batch.recipient}: «{batch.message['Subject']}»")
