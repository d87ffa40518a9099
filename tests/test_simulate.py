"""`dqflow simulate` on the Tomsk 2021 campaign: the replay's mail obeys the sending rules.

The full replay takes seconds, so each variant runs once per module and the tests share it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date, datetime, time
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from conftest import TOMSK, Cli

from dqflow.present import labels

TZ = ZoneInfo("Asia/Tomsk")
CAMPAIGN = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
CAL = CAMPAIGN["campaign"].get("calendar") or {}
EXTRA_OFF = {date.fromisoformat(str(d)) for d in CAL.get("extra_days_off", [])}
EXTRA_WORK = {date.fromisoformat(str(d)) for d in CAL.get("extra_workdays", [])}
RU = holidays.country_holidays("RU", years=[2021, 2022])
DOU_EMAIL = {str(i["id"]): i["email"] for i in CAMPAIGN["institutions"]}
NAMES = {str(i["id"]): i["name"] for i in CAMPAIGN["institutions"]}
STAGES = {s["id"]: s for s in CAMPAIGN["stages"]}
DOU_STAGES = [s["id"] for s in CAMPAIGN["stages"] if s.get("actor") == "institution"]
UNTIL = "2021-12-02 12:00"


def working_day(day: date) -> bool:
    if day in EXTRA_WORK:
        return True
    return day.weekday() < 5 and day not in RU and day not in EXTRA_OFF


def due_at(stage_id: str) -> datetime:
    return datetime.combine(date.fromisoformat(str(STAGES[stage_id]["due"])), time(23, 59, 59), TZ)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def simulate(tmp: Path, *args: str) -> str:
    return Cli(f"sqlite:///{tmp / 'unused.db'}").ok("simulate", str(TOMSK), *args)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sim")
    scenario = tmp / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"submissions": [
        {"institution": "2", "stage": "fill-form", "at": "2021-11-22 10:00"},
        {"institution": "4", "stage": "fill-form", "at": "2021-11-30 23:30"},
        {"institution": "5", "stage": "fill-form", "at": "2021-12-01 10:00"},
    ]}, allow_unicode=True), encoding="utf-8")
    found = {
        "a": simulate(tmp, "--seed", "1", "--maildir", str(tmp / "a"), "--json"),
        "b": simulate(tmp, "--seed", "1", "--maildir", str(tmp / "b"), "--json"),
        "short1": simulate(tmp, "--seed", "1", "--until", UNTIL, "--json"),
        "short2": simulate(tmp, "--seed", "2", "--until", UNTIL, "--json"),
        "text": simulate(tmp, "--seed", "1", "--until", UNTIL),
        "full_text": simulate(tmp, "--seed", "1"),
        "scenario": simulate(tmp, "--scenario", str(scenario), "--until", UNTIL, "--maildir", str(tmp / "s"), "--json"),
        "scenario_text": simulate(tmp, "--scenario", str(scenario), "--until", UNTIL),
    }
    return {"tmp": tmp, **{k: v if k.endswith("text") else json.loads(v) for k, v in found.items()}}


@pytest.fixture(scope="module")
def mails(runs):
    """Every .eml of the full replay, parsed, in sending order, with its JSON entry."""
    entries = runs["a"]["emails"]
    files = sorted((runs["tmp"] / "a").glob("*.eml"))
    assert len(files) == len(entries) > 0
    parsed = []
    for entry, path in zip(entries, files):
        assert Path(entry["file"]).name == path.name
        parsed.append((entry, message_from_bytes(path.read_bytes(), policy=policy.default)))
    return parsed


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def reminded_stages(message, institution: str) -> set[str]:
    """Which stages of this ДОУ the message asks it to act on (opened, before due, due today, overdue)."""
    found = set()
    for item in text_of(message).split("\n* * *\n"):  # the items of a merged message
        if f"Кому: {NAMES[institution]}, ответственному за мониторинг" not in item:
            continue
        asked = re.search(r"(Открыт этап|Напоминаем: этап|Сегодня последний день этапа|Срок этапа) «(.+?)»", item)
        if not asked:
            continue
        title = asked.group(2)
        deadline = re.search(r"(\d\d\.\d\d\.\d{4}) \d\d:\d\d", item)
        day = datetime.strptime(deadline.group(1), "%d.%m.%Y").date() if deadline else None
        candidates = [s for s in DOU_STAGES if (STAGES[s].get("short") or STAGES[s]["title"]) == title]  # the stage's name
        if day is not None:  # same title twice (refill, final-fix): the latest due not after the deadline
            earlier = [s for s in candidates if date.fromisoformat(str(STAGES[s]["due"])) <= day]
            candidates = earlier[-1:] or candidates[:1]
        found |= set(candidates)
    return found


# -- sending rules ----------------------------------------------------------------------


def test_no_email_outside_the_sending_window_or_on_a_day_off(mails):
    for entry, message in mails:
        for moment in (at(entry["at"]), message["Date"].datetime):
            local = moment.astimezone(TZ)
            assert time(9, 0) <= local.time() < time(18, 0), (entry["to"], local)
            assert working_day(local.date()), (entry["to"], local)


def test_no_reminder_after_the_institution_completed_the_stage(runs, mails):
    submitted = {(e["institution"], e["stage"]): at(e["at"]) for e in runs["a"]["events"] if e["type"] == "submit"}
    assert submitted
    checked = 0
    for entry, message in mails:
        for inst, email in DOU_EMAIL.items():
            if entry["to"] != email:
                continue
            for stage in reminded_stages(message, inst):
                checked += 1
                done = submitted.get((inst, stage))
                assert done is None or at(entry["at"]) < done, f"ДОУ {inst} reminded of {stage} at {entry['at']} after submitting {done}"
    assert checked > 20


def test_every_silent_institution_was_reminded_before_the_deadline(runs, mails):
    events = runs["a"]["events"]
    silent = [(i, s) for s in DOU_STAGES if "due" in STAGES[s] for i in DOU_EMAIL
              if not any(e["type"] in ("submit", "extend") and e.get("institution") == i and e["stage"] == s for e in events)]
    assert silent, "seed 1 has silent ДОУ"
    for inst, stage in silent:
        assert any(entry["to"] == DOU_EMAIL[inst] and at(entry["at"]) <= due_at(stage) and stage in reminded_stages(message, inst)
                   for entry, message in mails), f"silent ДОУ {inst} never reminded of {stage}"


def test_eml_files_are_rfc5322_with_unique_ids_and_russian_subjects(mails):
    ids = [message["Message-ID"] for _, message in mails]
    assert all(ids) and len(set(ids)) == len(ids)
    for entry, message in mails:
        assert not message.defects, message.defects
        for header in ("From", "To", "Date", "Subject", "Message-ID"):
            assert message[header], header
        assert message["To"] == entry["to"]
        assert str(message["Subject"]) == entry["subject"]
        assert re.search("[а-яА-Я]", str(message["Subject"]))
        raw_subject = message.get("Subject").defects
        assert not raw_subject
        part = message.get_body(preferencelist=("plain",))
        assert part.get_content_charset() == "utf-8"
        assert part.get_content().startswith("Уважаемые коллеги!")


def test_same_seed_gives_the_same_bytes_and_another_seed_differs(runs):
    a, b = runs["a"], runs["b"]
    norm = lambda run, name: json.dumps(run, ensure_ascii=False).replace(str(runs["tmp"] / name), "DIR")  # noqa: E731
    assert norm(a, "a") == norm(b, "b")
    digest = lambda folder: {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.eml"))}  # noqa: E731
    assert digest(runs["tmp"] / "a") == digest(runs["tmp"] / "b")
    assert runs["short1"]["events"] != runs["short2"]["events"]


def test_until_stops_early_with_the_same_history(runs):
    stop = datetime.fromisoformat(UNTIL).replace(tzinfo=TZ)
    short, full = runs["short1"], runs["a"]
    assert short["events"] and all(at(e["at"]) <= stop for e in short["events"])
    assert all(at(m["at"]) <= stop for m in short["emails"])
    assert short["events"] == [e for e in full["events"] if at(e["at"]) <= stop]
    assert [(m["at"], m["to"], m["subject"]) for m in short["emails"]] == [
        (m["at"], m["to"], m["subject"]) for m in full["emails"] if at(m["at"]) <= stop]
    assert len(short["emails"]) < len(full["emails"])


# -- the human timeline, line by line against the JSON ----------------------------------------

STATUS = {v: k for k, v in labels.STATUS_RU.items()}  # the Russian words back to the codes the JSON has
STATE = {v: k for k, v in labels.STATE_RU.items()}
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
LINE_FORMS = [  # every form an entry line may take, and the key it stands for
    (re.compile(r"письм(?:о|а \((?P<n>\d+)\)) «(?P<subject>.+)» → (?P<to>\S+(?:, \S+)*)"), "mail"),
    (re.compile(r"ДОУ (?P<inst>\S+) сдал\(а\) «(?P<stage>[^»]+)»: (?P<to>.+)"), "submit"),
    (re.compile(r"эксперт (?P<expert>\S+) проверил\(а\) ДОУ (?P<inst>\S+) \(«(?P<stage>[^»]+)»\): этап ДОУ (?P<to>.+)"), "review"),
    (re.compile(r"ДОУ (?P<inst>\S+): срок «(?P<stage>[^»]+)» продлён"), "extend"),
    (re.compile(r"ДОУ (?P<inst>\S+): отказ — (?P<reason>.+)"), "refused"),
    (re.compile(r"(?P<stage>\S+): список экспертов составлен"), "draw"),
    (re.compile(r"(?P<stage>\S+): ДОУ (?P<inst>\S+) (?P<source>.+) → (?P<dest>.+)"), "move"),
    (re.compile(r"(?P<stage>\S+): (?P<n>\d+) ДОУ (?P<source>.+) → (?P<dest>.+)"), "moves"),
    (re.compile(r"(?P<stage>\S+): (?P<source>[^→]+) → (?P<dest>.+)"), "stage"),
]


def json_keys(run: dict) -> tuple[Counter, Counter, set]:
    """What the JSON says happened, minute by minute: event keys, (minute, subject, to) of each email,
    and the ДОУ moves by name (the text names a ДОУ only where it moved alone)."""
    minute = lambda text: at(text).astimezone(TZ).replace(second=0)  # noqa: E731
    events, named = Counter(), set()
    for e in run["events"]:
        when, kind = minute(e["at"]), e["type"]
        if kind in ("submit", "review"):
            events[(when, kind, e["stage"], e["institution"], e.get("expert"), e["to"])] += 1
        elif kind == "extend":
            events[(when, kind, e["stage"], e["institution"])] += 1
        elif kind == "refused":
            events[(when, kind, e["institution"], e["reason"])] += 1
        elif kind == "draw":
            events[(when, kind, e["stage"])] += 1
        elif e.get("institution"):
            events[(when, "move", e["stage"], e["from"], e["to"])] += 1
            named.add((when, e["stage"], e["institution"], e["from"], e["to"]))
        else:
            events[(when, "stage", e["stage"], e["from"], e["to"])] += 1
    emails = Counter((minute(m["at"]), m["subject"], m["to"]) for m in run["emails"])
    return events, emails, named


def read_timeline(text: str, campaign_title: str) -> tuple[Counter, Counter, list, list[str]]:
    """The text, every line of it accounted for: (event keys, email keys, ДОУ moves named on their own
    line, the summary lines). A line of no known form fails the test."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    lines = text[:-1].split("\n")
    assert lines[0] == f"{campaign_title} — моделирование, томское время, UTC+7"
    events, emails, named, times = Counter(), Counter(), [], []
    day, n = None, 1
    while n < len(lines) and not lines[n].startswith("Итого: "):
        line = lines[n]
        n += 1
        if line == "":
            continue
        if header := re.fullmatch(r"(\d\d\.\d\d\.\d{4}) \((..)\)", line):
            new_day = datetime.strptime(header[1], "%d.%m.%Y").date()
            assert header[2] == WEEKDAYS[new_day.weekday()], line
            assert day is None or new_day > day, line  # each day once, in order
            assert lines[n - 2] == "", line  # a blank line before each day
            day = new_day
            continue
        entry = re.fullmatch(r"  (\d\d):(\d\d)  (.+)", line)
        assert entry and day is not None, f"not a timeline line: {line!r}"
        when = datetime.combine(day, time(int(entry[1]), int(entry[2])), TZ)
        times.append(when)
        form, found = next(((kind, m) for pattern, kind in LINE_FORMS if (m := pattern.fullmatch(entry[3]))), (None, None))
        assert form, f"no known form: {line!r}"
        if form == "mail":
            to = found["to"].split(", ")
            assert len(to) == len(set(to)) and (int(found["n"]) == len(to) >= 3 if found["n"] else len(to) < 3), line
            emails.update((when, found["subject"], address) for address in to)
        elif form in ("submit", "review"):
            events[(when, form, found["stage"], found["inst"], found.groupdict().get("expert"), STATUS[found["to"]])] += 1
        elif form == "extend":
            events[(when, form, found["stage"], found["inst"])] += 1
        elif form == "refused":
            events[(when, form, found["inst"], found["reason"])] += 1
        elif form == "draw":
            events[(when, form, found["stage"])] += 1
        elif form in ("move", "moves"):
            key = (when, "move", found["stage"], STATUS[found["source"]], STATUS[found["dest"]])
            events[key] += int(found["n"]) if form == "moves" else 1
            if form == "move":
                named.append((when, found["stage"], found["inst"], key[3], key[4]))
        else:
            events[(when, "stage", found["stage"], STATE[found["source"]], STATE[found["dest"]])] += 1
    assert times == sorted(times)  # in the order it happened
    return events, emails, named, lines[n:]


