"""A command line click refuses, said in the campaign's language: which option or argument, what is wrong.

click words its own refusals in English; the common ones are said here from their parts (the option, the
value, the choices). A refusal of another kind keeps click's words, quoted, after a Russian lead."""

from __future__ import annotations

import re

import click

# What click's parameter types say about a value, as patterns of its English (click 8.x).
_VALUE = [
    (re.compile(r"'(?P<v>.*)' is not a valid integer( range)?\.?"), "«{v}» — не целое число"),
    (re.compile(r"'(?P<v>.*)' is not a valid float( range)?\.?"), "«{v}» — не число"),
    (re.compile(r"'(?P<v>.*)' is not one of (?P<c>.+?)\.?"), "«{v}» — допустимо одно из: {c}"),
    (re.compile(r"'(?P<v>.*)' is not (?P<c>'.+?')\.?"), "«{v}» — допустимо только {c}"),
    (re.compile(r"(?P<v>.+) is not in the range (?P<c>.+)\.?"), "{v} — вне диапазона {c}"),
    (re.compile(r"(File|Path|Directory) '(?P<v>.*)' does not exist\.?"), "«{v}» не существует; проверьте путь"),
    (re.compile(r"File '(?P<v>.*)' is a directory\.?"), "«{v}» — папка, а нужен файл"),
    (re.compile(r"Directory '(?P<v>.*)' is a file\.?"), "«{v}» — файл, а нужна папка"),
    (re.compile(r"(File|Path|Directory) '(?P<v>.*)' is not readable\.?"), "«{v}» не читается"),
    (re.compile(r"(File|Path|Directory) '(?P<v>.*)' is not writable\.?"), "в «{v}» нельзя писать"),
]
_MESSAGE = [
    (re.compile(r"Option '(?P<o>[^']+)' requires an argument\.?"), "у параметра {o} нет значения; укажите его после {o}"),
    (re.compile(r"Option '(?P<o>[^']+)' does not take a value\.?"), "параметр {o} пишется без значения"),
    (re.compile(r"Got unexpected extra arguments? \((?P<o>.+)\)"), "лишние аргументы: {o}; уберите их"),
    (re.compile(r"No such command '(?P<o>[^']+)'\.?"), "нет команды «{o}»"),
]


def said(exc: click.UsageError) -> str:
    """The refusal in one Russian line, without the pointer to --help (the caller adds it)."""
    if isinstance(exc, click.NoSuchOption):
        close = f"; может быть, {' или '.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"нет параметра {exc.option_name}{close}"
    if isinstance(exc, click.MissingParameter):
        return f"не указан {_name(exc.param, exc.ctx) or exc.param_hint or 'параметр'}; добавьте его"
    if isinstance(exc, click.BadParameter):
        name = _name(exc.param, exc.ctx) or (exc.param_hint if isinstance(exc.param_hint, str) else None)
        return f"{name}: {_value(exc.message)}" if name else _value(exc.message)
    return _message(exc.message)


def _name(param: click.Parameter | None, ctx: click.Context | None) -> str | None:
    if param is None:
        return None
    if isinstance(param, click.Argument):
        return param.make_metavar(ctx) if ctx is not None else param.name.upper() if param.name else None
    return " / ".join(param.opts) or param.name


def _value(message: str) -> str:
    for pattern, russian in _VALUE:
        match = pattern.fullmatch(message.strip())
        if match:
            return russian.format(**match.groupdict())
    return _message(message)


def _message(message: str) -> str:
    for pattern, russian in _MESSAGE:
        match = pattern.fullmatch(message.strip())
        if match:
            return russian.format(**match.groupdict())
    return message  # our own commands word theirs in Russian already (`UsageError` in cli/)
