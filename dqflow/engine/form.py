"""The monitoring form: a ДОУ's evidence, own level and comment per indicator, in each form stage (`form: true`).

The form stages of a campaign (fill, refill, final fix) are versions of one form. A stage's rows (`FormEntryRow`,
`FormEvidenceRow`) are the ДОУ's *draft* while the stage is open for it, and its frozen *version* once it handed
in: the progress row says which (`rules.status_at`, `rules.refusal`), nothing is copied or flagged at hand-in.

A stage starts from the previous version: the nearest earlier form stage that holds the ДОУ's rows (its version
when handed in; the draft it left when it locked unhanded, so no work is lost). The copy is made lazily, at the
ДОУ's first save or hand-in in the stage, for that ДОУ alone (a few statements, its ≤ a few hundred rows); until
then a read shows the previous version. Copying at the stage's opening would write every ДОУ's form (1.5 million
rows at 50,000 ДОУ × 30 indicators) inside reconcile's write transaction, for ДОУ that may never open their form.
A stage is materialised when it holds an entry row: its first write inserts an entry for every indicator.

Every operation reads the ДОУ's progress row and its form rows by primary-key range: a bounded number of
statements whatever the roster. Hand-in goes through `acts.submit` (the submission ledger keeps the form's links,
so status, done rules and the experts' materials keep working); it is refused while the form is empty or a
required indicator has no evidence (`missing`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.engine import rules
from dqflow.engine.definitions import definition, locked
from dqflow.errors import DqflowError, NotAllowed, NotFound
from dqflow.intake import text as texts
from dqflow.store import AuditRow, FormEntryRow, FormEvidenceRow, ProgressRow, acting, chunks, recorded_at, table

MAX_EVIDENCE = 10  # links for one indicator: more belong in one folder
_ENTRY = table(FormEntryRow)
_EVIDENCE = table(FormEvidenceRow)
_PROGRESS = table(ProgressRow)
_URL = re.compile(r"https?://[^\s/?#]+\S*")


@dataclass(frozen=True)
class Evidence:
    url: str
    title: str | None = None


@dataclass
class Entry:
    """One indicator of the form as it stands in one stage."""

    indicator_id: str
    evidence: list[Evidence] = field(default_factory=list)
    level: str | None = None
    comment: str | None = None

    @property
    def fingerprint(self) -> str:
        """A short digest of what the entry says: the page carries the one it showed (`Draft.shown`), so a press can
        tell what its reader changed from what another window saved meanwhile."""
        said = json.dumps([[(e.url, e.title) for e in self.evidence], self.level, self.comment], ensure_ascii=False)
        return hashlib.blake2b(said.encode(), digest_size=8).hexdigest()


@dataclass
class Form:
    """A ДОУ's form in one form stage: its entries in the form's order, where they come from, and what may be done."""

    institution_id: str
    stage: spec.Stage
    entries: list[Entry]
    state: str  # the ДОУ's status in the stage at the moment asked (`rules.status_at`)
    frozen: bool  # handed in: the stage's rows are a version
    editable: bool  # open for the ДОУ (its extension included) and not handed in
    started: bool  # the stage holds the ДОУ's own rows (else `entries` show `source`'s)
    source: str | None  # while not `started`: the earlier form stage whose version the entries show (None once started)
    missing: list[str]  # required indicators without evidence, in the form's order

    @property
    def empty(self) -> bool:
        return not any(e.evidence or e.level or e.comment for e in self.entries)

    @property
    def links(self) -> list[str]:
        """Every evidence link of the form, once each, in the form's order: what the submission ledger keeps."""
        seen: dict[str, None] = {}
        for entry in self.entries:
            for item in entry.evidence:
                seen.setdefault(item.url, None)
        return list(seen)


def missing(campaign: spec.Campaign, entries: dict[str, Entry]) -> list[str]:
    """The required indicators (`evidence: required`) of the form with no evidence link, in the form's order: what
    keeps a hand-in from counting."""
    return [ind.id for _, ind in campaign.indicators.values() if ind.required and not (entries.get(ind.id) and entries[ind.id].evidence)]


