"""The coordinator's settled levels: where the two experts of a ДОУ gave an indicator different levels in a review
stage, the coordinator settles it (`dqflow settle`, the ДОУ's card on the portal), audited; the settled level is the
indicator's final level there (`finals.final`), whatever the campaign's `settle:` rule says.

Only where the campaign reviews per indicator (`Campaign.reviews_by_indicator`). A settlement is made during the
review stage or after it (the справка is written after the reviews), never before both experts reviewed the indicator
at the moment named, and only where they disagree (`finals.disputed`); one already made may be changed, with a new
reason, whatever the experts say since. Every read and write here is a primary-key range of one ДОУ: a settlement and
the card cost a bounded number of statements whatever the roster's size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.engine import finals
from dqflow.engine.acts import checked_row, required_reason
from dqflow.engine.definitions import definition, forget
from dqflow.errors import NotAllowed, NotFound
from dqflow.store import AuditRow, ProgressRow, ReviewLevelRow, ReviewRow, SettlementRow, acting, lock_campaign, recorded_at, table


@dataclass(frozen=True)
class Given:
    """One expert's level (and comment) for an indicator."""

    expert_id: str
    level: str
    comment: str | None = None


@dataclass(frozen=True)
class Settlement:
    """The coordinator's level for an indicator: why, when, and who (the audit row's actor)."""

    level: str
    reason: str
    at: datetime
    actor: str | None = None


@dataclass(frozen=True)
class Indicator:
    """One indicator of a ДОУ in a review stage as the coordinator weighs it: the experts' levels, the settlement,
    and what the rules make of them (`finals`)."""

    indicator_id: str
    given: tuple[Given, ...]
    settled: Settlement | None
    disputed: bool  # `finals.disputed`: to settle
    final: str | None  # `finals.final`: the level the справка counts (None under `settle: coordinator` until settled)


@dataclass
class StageSettlements:
    """A review stage of one ДОУ: its disputed indicators and its settled ones, in the form's order."""

    stage: spec.Stage
    disputed: list[Indicator] = field(default_factory=list)
    settled: list[Indicator] = field(default_factory=list)


@dataclass(frozen=True)
class Settled:
    """What `settle` did: the indicator as it stands now, and the level it replaced (None for a first settlement)."""

    indicator: Indicator
    was: str | None


def settle(session: Session, campaign_id: str | None, institution_id: str, stage_id: str, indicator_id: str, level: str,
           reason: str, now: datetime) -> Settled:
    """Settle one indicator of a ДОУ in a review stage at `level`, written with its audit row ("settle") in the
    caller's transaction; refused, writing nothing, where there is nothing to settle."""
    campaign_id = campaign_id or definition(session, None).id
    lock_campaign(session, campaign_id)  # two coordinators settling at once: one writes, the other then changes it
    forget(session)  # what was read before the lock may predate an amendment committed while we waited
    campaign = definition(session, campaign_id)
    if not campaign.reviews_by_indicator:
        raise NotAllowed(f"campaign '{campaign.id}' reviews per area, not per indicator: there is nothing to settle",
                         code="not-by-indicator")
    reason = required_reason(reason, "a settlement")
    stage = _review_stage(campaign, stage_id)
    if indicator_id not in campaign.indicators:
        raise NotFound(f"no indicator '{indicator_id}' in the form; indicators: {', '.join(campaign.indicators)}",
                       code="no-indicator", indicator=indicator_id, known=", ".join(campaign.indicators))
    scale = [lv.id for lv in campaign.levels]
    if level not in scale:
        raise NotFound(f"no level '{level}' in the campaign; levels: {', '.join(scale)}", code="no-level", level=level,
                       known=", ".join(scale))
    checked_row(campaign, institution_id, stage.id, session.get(ProgressRow, (campaign.id, institution_id, stage.id)))
    found = _indicators(session, campaign, institution_id, [stage], only=indicator_id, now=now)
    current = found.get((stage.id, indicator_id)) or Indicator(indicator_id, (), None, False, None)
    if current.settled is None:
        _check_disputed(campaign, current, institution_id, stage, now)
    key = {"campaign_id": campaign.id, "stage_id": stage.id, "institution_id": institution_id, "indicator_id": indicator_id}
    settlement = table(SettlementRow)
    if current.settled is None:
        session.execute(insert(settlement).values(**key, level=level, reason=reason, at=now))
    else:
        session.execute(update(settlement).where(*(settlement.c[k] == v for k, v in key.items()))
                        .values(level=level, reason=reason, at=now))
    finals.keep(session, campaign, [(stage.id, institution_id)])  # its kept final levels (`finals.stored`)
    detail = {"indicator": indicator_id, "level": level, "reason": reason,
              "experts": {g.expert_id: g.level for g in current.given}}
    if current.settled is not None:
        detail["was"] = current.settled.level
    session.add(AuditRow(campaign_id=campaign.id, institution_id=institution_id, stage_id=stage.id, action="settle", at=now,
                         recorded_at=recorded_at(session, now), actor=acting(session), detail=json.dumps(detail, ensure_ascii=False)))
    levels = [g.level for g in current.given]
    made = Settlement(level, reason, now, acting(session))
    return Settled(Indicator(indicator_id, current.given, made, finals.disputed(levels, level),
                             finals.final(levels, level, scale, campaign.settle)),
                   current.settled.level if current.settled else None)


