"""The справка at national scale (issue 23): its figures are set-based, its summary stays small, its faces agree.

- the figures (`results.compute`, with and without each ДОУ's detail) cost the same number of SQL statements at 15
  and at 1,500 ДОУ (counted as tests/test_page_cost.py counts a page);
- the single-file HTML справка of a large roster is the summary alone: at 400 and at 3,000 ДОУ it is the same size
  give or take a few digits (the ДОУ needing attention and the experts are bounded lists with a count);
- `report --format html --out DIR` writes the summary as index.html, the list of ДОУ and one page per ДОУ, linked;
- on a replayed Tomsk campaign, at random moments (hypothesis), the figures counted in SQL equal those the code
  before this change derived from each ДОУ's rows in Python, and every status equals `status`'s.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import TOMSK, Cli, counting_statements
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from test_page_cost import campaign_file
from test_results import sim  # noqa: F401  (fixture: the Tomsk campaign replayed per backend)

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.results import figures, html, town, words
from dqflow.results.detail import InstitutionResult
from dqflow.store import AssignmentRow, ReviewRow

LEVELS = ("1", "2", "3", "4")


def loaded(db, folder: Path, n: int, seed: int = 1) -> spec.Campaign:
    """`n` generated ДОУ on the Tomsk schedule, loaded, list 1 drawn by reconcile, and a review by each of the two
    experts list 1 gave every ДОУ, in the first review stage (random levels, on time or late, written as a set: the
    figures only read them)."""
    campaign = spec.load(campaign_file(folder, n))
    with store.transaction(db) as session:
        engine.load(session, campaign, parse_local("2021-11-18 09:00", campaign.tz))
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, parse_local("2021-11-25 00:05", campaign.tz))
    rng = random.Random(seed)
    at = parse_local("2021-12-03 12:00", campaign.tz)
    areas = [a.id for a in campaign.areas]
    with store.transaction(db) as session:
        assigned = session.execute(select(AssignmentRow.institution_id, AssignmentRow.expert_id).where(
            AssignmentRow.campaign_id == campaign.id, AssignmentRow.stage_id == "list1")).all()
        session.execute(insert(ReviewRow), [
            {"campaign_id": campaign.id, "stage_id": "review1", "institution_id": inst, "expert_id": expert,
             "at": at + timedelta(days=rng.choice((0, 0, 30))), "recommendations": "",
             "levels": '{' + ", ".join(f'"{a}": "{rng.choice(LEVELS)}"' for a in sorted(areas)) + '}'}
            for inst, expert in assigned])
    return campaign


# -- the cost ------------------------------------------------------------------------------------


def test_the_figures_cost_the_same_statements_at_15_and_at_1500_dou(database, tmp_path: Path):
    seen: dict[tuple[int, bool | str], int] = {}
    for n in (15, 1500):
        campaign = loaded(database, tmp_path, n)
        now = parse_local("2021-12-20 12:00", campaign.tz)
        for detail in (False, True):
            with store.dry_run(database) as session, counting_statements(database) as statements:
                found = figures.compute(session, campaign.id, now, detail=detail)
            assert found.total == n and len(found.institutions) == (n if detail else 0)
            seen[(n, detail)] = len(statements)
        # the workbook's and the CSV's tables of every ДОУ, read as they are written (`compute(rows=True)`): one SELECT each
        with store.dry_run(database) as session, counting_statements(database) as statements:
            found = figures.compute(session, campaign.id, now, detail=False, rows=True)
            assert found.rows is not None
            tables = [list(found.rows.institutions()), list(found.rows.handed_in()), list(found.rows.reviews()),
                      list(found.rows.levels_given())]
        assert [len(t) for t in tables[:1]] == [n] and len(tables[1]) >= 5 * n and len(tables[2]) == len(tables[3]) == 2 * n
        seen[(n, "rows")] = len(statements)
    assert seen[(15, False)] == seen[(1500, False)] <= 30, seen
    assert seen[(15, True)] == seen[(1500, True)] <= seen[(15, False)] + 8, seen
    assert seen[(15, "rows")] == seen[(1500, "rows")] <= seen[(15, False)] + 6, seen


# -- the summary's size ----------------------------------------------------------------------------


def test_the_single_file_html_of_a_large_roster_is_the_summary_and_does_not_grow(db_url: str, database, tmp_path: Path):
    sizes = {}
    for n in (400, 3000):
        campaign = loaded(database, tmp_path, n)
        out = tmp_path / f"spravka-{n}.html"
        said = Cli(db_url).ok("--campaign", campaign.id, "report", "--format", "html", "--out", str(out), "--now", "2021-12-20 12:00")
        assert f"ДОУ: {n} — справка без разделов по каждому ДОУ" in said and "--out ПАПКА" in said
        text = out.read_text(encoding="utf-8")
        assert 'class="institution"' not in text  # no ДОУ's section
        with store.dry_run(database) as session:
            found = figures.compute(session, campaign.id, parse_local("2021-12-20 12:00", campaign.tz), detail=False)
        assert found.low_total > town.ATTENTION
        assert f"Показаны первые {town.ATTENTION} из {found.low_total} ДОУ" in text
        assert f"Показаны {words.EXPERTS_SHOWN} из {sum(1 for e in found.experts if e.assigned)} экспертов" in text
        assert f"ДОУ, у которых хотя бы одна область качества на базовом уровне и ниже: {found.low_total} из {n}." in text
        sizes[n] = len(out.read_bytes())
    assert abs(sizes[3000] - sizes[400]) < 2_000 and sizes[3000] < 100_000, sizes


def test_a_small_roster_keeps_every_dou_in_the_single_file(database, tmp_path: Path):
    """The Tomsk-sized справка a town prints stays one document with each ДОУ's section."""
    campaign = loaded(database, tmp_path, 15)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, parse_local("2021-12-20 12:00", campaign.tz), detail=None)
    text = html.render(found)
    assert found.detailed and text.count('<section class="institution"') == 15


