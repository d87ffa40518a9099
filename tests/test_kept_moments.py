"""A ДОУ's page is kept per place of `now` among the moments the rules compare `now` with (`web.snapshots.moments`,
made of `rules.MOMENTS`): two `now`s in the same place must give the same page and the same statuses, or a kept page
would be served stale past a boundary. These tests tie the moments to the rules, so a rule that starts comparing `now`
with another time fails here until `rules.MOMENTS` names it:

- between two consecutive moments (and at either end, a microsecond from each), the page a portal keeping nothing
  renders (cut at its per-request slots, as it would be kept) and `rules.statuses_at` of the ДОУ's rows are the same
  — at every interval's ends for every ДОУ, and at random `now`s inside (hypothesis);
- every time the page's reading and rendering compare `now` with is one of the moments (a `now` that notes what it is
  compared with).

On SQLite and PostgreSQL; the ДОУ are in different states: handed in, extended, excused, reviewed and released, none.
"""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import complete
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_page_cost import campaign_file

from dqflow import engine, store
from dqflow.calendar import UTC, parse_local
from dqflow.campaign import spec
from dqflow.engine import experts, rules, workspace
from dqflow.engine import form as entry_form
from dqflow.web import create_app, snapshots

US = timedelta(microseconds=1)
SHOWN = ("2", "3", "4", "5", "6")  # handed in and reviewed; extended; excused; handed in late; nothing


class World:
    """A campaign of 15 ДОУ acted on through the engine, and a portal over it that keeps nothing."""

    def __init__(self, db, folder: Path, forms: bool):
        path = campaign_file(folder, 15)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for stage in data["stages"]:
            if stage["id"] in ("fill-form", "refill", "review1"):
                stage["grace"] = "2d"  # due and lock apart: a moment dropped from either is missed
                stage["form"] = forms and stage["id"] != "review1"  # the monitoring form: the page asks `form.current_stage` too
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        campaign = spec.load(path)
        self.id, self.tz, self.db = campaign.id, campaign.tz, db
        self.act(lambda s: engine.load(s, campaign, self.at("2021-11-18 09:00")))
        self.act(lambda s: engine.reconcile(s, self.id, self.at("2021-11-25 00:05")))  # list 1 drawn
        self.hand_in("2", "2021-11-26 10:00", forms)
        self.act(lambda s: engine.extend(s, self.id, "3", "fill-form", self.at("2021-12-10 18:00"), "болезнь", self.at("2021-11-26 10:00")))
        self.act(lambda s: engine.excuse(s, self.id, "4", "refill", "ремонт", self.at("2021-11-26 10:00")))
        self.hand_in("5", "2021-12-01 09:00", forms)  # late: past due, in the grace period
        with store.dry_run(db) as session:
            expert = experts.stored(session, self.id, "list1")["2"][0]
        levels = {i: "2" for i in campaign.indicators} if forms else complete()
        entry = experts.ReviewEntry("2", "review1", expert, levels, "Добавить фотоотчёт")
        self.act(lambda s: engine.review_many(s, self.id, [entry], self.at("2021-12-02 12:00")))
        self.act(lambda s: engine.send_recommendations(s, self.id, "review1", self.at("2021-12-02 12:00")))
        self.now = self.at("2021-11-26 10:00")
        self.app = create_app(db, self.id, lambda: self.now, lambda: datetime.now(UTC))
        self.portal = self.app.state.portal
        self.portal.kept = None  # every page rendered afresh
        with store.dry_run(db) as session:
            self.campaign = engine.definition(session, self.id)
        self.moments = {i: self.page(i, self.at("2021-11-26 10:00"))[2] for i in SHOWN}

    def at(self, text: str) -> datetime:
        return parse_local(text, self.tz)

    def act(self, do) -> None:
        with store.transaction(self.db) as session:
            do(session)

    def hand_in(self, institution: str, when: str, forms: bool) -> None:
        url = f"https://dou{institution}.example.org/a"
        if forms:
            for indicator in self.required():
                self.act(lambda s: entry_form.save(s, self.id, institution, "fill-form", indicator, self.at(when), links=[(url, None)]))
            self.act(lambda s: engine.submit(s, self.id, institution, "fill-form", self.at(when)))
        else:
            self.act(lambda s: engine.submit(s, self.id, institution, "fill-form", self.at(when), (url,)))

    def required(self) -> list[str]:
        with store.dry_run(self.db) as session:
            campaign = engine.definition(session, self.id)
        return [i for i, (_, ind) in campaign.indicators.items() if ind.evidence != "optional"]

    def page(self, institution: str, now: datetime) -> tuple[tuple[bytes | int, ...], dict[str, str], tuple[datetime, ...]]:
        """The ДОУ's page at `now` as a portal keeping nothing renders it, cut at its slots (what would be kept); its
        rows' statuses at `now` (`rules.statuses_at`); its moments (`snapshots.moments`)."""
        with store.dry_run(self.db) as session:
            read = self.portal.personal_read(session, "institution", institution, now)
            parts = self.portal.page_parts("institution.html", now, read)
        desk = read.desk
        assert isinstance(desk, workspace.InstitutionDesk)
        rows = {d.stage.id: d.progress for d in desk.stages}
        return parts, rules.statuses_at(rows, self.campaign.stages, now), snapshots.moments(read.campaign, rows.values())

    def interval(self, institution: str, k: int) -> tuple[datetime, datetime]:
        """The `k`-th interval between the ДОУ's consecutive moments (0: before the first, len: after the last, ending
        before the links expire), without its ends."""
        found = self.moments[institution]
        lo = found[k - 1] if k > 0 else found[0] - timedelta(days=30)
        hi = found[k] if k < len(found) else found[-1] + timedelta(days=30)
        return lo, hi


