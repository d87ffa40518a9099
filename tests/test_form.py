"""The monitoring form: indicators in the campaign file (inline, CSV, XLSX; mistakes at their positions), a ДОУ's
draft saved per indicator, hand-in refused while incomplete (naming the indicators), versions carried to the next
form stage, a property test of the versioning, and statement counts equal at 15 and 1,500 ДОУ (SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from conftest import TOMSK, counting_statements
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql_text

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.engine import form
from dqflow.errors import DqflowError

FORM_STAGES = ("fill-form", "refill", "final-fix")
REQUIRED = ("1.1", "1.2", "2.1", "3.1", "4.1", "5.1")  # the bundled example form's required indicators
INDICATORS = ("1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")


def form_file(folder: Path, n: int | None = None, name: str = "form") -> Path:
    """The Tomsk campaign (its example form) with its fill, refill and final fix marked `form: true`; with `n`, a
    generated roster of n ДОУ, each with two experts of its own."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    for stage in data["stages"]:
        if stage["id"] in FORM_STAGES:
            stage["form"] = True
    if n is not None:
        data["campaign"]["id"] = f"{name}-{n}"
        data["institutions"] = {"file": f"roster-{n}.csv"}
        rows = ["id,name,email,contact,expert_id,expert_name,expert_email"]
        rows += [f"{i},МБДОУ № {i},dou{i}@example.org,,e{i}-{k},Эксперт {k} ДОУ № {i},expert{i}-{k}@example.org"
                 for i in range(1, n + 1) for k in (1, 2)]
        (folder / f"roster-{n}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / f"{name}-{n or 'tomsk'}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def at(text: str):
    return parse_local(text, spec.load(TOMSK).tz)


# -- the campaign file ----------------------------------------------------------------------------------------


def test_the_bundled_files_carry_an_example_form_marked_as_such():
    for name in ("tomsk-2021.yaml", "kemerovo.yaml"):
        path = TOMSK.parent / name
        campaign = spec.load(path)
        assert campaign.has_form and all(len(a.indicators) >= 2 for a in campaign.areas)
        assert "НЕ официальный перечень" in path.read_text(encoding="utf-8")
        assert campaign.base_level == "1" and campaign.levels[0].baseline
    # Kemerovo's ДОО hand in the form (its collection stage), and its experts review per indicator; Tomsk's schedule
    # keeps links per stage and reviews per area (its order's table; a coordinator marks its stages `form: true`).
    assert [s.id for s in spec.load(TOMSK.parent / "kemerovo.yaml").form_stages()] == ["collection"]
    assert spec.load(TOMSK.parent / "kemerovo.yaml").reviews_by_indicator and not spec.load(TOMSK).reviews_by_indicator


def test_inline_form_reads_and_survives_storage(tmp_path: Path):
    campaign = spec.load(form_file(tmp_path))
    assert [s.id for s in campaign.form_stages()] == list(FORM_STAGES)
    assert list(campaign.indicators) == list(INDICATORS)
    area, indicator = campaign.indicators["1.3"]
    assert area.id == "conditions" and not indicator.required
    assert campaign.indicators["1.1"][1].hint.startswith("Фото")
    assert spec.from_json(spec.to_json(campaign)) == campaign
    assert [s.id for s in campaign.earlier_form_stages("final-fix")] == ["refill", "fill-form"]


def test_a_campaign_without_indicators_stores_as_before(tmp_path: Path):
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["areas"] = [{"id": a["id"], "title": a["title"]} for a in data["areas"]]
    data["levels"] = [{"id": lv["id"], "title": lv["title"]} for lv in data["levels"]]
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    campaign = spec.load(path)
    stored = json.loads(spec.to_json(campaign))
    assert not campaign.has_form and campaign.form_stages() == []
    assert all(set(a) == {"id", "title"} for a in stored["areas"]) and all(set(lv) == {"id", "title"} for lv in stored["levels"])
    assert all("form" not in s for s in stored["stages"])


@pytest.mark.parametrize(("levels", "base"), [
    ([("1", "Низкий", False), ("2", "Базовый уровень", False), ("3", "Высокий", True)], "3"),
    ([("1", "Низкий", False), ("2", "Базовый уровень", False)], "2"),
    ([("a", "Первый", False), ("b", "Второй", False)], "a"),
    ([], None),
])
def test_the_base_level_rule(levels, base):
    scale = tuple(spec.Level(i, t, b) for i, t, b in levels)
    campaign = dataclasses.replace(spec.load(TOMSK), levels=scale)
    assert campaign.base_level == base
    from dqflow.results import figures

    assert figures._base_level(campaign) == base  # the справка asks the same rule


def _problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in spec.validate(path).errors]


