"""The campaign's people as its file gives them: the ДОУ (listed inline or in a roster file, each with its own
experts) and the experts of no ДОУ's list (top-level `experts:`). Roster files are CSV (UTF-8 or Windows-1251,
`,` or `;`) or .xlsx; every problem is located at its file, row and column."""

from __future__ import annotations

import re
from typing import Callable

import yaml

from dqflow.campaign.model import Expert, Institution
from dqflow.campaign.nodes import EMAIL, NodeReader, suggest
from dqflow.errors import Problem, SpecError
from dqflow.intake import files
from dqflow.intake import table as table_files
from dqflow.intake import text as texts

ROSTER_COLUMNS = ("id", "name", "email", "contact", "inn", "expert_id", "expert_name", "expert_email")
EXPERT_COLUMNS = ("id", "name", "email", "institution")
ID_FORM = "— допустимы только буквы, цифры, «.», «-» и «_»"
EMPTY = "пусто; заполните ячейку"
NOT_EMAIL = "— не адрес электронной почты; напишите адрес вида dou2@example.org"
MAX_INSTITUTIONS = 100_000  # Russia has ~50,000 ДОУ
MAX_EXPERTS = 200_000
INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)  # the check digit of a legal entity's ИНН (приказ ФНС)


def inn_check_digit(first_nine: str) -> int:
    """The tenth digit of a legal entity's ИНН whose first nine digits are given."""
    return sum(int(d) * w for d, w in zip(first_nine, INN_WEIGHTS)) % 11 % 10


def inn_problem(value: str) -> str | None:
    """Why `value` is not a legal entity's ИНН (10 digits, the last one the check digit), in Russian with the fix; None if it is."""
    if not value.isascii() or not value.isdigit():
        return f"«{value}» — ИНН пишут одними цифрами (10 цифр у организации); уберите пробелы и другие знаки"
    if len(value) == 12:
        return (f"«{value}» — 12 цифр бывает у ИНН физического лица или ИП, а у ДОУ как организации ИНН из 10 цифр; "
                "возьмите ИНН из выписки ЕГРЮЛ или устава ДОУ")
    if len(value) != 10:
        zero = "; если ИНН начинается с 0, задайте ячейке текстовый формат, чтобы 0 не пропал" if len(value) == 9 else ""
        return f"«{value}» — в ИНН организации 10 цифр, а здесь {len(value)}{zero}; сверьте его с выпиской ЕГРЮЛ"
    if inn_check_digit(value[:9]) != int(value[9]):
        return f"ИНН «{value}» не сходится по контрольной цифре — в нём опечатка; сверьте его с выпиской ЕГРЮЛ или уставом ДОУ"
    return None


