"""Text dqflow accepts from outside: which characters a value may hold and how long it may be.

A lone surrogate (a YAML "\\uD800" escape, or command-line bytes that are not UTF-8) cannot
be encoded to store or mail it; NUL cannot be stored in PostgreSQL; other control characters
have no place in a name or a message. Refusing them where they are read keeps them out of
the database, the mail and the terminal.
"""

from __future__ import annotations

import re

from dqflow.errors import DqflowError

MAX_ID = 100  # an id of a campaign, stage, ДОУ, expert, area or level
MAX_EMAIL = 254  # RFC 5321's longest address
MAX_LINE = 2000  # a name, title, URL, reason: an order's longest stage title is ~300 characters
MAX_NOTE = 20_000  # an expert's recommendations to one ДОУ: a few pages

# C0 controls but tab, LF and CR; DEL; surrogate halves.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def problem(value: str, limit: int) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    bad = _NOT_TEXT.search(value)
    if bad is not None:
        char = f"U+{ord(bad.group()):04X}"
        if "\ud800" <= bad.group() <= "\udfff":
            return f"содержит {char} на {bad.start() + 1}-м знаке — половину суррогатной пары, а не символ; удалите его"
        return f"содержит управляющий символ {char} на {bad.start() + 1}-м знаке; удалите его"
    if len(value) > limit:
        return f"длиной {len(value)} знаков, а можно не больше {limit}; сократите"
    return None


def check(value: str, what: str, limit: int = MAX_LINE) -> str:
    """`value` itself, or DqflowError saying what is wrong with it."""
    why = problem(value, limit)
    if why is not None:
        raise DqflowError(f"{what}: {why}", code="text-too-long" if len(value) > limit else "text-unprintable",
                          limit=str(limit), length=str(len(value)), what=what)
    return value
