"""The справка, its exports and the calendars (issue 11), on a simulated Tomsk campaign.

The campaign is replayed once per module and backend (`simulate --keep-db`), and every figure the
справка gives is recomputed here independently: statuses from the audit log's transitions, levels from
its review rows, assignments and deadlines from the tables, and compared with what each format says.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
from collections import Counter, defaultdict
from datetime import datetime, time
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import icalendar
import openpyxl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import PG_SERVER, TOMSK, Cli, dump_tables, pg_absent, query
from dqflow.redact import redact_url

TZ = ZoneInfo("Asia/Tomsk")
CAMPAIGN = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
AREAS = [a["id"] for a in CAMPAIGN["areas"]]
AREA_TITLES = {a["id"]: a["title"] for a in CAMPAIGN["areas"]}
LEVELS = [str(lv["id"]) for lv in CAMPAIGN["levels"]]
NAMES = {str(i["id"]): i["name"] for i in CAMPAIGN["institutions"]}
PER_INSTITUTION = [s["id"] for s in CAMPAIGN["stages"] if s.get("actor") in ("institution", "expert")]
REVIEW_STAGES = [s for s in CAMPAIGN["stages"] if s.get("actor") == "expert"]
PEOPLE = {**{i["email"]: ("institution", str(i["id"])) for i in CAMPAIGN["institutions"]},
          **{e["email"]: ("expert", e["id"]) for i in CAMPAIGN["institutions"] for e in i.get("experts", [])}}
LABELS = {s["id"]: s.get("short") or s["title"] for s in CAMPAIGN["stages"]}  # the one name people read (Stage.label)
EXPERTS = {e["id"]: e["name"] for i in CAMPAIGN["institutions"] for e in i.get("experts", [])}
EXPERT_IDS = {name: expert for expert, name in EXPERTS.items()}
ZONE = "томское время, UTC+7"
AFTER = "2022-01-21 12:00"  # a day after the last lock: the campaign is over
AS_OF = f"по состоянию на 21.01.2022 12:00 ({ZONE})"


# -- one simulated campaign per backend ----------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def sim(request, tmp_path_factory):
    """`dqflow simulate tomsk-2021.yaml --keep-db URL`: the replayed campaign, kept for the tests to read."""
    tmp = tmp_path_factory.mktemp("results")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp / 'sim.db'}", None
    else:
        if pg_absent():
            pytest.skip(f"no PostgreSQL at {redact_url(PG_SERVER)}: {pg_absent()}")
        import psycopg

        admin = psycopg.connect(PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/test", autocommit=True)
        name = f"dqflow_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        url, drop = f"{PG_SERVER}/{name}", (admin, name)
    Cli(f"sqlite:///{tmp / 'unused.db'}").ok("simulate", str(TOMSK), "--keep-db", url)
    try:
        yield {"url": url, "dq": Cli(url), "tmp": tmp}
    finally:
        if drop:
            drop[0].execute(f'DROP DATABASE "{drop[1]}" WITH (FORCE)')
            drop[0].close()


@pytest.fixture(scope="module")
def truth(sim):
    """The figures recomputed from the audit log (statuses, reviews) and the tables (lists, deadlines)."""
    url = sim["url"]
    audit = query(url, "SELECT institution_id, stage_id, action, source, dest, detail FROM audit "
                       "WHERE institution_id IS NOT NULL ORDER BY id")
    status: dict[tuple[str, str], str] = {}
    reviews: dict[tuple[str, str, str], dict] = {}
    for inst, stage, action, _source, dest, detail in audit:
        if dest:
            status[(inst, stage)] = dest
        if action in ("review", "review-update"):
            d = json.loads(detail)
            reviews[(inst, stage, d["expert"])] = d["levels"]
    for inst in NAMES:  # a stage never opened for a ДОУ has no transition yet
        for stage in PER_INSTITUTION:
            status.setdefault((inst, stage), "upcoming")
    order = [s["id"] for s in CAMPAIGN["stages"]]
    for review in REVIEW_STAGES:  # a review of a ДОУ whose own stages before it all ended with nothing is not due
        materials = [s["id"] for s in CAMPAIGN["stages"] if s.get("actor") == "institution" and order.index(s["id"]) < order.index(review["id"])]
        for inst in NAMES:
            if all(status[(inst, m)] in ("missed", "excused") for m in materials) and \
                    status[(inst, review["id"])] in ("upcoming", "open", "missed"):
                status[(inst, review["id"])] = "no-materials"
    counts = {stage: Counter(status[(i, stage)] for i in NAMES) for stage in PER_INSTITUTION}
    assigned = defaultdict(list)
    for stage, inst, expert in query(url, "SELECT stage_id, institution_id, expert_id FROM assignment"):
        assigned[(stage, inst)].append(expert)
    due = {(i, s): d for i, s, d in query(url, "SELECT institution_id, stage_id, due_at FROM progress")}
    reviewed_at = {(i, s, e): at for i, s, e, at in query(url, "SELECT institution_id, stage_id, expert_id, at FROM review")}

    rank = {lv: n for n, lv in enumerate(LEVELS)}
    levels: dict[str, dict[str, str]] = {}
    for inst in NAMES:
        for stage in reversed(REVIEW_STAGES):
            given = [lv for (i, s, _e), lv in reviews.items() if i == inst and s == stage["id"]]
            if given:
                levels[inst] = {a: min((g[a] for g in given if a in g), key=rank.get) for a in AREAS if any(a in g for g in given)}
                break
    agreement = {a: [0, 0] for a in AREAS}
    for inst in NAMES:
        for stage in REVIEW_STAGES:
            given = [lv for (i, s, _e), lv in reviews.items() if i == inst and s == stage["id"]]
            for a in AREAS:
                marks = [g[a] for g in given if a in g]
                if len(marks) >= 2:
                    agreement[a][1] += 1
                    agreement[a][0] += len(set(marks)) == 1
    punctual = Counter()
    for stage in REVIEW_STAGES:
        for inst in NAMES:
            for expert in assigned[(stage["list"], inst)]:
                punctual[(expert, "assigned")] += 1
                at = reviewed_at.get((inst, stage["id"], expert))
                if at is not None:
                    punctual[(expert, "on_time" if str(at) <= str(due[(inst, stage["id"])]) else "late")] += 1
    weak = Counter()
    for lv in levels.values():
        lowest = min(lv.values(), key=rank.get)
        weak.update(a for a, v in lv.items() if v == lowest)
    return {"status": status, "counts": counts, "reviews": reviews, "levels": levels, "agreement": agreement,
            "punctual": punctual, "weak": weak, "assigned": assigned}


def test_the_simulated_campaign_has_what_the_report_is_about(truth):
    """Submissions, misses, extensions and reviews with two experts who both reported somewhere."""
    assert Counter(truth["status"].values())["done"] > 20 and Counter(truth["status"].values())["missed"] > 3
    assert len(truth["reviews"]) > 20 and sum(n for _, n in truth["agreement"].values()) > 10


# -- CSV: ids and codes as status --json ---------------------------------------------------


@pytest.fixture(scope="module")
def csv_files(sim):
    out = sim["tmp"] / "csv"
    sim["dq"].ok("report", "--format", "csv", "--out", str(out), "--now", AFTER)
    return {name: list(csv.DictReader(io.StringIO((out / name).read_text(encoding="utf-8"))))
            for name in ("institutions.csv", "reviews.csv", "stages.csv")}


def test_csv_institutions_and_stages_are_status_json(sim, csv_files):
    status = sim["dq"].json("status", "--institutions", "--now", AFTER)
    assert [list(r) for r in csv_files["institutions.csv"]][0] == ["id", "name", *PER_INSTITUTION]
    assert [dict(r) for r in csv_files["institutions.csv"]] == [
        {"id": i["id"], "name": i["name"], **i["stages"]} for i in status["institutions"]]
    statuses = ["upcoming", "open", "done", "late", "missed", "excused"]
    for row, stage in zip(csv_files["stages.csv"], status["stages"], strict=True):
        assert (row["stage"], row["kind"], row["state"]) == (stage["id"], stage["kind"], stage["state"])
        assert [row[s] for s in statuses] == ([str(stage["counts"][s]) for s in statuses] if stage["counts"] else [""] * 6)


def test_csv_figures_match_the_audit_log(truth, csv_files):
    for row in csv_files["institutions.csv"]:
        assert {s: row[s] for s in PER_INSTITUTION} == {s: truth["status"][(row["id"], s)] for s in PER_INSTITUTION}
    for row in csv_files["stages.csv"]:
        if row["stage"] in PER_INSTITUTION:
            assert {k: int(v) for k, v in row.items() if k not in ("stage", "kind", "state") and int(v)} == truth["counts"][row["stage"]]
    found = {(r["institution"], r["stage"], r["expert"], r["area"], r["level"]) for r in csv_files["reviews.csv"]}
    assert found == {(i, s, e, a, lv) for (i, s, e), levels in truth["reviews"].items() for a, lv in levels.items()}
    assert len(found) == len(csv_files["reviews.csv"])


# -- XLSX -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(sim):
    path = sim["tmp"] / "spravka.xlsx"
    sim["dq"].ok("report", "--format", "xlsx", "--out", str(path), "--now", AFTER)
    return openpyxl.load_workbook(path)


def rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]


def test_xlsx_has_a_sheet_per_view_typed_frozen_and_sized(workbook):
    assert workbook.sheetnames == ["Сводка", "Этапы", "ДОУ", "Сдача материалов", "Экспертизы", "Эксперты", "Уровни по областям",
                                   "Согласованность"]
    for sheet in workbook.worksheets[1:]:  # the summary sheet is a page, not a table (its own test below)
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(c.font.bold for c in sheet[1]), sheet.title
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(w and w >= 8 for w in widths), (sheet.title, widths)
    handed = workbook["Сдача материалов"]
    due = handed.cell(row=2, column=5)
    assert isinstance(due.value, datetime) and due.number_format == "DD.MM.YYYY HH:MM"
    submitted = [r[f"Сдано ({ZONE})"] for r in rows(handed) if r[f"Сдано ({ZONE})"] is not None]
    assert submitted and all(isinstance(v, datetime) for v in submitted)
    stages = {r["Этап"]: r for r in rows(workbook["Этапы"])}
    assert stages[LABELS["fill-form"]][f"Срок ({ZONE})"] == datetime(2021, 11, 30, 23, 59)
    assert stages[LABELS["fill-form"]]["Название по приказу"] == next(s["title"] for s in CAMPAIGN["stages"] if s["id"] == "fill-form")
    assert workbook["Этапы"].cell(row=3, column=13).number_format == "0%"
    assert workbook["Этапы"].column_dimensions["B"].width > 30  # the long titles get room


def test_xlsx_figures_match_the_audit_log(truth, workbook):
    for stage in PER_INSTITUTION:
        row = next(r for r in rows(workbook["Этапы"]) if r["Этап"] == LABELS[stage])
        counts = truth["counts"][stage]
        expected = len(NAMES) - counts["excused"] - counts["no-materials"]
        assert (row["Ожидалось ДОУ"], row["Сдали"], row["В срок"], row["Пропустили"]) == (
            expected, counts["done"] + counts["late"], counts["done"], counts["missed"])
        assert row["Охват"] == pytest.approx((counts["done"] + counts["late"]) / expected)
        assert row["Доля в срок"] == pytest.approx(counts["done"] / expected)
    distribution = {r["Область"]: r for r in rows(workbook["Уровни по областям"])}
    titles = [lv["title"] for lv in CAMPAIGN["levels"]]
    for area in AREAS:
        counted = Counter(levels[area] for levels in truth["levels"].values() if area in levels)
        assert [distribution[AREA_TITLES[area]][t] for t in titles] == [counted[lv] for lv in LEVELS]
    agreement = {r["Область"]: (r["Оценки совпали"], r["Сравнений"]) for r in rows(workbook["Согласованность"])}
    assert agreement == {AREA_TITLES[a]: tuple(n) for a, n in truth["agreement"].items()}
    for r in rows(workbook["Эксперты"]):
        p = truth["punctual"]
        assert (r["Назначено ДОУ"], r["В срок"], r["С опозданием"]) == (
            p[(EXPERT_IDS[r["Эксперт"]], "assigned")], p[(EXPERT_IDS[r["Эксперт"]], "on_time")], p[(EXPERT_IDS[r["Эксперт"]], "late")]), r
    for r in rows(workbook["ДОУ"]):
        mine = truth["levels"].get(r["ДОУ"], {})
        assert [r[AREA_TITLES[a]] for a in AREAS] == [int(mine[a]) if a in mine else None for a in AREAS]


def test_xlsx_opens_on_a_summary_with_the_title_block_and_the_htmls_two_charts(truth, workbook):
    """Row 1 the title, then the campaign, «по состоянию на …», who prepared it; two stacked bar charts drawn from
    the summary's own cells, which hold the figures the HTML charts (statuses per stage, levels per area)."""
    sheet = workbook["Сводка"]
    assert workbook.worksheets[0] is sheet
    block = [sheet.cell(row=n, column=1).value for n in range(1, 5)]
    assert block == ["Аналитическая справка по итогам мониторинга качества дошкольного образования", CAMPAIGN["campaign"]["title"],
                     AS_OF[:1].upper() + AS_OF[1:], f"Подготовлено: {CAMPAIGN['campaign']['coordinator']['name']}"]
    assert sheet["A1"].font.bold and sheet["A1"].font.size == 14
    charts = sheet._charts
    assert len(charts) == 2
    cells = {(c.row, c.column): c.value for row in sheet.iter_rows() for c in row}
    statuses = ["done", "late", "missed", "no-materials", "excused", "open", "upcoming"]
    for chart, categories, series_titles in ((charts[0], [LABELS[s] for s in PER_INSTITUTION], None),
                                             (charts[1], [AREA_TITLES[a] for a in AREAS], [lv["title"] for lv in CAMPAIGN["levels"]])):
        assert chart.tagname == "barChart" and chart.grouping == "stacked" and chart.type == "bar"
        refs = [series.val.numRef.f for series in chart.series]
        assert all(ref.startswith("'Сводка'!$") for ref in refs), refs  # drawn from the sheet's own cells
        category_ref = chart.series[0].cat.strRef.f if chart.series[0].cat.strRef else chart.series[0].cat.numRef.f
        column, first, last = re.match(r"'Сводка'!\$([A-Z])\$(\d+):\$[A-Z]\$(\d+)", category_ref).groups()
        assert [cells[(r, 1)] for r in range(int(first), int(last) + 1)] == categories
        titles = [cells[(int(first) - 1, 2 + n)] for n in range(len(chart.series))]
        if series_titles:
            assert titles == series_titles
    stage_rows = {cells[(r, 1)]: [cells[(r, 2 + n)] for n in range(len(statuses))] for r in range(6, 30) if cells.get((r, 1)) in LABELS.values()}
    for stage in PER_INSTITUTION:
        assert stage_rows[LABELS[stage]] == [truth["counts"][stage][st] for st in statuses], stage


