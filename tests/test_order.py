"""`dqflow import-order`: an order's schedule table (plain text) → a draft campaign file that validates.

The Tomsk order's table is read from tests/data (the seed's text, verbatim; `test_spec.py` checks the
copy against the seed where the seeds are beside the checkout); variants are made from it by the tests:
page breaks inside the table, terms split over two lines, and every other way of writing a term.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dqflow.campaign import order, schedule, spec
from dqflow.cli import cli
from tests.conftest import ROOT, TOMSK, Cli, query

TABLE = ROOT / "tests" / "data" / "tomsk-2021-order-table.tsv"
TABLE_TEXT = TABLE.read_text(encoding="utf-8")
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parent.parent / "shared" / "seeds") if p.is_dir()),
             ROOT.parent / "shared" / "seeds")  # beside the checkout (CI, the main checkout) or beside a worktree's folder
PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")
GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"]


def run(*args: str):
    result = CliRunner().invoke(cli, list(map(str, args)))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure, not an exit code
    return result


def imported(tmp_path: Path, text: str, *options: str, name: str = "order.txt") -> tuple[Path, spec.Campaign]:
    source, out = tmp_path / name, tmp_path / "draft.yaml"
    source.write_text(text, encoding="utf-8")
    result = run("import-order", source, "--out", out, *options)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    checked = run("validate", out)
    assert checked.exit_code == 0, checked.output
    return out, spec.load(out)


def refused(tmp_path: Path, data: str | bytes, *options: str) -> str:
    """The one error line for an order file holding `data`; nothing is written."""
    source, out = tmp_path / "order.txt", tmp_path / "draft.yaml"
    source.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    result = run("import-order", source, "--out", out, *options)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not out.exists()
    return result.stderr.strip()


# -- the Tomsk order ---------------------------------------------------------------------------------


def test_import_order_says_what_it_wrote_in_russian(tmp_path: Path):
    source, out = tmp_path / "order.txt", tmp_path / "draft.yaml"
    source.write_text(TABLE_TEXT, encoding="utf-8")
    said = run("import-order", source, "--out", out, "--id", "tomsk-2021").stdout.splitlines()
    assert said[0].startswith(f"Записано: {out}: кампания tomsk-2021, этапов: 14 (")
    assert "задача: " in said[0] and "ДОУ: 11 с адресами-заглушками; догадок для проверки (помечены «# guess:»): " in said[0]
    assert said[1] == f"Дальше: поправьте файл, затем dqflow validate {out}"


def test_the_tomsk_table_drafts_the_schedule_of_the_tomsk_campaign(tmp_path: Path):
    """Row by row: the dates, kinds, actors and the order's own words of workflows/tomsk-2021.yaml."""
    out, draft = imported(tmp_path, TABLE_TEXT, "--id", "tomsk-2021")
    tomsk = spec.load(TOMSK)
    assert draft.id == "tomsk-2021" and draft.timezone == "Asia/Tomsk"
    assert len(draft.stages) == len(tomsk.stages) == 14
    for mine, theirs in zip(draft.stages, tomsk.stages):
        assert (mine.opens_at, mine.due_at, mine.locks_at) == (theirs.opens_at, theirs.due_at, theirs.locks_at), theirs.id
        assert (mine.kind, mine.actor, mine.all_day) == (theirs.kind, theirs.actor, theirs.all_day), theirs.id
        assert (mine.title, mine.responsible, mine.result, mine.url) == (theirs.title, theirs.responsible, theirs.result, theirs.url)
        assert (mine.list is None) == (theirs.list is None), theirs.id
    by_id = {s.id: s for s in draft.stages}
    assert by_id["review2"].list == "list2" and by_id["handout1"].list == "list1" and by_id["list2"].distinct_from == "list1"
    assert sorted(i.id for i in draft.institutions) == sorted(i.id for i in tomsk.institutions)
    assert all(i.email.endswith("@example.org") for i in draft.institutions)


