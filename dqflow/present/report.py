"""What the coordinator reads about progress: the status of the campaign (`status`), one ДОУ's card
(`status --institution`), what a tick changed, a submission's receipt; as terminal text, Markdown for
letters, and JSON for programs.

Human text is in the campaign's language (Russian) with dates as dd.mm.yyyy HH:MM and the zone named;
JSON carries ISO-8601 times with their offsets. Nothing here decides a status: the views are handed in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, show, show_date, zone_label
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.engine.rules import Status
from dqflow.present.guard import markdown_text
from dqflow.present.labels import KIND_RU, SHORT, STATE_RU, STATUS_RU, expert_name, levels_text, reported, stage_name, state_ru
from dqflow.present.tables import markdown_table, text_table

if TYPE_CHECKING:
    from dqflow.campaign.spec import Campaign, Stage
    from dqflow.engine import CampaignView, Change, InstitutionView, StageDetail


class Review(Protocol):
    """One expert's review as the card shows it (`results.panels.Review`)."""

    @property
    def expert_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def levels(self) -> dict[str, str]: ...
    @property
    def recommendations(self) -> str: ...


class Panel(Protocol):
    """A review stage of one ДОУ (`results.panels.ReviewPanel`): its experts and their reviews."""

    @property
    def assigned(self) -> list[str]: ...
    @property
    def reviews(self) -> Sequence[Review]: ...


Panels = dict[str, Panel]  # review stage id → its panel


# -- the campaign ----------------------------------------------------------------------------


def status_json(view: CampaignView) -> str:
    tz = view.campaign.tz
    return json.dumps({
        "campaign": view.campaign.id,
        "timezone": view.campaign.timezone,
        "now": iso(view.now, tz),
        "stages": [
            {"id": s.stage.id, "kind": s.stage.kind, "title": s.stage.title, "state": s.state,
             "opens_at": iso(s.stage.opens_at, tz), "due_at": iso(s.stage.due_at, tz), "locks_at": iso(s.stage.locks_at, tz),
             "counts": s.counts}
            for s in view.stages
        ],
        "institutions": [
            {"id": i.institution.id, "name": i.institution.name, "state": i.state, "stages": i.stages}
            for i in view.institutions
        ],
        "page": {"offset": view.offset, "count": len(view.institutions), "total": view.total,
                 "next_offset": _next_offset(view)},
        "awaiting_settlement": view.awaiting_settlement,
    }, ensure_ascii=False, indent=2)


def _next_offset(view: CampaignView) -> int | None:
    """Where the next page of ДОУ starts, None after the last (or when none were listed)."""
    end = view.offset + len(view.institutions)
    return end if view.institutions and end < view.total else None


def status_text(view: CampaignView) -> str:
    c, tz = view.campaign, view.campaign.tz
    lines = [f"{c.title} ({c.id})", f"Состояние на {show(view.now, tz)}, {zone_label(tz, view.now)}", *_rewind_note(view), ""]
    rows = []
    for s in view.stages:
        lock = show(s.stage.locks_at, tz) if s.stage.locks_at != s.stage.due_at else ""
        rows.append([s.stage.label, s.stage.id, KIND_RU[s.stage.kind], STATE_RU[s.state], _dates(s.stage, tz), lock, _counts(s.counts)])
    terms = c.terms  # ДОУ, ДОО…: the campaign's own word
    # the stage by its name; its id beside it, as the coordinator types it in `submit`, `extend`…
    lines += text_table(["Этап", "Код", "Вид", "Состояние", "Сроки", "Блокировка", f"{terms.nom_pl} по статусам"], rows)
    per = [s.stage.id for s in view.stages if s.stage.per_institution]
    if view.institutions and per:
        lines += ["", f"{terms.nom_pl} по этапам (· ожидается, ✓ выполнено, ✗ пропущено):", ""]
        lines += text_table([terms.nom, "Название", "Сейчас", *per],
                            [[i.institution.id, i.institution.name, state_ru(i.state, c), *_marks(i, per, SHORT)] for i in view.institutions])
        lines += ["", "Этапы в столбцах: " + "; ".join(f"{s.stage.id} — {s.stage.label}" for s in view.stages if s.stage.per_institution)]
        following = _next_offset(view)
        if following is not None:
            lines += ["", f"Показаны {terms.nom_pl} {view.offset + 1}–{view.offset + len(view.institutions)} из {view.total}; "
                          f"следующие: dqflow status --institutions --offset {following}"]
    elif per and view.total:
        lines += ["", f"{terms.nom_pl}: {view.total}; по этапам: dqflow status --institutions"]
    lines += _awaiting_settlement(view)
    return "\n".join(lines)


