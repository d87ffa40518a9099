"""The messages of one send: one message per recipient from the letters of its due outbox rows.

A `Writer` serves one send; what each letter says is its `Letters`' (`delivery.letters`), read once for the send.
Identical letters (an invitation to every ДОУ) are rendered once; letters differing only in the ДОУ's name, id and
personal link once per audience (`dqflow.delivery.stencil`), and a one-event invitation once but its UID.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Callable

from sqlmodel import Session

from dqflow.campaign import spec
from dqflow.delivery import stencil
from dqflow.delivery.letters import Letters, merged
from dqflow.delivery.mail import Attachment, Letter, Outgoing, assemble, compose, laid_out, message_id
from dqflow.intake.templates import _bundled, default_folder, render_block, render_item, subject_reads
from dqflow.present import ics

INVITATION_TYPE = 'text/calendar; charset="utf-8"; method=PUBLISH'


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
        self.letters = Letters(session, campaign, now)  # what each letter says, read once for the send
        self.campaign, self.now, self.sender = campaign, now, sender
        self.folder = campaign.notifications or str(default_folder(campaign.locale))
        self.layout = {"campaign_title": campaign.title, "coordinator_name": campaign.coordinator.name,
                       "coordinator_email": campaign.coordinator.email}
        self._rendered: dict[str, dict[str, str]] = {}
        self.invitations = True  # False: messages go without their calendar attachment (nobody keeps the bytes)
        self.bodies = True  # False: only the headers are composed (nobody keeps the message; its subject is the record)
        self.shared = True  # False: every message rendered and its invitation built directly (the reference in tests)
        self.stencil_uses = 0  # messages filled in from a stencil
        self._trusted = _bundled(self.folder)  # a campaign's own templates are always rendered directly
        self._common = (self.letters.terms, self.letters.operator)  # the same objects in every item of the send
        self._invitations: dict[tuple, tuple[bytes, bytes, int, bytes]] = {}  # an audience's invitation but its UID
        self._subjects: dict[tuple, str] = {}  # a subject by what it reads of its item: a send nobody keeps
        self._layouts: dict[tuple[str, ...], str] = {}  # a message's subject by its letters' subjects: a send nobody keeps
        self.subject_uses = 0  # messages nobody keeps whose subject was rendered for an earlier one
        self._stencils: dict[tuple, stencil.Stencil | None] = {}  # None: its first message differed from a direct rendering

    def batches(self, session: Session, rows, progress: dict) -> list[Batch]:
        self.prepare(session, rows)
        return [self.batch(session, members, progress, existing) for (_, existing), members in groups(rows).items()]

    def prepare(self, session: Session, rows) -> None:
        """Read what a page's letters show of each ДОУ at once (`Letters.prepare`): not a query per letter."""
        self.letters.prepare(session, rows)

    def batch(self, session: Session, rows: list, progress: dict, existing_id: str | None = None) -> Batch:
        letters = merged(sorted(((self._sort_key(row), self.letters.letter(session, row, progress.get((row.institution_id, row.stage_id))))
                                  for row in rows), key=lambda pair: pair[0]))
        msg_id = existing_id or message_id([r.key for r in rows], self.sender)
        attachments = self.invitation(rows, progress)
        message = None
        if len(letters) == 1:
            message = (self.stenciled(letters[0][1], rows[0].recipient, msg_id, attachments) if self.bodies
                       else self.headers_only(letters[0][1], rows[0].recipient, msg_id))
        if message is None:
            message = self.composed([letter for _, letter in letters], rows[0].recipient, msg_id, attachments)
        reported = tuple(self.letters.digest(session)["dead_ids"]) if any(r.kind == "digest" for r in rows) else ()
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
            stage = self.letters.stages.get(row.stage_id) if row.stage_id else None
            if stage is None or row.kind not in ("opened", "event"):
                continue
            if row.kind == "event":
                found.append((("event", stage.id), ics.event_uid(self.campaign, stage), partial(ics.event_entry, self.campaign, stage)))
                continue
            mine = progress.get((row.institution_id, row.stage_id))
            due = mine.due_at if mine else stage.due_at  # an extension moves the deadline; the opening stays the stage's
            who = (ics.Who("institution", row.institution_id) if row.role == "institution" else
                   ics.Who("expert", f"{self.letters.expert_ids.get(row.recipient.lower())}/{row.institution_id}") if row.role == "expert"
                   else ics.Who("coordinator"))
            title = stage.label if row.role != "expert" else f"Экспертиза: {self.letters.names.get(row.institution_id)} — {stage.label}"
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
        stage = self.letters.stages.get(row.stage_id) if row.stage_id else None
        moment = row.deadline or (stage.opens_at if stage else row.send_at)
        return (moment, row.stage_id or "", row.institution_id or "")
