"""Every face of dqflow says the same thing about every ДОУ × stage (issue 18, deliverable 2).

`status`, the справка's CSV files, the public board (its grid and its bars), the coordinator's home (its
counts, its grid and its list of who is late), the coordinator's digest, the coordinator's card of a ДОУ,
each ДОУ's and each expert's own page, and the calendars (effective due times): first the disagreements
found by hand, each as a test, then a hypothesis property over generated campaigns, acts and moments,
each example on its own SQLite file; last, the rule of who is late in its two forms and at its boundary.
"""
from __future__ import annotations

import csv
import html
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import yaml
from conftest import TOMSK, Cli, levels
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import col, select

from dqflow import engine, store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local, zone
from dqflow.delivery.digest import digest_content
from dqflow.engine import experts, late, rules
from dqflow.errors import DqflowError
from dqflow.store import ProgressRow

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from dqflow.web import create_app  # noqa: E402

TZ = zone("Asia/Tomsk")
BASE = "https://portal.example.org"


# -- reading the faces ------------------------------------------------------------------------


def spravka_csv(dq: Cli, out: Path, now: str) -> tuple[dict[tuple[str, str], str], dict[str, dict[str, int]]]:
    """`report --format csv`: institutions.csv as (ДОУ, stage) → status, stages.csv as stage → status → ДОУ."""
    dq.ok("report", "--format", "csv", "--out", str(out), "--now", now)
    with (out / "institutions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    stages = rows[0][2:]
    statuses = {(row[0], stage): row[2 + n] for row in rows[1:] for n, stage in enumerate(stages)}
    with (out / "stages.csv").open(encoding="utf-8") as handle:
        counts = {row["stage"]: {k: int(v) for k, v in row.items() if k not in ("stage", "kind", "state") and v != ""}
                  for row in csv.DictReader(handle)}
    return statuses, nonzero(counts)


def status_cli(dq: Cli, now: str) -> tuple[dict[tuple[str, str], str], dict[str, dict[str, int]]]:
    view = dq.json("status", "--institutions", "--now", now)
    statuses = {(i["id"], stage): st for i in view["institutions"] for stage, st in i["stages"].items()}
    return statuses, nonzero({s["id"]: s["counts"] for s in view["stages"]})


def nonzero(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Stage → status → ДОУ, without the zeros (and without the stages nobody is counted in)."""
    kept = {stage: {status: n for status, n in per.items() if n} for stage, per in counts.items()}
    return {stage: per for stage, per in kept.items() if per}


def section(page: str, title: str) -> str:
    """The part of a page from the heading `title` to the next h2."""
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start:end if end >= 0 else None]


LATE_ROW = re.compile(r'<tr><td>([^<]*)(?:<br><span class="note">не отчитались эксперты: ([^<]*)</span>)?</td><td>([^<]*)</td>')


def late_on_home(page: str) -> list[tuple[str, str, str]]:
    """The coordinator's «Кто опаздывает»: (ДОУ name, stage label, experts who did not report)."""
    found = section(page, "Кто опаздывает")
    return [(html.unescape(name), html.unescape(stage), html.unescape(experts or "")) for name, experts, stage in LATE_ROW.findall(found)]


class Portal:
    """The portal on the test's database, with a clock the test sets and a coordinator signed in."""

    def __init__(self, dq: Cli, now: str):
        self.dq, self.db = dq, store.connect(dq.db_url)
        self.now = parse_local(now, TZ)
        self.app = create_app(self.db, None, lambda: self.now, lambda: datetime.now(UTC))
        self.client = TestClient(self.app, base_url=BASE)

    def at(self, text: str) -> "Portal":
        self.now = parse_local(text, TZ)
        return self

    def sign_in(self, now: str) -> None:
        self.dq.env = {"DQFLOW_BASE_URL": BASE}
        path = self.dq.ok("link", "coordinator", "--now", now).splitlines()[0].removeprefix(BASE)
        page = self.client.get(path)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        assert self.client.post(path, data={"csrf": token}, follow_redirects=False).status_code == 303

    def page(self, path: str) -> str:
        got = self.client.get(path)
        assert got.status_code == 200, got.text
        return got.text

    def personal(self, role: str, subject: str) -> str:
        with store.dry_run(self.db) as session:
            campaign_id = store.campaign_ids(session)[0]
            return self.page(links.links(session, campaign_id).path(role, subject))

    def close(self) -> None:
        self.client.close()
        self.db.dispose()


@pytest.fixture
def portal(tomsk: Cli):
    made = Portal(tomsk, "2021-11-25 10:00")
    yield made
    made.close()


# -- the disagreements found by hand ------------------------------------------------------------


def test_the_spravka_of_a_campaign_never_ticked_is_brought_to_its_moment_as_status_is(tomsk: Cli, tmp_path: Path):
    """Loaded, never ticked: at 01.12.2021 fill-form is locked and every ДОУ missed it, in status and in the справка."""
    statuses, counts = spravka_csv(tomsk, tmp_path / "csv", "01.12.2021")
    shown, shown_counts = status_cli(tomsk, "01.12.2021")
    assert shown[("4", "fill-form")] == "missed" and shown[("4", "review1")] == "no-materials"  # nothing handed in: nothing to review
    assert statuses == shown
    assert counts == shown_counts and counts["fill-form"]["missed"] == 11


def test_an_extended_silent_dou_is_missed_in_the_spravka_once_its_own_lock_passed(tomsk: Cli, tmp_path: Path):
    tomsk.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "больничный", "--now", "2021-11-29")
    statuses, counts = spravka_csv(tomsk, tmp_path / "csv", "2021-12-05 12:00")
    shown, shown_counts = status_cli(tomsk, "2021-12-05 12:00")
    assert shown[("4", "fill-form")] == "missed"
    assert statuses == shown and counts == shown_counts


def test_the_coordinators_home_lists_who_missed_a_locked_stage_and_whose_experts_are_silent(tomsk: Cli, portal: Portal):
    """Ticked after the locks, nobody is merely overdue: the home said «Опаздывающих нет» while 7 ДОУ had missed
    the form and every review of review1 but one was missing."""
    for inst in ("2", "4", "5", "6"):
        tomsk.ok("submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/form", "--now", "2021-11-29 10:00")
    tomsk.ok("tick", "--now", "2021-12-01 00:05")  # list1 is drawn
    listed = [a for a in tomsk.json("experts", "show", "list1")["assignments"] if a["institution"] in ("2", "4", "5", "6")]
    first = listed[0]  # only what was handed in can be reviewed
    tomsk.ok("review", first["institution"], "--stage", "review1", "--expert", first["experts"][0], *levels("conditions=2"),
             "--now", "2021-12-02 10:00")
    tomsk.ok("tick", "--now", "2021-12-06 00:05")
    portal.at("2021-12-06 12:00").sign_in("2021-12-06 12:00")
    home = portal.page("/coordinator")
    assert "Опаздывающих нет" not in home
    late = late_on_home(home)
    names = {i["id"]: i["name"] for i in tomsk.json("status", "--institutions", "--now", "2021-12-06 12:00")["institutions"]}
    missed_form = {names[i] for i in names if i not in ("2", "4", "5", "6")}
    assert {name for name, stage, _ in late if stage == "Первичное заполнение формы"} == missed_form and len(missed_form) == 7
    reviews = {name: experts for name, stage, experts in late if stage == "Первичная экспертиза"}
    handed_in = {names[i] for i in ("2", "4", "5", "6")}
    assert set(reviews) == handed_in  # nobody's review1 is complete; the ДОУ that handed in nothing had nothing to review
    assert "Нет материалов для экспертизы" in home and all(name in home for name in missed_form)
    experts = {e["id"]: e["name"] for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"] for e in i["experts"]}
    silent = reviews[names[first["institution"]]].split(", ")
    assert silent == [experts[e] for e in first["experts"][1:]]  # the one who reported is not named
    assert reviews[names[listed[1]["institution"]]].split(", ") == [experts[e] for e in listed[1]["experts"]]


# -- the property: generated campaigns, acts and moments ---------------------------------------

START = datetime(2021, 11, 1, tzinfo=TZ)  # hour 0 of a generated campaign, local time
LEVELS = {"a": "1"}


def local(hours: float) -> datetime:
    return (START + timedelta(hours=hours)).astimezone(UTC)


def written(moment: datetime) -> str:
    """A moment as `--now` and a campaign file take it (minutes)."""
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Window:
    opens: int  # hours from START
    due: int
    grace: int  # hours; 0: the stage locks at its due time

    def yaml(self) -> str:
        grace = f", grace: {self.grace}h" if self.grace else ""
        return f'opens: "{written(local(self.opens))}", due: "{written(local(self.due))}"{grace}'

    @property
    def moments(self) -> list[int]:
        return [self.opens, self.due, self.due + self.grace]


@dataclass(frozen=True)
class Plan:
    """A generated campaign: its ДОУ (each with one expert), its stages, the acts and the moments to look at."""

    institutions: int
    form: Window  # a ДОУ's task
    draw: int  # the expert list opens (and is drawn) at this hour
    review: Window  # the experts' task, from that list
    refill: Window | None  # a second ДОУ task, or none
    acts: list[tuple[float, str, int, int, int]]  # (hour, what, which ДОУ, which stage, hours an extension gives)
    looks: list[float]  # the moments every face is asked about

    @property
    def per_institution(self) -> int:
        """Experts per ДОУ: two where the roster leaves each ДОУ two others' experts after a withdrawal."""
        return 2 if self.institutions == 4 else 1

    @property
    def ids(self) -> list[str]:
        return [f"d{n}" for n in range(1, self.institutions + 1)]

    def stages(self) -> dict[str, Window]:
        found = {"s1": self.form, "r1": self.review}
        return found | ({"s2": self.refill} if self.refill else {})

    def text(self, withdrawn: set[str] = frozenset()) -> str:
        people = "\n".join(f"  - {{id: {i}, name: ДОУ {i}, email: {i}@example.org, "
                           f"experts: [{{id: x{i}, name: Эксперт {i}, email: x{i}@example.org}}]}}"
                           for i in self.ids if i not in withdrawn)
        refill = (f"  - {{id: s2, kind: task, actor: institution, title: Повторная форма, {self.refill.yaml()}}}\n"
                  if self.refill else "")
        return f"""version: 1
campaign:
  id: faces
  title: Все лица одной кампании
  timezone: Asia/Tomsk
  coordinator: {{name: Координатор, email: coordinator@example.org}}
areas:
  - {{id: a, title: Область}}
levels:
  - {{id: "1", title: Базовый уровень}}
  - {{id: "2", title: Выше базового}}
institutions:
{people}
stages:
  - {{id: s1, kind: task, actor: institution, title: Форма, {self.form.yaml()}}}
  - {{id: l1, kind: assignment, title: Список экспертов, experts_per_institution: {self.per_institution},
      opens: "{written(local(self.draw))}", due: "{written(local(self.draw + 1))}"}}
  - {{id: r1, kind: task, actor: expert, list: l1, title: Экспертиза, {self.review.yaml()}}}
{refill}"""


def windows(earliest: int = 0):
    return st.builds(lambda opens, length, grace: Window(opens, opens + length, grace),
                     st.integers(earliest, earliest + 48), st.integers(1, 72), st.sampled_from([0, 0, 6, 24]))


@st.composite
def plans(draw) -> Plan:
    draw_at = draw(st.integers(0, 48))
    form, review = draw(windows()), draw(windows(draw_at + 2))
    refill = draw(st.none() | windows(24))
    stages = [form, review] + ([refill] if refill else [])
    edges = sorted({m for w in stages for m in w.moments})
    last = max(edges) + 24

    def moment():  # anywhere, or on a boundary: at it, a minute before or a minute after
        return st.one_of(st.integers(0, last).map(float),
                         st.builds(lambda edge, minute: edge + minute / 60, st.sampled_from(edges), st.sampled_from([-1, 0, 1])))

    n = draw(st.integers(2, 4))
    kinds = st.sampled_from(["submit", "submit", "submit", "review", "review", "extend", "excuse", "tick", "tick", "withdraw"])
    acts = draw(st.lists(st.tuples(moment(), kinds, st.integers(0, n - 1), st.integers(0, 2), st.integers(1, 72)), min_size=3, max_size=14))
    looks = [draw(moment()), last - draw(st.integers(0, 36))]  # one anywhere, one when most has happened
    return Plan(n, form, draw_at, review, refill, sorted(acts), sorted(looks))


STATUS_SPAN = r'<span class="status ([\w-]+)">'
SECTION = re.compile(r'<section class="card" id="(?:stage|dou)-([^"]+)">\s*<h[23]>[^<]*' + STATUS_SPAN)
GRID_ROW = re.compile(r'<tr><td>(?:<a href="/coordinator/dou/[^"]+">)?([^<]+)(?:</a>)?</td>'
                      r'((?:\s*<td[^>]*>' + STATUS_SPAN + r'[^<]*</span></td>)+)</tr>')
STAGE_COUNTS = re.compile(r'· ([\w-]+)</span></td>\s*<td>(.*?)</td></tr>', re.S)
BAR = re.compile(r'<strong>([^<]+)</strong> <span class="note">[^<]*? · выполнено (\d+) из (\d+)</span>')


def grid(page: str, columns: list[str], ids: dict[str, str]) -> dict[tuple[str, str], str]:
    """A table of ДОУ × stages (the board's, the coordinator's) as (ДОУ, stage) → status."""
    found = {}
    for name, cells, _ in GRID_ROW.findall(page):
        for stage, status in zip(columns, re.findall(STATUS_SPAN, cells), strict=True):
            found[(ids[html.unescape(name)], stage)] = status
    return found


class Run:
    """One generated campaign on its own SQLite file: its acts, done as people do them, and every face read back."""

    def __init__(self, plan: Plan, folder: Path):
        self.plan, self.folder = plan, folder
        self.dq = Cli(f"sqlite:///{folder / 'faces.db'}")
        self.file = folder / "faces.yaml"
        self.file.write_text(plan.text(), encoding="utf-8")
        self.dq.ok("load", str(self.file), "--now", written(local(-24)))
        self.portal = Portal(self.dq, written(local(-24)))
        self.stages = list(plan.stages())  # the per-ДОУ stages, in the campaign's order
        self.due = {(i, s): local(w.due) for i in plan.ids for s, w in plan.stages().items()}  # the effective due times
        self.withdrawn: set[str] = set()
        self.reviewed: set[tuple[str, str]] = set()  # (ДОУ, expert) of r1
        self.looked = 0

    def act(self, hour: float, what: str, k: int, j: int, give: int) -> None:
        now, inst = local(hour), self.plan.ids[k]
        stage = self.stages[j % len(self.stages)]
        if what == "withdraw":
            self.withdraw(inst, now)
            return
        try:
            with store.transaction(self.portal.db, recorded_at=datetime.now(UTC), actor="coordinator:cli") as session:
                if what == "tick":
                    engine.reconcile(session, "faces", now)
                elif what == "submit":
                    engine.submit(session, "faces", inst, "s2" if stage == "s2" else "s1", now, ("https://example.org/materials",))
                elif what == "review":
                    engine.reconcile(session, "faces", now)  # the list is drawn once its stage opened
                    assigned = experts.stored(session, "faces", "l1").get(inst, [])
                    for expert in assigned[j % max(len(assigned), 1):][:1]:
                        engine.review(session, "faces", inst, "r1", expert, LEVELS, "", now)
                        self.reviewed.add((inst, expert))
                elif what == "extend":
                    until = now + timedelta(hours=give)
                    engine.extend(session, "faces", inst, stage, until, "по болезни", now)
                    self.due[(inst, stage)] = until
                else:
                    engine.excuse(session, "faces", inst, stage, "ремонт", now)
        except DqflowError:
            return  # refused as the engine refuses anyone: nothing was written
        event(f"{what} recorded")

    def withdraw(self, inst: str, now: datetime) -> None:
        if inst in self.withdrawn or len(self.plan.ids) - len(self.withdrawn) <= self.plan.per_institution + 1:
            return  # each ДОУ keeps others' experts to review it
        self.file.write_text(self.plan.text(self.withdrawn | {inst}), encoding="utf-8")
        done = self.dq("load", str(self.file), "--apply", "--force", "--reason", "ДОУ закрыт", "--now", written(now))
        assert done.exit_code == 0, done.output
        self.withdrawn.add(inst)
        event("withdraw recorded")

    def look(self, hour: float) -> None:
        """Every face at one moment, each compared with `status`."""
        now = local(hour)
        when = written(now)
        self.looked += 1
        shown, counts = status_cli(self.dq, when)
        states = {i["id"]: i["state"] for i in self.dq.json("status", "--institutions", "--now", when)["institutions"]}
        assert {i for i, state in states.items() if state == "withdrawn"} == self.withdrawn
        tally: dict[str, dict[str, int]] = {}
        for (_, stage), status in shown.items():
            tally.setdefault(stage, {}).setdefault(status, 0)
            tally[stage][status] += 1
        assert counts == tally, "status: its counts are not its ДОУ's statuses"

        csv_shown, csv_counts = spravka_csv(self.dq, self.folder / f"csv-{self.looked}", when)
        assert csv_shown == shown, "institutions.csv"
        assert csv_counts == counts, "stages.csv"

        ids = {f"ДОУ {i}": i for i in self.plan.ids}
        labels = {"s1": "Форма", "r1": "Экспертиза", "s2": "Повторная форма"}
        board = self.portal.at(when).page("/board")
        assert grid(board, self.stages, ids) == shown, "the board"
        bars = {title: (int(done), int(total)) for title, done, total in BAR.findall(board)}
        for stage in self.stages:
            c = counts[stage]
            expected = sum(c.values()) - c.get("excused", 0) - c.get("no-materials", 0)  # handed in of expected, as the справка counts
            assert bars.get(labels[stage], (0, 0)) == (c.get("done", 0) + c.get("late", 0), expected), "the board's bars"

        self.portal.sign_in(when)
        home = self.portal.page("/coordinator")
        assert grid(home, self.stages, ids) == shown, "the coordinator's grid"
        home_counts = {stage: {k: int(n) for k, n in re.findall(STATUS_SPAN + r'[^<]* (\d+)</span>', cells)}
                       for stage, cells in STAGE_COUNTS.findall(section(home, "Этапы"))}
        assert nonzero(home_counts) == counts, "the coordinator's counts"
        nothing = {i for (i, s), status in shown.items() if s == "s1" and rules.materials([status]) is rules.Materials.NONE}
        assert {i for (i, s), status in shown.items() if s == "r1" and status == "no-materials"} == \
            {i for i in nothing if shown.get((i, "r1")) not in (None, "excused", "done", "late")}, "a review of nothing: not due"
        late_now = {(i, s) for (i, s), status in shown.items() if i not in self.withdrawn and rules.is_late(status, self.due[(i, s)], now)}
        names = {i: f"ДОУ {i}" for i in self.plan.ids}
        on_home = late_on_home(home)
        event(f"late at a look: {'some' if late_now else 'none'}; overdue in grace: {any(shown[k] == 'open' for k in late_now)}")
        event(f"statuses seen: {sorted(set(shown.values()))}")
        assert {(ids[name], stage) for name, stage, _ in on_home} == {(i, labels[s]) for i, s in late_now}, "who is late, at home"
        with store.dry_run(self.portal.db) as session:
            assigned = experts.stored(session, "faces", "l1")  # as stored: `status` draws no list, nor does the home
            digest = digest_content(session, engine.definition(session, "faces"), names, now)
        with store.dry_run(self.portal.db) as session:
            defined = engine.definition(session, "faces")
            engine.reconcile(session, "faces", now)
            drawn = experts.stored(session, "faces", "l1")  # as a calendar sees it: brought to `now`, the list drawn
        before = rules.materials_stages(defined.stages, defined.stage("r1"))
        materials = {i: rules.materials([shown[(i, s)] for s in before if (i, s) in shown]) for i in self.plan.ids}
        silent = {i: ", ".join(f"Эксперт {e.removeprefix('x')}" for e in assigned.get(i, []) if (i, e) not in self.reviewed)
                  for i in self.plan.ids}
        named = {ids[name]: experts_named for name, stage, experts_named in on_home if stage == "Экспертиза"}
        assert named == {i: silent[i] for i in named}, "the experts who did not report"
        told = {(ids[r["institution_name"]], r["stage_title"]) for r in digest["overdue"] + digest["missed"]}
        assert told == {(i, labels[s]) for i, s in late_now}, "who is late, in the digest"
        assert {(ids[r["institution_name"]], r["stage_title"]) for r in digest["overdue"]} == \
            {(i, labels[s]) for i, s in late_now if shown[(i, s)] == "open"}

        for inst in self.plan.ids:
            mine = {(inst, stage): status for (i, stage), status in shown.items() if i == inst}
            card = self.portal.page(f"/coordinator/dou/{inst}")  # a withdrawn ДОУ's records stay readable
            assert {(inst, stage): status for stage, status in SECTION.findall(card)} == mine, f"the card of {inst}"
            if inst in self.withdrawn:
                continue
            page = self.portal.personal("institution", inst)
            assert {(inst, stage): status for stage, status in SECTION.findall(page)} == mine, f"the page of {inst}"
            desk = self.portal.personal("expert", f"x{inst}")
            reviewing = {(i, "r1"): status for i, status in SECTION.findall(desk)}  # the expert's own progress on each
            own = {key: rules.review_progress((key[0], f"x{inst}") in self.reviewed, materials[key[0]], shown.get(key)).value
                   for key in reviewing}
            assert reviewing == own, f"the page of expert x{inst}"
            # the lists as stored: a page reads, it never draws (the next tick does)
            assert {i for i, _ in reviewing} == {i for i, people in assigned.items() if f"x{inst}" in people and i not in self.withdrawn}

        self.calendars(now, drawn)

    def calendars(self, now: datetime, drawn: dict[str, list[str]]) -> None:
        """A ДОУ's calendar and its expert's hold their effective due times (an extension's, when one was given) as their events' start."""
        inst = next(i for i in self.plan.ids if i not in self.withdrawn)
        for role, who, uid in (("--institution", inst, "institution-" + inst), ("--expert", f"x{inst}", f"expert-x{inst}/")):
            out = self.folder / f"{who}-{self.looked}.ics"
            self.dq.ok("calendar", role, who, "--out", str(out), "--now", written(now))
            due = {str(e["uid"]).split("/", 1)[1]: e["dtstart"].dt for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
            if role == "--institution":
                want = {f"{s}/{uid}@dqflow": self.due[(inst, s)] for s in self.stages if s != "r1"}
            elif drawn:
                want = {f"r1/{uid}{i}@dqflow": self.due[(i, "r1")] for i, people in drawn.items()
                        if f"x{inst}" in people and i not in self.withdrawn}
            else:  # the list is not drawn yet: the review as a whole
                want = {f"r1/expert-x{inst}@dqflow": local(self.plan.review.due)}
            assert due == want, f"the calendar of {who}"  # the generated campaigns hold no events

    def close(self) -> None:
        self.portal.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])  # no explain phase: an example takes seconds
@given(plan=plans())
def test_every_face_says_the_same_of_every_dou_and_stage(plan: Plan, tmp_path_factory):
    run = Run(plan, tmp_path_factory.mktemp("faces"))
    try:
        acts, looks = list(plan.acts), list(plan.looks)
        while looks:
            if acts and acts[0][0] <= looks[0]:
                run.act(*acts.pop(0))
            else:
                run.look(looks.pop(0))
    finally:
        run.close()


# -- who is late: the rule's two forms, and its boundary --------------------------------------


@pytest.fixture(scope="module")
def tomsk_db(tmp_path_factory):
    """Tomsk loaded once, for reading the rule's SQL form against its rows (each example rolls back)."""
    dq = Cli(f"sqlite:///{tmp_path_factory.mktemp('late') / 'late.db'}")
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    db = store.connect(dq.db_url)
    yield db
    db.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["upcoming", "open", "done", "late", "missed", "excused"]),
                               st.sampled_from([-86400, -1, 0, 1, 86400])), min_size=1, max_size=11))
