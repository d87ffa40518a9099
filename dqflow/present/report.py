"""What the coordinator reads: status tables, a ДОУ's card, its history, what a tick changed.

Human text is in the campaign's language (Russian) with dates as dd.mm.yyyy HH:MM and the
zone named; JSON carries ISO-8601 times with their offsets.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, show, show_date, zone_label
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.engine import CampaignView, Change, StageDetail, skips
from dqflow.engine.rules import Status
from dqflow.engine.skips import Skip
from dqflow.store import AuditRow

STATUS_RU = {
    "upcoming": "ожидается",
    "open": "открыт",
    "done": "выполнено",
    "late": "с опозданием",
    "missed": "пропущено",
    "excused": "освобождён",
}
STATE_RU = {"scheduled": "запланирован", "open": "открыт", "locked": "закрыт", "held": "проведён"}
KIND_RU = {"task": "задача", "event": "событие", "assignment": "список экспертов", "handout": "выдача форм"}
ACTION_RU = {
    "load": "кампания загружена",
    "open": "этап открыт",
    "lock": "этап закрыт",
    "hold": "событие состоялось",
    "submit": "материалы сданы",
    "resubmit": "материалы дополнены",
    "extend": "срок продлён",
    "reopen": "этап открыт повторно",
    "excuse": "освобождён от этапа",
    "review": "экспертиза записана",
    "review-update": "экспертиза исправлена",
    "link-revoke": "личная ссылка отозвана, выдана новая",
    "amend": "кампания изменена",
    "amend-stage": "этап изменён",
    "withdraw": "выбыл из кампании",
    "join": "добавлен в кампанию",
}


def actor_ru(actor: str | None, terms: Terms = DOU) -> str:
    """Who made a change, as the audit row names them ('expert:e15' → 'эксперт e15'); '' for the schedule."""
    role, _, who = (actor or "").partition(":")
    return {"coordinator": f"координатор ({'портал' if who == 'web' else 'командная строка'})", "institution": f"{terms.nom} {who} (портал)",
            "expert": f"эксперт {who} (портал)"}.get(role, actor or "")
SHORT = {"upcoming": "·", "open": "открыт", "done": "✓", "late": "✓ позже", "missed": "✗", "excused": "осв."}


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
    }, ensure_ascii=False, indent=2)


def _next_offset(view: CampaignView) -> int | None:
    """Where the next page of ДОУ starts, None after the last (or when none were listed)."""
    end = view.offset + len(view.institutions)
    return end if view.institutions and end < view.total else None


def status_text(view: CampaignView) -> str:
    c, tz = view.campaign, view.campaign.tz
    lines = [
        f"{c.title} ({c.id})",
        f"Состояние на {show(view.now, tz)}, время {zone_label(tz, view.now)}",
        *_rewind_note(view),
        "",
    ]
    rows = []
    for s in view.stages:
        when = _event_time(s.stage, tz) if s.stage.kind == "event" else f"{show(s.stage.opens_at, tz)} – {show(s.stage.due_at, tz)}"
        lock = show(s.stage.locks_at, tz) if s.stage.locks_at != s.stage.due_at else ""
        counts = ", ".join(f"{STATUS_RU[k]} {n}" for k, n in s.counts.items() if n)
        rows.append([s.stage.id, KIND_RU[s.stage.kind], STATE_RU[s.state], when, lock, counts])
    terms = c.terms  # ДОУ, ДОО…: the campaign's own word
    lines += _table(["Этап", "Вид", "Состояние", "Сроки", "Блокировка", f"{terms.nom_pl} по статусам"], rows)
    per = [s.stage.id for s in view.stages if s.stage.per_institution]
    if view.institutions and per:
        lines += ["", f"{terms.nom_pl} по этапам (· ожидается, ✓ выполнено, ✗ пропущено):", ""]
        rows = [[i.institution.id, i.institution.name, _state_ru(i.state)] + [SHORT[i.stages.get(p, "upcoming")] for p in per]
                for i in view.institutions]
        lines += _table([terms.nom, "Название", "Сейчас"] + per, rows)
        if _next_offset(view) is not None:
            lines += ["", f"Показаны {terms.nom_pl} {view.offset + 1}–{view.offset + len(view.institutions)} из {view.total}; "
                          f"следующие: dqflow status --institutions --offset {_next_offset(view)}"]
    elif per and view.total:
        lines += ["", f"{terms.nom_pl}: {view.total}; по этапам: dqflow status --institutions"]
    return "\n".join(lines)


def status_markdown(view: CampaignView) -> str:
    """The status as Markdown tables, for pasting into a letter: full status names, the zone named once."""
    c, tz = view.campaign, view.campaign.tz
    lines = [f"**{c.title}**", "", f"Состояние на {show(view.now, tz)} ({zone_label(tz, view.now)})", *_rewind_note(view), ""]
    rows = []
    for s in view.stages:
        when = _event_time(s.stage, tz) if s.stage.kind == "event" else f"{show(s.stage.opens_at, tz)} – {show(s.stage.due_at, tz)}"
        counts = ", ".join(f"{STATUS_RU[k]} {n}" for k, n in s.counts.items() if n)
        rows.append([f"{s.stage.title} ({s.stage.id})", STATE_RU[s.state], when, counts])
    lines += markdown_table(["Этап", "Состояние", "Сроки", f"{c.terms.nom_pl} по статусам"], rows)
    per = [s.stage.id for s in view.stages if s.stage.per_institution]
    if view.institutions and per:
        lines += ["", *markdown_table([c.terms.nom, "Сейчас"] + per, [
            [i.institution.name, _state_ru(i.state)] + [STATUS_RU[i.stages.get(p, "upcoming")] for p in per] for i in view.institutions])]
    return "\n".join(lines)


def institution_markdown(view: CampaignView, institution_id: str, details: list[StageDetail], panels: dict | None = None) -> str:
    tz = view.campaign.tz
    panels = panels or {}
    inst = next(i for i in view.institutions if i.institution.id == institution_id)
    lines = [f"**{inst.institution.name}** ({view.campaign.terms.nom} {inst.institution.id})", "",
             f"Состояние на {show(view.now, tz)} ({zone_label(tz, view.now)}); сейчас: {_state_ru(inst.state)}", *_rewind_note(view), ""]
    rows = []
    for d in details:
        p = d.progress
        status = STATUS_RU[p.status] + (f" ({_reported(panels[d.stage.id])})" if d.stage.id in panels else "")
        links = " ".join(link for s in d.submissions for link in json.loads(s.links))
        rows.append([d.stage.id, status, show(p.due_at, tz) + (" (продлён)" if p.extended else ""),
                     show(p.submitted_at, tz) if p.submitted_at else "", links])
    lines += markdown_table(["Этап", "Статус", "Срок", "Сдано", "Ссылки"], rows)
    notes = [f"- {d.stage.id}: срок продлён до {show(e.until, tz)}, причина: {e.reason}" for d in details for e in d.extensions]
    for stage_id, panel in panels.items():
        notes += [f"{line[:len(line) - len(line.lstrip())]}- {line.strip()}" for line in review_lines(view.campaign, stage_id, panel)]
    return "\n".join(lines + ([""] + notes if notes else []))


def _event_time(stage, tz: ZoneInfo) -> str:
    return show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)


def _state_ru(state: str) -> str:
    return {"finished": "всё завершено", "waiting": "ждёт этапа", "withdrawn": "выбыл"}.get(state, state)


def institution_json(view: CampaignView, institution_id: str, details: list[StageDetail], panels: dict | None = None) -> str:
    tz = view.campaign.tz
    panels = panels or {}
    inst = next(i for i in view.institutions if i.institution.id == institution_id)
    return json.dumps({
        "campaign": view.campaign.id,
        "timezone": view.campaign.timezone,
        "now": iso(view.now, tz),
        "institution": {"id": inst.institution.id, "name": inst.institution.name, "email": inst.institution.email, "state": inst.state},
        "stages": [
            {"id": d.stage.id, "status": d.progress.status, "opens_at": iso(d.progress.opens_at, tz),
             "due_at": iso(d.progress.due_at, tz), "locks_at": iso(d.progress.locks_at, tz), "extended": d.progress.extended,
             "submitted_at": iso(d.progress.submitted_at, tz),
             "extensions": [{"until": iso(e.until, tz), "reason": e.reason, "granted_at": iso(e.granted_at, tz)} for e in d.extensions],
             "submissions": [{"at": iso(s.at, tz), "links": json.loads(s.links)} for s in d.submissions],
             **({"reviews": _panel_json(panels[d.stage.id], tz)} if d.stage.id in panels else {})}
            for d in details
        ],
    }, ensure_ascii=False, indent=2)


def _panel_json(panel, tz: ZoneInfo) -> dict:
    return {"experts": panel.assigned, "reported": [r.expert_id for r in panel.reviews],
            "reviews": [{"expert": r.expert_id, "at": iso(r.at, tz), "levels": r.levels, "recommendations": r.recommendations}
                        for r in panel.reviews]}


def _rewind_note(view: CampaignView) -> list[str]:
    """Status brings the stored state forward to --now; it cannot take back what was recorded later."""
    if view.recorded_until is None or view.recorded_until <= view.now:
        return []
    return [f"Внимание: в базе уже записаны изменения до {show(view.recorded_until, view.campaign.tz)}; "
            "они показаны, хотя позже этого момента."]


def institution_text(view: CampaignView, institution_id: str, details: list[StageDetail], panels: dict | None = None) -> str:
    """`panels` (stage → results.figures.ReviewPanel) adds each review stage's experts, who reported, and the levels."""
    tz = view.campaign.tz
    panels = panels or {}
    inst = next(i for i in view.institutions if i.institution.id == institution_id)
    lines = [
        f"{inst.institution.name} ({view.campaign.terms.nom} {inst.institution.id}), {inst.institution.email}",
        f"Состояние на {show(view.now, tz)}, время {zone_label(tz, view.now)}; сейчас: {_state_ru(inst.state)}",
        *_rewind_note(view),
        "",
    ]
    rows = []
    for d in details:
        p = d.progress
        submitted = show(p.submitted_at, tz) if p.submitted_at else ""
        status = STATUS_RU[p.status] + (f" ({_reported(panels[d.stage.id])})" if d.stage.id in panels else "")
        rows.append([d.stage.id, status, show(p.opens_at, tz), show(p.due_at, tz) + (" *" if p.extended else ""),
                     show(p.locks_at, tz), submitted])
    lines += _table(["Этап", "Статус", "Открыт", "Срок", "Блокировка", "Сдано"], rows)
    for d in details:
        for e in d.extensions:
            lines.append(f"* {d.stage.id}: срок продлён до {show(e.until, tz)} ({show(e.granted_at, tz)}): {e.reason}")
        for s in d.submissions:
            links = json.loads(s.links)
            if links:
                lines.append(f"  {d.stage.id}, {show(s.at, tz)}: " + " ".join(links))
    for stage_id, panel in panels.items():
        lines += review_lines(view.campaign, stage_id, panel)
    return "\n".join(lines)


