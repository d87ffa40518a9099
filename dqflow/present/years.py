"""Year after year as people read it: what changed in the roster since last year's campaign (`engine.lineage`), and the
loaded campaigns as a table (`engine.catalogue`). Russian for people; `*_json` gives the English keys."""

from __future__ import annotations

from typing import Any, Sequence

from dqflow.calendar import show_date, zone
from dqflow.campaign.terms import Terms
from dqflow.engine.catalogue import CampaignState, Entry
from dqflow.engine.lineage import Lineage, Member
from dqflow.present.tables import text_table

SHOWN = 10  # names listed per kind of change; the rest are counted
STATE_RU = {CampaignState.NOT_STARTED: "не началась", CampaignState.RUNNING: "идёт", CampaignState.FINISHED: "завершена"}


def _names(members: Sequence[Member], shown: int) -> str:
    said = ", ".join(f"«{m.name}» ({m.id})" for m in members[:shown])
    return said + (f" и ещё {len(members) - shown}" if len(members) > shown else "")


def lineage_lines(lineage: Lineage, terms: Terms, shown: int = SHOWN) -> list[str]:
    """A short summary: the counts, then up to `shown` names of each kind of change."""
    by_inn = sum(1 for p in lineage.pairs if p.by == "inn")
    renamed = lineage.renamed
    head = (f"С прошлогодней кампании {lineage.previous_id} ({terms.nom_pl}): те же — {len(lineage.pairs)} "
            f"(по ИНН: {by_inn}, по id: {len(lineage.pairs) - by_inn}), новые — {len(lineage.appeared)}, "
            f"выбыли — {len(lineage.disappeared)}, сменили название — {len(renamed)}.")
    lines = [head]
    if lineage.appeared:
        lines.append(f"  новые: {_names(lineage.appeared, shown)}")
    if lineage.disappeared:
        lines.append(f"  выбыли: {_names(lineage.disappeared, shown)}")
    if renamed:
        said = "; ".join(f"«{p.previous.name}» → «{p.current.name}» ({p.current.id})" for p in renamed[:shown])
        lines.append(f"  сменили название: {said}" + (f" и ещё {len(renamed) - shown}" if len(renamed) > shown else ""))
    return lines


def lineage_json(lineage: Lineage) -> dict[str, Any]:
    def member(m: Member) -> dict[str, Any]:
        return {"id": m.id, "name": m.name, "inn": m.inn}

    return {"previous": lineage.previous_id, "matched": len(lineage.pairs),
            "matched_by_inn": sum(1 for p in lineage.pairs if p.by == "inn"),
            "appeared": [member(m) for m in lineage.appeared], "disappeared": [member(m) for m in lineage.disappeared],
            "renamed": [{"id": p.current.id, "previous_id": p.previous.id, "previous_name": p.previous.name, "name": p.current.name}
                        for p in lineage.renamed]}


def previous_missing(previous: str) -> str:
    """Why `campaign.previous` cannot be compared with: the campaign it names is not in the database."""
    return (f"campaign.previous: кампании «{previous}» нет в базе данных; загрузите сначала её файл (dqflow load ФАЙЛ), "
            "проверьте id (список — dqflow campaigns) или уберите ключ")


def campaigns_lines(entries: Sequence[Entry]) -> list[str]:
    if not entries:
        return ["В базе данных нет ни одной кампании; загрузите файл кампании: dqflow load ФАЙЛ"]
    rows = []
    for e in entries:
        tz = zone(e.timezone)
        previous = e.previous or "—"
        if e.previous and not e.previous_loaded:
            previous += " (нет в базе)"
        rows.append([e.id, e.year or "—", e.institutions, show_date(e.first_opens, tz) if e.first_opens else "—",
                     show_date(e.last_locks, tz) if e.last_locks else "—", STATE_RU[e.state], previous])
    return text_table(["Кампания", "Год", "ДОУ", "Первый этап", "Последний этап", "Состояние", "Прошлый год"], rows)


def campaigns_json(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    return [{"id": e.id, "title": e.title, "timezone": e.timezone, "year": e.year, "institutions": e.institutions,
             "first_opens_at": e.first_opens.isoformat() if e.first_opens else None,
             "last_locks_at": e.last_locks.isoformat() if e.last_locks else None, "state": e.state.value,
             "previous": e.previous, "previous_loaded": e.previous_loaded} for e in entries]
