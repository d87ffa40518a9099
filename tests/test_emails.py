"""The emails as their readers get them.

The Tomsk replay's .eml files are read as a ДОУ head, an expert, the coordinator and the operator
would read them; then every kind is built by the real `writer.Writer` from a database's outbox
rows and rendered through the real templates, with a personal link and without one.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import select

from dqflow import engine as engines
from dqflow.calendar import utc_offset
from dqflow.campaign import spec
from dqflow.delivery.writer import Writer
from dqflow.store import OutboxRow, connect, dry_run
from dqflow.intake.templates import KINDS, default_folder, render_item
from tests.conftest import TOMSK, Cli, levels

FOLDER = str(default_folder("ru"))
TZ = ZoneInfo("Asia/Tomsk")
COORDINATOR = ("КДО МАУ ИМЦ", "kdo@imc.example.org")
OPERATOR = "Муниципальный оператор мониторинга, operator@imc.example.org"
LINK = "https://portal.example.org/p/abc123"
STAMP = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d")
# what the issue found in the old mail, and must not come back
FORBIDDEN = ("Asia/", "Здравствуйте", "просто", "не обращайте внимания", "(и ещё", "::", ": срок —")


def parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def items(text: str) -> list[str]:
    """The items of one message: between the greeting (and the list of a merged one) and the signature."""
    body = text.split("\nС уважением,", 1)[0]
    return [part[part.index("Кому: "):].strip() for part in body.split("\n* * *\n") if "Кому: " in part]


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replay")
    dq = Cli(f"sqlite:///{tmp / 'unused.db'}")
    out = dq.ok("simulate", str(TOMSK), "--maildir", str(tmp / "mail"), "--json")
    events = json.loads(out)["events"]
    mails = [(path, parse(path)) for path in sorted((tmp / "mail").glob("*.eml"))]
    assert len(mails) > 100
    return mails, events


def to(mails, address: str):
    return [(p, m) for p, m in mails if m["To"] == address]


def test_every_letter_names_a_stage_by_its_one_name(replay):
    """A stage with a `short:` is named by it in every subject, body and invitation: its order's wording appears only
    as the «В приказе: …» line (refill and final fix share «Заполнение формы мониторинга»)."""
    campaign = spec.load(TOMSK)
    worded = {s.title: s for s in campaign.stages if s.short and s.short != s.title}
    mails, _ = replay
    seen = {"refill": 0, "final-fix": 0}
    for path, message in mails:
        text, html, subject = plain(message), message.get_body(("html",)).get_content(), str(message["Subject"])
        for title in worded:
            assert title not in subject, (path.name, subject)
            for line in text.splitlines():
                assert title not in line or line.startswith("В приказе: «"), (path.name, line)
            for paragraph in re.findall(r"<p[^>]*>(.*?)</p>", html, re.DOTALL):
                assert title not in paragraph or paragraph.startswith("В приказе: «"), (path.name, paragraph)
        for stage_id in seen:
            seen[stage_id] += campaign.stage(stage_id).label in text
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                ics = part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()
                unfolded = ics.replace("\r\n", "\n").replace("\n ", "")
                for summary in re.findall(r"^SUMMARY:(.*)$", unfolded, re.MULTILINE):
                    assert not any(summary.endswith(title) for title in worded), (path.name, summary)
    assert all(seen.values()), seen


def test_every_message_is_an_official_letter_of_the_centre(replay):
    mails, _ = replay
    for path, message in mails:
        sender = message["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == COORDINATOR, path.name
        text, html = plain(message), message.get_body(("html",)).get_content()
        assert text.startswith("Уважаемые коллеги!\n"), path.name
        assert "С уважением,\nКДО МАУ ИМЦ\nkdo@imc.example.org" in text, path.name
        assert "<p>Уважаемые коллеги!</p>" in html and "С уважением," in html
        for bad in FORBIDDEN:
            assert bad not in text and bad not in str(message["Subject"]), (path.name, bad)
        for item in items(text):
            assert item.startswith("Кому: "), (path.name, item)  # whom, and in which role
            for line in item.splitlines():
                for clause in line.split("; "):
                    assert clause.count(": ") <= 1, (path.name, clause)  # no "…»: срок — …" chains
            if STAMP.search(item):
                assert "UTC+7" in item, (path.name, item)  # local time, as people write it


def test_a_dou_head_reads_who_what_how_and_by_when(replay):
    mails, _ = replay
    texts = {str(m["Subject"]): plain(m) for _, m in to(mails, "dou15@example.org")}
    opened = next(t for s, t in texts.items() if s.startswith("Открыт этап «Первичное заполнение формы»"))
    for part in ("Кому: МАДОУ № 15, ответственному за мониторинг",
                 "Открыт этап «Первичное заполнение формы».\nВ приказе: «Заполнение утвержденной формы мониторинга».",
                 "Ожидаемый результат: Сбор и оформление ссылок на материалы мониторинга.",
                 "Срок: до 30.11.2021 23:59 по местному времени (UTC+7).",
                 "Как сдать: ответьте на это письмо и укажите ссылки на материалы; ответ получит координатор."):
        assert part in opened
    # refill and final fix share the order's title; their subjects do not
    assert any(s.startswith("Открыт этап «Повторное заполнение формы»") for s in texts)
    assert any("«Итоговая корректировка формы»" in s for s in texts)
    submission = next(t for s, t in texts.items() if "«Направление форм оператору»" in s and "Открыт этап" in s)
    assert f"муниципальному оператору — {OPERATOR}." in submission


def test_an_expert_reads_which_dou_is_under_review_and_whether_it_handed_in(replay):
    mails, events = replay
    submitted: dict[str, list[datetime]] = {}
    for e in events:
        if e["type"] == "submit":
            submitted.setdefault(e["institution"], []).append(datetime.fromisoformat(e["at"]))
    names = {i["name"]: i["id"] for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"]}
    nothing = with_links = 0
    for path, message in mails:
        if not message["To"].startswith("expert"):
            continue
        sent = message["Date"].datetime
        for item in items(plain(message)):
            if not re.search(r"экспертиз", item) or "Приглашаем" in item:
                continue
            single = re.search(r"^ДОУ, материалы которого вы оцениваете: (.+)$", item, re.MULTILINE)
            several = "ДОУ, материалы которых вы оцениваете:" in item
            assert single or several, (path.name, item)
            if single and "Материалы не поступили: ДОУ пока ничего не сдало." in item:
                nothing += 1
                inst = names[single.group(1)]
                assert not any(at < sent for at in submitted.get(inst, [])), (path.name, inst)
            elif single and "Материалы: https://" in item:
                with_links += 1
            for name in names:  # never addressed as if to the ДОУ itself
                assert not item.startswith(name + ":")
    assert with_links  # "nothing handed in" only before the ДОУ's lock: after it, nothing is sent about it (no-materials)


def test_webinars_say_when_they_take_place(replay):
    mails, _ = replay
    texts = [(str(m["Subject"]), plain(m)) for _, m in to(mails, "dou2@example.org")]
    kickoff = next((s, t) for s, t in texts if s.startswith("Приглашение: Установочный вебинар"))
    assert kickoff[0].startswith("Приглашение: Установочный вебинар — 19.11.2021 в 14:00")
    assert "Состоится 19.11.2021 в 14:00 по местному времени (UTC+7)." in kickoff[1]
    later = next(t for s, t in texts if "Вебинар по итогам первичной экспертизы — 06.12.2021" in s)
    assert "Состоится 06.12.2021; время будет сообщено дополнительно." in later


def test_the_operator_is_sent_each_submission_once(replay):
    mails, events = replay
    handed = {e["institution"] for e in events if e["type"] == "submit" and e["stage"] == "operator-submission"}
    assert handed
    names = {i["id"]: i["name"] for i in yaml.safe_load(TOMSK.read_text(encoding="utf-8"))["institutions"]}
    listed = []
    for path, message in to(mails, "operator@imc.example.org"):
        text = plain(message)
        assert "Кому: муниципальному оператору мониторинга" in text
        here = re.findall(r"^\d+\. (.+)$", text, re.MULTILINE)
        assert len(here) == len(set(here)), path.name  # each ДОУ once in a message
        assert str(message["Subject"]).startswith(f"Формы мониторинга от ДОУ: {len(here)} — ")
        listed += here
    assert sorted(listed) == sorted(names[i] for i in handed)


def test_merged_messages_list_each_item_once_under_a_clear_subject(replay):
    mails, _ = replay
    merged = 0
    for path, message in mails:
        text = plain(message)
        found = re.search(r"^Сообщений в письме: (\d+)\.$", text, re.MULTILINE)
        parts = items(text)
        assert len(parts) == len(set(parts)), path.name
        if not found:
            assert len(parts) == 1, path.name
            continue
        merged += 1
        subjects = re.findall(r"^\d+\) (.+)$", text, re.MULTILINE)
        assert int(found.group(1)) == len(subjects) == len(set(subjects)) >= 2
        assert str(message["Subject"]) == "; ".join(subjects)
        # a handout lists the ДОУ of its review: the review's own "opened" notice does not repeat them
        if any(s.startswith("Экспертиза «") and "для оценки" in s for s in subjects):
            assert not any(s.startswith("Экспертиза «") and "для оценки" not in s for s in subjects), path.name
    assert merged


def test_with_a_portal_each_letter_carries_its_readers_own_link_once(tmp_path):
    """A simulated campaign with DQFLOW_BASE_URL: a ДОУ's or an expert's letter links to their own page,
    once in the text and once in the HTML, a merged one too; a missed stage's notice says where to hand in."""
    base = "https://portal.example.org/mkdo"
    Cli(f"sqlite:///{tmp_path / 'unused.db'}", env={"DQFLOW_BASE_URL": base}).ok("simulate", str(TOMSK), "--maildir", str(tmp_path / "mail"))
    carried = merged = 0
    for path in sorted((tmp_path / "mail").glob("*.eml")):
        message = parse(path)
        text, html = plain(message), message.get_body(("html",)).get_content()
        found = re.findall(re.escape(base) + r"/(dou|expert)/([^/\s]+)/\S+", text)
        hrefs = re.findall(r'href="' + re.escape(base) + r'/[^"]+"', html)
        reader = message["To"].addresses[0].username
        assert len(found) == len(hrefs) <= 1, path.name
        if found:
            role, who = found[0]
            assert reader == (f"dou{who}" if role == "dou" else f"expert{who.removeprefix('e')}"), path.name
            carried += 1
            if "Сообщений в письме" in text and "выше в этом письме" in text:
                merged += 1
        if "материалы не поступили" in str(message["Subject"]) and reader.startswith("dou"):
            assert "сдать можно будет на вашей странице в мониторинге" in text, path.name
    assert carried > 150 and merged > 5