@pytest.mark.parametrize("text_run, json_run", [("text", "short1"), ("full_text", "a"), ("scenario_text", "scenario")])
def test_the_human_timeline_tells_the_same_story_as_the_json_line_by_line(runs, text_run: str, json_run: str):
    """Every line of `simulate`'s text is an event or the emails of one moment in its --json, and every
    event and email of the JSON is on a line; the totals are the JSON summary's."""
    run = runs[json_run]
    events, emails, named, summary = read_timeline(runs[text_run], CAMPAIGN["campaign"]["title"])
    expected_events, expected_emails, expected_named = json_keys(run)
    assert events == expected_events
    assert emails == expected_emails
    assert set(named) <= expected_named and len(named) == len(set(named))

    totals = run["summary"]
    assert summary[0] == (f"Итого: писем {totals['emails']} (адресатов {totals['recipients']}), сдано {totals['submissions']}, "
                          f"отзывов экспертов {totals['reviews']}, продлений {totals['extensions']}, отказов {totals['refused']}.")
    label_of = {s["id"]: s.get("short") or s["title"] for s in CAMPAIGN["stages"]}
    assert summary[1:] == [f"  {label_of[stage]}: " + ", ".join(f"{labels.STATUS_RU[k]} {n}" for k, n in counts.items())
                           for stage, counts in totals["statuses"].items()]
    kinds = {key[1] for key in events}
    assert {"move", "stage", "submit"} <= kinds  # the replay has something of each to check
    assert json_run != "a" or {"review", "extend", "draw"} <= kinds
    assert json_run != "scenario" or "refused" in kinds