def test_every_guess_carries_a_comment(tmp_path: Path):
    out, _ = imported(tmp_path, TABLE_TEXT)
    lines = out.read_text(encoding="utf-8").splitlines()
    for key in ("kind:", "actor:", "list:", "distinct_from:", "audience:", "experts_per_institution:", "timezone:", "  id:"):
        guessed = [line for line in lines if line.strip().startswith(key.strip()) and "{" not in line]
        assert guessed, key
        assert all("  # " in line for line in guessed), (key, guessed)
    assert all("# found as" in line for line in lines if line.startswith("  - {id:"))


def test_the_draft_loads_and_runs(dq: Cli, tmp_path: Path):
    out, _ = imported(tmp_path, TABLE_TEXT, "--id", "drafted")
    dq.ok("load", out, "--now", "2021-11-10")
    dq.ok("tick", "--now", "2021-11-25 10:00")  # list 1 is drawn from the stub's placeholder experts
    assert query(dq.db_url, "SELECT count(*) FROM institution")[0][0] == 11


def test_the_whole_seed_order_drafts_without_a_personal_name(tmp_path: Path):
    """The order as received: preamble, working group, stamp, signature, then the table."""
    readme = SEEDS / "README.md"
    if not readme.is_file():
        pytest.skip(f"the seeds are not beside this checkout ({SEEDS}); the table's copy in tests/data stands in")
    name = next(m[1] for line in readme.read_text(encoding="utf-8").splitlines()
                if "Tomsk" in line and (m := re.search(r"`([^`]+\.txt)`", line)))
    text = (SEEDS / name).read_text(encoding="utf-8")
    out, draft = imported(tmp_path, text)
    assert draft.order == {"number": "1138", "date": "2021-11-22"}
    assert [s.due_at for s in draft.stages] == [s.due_at for s in spec.load(TOMSK).stages]
    names = {i.id: i.name for i in draft.institutions}
    assert names["2"] == "МАДОУ № 2" and names["35"] == "МБДОУ № 35"
    group = [line for line in text.splitlines() if re.match(r"\s*- 1\.2\.\d+\.\s+\w", line)]
    surnames = {line.split()[2] for line in group}
    assert len(surnames) >= 10
    written = out.read_text(encoding="utf-8")
    assert not [s for s in surnames if s in written]


# -- page breaks and other forms ---------------------------------------------------------------------


def test_page_breaks_and_split_terms_inside_the_table(tmp_path: Path):
    lines = TABLE_TEXT.splitlines()
    header = lines[0]
    broken = []
    for number, line in enumerate(lines):
        if line.startswith("1-5.12.2021"):
            broken += ["", "2", "\f", header]  # a page ends: blank line, page number, form feed, header again
        if line.startswith("20.12.2021 г. - 20.01.2022 г."):
            first, rest = line.split(" - ", 1)
            line = first + " -\t" + rest.split("\t", 1)[1]
            broken.append(line)
            broken.append("20.01.2022 г.\t\t\t")  # the term's end wrapped to the next line
            continue
        broken.append(line)
    broken += ["", "Начальник департамента"]  # text after the table ends it
    _, draft = imported(tmp_path, "\n".join(broken) + "\n")
    assert [(s.opens_at, s.due_at) for s in draft.stages] == [(s.opens_at, s.due_at) for s in spec.load(TOMSK).stages]


def _with_terms(terms: list[str]) -> str:
    rows = TABLE_TEXT.splitlines()
    body = [r for r in rows[1:] if r and not r.startswith("\t")]
    return "\n".join([rows[0]] + [term + "\t" + row.split("\t", 1)[1] for term, row in zip(terms, body)]) + "\n"


def test_the_other_forms_of_a_term_give_the_same_dates(tmp_path: Path):
    terms = ["19 ноября 2021 года в 14:00", "с 19 по 30 ноября 2021 г.", "25 ноября 2021 г.", "до 30.11.2021",
             "1.12-5.12.2021", "06.12.21", "7 – 12 декабря 2021 г.", "8 декабря", "10.12.2021г.", "10 - 14 декабря",
             "15.12.2021", "15.12.2021 г. — 19.12.2021 г.", "20 декабря 2021 г.", "20 декабря 2021 г. - 20 января 2022 г."]
    _, draft = imported(tmp_path, _with_terms(terms))
    tomsk = spec.load(TOMSK)
    assert [s.due_at for s in draft.stages] == [s.due_at for s in tomsk.stages]
    opens = [s.opens_at for s in draft.stages]
    assert opens[3] == opens[1]  # "до 30.11.2021": opens on the table's first day (the text names no order date)
    assert opens[:3] + opens[4:] == [s.opens_at for s in tomsk.stages][:3] + [s.opens_at for s in tomsk.stages][4:]


