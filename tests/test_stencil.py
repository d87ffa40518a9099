"""Stencils and shared invitations give the very bytes a direct rendering gives.

A send renders a one-letter message once per audience and pastes each recipient's name, id and
personal link in (`dqflow.delivery.stencil`), builds an invitation of one event once but its UID, and hands
DATA its content CRLF'd by hand. Each is compared here with the direct way, byte for byte: a whole
send of a roster with awkward names, and arbitrary names, ids and links (hypothesis) in the letters
the real Writer builds for every kind and role.
"""

from __future__ import annotations

import asyncio
import copy
import base64
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlmodel import select, update

from dqflow import engine, store
from dqflow.delivery import due
from dqflow.delivery import mail
from dqflow.delivery import outbox
from dqflow.campaign import spec
from dqflow.delivery import stencil
from dqflow.calendar import parse_local
from dqflow.delivery.writer import Writer, groups
from dqflow.delivery.mail import Letter, _dot_stuffed
from dqflow.delivery.outbox import sort_out
from dqflow.store import OutboxRow
from tests.conftest import TOMSK

TZ = ZoneInfo("Asia/Tomsk")
BASE = "https://portal.example.org/mkdo"
NAMES = [
    'МАДОУ "Детский сад № 1 «Солнышко»" & <b>филиал</b>',
    "МБДОУ № 2 " + "очень длинное название учреждения, " * 18,  # past SMTP's 998 bytes a line: quoted-printable
    "ДОУ № 3 =?utf-8?q?=D0=94?= 'кавычки'",
    "МАДОУ № 4",
    "МАДОУ № 4",  # two ДОУ of one name
    "Перейдите по персональной ссылке: ДОУ № 6",  # reads like the layout's lead
    "ДОУ № 7 " + "Ж" * 60,  # a long header-foldable name
    "ДОУ\u00a0№\u00a08",
]


def roster_campaign(folder: Path, names: list[str], portal: bool, grace: bool = False) -> spec.Campaign:
    text = TOMSK.read_text(encoding="utf-8")
    if grace:  # grace periods, so that overdue reminders exist too
        for dates in ("    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-12-01\n    due: 2021-12-05\n"):
            text = text.replace(dates, dates + "    grace: 2d\n")
    data = yaml.safe_load(text)
    data["institutions"] = {"file": "roster.csv"}
    if portal:
        data["campaign"]["portal"] = {"base_url": BASE}
    rows = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    for i, name in enumerate(names, 1):
        email = "shared@example.org" if i in (3, 4) else f"dou{i}@example.org"  # one head runs two ДОУ: a merged message
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"{i},{quoted},{email},,e{i},Эксперт ДОУ № {i},expert{i}@example.org")
    (folder / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(path)


def messages(db, campaign: spec.Campaign, now: datetime, shared: bool, bodies: bool = True) -> tuple[list[tuple[str, bytes, str]], Writer]:
    """Every message a send at `now` would carry, in order, built with or without the shared parts
    (without `bodies`: as for a transport that keeps no message, the headers alone)."""
    found = []
    with store.dry_run(db) as session:
        writer = Writer(session, campaign, now, campaign.coordinator.email)
        writer.shared = shared
        writer.bodies = writer.invitations = bodies
        for rows in due.pages(session, campaign, now):
            kept, progress = sort_out(session, campaign, rows, writer, now)
            for (_, existing), members in groups(kept).items():
                message = writer.batch(session, members, progress, existing).message
                found.append((message.subject, message.as_bytes(), message.as_bytes(seven_bit=True).decode("ascii")))
    return found, writer


MOMENTS = ("2021-11-19 15:00", "2021-11-29 12:00", "2021-11-30 12:00", "2021-12-01 12:00", "2021-12-03 12:00",
           "2021-12-06 12:00", "2021-12-21 12:00")


@pytest.fixture(scope="module", params=[True, False], ids=["portal", "no-portal"])
def sends(request, tmp_path_factory):
    """The campaign's sends from the first opening to the final stage, each built both ways and then
    sent (to a maildir), so that each moment's messages are that moment's news."""
    folder = tmp_path_factory.mktemp("stencil")
    campaign = roster_campaign(folder, NAMES, portal=request.param)
    db = store.connect(str(folder / "s.db"))
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local("2021-11-10", TZ))
    found = {}
    for moment in MOMENTS:
        now = parse_local(moment, TZ)
        with store.transaction(db) as session:
            engine.reconcile(session, campaign.id, now)
            if moment == MOMENTS[1]:  # one ДОУ due earlier the same day: its letters differ from the others' by the deadline alone
                engine.extend(session, campaign.id, "2", "fill-form", parse_local("2021-11-30 18:00", TZ), "ремонт", now)
        found[moment] = (*messages(db, campaign, now, shared=False), *messages(db, campaign, now, shared=True),
                         *messages(db, campaign, now, shared=False, bodies=False), *messages(db, campaign, now, shared=True, bodies=False))
        report = asyncio.run(outbox.drain(db, campaign, now, mail.MaildirTransport(folder / "mail"), wall=lambda: now))
        assert report.count("sent") == len(found[moment][0])
    return db, campaign, found


