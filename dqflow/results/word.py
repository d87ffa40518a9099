"""The справка as a Word document (python-docx), since the department's справки travel as .docx: the HTML's
content in its order — the title block, the main findings, sections 1–7, the signature — on A4 in Times New Roman.

The HTML's two charts are SVG, which Word cannot take from python-docx, and nothing here draws PNG: each chart
stands as the table of the counts it draws («ДОУ по статусам на каждом этапе», the levels by area), under the
chart's own caption. The same figures give the same bytes: the core properties carry the справка's moment
and its coordinator, not the clock, and the ZIP is written with fixed stamps (`zipped.stable`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from dqflow.present.labels import STATUS_RU, reported
from dqflow.results import indicators, words, zipped
from dqflow.results.colors import STATUS_ORDER
from dqflow.results.detail import InstitutionResult
from dqflow.results.figures import Results

FONT = "Times New Roman"
# XML 1.0 has no place for most control characters: a name or a text typed with one keeps the rest of itself.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(results: Results) -> bytes:
    doc = Document()
    _page(doc)
    _styles(doc)
    _title_block(doc, results)
    _findings(doc, results)
    _stages(doc, results)
    if results.area_ids and results.campaign.levels:
        _levels(doc, results)
    if results.indicators is not None:
        _indicators(doc, results)
    if results.review_stages:
        _experts(doc, results)
    if results.dynamics is not None:
        _dynamics(doc, results)
    doc.add_page_break()
    _heading(doc, "7. Результаты по учреждениям", level=1)
    if not results.detailed:  # a large roster: the document is the summary, each ДОУ's part is elsewhere
        _note(doc, words.detail_elsewhere(results))
    for n, inst in enumerate(results.institutions, 1):
        _institution(doc, results, n, inst)
        if results.dynamics is not None:
            _dynamics_institution(doc, results, inst)
    _signature(doc, results)
    _properties(doc, results)
    out = io.BytesIO()
    doc.save(out)
    return zipped.stable(out.getvalue(), results.now)


def _text(value: object) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


# -- the page, the styles, the properties ---------------------------------------------------------


def _page(doc: DocumentObject) -> None:
    """A4 portrait, the margins of a Russian official paper (left 25 mm for the binding)."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Mm(18), Mm(18), Mm(25), Mm(15)


def _styles(doc: DocumentObject) -> None:
    for name, size, bold in (("Normal", 12, False), ("Heading 1", 13, True), ("Heading 2", 12, True), ("Title", 14, True),
                             ("List Bullet", 12, False), ("List Number", 12, False)):
        style = doc.styles[name]
        style.font.size, style.font.bold = Pt(size), bold
        style.font.color.rgb = RGBColor(0, 0, 0)
        _font(style.element.get_or_add_rPr())
    doc.styles["Normal"].paragraph_format.space_after = Pt(3)
    for name, italic in (("Table Text", False), ("Note", True)):  # the tables' cells, the notes under a table
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        style.font.size, style.font.italic = Pt(10), italic or None
        style.paragraph_format.space_after = Pt(0 if name == "Table Text" else 3)
        assert style.style_id == STYLE_IDS[name]


