"""Per-indicator expertise (issue 21 part 4), where the campaign reviews per indicator (`Campaign.reviews_by_indicator`):
`dqflow review --level INDICATOR=LEVEL --comment INDICATOR=TEXT` and the review import, refusals before anything is
written, one `review_level` row per indicator replaced by a correction, the expert's area levels derived by
`engine.finals`, the expert's page (evidence with link states, the ДОУ's own level, what changed in the second review),
and statement counts equal at 15 and 1,500 ДОУ — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import re
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Cli, counting_statements, dump_tables, query
from hypothesis import given
from hypothesis import strategies as st
from test_form import INDICATORS, REQUIRED, at, form_file

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.engine import expertise, experts, finals
from dqflow.engine import form as entry_form

REVIEW1 = "2021-12-02 10:00"  # review1 runs 01.12 – 05.12, the fill-form locked 30.11
REVIEW2 = "2021-12-13 10:00"  # review2 runs 10.12 – 14.12, the refill locked 12.12
LEVELS = {"1.1": "2", "1.2": "3", "1.3": "1", "2.1": "2", "2.2": "2", "3.1": "3", "3.2": "3", "4.1": "1", "4.2": "2",
          "5.1": "2", "5.2": "1"}


def level_args(levels: dict[str, str]) -> list[str]:
    return [arg for ind, lv in levels.items() for arg in ("--level", f"{ind}={lv}")]


def fill(dq: Cli, inst: str, stage: str, now: str, extra: dict[str, list[str]] | None = None) -> None:
    """The ДОУ fills every required indicator (a link, its own level "2", a comment on 1.1) and hands in."""
    for ind in REQUIRED:
        args = ["--link", f"https://dou{inst}.example.org/{stage}/{ind} Папка {ind}", "--level", "2"]
        if ind == "1.1":
            args += ["--comment", "Центры во всех группах"]
        dq.ok("form", "set", inst, "--stage", stage, "--indicator", ind, *args, *(extra or {}).get(ind, []), "--now", now)
    dq.ok("submit", inst, "--stage", stage, "--now", now)


@pytest.fixture
def formed(dq: Cli, tmp_path: Path) -> Cli:
    """The Tomsk campaign with a form; ДОУ 2 and 4 handed theirs in; the expert lists drawn."""
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    for inst in ("2", "4"):
        fill(dq, inst, "fill-form", "2021-11-21 10:00")
    dq.ok("tick", "--now", "2021-11-25 00:05")
    return dq


def assigned(dq: Cli, stage: str, inst: str) -> list[str]:
    return next(a["experts"] for a in dq.json("experts", "show", stage)["assignments"] if a["institution"] == inst)


def review_rows(dq: Cli, inst: str, stage: str = "review1") -> dict[str, dict[str, tuple[str, str | None]]]:
    found: dict[str, dict[str, tuple[str, str | None]]] = {}
    for expert, ind, level, comment in query(dq.db_url, "SELECT expert_id, indicator_id, level, comment FROM review_level "
                                             f"WHERE institution_id = '{inst}' AND stage_id = '{stage}'"):
        found.setdefault(expert, {})[ind] = (level, comment)
    return found


def area_levels_of(dq: Cli, inst: str, expert: str, stage: str = "review1") -> dict[str, str]:
    (levels,), = query(dq.db_url, f"SELECT levels FROM review WHERE institution_id = '{inst}' AND stage_id = '{stage}' "
                                  f"AND expert_id = '{expert}'")
    return json.loads(levels)


def status(dq: Cli, now: str, stage: str) -> dict[str, str]:
    return {i["id"]: i["stages"][stage] for i in dq.json("status", "--institutions", "--now", now)["institutions"]}


# -- the review at the terminal ---------------------------------------------------------------------------------


def test_a_review_per_indicator_stores_each_indicator_and_the_areas_they_give(formed: Cli):
    dq = formed
    first, second = assigned(dq, "list1", "2")
    out = dq.ok("review", "2", "--stage", "review1", "--expert", first, *level_args(LEVELS),
                "--comment", "1.1=Фото есть не во всех группах", "--comment", "3.2=  ", "--now", REVIEW1)
    assert "экспертиза эксперта" in out and "записана" in out
    rows = review_rows(dq, "2")
    assert rows == {first: {ind: (lv, "Фото есть не во всех группах" if ind == "1.1" else None) for ind, lv in LEVELS.items()}}
    derived = area_levels_of(dq, "2", first)
    assert derived == {"conditions": "2", "guidelines": "2", "parents": "3", "health": "1", "special-needs": "1"}  # mean rounded down
    assert status(dq, REVIEW1, "review1")["2"] == "open"  # one expert of two
    history = next(r for r in dq.json("history", "2") if r["action"] == "review")
    assert history["detail"]["levels"] == derived and history["detail"]["indicators"] == LEVELS
    assert history["detail"]["comments"] == {"1.1": "Фото есть не во всех группах"}

    # a correction while the stage is open replaces the expert's rows
    corrected = {**LEVELS, "1.1": "3", "4.1": "3"}
    dq.ok("review", "2", "--stage", "review1", "--expert", first, *level_args(corrected), "--now", "2021-12-02 11:00")
    assert review_rows(dq, "2") == {first: {ind: (lv, None) for ind, lv in corrected.items()}}
    assert area_levels_of(dq, "2", first)["health"] == "2" and area_levels_of(dq, "2", first)["conditions"] == "2"
    assert [r["action"] for r in dq.json("history", "2") if r["action"].startswith("review")] == ["review", "review-update"]

    dq.ok("review", "2", "--stage", "review1", "--expert", second, *level_args({ind: "1" for ind in INDICATORS}), "--now", REVIEW1)
    assert status(dq, REVIEW1, "review1")["2"] == "done"  # every expert reported: `rules.counts_as_review` of the derived areas
    view = dq.json("status", "--institution", "2", "--now", REVIEW1)
    assert "done" in json.dumps(view)
    assert set(review_rows(dq, "2")) == {first, second}


def test_the_area_levels_kept_are_the_rule_of_engine_finals(formed: Cli, tmp_path: Path):
    campaign = spec.load(form_file(tmp_path))
    first, _ = assigned(formed, "list1", "4")
    formed.ok("review", "4", "--stage", "review1", "--expert", first, *level_args(LEVELS), "--now", REVIEW1)
    assert area_levels_of(formed, "4", first) == finals.area_levels(LEVELS, campaign)


@pytest.mark.parametrize(("args", "said"), [
    (["--level", "conditions=2"], "«conditions» — область качества, а экспертиза в этой кампании идёт по показателям"),
    (["--level", "9.9=2"], "в форме нет показателя «9.9»"),
    (["--level", "1.1=7"], "в кампании нет уровня «7»"),
    (["--level", "1.1"], "нужно ОБЛАСТЬ=УРОВЕНЬ (ПОКАЗАТЕЛЬ=УРОВЕНЬ, где экспертиза по показателям), например 1.1=2"),
    (["--level", "1.1=2", "--level", "1.1=3"], "показатель «1.1» указан дважды"),
    (["--comment", "1.1"], "--comment «1.1»: нужно ПОКАЗАТЕЛЬ=ТЕКСТ"),
    (["--comment", "conditions=нет"], "«conditions» — область качества"),
])
def test_refusals_name_what_is_wrong_and_write_nothing(formed: Cli, args: list[str], said: str):
    first, _ = assigned(formed, "list1", "2")
    before = dump_tables(formed.db_url)
    rest = {ind: lv for ind, lv in LEVELS.items() if f"{ind}=" not in " ".join(args) or "--comment" in args}
    result = formed("review", "2", "--stage", "review1", "--expert", first, *level_args(rest), *args, "--now", REVIEW1)
    assert result.exit_code == 1 and result.output.startswith("ошибка: ") and said in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert [t for t in dump_tables(formed.db_url) if t[0] != "campaign_lock"] == [t for t in before if t[0] != "campaign_lock"]


def test_an_incomplete_review_is_refused_naming_the_indicators(formed: Cli):
    first, _ = assigned(formed, "list1", "2")
    some = {ind: lv for ind, lv in LEVELS.items() if ind not in ("1.3", "4.2")}
    result = formed("review", "2", "--stage", "review1", "--expert", first, *level_args(some), "--now", REVIEW1)
    assert result.exit_code == 1
    assert "не оценены показатели: 1.3, 4.2. Укажите уровень для каждого: --level ПОКАЗАТЕЛЬ=УРОВЕНЬ." in result.output
    assert review_rows(formed, "2") == {} and not query(formed.db_url, "SELECT * FROM review")


def test_a_campaign_without_a_form_stage_reviews_per_area_as_before(tomsk: Cli):
    from conftest import hand_in_all, levels

    tomsk.ok("tick", "--now", "2021-11-25 00:05")
    hand_in_all(tomsk)
    expert = assigned(tomsk, "list1", "2")[0]
    refused = tomsk("review", "2", "--stage", "review1", "--expert", expert, "--level", "1.1=2", "--now", REVIEW1)
    assert refused.exit_code == 1 and "нет области качества «1.1»" in refused.output
    comment = tomsk("review", "2", "--stage", "review1", "--expert", expert, *levels(), "--comment", "1.1=x", "--now", REVIEW1)
    assert comment.exit_code == 1 and "экспертиза в этой кампании идёт по областям" in comment.output
    tomsk.ok("review", "2", "--stage", "review1", "--expert", expert, *levels(), "--now", REVIEW1)
    assert not query(tomsk.db_url, "SELECT * FROM review_level")
    detail = next(r for r in tomsk.json("history", "2") if r["action"] == "review")["detail"]
    assert set(detail) == {"expert", "levels"}


def test_once_a_review_is_recorded_an_amendment_does_not_switch_how_experts_review(tomsk: Cli, tmp_path: Path):
    from conftest import TOMSK, hand_in_all, levels

    marked = tmp_path / "marked.yaml"
    marked.write_text(TOMSK.read_text(encoding="utf-8").replace("  - id: final-fix\n", "  - id: final-fix\n    form: true\n"),
                      encoding="utf-8")
    tomsk.ok("tick", "--now", "2021-11-25 00:05")
    assert "Нельзя применить" not in tomsk.ok("load", str(marked), "--now", "2021-11-25 00:10")  # nothing reviewed yet: it may
    hand_in_all(tomsk)
    tomsk.ok("review", "2", "--stage", "review1", "--expert", assigned(tomsk, "list1", "2")[0], *levels(), "--now", REVIEW1)
    before = dump_tables(tomsk.db_url)
    plan = tomsk.ok("load", str(marked), "--now", "2021-12-02 11:00")
    assert "Нельзя применить" in plan and "эксперты уже записали оценки по областям" in plan, plan
    refused = tomsk("load", str(marked), "--apply", "--reason", "форма", "--now", "2021-12-02 11:00")
    assert refused.exit_code == 1 and "записанные уровни выпали бы из справки" in refused.output
    assert dump_tables(tomsk.db_url) == before


def test_the_review_import_takes_indicator_ids_and_comments(formed: Cli, tmp_path: Path):
    first, second = assigned(formed, "list1", "2")
    cell = ";".join(f"{ind}={lv}" for ind, lv in LEVELS.items())
    good = tmp_path / "reviews.csv"
    with good.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["institution", "stage", "expert", "levels", "recommendations", "comments"],
                                      ["2", "review1", first, cell, "Дополнить фото.", "1.1=Нет фото\n2.1=Ссылка на план; см. раздел 3"],
                                      ["2", "review1", second, cell, "", ""]])
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["institution", "stage", "expert", "levels", "recommendations"],
                                      ["2", "review1", first, cell.replace("1.1=", "conditions="), ""]])
    result = formed("review", "--import", str(bad), "--now", REVIEW1)
    assert result.exit_code == 1 and f"{bad}:2:4:" in result.output and "«conditions» — область качества" in result.output
    out = formed.ok("review", "--import", str(good), "--now", REVIEW1)
    assert out.count("записана") == 2
    rows = review_rows(formed, "2")
    assert rows[first]["1.1"] == ("2", "Нет фото") and rows[first]["2.1"] == ("2", "Ссылка на план; см. раздел 3")
    assert rows[second]["1.1"] == ("2", None) and len(rows[second]) == len(INDICATORS)
    assert status(formed, REVIEW1, "review1")["2"] == "done"


# -- what changed between versions, as a rule -------------------------------------------------------------------


URLS = st.sampled_from(["https://a.example.org/1", "https://b.example.org/2", "https://c.example.org/3"])
ENTRY = st.builds(lambda urls, level, comment: (tuple(dict.fromkeys(urls)), level, comment),
                  st.lists(URLS, max_size=3), st.sampled_from([None, "1", "2", "3"]), st.sampled_from([None, "ок", "дополнено"]))
FORM = st.dictionaries(st.sampled_from(["1.1", "1.2", "2.1"]), ENTRY, max_size=3)


def _entries(given: dict) -> dict[str, entry_form.Entry]:
    return {ind: entry_form.Entry(ind, [entry_form.Evidence(u) for u in urls], level, comment)
            for ind, (urls, level, comment) in given.items()}


@given(FORM, FORM)
def test_changes_say_exactly_what_differs(previous, current):
    found = expertise.changes(_entries(previous), _entries(current))
    for ind in {*previous, *current}:
        old, new = previous.get(ind, ((), None, None)), current.get(ind, ((), None, None))
        change = found.get(ind)
        if set(old[0]) == set(new[0]) and old[1:] == new[1:]:  # the same links (in any order), level and comment
            assert change is None
            continue
        assert change is not None
        assert [e.url for e in change.added] == [u for u in new[0] if u not in old[0]]
        assert [e.url for e in change.removed] == [u for u in old[0] if u not in new[0]]
        assert change.level == ((old[1], new[1]) if old[1] != new[1] else None)
        assert change.comment == ((old[2], new[2]) if old[2] != new[2] else None)


def test_changes_ignore_the_order_of_links_and_a_new_title():
    one = {"1.1": entry_form.Entry("1.1", [entry_form.Evidence("https://a.example.org"), entry_form.Evidence("https://b.example.org")])}
    two = {"1.1": entry_form.Entry("1.1", [entry_form.Evidence("https://b.example.org", "План"), entry_form.Evidence("https://a.example.org")])}
    assert expertise.changes(one, two) == {}


# -- the expert's page ------------------------------------------------------------------------------------------


class Page:
    """The portal in-process (Starlette's TestClient), on the clock the test sets."""

    def __init__(self, db_url: str, campaign_id: str, now: str):
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

        from dqflow.calendar import UTC
        from dqflow.web import create_app

        self.db = store.connect(db_url)
        self.clock = {"now": at(now)}
        app = create_app(self.db, campaign_id, lambda: self.clock["now"], lambda: datetime.now(UTC))
        self.client = TestClient(app, base_url="https://portal.example.org")
        self.campaign_id = campaign_id

    def path(self, role: str, who: str) -> str:
        from dqflow.access import links

        with store.dry_run(self.db) as session:
            return links.links(session, self.campaign_id).path(role, who)

    def post(self, path: str, data: dict):
        token = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)[1]
        return self.client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def indicator_block(page: str, key: str) -> str:
    return re.search(rf'<div class="indicator" id="ind-{re.escape(key)}">.*?</div>\n(?=<div class="indicator"|</fieldset>)',
                     page, re.S)[0]