# -- the folder --------------------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href", "").endswith(".html"):
            self.found.append(dict(attrs)["href"])


def links(path: Path) -> list[Path]:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return [(path.parent / href).resolve() for href in parser.found]


def test_a_folder_holds_the_summary_the_list_and_a_page_per_dou_linked(db_url: str, database, tmp_path: Path):
    campaign = loaded(database, tmp_path, 400)
    out = tmp_path / "spravka"
    said = Cli(db_url).ok("--campaign", campaign.id, "report", "--format", "html", "--out", str(out), "--now", "2021-12-20 12:00")
    assert said.strip() == f"Записано: {out / 'index.html'} и страниц ДОУ: 400 ({out / 'dou'})"
    pages = sorted(p.name for p in (out / "dou").iterdir())
    assert len(pages) == 401 and "index.html" in pages
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # nothing half-written left
    summary = links(out / "index.html")
    assert (out / "dou" / "index.html").resolve() in summary
    assert all(p.exists() for p in summary) and len([p for p in summary if p.parent.name == "dou"]) > town.ATTENTION
    listed = links(out / "dou" / "index.html")
    assert {p.name for p in listed if p.parent.name == "dou"} == {f"{i}.html" for i in range(1, 401)}
    page = (out / "dou" / "7.html").read_text(encoding="utf-8")
    assert "МБДОУ № 7" in page and "../index.html" in page and "Первичная экспертиза" in page
    # written again over itself: the same files, no page of an older roster left behind
    (out / "dou" / "stale.html").write_text("old", encoding="utf-8")
    Cli(db_url).ok("--campaign", campaign.id, "report", "--format", "html", "--out", str(out), "--now", "2021-12-20 12:00")
    assert len(list((out / "dou").iterdir())) == 401


def test_a_folder_is_refused_for_a_single_file_format_and_a_file_for_a_folder(db_url: str, database, tmp_path: Path):
    campaign = loaded(database, tmp_path, 15)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = Cli(db_url)("--campaign", campaign.id, "report", "--format", "docx", "--out", str(folder), "--now", "2021-12-20 12:00")
    assert result.exit_code == 1 and "это папка; укажите имя файла" in result.output and list(folder.iterdir()) == []
    a_file = tmp_path / "plain"
    a_file.write_text("keep", encoding="utf-8")
    result = Cli(db_url)("--campaign", campaign.id, "report", "--format", "html", "--out", str(a_file), "--now", "2021-12-20 12:00")
    assert result.exit_code == 1 and result.output.count("\n") == 1 and a_file.read_text(encoding="utf-8") == "keep"


# -- the figures agree with status and with the definitions in Python ------------------------------------


@pytest.fixture(scope="module")
def replayed(sim):  # noqa: F811
    """The Tomsk campaign replayed whole per backend (`test_results.sim`), as an engine to read it with."""
    db = store.connect(sim["url"])
    try:
        yield db
    finally:
        db.dispose()