def _font(rpr) -> None:
    """Times New Roman for every script (Cyrillic is hAnsi): the template's theme fonts would override a plain name."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attribute}"), FONT)


def _properties(doc: DocumentObject, results: Results) -> None:
    """The file's properties say what it is and who prepared it, as of the справка's moment (not the clock)."""
    props = doc.core_properties
    props.title = _text(f"{words.title(results)} — {results.campaign.title}")
    props.subject = _text(results.campaign.title)
    props.author = props.last_modified_by = _text(results.campaign.coordinator.name)
    props.created = props.modified = props.last_printed = results.now
    props.revision = 1
    props.language = "ru-RU"
    props.keywords = props.comments = props.category = ""


# -- building blocks ------------------------------------------------------------------------------

# The default template's style ids, set on a paragraph directly: python-docx's lookup by name scans every style on
# each call, which made a справка of 11 ДОУ take over a second. TableText and Note are this module's own (`_styles`).
STYLE_IDS = {"Heading 1": "Heading1", "Heading 2": "Heading2", "List Bullet": "ListBullet", "List Number": "ListNumber",
             "Table Text": "TableText", "Note": "Note"}
TEXT_WIDTH = 9638  # twentieths of a point: 170 mm, A4 less the margins
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _para(doc: DocumentObject, text: str = "", *, bold: bool = False, italic: bool = False, size: int | None = None,
          center: bool = False, style: str | None = None):
    paragraph = doc.add_paragraph()
    if style:
        paragraph._p.style = STYLE_IDS[style]
    if text:
        run = paragraph.add_run(_text(text))
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _heading(doc: DocumentObject, text: str, level: int) -> None:
    _para(doc, text, style=f"Heading {level}")


def _note(doc: DocumentObject, text: str) -> None:
    _para(doc, text, style="Note")


def _table(doc: DocumentObject, header: Sequence[object], rows: Sequence[Sequence[object]], numeric: Iterable[int] = ()) -> None:
    """A bordered table (Table Grid) in 10 pt, its header row bold, shaded and repeated on every page, `numeric` columns
    right-aligned; then an empty paragraph. Written as one piece of WordprocessingML: python-docx builds a table cell
    by cell, at a cost that grows with the document."""
    right, width = set(numeric), TEXT_WIDTH // max(1, len(header))
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in header)
    body = [_row(header, right, width, first=True)] + [_row(values, right, width) for values in rows]
    xml = (f'<w:tbl xmlns:w="{W}"><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/><w:jc w:val="center"/>'
           f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
           f'</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(body)}</w:tbl>')
    doc.element.body._insert_tbl(parse_xml(xml))
    doc.add_paragraph()


def _row(values: Sequence[object], right: set[int], width: int, first: bool = False) -> str:
    cells = []
    for n, value in enumerate(values):
        shade = '<w:shd w:val="clear" w:color="auto" w:fill="EEF1F5"/>' if first else ""
        align = '<w:jc w:val="right"/>' if n in right and not first else ""
        bold = "<w:rPr><w:b/></w:rPr>" if first else ""
        lines = _text(value).split("\n")
        runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr>'
                     f'<w:p><w:pPr><w:pStyle w:val="TableText"/>{align}</w:pPr><w:r>{bold}{runs}</w:r></w:p></w:tc>')
    head = "<w:trPr><w:tblHeader/></w:trPr>" if first else ""
    return f"<w:tr>{head}{''.join(cells)}</w:tr>"


# -- the sections, as the HTML has them -----------------------------------------------------------


def _title_block(doc: DocumentObject, results: Results) -> None:
    c = results.campaign
    _para(doc, c.coordinator.name.upper(), size=11, center=True)
    _para(doc, "АНАЛИТИЧЕСКАЯ СПРАВКА", bold=True, size=14, center=True)
    _para(doc, "по итогам мониторинга качества дошкольного образования", bold=True, center=True)
    _para(doc, c.title, center=True)
    _para(doc, words.as_of(results), center=True, size=11)
    _para(doc, words.prepared_by(results), center=True, size=11)
    if words.order_line(results):
        _para(doc, f"Основание: {words.order_line(results)}.", size=11)
    t = c.terms
    said = "Дошкольных образовательных учреждений (ДОУ)" if t.nom == "ДОУ" else t.nom_pl
    _para(doc, f"{said}: {results.total}.", size=11)


def _findings(doc: DocumentObject, results: Results) -> None:
    _heading(doc, "Основные итоги", level=1)
    for finding in words.findings(results):
        _para(doc, finding, style="List Bullet")


def _stages(doc: DocumentObject, results: Results) -> None:
    t = results.campaign.terms
    per = [f for f in results.stages if f.stage.per_institution]
    _heading(doc, "1. Выполнение этапов мониторинга", level=1)
    _note(doc, f"Ожидалось — {t.nom_pl}, не освобождённые от этапа; охват — доля ожидавшихся {t.gen_pl}, сдавших материалы (в срок "
               "или с опозданием); доля в срок — сдавших к своему сроку (с учётом продлений). Для этапов экспертизы «сдано» означает, "
               "что отчитались все назначенные эксперты.")
    _table(doc, ["Этап", "Срок", "Ожидалось", "Сдали", "В срок", "С опозд.", "Охват", "Доля в срок"],
           [[f.stage.label, words.when(results, f.stage.due_at), f.expected, f.handed_in, f.on_time, f.counts.get("late", 0),
             words.percent(f.coverage), words.percent(f.on_time_rate)] for f in per], numeric=range(2, 8))
    if per:
        _para(doc, f"Рисунок 1. Распределение {t.gen_pl} по статусам на каждом этапе", italic=True, size=10, center=True)
        _table(doc, ["Этап", *[STATUS_RU[s.value] for s in STATUS_ORDER]],
               [[f.stage.label, *[f.counts.get(s.value, 0) for s in STATUS_ORDER]] for f in per], numeric=range(1, 7))


def _levels(doc: DocumentObject, results: Results) -> None:
    t = results.campaign.terms
    levels = results.campaign.levels
    distribution = results.distribution()
    _heading(doc, "2. Уровни качества по областям", level=1)
    _note(doc, f"Уровень {t.gen} в области — меньшая из оценок {t.it_acc} экспертов в последней экспертизе, по которой есть оценки.")
    _para(doc, f"Рисунок 2. Распределение {t.gen_pl} по уровням качества в каждой области", italic=True, size=10, center=True)
    _table(doc, ["Область качества", *[lv.title for lv in levels]],
           [[results.area_title(a), *[distribution[a].get(lv.id, 0) for lv in levels]] for a in results.area_ids],
           numeric=range(1, 1 + len(levels)))
    _heading(doc, f"3. {t.nom_pl} с областями на базовом уровне и ниже", level=1)
    if results.attention and results.base_level:  # the first of them in roster order, and how many there are
        _table(doc, [t.nom, f"Области на уровне «{results.level_title(results.base_level)}» и ниже"],
               [[inst.name, ", ".join(results.area_title(a) for a in areas)] for inst, areas in results.attention])
        if words.shown_first(results):
            _note(doc, f"{words.shown_first(results)}. Полный список: {words.full_list(results)}.")
    else:
        _para(doc, f"Таких {t.gen_pl} нет.")
    _heading(doc, "4. Согласованность оценок экспертов", level=1)
    _table(doc, ["Область качества", "Оценки совпали", "Сравнений", "Доля"],
           [[results.area_title(a), agreed, compared, words.percent(agreed / compared if compared else None)]
            for a, (agreed, compared) in results.agreement().items()], numeric=(1, 2, 3))
    _heading(doc, "5. Наиболее частые слабые области", level=1)
    weak = results.weak_areas()
    for area, count in weak:
        _para(doc, f"{results.area_title(area)} — у {count} {t.gen_pl}", style="List Number")
    if not weak:
        _para(doc, "Оценок пока нет.")


def _experts(doc: DocumentObject, results: Results) -> None:
    t = results.campaign.terms
    _heading(doc, "6. Своевременность экспертов", level=1)
    shown, note = words.experts_shown(results)
    _table(doc, ["Эксперт", f"Назначено {t.gen_pl}", "В срок", "С опозд.", "Не отчитались", "Доля в срок"],
           [[e.expert.name, e.assigned, e.on_time, e.late, e.missing, words.percent(e.punctuality)] for e in shown],
           numeric=range(1, 6))
    if note:
        _note(doc, note)


def _institution(doc: DocumentObject, results: Results, n: int, inst: InstitutionResult) -> None:
    _heading(doc, _text(f"{n}. {inst.institution.name}"), level=2)
    _table(doc, ["Этап", "Статус", "Срок", "Сдано", "Ссылки на материалы"], [
        [results.stage_label(o.stage_id), STATUS_RU[o.status], words.when(results, o.due_at) + ("*" if o.extended else ""),
         words.when(results, o.submitted_at), "\n".join(o.links)] for o in inst.stages.values()])
    for o in inst.stages.values():
        for e in o.extensions:
            _note(doc, f"* {results.stage_label(o.stage_id)}: срок продлён до {words.when(results, e.until)} "
                       f"({words.when(results, e.granted_at)}), причина: {e.reason}.")
    for panel in inst.reviews.values():
        experts = ", ".join(results.expert_name(e) for e in panel.assigned)
        paragraph = _para(doc)
        paragraph.add_run(_text(results.stage_label(panel.stage_id))).bold = True
        paragraph.add_run(_text(f": {reported(len(panel.reviews), len(panel.assigned))}" + (f" (эксперты: {experts})" if experts else "") + "."))
        if panel.reviews and results.area_ids:
            agreement = panel.agreement(results.area_ids)
            _table(doc, ["Область качества", *[results.expert_name(r.expert_id) for r in panel.reviews], "Оценки экспертов"],
                   [[results.area_title(a), *[r.levels.get(a, "—") for r in panel.reviews], words.agreement_word(agreement[a])]
                    for a in results.area_ids], numeric=range(1, 1 + len(panel.reviews)))
    if results.indicators is not None:
        for stage, rows in indicators.document_rows(results.indicators, inst.institution.id):
            _para(doc, _text(f"Показатели: {results.stage_label(stage)}"), bold=True)
            _table(doc, indicators.DOU_HEADER, rows, numeric=range(1, len(indicators.DOU_HEADER)))
    grouped = results.recommendations_by_area(inst)
    if grouped:
        _para(doc, "Адресные рекомендации по областям:", bold=True)
        for area, said in grouped:
            _para(doc, area, italic=True)
            for rec in said:
                _para(doc, f"{rec.text} ({rec.stage}, {rec.expert})", style="List Bullet")


def _indicators(doc: DocumentObject, results: Results) -> None:
    """The справка по показателям (`results.indicators`): the town's table per indicator, the ДОУ below the base level."""
    assert results.indicators is not None
    report, t = results.indicators, results.campaign.terms
    _heading(doc, "Показатели", level=1)
    _note(doc, indicators.NOTE.format(nom=t.nom, gen_pl=t.gen_pl))
    header, rows = indicators.document_table(report, words.percent)
    _table(doc, header, rows, numeric=range(1, len(header)))
    if report.base_level:
        _heading(doc, f"{t.nom_pl} с показателями ниже базового уровня («{results.level_title(report.base_level)}»)", level=2)
        below = indicators.below_lines(report)
        if below:
            _table(doc, [t.nom, "Показатели ниже базового уровня"], [[_text(inst.name), inds] for inst, inds in below])
            if report.below_total > len(below):
                _note(doc, f"Показаны первые {len(below)} из {report.below_total} {t.gen_pl} (в порядке списка); полный список — в XLSX.")
        else:
            _para(doc, f"Таких {t.gen_pl} нет.")


