"""What each message says: the template items built from due outbox rows, one message per recipient.

A `Writer` serves one send: the campaign's names, expert lists, links and reviews are read once,
on first need, in one query each, so a handout to 5,000 experts costs what one costs. Identical
letters (an invitation to every ДОУ) are rendered once; letters differing only in the ДОУ's name,
id and personal link once per audience (`dqflow.delivery.stencil`), and a one-event invitation once but
its UID.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any, Callable

from sqlmodel import Session, col, select

from dqflow.access import links as portal_links
from dqflow.calendar import UTC, show, show_date, utc_offset
from dqflow.campaign import spec
from dqflow.delivery import stencil
from dqflow.delivery.change_letters import ChangeBook
from dqflow.delivery.mail import Attachment, Letter, Outgoing, assemble, compose, laid_out, message_id
from dqflow.engine import changes, late, rules
from dqflow.engine.experts import stored
from dqflow.engine.reminders import ADDED, review_stage
from dqflow.engine.skips import MAX_IN_LIST
from dqflow.intake.templates import _bundled, default_folder, render_block, render_item, subject_reads
from dqflow.present import ics
from dqflow.store import InstitutionRow, LinkCheckRow, OutboxRow, ProgressRow, ReviewRow, SubmissionRow, chunks

INVITATION_TYPE = 'text/calendar; charset="utf-8"; method=PUBLISH'
UNOPENED_KINDS = ("before_due", "due_today", "overdue")  # a ДОУ's deadline reminders list its links that do not open


@dataclass(frozen=True)
class Batch:
    """One message to one recipient and the outbox rows it carries."""

    recipient: str
    row_ids: tuple[int, ...]
    attempts: tuple[int, ...]  # per row, before this try
    message: Outgoing
    reported: tuple[int, ...] = ()  # dead rows a digest names: reported once it is sent


def groups(rows) -> dict[tuple[str, str | None], list]:
    """One message per recipient, and per earlier Message-ID: a failed message is retried whole."""
    found: dict[tuple[str, str | None], list] = defaultdict(list)
    for row in rows:
        found[(row.recipient, row.message_id if row.state == "failed" else None)].append(row)
    return found


class Writer:
    """Builds the messages of one send. Give it the session of the page it writes."""

    def __init__(self, session: Session, campaign: spec.Campaign, now: datetime, sender: str):
        self.campaign, self.now, self.sender = campaign, now, sender
        self.tz = campaign.tz
        self.day = now.astimezone(campaign.tz).strftime("%d.%m.%Y")
        self.folder = campaign.notifications or str(default_folder(campaign.locale))
        self.layout = {"campaign_title": campaign.title, "coordinator_name": campaign.coordinator.name,
                       "coordinator_email": campaign.coordinator.email}
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
        self._rendered: dict[str, dict[str, str]] = {}
        self.base_url = portal_links.base_url(campaign)  # None: no portal, letters say to reply instead
        self._portal: portal_links.Links | None = None
        self.stages = {s.id: s for s in campaign.stages}
        self._shown: dict[datetime, str] = {}  # a deadline is shared by a whole audience: formatted once
        self._offsets: dict[datetime, str] = {}
        self._stage_times: dict[str | None, dict] = {}
        self._bases: dict[tuple, dict[str, Any]] = {}  # `_base`: what the letters of one shape say alike
        self.invitations = True  # False: messages go without their calendar attachment (nobody keeps the bytes)
        self.bodies = True  # False: only the headers are composed (nobody keeps the message; its subject is the record)
        self.shared = True  # False: every message rendered and its invitation built directly (the reference in tests)
        self.stencil_uses = 0  # messages filled in from a stencil
        self._trusted = _bundled(self.folder)  # a campaign's own templates are always rendered directly
        self._common = (self.terms, self.operator)  # the same objects in every item of the send
        self._invitations: dict[tuple, tuple[bytes, bytes, int, bytes]] = {}  # an audience's invitation but its UID
        self._subjects: dict[tuple, str] = {}  # a subject by what it reads of its item: a send nobody keeps
        self._layouts: dict[tuple[str, ...], str] = {}  # a message's subject by its letters' subjects: a send nobody keeps
        self.subject_uses = 0  # messages nobody keeps whose subject was rendered for an earlier one
        self._stencils: dict[tuple, stencil.Stencil | None] = {}  # None: its first message differed from a direct rendering

    # -- messages ---------------------------------------------------------------------

    def batches(self, session: Session, rows, progress: dict) -> list[Batch]:
        self.prepare(session, rows)
        return [self.batch(session, members, progress, existing) for (_, existing), members in groups(rows).items()]

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

    def batch(self, session: Session, rows: list, progress: dict, existing_id: str | None = None) -> Batch:
        letters = _merged(sorted(((self._sort_key(row), self.letter(session, row, progress.get((row.institution_id, row.stage_id))))
                                  for row in rows), key=lambda pair: pair[0]))
        msg_id = existing_id or message_id([r.key for r in rows], self.sender)
        attachments = self.invitation(rows, progress)
        message = None
        if len(letters) == 1:
            message = (self.stenciled(letters[0][1], rows[0].recipient, msg_id, attachments) if self.bodies
                       else self.headers_only(letters[0][1], rows[0].recipient, msg_id))
        if message is None:
            message = self.composed([letter for _, letter in letters], rows[0].recipient, msg_id, attachments)
        reported = tuple(self.digest(session)["dead_ids"]) if any(r.kind == "digest" for r in rows) else ()
        return Batch(rows[0].recipient, tuple(r.id for r in rows), tuple(r.attempts for r in rows), message, reported)

    def composed(self, letters: list[Letter], recipient: str, msg_id: str, attachments: tuple[Attachment, ...]) -> Outgoing:
        """The message rendered directly; one nobody keeps from its letters' subjects, each rendered once for every letter
        whose subject reads the same values (`subject_line`), and the layout's subject once for the same subjects."""
        if not self.bodies and self.shared and self._trusted:
            subjects = tuple(self.subject_line(letter) for letter in letters)
            subject = self._layouts.get(subjects)
            if subject is None:
                subject = self._layouts[subjects] = laid_out(
                    self.folder, self.layout, [{"subject": s, "text": "", "html": ""} for s in subjects], bodies=False)[0]
            return self._assembled(subject, None, None, recipient, msg_id, attachments)
        rendered = [self._render(letter) if self.bodies else self._subject(letter) for letter in letters]
        return compose(folder=self.folder, letters=letters, recipient=recipient, sender=self.sender,
                       sender_name=self.campaign.coordinator.name, reply_to=self.campaign.coordinator.email, when=self.now,
                       msg_id=msg_id, layout=self.layout, rendered=rendered, attachments=attachments, bodies=self.bodies)

    def stenciled(self, letter: Letter, recipient: str, msg_id: str, attachments: tuple[Attachment, ...]) -> Outgoing | None:
        """The message from the stencil of its letter's audience (`dqflow.delivery.stencil`), or None when it
        must be rendered directly. A stencil's first message is checked against a direct rendering."""
        if not (self.shared and self._trusted):
            return None
        found = stencil.shape(letter.item, self._common)
        if found is None:
            return None
        key, values = found
        first = key not in self._stencils
        if first:
            try:
                made = stencil.build(self.folder, self.layout, letter, values)
            except ValueError:  # the campaign's own texts hold what reads as a slot
                self._stencils[key] = None
                return None
        else:
            known = self._stencils[key]
            if known is None:  # a stencil that once differed from the direct rendering
                return None
            made = known
        message = self._assembled(*made.fill(values), recipient, msg_id, attachments)
        if first:
            direct = self.composed([letter], recipient, msg_id, attachments)
            self._stencils[key] = made if direct.data == message.data and direct.subject == message.subject else None
            return direct
        self.stencil_uses += 1
        return message

    def headers_only(self, letter: Letter, recipient: str, msg_id: str) -> Outgoing | None:
        """A one-letter message nobody keeps (its subject is the record): the subject rendered once for
        every letter whose subject reads the same values (`templates.subject_reads`), or None when it
        must be rendered for this letter."""
        assert not self.invitations, "a message nobody keeps goes without its calendar attachment"
        key = self._subject_key(letter)
        if key is None:
            return None
        return self._assembled(self._shared_subject(key, letter), None, None, recipient, msg_id)

    def subject_line(self, letter: Letter) -> str:
        """A letter's subject: rendered once for every letter whose subject reads the same values, else for this one."""
        key = self._subject_key(letter)
        return self._subject(letter)["subject"] if key is None else self._shared_subject(key, letter)

    def _subject_key(self, letter: Letter) -> tuple | None:
        """What the subject of `letter` reads of its item (`templates.subject_reads`) as a key, or None when it must be
        rendered for this letter."""
        reads = subject_reads(self.folder, letter.kind) if self.shared and self._trusted else None
        if reads is None:
            return None
        key: list = [letter.kind]
        for name, whole in reads:
            if name not in letter.item:  # the direct rendering says what is missing
                return None
            value = letter.item[name]
            if not whole and isinstance(value, list):
                key.append(len(value))
            elif whole and (value is None or value.__class__ in (str, bool, int)):
                key += (value.__class__, value)
            elif whole and any(value is shared for shared in self._common):
                key.append(("shared", id(value)))
            else:
                return None
        return tuple(key)

    def _shared_subject(self, key: tuple, letter: Letter) -> str:
        subject = self._subjects.get(key)
        if subject is None:
            subject = self._subjects[key] = self._subject(letter)["subject"]
        else:
            self.subject_uses += 1
        return subject

    def _assembled(self, subject: str, text: str | None, html: str | None, recipient: str, msg_id: str,
                   attachments: tuple[Attachment, ...] = ()) -> Outgoing:
        """A message of this send from its laid-out subject and bodies (None: the headers alone)."""
        return assemble(subject=subject, text=text, html=html, recipient=recipient, sender=self.sender,
                        sender_name=self.campaign.coordinator.name, reply_to=self.campaign.coordinator.email, when=self.now,
                        msg_id=msg_id, attachments=attachments, bodies=text is not None)

    def invitation(self, rows: list, progress: dict) -> tuple[Attachment, ...]:
        """A message announcing a stage (it opened) or a webinar carries the matching calendar event: the
        recipient's own window and deadline, with the UID `dqflow calendar` gives it, so importing both
        keeps one event. An invitation of one event is built once per audience (`_one_invitation`)."""
        if not self.invitations:
            return ()
        found: list[tuple[tuple[Any, ...], str, Callable[[], Any]]] = []  # (audience, UID, the entry when built)
        for row in rows:
            stage = self.stages.get(row.stage_id) if row.stage_id else None
            if stage is None or row.kind not in ("opened", "event"):
                continue
            if row.kind == "event":
                found.append((("event", stage.id), ics.event_uid(self.campaign, stage), partial(ics.event_entry, self.campaign, stage)))
                continue
            mine = progress.get((row.institution_id, row.stage_id))
            due = mine.due_at if mine else stage.due_at  # an extension moves the deadline; the opening stays the stage's
            who = (ics.Who("institution", row.institution_id) if row.role == "institution" else
                   ics.Who("expert", f"{self.expert_ids.get(row.recipient.lower())}/{row.institution_id}") if row.role == "expert"
                   else ics.Who("coordinator"))
            title = stage.label if row.role != "expert" else f"Экспертиза: {self.names.get(row.institution_id)} — {stage.label}"
            extensions = int(bool(mine and mine.extended))
            found.append((("task", stage.id, due, title, extensions), ics.task_uid(self.campaign, stage, who),
                          partial(ics.task_entry, self.campaign, stage, who, stage.opens_at, due, title, extensions)))
        if not found:
            return ()
        if len(found) == 1 and self.shared:
            return (self._one_invitation(*found[0]),)
        data = ics.calendar(self.campaign, [entry() for _, _, entry in found], self.now, self.campaign.title)
        return (Attachment("invitation.ics", INVITATION_TYPE, data),)

    def _one_invitation(self, key: tuple, uid: str, entry) -> Attachment:
        """The calendar of one entry from its parts shared by the audience (all but the UID line), and its
        base64 from the shared encoding of the part before the UID (whole 57-byte lines, as base64's
        76-character lines take them)."""
        if key not in self._invitations:
            before, after = ics.around_uid(self.campaign, entry(), self.now, self.campaign.title)
            cut = len(before) - len(before) % 57
            self._invitations[key] = (before, after, cut, base64.encodebytes(before[:cut]))
        before, after, cut, encoded = self._invitations[key]
        data = before + ics.uid_line(uid) + after
        return Attachment("invitation.ics", INVITATION_TYPE, data, encoded + base64.encodebytes(data[cut:]))

    def _render(self, letter: Letter) -> dict[str, str]:
        """An invitation is the same for everyone in its audience: rendered once. Other letters name their ДОУ."""
        if letter.kind != "event":
            return render_item(self.folder, letter.kind, letter.item)
        key = json.dumps(letter.item, sort_keys=True, ensure_ascii=False, default=str)
        if key not in self._rendered:
            self._rendered[key] = render_item(self.folder, letter.kind, letter.item)
        return self._rendered[key]

    def _subject(self, letter: Letter) -> dict[str, str]:
        """A letter's subject alone, for a message composed without bodies."""
        subject = render_block(self.folder, f"{letter.kind}.txt", "subject", {"item": letter.item})
        return {"subject": subject, "text": "", "html": ""}

    def _sort_key(self, row) -> tuple:
        stage = self.stages.get(row.stage_id) if row.stage_id else None
        moment = row.deadline or (stage.opens_at if stage else row.send_at)
        return (moment, row.stage_id or "", row.institution_id or "")

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


