"""The campaign's quality areas with their indicators (the monitoring form) and its level scale, as the file gives
them: `areas:` inline (each area may list `indicators:`) or `areas: {file: indicators.xlsx|.csv}` read by the roster
files' reader (`intake.table`), and `levels:` with one level marked `baseline: true`. Every problem is located at
FILE:LINE:COL (a table's at its row and column)."""

from __future__ import annotations

import re

import yaml

from dqflow.campaign.model import EVIDENCE, Area, Indicator, Level
from dqflow.campaign.nodes import NodeReader, suggest
from dqflow.errors import Problem, SpecError
from dqflow.intake import files
from dqflow.intake import table as table_files
from dqflow.intake import text as texts

TABLE_COLUMNS = ("area", "area title", "indicator", "title", "hint", "required")
MAX_INDICATORS = 500  # the federal concept has ~100
_ID = re.compile(r"[\w.-]+")
_YES = {"", "да", "yes", "true", "1", "обязательно", "required", "+"}
_NO = {"нет", "no", "false", "0", "необязательно", "optional", "-"}


class AreaReader:
    """Reads `areas:` and `levels:`; problems go to the node reader, located; `notes` says how a table was read."""

    def __init__(self, reader: NodeReader, notes: list[str]):
        self.r = reader
        self.notes = notes

    # -- areas ------------------------------------------------------------------------------------------

    def areas(self, node: yaml.Node | None) -> tuple[Area, ...]:
        if node is None:
            return ()
        if isinstance(node, yaml.MappingNode):
            f = self.r.mapping(node, "areas", ["file"], [])
            return self._table(f["file"]) if f and "file" in f else ()
        found: list[Area] = []
        where: dict[str, yaml.Node] = {}
        indicator_at: dict[str, yaml.Node] = {}
        for n in self.r.sequence(node, "areas"):
            area = self._area(n, indicator_at)
            if area is None:
                continue
            if area.id in where:
                self.r.error(n, f"area.id «{area.id}» повторяется (впервые в строке {where[area.id].start_mark.line + 1}); "
                                f"у каждой области свой id")
                continue
            where[area.id] = n
            found.append(area)
        if any(a.indicators for a in found):
            for area in found:
                if not area.indicators:
                    self.r.error(where[area.id], f"область «{area.id}» без показателей: когда у одних областей есть indicators, "
                                                 f"они нужны у каждой; добавьте ей хотя бы один показатель")
        if len(indicator_at) > MAX_INDICATORS:
            self.r.error(node, f"показателей {len(indicator_at)}, а форма держит не больше {MAX_INDICATORS}; уберите лишние")
        return tuple(found)

    def _area(self, node: yaml.Node, indicator_at: dict[str, yaml.Node]) -> Area | None:
        r = self.r
        f = r.mapping(node, "area", ["id", "title"], ["indicators"])
        if f is None:
            return None
        ident, title = r.identifier(f.get("id"), "area.id"), r.one_line(f.get("title"), "area.title")
        indicators: list[Indicator] = []
        if "indicators" in f:
            nodes = r.sequence(f["indicators"], f"область «{ident}», indicators")
            if isinstance(f["indicators"], yaml.SequenceNode) and not nodes:
                r.error(f["indicators"], f"область «{ident}»: список indicators пуст; перечислите показатели или уберите ключ")
            for n in nodes:
                indicator = self._indicator(n)
                if indicator is None:
                    continue
                if indicator.id in indicator_at:
                    r.error(n, f"показатель «{indicator.id}» повторяется (впервые в строке {indicator_at[indicator.id].start_mark.line + 1}); "
                               f"у каждого показателя свой номер")
                    continue
                indicator_at[indicator.id] = n
                indicators.append(indicator)
        if not (ident and title):
            return None
        return Area(ident, title, tuple(indicators))

    def _indicator(self, node: yaml.Node) -> Indicator | None:
        r = self.r
        f = r.mapping(node, "indicator", ["id", "title"], ["hint", "evidence"])
        if f is None:
            return None
        ident = r.identifier(f.get("id"), "indicator.id")
        title = r.one_line(f.get("title"), "indicator.title")
        hint = r.one_line(f["hint"], "indicator.hint", texts.MAX_NOTE) if "hint" in f else None
        evidence = r.choice(f["evidence"], "indicator.evidence", EVIDENCE) if "evidence" in f else "required"
        if not (ident and title and evidence) or ("hint" in f and hint is None):
            return None
        return Indicator(ident, title, hint, evidence)

    def _table(self, node: yaml.Node) -> tuple[Area, ...]:
        """Areas and indicators from a table, a row per indicator: area, area title, indicator, title, hint, required."""
        r = self.r
        name = r.one_line(node, "areas.file")
        if name is None:
            return ()
        path = r.base / name
        try:
            table = table_files.read(path, str(path))
        except files.Unreadable as exc:
            r.error(node, f"areas.file: «{name}»: {exc}")
            return ()
        except SpecError as exc:
            r.problems.extend(exc.problems)
            return ()
        self.notes.append(f"{name} прочитан как {table.form}")
        header = [" ".join(c.strip().lower().replace("_", " ").split()) for c in table.header]
        missing = [c for c in ("area", "indicator", "title") if c not in header]
        if missing:
            found = ", ".join(f"«{c.strip()[:40]}»" for c in table.header[:8] if c.strip()) or "ничего"
            r.problems.append(Problem(table.file, table.header_row, 1,
                                      f"показатели: в строке заголовков (прочитано как {table.form}) {found}; нужны столбцы "
                                      f"area, indicator, title (необязательные: area title, hint, required), в первой строке"))
            return ()
        for col, column in enumerate(header, 1):
            if column and column not in TABLE_COLUMNS:
                r.problems.append(Problem(table.file, table.header_row, col,
                                          f"показатели: неизвестный столбец «{column}»{self._where(table, col)}{suggest(column, TABLE_COLUMNS)}"))
        titles: dict[str, str] = {}
        order: list[str] = []
        rows: dict[str, list[Indicator]] = {}
        seen: dict[str, int] = {}
        for line, row in table.rows:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            problems: list[Problem] = []
            flagged: set[str] = set()  # the row's columns already found wrong

            def bad(column: str, message: str) -> None:
                col = header.index(column) + 1 if column in header else 1
                flagged.add(column)
                problems.append(Problem(table.file, line, col, f"{column}{self._where(table, col)}: {message}"))

            for column in ("area", "indicator"):
                value = record.get(column, "")
                why = texts.problem(value, texts.MAX_ID)
                if why is not None:
                    bad(column, why)
                elif not _ID.fullmatch(value):
                    bad(column, f"«{value}» — допустимы только буквы, цифры, «.», «-» и «_»")
            for column, limit in (("title", texts.MAX_LINE), ("area title", texts.MAX_LINE), ("hint", texts.MAX_NOTE)):
                value = record.get(column, "")
                if column == "title" and not value:
                    bad(column, "пусто; заполните ячейку")
                elif value and (why := texts.problem(value, limit)) is not None:
                    bad(column, why)
            required = record.get("required", "").lower()
            if required not in _YES | _NO:
                bad("required", f"«{record.get('required')}» — напишите «да» (доказательства обязательны) или «нет»")
            area, ident, area_title = record.get("area", ""), record.get("indicator", ""), record.get("area title", "")
            # what the row says against the rows above, each asked where its own cells are right: a row's other
            # mistakes do not hide a repeated number (every problem of a row is reported at once)
            if "indicator" not in flagged and ident in seen:
                bad("indicator", f"показатель «{ident}» повторяется (впервые в строке {seen[ident]}); у каждого показателя свой номер")
            elif "indicator" not in flagged:
                seen[ident] = line
            if not {"area", "area title"} & flagged and area in titles and area_title and area_title != titles[area]:
                bad("area title", f"«{area_title}» — у области «{area}» уже есть название «{titles[area]}» (строка выше); "
                                  f"пишите его одинаково или оставьте ячейку пустой")
            if not {"area", "area title"} & flagged and area not in titles and not area_title:
                bad("area title", f"у области «{area}» нет названия: впишите его в её первой строке")
            r.problems.extend(problems)
            if problems:
                continue
            if area not in titles:
                titles[area] = area_title
                order.append(area)
                rows[area] = []
            rows[area].append(Indicator(ident, record["title"], record.get("hint") or None,
                                        "optional" if required in _NO else "required"))
        if not order and not any(p.file == table.file for p in r.problems):
            r.problems.append(Problem(table.file, table.header_row, 1, "в таблице показателей нет ни одной строки; добавьте строки под заголовками"))
        if len(seen) > MAX_INDICATORS:
            r.problems.append(Problem(table.file, table.header_row, 1,
                                      f"показателей {len(seen)}, а форма держит не больше {MAX_INDICATORS}; уберите лишние"))
        return tuple(Area(a, titles[a], tuple(rows[a])) for a in order)

    @staticmethod
    def _where(table: table_files.Table, col: int) -> str:
        return f" ({table.column(col)})" if table.letters else ""

    # -- levels -----------------------------------------------------------------------------------------

    def levels(self, node: yaml.Node | None) -> tuple[Level, ...]:
        if node is None:
            return ()
        items: list[Level] = []
        seen: set[str] = set()
        baseline: yaml.Node | None = None
        for n in self.r.sequence(node, "levels"):
            f = self.r.mapping(n, "level", ["id", "title"], ["baseline"])
            if f is None:
                continue
            ident, title = self.r.identifier(f.get("id"), "level.id"), self.r.one_line(f.get("title"), "level.title")
            marked = self.r.boolean(f["baseline"], "level.baseline") if "baseline" in f else False
            if marked and baseline is not None:
                self.r.error(f["baseline"], f"level: baseline: true уже стоит у уровня в строке {baseline.start_mark.line + 1}; "
                                            f"базовый уровень один — оставьте отметку у одного")
                continue
            if marked:
                baseline = f["baseline"]
            if ident in seen:
                self.r.error(f["id"], f"level.id «{ident}» повторяется; у каждого элемента levels свой id")
            elif ident and title:
                seen.add(ident)
                items.append(Level(ident, title, bool(marked)))
        return tuple(items)
