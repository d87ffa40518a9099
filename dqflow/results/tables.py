"""The справка as CSV files for further processing: ids and status codes exactly as `status --json`.
Written by the one CSV writer (`present.csvfile`), so a name cannot carry a formula."""

from __future__ import annotations

from dqflow.engine.rules import Status
from dqflow.present import csvfile
from dqflow.results.figures import Results
from dqflow.results.rows import Rows


def files(results: Results) -> dict[str, str]:
    """File name → CSV text: institutions.csv, reviews.csv, stages.csv; indicators.csv where experts review per indicator."""
    found = {"institutions.csv": _institutions(results), "reviews.csv": _reviews(results), "stages.csv": _stages(results)}
    if results.indicators is not None:
        found["indicators.csv"] = _indicators(results)
    return found


def _indicators(results: Results) -> str:
    """Each ДОУ × review stage × indicator: its own level, each expert (id) and their level, the final level (ids), read
    as they are written (`rows.Rows.indicators`)."""
    return csvfile.text(["institution", "name", "stage", "indicator", "self", "expert_1", "expert_1_level", "expert_2", "expert_2_level",
                         "final"], _detail(results).indicators())


def _detail(results: Results) -> Rows:
    if results.rows is None:
        raise ValueError("the CSV tables of every ДОУ are read as they are written: compute(rows=True), and render in its session")
    return results.rows


def _institutions(results: Results) -> str:
    """Each ДОУ (roster order) and its status code in each stage."""
    rows = ([inst, name, *statuses] for inst, name, _, statuses, _, _ in _detail(results).institutions(levels=False))
    return csvfile.text(["id", "name", *[s.id for s in results.per_institution_stages]], rows)


def _reviews(results: Results) -> str:
    """A row per level a review gave: by ДОУ (roster order), review stage, review (oldest first), the campaign's areas in
    its order, then any other key the review holds (`rows.Rows.levels_given`)."""
    rows = ([inst, stage, expert, area, level] for inst, stage, expert, given in _detail(results).levels_given() for area, level in given)
    return csvfile.text(["institution", "stage", "expert", "area", "level"], rows)


def _stages(results: Results) -> str:
    statuses = [s.value for s in Status]
    rows: list[list[object]] = [[f.stage.id, f.stage.kind, f.state, *[f.counts.get(s, 0) if f.stage.per_institution else "" for s in statuses]]
                                for f in results.stages]
    return csvfile.text(["stage", "kind", "state", *statuses], rows)
