"""The справка in Markdown, for pasting into a letter. Every piece of people's text (names, titles,
reasons, recommendations) goes through `present.guard.markdown_text` (tables do it for each cell):
it shows as typed and never renders as HTML or a link."""

from __future__ import annotations

from dqflow.present.guard import markdown_text as md
from dqflow.present.labels import STATUS_RU, reported
from dqflow.present.tables import markdown_table as table
from dqflow.results import indicators, words
from dqflow.results.detail import InstitutionResult
from dqflow.results.figures import Results


def render(results: Results) -> str:
    c = results.campaign
    t = c.terms  # ДОУ, ДОО…: the campaign's own word
    lines = [f"# {words.title(results)}", "", f"**{md(c.title)}**", "", f"{md(words.as_of(results, capital=True))}  ",
             f"{md(words.prepared_by(results))}", ""]
    if words.order_line(results):
        lines += [f"Основание: {md(words.order_line(results))}.", ""]
    lines += [f"{t.nom_pl}: {results.total}.", ""]
    lines += ["## 1. Выполнение этапов", "", *table(
        ["Этап", "Срок", f"Ожидалось {t.gen_pl}", "Сдали", "В срок", "Охват", "Доля в срок"],
        [[f.stage.label, words.when(results, f.stage.due_at), f.expected, f.handed_in, f.on_time,
          words.percent(f.coverage), words.percent(f.on_time_rate)] for f in results.stages if f.stage.per_institution]), ""]
    levels = results.campaign.levels
    if results.area_ids and levels:
        distribution = results.distribution()
        lines += [f"## 2. Уровни качества по областям (число {t.gen_pl})", "", *table(
            ["Область", *[lv.title for lv in levels]],
            [[results.area_title(a), *[distribution[a].get(lv.id, 0) for lv in levels]] for a in results.area_ids]), ""]
        base = results.level_title(results.base_level) if results.base_level else ""
        lines += [f"## 3. {t.nom_pl} с областями на базовом уровне и ниже («{md(base)}»)", ""]
        lines += [f"- {md(i.name)} ({t.nom} {md(i.id)}): " + ", ".join(md(results.area_title(a)) for a in areas)
                  for i, areas in results.attention] or [f"Таких {t.gen_pl} нет."]
        if words.shown_first(results):
            lines += ["", md(f"{words.shown_first(results)}. Полный список: {words.full_list(results)}.")]
        lines += ["", "## 4. Согласованность оценок экспертов", "", *table(
            ["Область", "Оценки совпали", "Сравнений", "Доля"],
            [[results.area_title(a), agreed, compared, words.percent(agreed / compared if compared else None)]
             for a, (agreed, compared) in results.agreement().items()]), ""]
        lines += ["## 5. Наиболее частые слабые области", ""]
        lines += [f"{n}. {md(results.area_title(a))} — у {count} {t.gen_pl}"
                  for n, (a, count) in enumerate(results.weak_areas(), 1)] or ["Оценок нет."]
        lines += [""]
    if results.indicators is not None:
        lines += _indicators(results)
    if results.review_stages:
        shown, note = words.experts_shown(results)
        lines += ["## 6. Своевременность экспертов", "", *table(
            ["Эксперт", f"Назначено {t.gen_pl}", "В срок", "С опозданием", "Не отчитались", "Доля в срок"],
            [[e.expert.name, e.assigned, e.on_time, e.late, e.missing, words.percent(e.punctuality)] for e in shown]), ""]
        lines += [md(note), ""] if note else []
    if results.dynamics is not None:
        lines += _dynamics(results)
    lines += ["## 7. По учреждениям", ""]
    if not results.detailed:  # a large roster: the document is the summary, each ДОУ's part is elsewhere
        lines += [md(words.detail_elsewhere(results)), ""]
    for inst in results.institutions:
        lines += _institution(results, inst)
        if results.dynamics is not None:
            lines += _dynamics_institution(results, inst)
    return "\n".join(lines).rstrip() + "\n"


