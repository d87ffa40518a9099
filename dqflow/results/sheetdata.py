"""A sheet's rows as SpreadsheetML sheet data (`<row>` and `<c>` elements), written straight from plain values.

A view of every ДОУ repeats its values row after row (names, stages, titles, statuses, levels, experts): each value's
cell markup is made once per column and remembered, a row is the join of its cells' remembered markup (`Cells`).
The markup is what openpyxl's write-only cells would write (numbers, dates as serial numbers in their column's style,
the guard's text cells), but smaller, as the schema allows:

- a cell carries no reference (`r="B7"`): its place is the one after the cell before it in its row (`<row r="7">`
  carries the row), an empty cell before a later one is `<c/>`. A reference per cell made the XML a third longer and
  deflate 4–5 times slower and larger: every cell differed from the one above it by its row's number;
- a number's cell leaves out `t="n"` (the default type);
- a text is an index into the workbook's shared strings (`Strings`, xl/sharedStrings.xml) where the writer keeps a
  table: a name written on 30 rows per ДОУ in «Показатели по ДОУ» is a number of a few digits, the sheet's XML ASCII.
  Without a table (a writer that lets openpyxl save the book) texts are inline strings, as openpyxl writes them.

`Plain` takes the rows of a view as the database gives them (ids, level ids, None) with a plan per column: what cells
a stored value makes (a stage id: its label; an indicator id: the id, its title and its area's title), asked once per
distinct value — a row whose values are all remembered is one `join` of a `map` over its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from dqflow.present.guard import FORMULA_FIRST, formula_like, sheet_text

EMPTY = "<c/>"  # a cell without a value, where a row's later cells need its place (they carry no reference)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# The first characters of a text the guard may have to look at: a formula's (`guard.FORMULA_FIRST`), an error code's '#'.
# Any other text is its own cell without the guard's three questions (a national workbook asks for a million new texts).
_GUARD_FIRST = FORMULA_FIRST | {"#"}
MEMO = 20_000  # the distinct values a column remembers the markup of (then it starts again)
SHARED = 500_000  # the texts a shared string table holds at most (then a new text is written inline): its memory bounded
SHARED_STRINGS = "xl/sharedStrings.xml"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHARED_CELL = '<c t="s">'  # a shared text's cell without a style: the same in any column that has none


def needs_guard(text: str) -> bool:
    """Whether openpyxl, given this text as a cell's value, would make it other than the text it is (a formula, an
    error's code): such a text is the guard's cell (`present.guard.sheet_text`), in every sheet."""
    return text[:1] in _GUARD_FIRST and (formula_like(text) or text in ERROR_CODES or text.startswith("="))


def escaped(text: str) -> str:
    """The text as XML character data (`&`, `<`, `>` and a carriage return as references); most texts have none of
    them and are their own (`str.translate` costs ~1.7 µs a text even when it changes nothing)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


class Strings:
    """The workbook's shared string table: each text once, in the order first written; a cell holds its index.

    Free texts (recommendations, links, reasons: each written once) are better inline — the sheet says which of its
    columns those are (`Cells(inline=…)`); past `SHARED` texts any new one is inline too."""

    def __init__(self, limit: int = SHARED):
        self.index: dict[str, int] = {}
        self.limit = limit
        self.cells: dict[str, str] = {}  # a text → its cell without a style (`<c t="s">…</c>`), for every column of every sheet

    def __call__(self, text: str) -> int | None:
        """The text's index in the table (added if new), None when the table is full."""
        found = self.index.get(text)
        if found is None and len(self.index) < self.limit:
            found = self.index[text] = len(self.index)
        return found

    def xml(self) -> bytes:
        """xl/sharedStrings.xml: `<si><t>` per text, in index order (a dict keeps the order of insertion)."""
        parts = [f'<sst xmlns="{_MAIN}" uniqueCount="{len(self.index)}">']
        for text in self.index:
            space = ' xml:space="preserve"' if text != text.strip() else ""
            parts.append(f"<si><t{space}>{escaped(text)}</t></si>")
        parts.append("</sst>")
        return "".join(parts).encode("utf-8")


def width(value: Any) -> int:
    """How many characters wide a value's cell is: its longest line (a date: 16, as DD.MM.YYYY HH:MM)."""
    if value.__class__ is str and value.isprintable():  # one line (every line break is unprintable)
        return len(value)
    if isinstance(value, datetime):
        return 16
    return max((len(line) for line in str(value if value is not None else "").splitlines()), default=0)


