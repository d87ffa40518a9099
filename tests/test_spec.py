"""The campaign file: `dqflow validate` and `dqflow load` on real files and real SQLite databases.

Broken files are made by editing the text of a copy of the Tomsk file; the expected
FILE:LINE:COL is computed from the edited text, never written down as a constant.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, TOMSK, Cli, dump_tables, query

PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>ошибка|предупреждение): (?P<message>.+)$")
WORKFLOWS = sorted((ROOT / "workflows").glob("*.yaml"))
SEEDS = ROOT.parent / "shared" / "seeds"  # beside the checkout on the project's machines, not in a clone
ORDER_TABLE = ROOT / "tests" / "data" / "tomsk-2021-order-table.tsv"  # the seed's table, verbatim


# -- helpers -------------------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> str:
    """Replace the single occurrence of `old` in the file with `new`; return the new text."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def where(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the first `needle` at or after offset `start`."""
    offset = text.index(needle, start)
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def problems(stderr: str) -> list[dict]:
    """Every stderr line parsed as FILE:LINE:COL: SEVERITY: MESSAGE (a line that does not parse fails)."""
    found = []
    for line in stderr.splitlines():
        match = PROBLEM.match(line)
        assert match, f"not a FILE:LINE:COL line: {line!r}\nstderr:\n{stderr}"
        found.append({**match.groupdict(), "line": int(match["line"]), "col": int(match["col"])})
    return found


def validate_fails(dq: Cli, path: Path) -> list[dict]:
    result = dq("validate", str(path))
    assert result.exit_code == 1, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.output
    found = problems(result.stderr)
    assert any(p["severity"] == "ошибка" for p in found), result.stderr
    return found


def assert_error_at(found: list[dict], path: Path, line: int, col: int | None, *words: str) -> dict:
    """One error at FILE:LINE(:COL) whose message holds every word (case-insensitive)."""
    candidates = [
        p for p in found
        if p["severity"] == "ошибка" and Path(p["file"]) == path and p["line"] == line and (col is None or p["col"] == col)
        and all(w.lower() in p["message"].lower() for w in words)
    ]
    assert candidates, f"no error at {path.name}:{line}:{col} mentioning {words}; got:\n" + "\n".join(
        f"{Path(p['file']).name}:{p['line']}:{p['col']}: {p['severity']}: {p['message']}" for p in found)
    return candidates[0]


def table_counts(db_url: str) -> dict[str, int]:
    """Rows per table ({} when the database or its tables do not exist)."""
    return {name: len(rows) for name, rows in dump_tables(db_url)}


def stored_campaigns(db_url: str) -> list[tuple]:
    tables = dict(dump_tables(db_url))
    if "campaign" not in tables:
        return []
    return query(db_url, "select id, digest, definition from campaign")


def assert_nothing_loaded(dq: Cli) -> None:
    assert stored_campaigns(dq.db_url) == []
    counts = table_counts(dq.db_url)
    assert all(n == 0 for n in counts.values()), counts
    status = dq("status", "--now", "2021-11-18")
    assert status.exit_code == 1
    assert "Traceback" not in status.output


# -- 1. the bundled workflows are valid ------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_bundled_workflow_validates(dq: Cli, path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = dq("validate", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    summary = lines[0]
    assert summary.startswith(f"{path}: в порядке: кампания {data['campaign']['id']}")
    assert f"этапов: {len(data['stages'])}" in summary
    assert f": {len(data['institutions'])}, экспертов: " in summary  # ДОУ or ДОО, as the campaign says
    # whatever is on stderr is warnings, each at FILE:LINE:COL
    assert all(p["severity"] == "предупреждение" for p in problems(result.stderr))


def test_bundled_workflows_exist():
    assert TOMSK in WORKFLOWS


# -- 2. malformed files: FILE:LINE:COL: ошибка: message, exit 1 ------------------------


