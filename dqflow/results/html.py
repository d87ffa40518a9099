"""The справка as one HTML page: Russian, print-ready on A4, charts as inline SVG, no script.

The template is package data beside this module (`dqflow/results/templates/`): it belongs to the
справка, not to the email templates of `notifications/`, which a campaign may replace.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from dqflow.present import labels
from dqflow.results import svg, words
from dqflow.results.colors import LEVEL_COLORS, STATUS_COLORS, STATUS_ORDER, level_colors
from dqflow.results.figures import Results

__all__ = ["LEVEL_COLORS", "STATUS_COLORS", "render"]  # the colours as tests/test_contrast.py reads them here


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("dqflow.results", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(words=words, labels=labels)
    return env


def render(results: Results) -> str:
    return _environment().get_template("spravka.html").render(
        r=results, tz=words.zone(results), stages_chart=_stages_chart(results), levels_chart=_levels_chart(results),
        distribution=results.distribution(), agreement=results.agreement(), low=results.at_or_below_base(),
        weak=results.weak_areas(), coordinator=results.campaign.coordinator.name)


def _stages_chart(results: Results):

    rows = [(f.stage.label, [svg.Part(f.counts.get(s.value, 0), STATUS_COLORS[s.value], labels.STATUS_RU[s.value]) for s in STATUS_ORDER])
            for f in results.stages if f.stage.per_institution]
    if not rows:
        return None
    legend = [(labels.STATUS_RU[s.value], STATUS_COLORS[s.value]) for s in STATUS_ORDER]
    return svg.stacked_bars(rows, legend, f"{results.campaign.terms.nom_pl} по статусам на каждом этапе")


def _levels_chart(results: Results):
    levels = results.campaign.levels
    if not (results.area_ids and levels):
        return None
    colors = {lv.id: color for lv, color in zip(levels, level_colors(len(levels)), strict=True)}
    distribution = results.distribution()
    rows = [(results.area_title(a), [svg.Part(distribution[a].get(lv.id, 0), colors[lv.id], lv.title) for lv in levels])
            for a in results.area_ids]
    title = f"{results.campaign.terms.nom_pl} по уровням качества в каждой области"
    return svg.stacked_bars(rows, [(lv.title, colors[lv.id]) for lv in levels], title)
