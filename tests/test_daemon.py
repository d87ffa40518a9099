"""The daemon delivers each due reminder exactly once, across wake-ups and restarts, and books its next
wake-up at the right moment: in process on a virtual clock (no waiting), and as the real command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dqflow import store
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dqflow.calendar import UTC
from dqflow.delivery.daemon import Daemon
from dqflow.delivery.mail import SmtpSettings, SmtpTransport
from tests.conftest import ROOT, Cli
from tests.smtp_server import SmtpServer, free_port, smtp_server  # noqa: F401  (fixture)

TOMSK_TZ = ZoneInfo("Asia/Tomsk")
DOU = sorted(f"dou{n}@example.org" for n in (2, 4, 5, 6, 15, 35, 40, 62, 73, 86, 94))


def outbox(dq: Cli) -> list[dict]:
    return json.loads(dq.ok("outbox", "--json"))


# -- in process, on a virtual clock ------------------------------------------------


def drive(db_url: str, server: SmtpServer, moments: list[datetime], runner: Daemon | None = None) -> Daemon:
    """Wake a Daemon at each of `moments` on its virtual clock. Its scheduler is paused, so nothing
    fires by itself and nothing waits on the wall clock: the test is the timer."""
    clock = {"now": moments[0]}

    async def go():
        transport = SmtpTransport(SmtpSettings.from_env(server.env()))
        daemon = runner or Daemon(store.connect(db_url), "tomsk-2021", transport, lambda: clock["now"],
                                  max_sleep=timedelta(minutes=5), sender="monitoring@imc.example.org")
        daemon.clock = lambda: clock["now"]
        daemon.transport = transport
        daemon.scheduler = AsyncIOScheduler(timezone=UTC)
        daemon.scheduler.start(paused=True)
        try:
            for moment in moments:
                clock["now"] = moment
                await daemon.wake()
                assert daemon.scheduler.get_job("wake") is not None  # the next wake-up is always booked
        finally:
            daemon.scheduler.shutdown(wait=False)
            await transport.close()
        return daemon

    return asyncio.run(go())


OPENS = datetime(2021, 11, 19, 9, 0, tzinfo=TOMSK_TZ)


def test_daemon_sends_once_across_wakeups_and_restarts(tomsk, smtp_server):  # noqa: F811
    runner = drive(tomsk.db_url, smtp_server, [OPENS, OPENS, OPENS + timedelta(seconds=30)])
    assert runner.wakes == 3
    assert smtp_server.recipients() == DOU  # woke three times, sent each message once
    # the notice, with the invitation to the 14:00 kick-off webinar (planned for the day before, still true)
    assert all("Открыт этап «Заполнение утвержденной формы мониторинга»" in m.message.get_body(("plain",)).get_content()
               and m.message["Subject"].startswith("Приглашение: Установочный вебинар") for m in smtp_server.messages)
    assert runner.next_at == OPENS + timedelta(seconds=30) + timedelta(minutes=5)  # nothing before 14:00: --max-sleep
    drive(tomsk.db_url, smtp_server, [OPENS + timedelta(minutes=5)])  # a restart
    assert len(smtp_server.messages) == 11
    sent = [r for r in outbox(tomsk) if r["state"] == "sent"]
    assert len({r["message_id"] for r in sent}) == 11 and all(r["attempts"] == 1 for r in sent)
    # the next rule's moment: each ДОУ gets its before_due reminder, once
    drive(tomsk.db_url, smtp_server, [datetime(2021, 11, 26, 9, 0, tzinfo=TOMSK_TZ)])
    assert len(smtp_server.messages) == 22
    assert sorted(m.to for m in smtp_server.messages[11:]) == DOU


def test_daemon_books_its_next_wake_at_the_next_boundary(tomsk, smtp_server):  # noqa: F811
    runner = drive(tomsk.db_url, smtp_server, [OPENS + timedelta(hours=4, minutes=58)])
    assert runner.next_at == datetime(2021, 11, 19, 14, 0, tzinfo=TOMSK_TZ)  # the webinar is held: a stage boundary


def test_run_tells_the_terminal_what_each_wake_did_and_when_the_next_letters_go(tomsk, smtp_server, capsys):  # noqa: F811
    """`dqflow run` says in Russian what a wake-up sent and, when that changed, when the next letters go and why not
    now; a wake-up that finds the same says nothing."""
    from dqflow import engine
    from dqflow.cli.common import App
    from dqflow.cli.delivery import _teller

    app = App(tomsk.db_url, None)
    with app.reading() as session:
        campaign = engine.definition(session, None)
    runner = Daemon(app.db, campaign.id, None, lambda: OPENS, max_sleep=timedelta(minutes=5), sender="monitoring@imc.example.org",
                    tell=_teller(app, campaign, 60))
    evening = datetime(2021, 11, 18, 19, 0, tzinfo=TOMSK_TZ)
    drive(tomsk.db_url, smtp_server, [evening, evening + timedelta(minutes=5), OPENS, OPENS + timedelta(minutes=5)], runner)
    assert capsys.readouterr().out.splitlines() == [
        "Сейчас письма не уходят: 19:00 — вне окна отправки 09:00–18:00; письма уходят по рабочим дням с 09:00 до 18:00.",
        "Ждут отправки писем: 11; ближайшая отправка — 19.11.2021 09:00 (пятница, томское время, UTC+7).",
        "19.11.2021 09:00: Отправлено писем: 11, ждут повтора: 0, не доставлено: 0, отложено: 0, пропущено: 0.",
        "Сейчас отправлять нечего: ближайшие письма запланированы на 26.11.2021 09:00 (пятница, томское время, UTC+7), писем: 11."]


def test_daemon_retries_a_temporary_failure_at_its_retry_time(tomsk, smtp_server):  # noqa: F811
    smtp_server.fail_next(451, 2)
    runner = drive(tomsk.db_url, smtp_server, [OPENS])
    assert len(smtp_server.messages) == 9
    failed = [r for r in outbox(tomsk) if r["state"] == "failed"]
    assert len({r["recipient"] for r in failed}) == 2
    assert runner.next_at == OPENS + timedelta(minutes=1)  # the first retry, not --max-sleep
    drive(tomsk.db_url, smtp_server, [runner.next_at])
    assert smtp_server.recipients() == DOU


def test_daemon_backs_off_while_the_server_keeps_failing(tomsk):
    down = SmtpServer(free_port())  # nobody listens
    runner = drive(tomsk.db_url, down, [OPENS])
    assert runner.failing == 1 and runner.next_at == OPENS + timedelta(minutes=1)
    runner = drive(tomsk.db_url, down, [OPENS + timedelta(minutes=1)], runner)
    assert runner.failing == 2 and runner.next_at == OPENS + timedelta(minutes=3)  # then 2 minutes, then 5…
    down.start()
    try:
        runner = drive(tomsk.db_url, down, [OPENS + timedelta(minutes=20)], runner)
        assert runner.failing == 0 and down.recipients() == DOU
    finally:
        down.stop()


# -- the real command, on the wall clock -------------------------------------------


def campaign_now(tmp_path: Path) -> Path:
    """A campaign whose one task opened a minute ago, in a zone where it is not near midnight."""
    for name in ("UTC", "Asia/Tomsk", "America/New_York", "Asia/Tokyo", "Europe/Moscow"):
        tz = ZoneInfo(name)
        local = datetime.now(tz)
        if 1 <= local.hour <= 21:
            break
    opens = (local - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    due = (local + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    path = tmp_path / "now.yaml"
    path.write_text(f"""\