def test_yaml_syntax_error(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  locale: ru\n", "  locale: ru: en\n")
    line, col = where(text, ": en")  # the second ':' on the line is the mistake
    found = validate_fails(dq, workflow_copy)
    assert len(found) == 1
    assert_error_at(found, workflow_copy, line, col, "YAML")


def test_yaml_syntax_error_unclosed_bracket(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    after: [list1]\n", "    after: [list1\n")
    found = validate_fails(dq, workflow_copy)
    assert len(found) == 1
    line, _ = where(text, "after: [list1\n")
    # the parser notices at the next line at the latest
    assert found[0]["line"] in (line, line + 1), found


def test_unknown_key_with_suggestion(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  locale: ru\n", "  loacle: ru\n")
    line, col = where(text, "loacle")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "неизвестный ключ", "loacle")
    assert "может быть, «locale»?" in error["message"]


def test_unknown_stage_key_with_suggestion(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    deu: 2021-11-30\n")
    line, col = where(text, "deu:")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "deu")
    assert "due" in error["message"].replace("deu", "")


def test_wrong_type_number(dq: Cli, workflow_copy: Path):
    text = workflow_copy.read_text(encoding="utf-8")
    first = text.index("experts_per_institution: 2")
    text = text[:first] + "experts_per_institution: two" + text[first + len("experts_per_institution: 2"):]
    workflow_copy.write_text(text, encoding="utf-8")
    line, col = where(text, "two")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "experts_per_institution", "целое число")


def test_wrong_type_mapping_for_text(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  title: Мониторинг качества дошкольного образования, г. Томск, 2021\n", "  title: {ru: Мониторинг}\n")
    line, col = where(text, "{ru:")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "campaign.title")


def test_wrong_type_list_expected(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    after: [list1]\n", "    after: list1\n")
    line, col = where(text, "after: list1\n")
    col += len("after: ")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "after", "список")


def test_duplicate_key(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  coordinator:\n", "  timezone: Asia/Novokuznetsk\n  coordinator:\n")
    first_line, _ = where(text, "  timezone: Asia/Tomsk")
    line, col = where(text, "timezone: Asia/Novokuznetsk")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "повторяется", "timezone")
    assert f"строке {first_line}" in error["message"]


def test_duplicate_key_in_stage(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-30\n    due: 2021-11-29\n")
    first_line, _ = where(text, "due: 2021-11-30")
    line, col = where(text, "due: 2021-11-29")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "повторяется", "due")
    assert f"строке {first_line}" in error["message"]


def test_yaml11_no_read_as_false(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "name: МАДОУ № 2,", "name: NO,")
    line, col = where(text, "NO,")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "NO")
    assert "кавычки" in error["message"].lower() and "логическое" in error["message"].lower()


def test_yaml11_no_as_campaign_locale(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  locale: ru\n", "  locale: NO\n")
    line, col = where(text, "NO\n")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "NO")


def test_yaml11_sexagesimal_time(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    at: 2021-11-19 14:00\n", "    at: 9:30\n")
    line, col = where(text, "9:30")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "9:30")
    assert "число" in error["message"]


def test_yaml11_octal_id(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, '{id: "5",', "{id: 010,")
    line, col = where(text, "010,")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "010")


def test_unknown_time_zone(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  timezone: Asia/Tomsk\n", "  timezone: Asia/Tomks\n")
    line, col = where(text, "Asia/Tomks")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "Asia/Tomks")


def test_time_zone_that_is_not_a_name(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  timezone: Asia/Tomsk\n", "  timezone: UTC+7\n")
    line, col = where(text, "UTC+7")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "часового пояса")


def test_duplicate_stage_id(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  - id: review2-webinar\n", "  - id: review1-webinar\n")
    first_line, _ = where(text, "  - id: review1-webinar\n")
    second = text.index("  - id: review1-webinar\n", text.index("  - id: review1-webinar\n") + 1)
    line, col = where(text, "id: review1-webinar", second)
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "id этапа", "review1-webinar", "повторяется")
    assert f"строке {first_line}" in error["message"]


def test_duplicate_institution_id(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, '{id: "40",', '{id: "6",')
    line, col = where(text, '{id: "6", name: МАДОУ № 40')
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "id ДОУ «6» повторяется")


def test_duplicate_institution_id_after_a_broken_institution(dq: Cli, workflow_copy: Path):
    """The duplicate is still reported at its own line when an earlier ДОУ is invalid."""
    text = edit(workflow_copy, "email: dou4@example.org,", "email: dou4-example.org,")
    text = edit(workflow_copy, '{id: "40",', '{id: "6",')
    bad_line, bad_col = where(text, "dou4-example.org")
    line, col = where(text, '{id: "6", name: МАДОУ № 40')
    found = validate_fails(dq, workflow_copy)
    assert_error_at(found, workflow_copy, bad_line, bad_col, "email")
    assert_error_at(found, workflow_copy, line, col, "id ДОУ «6» повторяется")


def test_duplicate_expert_id(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "{id: e15,", "{id: e5,")
    line, _ = where(text, '{id: "15",')
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, None, "id эксперта «e5» повторяется")


def test_after_names_unknown_stage(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    after: [list1]\n", "    after: [lsit1]\n")
    line, col = where(text, "[lsit1]")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "lsit1")
    assert "list1" in error["message"].replace("lsit1", "")


def test_list_names_unknown_stage(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    list: list1\n    title: Сбор", "    list: lst1\n    title: Сбор")
    line, col = where(text, "lst1")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "list", "lst1")