def test_the_sql_form_of_lateness_is_its_python_form(rows, tomsk_db):
    """Given statuses and effective due times a second around `now`, the set the SQL form selects is the one the
    Python form names: the boundary (at the due time itself a ДОУ is not late yet) is the same in both."""
    now = parse_local("2021-12-01 12:00", TZ)
    ids = ["2", "4", "5", "6", "15", "35", "40", "62", "73", "86", "94"][:len(rows)]
    with store.dry_run(tomsk_db) as session:
        for inst, (status, seconds) in zip(ids, rows, strict=True):
            session.execute(update(ProgressRow).where(ProgressRow.institution_id == inst, ProgressRow.stage_id == "fill-form")
                            .values(status=status, due_at=now + timedelta(seconds=seconds)))
        chosen = set(session.exec(select(ProgressRow.institution_id).where(
            ProgressRow.stage_id == "fill-form", col(ProgressRow.institution_id).in_(ids),
            rules.late_sql(col(ProgressRow.status), col(ProgressRow.due_at), now))).all())
    assert chosen == {inst for inst, (status, seconds) in zip(ids, rows, strict=True)
                      if rules.is_late(status, now + timedelta(seconds=seconds), now)}
    assert all(rules.is_late(status, now + timedelta(seconds=seconds), now) == (status == "missed" or status == "open" and seconds < 0)
               for status, seconds in rows)


