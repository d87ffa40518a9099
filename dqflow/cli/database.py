"""The command on the database itself: bring its schema to this dqflow's revision (and, on PostgreSQL, the planner's
statistics up to date)."""

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
    """Bring the database to this dqflow's schema revision (every command also does it on first use); on PostgreSQL,
    also refresh the planner's statistics of every table (ANALYZE)."""
    if check:
        shown, found = store.schema_state(app.db_url)
        if found.current:
            click.echo(f"База данных '{shown}': версия схемы {found.revision}, актуальная.")
            return
        command = shlex.join(["dqflow", "--db", shown, "migrate"])
        raise DqflowError(f"база данных '{shown}' {found.describe()}; этому dqflow нужна версия схемы {schema.HEAD}: "
                          f"её {'создаст' if found.new else 'обновит'} первая же команда, а также: {command}")
    shown, was = store.migrate(app.db_url)
    if was is None or was.current:
        click.echo(f"База данных '{shown}': версия схемы {schema.HEAD}, актуальная; делать нечего.")
    elif was.new:
        click.echo(f"База данных '{shown}' создана: версия схемы {schema.HEAD}.")
    else:
        click.echo(f"База данных '{shown}' обновлена до версии схемы {schema.HEAD}; была {_was(was)}.")
    if app.db.dialect.name == "postgresql":  # restored, upgraded or never analysed: planned from statistics from now on
        analysed = store.analyze_all(app.db)
        if analysed:
            click.echo(f"Статистика планировщика PostgreSQL обновлена (ANALYZE), таблиц: {len(analysed)}; после загрузки, "
                       "изменения кампании и записей в тысячи строк dqflow обновляет её сам.")


def _was(state: schema.State) -> str:
    """Where a database stood before `migrate` upgraded it (`State.describe`, as a coordinator reads it)."""
    if not state.versioned:
        return f"версия {state.revision} (создана до миграций: выпуском 1a76da4 или невыпущенным dqflow после него)"
    return f"версия {state.revision}"