def test_the_json_written_a_record_at_a_time_is_the_indented_document(tmp_path: Path):
    """`simulate --json` writes its document in pieces (a national log is never one string): together they
    are exactly what json.dumps(…, indent=2) makes of it, empty lists included."""
    for until in (UNTIL, "2021-11-09 00:30"):  # a replay with events and emails, and one that ends before any
        written = simulate(tmp_path, "--until", until, "--json")
        assert written == json.dumps(json.loads(written), ensure_ascii=False, indent=2) + "\n"
    assert '"emails": [],' in written and '"events": [],' in written


def test_a_scenario_file_is_honoured(runs):
    run = runs["scenario"]
    submits = [(e["institution"], e["stage"], e["at"], e.get("to")) for e in run["events"] if e["type"] == "submit"]
    assert submits == [("2", "fill-form", "2021-11-22T10:00:00+07:00", "done"),
                       ("4", "fill-form", "2021-11-30T23:30:00+07:00", "done")]
    refused = [e for e in run["events"] if e["type"] == "refused"]
    assert [(e["institution"], e["stage"]) for e in refused] == [("5", "fill-form")]
    assert "locked" in refused[0]["reason"]
    assert not any(e["type"] in ("extend", "review") for e in run["events"])
    # ДОУ 2 submitted on 22.11: no fill-form reminder after that, while ДОУ 6 (silent) got them
    files = {Path(m["file"]).name: m for m in run["emails"]}
    for path in sorted((runs["tmp"] / "s").glob("*.eml")):
        entry = files[path.name]
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if entry["to"] == DOU_EMAIL["2"] and at(entry["at"]) > at("2021-11-22T10:00:00+07:00"):
            assert "fill-form" not in reminded_stages(message, "2")
    assert any(m["to"] == DOU_EMAIL["6"] and at(m["at"]) <= due_at("fill-form") for m in run["emails"])
    assert run["summary"]["statuses"]["fill-form"] == {"done": 2, "missed": 9}


