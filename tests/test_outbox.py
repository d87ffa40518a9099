"""Planning the outbox from reminder rules, and what `send`, `why` and `remind --dry-run` make of it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool

from tests.conftest import Cli, dump_tables, levels
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)

TZ = ZoneInfo("Asia/Tomsk")
DOU = [f"dou{n}@example.org" for n in (2, 4, 5, 6, 15, 35, 40, 62, 73, 86, 94)]
RU_HOLIDAYS_2021 = {date(2021, 11, 4), date(2021, 11, 5), date(2021, 12, 31)}


def outbox(dq: Cli, state: str | None = None) -> list[dict]:
    return json.loads(dq.ok("outbox", "--json", *(["--state", state] if state else [])))


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(TZ)


def db_digest(db_url: str) -> str:
    """On SQLite the file and its WAL byte for byte (not opened: closing a connection may checkpoint);
    elsewhere every row of every table."""
    if not db_url.startswith("sqlite:///"):
        return hashlib.sha256(repr(dump_tables(db_url)).encode()).hexdigest()
    path = Path(db_url.removeprefix("sqlite:///"))
    parts = [p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


@pytest.fixture
def mailer(tomsk: Cli, smtp_server) -> Cli:  # noqa: F811
    return Cli(tomsk.db_url, env=smtp_server.env())


def test_tick_plans_reminders_for_every_dou(tomsk):
    tomsk.ok("tick", "--now", "2021-11-19 08:00")
    rows = outbox(tomsk)
    fill = [r for r in rows if r["stage"] == "fill-form"]
    by_rule = defaultdict(list)
    for r in fill:
        by_rule[r["rule"]].append(r)
    assert set(by_rule) >= {"opens", "before:2wd", "due", "missed"}
    for rule, when, kind in (("opens", "2021-11-19 09:00", "opened"), ("before:2wd", "2021-11-26 09:00", "before_due"),
                             ("due", "2021-11-30 09:00", "due_today"), ("missed", "2021-12-01 09:00", "missed")):
        assert sorted(r["recipient"] for r in by_rule[rule]) == sorted(DOU), rule
        for r in by_rule[rule]:
            assert local(r["send_at"]) == datetime.fromisoformat(when).replace(tzinfo=TZ), rule
            assert r["kind"] == kind and r["state"] == "pending" and r["institution"] is not None
            assert local(r["deadline"]) == datetime(2021, 11, 30, 23, 59, 59, tzinfo=TZ)
    # events go to their audience (the expert webinar: every ДОУ and every expert) the working day before
    webinar = [r for r in rows if r["stage"] == "review1-webinar"]
    experts = sorted(f"expert{n}@example.org" for n in (2, 4, 5, 6, 15, 35, 40, 62, 73, 86, 94))
    assert sorted(r["recipient"] for r in webinar) == sorted(DOU + experts)
    assert all(local(r["send_at"]) == datetime(2021, 12, 3, 9, 0, tzinfo=TZ) for r in webinar)  # 06.12 is a Monday


def test_planning_is_idempotent_and_keys_are_unique(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-19 08:00")
    first = outbox(tomsk)
    tomsk.ok("tick", "--now", "2021-11-19 08:00")
    tomsk.ok("tick", "--now", "2021-11-19 08:30")
    second = outbox(tomsk)
    assert [r["key"] for r in first] == [r["key"] for r in second]
    assert first == second
    keys = Counter(r["key"] for r in second)
    assert keys.most_common(1)[0][1] == 1
    # the database itself refuses a second row with the same key
    engine = sqlalchemy.create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as con:
            columns = [c["name"] for c in sqlalchemy.inspect(con).get_columns("outbox") if c["name"] != "id"]
            with pytest.raises(sqlalchemy.exc.IntegrityError):
                con.execute(sqlalchemy.text(f"INSERT INTO outbox ({', '.join(columns)}) SELECT {', '.join(columns)} FROM outbox LIMIT 1"))
    finally:
        engine.dispose()


def test_extension_cancels_stale_reminders_and_plans_new_ones(tomsk):
    tomsk.ok("tick", "--now", "2021-11-22 10:00")
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-22 10:00")
    tomsk.ok("tick", "--now", "2021-11-22 10:05")
    rows = [r for r in outbox(tomsk) if r["stage"] == "fill-form" and r["recipient"] == "dou4@example.org"]
    old = [r for r in rows if local(r["deadline"]).date() == date(2021, 11, 30)]
    new = [r for r in rows if local(r["deadline"]).date() == date(2021, 12, 3)]
    stale = [r for r in old if r["rule"] in ("before:2wd", "due", "missed")]
    assert len(stale) == 3
    assert all(r["state"] == "skipped" and r["reason"] == "deadline-moved" for r in stale)
    fresh = {r["rule"]: r for r in new if r["state"] == "pending"}
    assert set(fresh) >= {"before:2wd", "due", "missed"}
    assert local(fresh["before:2wd"]["send_at"]) == datetime(2021, 12, 1, 9, 0, tzinfo=TZ)
    assert local(fresh["due"]["send_at"]) == datetime(2021, 12, 3, 9, 0, tzinfo=TZ)
    assert local(fresh["missed"]["send_at"]) == datetime(2021, 12, 6, 9, 0, tzinfo=TZ)  # 04.12 is a Saturday
    # other ДОУ keep theirs
    others = [r for r in outbox(tomsk) if r["stage"] == "fill-form" and r["recipient"] == "dou2@example.org" and r["rule"] == "due"]
    assert len(others) == 1 and others[0]["state"] == "pending"


def test_extension_is_what_gets_sent(mailer, smtp_server):  # noqa: F811
    mailer.ok("tick", "--now", "2021-11-22 10:00")
    mailer.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-22 10:00")
    mailer.ok("send", "--now", "2021-11-30 09:00")
    due_today = [m for m in smtp_server.messages if "dou4@example.org" in m.rcpt_tos]
    assert due_today == []  # its deadline is no longer today
    assert len([m for m in smtp_server.messages if "dou2@example.org" in m.rcpt_tos]) == 1
    mailer.ok("send", "--now", "2021-12-03 09:00")
    got = smtp_server.to("dou4@example.org")
    assert len(got) == 1 and "03.12.2021" in got[0].message.get_body(("plain",)).get_content()


def test_nobody_is_reminded_after_submitting(mailer, smtp_server):  # noqa: F811
    mailer.ok("tick", "--now", "2021-11-22 10:00")
    mailer.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-25 10:00")
    mailer.ok("excuse", "5", "--stage", "fill-form", "--reason", "карантин", "--now", "2021-11-25 10:00")
    out = mailer.ok("send", "--now", "2021-11-26 09:00")
    assert "Отправлено писем: 9" in out
    assert smtp_server.to("dou2@example.org") == [] and smtp_server.to("dou5@example.org") == []
    assert len(smtp_server.to("dou4@example.org")) == 1
    rows = {(r["recipient"], r["rule"]): r for r in outbox(mailer) if r["stage"] == "fill-form"}
    assert rows[("dou2@example.org", "before:2wd")]["state"] == "skipped"
    assert rows[("dou2@example.org", "before:2wd")]["reason"] == "submitted"
    assert rows[("dou5@example.org", "before:2wd")]["state"] == "skipped"
    assert "excused" in rows[("dou5@example.org", "before:2wd")]["reason"]
    mailer.ok("send", "--now", "2021-11-30 09:00")
    mailer.ok("send", "--now", "2021-12-01 09:00")
    assert smtp_server.to("dou2@example.org") == [] and smtp_server.to("dou5@example.org") == []


TWO_STAGES = """\
version: 1
campaign:
  id: twin
  title: Две задачи с одним сроком
  timezone: Asia/Tomsk
  coordinator: {name: КДО, email: kdo@imc.example.org}
  sending: {window: "09:00-18:00", working_days_only: true}
