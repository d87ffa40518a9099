"""The outbox as the coordinator reads it (`outbox`), and why a person got, or did not get, a letter (`why`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dqflow.calendar import iso, show, zone_label
from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.present.labels import OUTBOX_STATE_RU, gap_ru, reason_ru, rule_ru
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
    table = [[show(r.send_at, tz), r.recipient, r.stage_id or "—", rule_ru(r.rule), OUTBOX_STATE_RU[r.state],
              "; ".join(filter(None, [f"попыток {r.attempts}" if r.attempts else "", reason_ru(r.reason, terms)]))] for r in rows]
    header = ["Отправка", "Адресат", "Этап", "Правило", "Состояние", "Примечание"]
    return "\n".join([zone_label(tz, now, capital=True), ""] + text_table(header, table))


def why_text(recipient: str, rows: Sequence[OutboxRow], gaps: list[tuple], tz: ZoneInfo, now: datetime, foreseen: dict[int, str] | None = None,
             terms: Terms = DOU) -> str:
    lines = [f"{recipient} — {zone_label(tz, now)}"]
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
