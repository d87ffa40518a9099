"""Message composition and SMTP delivery against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtplib.email import quote_address
from hypothesis import given, settings
from hypothesis import strategies as st

from dqflow.delivery.mail import _PLAIN_ADDRESS, HeaderInjection, Letter, SmtpSettings, SmtpTransport, _quoted, compose, message_id
from dqflow.intake.templates import SAMPLE_ITEM, default_folder, render_block
from tests.conftest import TOMSK, Cli
from tests.smtp_server import SmtpServer, free_port, smtp_server  # noqa: F401  (fixture)

TZ = ZoneInfo("Asia/Tomsk")
FOLDER = str(default_folder("ru"))
LAYOUT = {"campaign_title": "Мониторинг качества дошкольного образования, г. Томск, 2021", "coordinator_name": "КДО МАУ ИМЦ",
          "coordinator_email": "kdo@imc.example.org", "zone": "Asia/Tomsk"}
DOU = [f"dou{n}@example.org" for n in (2, 4, 5, 6, 15, 35, 40, 62, 73, 86, 94)]
FILL_FORM_TITLE = "Заполнение утвержденной формы мониторинга"
OPENS = "2021-11-19 09:00"  # fill-form opened at midnight: the 'opens' reminder goes at the window's start


def letter(kind="opened", **changes) -> Letter:
    return Letter(kind, {**SAMPLE_ITEM, "kind": kind, **changes})


def make(letters=None, recipient="dou2@example.org", msg_id="<abc@imc.example.org>", **kw):
    return compose(folder=FOLDER, letters=letters or [letter()], recipient=recipient, sender="monitoring@imc.example.org",
                   reply_to="kdo@imc.example.org", when=datetime(2021, 11, 19, 9, 0, tzinfo=TZ), msg_id=msg_id,
                   layout=LAYOUT, **kw)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def outbox(dq: Cli, state: str | None = None) -> list[dict]:
    args = ["outbox", "--json"] + (["--state", state] if state else [])
    return json.loads(dq.ok(*args))


def rows_for(dq: Cli, recipient: str, stage="fill-form", rule="opens") -> list[dict]:
    return [r for r in outbox(dq) if r["recipient"] == recipient and r["stage"] == stage and r["rule"] == rule]


@pytest.fixture
def mailer(db_url, smtp_server):  # noqa: F811
    """The Tomsk campaign loaded, and a CLI whose SMTP settings point at the test server."""
    dq = Cli(db_url, env=smtp_server.env())
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    return dq


# -- composition -------------------------------------------------------------------


def test_message_is_utf8_mime_with_encoded_cyrillic_subject():
    message = make([letter(stage_title="Заполнение формы мониторинга", institution_name="МАДОУ № 2")], sender_name="КДО МАУ ИМЦ")
    raw = message.as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    headers.decode("ascii")  # every header is 7-bit on the wire: Cyrillic goes RFC 2047-encoded
    assert b"=?utf-8?" in headers.lower()
    parsed = parse(raw)
    assert parsed["Subject"] == "Открыт этап «Заполнение формы»: срок до 30.11.2021 23:59"
    assert parsed["To"] == "dou2@example.org"
    assert parsed["From"].addresses[0].display_name == "КДО МАУ ИМЦ"  # the coordinator's name, RFC 2047-encoded
    assert parsed["From"].addresses[0].addr_spec == "monitoring@imc.example.org"
    assert message.sender == "monitoring@imc.example.org"  # the envelope carries the address alone
    assert parsed["Reply-To"] == "kdo@imc.example.org"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "МАДОУ № 2" in text.get_content() and "Уважаемые коллеги!" in text.get_content()
    assert "<b>МАДОУ № 2</b>" in html.get_content() and "<html" in html.get_content()
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_several_letters_make_one_message_with_combined_subject():
    message = make([letter("opened"), letter("before_due", stage_title="Вторичная экспертиза", stage_short="Вторичная")])
    parsed = parse(message.as_bytes())
    # the subject says what each item is, not "(и ещё 1)"
    assert parsed["Subject"] == ("Открыт этап «Заполнение формы»: срок до 30.11.2021 23:59; "
                                 "Напоминание: «Вторичная» — срок до 30.11.2021 23:59")
    body = parsed.get_body(("plain",)).get_content()
    assert "Заполнение формы мониторинга" in body and "Вторичная экспертиза" in body
    assert "Сообщений в письме: 2." in body


@pytest.mark.parametrize("kinds", [("opened",), ("opened", "before_due", "overdue")])
def test_a_message_without_bodies_has_the_headers_of_the_full_one(kinds):
    """A replay without a maildir composes headers only: the subject it records must be the real one."""
    letters = [letter(kind, stage_short=f"Этап {n}") for n, kind in enumerate(kinds)]
    subjects = [{"subject": render_block(FOLDER, f"{one.kind}.txt", "subject", {"item": one.item}), "text": "", "html": ""}
                for one in letters]
    full, bare = make(letters), make(letters, rendered=subjects, bodies=False)
    assert bare.subject == full.subject and bare.head == full.head and bare.message_id == full.message_id
    assert bare.parts == () and len(bare.as_bytes()) < len(full.as_bytes()) // 2


def test_message_id_is_deterministic():
    keys = ["tomsk-2021|dou2@example.org|fill-form|opens|x", "tomsk-2021|dou2@example.org|fill-form|due|x"]
    first = message_id(keys, "monitoring@imc.example.org")
    assert first == message_id(list(reversed(keys)), "monitoring@imc.example.org")
    assert first.startswith("<") and first.endswith("@imc.example.org>")
    assert first != message_id(keys[:1], "monitoring@imc.example.org")
    a, b = make(msg_id=first), make(msg_id=first)
    assert a["Message-ID"] == first
    assert a.as_bytes() == b.as_bytes()  # same input, same bytes (boundary included)


@pytest.mark.parametrize("field", ["recipient", "subject"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r"])
def test_header_with_line_break_is_refused(field, breaker):
    evil = f"x{breaker}Bcc: victim@evil.example"
    kwargs = {"recipient": f"dou2@example.org{evil}"} if field == "recipient" else {"letters": [letter(stage_short=evil)]}
    with pytest.raises(HeaderInjection):
        make(**kwargs)


# -- the transport -------------------------------------------------------------------


def settings_for(server: SmtpServer, **kw) -> SmtpSettings:
    base = SmtpSettings.from_env(server.env())
    return SmtpSettings(**{**base.__dict__, **kw})


def test_smtp_transport_delivers_and_reuses_one_connection(smtp_server):  # noqa: F811
    messages = [make(recipient=f"dou{n}@example.org", msg_id=f"<m{n}@imc.example.org>") for n in range(5)]
    transport = SmtpTransport(settings_for(smtp_server, pool=1))

    async def go():
        try:
            return await transport.send(messages)
        finally:
            await transport.close()

    outcomes = asyncio.run(go())
    assert [o.state for o in outcomes] == ["sent"] * 5
    assert transport.connections_opened == 1
    assert len(smtp_server.messages) == 5
    assert len({m.peer for m in smtp_server.messages}) == 1  # all five over one connection
    assert smtp_server.ehlos == 1
    assert [m.message["Message-ID"] for m in smtp_server.messages] == [f"<m{n}@imc.example.org>" for n in range(5)]
    assert smtp_server.messages[0].mail_from == "monitoring@imc.example.org"


def test_a_server_that_stalls_mid_message_is_given_up_after_the_timeout(smtp_server):  # noqa: F811
    """The greeting came, then the server says nothing at DATA: the message is retried later,
    the silent connection dropped, and the next message goes over a new one."""
    transport = SmtpTransport(settings_for(smtp_server, pool=1, timeout=0.5))

    async def go():
        try:
            smtp_server.delay = 5
            started = time.monotonic()
            stalled = await transport.deliver(make(recipient="dou1@example.org", msg_id="<s1@imc.example.org>"))
            waited = time.monotonic() - started
            smtp_server.delay = 0
            return stalled, waited, await transport.deliver(make(recipient="dou2@example.org", msg_id="<s2@imc.example.org>"))
        finally:
            await transport.close()

    stalled, waited, after = asyncio.run(go())
    assert (stalled.state, stalled.connection) == ("retry", True) and "within 0.5 s" in stalled.detail
    assert waited < 3
    assert after.state == "sent" and transport.connections_opened == 2


def test_send_delivers_each_due_reminder_over_few_connections(mailer, smtp_server):  # noqa: F811
    out = mailer.ok("send", "--now", OPENS)
    assert "Отправлено писем: 11" in out
    assert smtp_server.recipients() == sorted(DOU)
    assert len(smtp_server.sessions) <= 2 < len(smtp_server.messages)  # the pool reuses its connections
    first = smtp_server.to("dou2@example.org")[0].message
    # the kick-off webinar's invitation (planned for 18.11) is still true before 14:00: it goes along
    assert first["Subject"] == ("Приглашение: Установочный вебинар — 19.11.2021 в 14:00; "
                                "Открыт этап «Первичное заполнение формы»: срок до 30.11.2021 23:59")
    text = first.get_body(("plain",)).get_content()
    assert f"Кому: МАДОУ № 2, ответственному за мониторинг\r\n\r\nОткрыт этап «{FILL_FORM_TITLE}»" in text
    row = rows_for(mailer, "dou2@example.org")[0]
    assert row["state"] == "sent" and row["message_id"] == first["Message-ID"]
    assert row["sent_at"].startswith("2021-11-19T09:00")


def test_second_send_at_same_moment_sends_nothing(mailer, smtp_server):  # noqa: F811
    mailer.ok("send", "--now", OPENS)
    assert len(smtp_server.messages) == 11
    out = mailer.ok("send", "--now", OPENS)
    assert "Отправлено писем: 0" in out
    out = mailer.ok("send", "--now", "2021-11-19 09:30")
    assert "Отправлено писем: 0" in out
    assert len(smtp_server.messages) == 11


@pytest.mark.parametrize("code", [421, 451])
def test_temporary_failure_is_retried_later_under_same_message_id(mailer, smtp_server, code):  # noqa: F811
    smtp_server.fail_next(code, 2)  # two in a row: not yet a failing server
    out = mailer.ok("send", "--now", OPENS)
    assert "ждут повтора: 2" in out and "Отправлено писем: 9" in out
    failed = outbox(mailer, "failed")
    assert len({r["recipient"] for r in failed}) == 2  # two messages, each with the invitation and the notice
    for row in failed:
        assert row["retry_at"] is not None and row["retry_at"] > row["send_at"]
        assert row["attempts"] == 1 and str(code) in row["reason"]
    missing = {r["recipient"] for r in failed}
    assert missing.isdisjoint(smtp_server.recipients())
    # too early: nothing is retried before retry_at
    assert "Отправлено писем: 0" in mailer.ok("send", "--now", "2021-11-19 09:00:30")
    out = mailer.ok("send", "--now", "2021-11-19 09:10")
    assert "Отправлено писем: 2" in out
    assert smtp_server.recipients() == sorted(DOU)  # each exactly once
    for row in failed:
        got = smtp_server.to(row["recipient"])
        assert len(got) == 1 and got[0].message["Message-ID"] == row["message_id"]
    assert outbox(mailer, "failed") == []


def test_permanent_rejection_is_dead_and_reported_in_coordinator_digest(mailer, smtp_server):  # noqa: F811
    smtp_server.fail_next(550, 1)
    out = mailer.ok("send", "--now", OPENS)
    assert "не доставлено: 1" in out and "Отправлено писем: 10" in out
    dead = outbox(mailer, "dead")
    assert len({r["recipient"] for r in dead}) == 1 and all("550" in r["reason"] for r in dead)
    victim = dead[0]["recipient"]
    # not retried
    mailer.ok("send", "--now", "2021-11-19 12:00")
    assert smtp_server.to(victim) == []
    digests = smtp_server.to("kdo@imc.example.org")
    assert len(digests) == 1
    body = digests[0].message.get_body(("plain",)).get_content()
    assert victim in body and "550" in body
    assert "не доставлено писем 1" in digests[0].message["Subject"]
    # reported once: a later send does not repeat the digest
    mailer.ok("send", "--now", "2021-11-22 09:00")
    assert len(smtp_server.to("kdo@imc.example.org")) == 1


def test_refused_recipient_is_dead(mailer, smtp_server):  # noqa: F811
    smtp_server.refuse("dou4@example.org", 550)
    out = mailer.ok("send", "--now", OPENS)
    assert "не доставлено: 1" in out and "Отправлено писем: 10" in out
    row = rows_for(mailer, "dou4@example.org")[0]
    assert row["state"] == "dead" and "550" in row["reason"]
    assert smtp_server.to("dou4@example.org") == []
    mailer.ok("send", "--now", "2021-11-19 12:00")
    assert smtp_server.to("dou4@example.org") == []
    assert rows_for(mailer, "dou4@example.org")[0]["state"] == "dead"


def test_temporarily_refused_recipient_is_retried(mailer, smtp_server):  # noqa: F811
    smtp_server.refuse("dou4@example.org", 450)
    mailer.ok("send", "--now", OPENS)
    assert rows_for(mailer, "dou4@example.org")[0]["state"] == "failed"
    smtp_server.handler._refused.clear()
    mailer.ok("send", "--now", "2021-11-19 09:10")
    assert len(smtp_server.to("dou4@example.org")) == 1
    assert rows_for(mailer, "dou4@example.org")[0]["state"] == "sent"


def test_disconnect_mid_session_loses_nothing(mailer, smtp_server):  # noqa: F811
    smtp_server.drop_next(2)
    out = mailer.ok("send", "--now", OPENS)
    assert smtp_server.dropped == 2
    assert "ждут повтора: 2" in out and "Отправлено писем: 9" in out
    mailer.ok("send", "--now", "2021-11-19 09:10")
    assert smtp_server.recipients() == sorted(DOU)
    assert all(r["state"] == "sent" for r in outbox(mailer) if r["stage"] == "fill-form" and r["rule"] == "opens")


def test_server_down_then_up_loses_nothing(db_url):
    server = SmtpServer(free_port())  # nobody listens on this port yet
    dq = Cli(db_url, env=server.env())
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    down = dq("send", "--now", OPENS)
    out = down.output
    assert down.exit_code == 75, out  # the documented code: cron alerts
    # three failures in a row (and what the other connection had in flight) show the server is down: the rest waits
    tried, deferred = (int(re.search(rf"{word} (\d+)", out)[1]) for word in ("ждут повтора:", "отложено:"))
    assert "Отправлено писем: 0" in out and 3 <= tried <= 4 and tried + deferred == 11
    failed = outbox(dq, "failed")
    assert len({r["recipient"] for r in failed}) == tried and all("cannot connect" in r["reason"] for r in failed)
    waiting = [r for r in outbox(dq, "pending") if r["reason"] == "deferred:server"]
    assert len({r["recipient"] for r in waiting}) == deferred
    server.start()
    try:
        out = dq.ok("send", "--now", "2021-11-19 09:10")
        assert "Отправлено писем: 11" in out
        assert server.recipients() == sorted(DOU)
        assert "Отправлено писем: 0" in dq.ok("send", "--now", "2021-11-19 09:20")
        assert len(server.messages) == 11
    finally:
        server.stop()


def test_smtp_password_never_shown(db_url):
    secret = "s3cr3t-P@ss-9731"
    server = SmtpServer(password=secret).start()
    try:
        dq = Cli(db_url, env=server.env(DQFLOW_SMTP_USERNAME="mailer", DQFLOW_SMTP_PASSWORD=secret))
        dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
        out = dq.ok("send", "--now", OPENS)
        assert "Отправлено писем: 11" in out
        assert server.logins and server.logins[0] == (b"mailer", secret.encode())  # the password was used…
        texts = [out, dq.ok("outbox"), dq.ok("outbox", "--json"), dq.ok("why", "dou2@example.org")]
        # … a wrong one fails, and the error does not echo it
        dq_bad = Cli(db_url, env=server.env(DQFLOW_SMTP_USERNAME="mailer", DQFLOW_SMTP_PASSWORD="wrong-" + secret))
        result = dq_bad("send", "--now", "2021-11-22 09:00")
        texts += [result.output, dq_bad.ok("outbox", "--json"), dq_bad.ok("why", "dou2@example.org")]
        settings = SmtpSettings.from_env(server.env(DQFLOW_SMTP_PASSWORD=secret))
        texts += [repr(settings), str(settings)]
        for text in texts:
            assert secret not in text
    finally:
        server.stop()


def test_missing_smtp_host_is_one_clean_error(db_url):
    dq = Cli(db_url, env={"DQFLOW_SMTP_HOST": ""})
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    result = dq("send", "--now", OPENS)
    assert result.exit_code == 1
    assert "DQFLOW_SMTP_HOST" in result.output
    assert all(r["state"] in ("pending", "skipped") for r in outbox(dq))


def test_long_lines_are_wrapped_for_smtp_and_the_server_accepts_them(smtp_server):  # noqa: F811
    """A digest listing 150 late ДОУ and a one-paragraph recommendation of 3,000 characters:
    no line may pass SMTP's 998 bytes, or the server refuses the message ('500 Line too long')."""
    late = [{"institution_name": f"МАДОУ № {n}", "stage_title": "Заполнение утвержденной формы мониторинга",
             "deadline": "30.11.2021 23:59", "lock": "02.12.2021 23:59", "experts": []} for n in range(150)]
    paragraph = "Дополнить раздел ссылками на протоколы родительских собраний и планы работы. " * 40
    review = {"n": 1, "recommendations": paragraph, "levels": []}
    messages = [make([letter("digest", overdue=late)], recipient="kdo@imc.example.org", msg_id="<d@imc.example.org>"),
                make([letter("recommendations", reviews=[review])], msg_id="<r@imc.example.org>")]
    for message in messages:
        assert max(len(line) for line in message.as_bytes().split(b"\n")) <= 998

    async def go():
        transport = SmtpTransport(settings_for(smtp_server, pool=1))
        try:
            return await transport.send(messages)
        finally:
            await transport.close()

    assert [o.state for o in asyncio.run(go())] == ["sent", "sent"]
    digest, recommendations = (m.message for m in smtp_server.messages)
    assert all(f"МАДОУ № {n} " in digest.get_body(("html",)).get_content() for n in (0, 75, 149))
    assert paragraph.strip() in " ".join(recommendations.get_body(("plain",)).get_content().split())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(_PLAIN_ADDRESS, fullmatch=True), st.text(max_size=40)))
def test_addresses_are_quoted_for_the_envelope_as_aiosmtplib_quotes_them(address):
    """The sender skips aiosmtplib's parsing for plain addresses: the envelope must not change."""
    try:
        expected = quote_address(address).encode("ascii")
    except (ValueError, UnicodeEncodeError) as exc:
        with pytest.raises(type(exc)):
            _quoted(address)
    else:
        assert _quoted(address) == expected
