"""Settled levels (issue 21 part 5): the final-level rules of `engine.finals` as properties (hypothesis), their SQL form
kept equal to them, the campaign file's `settle:` and `area_level:` (read, stored, amended), `dqflow settle` and its
refusals, the audit row, `status`'s count, the coordinator's card and home on the portal, and statements that do not
grow with the roster (15 and 1,500 ДОУ). On SQLite and PostgreSQL (the `db_url` fixtures).

Reviews go through the review act (`engine.review`); only the statement counts seed review rows directly, with no
hand-in behind them (what is counted is `settle`, not how the reviews came)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import TOMSK, Cli, counting_statements, dump_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update
from sqlalchemy import select as sa_select
from test_form import INDICATORS, REQUIRED, form_file
from test_web import Portal, sign_in_with_password

from dqflow import engine, store
from dqflow.calendar import parse_local
from dqflow.campaign import spec
from dqflow.campaign.model import AREA_RULES, SETTLE_RULES
from dqflow.engine import finals, settle
from dqflow.errors import DqflowError
from dqflow.store import FinalLevelRow, ReviewLevelRow, ReviewRow, SettlementRow, table

TZ = spec.load(TOMSK).tz


def at(text: str) -> datetime:
    return parse_local(text, TZ)


# -- the rules, as properties -------------------------------------------------------------------------------------

RULES = AREA_RULES  # the rules that always give a level; `settle:` adds "coordinator" (SETTLE_RULES)


@st.composite
def scales(draw) -> list[str]:
    return draw(st.lists(st.text("abcdefgh123", min_size=1, max_size=3), min_size=1, max_size=6, unique=True))


@st.composite
def scale_and_levels(draw, least: int = 1) -> tuple[list[str], list[str]]:
    scale = draw(scales())
    return scale, draw(st.lists(st.sampled_from(scale), min_size=least, max_size=4))


def place(scale: list[str], level: str | None) -> int:
    assert level is not None
    return scale.index(level)


@given(scale_and_levels(), st.sampled_from(RULES))
def test_a_final_level_lies_between_the_experts_levels(drawn, rule):
    scale, levels = drawn
    final = finals.final(levels, None, scale, rule)
    assert min(map(scale.index, levels)) <= place(scale, final) <= max(map(scale.index, levels))


@given(scale_and_levels())
def test_lower_is_never_above_mean_rounded_down(drawn):
    scale, levels = drawn
    assert place(scale, finals.agreed(levels, scale, "lower")) <= place(scale, finals.agreed(levels, scale, "mean-rounded-down"))


@given(scales(), st.data(), st.integers(1, 4), st.sampled_from(SETTLE_RULES))
def test_unanimous_experts_give_their_level_whatever_the_rule(scale, data, n, rule):
    level = data.draw(st.sampled_from(scale))
    assert finals.agreed([level] * n, scale, rule) == finals.final([level] * n, None, scale, rule) == level
    assert not finals.disputed([level] * n, None)


@given(scale_and_levels())
def test_the_coordinator_rule_gives_none_exactly_when_disputed(drawn):
    scale, levels = drawn
    assert (finals.final(levels, None, scale, "coordinator") is None) == finals.disputed(levels, None)


@given(scale_and_levels(), st.data(), st.sampled_from(SETTLE_RULES))
def test_a_settled_level_is_final_and_nothing_settled_is_disputed(drawn, data, rule):
    scale, levels = drawn
    chosen = data.draw(st.sampled_from(scale))
    assert finals.final(levels, chosen, scale, rule) == chosen
    assert not finals.disputed(levels, chosen)


@given(scale_and_levels(), st.randoms(use_true_random=False), st.sampled_from(SETTLE_RULES))
def test_the_order_of_the_experts_does_not_matter(drawn, random, rule):
    scale, levels = drawn
    shuffled = list(levels)
    random.shuffle(shuffled)
    assert finals.final(shuffled, None, scale, rule) == finals.final(levels, None, scale, rule)
    assert finals.disputed(shuffled, None) == finals.disputed(levels, None)


def test_the_rules_name_every_rule_of_the_model():
    scale, levels = ["1", "2", "3"], ["1", "3"]
    assert {rule: finals.agreed(levels, scale, rule) for rule in SETTLE_RULES} == {"lower": "1", "mean-rounded-down": "2", "coordinator": None}
    with pytest.raises(ValueError):
        finals.agreed(levels, scale, "median")


@st.composite
def areas_and_levels(draw):
    scale = draw(scales())
    ids = draw(st.lists(st.text("0123456789.", min_size=1, max_size=4), min_size=1, max_size=6, unique=True))
    area = spec.Area("a", "Область", tuple(spec.Indicator(i, f"Показатель {i}") for i in ids))
    given = draw(st.dictionaries(st.sampled_from(ids), st.sampled_from(scale) | st.none()))
    return scale, area, given


@given(areas_and_levels(), st.sampled_from(RULES))
def test_an_area_has_a_level_exactly_when_each_indicator_has_one_and_it_lies_between_theirs(drawn, rule):
    scale, area, given = drawn
    level = finals.area_level(given, area, scale, rule)
    complete = all(given.get(ind.id) for ind in area.indicators)
    assert (level is not None) == complete
    if complete:
        places = [scale.index(given[ind.id]) for ind in area.indicators]  # type: ignore[arg-type]
        assert min(places) <= place(scale, level) <= max(places)
        lower, mean = (finals.area_level(given, area, scale, r) for r in ("lower", "mean-rounded-down"))
        assert place(scale, lower) <= place(scale, mean)
        reordered = spec.Area("a", "Область", tuple(reversed(area.indicators)))
        assert finals.area_level(given, reordered, scale, rule) == level


def test_area_levels_follow_the_campaigns_rule():
    campaign = spec.load(TOMSK)
    conditions = [ind.id for ind in campaign.areas[0].indicators]
    given = {conditions[0]: "1", conditions[1]: "4"} | {i: "3" for i in conditions[2:]}
    lower = finals.area_levels(given, _with_rules(campaign, area_level="lower"))
    mean = finals.area_levels(given, _with_rules(campaign, area_level="mean-rounded-down"))
    assert lower == {"conditions": "1"} and mean["conditions"] == ("2" if len(conditions) == 2 else mean["conditions"])
    assert set(mean) == {"conditions"}  # the other areas have indicators without a level


def _with_rules(campaign: spec.Campaign, **rules: str) -> spec.Campaign:
    import dataclasses

    return dataclasses.replace(campaign, **rules)


# -- the campaign file ----------------------------------------------------------------------------------------------


def _file(tmp_path: Path, extra: str, form: bool = True) -> Path:
    path = form_file(tmp_path) if form else TOMSK
    text = path.read_text(encoding="utf-8") + "\n" + extra
    target = tmp_path / "rules.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def test_settle_and_area_level_are_read_stored_and_default(tmp_path: Path):
    campaign = spec.load(_file(tmp_path, "settle: coordinator\narea_level: lower\n"))
    assert (campaign.settle, campaign.area_level) == ("coordinator", "lower")
    stored = json.loads(spec.to_json(campaign))
    assert (stored["settle"], stored["area_level"]) == ("coordinator", "lower")
    assert spec.from_json(spec.to_json(campaign)) == campaign
    plain = spec.load(form_file(tmp_path))
    assert (plain.settle, plain.area_level) == ("lower", "mean-rounded-down")
    kept = json.loads(spec.to_json(plain))
    assert "settle" not in kept and "area_level" not in kept  # a campaign stored before these keys keeps its digest
    assert spec.from_json(spec.to_json(plain)) == plain


def test_a_misspelt_rule_is_refused_at_its_place_with_a_suggestion(tmp_path: Path):
    path = _file(tmp_path, "settle: lowr\narea_level: avg\n")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    errors = [str(p) for p in spec.validate(path).errors]
    assert errors == [f"{path}:{lines - 1}:9: ошибка: settle: «lowr» — такого правила нет; может быть, «lower»?",
                      f"{path}:{lines}:13: ошибка: area_level: «avg» — такого правила нет; допустимы: lower, mean-rounded-down"]
    dq_errors = [str(p) for p in spec.validate(_file(tmp_path, "settle: [lower]\n")).errors]
    assert dq_errors and "settle: ожидается одно значение" in dq_errors[0]


def test_a_campaign_without_a_form_is_neither_warned_nor_refused_for_its_rules(tmp_path: Path):
    before = [str(p) for p in spec.validate(TOMSK).problems]
    named = spec.validate(_file(tmp_path, "settle: coordinator\narea_level: lower\n", form=False))
    assert named.campaign is not None and not named.campaign.reviews_by_indicator
    assert [p.message for p in named.problems] == [p.split(": ", 2)[2] for p in before]


def test_an_amendment_of_the_rule_shows_in_the_plan(dq: Cli, tmp_path: Path):
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    changed = _file(tmp_path, "settle: coordinator\n")
    plan = dq.ok("load", str(changed), "--now", "2021-11-12 09:00")
    assert "изменены параметры кампании: settle" in plan, plan
    planned = re.search(r"План (\w+)\.", plan)[1]
    dq.ok("load", str(changed), "--apply", "--plan", planned, "--reason", "спорные уровни согласует координатор", "--now", "2021-11-12 09:00")
    hand_in_form(dq, "5")
    first, second = experts_of(dq, "5")
    review_by_indicator(dq.db_url, "5", "review1", first, every("2"), "2021-12-02 10:00")
    review_by_indicator(dq.db_url, "5", "review1", second, every("2", i1_1="4"), "2021-12-03 10:00")
    with store.dry_run(store.connect(dq.db_url)) as session:
        campaign = engine.definition(session, "tomsk-2021")
        review1 = settle.settlements(session, campaign, "5")[0]
    assert campaign.settle == "coordinator"
    assert [(i.indicator_id, i.final) for i in review1.disputed] == [("1.1", None)]  # no final level until settled


# -- per-indicator reviews, through the review act ------------------------------------------------------------------------


def review_by_indicator(db_url: str, institution: str, stage: str, expert: str, levels: dict[str, str], when: str,
                        comments: dict[str, str] | None = None) -> None:
    """One expert's review of a ДОУ per indicator, through the review act (`engine.review`)."""
    db = store.connect(db_url)
    try:
        with store.transaction(db, actor=f"expert:{expert}") as session:
            engine.review(session, None, institution, stage, expert, levels, "", at(when), comments=comments)
    finally:
        db.dispose()


