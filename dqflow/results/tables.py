"""The справка as CSV files for further processing: ids and status codes exactly as `status --json`.
Written by the one CSV writer (`present.csvfile`), so a name cannot carry a formula."""

from __future__ import annotations

from dqflow.engine.rules import Status
from dqflow.present import csvfile
from dqflow.results.figures import Results


def files(results: Results) -> dict[str, str]:
    """File name → CSV text: institutions.csv, reviews.csv, stages.csv; indicators.csv where experts review per indicator."""
    found = {"institutions.csv": _institutions(results), "reviews.csv": _reviews(results), "stages.csv": _stages(results)}
    if results.indicators is not None and results.indicators.table is not None:
        found["indicators.csv"] = _indicators(results)
    return found


def _indicators(results: Results) -> str:
    """Each ДОУ × review stage × indicator: its own level, each expert (id) and their level, the final level (ids)."""
    assert results.indicators is not None and results.indicators.table is not None
    return csvfile.text(["institution", "name", "stage", "indicator", "self", "expert_1", "expert_1_level", "expert_2", "expert_2_level",
                         "final"], results.indicators.table.rows())


def _institutions(results: Results) -> str:
    stages = [s.id for s in results.per_institution_stages]
    if results.rows is not None:  # plain values (`compute(rows=True)`)
        rows = [[i.id, i.name, *[statuses[s] for s in stages]] for i, statuses in results.rows.statuses]
    else:
        rows = [[i.institution.id, i.institution.name, *[i.stages[s].status for s in stages]] for i in results.institutions]
    return csvfile.text(["id", "name", *stages], rows)


def _reviews(results: Results) -> str:
    if results.rows is not None:
        given = [(inst, stage, expert, levels) for inst, stage, expert, levels in results.rows.reviews]
        order = {inst.id: n for n, (inst, _) in enumerate(results.rows.statuses)}
        stages = {s.id: n for n, s in enumerate(results.campaign.stages)}
        given.sort(key=lambda g: (order.get(g[0], len(order)), stages.get(g[1], len(stages))))  # as each ДОУ's panels list them
    else:
        given = [(inst.institution.id, panel.stage_id, review.expert_id, review.levels)
                 for inst in results.institutions for panel in inst.reviews.values() for review in panel.reviews]
    rows = []
    areas = results.area_ids
    for inst_id, stage_id, expert_id, levels in given:
        order_of = [a for a in areas if a in levels] + [a for a in levels if a not in areas]
        rows += [[inst_id, stage_id, expert_id, area, levels[area]] for area in order_of]
    return csvfile.text(["institution", "stage", "expert", "area", "level"], rows)


def _stages(results: Results) -> str:
    statuses = [s.value for s in Status]
    rows: list[list[object]] = [[f.stage.id, f.stage.kind, f.state, *[f.counts.get(s, 0) if f.stage.per_institution else "" for s in statuses]]
                                for f in results.stages]
    return csvfile.text(["stage", "kind", "state", *statuses], rows)
