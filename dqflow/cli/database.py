"""The command on the database itself: bring its schema to this dqflow's revision."""

from __future__ import annotations

import shlex

import click

from dqflow import store
from dqflow.cli.common import App, pass_app
from dqflow.errors import DqflowError
from dqflow.store import schema


@click.command("migrate")
@click.option("--check", is_flag=True, help="Only say where the schema stands; change nothing (exit 1 unless current).")
@pass_app
def migrate_command(app: App, check: bool) -> None:
    """Bring the database to this dqflow's schema revision (every command also does it on first use)."""
    if check:
        shown, found = store.schema_state(app.db_url)
        if found.current:
            click.echo(f"database '{shown}': revision {found.revision}, current")
            return
        command = shlex.join(["dqflow", "--db", shown, "migrate"])
        raise DqflowError(f"database '{shown}' is {found.describe()}; this dqflow needs revision {schema.HEAD}, which "
                          f"any command's first use {'creates' if found.new else 'upgrades to'}, and so does: {command}")
    shown, was = store.migrate(app.db_url)
    if was is None or was.current:
        click.echo(f"database '{shown}': revision {schema.HEAD}, current; nothing to do")
    elif was.new:
        click.echo(f"database '{shown}': created at revision {schema.HEAD}")
    else:
        click.echo(f"database '{shown}': upgraded to revision {schema.HEAD}; it was {was.describe()}")
