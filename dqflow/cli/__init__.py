"""The `dqflow` command: parse, make one library call, print. This package is the only place that reads the clock.

Here is the root group: it refuses arguments no command could use, turns every error into one line, and
registers the commands. They live beside it by noun (campaign, progress, documents, delivery, expertise,
portal, database) and share only `common`; none of them imports this module."""

from __future__ import annotations

import os
import sys
import traceback

import click
from jinja2 import TemplateError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dqflow import __version__, redact
from dqflow.cli import campaign, database, delivery, documents, expertise, portal, progress
from dqflow.cli.common import App, wall_clock
from dqflow.errors import DqflowError, SpecError, one_line

# wall_clock: the tests and benchmarks take the real clock from here, as the commands do
__all__ = ["cli", "main", "wall_clock"]


def _unusable(argument: str) -> str | None:
    """Why a command-line value can be neither a file name nor text, or None."""
    if "\x00" in argument:
        return "holds a NUL character, which no file name or value may hold"
    bad = next((c for c in argument if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:  # how Python carries argv bytes that are not UTF-8
        byte = f"byte 0x{ord(bad) - 0xDC00:02X}" if "\udc80" <= bad <= "\udcff" else f"U+{ord(bad):04X}"
        return f"is not UTF-8 text ({byte}); retype it or rename the file in UTF-8"
    return None


class _Group(click.Group):
    """Turns a user's mistake into one clear line and exit 1, never a traceback."""

    def main(self, args=None, prog_name=None, *rest, **kwargs):
        """Arguments that no command could use are refused before any of them is parsed."""
        arguments = sys.argv[1:] if args is None else list(args)
        named = [(f"argument {n}", a) for n, a in enumerate(arguments, 1)] + [("DQFLOW_DB", os.environ.get("DQFLOW_DB", ""))]
        for where, value in named:
            why = _unusable(value)
            if why is not None:
                shown = value if len(value) <= 60 else value[:57] + "..."
                click.echo(one_line(f"error: {where} '{shown}' {why} (see '{prog_name or 'dqflow'} --help')"), err=True)
                sys.exit(2)
        return super().main(args, prog_name, *rest, **kwargs)

    def invoke(self, ctx: click.Context):
        def say(line: str) -> None:  # every error line passes here: no password of --db or SMTP gets out
            click.echo(redact.redact(line, redact.known_secrets(getattr(ctx.obj, "db_url", None))), err=True)

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line, not click's usage block: what is wrong and where help is
            where = exc.ctx.command_path if exc.ctx else "dqflow"
            say(f"error: {one_line(exc.format_message())} (see '{where} --help')")
            ctx.exit(exc.exit_code)
        except SpecError as exc:
            for problem in exc.problems:
                say(str(problem))
            ctx.exit(1)
        except DqflowError as exc:
            say(f"error: {one_line(str(exc))}")
            ctx.exit(1)
        except TemplateError as exc:  # a campaign's template that validated with sample data but not with real data
            click.echo(f"error: email template: {one_line(str(exc))}; fix the template and run the command again", err=True)
            ctx.exit(1)
        except OperationalError as exc:
            say(f"error: database: {one_line(str(exc.orig))}")
            ctx.exit(1)
        except SQLAlchemyError as exc:
            say(f"error: database: {exc.__class__.__name__}: {one_line(str(exc).splitlines()[0])}")
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="DQFLOW_DB", metavar="URL",
              help="Database: a SQLite file path or a SQLAlchemy URL (env DQFLOW_DB). Default: ./dqflow.db")
@click.option("--campaign", "campaign_id", metavar="ID", help="Which loaded campaign (optional when only one is loaded).")
@click.version_option(__version__, prog_name="dqflow")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, campaign_id: str | None) -> None:
    """dqflow drives a preschool quality monitoring campaign through its dated stages."""
    ctx.obj = App(db_url, campaign_id)


# Every command, by the module that holds it (--help lists them alphabetically whatever the order here).
cli.add_command(campaign.init_command)
cli.add_command(campaign.validate_command)
cli.add_command(campaign.import_order_command)
cli.add_command(campaign.instantiate_command)
cli.add_command(campaign.load_command)
cli.add_command(campaign.simulate_command)

cli.add_command(progress.status_command)
cli.add_command(progress.history_command)
cli.add_command(progress.tick_command)
cli.add_command(progress.submit_command)
cli.add_command(progress.extend_command)
cli.add_command(progress.excuse_command)

cli.add_command(documents.report_command)
cli.add_command(documents.calendar_command)
cli.add_command(documents.board_command)

cli.add_command(delivery.send_command)
cli.add_command(delivery.run_command)
cli.add_command(delivery.outbox_command)
cli.add_command(delivery.why_command)
cli.add_command(delivery.remind_command)

cli.add_command(expertise.experts_group)
cli.add_command(expertise.review_command)
cli.add_command(expertise.recommendations_group)

cli.add_command(portal.serve_command)
cli.add_command(portal.link_group)

cli.add_command(database.migrate_command)


def main() -> None:
    secrets = redact.known_secrets() + [s for arg in sys.argv for s in redact.url_secrets(arg)]
    sys.excepthook = lambda kind, value, tb: sys.stderr.write(  # a bug's traceback shows no password either
        redact.redact("".join(traceback.format_exception(kind, value, tb)), secrets))
    cli(prog_name="dqflow")