# -- Markdown ---------------------------------------------------------------------------------


def test_markdown_report_prints_the_municipal_figures_and_every_dou(sim, truth):
    text = sim["dq"].ok("report", "--format", "md", "--now", AFTER)
    assert text.startswith("# Аналитическая справка")
    counts = truth["counts"]["fill-form"]
    assert f"| 30.11.2021 23:59 | {len(NAMES)} | {counts['done'] + counts['late']} | {counts['done']} |" in text
    for name in NAMES.values():
        assert f"### {name} (ДОУ " in text
    [(top, n)] = truth["weak"].most_common(1)
    assert f"1. {AREA_TITLES[top]} — у {n} ДОУ" in text or truth["weak"].most_common(2)[1][1] == n


# -- HTML in a real browser -------------------------------------------------------------------


def test_html_report_opens_without_errors_prints_to_pdf_and_looks_like_a_spravka(sim, truth, browser, tmp_path):
    path = tmp_path / "spravka.html"
    sim["dq"].ok("report", "--format", "html", "--out", str(path), "--now", AFTER)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "@page { size: A4" in html
    assert html.count("<svg") == 2 and 'lang="ru"' in html
    browser.get(path.as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    body = browser.find_element("tag name", "body").text
    assert "АНАЛИТИЧЕСКАЯ СПРАВКА" in body and all(name in body for name in NAMES.values())
    assert "Рисунок 1." in body and "Рисунок 2." in body
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3
    (tmp_path / "spravka.pdf").write_bytes(pdf)
    assert browser.save_screenshot(str(tmp_path / "spravka.png"))
    assert (tmp_path / "spravka.png").read_bytes().startswith(b"\x89PNG")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight / 3)")
    assert browser.save_screenshot(str(tmp_path / "spravka-2.png"))


