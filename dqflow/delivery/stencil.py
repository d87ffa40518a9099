"""Stencils: a letter rendered once for a whole audience, with the recipient's own values as slots.

A bulk send (every ДОУ told that a stage opened, reminded of a deadline) renders the same long
letter thousands of times, differing only in the ДОУ's name, id and personal link. Rendering it
(four templates, most of a message's cost) once per shape of letter and pasting each recipient's
values into the result gives the same subject, text and HTML, provided the templates only *show*
those values: they are rendered as opaque markers that no filter, test or comparison sees
differently from the real value. So a letter takes a stencil only when:

- the templates are our bundled ones (a campaign's own may do anything with a name);
- the message holds one letter (a merged message compares its items' texts, case-insensitively);
- every other name in the item is a plain value, or one of the send's shared objects, or empty:
  all of them are part of the stencil's key, so a different deadline or stage is another stencil;
- each value is a non-empty one-line string without edge spaces (jinja strips blocks, the layout
  splits lines) and, for the link, without characters HTML escapes (the layout finds the link's
  line in the HTML by its raw text). An empty or missing value is part of the key instead, so
  `{% if item.link %}` takes the same branch. Equal values share one slot, as they compare equal.

The writer (`Writer.stenciled`) checks the first message of every stencil against a direct
rendering and renders directly for the rest of the send if they differ; `tests/test_stencil.py`
checks with hypothesis that filled stencils give byte-identical messages for arbitrary names,
ids and links, and compares whole sends built both ways.
"""

from __future__ import annotations

import re

from markupsafe import escape

from dqflow.delivery.mail import Letter, laid_out
from dqflow.intake.templates import render_item

SLOTS = ("institution_id", "institution_name", "link")  # what differs between the letters of one audience
ESCAPED = ("link",)  # must read the same in text and HTML (see above)
_MARK, _END = "\ue000", "\ue001"  # private-use characters: no template writes them
_SLOT = re.compile(f"{_MARK}(\\d+){_END}")
_EMPTY = "[]"


def marker(index: int) -> str:
    return f"{_MARK}{index}{_END}"


def shape(item: dict, shared: tuple) -> tuple[tuple, list[str]] | None:
    """(the stencil's key, the recipient's values in slot order), or None when the letter must be
    rendered directly. `shared` are the objects every item of the send holds the same (the terms)."""
    key: list = []
    values: list[str] = []
    for name, value in item.items():
        if name in SLOTS:
            if value is None or value == "":
                key += (name, value)
                continue
            if value.__class__ is not str or not _plain(value) or (name in ESCAPED and str(escape(value)) != value):
                return None
            if value not in values:
                values.append(value)
            key += (name, -1 - values.index(value))  # negative: never equal to a plain int value
        elif value.__class__ is str:
            if _MARK in value:  # would read as a slot
                return None
            key += (name, value)
        elif value is None or value.__class__ in (bool, int):
            key += (name, value)
        elif value.__class__ is list and not value:
            key += (name, _EMPTY)
        else:
            for index, obj in enumerate(shared):
                if value is obj:
                    key += (name, ("shared", index))
                    break
            else:
                return None
    return tuple(key), values


def _plain(value: str) -> bool:
    return "\n" not in value and "\r" not in value and _MARK not in value and value == value.strip()


def marked(item: dict, values: list[str]) -> dict:
    """The item with each value replaced by its slot's marker."""
    return {name: (marker(values.index(value)) if name in SLOTS and value else value) for name, value in item.items()}


def build(folder: str, layout: dict, letter: Letter, values: list[str]) -> "Stencil":
    """The stencil of a one-letter message: the letter rendered with markers and laid out."""
    rendered = render_item(folder, letter.kind, marked(letter.item, values))
    subject, text, html = laid_out(folder, layout, [rendered])
    assert text is not None and html is not None  # laid out with their bodies
    return Stencil(subject, text, html, len(values))


class Stencil:
    """A rendered subject, text and HTML, split at the slots."""

    def __init__(self, subject: str, text: str, html: str, slots: int):
        self.subject, self.text, self.html = _pieces(subject), _pieces(text), _pieces(html)
        self.slots = slots
        found = {p for pieces in (self.subject, self.text, self.html) for p in pieces if p.__class__ is int}
        if not found <= set(range(slots)):
            raise ValueError("a stencil holds markers it was not given")

    def fill(self, values: list[str]) -> tuple[str, str, str]:
        """The subject, text and HTML for these values (HTML-escaped in the HTML, as jinja does)."""
        html_values = [str(escape(v)) for v in values]
        return _joined(self.subject, values), _joined(self.text, values), _joined(self.html, html_values)


def _pieces(text: str) -> list:
    """Literal text and slot numbers, alternating."""
    parts = _SLOT.split(text)
    return [int(p) if i % 2 else p for i, p in enumerate(parts) if p or i % 2]


def _joined(pieces: list, values: list[str]) -> str:
    return "".join([p if p.__class__ is str else values[p] for p in pieces])
