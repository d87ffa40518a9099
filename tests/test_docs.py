"""The README documents the whole command line (issue 8, item 6): walking click's command tree, every
command has a row in the CLI table and every option of it is named in that row; the global options
are named where the README describes them. A new command or option fails here until documented."""

from __future__ import annotations

import re

import click
import pytest

from conftest import ROOT
from dqflow.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
HELP = {"--help", "-h"}  # click's own, the same on every command


def commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, path + (name,))
        else:
            found.append((path + (name,), command))
    return found


def options(command: click.Command) -> list[tuple[str, ...]]:
    """Each option as its names (`-v`, `--verbose`): the README may use either; --x/--no-x as two."""
    found = []
    for param in command.params:
        if isinstance(param, click.Option) and not set(param.opts) <= HELP:
            found.append(tuple(param.opts))
            if param.secondary_opts:
                found.append(tuple(param.secondary_opts))
    return found


def named(names: tuple[str, ...], text: str, prefix: str = "") -> bool:
    return any(re.search(rf"{prefix}{re.escape(name)}(?![\w-])", text) for name in names)


def table_rows() -> dict[tuple[str, ...], str]:
    """The CLI table: each row by the command it documents (the words after `dqflow` in its first cell)."""
    rows = {}
    for line in README.splitlines():
        match = re.match(r"\| `dqflow ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)", line)
        if match:
            rows.setdefault(tuple(match[1].split()), "")
            rows[tuple(match[1].split())] += line
    return rows


COMMANDS = commands()


def test_the_walk_finds_the_commands():
    paths = {path for path, _ in COMMANDS}
    assert {("load",), ("status",), ("experts", "assign"), ("recommendations", "send"), ("migrate",)} <= paths
    assert len(paths) >= 20


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_and_each_of_its_options_is_in_the_readme(path: tuple[str, ...], command: click.Command):
    rows = table_rows()
    assert path in rows, f"README's CLI table has no row for `dqflow {' '.join(path)}`"
    missing = ["/".join(names) for names in options(command) if not named(names, rows[path])]
    assert not missing, f"`dqflow {' '.join(path)}`: README's row does not name {', '.join(missing)}"


def test_the_global_options_are_in_the_readme():
    for names in options(cli):
        assert named(names, README, prefix="`"), f"README does not name the global option {'/'.join(names)}"
