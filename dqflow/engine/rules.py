"""The state machines, built once with `transitions` and shared by every row.

Each machine is stateless (`model=None`): the state lives in a database row and a row
is passed to `fire` only for the moment of one transition. One machine for 50,000 ДОУ
costs nothing; one machine per row, or `add_model` per row, costs gigabytes.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from transitions import Machine, MachineError

from dqflow.errors import NotAllowed


class Status(str, Enum):
    """Where one ДОУ stands in one stage."""

    UPCOMING = "upcoming"
    OPEN = "open"
    DONE = "done"  # submitted by the (effective) due time
    LATE = "late"  # submitted after due, before the lock
    MISSED = "missed"  # locked without a submission
    EXCUSED = "excused"

    @property
    def submitted(self) -> bool:
        return self in (Status.DONE, Status.LATE)

    @property
    def settled(self) -> bool:
        """Nothing is expected of the ДОУ any more in this stage."""
        return self in (Status.DONE, Status.LATE, Status.EXCUSED)


class StageState(str, Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    LOCKED = "locked"
    HELD = "held"  # events only


def _by_due(event) -> bool:
    return event.kwargs["at"] <= event.model.due_at


def _by_lock(event) -> bool:
    return event.kwargs["at"] <= event.model.locks_at


PROGRESS = Machine(
    model=None,
    states=[s.value for s in Status],
    initial=None,
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
    transitions=[
        {"trigger": "open", "source": Status.UPCOMING.value, "dest": Status.OPEN.value},
        {"trigger": "submit", "source": Status.OPEN.value, "dest": Status.DONE.value, "conditions": _by_due},
        {"trigger": "submit", "source": Status.OPEN.value, "dest": Status.LATE.value, "conditions": _by_lock},
        {"trigger": "lock", "source": Status.OPEN.value, "dest": Status.MISSED.value},
        {"trigger": "reopen", "source": Status.MISSED.value, "dest": Status.OPEN.value},
        {"trigger": "excuse", "source": [Status.UPCOMING.value, Status.OPEN.value, Status.MISSED.value], "dest": Status.EXCUSED.value},
    ],
)

STAGE = Machine(
    model=None,
    states=[s.value for s in StageState],
    initial=None,
    auto_transitions=False,
    model_attribute="state",
    transitions=[
        {"trigger": "open", "source": StageState.SCHEDULED.value, "dest": StageState.OPEN.value},
        {"trigger": "lock", "source": StageState.OPEN.value, "dest": StageState.LOCKED.value},
        {"trigger": "hold", "source": StageState.SCHEDULED.value, "dest": StageState.HELD.value},
    ],
)


def fire(machine: Machine, row: Any, trigger: str, **kwargs: Any) -> tuple[str, str] | None:
    """Run `trigger` on `row`; (from, to) if it moved, None if no transition applied."""
    before = getattr(row, machine.model_attribute)
    try:
        moved = machine.events[trigger].trigger(row, **kwargs)
    except MachineError as exc:
        raise NotAllowed(f"cannot {trigger} from state '{before}'") from exc
    return (before, getattr(row, machine.model_attribute)) if moved else None


def sources(machine: Machine, trigger: str) -> tuple[str, list[str]]:
    """(destination, source states) of an unconditional trigger, for set-based SQL updates."""
    found = machine.get_transitions(trigger=trigger)
    dests = {t.dest for t in found}
    assert len(dests) == 1 and not any(t.conditions for t in found), f"{trigger} is not a bulk trigger"
    return dests.pop(), sorted({t.source for t in found})


def can(machine: Machine, trigger: str, state: str) -> bool:
    return bool(machine.get_transitions(trigger=trigger, source=state))

