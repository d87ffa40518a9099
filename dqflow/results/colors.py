"""The справка's charts in every format (the HTML's SVG, the XLSX's and DOCX's charts): the order statuses stack
in and the colours of statuses and levels, said once so the charts of one справка look alike."""

from __future__ import annotations

from dqflow.engine.rules import Status

STATUS_ORDER = [Status.DONE, Status.LATE, Status.MISSED, Status.NOTHING, Status.EXCUSED, Status.OPEN, Status.UPCOMING]
STATUS_COLORS = {  # colour-blind safe, and distinct in greyscale print
    Status.DONE.value: "#1b7837", Status.LATE.value: "#a6dba0", Status.MISSED.value: "#b2182b",
    Status.EXCUSED.value: "#bababa", Status.OPEN.value: "#4393c3", Status.UPCOMING.value: "#e0e0e0",
    Status.NOTHING.value: "#762a83",  # a review of nothing (no materials): apart from the missed
}
LEVEL_COLORS = ["#d7301f", "#fc8d59", "#91bfdb", "#4575b4", "#313695", "#74add1"]


def level_colors(count: int) -> list[str]:
    return [LEVEL_COLORS[n % len(LEVEL_COLORS)] for n in range(count)]
