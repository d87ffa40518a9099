"""A ДОУ's and an expert's personal pages, opened by the link in their emails: the page, and one form.

The guard (`middleware`) has checked the link and, for a post, the form's token and origin; the route
parses the form, makes one engine call as the person (in a transaction it may share with other people's posts that
came meanwhile, each in a savepoint of its own: `web.grouped`), and redirects to the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Callable, Sequence
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from dqflow import engine
from dqflow.campaign import spec
from dqflow.delivery import linkcheck
from dqflow.engine import definitions, experts, workspace
from dqflow.engine import form as entry_form
from dqflow.errors import DqflowError
from dqflow.web import snapshots
from dqflow.web.grouped import Grouped
from dqflow.web.middleware import EXPERT, INSTITUTION, Page, form_of, person_of, read_of
from dqflow.web.site import DIGEST, Site, keyed, one, redirect, refusal_status

Act = Callable[[Session, datetime], object]  # one engine call as the person: (session, now)


class Personal(Site):
    PAGES = {"institution": ("institution.html", workspace.institution_desk),
             "expert": ("expert.html", workspace.expert_desk)}

    @cached_property
    def grouped(self) -> Grouped:
        """The people's writes, committed a group at a time (`web.grouped`)."""
        return Grouped(self.db, self.wall)

    async def personal(self, request: Request) -> Response:
        """GET: the person's page. POST: their form → one engine call as them → redirect to the page."""
        person = person_of(request)
        role, subject_id = person.role, person.id
        if request.method != "POST":  # GET or HEAD: the page; only a post acts
            return await self.personal_page(request, ok=request.query_params.get("ok"))
        form = form_of(request)
        typed = self.typed(form) if role == "institution" else None
        try:
            act, done = self.submission(form, subject_id, typed) if role == "institution" else self.review(form, subject_id)

            def write(session: Session) -> None:
                # the definition this request's admission checked: what an act asks of it before it takes the
                # campaign's lock costs no statement (the act reads it again under the lock: `definitions.locked`)
                definitions.known(session, self.campaign)
                act(session, self.clock())

            await self.grouped.write(write, f"{role}:{subject_id}")
        except DqflowError as exc:
            error = self.said(exc)
            if typed is not None and exc.facts.get("indicator") and exc.code != "no-indicator":  # which of ~30 it is
                error = f"Показатель {exc.facts['indicator']}: {error}"
            if exc.code == "form-page-outdated":  # its fields are not the form's: nothing typed can be put back
                typed = None
            return await self.personal_page(request, error=error, status=refusal_status(exc), typed=typed, fault=exc)
        return redirect(request.url.path + done)

    def typed(self, form: dict[str, list[str]]) -> Typed | None:
        """A form stage's post as typed (None for any other post)."""
        stage = self.campaign.stage(one(form, "stage"))
        if stage is None or not stage.form:
            return None
        return Typed(stage.id, {indicator: self.draft(form, indicator) for indicator in form.get("indicator", [])})

    def submission(self, form: dict[str, list[str]], institution_id: str, typed: Typed | None) -> tuple[Act, str]:
        stage_id = one(form, "stage")
        if typed is not None:
            return self.form_entry(form, institution_id, typed)
        urls = tuple(u.strip() for u in form.get("link", []) if u.strip())
        return (lambda session, now: engine.submit(session, self.campaign.id, institution_id, stage_id, now, urls, scoped=True),
                "?ok=submitted#stage-" + quote(stage_id))

    def form_entry(self, form: dict[str, list[str]], institution_id: str, typed: Typed) -> tuple[Act, str]:
        """A form stage's post: the whole form, each indicator's fields suffixed with its id (`link-ID`, `title-ID`,
        `level-ID`, `comment-ID`, the ids in `indicator`). «Сохранить» under any indicator (`action=save:ID`, the page
        returns to it) saves every indicator that changed (`form.save_changed`); «Сдать форму» (`action=hand-in`) saves
        them and hands the form in, in one transaction."""
        stage_id, drafts = typed.stage_id, typed.drafts
        action = one(form, "action")
        if any(draft.shown is None for draft in drafts.values()):  # each indicator carries what the page showed of it
            raise DqflowError("the form was posted from a page of an older portal; read the page again", code="form-page-outdated")
        if action != "hand-in" and not action.startswith("save:"):
            raise DqflowError(f"unknown action '{action}'", code="unknown-action")

        def save(session: Session, now: datetime) -> None:
            entry_form.save_changed(session, self.campaign.id, institution_id, stage_id, drafts, now)

        if action == "hand-in":
            def hand_in(session: Session, now: datetime) -> None:
                save(session, now)
                engine.submit(session, self.campaign.id, institution_id, stage_id, now, scoped=True)

            return hand_in, "?ok=form-handed-in#stage-" + quote(stage_id)
        pressed = action.removeprefix("save:")
        return save, "?ok=form-saved#" + quote(f"indicator-{pressed}" if pressed in drafts else f"stage-{stage_id}")

    @staticmethod
    def draft(form: dict[str, list[str]], indicator: str) -> entry_form.Draft:
        """One indicator's fields as posted: its links with their titles (blank rows dropped), own level, comment, and
        the fingerprint of what the page showed of it (`shown-ID`)."""
        urls, titles = form.get(f"link-{indicator}", []), form.get(f"title-{indicator}", [])
        links = [(u.strip(), (titles[n] if n < len(titles) else "").strip() or None) for n, u in enumerate(urls) if u.strip()]
        return entry_form.Draft(links, one(form, f"level-{indicator}").strip() or None,
                                one(form, f"comment-{indicator}").replace("\r\n", "\n"), one(form, f"shown-{indicator}") or None)

    def review(self, form: dict[str, list[str]], expert_id: str) -> tuple[Act, str]:
        """An expert's review: a level per area (`level-AREA`), or per indicator (`level-INDICATOR`, with `comment-INDICATOR`)
        where the campaign reviews per indicator; the engine refuses what is missing."""
        keys = list(self.campaign.indicators) if self.campaign.reviews_by_indicator else [a.id for a in self.campaign.areas]
        levels = {key: one(form, f"level-{key}") for key in keys if one(form, f"level-{key}")}
        comments = {key: text for key in keys if (text := one(form, f"comment-{key}").replace("\r\n", "\n").strip())} \
            if self.campaign.reviews_by_indicator else {}
        entry = experts.ReviewEntry(one(form, "institution"), one(form, "stage"), expert_id, levels,
                                    one(form, "recommendations").replace("\r\n", "\n"), comments=comments)
        return (lambda session, now: engine.review_many(session, self.campaign.id, [entry], now, scoped=True),
                "?ok=reviewed#dou-" + quote(entry.institution_id))

    def expert_link_states(self, session: Session, desk: workspace.ExpertDesk) -> dict:
        """URL → the last check of each evidence link the expert's page shows per indicator (`_link_states.html`): one query."""
        urls = {url for task in desk.tasks for item in task.assigned if item.form is not None for url in item.form.urls}
        return linkcheck.results(session, self.campaign.id, urls)

    def personal_read(self, session: Session, role: str, subject_id: str, now: datetime, keep: bool = True) -> Read:
        """What a person's page shows (`Page.read`: the guard reads it for a GET in the transaction that checked the
        link): their desk and the last check of each link it shows; for a ДОУ whose state is the one its kept page was
        rendered for (`snapshots.KeptPage.fits`, read here with its links' checks: one statement), that page."""
        campaign = definitions.definition(session, self.campaign.id)  # the one `Site.admit` read the digest of
        if role != "institution":
            desk = self.PAGES[role][1](session, campaign, subject_id, now)
            assert isinstance(desk, workspace.ExpertDesk)
            return Read(campaign, desk, self.expert_link_states(session, desk))
        key: tuple[Any, ...] = ()
        if keep and self.kept is not None and DIGEST in session.info:  # the digest read in this transaction (`Site.admit`), then the
            # key, before the page's rows: what is kept under a key is never older than it

            def rows_of(statement: Any, values: dict[str, Any]) -> Sequence[Any]:
                rows = keyed(session, statement, values)  # read with the link's check (`personal_key`), else now
                return rows if rows is not None else session.execute(statement, values).all()

            kept, key, checks = self.kept_state(campaign, subject_id, session.info[DIGEST], rows_of)
            if kept is not None and self.fits(kept, key, now, lambda: checks if checks is not None
                                              else snapshots.link_checks(session, campaign.id, kept.urls)):
                return Read(campaign, kept=kept)
        desk = workspace.institution_desk(session, campaign, subject_id, now)
        if campaign.form_stages():  # its drafts' evidence too (`linkcheck.campaign_links`: two statements)
            urls = tuple(sorted({link.url for link in linkcheck.campaign_links(session, campaign.id, institutions=[subject_id])}))
        else:  # no drafts: its hand-ins' links, which the desk has read
            urls = tuple(sorted({url for d in desk.stages for s in d.submissions for url in json.loads(s.links)}))
        checks = snapshots.link_checks(session, campaign.id, urls)
        moments = snapshots.moments(campaign, (d.progress for d in desk.stages))
        return Read(campaign, desk, {url: Checked(*rest) for url, *rest in checks},
                    kept=snapshots.KeptPage(key, moments, snapshots.place(moments, now), urls, checks, ()) if key else None)

    def kept_state(self, campaign: spec.Campaign, subject_id: str, digest: str,
                   rows_of: Callable[[Any, dict[str, Any]], Sequence[Any] | None]) -> tuple[snapshots.KeptPage | None, tuple[Any, ...], Any]:
        """The ДОУ's kept page (None: none), the key of its state (the digest and `snapshots.institution_version`, read
        by `rows_of(statement, values)`), and its links' checks read with it (None: more than one statement holds)."""
        assert self.kept is not None
        kept = self.kept.get(subject_id)
        urls = kept.urls if kept is not None else ()
        statement, values = snapshots.version_statement(campaign, subject_id, urls)
        rows = rows_of(statement, values)
        if rows is None:
            return kept, (), None
        version, checks = snapshots.version_of(rows, campaign, urls)
        return kept, (digest,) + version, checks

    @staticmethod
    def fits(kept: snapshots.KeptPage, key: tuple[Any, ...], now: datetime, checks: Callable[[], Any]) -> bool:
        """Whether the kept page is the page of the state `key` names at `now`, its links checked as `checks()` says
        (asked only when the state fits)."""
        return bool(key) and kept.fits(key, now) and checks() == kept.checks

    def personal_kept(self, campaign: spec.Campaign, subject_id: str, digest: str,
                      keyed: tuple[Any, dict[str, Any], Sequence[Any]], now: datetime) -> Read | None:
        """A ДОУ's GET answered from the admission's one statement alone (`Site.admit_inline`: `personal_key`'s rows
        read with the link's check): its kept page when it fits the state those rows name, as `personal_read` finds it;
        None when the page needs more (none kept, another state, the key asked of another kept page, checks to read)."""
        if self.kept is None:
            return None
        statement, values, rows = keyed
        kept, key, checks = self.kept_state(campaign, subject_id, digest,
                                            lambda s, v: rows if s is statement and v == values else None)
        return Read(campaign, kept=kept) if kept is not None and checks is not None and self.fits(kept, key, now, lambda: checks) else None

    def personal_key(self, campaign: spec.Campaign, subject_id: str) -> tuple[Any, dict[str, Any]] | None:
        """The key `personal_read` asks first for a ДОУ's page (its state's, with its kept page's links' checks), for the
        guard to read in the link's check (`Page.key`): one statement for a page served from what was kept."""
        if self.kept is None:
            return None
        kept = self.kept.get(subject_id)
        return snapshots.version_statement(campaign, subject_id, kept.urls if kept is not None else ())

    def page_parts(self, template: str, now: datetime, read: Read) -> tuple[bytes | int, ...]:
        """A person's page as `read` gives it, cut where each request puts in its own (`Site.render_parts`): what is kept."""
        return self.render_parts(template, now, campaign=read.campaign, desk=read.desk, link_states=read.link_states,
                                 LINK_STATE_RU=linkcheck.STATE_RU, LINK_ADVICE_RU=linkcheck.ADVICE_RU)

    async def personal_page(self, request: Request, ok: str | None = None, error: str | None = None,
                            status: int = 200, typed: Typed | None = None, fault: DqflowError | None = None) -> Response:
        """The person's page: read at admission for a GET; read again after a refused post — with what a refused form
        post typed put back over the stored form (not kept), so one mistake does not cost the rest of what was typed."""
        person = person_of(request)
        template = self.PAGES[person.role][0]
        found = read_of(request)
        unsaved: list[entry_form.Entry] = []
        if found is not None:  # a GET: read by the guard with the link's check
            now, read = found
        else:  # the page again after a refused post
            now = self.clock()

            def again() -> Read:
                with self.reading() as session:
                    return self.personal_read(session, person.role, person.id, now, keep=typed is None)

            read = await run_in_threadpool(again)
            unsaved = typed.unsaved(read.desk, fault) if typed is not None and isinstance(read.desk, workspace.InstitutionDesk) else []
            if typed is not None and isinstance(read.desk, workspace.InstitutionDesk):
                read = replace(read, desk=typed.over(read.desk, fault))
        kept = read.kept
        if kept is not None and read.desk is not None and self.kept is not None:  # a ДОУ's state not kept yet: rendered, kept
            kept = replace(kept, parts=self.page_parts(template, now, read))
            self.kept.put(person.id, kept)
        if kept is not None:
            response = self.fill(kept, now, person.csrf, ok=self.ok_ru(ok), error=error)
            response.status_code = status
            return response
        return self.render(template, status, now=now, campaign=read.campaign, desk=read.desk, ok=self.ok_ru(ok), error=error,
                           csrf=person.csrf, link_states=read.link_states, LINK_STATE_RU=linkcheck.STATE_RU,
                           LINK_ADVICE_RU=linkcheck.ADVICE_RU, form_shown=typed.shown(fault) if typed else {},
                           unsaved=unsaved)