def form_stage(campaign: spec.Campaign, stage_id: str | None, institution_id: str) -> spec.Stage:
    """The form stage `stage_id` (None: the first form stage) for a ДОУ of the campaign; refused otherwise."""
    stages = campaign.form_stages()
    if not stages:
        raise NotFound(f"campaign '{campaign.id}' has no form stage (form: true)", code="no-form", campaign=campaign.id)
    if institution_id not in campaign.institution_ids:
        known = ", ".join(i.id for i in campaign.institutions[:20]) + (" …" if len(campaign.institutions) > 20 else "")
        raise NotFound(f"no ДОУ '{institution_id}' in campaign '{campaign.id}'; ДОУ ids: {known}", code="no-dou",
                       institution=institution_id, known=known)
    if stage_id is None:
        return stages[0]
    stage = campaign.stage(stage_id)
    if stage is None or not stage.form:
        known = ", ".join(s.id for s in stages)
        raise NotFound(f"'{stage_id}' is not a form stage of campaign '{campaign.id}'; form stages: {known}", code="not-a-form-stage",
                       stage=stage_id, known=known)
    return stage


def _progress(session: Session, campaign: spec.Campaign, institution_id: str, stage_ids: list[str]) -> dict[str, Any]:
    c = _PROGRESS.c
    rows = session.execute(sa_select(c.stage_id, c.status, c.opens_at, c.due_at, c.locks_at, c.institution_id, c.campaign_id)
                           .where(c.campaign_id == campaign.id, c.institution_id == institution_id, c.stage_id.in_(stage_ids)))
    return {row.stage_id: row for row in rows}


def _rows(session: Session, campaign: spec.Campaign, institution_id: str, stage_ids: list[str]) -> dict[str, dict[str, Entry]]:
    """The ДОУ's entries in the form stages `stage_ids`: stage → indicator → entry. Two range reads."""
    e, v = _ENTRY.c, _EVIDENCE.c
    found: dict[str, dict[str, Entry]] = {}
    for stage_id, indicator_id, level, comment in session.execute(
            sa_select(e.stage_id, e.indicator_id, e.level, e.comment)
            .where(e.campaign_id == campaign.id, e.institution_id == institution_id, e.stage_id.in_(stage_ids))):
        found.setdefault(stage_id, {})[indicator_id] = Entry(indicator_id, [], level, comment)
    for stage_id, indicator_id, url, title in session.execute(
            sa_select(v.stage_id, v.indicator_id, v.url, v.title)
            .where(v.campaign_id == campaign.id, v.institution_id == institution_id, v.stage_id.in_(stage_ids))
            .order_by(v.stage_id, v.indicator_id, v.position)):
        entry = found.setdefault(stage_id, {}).setdefault(indicator_id, Entry(indicator_id))
        entry.evidence.append(Evidence(url, title))
    return found


def stored_entries(session: Session, campaign: spec.Campaign, institutions: list[str],
                   stage_ids: list[str]) -> dict[tuple[str, str], dict[str, Entry]]:
    """The stored rows of several ДОУ in the form stages `stage_ids` (a handed-in stage's rows are its version):
    (ДОУ, stage) → indicator → entry. Two range reads a chunk of ДОУ, whatever the roster: an expert's page reads the
    versions of all its ДОУ at once (`engine.expertise`)."""
    e, v = _ENTRY.c, _EVIDENCE.c
    found: dict[tuple[str, str], dict[str, Entry]] = {}
    for chunk in chunks(sorted(set(institutions))) if stage_ids else []:
        for inst, stage_id, indicator_id, level, comment in session.execute(
                sa_select(e.institution_id, e.stage_id, e.indicator_id, e.level, e.comment)
                .where(e.campaign_id == campaign.id, e.institution_id.in_(chunk), e.stage_id.in_(stage_ids))):
            found.setdefault((inst, stage_id), {})[indicator_id] = Entry(indicator_id, [], level, comment)
        for inst, stage_id, indicator_id, url, title in session.execute(
                sa_select(v.institution_id, v.stage_id, v.indicator_id, v.url, v.title)
                .where(v.campaign_id == campaign.id, v.institution_id.in_(chunk), v.stage_id.in_(stage_ids))
                .order_by(v.institution_id, v.stage_id, v.indicator_id, v.position)):
            entry = found.setdefault((inst, stage_id), {}).setdefault(indicator_id, Entry(indicator_id))
            entry.evidence.append(Evidence(url, title))
    return found