@pytest.fixture(params=[False, True], ids=["links", "forms"])
def world(request, db_url: str, tmp_path: Path):
    db = store.connect(db_url)
    yield World(db, tmp_path, request.param)
    db.dispose()


def same_state(world: World, institution: str, one: datetime, other: datetime) -> None:
    moments = world.moments[institution]
    assert snapshots.place(moments, one) == snapshots.place(moments, other)  # the key says: the same state
    page, statuses, found = world.page(institution, one)
    page_again, statuses_again, found_again = world.page(institution, other)
    assert found == found_again == moments
    assert statuses == statuses_again, (institution, one, other)
    assert page == page_again, (institution, one, other)


def test_the_page_and_statuses_hold_between_every_two_consecutive_moments(world: World):
    for institution in SHOWN:
        assert len(world.moments[institution]) > 10
        for k in range(len(world.moments[institution]) + 1):
            lo, hi = world.interval(institution, k)
            same_state(world, institution, lo + US, hi - US)


def test_the_page_and_statuses_hold_at_any_now_between_two_moments(world: World):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(SHOWN), st.data())
    def holds(institution: str, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, len(world.moments[institution])), label="interval")
        lo, hi = world.interval(institution, k)
        span = (hi - lo) // US
        now = lo + US * data.draw(st.integers(1, span - 1), label="µs after its start")
        same_state(world, institution, lo + US, now)
        same_state(world, institution, now, hi - US)

    holds()


class Noting(datetime):
    """A `now` that notes every time it is compared with (either side: a subclass's reflected comparison goes first)."""

    compared: set[datetime] = set()

    def _note(self, other: object) -> None:
        if isinstance(other, datetime) and not isinstance(other, Noting):
            Noting.compared.add(other)

    def __lt__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__lt__(other)

    def __le__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__le__(other)

    def __gt__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__gt__(other)

    def __ge__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__ge__(other)

    def __eq__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__eq__(other)

    def __ne__(self, other):  # type: ignore[no-untyped-def]
        self._note(other)
        return super().__ne__(other)

    __hash__ = datetime.__hash__


def test_every_time_the_page_compares_now_with_is_a_moment(world: World):
    for institution in SHOWN:
        moments = set(world.moments[institution])
        for when in sorted(moments) + [world.at("2021-11-01 12:00"), world.at("2021-12-03 12:00"), world.at("2022-01-10 12:00")]:
            Noting.compared = set()
            world.page(institution, Noting.fromtimestamp(when.timestamp(), UTC))
            assert Noting.compared, "the `now` noted no comparison"
            assert Noting.compared <= moments, (institution, when, sorted(Noting.compared - moments))