def _with(tmp_path: Path, areas: str | None = None, levels: str | None = None, stage_extra: dict | None = None) -> str:
    """The Tomsk file with its `areas:` (and/or `levels:`) block replaced by the text given."""
    text = TOMSK.read_text(encoding="utf-8")
    if areas is not None:
        start = text.index("\nareas:\n") + 1
        end = text.index("\n\nlevels:", start)
        text = text[:start] + areas.strip("\n") + text[end:]
    if levels is not None:
        start = text.index("\nlevels:\n") + 1
        end = text.index("\n\n", start)
        text = text[:start] + levels.strip("\n") + text[end:]
    for stage_id, line in (stage_extra or {}).items():
        anchor = f"  - id: {stage_id}\n"
        text = text.replace(anchor, anchor + f"    {line}\n")
    return text


def test_form_mistakes_are_found_where_they_stand(tmp_path: Path):
    areas = """areas:
  - id: conditions
    title: Условия
    indicators:
      - {id: "1.1", title: Среда}
      - {id: "1.1", title: Ещё раз}
      - {id: 1.2, title: Число}
      - {id: "1.3", title: Третий, evidence: maybe}
  - id: parents
    title: Родители
"""
    found = _problems(_with(tmp_path, areas), tmp_path)
    text = "\n".join(found)
    lines = _with(tmp_path, areas).splitlines()
    row = lambda needle: next(n for n, line in enumerate(lines, 1) if needle in line)  # noqa: E731
    assert f"c.yaml:{row('Ещё раз')}:9: ошибка: показатель «1.1» повторяется (впервые в строке {row('Среда')})" in text
    assert f"c.yaml:{row('Число')}:" in text and "возьмите в кавычки" in text
    assert f"c.yaml:{row('maybe')}:" in text and "indicator.evidence: «maybe» — допустимо одно из: required, optional" in text
    assert f"c.yaml:{row('- id: parents')}:5: ошибка: область «parents» без показателей" in text


def test_form_true_only_on_a_dou_task_and_only_with_indicators(tmp_path: Path):
    found = "\n".join(_problems(_with(tmp_path, stage_extra={"review1": "form: true"}), tmp_path))
    assert "form: true бывает только у задачи ДОУ" in found
    plain = """areas:
  - {id: conditions, title: Условия}
"""
    found = "\n".join(_problems(_with(tmp_path, plain, stage_extra={"fill-form": "form: true"}), tmp_path))
    assert "у областей кампании нет показателей" in found


def test_one_baseline_at_most(tmp_path: Path):
    levels = """levels:
  - {id: "1", title: Базовый уровень, baseline: true}
  - {id: "2", title: Выше, baseline: true}
"""
    text = _with(tmp_path, levels=levels)
    found = "\n".join(_problems(text, tmp_path))
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "Выше" in row)
    assert f"c.yaml:{line}:" in found and "базовый уровень один" in found


CSV = """area;area title;indicator;title;hint;required
conditions;Образовательные условия;1.1;Среда;Фото;да
conditions;;1.2;Кадры;;нет
parents;Взаимодействие с родителями;2.1;Участие родителей;;
"""


def test_indicators_from_a_csv_table(tmp_path: Path):
    (tmp_path / "indicators.csv").write_text(CSV, encoding="cp1251")
    text = _with(tmp_path, "areas: {file: indicators.csv}")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    result = spec.validate(path)
    assert not result.errors, result.errors
    campaign = result.campaign
    assert [(a.id, a.title, [i.id for i in a.indicators]) for a in campaign.areas] == [
        ("conditions", "Образовательные условия", ["1.1", "1.2"]), ("parents", "Взаимодействие с родителями", ["2.1"])]
    assert [i.required for a in campaign.areas for i in a.indicators] == [True, False, True]
    assert any("indicators.csv прочитан как CSV, Windows-1251" in note for note in result.notes)


def test_table_mistakes_at_row_and_column(tmp_path: Path):
    bad = CSV + "parents;;2.1;Дубль;;\nhealth;;4 1;Пробел;;может быть\nparents;;2.1;;;может быть\n"
    (tmp_path / "indicators.csv").write_text(bad, encoding="utf-8")
    found = "\n".join(_problems(_with(tmp_path, "areas: {file: indicators.csv}"), tmp_path))
    assert "indicators.csv:5:3: ошибка: indicator: показатель «2.1» повторяется (впервые в строке 4)" in found
    assert "indicators.csv:6:3: ошибка: indicator: «4 1» — допустимы только буквы, цифры" in found
    assert "indicators.csv:6:6: ошибка: required: «может быть» — напишите «да»" in found
    # every problem of a row at once: its empty title and bad `required` do not hide that its number is taken
    for col, said in ((3, "indicator: показатель «2.1» повторяется (впервые в строке 4)"), (4, "title"), (6, "required")):
        assert f"indicators.csv:7:{col}: ошибка: {said}" in found, found
    (tmp_path / "indicators.csv").write_text("area,name\nx,y\n", encoding="utf-8")
    found = "\n".join(_problems(_with(tmp_path, "areas: {file: indicators.csv}"), tmp_path))
    assert "indicators.csv:1:1: ошибка: показатели: в строке заголовков" in found and "нужны столбцы area, indicator, title" in found