# -- every kind through the real Writer, with and without a personal link ---------------------

ACTS = {("opened", "institution"), ("before_due", "institution"), ("due_today", "institution"), ("overdue", "institution"),
        ("opened", "expert"), ("before_due", "expert"), ("due_today", "expert"), ("overdue", "expert"),
        ("handout", "expert"), ("recommendations", "institution"), ("changed", "institution")}


def built(tmp: Path, campaign: Path) -> dict[tuple[str, str, str], dict]:
    """One letter item per (kind, role, stage) the campaign's outbox holds after a run with a few hand-ins."""
    db = f"sqlite:///{tmp / 'w.db'}"
    dq = Cli(db)
    dq.ok("load", str(campaign), "--now", "2021-11-10 09:00")
    dq.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-22 10:00")
    dq.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03 18:00", "--reason", "карантин", "--now", "2021-11-24 10:00")
    dq.ok("tick", "--now", "2021-11-25 10:00")
    expert = next(a["experts"][0] for a in dq.json("experts", "show", "list1")["assignments"] if a["institution"] == "2")
    dq.ok("review", "2", "--stage", "review1", "--expert", expert, *levels("conditions=2"), "--recommendations", "-",
          "--now", "2021-12-02 10:00", input="Дополнить раздел.")
    dq.ok("submit", "2", "--stage", "operator-submission", "--link", "https://dou2.example.org/final", "--now", "2021-12-20 10:00")
    dq.ok("tick", "--now", "2021-12-21 10:00")
    now = datetime(2021, 12, 21, 10, 0, tzinfo=TZ)
    with dry_run(connect(db)) as session:
        campaign_spec = engines.definition(session, None)
        writer = Writer(session, campaign_spec, now, COORDINATOR[1])
        found = {}
        for row in session.exec(select(OutboxRow).order_by(OutboxRow.id)).all():
            found.setdefault((row.kind, row.role, row.stage_id), writer.letters.letter(session, row, None).item)
    return found