def _institution(results: Results, inst: InstitutionResult) -> list[str]:
    lines = [f"### {md(inst.institution.name)} ({results.campaign.terms.nom} {md(inst.institution.id)})", ""]
    lines += table(["Этап", "Статус", "Срок", "Сдано", "Ссылки"], [
        [results.stage_label(o.stage_id), STATUS_RU[o.status], words.when(results, o.due_at) + (" (продлён)" if o.extended else ""),
         words.when(results, o.submitted_at), " ".join(o.links)] for o in inst.stages.values()])
    extensions = [(results.stage_label(o.stage_id), e) for o in inst.stages.values() for e in o.extensions]
    if extensions:
        lines += [""] + [f"- Продление {md(stage)}: до {words.when(results, e.until)}, причина: {md(e.reason)}" for stage, e in extensions]
    for panel in inst.reviews.values():
        experts = ", ".join(results.expert_name(e) for e in panel.assigned)
        lines += ["", f"{md(results.stage_label(panel.stage_id))}: {reported(len(panel.reviews), len(panel.assigned))}"
                  + (f" (эксперты: {md(experts)})" if panel.assigned else "")]
        if panel.reviews and results.area_ids:
            agreement = panel.agreement(results.area_ids)
            lines += [""] + table(["Область", *[results.expert_name(r.expert_id) for r in panel.reviews], "Согласие"], [
                [results.area_title(a), *[r.levels.get(a, "—") for r in panel.reviews], words.agreement_word(agreement[a])]
                for a in results.area_ids])
    if results.indicators is not None:
        for stage, rows in indicators.document_rows(results.indicators, inst.institution.id):
            lines += ["", f"Показатели: {md(results.stage_label(stage))}", "", *table(indicators.DOU_HEADER, rows)]
    grouped = results.recommendations_by_area(inst)
    if grouped:
        lines += ["", "Адресные рекомендации по областям:"]
        for area, said in grouped:
            lines += ["", f"*{md(area)}*", ""] + [f"- {md(rec.text)} ({md(rec.stage)}, {md(rec.expert)})" for rec in said]
    return lines + [""]


# -- this year beside last year (`results.dynamics`: --compare) ----------------------------------------------------------


def _dynamics(results: Results) -> list[str]:
    from dqflow.results import dynamics

    d = results.dynamics
    lines = [f"## {dynamics.TITLE}", "", md(dynamics.campaign_line(d)), ""]
    if d.town:
        lines += ["### Уровни качества по областям", "", *table(*dynamics.town_rows(d)), ""]
    if d.indicator_town:
        lines += ["### Уровни качества по показателям", "", *table(*dynamics.indicator_town_rows(d)), ""]
    if d.town or d.indicator_town:
        lines += [md(dynamics.scale_note(d)), ""]
    lines += ["### Своевременность этапов", ""]
    lines += [*table(*dynamics.timeliness_rows(d)), ""] if d.timeliness else [
        "Этапов с теми же идентификаторами, что в прошлом году, нет: своевременность не сравнивается.", ""]
    lines += [x for line in [*dynamics.notes(d), *dynamics.roster_lines(d, results.campaign.terms)] for x in (md(line), "")]
    return lines


def _dynamics_institution(results: Results, inst: InstitutionResult) -> list[str]:
    from dqflow.results import dynamics

    d = results.dynamics
    if not d.detailed or inst.state == "withdrawn":
        return []
    new = f" — {dynamics.NEW_RU}: сравнивать не с чем" if d.is_new(inst.institution.id) else ""
    lines = [f"**{dynamics.TITLE}**{new}", ""]
    header, rows = dynamics.institution_rows(d, inst.institution.id)
    if rows:
        lines += [*table(header, rows), ""]
    header, rows = dynamics.followup_rows(d, inst.institution.id)
    if rows:
        lines += ["Рекомендации прошлого года и уровни этого года в областях, к которым они относились:", "",
                  *table(header, [[v.replace("\n", " ") for v in row] for row in rows]), ""]
    return lines


def _indicators(results: Results) -> list[str]:
    """The справка по показателям: the town's table per indicator, the ДОУ below the base level."""
    assert results.indicators is not None
    report, t = results.indicators, results.campaign.terms
    header, rows = indicators.document_table(report, words.percent)
    lines = ["## Показатели", "", md(indicators.NOTE.format(nom=t.nom, gen_pl=t.gen_pl)), "", *table(header, rows), ""]
    if report.base_level:
        lines += [f"### {t.nom_pl} с показателями ниже базового уровня («{md(results.level_title(report.base_level))}»)", ""]
        lines += [f"- {md(inst.name)} ({t.nom} {md(inst.id)}): {md(inds)}" for inst, inds in indicators.below_lines(report)] or [
            f"Таких {t.gen_pl} нет."]
        if report.below_total > len(report.below):
            lines += ["", f"Показаны первые {len(report.below)} из {report.below_total} {t.gen_pl}."]
        lines += [""]
    return lines