def _reported(panel) -> str:
    return f"отчитались {len(panel.reviews)} из {len(panel.assigned)}" if panel.assigned else "эксперты не назначены"


def review_lines(campaign, stage_id: str, panel) -> list[str]:
    """A review stage of one ДОУ: its experts, who reported when, the levels by area, the recommendations."""
    tz = campaign.tz
    if not panel.assigned and not panel.reviews:
        return [f"{stage_id}: эксперты ещё не назначены"]
    lines = [f"{stage_id}: {_reported(panel)} экспертов ({', '.join(panel.assigned)})"]
    given = {r.expert_id: r for r in panel.reviews}
    for expert in panel.assigned + [e for e in given if e not in panel.assigned]:
        review = given.get(expert)
        if review is None:
            lines.append(f"  {expert}: не отчитался")
            continue
        lines.append(f"  {expert}, {show(review.at, tz)}: {levels_text(campaign, review.levels) or 'уровни не указаны'}")
        if review.recommendations:
            lines.append(f"    рекомендации: {' '.join(review.recommendations.split())}")
    return lines


def levels_text(campaign, levels: dict[str, str]) -> str:
    """'Образовательные условия — 2; Взаимодействие с родителями — 3', in the campaign's order of areas."""
    titles = {a.id: a.title for a in campaign.areas}
    order = [a for a in titles if a in levels] + [a for a in levels if a not in titles]
    return "; ".join(f"{titles.get(a, a)} — {levels[a]}" for a in order)


