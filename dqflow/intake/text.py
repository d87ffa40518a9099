"""Text dqflow accepts from outside: which characters a value may hold and how long it may be.

A lone surrogate (a YAML "\\uD800" escape, or command-line bytes that are not UTF-8) cannot
be encoded to store or mail it; NUL cannot be stored in PostgreSQL; other control characters
have no place in a name or a message. Refusing them where they are read keeps them out of
the database, the mail and the terminal.

A NUL is refused in every value, not only in text to store: an id or a name only looked up cannot hold one either
(PostgreSQL refuses it as a query's parameter, an error where a lookup should find nothing), nor can a file name.
The edges ask `refuse_nul` (`has_nul`) of all they are given before anything reads it: the portal's guard of every
path, query and form field, the CLI of every argument.
"""

from __future__ import annotations

import re
from typing import Iterable

from dqflow.errors import DqflowError

MAX_ID = 100  # an id of a campaign, stage, ДОУ, expert, area or level
MAX_EMAIL = 254  # RFC 5321's longest address
MAX_LINE = 2000  # a name, title, URL, reason: an order's longest stage title is ~300 characters
MAX_NOTE = 20_000  # an expert's recommendations to one ДОУ: a few pages

NUL = "\x00"  # in no value of any kind (above)
# C0 controls but tab, LF and CR; DEL; surrogate halves.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def problem(value: str, limit: int) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    bad = _NOT_TEXT.search(value)
    if bad is not None:
        return _unprintable(bad.group(), bad.start())
    if len(value) > limit:
        return f"длиной {len(value)} знаков, а можно не больше {limit}; сократите"
    return None


def _unprintable(char: str, at: int) -> str:
    """What is wrong with the character `char` at index `at` of a value."""
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"содержит {code} на {at + 1}-м знаке — половину суррогатной пары, а не символ; удалите его"
    return f"содержит управляющий символ {code} на {at + 1}-м знаке; удалите его"


def check(value: str, what: str, limit: int = MAX_LINE) -> str:
    """`value` itself, or DqflowError saying what is wrong with it."""
    why = problem(value, limit)
    if why is not None:
        raise DqflowError(f"{what}: {why}", code="text-too-long" if len(value) > limit else "text-unprintable",
                          limit=str(limit), length=str(len(value)), what=what)
    return value


def has_nul(value: str) -> bool:
    """Whether `value` holds a NUL, which no value of any kind may hold."""
    return NUL in value


def refuse_nul(values: Iterable[str], what: str) -> None:
    """DqflowError (text-unprintable, as `check` says it of any control character) when any of `values` holds a NUL."""
    for value in values:
        if has_nul(value):
            raise DqflowError(f"{what}: {_unprintable(NUL, value.index(NUL))}", code="text-unprintable", what=what)