class RosterReader:
    """Reads the roster's nodes and files, recording every problem with the node reader; `notes` says how
    each roster file was read ("roster.csv read as CSV, Windows-1251, separated by ';'")."""

    def __init__(self, reader: NodeReader, notes: list[str]):
        self.r = reader
        self.notes = notes
        self._inns: dict[str, tuple[str, str]] = {}  # ИНН → (the ДОУ that has it, where it was first written)

    def institutions(self, node: yaml.Node) -> list[Institution]:
        r = self.r
        if isinstance(node, yaml.MappingNode):
            f = r.mapping(node, "institutions", ["file"], [])
            return self._roster(f["file"]) if f and "file" in f else []
        located = [(i, n) for n in r.sequence(node, "institutions") if (i := self._institution(n))]
        if isinstance(node, yaml.SequenceNode) and not node.value:
            r.error(node, "institutions: список пуст; перечислите хотя бы одно ДОУ")
        self._check_unique_people(located)
        return [i for i, _ in located]

    def _institution(self, node: yaml.Node) -> Institution | None:
        r = self.r
        f = r.mapping(node, "institution", ["id", "name", "email"], ["contact", "experts", "inn"])
        if f is None:
            return None
        experts = []
        for n in r.sequence(f["experts"], "institution.experts") if "experts" in f else []:
            e = r.mapping(n, "expert", ["id", "name", "email"], [])
            if e is not None:
                ident, name, email = (r.identifier(e.get("id"), "expert.id"), r.one_line(e.get("name"), "expert.name"),
                                      r.email(e.get("email"), "expert.email"))
                if ident and name and email:
                    experts.append(Expert(ident, name, email))
        ident, name = r.identifier(f.get("id"), "institution.id"), r.one_line(f.get("name"), "institution.name")
        email = r.email(f.get("email"), "institution.email")
        contact = r.one_line(f["contact"], "institution.contact") if "contact" in f else None
        inn = self._inline_inn(f["inn"], ident) if "inn" in f else None
        if not (ident and name and email) or ("inn" in f and inn is None):
            return None
        return Institution(ident, name, email, contact, tuple(experts), inn=inn)

    def _inline_inn(self, node: yaml.Node, institution: str | None) -> str | None:
        """`inn:` of an inline ДОУ, written bare (7017012345, even 0105012345: the node keeps the digits as typed) or quoted."""
        r = self.r
        digits = isinstance(node, yaml.ScalarNode) and node.style is None and node.value.isascii() and node.value.isdigit()
        value = node.value if digits else r.one_line(node, "institution.inn", texts.MAX_ID)
        if value is None:
            return None
        why = inn_problem(value) or self._inn_taken(value, institution, f"строка {node.start_mark.line + 1}")
        if why is not None:
            r.error(node, f"institution.inn: {why}")
            return None
        return value

    def _inn_taken(self, inn: str, institution: str | None, where: str) -> str | None:
        """Why `inn` cannot be this ДОУ's (another ДОУ of the roster has it), or None, remembering it."""
        first = self._inns.setdefault(inn, (institution or "", where))
        if first[0] == (institution or ""):
            return None
        return (f"ИНН {inn} уже указан у ДОУ «{first[0]}» ({first[1]}); у каждого ДОУ свой ИНН — "
                "проверьте, не перепутана ли строка, или уберите лишний")

    def _read_table(self, node: yaml.Node, what: str, columns: tuple[str, ...], noun: str) -> tuple[table_files.Table, list[str]] | None:
        """The roster a `{file: …}` names and its header, lower-cased: the one reader of rosters, for
        institutions and experts alike. The header must hold the first three `columns`, in any order,
        and no other. None when it cannot be read (said)."""
        r = self.r
        table = self._table(node, what)
        if table is None:
            return None
        header = [c.strip().lower() for c in table.header]
        missing = [c for c in columns[:3] if c not in header]
        if missing:
            found = ", ".join(f"«{c.strip()[:40]}»" for c in table.header[:8] if c.strip()) or "ничего"
            r.problems.append(Problem(table.file, table.header_row, 1,
                                      f"{noun}: в строке заголовков (прочитано как {table.form}) {found}; нужны столбцы "
                                      f"{', '.join(columns[:3])} (необязательные: {', '.join(columns[3:])}), "
                                      "названные так, в любом порядке, в первой строке"))
            return None
        for col, column in enumerate(header, 1):
            if column and column not in columns:
                where = f" ({table.column(col)})" if table.letters else ""
                r.problems.append(Problem(table.file, table.header_row, col, f"{noun}: неизвестный столбец "
                                                                             f"«{column}»{where}{suggest(column, columns)}"))
        return table, header

    def _roster(self, node: yaml.Node) -> list[Institution]:
        """Institutions from a roster file: one row per ДОУ, or per ДОУ and expert."""
        r = self.r
        read = self._read_table(node, "institutions.file", ROSTER_COLUMNS, "список ДОУ")
        if read is None:
            return []
        table, header = read
        file = table.file
        found: dict[str, Institution] = {}
        for line, row in table.rows:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            institution = self._roster_row(table, line, header, record)
            if institution is None:
                continue
            known = found.get(institution.id)
            if known is None:
                found[institution.id] = institution
            elif (known.name, known.email) != (institution.name, institution.email) and (institution.name or institution.email):
                r.problems.append(Problem(file, line, 1, f"ДОУ «{institution.id}» указано ещё раз с другим названием или адресом; "
                                                               "повторяйте строку ДОУ только чтобы добавить эксперта"))
            elif institution.inn and known.inn and institution.inn != known.inn:
                col = header.index("inn") + 1
                r.problems.append(Problem(file, line, col, f"ДОУ «{institution.id}» указано ещё раз с другим ИНН ({known.inn} выше); "
                                                           "у одного ДОУ один ИНН — исправьте его в этой строке или оставьте ячейку пустой"))
            else:
                found[institution.id] = Institution(known.id, known.name, known.email, known.contact, known.experts + institution.experts,
                                                    inn=known.inn or institution.inn)
        if not found:
            r.problems.append(Problem(file, table.header_row, 1, "в списке нет ни одного ДОУ; добавьте строки под заголовками"))
        self._check_unique_people([(i, node) for i in found.values()])
        return list(found.values())

    def _table(self, node: yaml.Node, what: str) -> table_files.Table | None:
        """The table a `file:` key names (CSV in UTF-8 or Windows-1251, `,` or `;`, or .xlsx), relative
        to the campaign file; None with the problems recorded. How it was read goes into `notes`."""
        r = self.r
        name = r.one_line(node, what)
        if name is None:
            return None
        path = r.base / name
        try:
            table = table_files.read(path, str(path))
        except files.Unreadable as exc:
            r.error(node, f"{what}: «{name}»: {exc}")
            return None
        except SpecError as exc:
            r.problems.extend(exc.problems)
            return None
        self.notes.append(f"{name} прочитан как {table.form}")
        return table

    @staticmethod
    def _cell_checker(table: table_files.Table, line: int, header: list[str], record: dict[str, str],
                      problems: list[Problem]) -> Callable[..., None]:
        """`check(column, valid, message, limit=None)`: one roster cell checked for its length and form, a
        problem located at its row and column (with the column's letter in a workbook) on failure."""

        def check(column: str, valid: Callable[[str], bool], message: str, limit: int | None = None) -> None:
            value = record.get(column, "")
            col = header.index(column) + 1 if column in header else 1
            where = f" ({table.column(col)})" if table.letters else ""
            limit = limit or (texts.MAX_ID if column.endswith("id") else texts.MAX_EMAIL if column.endswith("email") else texts.MAX_LINE)
            why = texts.problem(value, limit)
            if why is not None:  # quoting the value would repeat what is wrong with it
                problems.append(Problem(table.file, line, col, f"{column}{where}: {why}"))
            elif not valid(value):
                problems.append(Problem(table.file, line, col, f"{column}{where}: «{value}» {message}"))

        return check

    def _roster_row(self, table: table_files.Table, line: int, header: list[str], record: dict[str, str]) -> Institution | None:
        problems: list[Problem] = []
        check = self._cell_checker(table, line, header, record, problems)

        check("id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), ID_FORM)
        check("name", bool, EMPTY)
        check("email", lambda v: bool(EMAIL.fullmatch(v)), NOT_EMAIL)
        if record.get("contact"):
            check("contact", bool, EMPTY)
        if record.get("inn"):  # optional: where given, it must be a legal entity's ИНН, not another ДОУ's
            col = header.index("inn") + 1
            where = f" ({table.column(col)})" if table.letters else ""
            why = inn_problem(record["inn"]) or self._inn_taken(record["inn"], record.get("id"), f"строка {line}")
            if why is not None:
                problems.append(Problem(table.file, line, col, f"inn{where}: {why}"))
        expert = None
        if any(record.get(c) for c in ("expert_id", "expert_name", "expert_email")):
            check("expert_id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), ID_FORM)
            check("expert_name", bool, EMPTY)
            check("expert_email", lambda v: bool(EMAIL.fullmatch(v)), NOT_EMAIL)
            expert = Expert(record.get("expert_id", ""), record.get("expert_name", ""), record.get("expert_email", ""))
        self.r.problems.extend(problems)
        if problems:
            return None
        return Institution(record["id"], record["name"], record["email"], record.get("contact") or None, (expert,) if expert else (),
                           inn=record.get("inn") or None)

    def check_size(self, institutions: list[Institution], experts: list[Expert], node: yaml.Node) -> None:
        count = sum(len(i.experts) for i in institutions) + len(experts)
        if len(institutions) > MAX_INSTITUTIONS:
            self.r.error(node, f"institutions: ДОУ в списке {len(institutions)}, а в одной кампании dqflow ведёт "
                                 f"не больше {MAX_INSTITUTIONS}; разделите кампанию по районам")
        if count > MAX_EXPERTS:
            self.r.error(node, f"экспертов в кампании {count}, а dqflow ведёт не больше {MAX_EXPERTS}; разделите кампанию по районам")

    def _check_unique_people(self, located: list[tuple[Institution, yaml.Node | None]]) -> None:
        """Ids are unique across the roster; each duplicate is reported where it stands."""
        seen: set[str] = set()
        experts: set[str] = set()
        for i, node in located:
            if i.id in seen:
                self.r.error(node, f"id ДОУ «{i.id}» повторяется; у каждого ДОУ должен быть свой id")
            seen.add(i.id)
            for e in i.experts:
                if e.id in experts:
                    self.r.error(node, f"id эксперта «{e.id}» повторяется; у каждого эксперта должен быть свой id")
                experts.add(e.id)

    def experts(self, node: yaml.Node, institutions: list[Institution]) -> list[Expert]:
        """The top-level `experts:` (inline or `{file: …}`): ids unique with the ДОУ's own experts,
        an `institution` (optional) naming a ДОУ of the roster."""
        r = self.r
        if isinstance(node, yaml.MappingNode):
            f = r.mapping(node, "experts", ["file"], [])
            located = self._expert_roster(f["file"]) if f and "file" in f else []
        else:
            located = [(e, n) for n in r.sequence(node, "experts") if (e := self._expert(n))]
        known = {i.id for i in institutions}
        taken = {e.id for i in institutions for e in i.experts}
        found = []
        for expert, where in located:
            if expert.id in taken:
                self._located_error(where, f"id эксперта «{expert.id}» повторяется; у каждого эксперта должен быть свой id")
                continue
            taken.add(expert.id)
            if expert.institution is not None and known and expert.institution not in known:
                self._located_error(where, f"эксперт «{expert.id}»: ДОУ «{expert.institution}» нет в institutions"
                                           f"{suggest(expert.institution, known)}")
                continue
            found.append(expert)
        return found

    def _located_error(self, where: yaml.Node | Problem, message: str) -> None:
        if isinstance(where, Problem):
            self.r.problems.append(Problem(where.file, where.line, where.column, message))
        else:
            self.r.error(where, message)

    def _expert(self, node: yaml.Node) -> Expert | None:
        r = self.r
        f = r.mapping(node, "expert", ["id", "name", "email"], ["institution"])
        if f is None:
            return None
        ident, name, email = (r.identifier(f.get("id"), "expert.id"), r.one_line(f.get("name"), "expert.name"),
                              r.email(f.get("email"), "expert.email"))
        institution = r.identifier(f["institution"], "expert.institution") if "institution" in f else None
        if not (ident and name and email) or ("institution" in f and institution is None):
            return None
        return Expert(ident, name, email, institution=institution)

    def _expert_roster(self, node: yaml.Node) -> list[tuple[Expert, Problem]]:
        """Experts from a CSV file with the columns id,name,email[,institution]; each with where it stands."""
        r = self.r
        read = self._read_table(node, "experts.file", EXPERT_COLUMNS, "список экспертов")
        if read is None:
            return []
        table, header = read
        file = table.file
        found: list[tuple[Expert, Problem]] = []
        for line, row in table.rows:
            if not any(cell.strip() for cell in row):
                continue
            record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
            problems: list[Problem] = []
            check = self._cell_checker(table, line, header, record, problems)
            check("id", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), ID_FORM)
            check("name", bool, EMPTY)
            check("email", lambda v: bool(EMAIL.fullmatch(v)), NOT_EMAIL)
            if record.get("institution"):  # optional: an expert of no ДОУ leaves it empty
                check("institution", lambda v: bool(re.fullmatch(r"[\w.-]+", v)), "— не похоже на id ДОУ: допустимы буквы, цифры, «.», "
                                                                                  "«-» и «_»", texts.MAX_ID)
            r.problems.extend(problems)
            if not problems:
                found.append((Expert(record["id"], record["name"], record["email"], record.get("institution") or None),
                              Problem(file, line, 1, "")))
        if not found and not r.problems:
            r.problems.append(Problem(file, table.header_row, 1, "в списке экспертов нет ни одного эксперта; добавьте строки под заголовками"))
        return found
