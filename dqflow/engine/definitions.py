"""The loaded campaign's definition, parsed once per process and content."""

from __future__ import annotations

from sqlmodel import Session, select

from dqflow.campaign import spec
from dqflow.store import CampaignRow, campaign_digest, lock_campaign, share_campaign

_PARSED: dict[tuple[str, str], spec.Campaign] = {}  # (campaign id, digest) → definition, newest last
_PARSED_KEPT = 4


def definition(session: Session, campaign_id: str | None) -> spec.Campaign:
    """The loaded campaign's definition (the validated file, as stored at load time).

    Parsed once per process and content: a command or a daemon tick reads only the digest, not
    the stored JSON of a whole national roster, and a transaction reads the digest once (the replay
    asks for it at every act). The definition is immutable (frozen dataclasses), so sharing it is
    safe; whatever rewrites a stored definition must store its new digest too, and `forget` it."""
    known: dict[str | None, spec.Campaign] = session.info.setdefault("definitions", {})
    if campaign_id in known:
        return known[campaign_id]
    key = campaign_digest(session, campaign_id)
    found = _PARSED.pop(key, None)
    if found is None:
        text = session.exec(select(CampaignRow.definition).where(CampaignRow.id == key[0])).one()
        found = spec.from_json(text)
        while len(_PARSED) >= _PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = found
    known[campaign_id] = found
    return found


def forget(session: Session) -> None:
    """After a stored definition changed in this transaction: the next `definition` reads it again."""
    session.info.pop("definitions", None)


def known(session: Session, campaign: spec.Campaign) -> None:
    """The caller holds the campaign's current definition, its digest already checked in this request (the portal
    reads the stored digest once per request: `web.site.Site.refresh`): `definition` in `session` gives it without
    reading the digest again."""
    known_here: dict[str | None, spec.Campaign] = session.info.setdefault("definitions", {})
    known_here[campaign.id] = campaign


def locked(session: Session, campaign_id: str | None, *, shared: bool = False) -> spec.Campaign:
    """The definition to act on, read after the campaign's lock: alone (`store.lock_campaign`), or `shared` beside other
    acts on other ДОУ's rows (`store.share_campaign`). One read before the lock (or the one the portal's request checked,
    `known`) may predate an amendment committed while this transaction waited."""
    campaign_id = campaign_id or definition(session, None).id
    (share_campaign if shared else lock_campaign)(session, campaign_id)
    forget(session)
    return definition(session, campaign_id)
