"""Rules live in the engine: what `review --import` and `recommendations send` enforce is what the
engine enforces for any caller (the portal will call the same functions), and an import costs one
reconcile, not one per row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import Cli, complete, counting_statements, hand_in_all, levels, levels_cell, query
from dqflow import engine, store
from dqflow.engine import experts
from dqflow.engine import reminders
from dqflow.calendar import parse_local, zone
from dqflow.errors import DqflowError, NotAllowed, NotFound

REVIEW1_INSIDE = "2021-12-02 10:00"  # review1 runs 01.12 – 05.12 (Asia/Tomsk)
HEADER = ["institution", "stage", "expert", "levels", "recommendations"]
TZ = zone("Asia/Tomsk")


def at(text: str):
    return parse_local(text, TZ)


def drawn(dq: Cli) -> list[tuple[str, str]]:
    """List 1 drawn (it draws itself when its stage opens): its (ДОУ, expert) pairs in roster order."""
    dq.ok("tick", "--now", "2021-11-25 00:05")
    hand_in_all(dq)  # the experts review what was handed in
    shown = dq.json("experts", "show", "list1")
    return [(a["institution"], e) for a in shown["assignments"] for e in a["experts"]]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def table_counts(db_url: str) -> dict[str, int]:
    return {t: query(db_url, f"SELECT count(*) FROM {t}")[0][0] for t in ("review", "audit", "progress", "outbox")}


def progress_status(db_url: str, institution: str, stage: str) -> str:
    return query(db_url, f"SELECT status FROM progress WHERE institution_id = '{institution}' AND stage_id = '{stage}'")[0][0]


# -- review --import: one reconcile, rules row by row -----------------------------------------


def test_a_review_import_reconciles_once_whatever_its_number_of_rows(tomsk: Cli, tmp_path: Path):
    """Statements for an import of 10 rows and of 100: the difference is a small constant per row
    (the reviews and their audit rows are inserted), never a reconcile (dozens of statements) per row."""
    pairs = drawn(tomsk)
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)  # the campaign is up to date: what follows is the import's own cost
    with counting_statements() as reconcile:
        tomsk.ok("tick", "--now", REVIEW1_INSIDE)

    def rows(n: int) -> list[list[str]]:  # past the list's length the same experts send a new version
        return [[inst, "review1", expert, levels_cell(f"conditions={1 + k % 4}"), f"Рекомендация {k}"]
                for k, (inst, expert) in ((k, pairs[k % len(pairs)]) for k in range(n))]

    counts = {}
    for n in (10, 100):
        dq = Cli(f"sqlite:///{tmp_path / f'{n}.db'}")
        dq.ok("load", str(Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"), "--now", "2021-11-10 09:00")
        drawn(dq)
        dq.ok("tick", "--now", REVIEW1_INSIDE)
        reviews = write_csv(tmp_path / f"{n}.csv", rows(n))
        with counting_statements() as seen:
            out = dq.ok("review", "--import", str(reviews), "--now", REVIEW1_INSIDE)
        assert out.count("записана") == n
        counts[n] = len(seen)
        assert table_counts(dq.db_url)["review"] == min(n, len(pairs))
    per_row = (counts[100] - counts[10]) / 90
    print(f"statements: one reconcile {len(reconcile)}, import of 10 rows {counts[10]}, of 100 rows {counts[100]}, "
          f"{per_row:.2f} per row")
    assert len(reconcile) >= 10  # what a reconcile per row would add to each row
    assert per_row <= 2, counts  # the ДОУ's progress row read once, and its completion written
    assert counts[10] < 3 * len(reconcile), counts  # the import itself: one reconcile and a few reads and writes


def test_a_bad_row_in_the_middle_of_an_import_writes_nothing_and_is_named_by_its_line(tomsk: Cli, tmp_path: Path):
    pairs = drawn(tomsk)
    assigned = {}
    for inst, expert in pairs:
        assigned.setdefault(inst, []).append(expert)
    stranger = next(e for _, e in pairs if e not in assigned["6"])
    good = [[inst, "review1", e, levels_cell("conditions=2"), "Дополнить ссылки."] for inst, e in pairs[:6]]
    tomsk.ok("tick", "--now", REVIEW1_INSIDE)
    before = table_counts(tomsk.db_url)

    cases = [  # (bad row, what the refusal says); each goes on CSV line 5 (the header is line 1)
        (["6", "review1", stranger, levels_cell("conditions=1"), ""], "не назначен"),
        (["6", "fill-form", assigned["6"][0], "", ""], "а не эксперты"),
        (["6", "no-such-stage", assigned["6"][0], "", ""], "этапа «no-such-stage» в кампании нет"),
        (["999", "review1", assigned["6"][0], "", ""], "ДОУ «999» в кампании нет"),
        (["6", "list1", assigned["6"][0], "", ""], "этап «list1» ведёт координатор"),
    ]
    for n, (bad, says) in enumerate(cases):
        reviews = write_csv(tmp_path / f"bad{n}.csv", good[:3] + [bad] + good[3:])
        result = tomsk("review", "--import", str(reviews), "--now", REVIEW1_INSIDE)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert result.output.startswith(f"ошибка: {reviews}:5: "), result.output
        assert says in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert table_counts(tomsk.db_url) == before  # all or nothing

    # the window: after review1 locked, only the ДОУ with an extension may still be reviewed
    tomsk.ok("extend", pairs[0][0], "--stage", "review1", "--until", "2021-12-08", "--reason", "эксперт на больничном",
             "--now", "2021-12-05 12:00")
    late = [[pairs[0][0], "review1", pairs[0][1], levels_cell("conditions=3"), ""],
            [pairs[2][0], "review1", pairs[2][1], levels_cell("conditions=3"), ""]]
    assert pairs[2][0] != pairs[0][0]
    before = table_counts(tomsk.db_url)
    result = tomsk("review", "--import", str(write_csv(tmp_path / "late.csv", late)), "--now", "2021-12-07 10:00")
    assert result.exit_code == 1 and f"late.csv:3: ДОУ {pairs[2][0]}, этап «Первичная экспертиза»: приём закрыт" in result.output, result.output
    assert table_counts(tomsk.db_url) == before
    out = tomsk.ok("review", "--import", str(write_csv(tmp_path / "extended.csv", late[:1])), "--now", "2021-12-07 10:00")
    assert "записана" in out
    assert table_counts(tomsk.db_url)["review"] == before["review"] + 1


def test_an_import_says_each_row_as_if_recorded_one_after_another(tomsk: Cli, tmp_path: Path):
    """The ДОУ's status after each row, and a second version of a review in the same file is an update."""
    pairs = drawn(tomsk)
    (inst, first), (same, second) = pairs[0], pairs[1]
    assert inst == same
    reviews = write_csv(tmp_path / "r.csv", [[inst, "review1", first, levels_cell("conditions=1"), "Первая версия."],
                                             [inst, "review1", second, levels_cell("conditions=2"), ""],
                                             [inst, "review1", first, levels_cell("conditions=3"), "Вторая версия."]])
    out = tomsk.ok("review", "--import", str(reviews), "--now", REVIEW1_INSIDE).splitlines()
    assert [line.rsplit(": ", 1)[1] for line in out] == ["открыт", "выполнено", "выполнено"], out
    assert progress_status(tomsk.db_url, inst, "review1") == "done"
    stored = query(tomsk.db_url, f"SELECT levels, recommendations FROM review WHERE institution_id = '{inst}' "
                                 f"AND expert_id = '{first}'")[0]
    actions = [r[0] for r in query(tomsk.db_url, f"SELECT action FROM audit WHERE institution_id = '{inst}' "
                                                 "AND stage_id = 'review1' AND action LIKE 'review%' OR "
                                                 f"(institution_id = '{inst}' AND action = 'submit' AND stage_id = 'review1') "
                                                 "ORDER BY id")]
    assert json.loads(stored[0]) == {"conditions": "3", "guidelines": "2", "parents": "2", "health": "2", "special-needs": "2"} and stored[1] == "Вторая версия."
    assert actions == ["review", "review", "submit", "review-update"]