def test_report_writes_nothing_to_the_database_and_refuses_a_folder_for_a_file(sim):
    before = dump_tables(sim["url"])
    folder = sim["tmp"] / "a-folder"
    folder.mkdir()
    result = sim["dq"]("report", "--format", "docx", "--out", str(folder), "--now", AFTER)
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "это папка; укажите имя файла" in result.output
    assert list(folder.iterdir()) == []
    sim["dq"].ok("report", "--format", "md", "--now", AFTER)
    sim["dq"].ok("report", "--format", "html", "--out", str(folder), "--now", AFTER)  # html into a folder: a page per ДОУ
    assert sorted(p.name for p in folder.iterdir()) == ["dou", "experts.html", "index.html"]
    assert len(list((folder / "dou").iterdir())) == len(NAMES) + 1
    assert dump_tables(sim["url"]) == before


# -- names, not ids, where people read (issue 19, item 6) --------------------------------------


STAGE_IDS = [s["id"] for s in CAMPAIGN["stages"]]
URL = re.compile(r"https?://\S+")


def raw_ids(text: str) -> list[str]:
    """The stage ids, expert ids (e5, e62) and IANA zone a text shows, links left out (a ДОУ's own URL may say fill-form)."""
    text = URL.sub(" ", text)
    found = [sid for sid in STAGE_IDS if re.search(rf"(?<![\w/-]){re.escape(sid)}(?![\w-])", text)]
    found += re.findall(r"(?<![\w/-])e\d+(?![\w-])", text)
    return found + (["Asia/Tomsk"] if "Asia/" in text else [])