def test_a_dou_is_late_from_the_second_after_its_due_time_in_the_grace_period(dq: Cli, workflow_copy: Path, db_url: str):
    """fill-form with two days of grace: due 30.11 23:59:59, lock 02.12 23:59:59. At the due time itself nobody is late;
    a second later every silent ДОУ is (overdue), and at the lock they have missed it; an extended ДОУ is late by its own time."""
    text = workflow_copy.read_text(encoding="utf-8").replace("    due: 2021-11-30\n    responsible: ДОУ\n",
                                                             "    due: 2021-11-30\n    grace: 2d\n    responsible: ДОУ\n")
    workflow_copy.write_text(text, encoding="utf-8")
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    dq.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-01 12:00", "--reason", "больничный", "--now", "2021-11-29")
    dq.ok("submit", "5", "--stage", "fill-form", "--link", "https://example.org/materials", "--now", "2021-11-30 10:00")
    db = store.connect(db_url)
    try:
        def who(text: str) -> list[tuple[str, str]]:
            with store.dry_run(db) as session:
                campaign = engine.definition(session, "tomsk-2021")
                now = parse_local(text, TZ)
                found = [(r.institution_id, r.status) for r in late.who(session, campaign, now) if r.stage_id == "fill-form"]
                assert late.count(session, campaign, now) == len(late.who(session, campaign, now))
                # the coordinator's home: the first few and how many, in one statement
                assert late.first(session, campaign, now, 3) == (late.who(session, campaign, now)[:3], late.count(session, campaign, now))
                return found
        assert who("2021-11-30 23:59:59") == []
        silent = ["2", "6", "15", "35", "40", "62", "73", "86", "94"]
        assert who("2021-12-01 00:00:00") == [(i, "open") for i in silent]
        assert who("2021-12-01 12:00:00") == [(i, "open") for i in silent]  # ДОУ 4's own due time: not yet
        assert who("2021-12-01 12:00:01") == [(i, "open") for i in silent] + [("4", "missed")]  # extended: its due time is its lock
        assert who("2021-12-03 00:00:00") == [(i, "missed") for i in silent] + [("4", "missed")]  # the soonest due first
    finally:
        db.dispose()
