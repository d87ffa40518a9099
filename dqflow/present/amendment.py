"""An amendment's plan (`engine.amend_plan.Plan`) as the coordinator reads it: Russian, times as
dd.mm.yyyy HH:MM in the campaign's zone, its institutions in the campaign's own word."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Callable

from dqflow.calendar import show, zone_label
from dqflow.campaign.terms import DEFAULT as DEFAULT_TERMS
from dqflow.campaign.terms import Terms
from dqflow.engine.amend_plan import FieldChange, Notice, Plan, Rewrite
from dqflow.present.labels import STATE_RU, STATUS_RU, reason_ru

TIME_RU = {"opens_at": "открытие", "due_at": "срок", "locks_at": "закрытие"}


def text(p: Plan, terms: Terms = DEFAULT_TERMS) -> str:
    """The plan in Russian, its digest last (what `--plan` names)."""
    tz = p.tz

    def t(value: datetime | None) -> str:
        return show(value, tz)  # "—" for none

    stage, dou, expert = _namers(p)
    zone = zone_label(tz, p.at) if p.at is not None else f"время {p.timezone}"
    lines = [f"Изменения кампании {p.campaign} ({zone}):"]
    if p.empty:
        return lines[0] + " нет изменений."
    for m in p.stages_moved:
        moves = "; ".join(f"{TIME_RU[name]} {t(s.old)} → {t(s.new)}" for name, s in m.shifts())
        lines.append(f"  этап {stage(m.stage)} перенесён: {moves}")
    lines += [f"  этап {stage(s)} добавлен" for s in p.stages_added]
    lines += [f"  этап {stage(s)} удалён" for s in p.stages_removed]
    lines += [f"  этап {stage(c.stage)} изменён: {', '.join(c.fields)}{_now_called(p, c.stage)}" for c in p.stages_changed]
    ending = terms.past  # добавлен / добавлена / добавлено
    lines += [f"  {terms.nom} {dou(i)} добавлен{ending}" for i in p.institutions_added]
    lines += [f"  {terms.nom} {dou(i)} выбывает (история сохраняется, напоминаний больше не будет)" for i in p.institutions_withdrawn]
    lines += [f"  {terms.nom} {dou(c.id)} изменен{ending}: {_fields(c.changes)}" for c in p.institutions_changed]
    lines += [f"  эксперт {expert(e)} добавлен" for e in p.experts_added]
    lines += [f"  эксперт {expert(e)} выбывает" for e in p.experts_withdrawn]
    lines += [f"  эксперт {expert(c.id)} изменён: {_fields(c.changes)}" for c in p.experts_changed]
    if p.coordinator_changed:
        lines.append(f"  координатор изменён: {_fields(p.coordinator_changed)}")
    if p.campaign_changed:
        lines.append(f"  изменены параметры кампании: {', '.join(p.campaign_changed)}")
    for e in p.extensions:
        verdict = "остаётся" if e.kept else "короче нового срока — действует новый срок"
        lines.append(f"  продление {terms.gen} {dou(e.institution)} по этапу {stage(e.stage)} до {t(e.until)}: {verdict} ({t(e.new_due)})")
    for change in p.lists:
        parts = ([f"добавлены эксперты {', '.join(map(expert, change.added))}"] if change.added else []) + (
            [f"сняты эксперты {', '.join(map(expert, change.removed))}"] if change.removed else [])
        lines.append(f"  список {stage(change.list_id)}, {terms.nom} {dou(change.institution)}: {'; '.join(parts) or 'без изменений'}")
    for r in p.readdressed:
        lines.append(f"  адрес {r.old} → {r.new}: неотправленных писем {r.messages}")
    lines += _notices("Отменяются неотправленные напоминания", p.cancelled, t, stage, terms, with_reason=True)
    lines += _notices("Планируются напоминания", p.planned, t, stage, terms)
    if p.rewrites:
        lines.append("Меняет записанные итоги (нужен --force):")
        lines += [_rewrite(r, stage, dou, terms) for r in p.rewrites]
    if p.refused:
        lines.append("Нельзя применить:")
        lines += [f"  {why}" for why in p.refused]
    lines.append(f"План {p.digest}.")
    return "\n".join(lines)


Namer = Callable[[str], str]


def _now_called(p: Plan, stage_id: str) -> str:
    """A stage people will read under another name from now on says which (its line names it as they knew it)."""
    new = p.names.renamed_stages.get(stage_id)
    return f" (теперь «{new}»)" if new else ""


def _namers(p: Plan) -> tuple[Namer, Namer, Namer]:
    """Stage, ДОУ and expert ids as people read them, in quotes; an id the plan cannot name stays as it is."""

    def namer(names: dict[str, str]) -> Namer:
        return lambda key: f"«{names[key]}»" if key in names else key

    return namer(p.names.stages), namer(p.names.institutions), namer(p.names.experts)


def _fields(changes: tuple[FieldChange, ...]) -> str:
    return "; ".join(f"{c.name} «{c.old}» → «{c.new}»" for c in changes)


def _state(value: str) -> str:
    return {**STATE_RU, **STATUS_RU, "removed": "удалён"}.get(value, value)


def _rewrite(r: Rewrite, stage: Namer, dou: Namer, terms: Terms) -> str:
    whose = f", {terms.nom} {dou(r.institution)}" if r.institution else ""
    return f"  этап {stage(r.stage)}{whose}: {_state(r.source)} → {_state(r.dest)}"


def _notices(title: str, notices: list[Notice], t: Callable[[datetime | None], str], stage: Namer, terms: Terms,
             with_reason: bool = False) -> list[str]:
    """Grouped by stage, rule and send time: a town's worth of rows stays a few lines."""
    if not notices:
        return []
    groups: dict[tuple[str, str, datetime, str | None], list[str]] = defaultdict(list)
    for n in notices:
        groups[(stage(n.stage) if n.stage else "—", n.rule, n.send_at, n.reason if with_reason else None)].append(n.recipient)
    lines = [f"{title}: {len(notices)}"]
    for (named, rule, send_at, why), people in groups.items():
        shown = ", ".join(people[:3]) + (f" и ещё {len(people) - 3}" if len(people) > 3 else "")
        lines.append(f"  {t(send_at)} · {named} · {rule}: {shown}" + (f" ({reason_ru(why, terms)})" if why else ""))
    return lines
