"""The regional справка (issue 22, part 4): three municipal campaigns made from the Tomsk file, loaded into one
database, some ДОУ handing in (on time, late, not at all), experts reviewing through the CLI; `region report` in
HTML and CSV checked against the numbers worked out by hand from what the test did, on both backends."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import TOMSK, Cli, complete, counting_statements, dump_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dqflow.errors import DqflowError

LOADED = "2021-11-10 09:00"
ON_TIME = "2021-11-24 10:00"  # fill-form runs 19.11 – 30.11
LIST1_OPEN = "2021-11-25 00:05"  # list1 is drawn then
LATE = "2021-12-01 10:00"  # after fill-form's deadline
REVIEW1_INSIDE = "2021-12-02 10:00"  # review1 runs 01.12 – 05.12
AS_OF = "2021-12-03 10:00"
TOWNS = {"mun-a": ("Мониторинг, муниципалитет А, 2021", ["2", "4", "5", "6"]),
         "mun-b": ("Мониторинг, муниципалитет Б, 2021", ["15", "35", "40", "62"]),
         "mun-c": ("Мониторинг, муниципалитет В, 2021", ["73", "86", "94"])}
AREAS = ["conditions", "guidelines", "parents", "health", "special-needs"]
LEVELS = ["1", "2", "3", "4"]


def municipal_file(folder: Path, campaign_id: str, title: str, roster: list[str], *, areas: list[dict] | None = None) -> Path:
    """A copy of the Tomsk file as one municipality's campaign: its id, title and part of the roster (fill-form with grace)."""
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"], data["campaign"]["title"] = campaign_id, title
    data["institutions"] = [i for i in data["institutions"] if str(i["id"]) in roster]
    next(s for s in data["stages"] if s["id"] == "fill-form")["grace"] = "2d"  # a hand-in until 02.12 is late, not refused
    if areas is not None:
        data["areas"] = areas
    path = folder / f"{campaign_id}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def review(dq: Cli, town: str, inst: str, expert: str, **given: str) -> None:
    levels = complete(*(f"{a.replace('_', '-')}={lv}" for a, lv in given.items()))
    dq.ok("--campaign", town, "review", inst, "--stage", "review1", "--expert", expert,
          *[arg for a, lv in levels.items() for arg in ("--level", f"{a}={lv}")], "--now", REVIEW1_INSIDE)