def test_list_names_a_stage_that_is_not_an_assignment(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    list: list1\n    title: Сбор", "    list: fill-form\n    title: Сбор")
    line, col = where(text, "list: fill-form")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col + len("list: "), "fill-form", "assignment")


def test_distinct_from_names_unknown_stage(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    distinct_from: list1\n", "    distinct_from: list9\n")
    line, col = where(text, "list9")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "distinct_from", "list9")


def test_opens_after_due(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-12-02\n    due: 2021-11-30\n")
    line, col = where(text, "2021-12-02")
    error = assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "opens", "due")
    assert "02.12.2021" in error["message"] or "2021-12-02" in error["message"]


def test_dependency_ends_after_dependent_opens(dq: Cli, workflow_copy: Path):
    # fill-form now ends on 02.12, but review1 (after: [fill-form, handout1]) opens on 01.12
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-12-02\n")
    line, col = where(text, "[fill-form, handout1]")
    found = validate_fails(dq, workflow_copy)
    error = assert_error_at(found, workflow_copy, line, col, "review1", "fill-form")
    assert "02.12.2021" in error["message"]
    assert [p for p in found if p["severity"] == "ошибка"] == [error]


def test_dependency_cycle(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "    after: [list1]\n    responsible: КДО МАУ ИМЦ\n\n  - id: review1",
         "    after: [list1, handout1]\n    responsible: КДО МАУ ИМЦ\n\n  - id: review1")
    found = validate_fails(dq, workflow_copy)
    assert any("handout1" in p["message"] for p in found if p["severity"] == "ошибка"), found


def test_malformed_email(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    email: kdo@imc.example.org\n", "    email: kdo.imc.example.org\n")
    line, col = where(text, "kdo.imc.example.org")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "email", "kdo.imc.example.org")


def test_malformed_expert_email(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "email: expert62@example.org", "email: expert62@")
    line, col = where(text, "expert62@}")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "email")


def test_malformed_duration(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-30\n    grace: 3x\n")
    line, col = where(text, "3x")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "grace", "3x")


def test_malformed_reminder_duration(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-30\n    reminders: [{before: 2 days}]\n")
    line, col = where(text, "2 days")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "2 days")


def test_missing_coordinator(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  coordinator:\n    name: КДО МАУ ИМЦ\n    email: kdo@imc.example.org\n", "")
    line, col = where(text, "id: tomsk-2021")  # the campaign mapping starts at its first key
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "coordinator")


def test_missing_timezone(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "  timezone: Asia/Tomsk\n", "")
    line, col = where(text, "id: tomsk-2021")
    found = validate_fails(dq, workflow_copy)
    assert_error_at(found, workflow_copy, line, col, "timezone")
    assert "Traceback" not in "".join(p["message"] for p in found)


ROSTER_HEADER = "id,name,email,contact,expert_id,expert_name,expert_email\n"


def _use_roster(workflow_copy: Path, rows: list[str]) -> Path:
    text = workflow_copy.read_text(encoding="utf-8")
    start, end = text.index("institutions:\n"), text.index("\nstages:")
    workflow_copy.write_text(text[:start] + "institutions: {file: roster.csv}\n" + text[end:], encoding="utf-8")
    roster = workflow_copy.parent / "roster.csv"
    roster.write_text(ROSTER_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return roster


def test_roster_csv_valid(dq: Cli, workflow_copy: Path):
    _use_roster(workflow_copy, [
        "2,МАДОУ № 2,dou2@example.org,,e2a,Эксперт 2a,e2a@example.org",
        "2,МАДОУ № 2,dou2@example.org,,e2b,Эксперт 2b,e2b@example.org",
        "4,МБДОУ № 4,dou4@example.org,Ответственный,e4,Эксперт 4,e4@example.org",
    ])
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0, result.output
    assert "ДОУ: 2, экспертов: 3" in result.stdout


def test_roster_csv_bad_row(dq: Cli, workflow_copy: Path):
    rows = [
        "2,МАДОУ № 2,dou2@example.org,,e2,Эксперт 2,e2@example.org",
        "4,МБДОУ № 4,dou4-at-example.org,,e4,Эксперт 4,e4@example.org",
        "5,МАДОУ № 5,dou5@example.org,,e5,Эксперт 5,e5@example.org",
    ]
    roster = _use_roster(workflow_copy, rows)
    lines = roster.read_text(encoding="utf-8").splitlines()
    line = next(n for n, row in enumerate(lines, 1) if "dou4-at-example.org" in row)
    col = lines[0].split(",").index("email") + 1
    found = validate_fails(dq, workflow_copy)
    assert_error_at(found, roster, line, col, "email", "dou4-at-example.org")


def test_roster_csv_missing_file(dq: Cli, workflow_copy: Path):
    text = workflow_copy.read_text(encoding="utf-8")
    start, end = text.index("institutions:\n"), text.index("\nstages:")
    text = text[:start] + "institutions: {file: nowhere.csv}\n" + text[end:]
    workflow_copy.write_text(text, encoding="utf-8")
    line, col = where(text, "nowhere.csv")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "nowhere.csv")