def _awaiting_settlement(view: CampaignView) -> list[str]:
    """Where experts review per indicator: how many indicators each review stage has that its experts disagree on and
    the coordinator has not settled (`finals.awaiting_settlement`)."""
    if not view.awaiting_settlement:
        return []
    c = view.campaign
    counts = "; ".join(f"«{stage_name(c, s)}» — {n}" for s, n in view.awaiting_settlement.items())
    hint = (" Какие — на карточке {0} на портале; согласовать: dqflow settle {1} --stage ЭТАП --indicator ПОКАЗАТЕЛЬ "
            "--level УРОВЕНЬ --reason ТЕКСТ.").format(c.terms.gen, c.terms.nom) if any(view.awaiting_settlement.values()) else ""
    return ["", f"Расхождения экспертов по показателям, ждут согласования координатором: {counts}.{hint}"]


def status_markdown(view: CampaignView) -> str:
    """The status as Markdown tables, for pasting into a letter: full status names, the zone named once."""
    c, tz = view.campaign, view.campaign.tz
    lines = [f"**{markdown_text(c.title)}**", "", f"Состояние на {show(view.now, tz)} ({zone_label(tz, view.now)})", *_rewind_note(view), ""]
    rows = [[s.stage.label, STATE_RU[s.state], _dates(s.stage, tz), _counts(s.counts)] for s in view.stages]
    lines += markdown_table(["Этап", "Состояние", "Сроки", f"{c.terms.nom_pl} по статусам"], rows)
    per = [s.stage.id for s in view.stages if s.stage.per_institution]
    if view.institutions and per:
        lines += ["", *markdown_table([c.terms.nom, "Сейчас", *[stage_name(c, s) for s in per]],
                                      [[i.institution.name, state_ru(i.state, c), *_marks(i, per, STATUS_RU)] for i in view.institutions])]
    return "\n".join(lines)


def _dates(stage: Stage, tz: ZoneInfo) -> str:
    """An event's moment (its day when it lasts all day), a stage's opening – deadline."""
    if stage.kind == "event":
        return show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)
    return f"{show(stage.opens_at, tz)} – {show(stage.due_at, tz)}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{STATUS_RU[k]} {n}" for k, n in counts.items() if n)


def _marks(inst: InstitutionView, stages: list[str], words: dict[str, str]) -> list[str]:
    return [words[inst.stages.get(s, Status.UPCOMING.value)] for s in stages]


def _rewind_note(view: CampaignView) -> list[str]:
    """Status brings the stored state forward to --now; it cannot take back what was recorded later."""
    if view.recorded_until is None or view.recorded_until <= view.now:
        return []
    return [f"Внимание: в базе уже записаны изменения до {show(view.recorded_until, view.campaign.tz)}; "
            "они показаны, хотя позже этого момента."]


# -- one ДОУ ---------------------------------------------------------------------------------


def _one(view: CampaignView, institution_id: str) -> InstitutionView:
    return next(i for i in view.institutions if i.institution.id == institution_id)


def _status(inst: InstitutionView, detail: StageDetail, panels: Panels) -> str:
    """The stage's status (the status projection's: a review of nothing is «нет материалов»), and for a review
    stage how many of its experts reported."""
    status = STATUS_RU[_status_code(inst, detail)]
    panel = panels.get(detail.stage.id)
    return f"{status} ({_reported(panel)})" if panel is not None else status


