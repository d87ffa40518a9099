"""`dqflow publish --out DIR` (issue 22, part 3): the results as a static site for the official website.

A town is built through the CLI on each backend: the Tomsk campaign, every ДОУ but one hands in, list 1 is drawn,
the experts of all but two ДОУ record their reviews (levels chosen so the final levels can be computed by hand,
recommendations that carry an address, another expert's name and a marker), and the site is published after review 1.
Then: the figures against the hand-computed ones, every byte of every file scanned for every address and person's
name of the campaign, the recommendations shown only when the campaign declares them public, the same bytes twice,
refusals, the style sheet's contrast, and the pages in headless Chromium at 360 px.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, TOMSK, Cli, dump_tables
from hypothesis import given
from hypothesis import strategies as st

from dqflow.results import open_data, publish_data
from dqflow.results.publish import MARKER

CAMPAIGN = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
IDS = [str(i["id"]) for i in CAMPAIGN["institutions"]]
AREAS = [a["id"] for a in CAMPAIGN["areas"]]
AREA_TITLES = {a["id"]: a["title"] for a in CAMPAIGN["areas"]}
LEVEL_TITLES = {str(lv["id"]): lv["title"] for lv in CAMPAIGN["levels"]}
EXPERTS = {e["id"]: e for i in CAMPAIGN["institutions"] for e in i.get("experts", [])}
ADDRESSES = sorted({i["email"] for i in CAMPAIGN["institutions"]} | {e["email"] for e in EXPERTS.values()}
                   | {CAMPAIGN["campaign"]["coordinator"]["email"], CAMPAIGN["campaign"]["operator"]["email"]})
EXPERT_NAMES = sorted(e["name"] for e in EXPERTS.values())
CONTACT = "Ответственная Контактова Мария Петровна"  # a contact person the test adds to ДОУ 2: never published

SILENT = "94"  # hands in nothing: did not take part, has no review
UNREVIEWED = "5"  # hands in, but its experts record nothing: no levels
ALL_FOUR = "4"  # both experts give 4 everywhere
MARKER_TEXT = "Секретная-пометка-экспертизы"
NOW = "2021-12-06 10:00"  # review 1 (01.12–05.12) is over; refill (due 12.12) is open


def first_expert_level(area: str) -> str:
    return "2" if area == "conditions" else "3"


def second_expert_level(area: str) -> str:
    return "1" if area == "parents" else "4"


def expected_levels(institution: str) -> dict[str, str]:
    """The lower of the two experts' levels, area by area (the справка's rule), computed here by hand."""
    if institution in (SILENT, UNREVIEWED):
        return {}
    if institution == ALL_FOUR:
        return {a: "4" for a in AREAS}
    return {a: min(first_expert_level(a), second_expert_level(a)) for a in AREAS}  # one-digit ids: text order is the scale's


def town(dq: Cli, folder: Path, *, public: bool) -> dict[str, list[str]]:
    """The Tomsk campaign to the end of review 1 (see the module); returns list 1."""
    folder.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    if public:
        data["campaign"]["publish"] = {"recommendations": True}
    data["institutions"][0]["contact"] = CONTACT
    path = folder / "town.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    dq.ok("load", str(path), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", "2021-11-25 00:05")
    for inst in IDS:
        if inst != SILENT:
            dq.ok("submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/form", "--now", "2021-11-25 00:05")
    assigned = {a["institution"]: a["experts"] for a in dq.json("experts", "show", "list1")["assignments"]}
    rows = [["institution", "stage", "expert", "levels", "recommendations"]]
    for inst in IDS:
        if inst in (SILENT, UNREVIEWED) or inst not in assigned:
            continue
        for n, expert in enumerate(sorted(assigned[inst])):
            pick = (lambda a: "4") if inst == ALL_FOUR else (first_expert_level if n == 0 else second_expert_level)
            other = next(e for e in sorted(EXPERTS) if e != expert)
            text = (f"{MARKER_TEXT} {inst}: уточнить ссылки; вопросы — {EXPERTS[expert]['email']}, "
                    f"согласовано с {EXPERTS[other]['name']}.")
            rows.append([inst, "review1", expert, ";".join(f"{a}={pick(a)}" for a in AREAS), text])
    reviews = folder / "reviews.csv"
    with reviews.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    dq.ok("review", "--import", str(reviews), "--now", "2021-12-02 10:00")
    return assigned


def site_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def published(dq: Cli, tmp_path: Path) -> dict:
    """The town with recommendations not declared public, published at NOW."""
    assigned = town(dq, tmp_path / "campaign", public=False)
    out = tmp_path / "site"
    said = dq.ok("publish", "--out", str(out), "--now", NOW)
    return {"dq": dq, "out": out, "said": said, "assigned": assigned, "tmp": tmp_path}


# -- what the site says -----------------------------------------------------------------------------------------


def test_the_site_has_its_files_and_says_what_it_wrote(published):
    files = site_files(published["out"])
    pages = [f"dou/{i}.html" for i in IDS]
    assert set(files) == {"index.html", "list.html", "style.css", "data.csv", "data.json", "schema.json", MARKER, *pages}
    assert published["said"] == f"Записано: {published['out']} (страниц: {2 + len(IDS)}, файлов: {len(files)})\n"


def test_the_figures_are_the_hand_computed_ones(published):
    out = published["out"]
    data = json.loads((out / "data.json").read_text(encoding="utf-8"))
    by_id = {i["id"]: i for i in data["institutions"]}
    assert sorted(by_id) == sorted(IDS)
    for inst in IDS:
        assert by_id[inst]["levels"] == expected_levels(inst), inst
        assert by_id[inst]["took_part"] is (inst != SILENT)
        assert by_id[inst]["on_time"] is False  # refill is still open
        assert by_id[inst]["stages"]["fill-form"] == ("missed" if inst == SILENT else "done")
        assert by_id[inst]["levels_from"] == (None if inst in (SILENT, UNREVIEWED) else "review1")
        assert "recommendations" not in by_id[inst]
    summary = data["summary"]
    rated = [i for i in IDS if expected_levels(i)]
    assert (summary["institutions"], summary["took_part"], summary["on_time"], summary["rated"]) == (11, 10, 0, len(rated))
    assert summary["at_or_below_base"] == len([i for i in rated if "1" in expected_levels(i).values()])
    for area in AREAS:
        counts = {lv: sum(expected_levels(i).get(area) == lv for i in IDS) for lv in LEVEL_TITLES}
        assert summary["levels"][area] == {"counts": counts, "unrated": 11 - len(rated)}, area
    [fill] = [s for s in data["stages"] if s["id"] == "fill-form"]
    assert fill == {"id": "fill-form", "title": "Первичное заполнение формы", "due": "30.11.2021", "expected": 11, "handed_in": 10,
                    "on_time": 10}
    assert data["campaign"]["as_of"] == "06.12.2021 10:00" and data["campaign"]["zone"] == "томское время, UTC+7"
    assert [lv["base"] for lv in data["levels"]] == [True, False, False, False]

    rows = list(csv.DictReader(io.StringIO((out / "data.csv").read_text(encoding="utf-8"))))
    assert [f for f, _, _ in open_data.CSV_FIELDS] == list(rows[0])
    assert len(rows) == len(IDS) * len(AREAS)
    for row in rows:
        level = expected_levels(row["institution_id"]).get(row["area_id"], "")
        assert row["level"] == level and row["level_title"] == LEVEL_TITLES.get(level, "")
        assert row["at_or_below_base"] == ("" if not level else "true" if level == "1" else "false")
        assert row["took_part"] == ("false" if row["institution_id"] == SILENT else "true")

    index = (out / "index.html").read_text(encoding="utf-8")
    assert "ДОУ в мониторинге: 11. Сдали материалы хотя бы одного этапа: 10 (91\u00a0%)." in index
    assert "Первичное заполнение формы<span class=\"note\"> срок 30.11.2021</span></th><td class=\"n\">10 из 11 (91\u00a0%)" in index
    page = (out / f"dou/{ALL_FOUR}.html").read_text(encoding="utf-8")
    for area in AREAS:
        assert f"<tr><th scope=\"row\">{AREA_TITLES[area]}</th><td>{LEVEL_TITLES['4']}</td></tr>" in page
    assert "По итогам этапа «Первичная экспертиза»" in page
    assert "нет оценки" in (out / f"dou/{UNREVIEWED}.html").read_text(encoding="utf-8")


def test_the_same_input_gives_the_same_bytes_and_a_republish_replaces_the_site(published):
    dq, out, tmp = published["dq"], published["out"], published["tmp"]
    first = site_files(out)
    dq.ok("publish", "--out", str(tmp / "again"), "--now", NOW)
    assert site_files(tmp / "again") == first
    (out / "dou" / "stale.html").write_text("a ДОУ of an older publication", encoding="utf-8")
    dq.ok("publish", "--out", str(out), "--now", NOW)
    assert site_files(out) == first  # the old page is gone with the old site
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]  # no work folder left behind
    moments = {m for text in first.values() for m in re.findall(rb"\d\d\.\d\d\.\d{4} \d\d:\d\d", text)}
    assert moments == {b"06.12.2021 10:00"}  # no time on the site but the one given


def test_nothing_personal_is_published(published):
    everything = b"".join(site_files(published["out"]).values())
    text = everything.decode("utf-8")
    assert not [a for a in ADDRESSES if a.lower() in text.lower()]
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)
    assert not [n for n in EXPERT_NAMES if n in text]
    assert CONTACT not in text and MARKER_TEXT not in text
    assert "example.org/form" not in text  # the links a ДОУ handed in stay with the coordinator


def test_recommendations_are_published_when_the_campaign_declares_them_and_carry_no_one(dq: Cli, tmp_path: Path):
    assigned = town(dq, tmp_path / "campaign", public=True)
    out = tmp_path / "site"
    dq.ok("publish", "--out", str(out), "--now", NOW)
    text = b"".join(site_files(out).values()).decode("utf-8")
    assert not [a for a in ADDRESSES if a.lower() in text.lower()]
    assert not [n for n in EXPERT_NAMES if n in text] and CONTACT not in text
    page = (out / "dou/2.html").read_text(encoding="utf-8")
    assert "<h2>Рекомендации экспертов</h2>" in page
    assert f"{MARKER_TEXT} 2: уточнить ссылки; вопросы — {publish_data.HIDDEN}, согласовано с {publish_data.HIDDEN}." in page
    assert "(Первичная экспертиза)" in page
    data = json.loads((out / "data.json").read_text(encoding="utf-8"))
    by_id = {i["id"]: i for i in data["institutions"]}
    reviewed = [i for i in IDS if expected_levels(i) and i in assigned]
    for inst in reviewed:
        recs = by_id[inst]["recommendations"]
        assert recs and all(r["stage"] == "review1" and r["text"].startswith(f"{MARKER_TEXT} {inst}:") for r in recs)
        # a text stands under each area its review rated at the base level (the справка's rule); else under the general heading
        areas = {r["area"] for r in recs}
        assert areas == ({None} if inst == ALL_FOUR else {"parents", None}), inst
    assert by_id[SILENT]["recommendations"] == []
    assert "Рекомендаций нет." in (out / f"dou/{SILENT}.html").read_text(encoding="utf-8")


# -- refusals -----------------------------------------------------------------------------------------------------


def test_publish_refuses_a_file_or_a_foreign_folder_and_writes_nothing(tomsk: Cli, db_url: str, tmp_path: Path, monkeypatch):
    before = dump_tables(db_url)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    a_file = tmp_path / "site.html"
    a_file.write_text("keep me", encoding="utf-8")
    refused = tomsk("publish", "--out", str(a_file), "--now", NOW)
    assert refused.exit_code == 1 and refused.output == f"ошибка: --out {a_file}: это файл, а сайт пишется папкой; укажите папку\n"
    refused = tomsk("publish", "--out", str(a_file / "site"), "--now", NOW)
    assert refused.exit_code == 1 and refused.output.startswith(f"ошибка: --out {a_file / 'site'}: не удаётся записать (")
    foreign = tmp_path / "www"
    foreign.mkdir()
    (foreign / "index.html").write_text("the town's own site", encoding="utf-8")
    refused = tomsk("publish", "--out", str(foreign), "--now", NOW)
    assert refused.exit_code == 1 and "папка не пуста и записана не командой publish" in refused.output
    assert "Traceback" not in refused.output and len(refused.output.splitlines()) == 1
    assert a_file.read_text(encoding="utf-8") == "keep me" and sorted(p.name for p in foreign.iterdir()) == ["index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.html", "www"]
    monkeypatch.chdir(tmp_path)
    for here in (".", ".."):
        refused = tomsk("publish", "--out", here, "--now", NOW)
        assert refused.exit_code == 1 and "это текущая папка или папка над ней" in refused.output, refused.output
    empty = tmp_path / "empty"
    empty.mkdir()
    tomsk.ok("publish", "--out", str(empty), "--now", NOW)  # an empty folder is taken
    assert (empty / "index.html").is_file() and "Оценок пока нет." in (empty / "dou/2.html").read_text(encoding="utf-8")
    assert dump_tables(db_url) == before


def test_the_campaign_file_declares_publish_and_its_mistakes_are_located(workflow_copy: Path, dq: Cli):
    text = workflow_copy.read_text(encoding="utf-8")
    for value, said in (("{recommendations: yes}", "campaign.publish.recommendations: нужно true или false"),
                        ("{recommendations: true, texts: true}", "campaign.publish: неизвестный ключ «texts»"),
                        ("true", "campaign.publish: ожидаются строки «ключ: значение»")):
        workflow_copy.write_text(text.replace("  locale: ru\n", f"  locale: ru\n  publish: {value}\n", 1), encoding="utf-8")
        result = dq("validate", str(workflow_copy))
        assert result.exit_code == 1, result.output
        line = text.split("\n").index("  locale: ru") + 2
        assert re.search(rf"{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: {re.escape(said)}", result.output), result.output
    workflow_copy.write_text(text.replace("  locale: ru\n", "  locale: ru\n  publish: {recommendations: true}\n", 1), encoding="utf-8")
    dq.ok("validate", str(workflow_copy))


def test_a_campaign_without_publish_keeps_its_digest():
    from dqflow.campaign import spec

    campaign = spec.load(TOMSK)
    assert "publish" not in json.loads(spec.to_json(campaign)) and campaign.publish.recommendations is False
    assert spec.from_json(spec.to_json(campaign)).publish == campaign.publish


# -- pages and files -------------------------------------------------------------------------------------------------


@given(st.lists(st.from_regex(r"[\w.-]{1,12}", fullmatch=True), min_size=1, max_size=30, unique=True))
def test_every_id_gets_its_own_page_inside_the_folder(ids: list[str]):
    paths = [publish_data.page_path(i) for i in ids]
    assert len({p.casefold() for p in paths}) == len(ids)  # apart even where case is ignored
    for path in paths:
        folder, name = path.split("/")
        assert folder == "dou" and name.endswith(".html") and re.fullmatch(r"[a-z0-9_-]+\.html", name)


def test_the_templates_ship_as_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["dqflow.results"]
    base = ROOT / "dqflow" / "results"
    shipped = [p for p in (base / "templates" / "publish").iterdir() if p.is_file()]
    assert {p.suffix for p in shipped} == {".html", ".css"}
    for path in shipped:
        assert any(fnmatch(str(path.relative_to(base)), g) for g in globs), path


def test_the_style_sheet_reads_at_4_5():
    from tests.test_contrast import page_defaults, pairs, rules, too_faint

    css = (ROOT / "dqflow" / "results" / "templates" / "publish" / "style.css").read_text(encoding="utf-8")
    sheet = rules(css, "style.css", {})
    text, background = page_defaults(sheet, "#000000", "#ffffff")
    found = pairs(sheet, [], text, background)
    assert any(where.startswith("td.status-missed") for where, _, _ in found) and any(where.startswith(".note") for where, _, _ in found)
    assert not too_faint(found), "\n".join(too_faint(found))
    templates = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "dqflow" / "results" / "templates" / "publish").glob("*.html"))
    assert "style=" not in templates and "<script" not in templates  # every colour is in the checked sheet; no script


# -- in the browser ---------------------------------------------------------------------------------------------------


CHECK = r"""
const out = {};
out.lang = document.documentElement.lang;
out.scroll = [document.documentElement.scrollWidth, document.documentElement.clientWidth];
out.headings = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
out.tables = [...document.querySelectorAll('table')].map(t => [t.querySelectorAll('th').length,
    [...t.querySelectorAll('th')].filter(th => !th.getAttribute('scope')).length, !!t.querySelector('caption')]);
