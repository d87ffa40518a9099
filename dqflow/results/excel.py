"""The справка as an Excel workbook (openpyxl, written as a stream): a summary sheet first (the title block,
the two tables the HTML charts and the same two charts as Excel bar charts over those cells), then one sheet
per view, typed cells, frozen headers, widths.

The workbook is write-only (`Workbook(write_only=True)`): nothing of a sheet is kept once it is written. The
summary's few cells are `WriteOnlyCell`s (fonts, fills). A view's rows are taken once, as they come: each is
measured for the columns' widths and written as sheet data in openpyxl's own cell markup (numbers, dates as
serial numbers in their column's number format, inline strings) to a temporary file, which is then put into
the sheet openpyxl writes with the header, the widths, the frozen pane and the filter (`_sheet`): no cell
object per value, no view held in memory. The sheets of every ДОУ (the ДОУ, their hand-ins, their experts'
reviews) take their rows as plain values from the database as they are written (`Results.rows`, `results.rows`):
render the workbook in the session that computed its figures.

Times are real date cells on the campaign's wall clock (Excel has no time zones: the zone is named in
the header as people write it), shares are numbers formatted as percentages, counts are numbers. People
read every column: stages by their label, experts by name (the CSV keeps the ids). Text is text: every text
of a view is an inline string, and a text that would start a formula or is
an error's code is put through `present.guard.sheet_text` (its cell's type and `quotePrefix` are the guard's),
so a name or a recommendation starting with '=' is never stored as a formula.
"""

from __future__ import annotations

import functools
import io
import itertools
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.relationship import Relationship, RelationshipList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import ARC_WORKBOOK_RELS, SHARED_STRINGS
from openpyxl.xml.functions import fromstring, tostring

from dqflow.present.guard import sheet_text
from dqflow.present.labels import KIND_RU, STATE_RU, STATUS_RU
from dqflow.results import indicators, sheetdata, words, zipped
from dqflow.results.colors import STATUS_COLORS, STATUS_ORDER, level_colors
from dqflow.results.figures import Results
from dqflow.results.rows import Rows

DATETIME = "DD.MM.YYYY HH:MM"
PERCENT = "0%"
MAX_WIDTH = 60
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
HEADER_FONT = Font(bold=True)
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
SUMMARY = "Сводка"
SHEET_ROWS = 1_048_575  # rows below the header a sheet holds (Excel's limit is 1,048,576 rows)
CHART_COLUMN = 10  # the charts stand right of the summary's tables (column J), beside the cells they draw
# zlib's level for the workbook's entries. With inline strings and a reference in every cell, at 50,000 ДОУ its 350 MB of
# sheet XML deflated in 1.25 s at 3 against 3.4 s at the default 6. Since cells carry no reference and texts are shared
# (`sheetdata`), at 10,000 ДОУ × 30 indicators: level 1 8.0 MB, level 3 4.7 MB, level 6 4.2 MB, and 3 the fastest of the
# three in the whole render (1 writes more bytes than it saves time; 6 ~0.45 s CPU slower). The same XML at every level.
DEFLATE_LEVEL = 3


def render(results: Results) -> bytes:
    with tempfile.TemporaryDirectory(prefix="dqflow-xlsx-") as folder:
        return _render(results, _Rows(Path(folder), sheetdata.Strings()))


class _Rows:
    """Where the views' rows are written (a file per sheet in `folder`) and how each sheet's file is put together
    as the archive reads it: openpyxl's file up to `</sheetData>`, the rows, the rest (`zipped.Stable.spliced`); the
    workbook's shared strings (`strings`; None: texts inline, for a writer that lets openpyxl save the book)."""

    def __init__(self, folder: Path, strings: sheetdata.Strings | None = None):
        self.folder = folder
        self.strings = strings
        self.spliced: dict[str, list[tuple[str, int, int]]] = {}

    def splice(self, sheet: WriteOnlyWorksheet, rows: Path) -> None:
        head = sheet._writer.out
        written = Path(head).read_bytes()
        end = written.rindex(b"</sheetData>")
        self.spliced[head] = [(head, 0, end), (str(rows), 0, rows.stat().st_size), (head, end, len(written) - end)]

    def join(self) -> None:
        """Each sheet's parts written into openpyxl's own file, for a writer that lets openpyxl save the book."""
        for head, parts in self.spliced.items():
            joined = Path(f"{head}.joined")
            with open(joined, "wb") as out:
                for path, start, length in parts:
                    with open(path, "rb") as part:
                        part.seek(start)
                        out.write(part.read(length))
            os.replace(joined, head)
        self.spliced.clear()