def history_text(rows: list[AuditRow], tz: ZoneInfo, now: datetime, campaign=None) -> str:
    """`campaign` (its areas) lets a review read as its expert and levels by area's title."""
    if not rows:
        return "Записей нет."
    lines = [f"Время {zone_label(tz, now)}"]
    for r in rows:
        text = ACTION_RU.get(r.action, r.action)
        move = f" ({STATUS_RU.get(r.source, r.source)} → {STATUS_RU.get(r.dest, r.dest)})" if r.source != r.dest and r.source else ""
        detail = json.loads(r.detail) if r.detail else {}
        extra = []
        if detail.get("until"):
            extra.append(f"до {show(datetime.fromisoformat(detail['until']), tz)}")
        if detail.get("reason"):
            extra.append(f"причина: {detail['reason']}")
        if detail.get("links"):
            extra.append(" ".join(detail["links"]))
        if r.action in ("review", "review-update") and detail.get("expert"):
            extra.append(f"эксперт {_expert_name(campaign, detail['expert'])}")
            if detail.get("levels"):
                extra.append(levels_text(campaign, detail["levels"]) if campaign else
                             ", ".join(f"{a}={lv}" for a, lv in detail["levels"].items()))
        if detail.get("reviews"):  # a review stage is done when its last expert reported
            text = "экспертиза завершена, все эксперты отчитались"
        # `at` is the moment the change took effect (the command's --now, a stage boundary); when the
        # row was written at another time (a back-dated entry, a catch-up) the real time is shown too
        late = f" [записано {show(r.recorded_at, tz)}]" if show(r.recorded_at, tz) != show(r.at, tz) else ""
        who = f" — {actor_ru(r.actor, campaign.terms if campaign else DOU)}" if r.actor else ""
        lines.append(f"{show(r.at, tz)}  {r.stage_id or '—'}: {text}{move}" + (f"; {'; '.join(extra)}" if extra else "") + who + late)
    return "\n".join(lines)


