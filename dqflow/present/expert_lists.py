"""An expert list (ДОУ → experts, expert → ДОУ, loads, the rules it breaks) as the coordinator reads it:
terminal text, JSON, CSV; and what two lists have in common (`experts diff`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dqflow.calendar import show, zone_label
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.present import csvfile
from dqflow.present.labels import broken_ru, expert_name, stage_name
from dqflow.present.tables import text_table

if TYPE_CHECKING:
    from dqflow.campaign.spec import Campaign
    from dqflow.engine.experts import ExpertList


def expert_list_json(current: ExpertList, terms: Terms = DOU) -> str:
    return json.dumps({
        "stage": current.stage.id,
        "assignments": [{"institution": inst, "experts": es} for inst, es in current.assignments.items()],
        "load": dict(sorted(current.load().items())),
        "problems": [broken_ru(p, terms) for p in current.problems],
        "rules": [p.to_dict() for p in current.problems],  # the same, as codes with their facts
    }, ensure_ascii=False, indent=2)


def expert_list_csv(current: ExpertList, campaign: Campaign) -> str:
    names = {i.id: i.name for i in campaign.institutions}
    people = {e.id: (e, home or "") for e, home in campaign.every_expert()}
    return csvfile.text(["institution", "institution_name", "expert_id", "expert_name", "expert_email", "expert_institution"],
                        [[inst, names[inst], e, people[e][0].name, people[e][0].email, people[e][1]]
                         for inst, experts in current.assignments.items() for e in experts])


def expert_list_text(current: ExpertList, campaign: Campaign) -> str:
    names = {i.id: i.name for i in campaign.institutions}
    people = {e.id: e.name for e, _ in campaign.every_expert()}
    if not any(current.assignments.values()):
        opens = current.stage.opens_at
        return (f"Список «{current.stage.label}» ({current.stage.id}) ещё не составлен "
                f"(составится сам {show(opens, campaign.tz)}, {zone_label(campaign.tz, opens)}).")
    lines = [f"{current.stage.label} ({current.stage.id})", ""]
    lines += text_table([campaign.terms.nom, "Название", "Эксперты"],
                        [[inst, names[inst], ", ".join(f"{people.get(e, e)} ({e})" for e in es)] for inst, es in current.assignments.items()])
    lines += ["", "Нагрузка экспертов:", ""]
    by_expert = current.by_expert()
    lines += text_table(["Эксперт", "Код", campaign.terms.nom_pl, "Всего"],
                        [[people[e], e, ", ".join(by_expert.get(e, [])), str(len(by_expert.get(e, [])))] for e in sorted(people)])
    if current.problems:
        lines += ["", "Правила, которые список не выполняет:"] + [f"- {broken_ru(p, campaign.terms)}" for p in current.problems]
    return "\n".join(lines)


def expert_diff_text(rows: list[dict], first: str, second: str, terms: Terms = DOU, campaign: Campaign | None = None) -> str:
    """Two lists ДОУ by ДОУ; `campaign` names the lists and the experts (their ids in brackets, as the coordinator types them)."""
    def who(experts: list[str]) -> str:
        return ", ".join(f"{expert_name(campaign, e)} ({e})" if expert_name(campaign, e) != e else e for e in experts) or "—"

    table = [[r["institution"], who(r["both"]), who(r["only_" + first]), who(r["only_" + second])] for r in rows]
    repeated = sum(1 for r in rows if r["both"])
    lines = text_table([terms.nom, "в обоих", f"только {first}", f"только {second}"], table)
    if campaign is not None:
        lines = [f"{first} — {stage_name(campaign, first)}; {second} — {stage_name(campaign, second)}", ""] + lines
    return "\n".join(lines + ["", f"{terms.nom_pl} с повторным экспертом: {repeated}"])