def _render(results: Results, spool: _Rows) -> bytes:
    book = Workbook(write_only=True)
    zone = words.zone(results)
    _summary(book, results)
    if results.dynamics is not None:
        _sheet(book, "Динамика", *_dynamics(results), spool=spool)
    _sheet(book, "Этапы", *_stages(results, zone), spool=spool)
    _sheet(book, results.campaign.terms.nom_pl, *_institutions(results), spool=spool, simple=True)
    _sheet(book, "Сдача материалов", *_handed_in(results, zone), spool=spool, simple=True)
    if results.review_stages:
        _sheet(book, "Экспертизы", *_reviews(results, zone), spool=spool, simple=True)
        _sheet(book, "Эксперты", *_experts(results), spool=spool)
    if results.area_ids and results.campaign.levels:
        _sheet(book, "Уровни по областям", *_distribution(results), spool=spool)
        _sheet(book, "Согласованность", *_agreement(results), spool=spool)
    if results.indicators is not None:  # where experts review per indicator: the справка по показателям
        _sheet(book, "Показатели", *_indicator_town(results), spool=spool)
        header, rows, plan = _indicator_rows(results)
        name = f"Показатели по {results.campaign.terms.dat}"[:28]
        part: Iterable[Sequence] = rows
        for n in itertools.count(1):  # a sheet holds 1,048,576 rows: continued on the next while rows are left
            _sheet(book, name if n == 1 else f"{name} {n}", header, itertools.islice(part, SHEET_ROWS), spool=spool, plan=plan)
            left = next(rows, None)
            if left is None:
                break
            part = itertools.chain([left], rows)
    moment = results.now.astimezone(UTC).replace(tzinfo=None)  # openpyxl writes a naive time as UTC
    book.properties.title = words.title(results)
    book.properties.creator = results.campaign.coordinator.name
    book.properties.created = book.properties.modified = moment  # the справка's moment, not the clock: same state, same file
    return _saved(book, spool, results.now)


def _saved(book: Workbook, spool: _Rows, now: datetime) -> bytes:
    """The workbook's bytes: `Workbook.save`'s steps into a ZIP stamped with `now`, each entry deflated once, each
    sheet's rows spliced in from the spool, the spool's shared strings beside them."""
    out = io.BytesIO()
    archive = zipped.Stable(out, now, {"docProps/core.xml": tostring(book.properties.to_tree())}, level=DEFLATE_LEVEL)
    archive.spliced = spool.spliced
    with archive:
        writer = ExcelWriter(book, archive)
        if spool.strings is not None and spool.strings.index:
            _shared_strings(writer, archive, spool.strings)
        writer.save()
    return out.getvalue()


class _Part:
    """A part the manifest lists ([Content_Types].xml's Override), as openpyxl's writer takes it."""

    def __init__(self, path: str, mime_type: str):
        self.path, self.mime_type = path, mime_type


def _shared_strings(writer: ExcelWriter, archive: zipped.Stable, strings: sheetdata.Strings) -> None:
    """The workbook's shared strings (openpyxl 3.1 writes none of its own): the table's part, its content type in the
    manifest and its relationship from the workbook (added to the relationships openpyxl writes)."""
    archive.writestr(sheetdata.SHARED_STRINGS, strings.xml())
    writer.manifest.append(_Part(f"/{sheetdata.SHARED_STRINGS}", SHARED_STRINGS))

    def related(xml: bytes) -> bytes:
        rels = RelationshipList.from_tree(fromstring(xml))
        rels.append(Relationship(type="sharedStrings", Target="sharedStrings.xml"))
        return tostring(rels.to_tree())
    archive.amend[ARC_WORKBOOK_RELS] = related