def _expert_name(campaign, expert_id: str) -> str:
    name = next((e.name for e, _ in campaign.every_expert() if e.id == expert_id), None) if campaign else None
    return f"{expert_id} ({name})" if name and name != expert_id else expert_id


def history_json(rows: list[AuditRow], tz: ZoneInfo) -> str:
    return json.dumps([
        {"at": iso(r.at, tz), "recorded_at": iso(r.recorded_at, tz), "stage": r.stage_id, "action": r.action,
         "from": r.source, "to": r.dest, "detail": json.loads(r.detail) if r.detail else None, "by": r.actor}
        for r in rows
    ], ensure_ascii=False, indent=2)


def changes_text(changes: list[Change], tz: ZoneInfo, terms: Terms = DOU) -> str:
    """Reconcile's changes, one line per stage and moment (a stage-wide change is one line)."""
    if not changes:
        return "Изменений нет."
    grouped: dict[tuple, list[str]] = defaultdict(list)
    for c in changes:
        grouped[(c.at, c.stage_id, c.action, c.source, c.dest)].append(c.institution_id or "")
    lines = []
    for (at, stage, action, source, dest), who in grouped.items():
        ids = [w for w in who if w]
        if action == "draw":
            lines.append(f"{show(at, tz)}  {stage}: список экспертов составлен (dqflow experts show {stage})")
        elif ids:
            names = ", ".join(ids[:10]) + (f" и ещё {len(ids) - 10}" if len(ids) > 10 else "")
            lines.append(f"{show(at, tz)}  {stage}: {STATUS_RU[source]} → {STATUS_RU[dest]} — {terms.nom} {names}")
        else:
            lines.append(f"{show(at, tz)}  {stage}: {STATE_RU[source]} → {STATE_RU[dest]}")
    return "\n".join(lines)


def submitted_text(institution_id: str, stage_id: str, status: str, at: datetime, due: datetime, tz: ZoneInfo,
                   terms: Terms = DOU) -> str:
    verdict = {Status.DONE.value: "в срок", Status.LATE.value: "с опозданием"}.get(status, STATUS_RU[status])
    return f"{terms.nom} {institution_id}, этап {stage_id}: сдано {show(at, tz)} ({zone_label(tz, at)}), {verdict}; срок {show(due, tz)}"


def markdown_table(header: list, rows: list[list]) -> list[str]:
    """A GitHub-flavoured Markdown table; a `|` or a line break inside a cell is kept from breaking it."""
    cell = lambda v: " ".join(str(v).splitlines()).replace("\\", "\\\\").replace("|", "\\|")  # noqa: E731
    return ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(map(cell, r)) + " |" for r in rows]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["─" * w for w in widths])] + [fmt(r) for r in rows]


# -- the outbox ------------------------------------------------------------------------

OUTBOX_STATE_RU = {"pending": "ожидает", "sent": "отправлено", "skipped": "пропущено", "failed": "повтор", "dead": "не доставлено"}