def test_indicators_from_a_workbook(tmp_path: Path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [line.split(";") for line in CSV.splitlines()]:
        sheet.append(row)
    sheet.append(["health", "Здоровье", "4.1", "", "", ""])  # row 5: no title
    book.save(tmp_path / "indicators.xlsx")
    found = "\n".join(_problems(_with(tmp_path, "areas: {file: indicators.xlsx}"), tmp_path))
    assert "indicators.xlsx:5:4: ошибка: title (столбец D (4)): пусто; заполните ячейку" in found
    sheet.delete_rows(5)
    book.save(tmp_path / "indicators.xlsx")
    path = tmp_path / "c.yaml"
    path.write_text(_with(tmp_path, "areas: {file: indicators.xlsx}"), encoding="utf-8")
    assert [i for i in spec.load(path).indicators] == ["1.1", "1.2", "2.1"]


# -- drafts, hand-in, versions (the CLI, on both backends) -------------------------------------------------------


@pytest.fixture
def formed(dq, tmp_path: Path):
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    return dq


def _fill_required(dq, stage: str, now: str, inst: str = "2") -> None:
    for ind in REQUIRED:
        dq.ok("form", "set", inst, "--stage", stage, "--indicator", ind, "--link", f"https://dou{inst}.example.org/{stage}/{ind}",
              "--now", now)


def test_draft_hand_in_and_the_next_version(formed):
    dq = formed
    out = dq.ok("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--link", "https://dou2.example.org/rpps Фото центров",
                "--link", "https://dou2.example.org/plan", "--level", "2", "--comment", "Центры во всех группах", "--now", "2021-11-20 10:00")
    assert "показатель 1.1: сохранено в черновик 20.11.2021 10:00" in out and "ссылок: 2" in out
    assert "Не хватает доказательств по обязательным показателям: 1.2, 2.1, 3.1, 4.1, 5.1." in out
    shown = dq.json("form", "show", "2", "--stage", "fill-form", "--now", "2021-11-20 10:05")
    first = shown["indicators"][0]
    assert first == {"id": "1.1", "area": "conditions", "title": first["title"], "required": True, "level": "2",
                     "comment": "Центры во всех группах", "links": [{"url": "https://dou2.example.org/rpps", "title": "Фото центров"},
                                                                 {"url": "https://dou2.example.org/plan", "title": None}]}
    assert shown["missing"] == ["1.2", "2.1", "3.1", "4.1", "5.1"] and shown["editable"] and not shown["handed_in"]

    refused = dq("submit", "2", "--stage", "fill-form", "--now", "2021-11-20 11:00")
    assert refused.exit_code == 1
    assert "нет доказательств по обязательным показателям: 1.2 «" in refused.output and "5.1 «" in refused.output
    assert "dqflow form set 2 --stage fill-form --indicator ПОКАЗАТЕЛЬ --link URL" in refused.output

    _fill_required(dq, "fill-form", "2021-11-21 10:00")
    out = dq.ok("submit", "2", "--stage", "fill-form", "--now", "2021-11-21 11:00")
    assert "сдано 21.11.2021 11:00" in out and "Форма сдана" in out
    version = dq.json("form", "show", "2", "--stage", "fill-form", "--now", "2021-11-22 10:00")
    assert version["handed_in"] and not version["editable"] and version["missing"] == []

    again = dq("form", "set", "2", "--stage", "fill-form", "--indicator", "1.3", "--level", "3", "--now", "2021-11-22 10:00")
    assert again.exit_code == 1 and "форма уже сдана" in again.output
    twice = dq("submit", "2", "--stage", "fill-form", "--now", "2021-11-22 10:00")
    assert twice.exit_code == 1 and "форма уже сдана" in twice.output

    refill = dq.json("form", "show", "2", "--stage", "refill", "--now", "2021-12-07 10:00")
    assert refill["from_stage"] == "fill-form" and not refill["started"]
    assert refill["indicators"] == version["indicators"]
    default = dq.json("form", "show", "2", "--now", "2021-12-07 10:00")
    assert default["stage"] == "refill"  # the stage open for the ДОУ
    dq.ok("form", "set", "2", "--stage", "refill", "--indicator", "1.1", "--no-links", "--comment", "", "--now", "2021-12-07 10:00")
    refill = dq.json("form", "show", "2", "--stage", "refill", "--now", "2021-12-07 10:05")
    assert refill["started"] and refill["from_stage"] is None and refill["missing"] == ["1.1"]
    assert refill["indicators"][0]["links"] == [] and refill["indicators"][0]["comment"] is None
    assert refill["indicators"][0]["level"] == "2"  # kept: not given
    assert refill["indicators"][1:] == version["indicators"][1:]
    assert dq.json("form", "show", "2", "--stage", "fill-form", "--now", "2021-12-07 10:05")["indicators"] == version["indicators"]
    dq.ok("form", "set", "2", "--stage", "refill", "--indicator", "1.1", "--level", "", "--now", "2021-12-07 10:10")
    assert dq.json("form", "show", "2", "--stage", "refill", "--now", "2021-12-07 10:15")["indicators"][0]["level"] is None

    history = dq.ok("history", "2")
    assert "форма: показатель сохранён в черновик" in history and "материалы сданы" in history


def test_the_hand_in_is_in_the_submission_ledger(formed):
    from conftest import query

    _fill_required(formed, "fill-form", "2021-11-21 10:00")
    formed.ok("submit", "2", "--stage", "fill-form", "--now", "2021-11-21 11:00")
    (links,), = query(formed.db_url, "SELECT links FROM submission WHERE institution_id = '2' AND stage_id = 'fill-form'")
    assert json.loads(links) == [f"https://dou2.example.org/fill-form/{ind}" for ind in REQUIRED]
    status = formed.json("status", "--institution", "2", "--now", "2021-11-21 11:00")
    assert "done" in json.dumps(status, ensure_ascii=False)


def test_edits_only_while_the_stage_is_open_for_the_dou(formed):
    dq = formed
    early = dq("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--level", "2", "--now", "2021-11-18 10:00")
    assert early.exit_code == 1 and "форму сейчас менять нельзя" in early.output
    late = dq("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--level", "2", "--now", "2021-12-02 10:00")
    assert late.exit_code == 1 and "форму сейчас менять нельзя" in late.output
    dq.ok("extend", "2", "--stage", "fill-form", "--until", "2021-12-04", "--reason", "болезнь", "--now", "2021-12-02 10:00")
    dq.ok("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--level", "2", "--now", "2021-12-02 11:00")
    other = dq("form", "set", "4", "--stage", "fill-form", "--indicator", "1.1", "--level", "2", "--now", "2021-12-02 11:00")
    assert other.exit_code == 1  # the extension is that ДОУ's alone


def test_refusals_of_form_commands(formed):
    dq = formed
    now = ("--now", "2021-11-20 10:00")
    cases = [
        (("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/a"), "на этом этапе сдаётся форма"),
        (("submit", "2", "--stage", "fill-form"), "форма пуста"),
        (("form", "set", "2", "--stage", "review1", "--indicator", "1.1", "--level", "2"), "не этап заполнения формы"),
        (("form", "set", "2", "--stage", "fill-form", "--indicator", "9.9", "--level", "2"), "в форме нет показателя «9.9»"),
        (("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--level", "7"), "в кампании нет уровня «7»"),
        (("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--link", "ftp://x"), "не адрес в интернете"),
        (("form", "set", "999", "--stage", "fill-form", "--indicator", "1.1", "--level", "2"), "в кампании нет"),
        (("form", "set", "2", "--stage", "fill-form", "--indicator", "1.1", "--link", "https://a.example.org", "--no-links"),
         "противоречат"),
    ]
    before = dq.ok("history", "2")
    for args, said in cases:
        result = dq(*args, *now)
        assert result.exit_code == 1, args
        assert result.output.startswith("ошибка: ") and said in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert dq.ok("history", "2") == before  # nothing written


# -- the versioning, as a property ------------------------------------------------------------------------------


LINKS = st.lists(st.sampled_from(["https://a.example.org/1", "https://b.example.org/2", "https://c.example.org/3"]), max_size=2)
EDIT = st.tuples(st.just("set"), st.sampled_from(INDICATORS), st.one_of(st.none(), LINKS),
                 st.one_of(st.none(), st.sampled_from(["1", "2", "3"])), st.one_of(st.none(), st.sampled_from(["", "ок", "дополнено"])))
PAGE = st.tuples(st.just("page"), st.dictionaries(st.sampled_from(INDICATORS), st.tuples(
    LINKS, st.one_of(st.none(), st.sampled_from(["1", "2", "3"])), st.sampled_from(["", "ок", "дополнено"])), max_size=3))
ACTION = st.one_of(EDIT, PAGE, st.just(("fill",)), st.just(("hand-in",)))
PLAN = st.lists(st.lists(ACTION, max_size=6), min_size=3, max_size=3)  # the actions of each form stage
OPENS = {"fill-form": "2021-11-20 09:00", "refill": "2021-12-07 09:00", "final-fix": "2021-12-15 09:00"}


def _snapshot(found: form.Form) -> list[tuple]:
    return [(e.indicator_id, tuple(ev.url for ev in e.evidence), e.level, e.comment) for e in found.entries]


@pytest.mark.sqlite_only("hypothesis runs many examples; the engine's SQL is the same on both backends (the tests above run on both)")
def test_versioning_property(db_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("prop")
    base = spec.load(form_file(folder))
    db = store.connect(db_url)
    numbers = itertools.count()

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(PLAN)
    def run(plan):
        campaign = dataclasses.replace(base, id=f"prop-{next(numbers)}")
        with store.transaction(db) as session:
            engine.load(session, campaign, at("2021-11-10 09:00"))
        inst = "2"
        # the model: each stage's rows (None: never written), whether handed in, the draft at hand-in
        rows: dict[str, dict[str, tuple] | None] = {s: None for s in FORM_STAGES}
        handed: dict[str, dict[str, tuple]] = {}
        empty = {i: ((), None, None) for i in INDICATORS}

        def shown(stage: str, now) -> dict[str, tuple]:
            with store.dry_run(db) as session:
                return {t[0]: t[1:] for t in _snapshot(form.show_form(session, campaign.id, inst, stage, now))}

        for number, (stage, actions) in enumerate(zip(FORM_STAGES, plan)):
            start = at(OPENS[stage])
            earlier = [s for s in reversed(FORM_STAGES[:number]) if rows[s] is not None]
            expected_start = dict(rows[earlier[0]]) if earlier else dict(empty)  # type: ignore[arg-type]
            assert shown(stage, start) == expected_start, "a stage starts from the previous version"
            current = dict(rows[stage] or expected_start)
            for minute, action in enumerate(actions, 1):
                now = start + timedelta(minutes=minute)
                edits = [action[1:]] if action[0] == "set" else \
                    [(i, [f"https://dou.example.org/{stage}/{i}"], None, None) for i in REQUIRED] if action[0] == "fill" else []
                if action[0] == "hand-in":
                    complete = all(current[i][0] for i in REQUIRED) and any(current[i][0] for i in INDICATORS)
                    try:
                        with store.transaction(db) as session:
                            engine.submit(session, campaign.id, inst, stage, now)
                        accepted = True
                    except DqflowError:
                        accepted = False
                    assert accepted == (complete and stage not in handed)
                    if accepted:
                        rows[stage] = dict(current)
                        handed[stage] = dict(current)
                if action[0] == "page":  # the portal's press: the whole form posted, what changed saved
                    posted = {i: (tuple(links), level, comment or None) for i, (links, level, comment) in action[1].items()}
                    try:
                        with store.transaction(db) as session:
                            _, saved = form.save_changed(session, campaign.id, inst, stage, {
                                i: form.Draft([(u, None) for u in links], level, comment) for i, (links, level, comment) in action[1].items()}, now)
                        accepted = True
                    except DqflowError:
                        accepted = False
                    assert accepted == (stage not in handed)
                    if accepted:
                        changed = {i for i in posted if posted[i] != current[i]}
                        assert set(saved) == changed
                        current.update(posted)
                        if changed:
                            rows[stage] = dict(current)
                for indicator, links, level, comment in edits:
                    try:
                        with store.transaction(db) as session:
                            form.save(session, campaign.id, inst, stage, indicator, now,
                                      links=[(u, None) for u in links] if links is not None else None, level=level, comment=comment)
                        accepted = True
                    except DqflowError:
                        accepted = False
                    assert accepted == (stage not in handed)
                    if accepted:
                        urls, old_level, old_comment = current[indicator]
                        current[indicator] = (tuple(links) if links is not None else urls, level if level is not None else old_level,
                                              (comment or None) if comment is not None else old_comment)
                        rows[stage] = dict(current)
                assert shown(stage, now + timedelta(seconds=30)) == current
        for stage, version in handed.items():  # every frozen version is the draft at its hand-in, to the end
            assert shown(stage, at("2021-12-20 12:00")) == version

    run()


# -- cost: bounded statements whatever the roster ---------------------------------------------------------------


def _costs(db, folder: Path, n: int) -> dict[str, int]:
    campaign = spec.load(form_file(folder, n, name="cost"))
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-10 09:00"))
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at("2021-11-20 10:00"))
    now = at("2021-11-20 10:00")
    seen: dict[str, int] = {}
    with counting_statements(db) as statements, store.dry_run(db) as session:
        form.show_form(session, campaign.id, "2", "fill-form", now)
    seen["show"] = len(statements)
    for number, indicator in enumerate(REQUIRED):
        with counting_statements(db) as statements, store.transaction(db) as session:
            form.save(session, campaign.id, "2", "fill-form", indicator, now, links=[(f"https://dou2.example.org/{indicator}", "папка")],
                      level="2", comment="есть")
        seen["first save" if number == 0 else "save"] = len(statements)
    with counting_statements(db) as statements, store.transaction(db) as session:
        engine.submit(session, campaign.id, "2", "fill-form", now + timedelta(minutes=1))
    seen["hand-in"] = len(statements)
    later = at("2021-12-07 10:00")
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, later)
    with counting_statements(db) as statements, store.dry_run(db) as session:
        form.show_form(session, campaign.id, "2", "refill", later)
    seen["show of the next version"] = len(statements)
    with counting_statements(db) as statements, store.transaction(db) as session:
        form.save(session, campaign.id, "2", "refill", "1.1", later, level="3")
    seen["first save of the next version"] = len(statements)
    seen["page"] = _page_statements(db, campaign.id, later)
    return seen


