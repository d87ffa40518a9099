"""Email templates: every kind renders, HTML escapes, headers stay single-line, broken folders fail validate."""

from __future__ import annotations

import email
import itertools
import email.policy
import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dqflow.delivery.mail import HeaderInjection, Letter, compose
from dqflow.intake.sandbox import render_parts
from dqflow.intake.templates import (KINDS, LAYOUT, SAMPLE_ITEM, _bundled, default_folder, environment, render_block, render_blocks, render_item,
                              sample_context, subject_reads)
from tests.conftest import ROOT, TOMSK, Cli

FOLDER = str(default_folder("ru"))
HOSTILE = "<script>alert(1)</script>"
CYRILLIC = re.compile("[а-яА-ЯёЁ]")
LAYOUT_CONTEXT = {"campaign_title": "Мониторинг <b>2021</b>", "coordinator_name": "КДО МАУ ИМЦ",
                  "coordinator_email": "kdo@imc.example.org"}


def hostile_item(kind: str) -> dict:
    """The sample item with the hostile name everywhere a ДОУ name or a title can appear."""
    item = {**SAMPLE_ITEM, "kind": kind, "institution_name": HOSTILE, "stage_title": f"Этап {HOSTILE}",
            "stage_short": f"Этап {HOSTILE}", "review_title": f"Экспертиза {HOSTILE}", "review_short": f"Экспертиза {HOSTILE}"}
    item["overdue"] = [{**row, "institution_name": HOSTILE} for row in SAMPLE_ITEM["overdue"]]
    item["missed"] = [{**row, "institution_name": HOSTILE} for row in SAMPLE_ITEM["missed"]]
    item["dead"] = [{"recipient": "dou5@example.org", "error": f"550 {HOSTILE}"}]
    item["assigned"] = [{**row, "institution_name": HOSTILE} for row in SAMPLE_ITEM["assigned"]]
    item["rows"] = [{"institution_name": HOSTILE, "experts": [HOSTILE]}]
    item["reviews"] = [{"n": 1, "recommendations": f"Дополнить раздел {HOSTILE}", "levels": SAMPLE_ITEM["reviews"][0]["levels"]}]
    return item


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_cyrillic_and_escapes_html(kind):
    rendered = render_item(FOLDER, kind, hostile_item(kind))
    assert rendered["subject"] and CYRILLIC.search(rendered["subject"])
    assert "\n" not in rendered["subject"] and "\r" not in rendered["subject"]
    assert CYRILLIC.search(rendered["text"]) and CYRILLIC.search(rendered["html"])
    assert "<script>" not in rendered["html"]
    assert HOSTILE in rendered["text"], "the hostile name must actually be shown (plain text is not escaped)"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered["html"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_composes_into_a_parseable_message(kind):
    message = compose(folder=FOLDER, letters=[Letter(kind, hostile_item(kind))], recipient="dou2@example.org",
                      sender="monitoring@imc.example.org", reply_to="kdo@imc.example.org",
                      when=datetime(2021, 11, 19, 9, 0, tzinfo=ZoneInfo("Asia/Tomsk")), msg_id="<t@imc.example.org>",
                      layout=LAYOUT_CONTEXT)
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert CYRILLIC.search(parsed["Subject"])
    html = parsed.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Мониторинг &lt;b&gt;2021&lt;/b&gt;" in html  # the layout escapes too
    assert HOSTILE in parsed.get_body(("plain",)).get_content()


@pytest.mark.parametrize("field", ["stage_title", "institution_name"])
def test_line_break_in_a_name_cannot_inject_a_header(field):
    item = {**SAMPLE_ITEM, field: "МАДОУ № 2\r\nBcc: victim@evil.example"}
    try:
        message = compose(folder=FOLDER, letters=[Letter("opened", item)], recipient="dou2@example.org",
                          sender="monitoring@imc.example.org", reply_to="kdo@imc.example.org",
                          when=datetime(2021, 11, 19, 9, 0, tzinfo=ZoneInfo("Asia/Tomsk")), msg_id="<t@imc.example.org>",
                          layout=LAYOUT_CONTEXT)
    except HeaderInjection:
        return  # rejected cleanly
    raw = message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    headers = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    assert not re.search(rb"^Bcc:", headers, re.MULTILINE | re.IGNORECASE)
    for part in parsed.walk():  # nor a header of any MIME part
        assert part["Bcc"] is None
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


@pytest.mark.parametrize("where", ["institution", "stage"])
def test_campaign_names_with_line_breaks_are_rejected_at_validate(tmp_path, db_url, where):
    text = TOMSK.read_text(encoding="utf-8")
    if where == "institution":
        text = text.replace('name: МАДОУ № 2,', 'name: "МАДОУ № 2\\r\\nBcc: victim@evil.example",', 1)
    else:
        text = text.replace("    title: Заполнение утвержденной формы мониторинга\n",
                            '    title: "Заполнение\\r\\nBcc: victim@evil.example"\n', 1)
    assert "Bcc" in text
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    dq = Cli(db_url)
    result = dq("validate", str(path))
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(path))}:\d+:\d+: ошибка: .*одну строку", result.output, re.MULTILINE), result.output
    result = dq("load", str(path))
    assert result.exit_code == 1