def test_a_term_without_a_year_takes_the_year_of_the_row_above_and_says_so(tmp_path: Path):
    terms = ["19.11.2021 14.00", "19-30 ноября", "до 25 ноября", "30 ноября"] + [None] * 10
    rows = _with_terms([t or "" for t in terms]).splitlines()[:5]
    out, draft = imported(tmp_path, "\n".join(rows) + "\n")
    assert [s.due_at.date() for s in draft.stages[1:]] == [date(2021, 11, 30), date(2021, 11, 25), date(2021, 11, 30)]
    text = out.read_text(encoding="utf-8")
    assert text.count("the order gives no year here") == 2 and "gives only the deadline" in text


# -- the term parser ---------------------------------------------------------------------------------


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def written_terms(draw) -> tuple[str, schedule.Term]:
    """A term as orders write it, and what it means."""
    first = draw(days)
    g = " г." if draw(st.booleans()) else ""
    form = draw(st.sampled_from(["day", "timed", "worded", "range-worded", "range-month", "range-full", "range-across", "until"]))
    if form == "day":
        return f"{first.day}.{first.month:02d}.{first.year}{g}", schedule.Term(first, first)
    if form == "timed":
        at = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
        sep = draw(st.sampled_from([".", ":"]))
        return f"{first:%d.%m.%Y}{g} {at.hour}{sep}{at:%M}", schedule.Term(first, first, at)
    if form == "worded":
        return f"{first.day} {GENITIVE[first.month - 1]} {first.year}{g}", schedule.Term(first, first)
    if form == "until":
        return f"до {first.day} {GENITIVE[first.month - 1]}", schedule.Term(None, first, year_assumed=True)
    if form in ("range-worded", "range-month"):
        last = first + timedelta(days=draw(st.integers(0, 27)))
        if last.month != first.month:
            last = first
        dash = draw(st.sampled_from(["-", " - ", "–", " — "]))
        if form == "range-worded":
            return f"{first.day}{dash}{last.day} {GENITIVE[last.month - 1]} {last.year}{g}", schedule.Term(first, last)
        return f"{first.day}{dash}{last.day}.{last.month:02d}.{last.year}{g}", schedule.Term(first, last)
    last = first + timedelta(days=draw(st.integers(0, 400)))
    if form == "range-full":
        return f"{first:%d.%m.%Y}{g} - {last:%d.%m.%Y}{g}", schedule.Term(first, last)
    if (last.year - first.year) > 1 or (last.year != first.year and (last.month, last.day) >= (first.month, first.day)):
        return f"{first:%d.%m.%Y} - {last:%d.%m.%Y}", schedule.Term(first, last)
    return (f"с {first.day} {GENITIVE[first.month - 1]} по {last.day} {GENITIVE[last.month - 1]} {last.year} года",
            schedule.Term(first, last))


@settings(max_examples=400, deadline=None)
@given(written=written_terms())
def test_parse_term_reads_every_form(written: tuple[str, schedule.Term]):
    text, meant = written
    year = meant.last.year if meant.year_assumed else None
    assert schedule.parse_term(text, year) == meant


@pytest.mark.parametrize("term, words", [
    ("в течение месяца", ("cannot read",)),
    ("31.11.2021", ("does not exist",)),
    ("30.12.2021 - 1.12.2021", ("ends before it starts",)),
    ("15", ("no month",)),
    ("15 декабря", ("no year",)),
])
def test_parse_term_says_why_it_cannot_read_a_term(term: str, words: tuple[str, ...]):
    with pytest.raises(ValueError) as caught:
        schedule.parse_term(term)
    assert all(w in str(caught.value) for w in words)


# -- bad input: one line, exit 1, nothing written ------------------------------------------------------


def test_a_text_without_a_table_is_refused(tmp_path: Path):
    line = refused(tmp_path, "РАСПОРЯЖЕНИЕ\nО мониторинге\n")
    assert line.startswith(f"{tmp_path / 'order.txt'}:1:1: error: no schedule table found") and "Срок" in line


