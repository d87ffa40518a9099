"""An order's schedule table read from its text: the rows ("Срок / Мероприятие / Ответственные / Результат")
and the term each row gives.

Text copied out of a PDF or a word processor has rows split across page breaks (a row's cells continue on a
line whose term cell is empty), blank lines and page numbers between pages, and terms written in many ways
(`19-30 ноября 2021 г.`, `1-5.12.2021 г.`, `20.12.2021 г. - 20.01.2022 г.`, `19.11.2021 г. 14.00`,
`до 15 декабря`). `rows` finds the table and its rows, `parse_term` reads one term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from dqflow.errors import Problem, SpecError

MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6,
    "июл": 7, "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}
_MONTH_WORD = r"(?:январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|августа?|сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь])"
_NUMERIC = re.compile(r"(?P<d>\d{1,2})(?:\.(?P<m>\d{1,2})(?:\.(?P<y>\d{4}|\d{2}))?)?")
_WORDED = re.compile(rf"(?P<d>\d{{1,2}})(?:\s+(?P<mw>{_MONTH_WORD})(?:\s+(?P<y>\d{{4}}))?)?")
_TIME = re.compile(r"(?P<rest>.*?\S)\s+(?:в\s+)?(?P<h>[01]?\d|2[0-3])[.:](?P<min>[0-5]\d)(?:\s*ч\.?)?")
_DEADLINE = re.compile(r"(?:до|не\s+позднее|не\s+позже)\s+(?P<rest>.+)")
_RANGE = re.compile(r"(?:с\s+)?(?P<a>.+?)\s*(?:-|\s+по\s+)\s*(?P<b>.+)")
FORMS = "19.11.2021, 19.11.2021 14.00, 19-30 ноября 2021, 1-5.12.2021, 20.12.2021 - 20.01.2022 или до 15 декабря"
MAX_ROWS = 100  # stages.MAX_STAGES


class NoYear(ValueError):
    """The term names no year and none was given to assume."""


@dataclass(frozen=True)
class Term:
    """When a row happens: from `first` to `last` (a day each; equal for one day), at `at` when a
    time of day is given; `first` is None for a deadline alone (`до 15 декабря`)."""

    first: date | None
    last: date
    at: time | None = None
    year_assumed: bool = False  # the term named no year: the caller's was taken


def parse_term(text: str, year: int | None = None) -> Term:
    """The term of a row, or ValueError saying why it cannot be read (NoYear when it names no
    year and `year` is None)."""
    s = _normal(text)
    if not s:
        raise ValueError("срок не указан; впишите его в столбец «Срок»")
    at = None
    deadline = _DEADLINE.fullmatch(s)
    if deadline:
        s = deadline["rest"]
    timed = _TIME.fullmatch(s)
    dated = _one_side(timed["rest"]) if timed else None
    if timed and dated and (dated["y"] or dated.groupdict().get("mw")):  # a time only after a whole date: "до 15.12" is no 15:12
        s, at = timed["rest"], time(int(timed["h"]), int(timed["min"]))
    single = _one_side(s)
    if single:
        day, month, year_found = _side(single)
        if month is None:
            raise ValueError(f"в сроке «{text.strip()}» нет месяца; напишите, например, 15.12.2021 или 15 декабря 2021")
        last, assumed = _day(day, month, year_found, year, text)
        return Term(None if deadline else last, last, at, assumed)
    ranged = _RANGE.fullmatch(s)
    if not ranged or deadline:
        raise ValueError(f"срок «{' '.join(text.split())}» не читается; напишите его как {FORMS}")
    a, b = _one_side(ranged["a"]), _one_side(ranged["b"])
    if not a or not b:
        raise ValueError(f"срок «{' '.join(text.split())}» не читается; напишите его как {FORMS}")
    (d1, m1, y1), (d2, m2, y2) = _side(a), _side(b)
    if m2 is None:
        raise ValueError(f"в сроке «{text.strip()}» нет месяца после диапазона дней; допишите месяц")
    last, assumed = _day(d2, m2, y2, year, text)
    m1 = m1 or m2
    y1 = y1 or (last.year if (m1, d1) <= (m2, d2) else last.year - 1)  # 30 декабря - 10 января 2022: the first day is in 2021
    first, _ = _day(d1, m1, y1, None, text)
    if first > last:
        raise ValueError(f"срок «{' '.join(text.split())}» кончается раньше, чем начинается; поменяйте даты местами")
    return Term(first, last, at, assumed)


def _normal(text: str) -> str:
    s = " ".join(text.lower().replace("ё", "е").split())
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)  # hyphens, en and em dashes, minus
    s = re.sub(r"(\d)\s*(?:гг?\.|года?\b|г\b)", r"\1", s)  # "2021 г.", "2021г.", "2021 года"
    s = re.sub(r"\s*\.\s*(?=\d)", ".", s)  # "1 . 12 . 2021"
    return " ".join(s.strip(" ,;").split())


def _one_side(s: str) -> re.Match | None:
    return _NUMERIC.fullmatch(s) or _WORDED.fullmatch(s)


def _side(m: re.Match) -> tuple[int, int | None, int | None]:
    groups = m.groupdict()
    month = int(groups["m"]) if groups.get("m") else None
    if groups.get("mw"):
        month = next(n for stem, n in sorted(MONTHS.items(), key=lambda kv: -len(kv[0])) if groups["mw"].startswith(stem))
    year = groups.get("y")
    return int(m["d"]), month, (int(year) + (2000 if len(year) == 2 else 0)) if year else None


def _day(day: int, month: int, year: int | None, assumed_year: int | None, text: str) -> tuple[date, bool]:
    taken = year or assumed_year
    if taken is None:
        raise NoYear(f"в сроке «{text.strip()}» нет года")
    try:
        found = date(taken, month, day)
    except ValueError:
        raise ValueError(f"срок «{' '.join(text.split())}» называет несуществующий день "
                         f"({day:02d}.{month:02d}.{taken}); исправьте дату") from None
    if not 1900 <= found.year <= 2200:
        raise ValueError(f"срок «{' '.join(text.split())}» в {found.year} году; проверьте год")
    return found, year is None


# -- the table --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One row of the schedule: where it starts in the file and its four cells (cells continued
    on later lines are joined with a space)."""

    line: int
    column: int  # where its term cell starts
    term: str
    activity: str = ""
    responsible: str = ""
    result: str = ""