def test_lists_handouts_review_reminders_and_recommendations_appear_in_the_replay(runs, mails):
    events = runs["a"]["events"]
    experts = {e["email"]: e["id"] for i in CAMPAIGN["institutions"] for e in i["experts"]}
    assert any(e["type"] == "open" and e["stage"] == "list1" for e in events)
    subjects = [(entry["to"], str(message["Subject"]), text_of(message)) for entry, message in mails]
    handouts = [(to, s) for to, s, _ in subjects if re.match(r"Экспертиза «[^»]+»: ДОУ для оценки — \d+", s)]
    assert {to for to, _ in handouts} == set(experts)
    assert any("Копия: материалы выданы экспертам" in s for to, s, _ in subjects if to == CAMPAIGN["campaign"]["coordinator"]["email"])
    recs = [to for to, _, body in subjects if "эксперты подготовили адресные рекомендации" in body]
    assert set(recs) <= set(DOU_EMAIL.values()) and len(set(recs)) >= 8
    # review reminders go to experts, and never about a ДОУ the expert already reviewed
    reviewed = {(e["expert"], e["institution"], e["stage"]): at(e["at"]) for e in events if e["type"] == "review"}
    review_titles = {s["id"]: s.get("short") or s["title"] for s in CAMPAIGN["stages"] if s.get("actor") == "expert"}  # by name
    reminded = 0
    for entry, message in mails:
        expert = experts.get(entry["to"])
        if expert is None:
            continue
        for item in text_of(message).split("\n* * *\n"):
            for stage, title in review_titles.items():
                if f"«{title}»" not in item or not re.search(r"(апоминаем|егодня последний день|ткрыт этап)", item):
                    continue
                # the ДОУ under review, named as such: one, or a numbered list of several
                named = re.findall(r"^ДОУ, материалы которого вы оцениваете: (.+)$", item, re.MULTILINE)
                if not named and "ДОУ, материалы которых вы оцениваете:" in item:
                    named = re.findall(r"^\d+\. (.+)$", item, re.MULTILINE)
                assert named, item
                for inst in (i for i, name in NAMES.items() if name in named):
                    reminded += 1
                    done = reviewed.get((expert, inst, stage))
                    assert done is None or at(entry["at"]) < done, (expert, inst, stage, entry["at"])
    assert reminded > 0


