"""What each letter says: the template item built from one due outbox row (`Letters.letter`), and how a message's
letters are merged into the items it lists (`merged`).

`Letters` serves one send: the campaign's names, expert lists, links, reviews and the ДОУ's next dates are read once,
on first need, in one query each (or a chunk of ДОУ per query: `prepare` reads a page's at once), so a handout to
5,000 experts costs what one costs. The messages that carry the letters are the `Writer`'s (`delivery.writer`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlmodel import Session, col, select

from dqflow.access import links as portal_links
from dqflow.calendar import UTC, show, show_date, utc_offset
from dqflow.campaign import spec
from dqflow.delivery.change_letters import ChangeBook
from dqflow.delivery.digest import digest_content
from dqflow.delivery.mail import Letter
from dqflow.engine import changes, rules
from dqflow.engine.experts import stored
from dqflow.engine.reminders import ADDED, review_stage
from dqflow.engine.skips import MAX_IN_LIST
from dqflow.store import InstitutionRow, LinkCheckRow, OutboxRow, ProgressRow, ReviewRow, SubmissionRow, chunks

UNOPENED_KINDS = ("before_due", "due_today", "overdue")  # a ДОУ's deadline reminders list its links that do not open


class Letters:
    """The items of one send's letters. Give it the session of the page it writes."""

    def __init__(self, session: Session, campaign: spec.Campaign, now: datetime):
        self.campaign, self.now = campaign, now
        self.tz = campaign.tz
        self.day = now.astimezone(campaign.tz).strftime("%d.%m.%Y")
        self.terms = campaign.terms.forms()
        self.operator = {"name": campaign.operator.name, "email": campaign.operator.email} if campaign.operator else None
        # the roster's names, and those of ДОУ an amendment withdrew (their rows stay, and may still be named)
        self.names = {**dict(session.exec(select(InstitutionRow.id, InstitutionRow.name).where(
            InstitutionRow.campaign_id == campaign.id, col(InstitutionRow.withdrawn_at).is_not(None))).all()),
            **campaign.institution_names}
        self.expert_names, self.expert_addresses = campaign.expert_names, campaign.expert_addresses
        self._lists: dict[str, dict[str, list[str]]] = {}  # list → ДОУ → experts
        self._by_address: dict[str, dict[str, list[str]]] = {}  # list → expert address → ДОУ
        self._links: dict[str, list[str]] = {}  # ДОУ → its links so far, for the ДОУ this send has named
        self._stage_links: dict[tuple[str, str], list[str]] = {}  # (ДОУ, stage) → its links: the operator's notice
        self._additions: dict[int, dict[str, set[str]]] = {}
        self._handed_out: dict[str, set[str]] = {}  # handout stage → addresses its whole handout reached
        self._reviews: dict[str, dict[str, list[tuple[str, str]]]] = {}  # review stage → ДОУ → (levels, recommendations)
        self._next_dates: dict[tuple[str, str], tuple[datetime, datetime] | None] = {}  # (next stage, ДОУ) → its (opens, due)
        self._next_stages: dict[str | None, spec.Stage | None] = {}  # a review stage → the ДОУ's stage after it
        self._materials: dict[tuple[str, str], dict] = {}  # (review stage, ДОУ) → what its letter says of materials awaited
        self._digest: dict | None = None
        self._unopened: dict[str, list[dict]] = {}  # ДОУ → its links that did not open at their last check
        self._any_unopened: bool | None = None  # whether the campaign has any such link (one probe per send)
        self.changes = ChangeBook(campaign)  # what the change letters of this send say, read once
        self.base_url = portal_links.base_url(campaign)  # None: no portal, letters say to reply instead
        self._portal: portal_links.Links | None = None
        self.stages = {s.id: s for s in campaign.stages}
        self._shown: dict[datetime, str] = {}  # a deadline is shared by a whole audience: formatted once
        self._offsets: dict[datetime, str] = {}
        self._stage_times: dict[str | None, dict] = {}
        self._bases: dict[tuple, dict[str, Any]] = {}  # `_base`: what the letters of one shape say alike

    def prepare(self, session: Session, rows) -> None:
        """Read what a page's letters show of each ДОУ at once (their links): not a query per letter."""
        named = {r.institution_id for r in rows if r.institution_id and (r.role == "expert" or r.kind == "submitted")}
        for row in rows:
            stage = self.stages.get(row.stage_id) if row.kind == "handout" else None
            if stage is not None and stage.list:
                named.update(self.reviewed_by(session, stage.list).get(row.recipient.lower(), []))
        links = self.links(session, named)
        self.unopened(session, {r.institution_id for r in rows if r.role == "institution" and r.kind in UNOPENED_KINDS
                                and r.institution_id})
        self.changes.need(session, rows)
        self.next_dates(session, [r for r in rows if r.kind == "recommendations"])
        self.awaited(session, {(r.stage_id, r.institution_id) for r in rows if r.role == "expert" and r.institution_id
                               and r.kind != "event" and not links.get(r.institution_id)})

    def letter(self, session: Session, row, progress) -> Letter:
        kind, role, institution_id = row.kind, row.role, row.institution_id
        stage, item = self._base(row, progress)
        links = ((self._links[institution_id] if institution_id in self._links else self.links(session, (institution_id,))[institution_id])
                 if role == "expert" and institution_id else [])
        name = self.names.get(institution_id) if institution_id and kind != "event" else None
        item["institution_id"], item["institution_name"], item["links"] = institution_id, name, links
        item["reviewed"] = ([{"institution_name": name, "links": links, **self._awaited(session, stage, institution_id, links)}]
                            if role == "expert" and name else [])
        item["link"] = self.personal_link(session, row)  # the recipient's own page, when a portal serves the campaign
        item["overdue"], item["missed"], item["dead"] = [], [], []
        item["unopened"] = (((self._unopened if institution_id in self._unopened else self.unopened(session, (institution_id,)))
                             .get(institution_id, [])) if role == "institution" and kind in UNOPENED_KINDS and institution_id else [])
        if row.kind == "digest":
            item.update({k: v for k, v in self.digest(session).items() if k != "dead_ids"})
        elif row.kind in ("handout", "handout_copy"):
            item.update(self._handout(session, stage, row))
        elif row.kind == "recommendations":
            item["reviews"] = self._recommendations(session, row)
            item["next_stage"] = self._next_stage(session, row)
        elif row.kind == changes.KIND:  # what changed for the reader (`change_letters`)
            self.changes.need(session, (row,))
            item["changes"] = [self.changes.entry(row, self.names)]
            item["change"] = changes.what(row.rule)
        elif row.kind == "submitted":
            self.links(session, (row.institution_id,))
            item["submissions"] = [{"institution_name": name, "links": self._stage_links.get((row.institution_id, row.stage_id), [])}]
        return Letter(row.kind, item)

    def _base(self, row, progress) -> tuple[spec.Stage | None, dict[str, Any]]:
        """The row's stage and a new item holding what every letter of its kind, role, stage and the ДОУ's deadline says
        alike, made once per send (`letter` fills in the rest: the ДОУ, its links, the recipient's page): a send's letters
        share a few such shapes, and formatting each one's dates and stage anew cost more than the rest of its item."""
        stage = self.stages.get(row.stage_id) if row.stage_id else None
        due = progress.due_at if progress else (stage.due_at if stage else None)
        lock = progress.locks_at if progress else (stage.locks_at if stage else None)
        extended = bool(progress and progress.extended)
        key = (row.kind, row.role, row.stage_id, due, lock, extended)
        base = self._bases.get(key)
        if base is None:
            base = self._bases[key] = {
                "kind": row.kind, "role": row.role, "stage_id": row.stage_id, "stage_title": stage.title if stage else "",
                "stage_short": stage.label if stage else "", "result": stage.result if stage else None,
                "url": stage.url if stage else None, "institution_id": None, "institution_name": None,
                "deadline": self._show(due) if due else "", "lock": self._show(lock) if lock and lock != due else None,
                "offset": self._offset(due or self.now),  # as people write it, at the moment it is about
                "extended": extended, **self._times(stage),
                "links": None, "reviewed": None,  # the ДОУ's: `letter`
                "submit_to": self.operator if stage is not None and stage.submit_to == "operator" else None, "terms": self.terms,
                # what is asked: the ДОУ's stage hands in the monitoring form; experts review per indicator (`engine.finals`)
                "form": bool(stage is not None and stage.form), "per_indicator": self.campaign.reviews_by_indicator,
                "link": None, "day": self.day, "overdue": None, "missed": None, "dead": None, "unopened": None,  # `letter`'s
            }
        return stage, base.copy()  # the keys in the order the letter's item always had

    def _awaited(self, session: Session, stage: spec.Stage | None, institution_id: str, links: list[str]) -> dict:
        """For an expert's letter about a ДОУ that handed in nothing yet: {"awaited": the soonest due time of its stages
        still open (`rules.materials`), or "nothing": True once nothing can come}. Read only for a ДОУ without links."""
        if links or stage is None or stage.actor != "expert":
            return {}
        key = (stage.id, institution_id)
        if key not in self._materials:
            self.awaited(session, {key})
        return self._materials[key]

    def awaited(self, session: Session, wanted: set[tuple[str | None, str]]) -> None:
        """`_awaited` of these (review stage, ДОУ) not known yet, their ДОУ's rows read at once: a page's, not a query per letter."""
        by_stage: dict[str, list[str]] = defaultdict(list)
        for stage_id, institution_id in wanted:
            stage = self.stages.get(stage_id) if stage_id else None
            if stage is not None and stage.actor == "expert" and (stage.id, institution_id) not in self._materials:
                by_stage[stage.id].append(institution_id)
        for stage_id, institutions in by_stage.items():
            materials = rules.materials_stages(self.campaign.stages, self.stages[stage_id])
            found: dict[str, list[ProgressRow]] = {i: [] for i in institutions}
            for chunk in chunks(sorted(institutions), MAX_IN_LIST):
                for row in session.exec(select(ProgressRow).where(
                        ProgressRow.campaign_id == self.campaign.id, col(ProgressRow.institution_id).in_(chunk),
                        col(ProgressRow.stage_id).in_(materials))).all():
                    found[row.institution_id].append(row)
            for institution_id, rows in found.items():
                said = [(r.due_at, rules.status_at(r, self.now)) for r in rows]
                state = rules.materials(status for _, status in said)
                open_ = [due for due, status in said if status not in (rules.Status.MISSED.value, rules.Status.EXCUSED.value)]
                self._materials[(stage_id, institution_id)] = (
                    {"nothing": True} if state is rules.Materials.NONE
                    else {"awaited": self._show(min(open_))} if state is rules.Materials.AWAITED and open_ else {})

    def personal_link(self, session: Session, row) -> str | None:
        """The recipient's own portal page for the role this row addresses them in (the coordinator's
        is the sign-in page), or None without a portal. The link versions are read once per send."""
        if self.base_url is None:
            return None
        if self._portal is None:
            self._portal = portal_links.links(session, self.campaign.id)
        if row.role == "institution" and row.institution_id:
            return self._portal.url(self.base_url, "institution", row.institution_id)
        expert = self.expert_by_email.get(row.recipient.lower()) if row.role == "expert" else None
        if expert:
            return self._portal.url(self.base_url, "expert", expert)
        return f"{self.base_url}/coordinator" if row.role == "coordinator" else None

    def _times(self, stage: spec.Stage | None) -> dict:
        """When a stage (a webinar) takes place, as its letters say it: formatted once per stage."""
        key = stage.id if stage else None
        if key not in self._stage_times:
            tz = self.tz
            self._stage_times[key] = {
                "event_at": _event_at(stage, tz), "event_date": show_date(stage.opens_at, tz) if stage else "",
                "event_time": None if not stage or stage.all_day else stage.opens_at.astimezone(tz).strftime("%H:%M")}
        return self._stage_times[key]

    def _offset(self, instant: datetime) -> str:
        if instant not in self._offsets:
            self._offsets[instant] = utc_offset(instant, self.tz)
        return self._offsets[instant]

    def _show(self, instant: datetime) -> str:
        if instant not in self._shown:
            self._shown[instant] = show(instant, self.tz)
        return self._shown[instant]

    # -- what the campaign holds, read once ---------------------------------------------

    @cached_property
    def expert_ids(self) -> dict[str, str]:
        """Address → the expert it belongs to (the last of several sharing one)."""
        return {address: expert for expert, address in self.expert_addresses.items()}

    @cached_property
    def expert_by_email(self) -> dict[str, str]:
        """Address → the first expert it belongs to: whose personal link a letter gives."""
        return {email: e for e, email in reversed(self.expert_addresses.items())}

    def expert_list(self, session: Session, list_id: str) -> dict[str, list[str]]:
        if list_id not in self._lists:
            self._lists[list_id] = stored(session, self.campaign.id, list_id)
        return self._lists[list_id]

    def links(self, session: Session, institutions) -> dict[str, list[str]]:
        """What each of these ДОУ submitted so far, in order, each link once: the experts review these.
        Read once per ДОУ and send, a chunk of ДОУ per query: a send reads the ДОУ its letters name, not
        every submission of the campaign."""
        for chunk in chunks(sorted({i for i in institutions if i not in self._links}), MAX_IN_LIST):
            self._links.update((i, []) for i in chunk)
            for inst, stage_id, text in session.exec(
                    select(SubmissionRow.institution_id, SubmissionRow.stage_id, SubmissionRow.links)
                    .where(SubmissionRow.campaign_id == self.campaign.id, col(SubmissionRow.institution_id).in_(chunk))
                    .order_by(col(SubmissionRow.at), col(SubmissionRow.id))).all():
                found, per_stage = self._links[inst], self._stage_links.setdefault((inst, stage_id), [])
                for link in json.loads(text):
                    if link not in found:
                        found.append(link)
                    if link not in per_stage:
                        per_stage.append(link)
        return self._links

    def unopened(self, session: Session, institutions) -> dict[str, list[dict]]:
        """Each of these ДОУ's links (`linkcheck.campaign_links`) that did not open at its last check, with what to do.
        Nothing is read but one probe while no link of the campaign failed a check; then a chunk of ДОУ per query."""
        wanted = sorted({i for i in institutions if i not in self._unopened})
        if not wanted:
            return self._unopened
        if self._any_unopened is None:
            self._any_unopened = session.exec(select(LinkCheckRow.url).where(
                LinkCheckRow.campaign_id == self.campaign.id, LinkCheckRow.state != "ok").limit(1)).first() is not None
        self._unopened.update((i, []) for i in wanted)
        if not self._any_unopened:
            return self._unopened
        from dqflow.delivery import linkcheck  # only a send that has such links to name needs it

        found = linkcheck.campaign_links(session, self.campaign.id, institutions=wanted)
        checked = linkcheck.results(session, self.campaign.id, {link.url for link in found})
        for link in found:
            row = checked.get(link.url)
            listed = self._unopened[link.institution_id]
            if row is not None and row.state != linkcheck.OK and all(x["url"] != link.url for x in listed):
                listed.append({"url": link.url, "state": linkcheck.STATE_RU[row.state], "detail": row.detail,
                               "advice": linkcheck.ADVICE_RU[row.state], "checked": self._show(row.checked_at)})
        return self._unopened

    def _handout(self, session: Session, stage: spec.Stage | None, row: Any) -> dict[str, Any]:
        """An expert's own ДОУ with their links, or (for the coordinator) the whole list."""
        assert stage is not None and stage.list is not None, "a handout is planned for a handout stage, which names its list"
        list_id = stage.list
        review = review_stage(self.campaign, list_id)
        tz = self.tz
        assignments = self.expert_list(session, list_id)
        content: dict[str, Any] = {"review_id": (review or stage).id, "review_short": (review or stage).label,
                   "review_title": review.title if review else stage.title,
                   "deadline": show(review.due_at if review else stage.due_at, tz),
                   "offset": utc_offset(review.due_at if review else stage.due_at, tz),
                   "lock": show(review.locks_at, tz) if review and review.locks_at != review.due_at else None}
        addition = row.rule != "handout" and row.rule != "handout-copy"  # a later addition, or its copy
        if addition and row.kind == "handout" and row.recipient.lower() not in self.handed_out(session, stage.id):
            addition = False  # their first handout (a newcomer, or one who had no ДОУ then): the whole list, as a handout says it
        content["addition"] = addition
        if row.kind == "handout_copy":
            added = self.additions(session, row) if addition else {}
            content["rows"] = [{"institution_name": self.names.get(i.id, i.id),
                                "experts": [self.expert_names.get(e, e) for e in assignments.get(i.id, [])],
                                "added": [self.expert_names.get(e, e) for e in assignments.get(i.id, []) if e in added.get(i.id, ())]}
                               for i in self.campaign.institutions if not addition or i.id in added]
            return content
        mine = self.reviewed_by(session, list_id).get(row.recipient.lower(), [])
        links = self.links(session, mine)
        if row.institution_id:  # an addition's row: never the list of reminders `_merged` joins
            content["reviewed"] = []
        if addition:  # the one ДОУ this row adds (`_merged` joins a send's additions into one item)
            mine = [i for i in mine if i == row.institution_id]
        content["assigned"] = [{"institution_id": i, "institution_name": self.names.get(i, i), "links": links.get(i, [])}
                               for i in mine]
        return content

    def handed_out(self, session: Session, stage_id: str) -> set[str]:
        """The addresses a handout stage's list reached, whole or by additions (a newcomer's first list may have
        come as one): a further addition is news only to them. One query per send."""
        if stage_id not in self._handed_out:
            self._handed_out[stage_id] = {a.lower() for a in session.exec(select(OutboxRow.recipient).where(
                OutboxRow.campaign_id == self.campaign.id, OutboxRow.stage_id == stage_id,
                col(OutboxRow.rule).in_(["handout", ADDED]), OutboxRow.state == "sent")).all()}
        return self._handed_out[stage_id]

    def additions(self, session: Session, row) -> dict[str, set[str]]:
        """ДОУ → the experts added to it by the change a coordinator's copy reports: the additions planned with it
        (its rule carries the moment they were planned). One query per copy; a send holds few."""
        if row.id not in self._additions:
            planned = datetime.fromtimestamp(int(row.rule.partition("#")[2]), UTC)  # whole seconds: `now` may carry more
            found: dict[str, set[str]] = defaultdict(set)
            for inst, address in session.exec(select(OutboxRow.institution_id, OutboxRow.recipient).where(
                    OutboxRow.campaign_id == self.campaign.id, OutboxRow.stage_id == row.stage_id, OutboxRow.rule == ADDED,
                    OutboxRow.planned_at >= planned, OutboxRow.planned_at < planned + timedelta(seconds=1))).all():
                expert = self.expert_ids.get(address.lower())
                if expert and inst is not None:  # an addition names its ДОУ
                    found[inst].add(expert)
            self._additions[row.id] = dict(found)
        return self._additions[row.id]

    def reviewed_by(self, session: Session, list_id: str) -> dict[str, list[str]]:
        """Expert address → the ДОУ a list gives them, in roster order: built once per list."""
        if list_id not in self._by_address:
            assignments = self.expert_list(session, list_id)
            found: dict[str, list[str]] = defaultdict(list)
            for institution in self.campaign.institutions:
                for expert in assignments.get(institution.id, []):
                    found[self.expert_addresses.get(expert, "")].append(institution.id)
            self._by_address[list_id] = dict(found)
        return self._by_address[list_id]

    def _recommendations(self, session: Session, row) -> list[dict]:
        if row.stage_id not in self._reviews:  # the stage's reviews once per send, as plain rows (an ORM object each cost more)
            found: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for institution_id, marks, recommendations in session.exec(
                    select(ReviewRow.institution_id, ReviewRow.levels, ReviewRow.recommendations).where(
                        ReviewRow.campaign_id == self.campaign.id, ReviewRow.stage_id == row.stage_id)
                    .order_by(col(ReviewRow.at), col(ReviewRow.expert_id))).all():
                found[institution_id].append((marks, recommendations))
            self._reviews[row.stage_id] = dict(found)
        areas = {a.id: a.title for a in self.campaign.areas}
        levels = {lv.id: lv.title for lv in self.campaign.levels}
        result = []
        for n, (stored_marks, recommendations) in enumerate(self._reviews[row.stage_id].get(row.institution_id, []), 1):
            marks = json.loads(stored_marks)
            result.append({"n": n, "recommendations": recommendations,
                           "levels": [{"area": title, "level": levels.get(marks[a], marks[a])} for a, title in areas.items() if a in marks]})
        return result

    def _next_stage(self, session: Session, row) -> dict | None:
        """Where the ДОУ is to use its recommendations: its next stage by label, with the ДОУ's own dates (an extension
        counts); None when nothing is left for it to do. Its ДОУ's rows are read with the page's (`next_dates`)."""
        stage = self._next_of(row.stage_id)
        if stage is None:
            return None
        key = (stage.id, row.institution_id or "")
        if key not in self._next_dates:
            self.next_dates(session, [row])
        opens, due = self._next_dates[key] or (stage.opens_at, stage.due_at)
        return {"label": stage.label, "opens": show_date(opens, self.tz), "deadline": self._show(due), "offset": self._offset(due)}

    def next_dates(self, session: Session, rows) -> None:
        """The (opening, deadline) of the next stage (`Campaign.next_institution_stage`) of the ДОУ these recommendations'
        rows name, not known yet: a chunk of ДОУ per query (a page's, not the stage's whole roster)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            stage = self._next_of(row.stage_id)
            if stage is not None and (stage.id, row.institution_id or "") not in self._next_dates:
                wanted[stage.id].add(row.institution_id or "")
        for stage_id, institutions in wanted.items():
            self._next_dates.update(((stage_id, i), None) for i in institutions)
            for chunk in chunks(sorted(institutions), MAX_IN_LIST):
                self._next_dates.update(((stage_id, inst), (opens, due)) for inst, opens, due in session.exec(
                    select(ProgressRow.institution_id, ProgressRow.opens_at, ProgressRow.due_at).where(
                        ProgressRow.campaign_id == self.campaign.id, ProgressRow.stage_id == stage_id,
                        col(ProgressRow.institution_id).in_(chunk))).all())

    def _next_of(self, stage_id: str | None) -> spec.Stage | None:
        """`Campaign.next_institution_stage`, asked once per stage and send."""
        if stage_id not in self._next_stages:
            self._next_stages[stage_id] = self.campaign.next_institution_stage(stage_id) if stage_id else None
        return self._next_stages[stage_id]

    def digest(self, session: Session) -> dict:
        if self._digest is None:
            self._digest = digest_content(session, self.campaign, self.names, self.now)
        return self._digest


def merged(letters: list[tuple]) -> list[tuple]:
    """An expert's reminders of one stage and deadline about several ДОУ read as one item listing them, as
    do the operator's notices of one stage; a handout already lists the ДОУ of its review, so the review's
    "opened" notice beside it is left out (and, beside an addition, any reminder of the ДОУ it adds). Additions to
    one handout read as one item, and none beside the whole handout. Each ДОУ is listed once."""
    kept: list[tuple] = []
    first: dict[tuple, dict] = {}
    listed_whole: set[str] = set()
    whole = {letter.item["stage_id"] for _, letter in letters if letter.kind == "handout" and not letter.item.get("addition")}
    handed_out = {(letter.item["review_id"], None) for _, letter in letters
                  if letter.kind == "handout" and not letter.item.get("addition")}  # the whole review, or the ДОУ added:
    handed_out |= {(letter.item["review_id"], a["institution_id"]) for _, letter in letters  # an addition's row, as
                   if letter.kind == "handout" and letter.item["institution_id"] for a in letter.item["assigned"]}  # such or whole
    for key, letter in letters:
        item = letter.item
        if item["role"] == "expert" and letter.kind != changes.KIND and (
                (letter.kind == "opened" and (item["stage_id"], None) in handed_out) or (item["stage_id"], item["institution_id"]) in handed_out):
            continue  # an addition says what to do about its ДОУ and by when: a reminder of it beside it says it twice
        addition = letter.kind == "handout" and item.get("addition")
        if addition and (item["stage_id"] in whole or not item["assigned"]):
            continue  # the whole handout in the same message lists the added ДОУ already
        if letter.kind == "handout" and not addition:
            if item["stage_id"] in listed_whole:
                continue  # a newcomer's additions each read as their whole (first) handout: said once
            listed_whole.add(item["stage_id"])
        listed = ("assigned" if addition else "changes" if letter.kind == changes.KIND
                  else "reviewed" if item["role"] == "expert" and item["reviewed"] else "submissions" if letter.kind == "submitted" else None)
        # a person's changes of one kind read as one item listing them (an amendment that moved several stages)
        group = ((letter.kind, item["change"], None) if letter.kind == changes.KIND
                 else (letter.kind, item["stage_id"], item["deadline"]) if listed else None)
        if group in first:
            if item[listed][0] not in first[group][listed]:
                first[group][listed].append(item[listed][0])
            continue
        if group is not None:
            item = first[group] = {**item, listed: list(item[listed])}
            letter = Letter(letter.kind, item)
        kept.append((key, letter))
    return kept


def _event_at(stage: spec.Stage | None, tz) -> str:
    if stage is None:
        return ""
    return show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)