_HEADER_KEYS = {"term": ("срок", "дата"), "activity": ("мероприят", "содержание", "наименование"),
                "responsible": ("ответствен", "исполнител"), "result": ("результат",)}
_PAGE_NUMBER = re.compile(r"(?:-\s*)?\d{1,3}(?:\s*-)?|стр(?:аница)?\.?\s*\d+(?:\s*из\s*\d+)?", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")  # YAML breaks lines at U+0085, U+2028, U+2029


def rows(text: str, file: str) -> list[Row]:
    """The schedule table's rows; SpecError located in `file` when there is no table or a term
    cannot be read."""
    lines = [_CONTROL.sub(" ", line.rstrip("\r")) for line in text.split("\n")]
    start, columns = _header(lines)
    if start is None:
        raise SpecError([Problem(file, 1, 1, "таблица графика не найдена: dqflow ищет строку заголовков с ячейками "
                                             "«Срок», «Мероприятие», «Ответственные», «Результат», разделёнными табуляцией; "
                                             "скопируйте таблицу из приказа как текст (ячейки через табуляцию)")])
    found: list[Row] = []
    for number, line in enumerate(lines[start + 1:], start + 2):
        stripped = line.strip()
        if not stripped or _header_columns(line):
            continue  # a page break: blank lines, the header repeated on the next page
        if "\t" not in line:
            if _PAGE_NUMBER.fullmatch(stripped):
                continue  # a page number between two pages
            break  # text after the table (a signature, the next appendix)
        cells = line.split("\t")
        cell = {key: cells[i].strip() if i < len(cells) else "" for key, i in columns.items()}
        if cell["term"] and not (found and _unfinished(found[-1].term)):
            column = len("\t".join(cells[:columns["term"]])) + (1 if columns["term"] else 0)
            column += len(cells[columns["term"]]) - len(cells[columns["term"]].lstrip()) + 1
            found.append(Row(number, column, **cell))
        elif found:  # the row goes on: a page break or a wrapped cell
            row = found[-1]
            for key, value in cell.items():
                if value:
                    setattr(row, key, f"{getattr(row, key)} {value}".strip())
        if len(found) > MAX_ROWS:
            raise SpecError([Problem(file, number, 1, f"в таблице больше {MAX_ROWS} строк, а в кампании не больше {MAX_ROWS} этапов; "
                                                      f"уберите лишние")])
    if not found:
        raise SpecError([Problem(file, start + 1, 1, "у таблицы графика есть заголовок, но под ним нет строк; скопируйте таблицу целиком")])
    return found


def _header(lines: list[str]) -> tuple[int | None, dict[str, int]]:
    for index, line in enumerate(lines):
        columns = _header_columns(line)
        if columns:
            return index, columns
    return None, {}


def _header_columns(line: str) -> dict[str, int]:
    """Which cell holds what, when `line` is the table's header (else empty)."""
    if "\t" not in line:
        return {}
    cells = [c.strip().lower() for c in line.split("\t")]
    columns = {}
    for key, stems in _HEADER_KEYS.items():
        index = next((i for i, c in enumerate(cells) if c.startswith(stems)), None)
        if index is not None:
            columns[key] = index
    if "term" not in columns or "activity" not in columns:
        return {}
    extra = max(columns.values()) + 1
    for key in ("responsible", "result"):  # absent columns read as empty
        columns.setdefault(key, extra)
    return columns


def _unfinished(term: str) -> bool:
    """A term cell whose end is on the next line (`20.12.2021 г. -`, `с 1 по`)."""
    return bool(re.search(r"(?:-|\bпо|\bдо|\bс)$", _normal(term)))