def _local(results: Results, instant: datetime | None) -> datetime | None:
    """Excel cells carry no zone: the campaign's wall-clock time, to the minute as everywhere else."""
    return None if instant is None else instant.astimezone(results.campaign.tz).replace(tzinfo=None, second=0, microsecond=0)


class _Clock:
    """`_local` for one view's many rows: the zone looked up once, each instant converted once (a roster shares its
    deadlines)."""

    def __init__(self, results: Results):
        self.tz = results.campaign.tz
        self.known: dict[datetime, datetime] = {}

    def __call__(self, instant: datetime | None) -> datetime | None:
        if instant is None:
            return None
        found = self.known.get(instant)
        if found is None:
            if len(self.known) >= sheetdata.MEMO:
                self.known.clear()
            found = self.known[instant] = instant.astimezone(self.tz).replace(tzinfo=None, second=0, microsecond=0)
        return found


def _cell(sheet: WriteOnlyWorksheet, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
          alignment: Alignment | None = None, number_format: str | None = None) -> WriteOnlyCell:
    """One styled cell of a write-only sheet, its text guarded."""
    cell = WriteOnlyCell(sheet, value)
    sheet_text(cell)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _text(sheet: WriteOnlyWorksheet, value: str) -> str | WriteOnlyCell:
    """A text value as a write-only sheet takes it: openpyxl types a str as text unless it starts like a formula
    or is an error's code; such a text becomes a cell the guard has typed (`sheet_text`), any other is passed as
    the value it is (the guard would leave its cell as openpyxl makes it)."""
    if sheetdata.needs_guard(value):
        return _cell(sheet, value)
    return value


# -- the summary sheet: title block, the charts' tables and the charts ------------------------


def _summary(book: Workbook, results: Results) -> None:
    """Row 1 the title, row 2 the campaign, row 3 «по состоянию на …», row 4 who prepared it (row 5 the order),
    then the stages × statuses table with chart 1 beside it and the areas × levels table with chart 2."""
    sheet = book.create_sheet(SUMMARY)
    sheet.column_dimensions["A"].width = 45
    for n in range(2, CHART_COLUMN):
        sheet.column_dimensions[get_column_letter(n)].width = 13
    block = [words.title(results), results.campaign.title, words.as_of(results, capital=True), words.prepared_by(results)]
    if words.order_line(results):
        block.append(f"Основание: {words.order_line(results)}.")
    for n, line in enumerate(block, 1):
        sheet.append([_cell(sheet, line, font=Font(bold=n <= 2, size=14 if n == 1 else 11))])
    sheet.append([])
    row = len(block) + 2
    t = results.campaign.terms
    per = [f for f in results.stages if f.stage.per_institution]
    if per:
        header = ["Этап", *[STATUS_RU[s.value] for s in STATUS_ORDER]]
        rows = [[f.stage.label, *[f.counts.get(s.value, 0) for s in STATUS_ORDER]] for f in per]
        caption = f"Рисунок 1. Распределение {t.gen_pl} по статусам на каждом этапе"
        row = _chart_table(sheet, row, caption, header, rows, [STATUS_COLORS[s.value] for s in STATUS_ORDER], t.gen_pl)
    levels = results.campaign.levels
    if results.area_ids and levels:
        distribution = results.distribution()
        header = ["Область качества", *[lv.title for lv in levels]]
        rows = [[results.area_title(a), *[distribution[a].get(lv.id, 0) for lv in levels]] for a in results.area_ids]
        caption = f"Рисунок 2. Распределение {t.gen_pl} по уровням качества в каждой области"
        _chart_table(sheet, row, caption, header, rows, level_colors(len(levels)), t.gen_pl)


