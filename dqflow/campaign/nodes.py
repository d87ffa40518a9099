"""Typed, located reading of composed YAML nodes: each value keeps its FILE:LINE:COL, and a
wrong one becomes a Problem there instead of an exception (YAML 1.1 traps included)."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import Duration, Written, parse_day, read_written
from dqflow.errors import Problem
from dqflow.intake import text as texts

EMAIL = re.compile(r"[^@\s<>,;\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


TOO_DEEP = "вложенность YAML слишком глубокая; упростите файл"

# What PyYAML says most often, in the coordinator's words; anything else is quoted as PyYAML said it.
_YAML_PROBLEMS = {
    "mapping values are not allowed here": "двоеточие здесь не на месте: значение с «: » внутри возьмите в кавычки "
                                           "или проверьте отступ",
    "found character '\\t' that cannot start any token": "табуляция: отступы в YAML делают пробелами",
    "could not find expected ':'": "не найдено «:» после ключа; проверьте строку и отступы",
    "expected <block end>, but found '<block mapping start>'": "сбит отступ: выровняйте строку по соседним",
    "expected <block end>, but found '-'": "сбит отступ у элемента списка «- »: выровняйте его по соседним",
    "found unexpected end of stream": "файл кончился раньше, чем закрылись кавычки или скобки",
    "found undefined alias": "ссылка «*» на якорь, которого нет",
}


def yaml_problem(said: str | None) -> str:
    if not said:
        return "файл не читается как YAML"
    return _YAML_PROBLEMS.get(said) or next((ru for en, ru in _YAML_PROBLEMS.items() if said.startswith(en)), f"«{said}»")


class NodeReader:
    """Typed access to YAML nodes that records a located Problem instead of raising."""

    def __init__(self, filename: str, base: Path):
        self.filename = filename
        self.base = base
        self.problems: list[Problem] = []

    def document(self, text: str, what: str) -> yaml.Node | None:
        """The one YAML document of `text`, composed (not constructed) so every value keeps its
        position; None with the problem recorded when it is not valid YAML or not one document."""
        try:
            documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            self.problems.append(Problem(self.filename, line, col, f"синтаксис YAML: {yaml_problem(exc.problem or exc.context)}"))
            return None
        except yaml.reader.ReaderError as exc:  # a control character: PyYAML gives only its offset
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            self.problems.append(Problem(self.filename, line, column,
                                         f"символ #x{exc.character:04x} недопустим в YAML; удалите его или запишите экранированным (\\x..)"))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.filename, 1, 1, "синтаксис YAML: " + yaml_problem(" ".join(str(exc).split()))))
            return None
        except RecursionError:
            self.problems.append(Problem(self.filename, 1, 1, TOO_DEEP))
            return None
        if len(documents) != 1 or documents[0] is None:
            self.error(documents[1] if len(documents) > 1 else None, f"{what}: нужен ровно один документ YAML, а файл пуст или "
                                                                     f"разделён «---» на несколько; оставьте один")
            return None
        return documents[0]

    def _add(self, node: yaml.Node | None, message: str, severity: str, file: str | None = None) -> None:
        mark = node.start_mark if node is not None else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.problems.append(Problem(file or self.filename, line, col, message, severity))

    def error(self, node: yaml.Node | None, message: str) -> None:
        self._add(node, message, "error")

    def warn(self, node: yaml.Node | None, message: str) -> None:
        self._add(node, message, "warning")

    def mapping(self, node: yaml.Node, what: str, required: Iterable[str], optional: Iterable[str]) -> dict[str, yaml.Node] | None:
        """The keys of a mapping node; unknown, duplicate and missing keys are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what}: ожидаются строки «ключ: значение»")
            return None
        required, allowed = set(required), set(required) | set(optional)
        fields: dict[str, yaml.Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                self.error(key_node, f"{what}: ключ должен быть простым словом (ключи слияния «<<» и составные ключи не поддерживаются)")
            elif key in first_line:
                self.error(key_node, f"{what}: ключ «{key}» повторяется (впервые в строке {first_line[key]}); оставьте один")
            elif key not in allowed:
                self.error(key_node, f"{what}: неизвестный ключ «{key}»{suggest(key, allowed)}")
                first_line[key] = key_node.start_mark.line + 1
            else:
                first_line[key] = key_node.start_mark.line + 1
                fields[key] = value_node
        for key in sorted(required - set(first_line)):
            self.error(node, f"{what}: нет обязательного ключа «{key}»; добавьте его")
        return fields

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.error(node, f"{what}: ожидается список (строки, начинающиеся с «- »)")
        return []

    def text(self, node: yaml.Node | None, what: str) -> str | None:
        """A string; plain scalars that YAML 1.1 would turn into something else are refused."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"{what}: ожидается одно значение, а не {'список' if isinstance(node, yaml.SequenceNode) else 'набор ключей'}")
            return None
        value = node.value
        if node.style is None and node.tag != _STR:
            trap = yaml11_trap(node)
            if trap:
                self.error(node, f"{what}: {trap}")
                return None
        elif node.tag not in (_STR, _INT, _TIMESTAMP):
            self.error(node, f"{what}: тег {node.tag} не поддерживается; уберите его")
            return None
        if not value.strip():
            self.error(node, f"{what}: значение пустое; впишите его")
            return None
        return value

    def one_line(self, node: yaml.Node | None, what: str, limit: int = texts.MAX_LINE) -> str | None:
        value = self.text(node, what)
        if value is not None and ("\n" in value or "\r" in value):
            self.error(node, f"{what}: значение должно уместиться в одну строку")
            return None
        why = texts.problem(value.strip(), limit) if value is not None else None
        if why is not None:  # refused here, at its position, rather than when it is stored or mailed
            self.error(node, f"{what}: {why}")
            return None
        return value.strip() if value is not None else None

    def slug(self, node: yaml.Node | None, what: str) -> str | None:
        value = self.one_line(node, what, texts.MAX_ID)
        if value is not None and not SLUG.fullmatch(value):
            self.error(node, f"{what}: в «{value}» допустимы только строчные латинские буквы, цифры, «-» и «_» (например, tomsk-2021)")
            return None
        return value

    def identifier(self, node: yaml.Node | None, what: str) -> str | None:
        value = self.one_line(node, what, texts.MAX_ID)
        if value is not None and not re.fullmatch(r"[\w.-]+", value):
            self.error(node, f"{what}: в «{value}» допустимы только буквы, цифры, «.», «-» и «_»")
            return None
        return value

    def email(self, node: yaml.Node | None, what: str) -> str | None:
        value = self.one_line(node, what, texts.MAX_EMAIL)
        if value is not None and not EMAIL.fullmatch(value):
            self.error(node, f"{what}: «{value}» — не адрес электронной почты; напишите адрес вида dou2@example.org")
            return None
        return value

    def integer(self, node: yaml.Node | None, what: str, minimum: int = 0, maximum: int = 10**9) -> int | None:
        if node is None:
            return None
        if not (isinstance(node, yaml.ScalarNode) and node.style is None and node.tag == _INT and re.fullmatch(r"[0-9]+", node.value)):
            self.error(node, f"{what}: нужно целое число (цифрами, без кавычек)")
            return None
        digits = node.value.lstrip("0") or "0"
        if len(digits) > len(str(maximum)) or int(digits) > maximum:  # length first: int() of 5,000 digits raises
            self.error(node, f"{what}: не больше {maximum}")
            return None
        value = int(digits)
        if value < minimum:
            self.error(node, f"{what}: не меньше {minimum}")
            return None
        return value

    def boolean(self, node: yaml.Node | None, what: str) -> bool | None:
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.style is None and node.value in ("true", "false"):
            return node.value == "true"
        self.error(node, f"{what}: нужно true или false")
        return None

    def moment(self, node: yaml.Node | None, what: str, tz: ZoneInfo | None, *, end_of_day: bool = False) -> datetime | None:
        written = self.written(node, what)
        if written is None or tz is None:
            return None
        try:
            return written.moment(tz, end_of_day=end_of_day)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def written(self, node: yaml.Node | None, what: str) -> Written | None:
        """A date or date-time as written (dd.mm.yyyy or ISO), not yet placed in a zone."""
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag == _INT and ":" in node.value:
            self.error(node, f"{what}: {node.value} YAML 1.1 читает как число; напишите дату перед временем: "
                             f"«дд.мм.гггг {node.value}» или «гггг-мм-дд {node.value}»")
            return None
        value = self.one_line(node, what)
        if value is None:
            return None
        try:
            return read_written(value)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def day(self, node: yaml.Node, what: str) -> date | None:
        value = self.one_line(node, what)
        if value is None:
            return None
        try:
            return parse_day(value)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def duration(self, node: yaml.Node | None, what: str) -> Duration | None:
        value = self.one_line(node, what)
        if value is None:
            return None
        try:
            return Duration.parse(value)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def choice(self, node: yaml.Node | None, what: str, choices: Iterable[str]) -> str | None:
        value = self.one_line(node, what)
        choices = tuple(choices)
        if value is not None and value not in choices:
            self.error(node, f"{what}: «{value}» — допустимо одно из: {', '.join(choices)}")
            return None
        return value


def yaml11_trap(node: yaml.ScalarNode) -> str | None:
    """Why a plain scalar would not read as the text written, or None if it would."""
    value = node.value
    if node.tag == _BOOL:
        return f"{value} YAML 1.1 читает как логическое {str(value.lower() in ('yes', 'y', 'on', 'true')).lower()}; возьмите в кавычки: \"{value}\""
    if node.tag == _NULL:
        if not value or value == "~":
            return "значение не задано"
        return f"{value} YAML читает как пустое значение (null); возьмите в кавычки: \"{value}\""
    if node.tag == _INT:
        if re.fullmatch(r"[1-9][0-9]*|0", value):
            return None
        kind = "шестидесятеричное число" if ":" in value else "восьмеричное или шестнадцатеричное число" if value.lstrip("+-")[:1] == "0" else "число"
        return f"{value} YAML 1.1 читает как {kind}; возьмите в кавычки: \"{value}\""
    if node.tag == "tag:yaml.org,2002:float":
        return f"{value} YAML читает как число; возьмите в кавычки: \"{value}\""
    if node.tag in (_STR, _TIMESTAMP):
        return None
    return f"тег {node.tag} не поддерживается; уберите его"


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; может быть, «{close[0]}»?" if close else f"; допустимы: {', '.join(sorted(options))}"