institutions:
  - {id: "1", name: МАДОУ № 1, email: dou1@example.org}
  - {id: "2", name: МАДОУ № 2, email: dou2@example.org}
stages:
  - {id: form-a, kind: task, actor: institution, title: Задача А, opens: 2021-11-22, due: 2021-11-26, reminders: [{at: due}]}
  - {id: form-b, kind: task, actor: institution, title: Задача Б, opens: 2021-11-23, due: 2021-11-26, reminders: [{at: due}]}
"""


def test_one_message_per_recipient_per_send_time(db_url, tmp_path, smtp_server):  # noqa: F811
    path = tmp_path / "twin.yaml"
    path.write_text(TWO_STAGES, encoding="utf-8")
    dq = Cli(db_url, env=smtp_server.env())
    dq.ok("load", str(path), "--now", "2021-11-20 09:00")
    out = dq.ok("send", "--now", "2021-11-26 09:00")
    assert "Отправлено писем: 2" in out
    assert smtp_server.recipients() == ["dou1@example.org", "dou2@example.org"]
    for address in ("dou1@example.org", "dou2@example.org"):
        (got,) = smtp_server.to(address)
        body = got.message.get_body(("plain",)).get_content()
        assert "Задача А" in body and "Задача Б" in body
        assert got.message["Subject"] == ("Сегодня последний день: «Задача А», срок до 26.11.2021 23:59; "
                                          "Сегодня последний день: «Задача Б», срок до 26.11.2021 23:59")
    rows = [r for r in outbox(dq) if r["state"] == "sent"]
    assert len(rows) == 4
    by_address = defaultdict(set)
    for r in rows:
        by_address[r["recipient"]].add(r["message_id"])
    assert all(len(ids) == 1 for ids in by_address.values())  # both rows carried by one message


def test_experts_get_one_message_for_all_their_dou(mailer, smtp_server):  # noqa: F811
    mailer.ok("send", "--now", "2021-12-01 09:00")
    experts = [m for m in smtp_server.messages if m.to.startswith("expert")]
    assert experts
    per_address = Counter(m.to for m in experts)
    assert set(per_address.values()) == {1}
    assert all(len(m.rcpt_tos) == 1 for m in smtp_server.messages)
    assert len(smtp_server.messages) == len({m.to for m in smtp_server.messages})


def test_planned_send_times_are_in_the_window_on_working_days(tomsk):
    tomsk.ok("tick", "--now", "2021-11-19 08:00")
    pending = outbox(tomsk, "pending")
    assert pending
    for r in pending:
        when = local(r["send_at"])
        assert when.hour == 9 and when.minute == 0, r
        assert when.weekday() < 5 and when.date() not in RU_HOLIDAYS_2021, r
    final_due = [r for r in pending if r["stage"] == "final-fix" and r["rule"] == "due"]
    assert final_due and all(local(r["send_at"]) == datetime(2021, 12, 17, 9, 0, tzinfo=TZ) for r in final_due)  # 19.12 is a Sunday


def test_send_only_inside_the_window(mailer, smtp_server):  # noqa: F811
    for moment in ("2021-11-19 08:59", "2021-11-19 18:00", "2021-11-19 23:00", "2021-11-20 10:00", "2021-11-21 12:00"):
        out = mailer.ok("send", "--now", moment)
        assert "Отправлено писем: 0" in out, moment
        assert smtp_server.messages == [], moment
    assert len(outbox(mailer, "pending")) > 0
    out = mailer.ok("send", "--now", "2021-11-22 09:00")  # Monday: the Friday reminders still apply
    assert "Отправлено писем: 11" in out
    assert smtp_server.recipients() == sorted(DOU)


def test_why_explains_planned_sent_and_skipped(mailer, smtp_server):  # noqa: F811
    mailer.ok("send", "--now", "2021-11-19 09:00")
    mailer.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-25 10:00")
    mailer.ok("send", "--now", "2021-11-26 09:00")
    text = mailer.ok("why", "dou2@example.org", "--stage", "fill-form")
    sent = [r for r in outbox(mailer, "sent") if r["recipient"] == "dou2@example.org" and r["stage"] == "fill-form"]
    assert len(sent) == 1
    assert f"ушло 19.11.2021 09:00 (запланировано на 19.11.2021 09:00) по правилу «при открытии» (Message-ID {sent[0]['message_id']})" in text
    assert "не отправлено: уже сдано" in text
    assert "19.11.2021 09:00" in text and "26.11.2021 09:00" in text
    # a ДОУ that did not submit still has its reminders planned
    other = mailer.ok("why", "dou4@example.org", "--stage", "fill-form")
    assert "запланировано правилом «в день срока» к сроку 30.11.2021 23:59" in other
    unknown = mailer.ok("why", "nobody@example.org")
    assert "nobody@example.org — не адрес кампании tomsk-2021" in unknown


def test_remind_dry_run_lists_and_writes_nothing(tomsk, db_url):
    tomsk.ok("tick", "--now", "2021-11-18 19:00")
    before = outbox(tomsk)
    digest = db_digest(db_url)
    out = tomsk.ok("remind", "--dry-run", "--now", "2021-11-18 19:00")
    lines = out.splitlines()
    assert lines[0] == "Отправка 19.11.2021 09:00 (томское время, UTC+7): писем 11"
    for address in DOU:  # the notice, and the invitation to the 14:00 webinar: both still true at 09:00
        line = next(line for line in lines if line.startswith(f"  {address}: «"))
        assert line == f"  {address}: «Приглашение: Установочный вебинар — 19.11.2021 в 14:00; " \
                       "Открыт этап «Первичное заполнение формы»: срок до 30.11.2021 23:59»"
    assert outbox(tomsk) == before
    assert all(r["state"] in ("pending", "skipped") for r in before)
    assert db_digest(db_url) == digest


def test_remind_dry_run_on_fresh_load_writes_nothing(tomsk):
    out = tomsk.ok("remind", "--dry-run", "--now", "2021-11-26 08:00")
    assert "2021" in out and "dou2@example.org" in out
    assert outbox(tomsk) == []


HOLD_SEND_LOCK = """
import sys
from dqflow import store
from datetime import datetime, timezone
from dqflow.delivery.lease import Lease
lease = Lease(store.connect(sys.argv[1]), "send:tomsk-2021", lambda: datetime.now(timezone.utc))
print("held" if lease.acquire() else "busy", flush=True)
sys.stdin.read()
"""


def test_a_second_sender_waits_for_the_first(mailer, smtp_server):  # noqa: F811
    """A cron `send` while a daemon is delivering: the second sends nothing, the rows stay due for later."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SEND_LOCK, mailer.db_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = mailer.ok("send", "--now", "2021-11-19 09:00")
        assert "сейчас отправляет другой запуск dqflow send или run" in busy
        assert smtp_server.messages == []
        assert not [r for r in outbox(mailer) if r["state"] == "sent"]
    finally:
        holder.communicate("")
    assert "Отправлено писем: 11" in mailer.ok("send", "--now", "2021-11-19 09:00")
    assert len(smtp_server.messages) == 11