def test_the_expert_reviews_per_indicator_on_the_page(formed: Cli):
    dq = formed
    first, second = assigned(dq, "list1", "2")
    dq.ok("links", "check", "--now", "2021-11-30 12:00")  # example.org does not answer here: states are stored whatever they are
    portal = Page(dq.db_url, "tomsk-2021", REVIEW1)
    try:
        path = portal.path("expert", first)
        page = portal.client.get(path).text
        assert '<fieldset class="area" id="area-review1-2-conditions">' in page and "<legend>" in page
        block = indicator_block(page, "review1-2-1.1")
        assert 'href="https://dou2.example.org/fill-form/1.1"' in block and ">Папка 1.1</a>" in block
        # the link's state, from the stored check (example.org does not resolve here; whatever it is, it is the stored one)
        stored, = query(dq.db_url, "SELECT state FROM link_check WHERE url = 'https://dou2.example.org/fill-form/1.1'")
        assert re.search(rf'<span class="status {dict(ok="done", closed="late", broken="missed")[stored[0]]}">', block)
        assert "Самооценка ДОУ: <strong>Уровень выше базового</strong>" in block
        assert "Центры во всех группах" in block
        assert '<label for="level-review1-2-1.1">Ваш уровень по показателю 1.1</label>' in block
        assert "selected" not in block  # nothing preselected before the expert answered (not the ДОУ's own level)
        assert '<textarea id="comment-review1-2-1.1" name="comment-1.1"' in block
        assert "изменено" not in page  # a first review: no previous version

        missing = portal.post(path, {"stage": "review1", "institution": "2", **{f"level-{i}": lv for i, lv in LEVELS.items() if i != "5.2"}})
        assert missing.status_code >= 400 and "не оценены показатели: 5.2 «" in missing.text
        assert review_rows(dq, "2") == {}
        done = portal.post(path, {"stage": "review1", "institution": "2", "recommendations": "Дополнить фото.",
                                  "comment-1.1": "Не во всех группах", **{f"level-{i}": lv for i, lv in LEVELS.items()}})
        assert done.status_code == 303 and done.headers["location"].endswith("#dou-2")
        assert review_rows(dq, "2")[first]["1.1"] == ("2", "Не во всех группах")
        page = portal.client.get(path).text
        block = indicator_block(page, "review1-2-1.2")
        assert '<option value="3" selected>' in block  # the expert's recorded answer preselected
        assert "Не во всех группах" in indicator_block(page, "review1-2-1.1")
        assert area_levels_of(dq, "2", first) == finals.area_levels(LEVELS, dq_campaign(dq))
    finally:
        portal.db.dispose()