# -- a form campaign: the ДОУ fill their forms, experts review per indicator ----------------------------------------

FORM_STAGES = ("fill-form", "refill", "final-fix")


@pytest.fixture(scope="module")
def form_runs(tmp_path_factory):
    """The Tomsk campaign with its fill, refill and final fix marked `form: true`, replayed twice with one seed (once
    kept in a database for the checks) and once with another."""
    from tests.test_form import form_file

    tmp = tmp_path_factory.mktemp("form-sim")
    path = form_file(tmp)
    kept = f"sqlite:///{tmp / 'kept.db'}"
    unused = Cli(f"sqlite:///{tmp / 'unused.db'}")
    found = {"kept": unused.ok("simulate", str(path), "--seed", "1", "--json", "--keep-db", kept),
             "again": unused.ok("simulate", str(path), "--seed", "1", "--json"),
             "other": unused.ok("simulate", str(path), "--seed", "2", "--json")}
    return {"tmp": tmp, "path": path, "url": kept, "dq": Cli(kept), **{k: json.loads(v) for k, v in found.items()}}


def handed_in(run: dict, stage: str) -> set[str]:
    return {e["institution"] for e in run["events"] if e["type"] == "submit" and e["stage"] == stage and e["to"] in ("done", "late")}


def test_each_dou_fills_its_form_before_each_hand_in_and_the_versions_differ(form_runs):
    from conftest import query

    run, dq = form_runs["kept"], form_runs["dq"]
    assert not [e for e in run["events"] if e["type"] == "refused" and "form" in e["reason"]]
    forms = {stage: {i for (i,) in query(form_runs["url"], f"SELECT DISTINCT institution_id FROM form_entry WHERE stage_id = '{stage}'")}
             for stage in FORM_STAGES}
    shown: dict[tuple[str, str], list] = {}
    for stage in FORM_STAGES:
        handed = handed_in(run, stage)
        assert len(handed) >= 5 and forms[stage] == handed, stage  # a form for every ДОУ that handed in, and only for them
        for inst in handed:
            version = dq.json("form", "show", inst, "--stage", stage, "--now", "2022-01-25 12:00")
            assert version["handed_in"] and version["started"] and version["missing"] == []
            assert all(entry["links"] and entry["level"] for entry in version["indicators"])  # evidence and its own level
            (links,), = query(form_runs["url"], f"SELECT links FROM submission WHERE institution_id = '{inst}' AND stage_id = '{stage}'")
            assert json.loads(links) == list(dict.fromkeys(x["url"] for e in version["indicators"] for x in e["links"]))
            shown[(inst, stage)] = version["indicators"]
    comments = [e["comment"] for (_, stage), entries in shown.items() if stage == "fill-form" for e in entries]
    assert any(comments) and not all(comments)
    for earlier, later in zip(FORM_STAGES, FORM_STAGES[1:]):
        both = [i for i in handed_in(run, earlier) & handed_in(run, later)]
        assert both
        for inst in both:
            before, after = shown[(inst, earlier)], shown[(inst, later)]
            changed = [a for a, b in zip(before, after, strict=True) if a != b]
            assert 2 <= len(changed) <= 3, (inst, earlier, later)  # a few indicators changed, the rest carried over
            assert all(len(b["links"]) == len(a["links"]) + 1 for a, b in zip(before, after) if a != b)