out.images = [...document.querySelectorAll('img')].filter(i => !i.hasAttribute('alt')).length;
out.svgs = [...document.querySelectorAll('svg')].filter(s => s.getAttribute('role') !== 'img' || !s.getAttribute('aria-label')).length;
out.wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(e => e.tagName + '.' + e.className).slice(0, 5);
out.styled = getComputedStyle(document.body).fontFamily;
// the contrast of every piece of text as Chromium computed its colours (WCAG 2: relative luminance, ≥ 4.5 : 1), over the
// first opaque background found up the tree, half-transparent ones blended on the way
const rgba = c => (c.match(/[\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
const lum = ([r, g, b]) => [r, g, b].map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat([1]);
const behind = e => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
        const c = rgba(getComputedStyle(n).backgroundColor);
        if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
};
out.faint = [];
out.texts = 0;
for (const e of document.querySelectorAll('body *')) {
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    out.texts++;
    const back = behind(e), fore = over(rgba(getComputedStyle(e).color), back);
    const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) out.faint.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2));
}
return out;
"""


@pytest.mark.sqlite_only("the pages are files; the figures behind them are checked on both backends above")
def test_the_pages_read_on_a_phone_in_chromium(published, browser):
    _read_on_a_phone(browser, published["out"], ["index.html", "list.html", *[f"dou/{i}.html" for i in (ALL_FOUR, SILENT, "2")]])
    browser.save_screenshot(str(published["tmp"] / "publish-phone.png"))


def _read_on_a_phone(browser, out: Path, pages: list[str]) -> None:
    browser.set_window_size(360, 800)
    for page in pages:
        browser.get((out / page).as_uri())
        found = browser.execute_script(CHECK)
        assert found["lang"] == "ru", page
        width, client = found["scroll"]
        assert client <= 360 and width <= client, (page, found["scroll"], found["wide"])
        assert not found["wide"], (page, found["wide"])
        levels = found["headings"]
        assert levels[0] == 1 and levels.count(1) == 1, (page, levels)
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (page, levels)
        assert found["tables"] and all(th and not unscoped and caption for th, unscoped, caption in found["tables"]), (page, found["tables"])
        assert found["images"] == 0 and found["svgs"] == 0, page
        assert "PT Sans" in found["styled"] or "Arial" in found["styled"], page  # the style sheet beside the page was read
        assert found["texts"] > 5 and not found["faint"], (page, found["faint"])  # every text ≥ 4.5 : 1 as rendered
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, (page, errors)


# -- scale -------------------------------------------------------------------------------------------------------------


def roster_of(folder: Path, n: int) -> Path:
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"town-{n}"
    data["institutions"] = [{"id": str(i), "name": f"МАДОУ № {i}", "email": f"dou{i}@example.org",
                             "experts": [{"id": f"e{i}", "name": f"Эксперт ДОУ № {i}", "email": f"expert{i}@example.org"}]}
                            for i in range(1, n + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"town-{n}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_publish_sends_as_many_statements_for_1500_dou_as_for_15_loads_no_row_object_per_dou_and_pages_the_list(
        dq: Cli, tmp_path: Path):
    """Set-based: the statements one publish sends do not grow with the roster, and no ORM object is made per ДОУ (the
    figures are read as column tuples). The list goes 500 a page."""
    import sqlalchemy
    from conftest import counting_statements
    from sqlalchemy.orm import Mapper

    counted, objects = {}, {}
    for n in (15, 1500):
        dq.ok("load", str(roster_of(tmp_path / "campaigns", n)), "--now", "2021-11-10 09:00")
        made: list[str] = []

        def loaded(target, context, made=made):
            made.append(type(target).__name__)

        sqlalchemy.event.listen(Mapper, "load", loaded)
        try:
            with counting_statements() as seen:
                dq.ok("--campaign", f"town-{n}", "publish", "--out", str(tmp_path / f"site-{n}"), "--now", "2021-12-02 10:00")
        finally:
            sqlalchemy.event.remove(Mapper, "load", loaded)
        counted[n], objects[n] = len(seen), sorted(made)
    assert counted[15] == counted[1500], counted
    assert objects[15] == objects[1500] and len(objects[1500]) < 15, objects  # the campaign's and its stages' rows, not the ДОУ's
    site = tmp_path / "site-1500"
    assert len(list((site / "dou").iterdir())) == 1500
    assert sorted(p.name for p in site.glob("list*.html")) == ["list-2.html", "list-3.html", "list.html"]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}"' in index for name in ("list.html", "list-2.html", "list-3.html"))
    assert '<a href="dou/1500.html">МАДОУ № 1500</a>' in (site / "list-3.html").read_text(encoding="utf-8")
    assert 'href="../list-3.html">Все ДОУ</a>' in (site / "dou/1500.html").read_text(encoding="utf-8")
    assert '<span aria-current="page">2</span>' in (site / "list-2.html").read_text(encoding="utf-8")


def test_declaring_recommendations_public_in_a_running_campaign_is_an_amendment_that_says_so(workflow_copy: Path, dq: Cli,
                                                                                           tmp_path: Path):
    text = workflow_copy.read_text(encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    dq.ok("publish", "--out", str(tmp_path / "before"), "--now", NOW)
    assert "Рекомендации экспертов" not in (tmp_path / "before" / "dou/2.html").read_text(encoding="utf-8")
    workflow_copy.write_text(text.replace("  locale: ru\n", "  locale: ru\n  publish: {recommendations: true}\n", 1), encoding="utf-8")
    plan = dq.ok("load", str(workflow_copy), "--now", "2021-11-20 10:00")
    assert "изменены параметры кампании: publish" in plan
    [key] = re.findall(r"--plan ([0-9a-f]+)", plan)
    dq.ok("load", str(workflow_copy), "--now", "2021-11-20 10:00", "--apply", "--plan", key, "--reason", "публикация рекомендаций")
    dq.ok("publish", "--out", str(tmp_path / "after"), "--now", NOW)
    assert "<h2>Рекомендации экспертов</h2>" in (tmp_path / "after" / "dou/2.html").read_text(encoding="utf-8")


# -- levels by indicator (issue 22 part 3), where experts review per indicator -------------------------------------


def _form_town(db_url: str, folder: Path, n: int | None = None, reviewed: int | None = None):
    """The form campaign (Tomsk with `form: true`, base level 2). Without `n`: ДОУ 2 rates itself 3, its experts give 2
    everywhere but one gives 1.1 level 1 (final 1.1 = 1 under `settle: lower`); ДОУ 4's experts both give 3; nobody
    else is reviewed. With `n`: a roster of n ДОУ, the first `reviewed` of them reviewed 2 everywhere by their experts."""
    from datetime import timedelta

    from sqlalchemy import insert
    from test_form import form_file
    from test_indicator_report import at, based_on_2, every, hand_in, review

    from dqflow import engine, store
    from dqflow.campaign import spec
    from dqflow.engine import finals
    from dqflow.store import ReviewLevelRow, ReviewRow

    folder.mkdir(parents=True, exist_ok=True)
    campaign = spec.load(based_on_2(form_file(folder, n)))
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, at(campaign, "2021-11-10 09:00"))
        when = at(campaign, "2021-12-01 10:00")
        if n is None:
            hand_in(db, campaign, "2", every(campaign, "3"), at(campaign, "2021-11-20 10:00"))
            hand_in(db, campaign, "4", every(campaign, "2"), at(campaign, "2021-11-20 10:00"))
            with store.transaction(db) as session:
                review(session, campaign, "2", "review1", "e4", every(campaign, "2"), when)
                review(session, campaign, "2", "review1", "e5", every(campaign, "2", **{"1_1": "1"}), when + timedelta(hours=1))
                review(session, campaign, "4", "review1", "e2", every(campaign, "3"), when)
                review(session, campaign, "4", "review1", "e5", every(campaign, "3"), when)
        else:
            levels = every(campaign, "2")
            areas = json.dumps(finals.area_levels(levels, campaign), ensure_ascii=False)
            pairs = [(str(i), f"e{i}-{k}") for i in range(1, (reviewed or 0) + 1) for k in (1, 2)]
            with store.transaction(db) as session:
                session.execute(insert(ReviewRow), [{"campaign_id": campaign.id, "stage_id": "review1", "institution_id": i,
                                                     "expert_id": e, "at": when, "recommendations": "", "levels": areas} for i, e in pairs])
                session.execute(insert(ReviewLevelRow), [{"campaign_id": campaign.id, "stage_id": "review1", "institution_id": i,
                                                          "expert_id": e, "indicator_id": ind, "level": lv, "comment": None}
                                                         for i, e in pairs for ind, lv in levels.items()])
    finally:
        db.dispose()
    return campaign


def test_a_campaign_reviewed_per_indicator_publishes_its_final_levels_per_indicator(dq: Cli, db_url: str, tmp_path: Path):
    campaign = _form_town(db_url, tmp_path / "campaign")
    out = tmp_path / "site"
    dq.ok("publish", "--out", str(out), "--now", "2021-12-20 12:00")
    total = len(campaign.institutions)
    indicators = list(campaign.indicators)
    level_title = {lv.id: lv.title for lv in campaign.levels}
    # the open data: the area rows keep their grain (indicator empty), then a row per ДОУ × indicator
    rows = list(csv.DictReader(io.StringIO((out / "data.csv").read_text(encoding="utf-8"))))
    assert list(rows[0])[5:9] == ["area_id", "area_title", "indicator_id", "indicator_title"]
    area_rows = [r for r in rows if r["indicator_id"] == ""]
    by_indicator = {(r["institution_id"], r["indicator_id"]): r for r in rows if r["indicator_id"]}
    assert len(area_rows) == total * len(campaign.areas) and len(by_indicator) == total * len(indicators)
    assert (by_indicator[("2", "1.1")]["level"], by_indicator[("2", "1.1")]["at_or_below_base"]) == ("1", "true")
    assert (by_indicator[("2", "1.2")]["level"], by_indicator[("2", "1.2")]["level_title"]) == ("2", level_title["2"])
    assert (by_indicator[("4", "1.1")]["level"], by_indicator[("4", "1.1")]["at_or_below_base"]) == ("3", "false")
    assert (by_indicator[("6", "1.1")]["level"], by_indicator[("6", "1.1")]["at_or_below_base"]) == ("", "")
    assert by_indicator[("2", "1.1")]["area_id"] == campaign.indicators["1.1"][0].id
    # the area level follows the final indicator levels (the figures' rule): conditions of ДОУ 2 is 1
    assert next(r["level"] for r in area_rows if (r["institution_id"], r["area_id"]) == ("2", "conditions")) == "1"
    data = json.loads((out / "data.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in data["indicators"]] == indicators
    assert data["summary"]["indicator_levels"]["1.1"] == {"counts": {"1": 1, "2": 0, "3": 1, "4": 0}, "unrated": total - 2}
    assert data["summary"]["indicator_levels"]["1.2"] == {"counts": {"1": 0, "2": 1, "3": 1, "4": 0}, "unrated": total - 2}
    mine = next(i for i in data["institutions"] if i["id"] == "2")
    assert mine["indicator_levels"] == {ind: "1" if ind == "1.1" else "2" for ind in indicators}
    assert next(i for i in data["institutions"] if i["id"] == "6")["indicator_levels"] == {}
    schema = json.loads((out / "schema.json").read_text(encoding="utf-8"))
    fields = [f["name"] for f in schema["resources"][0]["schema"]["fields"]]
    assert fields == [name for name, _ in zip(fields, list(csv.DictReader(io.StringIO((out / "data.csv").read_text(encoding="utf-8"))).fieldnames or []), strict=True)]
    assert "indicator_id" in fields and "primaryKey" not in schema["resources"][0]["schema"]
    assert "summary.indicator_levels" in [f["name"] for f in schema["resources"][1]["fields"]]
    # the summary: a table per area, a row per indicator, with headers and a caption
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="levels-indicator">Уровни качества по показателям</h2>' in index
    first_area = campaign.indicators["1.1"][0]
    assert f"<caption>{first_area.title}: число ДОУ на каждом итоговом уровне показателя</caption>" in index
    row = re.search(r'<tr><th scope="row">1\.1 [^<]*</th>(.*?)</tr>', index)
    assert row is not None and re.findall(r'<td class="n">(\d+)</td>', row.group(1)) == ["1", "0", "1", "0", str(total - 2)]
    # each ДОУ's page: its final levels per indicator, grouped by area
    page = (out / "dou/2.html").read_text(encoding="utf-8")
    assert "<h2>Итоговые уровни по показателям</h2>" in page and f"<caption>{first_area.title}</caption>" in page
    title = campaign.indicators["1.1"][1].title
    assert f'<tr><th scope="row">1.1 {title}</th><td>{level_title["1"]}</td></tr>' in page
    assert f'<tr><th scope="row">1.1 {title}</th><td>нет оценки</td></tr>' in (out / "dou/6.html").read_text(encoding="utf-8")
    # no expert's id or name, and the same bytes twice
    everything = b"".join(site_files(out).values()).decode("utf-8")
    assert not any(e.name in everything for e, _ in campaign.every_expert())
    again = tmp_path / "again"
    dq.ok("publish", "--out", str(again), "--now", "2021-12-20 12:00")
    assert site_files(again) == site_files(out)


def test_a_campaign_reviewed_per_area_publishes_nothing_of_indicators(published):
    """Tomsk (indicators, no form stage) reviews per area: no indicator column, key, section or table, and the area grain."""
    out = published["out"]
    header = (out / "data.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(name for name, _, _ in open_data.CSV_FIELDS)
    files = site_files(out)
    assert not any(b"indicator" in data or "показател".encode() in data for data in files.values())
    schema = json.loads(files["schema.json"])
    assert schema["resources"][0]["schema"]["primaryKey"] == ["institution_id", "area_id"]


def test_publish_by_indicator_sends_as_many_statements_for_1500_dou_as_for_15(dq: Cli, db_url: str, tmp_path: Path):
    from conftest import counting_statements

    counted = {}
    for n in (15, 1500):
        _form_town(db_url, tmp_path / f"campaign-{n}", n, reviewed=10)
        with counting_statements() as seen:
            dq.ok("--campaign", f"form-{n}", "publish", "--out", str(tmp_path / f"site-{n}"), "--now", "2021-12-20 12:00")
        counted[n] = len(seen)
        data = json.loads((tmp_path / f"site-{n}" / "data.json").read_text(encoding="utf-8"))
        assert data["summary"]["indicator_levels"]["1.1"]["counts"]["2"] == 10
    assert counted[15] == counted[1500], counted


# -- dynamics beside last year (issue 22, part 3) -------------------------------------------------------------------------

def _rows_of(text: str) -> list[list[str]]:
    import html as markup

    return [[markup.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", text, re.S)]


def _section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def test_the_site_of_a_second_year_shows_the_dynamics_as_the_report_computes_them(dq: Cli, tmp_path: Path):
    """Two Tomsk years (tests/test_years.py): 2021 conditions «2» at 1, «4» at 2, «94» at 2, «6» at 3; 2022 «d2» (= «2» by
    its ИНН) at 2, «4» at 2, «7» (new) at 3; every other area 2 where reviewed. Hand-computed: the town's mean position in
    conditions (1 + 2 + 2 + 3) / 4 = 2,00 → (2 + 2 + 3) / 3 = 2,33 (+0,33); «d2» 1 → 2 (+1); «7» new."""
    from test_years import ADVICE, _two_years

    _two_years(dq, tmp_path)
    out = tmp_path / "site"
    result = dq("--campaign", "tomsk-2022", "publish", "--out", str(out), "--now", "2023-01-21")
    assert result.exit_code == 0 and result.stderr == "", result.output
    files = site_files(out)
    index = files["index.html"].decode("utf-8")
    section = _section(index, '<h2 id="dynamics">Динамика по сравнению с прошлым годом</h2>', '<h2 id="institutions">')
    rows = _rows_of(section)
    assert ["Образовательные условия", "2,00", "2,33", "+0,33"] in rows
    assert ["Образовательные ориентиры", "2,00", "2,00", "0,00"] in rows
    # handed in, and on time: every ДОУ handed in on 29.11, due 30.11, both years
    assert rows.count(["Первичное заполнение формы", "100\u00a0%", "100\u00a0%", "0\u00a0п.\u00a0п."]) == 2
    assert re.findall(r"<caption>(.*?)</caption>", section) == [
        "Средний уровень по областям качества: прошлый год и этот год",
        "Доля ДОУ, сдавших материалы этапа (в срок или с опозданием): прошлый год и этот год",
        "Доля ДОУ, сдавших материалы этапа в срок: прошлый год и этот год"]
    assert section.count('<th scope="col"') == 12
    assert "Новое в этом году (1): МАДОУ № 7 — сравнивать не с чем." in section
    d2 = files["dou/d2.html"].decode("utf-8")
    assert ["Образовательные условия", "1 — Базовый уровень", "2 — Уровень выше базового", "+1"] in _rows_of(
        _section(d2, "<h2>Динамика по сравнению с прошлым годом</h2>", "<p><a href"))
    assert ADVICE not in d2  # last year's recommendations: not public in this campaign
    said = b"".join(files.values())
    assert not [x for x in [*ADDRESSES, *EXPERT_NAMES, "dou7@example.org"] if x.encode() in said]
    new = files["dou/7.html"].decode("utf-8")
    assert "<p>Новое в этом году: сравнивать не с чем.</p>" in new and "1 — Базовый уровень" not in new
    # the open data: the figures of the справка's dynamics.csv
    data = json.loads(files["data.json"])
    report = tmp_path / "csv"
    dq.ok("--campaign", "tomsk-2022", "report", "--format", "csv", "--out", str(report), "--now", "2023-01-21")
    expected = list(csv.DictReader(io.StringIO((report / "dynamics.csv").read_text(encoding="utf-8"))))

    def text(value) -> str:
        return "" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    shown = [{"institution": r["institution"], "area": r["area"], "indicator": text(r["indicator"]), "previous": text(r["previous"]),
              "current": text(r["current"]), "change": text(r["change"])} for r in data["dynamics"]["institutions"]]
    shown += [{"institution": "", "area": a["area"], "indicator": text(a["indicator"]), "previous": text(a["previous"]),
               "current": text(a["current"]), "change": text(a["change"])} for a in data["dynamics"]["town"]]
    assert shown == [{k: v for k, v in r.items() if k != "name"} for r in expected]
    assert data["dynamics"]["previous_campaign"] == "tomsk-2021" and data["dynamics"]["new"] == ["7"]
    assert {"id": "94", "name": "МАДОУ № 94"} in data["dynamics"]["gone"]
    assert {"stage": "fill-form", "previous": 1.0, "current": 1.0, "previous_handed_in": 1.0, "current_handed_in": 1.0} in data[
        "dynamics"]["timeliness"]
    schema = json.loads(files["schema.json"])
    assert "dynamics" in [f["name"] for f in schema["resources"][1]["fields"]]
    assert files["data.csv"].decode("utf-8").splitlines()[0].split(",") == [f for f, _, _ in open_data.CSV_FIELDS]
    dq.ok("--campaign", "tomsk-2022", "publish", "--out", str(tmp_path / "again"), "--now", "2023-01-21")
    assert site_files(tmp_path / "again") == files  # the same input, the same bytes
    # the first year names no previous campaign: no section, no key, no field
    first = tmp_path / "first"
    dq.ok("--campaign", "tomsk-2021", "publish", "--out", str(first), "--now", "2023-01-21")
    earlier = site_files(first)
    assert not [name for name, body in earlier.items() if "Динамика".encode() in body or b'"dynamics"' in body or b"dynamics.css" in body]
    assert "dynamics.css" in files and "dynamics.css" not in earlier


def test_publish_with_dynamics_sends_as_many_statements_for_1500_dou_as_for_15(dq: Cli, tmp_path: Path):
    """The dynamics (`dynamics.for_report`: last year's figures, the relation of the rosters) add a fixed number of
    statements to publish, whatever the roster (tests/test_years.py's generated two years)."""
    from conftest import counting_statements
    from test_years import _national

    from dqflow import store

    db = store.connect(dq.db_url)
    counted = {}
    try:
        for n in (15, 1500):
            last = _national(db, tmp_path, n, f"last-{n}")
            _national(db, tmp_path, n, f"this-{n}", previous=last.id)
            with counting_statements() as seen:
                dq.ok("--campaign", f"this-{n}", "publish", "--out", str(tmp_path / f"site-{n}"), "--now", "2021-12-20 12:00")
            counted[n] = len(seen)
            index = (tmp_path / f"site-{n}" / "index.html").read_text(encoding="utf-8")
            assert '<h2 id="dynamics">' in index
            data = json.loads((tmp_path / f"site-{n}" / "data.json").read_text(encoding="utf-8"))
            assert len({r["institution"] for r in data["dynamics"]["institutions"]}) == n
    finally:
        db.dispose()
    assert counted[15] == counted[1500], counted


@pytest.mark.sqlite_only("the pages are files; the figures behind them are checked on both backends above")
def test_the_dynamics_read_on_a_phone_in_chromium(dq: Cli, tmp_path: Path, browser):
    from test_years import _two_years

    _two_years(dq, tmp_path)
    out = tmp_path / "site"
    dq.ok("--campaign", "tomsk-2022", "publish", "--out", str(out), "--now", "2023-01-21")
    _read_on_a_phone(browser, out, ["index.html", "dou/d2.html", "dou/7.html"])
    browser.save_screenshot(str(tmp_path / "publish-dynamics-phone.png"))


def test_a_previous_campaign_no_longer_loaded_is_said_in_one_line_and_the_site_has_no_dynamics(dq: Cli, tmp_path: Path):
    """`load` refuses a `previous` that is not loaded; one removed since (here: its row deleted) leaves the site without
    dynamics — the files of a campaign that names none — and one Russian line on the terminal."""
    import sqlalchemy
    from test_years import first_year, second_year

    dq.ok("load", str(first_year(tmp_path)), "--now", "2021-11-10 09:00")
    dq.ok("load", str(second_year(tmp_path)), "--now", "2022-11-10 09:00")
    engine = sqlalchemy.create_engine(dq.db_url)
    try:
        with engine.begin() as connection:  # the campaign's row alone: its stages etc. stay (PostgreSQL: their keys unchecked)
            if engine.dialect.name == "postgresql":
                connection.execute(sqlalchemy.text("SET LOCAL session_replication_role = replica"))
            connection.execute(sqlalchemy.text("DELETE FROM campaign WHERE id = 'tomsk-2021'"))
    finally:
        engine.dispose()
    out = tmp_path / "site"
    result = dq("--campaign", "tomsk-2022", "publish", "--out", str(out), "--now", "2022-12-06 10:00")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["предупреждение: campaign.previous: кампании «tomsk-2021» нет в базе данных — динамика не "
                                          "опубликована; загрузите её файл (dqflow load) и опубликуйте снова"]
    files = site_files(out)
    assert "dynamics.css" not in files
    assert not [name for name, body in files.items() if "Динамика".encode() in body or b'"dynamics"' in body]