# The ledger keeps reasons as codes (`skips.Skip`, with a parameter after a colon); people read
# them in Russian, the institution named in the campaign's own word (ДОУ, ДОО…: `t`, its Terms).
# Anything else (an SMTP server's reply) is shown as it came.
REASONS_RU = {
    Skip.EXPIRED: lambda _, t: "его время прошло раньше, чем его удалось отправить",
    Skip.PLANNED_LATE: lambda _, t: "его время прошло ещё до того, как его запланировали",
    Skip.DEADLINE_MOVED: lambda _, t: "срок изменился (продление или изменение кампании)",
    Skip.AMENDED: lambda _, t: "кампания изменена (приказ о внесении изменений)",
    Skip.WITHDRAWN: lambda _, t: f"{t.nom} или эксперт выбыл из кампании",
    Skip.NOTHING_TO_HAND_OUT: lambda list_id, t: f"в списке {list_id} у эксперта не осталось {t.gen_pl}: они выбыли или эксперт снят с них",
    Skip.NOT_ASSIGNED: lambda inst, t: f"эксперт больше не назначен на {t.nom} {inst} (выбыл или снят со списка)",
    Skip.SUBMITTED: lambda _, t: "уже сдано",
    Skip.EXCUSED: lambda _, t: f"{t.nom} освобожден{t.past} от этапа",
    Skip.LOCKED: lambda _, t: "этап закрыт",
    Skip.NOT_OPEN: lambda _, t: "этап ещё не открыт",
    Skip.NOT_MISSED: lambda status, t: f"статус этапа — «{STATUS_RU.get(status, status)}», а не «пропущено»",
    Skip.REVIEWED: lambda _, t: f"эксперт уже отчитался по {t.dat}",
    Skip.NO_NEWS: lambda _, t: "сообщать не о чем",
    Skip.SUPERSEDED: lambda _, t: "вместо него ушло более позднее напоминание о том же сроке",
    Skip.BEFORE_OPENING: lambda _, t: "оно ушло бы до открытия этапа",
    Skip.AFTER_EVENT: lambda _, t: "оно ушло бы после начала мероприятия",
    Skip.SAME_MOMENT: lambda rule, t: f"в это же время уходит напоминание по правилу «{rule_ru(rule or '')}»",
    Skip.DEFERRED: lambda why, t: "отложено до следующей отправки: " + {
        "budget": "отправка исчерпала отведённое ей время", "server": "почтовый сервер не отвечает или отказывает",
        "lease": "отправку перехватил другой процесс"}.get(why or "", why or ""),
}
GAPS_RU = {
    "no-rules": lambda t, stage: f"{stage}: у этапа нет правил напоминаний",
    "settled": lambda t, stage, inst, status: (f"{stage}: у {t.gen} {inst} уже был статус «{STATUS_RU.get(status, status)}», "
                                                 "когда планировались напоминания"),
    "not-planned": lambda t, stage: f"{stage}: ещё не запланировано; напоминания планируются при следующем запуске dqflow tick, send или run",
    "no-list": lambda t, stage, list_id, expert: f"{stage}: список {list_id} ещё не назначил эксперту {expert} ни одного {t.gen}",
    "unknown-address": lambda t, address, campaign: (f"{address} — не адрес кампании {campaign}: "
                                                     f"его нет ни у {t.gen_pl}, ни у экспертов, ни у координатора"),
}


def reason_ru(reason: str | None, terms: Terms = DOU) -> str:
    code, parameter = skips.parse(reason)
    return REASONS_RU[code](parameter, terms) if code else reason or ""


def gap_ru(gap: tuple, terms: Terms = DOU) -> str:
    return GAPS_RU[gap[0]](terms, *gap[1:])


def rule_ru(rule: str) -> str:
    """A reminder rule as people say it: 'before:2wd' → 'за 2 раб. дн.'."""
    name, _, arg = rule.partition(":")
    words = {"opens": "при открытии", "due": "в день срока", "missed": "этап пропущен", "handout": "выдача форм",
             "handout-added": "дополнение к выдаче",
             "handout-copy": "копия списка", "recommendations": "рекомендации", "digest": "сводка",
             "submitted": "сдано оператору"}
    if name == "before":
        return f"за {_duration_ru(arg)}"
    if name == "overdue":
        offset, _, n = arg.partition("#")
        return f"просрочка {n or 1} (каждые {_duration_ru(offset)})"
    return words.get(name.partition("#")[0], rule)  # submitted#<time>: one notice per submission


def _duration_ru(text: str) -> str:
    match = re.fullmatch(r"(\d+)(wd|d|h|m)", text)
    if not match:
        return text
    unit = {"wd": "раб. дн.", "d": "дн.", "h": "ч", "m": "мин"}[match[2]]
    return f"{match[1]} {unit}"


def outbox_json(rows, tz: ZoneInfo) -> str:
    return json.dumps([
        {"id": r.id, "key": r.key, "recipient": r.recipient, "role": r.role, "institution": r.institution_id,
         "stage": r.stage_id, "rule": r.rule, "kind": r.kind, "deadline": iso(r.deadline, tz), "send_at": iso(r.send_at, tz),
         "expires_at": iso(r.expires_at, tz), "state": r.state, "reason": r.reason, "attempts": r.attempts,
         "retry_at": iso(r.retry_at, tz), "sent_at": iso(r.sent_at, tz), "message_id": r.message_id}
        for r in rows
    ], ensure_ascii=False, indent=2)