def by_python(found: figures.Results) -> dict:
    """The town's figures as the code before issue 23 derived them from each ДОУ's rows (`InstitutionResult`)."""
    rank = {lv.id: n for n, lv in enumerate(found.campaign.levels)}
    areas = found.area_ids
    distribution = {a: {lv: 0 for lv in rank} for a in areas}
    agreement = {a: [0, 0] for a in areas}
    weak: Counter = Counter()
    low = []
    experts = {e.expert.id: [0, 0, 0] for e in found.experts}
    base = rank[found.base_level] if found.base_level else -1
    for inst in found.institutions:
        for area, level in inst.levels.items():
            distribution[area][level] += 1
        weak.update(inst.weak_areas)
        below = [a for a, lv in inst.levels.items() if rank[lv] <= base]
        if below:
            low.append((inst.institution.id, below))
        for panel in inst.reviews.values():
            for area, agreed in panel.agreement(areas).items():
                if agreed is not None:
                    agreement[area][1] += 1
                    agreement[area][0] += int(agreed)
            for expert in panel.assigned:
                mine = next((r for r in panel.reviews if r.expert_id == expert), None)
                if expert in experts:
                    experts[expert][0] += 1
                    if mine is not None:
                        experts[expert][1 if mine.on_time else 2] += 1
    ordered_weak = sorted(weak.items(), key=lambda item: (-item[1], areas.index(item[0])))
    return {"distribution": distribution, "agreement": {a: tuple(n) for a, n in agreement.items()}, "weak": ordered_weak,
            "low": low, "experts": experts}


def levels_by_python(found: figures.Results, inst: InstitutionResult) -> tuple[dict[str, str], str | None]:
    """A ДОУ's levels as the code before issue 23 took them: the lowest of its experts' in its latest review stage."""
    rank = {lv.id: n for n, lv in enumerate(found.campaign.levels)}
    for stage_id in reversed(list(inst.reviews)):
        panel = inst.reviews[stage_id]
        if panel.reviews:
            lowest: dict[str, str] = {}
            for review in panel.reviews:
                for area, level in review.levels.items():
                    lowest[area] = min(lowest.get(area, level), level, key=rank.__getitem__)
            return {a: lowest[a] for a in found.area_ids if a in lowest}, stage_id
    return {}, None


MOMENTS = st.datetimes(min_value=parse_local("2021-11-18 00:00", spec.load(TOMSK).tz).replace(tzinfo=None),
                       max_value=parse_local("2022-01-25 00:00", spec.load(TOMSK).tz).replace(tzinfo=None))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=MOMENTS)
def test_the_figures_in_sql_equal_the_old_definitions_and_status_at_any_moment(replayed, moment):
    campaign = spec.load(TOMSK)
    now = moment.replace(tzinfo=campaign.tz)
    with store.dry_run(replayed) as session:
        found = figures.compute(session, campaign.id, now)
        summary = figures.compute(session, campaign.id, now, detail=False)
        view = engine.status(session, campaign.id, now, institutions=True, limit=None)
    # every status is `status`'s
    assert [(s.stage.id, s.counts) for s in view.stages] == [(f.stage.id, f.counts) for f in found.stages]
    assert [(i.institution.id, i.state, i.stages) for i in view.institutions] == \
           [(i.institution.id, i.state, {k: o.status for k, o in i.stages.items()}) for i in found.institutions]
    # each ДОУ's levels as before, and the town's figures as the old code counted them from those rows
    for inst in found.institutions:
        assert (inst.levels, inst.levels_from) == levels_by_python(found, inst)
        rank = {lv.id: n for n, lv in enumerate(found.campaign.levels)}
        lowest = min((rank[v] for v in inst.levels.values()), default=None)
        assert inst.weak_areas == [a for a in found.area_ids if a in inst.levels and rank[inst.levels[a]] == lowest]
    old = by_python(found)
    for faced in (found, summary):
        assert faced.distribution() == old["distribution"]
        assert faced.agreement() == old["agreement"]
        assert faced.weak_areas() == old["weak"]
        assert faced.low_total == len(old["low"])
        assert [(i.id, areas) for i, areas in faced.attention] == old["low"][:town.ATTENTION]
        assert {e.expert.id: [e.assigned, e.on_time, e.late] for e in faced.experts} == old["experts"]
    assert [(i.institution.id, a) for i, a in found.at_or_below_base()] == old["low"]


