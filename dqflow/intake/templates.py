"""Email templates: a sandboxed jinja2 environment per folder, checked before anything is sent.

Each kind has `KIND.txt` (blocks `subject` and `body`) and `KIND.html` (block `body`);
`message.*` wraps one recipient's items into one message. HTML is autoescaped, text is not;
an undefined name is an error, never an empty string. Rendering is bounded in work, time
and size (`sandbox`): a campaign's own templates cannot hang dqflow or exhaust its memory.
The bundled templates are ours: `validate` checks them in the sandbox like any other, and a
send renders them with a plain environment, without the sandbox's checks at every step.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dqflow.intake.sandbox import BoundedEnvironment

KINDS = ("opened", "before_due", "due_today", "overdue", "missed", "event", "digest", "handout", "handout_copy", "recommendations",
         "submitted", "changed")
LAYOUT = "message"


def default_folder(locale: str) -> Path:
    """The bundled templates of a locale: package data of `dqflow.notifications` (`notifications/` in the checkout).

    A real folder, as jinja2's FileSystemLoader needs: pip and pipx install a wheel unpacked,
    and an editable install maps the package to the checkout's folder.
    """
    return Path(str(files("dqflow.notifications") / locale))


def environment(folder: str) -> BoundedEnvironment:
    """The sandboxed environment of a folder of templates (a campaign's own; `validate` checks ours in it too)."""
    from dqflow.intake import environments  # jinja2: loaded by what renders or checks templates, not by every command

    return environments.sandboxed(folder)


def render_blocks(folder: str, name: str, blocks: tuple[str, ...], context: dict[str, Any]) -> list[str]:
    """The named blocks of one template rendered with one context (building a context is most
    of the cost of a small block): a campaign's own within the sandbox's bounds, ours directly."""
    from dqflow.intake import environments
    from dqflow.intake.sandbox import render_parts

    if _bundled(folder):
        return environments.Trusted.of(folder, name).render(context, blocks)
    return [text.strip() for text in render_parts(environments.sandboxed(folder).get_template(name), context, blocks)]


@lru_cache(maxsize=8)
def _bundled(folder: str) -> bool:
    return Path(folder).resolve().parent == Path(str(files("dqflow.notifications"))).resolve()


@lru_cache(maxsize=64)
def subject_reads(folder: str, kind: str) -> tuple[tuple[str, bool], ...] | None:
    """What the subject of a kind's letter reads of its item, as (field, whole): whole False when only the
    field's length is read. Its subject is then the same for every item holding the same such values,
    and can be rendered once for them. None when the block does anything else (includes, calls, loops,
    subscripts, names other than `item.FIELD`, a filter or test outside a few pure ones): then it is
    rendered for each letter."""
    from dqflow.intake import environments

    return environments.subject_reads(folder, kind)


def render_block(folder: str, name: str, block: str, context: dict[str, Any]) -> str:
    return render_blocks(folder, name, (block,), context)[0]


def render_item(folder: str, kind: str, item: dict[str, Any]) -> dict[str, str]:
    """One item's subject, text and HTML, rendered with `item` in scope."""
    context = {"item": item}
    subject, text = render_blocks(folder, f"{kind}.txt", ("subject", "body"), context)
    return {"subject": subject, "text": text, "html": render_block(folder, f"{kind}.html", "body", context)}


SAMPLE_ITEM = {
    "kind": "before_due", "role": "institution", "stage_id": "fill-form", "stage_title": "Заполнение формы мониторинга",
    "stage_short": "Заполнение формы", "result": "Сбор и оформление ссылок на материалы мониторинга",
    "url": "https://example.org/form", "institution_id": "2", "institution_name": "МАДОУ № 2",
    "deadline": "30.11.2021 23:59", "lock": "02.12.2021 23:59", "offset": "UTC+7", "extended": False,
    "event_at": "19.11.2021 14:00", "event_date": "19.11.2021", "event_time": "14:00",
    "links": ["https://example.org/dou2"], "reviewed": [{"institution_name": "МАДОУ № 2", "links": ["https://example.org/dou2"]}],
    "submit_to": {"name": "Муниципальный оператор", "email": "operator@example.org"},
    "form": True, "per_indicator": True,  # the ДОУ's stage hands in the monitoring form; experts review per indicator
    "terms": {"nom": "ДОУ", "gen": "ДОУ", "dat": "ДОУ", "nom_pl": "ДОУ", "gen_pl": "ДОУ", "which": "которого", "past": "о"},
    "link": "https://portal.example.org/dou/2/1.sample", "day": "01.12.2021",
    "unopened": [{"url": "https://disk.example.org/d/2", "state": "доступ закрыт", "detail": "просмотр запрещён (HTTP 403)",
                  "advice": "откройте доступ по ссылке", "checked": "29.11.2021 09:00"}],  # a ДОУ's links that do not open
    "overdue": [{"institution_name": "МАДОУ № 2", "stage_title": "Заполнение формы", "deadline": "30.11.2021 23:59", "lock": "02.12.2021 23:59",
                 "experts": []}],
    "missed": [{"institution_name": "МАДОУ № 4", "stage_title": "Экспертиза", "lock": "30.11.2021 23:59",
                "experts": ["Эксперт ДОУ № 5"]}],
    "no_materials": [{"institution_name": "МАДОУ № 6", "stage_title": "Экспертиза"}],
    "dead": [{"recipient": "dou5@example.org", "error": "550 mailbox unavailable"}],
    "review_id": "review1", "review_title": "Первичная внутренняя экспертиза", "review_short": "Первичная экспертиза",
    "assigned": [{"institution_id": "4", "institution_name": "МБДОУ № 4", "links": ["https://example.org/dou4"]}],
    "rows": [{"institution_name": "МАДОУ № 2", "experts": ["Эксперт ДОУ № 4", "Эксперт ДОУ № 5"], "added": ["Эксперт ДОУ № 5"]}],
    "addition": False,  # a handout or its copy that adds to a list handed out before
    "submissions": [{"institution_name": "МАДОУ № 2", "links": ["https://example.org/dou2/form"]}],
    "reviews": [{"n": 1, "recommendations": "Дополнить раздел.", "levels": [{"area": "Образовательные условия", "level": "Базовый уровень"}]}],
    "changes": [{"what": "extended", "stage_title": "Заполнение формы мониторинга", "stage_short": "Заполнение формы",
                 "institution_name": "МАДОУ № 2", "deadline": "14.12.2021 23:59", "old_deadline": "05.12.2021 23:59", "lock": "",
                 "old_lock": "", "opens": "", "old_opens": "", "reason": "карантин", "by": "координатор (командная строка)",
                 "old_address": "", "new_address": "", "offset": "UTC+7"}],  # what changed for the reader
    "change": "extended",  # which change a change letter tells (`engine.changes`)
    "next_stage": {"label": "Повторное заполнение формы", "opens": "07.12.2021", "deadline": "12.12.2021 23:59",
                   "offset": "UTC+7"},  # where a ДОУ uses its recommendations (None: nothing left to do)
}


def sample_context(kind: str) -> dict[str, Any]:
    """The names every template may use: what the mailer really passes, with sample values."""
    if kind == LAYOUT:
        return {"campaign_title": "Мониторинг", "coordinator_name": "КДО", "coordinator_email": "kdo@example.org",
                "items": [{"text": "…", "html": "…", "subject": "…"}]}
    return {"item": SAMPLE_ITEM}


def problems(folder: Path) -> list[tuple[str, int, str]]:
    """(file, line, message) for every missing, broken or unrenderable template."""
    from jinja2 import TemplateError, TemplateSyntaxError

    from dqflow.intake.sandbox import render

    found = []
    for kind in (*KINDS, LAYOUT):
        for suffix, blocks in ((".txt", ("subject", "body")), (".html", ("body",))):
            name = kind + suffix
            path = folder / name
            if not path.is_file():
                found.append((str(path), 1, f"нет шаблона {name} (для каждого вида письма нужны .txt и .html: {', '.join(KINDS)}, "
                                            f"{LAYOUT}); добавьте его"))
                continue
            try:
                template = environment(str(folder)).get_template(name)
            except TemplateSyntaxError as exc:
                found.append((str(path), exc.lineno or 1, f"синтаксис шаблона: {exc.message}"))
                continue
            except TemplateError as exc:
                found.append((str(path), 1, f"шаблон: {exc}"))
                continue
            for block in blocks:
                if block not in template.blocks:
                    found.append((str(path), 1, f"шаблону {name} нужен {{% block {block} %}}; добавьте его"))
            if any(block not in template.blocks for block in blocks):
                continue
            context = sample_context(kind)
            try:
                render(template, context)  # errors come back with the template's lines
            except TemplateError as exc:
                found.append((str(path), _line(exc), f"шаблон {name} не отрисовывается: {exc}"))
    return found


def _line(exc: Exception) -> int:
    tb = exc.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith((".txt", ".html")):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