def _chart_table(sheet: WriteOnlyWorksheet, top: int, caption: str, header: list[str], rows: list[list], colors: list[str],
                 counted: str) -> int:
    """The caption, a table of counts at row `top` (the next row the sheet writes), and a stacked bar chart of it
    drawn from its own cells (one bar per row, a series per column, coloured as the HTML's chart). Returns the
    first free row below both; the rows up to it are written (blank below the table, beside the chart)."""
    sheet.append([_cell(sheet, caption, font=HEADER_FONT)])
    first = top + 1
    sheet.append([_cell(sheet, value, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGNMENT) for value in header])
    for values in rows:
        sheet.append([_text(sheet, v) if isinstance(v, str) else v for v in values])
    last = first + len(rows)
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = caption.split(". ", 1)[-1]
    chart.add_data(Reference(sheet, min_col=2, max_col=len(header), min_row=first, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
    chart.y_axis.title = f"число {counted}"
    chart.x_axis.scaling.orientation = "maxMin"  # the first row on top, as in the table…
    chart.y_axis.crosses = "max"  # …and the counts' axis still at the bottom
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 leaves `delete` unsaid, and Excel then hides both axes
    chart.legend.position = "b"
    for series, color in zip(chart.series, colors, strict=False):
        series.graphicalProperties.solidFill = color.lstrip("#")
        series.graphicalProperties.line.solidFill = color.lstrip("#")
    chart.width, chart.height = 18, max(7.5, 1.2 * len(rows) + 4)
    sheet.add_chart(chart, f"{get_column_letter(CHART_COLUMN)}{top}")
    chart_rows = int(chart.height / 0.5) + 1  # a row is about half a centimetre high
    free = max(last, top + chart_rows) + 2
    for _ in range(last + 1, free):
        sheet.append([])
    return free


# -- one sheet per view ------------------------------------------------------------------------


def _sheet(book: Workbook, name: str, header: list[str], rows: Iterable[Sequence], formats: dict[int, str] | None = None,
           inline: Iterable[int] = (), *, spool: _Rows | None = None, plan: Sequence[Callable[[Any], Sequence[Any]]] | None = None,
           simple: bool = False) -> None:
    """A view as a sheet: the header (bold, filled, frozen, filtered), then its rows, each column as wide as its
    widest line (within bounds), a date's or a share's column in its number format.

    The rows are taken as they come, once: each is measured (the columns' widths) and written as sheet data
    (`sheetdata.Cells`: each value's markup made once per column, a text a shared string of the spool's table, the
    columns `inline` — 1-based, free text written once each — inline strings) to a temporary file; then openpyxl
    writes the sheet with its header row (the columns, the frozen pane, the filter, the styles) and the rows are put
    into its sheet data. A national roster's hundreds of thousands of rows are neither a cell object each nor held
    in memory.

    `plan`: the rows are stored values (texts, ints, None), `plan[i]` the cells the i-th makes (`sheetdata.Plain`).
    `simple`: the caller's word that every value is a text, an int, a datetime or None (`sheetdata.Cells.row`)."""
    if spool is None:  # a writer that saves the book itself (the regional справка): the rows joined into openpyxl's file
        with tempfile.TemporaryDirectory(prefix="dqflow-xlsx-") as folder:
            own = _Rows(Path(folder))
            _sheet(book, name, header, rows, formats, inline, spool=own, plan=plan, simple=simple)
            own.join()
        return
    sheet = book.create_sheet(name)
    style_ids = {column - 1: f' s="{_cell(sheet, None, number_format=number_format).style_id}"'
                 for column, number_format in (formats or {}).items()}
    cells = sheetdata.Cells(sheet, header, style_ids, spool.strings, frozenset(column - 1 for column in inline), simple)
    row = cells.row if plan is None else sheetdata.Plain(cells, plan).row
    count = 0
    path = spool.folder / f"{len(spool.spliced)}.rows"
    with open(path, "w", encoding="utf-8") as data:
        batch: list[str] = []
        for count, values in enumerate(rows, 1):
            batch.append(row(count + 1, values))
            if len(batch) >= 1000:
                data.write("".join(batch))
                batch.clear()
        data.write("".join(batch))
    for n, width in enumerate(cells.widths, 1):
        sheet.column_dimensions[get_column_letter(n)].width = min(MAX_WIDTH, max(8, width + 2))
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, value, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGNMENT) for value in header])
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{count + 1}"
    sheet.close()  # the sheet's file: everything but the rows below the header, which the archive reads in between
    spool.splice(sheet, path)


