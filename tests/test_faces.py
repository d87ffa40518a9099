"""Every face of dqflow says the same thing about every ДОУ × stage (issue 18, deliverable 2).

`status`, the справка's CSV files, the public board, the coordinator's home (its counts, its grid and
its list of who is late), the coordinator's card of a ДОУ and each ДОУ's own page: first the
disagreements found by hand, each as a test, then a hypothesis property over generated campaigns
and moments, each example on its own SQLite file.
"""

from __future__ import annotations

import csv
import html
import re
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import TOMSK, Cli

from dqflow import store
from dqflow.access import links
from dqflow.calendar import UTC, parse_local, zone

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
    return statuses, {stage: n for stage, n in counts.items() if n}


def status_cli(dq: Cli, now: str) -> tuple[dict[tuple[str, str], str], dict[str, dict[str, int]]]:
    view = dq.json("status", "--institutions", "--now", now)
    statuses = {(i["id"], stage): st for i in view["institutions"] for stage, st in i["stages"].items()}
    return statuses, {s["id"]: s["counts"] for s in view["stages"] if s["counts"]}


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
    assert shown[("4", "fill-form")] == "missed" and shown[("4", "review1")] == "open"
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
    listed = tomsk.json("experts", "show", "list1")["assignments"]
    first = listed[0]
    tomsk.ok("review", first["institution"], "--stage", "review1", "--expert", first["experts"][0], "--level", "conditions=2",
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
    assert set(reviews) == set(names.values())  # nobody's review1 is complete: every ДОУ missed it
    experts = {e["id"]: e["name"] for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"] for e in i["experts"]}
    silent = reviews[names[first["institution"]]].split(", ")
    assert silent == [experts[e] for e in first["experts"][1:]]  # the one who reported is not named
    assert reviews[names[listed[1]["institution"]]].split(", ") == [experts[e] for e in listed[1]["experts"]]