def _page_statements(db, campaign_id: str, now) -> int:
    """The statements of the ДОУ's personal page with its form (the portal in-process), its second view: the first
    also reads what a portal reads once (the definition, the links' secret)."""
    import warnings
    from datetime import datetime

    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from dqflow.access import links
    from dqflow.calendar import UTC
    from dqflow.web import create_app

    with store.dry_run(db) as session:
        path = links.links(session, campaign_id).path("institution", "2")
    client = TestClient(create_app(db, campaign_id, lambda: now, lambda: datetime.now(UTC)), base_url="https://portal.example.org")
    assert 'id="indicator-1.1"' in client.get(path).text
    with counting_statements(db) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_statements_do_not_grow_with_the_roster(db_url, tmp_path: Path):
    db = store.connect(db_url)
    small, large = _costs(db, tmp_path, 15), _costs(db, tmp_path, 1500)
    assert small == large, (small, large)
    assert small["show"] <= 6 and small["save"] <= 10 and small["first save"] <= 12, small
    assert small["hand-in"] <= 50, small  # as test_page_cost bounds an act: submit reconciles first
    assert small["page"] <= 20, small


# -- the ДОУ's page ---------------------------------------------------------------------------------------------


def test_the_dou_fills_and_hands_in_its_form_on_its_page(db_url, tmp_path: Path):
    import re
    import warnings

    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from dqflow.access import links
    from dqflow.calendar import UTC
    from dqflow.web import create_app

    campaign = spec.load(form_file(tmp_path))
    db = store.connect(db_url)
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-10 09:00"))
    clock = {"now": at("2021-11-20 10:00")}
    from datetime import datetime

    app = create_app(db, campaign.id, lambda: clock["now"], lambda: datetime.now(UTC))
    client = TestClient(app, base_url="https://portal.example.org")
    with store.dry_run(db) as session:
        path = links.links(session, campaign.id).path("institution", "2")

    def audit_count(db) -> int:
        with store.dry_run(db) as session:
            return session.execute(sql_text("SELECT count(*) FROM audit")).scalar_one()

    def post(data: dict) -> object:  # a press on the page as it stands now, with `data` typed over it
        return client.post(path, data={**as_shown(client.get(path).text), **data}, follow_redirects=False)

    page = client.get(path).text
    assert 'id="indicator-1.1"' in page and "Развивающая предметно-пространственная среда" in page
    assert "Не хватает ссылок по обязательным показателям: 1.1, 1.2, 2.1, 3.1, 4.1, 5.1" in page
    assert '<button type="submit" name="action" value="hand-in">Сдать форму</button>' in page  # the server says what is missing

    # the page posts the whole form: 1.1's button pressed, 1.3's comment typed too — both saved, nothing else written
    audit = audit_count(db)
    saved = post({"action": "save:1.1", "link-1.1": ["https://dou2.example.org/rpps", ""], "title-1.1": ["Фото центров", ""],
                  "level-1.1": "2", "comment-1.1": "Во всех группах", "comment-1.3": "Готовим материалы"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?ok=form-saved#indicator-1.1")
    assert audit_count(db) == audit + 2  # 1.1 and 1.3, each audited; the other indicators posted as they stood: not written
    page = client.get(path + "?ok=form-saved").text
    assert "Сохранено в черновик формы." in page and 'value="https://dou2.example.org/rpps"' in page and 'value="Фото центров"' in page
    assert '<option value="2" selected>' in page and "Во всех группах" in page
    assert "Не хватает ссылок по обязательным показателям: 1.2, 2.1" in page
    assert ">Готовим материалы</textarea>" in page

    refused = post({"action": "hand-in"})
    assert refused.status_code in (400, 403, 409, 422) and "нет доказательств по обязательным показателям: 1.2 «" in refused.text
    audit = audit_count(db)
    bad = post({"action": "save:1.2", "link-1.2": "javascript:alert(1)", "link-2.1": "https://dou2.example.org/2.1"})
    assert bad.status_code >= 400 and "не адрес в интернете" in bad.text
    assert audit_count(db) == audit  # everything posted is checked before anything is written: 2.1 not saved either
    for indicator in REQUIRED[1:]:
        if indicator != REQUIRED[-1]:
            post({"action": f"save:{indicator}", f"link-{indicator}": f"https://dou2.example.org/{indicator}"})
    last = REQUIRED[-1]  # typed and handed in at one press: saved first, in the same transaction
    done = post({"action": "hand-in", f"link-{last}": f"https://dou2.example.org/{last}"})
    assert done.status_code == 303 and done.headers["location"].endswith("?ok=form-handed-in#stage-fill-form")
    page = client.get(path).text
    assert "Форма сдана: эта версия зафиксирована" in page and 'name="action" value="save:' not in page
    with store.dry_run(db) as session:
        version = form.show_form(session, campaign.id, "2", "fill-form", clock["now"])
    assert version.frozen and version.entries[0].evidence == [form.Evidence("https://dou2.example.org/rpps", "Фото центров")]
    clock["now"] = at("2021-12-07 10:00")  # the refill starts from the version
    page = client.get(path).text
    assert "Форма начинается с версии этапа «" in page and 'value="https://dou2.example.org/rpps"' in page


def test_a_form_is_handed_in_once_within_one_batch_of_acts(formed):
    _fill_required(formed, "fill-form", "2021-11-21 10:00")
    db = store.connect(formed.db_url)
    with store.transaction(db) as session:
        done = engine.play(session, "tomsk-2021", [engine.Act(at("2021-11-21 11:00"), "2", "fill-form"),
                                                   engine.Act(at("2021-11-21 11:05"), "2", "fill-form")])
    assert done[0] == "done" and isinstance(done[1], DqflowError) and done[1].code == "form-handed-in"
    from conftest import query

    assert query(formed.db_url, "SELECT count(*) FROM submission WHERE institution_id = '2'") == [(1,)]


def test_a_press_from_an_older_page_keeps_what_was_saved_since_and_refuses_a_clash(db_url, tmp_path: Path):
    """Two windows (or two colleagues) on one ДОУ's form: the page posts the whole form, so a press from the older page
    must not put back what it showed over what the other saved since — an indicator untouched there stays as stored,
    and one changed on both is refused, naming it, with nothing written."""
    import re
    import warnings
    from datetime import datetime

    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from dqflow.access import links
    from dqflow.calendar import UTC
    from dqflow.web import create_app

    campaign = spec.load(form_file(tmp_path))
    db = store.connect(db_url)
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-10 09:00"))
    client = TestClient(create_app(db, campaign.id, lambda: at("2021-11-20 10:00"), lambda: datetime.now(UTC)),
                        base_url="https://portal.example.org")
    with store.dry_run(db) as session:
        path = links.links(session, campaign.id).path("institution", "2")

    def press(page: str, **typed: object):
        return client.post(path, data={**as_shown(page), **typed}, follow_redirects=False)

    older = client.get(path).text  # window B reads the form
    newer = client.get(path).text  # window A too, then saves 1.1
    assert press(newer, **{"action": "save:1.1", "link-1.1": "https://dou2.example.org/a"}).status_code == 303
    saved = press(older, **{"action": "save:1.2", "link-1.2": "https://dou2.example.org/b"})  # B saves 1.2 only
    assert saved.status_code == 303, saved.text
    with store.dry_run(db) as session:
        found = {e.indicator_id: [x.url for x in e.evidence] for e in form.show_form(session, campaign.id, "2", "fill-form",
                                                                                      at("2021-11-20 10:00")).entries}
    assert found["1.1"] == ["https://dou2.example.org/a"] and found["1.2"] == ["https://dou2.example.org/b"]

    with store.dry_run(db) as session:
        audit = session.execute(sql_text("SELECT count(*) FROM audit")).scalar_one()
    clash = press(older, **{"action": "save:1.1", "link-1.1": "https://dou2.example.org/c", "link-2.1": "https://dou2.example.org/d"})
    assert clash.status_code in (400, 409) and "показатели 1.1 уже изменены в другом окне" in clash.text, clash.text
    # given back: 1.1 as stored (to be typed again), 1.2 as the other window saved it (untouched here), 2.1 as typed
    for shown in ("https://dou2.example.org/a", "https://dou2.example.org/b", "https://dou2.example.org/d"):
        assert f'value="{shown}"' in clash.text, shown
    assert 'value="https://dou2.example.org/c"' not in clash.text
    with store.dry_run(db) as session:
        assert session.execute(sql_text("SELECT count(*) FROM audit")).scalar_one() == audit  # 2.1 not saved either


def as_shown(page: str) -> dict[str, object]:
    """What pressing a button on a ДОУ's form `page` posts when nothing was typed: every field as the page holds it."""
    import html
    import re

    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="(?:hidden|url|text)"[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', page):
        fields.setdefault(name, []).append(html.unescape(value))
    for name in re.findall(r'<select id="[^"]+" name="([^"]+)"', page):
        fields[name] = [""]
    for name, value in re.findall(r'<select id="[^"]+" name="([^"]+)">(?:(?!</select>).)*?<option value="([^"]*)" selected>', page, re.S):
        fields[name] = [value]
    for name, value in re.findall(r'<textarea id="[^"]+" name="([^"]+)" rows="2">([^<]*)</textarea>', page):
        fields[name] = [html.unescape(value)]
    return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}


def _portal(db_url: str, tmp_path: Path, clock: dict | None = None):
    """A form campaign loaded and its portal's client at 20.11.2021 10:00 (or at `clock["now"]`), with ДОУ 2's page path."""
    import warnings
    from datetime import datetime

    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from dqflow.access import links
    from dqflow.calendar import UTC
    from dqflow.web import create_app

    campaign = spec.load(form_file(tmp_path))
    db = store.connect(db_url)
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-10 09:00"))
    clock = clock if clock is not None else {}
    clock.setdefault("now", at("2021-11-20 10:00"))
    client = TestClient(create_app(db, campaign.id, lambda: clock["now"], lambda: datetime.now(UTC)), base_url="https://portal.example.org")
    with store.dry_run(db) as session:
        path = links.links(session, campaign.id).path("institution", "2")
    return db, client, path, campaign


def _audit(db) -> int:
    with store.dry_run(db) as session:
        return session.execute(sql_text("SELECT count(*) FROM audit")).scalar_one()


def test_a_form_full_of_links_and_long_comments_is_saved_whole(db_url, tmp_path: Path):
    """The page posts every indicator at once: with every indicator at its most links and a long comment each, a press
    still saves (the body and field limits follow the form's size), and the page shows it all back."""
    db, client, path, campaign = _portal(db_url, tmp_path)
    typed = {"action": "save:1.1"}
    for n, indicator in enumerate(campaign.indicators):
        typed[f"link-{indicator}"] = [f"https://dou2.example.org/{indicator}/{k}" for k in range(form.MAX_EVIDENCE)]
        typed[f"title-{indicator}"] = [f"Материал {k}" for k in range(form.MAX_EVIDENCE)]
        typed[f"comment-{indicator}"] = "Подробно. " * 1500 if n < 3 else ""
    page = client.get(path).text
    saved = client.post(path, data={**as_shown(page), **typed}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:300]
    with store.dry_run(db) as session:
        entries = form.show_form(session, campaign.id, "2", "fill-form", at("2021-11-20 10:00")).entries
    assert all(len(e.evidence) == form.MAX_EVIDENCE for e in entries) and len(entries) == len(campaign.indicators) > 10
    again = client.post(path, data={**as_shown(client.get(path).text), "action": "save:1.2"}, follow_redirects=False)
    assert again.status_code == 303 and _audit(db) > 0  # the page full of links posts back whole too


def test_a_refused_press_keeps_what_was_typed_and_names_the_indicator(db_url, tmp_path: Path):
    db, client, path, _ = _portal(db_url, tmp_path)
    page = client.get(path).text
    before = _audit(db)
    refused = client.post(path, data={**as_shown(page), "action": "save:2.1", "link-1.2": "javascript:alert(1)",
                                      "link-2.1": "https://dou2.example.org/typed", "comment-3.1": "Долгий комментарий"},
                          follow_redirects=False)
    assert refused.status_code == 400 and "Показатель 1.2: «javascript:alert(1)» — не адрес в интернете" in refused.text
    assert 'value="https://dou2.example.org/typed"' in refused.text and ">Долгий комментарий</textarea>" in refused.text
    assert _audit(db) == before  # nothing written
    mended = client.post(path, data={**as_shown(refused.text), "action": "save:2.1", "link-1.2": "https://dou2.example.org/b"},
                         follow_redirects=False)  # pressed again from the page the refusal gave back: all of it saved
    assert mended.status_code == 303, mended.text[:300]
    with store.dry_run(db) as session:
        found = {e.indicator_id: e for e in form.show_form(session, "tomsk-2021", "2", "fill-form", at("2021-11-20 10:00")).entries}
    assert [x.url for x in found["2.1"].evidence] == ["https://dou2.example.org/typed"] and found["3.1"].comment == "Долгий комментарий"
    assert [x.url for x in found["1.2"].evidence] == ["https://dou2.example.org/b"]


def test_a_post_from_a_page_of_an_older_portal_is_refused_not_read_as_empty(db_url, tmp_path: Path):
    """Before the page was one form each indicator posted `link`, `level`, `comment`; read as the new form's fields they
    would be empty and wipe the indicator. Such a post is refused, nothing written."""
    db, client, path, _ = _portal(db_url, tmp_path)
    page = client.get(path).text
    client.post(path, data={**as_shown(page), "action": "save:1.2", "link-1.2": "https://dou2.example.org/kept"})
    token = as_shown(client.get(path).text)["csrf"]
    before = _audit(db)
    old = client.post(path, data={"csrf": token, "stage": "fill-form", "action": "save", "indicator": "1.2",
                                  "link": "https://dou2.example.org/new", "level": "", "comment": ""}, follow_redirects=False)
    assert old.status_code == 400 and "страница устарела" in old.text and _audit(db) == before
    assert 'value="https://dou2.example.org/kept"' in old.text  # the page given back shows what is stored, not the old post
    assert 'value="https://dou2.example.org/kept"' in client.get(path).text


def test_what_a_closed_form_cannot_take_is_shown_back_and_a_huge_post_is_refused(db_url, tmp_path: Path):
    clock: dict = {"now": at("2021-11-30 23:30")}
    db, client, path, _ = _portal(db_url, tmp_path, clock)
    page = client.get(path).text
    clock["now"] = at("2021-12-01 00:30")  # the fill locked while the page stood open
    late = client.post(path, data={**as_shown(page), "action": "save:3.1", "comment-3.1": "Набирали час"}, follow_redirects=False)
    assert late.status_code in (403, 409) and "форму этого этапа сейчас менять нельзя" in late.text, late.text[:300]
    assert "Не сохранено" in late.text and "Набирали час" in late.text  # to be copied, not lost
    clock["now"] = at("2021-11-20 10:00")
    huge = client.post(path, data={**as_shown(client.get(path).text), "action": "save:1.1", "comment-1.1": "ж" * (3 * 2**20)},
                       follow_redirects=False)
    assert huge.status_code == 400 and "форма слишком большая" in huge.text
