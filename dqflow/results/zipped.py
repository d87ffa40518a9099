"""An Office file (XLSX, DOCX: a ZIP) whose bytes depend on its content alone.

openpyxl and python-docx stamp each ZIP entry with the clock at saving; the справка of one state as of one
moment should be the same file whenever it is written (a diff, a checksum, a mail archive see no change). The
entries are rewritten in their order with one fixed stamp: the справка's own moment (`stable`), or written so
in the first place (`Stable`, what the workbook's writer is given: each entry deflated once)."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

_LARGE = 2**31  # an entry above this many bytes gets ZIP64 sizes from its header on (as `stable` writes it)


def _date_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    """`at` as a ZIP entry's stamp: UTC, to the even second ZIP keeps, not before 1980."""
    stamp = at.astimezone(UTC).replace(tzinfo=None)
    return (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second - stamp.second % 2)


def _info(name: str, date_time: tuple[int, int, int, int, int, int], level: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    if level is not None:
        info._compresslevel = level  # type: ignore[attr-defined]  # what ZipFile.open(info, "w") deflates at (3.11–3.13)
    return info


def stable(data: bytes, at: datetime, replace: dict[str, bytes] | None = None) -> bytes:
    """The same ZIP with every entry dated `at` (UTC, to the even second ZIP keeps), deflated; an entry named in
    `replace` gets those bytes (openpyxl stamps the clock into docProps/core.xml as it saves)."""
    date_time = _date_time(at)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = _info(entry.filename, date_time)
            replaced = (replace or {}).get(entry.filename)
            if replaced:
                target.writestr(info, replaced)
                continue
            with source.open(entry) as reading, target.open(info, "w", force_zip64=entry.file_size > _LARGE) as writing:
                shutil.copyfileobj(reading, writing, 1 << 20)  # an entry of a national workbook is a gigabyte unpacked
    return out.getvalue()


class Stable(zipfile.ZipFile):
    """A ZIP written as `stable` would rewrite it, in one pass: every entry dated `at`, its attributes `stable`'s,
    deflated at `level` (zlib's; None: its default, 6, and then the same bytes as `stable` of the same entries), without
    deflating them twice.

    What a writer (openpyxl's `ExcelWriter`) puts in by `writestr` or `write` is stamped so; an entry named in `replace`
    gets those bytes instead, one named in `amend` what its function makes of the writer's bytes; a file given to
    `write` may be several files read in turn (`spliced`: a sheet's head, its rows written apart, its tail), never
    joined on disk."""

    def __init__(self, file: IO[bytes], at: datetime, replace: dict[str, bytes] | None = None, level: int | None = None):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self.date_time = _date_time(at)
        self.level = level
        self.replace = dict(replace or {})
        self.spliced: dict[str, list[tuple[str, int, int]]] = {}  # a path `write` is given → (file, offset, length) read in turn
        self.amend: dict[str, Callable[[bytes], bytes]] = {}  # an entry's name → its bytes as written → its bytes as stored

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        data = self.replace.get(name) or data
        if name in self.amend:
            data = self.amend[name](data.encode("utf-8") if isinstance(data, str) else data)
        super().writestr(_info(name, self.date_time, self.level), data)

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None) -> None:
        name = str(arcname if arcname is not None else filename)
        parts = self.spliced.get(os.fspath(filename)) or [(os.fspath(filename), 0, os.path.getsize(filename))]
        size = sum(length for _, _, length in parts)
        with self.open(_info(name, self.date_time, self.level), "w", force_zip64=size > _LARGE) as writing:
            for path, start, length in parts:
                with open(path, "rb") as reading:
                    reading.seek(start)
                    while length > 0:
                        chunk = reading.read(min(length, 1 << 20))
                        if not chunk:
                            raise OSError(f"{path}: shorter than expected")
                        writing.write(chunk)
                        length -= len(chunk)