def tables_by_objects(found: figures.Results) -> list[list[tuple]]:
    """The tables of every ДОУ (`rows.Rows`: the ДОУ, their hand-ins, their experts, the levels given) as the справка's
    other faces read them from each ДОУ's objects (`InstitutionResult`: the HTML pages, the Word document)."""
    stages, areas = [s.id for s in found.per_institution_stages], found.area_ids
    institutions, handed, experts, given = [], [], [], []
    for inst in found.institutions:
        i = inst.institution
        institutions.append((i.id, i.name, i.email, tuple(inst.stages[s].status if s in inst.stages else None for s in stages),
                             tuple(inst.levels.get(a) for a in areas), inst.weak_areas))
        for o in inst.stages.values():
            handed.append((i.id, i.name, o.stage_id, o.status, o.due_at, o.extended, o.submitted_at, o.links,
                           [(e.until, e.reason) for e in o.extensions]))
        for panel in inst.reviews.values():
            by_expert = {r.expert_id: r for r in panel.reviews}
            for expert in panel.assigned + [e for e in by_expert if e not in panel.assigned]:
                r = by_expert.get(expert)
                experts.append((i.id, i.name, panel.stage_id, expert, None, None, (), None) if r is None else
                               (i.id, i.name, panel.stage_id, expert, r.at, r.on_time, tuple(r.levels.get(a) for a in areas),
                                r.recommendations))
            for r in panel.reviews:
                given.append((i.id, panel.stage_id, r.expert_id, tuple((a, r.levels[a]) for a in [*(a for a in areas if a in r.levels),
                                                                                                    *(a for a in r.levels if a not in areas)])))
    return [institutions, handed, experts, given]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=MOMENTS)
def test_the_tables_read_as_rows_are_what_each_dous_objects_say_at_any_moment(replayed, moment):
    """The workbook's and the CSV's tables of every ДОУ, streamed from SQL as plain rows (`rows.Rows`), hold what the
    HTML pages and the Word document read from each ДОУ's objects: the same ДОУ in the same order, statuses, deadlines,
    hand-ins, extensions, experts, reviews on time or late, levels and weak areas."""
    campaign = spec.load(TOMSK)
    now = moment.replace(tzinfo=campaign.tz)
    with store.dry_run(replayed) as session:
        found = figures.compute(session, campaign.id, now, rows=True)
        assert found.rows is not None
        streamed = [list(found.rows.institutions()), list(found.rows.handed_in()), list(found.rows.reviews()),
                    list(found.rows.levels_given())]
    expected = tables_by_objects(found)
    assert [len(t) for t in streamed] == [len(t) for t in expected] and all(expected[:3])
    for mine, theirs in zip(streamed, expected, strict=True):
        assert [tuple(row) for row in mine] == theirs


def test_the_replayed_campaign_has_what_the_figures_are_about(replayed):
    """Reviews by two experts that agree and disagree, ДОУ at the base level, experts late and missing."""
    campaign = spec.load(TOMSK)
    with store.dry_run(replayed) as session:
        found = figures.compute(session, campaign.id, parse_local("2022-01-21 12:00", campaign.tz))
    compared = sum(n for _, n in found.agreement().values())
    agreed = sum(n for n, _ in found.agreement().values())
    assert 0 < agreed < compared and found.low_total > 0
    assert any(e.missing for e in found.experts) and any(e.on_time for e in found.experts)


# -- the CSV folder reads what the figures say -------------------------------------------------------------


def test_csv_at_scale_lists_every_dou_and_review(db_url: str, database, tmp_path: Path):
    campaign = loaded(database, tmp_path, 400)
    out = tmp_path / "csv"
    Cli(db_url).ok("--campaign", campaign.id, "report", "--format", "csv", "--out", str(out), "--now", "2021-12-20 12:00")
    rows = (out / "institutions.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 401
    reviews = (out / "reviews.csv").read_text(encoding="utf-8").splitlines()
    assert len(reviews) == 1 + 400 * 2 * len(campaign.areas)
    per: dict[str, int] = defaultdict(int)
    for line in reviews[1:]:
        per[line.split(",")[0]] += 1
    assert set(per.values()) == {2 * len(campaign.areas)}
    assert re.fullmatch(r"id,name(,[\w-]+)+", rows[0])