def _status_code(inst: InstitutionView, detail: StageDetail) -> str:
    """The ДОУ's status in the stage as the status projection gives it (`rules.status_at`)."""
    return detail.status or inst.stages.get(detail.stage.id, detail.progress.status)


def _reported(panel: Panel) -> str:
    return reported(len(panel.reviews), len(panel.assigned))


def institution_text(view: CampaignView, institution_id: str, details: list[StageDetail], panels: Panels | None = None) -> str:
    """`panels` (stage → its review panel) adds each review stage's experts, who reported, and the levels."""
    tz = view.campaign.tz
    panels = panels or {}
    inst = _one(view, institution_id)
    lines = [
        f"{inst.institution.name} ({view.campaign.terms.nom} {inst.institution.id}), {inst.institution.email}",
        f"Состояние на {show(view.now, tz)}, {zone_label(tz, view.now)}; сейчас: {state_ru(inst.state, view.campaign)}",
        *_rewind_note(view),
        "",
    ]
    rows = []
    for d in details:
        p = d.progress
        rows.append([d.stage.label, _status(inst, d, panels), show(p.opens_at, tz), show(p.due_at, tz) + (" *" if p.extended else ""),
                     show(p.locks_at, tz), show(p.submitted_at, tz) if p.submitted_at else ""])
    lines += text_table(["Этап", "Статус", "Открыт", "Срок", "Блокировка", "Сдано"], rows)
    for d in details:
        for e in d.extensions:
            lines.append(f"* {d.stage.label}: срок продлён до {show(e.until, tz)} ({show(e.granted_at, tz)}): {e.reason}")
        for s in d.submissions:
            links = json.loads(s.links)
            if links:
                lines.append(f"  {d.stage.label}, {show(s.at, tz)}: " + " ".join(links))
    for stage_id, panel in panels.items():
        lines += review_lines(view.campaign, stage_id, panel)
    return "\n".join(lines)


def institution_markdown(view: CampaignView, institution_id: str, details: list[StageDetail], panels: Panels | None = None) -> str:
    tz = view.campaign.tz
    panels = panels or {}
    inst = _one(view, institution_id)
    lines = [f"**{markdown_text(inst.institution.name)}** ({view.campaign.terms.nom} {markdown_text(inst.institution.id)})", "",
             f"Состояние на {show(view.now, tz)} ({zone_label(tz, view.now)}); сейчас: {markdown_text(state_ru(inst.state, view.campaign))}",
             *_rewind_note(view), ""]
    rows = []
    for d in details:
        p = d.progress
        links = " ".join(link for s in d.submissions for link in json.loads(s.links))
        rows.append([d.stage.label, _status(inst, d, panels), show(p.due_at, tz) + (" (продлён)" if p.extended else ""),
                     show(p.submitted_at, tz) if p.submitted_at else "", links])
    lines += markdown_table(["Этап", "Статус", "Срок", "Сдано", "Ссылки"], rows)
    notes = [f"- {markdown_text(d.stage.label)}: срок продлён до {show(e.until, tz)}, причина: {markdown_text(e.reason)}"
             for d in details for e in d.extensions]
    for stage_id, panel in panels.items():
        notes += [f"{line[:len(line) - len(line.lstrip())]}- {markdown_text(line.strip())}"
                  for line in review_lines(view.campaign, stage_id, panel)]
    return "\n".join(lines + ([""] + notes if notes else []))