version: 1
campaign:
  id: live
  title: Проверка демона
  timezone: {name}
  coordinator: {{name: КДО, email: kdo@imc.example.org}}
  sending: {{window: "00:00-23:59", working_days_only: false}}
institutions:
  - {{id: "1", name: МАДОУ № 1, email: dou1@example.org}}
  - {{id: "2", name: МАДОУ № 2, email: dou2@example.org}}
stages:
  - id: fill
    kind: task
    actor: institution
    title: Заполнение формы
    opens: {opens}
    due: {due}
    reminders: [{{at: opens}}]
""", encoding="utf-8")
    return path


def start(db_url: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dqflow", "--db", db_url, "run", "--max-sleep", "1", "-v"],
                            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"dqflow run did not stop on SIGTERM: {err.decode()}")
    return process.returncode, out.decode() + err.decode()


def test_run_delivers_exactly_once_across_restarts(tmp_path, db_url):
    secret = "daemon-s3cret-4421"
    server = SmtpServer(password=secret).start()
    try:
        env = server.env(DQFLOW_SMTP_USERNAME="mailer", DQFLOW_SMTP_PASSWORD=secret)
        dq = Cli(db_url)
        dq.ok("load", str(campaign_now(tmp_path)))
        first = start(db_url, env)
        try:
            assert server.wait_for(2, timeout=15), "the daemon sent nothing"
            time.sleep(2.5)  # a few more wake-ups at the same moment
        finally:
            code, log = stop(first)
        assert code == 0, log
        assert sorted(m.to for m in server.messages) == ["dou1@example.org", "dou2@example.org"]
        assert all(m.message["Subject"].startswith("Открыт этап «Заполнение формы»: срок до ") for m in server.messages)
        assert secret not in log
        second = start(db_url, env)
        try:
            time.sleep(3.5)
            assert second.poll() is None, "the daemon died"
        finally:
            code, log = stop(second)
        assert code == 0, log
        assert "wake at" in log  # it did wake up…
        assert "dqflow работает для кампании" in log and "остановить — Ctrl-C" in log
        assert len(server.messages) == 2  # … and sent nothing again
        assert secret not in log
        rows = [r for r in outbox(dq) if r["rule"] == "opens"]
        assert [r["state"] for r in rows] == ["sent", "sent"]
        assert all(r["state"] == "pending" for r in outbox(dq) if r["rule"] != "opens")  # the missed notices, later
        assert all(r["attempts"] == 1 for r in rows)
    finally:
        server.stop()
