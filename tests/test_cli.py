"""The command line: status output (JSON and Russian text), campaign selection, bad arguments, --help."""

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT, TOMSK, Cli, dump_tables, levels, query

PER_DOU = ["fill-form", "review1", "refill", "review2", "final-fix", "operator-submission"]
STATUSES = {"upcoming", "open", "done", "late", "missed", "excused"}
ISO_TOMSK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def dump(db_url: str) -> list:
    return dump_tables(db_url)


def one_line_error(result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- 9. status --json ----------------------------------------------------------------------


def test_status_json_shape(tomsk: Cli):
    tomsk.ok("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-25 09:00")
    assert tomsk.json("status", "--now", "2021-11-25 10:00")["institutions"] == []  # listed on request only
    view = tomsk.json("status", "--institutions", "--now", "2021-11-25 10:00")
    assert list(view) == ["campaign", "timezone", "now", "stages", "institutions", "page", "awaiting_settlement"]
    assert view["awaiting_settlement"] == {}  # reviewed per area: nothing to settle (tests/test_settle.py)
    assert view["page"] == {"offset": 0, "count": 11, "total": 11, "next_offset": None}
    assert view["campaign"] == "tomsk-2021"
    assert view["timezone"] == "Asia/Tomsk"
    assert view["now"] == "2021-11-25T10:00:00+07:00"

    assert [s["id"] for s in view["stages"]] == [
        "kickoff-webinar", "fill-form", "list1", "handout1", "review1", "review1-webinar", "refill", "list2",
        "handout2", "review2", "review2-webinar", "final-fix", "operator-submission", "analysis"]
    for s in view["stages"]:
        assert set(s) == {"id", "kind", "title", "state", "opens_at", "due_at", "locks_at", "counts"}, s["id"]
        assert s["kind"] in {"task", "event", "assignment", "handout"}
        assert s["state"] in {"scheduled", "open", "locked", "held"}
        assert isinstance(s["title"], str) and s["title"]
        for key in ("opens_at", "due_at", "locks_at"):
            assert ISO_TOMSK.fullmatch(s[key]), (s["id"], key, s[key])
            datetime.fromisoformat(s[key])
        if s["id"] in PER_DOU:  # a review stage counts its reviews of nothing too
            assert set(s["counts"]) == STATUSES | ({"no-materials"} if s["id"].startswith("review") else set())
            assert sum(s["counts"].values()) == 11
            assert all(isinstance(n, int) for n in s["counts"].values())
    fill = next(s for s in view["stages"] if s["id"] == "fill-form")
    assert fill == {
        "id": "fill-form", "kind": "task", "title": "Заполнение утвержденной формы мониторинга", "state": "open",
        "opens_at": "2021-11-19T00:00:00+07:00", "due_at": "2021-11-30T23:59:59+07:00", "locks_at": "2021-11-30T23:59:59+07:00",
        "counts": {"upcoming": 0, "open": 10, "done": 1, "late": 0, "missed": 0, "excused": 0}}
    webinar = next(s for s in view["stages"] if s["id"] == "kickoff-webinar")
    assert webinar["kind"] == "event" and webinar["state"] == "held" and webinar["opens_at"] == "2021-11-19T14:00:00+07:00"

    assert [i["id"] for i in view["institutions"]] == ["2", "4", "5", "6", "15", "35", "40", "62", "73", "86", "94"]
    for i in view["institutions"]:
        assert set(i) == {"id", "name", "state", "stages"}
        assert list(i["stages"]) == PER_DOU
        assert set(i["stages"].values()) <= STATUSES
    two = view["institutions"][0]
    assert two == {"id": "2", "name": "МАДОУ № 2", "state": "waiting",
                   "stages": {"fill-form": "done", **{s: "upcoming" for s in PER_DOU[1:]}}}
    assert view["institutions"][1]["state"] == "fill-form"


def test_status_json_now_with_offset_is_shown_in_campaign_zone(tomsk: Cli):
    assert tomsk.json("status", "--now", "2021-11-25T03:00:00Z")["now"] == "2021-11-25T10:00:00+07:00"
    assert tomsk.json("status", "--now", "2021-11-25")["now"] == "2021-11-25T00:00:00+07:00"


# -- 10. human status ----------------------------------------------------------------------


def test_status_text_is_russian_with_local_dates_and_zone(tomsk: Cli):
    out = tomsk.ok("status", "--institutions", "--now", "2021-11-25 10:00")
    assert "Состояние на 25.11.2021 10:00" in out
    assert "томское время, UTC+7" in out  # as the emails write the offset: «по местному времени (UTC+7)»
    assert "Этап" in out and "Состояние" in out and "ДОУ" in out
    assert "19.11.2021 00:00 – 30.11.2021 23:59" in out
    assert "открыт 11" in out  # fill-form counts
    assert "проведён" in out and "запланирован" in out
    assert not re.search(r"\d{4}-\d{2}-\d{2}", out), "ISO dates leak into the human output"
    for word in ("open", "scheduled", "locked", "upcoming", "held"):
        assert not re.search(rf"\b{word}\b", out), word
    assert re.search(r"МБДОУ № 4 «Монтессори»", out)


def test_institution_card_is_russian(tomsk: Cli):
    out = tomsk.ok("status", "--institution", "4", "--now", "2021-11-25 10:00")
    assert "МБДОУ № 4 «Монтессори» (ДОУ 4)" in out
    assert "томское время, UTC+7" in out and "25.11.2021 10:00" in out
    assert "Первичное заполнение формы" in out and "открыт" in out and "30.11.2021 23:59" in out
    assert "fill-form" not in out and "review1" not in out  # a stage by its name, not its id
    unknown = tomsk("status", "--institution", "999", "--now", "2021-11-25")
    assert "999" in one_line_error(unknown)


def test_status_writes_nothing(tomsk: Cli, db_url: str):
    before = dump(db_url)
    assert dict(before)["audit"]  # the dump sees the rows a command would change
    later = tomsk.json("status", "--now", "2021-12-20 10:00")
    assert next(s for s in later["stages"] if s["id"] == "fill-form")["state"] == "locked"
    tomsk.ok("status", "--now", "2021-12-20 10:00")
    tomsk.ok("status", "--institution", "2", "--now", "2021-12-20 10:00")
    tomsk.ok("status", "--institution", "2", "--json", "--now", "2021-12-20 10:00")
    assert dump(db_url) == before
    assert "Изменений нет." not in tomsk.ok("tick", "--now", "2021-12-20 10:00")  # the changes were never stored


def test_a_dry_run_writes_nothing_whatever_the_statement_looks_like(tomsk: Cli, db_url: str):
    """SQLite's Python driver begins a transaction by itself only before INSERT, UPDATE or DELETE: a `WITH … INSERT`
    (as reminders are planned) as the first write of a dry run would be committed at once."""
    from sqlalchemy import text

    from dqflow import engine, store
    from dqflow.calendar import parse_local

    before = dump(db_url)
    db = store.connect(db_url)
    try:
        with store.dry_run(db) as session:
            session.execute(text("WITH gone AS (SELECT 'x' AS name) INSERT INTO lease (name, holder, host, pid, expires_at) "
                                 "SELECT name, '', '', 0, '2021-01-01 00:00:00' FROM gone"))
            campaign = engine.definition(session, None)
            engine.reconcile(session, campaign.id, parse_local("2021-12-20 10:00", campaign.tz))  # plans and moves: writes
            assert session.execute(text("SELECT count(*) FROM lease")).scalar() == 1
    finally:
        db.dispose()
    assert dump(db_url) == before


# -- 11. several campaigns --------------------------------------------------------------------


@pytest.fixture
def two_campaigns(tomsk: Cli, tmp_path: Path) -> Cli:
    text = TOMSK.read_text(encoding="utf-8")
    assert text.count("  id: tomsk-2021\n") == 1
    other = tmp_path / "other.yaml"
    other.write_text(text.replace("  id: tomsk-2021\n", "  id: tomsk-2022\n"), encoding="utf-8")
    out = tomsk.ok("load", str(other), "--now", "2021-11-10 09:00")
    assert "tomsk-2022" in out
    return tomsk


def test_campaign_is_chosen_with_campaign_option(two_campaigns: Cli):
    dq = two_campaigns
    dq.ok("--campaign", "tomsk-2022", "submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-25 10:00")
    first = json.loads(dq.ok("--campaign", "tomsk-2021", "status", "--institutions", "--json", "--now", "2021-11-26"))
    second = json.loads(dq.ok("--campaign", "tomsk-2022", "status", "--institutions", "--json", "--now", "2021-11-26"))
    assert first["campaign"] == "tomsk-2021" and second["campaign"] == "tomsk-2022"
    assert first["institutions"][0]["stages"]["fill-form"] == "open"
    assert second["institutions"][0]["stages"]["fill-form"] == "done"
    assert "материалы сданы" in dq.ok("--campaign", "tomsk-2022", "history", "2")
    assert "материалы сданы" not in dq.ok("--campaign", "tomsk-2021", "history", "2")


def test_two_campaigns_without_campaign_option_is_a_clear_error(two_campaigns: Cli):
    before = dump(two_campaigns.db_url)
    for args in (("status", "--now", "2021-11-26"), ("tick", "--now", "2021-11-26"), ("history", "2"),
                 ("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-26")):
        line = one_line_error(two_campaigns(*args))
        assert "tomsk-2021" in line and "tomsk-2022" in line and "--campaign" in line, args
    unknown = one_line_error(two_campaigns("--campaign", "nope", "status", "--now", "2021-11-26"))
    assert "nope" in unknown and "tomsk-2021" in unknown
    assert dump(two_campaigns.db_url) == before


# -- 12. bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("now", ["yesterday", "2021-13-45", "30.11.21 10:00", "31.11.2021", "2021-11-30 25:00"])  # 30.11.2021 10:00 is fine
def test_bad_now_is_one_line_error(tomsk: Cli, db_url: str, now: str):
    before = dump(db_url)
    for args in (("status",), ("tick",), ("submit", "2", "--stage", "fill-form", "--link", "https://example.org/materials")):
        line = one_line_error(tomsk(*args, "--now", now))
        assert line.startswith("ошибка: --now") and now in line, line
    assert dump(db_url) == before


def test_bad_now_on_load(dq: Cli):
    line = one_line_error(dq("load", str(TOMSK), "--now", "soon"))
    assert "--now" in line
    assert "кампания не загружена" in one_line_error(dq("status", "--now", "2021-11-25"))


def test_unknown_command(dq: Cli):
    result = dq("frobnicate")
    assert result.exit_code == 2 and "нет команды «frobnicate»" in result.output and "Traceback" not in result.output


def test_unwritable_db_path(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    dq = Cli(str(blocker / "dqflow.db"))  # a plain path, as a coordinator would type it
    for args in (("load", str(TOMSK), "--now", "2021-11-18"), ("status", "--now", "2021-11-25")):
        line = one_line_error(dq(*args))
        assert line.startswith("ошибка: ") and "database" in line, line
    assert blocker.read_text() == "not a directory\n"


def test_db_from_environment(tmp_path: Path):
    from click.testing import CliRunner

    from dqflow.cli import cli

    path = tmp_path / "env.db"
    run = CliRunner().invoke(cli, ["load", str(TOMSK), "--now", "2021-11-18"], env={"DQFLOW_DB": str(path)})
    assert run.exit_code == 0, run.output
    assert Cli(str(path)).json("status", "--now", "2021-11-25")["campaign"] == "tomsk-2021"


def test_status_before_any_load(dq: Cli):
    for args in (("status", "--now", "2021-11-25"), ("status", "--json", "--now", "2021-11-25"), ("tick", "--now", "2021-11-25"),
                 ("history", "2")):
        line = one_line_error(dq(*args))
        assert "кампания не загружена" in line and "dqflow load" in line, args


def test_missing_required_options_are_usage_errors(tomsk: Cli):
    result = tomsk("submit", "2", "--now", "2021-11-25")
    assert result.exit_code == 2 and "--stage" in result.output


def test_load_is_idempotent_and_only_shows_the_plan_of_a_changed_file(tomsk: Cli, workflow_copy: Path, db_url: str):
    assert "ничего не изменилось" in tomsk.ok("load", str(TOMSK), "--now", "2021-11-12")
    before = dump(db_url)
    workflow_copy.write_text(workflow_copy.read_text(encoding="utf-8").replace("name: МАДОУ № 2,", "name: МАДОУ № 2 (new),"),
                             encoding="utf-8")
    out = tomsk.ok("load", str(workflow_copy), "--now", "2021-11-12")
    assert "ДОУ «МАДОУ № 2» изменено: name «МАДОУ № 2» → «МАДОУ № 2 (new)»" in out and "--apply" in out
    assert dump(db_url) == before


def test_a_renamed_stage_is_named_as_people_knew_it_and_its_line_says_the_new_name(tomsk: Cli, workflow_copy: Path):
    workflow_copy.write_text(workflow_copy.read_text(encoding="utf-8").replace(
        "short: Итоговая корректировка формы", "short: Финальная правка формы"), encoding="utf-8")
    out = tomsk.ok("load", str(workflow_copy), "--now", "2021-11-12")
    assert "этап «Итоговая корректировка формы» изменён: short (теперь «Финальная правка формы»)" in out, out


# -- 13. help --------------------------------------------------------------------------------

COMMANDS = ["validate", "load", "status", "submit", "extend", "excuse", "tick", "history"]


def test_python_m_dqflow_help():
    result = subprocess.run([sys.executable, "-m", "dqflow", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert "Commands:" in result.stdout and "Options:" in result.stdout
    listed = re.findall(r"^  ([a-z-]+)\s", result.stdout.split("Commands:")[1], re.M)
    assert set(COMMANDS) <= set(listed)
    assert "--db" in result.stdout and "--campaign" in result.stdout


def _all_commands(group, prefix=()):
    import click

    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_every_help_is_english():
    from click.testing import CliRunner

    from dqflow.cli import cli

    paths = [()] + list(_all_commands(cli))
    assert ("status",) in paths and ("experts", "assign") in paths
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output and "Options:" in result.output, path
        # ДОУ is the name of the thing itself; no other Russian belongs in --help
        assert not CYRILLIC.search(result.output.replace("ДОУ", "")), (path, result.output)
        first = result.output.split("\n\n")[1].strip()
        assert re.match(r"[A-Za-z]", first), (path, first)


@pytest.mark.parametrize("args, code, words", [
    (["extend", "2", "--stage", "fill-form", "--until", "2021-12-03"], 2, "не указан --reason"),
    (["outbox", "--state", "bogus"], 2, "«bogus» — допустимо одно из: 'pending'"),
    (["nosuch"], 2, "нет команды «nosuch»"),
    (["why", "dou2@example.org", "--stage", "nosuch"], 1, "этапа «nosuch» в кампании нет; этапы: "),
    (["experts", "diff", "list1", "list2"], 1, "список «list1» ещё не составлен"),
    (["recommendations", "send", "review1", "--now", "2021-11-20"], 1, "этап «review1» ещё не открыт"),
    (["review", "5", "--stage", "review1", "--expert", "e15", "--level", "conditions=2", "--level", "conditions=3",
      "--now", "2021-12-03"], 1, "область «conditions» указана дважды"),
])
def test_wrong_arguments_get_one_line_and_write_nothing(tomsk, db_url, args, code, words):
    before = dump(db_url)
    result = tomsk(*args)
    assert result.exit_code == code
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ошибка: ") and words in lines[0], result.output
    assert dump(db_url) == before


def test_simulate_into_an_unwritable_maildir_is_one_line(dq, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = dq("simulate", str(TOMSK), "--maildir", str(blocker / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"ошибка: --maildir {blocker / 'out'}: не удаётся создать папку (Not a directory); укажите папку, куда можно писать."]


def test_status_before_recorded_changes_says_it_cannot_rewind(tomsk):
    tomsk.ok("tick", "--now", "2021-12-02 10:00")
    earlier = tomsk.ok("status", "--now", "2021-11-25 10:00")
    assert "Внимание: в базе уже записаны изменения до 01.12.2021 00:00" in earlier
    assert "Внимание" not in tomsk.ok("status", "--now", "2021-12-02 10:00")


# -- a new coordinator starts from the yearly template, not from 2021 -------------------------------


def test_init_names_instantiate_on_the_template_and_its_next_steps_run(dq: Cli, tmp_path: Path):
    folder = tmp_path / "campaign"
    out = dq.ok("init", str(folder))
    steps = [line.strip().split() for line in out.splitlines() if line.startswith("  dqflow ")]
    instantiate, *then = steps
    assert instantiate[:3] == ["dqflow", "instantiate", str(folder / "tomsk-template.yaml")], out
    made = Path(instantiate[instantiate.index("--out") + 1])
    assert [step[1] for step in then] == ["validate", "simulate", "load"] and all(str(made) in step for step in then), out
    assert "tomsk-2021.yaml" not in " ".join(map(" ".join, steps))  # the past campaign is an example, not a step
    dq.ok(*instantiate[1:])  # the command line as printed runs
    assert made.exists()
    for step in (then[0], then[2]):  # validate, then load: this year's campaign is not past
        result = dq(*step[1:])
        assert result.exit_code == 0 and "уже прошли" not in result.stderr, result.output


def test_load_and_validate_of_a_campaign_all_past_warn_in_russian_and_name_instantiate(dq: Cli):
    result = dq("load", str(TOMSK), "--now", "2022-03-01")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Кампания tomsk-2021 загружена: этапов: 14, ДОУ: 11.")
    [warning] = result.stderr.splitlines()
    assert warning.startswith("Внимание: все этапы кампании tomsk-2021 уже прошли (последний закрыт 20.01.2022)"), warning
    assert "dqflow instantiate" in warning and "--id tomsk-2022" in warning and "tomsk-template.yaml" in warning
    assert not re.search(r"\b(the|is|are|campaign)\b", warning.replace("--id", ""))  # Russian, bar the command's words

    checked = dq("validate", str(TOMSK), "--now", "2022-03-01")
    assert checked.exit_code == 0, checked.output
    [past] = [line for line in checked.stderr.splitlines() if "уже прошли" in line]
    assert past.startswith(f"{TOMSK}:") and ": предупреждение: все этапы кампании tomsk-2021 уже прошли" in past and "dqflow instantiate" in past
    # a warning about the clock, not the file: the summary's count of the file's warnings is the same
    assert checked.stdout == dq("validate", str(TOMSK), "--now", "2021-11-10").stdout


def test_a_campaign_still_ahead_or_under_way_loads_without_the_warning(db_url: str):
    for now in ("2021-11-10", "2022-01-19"):  # before it starts; the day before its last lock
        result = Cli(db_url)("load", str(TOMSK), "--now", now)
        assert result.exit_code == 0 and "уже прошли" not in result.output, result.output
        assert "уже прошли" not in Cli(db_url)("validate", str(TOMSK), "--now", now).stderr


# -- a command imports what it uses (issue 18, item 7) -----------------------------------------------------

# What each command must not load: the database for --version; mail, documents, the portal and the scheduler for
# status and tick (and every country's holidays: tick asks whether today is a working day in one country).
HEAVY = {"sqlalchemy", "sqlmodel", "alembic", "jinja2", "yaml", "icalendar", "openpyxl", "apscheduler", "aiosmtplib", "starlette",
         "transitions", "holidays", "dqflow.engine", "dqflow.store", "dqflow.delivery.mail", "dqflow.results"}
NOT_FOR_STATUS = {"alembic", "jinja2", "icalendar", "openpyxl", "apscheduler", "aiosmtplib", "starlette", "uvicorn",
                  "holidays.countries", "dqflow.delivery.mail", "dqflow.delivery.letters",
                  "dqflow.delivery.writer", "dqflow.results", "dqflow.engine.amend",
                  "dqflow.web"}


def loaded_by(*args: str) -> set[str]:
    """The modules a process running `dqflow ARGS` has imported when the command ends (exit code 0 asserted)."""
    probe = ("import sys\nfrom dqflow.cli import cli\ntry:\n    cli(sys.argv[1:], prog_name='dqflow')\nexcept SystemExit as exc:\n"
             "    assert not exc.code, exc.code\nprint('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stderr.splitlines())


def test_version_loads_no_database_and_status_and_tick_no_mail(tomsk: Cli, db_url: str):
    assert loaded_by("--version") & HEAVY == set()
    for command in ("status", "tick"):
        loaded = loaded_by("--db", db_url, command, "--now", "2021-11-19 08:00")
        assert "dqflow.engine" in loaded and "sqlalchemy" in loaded  # the probe saw the command run
        assert loaded & NOT_FOR_STATUS == set(), command


def test_help_lists_every_command_and_each_module_registers_what_the_root_names():
    import click

    from dqflow.cli import COMMANDS, cli

    assert sorted(cli.list_commands(click.Context(cli))) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert isinstance(command, click.Command) and command.name == name, name
    assert cli.get_command(click.Context(cli), "nosuch") is None


def test_the_stored_roster_is_parsed_only_by_what_reads_it(tomsk: Cli, db_url: str):
    """The definition is stored with its roster on a line of its own: status and tick never parse 50,000 ДОУ,
    and a command that reads the roster gets the file's campaign."""
    from dqflow.campaign import spec

    [(text, digest)] = query(db_url, "SELECT definition, digest FROM campaign")
    head, _, roster = text.partition("\n")
    assert "МАДОУ № 2" in roster and "МАДОУ № 2" not in head
    stored = spec.from_json(text)
    assert "_roster_later" in stored.__dict__  # not parsed yet
    assert stored == spec.load(TOMSK) and spec.digest(stored) == digest  # parsed when compared
    probe = ("import sys\nfrom dqflow.campaign import codec\nfrom dqflow.cli import cli\nparsed = []\nread = codec._institutions\n"
             "codec._institutions = lambda items: parsed.append(len(items)) or read(items)\n"
             "try:\n    cli(sys.argv[1:], prog_name='dqflow')\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(parsed, file=sys.stderr)\n")
    for args, parsed in ((["status"], "[]"), (["tick"], "[]"), (["status", "--institutions"], "[11]")):
        done = subprocess.run([sys.executable, "-c", probe, "--db", db_url, *args, "--now", "2021-11-19 08:00"], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0 and done.stderr.strip().splitlines()[-1] == parsed, (args, done.stderr)


def test_serve_says_where_the_portal_listens_in_russian(tomsk: Cli, monkeypatch):
    from dqflow.web import server

    served = []
    monkeypatch.setattr(server, "run", lambda *args: served.append(args))  # the listening socket is the process's edge
    result = Cli(tomsk.db_url, env={"DQFLOW_BASE_URL": "https://monitoring.example.org"})("serve", "--port", "8765")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("Портал dqflow кампании tomsk-2021: http://127.0.0.1:8765/ (ссылки в письмах: "
                             "https://monitoring.example.org); остановить — Ctrl-C\n")
    assert served and served[0][1:3] == ("127.0.0.1", 8765)
