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

from dqflow.present.guard import csv_row


def text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text, every cell through the formula guard."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    writer.writerows(map(csv_row, rows))
    return buffer.getvalue()
