"""The coordinator's home's late lists (who is late: the first ones and how many; «нет материалов для экспертизы») and the
stages' counts of the home and the board, kept per state of each ДОУ (`web.snapshots.KeptLate`), are never stale: after
a hand-in, an extension, an excuse, a lock passing with no tick, an extended lock passing with no tick, an expert's
review, an amendment moving a deadline, withdrawing a ДОУ and reordering the roster, and a tick, every page of the home
and the board is byte for byte what a portal that keeps nothing makes (its late lists asked of `late.first` and
`late.without_materials`, its counts of `engine.status`), and the kept lists, whole, are what `late.who`, `late.count`
and `late.without_materials` answer, their statuses summed what `engine.status` counts, for the same database and
`now` — on SQLite and on PostgreSQL.

Each step changes one thing only, so that dropping a part of the kept lists' key (`snapshots.late_epoch`: the definition's
digest, the boundaries passed, the extended locks passed; the ДОУ's audit count) fails the step that needs it.
"""

from pathlib import Path

import pytest
import yaml

import test_kept_page
from conftest import complete
from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.engine import amend, experts, late
from dqflow.web import board, coordinator, snapshots
from test_board_rows import Two


class Home(Two):
    def check(self, step: str) -> str:
        """Both portals' pages equal (`Two.pages`), and the kept lists, whole, as `late` answers them; the pages' text."""
        try:
            text = self.pages()
            kept = self.apps[0].state.portal.snapshots.late
            with store.dry_run(self.db) as session:
                campaign = engine.definition(session, self.id)
                who = late.who(session, campaign, self.now)
                assert late.count(session, campaign, self.now) == len(who) == len(kept.late)
                assert late.named(session, campaign, kept.late) == who
                assert [(inst, stage_id) for *_, inst, stage_id in kept.nothing] == late.without_materials(session, campaign, self.now)
                counted = engine.status(session, self.id, self.now, counts=kept.by_stage).stages  # the kept statuses, summed
                assert [s.counts for s in counted] == [s.counts for s in engine.status(session, self.id, self.now).stages]
        except AssertionError as exc:
            raise AssertionError(f"after {step}: {exc}") from exc
        return text

    def amend(self, change) -> None:
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        change(data)
        self.path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        self.act(lambda s: amend.apply(s, spec.load(self.path), self.now, "поправка", force=True))

    def move(self, when: str) -> None:
        self.now = self.at(when)
        self.sign_in()


def with_grace(folder: Path, n: int) -> Path:
    """The campaign of `Loaded` with a day's grace after fill-form's and review1's due: late while still open."""
    path = CAMPAIGN_FILE(folder, n)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for stage in data["stages"]:
        if stage["id"] in ("fill-form", "review1"):
            stage["grace"] = "1d"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


CAMPAIGN_FILE = test_kept_page.campaign_file


@pytest.mark.parametrize("afresh", [snapshots.AFRESH, -1])
def test_the_homes_late_lists_kept_per_dou_state_equal_those_asked_afresh_at_every_change(db_url: str, tmp_path: Path,
                                                                                         monkeypatch: pytest.MonkeyPatch, afresh: int):
    """With the ДОУ that changed said in Python (`rules.statuses_at`) and, every ДОУ found afresh at every state, in SQL."""
    monkeypatch.setattr(snapshots, "AFRESH", afresh)
    monkeypatch.setattr(test_kept_page, "campaign_file", with_grace)
    monkeypatch.setattr(board, "PAGE", 10)
    monkeypatch.setattr(coordinator, "LATE_SHOWN", 4)  # the first 4 shown, and how many: the list's order matters
    db = store.connect(db_url)
    home = Home(db, tmp_path)
    try:
        for inst in ("1", "2", "3"):
            home.act(lambda s: engine.submit(s, home.id, inst, "fill-form", home.now, (f"https://dou{inst}.example.org/a",)))
        home.check("before any due")
        assert not home.apps[0].state.portal.snapshots.late.late
        home.move("2021-12-01 12:00")  # fill-form past due, in its grace: the others overdue, by time alone
        home.check("past due, no tick")
        assert [row[5] for row in home.apps[0].state.portal.snapshots.late.late] == ["open"] * 12

        home.act(lambda s: engine.submit(s, home.id, "4", "fill-form", home.now, ("https://dou4.example.org/a",)))
        home.check("a late hand-in")
        home.act(lambda s: engine.extend(s, home.id, "5", "fill-form", home.at("2021-12-03 18:00"), "болезнь", home.now))
        home.check("an extension")
        home.act(lambda s: engine.excuse(s, home.id, "6", "fill-form", "карантин", home.now))
        home.check("an excuse")
        assert {row[3] for row in home.apps[0].state.portal.snapshots.late.late} == {str(i) for i in range(7, 16)}

        with store.dry_run(db) as session:
            assigned = experts.stored(session, home.id, "list1")
        home.act(lambda s: engine.review(s, home.id, "1", "review1", assigned["1"][0], complete(), "", home.now))
        home.check("a review, not yet due")

        home.move("2021-12-02 12:00")  # fill-form locked, no tick: missed; their reviews have nothing to review
        home.check("a lock passed, no tick")
        kept = home.apps[0].state.portal.snapshots.late
        assert {row[5] for row in kept.late} == {"missed"} and len(kept.nothing) == 10  # 6 excused: nothing either

        home.move("2021-12-03 20:00")  # ДОУ 5's extended lock passed, no tick: missed, and nothing to review
        home.check("an extended lock passed, no tick")
        assert ("5", "review1") in [(row[2], row[3]) for row in home.apps[0].state.portal.snapshots.late.nothing]

        home.move("2021-12-06 12:00")  # review1 past due, in its grace: the experts who have not reported are named
        home.check("review1 past due, no tick")
        silent = [row for row in home.apps[0].state.portal.snapshots.late.late if row[4] == "review1"]
        assert {row[3] for row in silent} == {"1", "2", "3", "4"}
        home.act(lambda s: engine.review(s, home.id, "2", "review1", assigned["2"][1], complete(), "", home.now))
        page = home.check("a review in the grace period")
        assert "Эксперт" in page

        def move_review(data) -> None:  # review1's deadline a day earlier: its lock passed, the silent ones missed it
            next(s for s in data["stages"] if s["id"] == "review1")["due"] = "2021-12-04"
        home.amend(move_review)
        home.check("an amendment moving a deadline")
        assert {row[5] for row in home.apps[0].state.portal.snapshots.late.late if row[4] == "review1"} == {"missed"}

        def withdraw(data) -> None:  # ДОУ 15 withdrawn
            roster = (tmp_path / "roster-15.csv").read_text(encoding="utf-8").splitlines()
            (tmp_path / "roster-14.csv").write_text("\n".join(r for r in roster if not r.startswith("15,")) + "\n", encoding="utf-8")
            data["institutions"] = {"file": "roster-14.csv"}
        home.amend(withdraw)
        home.check("an amendment withdrawing a ДОУ")

        def reorder(data) -> None:  # the roster's order reversed: ties of due and stage go by the roster
            rows = (tmp_path / "roster-14.csv").read_text(encoding="utf-8").splitlines()
            (tmp_path / "roster-r.csv").write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n", encoding="utf-8")
            data["institutions"] = {"file": "roster-r.csv"}
        home.amend(reorder)
        home.check("an amendment reordering the roster")

        home.act(lambda s: engine.reconcile(s, home.id, home.now))
        home.check("a tick")
    finally:
        for client in home.clients:
            client.close()
        db.dispose()