def institution_json(view: CampaignView, institution_id: str, details: list[StageDetail], panels: Panels | None = None) -> str:
    tz = view.campaign.tz
    panels = panels or {}
    inst = _one(view, institution_id)
    return json.dumps({
        "campaign": view.campaign.id,
        "timezone": view.campaign.timezone,
        "now": iso(view.now, tz),
        "institution": {"id": inst.institution.id, "name": inst.institution.name, "email": inst.institution.email, "state": inst.state},
        "stages": [
            {"id": d.stage.id, "status": _status_code(inst, d), "opens_at": iso(d.progress.opens_at, tz),
             "due_at": iso(d.progress.due_at, tz), "locks_at": iso(d.progress.locks_at, tz), "extended": d.progress.extended,
             "submitted_at": iso(d.progress.submitted_at, tz),
             "extensions": [{"until": iso(e.until, tz), "reason": e.reason, "granted_at": iso(e.granted_at, tz)} for e in d.extensions],
             "submissions": [{"at": iso(s.at, tz), "links": json.loads(s.links)} for s in d.submissions],
             **({"reviews": _panel_json(panels[d.stage.id], tz)} if d.stage.id in panels else {})}
            for d in details
        ],
    }, ensure_ascii=False, indent=2)


def _panel_json(panel: Panel, tz: ZoneInfo) -> dict:
    return {"experts": panel.assigned, "reported": [r.expert_id for r in panel.reviews],
            "reviews": [{"expert": r.expert_id, "at": iso(r.at, tz), "levels": r.levels, "recommendations": r.recommendations}
                        for r in panel.reviews]}


def review_lines(campaign: Campaign, stage_id: str, panel: Panel) -> list[str]:
    """A review stage of one ДОУ: its experts by name, who reported when, the levels by area, the recommendations."""
    tz = campaign.tz
    stage = stage_name(campaign, stage_id)
    if not panel.assigned and not panel.reviews:
        return [f"{stage}: эксперты ещё не назначены"]
    lines = [f"{stage}: {_reported(panel)} экспертов ({', '.join(expert_name(campaign, e) for e in panel.assigned)})"]
    given = {r.expert_id: r for r in panel.reviews}
    for expert in panel.assigned + [e for e in given if e not in panel.assigned]:
        review = given.get(expert)
        if review is None:
            lines.append(f"  {expert_name(campaign, expert)}: не отчитался")
            continue
        lines.append(f"  {expert_name(campaign, expert)}, {show(review.at, tz)}: {levels_text(campaign, review.levels) or 'уровни не указаны'}")
        if review.recommendations:
            lines.append(f"    рекомендации: {' '.join(review.recommendations.split())}")
    return lines


# -- what a command changed ------------------------------------------------------------------


def changes_text(changes: list[Change], tz: ZoneInfo, terms: Terms = DOU, campaign: Campaign | None = None) -> str:
    """Reconcile's changes (`tick`), one line per stage and moment (a stage-wide change is one line); `campaign`
    names the stages as people read them (`Stage.label`)."""
    if not changes:
        return "Изменений нет."
    grouped: dict[tuple, list[str]] = defaultdict(list)
    for c in changes:
        grouped[(c.at, c.stage_id, c.action, c.source, c.dest)].append(c.institution_id or "")
    lines = []
    for (at, stage, action, source, dest), who in grouped.items():
        ids = [w for w in who if w]
        name = stage_name(campaign, stage)
        if action == "draw":
            lines.append(f"{show(at, tz)}  {name}: список экспертов составлен (dqflow experts show {stage})")
        elif ids:
            names = ", ".join(ids[:10]) + (f" и ещё {len(ids) - 10}" if len(ids) > 10 else "")
            lines.append(f"{show(at, tz)}  {name}: {STATUS_RU[source]} → {STATUS_RU[dest]} — {terms.nom} {names}")
        else:
            lines.append(f"{show(at, tz)}  {name}: {STATE_RU[source]} → {STATE_RU[dest]}")
    return "\n".join(lines)


def submitted_text(institution_id: str, stage_id: str, status: str, at: datetime, due: datetime, tz: ZoneInfo,
                   terms: Terms = DOU, campaign: Campaign | None = None) -> str:
    """The receipt of `submit`: when, whether in time, and the deadline it was held to."""
    verdict = {Status.DONE.value: "в срок", Status.LATE.value: "с опозданием"}.get(status, STATUS_RU[status])
    return (f"{terms.nom} {institution_id}, этап «{stage_name(campaign, stage_id)}»: сдано {show(at, tz)} ({zone_label(tz, at)}), "
            f"{verdict}; срок {show(due, tz)}")
