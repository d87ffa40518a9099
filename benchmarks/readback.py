#!/usr/bin/env python3
"""Two workbooks read back with openpyxl, compared cell by cell: what a change of the writer must not change.

    .venv/bin/python benchmarks/readback.py BEFORE.xlsx AFTER.xlsx

Compared: the sheets' names and order; every cell's value, type, number format, bold and quotePrefix; each sheet's
column widths, frozen pane, filter, merged cells and the charts' count; the book's title and creator. Printed: the
first differences (at most 20) and a count; exit 1 when any. Not compared: the XML's bytes (shared strings, a
number's `t="n"`, the deflate) — what the writer may change.
"""

from __future__ import annotations

import sys

import openpyxl


def described(path: str) -> tuple[dict, dict]:
    book = openpyxl.load_workbook(path)
    sheets: dict[str, dict] = {}
    cells: dict[tuple[str, str], tuple] = {}
    for sheet in book.worksheets:
        sheets[sheet.title] = {
            "widths": {k: d.width for k, d in sorted(sheet.column_dimensions.items())},
            "freeze": sheet.freeze_panes, "filter": sheet.auto_filter.ref, "merged": sorted(map(str, sheet.merged_cells.ranges)),
            "charts": len(sheet._charts), "max": (sheet.max_row, sheet.max_column),
        }
        for row in sheet.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[(sheet.title, c.coordinate)] = (c.value, c.data_type, c.number_format, bool(c.font.bold), bool(c.quotePrefix))
    sheets["(book)"] = {"order": book.sheetnames, "title": book.properties.title, "creator": book.properties.creator}
    return sheets, cells


def main() -> None:
    before, after = sys.argv[1:3]
    (sheets_a, cells_a), (sheets_b, cells_b) = described(before), described(after)
    differences = [f"sheet {name}: {sheets_a.get(name)} → {sheets_b.get(name)}"
                   for name in sorted({*sheets_a, *sheets_b}) if sheets_a.get(name) != sheets_b.get(name)]
    differences += [f"{key}: {cells_a.get(key)} → {cells_b.get(key)}" for key in sorted({*cells_a, *cells_b})
                    if cells_a.get(key) != cells_b.get(key)]
    print(f"{len(cells_a):,} cells in {len(sheets_a) - 1} sheets before, {len(cells_b):,} in {len(sheets_b) - 1} after; "
          f"{len(differences)} differences")
    for line in differences[:20]:
        print(" ", line)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
