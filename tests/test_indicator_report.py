"""The справка по показателям (issue 21 part 6), where experts review per indicator.

- the SQL forms of the final-level rules (`engine.finals.FinalsSql`) equal the Python rules on random reviews and
  settlements, under every `settle:` and `area_level:` rule (hypothesis);
- on a small form campaign whose figures are computed by hand: the final levels, the area levels the справка reads
  (levels by area, the ДОУ at or below base), the town's figures per indicator (distribution, share at or above base,
  the ДОУ below it, the gap between self-assessment and final, the experts' agreement); a settled indicator changes
  the final and the area;
- the outputs: indicators.csv read back, the XLSX read back with openpyxl, the HTML's «Показатели» (single file and
  folder), DOCX and Markdown; a campaign without a form shows none of it;
- statements equal at 15 and 1,500 ДОУ.
On SQLite and PostgreSQL.

Per-indicator reviews are written by `review` below, straight into `review` and `review_level`: it stands in for the
review act per indicator that the expertise helper is building (issue 21 part 4).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import Cli, counting_statements
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from test_form import REQUIRED, form_file

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.campaign.model import AREA_RULES, SETTLE_RULES
from dqflow.engine import finals, form
from dqflow.results import figures, html
from dqflow.results import indicators as indicator_figures
from dqflow.store import AssignmentRow, ReviewLevelRow, ReviewRow, SettlementRow

LEVELS = ("1", "2", "3", "4")


def based_on_2(path: Path) -> Path:
    """The form campaign with level 2 as its base level: a ДОУ can then be below the base (level 1)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for level in data["levels"]:
        level.pop("baseline", None)
        if level["id"] == "2":
            level["baseline"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def at(campaign: spec.Campaign, text: str) -> datetime:
    return parse_local(text, campaign.tz)


def review(session, campaign: spec.Campaign, inst: str, stage: str, expert: str, levels: dict[str, str], when: datetime,
           text: str = "") -> None:
    """Stands in for the review act per indicator (the expertise helper's `engine.review` with indicator levels): the
    expert's levels per indicator in `review_level`, and the area levels they give in `review.levels`."""
    session.execute(insert(ReviewRow), [{"campaign_id": campaign.id, "stage_id": stage, "institution_id": inst, "expert_id": expert,
                                         "at": when, "recommendations": text,
                                         "levels": json.dumps(finals.area_levels(levels, campaign), ensure_ascii=False)}])
    session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": stage, "institution_id": inst, "expert_id": expert,
                                              "indicator_id": ind, "level": lv, "comment": None} for ind, lv in levels.items()])


def settle(session, campaign: spec.Campaign, inst: str, stage: str, indicator: str, level: str, when: datetime) -> None:
    session.execute(insert(SettlementRow), [{"campaign_id": campaign.id, "stage_id": stage, "institution_id": inst, "indicator_id": indicator,
                                             "level": level, "reason": "решение координатора", "at": when}])


def hand_in(db, campaign: spec.Campaign, inst: str, own: dict[str, str], when: datetime, stage: str = "fill-form") -> None:
    """The ДОУ fills its form (its own level for each indicator, a link for each required one) and hands it in."""
    for ind in campaign.indicators:
        with store.transaction(db) as session:
            links = [(f"https://dou{inst}.example.org/{ind}", None)] if ind in REQUIRED else None
            form.save(session, campaign.id, inst, stage, ind, when, links=links, level=own.get(ind))
    with store.transaction(db) as session:
        engine.submit(session, campaign.id, inst, stage, when + timedelta(minutes=1))


def every(campaign: spec.Campaign, level: str, **but: str) -> dict[str, str]:
    """`level` for every indicator, but those named (1_1="1" for 1.1)."""
    changed = {k.replace("_", "."): v for k, v in but.items()}
    return {ind: changed.get(ind, level) for ind in campaign.indicators}


# -- the SQL forms equal the Python rules ---------------------------------------------------------------------