def test_all_errors_reported_at_once(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "  locale: ru\n", "  loacle: ru\n")
    text = edit(workflow_copy, "    distinct_from: list1\n", "    distinct_from: list9\n")
    found = validate_fails(dq, workflow_copy)
    assert_error_at(found, workflow_copy, where(text, "loacle")[0], None, "loacle")
    assert_error_at(found, workflow_copy, where(text, "list9")[0], None, "list9")
    assert [p["line"] for p in found] == sorted(p["line"] for p in found)


# -- 3. warnings: deadlines on non-working days -------------------------------------------


def _warnings_at(result, path: Path, line: int, col: int) -> list[dict]:
    return [p for p in problems(result.stderr)
            if p["severity"] == "предупреждение" and Path(p["file"]) == path and p["line"] == line and p["col"] == col]


@pytest.mark.parametrize("day, why", [
    (date(2021, 11, 28), "воскресенье"),
    (date(2021, 11, 4), "праздничный день (День народного единства)"),
])
def test_deadline_on_day_off_is_a_warning(dq: Cli, workflow_copy: Path, day: date, why: str):
    # list1 (25.11) moved to a day off; nothing depends on it ending earlier than handout1 (30.11)
    text = edit(workflow_copy, "    opens: 2021-11-25\n    due: 2021-11-25\n", f"    opens: {day}\n    due: {day}\n")
    line, col = where(text, f"due: {day}")
    col += len("due: ")
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0, result.output
    warned = _warnings_at(result, workflow_copy, line, col)
    assert len(warned) == 1, result.stderr
    assert "list1" in warned[0]["message"] and why.lower() in warned[0]["message"].lower()
    assert day.strftime("%d.%m.%Y") in warned[0]["message"]
    assert result.stdout.startswith(f"{workflow_copy}: в порядке:")
    assert "предупреждений: " in result.stdout

    strict = dq("validate", "--strict", str(workflow_copy))
    assert strict.exit_code == 1
    assert _warnings_at(strict, workflow_copy, line, col)
    assert "в порядке:" not in strict.stdout


def test_deadline_on_working_day_is_not_warned(dq: Cli, workflow_copy: Path):
    text = workflow_copy.read_text(encoding="utf-8")
    line, col = where(text, "due: 2021-11-25")
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0
    assert not _warnings_at(result, workflow_copy, line, col + len("due: "))


def test_extra_workday_silences_the_warning(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "    opens: 2021-11-25\n    due: 2021-11-25\n", "    opens: 2021-11-28\n    due: 2021-11-28\n")
    text = edit(workflow_copy, "    country: RU\n", "    country: RU\n    extra_workdays: [2021-11-28]\n")
    line, col = where(text, "due: 2021-11-28")
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0, result.output
    assert not _warnings_at(result, workflow_copy, line, col + len("due: "))


def test_event_on_holiday_is_a_warning(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "    at: 2021-12-06\n", "    at: 2021-11-04\n")
    line, col = where(text, "2021-11-04")
    result = dq("validate", str(workflow_copy))
    # the webinar moved before review1 ends: that is an error, but the warning is still there
    assert _warnings_at(result, workflow_copy, line, col)


# -- 4. files that are not campaign files -----------------------------------------------


def _one_clear_line(dq: Cli, path: Path) -> str:
    result = dq("validate", str(path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    assert str(path) in lines[0]
    return lines[0]


def test_missing_file(dq: Cli, tmp_path: Path):
    line = _one_clear_line(dq, tmp_path / "nope.yaml")
    assert "такого файла нет" in line.lower()


def test_directory(dq: Cli, tmp_path: Path):
    line = _one_clear_line(dq, tmp_path)
    assert "папка" in line.lower()


def test_non_utf8_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "cp1251.yaml"
    path.write_bytes(TOMSK.read_text(encoding="utf-8").encode("cp1251", errors="replace"))
    line = _one_clear_line(dq, path)
    assert "utf-8" in line.lower()


def test_binary_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "random.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    line = _one_clear_line(dq, path)
    assert "utf-8" in line.lower()


def test_binary_but_valid_utf8_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"version: 1\ncampaign:\x00\x01\x02 x\n")
    line = _one_clear_line(dq, path)
    assert PROBLEM.match(line), line


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\x0b"])
def test_line_separator_inside_a_value_keeps_each_problem_on_one_line(dq: Cli, workflow_copy: Path, separator: str):
    edit(workflow_copy, "email: expert35@example.org", f"email{separator} expert35@example.org")
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines and all(PROBLEM.match(line) for line in lines), result.stderr
    assert any(": ошибка: " in line for line in lines)


def test_empty_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    _one_clear_line(dq, path)


def test_comments_only_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "comments.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    _one_clear_line(dq, path)


def test_yaml_list_file(dq: Cli, tmp_path: Path):
    path = tmp_path / "list.yaml"
    path.write_text("- version: 1\n- campaign: x\n", encoding="utf-8")
    line = _one_clear_line(dq, path)
    assert "ключ: значение" in line.lower()


def test_two_documents(dq: Cli, workflow_copy: Path):
    text = workflow_copy.read_text(encoding="utf-8") + "---\nversion: 1\n"
    workflow_copy.write_text(text, encoding="utf-8")
    marker, _ = where(text, "---\nversion: 1\n")
    found = validate_fails(dq, workflow_copy)
    # at the '---' or at the second document's first key, on the next line
    assert any(p["line"] in (marker, marker + 1) and "один документ YAML" in p["message"] for p in found), found


def test_unsupported_version(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "version: 1\n", "version: 2\n")
    line, col = where(text, "2\n\ncampaign:")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col, "version")