def first(found: dict) -> dict[tuple[str, str], dict]:
    kept: dict[tuple[str, str], dict] = {}
    for (kind, role, _), item in found.items():
        kept.setdefault((kind, role), item)
    return kept


@pytest.fixture(scope="module")
def every(tmp_path_factory) -> dict[tuple[str, str, str], dict]:
    tmp = tmp_path_factory.mktemp("writer")
    campaign = tmp / "tomsk.yaml"  # grace periods, so that overdue reminders exist too
    text = TOMSK.read_text(encoding="utf-8")
    for dates in ("    opens: 2021-11-19\n    due: 2021-11-30\n", "    opens: 2021-12-01\n    due: 2021-12-05\n"):
        assert text.count(dates) == 1
        text = text.replace(dates, dates + "    grace: 2d\n")
    campaign.write_text(text, encoding="utf-8")
    return built(tmp, campaign)


@pytest.fixture(scope="module")
def letters(every) -> dict[tuple[str, str], dict]:
    return first(every)


def test_the_writer_yields_every_kind(letters):
    assert {kind for kind, _ in letters} == set(KINDS)
    assert ACTS <= set(letters), ACTS - set(letters)


@pytest.mark.parametrize("personal", [None, LINK])
def test_every_kind_says_whom_what_how_and_when(letters, personal):
    for (kind, role), item in letters.items():
        assert item["link"] is None  # the Writer's own value without a portal: the portal fills it
        rendered = render_item(FOLDER, kind, {**item, "link": personal})
        text, html, subject = rendered["text"], rendered["html"], rendered["subject"]
        where = (kind, role, personal)
        assert text.startswith("Кому: ") and "Кому: " in html, where
        for bad in FORBIDDEN:
            assert bad not in text and bad not in subject, (where, bad)
        if STAMP.search(text):
            assert "UTC+7" in text, where
        if (kind, role) not in ACTS:
            assert "персональной ссылке" not in text, where
            continue
        if personal:
            assert f"Перейдите по персональной ссылке: {LINK}" in text, where
            assert f'href="{LINK}"' in html, where
            assert "ответьте на это письмо, указав" not in text and "Как сдать: ответьте" not in text, where
        else:
            assert "персональной ссылке" not in text, where
            assert "ответ" in text and "на это письмо" in text, where  # act by replying to the coordinator
        if kind != "recommendations":
            assert re.search(r"до \d\d\.\d\d\.\d{4} \d\d:\d\d по местному времени \(UTC\+7\)", text), where


