"""The open data beside the published site: `data.csv`, `data.json` and `schema.json`, which describes every field (a
Frictionless tabular data package). Written from `publish_data.Public` alone — what may be said in public — so the open
data can say nothing the pages may not; the same figures give the same bytes (fixed order, sorted keys).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dqflow.present import csvfile
from dqflow.results.publish_data import Public, PublicInstitution

if TYPE_CHECKING:
    from dqflow.results.dynamics import Dynamics

__all__ = ["CSV_FIELDS", "csv_fields", "data_csv", "data_json", "dynamics_json", "schema_json"]


CSV_FIELDS = [
    ("campaign_id", "string", "Идентификатор кампании мониторинга (campaign.id)."),
    ("institution_id", "string", "Идентификатор учреждения в кампании (id в списке учреждений)."),
    ("institution_name", "string", "Наименование учреждения."),
    ("took_part", "boolean", "true — учреждение сдало материалы хотя бы одного своего этапа (в срок или с опозданием)."),
    ("on_time", "boolean", "true — учреждение сдало материалы каждого своего этапа (кроме тех, от которых освобождено) "
                           "к своему сроку с учётом продлений."),
    ("area_id", "string", "Идентификатор области качества."),
    ("area_title", "string", "Наименование области качества."),
    ("level", "string", "Итоговый уровень учреждения в области — идентификатор уровня шкалы, как в аналитической справке: "
                        "меньшая из оценок экспертов в последней экспертизе с оценками. Пусто — оценки нет."),
    ("level_title", "string", "Наименование итогового уровня. Пусто — оценки нет."),
    ("at_or_below_base", "boolean", "true — уровень в области базовый или ниже; пусто — оценки нет."),
]


INDICATOR_FIELDS = [
    ("indicator_id", "string", "Идентификатор показателя; пусто — строка об области в целом."),
    ("indicator_title", "string", "Наименование показателя; пусто — строка об области в целом."),
]
INDICATOR_LEVEL = ("Итоговый уровень показателя — уровень, установленный координатором при расхождении экспертов, иначе общий "
                   "уровень экспертов, а при расхождении — по правилу кампании (как в справке по показателям); уровень области — по "
                   "итоговым уровням её показателей. Пусто — итогового уровня нет.")


def csv_fields(public: Public) -> list[tuple[str, str, str]]:
    """The columns of data.csv: with `indicator_id`, `indicator_title` after the area's where experts review per indicator."""
    if not public.indicators:
        return CSV_FIELDS
    fields = [(n, t, INDICATOR_LEVEL if n == "level" else d) for n, t, d in CSV_FIELDS]
    at = [n for n, _, _ in fields].index("area_title") + 1
    return [*fields[:at], *INDICATOR_FIELDS, *fields[at:]]


def _rows(public: Public) -> list[list[object]]:
    """One row per ДОУ × area (every area, a level or none); where experts review per indicator, each with an empty
    indicator, then one row per ДОУ × indicator (every indicator, a level or none)."""
    rows: list[list[object]] = []
    rank = {lv: n for n, (lv, _) in enumerate(public.levels)}
    base = rank.get(public.base_level or "")
    for inst in public.institutions:
        head = [public.campaign_id, inst.id, inst.name, _flag(inst.took_part), _flag(inst.on_time)]
        for lv in inst.levels:
            low = "" if lv.at_or_below_base is None else _flag(lv.at_or_below_base)
            rows.append([*head, lv.area_id, lv.area_title, *(["", ""] if public.indicators else []), lv.level or "", lv.level_title or "", low])
        for ilv in inst.indicator_levels:
            low = "" if ilv.level is None or base is None or ilv.level not in rank else _flag(rank[ilv.level] <= base)
            rows.append([*head, ilv.area_id, ilv.area_title, ilv.indicator_id, ilv.indicator_title, ilv.level or "", ilv.level_title or "", low])
    return rows


def _flag(value: bool) -> str:
    return "true" if value else "false"


def data_csv(public: Public) -> str:
    return csvfile.text([name for name, _, _ in csv_fields(public)], _rows(public))