def test_validate_many_files_reports_each(dq: Cli, workflow_copy: Path, tmp_path: Path):
    missing = tmp_path / "missing.yaml"
    result = dq("validate", str(TOMSK), str(missing))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{TOMSK}: в порядке:")
    assert any(Path(p["file"]) == missing for p in problems(result.stderr))


# -- 5. load: all or nothing, idempotent, changes refused ---------------------------------


def test_load_invalid_file_writes_nothing(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "  timezone: Asia/Tomsk\n", "  timezone: Asia/Tomks\n")
    result = dq("load", str(workflow_copy), "--now", "2021-11-18")
    assert result.exit_code == 1
    assert "Asia/Tomks" in result.stderr
    assert all(PROBLEM.match(line) for line in result.stderr.splitlines()), result.stderr
    assert_nothing_loaded(dq)


def test_load_then_invalid_file_of_another_campaign_changes_nothing(dq: Cli, workflow_copy: Path):
    dq.ok("load", str(TOMSK), "--now", "2021-11-18")
    before = table_counts(dq.db_url), stored_campaigns(dq.db_url)
    edit(workflow_copy, "  id: tomsk-2021\n", "  id: other-2021\n")
    edit(workflow_copy, "    email: kdo@imc.example.org\n", "    email: kdo\n")
    result = dq("load", str(workflow_copy), "--now", "2021-11-18")
    assert result.exit_code == 1
    assert (table_counts(dq.db_url), stored_campaigns(dq.db_url)) == before
    assert [c[0] for c in stored_campaigns(dq.db_url)] == ["tomsk-2021"]


def test_load_same_file_again_is_a_no_op(dq: Cli, workflow_copy: Path):
    first = dq.ok("load", str(workflow_copy), "--now", "2021-11-18")
    assert "tomsk-2021" in first
    before = table_counts(dq.db_url), stored_campaigns(dq.db_url)
    status_before = dq.ok("status", "--json", "--now", "2021-11-25 10:00")
    again = dq.ok("load", str(workflow_copy), "--now", "2021-11-20")
    assert again.startswith("Кампания tomsk-2021 уже загружена из того же файла; ничего не изменилось.")
    assert again != first
    assert (table_counts(dq.db_url), stored_campaigns(dq.db_url)) == before
    assert dq.ok("status", "--json", "--now", "2021-11-25 10:00") == status_before


def test_load_same_content_with_other_comments_and_layout_is_a_no_op(dq: Cli, workflow_copy: Path):
    dq.ok("load", str(TOMSK), "--now", "2021-11-18")
    before = table_counts(dq.db_url), stored_campaigns(dq.db_url)
    text = "# a new comment\n" + workflow_copy.read_text(encoding="utf-8").replace("\n\n", "\n\n\n")
    workflow_copy.write_text(text, encoding="utf-8")
    again = dq.ok("load", str(workflow_copy), "--now", "2021-11-20")
    assert "ничего не изменилось" in again
    assert (table_counts(dq.db_url), stored_campaigns(dq.db_url)) == before