def hand_in_form(dq: Cli, institution: str) -> None:
    """The ДОУ fills every required indicator of its form and hands it in, before the first review."""
    for indicator in REQUIRED:
        dq.ok("form", "set", institution, "--stage", "fill-form", "--indicator", indicator, "--link",
              f"https://dou{institution}.example.org/{indicator}", "--level", "2", "--now", "2021-11-25 10:00")
    dq.ok("submit", institution, "--stage", "fill-form", "--now", "2021-11-25 10:05")


def experts_of(dq: Cli, institution: str) -> list[str]:
    """The experts list 1 gives the ДОУ."""
    return next(a["experts"] for a in dq.json("experts", "show", "list1")["assignments"] if a["institution"] == institution)


def name(expert: str) -> str:
    """An expert's name in the bundled roster (`e15` is «Эксперт ДОУ № 15»)."""
    return f"Эксперт ДОУ № {expert.removeprefix('e')}"


def every(level: str, **other: str) -> dict[str, str]:
    """A level for every indicator of the example form, with some others (`i1_1="3"` for 1.1)."""
    return {i: other.get("i" + i.replace(".", "_"), level) for i in INDICATORS}


@pytest.fixture
def formed(dq: Cli, tmp_path: Path) -> Cli:
    """The Tomsk campaign with its form (fill, refill, final fix `form: true`), loaded; ДОУ 5 reviewed in review1 by its
    two experts of list 1, who disagree on 1.1 (2 / 3) and 2.1 (2 / 1)."""
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    for institution in ("4", "5"):  # their experts have something to review
        hand_in_form(dq, institution)
    first, second = experts_of(dq, "5")
    review_by_indicator(dq.db_url, "5", "review1", first, every("2"), "2021-12-02 10:00", {"1.1": "фото центров не открываются"})
    review_by_indicator(dq.db_url, "5", "review1", second, every("2", i1_1="3", i2_1="1"), "2021-12-03 10:00",
                        {"1.1": "среда насыщенная", "2.1": "нет плана"})
    return dq


