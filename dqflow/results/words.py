"""What only the справка says, in every format: its title, its order line, shares, times, agreement.
The words every face shares (statuses, stage states, kinds…) are `present.labels`."""

from __future__ import annotations

from datetime import datetime

from dqflow.calendar import show
from dqflow.results.figures import Results

__all__ = ["percent", "when", "title", "order_line", "agreement_word"]


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}\u00a0%"  # a no-break space: "91 %" never splits


def when(results: Results, instant: datetime | None) -> str:
    return show(instant, results.campaign.tz) if instant else ""


def title(results: Results) -> str:
    return "Аналитическая справка по итогам мониторинга качества дошкольного образования"


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