def settlements(session: Session, campaign: spec.Campaign, institution_id: str, now: datetime | None = None) -> list[StageSettlements]:
    """Each review stage of one ДОУ with its disputed and settled indicators (the coordinator's card); [] where the
    campaign reviews per area. Three statements whatever the roster and the number of stages."""
    if not campaign.reviews_by_indicator:
        return []
    stages = finals.review_stages(campaign)
    found = _indicators(session, campaign, institution_id, stages, now=now)
    shown = []
    for stage in stages:
        mine = StageSettlements(stage)
        for indicator_id in campaign.indicators:  # the form's order
            item = found.get((stage.id, indicator_id))
            if item is not None and item.disputed:
                mine.disputed.append(item)
            elif item is not None and item.settled is not None:
                mine.settled.append(item)
        shown.append(mine)
    return shown


SHOWN = 100  # ДОУ with disputes the coordinator's home links to


def awaiting(session: Session, campaign: spec.Campaign, limit: int = SHOWN) -> list[tuple[str, str, int]]:
    """(review stage, ДОУ, indicators to settle) for the first `limit` ДОУ with disputes (`finals.awaiting_sql`), in
    the order of the stages and the ДОУ's ids, for the coordinator's home to link to their cards; [] where the
    experts review per area. One statement."""
    if not campaign.reviews_by_indicator:
        return []
    keys = finals.awaiting_sql(campaign).subquery()
    found = session.execute(sa_select(keys.c.stage_id, keys.c.institution_id, func.count())
                            .group_by(keys.c.stage_id, keys.c.institution_id).order_by(keys.c.stage_id, keys.c.institution_id)
                            .limit(limit)).all()
    order = {s.id: n for n, s in enumerate(campaign.stages)}
    return sorted(((stage, inst_id, n) for stage, inst_id, n in found), key=lambda r: (order.get(r[0], 0), r[1]))


def _review_stage(campaign: spec.Campaign, stage_id: str) -> spec.Stage:
    stage = campaign.stage(stage_id)
    reviews = [s.id for s in finals.review_stages(campaign)]
    if stage is None:
        raise NotFound(f"no stage '{stage_id}' in campaign '{campaign.id}'; review stages: {', '.join(reviews)}",
                       code="no-review-stage", stage=stage_id, known=", ".join(reviews))
    if stage.id not in reviews:
        raise NotAllowed(f"'{stage_id}' is not a review stage; review stages: {', '.join(reviews)}", code="no-review-stage",
                         stage=stage_id, known=", ".join(reviews))
    return stage