def refused(dq: Cli, *args: str) -> str:
    before = dump_tables(dq.db_url)
    result = dq("settle", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert dump_tables(dq.db_url) == before
    return result.output.strip()


def test_settle_records_the_level_with_its_audit_row_and_a_change_needs_a_new_reason(formed: Cli):
    first, second = experts_of(formed, "5")
    assert formed.json("status", "--now", "2021-12-04 10:00")["awaiting_settlement"] == {"review1": 2, "review2": 0}
    said = formed.ok("settle", "5", "--stage", "review1", "--indicator", "1.1", "--level", "3", "--reason", "среда подтверждена фото",
                     "--now", "2021-12-04 10:00")
    assert said.strip() == ("ДОУ 5, этап «Первичная экспертиза»: показатель 1.1 «Развивающая предметно-пространственная среда помещений "
                            "группы»: согласован уровень 3 (Уровень хорошего качества); эксперты: "
                            f"{name(first)} — 2, {name(second)} — 3."), said
    rows = _rows(formed.db_url, SettlementRow)
    assert [(r["institution_id"], r["stage_id"], r["indicator_id"], r["level"], r["reason"]) for r in rows] == [
        ("5", "review1", "1.1", "3", "среда подтверждена фото")]
    audit = [r for r in formed.json("history", "5") if r["action"] == "settle"]
    assert len(audit) == 1 and audit[0]["by"] == "coordinator:cli" and audit[0]["at"] == "2021-12-04T10:00:00+07:00"
    assert audit[0]["detail"] == {"indicator": "1.1", "level": "3", "reason": "среда подтверждена фото",
                                  "experts": {first: "2", second: "3"}}
    history = formed.ok("history", "5")
    assert "уровень показателя согласован координатором" in history and "показатель 1.1: уровень 3 (Уровень хорошего качества)" in history
    status = formed.json("status", "--now", "2021-12-04 10:05")
    assert status["awaiting_settlement"] == {"review1": 1, "review2": 0}
    assert ("Расхождения экспертов по показателям, ждут согласования координатором: «Первичная экспертиза» — 1; "
            "«Вторичная экспертиза» — 0.") in formed.ok("status", "--now", "2021-12-04 10:05")

    # changed later (the справка is written after the review stage), with a new reason; the old level is kept in the audit
    again = formed.ok("settle", "5", "--stage", "review1", "--indicator", "1.1", "--level", "2", "--reason", "фото не открываются",
                      "--now", "2021-12-20 10:00")
    assert "(был 3 (Уровень хорошего качества))" in again
    assert [(r["level"], r["reason"]) for r in _rows(formed.db_url, SettlementRow)] == [("2", "фото не открываются")]
    changed = [r for r in formed.json("history", "5") if r["action"] == "settle"][-1]
    assert changed["detail"]["was"] == "3" and changed["detail"]["level"] == "2"
    with store.dry_run(store.connect(formed.db_url)) as session:
        campaign = engine.definition(session, None)
        stages = settle.settlements(session, campaign, "5")
    review1 = next(s for s in stages if s.stage.id == "review1")
    assert [i.indicator_id for i in review1.disputed] == ["2.1"] and [i.indicator_id for i in review1.settled] == ["1.1"]
    assert review1.settled[0].final == "2" and review1.settled[0].settled.actor == "coordinator:cli"
    assert review1.disputed[0].final == "1"  # the campaign's `settle: lower` meanwhile
    # a first settlement long after the review stages locked: the справка is written after them
    formed.ok("settle", "5", "--stage", "review1", "--indicator", "2.1", "--level", "1", "--reason", "плана нет", "--now", "2022-01-10 10:00")
    assert formed.json("status", "--now", "2022-01-10 10:05")["awaiting_settlement"] == {"review1": 0, "review2": 0}


def _rows(db_url: str, model) -> list[dict]:
    db = store.connect(db_url)
    try:
        with db.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(table(model).select())]
    finally:
        db.dispose()


