"""A table the user saved from a spreadsheet program: CSV or .xlsx → a header and located rows.

Rosters come as people's programs save them: a Russian LibreOffice or Excel writes CSV with
`;` between the cells in Windows-1251, Excel's "CSV UTF-8" puts a byte-order mark first, others
write plain UTF-8 with `,`; and many keep the roster as an .xlsx workbook. Each form is
recognised from the bytes (an .xlsx is a ZIP archive), so the file's name need not say it.

Rows are numbered as the user's program shows them (the CSV line a record starts on, the
sheet's row number); columns are numbered from 1 in both, and an .xlsx's messages add the
column's letter. A workbook is a ZIP archive of XML parts, so it is checked before openpyxl
reads it: bounded unpacked size and compression ratio (a ZIP bomb is refused unread), no DTD
in any part (entity expansion), and bounded rows and columns.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from dqflow.errors import Problem, SpecError
from dqflow.intake import files

MAX_ROWS = 400_000  # one row per ДОУ and expert: a national roster (files.MAX_EXPERTS) fits
MAX_COLUMNS = 64
EXCEL_ROWS = 1_048_576  # the last row of a sheet in Excel and LibreOffice
MAX_UNPACKED = 256 * files.MB  # what a workbook's parts may hold once unpacked
MAX_RATIO = 200  # unpacked/packed of one part: sheets of text compress ~10-30×, a ZIP bomb by far more
_ZIP = b"PK\x03\x04"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Table:
    """A header and the rows under it; `rows` holds (row number in the file, cells)."""

    file: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    form: str  # how it was read, for the user: "CSV, Windows-1251, separated by ';'"
    letters: bool = False  # an .xlsx: name columns by their letters too

    def column(self, index: int) -> str:
        """How messages name the 1-based column `index`: "столбец 3", or "столбец C (3)" in a workbook."""
        return f"столбец {letter(index)} ({index})" if self.letters else f"столбец {index}"


def letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column: 1 → A, 27 → AA."""
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def read(path, file: str) -> Table:
    """The table in the file at `path`: files.Unreadable when it cannot be read at all, SpecError
    (located at `file`) when its content is not a table dqflow can read."""
    data = files.read_bytes(path, files.MAX_ROSTER)
    if data.startswith(_ZIP):
        return _workbook(data, file)
    return _csv(data, file)


# -- CSV ------------------------------------------------------------------------------------------


def _csv(data: bytes, file: str) -> Table:
    text, encoding = decode(data, file)
    delimiter = _delimiter(text)
    rows = files.csv_rows(text, file, delimiter)
    while rows and not any(c.strip() for c in rows[0][1]):
        rows.pop(0)  # blank lines above the header
    if not rows:
        raise SpecError([Problem(file, 1, 1, "файл пуст; нужна строка заголовков, а под ней по строке на каждое ДОУ")])
    (header_row, header), *body = rows
    if len(header) > MAX_COLUMNS:
        raise SpecError([Problem(file, header_row, MAX_COLUMNS + 1, f"в строке заголовков {len(header)} столбцов, а читается не больше "
                                                                    f"{MAX_COLUMNS}; уберите лишние")])
    if len(body) > MAX_ROWS:
        raise SpecError([Problem(file, body[MAX_ROWS][0], 1, f"строк больше {MAX_ROWS}; разделите список")])
    separator = {";": "«;»", ",": "«,»", "\t": "табуляция"}[delimiter]
    return Table(file, header, header_row, body, f"CSV, {encoding}, разделитель {separator}")


def decode(data: bytes, file: str, save_as: str = '«CSV UTF-8» (или как .xlsx)') -> tuple[str, str]:
    """The text of a file and the name of its encoding: UTF-8 (with or without the byte-order mark
    Excel writes) or, when the bytes are not UTF-8, Windows-1251 if they read as Russian text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with its byte-order mark, tabs between cells
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise SpecError([Problem(file, 1, 1, f"файл начинается как текст UTF-16, но им не является; сохраните его как {save_as}")]) from None
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, data = "UTF-8 с BOM", data[3:]
    else:
        encoding = "UTF-8"
    try:
        return data.decode("utf-8"), encoding
    except UnicodeDecodeError as exc:
        bad = exc.start
    if encoding == "UTF-8" and _reads_as_russian(data):
        return data.decode("cp1251"), "Windows-1251"
    line = data.count(b"\n", 0, bad) + 1
    column = len(data[data.rfind(b"\n", 0, bad) + 1:bad].decode("utf-8", errors="replace")) + 1
    raise SpecError([Problem(file, line, column, f"байт 0x{data[bad]:02X} — не UTF-8, и как русский текст в Windows-1251 файл тоже не читается; "
                                                 f"сохраните его как {save_as}")])


def _reads_as_russian(data: bytes) -> bool:
    """Windows-1251 decodes almost any bytes; take it only when every byte above 0x7F is a
    Cyrillic letter, №, a typographic quote or dash, or a no-break space (what a roster holds)."""
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        return False
    high = [c for c in text if ord(c) > 0x7F]
    return bool(high) and all("\u0400" <= c <= "\u04ff" or c in "№«»–—“”„‘’\u00a0…" for c in high)


def _delimiter(text: str) -> str:
    """`;`, `,` or a tab: whichever the header line (the first that is not blank) holds most of,
    outside quotes; `,` when it holds none (a one-column file)."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")  # lazily: a roster may be 64 MB
    unquoted = re.sub(r'"[^"]*"?', "", first)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# -- .xlsx ------------------------------------------------------------------------------------------


