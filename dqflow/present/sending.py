"""The outbox as the coordinator reads it (`outbox`), why a person got, or did not get, a letter (`why`), and what
a send did: its counts, and when nothing went out, when the next letters go and why not now."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, show, show_date, zone_label
from dqflow.campaign import spec
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.engine.schedule import Clock
from dqflow.present.labels import DEFERRED_RU, OUTBOX_STATE_RU, WEEKDAY_FULL_RU, gap_ru, reason_ru, rule_ru
from dqflow.present.tables import text_table
from dqflow.store import OutboxRow


def outbox_json(rows: Sequence[OutboxRow], tz: ZoneInfo) -> str:
    return json.dumps([
        {"id": r.id, "key": r.key, "recipient": r.recipient, "role": r.role, "institution": r.institution_id,
         "stage": r.stage_id, "rule": r.rule, "kind": r.kind, "deadline": iso(r.deadline, tz), "send_at": iso(r.send_at, tz),
         "expires_at": iso(r.expires_at, tz), "state": r.state, "reason": r.reason, "attempts": r.attempts,
         "retry_at": iso(r.retry_at, tz), "sent_at": iso(r.sent_at, tz), "message_id": r.message_id}
        for r in rows
    ], ensure_ascii=False, indent=2)


def outbox_text(rows: Sequence[OutboxRow], tz: ZoneInfo, now: datetime, terms: Terms = DOU) -> str:
    if not rows:
        return "Очередь писем пуста."
    table = [[show(r.send_at, tz), show(r.sent_at, tz) if r.state == "sent" else "—", r.recipient, r.stage_id or "—",
              rule_ru(r.rule), OUTBOX_STATE_RU[r.state],
              "; ".join(filter(None, [f"попыток {r.attempts}" if r.attempts else "", reason_ru(r.reason, terms)]))] for r in rows]
    header = ["Запланировано", "Отправлено", "Адресат", "Этап", "Правило", "Состояние", "Примечание"]
    return "\n".join([zone_label(tz, now, capital=True), ""] + text_table(header, table))


def why_text(recipient: str, rows: Sequence[OutboxRow], gaps: list[tuple], tz: ZoneInfo, now: datetime, foreseen: dict[int, str] | None = None,
             terms: Terms = DOU) -> str:
    lines = [f"{recipient} — {zone_label(tz, now)}"]
    foreseen = foreseen or {}
    for r in rows:
        state = OUTBOX_STATE_RU[r.state]
        when = show(r.send_at, tz)  # the planned moment on every line; a sent letter says when it really went
        because = {
            "pending": f"запланировано правилом «{rule_ru(r.rule)}»" + (f" к сроку {show(r.deadline, tz)}" if r.deadline else "")
                       + (f"; не будет отправлено: {reason_ru(foreseen[r.id], terms)}" if r.id in foreseen else ""),
            "sent": f"ушло {show(r.sent_at, tz)} (запланировано на {when}) по правилу «{rule_ru(r.rule)}» (Message-ID {r.message_id})",
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


def sent_text(sent: int, failed: int, dead: int, deferred: int, skipped: int) -> str:
    """The counts of one send (`send`, `run --once`): letters sent, waiting for a retry, given up, left for the next
    send when it stopped early; and the planned rows it found no longer wanted."""
    return f"Отправлено писем: {sent}, ждут повтора: {failed}, не доставлено: {dead}, отложено: {deferred}, пропущено: {skipped}."


BUSY_TEXT = "Письма этой кампании сейчас отправляет другой запуск dqflow send или run; ничего не отправлено (отправит следующий)."


def stopped_text(why: str, detail: str, budget: int, deferred: int) -> str:
    """Why a send stopped before it was done (`DrainReport.stopped`), and how many letters wait."""
    said = {"budget": f"{DEFERRED_RU['budget']} ({budget} с)",
            "server": f"{DEFERRED_RU['server']} ({detail})" if detail else DEFERRED_RU["server"]}.get(why, DEFERRED_RU.get(why, why))
    return f"Отправка остановлена раньше срока: {said}; писем ждут следующей отправки: {deferred}."


def waiting_text(campaign: spec.Campaign, now: datetime, at: datetime | None, letters: int) -> list[str]:
    """When nothing went out at `now`: how many letters wait, when they go (`at`, the send time `due.ahead` found)
    and why not now: outside the sending window, a day off, or nothing due before then."""
    if at is None:
        return ["Писем в очереди нет: ничего не запланировано."]
    clock, tz = Clock(campaign), campaign.tz
    when = f"{show(at, tz)} ({WEEKDAY_FULL_RU[at.astimezone(tz).weekday()]}, {zone_label(tz, at)})"
    if at <= now:
        return [f"Писем к отправке сейчас: {letters}; они уйдут при запуске dqflow send или dqflow run."]
    if clock.in_window(now) or at != clock.next_send_time(now):
        return [f"Сейчас отправлять нечего: ближайшие письма запланированы на {when}, писем: {letters}."]
    days = "по рабочим дням" if campaign.sending.working_days_only else "ежедневно"
    return [f"Сейчас письма не уходят: {_not_now(clock, now)}; письма уходят {days} с {clock.start:%H:%M} до {clock.end:%H:%M}.",
            f"Ждут отправки писем: {letters}; ближайшая отправка — {when}."]


def _not_now(clock: Clock, now: datetime) -> str:
    """Why `now` is outside the sending window (`Clock.in_window` said so): a day off, and which, or the hour."""
    local = now.astimezone(clock.tz)
    day = local.date()
    if clock.sendable_day(day):
        return f"{local:%H:%M} — вне окна отправки {clock.start:%H:%M}–{clock.end:%H:%M}"
    return f"{show_date(now, clock.tz)} — {_day_off(clock, day)}"


def _day_off(clock: Clock, day: date) -> str:
    """Which kind of day off `day` is (the calendar said it is one): the campaign's own, a weekend, or a holiday."""
    if day in clock.calendar.extra_days_off:
        return "выходной по календарю кампании"
    if day.weekday() >= 5:
        return f"{WEEKDAY_FULL_RU[day.weekday()]}, выходной"
    return "нерабочий праздничный день"