def test_settle_refuses_in_russian_and_writes_nothing(formed: Cli):
    base = ["--stage", "review1", "--indicator", "1.1", "--level", "3", "--reason", "так решили", "--now", "2021-12-04 10:00"]

    def args(**changed: str) -> list[str]:
        found = list(base)
        for key, value in changed.items():
            found[found.index("--" + key) + 1] = value
        return found

    assert "ДОУ «99» в кампании нет" in refused(formed, "99", *base)
    assert refused(formed, "5", *args(stage="review9")) == "ошибка: «review9» — не этап экспертизы; этапы экспертизы: review1, review2."
    assert "«fill-form» — не этап экспертизы; этапы экспертизы: review1, review2" in refused(formed, "5", *args(stage="fill-form"))
    assert "в форме нет показателя «9.9»" in refused(formed, "5", *args(indicator="9.9"))
    assert "в кампании нет уровня «7»; уровни: 1, 2, 3, 4" in refused(formed, "5", *args(level="7"))
    assert "укажите причину" in refused(formed, "5", *args(reason="  "))
    assert "причина: 2001 знаков, а можно не больше 2000" in refused(formed, "5", *args(reason="я" * 2001))
    assert "причина: в тексте есть невидимый служебный символ" in refused(formed, "5", *args(reason="так\x07решили"))
    assert "эксперты согласны по показателю 1.2 (уровень 2): согласовывать нечего" in refused(formed, "5", *args(indicator="1.2"))
    # only one expert has reviewed ДОУ 4; and at a moment before the second review of ДОУ 5 neither has settled anything
    review_by_indicator(formed.db_url, "4", "review1", experts_of(formed, "4")[0], every("1"), "2021-12-02 10:00")
    one = refused(formed, "4", *base)
    assert one.startswith("ошибка: ДОУ 4, этап «Первичная экспертиза»: показатель 1.1 ещё не оценили оба эксперта") and "(оценок: 1)" in one
    early = refused(formed, "5", *args(now="2021-12-02 12:00"))
    assert "ещё не оценили оба эксперта к 02.12.2021 12:00 (оценок: 1)" in early
    assert "(оценок: 0)" in refused(formed, "5", *args(stage="review2"))


