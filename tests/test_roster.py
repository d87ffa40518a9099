"""Rosters as people's spreadsheet programs save them: CSV with `,` or `;`, UTF-8 with or without a
byte-order mark or Windows-1251, and .xlsx workbooks; each written here by the test in that form,
then read by `dqflow validate` and `dqflow load`, with every error located as FILE:ROW:COLUMN.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from dqflow.cli import cli
from tests.conftest import TOMSK, Cli, query

TOMSK_TEXT = TOMSK.read_text(encoding="utf-8")
HEADER = ["id", "name", "email", "contact", "expert_id", "expert_name", "expert_email"]
ROWS = [
    ["2", "МАДОУ № 2", "dou2@example.org", "Ответственный за мониторинг", "e2", "Эксперт ДОУ № 2", "expert2@example.org"],
    ["4", "МБДОУ № 4 «Монтессори»", "dou4@example.org", "", "e4", "Эксперт ДОУ № 4", "expert4@example.org"],
    ["5", "МАДОУ № 5; корпус 2", "dou5@example.org", "", "e5", "Эксперт ДОУ № 5", "expert5@example.org"],
    ["6", "МАДОУ № 6", "dou6@example.org", "", "e6", "Эксперт ДОУ № 6", "expert6@example.org"],
]
PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>ошибка|предупреждение): (?P<message>.+)$")


def campaign_with(folder: Path, roster_name: str) -> Path:
    """The Tomsk campaign with its inline roster replaced by `institutions: {file: roster_name}`."""
    folder.mkdir(parents=True, exist_ok=True)
    start, end = TOMSK_TEXT.index("institutions:\n"), TOMSK_TEXT.index("\nstages:")
    path = folder / "campaign.yaml"
    path.write_text(TOMSK_TEXT[:start] + f"institutions: {{file: {roster_name}}}\n" + TOMSK_TEXT[end:], encoding="utf-8")
    return path


def spreadsheet_csv(rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    """CSV as a spreadsheet program writes it: quotes where a cell needs them, CRLF line ends."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def workbook(rows: list[list], path: Path, title: str = "Лист1", start_row: int = 1) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, 1):
            if value not in ("", None):
                sheet.cell(row=start_row + offset, column=col, value=value)
    book.save(path)
    return path