def data_json(public: Public, dynamics: Dynamics | None = None) -> str:
    data: dict[str, Any] = {
        "campaign": {"id": public.campaign_id, "title": public.title, "publisher": public.publisher, "as_of": public.as_of_time,
                     "zone": public.zone, "order": public.order or None},
        "areas": [{"id": a, "title": t} for a, t in public.areas],
        "levels": [{"id": lv, "title": t, "base": lv == public.base_level} for lv, t in public.levels],
        "stages": [{"id": s.id, "title": s.label, "due": s.due, "expected": s.expected, "handed_in": s.handed_in, "on_time": s.on_time}
                   for s in public.stages],
        "summary": {"institutions": len(public.institutions), "took_part": public.took_part, "on_time": public.on_time,
                    "rated": public.rated, "at_or_below_base": public.at_or_below_base,
                    "levels": {row.id: {"counts": dict(zip([lv for lv, _ in public.levels], row.counts, strict=True)), "unrated": row.unrated}
                               for table in public.tables if table.scope == "area" for row in table.rows}},
        "institutions": [_institution_json(public, inst) for inst in public.institutions],
    }
    if public.indicators:  # where experts review per indicator: keys a campaign without them never has
        data["indicators"] = [{"id": i, "title": t, "area": a} for i, t, a in public.indicators]
        data["summary"]["indicator_levels"] = {
            row.id: {"counts": dict(zip([lv for lv, _ in public.levels], row.counts, strict=True)), "unrated": row.unrated}
            for table in public.indicator_tables for row in table.rows}
    if dynamics is not None:
        data["dynamics"] = dynamics_json(dynamics)
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _institution_json(public: Public, inst: PublicInstitution) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": inst.id, "name": inst.name, "page": inst.page, "withdrawn": inst.withdrawn, "took_part": inst.took_part,
        "on_time": inst.on_time, "stages": {s.id: s.status for s in inst.stages},
        "levels": {lv.area_id: lv.level for lv in inst.levels if lv.level is not None}, "levels_from": inst.levels_from_id,
    }
    if inst.recommendations is not None:
        found["recommendations"] = [{"area": r.area_id, "stage": r.stage_id, "text": r.text} for r in inst.recommendations]
    if public.indicators:
        found["indicator_levels"] = {lv.indicator_id: lv.level for lv in inst.indicator_levels if lv.level is not None}
    return found


def dynamics_json(d: Dynamics) -> dict[str, Any]:
    """The comparison with last year as the справка's dynamics.csv gives it (`dynamics.csv_text`), typed: levels by id,
    `previous` "new" for a ДОУ new this year, the town's mean positions and changes as numbers; the stages' shares on time."""
    from dqflow.results.dynamics import NEW

    def level(r: Any) -> dict[str, Any]:
        return {"institution": r.institution_id, "area": r.area, "indicator": r.indicator,
                "previous": NEW if r.new else r.previous, "current": r.current, "change": r.change}

    return {
        "previous_campaign": d.previous_id, "same_scale": d.same_scale,
        "town": [{"area": a.area, "indicator": a.indicator, "previous": a.previous_mean, "current": a.current_mean, "change": a.change}
                 for a in (*d.town, *d.indicator_town)],
        "timeliness": [{"stage": s.stage, "previous": s.previous, "current": s.current, "previous_handed_in": s.previous_handed_in,
                        "current_handed_in": s.current_handed_in} for s in d.timeliness],
        "institutions": [level(r) for r in (*d.institutions, *d.indicator_institutions)],
        "new": [m.id for m in d.new], "gone": [{"id": m.id, "name": m.name} for m in d.gone],
    }


JSON_FIELDS = [
    ("campaign", "object", "Кампания: id, title (название), publisher (кто публикует), as_of (по состоянию на, дд.мм.гггг ЧЧ:ММ), "
                           "zone (часовой пояс), order (приказ или null)."),
    ("areas[]", "array", "Области качества: id, title."),
    ("levels[]", "array", "Шкала уровней от низшего: id, title, base (true — базовый уровень)."),
    ("stages[]", "array", "Этапы учреждений: id, title, due (срок, дд.мм.гггг), expected (учреждений ожидалось: не освобождённых), "
                          "handed_in (сдали, в срок или с опозданием), on_time (сдали в срок)."),
    ("summary", "object", "По городу: institutions (учреждений), took_part, on_time, rated (есть итоговые уровни), at_or_below_base "
                          "(хотя бы одна область на базовом уровне и ниже), levels: по id области — counts (учреждений на каждом "
                          "уровне, по id уровня) и unrated (без оценки)."),
    ("institutions[]", "array", "Учреждения: id, name, page (страница на сайте), withdrawn (выбыло из мониторинга), took_part, on_time "
                                "(как в data.csv), stages (по id этапа — статус: done — в срок, late — с опозданием, missed — "
                                "пропущено, excused — освобождено, open — этап открыт, upcoming — ожидается), levels (по id области — "
                                "id итогового уровня), levels_from (id этапа экспертизы, из которого уровни), recommendations "
                                "(только если кампания публикует рекомендации: area — id области или null для общих, stage — id этапа, "
                                "text — текст)."),
]


