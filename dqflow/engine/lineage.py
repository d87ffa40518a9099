"""A ДОУ is the same ДОУ next year: how the roster of a campaign relates to the roster of the campaign before it
(`campaign.previous`). Everything that compares years asks this module, so two faces never pair differently.

Two rows are the same ДОУ when both carry an ИНН and the ИНН are equal; when either lacks one, when they carry the same
id. Two rows that both carry an ИНН, and different ones, are different ДОУ even under one id (the id went to another
organisation). Each row is paired once: by ИНН first, then by id among the rows left.

A campaign's roster here is the ДОУ still in it (`InstitutionRow.withdrawn_at` unset): one withdrawn during last year's
campaign took no part to its end and is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from sqlmodel import Session, col, select

from dqflow.campaign.model import Campaign
from dqflow.store import CampaignRow, InstitutionRow

Match = Literal["inn", "id"]


@dataclass(frozen=True)
class Member:
    """One ДОУ of a campaign's roster, as the relation sees it."""

    id: str
    name: str
    inn: str | None = None


@dataclass(frozen=True)
class Pair:
    """The same ДОУ in the previous campaign and in the current one, and what related them."""

    previous: Member
    current: Member
    by: Match

    @property
    def renamed(self) -> bool:
        return self.previous.name.strip() != self.current.name.strip()


@dataclass(frozen=True)
class Lineage:
    """The current campaign's roster against the previous one's: pairs in the current roster's order, the ДОУ new this
    year (current order) and those gone since last year (previous order)."""

    previous_id: str
    current_id: str
    pairs: tuple[Pair, ...]
    appeared: tuple[Member, ...]
    disappeared: tuple[Member, ...]

    @property
    def renamed(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.renamed)

    def previous_of(self) -> dict[str, str]:
        """Current ДОУ id → its id in the previous campaign (for the ДОУ of both years)."""
        return {p.current.id: p.previous.id for p in self.pairs}

    @property
    def changed(self) -> bool:
        return bool(self.appeared or self.disappeared or self.renamed)


def relate(previous: Iterable[Member], current: Iterable[Member], previous_id: str = "", current_id: str = "") -> Lineage:
    """Pair the two rosters (see the module's docstring); linear in their sizes."""
    before, now = list(previous), list(current)
    by_inn = {m.inn: m for m in before if m.inn}
    taken: set[str] = set()  # previous ids already paired
    found: dict[str, Pair] = {}  # current id → its pair
    for m in now:
        old = by_inn.get(m.inn) if m.inn else None
        if old is not None and old.id not in taken:
            found[m.id] = Pair(old, m, "inn")
            taken.add(old.id)
    by_id = {m.id: m for m in before if m.id not in taken}
    for m in now:
        old = by_id.get(m.id)
        if m.id in found or old is None or old.id in taken or (m.inn and old.inn):  # both with an ИНН, and different ones
            continue
        found[m.id] = Pair(old, m, "id")
        taken.add(old.id)
    return Lineage(previous_id, current_id, tuple(found[m.id] for m in now if m.id in found),
                   tuple(m for m in now if m.id not in found), tuple(m for m in before if m.id not in taken))


def roster(session: Session, campaign_id: str) -> list[Member]:
    """The ДОУ still in a loaded campaign, in roster order: one query."""
    rows = session.exec(select(InstitutionRow.id, InstitutionRow.name, InstitutionRow.inn).where(
        InstitutionRow.campaign_id == campaign_id, col(InstitutionRow.withdrawn_at).is_(None))
        .order_by(col(InstitutionRow.position), col(InstitutionRow.id))).all()
    return [Member(i, name, inn) for i, name, inn in rows]


def members(campaign: Campaign) -> list[Member]:
    """The ДОУ of a campaign file (not loaded yet, or about to be amended)."""
    return [Member(i.id, i.name, i.inn) for i in campaign.institutions]


def loaded(session: Session, campaign_id: str) -> bool:
    return session.get(CampaignRow, campaign_id) is not None


def since(session: Session, campaign: Campaign) -> Lineage | None:
    """The campaign file's roster against its `campaign.previous` as loaded; None when it names none or that campaign is not
    loaded (the caller says which: `loaded`)."""
    if campaign.previous is None or not loaded(session, campaign.previous):
        return None
    return relate(roster(session, campaign.previous), members(campaign), campaign.previous, campaign.id)


def between(session: Session, current_id: str, previous_id: str) -> Lineage:
    """Two loaded campaigns' rosters related (two queries)."""
    return relate(roster(session, previous_id), roster(session, current_id), previous_id, current_id)
