"""The справка in HTML: Russian, print-ready on A4, charts as inline SVG, no script.

Two shapes (docs/report.md):
- one file (`render`): the summary — coverage, timeliness, levels by area, weakest areas, agreement, expert timeliness,
  the first ДОУ that need attention with how many there are — and, for a roster of at most `SECTIONS_UP_TO` ДОУ, each
  ДОУ's section after it, as a town's справка has always been printed. Above that the file is the summary alone
  (its size does not grow with the roster) and says where each ДОУ's results are;
- a folder (`pages`): `index.html` the summary, `dou/index.html` the list of every ДОУ, a page per ДОУ in `dou/`,
  `experts.html` every expert's timeliness; linked both ways.

The templates are package data beside this module (`dqflow/results/templates/`): they belong to the справка, not to the
email templates of `notifications/`, which a campaign may replace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from dqflow.campaign import spec
from dqflow.present import labels
from dqflow.results import dynamics, indicators, svg, words
from dqflow.results.colors import LEVEL_COLORS, STATUS_COLORS, STATUS_ORDER, level_colors
from dqflow.results.detail import InstitutionResult
from dqflow.results.figures import DETAIL_UP_TO, Results

__all__ = ["LEVEL_COLORS", "STATUS_COLORS", "render", "pages"]  # the colours as tests/test_contrast.py reads them here

SECTIONS_UP_TO = DETAIL_UP_TO  # ДОУ a single-file справка gives each a section (about 2.5 KB of HTML a ДОУ)
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("dqflow.results", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(words=words, labels=labels, ind=indicators)
    env.globals["dynamics"] = dynamics  # this year beside last year (`_dynamics.html`)
    return env


def render(results: Results) -> str:
    """The single-file справка: the summary, with each ДОУ's section when the roster is small and each was read."""
    sections = results.detailed and results.total <= SECTIONS_UP_TO
    return _summary(_environment(), results, sections=sections, pages={}, folder_note=words.detail_elsewhere(results),
                    full_list=words.full_list(results))


def pages(results: Results) -> Iterator[tuple[str, str]]:
    """The справка as a folder: (path relative to the folder, HTML) of each page, `index.html` (the summary) first.
    Each ДОУ's page is rendered as it is asked for: the pages are never all held at once. Needs `results.detailed`."""
    if not results.detailed:
        raise ValueError("a folder of pages needs each ДОУ's detail: compute(detail=True)")
    env = _environment()
    names = page_names(results.institutions)
    t = results.campaign.terms
    yield "index.html", _summary(env, results, sections=False, pages=names, folder_note="",
                                 full_list=Markup('<a class="dou" href="dou/index.html">список {}</a> (слабые области каждого)').format(t.gen_pl))
    rows = [(inst, names[inst.institution.id]) for inst in results.institutions]
    yield "dou/index.html", env.get_template("dou_index.html").render(r=results, rows=rows, stages=results.per_institution_stages)
    if results.review_stages:
        own = {"m": "Свой", "f": "Своя"}.get(t.gender, "Своё")
        yield "experts.html", env.get_template("experts.html").render(r=results, own=own)
    page = env.get_template("dou.html")
    for n, inst in enumerate(results.institutions, 1):
        yield f"dou/{names[inst.institution.id]}", page.render(r=results, inst=inst, n=n)


def page_names(institutions: list[InstitutionResult]) -> dict[str, str]:
    """ДОУ id → its page's file name in `dou/`: the id itself when every id is a plain file name (letters, digits, `_.-`)
    and no two differ by case alone, else the ДОУ's number in the roster."""
    ids = [i.institution.id for i in institutions]
    plain = all(_SAFE.fullmatch(i) for i in ids) and len({i.lower() for i in ids} | {"index"}) == len(ids) + 1
    return {i: f"{i if plain else n}.html" for n, i in enumerate(ids, 1)}


def _summary(env: Environment, results: Results, *, sections: bool, pages: dict[str, str], folder_note: str,
             full_list: str | Markup) -> str:
    experts, experts_note = words.experts_shown(results, folder=bool(pages))

    def dou_link(inst: spec.Institution) -> Markup:
        page = pages.get(inst.id)
        return Markup('<a class="dou" href="dou/{}">{}</a>').format(page, inst.name) if page else Markup(escape(inst.name))

    return env.get_template("spravka.html").render(
        r=results, tz=words.zone(results), stages_chart=_stages_chart(results), levels_chart=_levels_chart(results),
        distribution=results.distribution(), agreement=results.agreement(), weak=results.weak_areas(),
        coordinator=results.campaign.coordinator.name, sections=sections, folder=bool(pages), folder_note=folder_note,
        full_list=full_list, dou_link=dou_link, experts=experts, experts_note=experts_note)


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