def test_a_send_with_stencils_gives_the_bytes_of_a_direct_rendering(sends):
    """Openings, reminders, overdue and missed notices, webinars and the experts' letters of a roster with
    quotes, ampersands, markup, names past SMTP's line limit, RFC 2047 look-alikes, a shared address and
    twin names: the same subjects and bytes (8bit and 7bit) as each message rendered directly."""
    _, _, found = sends
    uses = 0
    for moment, (direct, _, stenciled, writer, *_) in found.items():
        assert stenciled == direct, moment
        assert None not in writer._stencils.values(), "the writer's own check dropped a stencil"
        uses += writer.stencil_uses
    kinds = {dict(zip(key[::2], key[1::2]))["kind"] for _, _, _, writer, *_ in found.values() for key in writer._stencils}
    assert {"opened", "before_due", "due_today", "missed", "event"} <= kinds
    assert uses > 20, "the stencils must actually be used, or this compares the direct way with itself"
    assert any(b"quoted-printable" in data for direct, *_ in found.values() for _, data, _ in direct)


def test_a_send_whose_messages_nobody_keeps_gives_the_subjects_of_a_direct_rendering(sends):
    """The replay without a maildir records each message's subject, rendered once for every letter whose
    subject reads the same values: the very subjects (and headers) of messages rendered directly, bodies
    and all, for every kind (handouts and the operator's notices read list lengths, a digest reads a list)."""
    _, _, found = sends
    uses = 0
    for moment, (direct, _, _, _, counted_direct, _, counted, writer) in found.items():
        assert counted == counted_direct, moment
        assert [subject for subject, *_ in counted] == [subject for subject, *_ in direct], moment
        uses += writer.subject_uses
    assert uses > 20, "the shared subjects must actually be used"
    assert any("30.11.2021 18:00" in subject for *_, counted, _ in found.values() for subject, *_ in counted), \
        "the ДОУ due earlier the same day is reminded by a subject of its own"
    kinds = {key[0] for *_, writer in found.values() for key in writer._subjects}
    assert {"opened", "before_due", "due_today", "missed", "event", "handout"} <= kinds


# -- arbitrary values in every letter the Writer builds ----------------------------------------


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    """A Writer and one real item per (kind, role) that can take a stencil, with a portal's links."""
    folder = tmp_path_factory.mktemp("letters")
    campaign = roster_campaign(folder, [f"МАДОУ № {i}" for i in range(1, 9)], portal=True, grace=True)
    db = store.connect(str(folder / "l.db"))
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local("2021-11-10", TZ))
        for moment in ("2021-11-19 15:00", "2021-11-29 12:00", "2021-12-01 12:00", "2021-12-06 12:00", "2021-12-21 12:00"):
            engine.reconcile(session, campaign.id, parse_local(moment, TZ))
    now = parse_local("2021-12-21 12:00", TZ)
    with store.dry_run(db) as session:
        writer = Writer(session, campaign, now, campaign.coordinator.email)
        found = {}
        for row in session.exec(select(OutboxRow).order_by(OutboxRow.id)).all():
            item = writer.letters.letter(session, row, None).item
            if stencil.shape(item, writer._common) is not None:
                found.setdefault((row.kind, row.role), item)
    assert {kind for kind, _ in found} >= {"opened", "before_due", "due_today", "overdue", "missed", "event"}
    assert any(item["link"] for item in found.values()) and any(item["institution_name"] for item in found.values())
    return writer, found