@pytest.fixture
def small(database, tmp_path: Path) -> spec.Campaign:
    campaign = spec.load(based_on_2(form_file(tmp_path)))
    with store.transaction(database) as session:
        engine.load(session, campaign, at(campaign, "2021-11-10 09:00"))
    return campaign


REVIEWED = st.lists(st.tuples(st.sampled_from(("2", "4", "5")), st.sampled_from(("review1", "review2")),
                              st.sampled_from(("1.1", "1.2", "1.3", "2.1", "2.2")), st.sampled_from(("e1", "e2", "e3")),
                              st.sampled_from(LEVELS)), max_size=40)
SETTLED = st.lists(st.tuples(st.sampled_from(("2", "4", "5")), st.sampled_from(("review1", "review2")),
                             st.sampled_from(("1.1", "1.2", "1.3", "2.1", "2.2")), st.sampled_from(LEVELS)), max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reviewed=REVIEWED, settled=SETTLED, settle_rule=st.sampled_from(SETTLE_RULES), area_rule=st.sampled_from(AREA_RULES))
def test_sql_forms_equal_the_python_rules(database, small, reviewed, settled, settle_rule, area_rule):
    campaign = dataclasses.replace(small, settle=settle_rule, area_level=area_rule)
    levels = {(i, s, ind, e): lv for i, s, ind, e, lv in reviewed}
    settlements = {(i, s, ind): lv for i, s, ind, lv in settled}
    when = at(campaign, "2021-12-01 10:00")
    with store.transaction(database) as session:
        for t in (ReviewLevelRow, SettlementRow):
            session.execute(delete(t))
        if levels:
            session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": s, "institution_id": i, "expert_id": e,
                                                      "indicator_id": ind, "level": lv} for (i, s, ind, e), lv in levels.items()])
        for (i, s, ind), lv in settlements.items():
            settle(session, campaign, i, s, ind, lv, when)
    scale = [lv.id for lv in campaign.levels]
    keys = {k[:3] for k in levels} | set(settlements)
    expected = {}
    for key in keys:
        given_levels = [lv for k, lv in levels.items() if k[:3] == key]
        expected[key] = finals.final(given_levels, settlements.get(key), scale, campaign.settle)
    sql = finals.FinalsSql(campaign)
    with store.dry_run(database) as session:
        found = {(i, s, ind): (scale[p] if p is not None else None) for i, s, ind, _, _, _, _, p in session.execute(sql.finals())}
        areas = {(i, s, a): scale[p] for i, s, a, p in session.execute(sql.area_levels())}
    assert found == expected
    expected_areas = {}
    for inst, stage in {k[:2] for k in keys}:
        mine = {ind: lv for (i, s, ind), lv in expected.items() if (i, s) == (inst, stage)}
        for area, lv in finals.area_levels(mine, campaign).items():
            expected_areas[(inst, stage, area)] = lv
    assert areas == expected_areas


# -- a small campaign computed by hand -------------------------------------------------------------------------


@pytest.fixture
def reviewed(database, small) -> spec.Campaign:
    """ДОУ 2 rates itself 3 everywhere; its experts give 2 everywhere, but one gives 1.1 level 1 (so 1.1 is final 1
    under `settle: lower`, and the area «conditions» 1 by the mean of 1, 2, 2 rounded down). ДОУ 4 rates itself 2; its
    experts both give 3. The others hand in nothing and are not reviewed."""
    campaign = small
    hand_in(database, campaign, "2", every(campaign, "3"), at(campaign, "2021-11-20 10:00"))
    hand_in(database, campaign, "4", every(campaign, "2"), at(campaign, "2021-11-20 10:00"))
    when = at(campaign, "2021-12-01 10:00")
    with store.transaction(database) as session:
        review(session, campaign, "2", "review1", "e4", every(campaign, "2"), when, "Дополнить перечень оборудования")
        review(session, campaign, "2", "review1", "e5", every(campaign, "2", **{"1_1": "1"}), when + timedelta(hours=1))
        review(session, campaign, "4", "review1", "e2", every(campaign, "3"), when)
        review(session, campaign, "4", "review1", "e5", every(campaign, "3"), when)
    return campaign


