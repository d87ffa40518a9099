"""The ДОУ changed since a state, read from the audit rows past the last id read (`web.changes.Changes`): a session
that sees an older state than the rows already read never keeps a row or a late list under a newer ДОУ's version (on
SQLite a read transaction keeps the snapshot it began with), and more audit rows at once than one read takes starts
everything afresh, never skipping a ДОУ — on SQLite and on PostgreSQL.
"""

from pathlib import Path

import pytest
from markupsafe import Markup

from dqflow import engine, store
from dqflow.engine import late
from dqflow.web import board, changes, snapshots
from test_kept_page import Loaded


def _grid(kept: snapshots.KeptRows, db, loaded: Loaded, session=None, ids: str = "1234") -> dict[str, str]:
    """The board's rows of these ДОУ as `board.page_rows` makes them with `kept`, in `session` (or a new one)."""
    def made(s) -> dict[str, str]:
        campaign = engine.definition(s, loaded.id)
        shown = [i for i in campaign.institutions if i.id in ids]
        rows = board.page_rows(s, campaign, loaded.now, shown, "board", kept, ("epoch",),
                               lambda i, found: Markup(f"{i.id}:{','.join(found)}"))
        return {i.id: str(row) for i, row in zip(shown, rows)}

    if session is not None:
        return made(session)
    with store.dry_run(db) as fresh:
        return made(fresh)


def test_a_row_read_by_a_session_older_than_the_audit_rows_read_is_never_kept(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    loaded = Loaded(db, tmp_path)
    kept = snapshots.KeptRows()
    try:
        before = _grid(kept, db, loaded)
        with store.dry_run(db) as older:
            _grid(kept, db, loaded, older)  # this session's state read (its snapshot, on SQLite)
            loaded.act(lambda s: engine.submit(s, loaded.id, "2", "fill-form", loaded.now, ("https://dou2.example.org/x",)))
            assert _grid(kept, db, loaded, ids="1") == {"1": before["1"]}  # a newer session reads the hand-in's audit row …
            seen = _grid(kept, db, loaded, older)  # … the older one makes ДОУ 2's row of what it sees …
            assert seen == before or db.dialect.name != "sqlite"  # (on PostgreSQL each statement sees the latest commit)
        after = _grid(kept, db, loaded)
        assert after["2"] != before["2"] and after["1"] == before["1"]  # … and kept none of it under the new version
        assert _grid(kept, db, loaded) == after
    finally:
        db.dispose()


def test_more_audit_rows_than_one_read_takes_find_every_dou_afresh(db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    loaded = Loaded(db, tmp_path)
    kept = snapshots.KeptLate(changes=changes.Changes(read=3))  # a read of 3 rows at most: 4 hand-ins overflow it

    def standing() -> snapshots.Standing:
        with store.dry_run(db) as session:
            campaign = engine.definition(session, loaded.id)
            found = kept.standing(session, campaign, loaded.now, ("epoch",))
            assert late.named(session, campaign, kept.late) == late.who(session, campaign, loaded.now)
            counted = engine.status(session, loaded.id, loaded.now, counts=kept.by_stage).stages  # the kept statuses, summed
            assert [s.counts for s in counted] == [s.counts for s in engine.status(session, loaded.id, loaded.now).stages]
            return found

    def hand_in(inst: str) -> None:
        loaded.act(lambda s: engine.submit(s, loaded.id, inst, "fill-form", loaded.now, (f"https://dou{inst}.example.org/x",)))

    try:
        standing()
        generation = kept.changes.generation
        hand_in("2")
        standing()  # one ДОУ read again, in the same generation
        assert kept.changes.generation == generation
        for inst in ("3", "4", "5", "6"):
            hand_in(inst)
        standing()  # more rows than a read takes: a new generation, every ДОУ found afresh
        assert kept.changes.generation == generation + 1
        hand_in("7")
        standing()  # and on from there
        assert kept.changes.generation == generation + 1
    finally:
        db.dispose()


@pytest.mark.parametrize("seen", [0, 10])
def test_changes_since_a_dropped_entry_are_not_known(seen: int):
    """Entries dropped from the log (`Changes.floor`) or another generation: `since` says it does not know."""
    log = changes.Changes(log=4)
    log.generation, log.base, log.last = 1, 0, 0
    log.ids, log.names, log.floor = [1, 2, 3, 4, 5, 6], list("abcdef"), 0
    assert log.since(1, seen, 6) == (set("abcdef") if seen == 0 else set())
    log.ids, log.names, log.floor = [4, 5, 6], list("def"), 3
    assert log.since(1, 2, 6) is None and log.since(2, 4, 6) is None and log.since(1, 4, 6) == {"e", "f"}