class _Visible(HTMLParser):
    """The text a reader sees in the HTML (no style, no attributes: an anchor's id or a link's href is not read)."""

    def __init__(self):
        super().__init__()
        self.said, self._style = [], False

    def handle_starttag(self, tag, attrs):
        self._style = self._style or tag == "style"

    def handle_endtag(self, tag):
        self._style = self._style and tag != "style"

    def handle_data(self, data):
        if not self._style:
            self.said.append(data)


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a Word file, as python-docx reads them."""
    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.fixture(scope="module")
def formats(sim):
    """The справка in HTML (visible text), Markdown, XLSX (every cell) and DOCX (every paragraph and cell)."""
    out = sim["tmp"] / "names"
    for fmt in ("html", "xlsx", "docx"):
        sim["dq"].ok("report", "--format", fmt, "--out", str(out / f"s.{fmt}"), "--now", AFTER)
    parser = _Visible()
    parser.feed((out / "s.html").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out / "s.xlsx")
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    return {"html": "".join(parser.said), "md": sim["dq"].ok("report", "--format", "md", "--now", AFTER),
            "xlsx": "\n".join(cells), "docx": docx_text(out / "s.docx"), "folder": out}


@pytest.mark.parametrize("fmt", ["html", "md", "xlsx", "docx"])
def test_the_spravka_names_stages_experts_and_the_zone_as_people_do(formats, fmt):
    said = formats[fmt]
    assert raw_ids(said) == [], fmt
    assert all(LABELS[s] in said for s in PER_INSTITUTION), fmt
    assert "Эксперт ДОУ № 5" in said and ZONE in said, fmt
    assert "Подготовлено: " + CAMPAIGN["campaign"]["coordinator"]["name"] in said, fmt
    assert AS_OF.removeprefix("по") in said, fmt  # «по состоянию на …», capitalised where it starts a line


def test_the_check_for_raw_ids_finds_them():
    """The test above would see an id if one came back."""
    assert raw_ids("Экспертиза review1 (эксперты: e5, e62), Asia/Tomsk") == ["review1", "e5", "e62", "Asia/Tomsk"]
    assert raw_ids("https://dou2.example.org/monitoring/fill-form Первичное заполнение формы") == []


def expected_recommendations(url: str) -> dict[str, list[tuple[str, str]]]:
    """ДОУ → (heading, text) of each recommendation the справка should list, recomputed from the review table: under each
    area its review rated at the base level «1», or «Общие рекомендации»."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    order = {sid: n for n, sid in enumerate(STAGE_IDS)}
    given = sorted(query(url, "SELECT institution_id, stage_id, expert_id, at, levels, recommendations FROM review"),
                   key=lambda r: (order[r[1]], str(r[3]), r[2]))
    for inst, _stage, _expert, _at, marks, text in given:
        if not text:
            continue
        low = [a for a, lv in json.loads(marks).items() if lv == LEVELS[0]]
        for heading in [AREA_TITLES[a] for a in low] or ["Общие рекомендации"]:
            found[inst].append((heading, text))
    return found