NOW = "2021-12-20 12:00"


def computed(database, campaign: spec.Campaign, **options) -> figures.Results:
    with store.dry_run(database) as session:
        return figures.compute(session, campaign.id, at(campaign, NOW), **options)


def test_the_figures_by_hand(database, reviewed):
    campaign = reviewed
    found = computed(database, campaign)
    report = found.indicators
    assert report is not None and report.base_level == "2"
    first = next(f for f in report.figures if f.indicator.id == "1.1")
    assert first.distribution == {"1": 1, "2": 0, "3": 1, "4": 0}
    assert (first.at_or_above, first.below, first.share_at_or_above) == (1, 1, 0.5)
    assert (first.gap_sum, first.gap_count, first.gap, first.higher, first.same, first.lower) == (1, 2, 0.5, 1, 0, 1)  # +2 and −1
    assert (first.agreed, first.compared, first.agreement) == (1, 2, 0.5)
    second = next(f for f in report.figures if f.indicator.id == "1.2")
    assert second.distribution == {"1": 0, "2": 1, "3": 1, "4": 0} and second.below == 0
    assert (second.gap, second.higher, second.lower, second.agreement) == (0.0, 1, 1, 1.0)
    assert [(i.id, inds) for i, inds in report.below] == [("2", ["1.1"])] and report.below_total == 1
    # the area levels the справка reads follow the final indicator levels
    assert found.distribution()["conditions"] == {"1": 1, "2": 0, "3": 1, "4": 0}
    assert found.distribution()["guidelines"] == {"1": 0, "2": 1, "3": 1, "4": 0}
    mine = next(i for i in found.institutions if i.institution.id == "2")
    assert mine.levels["conditions"] == "1" and mine.levels["guidelines"] == "2"
    # each ДОУ's rows
    assert report.table is not None
    rows = list(report.table.rows("2"))
    assert rows[0] == ("2", "МАДОУ № 2", "review1", "1.1", "3", "e4", "2", "e5", "1", "1")
    assert [r[3] for r in rows] == list(campaign.indicators)
    assert list(report.table.rows("6")) == []


def test_a_settled_indicator_changes_the_final_and_the_area(database, reviewed):
    campaign = reviewed
    with store.transaction(database) as session:
        settle(session, campaign, "2", "review1", "1.1", "3", at(campaign, "2021-12-05 10:00"))
    found = computed(database, campaign)
    first = next(f for f in found.indicators.figures if f.indicator.id == "1.1")
    assert first.distribution == {"1": 0, "2": 0, "3": 2, "4": 0} and first.below == 0
    assert found.indicators.below == [] and found.indicators.below_total == 0
    mine = next(i for i in found.institutions if i.institution.id == "2")
    assert mine.levels["conditions"] == "2"  # places 2, 1, 1: the mean rounded down is 1
    assert next(r for r in found.indicators.table.rows("2"))[-1] == "3"


def test_under_coordinator_a_dispute_has_no_final_and_its_area_none(database, small):
    campaign = dataclasses.replace(small, settle="coordinator")  # the rule as `settle: coordinator` declares it
    with store.transaction(database) as session:
        when = at(campaign, "2021-12-01 10:00")
        review(session, campaign, "2", "review1", "e4", every(campaign, "2"), when)
        review(session, campaign, "2", "review1", "e5", every(campaign, "2", **{"1_1": "1"}), when)
    with store.dry_run(database) as session:
        found = indicator_figures.compute(session, campaign, rows=True)
        areas = {a: p for _, _, a, p in session.execute(finals.FinalsSql(campaign).area_levels())}
    first = next(f for f in found.figures if f.indicator.id == "1.1")
    assert first.pending == 1 and first.rated == 0 and (first.agreed, first.compared) == (0, 1)
    assert "conditions" not in areas and areas["guidelines"] == 1
    assert next(found.table.rows("2"))[-1] is None