def test_the_dou_reads_each_experts_levels_and_comments_per_indicator_once_released(formed: Cli):
    dq = formed
    first, second = assigned(dq, "list1", "2")
    dq.ok("review", "2", "--stage", "review1", "--expert", first, *level_args(LEVELS), "--comment", "1.1=Фото не во всех группах",
          "--now", REVIEW1)
    dq.ok("review", "2", "--stage", "review1", "--expert", second, *level_args({ind: "1" for ind in INDICATORS}), "--now", REVIEW1)
    dq.ok("tick", "--now", "2021-12-06 00:05")  # review1 locked: its reviews are released to the ДОУ
    portal = Page(dq.db_url, "tomsk-2021", "2021-12-06 10:00")
    try:
        page = portal.client.get(portal.path("institution", "2")).text
    finally:
        portal.db.dispose()
    released = page[page.index("<h2>Рекомендации экспертов</h2>"):]
    tables = re.findall(r"<caption>По показателям</caption>(.*?)</table>", released, re.S)
    assert len(tables) == 2  # one per expert, in the order they reviewed
    assert "<td>1.1 Развивающая предметно-пространственная среда помещений группы</td><td>Уровень выше базового</td>" \
           "<td>Фото не во всех группах</td>" in tables[0]
    assert tables[1].count("<td>Базовый уровень</td>") == len(INDICATORS)
    assert first not in released and second not in released and "Эксперт ДОУ" not in released  # no expert names