VALUE = st.text(st.sampled_from(list("аяЖёЁ№ «»\"'&<>;:/.-_=?%#0129azAZ\u00a0\t")) | st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=700)  # a roster is UTF-8: no lone surrogates
LINK = st.builds(lambda tail: f"{BASE}/dou/{tail}", st.text(st.sampled_from(list("abcXYZ019-_./~%+=жЖ:@")), max_size=300))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_filled_stencil_is_the_direct_rendering_for_any_values(letters, data):
    writer, found = letters
    kind, role = data.draw(st.sampled_from(sorted(found)))
    first = found[(kind, role)]
    name = data.draw(VALUE)
    changes = {"institution_name": name if first["institution_name"] else first["institution_name"],
               "institution_id": data.draw(st.sampled_from([name, "17"]) | VALUE) if first["institution_id"] else first["institution_id"],
               "link": data.draw(LINK | st.just(name)) if first["link"] else first["link"]}
    other = {**first, **changes}
    shape = stencil.shape(other, writer._common)
    assume(shape is not None)  # a value with a line break, edge spaces or (in a link) HTML's characters is rendered directly
    key, values = shape
    # the audience's first letter: other values, equal where these are equal (equal values share a slot)
    seed = {name: f"МАДОУ № {90 + values.index(value)}" if name in stencil.SLOTS and value else value for name, value in other.items()}
    assert stencil.shape(seed, writer._common)[0] == key
    msg_id = "<0123456789abcdef@imc.example.org>"
    writer.stenciled(Letter(kind, seed), "dou1@example.org", msg_id, ())  # builds the stencil, checked against `seed`
    uses = writer.stencil_uses
    filled = writer.stenciled(Letter(kind, other), "dou2@example.org", msg_id, ())
    assert filled is not None and writer.stencil_uses == uses + 1
    direct = writer.composed([Letter(kind, other)], "dou2@example.org", msg_id, ())
    assert (filled.subject, filled.as_bytes(), filled.as_bytes(seven_bit=True)) == \
           (direct.subject, direct.as_bytes(), direct.as_bytes(seven_bit=True))


def test_a_value_the_layout_could_read_differently_is_rendered_directly(letters):
    writer, found = letters
    item = next(item for item in found.values() if item["link"])
    for link in (f"{BASE}/a&b", f"{BASE}/x\ny", f" {BASE}/x", f"{BASE}/\ue000"):
        assert stencil.shape({**item, "link": link}, writer._common) is None
    assert stencil.shape({**item, "institution_name": 'МАДОУ "А" & <Б>'}, writer._common) is not None
    assert stencil.shape({**item, "reviewed": [{"institution_name": "x", "links": []}]}, writer._common) is None


def test_an_invitation_built_once_per_audience_is_the_direct_one(sends):
    """The calendar of one event from its shared parts, and its base64 from the shared prefix's: the
    same attachments as each built directly (the sends above compare the whole messages too)."""
    db, campaign, _ = sends
    now = parse_local("2021-12-21 12:00", TZ)
    with store.dry_run(db) as session:
        session.exec(update(OutboxRow).values(state="pending"))  # every letter of the campaign due again, unmerged
        shared, direct = Writer(session, campaign, now, campaign.coordinator.email), Writer(session, campaign, now, campaign.coordinator.email)
        direct.shared = False
        checked = 0
        for row in session.exec(select(OutboxRow).where(OutboxRow.kind.in_(("opened", "event")))).all():
            progress = {}
            ours, reference = shared.invitation([row], progress), direct.invitation([row], progress)
            assert [a.data for a in ours] == [a.data for a in reference]
            assert all(a.encoded == base64.encodebytes(a.data) for a in ours)
            checked += len(ours)
    assert checked > 20 and len(shared._invitations) > 3


# -- DATA ---------------------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.binary().filter(lambda b: b"\r" not in b) | st.lists(st.sampled_from([b"\n", b".", b"a", b"..", b"\n.", b"\xd0\x96"])).map(b"".join))
def test_data_is_stuffed_as_aiosmtplib_stuffs_it(content):
    assert _dot_stuffed(content) == PERIOD_REGEX.sub(b"..", normalize_message_line_endings(content)) + b".\r\n"


@pytest.mark.parametrize("title", ["Мониторинг \ue0007\ue001", "Мониторинг \ue0000\ue001"])
def test_a_campaign_text_that_reads_as_a_slot_is_rendered_directly(letters, title):
    """A marker in the campaign's own texts (a stage's title, the layout's campaign title) never becomes a slot."""
    writer, found = letters
    kind, item = "opened", found[("opened", "institution")]
    assert stencil.shape({**item, "stage_title": title}, writer._common) is None
    other = copy.copy(writer)
    other.layout, other._stencils = {**writer.layout, "campaign_title": title}, {}
    msg_id = "<0123456789abcdef@imc.example.org>"
    for recipient, name in (("dou1@example.org", "МАДОУ № 1"), ("dou2@example.org", "МАДОУ № 2")):
        letter = Letter(kind, {**item, "institution_name": name})
        assert other.stenciled(letter, recipient, msg_id, ()) in (None, other.composed([letter], recipient, msg_id, ()))
    assert list(other._stencils.values()) == [None]
