"""Hostile input: every bad campaign, roster, scenario, review import and argument gets a clear answer.

Never a traceback, a hang or a partial write. First one regression test per input that once
crashed or hung dqflow (issue 8), each asserting the one-line answer, where it points and that
the database did not change; then a hypothesis fuzz over the same kinds of input.

Inputs that would hang or eat the machine's memory if their check broke run in their own
process with a timeout and an address-space limit; everything else runs in-process through
click's CliRunner (a traceback re-raises there) for speed.
"""

from __future__ import annotations

import faulthandler
import os
import re
import resource
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, TOMSK, Cli, dump_tables, levels, query
from dqflow import engine, store
from dqflow.intake import files
from dqflow.intake import templates
from dqflow.calendar import parse_local, zone
from dqflow.errors import DqflowError

PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>ошибка|предупреждение): (?P<message>.+)$")
TOMSK_TEXT = TOMSK.read_text(encoding="utf-8")
PREPARED_AT = "2021-12-02 10:00"  # list1 drawn, review1 open: every command has something to act on
HANG_SECONDS = 60  # a case still running after this is a hang: the process is stopped with its stack printed
CASE_DEADLINE = timedelta(seconds=15)  # hypothesis fails a case that takes longer (generous: 2 shared cores)
MEMORY_LIMIT = 2 << 30  # address space of a dqflow process run by these tests


# -- helpers ----------------------------------------------------------------------------------


def dump(db_url: str) -> list:
    """Every table's rows, on either backend ([] while there are no tables, or no SQLite file)."""
    return dump_tables(db_url)


def one_line(result, code: int = 1) -> str:
    """The single stderr line of a refused command."""
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def problems_of(stderr: str) -> list[dict]:
    found = []
    for line in stderr.splitlines():
        match = PROBLEM.match(line)
        assert match, f"not a FILE:LINE:COL line: {line!r}\n{stderr}"
        found.append({**match.groupdict(), "line": int(match["line"]), "col": int(match["col"])})
    return found


def error_at(stderr: str, file: Path | str, line: int, col: int | None, *words: str) -> str:
    """The message of the error at FILE:LINE(:COL) that mentions every word."""
    for p in problems_of(stderr):
        if (p["severity"] == "ошибка" and Path(p["file"]) == Path(file) and p["line"] == line
                and (col is None or p["col"] == col) and all(w.lower() in p["message"].lower() for w in words)):
            return p["message"]
    raise AssertionError(f"no error at {file}:{line}:{col} mentioning {words}; got:\n{stderr}")


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of `needle` in `text`."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def campaign(folder: Path, *edits: tuple[str, str], name: str = "campaign.yaml") -> tuple[Path, str]:
    """A copy of the Tomsk file in `folder` with each (old, new) replacement made once."""
    text = TOMSK_TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path, text


ROSTER_START, ROSTER_END = TOMSK_TEXT.index("institutions:\n"), TOMSK_TEXT.index("\nstages:")
INLINE_INSTITUTIONS = TOMSK_TEXT[ROSTER_START:ROSTER_END]
FILL_FORM = "    opens: 2021-11-19\n    due: 2021-11-30\n"
LIST1_PER = "    experts_per_institution: 2\n    responsible: МАУ ИМЦ\n    result: Распределение и закрепление за каждым ДОУ двух ответственных экспертов (список 1)"


def with_roster(folder: Path, roster: str | bytes, target: str = "roster.csv") -> Path:
    path, _ = campaign(folder, (INLINE_INSTITUTIONS, f"institutions: {{file: {target}}}"))
    if target == "roster.csv":
        data = roster.encode("utf-8") if isinstance(roster, str) else roster
        (folder / "roster.csv").write_bytes(data)
    return path


def fifo(folder: Path, name: str = "pipe") -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = folder / name
    os.mkfifo(path)
    return path


def bounded_run(*args: str, cwd: Path, timeout: float = HANG_SECONDS) -> subprocess.CompletedProcess:
    """`dqflow ARGS` in its own process, stopped after `timeout` seconds and allowed 2 GB of
    address space: a hang or a read without end fails the test, not the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    try:
        return subprocess.run([sys.executable, "-m", "dqflow", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"dqflow {' '.join(args)} still running after {timeout} s: a hang")


def refused_in_process(proc: subprocess.CompletedProcess, code: int = 1) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc.stderr


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A database with Tomsk loaded and reconciled to PREPARED_AT (list1 drawn, review1 open)."""
    path = tmp_path_factory.mktemp("prepared") / "dqflow.db"
    dq = Cli(f"sqlite:///{path}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", PREPARED_AT)
    return path


def copy_of(prepared: Path, folder: Path) -> Cli:
    """A private copy of the prepared database (through SQLite's backup: the WAL is included)."""
    target = folder / "dqflow.db"
    with sqlite3.connect(prepared) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return Cli(f"sqlite:///{target}")


@pytest.fixture
def loaded(db_url: str, prepared: Path, tmp_path: Path) -> Cli:
    """The prepared state on the backend under test: a copy of the SQLite file, or made afresh on PostgreSQL."""
    if db_url.startswith("sqlite:///"):
        return copy_of(prepared, tmp_path)
    dq = Cli(db_url)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", PREPARED_AT)
    return dq


# -- 1. dates, --now and --until: within the years 1900–2200 ------------------------------------

OUT_OF_YEARS = ["0001-01-01", "9999-12-31 23:59", "1899-12-31", "2201-01-01T00:00+00:00"]
TIME_OPTIONS = [
    ["status", "--now", "{}"],
    ["tick", "--now", "{}"],
    ["remind", "--dry-run", "--now", "{}"],
    ["submit", "2", "--stage", "fill-form", "--now", "{}"],
    ["extend", "4", "--stage", "fill-form", "--reason", "болезнь", "--until", "{}", "--now", "2021-11-25"],
    ["extend", "4", "--stage", "fill-form", "--reason", "болезнь", "--until", "2021-12-20", "--now", "{}"],
    ["experts", "assign", "list2", "--now", "{}"],
]


