"""Relative dates, yearly templates (`dqflow instantiate`) and dates as people write them.

Files are real (tmp_path), commands run through click's CliRunner; the expected FILE:LINE:COL
is computed from the text, never written down.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dqflow.campaign import dating
from dqflow.campaign import spec
from dqflow.calendar import FIRST_YEAR, LAST_YEAR, Duration, WorkCalendar, Written, parse_day, parse_local, read_written
from tests.conftest import ROOT, TOMSK, Cli
from tests.test_spec import assert_error_at, edit, problems, validate_fails, where

TEMPLATE = ROOT / "workflows" / "tomsk-template.yaml"
TZ = ZoneInfo("Asia/Tomsk")

SMALL = """\
version: 1
campaign:
  id: small
  title: Малая кампания
  timezone: Asia/Tomsk
  start: 2021-11-19
  coordinator: {name: КДО, email: kdo@example.org}
institutions:
  - {id: "1", name: ДОУ № 1, email: dou1@example.org}
stages:
  - id: webinar
    kind: event
    title: Вебинар
    at: {after: campaign.start, time: "14:00"}
  - id: fill
    kind: task
    actor: institution
    title: Заполнение формы
    opens: {after: webinar.at}
    due: {after: fill.opens, plus: 7wd}
  - id: fix
    kind: task
    actor: institution
    title: Корректировка
    opens: {after: fill.due, plus: 1wd}
    due: {after: fix.opens, plus: 3d}
