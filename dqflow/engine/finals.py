"""Final levels, where experts review per indicator (`Campaign.reviews_by_indicator`): the one place their rules live.

- An indicator's *final* level in a review stage is the coordinator's settled level where there is one; else,
  when its experts agree, their level; else the campaign's `settle:` rule decides: `lower` (the lower of their
  levels), `mean-rounded-down` (the mean of their places on the scale, rounded down), or `coordinator` (none until
  the coordinator settles it). One expert's level is final on its own.
- An indicator is *disputed* when its experts gave different levels and nobody settled it: what the coordinator
  is shown to settle (under `coordinator` there is no final level until then).
- An area's level follows from its indicators' levels by the campaign's `area_level:` rule (`lower` or
  `mean-rounded-down`), and only when every indicator of the area has one. It is computed both for one expert's
  review (kept in `ReviewRow.levels`, so what reads area levels reads them as before) and for the final levels.

Levels are compared by their place on the campaign's scale (`campaign.levels`, lowest first). The SQL forms of
these rules, for the справка at national scale, are kept equal to these by a property test.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Integer, Select, and_, case, delete, exists, func, insert, literal, null, or_, union, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.store import (
    FinalDirtyRow,
    FinalLevelRow,
    FinalStateRow,
    InstitutionRow,
    ReviewLevelRow,
    SettlementRow,
    analyze_after,
    chunks,
    table,
)


def places(campaign: spec.Campaign) -> dict[str, int]:
    """Each level id's place on the scale, 0 for the lowest."""
    return {lv.id: n for n, lv in enumerate(campaign.levels)}


