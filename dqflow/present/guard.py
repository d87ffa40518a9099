"""Text from people stays text in every export: a spreadsheet never runs it as a formula, a Markdown
reader never renders it as markup. One rule, asked by every writer: `csv_cell` for CSV (through
`csvfile`), `sheet_text` for a workbook's cells, `markdown_text` for Markdown.

Names, titles, reasons and recommendations are typed by people (a roster, the portal's forms), and a
file dqflow writes is opened by others: `=HYPERLINK("http://…?d="&A1, "x")` in a cell sends whoever
opens it to an address of the writer's choosing; `<a href="javascript:…">` in Markdown becomes a link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

# A spreadsheet program runs a cell that starts with one of these as a formula (after spaces); the
# full-width forms count too (OWASP's list, and what LibreOffice and Excel were seen to evaluate).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# What makes Markdown out of plain text inside a line: escapes, code, emphasis, links, table pipes,
# strikethrough, headings. `<`, `>` and `&` (raw HTML, autolinks, entities) become entities instead.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]|~#])")


def formula_like(text: str) -> bool:
    """Would a spreadsheet program read this text as a formula?"""
    return text.lstrip(" ").startswith(FORMULA_START)


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as the text it is: a leading ' makes a would-be formula text
    (the OWASP rule). A number is written as the number it is: it cannot be a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if formula_like(text) else text


# The first characters `csv_cell` has to look at: a formula's (after spaces) and a space; any other text is its own
# cell. `csv_row` asks this set before calling `csv_cell`: a national справка writes millions of cells.
# The first characters of a text that may be a formula (`formula_like`: one of FORMULA_START's, or a space before it):
# any other text needs no guard, and a national table asks of a million texts.
FORMULA_FIRST = frozenset(c[0] for c in FORMULA_START) | {" "}


def csv_row(row: Iterable[object]) -> list[str]:
    """A row's cells through `csv_cell`, text that cannot be a formula passed as it is without the call."""
    return [c if c.__class__ is str and c[:1] not in FORMULA_FIRST else csv_cell(c) for c in row]


class Cell(Protocol):
    """The part of a workbook cell (openpyxl's `Cell`) the guard sets."""

    value: Any
    data_type: str
    quotePrefix: Any


def sheet_text(cell: Cell) -> None:
    """A workbook cell that holds text is typed as text: openpyxl stores a str starting with '=' as a
    live formula. The text is kept as it is (it reads back the same); a would-be formula is also
    marked `quotePrefix`, Excel's own mark of text typed after a ', so editing the cell keeps it text."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if formula_like(cell.value):
            cell.quotePrefix = True


def markdown_text(value: object) -> str:
    """Plain text inside a line of Markdown (a table cell, a list item, a heading): HTML and Markdown
    markup are escaped, line breaks become spaces, so the text reads as typed and renders as text."""
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_ACTIVE.sub(r"\\\1", html.escape(text, quote=False))