def _read(session: Session, campaign: spec.Campaign, institution_id: str, stage: spec.Stage,
          now: datetime) -> tuple[Form, dict[str, dict[str, Entry]]]:
    earlier = campaign.earlier_form_stages(stage.id)
    ids = [stage.id] + [s.id for s in earlier]
    progress = _progress(session, campaign, institution_id, [stage.id])
    row = progress.get(stage.id)
    if row is None:
        raise NotFound(f"ДОУ '{institution_id}' has no row in stage '{stage.id}'", code="no-dou", institution=institution_id, known="")
    stored = _rows(session, campaign, institution_id, ids)
    started = stage.id in stored
    source = None if started else next((s.id for s in earlier if s.id in stored), None)
    held = stored.get(stage.id) or (stored.get(source, {}) if source else {})
    entries = [held.get(ind_id) or Entry(ind_id) for ind_id in campaign.indicators]
    status = rules.Status(rules.status_at(row, now))
    frozen = status.submitted
    editable = not frozen and rules.refusal(_At(row, status.value), now) is None
    form = Form(institution_id, stage, entries, status.value, frozen, editable, started, source,
                missing(campaign, {e.indicator_id: e for e in entries}))
    return form, stored


@dataclass(frozen=True)
class _At:
    """A progress row with its status projected to a moment (`rules.status_at`), for `rules.refusal`."""

    row: Any
    status: str

    @property
    def opens_at(self) -> datetime:
        return self.row.opens_at

    @property
    def locks_at(self) -> datetime:
        return self.row.locks_at


def show_form(session: Session, campaign_id: str | None, institution_id: str, stage_id: str | None, now: datetime) -> Form:
    """A ДОУ's form in a form stage (by default the one it works on: `current_stage`) as it stands at `now`. Writes nothing."""
    campaign = definition(session, campaign_id)
    stage = form_stage(campaign, stage_id, institution_id)
    if stage_id is None:
        stage = current_stage(session, campaign, institution_id, now) or stage
    return _read(session, campaign, institution_id, stage, now)[0]


def read(session: Session, campaign: spec.Campaign, institution_id: str, stage: spec.Stage, now: datetime) -> Form:
    """A ДОУ's form in a form stage of `campaign` as it stands at `now` (the caller checked both belong to it). Writes nothing."""
    return _read(session, campaign, institution_id, stage, now)[0]


def current_stage(session: Session, campaign: spec.Campaign, institution_id: str, now: datetime) -> spec.Stage | None:
    """The form stage a ДОУ works on at `now`: the one open for it (its extension included), else the latest opened."""
    stages = campaign.form_stages()
    if not stages:
        return None
    progress = _progress(session, campaign, institution_id, [s.id for s in stages])
    open_now = [s for s in stages if s.id in progress and rules.refusal(_At(progress[s.id], rules.status_at(progress[s.id], now)), now) is None]
    opened = [s for s in stages if rules.has_opened(s.opens_at, now)]
    return (open_now or opened[-1:] or stages[:1])[0]


def _refuse_edit(campaign: spec.Campaign, form: Form, now: datetime, what: str) -> None:
    tz = campaign.tz
    where = f"the form of ДОУ '{form.institution_id}' in stage '{form.stage.id}'"
    if form.frozen:
        raise NotAllowed(f"{where} was handed in: it is a version now and does not change", code="form-handed-in",
                         institution=form.institution_id, stage=form.stage.id)
    if not form.editable:
        raise NotAllowed(f"{where} cannot be {what} now ({show(now, tz)}, {zone_label(tz, now)}): the stage is {form.state} for this ДОУ",
                         code="form-closed", state=form.state, institution=form.institution_id, stage=form.stage.id)