"""


def small(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def local(instant: datetime) -> str:
    return instant.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


# -- relative dates ------------------------------------------------------------------------


def test_relative_dates_follow_stages_and_the_start_on_working_days(tmp_path: Path):
    campaign = spec.load(small(tmp_path))
    webinar, fill, fix = campaign.stages
    assert local(webinar.opens_at) == "2021-11-19 14:00:00" and not webinar.all_day
    assert local(fill.opens_at) == "2021-11-19 14:00:00"  # the webinar's moment, time and all
    assert local(fill.due_at) == "2021-11-30 14:00:00"  # 7 working days after Friday 19.11: Tuesday 30.11
    assert local(fix.opens_at) == "2021-12-01 14:00:00"
    assert local(fix.due_at) == "2021-12-04 14:00:00"  # calendar days count weekends


def test_a_date_without_a_time_keeps_the_meaning_of_its_key(tmp_path: Path):
    text = SMALL.replace('at: {after: campaign.start, time: "14:00"}', "at: {after: campaign.start}")
    campaign = spec.load(small(tmp_path, text))
    webinar, fill, fix = campaign.stages
    assert webinar.all_day
    assert local(fill.opens_at) == "2021-11-19 00:00:00"  # opens: the start of the day
    assert local(fill.due_at) == "2021-11-30 23:59:59"  # due: its end, as if written by hand
    assert local(fix.opens_at) == "2021-12-01 00:00:00"


def test_extra_days_off_of_the_campaign_calendar_count(tmp_path: Path):
    text = SMALL.replace("  start: 2021-11-19\n", "  start: 2021-11-19\n  calendar: {extra_days_off: [2021-11-22]}\n")
    assert local(spec.load(small(tmp_path, text)).stages[1].due_at) == "2021-12-01 14:00:00"


def test_the_tomsk_template_on_its_start_reproduces_tomsk_2021_stage_by_stage(dq: Cli, tmp_path: Path):
    out = tmp_path / "tomsk.yaml"
    said = dq.ok("instantiate", str(TEMPLATE), "--start", "2021-11-19", "--id", "tomsk-2021", "--out", str(out))
    assert said.startswith(f"Записано: {out}: кампания tomsk-2021, этапов: 14, с 19.11.2021 по 20.01.2022, дат вычислено: 25")
    made, order = spec.load(out), spec.load(TOMSK)
    assert [s.id for s in made.stages] == [s.id for s in order.stages]
    for ours, theirs in zip(made.stages, order.stages):
        assert (ours.opens_at, ours.due_at, ours.locks_at, ours.all_day) == (theirs.opens_at, theirs.due_at, theirs.locks_at, theirs.all_day), ours.id
        assert ours == theirs
    assert dq("validate", str(out)).stdout.startswith(f"{out}: в порядке: кампания tomsk-2021")


def test_instantiate_writes_absolute_dates_and_keeps_the_file_readable(dq: Cli, tmp_path: Path):
    out = tmp_path / "next" / "tomsk-2022.yaml"
    out.parent.mkdir()
    dq.ok("instantiate", str(TEMPLATE), "--start", "18.11.2022", "--id", "tomsk-2022", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert "{after:" not in text  # no relative date left, only the comments saying how they were made
    assert "  id: tomsk-2022\n" in text and "  start: 2022-11-18" in text
    assert "    at: 2022-11-18 14:00  # after campaign.start, 14:00\n" in text
    assert "    due: 2022-11-29  # after campaign.start + 7wd\n" in text
    template = TEMPLATE.read_text(encoding="utf-8")
    kept = [line for line in template.splitlines() if line.lstrip().startswith("#")]
    assert all(line in text.splitlines() for line in kept)  # every comment of the template stays
    campaign = spec.load(out)
    assert campaign.id == "tomsk-2022"
    assert local(campaign.stage("fill-form").due_at) == "2022-11-29 23:59:59"
    assert dq("load", str(out), "--now", "2022-11-01").exit_code == 0


def test_instantiate_adds_the_start_when_the_template_has_none(dq: Cli, tmp_path: Path):
    text = SMALL.replace("  start: 2021-11-19\n", "")
    out = tmp_path / "out.yaml"
    dq.ok("instantiate", str(small(tmp_path, text)), "--start", "01.09.2022", "--id", "small-2022", "--out", str(out))
    assert "  id: small-2022\n  start: 2022-09-01\n" in out.read_text(encoding="utf-8")
    assert local(spec.load(out).stages[0].opens_at) == "2022-09-01 14:00:00"


def test_instantiate_writes_nothing_on_error(dq: Cli, tmp_path: Path):
    out = tmp_path / "out.yaml"
    broken = small(tmp_path, SMALL.replace("opens: {after: webinar.at}", "opens: {after: webnar.at}"))
    result = dq("instantiate", str(broken), "--start", "2022-11-18", "--id", "x", "--out", str(out))
    assert result.exit_code == 1 and not out.exists()
    line, col = where(broken.read_text(encoding="utf-8"), "webnar.at")
    assert_error_at(problems(result.stderr), broken, line, col, "'webnar' is not a stage id", "did you mean 'webinar'")
    for args, message in [
        (["--start", "2022-13-01", "--id", "x"], "error: --start: '2022-13-01' is not a valid date or time: month must be in 1..12"),
        (["--start", "18.11.22", "--id", "x"], "error: --start: '18.11.22' is not a date or date-time; write 18.11.2022 (or 2022-11-18)"),
        (["--start", "2022-11-18 14:00", "--id", "x"], "error: --start: '2022-11-18 14:00' has a time of day; write the date alone: 18.11.2022 (or 2022-11-18)"),
        (["--start", "2022-11-18", "--id", "Tomsk 2022"], "error: --id 'Tomsk 2022' must be lower-case letters, digits, '-' or '_' (like tomsk-2022)"),
    ]:
        result = dq("instantiate", str(TEMPLATE), *args, "--out", str(out))
        assert (result.exit_code, result.stderr.strip()) == (1, message)
        assert not out.exists()
    out.write_text("mine", encoding="utf-8")
    result = dq("instantiate", str(TEMPLATE), "--start", "2022-11-18", "--id", "x", "--out", str(out))
    assert result.exit_code == 1 and "already exists; nothing written (use --force to overwrite)" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine"
    dq.ok("instantiate", str(TEMPLATE), "--start", "2022-11-18", "--id", "x", "--out", str(out), "--force")
    assert spec.load(out).id == "x"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


@pytest.mark.parametrize("old, new, needle, words", [
    ("opens: {after: webinar.at}", "opens: {after: webnar.at}", "webnar.at", ["'webnar' is not a stage id", "did you mean 'webinar'"]),
    ("opens: {after: webinar.at}", "opens: {after: webinar.due}", "webinar.due", ["'webinar' is an event and has no due; use its at"]),
    ("opens: {after: webinar.at}", "opens: {after: webinar}", "webinar}", ["must name a date", "like webinar.due"]),
    ("opens: {after: webinar.at}", "opens: {after: fix.due}", "fix.due}", ["in a circle", "fill.opens → fix.due → fix.opens → fill.due → fill.opens"]),
    ("due: {after: fix.opens, plus: 3d}", "due: {after: fix.due, plus: 3d}", "fix.due, plus: 3d}", ["in a circle: fix.due → fix.due"]),
    ("opens: {after: webinar.at}", "opens: {after: webinar.at, plus: 2x}", "2x", ["'2x' is not a duration"]),
    ("opens: {after: webinar.at}", "opens: {after: webinar.at, plus: 1d, minus: 1d}", "1d}", ["give 'plus' or 'minus', not both"]),
    ('time: "14:00"', 'time: "9.30"', '"9.30"', ["time '9.30' must be HH:MM, like \"09:30\""]),
    ('time: "14:00"', "time: 14:00", "14:00", ["read by YAML 1.1 as a sexagesimal number"]),
    ("  start: 2021-11-19\n", "", "campaign.start, time", ["campaign gives no start", "start: dd.mm.yyyy"]),
])
def test_a_wrong_relative_date_is_one_located_error(dq: Cli, tmp_path: Path, old: str, new: str, needle: str, words: list[str]):
    path = small(tmp_path, SMALL.replace(old, new))
    text = path.read_text(encoding="utf-8")
    found = validate_fails(dq, path)
    errors = [p for p in found if p["severity"] == "error"]
    assert len(errors) == 1, errors  # one mistake, one error: nothing that follows it is reported again
    line, col = where(text, needle)
    assert_error_at(found, path, line, col, *words)


def test_hours_need_a_time_to_move(dq: Cli, tmp_path: Path):
    text = SMALL.replace('at: {after: campaign.start, time: "14:00"}', "at: {after: campaign.start}").replace(
        "due: {after: fix.opens, plus: 3d}", "due: {after: fix.opens, plus: 12h}")
    path = small(tmp_path, text)
    line, col = where(path.read_text(encoding="utf-8"), "fix.opens, plus: 12h")
    assert_error_at(validate_fails(dq, path), path, line, col, "fix.opens is a date without a time of day", "not 12h")


def test_a_stage_that_fails_to_parse_keeps_its_id_for_references(dq: Cli, workflow_copy: Path):
    """A malformed `opens` is one error: the stages after it still find it (no false 'not a stage id')."""
    text = edit(workflow_copy, "    opens: 2021-12-01\n", "    opens: 2021-12-32\n")
    found = validate_fails(dq, workflow_copy)
    assert [p["severity"] for p in found].count("error") == 1, found
    line, col = where(text, "2021-12-32")
    assert_error_at(found, workflow_copy, line, col, "stage 'review1': opens", "not a valid date")
    assert not any("is not a stage id" in p["message"] for p in found)


def test_a_stage_with_a_wrong_kind_is_one_error_too(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "  - id: review1\n    kind: task\n", "  - id: review1\n    kind: tsak\n")
    errors = [p for p in validate_fails(dq, workflow_copy) if p["severity"] == "error"]
    assert len(errors) == 1 and "'tsak' must be one of" in errors[0]["message"], errors


# -- the resolver against a brute-force one ------------------------------------------------


def brute_force(entries: dict, start: Written | None, calendar: WorkCalendar) -> dict[str, Written]:
    """Sweep until nothing changes: an entry gets its date once what it follows has one."""
    dates = {dating.START: start} if start else {}
    dates.update({k: v for k, v in entries.items() if isinstance(v, Written)})
    for _ in range(len(entries) + 1):
        for key, value in entries.items():
            if isinstance(value, dating.Relative) and key not in dates and value.ref in dates:
                try:
                    dates[key] = dating.step(dates[value.ref], value, calendar)
                except ValueError:
                    pass
    dates.pop(dating.START, None)
    return dates


@st.composite
def date_graphs(draw):
    """Up to 60 stages, each with opens and due: written dates, or following a random other date
    (the start, a stage, a stage that does not exist), cycles included."""
    n = draw(st.integers(1, 60))
    ids = [f"s{i}" for i in range(n)]
    refs = st.sampled_from([dating.START] + [f"{s}.{f}" for s in ids for f in ("opens", "due")] + ["nowhere.due"])
    shifts = st.none() | st.builds(Duration, st.integers(0, 40), st.sampled_from(["d", "wd", "h"]))
    entries: dict[str, Written | dating.Relative | None] = {}
    for s in ids:
        for f in ("opens", "due"):
            kind = draw(st.sampled_from(["written", "relative", "relative", "relative", "broken"]))
            if kind == "written":
                entries[f"{s}.{f}"] = Written(date(2021, 11, 1) + timedelta(days=draw(st.integers(0, 60))),
                                              draw(st.none() | st.just(time(14, 0))))
            elif kind == "relative":
                entries[f"{s}.{f}"] = dating.Relative(draw(refs), draw(shifts), draw(st.sampled_from([1, -1])),
                                                      draw(st.none() | st.just(time(9, 30))))
            else:
                entries[f"{s}.{f}"] = None
    start = draw(st.none() | st.just(Written(date(2021, 11, 19))))
    return entries, {s: "task" for s in ids}, start


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph=date_graphs())
def test_the_resolver_agrees_with_a_brute_force_sweep(graph):
    entries, stages, start = graph
    calendar = WorkCalendar("RU", frozenset({date(2021, 12, 31)}))
    resolution = dating.resolve(entries, stages, start, start is not None, calendar)
    assert resolution.dates == brute_force(entries, start, calendar)
    unresolved = [k for k, v in entries.items() if isinstance(v, dating.Relative) and k not in resolution.dates]
    assert len(resolution.problems) <= len(unresolved)  # at most one problem per date left out
    unknown = [k for k in unresolved if entries[k].ref == "nowhere.due" or (entries[k].ref == dating.START and start is None)]
    assert len(resolution.problems) >= len(unknown)  # each wrong reference is said


# -- dates as people write them -------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)), clock=st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       zone=st.sampled_from(["Asia/Tomsk", "Asia/Novokuznetsk", "Europe/Moscow", "UTC"]))
def test_dd_mm_yyyy_reads_as_its_iso_form(day: date, clock: time | None, zone: str):
    tz = ZoneInfo(zone)
    russian = day.strftime("%d.%m.") + f"{day.year:04d}" + (f" {clock:%H:%M}" if clock else "")
    iso = f"{day.year:04d}-{day:%m-%d}" + (f" {clock:%H:%M}" if clock else "")
    assert read_written(russian) == read_written(iso) == Written(day, clock)
    for end in (False, True):
        assert parse_local(russian, tz, end_of_day=end) == parse_local(iso, tz, end_of_day=end)
    if clock is None:
        assert parse_day(russian) == day
    shown = parse_local(russian, tz).astimezone(tz)
    assert shown.strftime("%d.%m.%Y %H:%M")[:10] == russian[:10]  # what dqflow shows reads back as itself


@pytest.mark.parametrize("value, hint", [
    ("12.9.2022", "write 12.09.2022 (or 2022-09-12)"),
    ("1/2/22 9:30", "write 01.02.2022 09:30 (or 2022-02-01 09:30)"),
    ("2022/9/12", "write 12.09.2022 (or 2022-09-12)"),
    ("завтра", "write a date as dd.mm.yyyy or yyyy-mm-dd, and HH:MM after it for a time of day"),
])
def test_a_hint_quotes_the_value_converted(value: str, hint: str):
    with pytest.raises(ValueError) as caught:
        read_written(value)
    assert str(caught.value) == f"'{value}' is not a date or date-time; {hint}"


def test_yaml_dates_may_be_written_dd_mm_yyyy(dq: Cli, workflow_copy: Path):
    edit(workflow_copy, "    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 19.11.2021\n    due: 30.11.2021\n")
    edit(workflow_copy, "    at: 2021-11-19 14:00\n", "    at: 19.11.2021 14:00\n")
    edit(workflow_copy, "    date: \"2021-11-22\"\n", "    date: 22.11.2021\n")
    assert spec.load(workflow_copy).stages == spec.load(TOMSK).stages
    text = edit(workflow_copy, "    opens: 19.11.2021\n", "    opens: 19.11.21\n")
    line, col = where(text, "19.11.21\n")
    assert_error_at(validate_fails(dq, workflow_copy), workflow_copy, line, col,
                    "'19.11.21' is not a date or date-time; write 19.11.2021 (or 2021-11-19)")


def test_now_and_until_take_dd_mm_yyyy(tomsk: Cli):
    assert tomsk.json("status", "--now", "29.11.2021 10:00") == tomsk.json("status", "--now", "2021-11-29 10:00")
    said = tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "03.12.2021", "--reason", "болезнь", "--now", "29.11.2021 12:00")
    assert "03.12.2021 23:59" in said
    result = tomsk("status", "--now", "29.11.21")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --now: '29.11.21' is not a date or date-time; write 29.11.2021 (or 2021-11-29)"


# -- the Kemerovo procedure as a yearly template ---------------------------------------------------

KEMEROVO = ROOT / "workflows" / "kemerovo.yaml"
SEEDS = ROOT.parent / "shared" / "seeds"  # beside the checkout on the project's machines, not in a clone
KEMEROVO_AREAS = [  # 2.4 of the order, its own words
    "Образовательные условия", "Образовательные ориентиры", "Взаимодействие с родителями (законными представителями)",
    "Здоровье, безопасность и повседневный уход",
    "Условия получения дошкольного образования лицами с ограниченными возможностями здоровья",
]


def squash(text: str) -> str:
    return " ".join(text.replace("ё", "е").lower().split())


def test_kemerovo_template_carries_the_orders_procedure():
    campaign = spec.load(KEMEROVO)
    assert campaign.timezone == "Asia/Novokuznetsk"
    assert campaign.coordinator.name == "МАУ «Информационно-методический центр»"
    assert [a.title for a in campaign.areas] == KEMEROVO_AREAS
    kinds = {s.id: (s.kind, s.actor) for s in campaign.stages}
    assert kinds["collection"] == ("task", "institution") and kinds["assessment"] == ("task", "expert")
    assert kinds["publication"] == ("task", "coordinator")
    addresses = [campaign.coordinator.email] + [i.email for i in campaign.institutions] + [e.email for e, _ in campaign.every_expert()]
    assert all(a.endswith(".example.org") or a.endswith("@example.org") for a in addresses)
    assert campaign.experts and all(home is None for _, home in campaign.every_expert())  # the ИМЦ's methodologists
    seed = next(SEEDS.glob("000_*.txt"), None)
    if seed is None:
        pytest.skip(f"the seeds are not beside this checkout ({SEEDS})")
    order = squash(seed.read_text(encoding="utf-8"))
    for area in KEMEROVO_AREAS:
        assert squash(area) in order, area
    for stage in ("collection", "processing", "publication"):  # the mechanisms in the order's words
        words = squash(campaign.stage(stage).title.replace(" в ДОО", ""))
        assert words in order, stage
    assert squash(campaign.stage("assessment").title)[:60] in order


def test_kemerovo_instantiates_for_any_year(dq: Cli, tmp_path: Path):
    out = tmp_path / "kemerovo-2023.yaml"
    dq.ok("instantiate", str(KEMEROVO), "--start", "11.09.2023", "--id", "kemerovo-2023", "--out", str(out))
    made, template = spec.load(out), spec.load(KEMEROVO)
    assert made.id == "kemerovo-2023"
    assert made.stage("collection").opens_at.astimezone(made.tz).date() == date(2023, 9, 11)
    assert made.stage("collection").due_at.astimezone(made.tz).date() == date(2023, 9, 25)  # 10 working days
    assert [(s.id, s.title, s.kind) for s in made.stages] == [(s.id, s.title, s.kind) for s in template.stages]
    assert made.terms == template.terms and made.terms.nom == "ДОО"  # the order's word for an institution came along
    result = dq("simulate", str(out), "--json")
    assert result.exit_code == 0, result.output


def test_the_readmes_template_example_runs_and_says_what_the_readme_says(dq: Cli, tmp_path: Path, monkeypatch):
    import re
    import shlex
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Yearly templates"):]
    block = section[section.index("```sh\n") + 6:section.index("```\n", section.index("```sh\n") + 6)]
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    monkeypatch.chdir(tmp_path)
    outputs = [dq.ok(*shlex.split(line.split("#")[0])[1:]) for line in block.splitlines() if line.strip()]
    claimed = " ".join(re.search(r"The first command prints `([^`]+)`", section, re.S)[1].split())
    assert outputs[0].strip() == claimed
    assert "    due: 2023-09-25  # after collection.opens + 10wd\n" in (tmp_path / "kemerovo-2023.yaml").read_text(encoding="utf-8")