def test_expert_letters_name_the_dou_under_review(letters):
    for kind in ("opened", "before_due", "due_today", "overdue", "missed"):
        item = letters[(kind, "expert")]
        text = render_item(FOLDER, kind, item)["text"]
        assert f"ДОУ, материалы которого вы оцениваете: {item['reviewed'][0]['institution_name']}" in text, kind
        assert not text.startswith(item["reviewed"][0]["institution_name"])


def test_the_operator_stage_names_the_operator(every, letters):
    submission = every[("opened", "institution", "operator-submission")]
    text = render_item(FOLDER, submission["kind"], submission)["text"]
    assert f"муниципальному оператору — {OPERATOR}." in text
    notice = render_item(FOLDER, "submitted", letters[("submitted", "operator")])
    assert "1. МАДОУ № 2\n   Материалы: https://dou2.example.org/final" in notice["text"]


def test_the_campaign_terms_name_the_institution(tmp_path):
    campaign = tmp_path / "kemerovo-like.yaml"
    text = TOMSK.read_text(encoding="utf-8").replace("  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n", 1)
    campaign.write_text(text, encoding="utf-8")
    found = first(built(tmp_path, campaign))
    expert = render_item(FOLDER, "before_due", found[("before_due", "expert")])["text"]
    assert "ДОО, материалы которой вы оцениваете:" in expert and "ДОУ, материалы" not in expert
    handout = render_item(FOLDER, "handout", found[("handout", "expert")])["text"]
    assert "ДОО, материалы которых вы оцениваете:" in handout and "для каждого ДОО" in handout
    event = render_item(FOLDER, "event", found[("event", "institution")])["text"]
    assert event.startswith("Кому: ответственным за мониторинг от ДОО")
    status = Cli(f"sqlite:///{tmp_path / 'w.db'}").ok("status", "--now", "2021-12-21 10:00")
    assert "ДОО по статусам" in status and "ДОУ по статусам" not in status