def dq_campaign(dq: Cli) -> spec.Campaign:
    db = store.connect(dq.db_url)
    try:
        with store.dry_run(db) as session:
            return engine.definition(session, "tomsk-2021")
    finally:
        db.dispose()


def test_the_second_review_shows_what_changed_since_the_previous_version(formed: Cli):
    dq = formed
    for expert in assigned(dq, "list1", "2"):
        dq.ok("review", "2", "--stage", "review1", "--expert", expert, *level_args(LEVELS), "--now", REVIEW1)
    now = "2021-12-08 10:00"
    dq.ok("form", "set", "2", "--stage", "refill", "--indicator", "1.1", "--link", "https://dou2.example.org/refill/1.1-new Новые фото",
          "--level", "3", "--comment", "", "--now", now)
    dq.ok("form", "set", "2", "--stage", "refill", "--indicator", "2.1", "--comment", "Добавлен план", "--now", now)
    dq.ok("submit", "2", "--stage", "refill", "--now", now)
    dq.ok("tick", "--now", "2021-12-10 00:05")
    expert = assigned(dq, "list2", "2")[0]
    portal = Page(dq.db_url, "tomsk-2021", REVIEW2)
    try:
        page = portal.client.get(portal.path("expert", expert)).text
        assert "версия формы этапа «" in page and "изменены показатели 1.1, 2.1" in page
        block = indicator_block(page, "review2-2-1.1")
        assert '<span class="status late">изменено</span>' in block
        changes = re.search(r'<div class="changes".*?</div>', block, re.S)[0]
        assert "добавлены ссылки: <a href=\"https://dou2.example.org/refill/1.1-new\"" in changes and "Новые фото" in changes
        assert "убраны ссылки: <del>Папка 1.1</del>" in changes
        assert "самооценка: Уровень выше базового → Уровень хорошего качества" in changes
        assert "комментарий ДОУ убран; был: «Центры во всех группах»" in changes
        assert "комментарий ДОУ изменён" in indicator_block(page, "review2-2-2.1")
        assert "изменено" not in indicator_block(page, "review2-2-1.2")
    finally:
        portal.db.dispose()
    with store.dry_run(store.connect(dq.db_url)) as session:
        campaign = engine.definition(session, "tomsk-2021")
        found = expertise.reviewed(session, campaign, campaign.stage("review2"), expert, {"2": {"fill-form": "done", "refill": "done"}})
    assert found["2"].version.id == "refill" and found["2"].previous.id == "fill-form"
    assert set(found["2"].changes) == {"1.1", "2.1"}
    assert found["2"].changes["1.1"].level == ("2", "3")


