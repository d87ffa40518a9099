"""Tables as people read them: aligned columns for the terminal, GitHub-flavoured Markdown for letters."""

from __future__ import annotations

from collections.abc import Sequence

from dqflow.present.guard import markdown_text


def text_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> list[str]:
    """Columns aligned with spaces, a rule under the header; one string per line."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[object]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()

    return [line(header), line(["─" * w for w in widths]), *(line(r) for r in rows)]


def markdown_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table. Every cell goes through `guard.markdown_text`: a `|` or a line
    break cannot break the table, markup and HTML in a name or a recommendation show as typed."""
    def line(row: Sequence[object]) -> str:
        return "| " + " | ".join(markdown_text(v) for v in row) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]