def _check_disputed(campaign: spec.Campaign, current: Indicator, institution_id: str, stage: spec.Stage, now: datetime) -> None:
    """A first settlement needs both experts' levels, recorded by `now`, and a disagreement between them."""
    facts = {"institution": institution_id, "stage": stage.id, "indicator": current.indicator_id}
    if len(current.given) < 2:
        tz = campaign.tz
        raise NotAllowed(f"indicator '{current.indicator_id}' has {len(current.given)} expert level(s) by "
                         f"{show(now, tz)} ({zone_label(tz, now)}); a settlement needs both experts' levels",
                         code="settle-not-reviewed", n=str(len(current.given)), at=show(now, tz), **facts)
    if not current.disputed:
        raise NotAllowed(f"the experts agree on indicator '{current.indicator_id}' (level {current.given[0].level}): "
                         "there is nothing to settle", code="settle-agreed", level=current.given[0].level, **facts)


def _indicators(session: Session, campaign: spec.Campaign, institution_id: str, stages: list[spec.Stage], *,
                only: str | None = None, now: datetime | None = None) -> dict[tuple[str, str], Indicator]:
    """(stage, indicator) → the indicator as it stands, for one ДОУ in `stages` (or its one indicator `only`): the
    experts' levels of reviews recorded by `now` (all when None), the settlements, and who made each (the latest
    "settle" audit row of the ДОУ for it). One primary-key range per table."""
    if not stages:
        return {}
    level, review, settlement, audit = (table(ReviewLevelRow).c, table(ReviewRow).c, table(SettlementRow).c, table(AuditRow).c)
    ids = [s.id for s in stages]
    asked = sa_select(level.stage_id, level.indicator_id, level.expert_id, level.level, level.comment).join_from(
        table(ReviewLevelRow), table(ReviewRow), (review.campaign_id == level.campaign_id) & (review.stage_id == level.stage_id)
        & (review.institution_id == level.institution_id) & (review.expert_id == level.expert_id)).where(
        level.campaign_id == campaign.id, level.stage_id.in_(ids), level.institution_id == institution_id)
    if only is not None:
        asked = asked.where(level.indicator_id == only)
    if now is not None:
        asked = asked.where(review.at <= now)
    given: dict[tuple[str, str], list[Given]] = defaultdict(list)
    for stage_id, indicator_id, expert_id, lv, comment in session.execute(asked.order_by(level.stage_id, level.indicator_id, level.expert_id)):
        given[(stage_id, indicator_id)].append(Given(expert_id, lv, comment))
    made = sa_select(settlement.stage_id, settlement.indicator_id, settlement.level, settlement.reason, settlement.at).where(
        settlement.campaign_id == campaign.id, settlement.stage_id.in_(ids), settlement.institution_id == institution_id)
    if only is not None:
        made = made.where(settlement.indicator_id == only)
    settled = {(s, i): (lv, why, at) for s, i, lv, why, at in session.execute(made)}
    who: dict[tuple[str, str], str | None] = {}
    if settled and only is None:  # the card names who settled; `settle` itself needs no name
        for stage_id, actor, detail in session.execute(sa_select(audit.stage_id, audit.actor, audit.detail).where(
                audit.campaign_id == campaign.id, audit.institution_id == institution_id, audit.action == "settle")
                .order_by(audit.id)):
            who[(stage_id, json.loads(detail or "{}").get("indicator"))] = actor
    scale = [lv.id for lv in campaign.levels]
    found = {}
    for key in given.keys() | settled.keys():
        levels = [g.level for g in given.get(key, [])]
        made_one = Settlement(*settled[key], who.get(key)) if key in settled else None
        chosen = made_one.level if made_one else None
        found[key] = Indicator(key[1], tuple(given.get(key, [])), made_one, finals.disputed(levels, chosen),
                               finals.final(levels, chosen, scale, campaign.settle))
    return found