class Cells:
    """The markup of one sheet's cells (below its header), each value's made once per column and remembered; the
    columns' widths widened to every value written (`widths`, starting from the header's)."""

    def __init__(self, sheet: WriteOnlyWorksheet, header: Sequence[str], style_ids: dict[int, str], strings: Strings | None,
                 inline: frozenset[int] = frozenset(), simple: bool = False):
        self.sheet = sheet
        self.style_ids = style_ids  # 0-based column → ' s="N"' (a date's or a share's number format)
        self.strings = strings
        self.inline = inline  # 0-based columns of free text: inline strings whatever the table
        self.widths = [width(v) for v in header]
        self.memo: list[dict[Any, str]] = [{None: EMPTY} for _ in header]
        self.simple = simple  # the caller's word: every value a text, an int, a datetime or None (`row`)

    def row(self, number: int, values: Sequence) -> str:
        """One row of sheet data. A text, an int or a datetime is its own key in its column's memo; any other value
        with its type (1, 1.0 and True are equal keys of a dict, not one cell). A `simple` sheet (no float, no bool: no
        value a dict could mistake for another) looks its row up in its columns' memos at once (`map`), and makes only
        the cells of the values not found, left to right as cell by cell would."""
        if self.simple:
            found: list[Any] = list(map(dict.get, self.memo, values))  # a cell's markup, None where not remembered
            if None in found:
                self.fill(found, values)
            return f'<row r="{number}">{"".join(found)}</row>'
        cells = []
        for n, value in enumerate(values):
            kind = value.__class__
            key = value if kind is str or kind is int or kind is datetime or value is None else (kind, value)
            known = self.memo[n].get(key)
            if known is None:
                known = self.cell(n, key, value)
            cells.append(known)
        return f'<row r="{number}">{"".join(cells)}</row>'

    def fill(self, found: list[str | None], values: Sequence) -> None:
        """The cells of a simple row its memos did not hold (None in `found`), made in the row's order."""
        n = found.index(None)
        while True:
            value = values[n]
            found[n] = self.cell(n, value, value)
            try:
                n = found.index(None, n + 1)
            except ValueError:
                return

    def cell(self, n: int, key: Any, value: Any) -> str:
        """A value's cell of column `n`, made and remembered under `key`; the column widened to it."""
        memo = self.memo[n]
        if len(memo) >= MEMO:
            memo.clear()
            memo[None] = EMPTY
        found = memo[key] = self.made(n, value)
        return found

    def made(self, n: int, value: Any) -> str:
        """A value's cell of column `n`; the column widened to it."""
        if (size := width(value)) > self.widths[n]:
            self.widths[n] = size
        if value.__class__ is str and self.strings is not None:  # a text another column or sheet wrote: its cell as made there
            found = self.strings.cells.get(value)
            if found is not None and n not in self.style_ids and n not in self.inline:
                return found
            made = f"<c{self.markup(n, value)}"
            if made.startswith(_SHARED_CELL):
                self.strings.cells[value] = made
            return made
        return f"<c{self.markup(n, value)}"

    def markup(self, n: int, value: Any) -> str:
        """A cell's markup after `<c`: numbers, dates as Excel's serial numbers in their
        column's style, text a shared string (or inline). A text the guard marks (`sheet_text`: a would-be formula, an
        error's code) is the guard's cell: its type and its style (`quotePrefix`) as the guard left them."""
        style = self.style_ids.get(n, "")
        kind = value.__class__
        if kind is str:
            if needs_guard(value) or not value.isprintable():
                cell = WriteOnlyCell(self.sheet, value)  # openpyxl refuses a character XML cannot carry, as it would
                sheet_text(cell)
                assert cell.data_type == "s", "the guard types every text as text"
                if cell.has_style:
                    style = f' s="{cell.style_id}"'
            if not value:  # openpyxl writes an empty text as an empty cell of its type
                return f'{style} t="inlineStr"/>'
            index = self.strings(value) if self.strings is not None and n not in self.inline else None
            if index is not None:
                return f'{style} t="s"><v>{index}</v></c>'
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return f'{style} t="inlineStr"><is><t{space}>{escaped(value)}</t></is></c>'
        if kind is datetime:
            return f"{style}><v>{to_excel(value):.16g}</v></c>"
        if kind is bool:
            return f'{style} t="b"><v>{int(value)}</v></c>'
        if kind is int or kind is float:
            return f"{style}><v>{value:.16g}</v></c>"
        raise TypeError(f"a cell of the справка holds {kind.__name__}")



class Plain:
    """A sheet's rows as the database gives them: the i-th value of a row makes the cells `plan[i]` says (as many as
    it always returns), its markup remembered under the stored value itself (a stage id, a level id, a ДОУ's name).
    A row of remembered values is `"".join(map(dict.__getitem__, memos, row))`: no step per cell in Python."""

    def __init__(self, cells: Cells, plan: Sequence[Callable[[Any], Sequence[Any]]]):
        self.cells = cells
        self.plan = plan
        self.first: list[int] = []  # the first column each value's cells take
        column = 0
        for ask in plan:
            self.first.append(column)
            column += len(ask(None))
        if column != len(cells.widths):
            raise ValueError(f"the plan makes {column} cells of a row, the header has {len(cells.widths)}")
        self.memos: list[dict[Any, str]] = [{} for _ in plan]

    def row(self, number: int, stored: Sequence) -> str:
        try:
            joined = "".join(map(dict.__getitem__, self.memos, stored))
        except KeyError:  # a value not remembered (a new ДОУ's name, at least): cell by cell, the row's length checked
            if len(stored) != len(self.memos):
                raise ValueError(f"a row of {len(stored)} values, the plan takes {len(self.memos)}") from None
            joined = "".join([self.learn(i, value) for i, value in enumerate(stored)])
        return f'<row r="{number}">{joined}</row>'

    def learn(self, i: int, value: Any) -> str:
        """The cells the i-th stored value makes, remembered under it (`Cells.cell`: each cell's markup, the widths)."""
        memo = self.memos[i]
        found = memo.get(value)
        if found is None:
            if len(memo) >= MEMO:
                memo.clear()
            made = self.plan[i](value)
            found = memo[value] = "".join([EMPTY if v is None else self.cells.made(self.first[i] + k, v) for k, v in enumerate(made)])
        return found