def test_recommendations_are_grouped_by_area_in_markdown_and_docx(sim, formats):
    expected = expected_recommendations(sim["url"])
    assert expected and any(h == "Общие рекомендации" for texts in expected.values() for h, _ in texts)
    assert any(h != "Общие рекомендации" for texts in expected.values() for h, _ in texts)
    md = formats["md"]
    for inst, name in NAMES.items():
        section = md.split(f"### {name} (ДОУ {inst})", 1)[1].split("\n### ", 1)[0]
        if inst not in expected:
            assert "Адресные рекомендации" not in section
            continue
        heading, got = None, []
        for line in section.split("Адресные рекомендации по областям:", 1)[1].splitlines():
            if line.startswith("*") and line.endswith("*"):
                heading = line.strip("*").replace("\\", "")
            elif line.startswith("- "):
                got.append((heading, line[2:line.rindex(" (")]))
        order = [AREA_TITLES[a] for a in AREAS] + ["Общие рекомендации"]
        assert got == sorted(expected[inst], key=lambda pair: order.index(pair[0])), inst
    doc = docx.Document(str(formats["folder"] / "s.docx"))
    headings = [p.text for p in doc.paragraphs if p.runs and p.runs[0].italic and p.text in order]
    assert len(headings) == sum(len({h for h, _ in texts}) for texts in expected.values())


