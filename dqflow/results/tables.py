"""The справка as CSV files for further processing: ids and status codes exactly as `status --json`.
Written by the one CSV writer (`present.csvfile`), so a name cannot carry a formula.

Each file is a header and rows read as they are written (`tables`): `results.write` streams them into their files
(`csvfile.write`), nothing held whole; `files` gives them as text (the same bytes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from dqflow.engine.rules import Status
from dqflow.present import csvfile
from dqflow.results.figures import Results
from dqflow.results.rows import Rows

Table = tuple[list[str], Callable[[], Iterable[Sequence[object]]]]  # a header, and its rows when asked (read then, once)


def tables(results: Results) -> dict[str, Table]:
    """File name → its table: institutions.csv, reviews.csv, stages.csv; indicators.csv where experts review per indicator."""
    found = {"institutions.csv": _institutions(results), "reviews.csv": _reviews(results), "stages.csv": _stages(results)}
    if results.indicators is not None:
        found["indicators.csv"] = _indicators(results)
    return found


def files(results: Results) -> dict[str, str]:
    """File name → CSV text (`tables`)."""
    return {name: csvfile.text(header, rows()) for name, (header, rows) in tables(results).items()}


def _indicators(results: Results) -> Table:
    """Each ДОУ × review stage × indicator: its own level, each expert (id) and their level, the final level (ids), read
    as they are written (`rows.Rows.indicators`)."""
    return (["institution", "name", "stage", "indicator", "self", "expert_1", "expert_1_level", "expert_2", "expert_2_level", "final"],
            lambda: _detail(results).indicators())


def _detail(results: Results) -> Rows:
    if results.rows is None:
        raise ValueError("the CSV tables of every ДОУ are read as they are written: compute(rows=True), and render in its session")
    return results.rows


def _institutions(results: Results) -> Table:
    """Each ДОУ (roster order) and its status code in each stage."""
    return (["id", "name", *[s.id for s in results.per_institution_stages]],
            lambda: _detail(results).statuses())


def _reviews(results: Results) -> Table:
    """A row per level a review gave: by ДОУ (roster order), review stage, review (oldest first), the campaign's areas in
    its order, then any other key the review holds (`rows.Rows.levels_given`); a review's rows written as one group
    (`csvfile.Grouped`: its ДОУ, stage and expert made once, its levels' cells once per distinct set of levels)."""
    return (["institution", "stage", "expert", "area", "level"],
            lambda: csvfile.Grouped(((inst, stage, expert), given) for inst, stage, expert, given in _detail(results).levels_given()))


def _stages(results: Results) -> Table:
    statuses = [s.value for s in Status]
    rows: list[list[object]] = [[f.stage.id, f.stage.kind, f.state, *[f.counts.get(s, 0) if f.stage.per_institution else "" for s in statuses]]
                                for f in results.stages]
    return ["stage", "kind", "state", *statuses], lambda: rows