def test_an_unreadable_term_is_located_at_its_line_and_column(tmp_path: Path):
    text = TABLE_TEXT.replace("25.11.2021 г.\t", "в конце ноября\t")
    line_number = text[:text.index("в конце ноября")].count("\n") + 1
    match = PROBLEM.match(refused(tmp_path, text))
    assert match and (int(match["line"]), int(match["col"])) == (line_number, 1)
    assert "в конце ноября" in match["message"] and "1-5.12.2021" in match["message"]


def test_an_existing_out_file_is_left_alone(tmp_path: Path):
    (tmp_path / "order.txt").write_text(TABLE_TEXT, encoding="utf-8")
    (tmp_path / "draft.yaml").write_text("mine\n", encoding="utf-8")
    result = run("import-order", tmp_path / "order.txt", "--out", tmp_path / "draft.yaml")
    assert result.exit_code == 1 and "exists" in result.stderr and len(result.stderr.splitlines()) == 1
    assert (tmp_path / "draft.yaml").read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("options, words", [
    (("--timezone", "Asia/Tomks"), ("--timezone",)),
    (("--id", "Tomsk 2021"), ("--id", "lower-case")),
])
def test_bad_options_are_refused(tmp_path: Path, options: tuple[str, ...], words: tuple[str, ...]):
    line = refused(tmp_path, TABLE_TEXT, *options)
    assert all(w in line for w in words), line


def test_an_order_that_is_not_text_is_refused_where_it_stops_being_text(tmp_path: Path):
    lines = TABLE_TEXT.encode("utf-8").split(b"\n")
    lines[2] = b"\x98\x81\xff" + lines[2]
    line = refused(tmp_path, b"\n".join(lines))
    assert f"{tmp_path / 'order.txt'}:3:1: error: byte 0x98 is not UTF-8" in line


def test_the_options_are_used(tmp_path: Path):
    _, draft = imported(tmp_path, TABLE_TEXT, "--timezone", "Asia/Novokuznetsk", "--id", "kemerovo-2022")
    assert (draft.id, draft.timezone) == ("kemerovo-2022", "Asia/Novokuznetsk")
    assert draft.stages[0].opens_at == datetime(2021, 11, 19, 14, 0, tzinfo=draft.tz)


HOSTILE_CELLS = ["", " ", "\x00", "\x85", "\u2028", "\ufeff", "\udcff", "#", "# guess:", "'", '"', "\\", "{a: b}", "- x", "&a *a",
                 "ДОУ №№ " + ", ".join(str(n) for n in range(1, 300)), "МАДОУ № 0", "ДОУ № 99999", "http://x", "я" * 3000,
                 "31.02.2021", "1-5.13.2021", "до", "-", "20.12.2021 г. -", "01.01.1800", "01.01.2300", "1.1.2021 - 1.1.2025",
                 "с 5 по 1 декабря 2021", "19.11.2021 25.00", "вебинар", "выдача", "списка 7", "экспертиза", "\t\t\t", "Срок\tМероприятие"]


@st.composite
def hostile_orders(draw) -> bytes:
    """The Tomsk table with one to three cells (or whole lines) made hostile."""
    lines = [line.split("\t") for line in TABLE_TEXT.splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, len(lines) - 1))
        value = draw(st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=12)))
        if draw(st.integers(0, 4)) == 0:
            lines.insert(row, [value])
        else:
            lines[row][draw(st.integers(0, len(lines[row]) - 1))] = value
    return "\n".join("\t".join(cells) for cells in lines).encode("utf-8", errors="surrogatepass")


@settings(max_examples=120, deadline=None)
@given(data=hostile_orders())
def test_fuzz_import_order(tmp_path_factory, data: bytes):
    folder = tmp_path_factory.mktemp("order")
    (folder / "order.txt").write_bytes(data)
    result = run("import-order", folder / "order.txt", "--out", folder / "draft.yaml")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert not (folder / "draft.yaml").exists()
        assert result.stdout == "" and result.stderr.strip()
    else:
        assert run("validate", folder / "draft.yaml").exit_code == 0
