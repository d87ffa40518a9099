"""A ДОУ's and an expert's personal pages, opened by the link in their emails: the page, and one form.

The guard (`middleware`) has checked the link and, for a post, the form's token and origin; the route
parses the form, makes one engine call as the person in one transaction, and redirects to the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from dqflow import engine
from dqflow.delivery import linkcheck
from dqflow.engine import experts, workspace
from dqflow.engine import form as entry_form
from dqflow.errors import DqflowError
from dqflow.web.middleware import EXPERT, INSTITUTION, Page, form_of, person_of, read_of
from dqflow.web.site import Site, one, redirect, refusal_status

Act = Callable[[Session, datetime], object]  # one engine call as the person: (session, now)


class Personal(Site):
    PAGES = {"institution": ("institution.html", workspace.institution_desk),
             "expert": ("expert.html", workspace.expert_desk)}

    async def personal(self, request: Request) -> Response:
        """GET: the person's page. POST: their form → one engine call as them → redirect to the page."""
        person = person_of(request)
        role, subject_id = person.role, person.id
        if request.method != "POST":  # GET or HEAD: the page; only a post acts
            return await self.personal_page(request, ok=request.query_params.get("ok"))
        form = form_of(request)
        act, done = self.submission(form, subject_id) if role == "institution" else self.review(form, subject_id)

        def write() -> None:
            with self.transaction(f"{role}:{subject_id}") as session:
                act(session, self.clock())

        try:
            await self.write(write)
        except DqflowError as exc:
            return await self.personal_page(request, error=self.said(exc), status=refusal_status(exc))
        return redirect(request.url.path + done)

    def submission(self, form: dict[str, list[str]], institution_id: str) -> tuple[Act, str]:
        stage_id = one(form, "stage")
        stage = self.campaign.stage(stage_id)
        if stage is not None and stage.form:
            return self.form_entry(form, institution_id, stage_id)
        urls = tuple(u.strip() for u in form.get("link", []) if u.strip())
        return (lambda session, now: engine.submit(session, self.campaign.id, institution_id, stage_id, now, urls, scoped=True),
                "?ok=submitted#stage-" + quote(stage_id))

    def form_entry(self, form: dict[str, list[str]], institution_id: str, stage_id: str) -> tuple[Act, str]:
        """A form stage's post: one indicator saved to the draft (`action=save`), or the form handed in (`action=hand-in`)."""
        if one(form, "action") == "hand-in":
            return (lambda session, now: engine.submit(session, self.campaign.id, institution_id, stage_id, now, scoped=True),
                    "?ok=form-handed-in#stage-" + quote(stage_id))
        indicator = one(form, "indicator")
        urls, titles = form.get("link", []), form.get("title", [])
        links = [(u.strip(), (titles[n] if n < len(titles) else "").strip() or None) for n, u in enumerate(urls) if u.strip()]
        level, comment = one(form, "level").strip(), one(form, "comment").replace("\r\n", "\n")
        return (lambda session, now: entry_form.save(session, self.campaign.id, institution_id, stage_id, indicator, now, links=links,
                                                      level=level or None, clear_level=not level, comment=comment),
                "?ok=form-saved#indicator-" + quote(indicator))

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

    def personal_read(self, session: Session, role: str, subject_id: str, now: datetime) -> tuple[object, dict]:
        """What a person's page shows: their desk and, for a ДОУ, the last check of each of its links (`Page.read`: the
        guard reads it for a GET in the transaction that checked the link)."""
        desk = self.PAGES[role][1](session, self.campaign, subject_id, now)
        if isinstance(desk, workspace.ExpertDesk):
            return desk, self.expert_link_states(session, desk)
        return desk, self.link_states(session, subject_id)

    async def personal_page(self, request: Request, ok: str | None = None, error: str | None = None,
                            status: int = 200) -> Response:
        person = person_of(request)
        template = self.PAGES[person.role][0]
        found = read_of(request)
        if found is not None:  # a GET: read by the guard with the link's check
            now, (desk, link_states) = found
        else:  # the page again after a refused post
            now = self.clock()

            def read() -> tuple[object, dict]:
                with self.reading() as session:
                    return self.personal_read(session, person.role, person.id, now)

            desk, link_states = await run_in_threadpool(read)
        return self.render(template, status, now=now, desk=desk, ok=self.ok_ru(ok), error=error, csrf=person.csrf,
                           link_states=link_states, LINK_STATE_RU=linkcheck.STATE_RU, LINK_ADVICE_RU=linkcheck.ADVICE_RU)

    def link_states(self, session: Session, institution_id: str) -> dict:
        """URL → the last check of each of the ДОУ's links (`_link_states.html` shows it): two queries."""
        found = linkcheck.campaign_links(session, self.campaign.id, institutions=[institution_id],
                                         drafts_too=bool(self.campaign.form_stages()))
        return linkcheck.results(session, self.campaign.id, {link.url for link in found})


def routes(portal: Personal) -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [Page("/dou/{subject}/{token}", portal.personal, who=INSTITUTION, methods=both, read=portal.personal_read),
            Page("/expert/{subject}/{token}", portal.personal, who=EXPERT, methods=both, read=portal.personal_read)]
