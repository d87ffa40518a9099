"""`board --out` counts the stages from the grid it renders (`board.counted` of `board.roster_grid`: `engine.status`'s
`counts=`), and writes each row as text (`board._line`, each combination of statuses' cells once): its pages are byte
for byte the portal's renderer of `engine.status`'s pages (`board.render`), whose counts are counted in the database —
on SQLite and on PostgreSQL, with every kind of row a count can miss: a hand-in, an excuse, an extension still open, a
stage locked by time alone (no tick), reviews of nothing, stored rows not begun, a ДОУ withdrawn and a stage added after
it (the withdrawn ДОУ has no row there: shown not begun, counted nowhere), and names the page must escape.
"""

import csv
from pathlib import Path

import pytest
import yaml
from conftest import Cli
from markupsafe import escape
from test_kept_page import Loaded
from test_page_cost import campaign_file

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.engine import amend
from dqflow.web import board

HOSTILE = {"4": 'МБДОУ "Солнышко"', "5": "Сад & школа", "6": "МБДОУ <№ 6", "7": "МБДОУ №> 7", "8": "МБДОУ им. О'Генри"}  # one each
PAGE = 10  # two pages of 15 ДОУ, the withdrawn one last on the second


def amended(loaded: Loaded, folder: Path, change, reason: str) -> None:
    """The loaded campaign's file changed by `change(data)` and applied as an amendment at the loaded clock."""
    data = yaml.safe_load(loaded.path.read_text(encoding="utf-8"))
    change(data)
    loaded.path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded.act(lambda s: amend.apply(s, spec.load(loaded.path), loaded.now, reason))


class Marked(Loaded):
    """`Loaded`'s campaign of 15 ДОУ, ДОУ 4–8 named with a character of markup each."""

    def __init__(self, db, folder: Path):  # not `Loaded.__init__`: it loads the roster as generated, ДОУ 4–8 are renamed first
        self.path = campaign_file(folder, 15)
        roster = folder / "roster-15.csv"
        with roster.open(encoding="utf-8", newline="") as handle:
            rows = [[HOSTILE.get(row[0], cell) if n and k == 1 else cell for k, cell in enumerate(row)]
                    for n, row in enumerate(csv.reader(handle))]
        with roster.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        parsed = spec.load(self.path)
        self.id, self.tz, self.db = parsed.id, parsed.tz, db
        with store.transaction(db) as session:
            engine.load(session, parsed, self.at("2021-11-18 09:00"))
        with store.transaction(db) as session:
            engine.reconcile(session, self.id, self.at("2021-11-25 00:05"))  # list 1 drawn
        self.now = self.at("2021-11-26 10:00")


def campaign(db, folder: Path) -> Marked:
    """`Marked`'s campaign at 03.12.2021 12:00, nothing reconciled since 26.11: fill-form handed in by ДОУ 1–8, ДОУ 9
    excused, ДОУ 10 extended to 10.12; ДОУ 15 withdrawn, then a stage added (ДОУ 15 has no row in it)."""
    roster = folder / "roster-15.csv"
    loaded = Marked(db, folder)
    for inst in map(str, range(1, 9)):
        loaded.act(lambda s, inst=inst: engine.submit(s, loaded.id, inst, "fill-form", loaded.now, (f"https://dou{inst}.example.org/form",)))
    loaded.act(lambda s: engine.excuse(s, loaded.id, "9", "fill-form", "ремонт", loaded.now))
    loaded.act(lambda s: engine.extend(s, loaded.id, "10", "fill-form", loaded.at("2021-12-10 18:00"), "болезнь", loaded.now))

    def withdraw(data: dict) -> None:
        data["institutions"] = {"file": "roster-14.csv"}
        (folder / "roster-14.csv").write_text("".join(line for line in roster.read_text(encoding="utf-8").splitlines(keepends=True)
                                                      if not line.startswith("15,")), encoding="utf-8")

    def add_stage(data: dict) -> None:
        extra = dict(next(s for s in data["stages"] if s["id"] == "final-fix"), id="extra-form", short="Дополнительная форма")
        data["stages"].insert(data["stages"].index(next(s for s in data["stages"] if s["id"] == "operator-submission")), extra)

    amended(loaded, folder, withdraw, "ДОУ 15 закрыт")
    amended(loaded, folder, add_stage, "добавлена форма")
    loaded.now = loaded.at("2021-12-03 12:00")  # fill-form locked by time alone, review1 open: reviews of nothing
    return loaded


@pytest.mark.parametrize("size", [PAGE, None])
def test_the_boards_pages_and_counts_are_the_portals_of_engine_status(db_url: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch, size: int | None):
    if size:
        monkeypatch.setattr(board, "PAGE", size)
    db = store.connect(db_url)
    try:
        loaded = campaign(db, tmp_path)
        out = tmp_path / "pub"
        now = "2021-12-03 12:00"
        assert Cli(db_url).ok("board", "--out", str(out), "--now", now).strip() == f"Записано: {out / 'index.html'}"
        page, total = board.PAGE, 15
        files = sorted(out.iterdir(), key=lambda f: (f.name != "index.html", len(f.name), f.name))
        assert [f.name for f in files] == [board.file_name(start, page) for start in range(0, total, page)]
        with store.dry_run(db) as session:
            campaign_ = engine.definition(session, loaded.id)
            whole = engine.status(session, loaded.id, loaded.now)
            grid = board.roster_grid(session, campaign_, loaded.now)
            counted = board.counted(campaign_, grid)
            for start, file in zip(range(0, total, page), files, strict=True):
                view = engine.status(session, loaded.id, loaded.now, institutions=True, offset=start, limit=page)
                pager = board.Pager.of(start, len(view.institutions), total, lambda at: board.file_name(at, page), page) \
                    if total > page else None
                assert file.read_text(encoding="utf-8") == board.render(view, pager=pager), file.name
    finally:
        db.dispose()
    for s in whole.stages:  # every status of every stage as `status` counts it in the database
        if s.stage.per_institution:
            assert {k: n for k, n in s.counts.items() if n} == counted[s.stage.id], s.stage.id
    by_stage = {s.stage.id: s.counts for s in whole.stages}
    fill, review, extra = by_stage["fill-form"], by_stage["review1"], by_stage["extra-form"]
    assert (fill["done"], fill["excused"], fill["missed"], fill["open"]) == (8, 2, 4, 1)  # excused: ДОУ 9 and ДОУ 15 (withdrawn)
    assert review["no-materials"] == 5 and (extra["upcoming"], extra["excused"]) == (14, 0)  # not 15: ДОУ 15 has no row there
    assert grid[-1][0] == "МБДОУ № 15" and grid[-1][1 + [s.id for s in campaign_.stages if s.per_institution].index("extra-form")] is None
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    for name in HOSTILE.values():  # each of the characters the template escapes, escaped as it escapes them
        assert f"<tr><td>{escape(name)}</td>" in text and f">{name}<" not in text, name