def test_a_campaign_reviewed_per_area_has_nothing_to_settle(tomsk: Cli):
    said = refused(tomsk, "5", "--stage", "review1", "--indicator", "1.1", "--level", "2", "--reason", "x", "--now", "2021-12-04 10:00")
    assert said == "ошибка: в этой кампании эксперты оценивают области, а не показатели: согласовывать уровни показателей нечего."
    assert tomsk.json("status", "--now", "2021-12-04 10:00")["awaiting_settlement"] == {}
    assert "согласования" not in tomsk.ok("status", "--now", "2021-12-04 10:00")


def test_a_withdrawn_dou_is_not_settled_nor_counted(formed: Cli, tmp_path: Path):
    data = yaml.safe_load(form_file(tmp_path).read_text(encoding="utf-8"))
    data["institutions"] = [i for i in data["institutions"] if str(i["id"]) != "5"]
    without = tmp_path / "without-5.yaml"
    without.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    planned = re.search(r"План (\w+)\.", formed.ok("load", str(without), "--now", "2021-12-04 09:00"))[1]
    formed.ok("load", str(without), "--apply", "--plan", planned, "--reason", "закрыт", "--force", "--now", "2021-12-04 09:00")
    said = refused(formed, "5", "--stage", "review1", "--indicator", "1.1", "--level", "3", "--reason", "x", "--now", "2021-12-04 10:00")
    assert "выбыло из кампании: записи можно читать, но не менять" in said, said
    assert formed.json("status", "--now", "2021-12-04 10:00")["awaiting_settlement"] == {"review1": 0, "review2": 0}
    with store.dry_run(store.connect(formed.db_url)) as session:
        assert settle.awaiting(session, engine.definition(session, None)) == []


# -- the SQL form equals the rule ------------------------------------------------------------------------------------


@pytest.fixture
def loaded_form(db_url: str, tmp_path: Path):
    dq = Cli(db_url)
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    db = store.connect(db_url)
    yield db
    db.dispose()


def written(db, given_levels: list[tuple[str, str, str, str, str]], settled: list[tuple[str, str, str, str]]) -> spec.Campaign:
    """The campaign's experts' levels (stage, ДОУ, expert, indicator, level) and settlements (stage, ДОУ, indicator, level)
    replaced by these, written behind the acts' back (the triggers mark them)."""
    with store.transaction(db) as session:
        campaign = engine.definition(session, None)
        for row in (ReviewLevelRow, SettlementRow):
            session.execute(delete(table(row)))
        if given_levels:
            session.execute(insert(table(ReviewLevelRow)), [
                {"campaign_id": campaign.id, "stage_id": s, "institution_id": i, "expert_id": e, "indicator_id": ind, "level": lv}
                for s, i, e, ind, lv in given_levels])
        if settled:
            session.execute(insert(table(SettlementRow)), [
                {"campaign_id": campaign.id, "stage_id": s, "institution_id": i, "indicator_id": ind, "level": lv, "reason": "r",
                 "at": at("2021-12-04 10:00")} for s, i, ind, lv in settled])
    return campaign


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(("review1", "review2")), st.sampled_from(("2", "4", "5")), st.sampled_from(("e15", "e40", "e62")),
                          st.sampled_from(("1.1", "1.2", "2.1")), st.sampled_from(("1", "2", "3"))),
                max_size=30, unique_by=lambda r: r[:4]),
       st.lists(st.tuples(st.sampled_from(("review1", "review2")), st.sampled_from(("2", "4", "5")), st.sampled_from(("1.1", "1.2", "2.1")),
                          st.sampled_from(("1", "2", "3"))), max_size=6, unique_by=lambda r: r[:3]))
def test_the_sql_form_of_disputed_is_the_rule(loaded_form, given_levels, settled):
    db = loaded_form
    campaign = written(db, given_levels, settled)
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for s, i, _, ind, lv in given_levels:
        by_key.setdefault((s, i, ind), []).append(lv)
    chosen = {(s, i, ind): lv for s, i, ind, lv in settled}
    expected = {k for k, levels in by_key.items() if finals.disputed(levels, chosen.get(k))}
    with store.dry_run(db) as session:
        found = {tuple(r) for r in session.execute(finals.disputed_sql(campaign.id))}
        counts = finals.awaiting_settlement(session, campaign)
    assert found == expected
    assert counts == {s: sum(1 for k in expected if k[0] == s) for s in ("review1", "review2")}