def test_remind_dry_run_previews_the_first_digest(tomsk):
    """The first digest of a campaign in a zone east of UTC: 'since the beginning of time' must not underflow."""
    tomsk.ok("submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/form", "--now", "2021-11-29 10:00")
    tomsk.ok("review", "5", "--stage", "review1", "--expert", "e15", *levels("conditions=2"), "--now", "2021-12-03")
    preview = tomsk.ok("remind", "--dry-run", "--now", "2021-12-04")
    assert "kdo@imc.example.org: «" in preview  # the coordinator's digest of who missed fill-form


def test_after_downtime_only_the_newest_reminder_of_a_deadline_goes_out(mailer, smtp_server):  # noqa: F811
    """Nobody ran `send` from 19.11 to 29.11: the 'opened' reminder of 19.11 and the 'two working
    days before' one of 26.11 are both due; each ДОУ gets the newer one only."""
    mailer.ok("tick", "--now", "2021-11-18 10:00")
    assert "Отправлено писем: 11" in mailer.ok("send", "--now", "2021-11-29 09:05")
    subjects = {m.message["Subject"] for m in smtp_server.messages}
    assert subjects == {"Напоминание: «Первичное заполнение формы» — срок до 30.11.2021 23:59"}
    fill = [r for r in outbox(mailer) if r["stage"] == "fill-form" and r["recipient"] == "dou2@example.org"]
    opened = next(r for r in fill if r["rule"] == "opens")
    assert opened["state"] == "skipped" and opened["reason"] == "superseded"
    assert "вместо него ушло более позднее напоминание" in mailer.ok("why", "dou2@example.org", "--stage", "fill-form")


