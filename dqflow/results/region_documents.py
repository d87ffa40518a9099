"""The regional справка's documents (`dqflow region report`): one HTML page, a folder of CSV files, the workbook and
the Word document, each written from `region.compute`'s `Region` — nothing here counts anything. The workbook and the
Word document use the справка's own writers (results/excel.py, results/word.py), imported when one is written.
"""

from __future__ import annotations

from datetime import UTC

from dqflow.results.region import REGION, Region

__all__ = ["html", "csv_files", "xlsx", "docx"]


def html(region: Region) -> str:
    """The regional справка as one HTML page (templates/region.html), in Russian."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from dqflow.results import words

    env = Environment(loader=PackageLoader("dqflow.results", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("region.html").render(g=region, percent=words.percent, share=_share)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def csv_files(region: Region) -> dict[str, str]:
    """File name → CSV text (ids as `status --json` gives them), every cell through the one CSV writer's guard:
    participation.csv, levels.csv (scope: a campaign id or «region»), below_base.csv, agreement.csv, and
    indicator_levels.csv (as levels.csv, by indicator) when levels by indicator are compared."""
    from dqflow.present import csvfile

    participation = [[m.id, m.title, m.institutions, f.stage.id, f.stage.label, f.expected, f.handed_in, f.on_time,
                      f.counts.get("late", 0)] for m in region.municipalities for f in m.stages]
    levels = [[scope, area, level, count]
              for scope, distribution in [*((m.id, m.distribution) for m in region.municipalities), ("region", region.distribution)]
              for area, by_level in distribution.items() for level, count in by_level.items()]
    below = [[m.id, m.title, inst.id, inst.name, ";".join(areas)]
             for m in region.municipalities for inst, areas in m.below_base]
    agreement = [[m.id, area, agreed, compared] for m in region.municipalities for area, (agreed, compared) in m.agreement.items()]
    by_indicator = [[scope, ind, level, count]
                    for scope, distribution in [*((m.id, m.indicator_distribution) for m in region.municipalities),
                                                ("region", region.indicator_distribution)]
                    for ind, by_level in distribution.items() for level, count in by_level.items()]
    extra = {"indicator_levels.csv": csvfile.text(["scope", "indicator", "level", "institutions"], by_indicator)} if region.indicators else {}
    return {
        "participation.csv": csvfile.text(["campaign", "title", "institutions", "stage", "stage_label", "expected", "handed_in",
                                           "on_time", "late"], participation),
        "levels.csv": csvfile.text(["scope", "area", "level", "institutions"], levels),
        "below_base.csv": csvfile.text(["campaign", "title", "institution", "name", "areas"], below),
        "agreement.csv": csvfile.text(["campaign", "area", "agreed", "compared"], agreement),
        **extra,
    }


# -- the workbook and the Word document: the справка's own writers (results/excel.py, results/word.py) ----------------

TITLE = "Региональная аналитическая справка по итогам мониторинга качества дошкольного образования"


def _as_of(region: Region) -> str:
    return f"по состоянию на {region.when(region.now)} ({region.zone})"


def _compared_note(region: Region) -> str:
    if not region.common:
        return ""
    return "Кампании сравниваются по общим областям и уровням качества." + (
        f" Не сравниваются: {'; '.join(region.left_out)}." if region.left_out else "")


def _summary_rows(region: Region) -> list[list]:
    """Per municipality, then the region: ДОУ, hand-ins of the form-filling stages, the ДОУ at or below the base level,
    the experts' agreement (shares as numbers; None where there is nothing to share)."""
    lines = [(m.title, m.id, m.institutions, m.expected, m.handed_in, m.on_time, len(m.below_base), m.agreed)
             for m in region.municipalities]
    lines.append((REGION, "", region.institutions, region.expected, region.handed_in, region.on_time, region.below_base, region.agreed))
    return [[title, cid, n, expected, handed_in, on_time, _share(handed_in, expected), _share(on_time, expected), low, _share(low, n),
             agreed, compared, _share(agreed, compared)]
            for title, cid, n, expected, handed_in, on_time, low, (agreed, compared) in lines]


def _level_rows(region: Region) -> list[list]:
    scopes = [*((m.title, m.distribution) for m in region.municipalities), (REGION, region.distribution)]
    return [[title, region.area_title(area), *[distribution[area][lv] for lv, _ in region.levels], region.rated(distribution, area)]
            for title, distribution in scopes for area, _ in region.areas]