EXPERTS = ("e15", "e40", "e62")


def keep_all(db, campaign: spec.Campaign) -> None:
    """The campaign's kept final levels brought up to date as `tick` does: `finals.catch_up` steps until none is left."""
    while True:
        with store.transaction(db) as session:
            if not finals.catch_up(session, campaign):
                return


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from((None, "level", "indicator", "stage")), st.data())
def test_the_disputes_read_from_the_kept_final_levels_are_the_rule(loaded_form, leftover, data):
    """`finals.disputed_keys` reads the kept final levels while they are current, and computes them (`disputed_sql`) once a
    write marks them: both give `disputed`, whatever an amendment left behind (`leftover`, one kind an example) — a level
    off the scale ("7"), an indicator («9.9») or a stage (refill) not reviewed per indicator; blank levels, settlements
    off the scale."""
    db = loaded_form
    key = st.tuples(st.sampled_from(("review1", "review2", *(("refill",) if leftover == "stage" else ()))), st.sampled_from(("2", "5")),
                    st.sampled_from(("1.1", "2.1", *(("9.9",) if leftover == "indicator" else ()))))
    levels = st.sampled_from(("1", "2", "3", "", *(("7",) if leftover == "level" else ())))
    by_key = data.draw(st.dictionaries(key, st.lists(levels, min_size=1, max_size=len(EXPERTS)), min_size=1, max_size=10))
    given_levels = [(s, i, EXPERTS[n], ind, lv) for (s, i, ind), levels in by_key.items() for n, lv in enumerate(levels)]
    reviewed = sorted(by_key)
    settled = data.draw(st.lists(st.tuples(st.one_of(st.sampled_from(reviewed), key) if reviewed else key, st.sampled_from(("1", "3", "7")))
                                 .map(lambda r: (*r[0], r[1])), max_size=6, unique_by=lambda r: r[:3]))
    campaign = written(db, given_levels, settled)
    keep_all(db, campaign)  # what every tick does: the marks the inserts left, computed and removed

    def expected(rows: list[tuple[str, str, str, str, str]]) -> set[tuple[str, str, str]]:
        by_key: dict[tuple[str, str, str], list[str]] = {}
        for s, i, _, ind, lv in rows:
            by_key.setdefault((s, i, ind), []).append(lv)
        chosen = {(s, i, ind): lv for s, i, ind, lv in settled}
        return {k for k, levels in by_key.items() if finals.disputed(levels, chosen.get(k))}

    def found() -> tuple[bool, set[tuple[str, str, str]], dict[str, int]]:
        with store.dry_run(db) as session:
            current = session.execute(sa_select(finals.kept_current(campaign))).scalar_one()
            return (bool(current), {tuple(r) for r in session.execute(finals.disputed_keys(campaign))},
                    finals.awaiting_settlement(session, campaign))

    current, keys, counts = found()
    assert current and keys == expected(given_levels)
    assert counts == {s: sum(1 for k in keys if k[0] == s) for s in ("review1", "review2")}
    if given_levels:  # a write the acts did not make: its ДОУ's stage marked, the kept levels not read until recomputed
        n = data.draw(st.integers(0, len(given_levels) - 1))
        s, i, e, ind, _ = given_levels[n]
        changed = data.draw(st.sampled_from(("1", "4", "7")))
        with store.transaction(db) as session:
            rl = table(ReviewLevelRow).c
            session.execute(update(table(ReviewLevelRow)).where(rl.stage_id == s, rl.institution_id == i, rl.expert_id == e,
                                                                rl.indicator_id == ind).values(level=changed))
        now = [*given_levels[:n], (s, i, e, ind, changed), *given_levels[n + 1:]]
        current, keys, counts = found()
        assert not current and keys == expected(now)
        assert counts == {s: sum(1 for k in keys if k[0] == s) for s in ("review1", "review2")}


@pytest.mark.parametrize(("stage", "indicator", "levels"), [("review1", "1.1", ("1", "7")), ("review1", "9.9", ("1", "2")),
                                                         ("refill", "1.1", ("1", "2"))], ids=["level", "indicator", "stage"])