def _signature(doc: DocumentObject, results: Results) -> None:
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run(_text(results.campaign.coordinator.name))
    left.add_paragraph().add_run(f"подготовлено {words.when(results, results.now)[:10]}").font.size = Pt(10)
    right.paragraphs[0].add_run("_" * 25)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    signed = right.add_paragraph()
    signed.add_run("подпись").font.size = Pt(10)
    signed.alignment = WD_ALIGN_PARAGRAPH.RIGHT


# -- this year beside last year (`results.dynamics`: --compare) ----------------------------------------------------------


def _dynamics(doc: DocumentObject, results: Results) -> None:
    from dqflow.results import dynamics

    d = results.dynamics
    _heading(doc, dynamics.TITLE, level=1)
    _note(doc, dynamics.campaign_line(d))
    if d.town:
        _heading(doc, "Уровни качества по областям", level=2)
        _table(doc, *dynamics.town_rows(d), numeric=(1, 2, 3))
    if d.indicator_town:
        _heading(doc, "Уровни качества по показателям", level=2)
        _table(doc, *dynamics.indicator_town_rows(d), numeric=(1, 2, 3))
    if d.town or d.indicator_town:
        _note(doc, dynamics.scale_note(d))
    _heading(doc, "Своевременность этапов", level=2)
    if d.timeliness:
        _table(doc, *dynamics.timeliness_rows(d), numeric=(1, 2, 3))
    else:
        _para(doc, "Этапов с теми же идентификаторами, что в прошлом году, нет: своевременность не сравнивается.")
    for line in dynamics.notes(d):
        _note(doc, line)
    for line in dynamics.roster_lines(d, results.campaign.terms):
        _para(doc, line)


def _dynamics_institution(doc: DocumentObject, results: Results, inst: InstitutionResult) -> None:
    from dqflow.results import dynamics

    d = results.dynamics
    if not d.detailed or inst.state == "withdrawn":
        return
    new = f" — {dynamics.NEW_RU}: сравнивать не с чем" if d.is_new(inst.institution.id) else ""
    _para(doc, f"{dynamics.TITLE}{new}", bold=True)
    header, rows = dynamics.institution_rows(d, inst.institution.id)
    if rows:
        _table(doc, header, rows, numeric=(3,))
    header, rows = dynamics.followup_rows(d, inst.institution.id)
    if rows:
        _para(doc, "Рекомендации прошлого года и уровни этого года в областях, к которым они относились:")
        _table(doc, header, rows, numeric=(4,))

