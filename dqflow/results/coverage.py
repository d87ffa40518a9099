"""A stage's figures in the справка: how many ДОУ (for a review stage: reviews) it expects, and its coverage and on-time
rate (the definitions are `figures`')."""

from __future__ import annotations

from dataclasses import dataclass

from dqflow.campaign import spec
from dqflow.engine.rules import Status

HANDED_IN = (Status.DONE.value, Status.LATE.value)


@dataclass
class StageFigures:
    stage: spec.Stage
    state: str
    counts: dict[str, int]

    @property
    def expected(self) -> int:
        """The ДОУ (for a review stage: the reviews) due: neither excused nor reviews of nothing."""
        return sum(self.counts.values()) - self.counts.get(Status.EXCUSED.value, 0) - self.no_materials

    @property
    def no_materials(self) -> int:
        """A review stage's reviews of a ДОУ that handed in nothing (`Status.NOTHING`): not due, not missed."""
        return self.counts.get(Status.NOTHING.value, 0)

    @property
    def handed_in(self) -> int:
        return sum(self.counts.get(s, 0) for s in HANDED_IN)

    @property
    def on_time(self) -> int:
        return self.counts.get(Status.DONE.value, 0)

    @property
    def coverage(self) -> float | None:
        return self.handed_in / self.expected if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.expected if self.expected else None