def _checked_evidence(links: list[tuple[str, str | None]]) -> list[Evidence]:
    if len(links) > MAX_EVIDENCE:
        raise DqflowError(f"{len(links)} links given for one indicator; it takes at most {MAX_EVIDENCE}: link a folder instead",
                          code="too-many-links", n=str(len(links)), max=str(MAX_EVIDENCE))
    found = []
    for url, title in links:
        url = texts.check(url.strip(), "ссылка")
        if not _URL.fullmatch(url):
            raise DqflowError(f"link '{url}' is not a web address; give one starting with http:// or https://",
                              code="not-a-web-address", link=url)
        title = (title or "").strip() or None
        found.append(Evidence(url, texts.check(title, "название ссылки") if title else None))
    return found


def save(session: Session, campaign_id: str | None, institution_id: str, stage_id: str, indicator_id: str, now: datetime, *,
         links: list[tuple[str, str | None]] | None = None, level: str | None = None, comment: str | None = None,
         clear_level: bool = False) -> Form:
    """Save one indicator of a ДОУ's draft: its evidence (`links`, each with an optional title) replaced when given,
    its own level and comment set when given ("" clears a comment; `clear_level` clears the level). The first save in
    a stage copies the previous version in. Refused unless the stage is open for the ДОУ and not handed in."""
    campaign = locked(session, campaign_id)
    stage = form_stage(campaign, stage_id, institution_id)
    _known_indicator(campaign, indicator_id)
    evidence = _checked_evidence(links) if links is not None else None
    _known_level(campaign, level)
    comment_given = comment is not None
    if comment is not None:
        comment = _checked_comment(comment)
    form, _ = _read(session, campaign, institution_id, stage, now)
    _refuse_edit(campaign, form, now, "changed")
    if not form.started:
        _materialise(session, campaign, form, now)
    entry = next(e for e in form.entries if e.indicator_id == indicator_id)
    _write(session, campaign, form, entry, now, evidence=evidence, level=(level,) if level is not None or clear_level else None,
           comment=(comment,) if comment_given else None)
    return _saved(campaign, form)


@dataclass(frozen=True)
class Draft:
    """One indicator as a press of the ДОУ's page posts it: its links (each with an optional title), own level (None:
    none chosen) and comment ("" : none), and the fingerprint of the entry the page showed (None: not known)."""

    links: list[tuple[str, str | None]]
    level: str | None
    comment: str
    shown: str | None = None