def outbox_text(rows, tz: ZoneInfo, now: datetime, terms: Terms = DOU) -> str:
    if not rows:
        return "Очередь писем пуста."
    table = [[show(r.send_at, tz), r.recipient, r.stage_id or "—", rule_ru(r.rule), OUTBOX_STATE_RU[r.state],
              "; ".join(filter(None, [f"попыток {r.attempts}" if r.attempts else "", reason_ru(r.reason, terms)]))] for r in rows]
    return "\n".join([f"Время {zone_label(tz, now)}", ""] + _table(["Отправка", "Адресат", "Этап", "Правило", "Состояние", "Примечание"], table))


def why_text(recipient: str, rows, gaps: list[tuple], tz: ZoneInfo, now: datetime, foreseen: dict[int, str] | None = None,
             terms: Terms = DOU) -> str:
    lines = [f"{recipient} — время {zone_label(tz, now)}"]
    foreseen = foreseen or {}
    for r in rows:
        state = OUTBOX_STATE_RU[r.state]
        when = show(r.sent_at or r.send_at, tz)
        because = {
            "pending": f"запланировано правилом «{rule_ru(r.rule)}»" + (f" к сроку {show(r.deadline, tz)}" if r.deadline else "")
                       + (f"; не будет отправлено: {reason_ru(foreseen[r.id], terms)}" if r.id in foreseen else ""),
            "sent": f"отправлено по правилу «{rule_ru(r.rule)}» (Message-ID {r.message_id})",
            "skipped": f"правило «{rule_ru(r.rule)}»" + (f" к сроку {show(r.deadline, tz)}" if r.deadline else "")
                       + f" — не отправлено: {reason_ru(r.reason, terms)}",
            "failed": f"ошибка доставки, повтор {show(r.retry_at, tz)}: {reason_ru(r.reason, terms)}",
            "dead": f"не доставлено окончательно: {reason_ru(r.reason, terms)}",
        }[r.state]
        about = f", {terms.nom} {r.institution_id}" if r.role == "expert" and r.institution_id else ""  # an expert has several
        lines.append(f"{when}  {r.stage_id or 'сводка'}{about}: {state} — {because}")
    lines += [f"не запланировано — {gap_ru(gap, terms)}" for gap in gaps]
    if len(lines) == 1:
        lines.append("Для этого адреса ничего не запланировано.")
    return "\n".join(lines)


# -- the simulation --------------------------------------------------------------------

WEEKDAY_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def simulation_json(replay) -> Iterator[str]:
    """The replay as one JSON document (indented), a record at a time: a national replay's log would not
    fit in memory as one string. The pieces join into what `json.dumps(…, indent=2)` gives."""
    tz = replay.campaign.tz
    plain = lambda v: iso(v, tz) if isinstance(v, datetime) else v  # noqa: E731
    dump = lambda v: json.dumps(v, ensure_ascii=False, indent=2)  # noqa: E731
    yield f'{{\n  "campaign": {dump(replay.campaign.id)},\n  "timezone": {dump(replay.campaign.timezone)},\n'
    logs = (("events", ({k: plain(v) for k, v in e.items() if v is not None} for e in replay.events)),
            ("emails", ({k: plain(v) for k, v in e.items()} for e in replay.emails)))
    for name, records in logs:
        yield f'  "{name}": '
        empty = True
        for record in records:
            yield ("[\n" if empty else ",\n") + "    " + dump(record).replace("\n", "\n    ")
            empty = False
        yield "[],\n" if empty else "\n  ],\n"
    yield '  "summary": ' + dump(simulation_summary(replay)).replace("\n", "\n  ") + "\n}"


def simulation_summary(replay) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for s in replay.final.stages:
        if s.counts:
            counts[s.stage.id] = {k: n for k, n in s.counts.items() if n}
    types = Counter(e["type"] for e in replay.events)
    return {
        "emails": len(replay.emails),
        "recipients": len({e["to"] for e in replay.emails}),
        "submissions": types["submit"],
        "reviews": types["review"],
        "extensions": types["extend"],
        "refused": types["refused"],
        "statuses": counts,
    }