def _stages(results: Results, zone: str):
    header = ["Этап", "Название по приказу", "Вид", "Состояние", f"Открытие ({zone})", f"Срок ({zone})",
              f"Ожидалось {results.campaign.terms.gen_pl}", "Сдали", "В срок", "С опозданием", "Пропустили", "Освобождены", "Охват", "Доля в срок"]
    rows = []
    for f in results.stages:
        counts = [f.expected, f.handed_in, f.on_time, f.counts.get("late", 0), f.counts.get("missed", 0),
                  f.counts.get("excused", 0), f.coverage, f.on_time_rate] if f.stage.per_institution else [None] * 8
        rows.append([f.stage.label, f.stage.title, KIND_RU[f.stage.kind], STATE_RU[f.state],
                     _local(results, f.stage.opens_at), _local(results, f.stage.due_at), *counts])
    return header, rows, {5: DATETIME, 6: DATETIME, 13: PERCENT, 14: PERCENT}


def _detail(results: Results) -> Rows:
    """Each ДОУ's rows, read as the sheets are written (`compute(rows=True)`, in the session it ran in)."""
    if results.rows is None:
        raise ValueError("the workbook's sheets of every ДОУ are read as they are written: compute(rows=True), and render in its session")
    return results.rows


def _institutions(results: Results):
    stages = results.per_institution_stages
    areas = results.area_ids
    header = [results.campaign.terms.nom, "Название", "Адрес", *[s.label for s in stages], *[results.area_title(a) for a in areas], "Слабые области"]
    titles, none = {a: results.area_title(a) for a in areas}, [None] * len(areas)

    def rows():  # a row at a time, as the sheet is written
        for inst, name, email, statuses, levels, weak in _detail(results).institutions():
            yield [inst, name, email, *[None if s is None else STATUS_RU[s] for s in statuses],
                   *([_level(lv) for lv in levels] if levels else none), ", ".join(titles.get(a) or results.area_title(a) for a in weak)]
    return header, rows()


class _Asked(dict):
    """Key → `ask(key)`, each asked once: a stage's label (`Results.stage_label`), an expert's name
    (`Results.expert_name`) — a sheet's rows repeat a few of each."""

    def __init__(self, ask: Callable[[str], str]):
        super().__init__()
        self.ask = ask

    def __missing__(self, key: str) -> str:
        found = self[key] = self.ask(key)
        return found


@functools.lru_cache(maxsize=1024)
def _level(level: str | None):
    """A level id that is a number is stored as one (so it can be averaged); others as text."""
    if level is None:
        return None
    return int(level) if level.isdigit() else level


def _handed_in(results: Results, zone: str):
    header = [results.campaign.terms.nom, "Название", "Этап", "Статус", f"Срок ({zone})", "Срок продлён", f"Сдано ({zone})", "Ссылки",
              "Продления и причины"]

    def rows():  # a row at a time, as the sheet is written
        local, labels = _Clock(results), _Asked(results.stage_label)
        for inst, name, stage, status, due_at, extended, submitted_at, links, extensions in _detail(results).handed_in():
            said = "; ".join(f"до {words.when(results, until)}: {reason}" for until, reason in extensions) if extensions else ""
            yield [inst, name, labels[stage], STATUS_RU[status], local(due_at), "да" if extended else "нет", local(submitted_at),
                   "\n".join(links), said]
    return header, rows(), {5: DATETIME, 7: DATETIME}, (8, 9)  # links and reasons: free text, inline