def test_why_foresees_that_a_pending_reminder_will_be_skipped(tomsk):
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-25 10:00")
    text = tomsk.ok("why", "dou2@example.org", "--stage", "fill-form")
    assert ("26.11.2021 09:00  fill-form: ожидает — запланировано правилом «за 2 раб. дн.» к сроку 30.11.2021 23:59; "
            "не будет отправлено: уже сдано") in text.splitlines()
    assert "не будет отправлено" not in tomsk.ok("why", "dou4@example.org", "--stage", "fill-form")


def test_a_lease_kept_at_every_step_is_written_a_quarter_of_its_length_apart(tmp_path: Path):
    """A counting send checks its lease at every page (`Lease.keep`): the row is renewed once a quarter of the
    lease has passed, not at every page, and a lease another process took over is noticed at that renewal."""
    import time as clock
    from datetime import timedelta

    from sqlmodel import Session, select

    from dqflow import store
    from dqflow.delivery.lease import Lease
    from dqflow.store import LeaseRow

    db = store.connect(str(tmp_path / "lease.db"))
    wall = [datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))]
    lease = Lease(db, "send:x", lambda: wall[0], length=timedelta(seconds=0.4))

    def expires() -> datetime:
        with Session(db) as session:
            return session.exec(select(LeaseRow.expires_at).where(LeaseRow.name == "send:x")).one()

    assert lease.acquire()
    taken = expires()
    wall[0] += timedelta(seconds=10)
    assert lease.keep() and expires() == taken  # within a quarter of its length: the row is not written
    clock.sleep(0.12)
    assert lease.keep() and expires() > taken  # past it: renewed by the wall clock
    other = Lease(db, "send:x", lambda: wall[0] + timedelta(hours=1))
    assert other.acquire()  # ours expired by the other's clock
    clock.sleep(0.12)
    assert not lease.keep()
    db.dispose()