# -- a campaign's own template folder ----------------------------------------------


@pytest.fixture
def custom(workflow_copy: Path) -> tuple[Path, Path]:
    """The Tomsk copy pointing `notifications:` at a copy of the bundled templates."""
    folder = workflow_copy.parent / "my-templates"
    shutil.copytree(FOLDER, folder)
    text = workflow_copy.read_text(encoding="utf-8")
    text = text.replace("  sending:\n", "  notifications: my-templates/\n  sending:\n", 1)
    workflow_copy.write_text(text, encoding="utf-8")
    return workflow_copy, folder


def validate(campaign: Path, tmp_path: Path):
    return Cli(f"sqlite:///{tmp_path / 'v.db'}")("validate", str(campaign))


def test_intact_custom_folder_validates(custom, tmp_path):
    campaign, _ = custom
    result = validate(campaign, tmp_path)
    assert result.exit_code == 0, result.output


def test_custom_folder_templates_are_the_ones_sent(custom, db_url):
    campaign, folder = custom
    path = folder / "opened.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("{% else %}Открыт этап", "{% else %}СВОЙ ШАБЛОН: этап"), encoding="utf-8")
    dq = Cli(db_url)
    dq.ok("load", str(campaign), "--now", "2021-11-10 09:00")
    out = dq.ok("remind", "--dry-run", "--now", "2021-11-19 15:00")  # after the webinar: the notice alone
    assert "СВОЙ ШАБЛОН: этап «Первичное заполнение формы»" in out


def test_missing_template_fails_validate(custom, tmp_path):
    campaign, folder = custom
    (folder / "overdue.html").unlink()
    result = validate(campaign, tmp_path)
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(folder / 'overdue.html'))}:1:\d+: ошибка: .*нет шаблона", result.output, re.MULTILINE), result.output


def test_template_syntax_error_fails_validate_with_its_line(custom, tmp_path):
    campaign, folder = custom
    path = folder / "before_due.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "{% if item.deadline %}не закрыто")  # line 3, never closed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate(campaign, tmp_path)
    assert result.exit_code == 1
    found = re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): ошибка: (.*)$", result.output, re.MULTILINE)
    assert found, result.output
    assert "синтаксис шаблона" in found[0][2]
    assert int(found[0][0]) >= 3


def test_undefined_variable_fails_validate_with_its_line(custom, tmp_path):
    campaign, folder = custom
    path = folder / "due_today.html"
    lines = path.read_text(encoding="utf-8").splitlines()
    body = next(n for n, line in enumerate(lines) if "block body" in line)
    lines.insert(body + 1, "<p>{{ item.no_such_name }}</p>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate(campaign, tmp_path)
    assert result.exit_code == 1
    found = re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): ошибка: (.*)$", result.output, re.MULTILINE)
    assert found, result.output
    assert int(found[0][0]) == body + 2
    assert "no_such_name" in found[0][2]


def test_undefined_variable_in_layout_fails_validate(custom, tmp_path):
    campaign, folder = custom
    path = folder / f"{LAYOUT}.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ coordinator_email }}", "{{ time_zone_name }}"), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "time_zone_name" in text)
    result = validate(campaign, tmp_path)
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(path))}:{line}:\d+: ошибка: .*time_zone_name", result.output, re.MULTILINE), result.output


def test_missing_block_fails_validate(custom, tmp_path):
    campaign, folder = custom
    (folder / "event.txt").write_text("{% block body %}Вебинар{% endblock %}\n", encoding="utf-8")
    result = validate(campaign, tmp_path)
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(folder / 'event.txt'))}:\d+:\d+: ошибка: .*subject", result.output, re.MULTILINE), result.output


def test_missing_folder_fails_validate_at_the_key(workflow_copy, tmp_path):
    text = workflow_copy.read_text(encoding="utf-8").replace("  sending:\n", "  notifications: nowhere/\n  sending:\n", 1)
    workflow_copy.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "notifications: nowhere/" in t)
    result = validate(workflow_copy, tmp_path)
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(workflow_copy))}:{line}:\d+: ошибка: .*nowhere", result.output, re.MULTILINE), result.output


def test_broken_folder_refuses_load(custom, db_url):
    campaign, folder = custom
    (folder / "missed.txt").write_text("{% block subject %}{{ item.deadline {% endblock %}\n", encoding="utf-8")
    dq = Cli(db_url)
    result = dq("load", str(campaign), "--now", "2021-11-10 09:00")
    assert result.exit_code == 1
    assert str(folder / "missed.txt") in result.output
    assert dq("status").exit_code == 1  # nothing was loaded