def _reviews(results: Results, zone: str):
    areas = results.area_ids
    header = [results.campaign.terms.nom, "Название", "Этап", "Эксперт", "Отчитался", f"Когда ({zone})", "В срок",
              *[results.area_title(a) for a in areas], "Рекомендации"]

    def rows():  # a row at a time, as the sheet is written
        local, labels, experts, none = _Clock(results), _Asked(results.stage_label), _Asked(results.expert_name), [None] * len(areas)
        for inst, name, stage, expert, at, on_time, levels, text in _detail(results).reviews():
            if at is None:  # assigned, not reported
                yield [inst, name, labels[stage], experts[expert], "нет", None, None, *none, None]
            else:
                yield [inst, name, labels[stage], experts[expert], "да", local(at), "да" if on_time else "нет",
                       *[_level(lv) for lv in levels], text]
    return header, rows(), {6: DATETIME}, (len(header),)  # the recommendations: free text, inline


def _experts(results: Results):
    t = results.campaign.terms
    own = {"m": "Свой", "f": "Своя"}.get(t.gender, "Своё")  # «Своё ДОУ», «Своя ДОО», «Свой детский сад»
    header = ["Эксперт", f"{own} {t.nom}", f"Назначено {t.gen_pl}", "В срок", "С опозданием", "Не отчитались", "Доля в срок"]
    rows = [[e.expert.name, results.institution_name(e.institution_id), e.assigned, e.on_time, e.late, e.missing, e.punctuality]
            for e in results.experts]
    return header, rows, {7: PERCENT}


def _distribution(results: Results):
    levels = results.campaign.levels
    distribution = results.distribution()
    header = ["Область", *[lv.title for lv in levels], f"{results.campaign.terms.nom_pl} с оценкой"]
    rows = [[results.area_title(a), *[distribution[a].get(lv.id, 0) for lv in levels], sum(distribution[a].values())]
            for a in results.area_ids]
    return header, rows


def _agreement(results: Results):
    header = ["Область", "Оценки совпали", "Сравнений", "Доля совпадений"]
    rows = [[results.area_title(a), agreed, compared, agreed / compared if compared else None]
            for a, (agreed, compared) in results.agreement().items()]
    return header, rows, {4: PERCENT}



def _dynamics(results: Results):
    """The sheet «Динамика»: `dynamics.sheet_rows` (the town by area and indicator, the stages' timeliness, each ДОУ)."""
    from dqflow.results import dynamics

    return dynamics.sheet_rows(results.dynamics)


def _indicator_town(results: Results):
    """Per indicator: the distribution of final levels, the share at or above base, the ДОУ below it, the gap between
    self-assessment and final, the experts' agreement (`indicators.town_rows`)."""
    assert results.indicators is not None
    header = indicators.town_header(results.campaign)
    shares = {header.index("Базовый уровень и выше, %") + 1: PERCENT, header.index("Согласие экспертов, %") + 1: PERCENT}
    return header, indicators.town_rows(results.indicators), shares


def _indicator_rows(results: Results):
    """Every ДОУ × review stage × indicator as the database gives them (`rows.Rows.indicators`, read as the sheet is
    written), and what cells each stored value makes (`sheetdata.Plain`): a stage id its label, an indicator id the id,
    its title and its area's title, a level id the level (`_level`), an expert id the expert's name."""
    titles = {ind_id: (ind_id, ind.title, area.title) for ind_id, (area, ind) in results.campaign.indicators.items()}
    header = [results.campaign.terms.nom, "Название", "Этап", "Показатель", "Название показателя", "Область", "Самооценка",
              "Эксперт 1", "Уровень эксперта 1", "Эксперт 2", "Уровень эксперта 2", "Итоговый уровень"]

    def itself(value: Any) -> tuple[Any]:
        return (value,)

    def stage(value: str | None) -> tuple[Any]:
        return (None if value is None else results.stage_label(value),)

    def indicator(value: str | None) -> tuple[Any, Any, Any]:
        return (None, None, None) if value is None else titles[value]

    def expert(value: str | None) -> tuple[Any]:
        return (results.expert_name(value) if value else None,)

    def level(value: str | None) -> tuple[Any]:
        return (_level(value),)

    # (ДОУ id, name, stage, indicator, own, expert 1, its level, expert 2, its level, final)
    plan = [itself, itself, stage, indicator, level, expert, level, expert, level, level]
    return header, _detail(results).indicators(), plan
