"""The справка as CSV files for further processing: ids and status codes exactly as `status --json`."""

from __future__ import annotations

import csv
import io

from dqflow.engine.rules import Status
from dqflow.results.figures import Results


def files(results: Results) -> dict[str, str]:
    """File name → CSV text: institutions.csv, reviews.csv, stages.csv."""
    return {"institutions.csv": _institutions(results), "reviews.csv": _reviews(results), "stages.csv": _stages(results)}


def _csv(rows: list[list]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _institutions(results: Results) -> str:
    stages = [s.id for s in results.per_institution_stages]
    rows = [["id", "name", *stages]]
    rows += [[i.institution.id, i.institution.name, *[i.stages[s].status for s in stages]] for i in results.institutions]
    return _csv(rows)


def _reviews(results: Results) -> str:
    rows = [["institution", "stage", "expert", "area", "level"]]
    for inst in results.institutions:
        for panel in inst.reviews.values():
            for review in panel.reviews:
                order = [a for a in results.area_ids if a in review.levels] + [a for a in review.levels if a not in results.area_ids]
                rows += [[inst.institution.id, panel.stage_id, review.expert_id, area, review.levels[area]] for area in order]
    return _csv(rows)


def _stages(results: Results) -> str:
    statuses = [s.value for s in Status]
    rows = [["stage", "kind", "state", *statuses]]
    for f in results.stages:
        rows.append([f.stage.id, f.stage.kind, f.state, *[f.counts.get(s, 0) if f.stage.per_institution else "" for s in statuses]])
    return _csv(rows)
