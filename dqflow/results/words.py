"""What only the справка says, in every format: its title, its order line, shares, times, agreement.
The words every face shares (statuses, stage states, kinds…) are `present.labels`."""

from __future__ import annotations

from datetime import datetime

from dqflow.calendar import show, zone_label
from dqflow.results.figures import Results
from dqflow.results.timeliness import ExpertFigures

__all__ = ["percent", "when", "title", "as_of", "zone", "prepared_by", "order_line", "agreement_word", "findings",
           "detail_elsewhere", "full_list", "shown_first",
           "EXPERTS_SHOWN", "experts_shown"]


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}\u00a0%"  # a no-break space: "91 %" never splits


def when(results: Results, instant: datetime | None) -> str:
    return show(instant, results.campaign.tz) if instant else ""


def title(results: Results) -> str:
    return "Аналитическая справка по итогам мониторинга качества дошкольного образования"


def zone(results: Results) -> str:
    """The campaign's zone as people write it («томское время, UTC+7»), at the справка's moment."""
    return zone_label(results.campaign.tz, results.now)


def as_of(results: Results, *, capital: bool = False) -> str:
    """«по состоянию на 21.01.2022 12:00 (томское время, UTC+7)»: the title block's line and the XLSX's as-of row."""
    return f"{'П' if capital else 'п'}о состоянию на {when(results, results.now)} ({zone(results)})"


def prepared_by(results: Results) -> str:
    """Who prepared the справка: the campaign's coordinator (the file names an office, so the neuter form)."""
    return f"Подготовлено: {results.campaign.coordinator.name}"


def order_line(results: Results) -> str:
    """«приказ от dd.mm.yyyy № N (issuer)», when the campaign names its order."""
    order = results.campaign.order or {}
    if not order:
        return ""
    parts = ["приказ"]
    if order.get("date"):
        day = order["date"]
        parts.append(f"от {day[8:10]}.{day[5:7]}.{day[0:4]}" if len(day) == 10 else f"от {day}")
    if order.get("number"):
        parts.append(f"№ {order['number']}")
    if order.get("issuer"):  # named as given (nominative): «приказ от … № … (Департамент образования …)»
        parts.append(f"({order['issuer']})")
    return " ".join(parts)


def agreement_word(agreed: bool | None) -> str:
    return {True: "совпадает", False: "расходится", None: "—"}[agreed]



def findings(results: Results) -> list[str]:
    """The «Основные итоги» of the HTML and DOCX справка: the last ДОУ stage, the ДОУ at base level and below,
    the most frequent weak area, the experts' agreement and punctuality (each when there is something to say)."""
    t = results.campaign.terms
    said = []
    per = [f for f in results.stages if f.stage.per_institution]
    if per:
        last = per[-1]
        said.append(f"Этап «{last.stage.label}»: сдали {last.handed_in} из {last.expected} {t.gen_pl} ({percent(last.coverage)}), "
                    f"в срок — {last.on_time} ({percent(last.on_time_rate)}).")
    if results.base_level:
        said.append(f"{t.nom_pl}, у которых хотя бы одна область качества на базовом уровне и ниже: "
                    f"{results.low_total} из {results.total}.")
    weak = results.weak_areas()
    if weak:
        said.append(f"Чаще всего слабая область — «{results.area_title(weak[0][0])}» (у {weak[0][1]} {t.gen_pl}).")
    pairs = results.agreement().values()
    compared, agreed = sum(n for _, n in pairs), sum(n for n, _ in pairs)
    if compared:
        one = "одной" if t.gender == "f" else "одного"
        said.append(f"Оценки экспертов {one} {t.gen} в одной области совпали в {agreed} случаях из {compared} ({percent(agreed / compared)}).")
    assigned, punctual = sum(e.assigned for e in results.experts), sum(e.on_time for e in results.experts)
    if assigned:
        said.append(f"Эксперты представили в срок {punctual} экспертиз из {assigned} назначенных ({percent(punctual / assigned)}).")
    return said


# -- a single document of a large roster: the summary alone, and where the rest is ----------------------------------


def detail_elsewhere(results: Results) -> str:
    """Where each ДОУ's results are when a single document (HTML file, DOCX, Markdown) is the summary alone."""
    t = results.campaign.terms
    return (f"Результаты каждого {t.gen} (этапы, сроки, ссылки, оценки экспертов, рекомендации) — на отдельных "
            f"страницах: dqflow report --format html --out ПАПКА; а также в XLSX (dqflow report --format xlsx).")


def full_list(results: Results) -> str:
    """Where the full list of the ДОУ at or below the base level is, when the summary names only the first of them."""
    return ("в XLSX (лист «{}»: уровни и слабые области каждого) и в папке справки "
            "(dqflow report --format html --out ПАПКА)".format(results.campaign.terms.nom_pl))


def shown_first(results: Results) -> str:
    """«Показаны первые 50 из 812 ДОУ (в порядке списка)» when the summary names only the first of the ДОУ at or below
    the base level (`Results.attention`), else ""."""
    if results.low_total <= len(results.attention):
        return ""
    return f"Показаны первые {len(results.attention)} из {results.low_total} {results.campaign.terms.gen_pl} (в порядке списка)"


EXPERTS_SHOWN = 50  # experts a summary lists by name (those who missed most first) when there are more


def experts_shown(results: Results, *, folder: bool = False) -> tuple[list[ExpertFigures], str]:
    """The experts a summary names — all of them when few, else the `EXPERTS_SHOWN` who missed most (then were late
    most) — and a note saying where the rest are (`folder`: the HTML folder's experts.html beside the summary)."""
    assigned = [e for e in results.experts if e.assigned]
    if len(assigned) <= EXPERTS_SHOWN:
        return assigned, ""
    shown = sorted(assigned, key=lambda e: (-e.missing, -e.late, e.expert.name))[:EXPERTS_SHOWN]
    where = "на странице experts.html рядом с этой" if folder else "в XLSX (лист «Эксперты») и в папке справки (--out ПАПКА)"
    return shown, (f"Показаны {EXPERTS_SHOWN} из {len(assigned)} экспертов: не представившие больше всего экспертиз. "
                   f"Все эксперты — {where}.")