def save_changed(session: Session, campaign_id: str | None, institution_id: str, stage_id: str, drafts: dict[str, Draft],
                 now: datetime) -> tuple[Form, list[str]]:
    """Save, at one press, every indicator whose posted draft differs from what the stage holds: the page posts the whole
    form, so what the ДОУ typed under one indicator is not lost when it presses another's button. Each changed indicator
    is written and audited as `save` writes one; nothing changed writes nothing. Everything posted is checked before
    anything is written; refused unless the stage is open for the ДОУ and not handed in. Returns the form and the
    indicators saved, in the form's order.

    A draft that knows what its page showed (`shown`) is a change only where its reader changed it: an indicator posted
    as shown is left as it is stored now (another window, or a colleague, may have saved it since), and one changed both
    on this page and in the store since the page was read is refused, naming it, with nothing written — the press
    would otherwise put back what the page showed over the newer save."""
    campaign = locked(session, campaign_id)
    stage = form_stage(campaign, stage_id, institution_id)
    posted: dict[str, Entry] = {}
    for indicator_id, draft in drafts.items():
        try:
            _known_indicator(campaign, indicator_id)
            _known_level(campaign, draft.level)
            posted[indicator_id] = Entry(indicator_id, _checked_evidence(draft.links), draft.level, _checked_comment(draft.comment))
        except DqflowError as exc:  # which indicator it is, for the page to say (a whole form is posted at once)
            exc.facts.setdefault("indicator", indicator_id)
            raise
    form, _ = _read(session, campaign, institution_id, stage, now)
    _refuse_edit(campaign, form, now, "changed")
    changed, clashes = [], []
    for entry in form.entries:
        new = posted.get(entry.indicator_id)
        if new is None or new == entry:
            continue
        shown = drafts[entry.indicator_id].shown
        if shown is not None and new.fingerprint == shown:
            continue  # not touched on this page; what is stored is newer than the page
        if shown is not None and entry.fingerprint != shown:
            clashes.append(entry.indicator_id)
        changed.append(entry)
    if clashes:
        raise DqflowError(f"indicator(s) {', '.join(clashes)} of ДОУ '{institution_id}' in stage '{stage.id}' were saved "
                          "elsewhere after this page was read; read the page again", code="form-changed-meanwhile",
                          indicators=", ".join(clashes))
    if changed and not form.started:
        _materialise(session, campaign, form, now)
    for entry in changed:
        new = posted[entry.indicator_id]
        _write(session, campaign, form, entry, now, evidence=new.evidence if new.evidence != entry.evidence else None,
               level=(new.level,) if new.level != entry.level else None, comment=(new.comment,) if new.comment != entry.comment else None)
    return (_saved(campaign, form) if changed else form), [e.indicator_id for e in changed]


def _known_indicator(campaign: spec.Campaign, indicator_id: str) -> None:
    if indicator_id not in campaign.indicators:
        known = ", ".join(campaign.indicators)
        raise NotFound(f"no indicator '{indicator_id}' in the form; indicators: {known}", code="no-indicator",
                       indicator=indicator_id, known=known)


def _known_level(campaign: spec.Campaign, level: str | None) -> None:
    if level is not None and level not in {lv.id for lv in campaign.levels}:
        raise NotFound(f"no level '{level}' in campaign '{campaign.id}'; levels: {', '.join(lv.id for lv in campaign.levels)}",
                       code="no-level", level=level, known=", ".join(lv.id for lv in campaign.levels))


def _checked_comment(comment: str) -> str | None:
    return texts.check(comment.strip(), "комментарий", texts.MAX_NOTE) or None


def _write(session: Session, campaign: spec.Campaign, form: Form, entry: Entry, now: datetime, *, evidence: list[Evidence] | None,
           level: tuple[str | None] | None, comment: tuple[str | None] | None) -> None:
    """One indicator of the started stage written (what is given: `level` and `comment` as one-tuples, None for
    unchanged) and audited as `form-save`; `entry` is updated to match."""
    key = {"campaign_id": campaign.id, "institution_id": form.institution_id, "stage_id": form.stage.id, "indicator_id": entry.indicator_id}
    changes: dict[str, Any] = {"updated_at": now}
    if level is not None:
        changes["level"] = entry.level = level[0]
    if comment is not None:
        changes["comment"] = entry.comment = comment[0]
    e = _ENTRY.c
    session.execute(update(_ENTRY).where(*(e[k] == v for k, v in key.items())).values(changes))
    if evidence is not None:
        v = _EVIDENCE.c
        session.execute(delete(_EVIDENCE).where(*(v[k] == val for k, val in key.items())))
        if evidence:
            session.execute(insert(_EVIDENCE), [{**key, "position": n, "url": item.url, "title": item.title}
                                               for n, item in enumerate(evidence)])
        entry.evidence = evidence
    detail: dict[str, Any] = {"indicator": entry.indicator_id}
    if evidence is not None:
        detail["links"] = [item.url for item in evidence]
    if "level" in changes:
        detail["level"] = entry.level
    if "comment" in changes:
        detail["comment"] = bool(entry.comment)
    session.add(AuditRow(campaign_id=campaign.id, institution_id=form.institution_id, stage_id=form.stage.id, action="form-save", at=now,
                         recorded_at=recorded_at(session, now), actor=acting(session), detail=json.dumps(detail, ensure_ascii=False)))