def test_a_declined_name_is_used_in_its_forms(tmp_path):
    campaign = tmp_path / "sad.yaml"
    terms = ("  terms:\n    institution: {nom: детский сад, gen: детского сада, dat: детскому саду, "
             "nom_pl: детские сады, gen_pl: детских садов}\n")
    campaign.write_text(TOMSK.read_text(encoding="utf-8").replace("  locale: ru\n", "  locale: ru\n" + terms, 1), encoding="utf-8")
    found = first(built(tmp_path, campaign))
    item = {**found[("before_due", "expert")], "reviewed": [{"institution_name": "МАДОУ № 6", "links": []}]}
    text = render_item(FOLDER, "before_due", item)["text"]
    assert "детский сад, материалы которого вы оцениваете: МАДОУ № 6" in text
    assert "детский сад пока ничего не сдал." in text
    assert "для каждого детского сада" in render_item(FOLDER, "handout", found[("handout", "expert")])["text"]


@pytest.mark.parametrize("zone, when, shown", [
    ("Asia/Tomsk", datetime(2021, 11, 30, 16, 59), "UTC+7"),
    ("Europe/Berlin", datetime(2021, 1, 15, 12, 0), "UTC+1"),
    ("Europe/Berlin", datetime(2021, 7, 15, 12, 0), "UTC+2"),  # the offset at that instant, summer time included
    ("Asia/Kolkata", datetime(2021, 7, 15, 12, 0), "UTC+5:30"),
    ("America/Sao_Paulo", datetime(2021, 7, 15, 12, 0), "UTC-3"),
    ("UTC", datetime(2021, 7, 15, 12, 0), "UTC+0"),
])
def test_utc_offset_is_written_as_people_write_it(zone, when, shown):
    assert utc_offset(when.replace(tzinfo=ZoneInfo("UTC")), ZoneInfo(zone)) == shown


