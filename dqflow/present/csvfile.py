"""The one CSV writer: every CSV dqflow writes (the справка's folder, `experts show --csv`) comes from
here, so no export can skip the formula guard (`guard.csv_cell`).

Rows end in CRLF (RFC 4180), which also makes the writer quote a CR inside a cell instead of letting
a reader split the row there. UTF-8 without a byte-order mark: the files are for further processing
(ids and codes as `status --json` gives them) and for pipes; the workbook (`report --format xlsx`) is
what opens in Excel as it is.

A national справка's tables repeat their texts row after row (a ДОУ's id and name on each of its 30 rows, stages,
indicators, levels, experts): each column's cell of a text is made once (the guard, then the `csv` module's quoting of
that one cell) and remembered (`_Lines`), a row of remembered texts is one `join`. A row with any other value (a number,
a date) is written by the `csv` module as it is: the same bytes either way.

A table whose rows come in groups that share their first cells (reviews.csv: a review's ДОУ, stage and expert on each
of its levels' rows) is given as `Grouped`: each group's shared cells are made once, and the text of its rows' other
cells once per distinct set of them (a national roster's reviews repeat a few hundred), so a group is two joins
whatever its rows: again the same bytes as the rows one by one.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

from dqflow.present.guard import csv_cell, csv_row

LINE_END = "\r\n"
MEMO = 20_000  # the distinct texts a column remembers the cell of (then it starts again): memory bounded


class Grouped:
    """Rows given as groups (see the module): each group (shared, tails) stands for the rows `shared + tail` of each of
    its tails, in order. Iterated, it gives those rows one by one (a reader that is not this writer)."""

    def __init__(self, groups: Iterable[tuple[Sequence[object], Sequence[Sequence[object]]]]):
        self.groups = groups

    def __iter__(self) -> Iterator[Sequence[object]]:
        for shared, tails in self.groups:
            for tail in tails:
                yield [*shared, *tail]


def text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text, every cell through the formula guard."""
    return "".join(_chunks(header, rows))


def write(file: BinaryIO, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    """`text`'s bytes (UTF-8) written to `file` as the rows come, `_CHUNK` rows at a time: nothing held but a chunk's
    text, whatever the rows (a text stream on the file would encode each row on its own: slower by a third)."""
    collecting = gc.get_threshold()
    gc.set_threshold(max(COLLECT_AFTER, collecting[0]), *collecting[1:])
    try:
        for chunk in _chunks(header, rows):
            file.write(chunk.encode("utf-8"))
    finally:
        gc.set_threshold(*collecting)


# The cyclic collector's pass every 700 new objects went over a chunk's live rows again and again (tuples of texts, no
# garbage: a national table's millions) and moved them on to the older generations' passes: about a tenth of the CSV
# folder's CPU at 50,000 ДОУ. Garbage in cycles is still collected, after at most this many objects (as `simulate`).
COLLECT_AFTER = 100_000


_CHUNK = 10_000


def _chunks(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header's line, then the rows' lines `_CHUNK` at a time, each chunk one text."""
    lines = _Lines()
    yield lines.written(header)
    if isinstance(rows, Grouped):
        groups = iter(rows.groups)
        while batch := list(itertools.islice(groups, _GROUPS)):
            yield "".join(map(lines.group, batch))
        return
    each = iter(rows)
    while chunk := list(itertools.islice(each, _CHUNK)):
        yield LINE_END.join(map(lines, chunk)) + LINE_END


_GROUPS = 2_000  # groups a chunk holds: a review's 5 rows or an institution's 30, still about `_CHUNK` rows


class _Lines:
    """A row's line (without its end): its texts' cells remembered per column (see the module), any other row written
    by the `csv` module (`written`)."""

    def __init__(self) -> None:
        self.memos: list[dict[str | None, str]] = []
        self.tails: dict[tuple[int, int], tuple[Any, list[str]]] = {}  # (where they start, id of tails) → (tails, each one's cells)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator=LINE_END)

    def __call__(self, row: Sequence[object]) -> str:
        try:
            if len(row) == len(self.memos):
                return ",".join(map(dict.__getitem__, self.memos, row))  # type: ignore[arg-type]
        except (KeyError, TypeError):  # a text not remembered yet, or a value that is no text (a number: not remembered)
            pass
        return self.learn(row)

    def group(self, group: tuple[Sequence[object], Sequence[Sequence[object]]]) -> str:
        """A group's lines, each with its end (see `Grouped`)."""
        shared, tails = group
        start = len(shared)
        # the texts of the same tails object (tuples of texts: the same values; held with them, so its id is no other
        # object's meanwhile), made for any other
        found = self.tails.get((start, id(tails)))
        texts = found[1] if found is not None else self.tails_of(start, tails)
        if texts is None or not shared or "" in texts:  # rows of other shapes (one cell, say) as `__call__` writes them
            return "".join(self([*shared, *tail]) + LINE_END for tail in tails)
        try:  # each shared text's cell remembered: one join (no KeyError raised: an expert is new at most reviews)
            known: list[str | None] = list(map(dict.get, self.memos, shared))  # type: ignore[arg-type]
        except TypeError:  # a value that is no key: made below
            known = [None]
        lead = ",".join(self.cells(shared, 0) if None in known or len(known) < start else known) + ","  # type: ignore[arg-type]
        return lead + (LINE_END + lead).join(texts) + LINE_END if texts else ""

    def tails_of(self, start: int, tails: Sequence[Sequence[object]]) -> list[str] | None:
        """Each tail's cells joined, remembered with the tails object when nothing in it can change (a tuple of tuples of
        texts, see `group`); None for any other: its rows are written one by one."""
        if tails.__class__ is not tuple or not all(tail.__class__ is tuple and all(v is None or v.__class__ is str for v in tail)
                                                   for tail in tails):
            return None
        if len(self.tails) >= MEMO:
            self.tails.clear()
        texts = [",".join(self.cells(tail, start)) for tail in tails]
        self.tails[(start, id(tails))] = (tails, texts)
        return texts

    def cells(self, values: Sequence[object], start: int) -> list[str]:
        """The cells of `values` standing from column `start` on, texts remembered per column."""
        while len(self.memos) < max(2, start + len(values)):  # never one column: a row of one cell is the `csv` module's
            self.memos.append({})
        cells = []
        for memo, value in zip(self.memos[start:], values, strict=False):
            if value is None or value.__class__ is str:
                found = memo.get(value)  # type: ignore[arg-type]
                if found is None:
                    if len(memo) >= MEMO:
                        memo.clear()
                    found = memo[value] = self.cell(value)  # type: ignore[index]
                cells.append(found)
            else:
                cells.append(self.cell(value))
        return cells

    def learn(self, row: Sequence[object]) -> str:
        values = list(row)
        if len(values) < 2:  # the `csv` module writes a row of one empty cell as `""`: left to it
            return self.written(values)[:-len(LINE_END)]
        return ",".join(self.cells(values, 0))

    def cell(self, value: object) -> str:
        """One cell as the `csv` module writes it among others (a row of it and an empty cell, less the comma): a guarded
        text without a delimiter, a quote or a line break is its own cell (the module quotes only those: QUOTE_MINIMAL)."""
        if value.__class__ is str:
            text = csv_cell(value)
            if text and "," not in text and '"' not in text and "\r" not in text and "\n" not in text:
                return text
        return self.written([value, None])[:-len("," + LINE_END)]

    def written(self, row: Iterable[object]) -> str:
        """A row's line with its end, as the `csv` module writes it, every cell through the guard."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(csv_row(row))
        return self.buffer.getvalue()
