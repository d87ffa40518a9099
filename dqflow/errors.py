"""One error tree: every user mistake is a DqflowError the CLI turns into a clear line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Every character str.splitlines() breaks on, the other control characters and surrogate halves
# (which no terminal encoding can print): a message quoting the user's text stays one printable line.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


class DqflowError(Exception):
    """A problem the user can fix; the message says what, where and how.

    `code` names the refusal for readers in other languages: `present.refusals` says it in Russian from the
    code and `facts` (the moments already formatted for people) on the portal and the terminal alike. A refusal
    without a code is said by its message, which is then written in Russian (the logs keep the English of coded ones)."""

    def __init__(self, message: str = "", *, code: str | None = None, **facts):  # str values (a list's rules: Rule objects)
        super().__init__(message)
        self.code, self.facts = code, facts
        self.campaign: Any = None  # (a spec.Campaign) the campaign it was raised in, when the CLI knows it: its words for ДОУ and stages


class NotFound(DqflowError):
    """A named campaign, institution, stage or expert does not exist."""


class NotAllowed(DqflowError):
    """The action is understood but the campaign's state forbids it (not open, locked…)."""


SEVERITY = {"error": "ошибка", "warning": "предупреждение"}  # as the coordinator reads them


@dataclass(frozen=True)
class Problem:
    """One finding about an input file, located as FILE:LINE:COL (1-based)."""

    file: str
    line: int
    column: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return one_line(f"{self.file}:{self.line}:{self.column}: {SEVERITY.get(self.severity, self.severity)}: {self.message}")


class SpecError(DqflowError):
    """A campaign file has errors; each is a Problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