@pytest.mark.parametrize("when", OUT_OF_YEARS)
@pytest.mark.parametrize("args", TIME_OPTIONS, ids=lambda a: "-".join(a[:1] + [o for o in a if o in ("--now", "--until")]))
def test_a_time_outside_the_years_is_refused_in_one_line(loaded: Cli, args: list[str], when: str):
    before = dump(loaded.db_url)
    line = one_line(loaded(*(a.format(when) for a in args)))
    assert "вне 1900–2200 годов" in line and when.split()[0].split("T")[0] in line, line
    assert dump(loaded.db_url) == before


def test_an_extension_to_the_year_9999_cannot_poison_the_database(loaded: Cli):
    """Once accepted, a 9999 deadline made every later tick and status overflow."""
    one_line(loaded("extend", "4", "--stage", "fill-form", "--until", "9999-12-31", "--reason", "x", "--now", "2021-11-25"))
    loaded.ok("extend", "4", "--stage", "fill-form", "--until", "2200-12-31", "--reason", "до конца", "--now", "2021-11-25")
    assert "Первичное заполнение формы" in loaded.ok("status", "--institution", "4", "--now", "2200-12-30")
    loaded.ok("tick", "--now", "2200-12-31 12:00")


@pytest.mark.parametrize("old, new, needle", [
    (FILL_FORM, "    opens: 0001-01-01\n    due: 2021-11-30\n", "0001-01-01"),
    (FILL_FORM, "    opens: 2021-11-19\n    due: 9999-12-31\n", "9999-12-31"),
    ("    at: 2021-11-19 14:00\n", "    at: 1800-11-19 14:00\n", "1800-11-19"),
    ("    date: \"2021-11-22\"\n", "    date: \"0001-11-22\"\n", '"0001-11-22"'),
    ("    country: RU\n", "    country: RU\n    extra_days_off: [9999-12-31]\n", "9999-12-31"),
])
def test_a_campaign_date_outside_the_years_is_an_error_at_its_position(dq: Cli, tmp_path: Path, old: str, new: str, needle: str):
    path, text = campaign(tmp_path, (old, new))
    result = dq("validate", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    error_at(result.stderr, path, *position(text, needle), "1900–2200")
    assert dq("load", str(path)).exit_code == 1
    assert dump(dq.db_url) == []


@pytest.mark.parametrize("rule, needle", [
    ("    grace: 99999999d\n", "99999999d"),
    ("    grace: 367d\n", "367d"),
    ("    reminders: [{before: 9999999999999999999wd}]\n", "9999999999999999999wd"),
    ("    reminders: [{overdue: 527041m}]\n", "527041m"),
])
def test_a_duration_longer_than_a_year_is_an_error_at_its_position(dq: Cli, tmp_path: Path, rule: str, needle: str):
    path, text = campaign(tmp_path, (FILL_FORM, FILL_FORM + rule))
    result = dq("validate", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "больше года" in error_at(result.stderr, path, *position(text, needle))


def test_a_campaign_spanning_more_than_two_years_is_an_error_at_the_last_deadline(dq: Cli, tmp_path: Path):
    path, text = campaign(tmp_path, ("    opens: 2021-12-20\n    due: 2022-01-20\n", "    opens: 2021-12-20\n    due: 2199-01-20\n"))
    result = dq("validate", str(path))
    assert "годовой цикл" in error_at(result.stderr, path, *position(text, "2199-01-20"))


# -- 2. text that cannot be stored, numbers without end ----------------------------------------


@pytest.mark.parametrize("value, words", [
    ('"\\uD800"', ("U+D800", "суррогатной")),
    ('"Мониторинг\\0"', ("U+0000",)),
    ('"\\e[31mred"', ("U+001B",)),
    ("'" + "я" * 2001 + "'", ("2001 знаков", "2000")),
])
def test_a_title_that_cannot_be_stored_is_refused_at_its_position(dq: Cli, tmp_path: Path, value: str, words: tuple[str, ...]):
    """`title: "\\uD800"` validated, then load raised UnicodeEncodeError."""
    old = "  title: Мониторинг качества дошкольного образования, г. Томск, 2021\n"
    path, text = campaign(tmp_path, (old, f"  title: {value}\n"))
    result = dq("validate", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    error_at(result.stderr, path, *position(text, value), "campaign.title", *words)
    assert dq("load", str(path)).exit_code == 1
    assert dump(dq.db_url) == []


def test_a_number_of_five_thousand_digits_is_an_error_not_a_crash(dq: Cli, tmp_path: Path):
    path, text = campaign(tmp_path, ("version: 1\n", f"version: {'9' * 5000}\n"))
    result = dq("validate", str(path))
    assert result.exit_code == 1
    error_at(result.stderr, path, *position(text, "9999"), "version", "не больше")


# -- 3. rosters and CSV: regular files, bounded, every field located -----------------------------


def test_roster_from_dev_zero_or_a_fifo_or_a_directory_is_refused_without_reading(tmp_path: Path):
    """`institutions: {file: /dev/zero}` read until MemoryError; a FIFO hung validate."""
    zero = with_roster(tmp_path / "zero", "", target="/dev/zero")
    pipe = with_roster(tmp_path / "pipe", "", target="pipe.csv")
    fifo(tmp_path / "pipe", "pipe.csv")
    folder = with_roster(tmp_path / "folder", "", target="/tmp")
    stderr = refused_in_process(bounded_run("validate", str(zero), str(pipe), str(folder), cwd=tmp_path))
    for path, target in ((zero, "/dev/zero"), (pipe, "pipe.csv"), (folder, "/tmp")):
        text = path.read_text(encoding="utf-8")
        message = error_at(stderr, path, *position(text, target))
        assert ("это не обычный файл" if target != "/tmp" else "это папка") in message


def test_a_campaign_file_that_is_a_device_or_a_fifo_is_refused(tmp_path: Path):
    pipe = fifo(tmp_path, "campaign.yaml")
    stderr = refused_in_process(bounded_run("validate", "/dev/zero", str(pipe), cwd=tmp_path))
    assert "это не обычный файл" in error_at(stderr, "/dev/zero", 1, 1)
    assert "это не обычный файл" in error_at(stderr, pipe, 1, 1)
    refused_in_process(bounded_run("--db", str(tmp_path / "x.db"), "load", str(pipe), cwd=tmp_path))
    assert not (tmp_path / "x.db").exists()


def test_files_over_their_size_limit_are_refused_unread(loaded: Cli, tmp_path: Path):
    """Sparse files: the size is checked on the open handle, before a byte is read."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(files.MAX_CAMPAIGN + 1)
    assert "больше 16 МБ" in error_at(loaded("validate", str(big)).stderr, big, 1, 1)
    roster = with_roster(tmp_path / "roster", "")
    with (tmp_path / "roster" / "roster.csv").open("wb") as handle:
        handle.truncate(files.MAX_ROSTER + 1)
    text = roster.read_text(encoding="utf-8")
    assert "больше 64 МБ" in error_at(loaded("validate", str(roster)).stderr, roster, *position(text, "roster.csv"))
    reviews = tmp_path / "reviews.csv"
    with reviews.open("wb") as handle:
        handle.truncate(files.MAX_REVIEWS + 1)
    before = dump(loaded.db_url)
    assert "больше 64 МБ" in error_at(loaded("review", "--import", str(reviews), "--now", PREPARED_AT).stderr, reviews, 1, 1)
    assert dump(loaded.db_url) == before


def test_a_roster_field_over_the_csv_limit_is_located(dq: Cli, tmp_path: Path):
    """A field over 131,072 characters raised _csv.Error."""
    roster = "id,name,email\n2,МАДОУ № 2,dou2@example.org\n4,\"" + "x" * 140_000 + "\",dou4@example.org\n"
    path = with_roster(tmp_path, roster)
    result = dq("validate", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "131072" in error_at(result.stderr, tmp_path / "roster.csv", 3, 1)


@pytest.mark.parametrize("cell, column, words", [
    ("МАДОУ\x00№ 2", 2, ("name", "U+0000")),
    ("x" * 2001, 2, ("name", "2000")),
    ("e" * 101, 5, ("expert_id", "100")),
    ("a" * 250 + "@example.org", 3, ("email", "254")),
])
def test_a_roster_cell_that_cannot_be_stored_is_refused_at_its_row_and_column(dq: Cli, tmp_path: Path, cell: str, column: int,
                                                                              words: tuple[str, ...]):
    cells = ["2", "МАДОУ № 2", "dou2@example.org", "", "e2", "Эксперт", "e2@example.org"]
    cells[column - 1] = cell
    roster = ("id,name,email,contact,expert_id,expert_name,expert_email\n4,МБДОУ № 4,dou4@example.org,,e4,Эксперт,e4@example.org\n"
              + ",".join(cells) + "\n")
    path = with_roster(tmp_path, roster)
    result = dq("validate", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    error_at(result.stderr, tmp_path / "roster.csv", 3, column, *words)


def _bomb(path: Path, unpacked: int) -> None:
    """An .xlsx-shaped ZIP whose sheet unpacks to `unpacked` bytes of blanks (written in chunks: the test stays small)."""
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (4 * 1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                sheet.write(chunk)


def test_an_xlsx_roster_that_is_a_zip_bomb_or_binary_is_refused_bounded(tmp_path: Path):
    """A workbook is a ZIP of XML: 512 MB of sheet in 0.5 MB, or bytes that are no table at all."""
    bomb = with_roster(tmp_path / "bomb", "", target="roster.xlsx")
    _bomb(tmp_path / "bomb" / "roster.xlsx", 512 * 1024 * 1024)
    noise = with_roster(tmp_path / "noise", "", target="roster.xlsx")
    (tmp_path / "noise" / "roster.xlsx").write_bytes(bytes(range(256)) * 64)
    broken = with_roster(tmp_path / "broken", "", target="roster.xlsx")
    (tmp_path / "broken" / "roster.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    stderr = refused_in_process(bounded_run("validate", str(bomb), str(noise), str(broken), cwd=tmp_path))
    assert "распаковывается" in error_at(stderr, tmp_path / "bomb" / "roster.xlsx", 1, 1)
    assert "не UTF-8" in error_at(stderr, tmp_path / "noise" / "roster.xlsx", 2, None)  # after the first 0x0A
    assert "ZIP" in error_at(stderr, tmp_path / "broken" / "roster.xlsx", 1, 1)


def test_roster_lines_are_counted_in_the_file_even_after_a_quoted_line_break(dq: Cli, tmp_path: Path):
    roster = 'id,name,email\n2,"МАДОУ\n№ 2",dou2@example.org\n4,МБДОУ № 4,dou4-at-example.org\n'
    path = with_roster(tmp_path, roster)
    error_at(dq("validate", str(path)).stderr, tmp_path / "roster.csv", 4, 3, "email")


def test_a_review_import_field_over_the_csv_limit_is_located_and_nothing_is_written(loaded: Cli, tmp_path: Path):
    """The same _csv.Error in review --import."""
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("institution,stage,expert,levels,recommendations\n"
                       f"4,review1,e2,conditions=1,\"{'x' * 140_000}\"\n", encoding="utf-8")
    before = dump(loaded.db_url)
    result = loaded("review", "--import", str(reviews), "--now", PREPARED_AT)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "131072" in error_at(result.stderr, reviews, 2, 1)
    assert dump(loaded.db_url) == before


@pytest.mark.parametrize("row, column, words", [
    ("4,review1,e2,conditions=1,\"Текст\x00\"", 5, ("recommendations", "U+0000")),
    ("4,review1,e2,conditions=1,\"" + "я" * 20_001 + "\"", 5, ("recommendations", "20000")),
    ("4,review1,e2,conditions=1,Текст,лишнее", 6, ("больше 5 столбцов", "в кавычки")),
])
def test_a_review_import_row_that_cannot_be_stored_is_located(loaded: Cli, tmp_path: Path, row: str, column: int,
                                                               words: tuple[str, ...]):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("institution,stage,expert,levels,recommendations\n" + row + "\n", encoding="utf-8")
    before = dump(loaded.db_url)
    result = loaded("review", "--import", str(reviews), "--now", PREPARED_AT)
    assert result.exit_code == 1 and "Traceback" not in result.output
    error_at(result.stderr, reviews, 2, column, *words)
    assert dump(loaded.db_url) == before


def test_review_input_from_a_device_or_a_fifo_is_refused(prepared: Path, tmp_path: Path):
    dq = copy_of(prepared, tmp_path)
    db = dq.db_url.removeprefix("sqlite:///")
    before = dump(dq.db_url)
    pipe = fifo(tmp_path)
    stderr = refused_in_process(bounded_run("--db", db, "review", "--import", str(pipe), "--now", PREPARED_AT, cwd=tmp_path))
    assert "это не обычный файл" in error_at(stderr, pipe, 1, 1)
    stderr = refused_in_process(bounded_run("--db", db, "review", "4", "--stage", "review1", "--expert", "e2",
                                            "--recommendations", "/dev/zero", "--now", PREPARED_AT, cwd=tmp_path))
    assert stderr.startswith("ошибка: --recommendations /dev/zero: это не обычный файл"), stderr
    assert dump(dq.db_url) == before


def test_recommendations_longer_than_a_review_may_be_are_refused_by_the_engine(loaded: Cli, tmp_path: Path):
    text = tmp_path / "long.txt"
    text.write_text("я" * 20_001, encoding="utf-8")
    before = dump(loaded.db_url)
    line = one_line(loaded("review", "4", "--stage", "review1", "--expert", "e2", "--recommendations", str(text),
                           "--now", PREPARED_AT))
    assert "рекомендации" in line and "20000" in line, line
    assert dump(loaded.db_url) == before


# -- 4. bounds that keep one tick finite -------------------------------------------------------


def test_overdue_max_is_bounded_and_the_largest_allowed_plan_is_quick(dq: Cli, tmp_path: Path):
    """`overdue: 1m, max: 1000000` with `grace: 3650d` validated, then tick ran into MemoryError."""
    rules = "    grace: 3650d\n    reminders: [{overdue: 1m, max: 1000000}]\n"
    path, text = campaign(tmp_path / "a", (FILL_FORM, FILL_FORM + rules))
    result = dq("validate", str(path))
    error_at(result.stderr, path, *position(text, "3650d"), "больше года")
    error_at(result.stderr, path, *position(text, "1000000"), "max", "не больше 10")

    most = "    grace: 366d\n    reminders: [{overdue: 1m, max: 10}, {overdue: 1h, max: 10}]\n"
    path, _ = campaign(tmp_path / "b", (FILL_FORM, FILL_FORM + most),
                       ("    opens: 2021-12-20\n    due: 2022-01-20\n", "    opens: 2021-12-20\n    due: 2022-12-20\n"))
    dq.ok("load", str(path), "--now", "2021-11-10")
    dq.ok("tick", "--now", "2022-06-01")
    [(overdue,)] = query(dq.db_url, "select count(*) from outbox where rule like 'overdue:%'")
    assert 0 < overdue <= 11 * 20


def test_too_many_reminder_rules_or_stages_are_refused(dq: Cli, tmp_path: Path):
    rules = "    reminders: [" + ", ".join(["{at: due}"] * 21) + "]\n"
    path, text = campaign(tmp_path / "rules", (FILL_FORM, FILL_FORM + rules))
    result = dq("validate", str(path))
    error_at(result.stderr, path, *position(text, "[{at: due}"), "правил 21", "не больше 20")

    events = "".join(f"\n  - {{id: webinar-{n}, kind: event, title: Вебинар, at: 2021-11-22 14:00}}" for n in range(87))
    path, text = campaign(tmp_path / "stages", ("\nstages:\n", "\nstages:" + events + "\n"))
    error_at(dq("validate", str(path)).stderr, path, *position(text, "- {id: webinar-0"), "этапов 101", "не больше 100")


def test_experts_per_institution_is_bounded_by_ten_and_by_the_roster(dq: Cli, tmp_path: Path):
    """`experts_per_institution: 100000000` validated, then tick hung drawing the list."""
    path, text = campaign(tmp_path / "a", (LIST1_PER, LIST1_PER.replace(": 2\n", ": 100000000\n")))
    error_at(dq("validate", str(path)).stderr, path, *position(text, "100000000"), "experts_per_institution", "не больше 10")

    roster = ("id,name,email,contact,expert_id,expert_name,expert_email\n"
              "2,МАДОУ № 2,dou2@example.org,,e2,Эксперт 2,e2@example.org\n"
              "4,МБДОУ № 4,dou4@example.org,,e4,Эксперт 4,e4@example.org\n"
              "5,МАДОУ № 5,dou5@example.org,,e5,Эксперт 5,e5@example.org\n")
    path = with_roster(tmp_path / "b", roster)
    text = path.read_text(encoding="utf-8").replace(LIST1_PER, LIST1_PER.replace(": 2\n", ": 3\n"))
    path.write_text(text, encoding="utf-8")
    message = error_at(dq("validate", str(path)).stderr, path, *position(text, "experts_per_institution: 3")[:1], None,
                       "experts_per_institution 3")
    assert "не больше 2" in message
    path.write_text(text.replace(LIST1_PER.replace(": 2\n", ": 3\n"), LIST1_PER), encoding="utf-8")
    assert dq("validate", str(path)).exit_code == 0


def test_simulate_until_far_in_the_future_is_refused_not_replayed(tmp_path: Path):
    """`simulate --until 9999-12-31` did not end."""
    stderr = refused_in_process(bounded_run("simulate", str(TOMSK), "--until", "9999-12-31", cwd=tmp_path))
    assert "вне 1900–2200 годов" in stderr
    stderr = refused_in_process(bounded_run("simulate", str(TOMSK), "--until", "2200-12-31", cwd=tmp_path))
    assert "больше чем через 60 дней после последнего закрытия этапа" in stderr and len(stderr.splitlines()) == 1


# -- 5. templates: bounded in steps, time and size ---------------------------------------------

TEMPLATE_CASES = {
    "nested-ranges": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "range()"),
    "nested-loops": ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "шагов"),
    "string-times": ("{{ 'x' * 2000000000 }}", "'*'"),
    "list-times": ("{{ [0] * 2000000000 }}", "'*'"),
    "width": ("{{ 'x'|center(2000000000) }}", "center"),
    "format-width": ("{{ '%2000000000s' % 'x' }}", "formatting"),
    "method-width": ("{{ '{:>2000000000}'.format('x') }}", "format()"),
    "doubling": ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "joined"),
    "captured-doubling": ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}"
                          "{% endfor %}", "captured"),
    "big-number": ("{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}", "bits"),
    "recursion": ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", "nest too deeply"),
    # the step bound or, on a loaded machine, the time bound answers first: both say to simplify the loops
    "recursive-loop": ("{% for i in range(10000) recursive %}{% if loop.depth < 3 %}{{ loop(range(10000)) }}{% endif %}{% endfor %}",
                       "цикл"),
    "nested-times": ("{{ [[0] * 1000000] * 1000000 }}", "'*'"),
    "sum-of-lists": ("{{ ([[1]] * 300000)|sum(start=[]) }}", "'sum'"),
    "long-word-wrap": ("{{ ('x' * 1000000)|wordwrap(1) }}", "'wordwrap'"),
    "division": ("{{ 1 // 0 }}", "ZeroDivisionError"),
}


def test_a_template_that_would_hang_or_exhaust_memory_is_a_validate_error_at_its_line(tmp_path: Path):
    """Nested range(100000) loops hung validate; `'x' * 2000000000` raised MemoryError."""
    files = []
    for name, (body, _) in TEMPLATE_CASES.items():
        folder = tmp_path / name
        path, _ = campaign(folder, ("  locale: ru\n", "  locale: ru\n  notifications: mail\n"))
        (folder / "mail").mkdir()
        for kind in (*templates.KINDS, templates.LAYOUT):  # a complete folder of harmless templates…
            (folder / "mail" / f"{kind}.txt").write_text("{% block subject %}Тема{% endblock %}{% block body %}Текст{% endblock %}")
            (folder / "mail" / f"{kind}.html").write_text("{% block body %}<p>Текст</p>{% endblock %}")
        (folder / "mail" / "opened.txt").write_text(  # … but one, whose line 4 is the hostile one
            "{% block subject %}Тема{% endblock %}\n{% block body %}\nТекст\n" + body + "\n{% endblock %}\n", encoding="utf-8")
        files.append(str(path))
    stderr = refused_in_process(bounded_run("validate", *files, cwd=tmp_path))
    for name, (_, words) in TEMPLATE_CASES.items():
        message = error_at(stderr, tmp_path / name / "mail" / "opened.txt", 4, 1, words)
        assert "не отрисовывается" in message, message


# -- 6. paths and arguments ---------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--db", "\x00x", "status"],
    ["simulate", str(TOMSK), "--maildir", "\x00x"],
    ["validate", "campaign\x00.yaml"],
    ["review", "--import", "\x00", "--now", PREPARED_AT],
    ["extend", "4", "--stage", "fill-form", "--until", "2021-12-20", "--reason", "причина\udcff", "--now", "2021-11-25"],
    ["status", "--institution", "\ud800"],
], ids=["db", "maildir", "validate", "import", "reason-bytes", "surrogate"])
def test_an_argument_with_a_nul_or_bytes_that_are_not_utf8_is_a_usage_error(loaded: Cli, args: list[str]):
    """`--db $'\\x00x'` and `simulate --maildir $'\\x00x'` raised ValueError."""
    before = dump(loaded.db_url)
    line = one_line(loaded(*args), code=2)
    assert line.startswith("ошибка: аргумент ") and ("NUL" in line or "не текст UTF-8" in line), line
    assert dump(loaded.db_url) == before


@pytest.mark.parametrize("reason", ["причина\x01", "я" * 2001])
def test_a_reason_that_cannot_be_stored_is_refused(loaded: Cli, reason: str):
    before = dump(loaded.db_url)
    line = one_line(loaded("extend", "4", "--stage", "fill-form", "--until", "2021-12-20", "--reason", reason, "--now", "2021-11-25"))
    assert line.startswith("ошибка: причина: "), line
    assert dump(loaded.db_url) == before


def test_max_sleep_is_a_range(dq: Cli):
    dq.env = {"DQFLOW_SMTP_HOST": ""}  # were the range gone, run would stop at the missing server, not start
    for value in ("0", "-5", str(10**30)):
        line = one_line(dq("run", "--max-sleep", value), code=2)
        assert "--max-sleep" in line, line


# -- 7. links are the engine's rule (the portal calls the same function) ------------------------


@pytest.mark.parametrize("link", ["ftp://dou2.example.org/f", "http://", "https://dou2.example.org/a b", "javascript:alert(1)",
                                  "https://dou2.example.org/\x00"])
def test_the_engine_refuses_a_link_that_is_not_a_web_address(prepared: Path, tmp_path: Path, link: str):
    dq = copy_of(prepared, tmp_path)
    before = dump(dq.db_url)
    db = store.connect(dq.db_url)
    now = parse_local("2021-11-25 10:00", zone("Asia/Tomsk"))
    with pytest.raises(DqflowError, match="link|ссылка"):
        with store.transaction(db) as session:
            engine.submit(session, "tomsk-2021", "2", "fill-form", now, (link,))
    with pytest.raises(DqflowError, match="at most 20"):
        with store.transaction(db) as session:
            engine.submit(session, "tomsk-2021", "2", "fill-form", now, tuple(f"https://dou2.example.org/{n}" for n in range(21)))
    db.dispose()
    assert dump(dq.db_url) == before
    if "\x00" not in link:
        assert "ссылка" in one_line(dq("submit", "2", "--stage", "fill-form", "--link", link, "--now", "2021-11-25 10:00"))
    assert dump(dq.db_url) == before


# -- 8. scenario files: errors at FILE:LINE:COL -------------------------------------------------


@pytest.mark.parametrize("entry, needle, words", [
    ('{institution: "99", stage: fill-form, at: "2021-11-29 15:00"}', '"99"', ("ДОУ «99» в кампании нет",)),
    ('{institution: "2", stage: list1, at: "2021-11-29 15:00"}', "list1", ("не этап",)),
    ('{institution: "2", stage: fill-form, at: "9999-11-29 15:00"}', '"9999', ("1900–2200",)),
    ('{institution: "2", stage: fill-form, at: 15:00}', "15:00", ("число",)),
    ('{institution: "\\uD800", stage: fill-form, at: "2021-11-29 15:00"}', '"\\uD800"', ("U+D800",)),
    ('{institution: "2", stage: fill-form, when: "2021-11-29 15:00"}', "when", ("неизвестный ключ",)),
])
def test_a_scenario_error_is_located(dq: Cli, tmp_path: Path, entry: str, needle: str, words: tuple[str, ...]):
    scenario = tmp_path / "scenario.yaml"
    text = f"submissions:\n  - {{institution: \"4\", stage: fill-form, at: \"2021-11-29 10:00\"}}\n  - {entry}\n"
    scenario.write_text(text, encoding="utf-8")
    result = dq("simulate", str(TOMSK), "--scenario", str(scenario), "--until", "2021-11-20")
    assert result.exit_code == 1 and "Traceback" not in result.output
    error_at(result.stderr, scenario, *position(text, needle), *words)


def test_a_scenario_that_is_a_fifo_is_refused(tmp_path: Path):
    pipe = fifo(tmp_path, "scenario.yaml")
    stderr = refused_in_process(bounded_run("simulate", str(TOMSK), "--scenario", str(pipe), cwd=tmp_path))
    assert "это не обычный файл" in error_at(stderr, pipe, 1, 1)


# -- 9. the fuzz -----------------------------------------------------------------------------------
#
# Each case starts from something valid (the Tomsk file, its roster, an assigned expert's review,
# a command line that works) and makes one to three values hostile, so that most cases get past
# the first check and reach the code that stores, plans, renders or replays.

# Values that broke dqflow once or sit on a bound, in YAML source form, by the kind of key they go to.
HOSTILE_DATES = ["0001-01-01", "9999-12-31", "9999-12-31 23:59", "1899-12-31", "2200-12-31 23:59", "2201-01-01", "2021-02-30",
                 "2021-11-30 25:00", "2021-11-30T14:00+14:00", "1900-01-01", "14:00", "2021-11-30 24:00"]
HOSTILE_DURATIONS = ["99999999d", "9999999wd", "99999999999h", "367d", "366d", "0d", "1m", "-1d", "261wd", "260wd", "8785h",
                     "527041m", "3650d", "[{overdue: 1m, max: 1000000}]", "[{overdue: 1m, max: 10}]", "[{before: 99999999d}]",
                     "[{overdue: 99999999d}]", "[{overdue: 1m, max: 1000000}]\n    grace: 300d"]
HOSTILE_NUMBERS = ["0", "-1", "10", "11", "100000000", "9" * 5000, "1e9", "0x10", "010", "3", "12"]
HOSTILE_STRINGS = ['"\\uD800"', '"a\\uDFFFb"', '"\\0"', '"\\x01"', '"\\e"', '"a\\nb"', '"\\u2028"', "'" + "я" * 2500 + "'",
                   "'" + "e" * 101 + "'", "NO", "~", "null", "''", '""', "😀", "\u202eabc", "http://", "ftp://x", "a@b", "/dev/zero"]
HOSTILE_YAML = HOSTILE_DATES + HOSTILE_DURATIONS + HOSTILE_NUMBERS + HOSTILE_STRINGS + [
    "[]", "{}", "[1, [2, [3]]]", "!!python/object:os.system x", "!!binary aGVsbG8=", "&a x", "*nowhere", "Asia/Nowhere"]
KEY_VALUES = {"opens": HOSTILE_DATES, "due": HOSTILE_DATES, "at": HOSTILE_DATES, "date": HOSTILE_DATES,
              "grace": HOSTILE_DURATIONS, "reminders": HOSTILE_DURATIONS, "version": HOSTILE_NUMBERS,
              "experts_per_institution": HOSTILE_NUMBERS, "max_load": HOSTILE_NUMBERS}
# Values for command-line arguments and CSV cells.
HOSTILE_TEXT = [
    "", " ", "-", "--", "--help", "0001-01-01", "9999-12-31 23:59", "2200-12-31", "2021-02-30", "x" * 140_000,
    "\x00", "a\x00b", "\udcff", "\ud800", "\x01", "\x1b[31m", "a\nb", "a\rb", "\u2028", "\ufeff", "😀", "=HYPERLINK(\"x\")",
    '"unclosed', 'a,"b"', "a;b", "conditions=", "=2", "conditions=2;conditions=3", "../../etc/passwd", "/dev/zero",
    "99999999999999999999999", "-1", "0", "https://dou2.example.org/f", "javascript:alert(1)", "я" * 20_001,
]
HOSTILE_PATHS = ["/dev/zero", "/tmp", "\x00x", "nowhere/x", "\udcff.db", "", "-"]

FUZZ = settings(max_examples=250, deadline=CASE_DEADLINE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
hostile = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=16))


@contextmanager
def watchdog():
    """Stops the whole run, printing every stack, when one case hangs (hypothesis only sees cases that end)."""
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def answered(result, db_url: str, before: list[str], writes: bool = True) -> None:
    """The contract every case is held to: exit 0, 1 or 2; no traceback; a refusal changed nothing."""
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, "refused without saying why"
        assert all(PROBLEM.match(line) or line.startswith(("ошибка: ", "предупреждение: ")) for line in lines), result.stderr
    if result.exit_code != 0 or not writes:
        assert dump(db_url) == before, "a refused (or read-only) command changed the database"


def spoiled(draw, values: list[str], pool: st.SearchStrategy) -> list[str]:
    """`values` with one to three of them (more often one) replaced from `pool`."""
    values = list(values)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        values[draw(st.integers(0, len(values) - 1))] = draw(pool)
    return values


TOMSK_LINES = TOMSK_TEXT.splitlines(keepends=True)
VALUE_LINE = re.compile(r"(\s*(?:- )?(?P<key>[a-z_]+): )(\S.*)\n")
FLOW_VALUE = re.compile(r"(?P<key>id|name|email): (?P<value>[^,}]+)")  # inside `- {id: "2", name: …}`
VALUE_LINES = [n for n, line in enumerate(TOMSK_LINES) if VALUE_LINE.fullmatch(line) or FLOW_VALUE.search(line)]
OPENS_LINES = [n for n in VALUE_LINES if TOMSK_LINES[n].startswith("    opens: ")]
STAGE_KEYS = ["grace", "grace", "reminders", "reminders", "experts_per_institution", "max_load", "after", "exclude",
              "distinct_from", "list", "url"]


def hostile_value(draw, key: str) -> str:
    """Mostly a value hostile for that kind of key (a date for `due`), sometimes any at all."""
    return draw(st.sampled_from(KEY_VALUES.get(key, HOSTILE_STRINGS) if draw(st.integers(0, 3)) else HOSTILE_YAML))


@st.composite
def hostile_campaigns(draw) -> str:
    """The Tomsk file with one to three values made hostile, some of them keys added to a stage."""
    lines = list(TOMSK_LINES)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        n = draw(st.sampled_from(OPENS_LINES if draw(st.integers(0, 2)) == 0 else VALUE_LINES))
        line = VALUE_LINE.fullmatch(lines[n])
        if line is None:  # an institution written inline: one of its fields
            fields = list(FLOW_VALUE.finditer(lines[n]))
            if not fields:  # an earlier round spoiled this line beyond recognition
                continue
            field = fields[draw(st.integers(0, len(fields) - 1))]
            lines[n] = lines[n][:field.start("value")] + hostile_value(draw, field["key"]) + lines[n][field.end("value"):]
        elif line["key"] == "opens" and draw(st.integers(0, 3)):  # a key a stage may have, beside its opening
            key = draw(st.sampled_from(STAGE_KEYS))
            lines[n] += f"    {key}: {hostile_value(draw, key)}\n"
        else:
            lines[n] = line[1] + hostile_value(draw, line["key"]) + "\n"
    return "".join(lines)


@FUZZ
@given(text=hostile_campaigns(), now=st.sampled_from(["2021-11-25 10:00", "2021-12-20", "2200-12-31 23:59"]))
def test_fuzz_campaign_files(tmp_path_factory, text: str, now: str):
    folder = tmp_path_factory.mktemp("campaign")
    path = folder / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    dq = Cli(f"sqlite:///{folder / 'dqflow.db'}")
    with watchdog():
        answered(dq("validate", str(path)), dq.db_url, [], writes=False)
        loaded = dq("load", str(path), "--now", "2021-11-10")
        answered(loaded, dq.db_url, [])
        if loaded.exit_code == 0:
            answered(dq("tick", "--now", now), dq.db_url, dump(dq.db_url))
            answered(dq("status", "--now", now), dq.db_url, dump(dq.db_url), writes=False)


ROSTER_HEADER = ["id", "name", "email", "contact", "expert_id", "expert_name", "expert_email"]
ROSTER = [[n, f"ДОУ № {n}", f"dou{n}@example.org", "", f"e{n}", f"Эксперт {n}", f"e{n}@example.org"] for n in ("2", "4", "5", "6")]


@st.composite
def hostile_rosters(draw) -> bytes:
    """A valid four-ДОУ roster with one to three cells (or the header) made hostile, quoted or not."""
    rows = [list(ROSTER_HEADER)] + [list(r) for r in ROSTER]
    cells = [(r, c) for r in range(len(rows)) for c in range(7)]
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        r, c = draw(st.sampled_from(cells))
        rows[r][c] = draw(hostile)
    if draw(st.integers(0, 9)) == 0:
        rows[-1] = rows[-1][:draw(st.integers(1, 6))] + ([draw(hostile)] * draw(st.integers(0, 2)))
    text = "\n".join(",".join(f'"{c}"' if draw(st.booleans()) else c for c in row) for row in rows) + "\n"
    return text.encode("utf-8", errors="surrogatepass")  # a surrogate becomes bytes that are not UTF-8


@settings(FUZZ, max_examples=150)
@given(roster=hostile_rosters())
def test_fuzz_rosters(tmp_path_factory, roster: bytes):
    folder = tmp_path_factory.mktemp("roster")
    path = with_roster(folder, roster)
    dq = Cli(f"sqlite:///{folder / 'dqflow.db'}")
    with watchdog():
        answered(dq("validate", str(path)), dq.db_url, [], writes=False)
        loaded = dq("load", str(path), "--now", "2021-11-10")
        answered(loaded, dq.db_url, [])
        if loaded.exit_code == 0:
            answered(dq("tick", "--now", "2021-11-25 10:00"), dq.db_url, dump(dq.db_url))


SCENARIO = [('"2"', "fill-form", '"2021-11-19 10:00"'), ('"4"', "fill-form", "2021-11-19 12:00"), ("5", "fill-form", '"2021-11-19"')]


@st.composite
def hostile_scenarios(draw) -> str:
    """Three valid submissions with one to three values (or keys, or the whole shape) made hostile."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "[]", "submissions: 1", "submissions: [1, 2]", "a: &a [*a]", "submissions: {}",
                                     "submissions:\n  - *x", "\x00", "submissions: [{}]", "submissions: []\nsubmissions: []"]))
    values = spoiled(draw, [v for entry in SCENARIO for v in entry], st.sampled_from(HOSTILE_YAML))
    keys = ["institution", "stage", "at"]
    if draw(st.integers(0, 4)) == 0:
        keys[draw(st.integers(0, 2))] = draw(st.sampled_from(["when", "at", "institution", "x"]))
    entries = ["{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values[n:n + 3])) + "}" for n in range(0, len(values), 3)]
    return "submissions:\n" + "".join(f"  - {e}\n" for e in entries)