def _by_rule(levels: Sequence[str], scale: Sequence[str], rule: str) -> str | None:
    place = {lv: n for n, lv in enumerate(scale)}
    ranks = [place[lv] for lv in levels if lv in place]
    if not ranks:
        return None
    if rule == "lower":
        return scale[min(ranks)]
    if rule == "mean-rounded-down":
        return scale[sum(ranks) // len(ranks)]
    raise ValueError(f"unknown rule {rule!r}")


def agreed(levels: Sequence[str], scale: Sequence[str], rule: str) -> str | None:
    """The final level the experts' `levels` for one indicator give by the campaign's `settle:` rule, without a
    settlement: theirs when they agree (or one expert alone), else by the rule; None under `coordinator`."""
    given = [lv for lv in levels if lv in scale]  # a level off the scale (an amended scale) counts for nothing
    if not given:
        return None
    if len(set(given)) == 1:
        return given[0]
    return None if rule == "coordinator" else _by_rule(given, scale, rule)


def disputed(levels: Sequence[str], settled: str | None) -> bool:
    """Whether the experts' levels for one indicator differ and the coordinator has not settled it."""
    return settled is None and len({lv for lv in levels if lv}) > 1


def final(levels: Sequence[str], settled: str | None, scale: Sequence[str], rule: str) -> str | None:
    """An indicator's final level in a review stage: the settled one, else `agreed`."""
    return settled if settled else agreed(levels, scale, rule)


def area_level(indicator_levels: Mapping[str, str | None], area: spec.Area, scale: Sequence[str], rule: str) -> str | None:
    """An area's level from its indicators' levels by the campaign's `area_level:` rule; None while any of its
    indicators has none."""
    given = [indicator_levels.get(ind.id) for ind in area.indicators]
    if not given or any(not lv for lv in given):
        return None
    return _by_rule([lv for lv in given if lv], scale, rule)


def area_levels(indicator_levels: Mapping[str, str | None], campaign: spec.Campaign) -> dict[str, str]:
    """Every area's level that its indicators' levels give (`area_level`); areas without one are absent."""
    scale = [lv.id for lv in campaign.levels]
    found = {a.id: area_level(indicator_levels, a, scale, campaign.area_level) for a in campaign.areas}
    return {a: lv for a, lv in found.items() if lv}


# -- The coordinator's settlements in SQL (issue 21 part 5: `engine.settle`, the portal's and `status`'s counts) -------
# A block of its own, apart from the справка's SQL forms: `disputed` said in SQL, for counts over the whole campaign
# in one statement. An indicator of a ДОУ in a review stage is disputed when its experts' `review_level` rows hold more
# than one level and it has no `settlement` row; tests/test_settle.py keeps this equal to `disputed` by a property test.


def review_stages(campaign: spec.Campaign) -> list[spec.Stage]:
    """The stages whose experts review each ДОУ: where indicators are disputed and settled."""
    return [s for s in campaign.stages if s.per_institution and s.actor == "expert"]


def disputed_sql(campaign_id: str) -> Select:
    """(stage, ДОУ, indicator) of every disputed indicator of the campaign (`disputed`), a ДОУ's review as one group
    of the review_level primary key."""
    level, settled = table(ReviewLevelRow).c, table(SettlementRow).c
    settlement = exists().where(settled.campaign_id == level.campaign_id, settled.stage_id == level.stage_id,
                                settled.institution_id == level.institution_id, settled.indicator_id == level.indicator_id)
    return (sa_select(level.stage_id, level.institution_id, level.indicator_id)
            .where(level.campaign_id == campaign_id, level.level != "", ~settlement)
            .group_by(level.stage_id, level.institution_id, level.indicator_id)
            .having(func.count(func.distinct(level.level)) > 1))


def disputed_keys(campaign: spec.Campaign) -> CompoundSelect:
    """`disputed_sql`'s keys in one statement, read from the kept final levels while they tell them (`kept_current`, and
    no expert's level the kept places leave out: `_unseen`, rows an amendment left), checked in the statement itself (one
    snapshot on PostgreSQL too, the check computed once: a CTE read by both branches); else computed by `disputed_sql`.

    From the kept levels an indicator is disputed when its experts' lowest place is below their highest and it has no
    `settlement` row: with every expert's level on the scale, of an indicator and stage reviewed now, two places differ
    exactly when two levels do (`disputed`). A scan of the kept levels and one of the experts' levels (the gate: none
    unseen reads them all, ~0.6 s a million on SQLite), instead of a GROUP BY with count(DISTINCT) over every expert's
    level (3 million at 50,000 ДОУ × 30): about half the cost."""
    k, st, rl = _FINAL_LEVEL.c, _SETTLEMENT.c, _REVIEW_LEVEL.c
    gate = sa_select(and_(kept_current(campaign), ~exists().where(rl.campaign_id == campaign.id, _unseen(campaign))).label("kept")).cte("kept_gate")
    kept = sa_select(gate.c.kept).scalar_subquery()
    settlement = exists().where(st.campaign_id == k.campaign_id, st.stage_id == k.stage_id, st.institution_id == k.institution_id,
                                st.indicator_id == k.indicator_id)
    reviewed = k.stage_id.in_(FinalsSql(campaign).stages)  # as `_kept` reads them
    return union_all(sa_select(k.stage_id, k.institution_id, k.indicator_id).where(k.campaign_id == campaign.id, reviewed, k.low < k.high,
                                                                                   ~settlement, kept),
                     disputed_sql(campaign.id).where(~kept))


def _unseen(campaign: spec.Campaign) -> ColumnElement[bool]:
    """A `review_level` row the kept final levels leave out of their places (`FinalsSql.finals`): a level off the scale
    (not blank), an indicator or a stage the campaign does not review per indicator now."""
    rl, rules = _REVIEW_LEVEL.c, FinalsSql(campaign)
    return or_(and_(rl.level != "", rl.level.not_in(rules.scale)), rl.indicator_id.not_in(list(rules.indicators)),
               rl.stage_id.not_in(rules.stages))


def awaiting_sql(campaign: spec.Campaign) -> Select:
    """The disputed indicators (`disputed_keys`) of the ДОУ still in the campaign (those an amendment withdrew keep their
    records unchanged, so nothing of theirs waits for a settlement): what the count of `status` and the coordinator's
    home and its list of ДОУ to settle (`settle.awaiting`) read alike."""
    keys = disputed_keys(campaign).subquery()
    inst = table(InstitutionRow).c
    present = exists().where(inst.campaign_id == campaign.id, inst.id == keys.c.institution_id, inst.withdrawn_at.is_(None))
    return sa_select(keys.c.stage_id, keys.c.institution_id, keys.c.indicator_id).where(present)


def awaiting_settlement(session: Session, campaign: spec.Campaign) -> dict[str, int]:
    """Review stage id → how many indicators of the campaign's ДОУ are disputed and wait for the coordinator's
    settlement (`awaiting_sql`: the kept final levels read while current); {} where the experts
    review per area. One statement, whatever the roster."""
    if not campaign.reviews_by_indicator:
        return {}
    keys = awaiting_sql(campaign).subquery()
    found = dict(session.execute(sa_select(keys.c.stage_id, func.count()).group_by(keys.c.stage_id)).all())
    return {s.id: found.get(s.id, 0) for s in review_stages(campaign)}

# -- the final-level rules in SQL (the справка) --------------------------------------------------------------------
# Set-based forms of `final` and `area_level` for the справка at national scale: SQLAlchemy Core selectables over
# `review_level` and `settlement`, one GROUP BY each, on SQLite and PostgreSQL alike. tests/test_indicator_report.py
# keeps them equal to the Python rules above on random reviews and settlements (hypothesis, both backends).


_REVIEW_LEVEL = table(ReviewLevelRow)
_SETTLEMENT = table(SettlementRow)


EXPERT_MARK = "\x01"  # between an expert's id and their level in `FinalsSql.finals(experts=True)`: sorts below any id's character


def split_expert(said: str | None) -> tuple[str | None, str | None]:
    """(expert id, level) of a `first`/`last` column of `FinalsSql.finals(experts=True)`."""
    if not said:
        return None, None
    expert, _, level = said.partition(EXPERT_MARK)
    return expert, level


class FinalsSql:
    """The final-level rules of one campaign as SQL. Levels are carried as places on the scale (`places`); `level_id`
    turns a place back into the level's id. Every selectable is keyed (inst, stage, indicator) or (inst, stage, area)."""

    def __init__(self, campaign: spec.Campaign, stages: Sequence[str] | None = None):
        self.campaign = campaign
        self.scale = [lv.id for lv in campaign.levels]
        self.stages = list(stages) if stages is not None else [s.id for s in review_stages(campaign)]
        self.indicators = {ind_id: area.id for ind_id, (area, _) in campaign.indicators.items()}
        self.sizes = {a.id: len(a.indicators) for a in campaign.areas if a.indicators}

    def place(self, level: Any) -> Any:
        """A level id's place on the scale (NULL for an id not on it: the Python rules leave such a level out)."""
        return case({lv: n for n, lv in enumerate(self.scale)}, value=level, else_=null()).cast(Integer)

    def level_id(self, place: Any) -> Any:
        """A place back to its level id (NULL for none)."""
        return case({n: lv for n, lv in enumerate(self.scale)}, value=place, else_=null())

    def area_of(self, indicator: Any) -> Any:
        return case(self.indicators, value=indicator, else_=null()) if self.indicators else null()

    def expert_levels(self) -> Any:
        """(inst, stage, indicator, expert, level) of every expert's level (`review_level`)."""
        rl = _REVIEW_LEVEL.c
        return (sa_select(rl.institution_id.label("inst"), rl.stage_id.label("stage"), rl.indicator_id.label("indicator"),
                        rl.expert_id.label("expert"), rl.level.label("level"))
                .where(rl.campaign_id == self.campaign.id, rl.stage_id.in_(self.stages), rl.indicator_id.in_(list(self.indicators))))

    def digest(self) -> str:
        """What the final levels depend on besides the rows they are computed from: this code's rules (`RULES_VERSION`),
        the scale, the `settle:` rule, the indicators and the review stages. The kept final levels (`stored`) are read
        only while it is unchanged."""
        said = [RULES_VERSION, self.scale, self.campaign.settle, sorted(self.indicators), sorted(self.stages)]
        return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode()).hexdigest()

    def finals(self, experts: bool = False, stage: str | None = None, institutions: Sequence[str] | None = None) -> Any:
        """(inst, stage, indicator, low, high, given, settled, final) per indicator that has an expert's level or a
        settlement: the lowest and highest place the experts gave, how many gave one, the settled place, and the final
        place (`final`): the settled one; else theirs when they agree; else by `settle:` (NULL under `coordinator`).
        One GROUP BY over the union of both tables' rows. With `experts`, also `first` and `last`: the expert of the
        lowest and of the highest id with their level, as `EXPERT_MARK`-joined text (`split_expert`), in the same pass.
        `stage` and `institutions`: those ДОУ's rows of that review stage only (a key range of both tables each)."""
        rl, st = _REVIEW_LEVEL.c, _SETTLEMENT.c
        known = list(self.indicators)
        stages = [s for s in self.stages if stage is None or s == stage]
        only_rl = [rl.institution_id.in_(list(institutions))] if institutions is not None else []
        only_st = [st.institution_id.in_(list(institutions))] if institutions is not None else []
        rows = union_all(
            sa_select(rl.institution_id.label("inst"), rl.stage_id.label("stage"), rl.indicator_id.label("indicator"),
                    self.place(rl.level).label("given"), null().cast(Integer).label("settled"),
                    *([(rl.expert_id + literal(EXPERT_MARK) + rl.level).label("said")] if experts else []))
            .where(rl.campaign_id == self.campaign.id, rl.stage_id.in_(stages), rl.indicator_id.in_(known), *only_rl),
            sa_select(st.institution_id, st.stage_id, st.indicator_id, null().cast(Integer), self.place(st.level),
                    *([null()] if experts else []))
            .where(st.campaign_id == self.campaign.id, st.stage_id.in_(stages), st.indicator_id.in_(known), *only_st),
        ).subquery("levels_given")
        low, high = func.min(rows.c.given), func.max(rows.c.given)
        total, count, settled = func.sum(rows.c.given), func.count(rows.c.given), func.max(rows.c.settled)
        by_rule = {"lower": low, "mean-rounded-down": (total // count).cast(Integer), "coordinator": null().cast(Integer)}
        rule = self.campaign.settle
        if rule not in by_rule:
            raise ValueError(f"unknown rule {rule!r}")
        final_place = case((settled.is_not(None), settled), (low == high, low), else_=by_rule[rule])
        said = (func.min(rows.c.said).label("first"), func.max(rows.c.said).label("last")) if experts else ()
        return (sa_select(rows.c.inst, rows.c.stage, rows.c.indicator, low.label("low"), high.label("high"), count.label("given"),
                        settled.label("settled"), final_place.label("final"), *said)
                .group_by(rows.c.inst, rows.c.stage, rows.c.indicator))

    def area_levels(self, finals: Any | None = None) -> Any:
        """(inst, stage, area, place) of each area whose every indicator has a final level (`area_level` of the final
        levels, by `area_level:`); `finals`: a selectable with (inst, stage, indicator, final), `finals()` by default."""
        found = (finals if finals is not None else self.finals()).subquery("finals")
        rows = sa_select(found.c.inst, found.c.stage, self.area_of(found.c.indicator).label("area"), found.c.final).subquery("by_area")
        size = case(self.sizes, value=rows.c.area, else_=-1) if self.sizes else literal(-1)
        rule = self.campaign.area_level
        place = {"lower": func.min(rows.c.final), "mean-rounded-down": (func.sum(rows.c.final) // func.count(rows.c.final)).cast(Integer)}
        if rule not in place:
            raise ValueError(f"unknown rule {rule!r}")
        return (sa_select(rows.c.inst, rows.c.stage, rows.c.area, place[rule].label("place"))
                .where(rows.c.final.is_not(None))
                .group_by(rows.c.inst, rows.c.stage, rows.c.area)
                .having(func.count(rows.c.final) == size))


# -- the final levels kept (the справка at national scale, issue 23) -------------------------------------------------
# `FinalsSql.finals(experts=True)`'s rows kept in `final_level`, so that a report reads them instead of computing 1.5
# million of them. Level-triggered, never trusted blindly:
# - the campaign's `final_state` row names the rules (`FinalsSql.digest`) they were computed under; while it does not
#   match the definition (an amendment of the scale, the `settle:` rule, the indicators or the stages) or is absent (a
#   database migrated to 0015, a TRUNCATE of `review_level` or `settlement` on PostgreSQL: revision 0016), none are read;
# - the database marks each ДОУ's review stage whose `review_level` or `settlement` rows anyone wrote (`final_dirty`,
#   triggers of revision 0015); while any mark is left, none are read.
# Not read, the report computes them as before (the same SQL). The acts that write review levels or settlements
# recompute their own ДОУ's stage and unmark it in their transaction (`keep`: a DELETE and an INSERT…SELECT of ~30 rows
# a ДОУ). Every reconcile (`refresh`) only notices new rules: it records them and marks every ДОУ's review stages, which
# is cheap (a row a ДОУ and stage). What is marked is computed again by `catch_up`, `CATCH_UP` ДОУ a step, each step a
# transaction of its own that the caller commits (`engine.catch_up_finals`: `tick` until none is left, the daemon for a while
# each wake-up), so that no transaction of the catch-up holds the write lock (SQLite) or the campaign's lock
# (PostgreSQL) for long: recomputing 1.5 million levels in the reconcile's one transaction took 32 s on SQLite, longer
# than another process's writer waits (its busy timeout, 30 s). A crash in between leaves marks: the next step goes on.
# tests/test_final_levels.py checks them against `FinalsSql.finals` and the rules above after random acts.

RULES_VERSION = 1  # raised whenever `FinalsSql.finals` computes differently: levels kept by an older dqflow are not read
_FINAL_LEVEL = table(FinalLevelRow)
_FINAL_STATE = table(FinalStateRow)
_FINAL_DIRTY = table(FinalDirtyRow)
FINAL_COLUMNS = ["inst", "stage", "indicator", "low", "high", "given", "settled", "final", "first", "last"]
_KEPT_COLUMNS = ["institution_id", "stage_id", "indicator_id", "low", "high", "given", "settled", "final", "first", "last"]


CATCH_UP = 500  # ДОУ a step of `catch_up` computes again (≤ 1 IN list): at 30 indicators and 2 experts, ~30,000 levels read


def _current(session: Session, campaign: spec.Campaign, rules: FinalsSql) -> bool:
    """Whether the campaign's kept levels follow its rules as they are now (marks aside)."""
    found = session.execute(sa_select(_FINAL_STATE.c.rules).where(_FINAL_STATE.c.campaign_id == campaign.id)).scalar_one_or_none()
    return found is not None and found == rules.digest()


def _marked(campaign_id: str) -> Select:
    d = _FINAL_DIRTY.c
    return sa_select(d.stage_id, d.institution_id).where(d.campaign_id == campaign_id)


def checked(campaign: spec.Campaign) -> Select:
    """The campaign's kept final levels (`FINAL_COLUMNS`) with the check that they are current and unmarked in the same
    statement: no rows unless they are. For a reader whose statements each see their own snapshot (PostgreSQL's READ
    COMMITTED): copied at once into a table of its own, the levels and the check are of one moment, and of the rules of
    the definition the reader holds (its digest is in the statement), whatever commits meanwhile."""
    return _kept(campaign).where(kept_current(campaign))


def kept_current(campaign: spec.Campaign) -> ColumnElement[bool]:
    """Whether the campaign's kept final levels are current, as a condition of the statement that reads them: their rules
    are the definition's (`FinalsSql.digest`) and no ДОУ's stage is marked (`final_dirty`)."""
    state, d = _FINAL_STATE.c, _FINAL_DIRTY.c
    return and_(exists().where(state.campaign_id == campaign.id, state.rules == FinalsSql(campaign).digest()),
                ~exists().where(d.campaign_id == campaign.id))


def stored(session: Session, campaign: spec.Campaign) -> Select | None:
    """The campaign's kept final levels with `FinalsSql.finals(experts=True)`'s columns (`FINAL_COLUMNS`), or None while
    they are not all current (the caller computes them). Two reads: the state's row, one mark."""
    if not campaign.reviews_by_indicator or behind(session, campaign):
        return None
    return _kept(campaign)


def behind(session: Session, campaign: spec.Campaign) -> bool:
    """Whether `catch_up` has anything to do: the kept levels follow other rules, or some are marked (two reads)."""
    rules = FinalsSql(campaign)
    if not campaign.reviews_by_indicator:
        return False
    return not _current(session, campaign, rules) or session.execute(_marked(campaign.id).limit(1)).first() is not None


def _kept(campaign: spec.Campaign) -> Select:
    """The campaign's kept final levels, named as `FinalsSql.finals(experts=True)` names them (`FINAL_COLUMNS`); those of
    its review stages only (rows of a stage an amendment took out of them are deleted by their ДОУ's `catch_up` step;
    read before it, they would be counted)."""
    k = _FINAL_LEVEL.c
    return (sa_select(*(k[kept].label(name) for kept, name in zip(_KEPT_COLUMNS, FINAL_COLUMNS)))
            .where(k.campaign_id == campaign.id, k.stage_id.in_(FinalsSql(campaign).stages)))


def keep(session: Session, campaign: spec.Campaign, touched: Iterable[tuple[str, str]]) -> None:
    """After this transaction wrote review levels or settlements of (review stage, ДОУ) `touched`: their kept final levels
    recomputed and unmarked (`_recompute`), when the campaign's are current; else nothing (`catch_up` computes them)."""
    rules = FinalsSql(campaign)
    keys = {(stage, inst) for stage, inst in touched}
    if campaign.reviews_by_indicator and keys and _current(session, campaign, rules):
        _recompute(session, campaign, rules, keys)


def _recompute(session: Session, campaign: spec.Campaign, rules: FinalsSql, keys: set[tuple[str, str]]) -> None:
    """The kept levels of these (stage, ДОУ) computed again and their marks removed: per stage and `IN_CHUNK` ДОУ, a DELETE
    of each table and an INSERT…SELECT (the ДОУ's key ranges of `review_level` and `settlement`)."""
    k, d = _FINAL_LEVEL.c, _FINAL_DIRTY.c
    by_stage: dict[str, set[str]] = defaultdict(set)
    for stage, inst in keys:
        by_stage[stage].add(inst)
    for stage, institutions in sorted(by_stage.items()):
        for chunk in chunks(sorted(institutions)):
            session.execute(delete(_FINAL_LEVEL).where(k.campaign_id == campaign.id, k.stage_id == stage, k.institution_id.in_(chunk)))
            if stage in rules.stages:
                _fill(session, campaign, rules.finals(experts=True, stage=stage, institutions=chunk))
            session.execute(delete(_FINAL_DIRTY).where(d.campaign_id == campaign.id, d.stage_id == stage, d.institution_id.in_(chunk)))


def _fill(session: Session, campaign: spec.Campaign, finals: Any) -> None:
    found = finals.subquery("computed")
    session.execute(insert(_FINAL_LEVEL).from_select(["campaign_id", *_KEPT_COLUMNS],
                                                     sa_select(literal(campaign.id), *(found.c[n] for n in FINAL_COLUMNS))))


def refresh(session: Session, campaign: spec.Campaign) -> bool:
    """When the campaign's kept final levels follow other rules than its definition's, or none are kept (a migrated
    database, a TRUNCATE): the definition's rules recorded and every ДОУ's review stage marked, for `catch_up` to compute
    (the справка computes them meanwhile); whether it did. Cheap, for every reconcile: two reads when they are current;
    else a row a ДОУ and stage, none when there is nothing to compute (a campaign just loaded)."""
    rules = FinalsSql(campaign)
    if not campaign.reviews_by_indicator or _current(session, campaign, rules):
        return False
    state, d = _FINAL_STATE.c, _FINAL_DIRTY.c
    session.execute(delete(_FINAL_STATE).where(state.campaign_id == campaign.id))
    session.execute(delete(_FINAL_DIRTY).where(d.campaign_id == campaign.id))
    if _anything(session, campaign):
        session.execute(insert(_FINAL_DIRTY).from_select(["campaign_id", "stage_id", "institution_id"], _every(campaign, rules)))
    session.execute(insert(_FINAL_STATE).values(campaign_id=campaign.id, rules=rules.digest()))
    return True


def _anything(session: Session, campaign: spec.Campaign) -> bool:
    """Whether the campaign has kept levels or rows to compute them from (a read of each table's first key)."""
    return any(session.execute(sa_select(literal(1)).select_from(t).where(t.c.campaign_id == campaign.id).limit(1)).first()
               for t in (_FINAL_LEVEL, _REVIEW_LEVEL, _SETTLEMENT))


def _every(campaign: spec.Campaign, rules: FinalsSql) -> Any:
    """(campaign, stage, ДОУ) of everything the final levels are computed from — every ДОУ's review stage with an expert's
    level or a settlement, whoever wrote it (a ДОУ outside the roster too: `FinalsSql.finals` counts it) — and of
    everything kept, of any stage (its rows are deleted by the ДОУ's step): all whose kept levels the new rules may change.
    Covering index ranges of the three keys (at 50,000 ДОУ × 30, about a second on SQLite)."""
    sources = [sa_select(t.c.campaign_id, t.c.stage_id, t.c.institution_id).where(t.c.campaign_id == campaign.id, t.c.stage_id.in_(rules.stages))
               for t in (_REVIEW_LEVEL, _SETTLEMENT)]
    k = _FINAL_LEVEL.c
    sources.append(sa_select(k.campaign_id, k.stage_id, k.institution_id).where(k.campaign_id == campaign.id))
    # each made distinct in a subquery of its own, along its key's order, before the union sorts what is left: SQLite
    # otherwise puts every row (3 million experts' levels at 50,000 × 30) into the union's B-tree (3.5 s against 0.7 s)
    return union(*(sa_select(source.distinct().subquery()) for source in sources))


def catch_up(session: Session, campaign: spec.Campaign, size: int = CATCH_UP) -> bool:
    """One step of bringing the campaign's kept final levels up to date, in the caller's transaction, which the caller
    commits before the next: `refresh`, then the kept levels of the first `size` marked ДОУ (every review stage of
    theirs, and none of a stage no longer one) computed again and their marks removed. Whether any mark is left (another
    step to take). The caller holds the campaign's lock (`engine.step_finals`): an act's `keep` waits, and is waited for."""
    if not campaign.reviews_by_indicator:
        return False
    refresh(session, campaign)
    rules, k, d = FinalsSql(campaign), _FINAL_LEVEL.c, _FINAL_DIRTY.c
    found = session.execute(_marked(campaign.id).order_by(d.stage_id, d.institution_id).limit(size)).all()
    if not found:
        return False
    first = sorted({inst for _, inst in found})
    stages = sorted({*rules.stages, *(stage for stage, _ in found)})  # by the key: a mark of another stage is met in its turn
    session.execute(delete(_FINAL_DIRTY).where(d.campaign_id == campaign.id, d.stage_id.in_(stages), d.institution_id.in_(first)))
    session.execute(delete(_FINAL_LEVEL).where(k.campaign_id == campaign.id, k.institution_id.in_(first)))
    _fill(session, campaign, rules.finals(experts=True, institutions=first))
    left = session.execute(_marked(campaign.id).limit(1)).first() is not None
    if not left:
        analyze_after(session, _FINAL_LEVEL.name)  # caught up: the planner reads the kept levels as they now are
    return left
