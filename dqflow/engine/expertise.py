"""What an expert reviews where the campaign reviews per indicator (`Campaign.reviews_by_indicator`): the version of a
ДОУ's form a review stage judges, the version before it, what changed between them indicator by indicator, and the
expert's own levels and comments recorded so far.

- A review stage judges the latest form version the ДОУ handed in among the stages it reviews
  (`form.reviewed_versions`): in the first review the fill's, in the second the refill's (the fill's, where the ДОУ
  did not hand the refill in). The ДОУ's own level and comment per indicator are those of that version.
- The version before it is the nearest earlier form stage the ДОУ handed in (`Campaign.earlier_form_stages`); without
  one (a first review) there is nothing to compare.
- What changed (`changes`), per indicator: the evidence links added and removed (compared by address: a new title
  on the same address is no change of evidence), the ДОУ's own level (old → new) and its comment.

Everything is read for all the expert's ДОУ of a review stage at once (a few range reads), never per ДОУ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.engine import form, rules
from dqflow.store import ReviewLevelRow, chunks, table

_REVIEW_LEVEL = table(ReviewLevelRow)


@dataclass(frozen=True)
class Change:
    """What changed in one indicator of the ДОУ's form from the previous version to the one reviewed."""

    indicator_id: str
    added: tuple[form.Evidence, ...] = ()  # evidence links in the new version only
    removed: tuple[form.Evidence, ...] = ()  # evidence links in the previous version only
    level: tuple[str | None, str | None] | None = None  # (previous, new) own level, when it changed
    comment: tuple[str | None, str | None] | None = None  # (previous, new) comment, when it changed


def changes(previous: Mapping[str, form.Entry], current: Mapping[str, form.Entry]) -> dict[str, Change]:
    """Indicator → what changed from `previous` to `current` (each: indicator → the ДОУ's entry; an indicator absent
    is an empty entry), for the indicators that changed only, in `current`'s order and then `previous`'s."""
    found: dict[str, Change] = {}
    for indicator in dict.fromkeys([*current, *previous]):
        old, new = previous.get(indicator) or form.Entry(indicator), current.get(indicator) or form.Entry(indicator)
        old_urls, new_urls = {ev.url for ev in old.evidence}, {ev.url for ev in new.evidence}
        change = Change(indicator,
                        added=tuple(ev for ev in new.evidence if ev.url not in old_urls),
                        removed=tuple(ev for ev in old.evidence if ev.url not in new_urls),
                        level=(old.level, new.level) if old.level != new.level else None,
                        comment=(old.comment, new.comment) if (old.comment or None) != (new.comment or None) else None)
        if change.added or change.removed or change.level or change.comment:
            found[indicator] = change
    return found


def judged(campaign: spec.Campaign, review: spec.Stage,
           statuses: Mapping[str, str]) -> tuple[spec.Stage | None, spec.Stage | None]:
    """(the form stage whose version `review` judges, the one before it) for a ДОУ whose statuses in the form stages
    at the moment are `statuses` (stage → status, `rules.status_at`): (None, None) while it handed in none of them."""
    def handed(stage_id: str) -> bool:
        return stage_id in statuses and rules.Status(statuses[stage_id]).submitted

    version = next((campaign.stage(s) for s in form.reviewed_versions(campaign, review.id) if handed(s)), None)
    if version is None:
        return None, None
    return version, next((s for s in campaign.earlier_form_stages(version.id) if handed(s.id)), None)


@dataclass
class Reviewed:
    """One assigned ДОУ as its expert reviews it per indicator in one review stage."""

    version: spec.Stage  # the form stage whose handed-in version is reviewed
    previous: spec.Stage | None  # the version before it, where there is one
    entries: dict[str, form.Entry]  # indicator → the ДОУ's entry in the version (every indicator of the form)
    changes: dict[str, Change] = field(default_factory=dict)  # indicator → what changed since `previous`
    levels: dict[str, str] = field(default_factory=dict)  # indicator → the expert's level, as recorded
    comments: dict[str, str] = field(default_factory=dict)  # indicator → the expert's comment, as recorded

    @property
    def urls(self) -> set[str]:
        """Every link the expert is shown (the version's evidence and the links removed from the previous one)."""
        return {ev.url for en in self.entries.values() for ev in en.evidence} | \
            {ev.url for ch in self.changes.values() for ev in ch.removed}


def reviewed(session: Session, campaign: spec.Campaign, review: spec.Stage, expert_id: str,
             statuses: Mapping[str, Mapping[str, str]]) -> dict[str, Reviewed]:
    """ДОУ → what its expert `expert_id` reviews in `review`, for the ДОУ of `statuses` (ДОУ → form stage → its status
    at the moment) that handed in a version to review. Three range reads a chunk of ДОУ, whatever the roster."""
    versions = {inst: judged(campaign, review, found) for inst, found in statuses.items()}
    versions = {inst: pair for inst, pair in versions.items() if pair[0] is not None}
    if not versions:
        return {}
    stage_ids = sorted({s.id for pair in versions.values() for s in pair if s is not None})
    rows = form.stored_entries(session, campaign, list(versions), stage_ids)
    found: dict[str, Reviewed] = {}
    for inst, (version, previous) in versions.items():
        assert version is not None, "kept above: a version to review"
        held = rows.get((inst, version.id), {})
        entries = {ind: held.get(ind) or form.Entry(ind) for ind in campaign.indicators}
        done = changes(rows.get((inst, previous.id), {}), entries) if previous is not None else {}
        found[inst] = Reviewed(version, previous, entries, done)
    r = _REVIEW_LEVEL.c
    for chunk in chunks(sorted(found)):
        for inst, indicator, level, comment in session.execute(
                sa_select(r.institution_id, r.indicator_id, r.level, r.comment)
                .where(r.campaign_id == campaign.id, r.stage_id == review.id, r.institution_id.in_(chunk), r.expert_id == expert_id)):
            found[inst].levels[indicator] = level
            if comment:
                found[inst].comments[indicator] = comment
    return found