JSON_INDICATOR_FIELDS = [
    ("indicators[]", "array", "Показатели (только если эксперты оценивают по показателям): id, title, area — id области."),
    ("summary.indicator_levels", "object", "По id показателя — counts (учреждений на каждом итоговом уровне, по id уровня) и unrated "
                                           "(без итогового уровня), по последней экспертизе с оценками каждого учреждения."),
    ("institutions[].indicator_levels", "object", "По id показателя — id итогового уровня учреждения (в этапе levels_from)."),
]


JSON_DYNAMICS_FIELDS = [
    ("dynamics", "object", "Динамика по сравнению с прошлым годом (только если кампания называет кампанию прошлого года и она "
                           "загружена), как в dynamics.csv аналитической справки: previous_campaign (id кампании прошлого года), "
                           "same_scale (true — шкалы уровней совпадают и изменение вычисляется), town (по областям, затем по "
                           "показателям, если обе кампании оценивают их с одними id: area, indicator (null — область), previous и "
                           "current — средний уровень (среднее мест уровней на шкале, 1 — низший) прошлого и этого года, change — "
                           "их разность), timeliness (по id этапа, бывшего в обеих кампаниях: stage, previous и current — доля "
                           "учреждений, сдавших в срок, от 0 до 1; previous_handed_in и current_handed_in — доля сдавших в срок или с "
                           "опозданием), institutions (строка на учреждение этого года и область или "
                           "показатель: institution, area, indicator, previous и current — id уровня (null — нет оценки; previous "
                           "\"new\" — учреждение новое в этом году, сравнивать не с чем), change — на сколько ступеней шкалы выше "
                           "(+) или ниже (−), null — не вычисляется), new (id учреждений, новых в этом году), gone (учреждения "
                           "прошлого года, которых нет в этом: id и name прошлого года)."),
]


def schema_json(public: Public, dynamics: bool = False) -> str:
    """The open data described as a Frictionless tabular data package (https://specs.frictionlessdata.io/)."""
    fields = csv_fields(public)
    if public.indicators:
        grain = (f"Одна строка на пару «{public.word.nom} — область качества» (indicator_id пусто) и одна на пару "
                 f"«{public.word.nom} — показатель»; строка единственна по (institution_id, area_id, indicator_id).")
        schema: dict[str, Any] = {"fields": [{"name": n, "type": t, "description": d} for n, t, d in fields], "missingValues": [""]}
    else:  # a key of Frictionless may hold no empty value: the area rows' empty indicator keeps the key out
        grain = f"Одна строка на пару «{public.word.nom} — область качества»."
        schema = {"fields": [{"name": n, "type": t, "description": d} for n, t, d in fields],
                  "primaryKey": ["institution_id", "area_id"], "missingValues": [""]}
    data = {
        "profile": "tabular-data-package",
        "name": f"{public.campaign_id}-results",
        "title": f"Результаты мониторинга качества дошкольного образования: {public.title}",
        "description": f"{public.as_of[0].upper()}{public.as_of[1:]}. Публикует: {public.publisher}. Кодировка UTF-8; CSV — RFC 4180, "
                       "строки через CRLF; текст, который таблица приняла бы за формулу, начинается с апострофа.",
        "resources": [
            {"name": "data", "path": "data.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "description": grain, "schema": schema},
            {"name": "data-json", "path": "data.json", "format": "json", "mediatype": "application/json", "encoding": "utf-8",
             "description": "Те же сведения и участие по этапам, одним документом.",
             "fields": [{"name": n, "type": t, "description": d}
                        for n, t, d in (JSON_FIELDS + (JSON_INDICATOR_FIELDS if public.indicators else [])
                                        + (JSON_DYNAMICS_FIELDS if dynamics else []))]},
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