# -- the outputs ------------------------------------------------------------------------------------------------


def report(db_url: str, campaign: spec.Campaign, fmt: str, out: Path) -> str:
    return Cli(db_url).ok("--campaign", campaign.id, "report", "--format", fmt, "--out", str(out), "--now", NOW)


def test_indicators_csv_read_back(db_url, database, reviewed, tmp_path: Path):
    report(db_url, reviewed, "csv", tmp_path / "csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "csv" / "indicators.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 2 * len(reviewed.indicators)
    assert rows[0] == {"institution": "2", "name": "МАДОУ № 2", "stage": "review1", "indicator": "1.1", "self": "3",
                       "expert_1": "e4", "expert_1_level": "2", "expert_2": "e5", "expert_2_level": "1", "final": "1"}
    assert rows[-1]["institution"] == "4" and rows[-1]["final"] == "3" and rows[-1]["self"] == "2"


def test_the_workbook_read_back(db_url, database, reviewed, tmp_path: Path):
    report(db_url, reviewed, "xlsx", tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx", read_only=True)
    assert "Показатели" in book.sheetnames and "Показатели по ДОУ" in book.sheetnames
    town = [row for row in book["Показатели"].iter_rows(values_only=True)]
    line = next(r for r in town if r and r[0] == "1.1")
    header = next(r for r in town if r and r[0] == "Показатель")
    values = dict(zip(header, line, strict=False))
    assert values["Базовый уровень и выше, %"] == 50 or values["Базовый уровень и выше, %"] == 0.5
    assert values["Ниже базового"] == 1 and values["Согласие экспертов, %"] in (50, 0.5)
    per = list(book["Показатели по ДОУ"].iter_rows(values_only=True))
    assert per[0][:4] == ("ДОУ", "Название", "Этап", "Показатель")
    assert per[1][:4] == ("2", "МАДОУ № 2", "Первичная экспертиза", "1.1") or per[1][0] == "2"
    assert len(per) == 1 + 2 * len(reviewed.indicators)


def test_html_single_file_and_folder(db_url, database, reviewed, tmp_path: Path):
    report(db_url, reviewed, "html", tmp_path / "s.html")
    text = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "Показатели" in text and "Ниже базового уровня" in text and "Самооценка" in text
    report(db_url, reviewed, "html", tmp_path / "folder")
    assert "Показатели" in (tmp_path / "folder" / "index.html").read_text(encoding="utf-8")
    page = (tmp_path / "folder" / "dou" / "2.html").read_text(encoding="utf-8")
    assert "Самооценка" in page and "Эксперт 1" in page


def test_docx_and_markdown(db_url, database, reviewed, tmp_path: Path):
    report(db_url, reviewed, "docx", tmp_path / "s.docx")
    with zipfile.ZipFile(tmp_path / "s.docx") as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    assert "Показатели" in body and "Самооценка" in body
    report(db_url, reviewed, "md", tmp_path / "s.md")
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "Показатели" in text and "Самооценка" in text


def test_a_campaign_without_a_form_shows_none_of_it(db_url, database, tmp_path: Path):
    from conftest import TOMSK

    campaign = spec.load(TOMSK)
    assert not campaign.reviews_by_indicator
    with store.transaction(database) as session:
        engine.load(session, campaign, at(campaign, "2021-11-10 09:00"))
    found = computed(database, campaign)
    assert found.indicators is None
    report(db_url, campaign, "csv", tmp_path / "csv")
    assert not (tmp_path / "csv" / "indicators.csv").exists()
    report(db_url, campaign, "html", tmp_path / "s.html")
    assert "Показатели" not in (tmp_path / "s.html").read_text(encoding="utf-8")
    report(db_url, campaign, "xlsx", tmp_path / "s.xlsx")
    assert not any(name.startswith("Показатели") for name in openpyxl.load_workbook(tmp_path / "s.xlsx", read_only=True).sheetnames)


# -- the cost ------------------------------------------------------------------------------------------------------


def many(db, folder: Path, n: int, seed: int = 1) -> spec.Campaign:
    """`n` generated ДОУ of the form campaign, list 1 drawn, each ДОУ's form handed in and reviewed by its two experts:
    written as sets (the figures only read them)."""
    campaign = spec.load(form_file(folder, n, name="many"))
    with store.transaction(db) as session:
        engine.load(session, campaign, at(campaign, "2021-11-18 09:00"))
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at(campaign, "2021-11-25 00:05"))
    rng = random.Random(seed)
    when = at(campaign, "2021-12-03 12:00")
    inds = list(campaign.indicators)
    with store.transaction(db) as session:
        from dqflow.store import FormEntryRow, ProgressRow, table

        p = table(ProgressRow).c
        session.execute(table(ProgressRow).update().where(p.campaign_id == campaign.id, p.stage_id == "fill-form").values(status="done"))
        session.execute(insert(FormEntryRow), [{"campaign_id": campaign.id, "institution_id": i.id, "stage_id": "fill-form",
                                                "indicator_id": ind, "level": rng.choice(LEVELS), "updated_at": when}
                                               for i in campaign.institutions for ind in inds])
        assigned = session.execute(select(AssignmentRow.institution_id, AssignmentRow.expert_id).where(
            AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == "list1")).all()
        session.execute(insert(ReviewRow), [{"campaign_id": campaign.id, "stage_id": "review1", "institution_id": inst, "expert_id": expert,
                                             "at": when, "recommendations": "", "levels": "{}"} for inst, expert in assigned])
        session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": "review1", "institution_id": inst,
                                                  "expert_id": expert, "indicator_id": ind, "level": rng.choice(LEVELS)}
                                                 for inst, expert in assigned for ind in inds])
    return campaign