def test_the_engine_checks_levels_and_areas_whoever_parsed_them(tomsk: Cli):
    """The portal hands the engine a dict, not AREA=LEVEL text: the engine itself refuses what the campaign lacks."""
    pairs = drawn(tomsk)
    inst, expert = pairs[0]
    db = store.connect(tomsk.db_url)
    for levels, says in (({"conditions": "9"}, "no level '9'"), ({"beauty": "1"}, "no area 'beauty'")):
        with pytest.raises(DqflowError) as refused, store.transaction(db) as session:
            engine.review_many(session, "tomsk-2021", [experts.ReviewEntry(inst, "review1", expert, levels, "", where="portal")],
                               at(REVIEW1_INSIDE))
        assert str(refused.value).startswith(f"portal: levels: {says}"), refused.value
    db.dispose()
    assert table_counts(tomsk.db_url)["review"] == 0


# -- recommendations send ------------------------------------------------------------------------


def test_recommendations_send_is_one_engine_call_with_its_refusals_and_an_audit_row(tomsk: Cli):
    pairs = drawn(tomsk)
    db = store.connect(tomsk.db_url)
    try:
        with pytest.raises(NotFound, match=r"'nope' is not a review stage; review stages: review1, review2"), \
                store.transaction(db) as session:
            engine.send_recommendations(session, "tomsk-2021", "nope", at(REVIEW1_INSIDE))
        with pytest.raises(NotAllowed, match=r"'fill-form' is not a review stage"), store.transaction(db) as session:
            engine.send_recommendations(session, "tomsk-2021", "fill-form", at(REVIEW1_INSIDE))
        with pytest.raises(NotAllowed, match=r"stage 'review1' is not open yet: it opens 01\.12\.2021 00:00 \(томское время, UTC\+7\)"), \
                store.transaction(db) as session:
            engine.send_recommendations(session, "tomsk-2021", "review1", at("2021-11-30 10:00"))
    finally:
        db.dispose()

    inst, expert = pairs[0]
    tomsk.ok("review", inst, "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--now", REVIEW1_INSIDE)
    out = tomsk.ok("recommendations", "send", "review1", "--now", "2021-12-03 10:00")
    assert "1 в очереди" in out
    audit = query(tomsk.db_url, "SELECT stage_id, at, recorded_at, detail FROM audit WHERE action = 'recommendations-send'")
    assert len(audit) == 1
    stage, when, recorded, detail = audit[0]
    assert stage == "review1" and json.loads(detail) == {"queued": 1}
    assert str(when).startswith("2021-12-03 03:00")  # --now 10:00 in Asia/Tomsk, stored in UTC
    assert not str(recorded).startswith("2021")  # the real clock of the command
    assert "уже" in tomsk.ok("recommendations", "send", "review1", "--now", "2021-12-03 10:05")
    assert query(tomsk.db_url, "SELECT count(*) FROM audit WHERE action = 'recommendations-send'")[0][0] == 1