def test_a_level_an_amendment_left_is_counted_though_the_kept_levels_leave_it_out(loaded_form, stage, indicator, levels):
    """A level off the scale, an indicator or a stage no longer reviewed per indicator: the kept places do not show the
    dispute, so the count is computed from the experts' levels (`disputed`), the kept levels current all the same."""
    db = loaded_form
    with store.transaction(db) as session:
        campaign = engine.definition(session, None)
        key = {"campaign_id": campaign.id, "stage_id": stage, "institution_id": "2", "indicator_id": indicator}
        session.execute(insert(table(ReviewLevelRow)), [{**key, "expert_id": e, "level": lv} for e, lv in zip(EXPERTS, levels)])
    keep_all(db, campaign)
    with store.dry_run(db) as session:
        assert session.execute(sa_select(finals.kept_current(campaign))).scalar_one()
        assert [tuple(r) for r in session.execute(finals.disputed_keys(campaign))] == [(stage, "2", indicator)]


def test_status_counts_the_disputes_from_the_kept_final_levels_while_they_are_current(loaded_form):
    """The count reads the kept levels (not every expert's level again) while they are current: a kept row that said
    otherwise would be believed; once a write marks its ДОУ's stage, the count is computed from the experts' levels."""
    db = loaded_form
    with store.transaction(db) as session:
        campaign = engine.definition(session, None)
        key = {"campaign_id": campaign.id, "stage_id": "review1", "institution_id": "2", "indicator_id": "1.1"}
        session.execute(insert(table(ReviewLevelRow)), [{**key, "expert_id": e, "level": lv} for e, lv in (("e15", "1"), ("e40", "3"))])
    keep_all(db, campaign)
    with store.dry_run(db) as session:
        assert finals.awaiting_settlement(session, campaign) == {"review1": 1, "review2": 0}
    kept = table(FinalLevelRow)
    with store.transaction(db) as session:  # not a write the triggers watch: the kept row now says the experts agree
        session.execute(update(kept).where(*(kept.c[k] == v for k, v in key.items())).values(high=kept.c.low))
    with store.dry_run(db) as session:
        assert finals.awaiting_settlement(session, campaign) == {"review1": 0, "review2": 0}
        assert settle.awaiting(session, campaign) == []  # the coordinator's list reads the same keys as the count
    with store.transaction(db) as session:  # a write of another ДОУ's level marks its stage: nothing kept is read
        session.execute(insert(table(ReviewLevelRow)).values(**{**key, "institution_id": "5"}, expert_id="e62", level="2"))
    with store.dry_run(db) as session:
        assert finals.awaiting_settlement(session, campaign) == {"review1": 1, "review2": 0}
        assert settle.awaiting(session, campaign) == [("review1", "2", 1)]


# -- the coordinator's card and home on the portal ------------------------------------------------------------------


@pytest.fixture
def portal(formed: Cli):
    """tests/test_web.py's portal at 04.12.2021 10:00, the coordinator signed in."""
    made = Portal(formed.db_url).at("2021-12-04 10:00")
    sign_in_with_password(made, formed)
    yield made
    made.db.dispose()