def test_statements_equal_at_15_and_1500_dou(database, tmp_path: Path):
    seen: dict[tuple[int, bool], int] = {}
    for n in (15, 1500):
        campaign = many(database, tmp_path, n)
        for detail in (False, True):
            with store.dry_run(database) as session, counting_statements(database) as statements:
                found = figures.compute(session, campaign.id, at(campaign, NOW), detail=detail)
            assert found.indicators is not None and found.total == n
            assert sum(f.rated for f in found.indicators.figures) == n * len(campaign.indicators)
            seen[(n, detail)] = len(statements)
    assert seen[(15, False)] == seen[(1500, False)] and seen[(15, True)] == seen[(1500, True)], seen
    assert html.SECTIONS_UP_TO >= 15


def test_the_rows_continue_on_a_next_sheet_past_a_sheets_limit(database, reviewed, monkeypatch):
    """A sheet holds 1,048,576 rows (50,000 ДОУ × 30 indicators do not fit): the rows go on in «… 2». The limit is made
    small here so that two ДОУ cross it."""
    from dqflow.results import excel

    monkeypatch.setattr(excel, "SHEET_ROWS", 15)
    with store.dry_run(database) as session:  # the sheets of every ДОУ are read as they are written, in the figures' session
        found = figures.compute(session, reviewed.id, at(reviewed, NOW), rows=True)
        book = openpyxl.load_workbook(io.BytesIO(excel.render(found)), read_only=True)
    first, second = book["Показатели по ДОУ"], book["Показатели по ДОУ 2"]
    rows = [*list(first.iter_rows(values_only=True))[1:], *list(second.iter_rows(values_only=True))[1:]]
    assert len(list(first.iter_rows())) == 16 and [r[3] for r in rows] == [*reviewed.indicators, *reviewed.indicators]
