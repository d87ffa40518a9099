"""An Office file (XLSX, DOCX: a ZIP) whose bytes depend on its content alone.

openpyxl and python-docx stamp each ZIP entry with the clock at saving; the справка of one state as of one
moment should be the same file whenever it is written (a diff, a checksum, a mail archive see no change). The
entries are rewritten in their order with one fixed stamp: the справка's own moment."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime


def stable(data: bytes, at: datetime, replace: dict[str, bytes] | None = None) -> bytes:
    """The same ZIP with every entry dated `at` (UTC, to the even second ZIP keeps), deflated; an entry named in
    `replace` gets those bytes (openpyxl stamps the clock into docProps/core.xml as it saves)."""
    stamp = at.astimezone(UTC).replace(tzinfo=None)
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second - stamp.second % 2)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            replaced = (replace or {}).get(entry.filename)
            if replaced:
                target.writestr(info, replaced)
                continue
            with source.open(entry) as reading, target.open(info, "w", force_zip64=entry.file_size > 2**31) as writing:
                shutil.copyfileobj(reading, writing, 1 << 20)  # an entry of a national workbook is a gigabyte unpacked
    return out.getvalue()
