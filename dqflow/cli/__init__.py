"""The `dqflow` command: parse, make one library call, print. This package is the only place that reads the clock.

Here is the root group: it refuses arguments no command could use, turns every error into one line, and
names the commands (`COMMANDS`). They live beside it by noun (campaign, progress, documents, publishing, delivery,
expertise, portal, database) and share only `common`; none of them imports this module. A command's module is imported
when the command runs, and each imports what it alone uses: `--version` loads no database, `status` no mail."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from importlib import import_module

import click

from dqflow import __version__, redact
from dqflow.cli import usage
from dqflow.cli.common import App, wall_clock
from dqflow.errors import DqflowError, SpecError, one_line
from dqflow.intake import text as texts

# wall_clock: the tests and benchmarks take the real clock from here, as the commands do
__all__ = ["cli", "main", "wall_clock"]

# Every command, by the module that holds it. A command's module is imported when that command runs
# (or when --help lists them all), so `dqflow --version` loads no database and `status` no mail.
COMMANDS = {
    "init": "campaign:init_command", "validate": "campaign:validate_command",
    "import-order": "campaign:import_order_command", "instantiate": "campaign:instantiate_command",
    "load": "campaign:load_command", "simulate": "campaign:simulate_command",
    "status": "progress:status_command", "history": "progress:history_command", "tick": "progress:tick_command",
    "submit": "progress:submit_command", "extend": "progress:extend_command", "excuse": "progress:excuse_command",
    "report": "documents:report_command", "calendar": "documents:calendar_command", "board": "documents:board_command",
    "publish": "publishing:publish_command",
    "send": "delivery:send_command", "run": "delivery:run_command", "outbox": "delivery:outbox_command",
    "why": "delivery:why_command", "remind": "delivery:remind_command",
    "experts": "expertise:experts_group", "review": "expertise:review_command",
    "recommendations": "expertise:recommendations_group", "settle": "settling:settle_command",
    "form": "form:form_group",
    "serve": "portal:serve_command", "link": "portal:link_group", "links": "links:links_group",
    "migrate": "database:migrate_command",
    "campaigns": "years:campaigns_command",
    "region": "region:region_group",
}


class _Commands(MutableMapping[str, click.Command]):
    """The root group's commands, each imported from its module on first use."""

    def __init__(self, where: dict[str, str]):
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name].split(":")  # KeyError for a name no command has
            self._loaded[name] = getattr(import_module(f"dqflow.cli.{module}"), attribute)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.setdefault(name, "")
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._where[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def _failure(exc: Exception) -> str | None:
    """The one line for a library's error that a command could not prevent, or None for a bug. A library
    that was never imported cannot have raised, so its exceptions are only looked up once it is loaded."""
    jinja = sys.modules.get("jinja2.exceptions")
    if jinja is not None and isinstance(exc, jinja.TemplateError):  # a campaign's template that validated with sample data only
        return f"ошибка: шаблон письма: {one_line(str(exc))}; исправьте шаблон и повторите команду"
    database = sys.modules.get("sqlalchemy.exc")
    if database is not None and isinstance(exc, database.OperationalError):
        return f"ошибка: база данных: {one_line(str(exc.orig))}"
    if database is not None and isinstance(exc, database.SQLAlchemyError):
        return f"ошибка: база данных: {exc.__class__.__name__}: {one_line(str(exc).splitlines()[0])}"
    return None


def _unusable(argument: str) -> str | None:
    """Why a command-line value can be neither a file name nor text, or None."""
    if texts.has_nul(argument):
        return "содержит символ NUL, которого не может быть ни в имени файла, ни в значении"
    bad = next((c for c in argument if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:  # how Python carries argv bytes that are not UTF-8
        byte = f"байт 0x{ord(bad) - 0xDC00:02X}" if "\udc80" <= bad <= "\udcff" else f"U+{ord(bad):04X}"
        return f"не текст UTF-8 ({byte}); наберите его заново или переименуйте файл в UTF-8"
    return None


class _Group(click.Group):
    """Turns a user's mistake into one clear line and exit 1, never a traceback."""

    def main(self, args=None, prog_name=None, *rest, **kwargs):
        """Arguments that no command could use are refused before any of them is parsed."""
        arguments = sys.argv[1:] if args is None else list(args)
        named = [(f"аргумент {n}", a) for n, a in enumerate(arguments, 1)] + [("DQFLOW_DB", os.environ.get("DQFLOW_DB", ""))]
        for where, value in named:
            why = _unusable(value)
            if why is not None:
                shown = value if len(value) <= 60 else value[:57] + "..."
                click.echo(one_line(f"ошибка: {where} «{shown}» {why} (см. «{prog_name or 'dqflow'} --help»)"), err=True)
                sys.exit(2)
        return super().main(args, prog_name, *rest, **kwargs)

    def invoke(self, ctx: click.Context):
        def say(line: str) -> None:  # every error line passes here: no password of --db or SMTP gets out
            click.echo(redact.redact(line, redact.known_secrets(getattr(ctx.obj, "db_url", None))), err=True)

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line, not click's usage block: what is wrong and where help is
            where = exc.ctx.command_path if exc.ctx else "dqflow"
            say(f"ошибка: {one_line(usage.said(exc))} (см. «{where} --help»)")
            ctx.exit(exc.exit_code)
        except SpecError as exc:
            for problem in exc.problems:
                say(str(problem))
            ctx.exit(1)
        except DqflowError as exc:  # a coded refusal in the words the portal uses (`present.refusals`), else its own line
            from dqflow.present import refusals

            say(f"ошибка: {one_line(refusals.on_terminal(exc, getattr(exc, 'campaign', None)))}")
            ctx.exit(1)
        except Exception as exc:
            line = _failure(exc)
            if line is None:
                raise
            say(line)
            ctx.exit(1)


@click.group(cls=_Group, commands=_Commands(COMMANDS), context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="DQFLOW_DB", metavar="URL",
              help="Database: a SQLite file path or a SQLAlchemy URL (env DQFLOW_DB). Default: ./dqflow.db")
@click.option("--campaign", "campaign_id", metavar="ID", help="Which loaded campaign (optional when only one is loaded).")
@click.version_option(__version__, prog_name="dqflow")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, campaign_id: str | None) -> None:
    """dqflow drives a preschool quality monitoring campaign through its dated stages."""
    ctx.obj = App(db_url, campaign_id)


def main() -> None:
    secrets = redact.known_secrets() + [s for arg in sys.argv for s in redact.url_secrets(arg)]
    sys.excepthook = lambda kind, value, tb: sys.stderr.write(  # a bug's traceback shows no password either
        redact.redact("".join(traceback.format_exception(kind, value, tb)), secrets))
    cli(prog_name="dqflow")