def _saved(campaign: spec.Campaign, form: Form) -> Form:
    form.started, form.source = True, None
    form.missing = missing(campaign, {en.indicator_id: en for en in form.entries})
    return form


def _materialise(session: Session, campaign: spec.Campaign, form: Form, now: datetime) -> None:
    """Write the ДОУ's rows of the stage: an entry per indicator, from the previous version (`form.entries` hold it)."""
    base = {"campaign_id": campaign.id, "institution_id": form.institution_id, "stage_id": form.stage.id}
    session.execute(insert(_ENTRY), [{**base, "indicator_id": en.indicator_id, "level": en.level, "comment": en.comment,
                                      "updated_at": now} for en in form.entries])
    evidence = [{**base, "indicator_id": en.indicator_id, "position": n, "url": item.url, "title": item.title}
                for en in form.entries for n, item in enumerate(en.evidence)]
    if evidence:
        session.execute(insert(_EVIDENCE), evidence)


def for_hand_in(session: Session, campaign: spec.Campaign, institution_id: str, stage: spec.Stage, now: datetime) -> Form:
    """The ДОУ's form as it is handed in (by `acts.submit`, whose caller checked the stage is open for it): refused
    while empty or missing a required indicator's evidence; the stage's rows written if the ДОУ never saved in it,
    so the version stands in its own stage."""
    form, _ = _read(session, campaign, institution_id, stage, now)
    if form.frozen:
        raise NotAllowed(f"the form of ДОУ '{institution_id}' in stage '{stage.id}' was already handed in", code="form-handed-in",
                         institution=institution_id, stage=stage.id)
    if not form.links:
        raise DqflowError(f"the form of ДОУ '{institution_id}' in stage '{stage.id}' holds no evidence: fill it with dqflow form set",
                          code="form-empty", institution=institution_id, stage=stage.id)
    if form.missing:
        titles = {ind_id: ind.title for ind_id, (_, ind) in campaign.indicators.items()}
        raise DqflowError(f"no evidence for required indicator(s) {', '.join(form.missing)}: add a link to each with "
                          f"dqflow form set {institution_id} --stage {stage.id} --indicator ID --link URL", code="form-incomplete",
                          indicators=", ".join(f"{i} «{titles[i]}»" for i in form.missing), ids=" ".join(form.missing),
                          institution=institution_id, stage=stage.id)
    if not form.started:
        _materialise(session, campaign, form, now)
        form.started, form.source = True, None
    return form


def as_json(form: Form, campaign: spec.Campaign) -> dict[str, Any]:
    """The form for programs (English keys)."""
    return {
        "institution": form.institution_id, "stage": form.stage.id, "state": form.state, "handed_in": form.frozen,
        "editable": form.editable, "started": form.started, "from_stage": form.source, "missing": form.missing,
        "indicators": [{"id": en.indicator_id, "area": campaign.indicators[en.indicator_id][0].id,
                        "title": campaign.indicators[en.indicator_id][1].title,
                        "required": campaign.indicators[en.indicator_id][1].required,
                        "links": [{"url": ev.url, "title": ev.title} for ev in en.evidence],
                        "level": en.level, "comment": en.comment} for en in form.entries],
    }


def reviewed_versions(campaign: spec.Campaign, review_stage_id: str) -> list[str]:
    """The form stages whose versions a review stage reviews (its materials, `rules.materials_stages`), latest first:
    the ДОУ's self-assessment there is its own level in the first of them it handed in (a frozen version always holds
    its rows: `for_hand_in` writes them). Read by the справка по показателям."""
    stage = campaign.stage(review_stage_id)
    if stage is None:
        return []
    reviewed = set(rules.materials_stages(campaign.stages, stage))
    return [s.id for s in reversed(campaign.form_stages()) if s.id in reviewed]