def test_a_form_replay_is_seeded(form_runs):
    assert form_runs["kept"]["events"] == form_runs["again"]["events"]
    assert form_runs["kept"]["emails"] == form_runs["again"]["emails"]
    assert form_runs["kept"]["events"] != form_runs["other"]["events"]


def test_a_form_replays_status_and_spravka_agree(form_runs):
    import csv
    import io

    dq, out = form_runs["dq"], form_runs["tmp"] / "csv"
    now = "2022-01-25 12:00"
    dq.ok("report", "--format", "csv", "--out", str(out), "--now", now)
    files = {name: list(csv.DictReader(io.StringIO((out / name).read_text(encoding="utf-8")))) for name in ("institutions.csv", "stages.csv")}
    status = dq.json("status", "--institutions", "--now", now)
    assert [dict(r) for r in files["institutions.csv"]] == [{"id": i["id"], "name": i["name"], **i["stages"]} for i in status["institutions"]]
    statuses = ["upcoming", "open", "done", "late", "missed", "excused"]
    for row, stage in zip(files["stages.csv"], status["stages"], strict=True):
        assert [row[s] for s in statuses] == ([str(stage["counts"][s]) for s in statuses] if stage["counts"] else [""] * 6)
    summary = form_runs["kept"]["summary"]["statuses"]
    for stage in FORM_STAGES:
        assert summary[stage].get("done", 0) + summary[stage].get("late", 0) == len(handed_in(form_runs["kept"], stage))


def test_experts_review_a_form_campaign_per_indicator(form_runs):
    """The replay's review act: a level for every indicator, comments keyed by indicator, recommendations per area."""
    from dataclasses import fields

    from dqflow import engine
    from dqflow.campaign import spec
    from dqflow.delivery import simulate as sim

    campaign = spec.load(form_runs["path"])
    assert campaign.reviews_by_indicator
    act = sim._act(campaign, sim.Planned(datetime(2021, 12, 3, 10, 0, tzinfo=TZ), "2", "review1", "reviewed", seed=1, expert="e2-1"))
    assert set(act.levels) == set(campaign.indicators) and set(act.levels.values()) <= {lv.id for lv in campaign.levels}
    assert act.expert_id == "e2-1" and "по области «" in act.recommendations
    if "comments" in {f.name for f in fields(engine.Act)}:
        assert set(act.comments) <= set(campaign.indicators)  # type: ignore[attr-defined]
    plain = spec.load(TOMSK)  # no form stage: per area, as before
    act = sim._act(plain, sim.Planned(datetime(2021, 12, 3, 10, 0, tzinfo=TZ), "2", "review1", "reviewed", seed=1, expert="e2-1"))
    assert set(act.levels) == {a.id for a in plain.areas}


def test_the_form_replays_reviews_are_recorded(form_runs):
    """Every per-indicator review of the replay counts: none refused, as many as a town's experts write."""
    run = form_runs["kept"]
    assert not [e for e in run["events"] if e["type"] == "refused" and e["stage"].startswith("review")]
    assert run["summary"]["reviews"] > 10


# The replay of the bundled Tomsk file (no form stage) before the form was simulated (main at 04727ff): its events and
# totals, seed 1, to the byte.
TOMSK_SEED1 = "4b0a9932449133716ae72e05cce6dfbd67592c0aa9802d50742422e1127f5f8a"


def test_a_campaign_without_form_stages_replays_byte_for_byte_as_before(runs):
    a = runs["a"]
    assert hashlib.sha256(json.dumps([a["events"], a["summary"]], ensure_ascii=False, sort_keys=True).encode()).hexdigest() == TOMSK_SEED1