def test_load_changed_file_only_shows_the_plan(dq: Cli, workflow_copy: Path):
    dq.ok("load", str(TOMSK), "--now", "2021-11-18")
    before = table_counts(dq.db_url), stored_campaigns(dq.db_url)
    status_before = dq.ok("status", "--json", "--now", "2021-11-25 10:00")
    edit(workflow_copy, "    opens: 2021-12-15\n    due: 2021-12-19\n", "    opens: 2021-12-15\n    due: 2021-12-18\n")
    out = dq.ok("load", str(workflow_copy), "--now", "2021-11-20")
    assert "этап «Итоговая корректировка формы» перенесён: срок 19.12.2021 23:59 → 18.12.2021 23:59" in out
    assert (table_counts(dq.db_url), stored_campaigns(dq.db_url)) == before
    assert dq.ok("status", "--json", "--now", "2021-11-25 10:00") == status_before
    final_fix = next(s for s in json.loads(status_before)["stages"] if s["id"] == "final-fix")
    assert final_fix["due_at"].startswith("2021-12-19")


# -- 6. property: no mutation of the Tomsk file makes validate or load crash ---------------

TOMSK_LINES = TOMSK.read_text(encoding="utf-8").splitlines(keepends=True)
TOMSK_TEXT = "".join(TOMSK_LINES)
SPECIAL = list(":-[]{}#&*!|>'\"%@`,? \t\n0123456789") + ["\x00", "\x85", "\u2028", "\ufeff", "ё", "N", "~"]


@st.composite
def mutations(draw) -> str:
    lines = list(TOMSK_LINES)
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "truncate"]))
    if kind == "delete":
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif kind == "duplicate":
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif kind == "swap":
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    text = "".join(lines)
    if kind == "replace":
        i = draw(st.integers(0, len(text) - 1))
        char = draw(st.sampled_from(SPECIAL) | st.characters(exclude_categories=("Cs",)))
        text = text[:i] + char + text[i + 1:]
    elif kind == "truncate":
        text = text[:draw(st.integers(0, len(text) - 1))]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutations())
def test_mutations_never_crash(tmp_path_factory: pytest.TempPathFactory, text: str):
    folder = tmp_path_factory.mktemp("mutant")
    path = folder / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    dq = Cli(f"sqlite:///{folder / 'dqflow.db'}")

    result = dq("validate", str(path))  # a traceback re-raises here
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    if result.exit_code == 0:
        assert all(PROBLEM.match(line) and ": предупреждение: " in line for line in lines), result.stderr
        assert result.stdout.startswith(f"{path}: в порядке:")
    else:
        assert lines, "exit 1 without a message"
        assert len(lines) == 1 or all(PROBLEM.match(line) for line in lines), result.stderr
        assert any(": ошибка: " in line for line in lines) or len(lines) == 1, result.stderr

    loaded = dq("load", str(path), "--now", "2021-11-18")
    assert loaded.exit_code in (0, 1), loaded.output
    assert "Traceback" not in loaded.output
    if result.exit_code == 1:
        assert loaded.exit_code == 1, loaded.output
        assert stored_campaigns(dq.db_url) == []
    else:
        assert loaded.exit_code == 0, loaded.output
        campaign = yaml.safe_load(text)["campaign"]["id"]
        assert [c[0] for c in stored_campaigns(dq.db_url)] == [str(campaign)]


# -- 7. the loaded Tomsk campaign is the order's schedule ---------------------------------

