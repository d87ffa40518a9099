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
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from dqflow.present.guard import csv_row

LINE_END = "\r\n"
MEMO = 20_000  # the distinct texts a column remembers the cell of (then it starts again): memory bounded


def text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text, every cell through the formula guard."""
    return "".join(_chunks(header, rows))


def write(file: BinaryIO, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    """`text`'s bytes (UTF-8) written to `file` as the rows come, `_CHUNK` rows at a time: nothing held but a chunk's
    text, whatever the rows (a text stream on the file would encode each row on its own: slower by a third)."""
    for chunk in _chunks(header, rows):
        file.write(chunk.encode("utf-8"))


_CHUNK = 10_000


def _chunks(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header's line, then the rows' lines `_CHUNK` at a time, each chunk one text."""
    lines = _Lines()
    yield lines.written(header)
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, _CHUNK)):
        yield LINE_END.join(map(lines, chunk)) + LINE_END


class _Lines:
    """A row's line (without its end): its texts' cells remembered per column (see the module), any other row written
    by the `csv` module (`written`)."""

    def __init__(self) -> None:
        self.memos: list[dict[str | None, str]] = []
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator=LINE_END)

    def __call__(self, row: Sequence[object]) -> str:
        try:
            if len(row) == len(self.memos):
                return ",".join(map(dict.__getitem__, self.memos, row))  # type: ignore[arg-type]
        except (KeyError, TypeError):  # a text not remembered yet, or a value that is no text (a number: not remembered)
            pass
        return self.learn(row)

    def learn(self, row: Sequence[object]) -> str:
        values = list(row)
        if len(values) < 2:  # the `csv` module writes a row of one empty cell as `""`: left to it
            return self.written(values)[:-len(LINE_END)]
        while len(self.memos) < len(values):
            self.memos.append({})
        cells = []
        for memo, value in zip(self.memos, values, strict=False):
            if value is None or value.__class__ is str:
                found = memo.get(value)  # type: ignore[arg-type]
                if found is None:
                    if len(memo) >= MEMO:
                        memo.clear()
                    found = memo[value] = self.cell(value)  # type: ignore[index]
                cells.append(found)
            else:
                cells.append(self.cell(value))
        return ",".join(cells)

    def cell(self, value: object) -> str:
        """One cell as the `csv` module writes it among others (a row of it and an empty cell, less the comma)."""
        return self.written([value, None])[:-len("," + LINE_END)]

    def written(self, row: Iterable[object]) -> str:
        """A row's line with its end, as the `csv` module writes it, every cell through the guard."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(csv_row(row))
        return self.buffer.getvalue()