@pytest.fixture
def region(dq: Cli, tmp_path: Path) -> Cli:
    """Three municipalities in one database. Hand-ins of fill-form: А — 2, 4, 5 on time, 6 nothing; Б — all four
    on time; В — 73 on time, 86 late, 94 nothing. Reviews of review1 (levels not named are 2):
    А/2 — conditions 1 and 2 (level 1: below the base; experts disagree there), А/4 — both all 3, А/5 — one expert
    only; Б/15 — both all 2, Б/35 — health 1 and 2 (level 1; disagree there); В/73 — both all 4."""
    for town, (title, roster) in TOWNS.items():
        dq.ok("load", str(municipal_file(tmp_path, town, title, roster)), "--now", LOADED)
    handed = {"mun-a": ["2", "4", "5"], "mun-b": ["15", "35", "40", "62"], "mun-c": ["73"]}
    for town, insts in handed.items():
        for inst in insts:
            dq.ok("--campaign", town, "submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/f", "--now", ON_TIME)
        dq.ok("--campaign", town, "tick", "--now", LIST1_OPEN)
    dq.ok("--campaign", "mun-c", "submit", "86", "--stage", "fill-form", "--link", "https://dou86.example.org/f", "--now", LATE)
    lists = {town: {a["institution"]: a["experts"] for a in dq.json("--campaign", town, "experts", "show", "list1")["assignments"]}
             for town in TOWNS}
    a, b, c = lists["mun-a"], lists["mun-b"], lists["mun-c"]
    review(dq, "mun-a", "2", a["2"][0], conditions="1")
    review(dq, "mun-a", "2", a["2"][1], conditions="2")
    review(dq, "mun-a", "4", a["4"][0], **{x: "3" for x in AREAS})
    review(dq, "mun-a", "4", a["4"][1], **{x: "3" for x in AREAS})
    review(dq, "mun-a", "5", a["5"][0])
    review(dq, "mun-b", "15", b["15"][0])
    review(dq, "mun-b", "15", b["15"][1])
    review(dq, "mun-b", "35", b["35"][0], health="1")
    review(dq, "mun-b", "35", b["35"][1], health="2")
    review(dq, "mun-c", "73", c["73"][0], **{x: "4" for x in AREAS})
    review(dq, "mun-c", "73", c["73"][1], **{x: "4" for x in AREAS})
    return dq


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts (th and td alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.scopes: list[str | None] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self._cell = []
            if tag == "th":
                self.scopes.append(dict(attrs).get("scope"))

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


# Worked out by hand from the fixture's story.
DISTRIBUTION = {  # (scope, area) → counts of levels 1..4
    ("mun-a", "conditions"): [1, 1, 1, 0], ("mun-a", "guidelines"): [0, 2, 1, 0], ("mun-a", "health"): [0, 2, 1, 0],
    ("mun-b", "conditions"): [0, 2, 0, 0], ("mun-b", "health"): [1, 1, 0, 0], ("mun-b", "parents"): [0, 2, 0, 0],
    ("mun-c", "conditions"): [0, 0, 0, 1], ("mun-c", "health"): [0, 0, 0, 1],
    ("region", "conditions"): [1, 3, 1, 1], ("region", "health"): [1, 3, 1, 1], ("region", "parents"): [0, 4, 1, 1],
}
AGREEMENT = {("mun-a", "conditions"): (1, 2), ("mun-a", "health"): (2, 2), ("mun-b", "health"): (1, 2),
             ("mun-b", "conditions"): (2, 2), ("mun-c", "special-needs"): (1, 1)}


def test_the_regional_report_in_csv_gives_the_hand_computed_figures(region: Cli, tmp_path: Path):
    before = dump_tables(region.db_url)
    out = tmp_path / "region-csv"
    said = region.ok("region", "report", "--campaign", "mun-a", "--campaign", "mun-b", "--campaign", "mun-c",
                     "--format", "csv", "--out", str(out), "--now", AS_OF)
    assert said.count("Записано:") == 4, said
    assert dump_tables(region.db_url) == before  # a report writes nothing to the database

    fill = {r["campaign"]: r for r in rows(out / "participation.csv") if r["stage"] == "fill-form"}
    assert {t: (r["institutions"], r["expected"], r["handed_in"], r["on_time"], r["late"]) for t, r in fill.items()} == {
        "mun-a": ("4", "4", "3", "3", "0"), "mun-b": ("4", "4", "4", "4", "0"), "mun-c": ("3", "3", "2", "1", "1")}
    assert fill["mun-b"]["title"] == TOWNS["mun-b"][0]
    stages = {r["stage"] for r in rows(out / "participation.csv")}
    assert stages == {"fill-form", "refill", "final-fix", "operator-submission"}  # the form-filling stages only

    levels = {(r["scope"], r["area"]): [0] * 4 for r in rows(out / "levels.csv")}
    for r in rows(out / "levels.csv"):
        levels[(r["scope"], r["area"])][LEVELS.index(r["level"])] = int(r["institutions"])
    for key, counts in DISTRIBUTION.items():
        assert levels[key] == counts, key
    assert set(levels) == {(s, a) for s in [*TOWNS, "region"] for a in AREAS}

    below = [(r["campaign"], r["institution"], r["areas"]) for r in rows(out / "below_base.csv")]
    assert below == [("mun-a", "2", "conditions"), ("mun-b", "35", "health")]

    agreement = {(r["campaign"], r["area"]): (int(r["agreed"]), int(r["compared"])) for r in rows(out / "agreement.csv")}
    for key, pair in AGREEMENT.items():
        assert agreement[key] == pair, key
    totals = {t: tuple(sum(v[i] for (c, _), v in agreement.items() if c == t) for i in (0, 1)) for t in TOWNS}
    assert totals == {"mun-a": (9, 10), "mun-b": (9, 10), "mun-c": (5, 5)}


def test_the_regional_report_in_html_names_municipalities_by_title_and_gives_the_same_figures(region: Cli, tmp_path: Path):
    out = tmp_path / "region.html"
    region.ok("region", "report", "--campaign", "mun-a", "--campaign", "mun-b", "--campaign", "mun-c", "--out", str(out), "--now", AS_OF)
    page = out.read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and "по состоянию на 03.12.2021 10:00 (томское время, UTC+7)" in page
    found = tables(page)
    assert found.scopes and all(scope in ("col", "row", "rowgroup") for scope in found.scopes)  # every header says what it heads
    cells = {row[0]: row[1:] for table in found.tables for row in table if row}
    totals = next(t for t in found.tables if t[0][:2] == ["Муниципалитет", "ДОУ"] and "Ожидалось сдач" in t[0])
    by_town = {row[0]: row[1:] for row in totals[1:]}
    # ДОУ, expected hand-ins over the four form-filling stages, handed in, on time
    assert by_town[TOWNS["mun-a"][0]][:4] == ["4", "16", "3", "3"]
    assert by_town[TOWNS["mun-c"][0]][:4] == ["3", "12", "2", "1"]
    assert by_town["Регион"][:4] == ["11", "44", "9", "8"]
    assert cells  # the page has its tables
    below = next(t for t in found.tables if "На базовом уровне и ниже" in t[0])
    assert {row[0]: row[2] for row in below[1:]} == {TOWNS["mun-a"][0]: "1", TOWNS["mun-b"][0]: "1", TOWNS["mun-c"][0]: "0", "Регион": "2"}
    conditions = found.tables[[n for n, t in enumerate(found.tables) if "Оценено ДОУ" in t[0]][0]]  # the first area's table
    assert conditions[-1] == ["Регион", "1", "3", "1", "1", "6"]
    agreement = next(t for t in found.tables if "Всего" in t[0])
    assert {row[0]: row[-2] for row in agreement[1:]} == {TOWNS["mun-a"][0]: "9 / 10", TOWNS["mun-b"][0]: "9 / 10",
                                                           TOWNS["mun-c"][0]: "5 / 5", "Регион": "23 / 25"}


def test_campaigns_with_different_areas_are_refused_naming_the_area_or_compared_on_what_they_share(dq: Cli, tmp_path: Path):
    tomsk = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    other_areas = [a for a in tomsk["areas"] if a["id"] != "special-needs"] + [{"id": "digital", "title": "Цифровая среда",
                                                                                      "indicators": [{"id": "9.1", "title": "Цифровые ресурсы"}]}]
    dq.ok("load", str(municipal_file(tmp_path, "mun-a", *TOWNS["mun-a"])), "--now", LOADED)
    dq.ok("load", str(municipal_file(tmp_path, "mun-d", "Мониторинг, муниципалитет Г, 2021", ["15", "35", "40"], areas=other_areas)),
          "--now", LOADED)
    before = dump_tables(dq.db_url)
    out = tmp_path / "refused.html"
    refused = dq("region", "report", "--campaign", "mun-a", "--campaign", "mun-d", "--out", str(out), "--now", AS_OF)
    assert refused.exit_code != 0
    assert refused.output.startswith("ошибка: ") and refused.output.count("\n") == 1, refused.output
    assert "«Условия для лиц с ОВЗ» (special-needs)" in refused.output and "mun-d" in refused.output and "--common" in refused.output
    assert not out.exists() and dump_tables(dq.db_url) == before

    folder = tmp_path / "common"
    dq.ok("region", "report", "--campaign", "mun-a", "--campaign", "mun-d", "--common", "--format", "csv", "--out", str(folder), "--now", AS_OF)
    areas = {r["area"] for r in rows(folder / "levels.csv")}
    assert areas == {"conditions", "guidelines", "parents", "health"}
    assert {r["area"] for r in rows(folder / "agreement.csv")} == areas
    page = tmp_path / "common.html"
    dq.ok("region", "report", "--campaign", "mun-a", "--campaign", "mun-d", "--common", "--out", str(page), "--now", AS_OF)
    text = page.read_text(encoding="utf-8")
    assert ("Не сравниваются: область «Условия для лиц с ОВЗ» (special-needs, кампания mun-a); "
            "область «Цифровая среда» (digital, кампания mun-d)") in text
    assert "<h3>Цифровая среда</h3>" not in text and "<h3>Условия для лиц с ОВЗ</h3>" not in text


def test_campaigns_of_different_years_are_refused_naming_each_ones_year(dq: Cli, tmp_path: Path):
    """A regional справка is one year's monitoring: 2021's and 2022's Tomsk side by side are refused, --common or not
    (year over year is `report --compare`)."""
    from test_years import second_year

    dq.ok("load", str(TOMSK), "--now", LOADED)
    dq.ok("load", str(second_year(tmp_path)), "--now", LOADED)
    before = dump_tables(dq.db_url)
    for common in ([], ["--common"]):
        out = tmp_path / "years.html"
        refused = dq("region", "report", "--campaign", "tomsk-2021", "--campaign", "tomsk-2022", *common, "--out", str(out),
                     "--now", AS_OF)
        assert refused.exit_code != 0 and refused.output.count("\n") == 1, refused.output
        assert refused.output.startswith("ошибка: кампании разных лет: tomsk-2021 — 2021, tomsk-2022 — 2022;"), refused.output
        assert not out.exists() and dump_tables(dq.db_url) == before
    assert [e["year"] for e in dq.json("campaigns", "--json", "--now", AS_OF)] == [2021, 2022]  # the same rule as `campaigns`


def test_an_unknown_campaign_and_a_wrong_out_are_refused_in_one_line_writing_nothing(dq: Cli, tmp_path: Path):
    dq.ok("load", str(municipal_file(tmp_path, "mun-a", *TOWNS["mun-a"])), "--now", LOADED)
    out = tmp_path / "r.html"
    refused = dq("region", "report", "--campaign", "mun-a", "--campaign", "nowhere", "--out", str(out), "--now", AS_OF)
    assert refused.exit_code != 0 and "«nowhere» не загружена (загружены: mun-a)" in refused.output, refused.output
    assert not out.exists()
    refused = dq("region", "report", "--campaign", "mun-a", "--out", str(tmp_path), "--now", AS_OF)
    assert refused.exit_code != 0 and f"это папка; укажите имя файла, например {tmp_path / 'region.html'}" in refused.output
    (tmp_path / "a-file").write_text("kept", encoding="utf-8")
    refused = dq("region", "report", "--campaign", "mun-a", "--format", "csv", "--out", str(tmp_path / "a-file"), "--now", AS_OF)
    assert refused.exit_code != 0 and "это файл, а CSV пишется в папку" in refused.output
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "kept"


def test_a_different_scale_is_refused_naming_both_scales_and_a_title_cannot_carry_a_formula_into_csv(dq: Cli, tmp_path: Path):
    dq.ok("load", str(municipal_file(tmp_path, "mun-a", "=HYPERLINK(\"https://x.example.org\")", TOWNS["mun-a"][1])), "--now", LOADED)
    path = municipal_file(tmp_path, "mun-e", "Мониторинг, муниципалитет Д, 2021", ["15", "35", "40"])
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["levels"] = data["levels"][:3]  # no «Уровень превосходного качества»
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    dq.ok("load", str(path), "--now", LOADED)
    out = tmp_path / "csv"
    refused = dq("region", "report", "--campaign", "mun-a", "--campaign", "mun-e", "--format", "csv", "--out", str(out), "--now", AS_OF)
    assert refused.exit_code != 0 and refused.output.count("\n") == 1, refused.output
    assert "шкалы уровней различаются" in refused.output and "4 «Уровень превосходного качества»" in refused.output
    assert not out.exists()
    dq.ok("region", "report", "--campaign", "mun-a", "--campaign", "mun-e", "--common", "--format", "csv", "--out", str(out), "--now", AS_OF)
    assert {r["level"] for r in rows(out / "levels.csv")} == {"1", "2", "3"}
    titles = {r["campaign"]: r["title"] for r in rows(out / "participation.csv")}
    assert titles["mun-a"] == "'=HYPERLINK(\"https://x.example.org\")"  # the one CSV guard: a leading apostrophe


# -- one pass: the same figures as each campaign's figures.compute ----------------------------------------------------


def per_campaign(session, campaign_id: str, now, areas: list[str] | None = None) -> dict:
    """What the regional справка shows of one campaign, taken from `figures.compute` alone (the справка's own figures)."""
    from dqflow.results import figures

    found = figures.compute(session, campaign_id, now)
    areas = areas if areas is not None else found.area_ids
    distribution = found.distribution()
    return {
        "institutions": found.total,
        "stages": [(f.stage.id, f.state, {k: v for k, v in f.counts.items() if k != "nothing"}) for f in found.stages
                   if f.stage.per_institution and f.stage.actor == "institution"],
        "distribution": {a: distribution.get(a, {}) for a in areas},
        "below": [(inst.institution.id, inst.institution.name, [a for a in found.area_ids if a in low and a in areas])
                  for inst, low in found.at_or_below_base() if any(a in areas for a in low)],
        "agreement": {a: found.agreement().get(a, (0, 0)) for a in areas},
    }


def one_pass(m) -> dict:
    return {
        "institutions": m.institutions,
        "stages": [(f.stage.id, f.state, f.counts) for f in m.stages],
        "distribution": m.distribution,
        "below": [(inst.id, inst.name, areas) for inst, areas in m.below_base],
        "agreement": m.agreement,
    }


@pytest.mark.parametrize("moment", [AS_OF, "2021-12-20 10:00", "2022-01-21 12:00"])
def test_the_one_pass_figures_are_each_campaigns_figures_compute(region: Cli, moment: str):
    """`region.compute` reads all campaigns in a fixed number of statements; what it gives each municipality is what
    `figures.compute` gives that campaign alone (stages' states and counts, levels, the ДОУ at or below the base level,
    agreement), on both backends and at moments before and after the stages lock."""
    from conftest import counting_statements

    from dqflow import store
    from dqflow.calendar import parse_local
    from dqflow.results import region as regional

    db = store.connect(region.db_url)
    try:
        with store.dry_run(db) as session:
            from dqflow import engine

            now = parse_local(moment, engine.definition(session, "mun-a").tz)
            with counting_statements() as seen:
                found = regional.compute(session, list(TOWNS), now)
            one = len(seen)
            with counting_statements() as seen:
                regional.compute(session, ["mun-a"], now)
            assert len(seen) == one - 2  # one definition read per campaign, the figures in the same statements
            for m in found.municipalities:
                assert one_pass(m) == per_campaign(session, m.id, now), m.id
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def three_scales(tmp_path_factory) -> str:
    """Three municipalities on SQLite, loaded once, ticked to 20.12: mun-b's scale lists its levels in another order
    (so its ranks are its own), mun-c's has no fourth level."""
    folder = tmp_path_factory.mktemp("three")
    url = f"sqlite:///{folder / 'dqflow.db'}"
    dq = Cli(url)
    for town, (title, roster) in TOWNS.items():
        path = municipal_file(folder, town, title, roster)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if town == "mun-b":
            data["levels"] = [data["levels"][0], data["levels"][2], data["levels"][1], data["levels"][3]]
        if town == "mun-c":
            data["levels"] = data["levels"][:3]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        dq.ok("load", str(path), "--now", LOADED)
        dq.ok("--campaign", town, "submit", roster[0], "--stage", "fill-form", "--link", "https://x.example.org/f", "--now", ON_TIME)
    path = municipal_file(folder, FORM_TOWN, "Мониторинг по показателям, 2021", TOWNS["mun-a"][1])  # experts review per indicator
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for stage in data["stages"]:
        if stage["id"] in ("fill-form", "refill", "final-fix"):
            stage["form"] = True
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    dq.ok("load", str(path), "--now", LOADED)
    return url


FORM_TOWN = "mun-f"
ROSTERS = {**{town: roster for town, (_, roster) in TOWNS.items()}, FORM_TOWN: TOWNS["mun-a"][1]}


REVIEWS = st.lists(st.tuples(st.sampled_from(list(ROSTERS)), st.sampled_from(["review1", "review2"]), st.integers(0, 3),
                             st.sampled_from(["x1", "x2", "x3"]),
                             st.dictionaries(st.sampled_from([*AREAS, "elsewhere"]), st.sampled_from([*LEVELS, "9"]), max_size=6)),
                   max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reviews=REVIEWS, common=st.booleans())
def test_the_one_pass_figures_equal_figures_compute_whatever_the_reviews(three_scales: str, reviews, common: bool):
    """Any reviews (levels outside the scale, areas outside the campaign, one or more experts, either review stage) in
    campaigns whose scales differ (so each campaign's ranks are its own), one of them reviewed per indicator (its levels
    read as `figures` reads them, campaign by campaign): each municipality's figures are `figures.compute`'s on the areas
    compared."""
    import json

    from dqflow import engine, store
    from dqflow.calendar import parse_local
    from dqflow.results import region as regional
    from dqflow.store import ReviewRow

    db = store.connect(three_scales)
    try:
        with store.dry_run(db) as session:
            now = parse_local("2021-12-20 10:00", engine.definition(session, "mun-a").tz)
            seen = set()
            for town, stage, n, expert, levels in reviews:
                inst = ROSTERS[town][n % len(ROSTERS[town])]
                if (town, stage, inst, expert) not in seen:
                    seen.add((town, stage, inst, expert))
                    session.add(ReviewRow(campaign_id=town, stage_id=stage, institution_id=inst, expert_id=expert, at=now,
                                          levels=json.dumps(levels)))
            session.flush()
            if not common:
                with pytest.raises(DqflowError, match="шкалы уровней различаются"):
                    regional.compute(session, list(TOWNS), now)
                found = regional.compute(session, ["mun-a", FORM_TOWN], now)  # one scale: compared whole
            else:
                found = regional.compute(session, list(ROSTERS), now, common=True)
            assert FORM_TOWN in [m.id for m in found.municipalities]
            compared = [a for a, _ in found.areas]
            for m in found.municipalities:
                expected = per_campaign(session, m.id, now, compared)
                kept = {lv for lv, _ in found.levels}
                expected["distribution"] = {a: {lv: n for lv, n in by.items() if lv in kept} for a, by in expected["distribution"].items()}
                assert one_pass(m) == expected, m.id
    finally:
        db.dispose()


# -- the workbook and the Word document ------------------------------------------------------------------------------


def test_the_regional_workbook_has_typed_filtered_sheets_with_the_hand_computed_figures_and_the_same_bytes(region: Cli, tmp_path: Path):
    from openpyxl import load_workbook

    ids = [a for town in TOWNS for a in ("--campaign", town)]
    out = tmp_path / "region.xlsx"
    said = region.ok("region", "report", *ids, "--format", "xlsx", "--out", str(out), "--now", AS_OF)
    assert said.strip() == f"Записано: {out}"
    first = out.read_bytes()
    region.ok("region", "report", *ids, "--format", "xlsx", "--out", str(out), "--now", AS_OF)
    assert out.read_bytes() == first  # the same state as of the same moment: the same file
    book = load_workbook(out)
    assert book.sheetnames == ["Справка", "Сводка", "Участие по этапам", "Уровни по областям", "Базовый уровень и ниже", "Согласованность",
                               "Уровни по показателям"]
    assert book["Уровни по показателям"]["A2"].value.startswith("Уровни по показателям не сравниваются: в кампании mun-a, mun-b, mun-c")
    assert book["Справка"]["A2"].value == "По состоянию на 03.12.2021 10:00 (томское время, UTC+7)"
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:"), name
        assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb.endswith("DDE4EE"), name
    summary = {row[0]: row for row in book["Сводка"].iter_rows(min_row=2, values_only=True)}
    a, region_row = summary[TOWNS["mun-a"][0]], summary["Регион"]
    assert a[1:6] == ("mun-a", 4, 16, 3, 3) and region_row[2:6] == (11, 44, 9, 8)
    assert a[8:12] == (1, 0.25, 9, 10) and region_row[8:12] == (2, pytest.approx(2 / 11), 23, 25)
    assert book["Сводка"]["G2"].number_format == "0%" and isinstance(book["Сводка"]["G2"].value, float)
    stages = list(book["Участие по этапам"].iter_rows(min_row=2, values_only=True))
    fill_c = next(r for r in stages if r[0] == TOWNS["mun-c"][0] and r[1] == "Первичное заполнение формы")
    assert fill_c[3:7] == (3, 2, 1, 1) and fill_c[2].strftime("%d.%m.%Y") == "30.11.2021"
    assert book["Участие по этапам"]["C2"].number_format == "DD.MM.YYYY HH:MM"
    levels = {(r[0], r[1]): list(r[2:6]) for r in book["Уровни по областям"].iter_rows(min_row=2, values_only=True)}
    titles = {t: title for t, (title, _) in TOWNS.items()} | {"region": "Регион"}
    area_titles = {row[1] for row in book["Уровни по областям"].iter_rows(min_row=2, values_only=True)}
    assert len(area_titles) == len(AREAS) and len(levels) == len(AREAS) * 4
    conditions = "Образовательные условия"
    assert levels[(titles["region"], conditions)] == DISTRIBUTION[("region", "conditions")]
    assert levels[(titles["mun-a"], conditions)] == DISTRIBUTION[("mun-a", "conditions")]
    below = list(book["Базовый уровень и ниже"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in below] == [(TOWNS["mun-a"][0], "2", "МАДОУ № 2"), (TOWNS["mun-b"][0], "35", "МБДОУ № 35")]
    agreement = {(r[0], r[1]): (r[2], r[3]) for r in book["Согласованность"].iter_rows(min_row=2, values_only=True)}
    assert agreement[(titles["mun-a"], conditions)] == AGREEMENT[("mun-a", "conditions")]
    assert sum(v[1] for (t, _), v in agreement.items() if t == "Регион") == 25


def test_the_regional_word_document_has_the_htmls_sections_and_figures(region: Cli, tmp_path: Path):
    from docx import Document

    ids = [a for town in TOWNS for a in ("--campaign", town)]
    out = tmp_path / "region.docx"
    region.ok("region", "report", *ids, "--format", "docx", "--out", str(out), "--now", AS_OF)
    first = out.read_bytes()
    region.ok("region", "report", *ids, "--format", "docx", "--out", str(out), "--now", AS_OF)
    assert out.read_bytes() == first
    doc = Document(str(out))
    text = [p.text for p in doc.paragraphs]
    assert text[0] == "РЕГИОНАЛЬНАЯ АНАЛИТИЧЕСКАЯ СПРАВКА" and "по состоянию на 03.12.2021 10:00 (томское время, UTC+7)" in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["1. Участие и своевременность", "2. Уровни качества по областям", "3. ДОУ с областями на базовом уровне и ниже",
                        "4. Согласованность оценок экспертов", "5. Уровни качества по показателям"]
    assert any(t.startswith("Уровни по показателям не сравниваются: в кампании mun-a, mun-b, mun-c") for t in text)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    totals = next(t for t in tables if t[0][:3] == ["Муниципалитет", "ДОУ", "Ожидалось сдач"])
    assert {r[0]: r[1:5] for r in totals[1:]}["Регион"] == ["11", "44", "9", "8"]
    low = next(t for t in tables if "На базовом уровне и ниже" in t[0])
    assert {r[0]: r[2] for r in low[1:]} == {TOWNS["mun-a"][0]: "1", TOWNS["mun-b"][0]: "1", TOWNS["mun-c"][0]: "0", "Регион": "2"}
    agreement = next(t for t in tables if "Всего" in t[0])
    assert {r[0]: r[-2] for r in agreement[1:]} == {TOWNS["mun-a"][0]: "9 / 10", TOWNS["mun-b"][0]: "9 / 10",
                                                     TOWNS["mun-c"][0]: "5 / 5", "Регион": "23 / 25"}
    areas = [t for t in tables if t[0][-1] == "Оценено ДОУ"]
    assert len(areas) == len(AREAS) and areas[0][-1] == ["Регион", "1", "3", "1", "1", "6"]


# -- levels by indicator (issue 22 part 4), where experts review per indicator --------------------------------------


FORM_TOWNS = {"form-a": ("Мониторинг по форме, муниципалитет А", ["2", "4", "5", "6"]),
              "form-b": ("Мониторинг по форме, муниципалитет Б", ["15", "35", "40", "62"])}


def form_town(db_url: str, folder: Path, campaign_id: str, title: str, roster: list[str] | None, reviews: list[tuple[str, str, dict]],
              *, n: int | None = None, drop: str | None = None):
    """A form campaign (Tomsk with `form: true`: experts review per indicator) with its id, title and part of the roster
    (or a generated roster of n ДОУ), without the indicator `drop`, reviewed per indicator by `reviews` (ДОУ, expert,
    indicator levels) written straight into `review` and `review_level` as tests/test_indicator_report.py does."""
    from test_form import form_file
    from test_indicator_report import at, review

    from dqflow import engine, store
    from dqflow.campaign import spec

    folder.mkdir(parents=True, exist_ok=True)
    path = form_file(folder, n, name=campaign_id)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if n is None:
        data["campaign"]["id"] = campaign_id
        data["institutions"] = [i for i in data["institutions"] if str(i["id"]) in (roster or [])]
    data["campaign"]["title"] = title
    if drop:
        for area in data["areas"]:
            area["indicators"] = [i for i in area["indicators"] if i["id"] != drop]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    campaign = spec.load(path)
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, at(campaign, "2021-11-10 09:00"))
            for inst, expert, levels in reviews:
                review(session, campaign, inst, "review1", expert, {ind: levels.get(ind, "2") for ind in campaign.indicators},
                       at(campaign, "2021-12-01 10:00"))
    finally:
        db.dispose()
    return campaign


def form_region(db_url: str, folder: Path, *, drop: str | None = None) -> None:
    """form-a: ДОУ 2 — experts all 2 but one gives 1.1 level 1 (final 1.1 = 1), ДОУ 4 — both all 3; form-b: ДОУ 15 —
    both all 4, ДОУ 35 — 1.1 levels 3 and 4 (final 3), else 2. Indicators not named are 2."""
    three = {ind: "3" for ind in ("1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2")}
    four = {ind: "4" for ind in three}
    form_town(db_url, folder, "form-a", *FORM_TOWNS["form-a"], [("2", "e4", {}), ("2", "e5", {"1.1": "1"}), ("4", "e2", three),
                                                               ("4", "e5", three)])
    form_town(db_url, folder, "form-b", *FORM_TOWNS["form-b"], [("15", "e1", four), ("15", "e2", four), ("35", "e1", {"1.1": "3"}),
                                                               ("35", "e2", {"1.1": "4"})], drop=drop)


BY_INDICATOR = {  # (scope, indicator) → counts of final levels 1..4, by hand
    ("form-a", "1.1"): [1, 0, 1, 0], ("form-b", "1.1"): [0, 0, 1, 1], ("region", "1.1"): [1, 0, 2, 1],
    ("form-a", "1.2"): [0, 1, 1, 0], ("form-b", "1.2"): [0, 1, 0, 1], ("region", "1.2"): [0, 2, 1, 1],
}


def test_levels_by_indicator_per_municipality_and_region_in_every_format(dq: Cli, db_url: str, tmp_path: Path):
    from docx import Document
    from openpyxl import load_workbook

    form_region(db_url, tmp_path)
    ids = ["--campaign", "form-a", "--campaign", "form-b"]
    out = tmp_path / "csv"
    dq.ok("region", "report", *ids, "--format", "csv", "--out", str(out), "--now", AS_OF)
    found = {(r["scope"], r["indicator"], r["level"]): int(r["institutions"]) for r in rows(out / "indicator_levels.csv")}
    for (scope, ind), counts in BY_INDICATOR.items():
        assert [found[(scope, ind, lv)] for lv in LEVELS] == counts, (scope, ind)
    assert len(found) == 3 * 11 * 4
    # the area levels follow the final indicator levels: form-a's ДОУ 2 has conditions 1 (mean of 1, 2, 2 rounded down)
    levels = {(r["scope"], r["area"], r["level"]): int(r["institutions"]) for r in rows(out / "levels.csv")}
    assert [levels[("form-a", "conditions", lv)] for lv in LEVELS] == [1, 0, 1, 0]
    dq.ok("region", "report", *ids, "--out", str(tmp_path / "region.html"), "--now", AS_OF)
    page = (tmp_path / "region.html").read_text(encoding="utf-8")
    found_tables = tables(page).tables
    region_table = found_tables[-1]
    assert region_table[0][0] == "Показатель"
    assert next(r for r in region_table if r[0].startswith("1.1 "))[1:] == ["1", "0", "2", "1", "4"]
    assert "Регион: уровни по показателям" in page and "5. Уровни качества по показателям" in page
    xlsx = tmp_path / "region.xlsx"
    dq.ok("region", "report", *ids, "--format", "xlsx", "--out", str(xlsx), "--now", AS_OF)
    sheet = load_workbook(xlsx)["Уровни по показателям"]
    by = {(r[0], r[1]): list(r[3:8]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert by[("Регион", "1.2")] == [*BY_INDICATOR[("region", "1.2")], 4]
    assert by[(FORM_TOWNS["form-b"][0], "1.1")] == [*BY_INDICATOR[("form-b", "1.1")], 2]
    docx = tmp_path / "region.docx"
    dq.ok("region", "report", *ids, "--format", "docx", "--out", str(docx), "--now", AS_OF)
    doc = Document(str(docx))
    assert "5. Уровни качества по показателям" in [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    last = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert last[0][0] == "Показатель" and next(r for r in last if r[0].startswith("1.1 "))[1:] == ["1", "0", "2", "1", "4"]


def test_different_indicators_are_not_compared_unless_common_and_an_area_campaign_says_why(dq: Cli, db_url: str, tmp_path: Path):
    form_region(db_url, tmp_path, drop="5.2")
    ids = ["--campaign", "form-a", "--campaign", "form-b"]
    dq.ok("region", "report", *ids, "--out", str(tmp_path / "region.html"), "--now", AS_OF)
    page = (tmp_path / "region.html").read_text(encoding="utf-8")
    assert ("Уровни по показателям не сравниваются: показатели кампаний различаются (показатель 5.2 есть в кампании form-a, "
            "но нет в form-b); сравните по общим показателям с --common.") in page
    out = tmp_path / "plain"
    dq.ok("region", "report", *ids, "--format", "csv", "--out", str(out), "--now", AS_OF)
    assert not (out / "indicator_levels.csv").exists()
    common = tmp_path / "common"
    dq.ok("region", "report", *ids, "--common", "--format", "csv", "--out", str(common), "--now", AS_OF)
    found = {(r["scope"], r["indicator"], r["level"]): int(r["institutions"]) for r in rows(common / "indicator_levels.csv")}
    assert {ind for _, ind, _ in found} == {"1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "5.1"}
    assert [found[("region", "1.1", lv)] for lv in LEVELS] == BY_INDICATOR[("region", "1.1")]
    # a campaign reviewed per area beside them: not compared by indicator, and the page says why
    dq.ok("load", str(municipal_file(tmp_path, "mun-a", *TOWNS["mun-a"])), "--now", LOADED)
    dq.ok("region", "report", *ids, "--campaign", "mun-a", "--common", "--out", str(tmp_path / "mixed.html"), "--now", AS_OF)
    page = (tmp_path / "mixed.html").read_text(encoding="utf-8")
    assert "Уровни по показателям не сравниваются: в кампании mun-a эксперты оценивают области, а не показатели" in page


def test_levels_by_indicator_send_as_many_statements_for_1500_dou_as_for_15(dq: Cli, db_url: str, tmp_path: Path):
    counted = {}
    for n in (15, 1500):
        reviews = [(str(i), f"e{i}-{k}", {"1.1": "3"}) for i in range(1, 11) for k in (1, 2)]
        for name in ("fa", "fb"):
            form_town(db_url, tmp_path / f"{name}-{n}", name, f"Мониторинг {name} {n}", None, reviews, n=n)
        out = tmp_path / f"out-{n}"
        with counting_statements() as seen:
            dq.ok("region", "report", "--campaign", f"fa-{n}", "--campaign", f"fb-{n}", "--format", "csv", "--out", str(out), "--now", AS_OF)
        counted[n] = len(seen)
        found = {(r["scope"], r["indicator"], r["level"]): int(r["institutions"]) for r in rows(out / "indicator_levels.csv")}
        assert found[("region", "1.1", "3")] == 20 and found[("region", "1.2", "2")] == 20
    assert counted[15] == counted[1500], counted