def test_docx_is_the_html_summary_in_word_and_the_same_bytes_each_time(sim, formats):
    path = formats["folder"] / "s.docx"
    doc = docx.Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    assert lines[1:6] == ["АНАЛИТИЧЕСКАЯ СПРАВКА", "по итогам мониторинга качества дошкольного образования", CAMPAIGN["campaign"]["title"],
                          AS_OF, "Подготовлено: " + CAMPAIGN["campaign"]["coordinator"]["name"]]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:8] == ["Основные итоги", "1. Выполнение этапов мониторинга", "2. Уровни качества по областям",
                            "3. ДОУ с областями на базовом уровне и ниже", "4. Согласованность оценок экспертов",
                            "5. Наиболее частые слабые области", "6. Своевременность экспертов", "7. Результаты по учреждениям"]
    assert [h.split(". ", 1)[1] for h in headings[8:]] == list(NAMES.values())
    assert "Рисунок 1. Распределение ДОУ по статусам на каждом этапе" in lines  # the chart, as the table of its counts
    statuses = next(t for t in doc.tables if t.rows[0].cells[1].text == "выполнено")
    by_stage = {row.cells[0].text: [int(c.text) for c in row.cells[1:]] for row in statuses.rows[1:]}
    book = openpyxl.load_workbook(formats["folder"] / "s.xlsx")
    summary = {row[0]: list(row[1:8]) for row in book["Сводка"].iter_rows(values_only=True) if row[0] in by_stage}
    assert by_stage == summary and len(by_stage) == len(PER_INSTITUTION)
    props = doc.core_properties
    assert props.author == CAMPAIGN["campaign"]["coordinator"]["name"] and props.language == "ru-RU"
    assert props.created == datetime(2022, 1, 21, 5, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Tomsk: the справка's moment
    again = formats["folder"] / "again.docx"
    sim["dq"].ok("report", "--format", "docx", "--out", str(again), "--now", AFTER)
    assert again.read_bytes() == path.read_bytes()
    later = formats["folder"] / "later.docx"
    sim["dq"].ok("report", "--format", "docx", "--out", str(later), "--now", "2022-01-22 12:00")
    assert later.read_bytes() != path.read_bytes()


# -- reviews where people look ----------------------------------------------------------------


def test_status_of_one_dou_lists_its_experts_who_reported_and_the_levels(sim, truth):
    inst, stage = next((i, s["id"]) for s in REVIEW_STAGES for i in NAMES
                       if len(truth["assigned"][(s["list"], i)]) == 2
                       and sum((i, s["id"], e) in truth["reviews"] for e in truth["assigned"][(s["list"], i)]) == 1)
    text = sim["dq"].ok("status", "--institution", inst, "--now", AFTER)
    assert f"{LABELS[stage]}: отчитались 1 из 2 экспертов" in text  # the stage by its name
    row = next(line for line in text.splitlines() if line.startswith(f"{LABELS[stage]} "))
    assert "(отчитались 1 из 2)" in row
    reported = next(e for e in truth["assigned"][(next(s["list"] for s in REVIEW_STAGES if s["id"] == stage), inst)]
                    if (inst, stage, e) in truth["reviews"])
    levels = truth["reviews"][(inst, stage, reported)]
    assert f"{AREA_TITLES['conditions']} — {levels['conditions']}" in text
    card = sim["dq"].json("status", "--institution", inst, "--now", AFTER)
    panel = next(s for s in card["stages"] if s["id"] == stage)["reviews"]
    assert panel["reported"] == [reported] and len(panel["experts"]) == 2


def test_history_names_the_expert_and_the_levels(sim, truth):
    (inst, stage, expert), levels = next(iter(truth["reviews"].items()))
    text = sim["dq"].ok("history", inst)
    line = next(line for line in text.splitlines() if f"эксперт {EXPERTS[expert]}" in line and f"{LABELS[stage]}:" in line)
    assert "экспертиза записана" in line and "review" not in line
    assert all(f"{AREA_TITLES[a]} — {lv}" in line for a, lv in levels.items())


def test_status_format_md_is_markdown_tables(sim):
    text = sim["dq"].ok("status", "--format", "md", "--institutions", "--now", AFTER)
    assert "| Этап | Состояние | Сроки | ДОУ по статусам |" in text
    assert f"| ДОУ | Сейчас | {' | '.join(LABELS[s] for s in PER_INSTITUTION)} |" in text
    card = sim["dq"].ok("status", "--format", "md", "--institution", "5", "--now", AFTER)
    assert "| Этап | Статус | Срок | Сдано | Ссылки |" in card and "**МАДОУ № 5** (ДОУ 5)" in card


# -- calendars --------------------------------------------------------------------------------


def events(path: Path) -> tuple[icalendar.Calendar, dict[str, icalendar.Event]]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return cal, {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_a_dou_calendar_carries_its_extended_deadline_webinars_and_the_zone(tomsk: Cli, tmp_path: Path):
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-29")
    path = tmp_path / "dou4.ics"
    tomsk.ok("calendar", "--institution", "4", "--out", str(path), "--now", "2021-11-29")
    cal, found = events(path)
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Asia/Tomsk"
    fill = found["tomsk-2021/fill-form/institution-4@dqflow"]
    assert fill["dtstart"].dt == datetime(2021, 12, 3, 23, 59, 59, tzinfo=TZ) and fill["dtstart"].params["TZID"] == "Asia/Tomsk"
    assert "Открыт с 19.11.2021 00:00" in str(fill["description"])  # the window is said; the event is the deadline
    assert int(fill["sequence"]) == 1 and "03.12.2021" in str(fill["summary"])
    refill = found["tomsk-2021/refill/institution-4@dqflow"]
    assert refill["dtstart"].dt == datetime(2021, 12, 12, 23, 59, 59, tzinfo=TZ) and int(refill["sequence"]) == 0
    webinar = found["tomsk-2021/kickoff-webinar/event@dqflow"]
    assert webinar["dtstart"].dt == datetime(2021, 11, 19, 14, 0, tzinfo=TZ) and str(webinar["url"]) == "http://moodle.imc.tomsk.ru"
    assert found["tomsk-2021/review1-webinar/event@dqflow"]["dtstart"].dt.isoformat() == "2021-12-06"
    institution_stages = {s["id"] for s in CAMPAIGN["stages"] if s.get("actor") == "institution"}
    institution_events = {s["id"] for s in CAMPAIGN["stages"] if s["kind"] == "event" and "institutions" in s.get("audience", ["institutions"])}
    assert {uid.split("/")[1] for uid in found} == institution_stages | institution_events
    other = tmp_path / "dou2.ics"
    tomsk.ok("calendar", "--institution", "2", "--out", str(other), "--now", "2021-11-29")
    assert events(other)[1]["tomsk-2021/fill-form/institution-2@dqflow"]["dtstart"].dt == datetime(2021, 11, 30, 23, 59, 59, tzinfo=TZ)


def test_an_expert_calendar_has_one_review_per_assigned_dou_and_the_coordinator_every_stage(tomsk: Cli, tmp_path: Path):
    tomsk.ok("tick", "--now", "2021-11-26")  # list1 drawn
    listed = tomsk.json("experts", "show", "list1")
    expert = "e15"
    mine = [a["institution"] for a in listed["assignments"] if expert in a["experts"]]
    path = tmp_path / "e15.ics"
    tomsk.ok("calendar", "--expert", expert, "--out", str(path), "--now", "2021-11-26")
    _, found = events(path)
    reviews = {uid for uid in found if uid.startswith("tomsk-2021/review1/")}
    assert reviews == {f"tomsk-2021/review1/expert-{expert}/{i}@dqflow" for i in mine}
    assert "tomsk-2021/review2/expert-e15@dqflow" in found  # list2 not drawn yet: the stage as a whole
    assert "tomsk-2021/review1-webinar/event@dqflow" in found and "tomsk-2021/kickoff-webinar/event@dqflow" not in found
    path = tmp_path / "kdo.ics"
    tomsk.ok("calendar", "--coordinator", "--out", str(path), "--now", "2021-11-26")
    assert len(events(path)[1]) == len(CAMPAIGN["stages"])


def test_calendar_refuses_what_it_cannot_do_in_one_line(tomsk: Cli, tmp_path: Path):
    for args, why in [(["--institution", "4", "--coordinator"], "ровно одно из"), ([], "ровно одно из"),
                      (["--expert", "nobody"], "эксперта «nobody» в кампании нет"), (["--institution", "999"], "ДОУ «999» в кампании нет")]:
        result = tomsk("calendar", *args, "--out", str(tmp_path / "x.ics"))
        assert result.exit_code == 1 and why in result.output and result.output.count("\n") == 1, result.output
    assert not (tmp_path / "x.ics").exists()


def test_simulate_keep_db_refuses_a_database_that_holds_the_campaign(tomsk: Cli, db_url: str, tmp_path: Path):
    before = dump_tables(db_url)
    result = Cli(f"sqlite:///{tmp_path / 'unused.db'}")("simulate", str(TOMSK), "--keep-db", db_url)
    assert result.exit_code == 1 and "уже есть в этой базе" in result.output
    assert dump_tables(db_url) == before


# -- invitations attached to the emails that announce a stage or a webinar -------------------


def test_emails_announcing_a_stage_or_a_webinar_attach_the_matching_event(tmp_path: Path):
    from email import message_from_bytes, policy

    maildir = tmp_path / "mail"
    replay = json.loads(Cli(f"sqlite:///{tmp_path / 'unused.db'}").ok(
        "simulate", str(TOMSK), "--until", "2021-12-02 12:00", "--maildir", str(maildir), "--json"))
    seen = Counter()
    for sent in replay["emails"]:
        raw = Path(sent["file"]).read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        attached = list(message.iter_attachments())
        subject = str(message["Subject"])
        # a webinar's invitation, a stage opened for a ДОУ, a review stage opened for an expert (not the handout)
        announces = subject.startswith(("Приглашение", "Открыт этап")) or re.match(r"Экспертиза «[^»]+»: срок до", subject)
        if not announces:
            assert not attached and message.get_content_type() == "multipart/alternative", subject
            continue
        assert message.get_content_type() == "multipart/mixed", subject
        assert message.get_body(("plain",)).get_content().strip() and message.get_body(("html",)).get_content().strip()
        [ics_part] = attached
        assert ics_part.get_content_type() == "text/calendar" and ics_part.get_filename() == "invitation.ics"
        cal = icalendar.Calendar.from_ical(ics_part.get_content())
        assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["Asia/Tomsk"]
        for event in cal.walk("VEVENT"):
            uid = str(event["uid"])
            stage = next(s for s in CAMPAIGN["stages"] if s["id"] == uid.split("/")[1])
            name = stage.get("short") or stage["title"]  # the stage's one name, in the entry and the subject alike
            assert name in str(event["summary"]) and name in subject
            if stage["kind"] == "event":
                seen["event"] += 1
                assert uid == f"tomsk-2021/{stage['id']}/event@dqflow"
            else:
                seen["stage"] += 1
                role, person = PEOPLE[sent["to"]]
                if role == "institution":
                    assert uid == f"tomsk-2021/{stage['id']}/institution-{person}@dqflow"
                else:  # an expert's review of one ДОУ: the UID `calendar --expert` gives it
                    assert uid.startswith(f"tomsk-2021/{stage['id']}/expert-{person}/") and uid.split("/")[3][:-7] in NAMES
                assert event["dtstart"].dt == datetime.combine(datetime.fromisoformat(str(stage["due"])).date(), time(23, 59, 59), TZ)
    assert seen["event"] >= len(NAMES) and seen["stage"] >= len(NAMES)


# -- hostile text stays inside its cell ------------------------------------------------------


@given(st.lists(st.lists(st.text(max_size=30), min_size=3, max_size=3), max_size=5))
def test_a_markdown_table_keeps_its_columns_whatever_the_cells_hold(cells):
    import re

    from dqflow.present.tables import markdown_table

    lines = markdown_table(["a", "b", "c"], cells)
    assert len(lines) == 2 + len(cells)
    for line in lines:
        assert len(line.splitlines()) == 1, line
        unescaped = re.findall(r"(?<!\\)(?:\\\\)*\|", line)
        assert len(unescaped) == 4, line


def test_html_and_markdown_keep_a_hostile_name_as_text(workflow_copy: Path, tmp_path: Path):
    text = workflow_copy.read_text(encoding="utf-8").replace("name: МАДОУ № 2,", 'name: "МАДОУ <script>alert(1)</script> | № 2",', 1)
    workflow_copy.write_text(text, encoding="utf-8")
    dq = Cli(f"sqlite:///{tmp_path / 'h.db'}")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10")
    dq.ok("report", "--out", str(tmp_path / "h.html"), "--now", "2021-11-25")
    html = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = dq.ok("report", "--format", "md", "--now", "2021-11-25")
    assert "### МАДОУ &lt;script&gt;alert(1)&lt;/script&gt; \\| № 2 (ДОУ 2)" in md and "<script" not in md


def test_the_spravka_and_its_exports_say_the_campaign_word(workflow_copy: Path, tmp_path: Path):
    """A campaign that says ДОО (in its titles and names too): the справка in HTML, Markdown and XLSX never says ДОУ."""
    text = workflow_copy.read_text(encoding="utf-8").replace("  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n", 1)
    workflow_copy.write_text(text.replace("ДОУ", "ДОО"), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'doo.db'}"
    Cli(f"sqlite:///{tmp_path / 'unused.db'}").ok("simulate", str(workflow_copy), "--keep-db", url)
    dq = Cli(url)
    dq.ok("report", "--out", str(tmp_path / "s.html"), "--now", AFTER)
    dq.ok("report", "--format", "xlsx", "--out", str(tmp_path / "s.xlsx"), "--now", AFTER)
    dq.ok("report", "--format", "docx", "--out", str(tmp_path / "s.docx"), "--now", AFTER)
    html = (tmp_path / "s.html").read_text(encoding="utf-8")
    word = docx_text(tmp_path / "s.docx")
    assert "3. ДОО с областями на базовом уровне и ниже" in word and "ДОУ" not in word
    md = dq.ok("report", "--format", "md", "--now", AFTER)
    assert "Распределение ДОО по статусам" in html and "ДОО по статусам на каждом этапе" in html  # the caption, the chart
    assert "## 3. ДОО с областями" in md and "(ДОО 2)" in md
    assert "(томское время, UTC+7)" in html and "(томское время, UTC+7)" in md  # the zone by name, the offset as emails write it
    for said in (html, md):
        assert "ДОУ" not in said, said[max(0, said.index("ДОУ") - 200):said.index("ДОУ") + 50]
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert "ДОО" in book.sheetnames and "ДОУ" not in book.sheetnames
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows(max_row=1) for c in row]
    assert "Своя ДОО" in cells and "Назначено ДОО" in cells and not [c for c in cells if "ДОУ" in c]