@dataclass(frozen=True)
class Typed:
    """A form stage's post: its stage and each indicator as typed (`Personal.draft`)."""

    stage_id: str
    drafts: dict[str, entry_form.Draft]

    @staticmethod
    def entry(draft: entry_form.Draft, indicator_id: str) -> entry_form.Entry:
        """What was typed for an indicator, as an entry of the form (unchecked: shown back as typed)."""
        return entry_form.Entry(indicator_id, [entry_form.Evidence(url, title) for url, title in draft.links], draft.level,
                                draft.comment.strip() or None)

    def typed(self, fault: DqflowError | None) -> dict[str, entry_form.Entry]:
        """The indicators the reader changed on the page (what was posted differs from what the page showed), as typed;
        not those saved elsewhere meanwhile (`save_changed`'s clash: shown as stored now, to be typed again)."""
        clashed = set(fault.facts.get("indicators", "").split(", ")) if fault is not None and fault.code == "form-changed-meanwhile" else set()
        found = {i: self.entry(d, i) for i, d in self.drafts.items() if d.shown is not None and i not in clashed}
        return {i: e for i, e in found.items() if e.fingerprint != self.drafts[i].shown}

    def over(self, desk: workspace.InstitutionDesk, fault: DqflowError | None) -> workspace.InstitutionDesk:
        """The desk with this stage's form showing what the reader typed (everything else as stored now)."""
        form = desk.forms.get(self.stage_id)
        if form is None or not form.editable:
            return desk
        typed = self.typed(fault)
        return replace(desk, forms={**desk.forms, self.stage_id: replace(form, entries=[typed.get(e.indicator_id, e) for e in form.entries])})

    def shown(self, fault: DqflowError | None) -> dict[str, str]:
        """indicator → what the page first showed of it, for the indicators shown as typed: the next press is judged
        against what the page was read with, not against what was typed."""
        return {i: self.drafts[i].shown or "" for i in self.typed(fault)}

    def unsaved(self, desk: workspace.InstitutionDesk | None, fault: DqflowError | None) -> list[entry_form.Entry]:
        """What was typed and not saved, where the form can no longer take it (the stage closed, or the form was handed
        in elsewhere): shown beside the form, to be copied."""
        form = desk.forms.get(self.stage_id) if desk is not None else None
        return list(self.typed(fault).values()) if form is not None and not form.editable else []


@dataclass(frozen=True)
class Checked:
    """A link's last check as `_link_states.html` shows it (`snapshots.link_checks`' values)."""

    state: str
    detail: str
    checked_at: datetime


@dataclass(frozen=True)
class Read:
    """What a person's GET read: the definition it is made of, and the desk with its links' checks, or (a ДОУ's page)
    the kept page that still fits; both when the ДОУ's page is to be rendered and kept."""

    campaign: spec.Campaign
    desk: workspace.InstitutionDesk | workspace.ExpertDesk | None = None
    link_states: dict = field(default_factory=dict)
    kept: snapshots.KeptPage | None = None


def routes(portal: Personal) -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [Page("/dou/{subject}/{token}", portal.personal, who=INSTITUTION, methods=both, read=portal.personal_read,
                 key=portal.personal_key, kept=portal.personal_kept),
            Page("/expert/{subject}/{token}", portal.personal, who=EXPERT, methods=both, read=portal.personal_read)]
