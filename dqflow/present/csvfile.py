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
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from dqflow.present.guard import csv_row


def text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text, every cell through the formula guard."""
    buffer = io.StringIO()
    _write(buffer, header, rows)
    return buffer.getvalue()


def write(file: BinaryIO, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    """`text`'s bytes (UTF-8) written to `file` as the rows come: nothing held but a buffer, whatever the rows."""
    stream = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=False)
    try:
        _write(stream, header, rows)
        stream.flush()
    finally:
        stream.detach()  # the caller's file stays open: it closes it


def _write(stream: io.TextIOBase, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    writer.writerows(map(csv_row, rows))
