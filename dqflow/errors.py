"""One error tree: every user mistake is a DqflowError the CLI turns into a clear line."""

from __future__ import annotations

from dataclasses import dataclass

# Every character str.splitlines() breaks on: a message quoting the user's text stays one line.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


class DqflowError(Exception):
    """A problem the user can fix; the message says what, where and how."""


class NotFound(DqflowError):
    """A named campaign, institution, stage or expert does not exist."""


class NotAllowed(DqflowError):
    """The action is understood but the campaign's state forbids it (not open, locked…)."""


@dataclass(frozen=True)
class Problem:
    """One finding about an input file, located as FILE:LINE:COL (1-based)."""

    file: str
    line: int
    column: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {one_line(self.message)}"


class SpecError(DqflowError):
    """A campaign file has errors; each is a Problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
