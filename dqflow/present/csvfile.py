"""The one CSV writer: every CSV dqflow writes (the справка's folder, `experts show --csv`) comes from
here, so no export can skip the formula guard (`guard.csv_cell`).

Rows end in CRLF (RFC 4180), which also makes the writer quote a CR inside a cell instead of letting
a reader split the row there. UTF-8 without a byte-order mark: the files are for further processing
(ids and codes as `status --json` gives them) and for pipes; the workbook (`report --format xlsx`) is
what opens in Excel as it is.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from dqflow.present.guard import csv_row


def text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text, every cell through the formula guard."""
    buffer = io.StringIO()
    _write(buffer, header, rows)
    return buffer.getvalue()


def write(file: BinaryIO, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    """`text`'s bytes (UTF-8) written to `file` as the rows come, `_CHUNK` rows at a time: nothing held but a chunk's
    text, whatever the rows (a text stream on the file would encode each row on its own: slower by a third)."""
    buffer = io.StringIO()
    rows = iter(rows)
    _write(buffer, header, itertools.islice(rows, _CHUNK))
    while True:
        file.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
        chunk = list(itertools.islice(rows, _CHUNK))
        if not chunk:
            return
        _write(buffer, None, chunk)


_CHUNK = 10_000


def _write(stream: io.StringIO, header: Sequence[object] | None, rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    if header is not None:
        writer.writerow(csv_row(header))
    writer.writerows(map(csv_row, rows))