def test_which_version_a_review_judges(tmp_path: Path):
    campaign = spec.load(form_file(tmp_path))
    review1, review2 = campaign.stage("review1"), campaign.stage("review2")
    assert expertise.judged(campaign, review1, {"fill-form": "done"})[0].id == "fill-form"
    assert expertise.judged(campaign, review1, {"fill-form": "open"}) == (None, None)
    version, previous = expertise.judged(campaign, review2, {"fill-form": "late", "refill": "done"})
    assert (version.id, previous.id) == ("refill", "fill-form")
    version, previous = expertise.judged(campaign, review2, {"fill-form": "done", "refill": "missed"})
    assert (version.id, previous) == ("fill-form", None)  # the refill was not handed in: the fill is judged again
    version, previous = expertise.judged(campaign, review2, {"fill-form": "missed", "refill": "done"})
    assert (version.id, previous) == ("refill", None)


# -- cost: bounded statements whatever the roster -----------------------------------------------------------------


def _costs(db, folder: Path, n: int) -> dict[str, int]:
    campaign = spec.load(form_file(folder, n, name="expertise"))
    with store.transaction(db) as session:
        engine.load(session, campaign, at("2021-11-10 09:00"))
    now = at("2021-11-21 10:00")
    for indicator in REQUIRED:
        with store.transaction(db) as session:
            entry_form.save(session, campaign.id, "2", "fill-form", indicator, now, links=[(f"https://dou2.example.org/{indicator}", None)],
                            level="2")
    with store.transaction(db) as session:
        engine.submit(session, campaign.id, "2", "fill-form", now)
    with store.transaction(db) as session:
        engine.reconcile(session, campaign.id, at("2021-12-02 09:00"))
    with store.dry_run(db) as session:
        expert = experts.stored(session, campaign.id, "list1", ["2"])["2"][0]
    review = at("2021-12-02 10:00")
    seen: dict[str, int] = {}
    from dqflow.engine import workspace

    def page() -> int:
        with counting_statements(db) as statements, store.dry_run(db) as session:
            desk = workspace.expert_desk(session, engine.definition(session, campaign.id), expert, review)
            from dqflow.delivery import linkcheck

            linkcheck.results(session, campaign.id, {u for t in desk.tasks for i in t.assigned if i.form for u in i.form.urls})
        assert any(i.form for t in desk.tasks for i in t.assigned)
        return len(statements)

    seen["page"] = page()
    for name in ("review", "correction"):
        with counting_statements(db) as statements, store.transaction(db) as session:
            engine.review(session, campaign.id, "2", "review1", expert, LEVELS, "", review, comments={"1.1": "нет фото"})
        seen[name] = len(statements)
    seen["page after"] = page()
    return seen


def test_statements_do_not_grow_with_the_roster(db_url, tmp_path: Path):
    db = store.connect(db_url)
    try:
        small, large = _costs(db, tmp_path, 15), _costs(db, tmp_path, 1500)
    finally:
        db.dispose()
    assert small == large, (small, large)
    assert small["page"] <= 20 and small["review"] <= 50 and small["correction"] <= 50, small