def test_only_the_replays_own_database_goes_unsynced(tmp_path: Path):
    """`store.connect(throwaway=True)` (the replay's database nobody keeps) is never synced to disk; any other
    database, `simulate --keep-db`'s included, keeps SQLite's NORMAL sync."""
    from dqflow import store

    for throwaway, expected in ((True, 0), (False, 1)):
        db = store.connect(str(tmp_path / f"{throwaway}.db"), throwaway=throwaway)
        with db.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == expected
        db.dispose()


# -- when nothing goes out, the terminal says why -----------------------------------------------

WINDOW = "письма уходят по рабочим дням с 09:00 до 18:00."
MONDAY = "Ждут отправки писем: 11; ближайшая отправка — 22.11.2021 09:00 (понедельник, томское время, UTC+7)."


def test_send_on_a_saturday_says_how_many_letters_wait_for_monday_and_why_not_now(mailer, smtp_server):  # noqa: F811
    """The opening notices of Friday 19.11 were not sent that day: on Saturday `send` sends nothing and says they go on
    Monday at 09:00, because Saturday is a day off; on Monday they go."""
    mailer.ok("tick", "--now", "2021-11-19 08:00")
    out = mailer.ok("send", "--now", "2021-11-20 10:00")
    assert out.splitlines() == [
        "Отправлено писем: 0, ждут повтора: 0, не доставлено: 0, отложено: 0, пропущено: 11.",  # the webinar's invitations: it is over
        f"Сейчас письма не уходят: 20.11.2021 — суббота, выходной; {WINDOW}",
        MONDAY]
    assert smtp_server.messages == []
    assert mailer.ok("tick", "--now", "2021-11-21 12:00").splitlines()[-2:] == [
        f"Сейчас письма не уходят: 21.11.2021 — воскресенье, выходной; {WINDOW}", MONDAY]
    assert mailer.ok("run", "--once", "--now", "2021-11-20 11:00").splitlines()[1:] == [
        f"Сейчас письма не уходят: 20.11.2021 — суббота, выходной; {WINDOW}", MONDAY]  # the daemon's single wake-up says the same
    assert mailer.ok("send", "--now", "2021-11-22 09:00").startswith("Отправлено писем: 11,")
    assert smtp_server.recipients() == sorted(DOU)