def _merged(letters: list[tuple]) -> list[tuple]:
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


def digest_content(session: Session, campaign: spec.Campaign, names: dict[str, str], now: datetime) -> dict:
    """Who is late now, who missed since the last digest, whose reviews are not due for want of materials (apart from
    the missed, not news by itself), which mail went dead: for the coordinator."""
    tz = campaign.tz
    # the digests' rows are about no ДОУ and no stage (`reminders.plan_digest`): read from that range of ix_outbox_progress, the
    # state compared as `state || ''` so that SQLite does not walk every sent row of the campaign by ix_outbox_due instead
    last = session.exec(select(OutboxRow.sent_at).where(
        OutboxRow.campaign_id == campaign.id, col(OutboxRow.institution_id).is_(None), col(OutboxRow.stage_id).is_(None),
        OutboxRow.kind == "digest", col(OutboxRow.state).concat("") == "sent").order_by(col(OutboxRow.sent_at).desc())).first()
    since = last or datetime.min.replace(tzinfo=UTC)  # UTC: a later zone's minimum would underflow
    title = {s.id: s.label for s in campaign.stages}  # a table: the short names
    found = late.who(session, campaign, now, missed_since=since)  # who is late: one rule (`engine.late`)
    overdue = [r for r in found if not r.missed]
    missed = sorted((r for r in found if r.missed), key=lambda r: r.locks_at)
    # the reviews of nothing (`Status.NOTHING`): not missed, not chased; said apart, once, when they became known
    nothing = late.without_materials(session, campaign, now, known_since=since)
    dead = session.exec(select(OutboxRow).where(OutboxRow.campaign_id == campaign.id, OutboxRow.state == "dead",
                                                col(OutboxRow.reported).is_(False)).order_by(col(OutboxRow.id))).all()
    return {
        "overdue": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                     "deadline": show(p.due_at, tz), "lock": show(p.locks_at, tz),
                     "experts": list(p.expert_names)} for p in overdue],
        "missed": [{"institution_name": names.get(p.institution_id, p.institution_id), "stage_title": title[p.stage_id],
                    "lock": show(p.locks_at, tz), "experts": list(p.expert_names)} for p in missed],
        "no_materials": [{"institution_name": names.get(inst, inst), "stage_title": title[stage_id]} for inst, stage_id in nothing],
        "dead": [{"recipient": d.recipient, "error": d.reason or ""} for d in dict((d.recipient, d) for d in dead).values()],
        "dead_ids": [d.id for d in dead],
    }


def has_news(content: dict) -> bool:
    return bool(content["overdue"] or content["missed"] or content["dead"])


def _event_at(stage: spec.Stage | None, tz) -> str:
    if stage is None:
        return ""
    return show_date(stage.opens_at, tz) if stage.all_day else show(stage.opens_at, tz)