def simulation_text(replay) -> Iterator[str]:
    """The replay day by day, a line at a time (each ending in a newline): events and emails merged in
    time order, the emails of one moment and subject on one line."""
    tz = replay.campaign.tz
    word = replay.campaign.terms.nom
    events = ((e["at"], 0, _event_line(e, word)) for e in replay.events)  # in time order, as the replay sorted them
    entries = heapq.merge(events, _mail_entries(replay.emails), key=lambda x: (x[0], x[1]))
    yield f"{replay.campaign.title} — моделирование, время {zone_label(tz, replay.campaign.stages[0].opens_at)}\n"
    day = None
    for at, _, text in _collapse(entries, word):
        local = at.astimezone(tz)
        if local.date() != day:
            day = local.date()
            yield f"\n{local:%d.%m.%Y} ({WEEKDAY_RU[local.weekday()]})\n"
        yield f"  {local:%H:%M}  {text}\n"
    summary = simulation_summary(replay)
    yield (f"\nИтого: писем {summary['emails']} (адресатов {summary['recipients']}), сдано {summary['submissions']}, "
           f"отзывов экспертов {summary['reviews']}, продлений {summary['extensions']}, отказов {summary['refused']}.\n")
    for stage_id, counts in summary["statuses"].items():
        yield f"  {stage_id}: " + ", ".join(f"{STATUS_RU[k]} {n}" for k, n in counts.items()) + "\n"


def _mail_entries(emails):
    """One entry per moment and subject, in time order. The replay logs a send's emails together, at its
    moment, and each wake's moment is later than the last: so one pass groups them."""
    moment, subjects = None, {}
    for m in [*emails, None]:
        if m is None or m["at"] != moment:
            for subject, to in subjects.items():
                yield (moment, 1, f"письмо «{subject}» → {', '.join(to)}" if len(to) < 3
                       else f"письма ({len(to)}) «{subject}» → {', '.join(to)}")
            if m is None:
                return
            moment, subjects = m["at"], {}
        subjects.setdefault(m["subject"], []).append(m["to"])


def _event_line(e: dict, word: str) -> str:
    if e["type"] == "submit":
        return f"{word} {e['institution']} сдал(а) «{e['stage']}»: {STATUS_RU.get(e['to'], e['to'])}"
    if e["type"] == "review":
        return f"эксперт {e['expert']} проверил(а) {word} {e['institution']} («{e['stage']}»): этап {word} {STATUS_RU.get(e['to'], e['to'])}"
    if e["type"] == "draw":
        return f"{e['stage']}: список экспертов составлен"
    if e["type"] == "extend":
        return f"{word} {e['institution']}: срок «{e['stage']}» продлён"
    if e["type"] == "refused":
        return f"{word} {e['institution']}: отказ — {e['reason']}"
    if e.get("institution"):
        return f"{e['stage']}: {word} {e['institution']} {STATUS_RU[e['from']]} → {STATUS_RU[e['to']]}"
    return f"{e['stage']}: {STATE_RU[e['from']]} → {STATE_RU[e['to']]}"


def _collapse(entries, word: str):
    """Stage-wide moves of many ДОУ at one moment read as one line."""
    first, count = None, 0
    for entry in entries:
        if first is not None and entry[0] == first[0] and _same_move(entry[2], first[2], word):
            count += 1
            continue
        if first is not None:
            yield _collapsed(first, count, word)
        first, count = entry, 1
    if first is not None:
        yield _collapsed(first, count, word)


def _collapsed(first: tuple, count: int, word: str) -> tuple:
    at, order, text = first
    if count == 1:
        return first
    stage, _, rest = text.partition(f": {word} ")
    return (at, order, f"{stage}: {count} {word} {rest.split(' ', 1)[1]}")


def _same_move(a: str, b: str, word: str) -> bool:
    marker = f": {word} "
    if marker not in a or marker not in b or "→" not in a:
        return False
    sa, _, ra = a.partition(marker)
    sb, _, rb = b.partition(marker)
    return sa == sb and ra.split(" ", 1)[1] == rb.split(" ", 1)[1]


# -- expert lists -------------------------------------------------------------------


def expert_list_json(current, terms: Terms = DOU) -> str:
    return json.dumps({
        "stage": current.stage.id,
        "assignments": [{"institution": inst, "experts": es} for inst, es in current.assignments.items()],
        "load": dict(sorted(current.load().items())),
        "problems": [broken_ru(p, terms) for p in current.problems],
        "rules": [p.to_dict() for p in current.problems],  # the same, as codes with their facts
    }, ensure_ascii=False, indent=2)


