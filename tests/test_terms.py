"""The campaign file's vocabulary (`campaign.terms`), a stage's `short:` name and `submit_to: operator`."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest

from dqflow.campaign import spec
from dqflow.campaign.terms import Terms, guess_gender
from tests.conftest import TOMSK, Cli
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def validate(path: Path, tmp_path: Path):
    return Cli(f"sqlite:///{tmp_path / 'v.db'}")("validate", str(path))


def test_the_default_is_dou_and_survives_the_stored_json():
    campaign = spec.load(TOMSK)
    assert campaign.terms == Terms() and campaign.terms.forms()["which"] == "которого"
    assert spec.from_json(spec.to_json(campaign)) == campaign
    stored = spec.to_json(campaign)
    assert '"terms"' not in stored  # unused, left out: a file without it keeps the fingerprint of the release
    assert '"submit_to": "operator"' in stored and stored.count('"short"') == len(campaign.stages)
    released = spec.from_json(re.sub(r', "(short|submit_to)": "[^"]*"', "", stored))  # stored before these keys existed
    assert released.terms == Terms() and released.stage("refill").short is None


def test_terms_in_use_are_stored(workflow_copy):
    edit(workflow_copy, "  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n")
    campaign = spec.load(workflow_copy)
    assert spec.from_json(spec.to_json(campaign)).terms == campaign.terms != Terms()
    assert spec.digest(campaign) != spec.digest(spec.load(TOMSK))


def test_an_abbreviation_serves_every_form(workflow_copy):
    edit(workflow_copy, "  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n")
    terms = spec.load(workflow_copy).terms
    assert {terms.nom, terms.gen, terms.dat, terms.nom_pl, terms.gen_pl} == {"ДОО"}
    assert terms.which == "которой"  # дошкольная образовательная организация


def test_a_declinable_name_takes_its_forms_and_its_gender(workflow_copy):
    edit(workflow_copy, "  locale: ru\n", "  locale: ru\n  terms:\n    institution: {nom: детский сад, gen: детского сада, "
                                          "dat: детскому саду, nom_pl: детские сады, gen_pl: детских садов}\n")
    terms = spec.load(workflow_copy).terms
    assert (terms.gen, terms.gen_pl, terms.gender) == ("детского сада", "детских садов", "m")
    assert terms.forms()["past"] == ""  # «сдал»


@pytest.mark.parametrize("word, gender", [("ДОУ", "n"), ("ДОО", "f"), ("детский сад", "m"), ("школа", "f"), ("учреждение", "n")])
def test_gender_is_guessed_as_a_reader_would(word, gender):
    assert guess_gender(word) == gender


@pytest.mark.parametrize("value, message", [
    ("{institution: детский сад}", r"campaign\.terms\.institution: «детский сад» склоняется; укажите его формы: \{nom: …"),
    ("{institution: {nom: детский сад}}", r"campaign\.terms\.institution: нет обязательного ключа «dat»"),
    ("{institution: {nom: а, gen: б, dat: в, nom_pl: г, gen_pl: д, gender: x}}", r"campaign\.terms\.institution\.gender"),
    ("{institutions: ДОО}", r"campaign\.terms: неизвестный ключ «institutions»"),
    ("ДОО", r"campaign\.terms: ожидаются строки «ключ: значение»"),
])
def test_bad_terms_are_located_errors(workflow_copy, tmp_path, value, message):
    text = edit(workflow_copy, "  locale: ru\n", f"  locale: ru\n  terms: {value}\n")
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1
    line = line_of(text, "  terms:")
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: .*{message}", result.output, re.MULTILINE), result.output


def test_two_stages_of_one_name_are_an_error_at_the_later_stage(workflow_copy, tmp_path):
    text = edit(workflow_copy, "    short: Итоговая корректировка формы\n", "")
    text = edit(workflow_copy, "    short: Повторное заполнение формы\n", "")
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1, result.output
    line = line_of(text, "    title: Заполнение формы мониторинга\n    opens: 2021-12-15")
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: этап «final-fix» виден ДОУ и координатору под тем же "
                     r"названием «Заполнение формы мониторинга», что и этап «refill»; дайте одному из них отличное «short:»",
                     result.output, re.MULTILINE), result.output
    assert result.output.count("под тем же названием") == 1


def test_tomsk_stages_show_distinct_names(tmp_path):
    result = validate(TOMSK, tmp_path)
    assert result.exit_code == 0 and "под тем же названием" not in result.output
    campaign = spec.load(TOMSK)
    labels = [s.label for s in campaign.stages]
    assert len(set(labels)) == len(labels) == len(campaign.stages)
    assert campaign.stage("refill").title == campaign.stage("final-fix").title == "Заполнение формы мониторинга"  # the order's


def test_a_short_name_another_stage_has_is_an_error_at_its_short(workflow_copy, tmp_path):
    """The experts read review1, the ДОУ refill, but the coordinator reads both (status, the card, the calendar);
    a name differing only in case and spacing is the same name."""
    text = edit(workflow_copy, "    short: Повторное заполнение формы\n", "    short: повторное  заполнение формы\n")
    edit(workflow_copy, "    short: Первичная экспертиза\n", "    short: Повторное заполнение формы\n")
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1, result.output
    line = line_of(text, "    short: повторное  заполнение формы")
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: этап «refill» виден координатору под тем же названием "
                     r"«повторное  заполнение формы», что и этап «review1»;", result.output, re.MULTILINE), result.output


def test_submit_to_needs_an_institution_task_and_an_operator(workflow_copy, tmp_path):
    text = edit(workflow_copy, "    short: Аналитическая справка\n", "    short: Аналитическая справка\n    submit_to: operator\n")
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1
    line = line_of(text, "    short: Аналитическая справка\n    submit_to: operator") + 1
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: этап «analysis»: submit_to бывает только "
                     r"у задачи ДОУ \(actor: institution\)", result.output, re.MULTILINE), result.output
    edit(workflow_copy, "    short: Аналитическая справка\n    submit_to: operator\n", "    short: Аналитическая справка\n")
    text = edit(workflow_copy, "  operator:\n    name: Муниципальный оператор мониторинга\n    email: operator@imc.example.org\n", "")
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1
    line = line_of(text, "    submit_to: operator")
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: submit_to: operator: нужен campaign\.operator",
                     result.output, re.MULTILINE), result.output


def test_status_lines_and_the_replay_use_the_campaign_word(workflow_copy, db_url):
    edit(workflow_copy, "  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n")
    dq = Cli(db_url)
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    submitted = dq.ok("submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/f", "--now", "2021-11-22 10:00")
    assert submitted.startswith("ДОО 2, этап «Первичное заполнение формы»: сдано 22.11.2021 10:00")
    ticked = dq.ok("tick", "--now", "2021-12-01 10:00")
    assert re.search(r"Первичное заполнение формы: открыт → пропущено — ДОО \d", ticked), ticked
    assert "ДОО по статусам" in dq.ok("status", "--now", "2021-12-01 10:00")
    replay = Cli(db_url)("simulate", str(workflow_copy)).output
    assert re.search(r"ДОО \d+ сдал\(а\) «fill-form»", replay) and re.search(r"fill-form: \d+ ДОО открыт → ", replay)
    assert not re.search(r"(?<![МА-Я])ДОУ \d", replay)


def test_outbox_why_and_the_commands_name_the_institution_in_the_campaign_word(workflow_copy, db_url, smtp_server):  # noqa: F811
    """Skip reasons, `why`'s gaps, the amendment plan and the commands' answers say ДОО in a campaign that says ДОО."""
    edit(workflow_copy, "  locale: ru\n", "  locale: ru\n  terms: {institution: ДОО}\n")
    dq = Cli(db_url)
    dq.ok("load", str(workflow_copy), "--now", "2021-11-10 09:00")
    said = [dq.ok("excuse", "5", "--stage", "fill-form", "--reason", "ремонт", "--now", "2021-11-18 10:00"),
            dq.ok("extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "болезнь", "--now", "2021-11-18 10:00")]
    assert said[0].startswith("ДОО 5 освобождена от этапа «Первичное заполнение формы»")
    assert said[1].startswith("ДОО 4, этап «Первичное заполнение формы»: срок продлён")
    Cli(db_url, env=smtp_server.env()).ok("send", "--now", "2021-11-19 09:00")
    edit(workflow_copy, '  - {id: "6", name: МАДОУ № 6, email: dou6@example.org, experts: [{id: e6, name: Эксперт ДОУ № 6, '
                        'email: expert6@example.org}]}\n', "")
    said.append(dq.ok("load", str(workflow_copy), "--now", "2021-11-22 10:00"))
    assert "ДОО «МАДОУ № 6» выбывает" in said[-1] and "(ДОО или эксперт выбыл из кампании)" in said[-1]
    dq.ok("load", str(workflow_copy), "--now", "2021-11-22 10:00", "--apply", "--reason", "закрыта")
    said.append(dq.ok("outbox", "--state", "skipped"))
    assert "ДОО освобождена от этапа" in said[-1] and "ДОО или эксперт выбыл из кампании" in said[-1]
    said.append(dq.ok("why", "dou5@example.org", "--stage", "fill-form"))
    assert "не отправлено: ДОО освобождена от этапа" in said[-1]
    said.append(dq.ok("why", "nobody@example.org"))
    assert "его нет ни у ДОО, ни у экспертов" in said[-1]
    for text in said:
        assert not re.search(r"(?<![МА-Я])ДОУ(?! №)", text), text  # «Эксперт ДОУ № 6» is a roster name, not dqflow's word


NOTIFICATIONS = Path(__file__).resolve().parent.parent / "notifications"


def test_every_word_the_letters_ask_of_terms_is_given():
    """What a letter's template asks of `item.terms` is in `Terms.forms()` (the templates render with undefined names
    refused: a word left out failed the whole send the first time a letter asked it)."""
    asked = {word for path in NOTIFICATIONS.rglob("*.*") for word in re.findall(r"item\.terms\.(\w+)", path.read_text(encoding="utf-8"))}
    assert {"gen", "your_gen"} <= asked  # the scan sees the templates
    for terms in (Terms(), Terms(nom="ДОО", gen="ДОО", dat="ДОО", nom_pl="ДОО", gen_pl="ДОО", gender="f")):
        assert asked <= set(terms.forms()), asked - set(terms.forms())
    assert Terms(gender="f").forms()["your_gen"] == "вашей" and Terms().forms()["your_gen"] == "вашего"


def test_kemerovo_replays_with_its_letters_written(tmp_path):
    """The Kemerovo order's replay writes every letter, the experts' recommendations after its last review too («этапов
    мониторинга для вашей ДОО больше нет»: the word `your_gen` the letters once lacked)."""
    maildir = tmp_path / "mail"
    result = Cli(f"sqlite:///{tmp_path / 'k.db'}")("simulate", str(TOMSK.parent / "kemerovo.yaml"), "--maildir", str(maildir))
    assert result.exit_code == 0, result.output
    letters = [p.read_bytes() for p in maildir.rglob("*.eml")]
    assert len(letters) > 10
    bodies = [email.message_from_bytes(b, policy=policy.default).get_body(preferencelist=("plain",)).get_content() for b in letters]
    assert any("этапов мониторинга для вашей ДОО больше нет" in body for body in bodies)