@settings(FUZZ, max_examples=100)
@given(scenario=hostile_scenarios(), until=st.sampled_from(["2021-11-19 18:00", "2021-11-20", "9999-12-31", "2200-01-01", "x"]))
def test_fuzz_scenario_files(tmp_path_factory, scenario: str, until: str):
    folder = tmp_path_factory.mktemp("scenario")
    path = folder / "scenario.yaml"
    path.write_text(scenario, encoding="utf-8", errors="surrogatepass")
    dq = Cli(f"sqlite:///{folder / 'dqflow.db'}")
    with watchdog():
        answered(dq("simulate", str(TOMSK), "--scenario", str(path), "--until", until), dq.db_url, [], writes=False)


@pytest.fixture(scope="module")
def assigned(prepared: Path) -> list[tuple[str, str]]:
    """(ДОУ, expert) pairs of list1 in the prepared database: reviews that would be recorded."""
    shown = Cli(f"sqlite:///{prepared}").json("experts", "show", "list1")
    return [(a["institution"], e) for a in shown["assignments"] for e in a["experts"]]


@st.composite
def hostile_review_imports(draw, assigned: list[tuple[str, str]]) -> bytes:
    """Two or three reviews by assigned experts with one to three cells (or the header) made hostile."""
    rows = [["institution", "stage", "expert", "levels", "recommendations"]]
    for inst, expert in draw(st.lists(st.sampled_from(assigned), min_size=1, max_size=3, unique=True)):
        rows.append([inst, "review1", expert, draw(st.sampled_from(["conditions=2", "parents=3;health=1", ""])), "Дополнить ссылки."])
    cells = [(r, c) for r in range(len(rows)) for c in range(5)]
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        r, c = draw(st.sampled_from(cells))
        rows[r][c] = draw(hostile)
    if draw(st.integers(0, 9)) == 0:
        rows[-1] = rows[-1][:draw(st.integers(1, 5))] + ([draw(hostile)] * draw(st.integers(0, 2)))
    text = "\n".join(",".join(f'"{c}"' if draw(st.booleans()) else c for c in row) for row in rows) + "\n"
    return text.encode("utf-8", errors="surrogatepass")


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_review_imports(prepared: Path, assigned: list[tuple[str, str]], tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("reviews")
    dq = copy_of(prepared, folder)
    (folder / "reviews.csv").write_bytes(data.draw(hostile_review_imports(assigned)))
    before = dump(dq.db_url)
    with watchdog():
        answered(dq("review", "--import", str(folder / "reviews.csv"), "--now", PREPARED_AT), dq.db_url, before)


# Command lines that work on the prepared database, with the positions of their values; the
# fuzz makes one to three of those values hostile. The flag says whether a success may write.
COMMANDS = [
    (["status", "--now", PREPARED_AT], False),
    (["status", "--institution", "4", "--json", "--now", PREPARED_AT], False),
    (["tick", "--now", "2021-12-06"], True),
    (["submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/f", "--now", "2021-11-25 10:00"], True),
    (["extend", "2", "--stage", "fill-form", "--until", "2021-12-20", "--reason", "болезнь", "--now", "2021-11-25"], True),
    (["excuse", "6", "--stage", "review1", "--reason", "ремонт", "--now", PREPARED_AT], True),
    (["history", "4"], False),
    (["why", "dou4@example.org", "--stage", "fill-form"], False),
    (["outbox", "--state", "pending", "--json"], False),
    (["experts", "show", "list1", "--csv"], False),
    (["experts", "assign", "list2", "--seed", "7", "--now", "2021-12-08 09:00"], True),
    (["experts", "set", "list2", "4", "e2", "e5", "--now", "2021-12-08 09:00"], True),
    (["experts", "diff", "list1", "list1"], False),
    (["review", "4", "--stage", "review1", "--expert", "e2", *levels("conditions=2"), "--now", PREPARED_AT], True),
    (["recommendations", "send", "review1", "--now", PREPARED_AT], True),
    (["remind", "--dry-run", "--now", PREPARED_AT], False),
    (["validate", str(TOMSK)], False),
    (["load", str(TOMSK), "--now", PREPARED_AT], True),
    (["--campaign", "tomsk-2021", "status"], False),
    (["--db", "other.db", "status", "--now", PREPARED_AT], True),
    (["simulate", str(TOMSK), "--until", "2021-11-19 18:00", "--seed", "3", "--maildir", "mail"], False),
    (["run", "--max-sleep", "0"], False),  # only ever refused: a valid --max-sleep would start the daemon
]
OPTION = re.compile(r"-{1,2}[a-z-]+|status|tick|submit|extend|excuse|history|why|outbox|experts|show|assign|set|diff|review"
                    r"|recommendations|send|remind|validate|load|simulate|run")


@settings(FUZZ, max_examples=400)
@given(data=st.data())
def test_fuzz_command_line_arguments(prepared: Path, tmp_path_factory, data):
    args, writes = data.draw(st.sampled_from(COMMANDS))
    values = [n for n, a in enumerate(args) if not OPTION.fullmatch(a)]
    for _ in range(data.draw(st.sampled_from([1, 1, 1, 2, 3]))):
        n = data.draw(st.sampled_from(values))
        path_like = args[n - 1] in ("--db", "--maildir", "validate", "load") or args[n].endswith(".yaml")
        args = args[:n] + [data.draw(st.one_of(st.sampled_from(HOSTILE_PATHS), hostile) if path_like else hostile)] + args[n + 1:]
    folder = tmp_path_factory.mktemp("args")
    dq = copy_of(prepared, folder)
    dq.env = {"DQFLOW_SMTP_HOST": ""}  # send and run stop before they could reach a mail server or start a daemon
    before = dump(dq.db_url)
    cwd = os.getcwd()
    os.chdir(folder)  # relative paths (other.db, mail) land in the case's own folder
    try:
        with watchdog():
            answered(dq(*args), dq.db_url, before, writes=writes)
    finally:
        os.chdir(cwd)