def test_our_templates_render_outside_the_sandbox_exactly_as_inside_and_a_campaigns_own_never_do(tmp_path):
    """A send renders the bundled templates with a plain environment; `validate` checks them in
    the sandbox. Both must give the same text, and a copy in a campaign's folder is not ours."""
    ours = str(default_folder("ru"))
    assert _bundled(ours)
    copy = tmp_path / "ru"
    shutil.copytree(ours, copy)
    assert not _bundled(str(copy))
    for kind in (*KINDS, LAYOUT):
        for suffix, blocks in ((".txt", ("subject", "body")), (".html", ("body",))):
            context = sample_context(kind)
            sandboxed = [t.strip() for t in render_parts(environment(ours).get_template(kind + suffix), context, blocks)]
            assert render_blocks(ours, kind + suffix, blocks, context) == sandboxed
            assert render_blocks(str(copy), kind + suffix, blocks, context) == sandboxed


@pytest.mark.parametrize("kind", KINDS)
def test_our_templates_with_their_parts_written_in_place_say_what_the_sandbox_says_for_every_role(kind):
    """A send writes our `{% include %}`s in place (an include copies the context each time): for
    every role, with and without a portal link, a ДОУ name, an operator and reviewed ДОУ, the text
    is the sandbox's, which includes them."""
    ours = str(default_folder("ru"))
    for role, link, name, reviewed, submit_to in itertools.product(
            ("expert", "institution", "coordinator", "operator"), (None, "https://portal.example.org/dou/2/1.x"),
            (None, "МАДОУ № 2"), (0, 1, 2), (None, SAMPLE_ITEM["submit_to"])):
        item = {**SAMPLE_ITEM, "kind": kind, "role": role, "link": link, "institution_name": name,
                "reviewed": SAMPLE_ITEM["reviewed"] * reviewed, "submit_to": submit_to}
        for suffix, blocks in ((".txt", ("subject", "body")), (".html", ("body",))):
            sandboxed = [t.strip() for t in render_parts(environment(ours).get_template(kind + suffix), {"item": item}, blocks)]
            assert render_blocks(ours, kind + suffix, blocks, {"item": item}) == sandboxed, (kind + suffix, role, link, name)


# -- what a subject reads ------------------------------------------------------------------------


SUBJECTS_READ = {
    "{{ item.x }} — {{ item.y|length }}": (("x", True), ("y", False)),
    "{{ item.y|length }}: {{ item.y|join(', ') }}": (("y", True),),  # read whole somewhere: whole
    "{% if item.flag %}{{ item.terms.nom|upper }}{% else %}-{% endif %}": (("flag", True), ("terms", True)),
    "{{ item.a or item.b }}{% if item.n is none %}!{% endif %}": (("a", True), ("b", True), ("n", True)),
    "постоянная тема": (),
}
SUBJECTS_REFUSED = (
    "{% for a in item.l %}{{ a }}{% endfor %}",  # a loop
    "{{ item.x.upper() }}",  # a call
    "{{ other }}",  # a name other than item
    "{{ item['x'] }}",  # a subscript
    "{{ item.x|random }}",  # not a function of its input
    "{{ item.x|default('-') }}",  # sees whether the field is there
    "{% if item.x is defined %}x{% endif %}",
    "{{ item.keys }}",  # jinja reads the dict's method, not a field
    "{% include 'other.txt' %}",
    "{% set z = item.x %}{{ z }}",
)


@pytest.mark.parametrize("subject", [*SUBJECTS_READ, *SUBJECTS_REFUSED])
def test_a_subject_is_shared_only_when_it_reads_nothing_but_fields_of_its_item(tmp_path: Path, subject: str):
    """A send nobody keeps renders a subject once for every letter holding the same values of what the subject
    reads (`Writer.headers_only`): only plain reads of item.FIELD (whole, or a list's length) and pure filters
    and tests qualify; anything else is rendered for each letter."""
    (tmp_path / "before_due.txt").write_text("{% block subject %}" + subject + "{% endblock %}\n{% block body %}-{% endblock %}\n",
                                             encoding="utf-8")
    (tmp_path / "other.txt").write_text("{{ item.x }}", encoding="utf-8")
    assert subject_reads(str(tmp_path), "before_due") == SUBJECTS_READ.get(subject)


def test_the_bundled_subjects_are_all_shared_and_read_what_they_show(tmp_path: Path):
    """Every bundled kind's subject qualifies, and changing any field it does not read leaves the subject
    as it was: letters sharing the values it reads share their subject."""
    folder = str(default_folder("ru"))
    for kind in KINDS:
        reads = subject_reads(folder, kind)
        assert reads is not None, kind
        read = {name for name, _ in reads}
        subject = render_block(folder, f"{kind}.txt", "subject", {"item": SAMPLE_ITEM})
        for name, value in SAMPLE_ITEM.items():
            changed = {**SAMPLE_ITEM, name: ["x", "y", "z", "w"] if isinstance(value, list) else {} if isinstance(value, dict)
                       else "другое значение" if isinstance(value, str) else not value}
            try:
                other = render_block(folder, f"{kind}.txt", "subject", {"item": changed})
            except Exception:  # a value the template cannot take (it reads it): it is among what it reads
                assert name in read, (kind, name)
                continue
            assert name in read or other == subject, (kind, name)
