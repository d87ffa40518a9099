"""The same engine on PostgreSQL (127.0.0.1:5432, trust auth), skipped with a reason where absent."""

import json
from pathlib import Path

from click.testing import CliRunner

from dqflow.cli import cli

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"


def run(url, *args):
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_tomsk_campaign_on_postgresql(pg_url):
    assert run(pg_url, "load", str(TOMSK), "--now", "2021-11-18").exit_code == 0
    assert "ничего не изменилось" in run(pg_url, "load", str(TOMSK), "--now", "2021-11-18").output

    on_time = run(pg_url, "submit", "2", "--stage", "fill-form", "--now", "2021-11-30 23:30", "--link", "https://dou2.example.org/f")
    assert on_time.exit_code == 0, on_time.output
    late = run(pg_url, "submit", "4", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-12-01 00:30")
    assert late.exit_code == 1 and "приём закрыт" in late.output

    first = run(pg_url, "tick", "--now", "2021-12-02 10:00").output
    assert "Первичная экспертиза" in first  # review1 opened, by its name
    assert run(pg_url, "tick", "--now", "2021-12-02 10:00").output.splitlines()[0] == "Изменений нет."

    status = json.loads(run(pg_url, "status", "--json", "--now", "2021-12-02 10:00").output)
    fill = next(s for s in status["stages"] if s["id"] == "fill-form")
    assert fill["counts"]["done"] == 1 and fill["counts"]["missed"] == 10
    assert fill["due_at"] == "2021-11-30T23:59:59+07:00"

    lists = json.loads(run(pg_url, "experts", "show", "list1", "--json").output)
    assert all(len(a["experts"]) == 2 for a in lists["assignments"])

    outbox = json.loads(run(pg_url, "outbox", "--json").output)
    keys = [row["key"] for row in outbox]
    assert keys and len(keys) == len(set(keys))


def test_only_one_sender_at_a_time_on_postgresql(pg_url):
    from dqflow import store
    from dqflow.cli import wall_clock
    from dqflow.delivery.lease import Lease

    first, second = store.connect(pg_url), store.connect(pg_url)
    try:
        holder = Lease(first, "send:tomsk-2021", wall_clock)
        assert holder.acquire()
        assert not Lease(second, "send:tomsk-2021", wall_clock).acquire()
        assert Lease(second, "send:another", wall_clock).acquire()  # one lease per campaign
        holder.release()
        assert Lease(second, "send:tomsk-2021", wall_clock).acquire()
    finally:
        first.dispose()
        second.dispose()