MONTHS = {"января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
          "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12}


def seed_table_text() -> str:
    """The table of the Tomsk order as the seed file holds it, from its header row on."""
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    name = next(m[1] for line in readme.splitlines() if "Tomsk" in line and (m := re.search(r"`([^`]+\.txt)`", line)))
    text = (SEEDS / name).read_text(encoding="utf-8")
    return text[text.index("Срок\tМероприятие"):]


def test_vendored_order_table_is_the_seeds():
    if not (SEEDS / "README.md").is_file():
        pytest.skip(f"the seeds are not beside this checkout ({SEEDS}); the vendored copy stands in")
    assert ORDER_TABLE.read_text(encoding="utf-8") == seed_table_text()


def seed_schedule() -> list[tuple[str, date, date, time | None]]:
    """The Tomsk order's table: (activity, first day, last day, time of day or None) per row."""
    text = ORDER_TABLE.read_text(encoding="utf-8")
    table = text.split("Срок\tМероприятие", 1)[1].splitlines()[1:]
    rows: list[list[str]] = []
    for line in table:
        cells = line.split("\t")
        if cells[0].strip():
            rows.append([cells[0].strip(), cells[1] if len(cells) > 1 else ""])
        elif rows and len(cells) > 1:
            rows[-1][1] += " " + cells[1]  # a row the PDF split over two lines
    schedule = []
    for term, activity in rows:
        term = term.replace("г.", "").strip()
        if m := re.fullmatch(r"(\d{1,2})\.(\d{2})\.(\d{4})\s+(\d{1,2})\.(\d{2})", term):
            d = date(int(m[3]), int(m[2]), int(m[1]))
            schedule.append((activity, d, d, time(int(m[4]), int(m[5]))))
        elif m := re.fullmatch(r"(\d{1,2})-(\d{1,2}) (\w+) (\d{4})", term):
            month, year = MONTHS[m[3]], int(m[4])
            schedule.append((activity, date(year, month, int(m[1])), date(year, month, int(m[2])), None))
        elif m := re.fullmatch(r"(\d{1,2})-(\d{1,2})\.(\d{2})\.(\d{4})", term):
            month, year = int(m[3]), int(m[4])
            schedule.append((activity, date(year, month, int(m[1])), date(year, month, int(m[2])), None))
        elif m := re.fullmatch(r"(\d{1,2})\.(\d{2})\.(\d{4})\s*-\s*(\d{1,2})\.(\d{2})\.(\d{4})", term):
            schedule.append((activity, date(int(m[3]), int(m[2]), int(m[1])), date(int(m[6]), int(m[5]), int(m[4])), None))
        elif m := re.fullmatch(r"(\d{1,2})\.(\d{2})\.(\d{4})", term):
            d = date(int(m[3]), int(m[2]), int(m[1]))
            schedule.append((activity, d, d, None))
        else:
            raise AssertionError(f"cannot read the seed's term {term!r}")
    return schedule


def _words(text: str) -> str:
    return " ".join(text.split())


def test_seed_table_is_read_whole():
    schedule = seed_schedule()
    assert len(schedule) == 14
    assert all(first <= last for _, first, last, _ in schedule)


def test_loaded_tomsk_reproduces_the_seed_schedule(dq: Cli):
    schedule = seed_schedule()
    dq.ok("load", str(TOMSK), "--now", "2021-11-18")
    view = dq.json("status", "--now", "2021-11-18")
    assert view["timezone"] == "Asia/Tomsk"
    tz = ZoneInfo("Asia/Tomsk")
    stages = view["stages"]
    assert len(stages) == len(schedule) == 14
    for stage, (activity, first, last, clock) in zip(stages, schedule):
        label = f"{stage['id']} vs {activity[:40]!r}"
        assert _words(stage["title"]) in _words(activity), label
        for key in ("opens_at", "due_at", "locks_at"):
            assert stage[key].endswith("+07:00"), (label, key, stage[key])
        opens, due = datetime.fromisoformat(stage["opens_at"]), datetime.fromisoformat(stage["due_at"])
        if stage["kind"] == "event":
            assert first == last, label
            assert opens == due, label
            assert opens.astimezone(tz).date() == first, label
            if clock is not None:
                assert opens == datetime.combine(first, clock, tz), label
        else:
            assert clock is None, label
            assert opens == datetime.combine(first, time(0, 0), tz), label
            assert due == datetime.combine(last, time(23, 59, 59), tz), label
            assert datetime.fromisoformat(stage["locks_at"]) >= due, label
        assert stage["state"] == "scheduled", label  # 18.11 is before everything


def test_kickoff_webinar_moment(dq: Cli):
    dq.ok("load", str(TOMSK), "--now", "2021-11-18")
    kickoff = dq.json("status", "--now", "2021-11-18")["stages"][0]
    activity, first, _, clock = seed_schedule()[0]
    assert kickoff["kind"] == "event" and activity.startswith("Вебинар")
    assert kickoff["opens_at"] == datetime.combine(first, clock, ZoneInfo("Asia/Tomsk")).isoformat()
    assert kickoff["opens_at"] == "2021-11-19T14:00:00+07:00"


def test_a_handout_before_the_forms_are_due_is_a_warning(dq: Cli, workflow_copy: Path):
    """Tomsk hands out list 1 on 30.11 while fill-form is due that evening: said, not refused."""
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0
    text = workflow_copy.read_text(encoding="utf-8")
    line = text.splitlines().index("  - id: handout1") + 1
    assert (f"{workflow_copy}:{line}:5: предупреждение: этап «handout1» выдаёт материалы 30.11.2021, раньше срока «fill-form» "
            "(30.11.2021 23:59): ссылки, сданные позже, эксперты получат только в напоминаниях") in result.stderr.splitlines()
    edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-11-19\n    due: 2021-11-29\n")
    assert "выдаёт материалы" not in dq("validate", str(workflow_copy)).stderr


# -- experts of no ДОУ: a top-level `experts:` ---------------------------------------------------


def test_top_level_experts_inline_and_from_a_file(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "\nstages:\n", "\nexperts: {file: experts.csv}\n\nstages:\n")
    roster = workflow_copy.parent / "experts.csv"
    roster.write_text("id,name,email,institution\nm1,Методист ИМЦ,m1@imc.example.org,\nm2,Методист ДОУ № 4,m2@imc.example.org,4\n",
                      encoding="utf-8")
    result = dq("validate", str(workflow_copy))
    assert result.exit_code == 0, result.output
    assert "ДОУ: 11, экспертов: 13" in result.stdout
    from dqflow.campaign import spec

    campaign = spec.load(workflow_copy)
    assert [(e.id, e.institution) for e in campaign.experts] == [("m1", None), ("m2", "4")]
    assert ("m2", "4") in [(e.id, home) for e, home in campaign.every_expert()]
    assert spec.from_json(spec.to_json(campaign)) == campaign

    roster.write_text("id,name,email,institution\nm1,Методист ИМЦ,m1@imc.example.org,\nm2,Методист,not-an-address,4\n"
                      "e2,Дубль,dup@example.org,\nm3,Методист,m3@imc.example.org,44\n", encoding="utf-8")
    found = validate_fails(dq, workflow_copy)
    assert_error_at(found, roster, 3, 3, "email: «not-an-address» — не адрес электронной почты")
    assert_error_at(found, roster, 4, 1, "id эксперта «e2» повторяется")
    assert_error_at(found, roster, 5, 1, "эксперт «m3»: ДОУ «44» нет в institutions", "может быть, «4»?")


def test_top_level_expert_mistakes_are_located(dq: Cli, workflow_copy: Path):
    text = edit(workflow_copy, "\nstages:\n", "\nexperts:\n  - {id: m1, name: Методист, email: m1@imc.example.org, institution: \"99\"}\n"
                                              "  - {id: m1, name: Дубль, email: m1b@imc.example.org}\n"
                                              "  - {id: m2, name: Методист, email: m2@imc.example.org, instituton: \"2\"}\n\nstages:\n")
    found = validate_fails(dq, workflow_copy)
    line, col = where(text, "{id: m1, name: Методист")
    assert_error_at(found, workflow_copy, line, col, "ДОУ «99» нет в institutions")
    line, col = where(text, "{id: m1, name: Дубль")
    assert_error_at(found, workflow_copy, line, col, "id эксперта «m1» повторяется")
    line, col = where(text, "instituton")
    assert_error_at(found, workflow_copy, line, col, "неизвестный ключ «instituton»", "может быть, «institution»?")


def test_experts_of_no_institution_raise_what_a_list_may_ask(dq: Cli, tmp_path: Path):
    """Three ДОУ with one expert each: no ДОУ can get three experts from the others, until an expert
    of no ДОУ joins (or of ДОУ 1: then ДОУ 2 and 3 can)."""
    base = """version: 1
campaign: {id: small, title: Малая, timezone: Asia/Tomsk, coordinator: {name: КДО, email: kdo@example.org}}
institutions:
  - {id: "1", name: ДОУ 1, email: d1@example.org, experts: [{id: e1, name: Эксперт 1, email: e1@example.org}]}
  - {id: "2", name: ДОУ 2, email: d2@example.org, experts: [{id: e2, name: Эксперт 2, email: e2@example.org}]}
  - {id: "3", name: ДОУ 3, email: d3@example.org, experts: [{id: e3, name: Эксперт 3, email: e3@example.org}]}
EXPERTS
stages:
  - {id: list1, kind: assignment, title: Список, opens: 2021-11-25, due: 2021-11-25, experts_per_institution: 3}
"""
    path = tmp_path / "small.yaml"
    for experts, most in [("", 2), ("experts: [{id: m1, name: Методист, email: m1@example.org}]", None),
                          ("experts: [{id: m1, name: Методист, email: m1@example.org, institution: \"1\"}]", None)]:
        text = base.replace("EXPERTS", experts)
        path.write_text(text, encoding="utf-8")
        if most is None:
            assert dq("validate", str(path)).exit_code == 0
        else:
            line, col = where(text, "3}")
            assert_error_at(validate_fails(dq, path), path, line, col, f"ни одно ДОУ не может получить больше {most} экспертов")


def test_a_stored_roster_read_by_two_threads_at_once_is_parsed_once():
    """A portal's threads may all read a stored campaign's roster right after its start: one parses it, the others wait
    for that roster (two parsing together once made the second fail with KeyError, a worker's first pages with 500)."""
    import threading

    from dqflow.campaign import codec, spec

    stored = spec.from_json(codec.stored(spec.to_json(spec.load(TOMSK))))  # as the database holds it: the roster parsed later
    later = stored.__dict__["_roster_later"]
    both = threading.Barrier(2, timeout=1)
    calls: list[int] = []

    def slow_parse():  # both threads inside the lazy read before either finishes, when nothing keeps them apart
        calls.append(1)
        try:
            both.wait()
        except threading.BrokenBarrierError:
            pass  # the other thread is kept out: it waits for this roster
        return later()

    stored.__dict__["_roster_later"] = slow_parse
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(stored.institutions)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 2 and got[0] is got[1] and len(got[0]) == len(spec.load(TOMSK).institutions)
    assert calls == [1]