def test_recommendations_sent_before_any_review_do_not_cancel_those_of_the_lock(tomsk: Cli):
    """An early 'send' with no review yet queues nothing and must not mark the stage's recommendations
    as sent: the reviews that follow still go out when the stage locks."""
    pairs = drawn(tomsk)
    assert "экспертиз ещё нет" in tomsk.ok("recommendations", "send", "review1", "--now", "2021-12-01 10:00")
    inst, expert = pairs[0]
    tomsk.ok("review", inst, "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--now", REVIEW1_INSIDE)
    tomsk.ok("tick", "--now", "2021-12-06 10:00")  # review1 locked at the end of 05.12
    queued = [r for r in json.loads(tomsk.ok("outbox", "--json")) if r["kind"] == "recommendations"]
    assert [r["institution"] for r in queued] == [inst], queued


def test_what_the_cli_did_before_the_engine_the_engine_does_for_any_caller(tomsk: Cli):
    """Recommendations are stored trimmed, as the CLI stored them, and `why` refuses an unknown stage
    in `reminders.explain` itself."""
    pairs = drawn(tomsk)
    inst, expert = pairs[0]
    db = store.connect(tomsk.db_url)
    try:
        with store.transaction(db) as session:
            engine.review(session, "tomsk-2021", inst, "review1", expert, complete("conditions=2"),
                          "\n  Дополнить ссылки.  \n\n", at(REVIEW1_INSIDE))
        with pytest.raises(NotFound, match="no stage 'nosuch'"), store.dry_run(db) as session:
            reminders.explain(session, engine.definition(session, "tomsk-2021"), "dou2@example.org", "nosuch")
    finally:
        db.dispose()
    assert query(tomsk.db_url, "SELECT recommendations FROM review") == [("Дополнить ссылки.",)]