def validate(path: Path):
    result = CliRunner().invoke(cli, ["validate", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure, not an exit code
    return result


def errors(result) -> list[dict]:
    found = []
    for line in result.stderr.splitlines():
        match = PROBLEM.match(line)
        assert match, f"not a FILE:LINE:COL line: {line!r}"
        found.append({**match.groupdict(), "line": int(match["line"]), "col": int(match["col"])})
    return found


def the_error(result, file: Path, line: int, col: int, *words: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    found = [p for p in errors(result) if p["severity"] == "ошибка"]  # Tomsk's own warnings (Sunday deadlines) stay
    assert len(found) == 1, result.stderr
    problem = found[0]
    assert (Path(problem["file"]), problem["line"], problem["col"]) == (file, line, col), result.stderr
    for word in words:
        assert word in problem["message"], problem["message"]
    return problem["message"]


# -- the forms that are read -------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter, encoding, said", [
    (";", "cp1251", "CSV, Windows-1251, разделитель «;»"),  # a Russian LibreOffice or Excel, "CSV (разделители - точка с запятой)"
    (",", "utf-8-sig", "CSV, UTF-8 с BOM, разделитель «,»"),  # Excel's "CSV UTF-8"
    (";", "utf-8-sig", "CSV, UTF-8 с BOM, разделитель «;»"),
    (",", "utf-8", "CSV, UTF-8, разделитель «,»"),
    (";", "utf-8", "CSV, UTF-8, разделитель «;»"),
    ("\t", "utf-16", "CSV, UTF-16, разделитель табуляция"),  # Excel's "Текст Юникод"
])
def test_csv_rosters_in_each_form_validate_and_say_how_they_were_read(tmp_path: Path, delimiter: str, encoding: str, said: str):
    path = campaign_with(tmp_path, "roster.csv")
    (tmp_path / "roster.csv").write_bytes(spreadsheet_csv([HEADER] + ROWS, delimiter, encoding))
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: в порядке: кампания tomsk-2021, этапов: 14, ДОУ: 4, экспертов: 4; roster.csv прочитан как {said};")


def test_a_cp1251_roster_loads_with_its_names_intact(dq: Cli, tmp_path: Path):
    path = campaign_with(tmp_path, "dou.csv")
    (tmp_path / "dou.csv").write_bytes(spreadsheet_csv([HEADER] + ROWS, ";", "cp1251"))
    dq.ok("load", str(path), "--now", "2021-11-10")
    names = sorted(row[0] for row in query(dq.db_url, "SELECT name FROM institution"))
    assert names == sorted(row[1] for row in ROWS)  # «», № and a ';' inside a quoted cell survive


def test_an_xlsx_roster_validates_and_loads(dq: Cli, tmp_path: Path):
    path = campaign_with(tmp_path, "roster.xlsx")
    rows = [HEADER] + [[int(r[0])] + r[1:] for r in ROWS]  # ids typed as numbers, as people do
    workbook(rows, tmp_path / "roster.xlsx", title="ДОУ")
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert "ДОУ: 4, экспертов: 4; roster.xlsx прочитан как XLSX, лист «ДОУ»;" in result.stdout
    dq.ok("load", str(path), "--now", "2021-11-10")
    assert sorted(r[0] for r in query(dq.db_url, "SELECT id FROM institution")) == ["2", "4", "5", "6"]


def test_an_xlsx_roster_may_start_below_blank_rows_and_in_any_column_order(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.xlsx")
    order = [2, 0, 1, 4, 5, 6, 3]
    rows = [[HEADER[i].upper() if i == 0 else HEADER[i] for i in order]] + [[r[i] for i in order] for r in ROWS]
    workbook(rows, tmp_path / "roster.xlsx", start_row=3)
    result = validate(path)
    assert result.exit_code == 0, result.output


# -- errors, located ---------------------------------------------------------------------------------


def test_a_bad_cell_in_a_cp1251_roster_is_located_at_its_line_and_column(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.csv")
    rows = [HEADER] + [list(r) for r in ROWS]
    rows[3][2] = "dou5-at-example.org"
    (tmp_path / "roster.csv").write_bytes(spreadsheet_csv(rows, ";", "cp1251"))
    the_error(validate(path), tmp_path / "roster.csv", 4, 3, "email", "dou5-at-example.org")


def test_a_bad_cell_in_a_workbook_is_located_at_its_row_and_column_with_the_letter(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.xlsx")
    rows = [HEADER] + [list(r) for r in ROWS]
    rows[2][6] = "expert4 at example.org"
    workbook(rows, tmp_path / "roster.xlsx", start_row=2)  # a title row left blank: rows are the sheet's own numbers
    message = the_error(validate(path), tmp_path / "roster.xlsx", 4, 7, "expert_email", "столбец G (7)", "expert4 at example.org")
    assert "не адрес электронной почты" in message


def test_a_wrong_header_says_what_was_found_and_how_it_was_read(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.csv")
    rows = [["№", "Название", "Почта"]] + [r[:3] for r in ROWS]
    (tmp_path / "roster.csv").write_bytes(spreadsheet_csv(rows, ";", "cp1251"))
    message = the_error(validate(path), tmp_path / "roster.csv", 1, 1, "«№», «Название», «Почта»",
                        "CSV, Windows-1251, разделитель «;»", "id, name, email")
    assert "must start with" not in message


def test_bytes_that_are_neither_utf8_nor_russian_cp1251_are_located(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.csv")
    data = spreadsheet_csv([HEADER] + ROWS, ",", "utf-8").replace("МАДОУ № 6".encode(), b"\x98\x00\xff")
    (tmp_path / "roster.csv").write_bytes(data)
    line = data[:data.index(b"\x98")].count(b"\n") + 1
    the_error(validate(path), tmp_path / "roster.csv", line, len("6,") + 1, "0x98", "UTF-8")


def test_an_empty_workbook_and_a_damaged_one_are_refused_in_one_line(tmp_path: Path):
    path = campaign_with(tmp_path, "roster.xlsx")
    workbook([], tmp_path / "roster.xlsx")
    the_error(validate(path), tmp_path / "roster.xlsx", 1, 1, "пуст")
    good = (tmp_path / "roster.xlsx").read_bytes()
    (tmp_path / "roster.xlsx").write_bytes(good[: len(good) // 2])
    the_error(validate(path), tmp_path / "roster.xlsx", 1, 1, "ZIP")


# -- hostile workbooks: refused unread, bounded ------------------------------------------------------


SHEET = "xl/worksheets/sheet1.xml"


def edited_workbook(folder: Path, edit) -> Path:
    """A campaign whose roster.xlsx is a good workbook with its sheet's XML passed through `edit`."""
    path = campaign_with(folder, "roster.xlsx")
    workbook([HEADER] + ROWS, folder / "plain.xlsx")
    with zipfile.ZipFile(folder / "plain.xlsx") as old, zipfile.ZipFile(folder / "roster.xlsx", "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            part = old.read(item.filename)
            new.writestr(item.filename, edit(part) if item.filename == SHEET else part)
    return path


def test_a_zip_bomb_workbook_is_refused_without_unpacking_it(tmp_path: Path):
    blanks = b" " * (100 * 1024 * 1024)  # 100 MB of blanks packs into ~100 KB
    path = edited_workbook(tmp_path, lambda sheet: sheet.replace(b"<sheetData>", b"<sheetData>" + blanks, 1))
    assert (tmp_path / "roster.xlsx").stat().st_size < 2 * 1024 * 1024
    the_error(validate(path), tmp_path / "roster.xlsx", 1, 1, "распаковывается")


def test_a_workbook_part_with_a_dtd_is_refused(tmp_path: Path):
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    path = edited_workbook(tmp_path, lambda sheet: sheet.replace(b"<worksheet", laughs + b"<worksheet", 1))
    the_error(validate(path), tmp_path / "roster.xlsx", 1, 1, "DTD")


def test_a_row_numbered_past_the_last_row_of_a_sheet_is_refused_quickly(tmp_path: Path):
    def renumber(sheet: bytes) -> bytes:
        sheet = re.sub(rb'<row r="5"', b'<row r="999999999"', sheet)
        return re.sub(rb'r="([A-Z])5"', rb'r="\g<1>999999999"', sheet)

    path = edited_workbook(tmp_path, renumber)
    the_error(validate(path), tmp_path / "roster.xlsx", 1, 1, "1048576")


# -- the ДОУ's ИНН (issue 22) ---------------------------------------------------------------------------------------


def test_an_inn_column_loads_onto_the_institution_rows(dq: Cli, tmp_path: Path):
    """`inn` is an optional column: a workbook's number cell and a CSV's text alike; a ДОУ without one stores none."""
    inns = {"2": "7017000026", "4": "0105012349", "5": "", "6": "7707083893"}  # 0105…: a leading zero, typed as text
    rows = [HEADER + ["inn"]] + [row + [inns[row[0]]] for row in ROWS]
    path = campaign_with(tmp_path, "dou.csv")
    (tmp_path / "dou.csv").write_bytes(spreadsheet_csv(rows, ";", "cp1251"))
    dq.ok("load", str(path), "--now", "2021-11-10")
    assert sorted(query(dq.db_url, "SELECT id, inn FROM institution")) == sorted((i, v or None) for i, v in inns.items())


def test_an_inn_cell_with_a_wrong_check_digit_is_located(tmp_path: Path):
    rows = [HEADER + ["inn"]] + [row + [""] for row in ROWS]
    rows[3][-1] = "7707083894"
    path = campaign_with(tmp_path, "dou.csv")
    (tmp_path / "dou.csv").write_bytes(spreadsheet_csv(rows, ",", "utf-8"))
    the_error(validate(path), tmp_path / "dou.csv", 4, 8, "контрольной цифре", "выпиской ЕГРЮЛ")