def test_the_recommendations_letter_names_the_next_stage_and_the_dous_own_dates(tmp_path):
    """«…на следующем этапе» names it: the ДОУ's next stage by its label, from its opening to its deadline for that ДОУ
    (an extension counts); the text and the HTML part say the same."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    dq = Cli(db)
    dq.ok("load", str(TOMSK), "--now", "2021-11-10 09:00")
    for inst in ("2", "4"):
        dq.ok("submit", inst, "--stage", "fill-form", "--link", f"https://dou{inst}.example.org/form", "--now", "2021-11-22 10:00")
    dq.ok("tick", "--now", "2021-12-01 10:00")
    assigned = {a["institution"]: a["experts"] for a in dq.json("experts", "show", "list1")["assignments"]}
    for inst in ("2", "4"):
        dq.ok("review", inst, "--stage", "review1", "--expert", assigned[inst][0], *levels("conditions=1"), "--recommendations", "-",
              "--now", "2021-12-02 10:00", input="Дополнить раздел о родителях.")
    dq.ok("extend", "2", "--stage", "refill", "--until", "2021-12-15", "--reason", "карантин", "--now", "2021-12-03 10:00")
    dq.ok("tick", "--now", "2021-12-06 10:00")  # review1 locked: the recommendations are queued
    now = datetime(2021, 12, 6, 10, 0, tzinfo=TZ)
    with dry_run(connect(db)) as session:
        campaign_spec = engines.definition(session, None)
        writer = Writer(session, campaign_spec, now, COORDINATOR[1])
        rows = session.exec(select(OutboxRow).where(OutboxRow.kind == "recommendations").order_by(OutboxRow.id)).all()
        items = {row.institution_id: writer.letters.letter(session, row, None).item for row in rows}
    assert set(items) == {"2", "4"}
    said = {inst: render_item(FOLDER, "recommendations", item) for inst, item in items.items()}
    ours = "на следующем этапе — «Повторное заполнение формы», с 07.12.2021 до {} по местному времени (UTC+7)."
    assert ours.format("15.12.2021 23:59") in said["2"]["text"]  # ДОУ 2's extended deadline
    assert ours.format("12.12.2021 23:59") in said["4"]["text"]
    assert "на следующем этапе." not in said["4"]["text"] and "«Повторное заполнение формы», с 07.12.2021" in said["4"]["html"]
    assert "Дополнить раздел о родителях." in said["4"]["text"]


def test_a_form_campaigns_letters_ask_for_the_form_and_reviews_per_indicator(tmp_path):
    """Where the ДОУ's stage hands in the monitoring form and experts review per indicator, the letters say so — not
    «сдать ссылки на материалы» and «уровень по каждой области»; the links campaign's letters keep their wording."""
    from tests.test_form import form_file

    dq = Cli(f"sqlite:///{tmp_path / 'f.db'}")
    dq.ok("load", str(form_file(tmp_path)), "--now", "2021-11-10 09:00")
    dq.ok("tick", "--now", "2021-11-30 12:00")  # the form filled for 11 days, list 1 drawn and handed out
    with dry_run(connect(dq.db_url)) as session:
        writer = Writer(session, engines.definition(session, None), datetime(2021, 11, 30, 12, 0, tzinfo=TZ), COORDINATOR[1])
        found = {}
        for row in session.exec(select(OutboxRow).order_by(OutboxRow.id)).all():
            found.setdefault((row.kind, row.role, row.stage_id), writer.letters.letter(session, row, None).item)
    dou = found[("opened", "institution", "fill-form")]
    assert dou["form"] and dou["per_indicator"]
    for personal, said in ((LINK, "Там форма мониторинга: по каждому показателю ссылки на материалы, свой уровень и комментарий"),
                           (None, "укажите по каждому показателю ссылки на материалы")):
        rendered = render_item(FOLDER, "opened", {**dou, "link": personal})
        assert said in rendered["text"] and said in rendered["html"], personal
        assert "сдать ссылки на материалы" not in rendered["text"]
    handout = found[("handout", "expert", "handout1")]
    rendered = render_item(FOLDER, "handout", {**handout, "link": LINK})
    for text in (rendered["text"], rendered["html"]):
        assert "определите уровень по каждому показателю" in text and "по каждой области" not in text
        assert "форма для вашего уровня и комментария по каждому показателю" in text
    reply = render_item(FOLDER, "handout", handout)["text"]
    assert "уровень по каждому показателю и адресные рекомендации" in reply


def test_a_links_campaigns_letters_keep_links_and_areas(letters):
    dou = letters[("opened", "institution")]
    assert not dou["form"] and not dou["per_indicator"]
    assert "Там можно сдать ссылки на материалы" in render_item(FOLDER, "opened", {**dou, "link": LINK})["text"]
    assert "определите уровень по каждой области" in render_item(FOLDER, "handout", letters[("handout", "expert")])["text"]
