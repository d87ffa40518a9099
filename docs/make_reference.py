"""Writes the generated part of docs/commands.md from click's command tree, so the reference cannot drift.

    python docs/make_reference.py          # rewrite docs/commands.md's generated blocks in place
    python docs/make_reference.py --check  # exit 1, naming the commands that differ, when it is stale

Each command of `dqflow.cli:cli` (groups and the root included) has exactly one block in docs/commands.md,
between `<!-- BEGIN generated: dqflow … -->` and `<!-- END generated: dqflow … -->`: its heading, its usage,
its help and a table of its options, all taken from what `--help` shows. Everything outside the blocks is
written by hand (where a command belongs, examples, JSON shapes, what a refusal says) and is kept as it is.
A command with no block yet gets one at the end of the file, to be moved to its section; the block of a
command that no longer exists is removed, and the prose beside it is reported so that it goes too.

Why blocks and not docstrings alone: `--help` stays a screen long, as a terminal wants it, while the
reference says more; the facts both share (usage, options, defaults, ranges, choices, what is required)
are written once, in the code, and copied here by this script.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click

DOC = Path(__file__).resolve().parent / "commands.md"
PROGRAM = "dqflow"
HELP_OPTIONS = {"--help", "-h"}  # click's own, the same on every command: not repeated in every table
BLOCK = re.compile(r"<!-- BEGIN generated: (?P<path>[^>]*?) -->\n.*?<!-- END generated: (?P=path) -->\n", re.S)
class Twice(ValueError):
    """A command with two generated blocks: which one is true cannot be told, so a person removes one."""


NEW_SECTION = "## Not yet placed\n\nCommands added since this page was last arranged: move each block to its section.\n"


@dataclass(frozen=True)
class Entry:
    """One command of the tree: its words after the program name, the command and its click context."""

    path: tuple[str, ...]
    command: click.Command
    context: click.Context

    @property
    def name(self) -> str:
        return " ".join((PROGRAM, *self.path))


def root() -> click.Group:
    from dqflow.cli import cli

    return cli


def walk(group: click.Group | None = None) -> list[Entry]:
    """Every command, the root and the groups included, in the order `--help` lists them."""
    group = group or root()
    top = click.Context(group, info_name=PROGRAM)
    found = [Entry((), group, top)]

    def visit(parent: click.Group, context: click.Context, path: tuple[str, ...]) -> None:
        for name in parent.list_commands(context):  # not .commands: a lazily loading group lists what it has
            command = parent.get_command(context, name)
            if command is None or command.hidden:
                continue
            child = click.Context(command, info_name=name, parent=context)
            found.append(Entry(path + (name,), command, child))
            if isinstance(command, click.Group):
                visit(command, child, path + (name,))

    visit(group, top, ())
    return found


def options(entry: Entry) -> list[tuple[str, str]]:
    """(names as --help shows them, help as --help shows it, with its default, range and `required`)."""
    rows = []
    for param in entry.command.get_params(entry.context):
        if not isinstance(param, click.Option) or set(param.opts) <= HELP_OPTIONS:
            continue
        record = param.get_help_record(entry.context)
        if record is not None:
            rows.append(record)
    return rows


def option_names(entry: Entry) -> set[str]:
    """Every spelling of every option of the command (`-v`, `--verbose`, `--x`, `--no-x`)."""
    names: set[str] = set()
    for param in entry.command.get_params(entry.context):
        if isinstance(param, click.Option):
            names.update(param.opts, param.secondary_opts)
    return names - HELP_OPTIONS


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(entry: Entry) -> str:
    """The block of one command: what its --help says, as Markdown."""
    command = entry.command
    usage = " ".join([entry.name, *command.collect_usage_pieces(entry.context)])
    help_text = inspect.cleandoc(command.help or command.short_help or "").split("\f")[0].strip()
    lines = [f"<!-- BEGIN generated: {entry.name} -->", f"### `{entry.name}`", "", "```text", usage, "```", ""]
    for paragraph in re.split(r"\n\s*\n", help_text):
        if paragraph.strip():
            lines += [" ".join(paragraph.split()), ""]
    if isinstance(command, click.Group):
        subcommands = [f"[`{name}`](#{slug(f'{entry.name} {name}')})" for name in command.list_commands(entry.context)]
        lines += ["Commands: " + ", ".join(subcommands) + ".", ""]
    rows = options(entry)
    if rows:
        lines += ["| option | what it does |", "|---|---|"]
        lines += [f"| `{_cell(names)}` | {_cell(text)} |" for names, text in rows]
        lines.append("")
    lines.append(f"<!-- END generated: {entry.name} -->")
    return "\n".join(lines) + "\n"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces made hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def blocks(text: str) -> list[str]:
    """The command named by each generated block, in the order of the file (a name twice is a fault)."""
    return [match["path"] for match in BLOCK.finditer(text)]


def update(text: str, entries: list[Entry] | None = None) -> tuple[str, list[str]]:
    """`text` with every block rewritten from the command tree; and notes on blocks added or removed."""
    entries = entries if entries is not None else walk()
    by_name = {entry.name: entry for entry in entries}
    seen: set[str] = set()
    notes: list[str] = []

    def rewrite(match: re.Match) -> str:
        name = match["path"]
        if name in seen:
            raise Twice(f"{DOC.name}: `{name}` has two generated blocks; remove one (and its prose)")
        seen.add(name)
        if name not in by_name:
            notes.append(f"removed the block of `{name}`, which no longer exists: remove the prose beside it too")
            return ""
        return render(by_name[name])

    updated = BLOCK.sub(rewrite, text)
    missing = [entry for entry in entries if entry.name not in seen]
    if missing:
        if NEW_SECTION not in updated:
            updated = updated.rstrip("\n") + "\n\n" + NEW_SECTION
        for entry in missing:
            updated = updated.rstrip("\n") + "\n\n" + render(entry)
            notes.append(f"added a block for `{entry.name}` at the end: move it to its section and describe it")
    return updated, notes


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    try:
        updated, notes = update(text)
    except Twice as exc:
        print(exc, file=sys.stderr)
        return 1
    if "--check" in argv:
        if updated != text:
            print(f"{DOC} is not what `dqflow --help` says: run python docs/make_reference.py", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        DOC.write_text(updated, encoding="utf-8")
    for note in notes:
        print(note, file=sys.stderr)
    print(f"{DOC}: {'rewritten' if updated != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