# The rules a list breaks (`allocation.Rule`), in the coordinator's words; `t` is the campaign's Terms.
BROKEN_RU = {
    "unknown-expert": lambda t, f: f"эксперта {f['expert']} нет в кампании",
    "own-institution": lambda t, f: f"{t.nom} {f['institution']} проверял бы эксперт этого же {t.gen}: {f['expert']}",
    "conflict": lambda t, f: f"{t.nom} {f['institution']} проверял бы эксперт с заявленным конфликтом интересов: {f['expert']}",
    "own-experts": lambda t, f: f"{t.nom} {f['institution']} проверяет эксперт этого же {t.gen}: {', '.join(f['experts'])}",
    "conflicts": lambda t, f: f"{t.nom} {f['institution']} проверяет эксперт с заявленным конфликтом интересов: {', '.join(f['experts'])}",
    "twice": lambda t, f: f"у {t.gen} {f['institution']} один и тот же эксперт назначен дважды",
    "short": lambda t, f: (f"{t.nom} {f['institution']}: не хватает экспертов ({f['have']} из {f['per']}): "
                           + (f"проверять {t.it_acc} могут только экспертов: {f['eligible']}" if f["eligible"] < f["per"]
                              else "нагрузка экспертов не оставила места")),
    "repeat": lambda t, f: f"{t.nom} {f['institution']} снова получает эксперта из предыдущего списка: {', '.join(f['experts'])}",
    "pair": lambda t, f: f"{t.nom_pl} {f['first']} и {f['second']} проверяют друг друга (взаимная пара)",
    "uneven": lambda t, f: f"нагрузка неравномерна: у {f['busiest']} проверок {f['most']}, у {f['idlest']} — {f['fewest']}",
    "max-load": lambda t, f: f"превышен max_load {f['max_load']}: {', '.join(f['experts'])}",
}


def broken_ru(rule, terms: Terms = DOU) -> str:
    """One broken rule of an expert list (`allocation.Rule`) in Russian, the institution in the campaign's word."""
    return BROKEN_RU[rule.code](terms, rule.facts)


def expert_list_csv(current, campaign) -> str:
    names = {i.id: i.name for i in campaign.institutions}
    people = {e.id: (e, home or "") for e, home in campaign.every_expert()}
    return csv_text(["institution", "institution_name", "expert_id", "expert_name", "expert_email", "expert_institution"],
                    [[inst, names[inst], e, people[e][0].name, people[e][0].email, people[e][1]]
                     for inst, experts in current.assignments.items() for e in experts])


# -- CSV ----------------------------------------------------------------------------

# A spreadsheet program runs a cell that starts with one of these as a formula (=HYPERLINK(…) sends
# whoever opens the file to an address of the writer's choosing); the full-width forms count too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value) -> str:
    """A cell that a spreadsheet shows as the text it is: a leading ' makes a would-be formula text."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def csv_text(header: list[str], rows) -> str:
    """Every CSV dqflow writes comes from here, so no export can skip the formula guard. Rows end
    in CRLF (RFC 4180), which also makes the writer quote a CR inside a cell instead of splitting the row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in header])
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def expert_list_text(current, campaign) -> str:
    names = {i.id: i.name for i in campaign.institutions}
    people = {e.id: e.name for e, _ in campaign.every_expert()}
    if not any(current.assignments.values()):
        opens = current.stage.opens_at
        return f"Список {current.stage.id} ещё не составлен (составится сам {show(opens, campaign.tz)}, {zone_label(campaign.tz, opens)})."
    lines = [f"{current.stage.title} ({current.stage.id})", ""]
    lines += _table([campaign.terms.nom, "Название", "Эксперты"],
                    [[inst, names[inst], ", ".join(f"{e} ({people[e]})" for e in es)] for inst, es in current.assignments.items()])
    lines += ["", "Нагрузка экспертов:", ""]
    by_expert = current.by_expert()
    lines += _table(["Эксперт", "Имя", campaign.terms.nom_pl, "Всего"],
                    [[e, people[e], ", ".join(by_expert.get(e, [])), str(len(by_expert.get(e, [])))] for e in sorted(people)])
    if current.problems:
        lines += ["", "Правила, которые список не выполняет:"] + [f"- {broken_ru(p, campaign.terms)}" for p in current.problems]
    return "\n".join(lines)


def expert_diff_text(rows: list[dict], first: str, second: str, terms: Terms = DOU) -> str:
    table = [[r["institution"], ", ".join(r["both"]) or "—", ", ".join(r["only_" + first]) or "—", ", ".join(r["only_" + second]) or "—"]
             for r in rows]
    repeated = sum(1 for r in rows if r["both"])
    return "\n".join(_table([terms.nom, "в обоих", f"только {first}", f"только {second}"], table)
                     + ["", f"{terms.nom_pl} с повторным экспертом: {repeated}"])