@pytest.mark.parametrize(("moment", "why", "next_send"), [
    ("2021-11-19 08:00", "08:00 — вне окна отправки 09:00–18:00", "19.11.2021 09:00 (пятница"),
    ("2021-11-19 18:30", "18:30 — вне окна отправки 09:00–18:00", "22.11.2021 09:00 (понедельник"),
])
def test_send_outside_the_window_says_when_the_window_opens(mailer, smtp_server, moment, why, next_send):  # noqa: F811
    lines = mailer.ok("send", "--now", moment).splitlines()
    assert lines[0].startswith("Отправлено писем: 0,")
    assert lines[1] == f"Сейчас письма не уходят: {why}; {WINDOW}"
    assert lines[2].startswith("Ждут отправки писем: 11; ближайшая отправка — " + next_send)
    assert smtp_server.messages == []


def test_send_with_nothing_due_yet_names_the_next_planned_letters(mailer):
    """Inside the window on a working day, with the notices sent: nothing is due until the next rule's day."""
    mailer.ok("send", "--now", "2021-11-19 09:00")
    lines = mailer.ok("send", "--now", "2021-11-23 10:00").splitlines()
    assert lines[1:] == ["Сейчас отправлять нечего: ближайшие письма запланированы на 26.11.2021 09:00 "
                         "(пятница, томское время, UTC+7), писем: 11."]


def test_send_and_tick_after_the_campaign_say_nothing_is_planned(mailer):
    mailer.ok("tick", "--now", "2022-03-01 10:00")
    assert mailer.ok("send", "--now", "2022-03-01 10:00").splitlines()[1:] == ["Писем в очереди нет: ничего не запланировано."]
    assert mailer.ok("tick", "--now", "2022-03-02 10:00").splitlines()[-1] == "Писем в очереди нет: ничего не запланировано."


def test_a_day_off_is_named_by_its_kind():
    """A public holiday and a day off of the campaign's own calendar are each named for what they are."""
    import dataclasses

    from dqflow.calendar import WorkCalendar
    from dqflow.campaign import spec
    from dqflow.present import sending
    from tests.conftest import TOMSK

    campaign = spec.load(str(TOMSK))
    holiday = datetime(2021, 11, 4, 10, 0, tzinfo=TZ)  # Народное единство, a Thursday
    at = datetime(2021, 11, 8, 9, 0, tzinfo=TZ)  # 05.11 is a holiday too, then the weekend
    assert sending.waiting_text(campaign, holiday, at, 3)[0] == f"Сейчас письма не уходят: 04.11.2021 — нерабочий праздничный день; {WINDOW}"
    own = dataclasses.replace(campaign, calendar=WorkCalendar("RU", frozenset({date(2021, 11, 24)})))
    wednesday = datetime(2021, 11, 24, 12, 0, tzinfo=TZ)
    assert sending.waiting_text(own, wednesday, datetime(2021, 11, 25, 9, 0, tzinfo=TZ), 2) == [
        f"Сейчас письма не уходят: 24.11.2021 — выходной по календарю кампании; {WINDOW}",
        "Ждут отправки писем: 2; ближайшая отправка — 25.11.2021 09:00 (четверг, томское время, UTC+7)."]


def test_the_ledger_shows_when_a_letter_really_went_beside_its_planned_time(mailer, smtp_server):  # noqa: F811
    """The 'two working days before' reminder planned for 26.11 09:00 went out on 29.11 at 09:05: `outbox` and `why`
    say both."""
    mailer.ok("tick", "--now", "2021-11-18 10:00")
    mailer.ok("send", "--now", "2021-11-29 09:05")
    ledger = mailer.ok("outbox", "--state", "sent").splitlines()
    assert ledger[2].split()[:2] == ["Запланировано", "Отправлено"]
    line = next(line for line in ledger if "dou2@example.org" in line)
    assert line.startswith("26.11.2021 09:00  29.11.2021 09:05  dou2@example.org")
    pending = next(line for line in mailer.ok("outbox", "--state", "pending").splitlines() if "dou2@example.org" in line)
    assert pending.split()[2] == "—"  # not sent yet: no real time
    why = mailer.ok("why", "dou2@example.org", "--stage", "fill-form")
    assert "26.11.2021 09:00  fill-form: отправлено — ушло 29.11.2021 09:05 (запланировано на 26.11.2021 09:00)" in why
    sent = next(r for r in outbox(mailer, "sent") if r["recipient"] == "dou2@example.org")
    assert local(sent["sent_at"]) == datetime(2021, 11, 29, 9, 5, tzinfo=TZ)  # the JSON keeps its keys