def test_the_card_lists_the_disputes_and_settles_one(portal: Portal, formed: Cli):
    first, second = experts_of(formed, "5")
    home = portal.client.get("/coordinator")
    assert home.status_code == 200
    assert re.search(r'id="awaiting-settlement">[^<]*ждут согласования: «Первичная экспертиза» — 2; «Вторичная экспертиза» — 0', home.text)
    assert '<a href="/coordinator/dou/5#settle-review1">ДОУ 5</a> (Первичная экспертиза, 2).' in home.text
    card = portal.client.get("/coordinator/dou/5")
    assert card.status_code == 200 and "Расхождения экспертов" in card.text
    section = card.text[card.text.index('id="settle-review1"'):card.text.index('id="settle-review2"')]
    assert "Ждут согласования: 2." in section
    assert "1.1 Развивающая предметно-пространственная среда" in section and "2.1 " in section and "1.2 " not in section
    assert f"{name(first)}: уровень 2 (Уровень выше базового) — «фото центров не открываются»" in section
    assert f"{name(second)}: уровень 3 (Уровень хорошего качества) — «среда насыщенная»" in section
    assert "Итоговый уровень сейчас: 2 (Уровень выше базового)" in section  # `settle: lower`
    assert 'name="action" value="settle"' in section and '<label for="settle-level-review1-1.1">' in section

    csrf = portal.csrf(card.text)
    no_reason = portal.client.post("/coordinator/dou/5", data={"csrf": csrf, "action": "settle", "stage": "review1", "indicator": "1.1",
                                                               "level": "3", "reason": ""})
    assert no_reason.status_code == 400 and "укажите причину" in no_reason.text
    agreed = portal.client.post("/coordinator/dou/5", data={"csrf": csrf, "action": "settle", "stage": "review1", "indicator": "1.2",
                                                            "level": "3", "reason": "x"})
    assert agreed.status_code == 409 and "эксперты согласны по показателю 1.2" in agreed.text
    forged = portal.client.post("/coordinator/dou/5", data={"csrf": "1.forged", "action": "settle", "stage": "review1", "indicator": "1.1",
                                                            "level": "3", "reason": "x"})
    assert forged.status_code == 403
    assert _rows(formed.db_url, SettlementRow) == []

    done = portal.client.post("/coordinator/dou/5", data={"csrf": csrf, "action": "settle", "stage": "review1", "indicator": "1.1",
                                                          "level": "3", "reason": "среда подтверждена"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/coordinator/dou/5?ok=settled#settle-review1"
    after = portal.client.get(done.headers["location"])
    assert "Уровень показателя согласован" in after.text
    section = after.text[after.text.index('id="settle-review1"'):after.text.index('id="settle-review2"')]
    assert "Ждут согласования: 1." in section
    settled = section[section.index('id="settled-review1-1.1"'):]
    assert "3 (Уровень хорошего качества)" in settled and "координатор (портал), 04.12.2021 10:00" in settled and "среда подтверждена" in settled
    assert next(r for r in formed.json("history", "5") if r["action"] == "settle")["by"] == "coordinator:web"
    assert re.search(r"ждут согласования: «Первичная экспертиза» — 1;", portal.client.get("/coordinator").text)


def test_the_card_of_a_campaign_reviewed_per_area_has_no_disputes_section(tomsk: Cli):
    made = Portal(tomsk.db_url).at("2021-12-04 10:00")
    sign_in_with_password(made, tomsk)
    try:
        assert "Расхождения экспертов" not in made.client.get("/coordinator/dou/5").text
        assert "awaiting-settlement" not in made.client.get("/coordinator").text
    finally:
        made.db.dispose()


# -- cost: bounded statements whatever the roster --------------------------------------------------------------------


def _costs(db_url: str, folder: Path, n: int) -> dict[str, int]:
    campaign = spec.load(form_file(folder, n, name="settle"))
    db = store.connect(db_url)
    try:
        with store.transaction(db) as session:
            engine.load(session, campaign, at("2021-11-10 09:00"))
        seen: dict[str, int] = {}
        with store.transaction(db) as session:  # seeded review rows of ДОУ 2 by its two experts, who differ on 1.1 and 1.2
            for expert, first in ((f"e{n}-1", "2"), (f"e{n}-2", "3")):
                key = {"campaign_id": campaign.id, "stage_id": "review1", "institution_id": "2", "expert_id": expert}
                session.execute(insert(table(ReviewRow)).values(**key, at=at("2021-12-03 10:00"), levels="{}", recommendations=""))
                session.execute(insert(table(ReviewLevelRow)), [{**key, "indicator_id": i, "level": first if i in ("1.1", "1.2") else "2"}
                                                                for i in INDICATORS])
        now = at("2021-12-04 10:00")
        with counting_statements(db) as statements, store.transaction(db, actor="coordinator:cli") as session:
            settle.settle(session, campaign.id, "2", "review1", "1.1", "3", "согласовано", now)
        seen["settle"] = len(statements)
        with counting_statements(db) as statements, store.transaction(db, actor="coordinator:cli") as session:
            settle.settle(session, campaign.id, "2", "review1", "1.1", "2", "изменено", now)
        seen["change"] = len(statements)
        with store.dry_run(db) as session:
            stored = engine.definition(session, campaign.id)
        with counting_statements(db) as statements, store.dry_run(db) as session:
            settle.settlements(session, stored, "2")
        seen["card"] = len(statements)
        with counting_statements(db) as statements, store.dry_run(db) as session:
            finals.awaiting_settlement(session, stored)
        seen["count"] = len(statements)
        with counting_statements(db) as statements, store.dry_run(db) as session:
            assert settle.awaiting(session, stored) == [("review1", "2", 1)]
        seen["home list"] = len(statements)
        with pytest.raises(DqflowError):
            with store.transaction(db) as session:
                settle.settle(session, campaign.id, "2", "review1", "2.1", "3", "x", now)
        return seen
    finally:
        db.dispose()


def test_statements_do_not_grow_with_the_roster(db_url: str, tmp_path: Path):
    small, large = _costs(db_url, tmp_path, 15), _costs(db_url, tmp_path, 1500)
    assert small == large, (small, large)
    # a settlement recomputes its ДОУ's kept final levels (`finals.keep`): four statements more where they are kept
    assert small["settle"] <= 12 and small["change"] <= 12 and small["card"] <= 4 and small["count"] <= 2 and small["home list"] <= 2, small
