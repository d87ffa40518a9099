"""Charts for the HTML справка as inline SVG built here: no script, no external file, prints as vectors."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

LABEL_WIDTH = 250
BAR_WIDTH = 380
ROW_HEIGHT = 22
BAR_HEIGHT = 14
FONT = "font-family=\"'PT Serif', 'Times New Roman', serif\" font-size=\"11\""


@dataclass(frozen=True)
class Part:
    value: int
    color: str
    name: str


def stacked_bars(rows: list[tuple[str, list[Part]]], legend: list[tuple[str, str]], caption: str) -> Markup:
    """One horizontal bar per row, split into parts proportional to their values, a count in each part
    wide enough to hold it, the row's total at its end; then the legend. Sized in viewBox units so
    it scales to the column it is printed in."""
    width = LABEL_WIDTH + BAR_WIDTH + 40
    legend_rows = (len(legend) + 2) // 3
    height = ROW_HEIGHT * len(rows) + 10 + 18 * legend_rows
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(caption)}" '
           f'class="chart">', f"<title>{escape(caption)}</title>"]
    for n, (label, parts) in enumerate(rows):
        y = n * ROW_HEIGHT + 4
        total = sum(p.value for p in parts)
        out.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 3}" text-anchor="end" {FONT}>{escape(_clip(label))}</text>')
        out.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#f2f2f2" stroke="#bbb" stroke-width="0.5"/>')
        x = float(LABEL_WIDTH)
        for part in parts:
            if not part.value or not total:
                continue
            w = BAR_WIDTH * part.value / total
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{part.color}">'
                       f"<title>{escape(part.name)}: {part.value}</title></rect>")
            if w >= 14:
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + BAR_HEIGHT - 3}" text-anchor="middle" fill="{_ink(part.color)}" '
                           f'{FONT}>{part.value}</text>')
            x += w
        out.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + BAR_HEIGHT - 3}" {FONT}>{total}</text>')
    top = ROW_HEIGHT * len(rows) + 10
    for n, (name, color) in enumerate(legend):
        x, y = 10 + (n % 3) * (width - 20) // 3, top + (n // 3) * 18
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{y + 9}" {FONT}>{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _clip(label: str, most: int = 42) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def _ink(color: str) -> str:
    """Black or white text, whichever contrasts more with the fill (WCAG 2's ratio: black wins above a
    relative luminance of about 0.18, so a mid blue takes black, where brightness alone gave white at 3.4:1)."""
    channels = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#fff"