def _indicator_rows(region: Region) -> list[list]:
    return [[title, ind, ind_title, *[distribution[ind][lv] for lv, _ in region.levels], region.rated(distribution, ind)]
            for title, distribution in region.indicator_scopes() for ind, ind_title, _ in region.indicators]


def _agreement_rows(region: Region) -> list[list]:
    scopes = [*((m.title, m.agreement) for m in region.municipalities), (REGION, region.agreement)]
    return [[title, region.area_title(area), agreed, compared, _share(agreed, compared)]
            for title, agreement in scopes for area, (agreed, compared) in agreement.items()]


def xlsx(region: Region) -> bytes:
    """The regional справка as a workbook written as a stream (the справка's `excel._sheet`: typed cells, the header
    bold, filled, frozen and filtered, widths): the title block, the summary per municipality, participation by stage,
    levels by area per municipality and for the region, the ДОУ at or below the base level, the experts' agreement."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.xml.functions import tostring

    from dqflow.results import excel, zipped

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Справка")
    sheet.column_dimensions["A"].width = 100
    as_of = _as_of(region)
    block = [TITLE, as_of[0].upper() + as_of[1:], f"Муниципалитетов (кампаний мониторинга): {len(region.municipalities)}; "
             f"ДОУ: {region.institutions}.", _compared_note(region)]
    for n, line in enumerate(filter(None, block)):
        sheet.append([excel._cell(sheet, line, font=Font(bold=n == 0, size=14 if n == 0 else 11))])
    percent = excel.PERCENT
    excel._sheet(book, "Сводка", ["Муниципалитет", "Кампания", "ДОУ", "Ожидалось сдач", "Сдано", "В срок", "Охват", "Доля в срок",
                                  "ДОУ на базовом уровне и ниже", "Их доля", "Оценки совпали", "Сравнений", "Доля совпадений"],
                 _summary_rows(region), {7: percent, 8: percent, 10: percent, 13: percent})
    excel._sheet(book, "Участие по этапам", ["Муниципалитет", "Этап", f"Срок ({region.zone})", "Ожидалось", "Сдали", "В срок",
                                             "С опозданием", "Охват", "Доля в срок"],
                 ([m.title, f.stage.label, f.stage.due_at.astimezone(region.tz).replace(tzinfo=None, second=0, microsecond=0),
                   f.expected, f.handed_in, f.on_time, f.counts.get("late", 0), f.coverage, f.on_time_rate]
                  for m in region.municipalities for f in m.stages), {3: excel.DATETIME, 8: percent, 9: percent})
    excel._sheet(book, "Уровни по областям", ["Муниципалитет", "Область", *[title for _, title in region.levels], "Оценено ДОУ"],
                 _level_rows(region))
    excel._sheet(book, "Базовый уровень и ниже", ["Муниципалитет", "ДОУ", "Название", "Области на базовом уровне и ниже"],
                 ([m.title, inst.id, inst.name, ", ".join(region.area_title(a) for a in areas)]
                  for m in region.municipalities for inst, areas in m.below_base))
    excel._sheet(book, "Согласованность", ["Муниципалитет", "Область", "Оценки совпали", "Сравнений", "Доля совпадений"],
                 _agreement_rows(region), {5: percent})
    if region.indicators:
        excel._sheet(book, "Уровни по показателям", ["Муниципалитет", "Показатель", "Название", *[title for _, title in region.levels],
                                                    "Оценено ДОУ"], _indicator_rows(region))
    else:
        excel._sheet(book, "Уровни по показателям", ["Уровни по показателям"], [[region.indicators_note]])
    book.properties.title = TITLE
    out = io.BytesIO()
    book.save(out)  # stamps the clock as the time modified: the properties are written again below
    book.properties.created = book.properties.modified = region.now.astimezone(UTC).replace(tzinfo=None)  # the moment, not the clock
    return zipped.stable(out.getvalue(), region.now, {"docProps/core.xml": tostring(book.properties.to_tree())})


def docx(region: Region) -> bytes:
    """The regional справка as a Word document, in the HTML's order, with the справка's page, styles and tables
    (`word._page`, `word._styles`, `word._table`): A4, Times New Roman, the same bytes for the same figures."""
    import io

    from docx import Document

    from dqflow.results import word, words, zipped

    doc = Document()
    word._page(doc)
    word._styles(doc)
    word._para(doc, "РЕГИОНАЛЬНАЯ АНАЛИТИЧЕСКАЯ СПРАВКА", bold=True, size=14, center=True)
    word._para(doc, "по итогам мониторинга качества дошкольного образования в муниципалитетах", bold=True, center=True)
    word._para(doc, _as_of(region), center=True, size=11)
    word._para(doc, f"Муниципалитетов (кампаний мониторинга): {len(region.municipalities)}; ДОУ: {region.institutions}.", size=11)
    if region.common:
        word._para(doc, _compared_note(region), size=11)
    pct = words.percent
    word._heading(doc, "1. Участие и своевременность", level=1)
    word._note(doc, "По этапам заполнения формы мониторинга каждого муниципалитета. Ожидалось — ДОУ, не освобождённые от этапа; "
                    "сдали — в срок или с опозданием; в срок — к своему сроку (с учётом продлений).")
    word._table(doc, ["Муниципалитет", "Этап", "Срок", "Ожидалось", "Сдали", "В срок", "С опозд.", "Охват", "Доля в срок"],
                [[m.title, f.stage.label, region.when(f.stage.due_at), f.expected, f.handed_in, f.on_time, f.counts.get("late", 0),
                  pct(f.coverage), pct(f.on_time_rate)] for m in region.municipalities for f in m.stages], numeric=range(3, 9))
    word._table(doc, ["Муниципалитет", "ДОУ", "Ожидалось сдач", "Сдано", "В срок", "Охват", "Доля в срок"],
                [[title, n, expected, handed_in, on_time, pct(coverage), pct(timely)]
                 for title, _, n, expected, handed_in, on_time, coverage, timely, *_ in _summary_rows(region)], numeric=range(1, 7))
    word._heading(doc, "2. Уровни качества по областям", level=1)
    word._note(doc, "Число ДОУ на каждом уровне: уровень ДОУ в области — меньшая из оценок его экспертов в последней экспертизе, "
                    "по которой есть оценки.")
    rows = _level_rows(region)
    for n, (_, area_title) in enumerate(region.areas):
        word._heading(doc, area_title, level=2)
        word._table(doc, ["Муниципалитет", *[title for _, title in region.levels], "Оценено ДОУ"],
                    [[row[0], *row[2:]] for row in rows[n::len(region.areas)]], numeric=range(1, len(region.levels) + 2))
    word._heading(doc, "3. ДОУ с областями на базовом уровне и ниже", level=1)
    word._note(doc, "Список ДОУ — в выгрузках XLSX и CSV.")
    word._table(doc, ["Муниципалитет", "ДОУ", "На базовом уровне и ниже", "Доля"],
                [[row[0], row[2], row[8], pct(row[9])] for row in _summary_rows(region)], numeric=(1, 2, 3))
    word._heading(doc, "4. Согласованность оценок экспертов", level=1)
    word._note(doc, "Случаи, когда два и более эксперта оценили область одного ДОУ на одном этапе экспертизы: совпали / сравнений.")
    agreement = _agreement_rows(region)
    word._table(doc, ["Муниципалитет", *[title for _, title in region.areas], "Всего", "Доля"],
                [[row[0], *[f"{agreed} / {compared}" for _, _, agreed, compared, _ in agreement[n * len(region.areas):(n + 1) * len(region.areas)]],
                  f"{row[10]} / {row[11]}", pct(row[12])] for n, row in enumerate(_summary_rows(region))],
                numeric=range(1, len(region.areas) + 3))
    word._heading(doc, "5. Уровни качества по показателям", level=1)
    if region.indicators:
        word._note(doc, "Число ДОУ на каждом итоговом уровне показателя: уровень, установленный координатором при расхождении "
                        "экспертов, иначе общий уровень экспертов, а при расхождении — по правилу кампании; последняя экспертиза ДОУ, "
                        "по которой есть оценки.")
        by_scope = _indicator_rows(region)
        for n, (scope_title, _) in enumerate(region.indicator_scopes()):
            word._heading(doc, scope_title, level=2)
            word._table(doc, ["Показатель", *[title for _, title in region.levels], "Оценено ДОУ"],
                        [[f"{row[1]} {row[2]}", *row[3:]] for row in by_scope[n * len(region.indicators):(n + 1) * len(region.indicators)]],
                        numeric=range(1, len(region.levels) + 2))
    else:
        word._para(doc, region.indicators_note, size=11)
    props = doc.core_properties
    props.title, props.language, props.revision = TITLE, "ru-RU", 1
    props.author = props.last_modified_by = props.keywords = props.comments = props.category = ""
    props.created = props.modified = props.last_printed = region.now
    out = io.BytesIO()
    doc.save(out)
    return zipped.stable(out.getvalue(), region.now)
