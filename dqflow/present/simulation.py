"""A replayed campaign (`simulate`) as people read it, day by day, or as one JSON document."""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from dqflow.calendar import iso, zone_label
from dqflow.present.labels import STATE_RU, STATUS_RU, WEEKDAY_RU

if TYPE_CHECKING:
    from dqflow.campaign.spec import Campaign
    from dqflow.engine import CampaignView


class Replay(Protocol):
    """What a replay leaves to tell (`delivery.simulate.Replay`): its events and emails, each a dict, in time order."""

    @property
    def campaign(self) -> Campaign: ...
    @property
    def events(self) -> Sequence[dict[str, Any]]: ...
    @property
    def emails(self) -> Sequence[dict[str, Any]]: ...
    @property
    def final(self) -> CampaignView | None: ...


def simulation_json(replay: Replay) -> Iterator[str]:
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


def simulation_summary(replay: Replay) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for s in replay.final.stages if replay.final else []:
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


def simulation_text(replay: Replay) -> Iterator[str]:
    """The replay day by day, a line at a time (each ending in a newline): events and emails merged in
    time order, the emails of one moment and subject on one line."""
    tz = replay.campaign.tz
    word = replay.campaign.terms.nom
    events = ((e["at"], 0, _event_line(e, word)) for e in replay.events)  # in time order, as the replay sorted them
    entries = heapq.merge(events, _mail_entries(replay.emails), key=lambda x: (x[0], x[1]))
    yield f"{replay.campaign.title} — моделирование, {zone_label(tz, replay.campaign.stages[0].opens_at)}\n"
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
    for stage_id, counts in summary["statuses"].items():  # the JSON keeps ids; people read the stage's name
        stage = replay.campaign.stage(stage_id)
        yield f"  {stage.label if stage else stage_id}: " + ", ".join(f"{STATUS_RU[k]} {n}" for k, n in counts.items()) + "\n"


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