def _workbook(data: bytes, file: str) -> Table:
    def refuse(message: str) -> SpecError:
        return SpecError([Problem(file, 1, 1, message)])

    _check_archive(data, refuse)
    import openpyxl  # only a workbook needs it: CSV rosters and every other command start without it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises what its parts raise (KeyError, ValueError, ParseError…) on a damaged file
        raise refuse(f"dqflow не может прочитать эту книгу ({type(exc).__name__}: {exc}); откройте её в табличной программе "
                     "и сохраните заново как .xlsx или CSV") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise refuse("в книге нет ни одного листа; добавьте лист со списком")
        rows = _sheet_rows(sheet, file)
        title = sheet.title
    except SpecError:
        raise
    except Exception as exc:  # the sheet's XML is read lazily, row by row: damage shows up here
        raise refuse(f"первый лист не читается ({type(exc).__name__}: {exc}); сохраните книгу заново") from None
    finally:
        book.close()
    if not rows:
        raise refuse(f"первый лист («{title}») пуст; вверху нужна строка заголовков, под ней по строке на каждое ДОУ")
    (header_row, header), *body = rows
    return Table(file, header, header_row, body, f"XLSX, лист «{title}»", letters=True)


def _check_archive(data: bytes, refuse) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise refuse(f"файл начинается как архив ZIP (.xlsx), но не читается ({exc}); сохраните его заново как .xlsx или CSV") from None
    if sum(m.file_size for m in members) > MAX_UNPACKED:
        raise refuse(f"книга распаковывается больше чем в {MAX_UNPACKED // files.MB} МБ; это не список ДОУ — или разделите его")
    unpacked = 0
    for member in members:  # the sizes above are the archive's own claim: count what really comes out
        if member.file_size > MAX_RATIO * max(member.compress_size, 1) + 1024 * 1024:
            raise refuse(f"часть «{member.filename}» книги распаковывается в {member.file_size // max(member.compress_size, 1)} раз больше "
                         "своего размера, как ZIP-бомба; сохраните книгу заново")
        try:
            with archive.open(member) as part:
                while chunk := part.read(1024 * 1024):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED:
                        raise refuse(f"книга распаковывается больше чем в {MAX_UNPACKED // files.MB} МБ; это не список ДОУ — или разделите его")
                    if member.filename.endswith((".xml", ".rels")) and _DTD.search(chunk):
                        raise refuse(f"часть «{member.filename}» книги объявляет DTD, чего табличные программы не пишут; "
                                     "сохраните книгу заново")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise refuse(f"часть «{member.filename}» книги не распаковывается ({exc}); сохраните её заново как .xlsx или CSV") from None


def _sheet_rows(sheet, file: str) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    sheet.reset_dimensions()  # the sheet's own claim of its size may be wrong either way: read the rows it has
    for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), 1):
        if number > EXCEL_ROWS:  # openpyxl yields an empty row for each number a row skips: stop a row numbered 10**9
            raise SpecError([Problem(file, 1, 1, f"на первом листе есть строки дальше {EXCEL_ROWS}-й, последней строки таблицы; "
                                                 f"сохраните книгу заново")])
        cells = [_cell(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            raise SpecError([Problem(file, number, MAX_COLUMNS + 1, f"строка {number} занимает больше {MAX_COLUMNS} столбцов, а списку "
                                                                    f"нужно 7; уберите лишние")])
        if len(rows) > MAX_ROWS:
            raise SpecError([Problem(file, number, 1, f"строк больше {MAX_ROWS}; разделите список")])
        rows.append((number, cells))
    return rows


def _cell(value) -> str:
    """A cell as the text the user sees: 2 and 2.0 are "2" (an id typed as a number), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
