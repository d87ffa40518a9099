"""An order's schedule table, as plain text → a draft campaign file.

Every campaign starts as a table in an order: "Срок / Мероприятие / Ответственные / Результат",
one row per activity, copied out of a PDF or a word processor as text with tabs between the
cells. `campaign.schedule` reads the table's rows and their terms; `draft` writes the campaign
file: one stage per row with its dates, its kind and actor guessed from the wording, the
order's responsible and result kept, a `# guess:` comment on every value dqflow chose rather
than read, and the ДОУ the text names as a roster stub with placeholder addresses. Pure
functions of the text: reading the file and writing the draft are the CLI's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from dqflow.campaign import parser
from dqflow.campaign.schedule import NoYear, Row, Term, parse_term, rows
from dqflow.errors import DqflowError, Problem, SpecError
from dqflow.intake import files, table

MAX_TEXT = 4 * 1024 * 1024  # an order is a few pages; its text a few hundred kilobytes at most


# -- the draft --------------------------------------------------------------------------------------


@dataclass
class Stage:
    id: str
    kind: str
    actor: str | None
    title: str
    row: Row
    term: Term
    why: str  # how the kind was guessed
    url: str | None = None
    list_ref: Stage | str | None = None  # the assignment stage it follows, then its id
    list_number: int | None = None
    notes: dict[str, str] = field(default_factory=dict)  # key → the guess comment on its line


@dataclass(frozen=True)
class Options:
    campaign_id: str | None = None
    timezone: str | None = None


_KINDS = (  # first match wins: "Экспертный вебинар по итогам … экспертизы" is a webinar
    ("вебинар", "event", None), ("семинар", "event", None), ("совещани", "event", None), ("конференци", "event", None),
    ("выдач", "handout", "coordinator"),
    ("списк", "assignment", "coordinator"),
    ("экспертиз", "task", "expert"),
    ("заполнен", "task", "institution"),
)
_TASK_IDS = (("оператор", "operator-submission"), ("анализ", "analysis"), ("публикац", "publication"), ("размещен", "publication"),
             ("рекомендац", "recommendations"))
_TIMEZONES = (("томск", "Asia/Tomsk"), ("кемеров", "Asia/Novokuznetsk"), ("новокузнецк", "Asia/Novokuznetsk"),
              ("новосибирск", "Asia/Novosibirsk"), ("красноярск", "Asia/Krasnoyarsk"), ("омск", "Asia/Omsk"),
              ("барнаул", "Asia/Barnaul"), ("екатеринбург", "Asia/Yekaterinburg"), ("москв", "Europe/Moscow"))
_COUNTS = {"одного": 1, "одному": 1, "двух": 2, "двум": 2, "трех": 3, "трем": 3, "четырех": 4}
_INSTITUTION = re.compile(r"\b(?P<kind>М[АБК]?ДО[УО]|ДО[УО])\s*№\s*(?P<n>\d{1,4})\b")
_INSTITUTIONS = re.compile(r"\bДО[УО]\s*№№\s*(?P<ns>\d{1,4}(?:\s*,\s*\d{1,4})*)")
_URL = re.compile(r"https?://[^\s<>\"«»]+[^\s<>\"«».,;:)]")


def draft(text: str, file: str, options: Options = Options()) -> str:
    """The campaign file drafted from the order's text (SpecError located in `file` when the table
    cannot be read). The caller checks that it validates before writing it."""
    schedule = rows(text, file)
    order_date, order_number = _order_header(text)
    terms = _terms(schedule, file, order_date)
    stages = _stages(schedule, terms, order_date)
    roster = _roster(text)
    first_year = min(s.term.first or s.term.last for s in stages).year
    return _render(stages, roster, text, options, order_date, order_number, first_year)


def _order_header(text: str) -> tuple[date | None, str | None]:
    """The order's own date and number, from the lines above its title (`22.11.2021`, `№ 1138`)."""
    head = text[:3000]
    day = re.search(r"^\s*(\d{1,2})\.(\d{2})\.(\d{4})\s*(?:г\.?)?\s*$", head, re.MULTILINE)
    number = re.search(r"^\s*№\s*([\w/.-]{1,20})\s*$", head, re.MULTILINE)
    try:
        found = date(int(day[3]), int(day[2]), int(day[1])) if day else None
    except ValueError:
        found = None
    return found, number[1] if number else None


def _terms(schedule: list[Row], file: str, order_date: date | None) -> list[Term]:
    """Each row's term; a term without a year takes the year of the row above (or the order's)."""
    problems, terms = [], []
    known = [t for r in schedule if (t := _try(r.term))]
    year = order_date.year if order_date else (known[0].last.year if known else None)
    for row in schedule:
        try:
            term = parse_term(row.term, year)
        except NoYear:
            problems.append(Problem(file, row.line, row.column, f"в сроке «{row.term}» нет года, и в шапке приказа над таблицей его тоже нет; "
                                                                "впишите год хотя бы в один срок"))
            continue
        except ValueError as exc:
            problems.append(Problem(file, row.line, row.column, str(exc)))
            continue
        year = term.last.year
        terms.append(term)
    if problems:
        raise SpecError(problems)
    return terms


def _try(term: str) -> Term | None:
    try:
        return parse_term(term)
    except ValueError:
        return None


def _stages(schedule: list[Row], terms: list[Term], order_date: date | None) -> list[Stage]:
    stages: list[Stage] = []
    earliest = min(t.first or t.last for t in terms)
    for row, term in zip(schedule, terms):
        kind, actor, why = _guess_kind(row)
        url = _URL.search(row.activity)
        title = " ".join(_URL.sub(" ", row.activity).split()) or f"Мероприятие строки {row.line}"
        stage = Stage("", kind, actor, title, row, term, why, url=url.group() if url else None)
        if term.year_assumed:
            stage.notes["year"] = f"guess: the order gives no year here; {term.last.year} is the year of the row above or of the order"
        if term.first is None and kind == "event":
            stage.term = replace(term, first=term.last)
        elif term.first is None:
            opens = order_date if order_date and order_date <= term.last else min(earliest, term.last)
            stage.term = replace(term, first=opens)
            stage.notes["opens"] = (f"guess: the order gives only the deadline («{' '.join(row.term.split())}»); opens on "
                                    f"{'the date of the order' if opens == order_date else 'the first date of the table'}")
        stages.append(stage)
    _link_lists(stages)
    _name(stages)
    return stages


def _guess_kind(row: Row) -> tuple[str, str | None, str]:
    wording = row.activity.lower()
    for stem, kind, actor in _KINDS:
        if stem in wording:
            word = re.search(rf"\w*{stem}\w*", row.activity, re.IGNORECASE)
            return kind, actor, f"guess: from «{word.group() if word else stem}»"
    if re.search(r"\bДО[УО]\b", row.responsible):
        return "task", "institution", f"guess: the responsible «{row.responsible}» name the ДОУ"
    return "task", "coordinator", f"guess: the responsible «{row.responsible or '—'}» name no ДОУ"


def _link_lists(stages: list[Stage]) -> None:
    """Number the expert lists; point each handout and expert task at the list it names
    ("согласно списку 2"), else at the latest list before it; without any list they become tasks."""
    lists: list[Stage] = []
    for stage in stages:
        named = re.search(r"списк\w*\s*№?\s*(\d+)", f"{stage.row.activity} {stage.row.responsible}", re.IGNORECASE)
        if stage.kind == "assignment":
            stage.list_number = int(named[1]) if named else len(lists) + 1
            lists.append(stage)
            continue
        if not (stage.kind == "handout" or stage.actor == "expert"):
            continue
        target = next((s for s in lists if named and s.list_number == int(named[1])), lists[-1] if lists else None)
        if target is None:
            target = next((s for s in stages if s.kind == "assignment"), None)
        if target is None:
            actor = "coordinator" if stage.kind == "handout" else "institution"
            stage.why += f"; no expert list in the order, so a task of the {actor}"
            stage.kind, stage.actor = "task", actor
            continue
        stage.list_number = target.list_number
        stage.list_ref = target  # resolved to its id once the ids are made
        stage.notes["list"] = (f"guess: the list the row names (список {named[1]})" if named and int(named[1]) == target.list_number
                               else "guess: the latest expert list before this row")


def _name(stages: list[Stage]) -> None:
    seen: Counter[str] = Counter()
    for stage in stages:
        if stage.kind == "event":
            base = "webinar" if "вебинар" in stage.row.activity.lower() else "event"
        elif stage.kind == "assignment":
            base = f"list{stage.list_number}"
        elif stage.kind == "handout":
            base = f"handout{stage.list_number}"
        elif stage.actor == "expert":
            base = f"review{stage.list_number}"
        elif stage.actor == "institution":
            base = "operator-submission" if "оператор" in stage.row.activity.lower() else "fill-form"
        else:
            wording = stage.row.activity.lower()
            base = next((name for stem, name in _TASK_IDS if stem in wording), "coordinator-task")
        seen[base] += 1
        stage.id = base if seen[base] == 1 else f"{base}-{seen[base]}"
    for stage in stages:
        if isinstance(stage.list_ref, Stage):
            stage.list_ref = stage.list_ref.id


def _roster(text: str) -> list[tuple[str, str, str]]:
    """The ДОУ the text names: (number, name, where it was first found)."""
    kinds: dict[str, str] = {}
    where: dict[str, str] = {}
    for match in _INSTITUTION.finditer(text):
        n = str(int(match["n"]))
        if match["kind"] not in ("ДОУ", "ДОО") or n not in kinds:
            kinds[n] = match["kind"]
        where.setdefault(n, f"«{' '.join(match.group().split())}»")
    for match in _INSTITUTIONS.finditer(text):
        for number in re.findall(r"\d+", match["ns"]):
            n = str(int(number))
            kinds.setdefault(n, match.group()[:3])
            where.setdefault(n, f"«{' '.join(match.group().split())[:60]}»")
    return [(n, f"{kinds[n]} № {n}", where[n]) for n in sorted(kinds, key=int)]


# -- writing ----------------------------------------------------------------------------------------


def q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def _render(stages: list[Stage], roster: list[tuple[str, str, str]], text: str, options: Options,
            order_date: date | None, order_number: str | None, year: int) -> str:
    lowered = text.lower()
    zone = options.timezone or next((z for stem, z in _TIMEZONES if stem in lowered), None)
    zone_note = "" if options.timezone else (
        "  # guess: the order names the town of this zone" if zone else "  # guess: the order names no town dqflow knows; set the zone")
    zone = zone or "Europe/Moscow"
    coordinator = Counter(s.row.responsible for s in stages if s.actor == "coordinator" and s.row.responsible).most_common(1)
    out = [
        "# A draft campaign made by `dqflow import-order` from the order's schedule table.",
        "# Every value marked `# guess:` was chosen by dqflow, not read from the order: check each one,",
        "# replace the placeholder addresses (example.org), then run `dqflow validate` on this file.",
        "version: 1",
        "",
        "campaign:",
        f"  id: {options.campaign_id or f'monitoring-{year}'}" + ("" if options.campaign_id else "  # guess: give it with --id"),
        f"  title: {q(f'Мониторинг качества дошкольного образования, {year}')}  # guess: write the campaign's title",
        f"  timezone: {zone}{zone_note}",
        "  locale: ru",
    ]
    if order_date or order_number:
        out.append("  order:")
        if order_number:
            out.append(f"    number: {q(order_number)}  # found above the order's title")
        if order_date:
            out.append(f"    date: \"{order_date.isoformat()}\"  # found above the order's title")
    out += [
        "  coordinator:",
        f"    name: {q(coordinator[0][0] if coordinator else 'Координатор мониторинга')}"
        + ("  # guess: the responsible of the coordinator's rows" if coordinator else "  # guess: name the coordinator"),
        "    email: coordinator@example.org  # placeholder: the coordinator's address",
        "  calendar:",
        "    country: RU",
        "",
        "# The ДОУ the order's text names, with placeholder addresses and one placeholder expert each:",
        "# replace them with the real roster (or `institutions: {file: roster.csv}`, see the README).",
        "institutions:",
    ]
    for n, name, where in roster or [("1", "ДОУ № 1", "")]:
        expert = f"[{{id: e{n}, name: {q('Эксперт ' + name)}, email: expert{n}@example.org}}]"
        note = f"found as {where}" if where else "placeholder: the order names no ДОУ"
        out.append(f"  - {{id: {q(n)}, name: {q(name)}, email: dou{n}@example.org, experts: {expert}}}  # {note}")
    out += ["", "stages:"]
    count = len(roster) or 1
    for stage in stages:
        out += [""] + _render_stage(stage, stages, count)
    return "\n".join(out) + "\n"


def _one_name(title: str) -> str:
    """A title as `validate` compares stage names: case and spacing aside."""
    return " ".join(title.split()).casefold()


def _render_stage(stage: Stage, stages: list[Stage], institutions: int) -> list[str]:
    row, term = stage.row, stage.term
    first = term.first
    assert first is not None, "_stages gives every term its first day"
    out = [f"  - id: {stage.id}  # row of line {row.line}: «{' '.join(row.term.split())}»",
           f"    kind: {stage.kind}  # {stage.why}"]
    if stage.kind == "task":
        out.append(f"    actor: {stage.actor}  # {stage.why}")
    out.append(f"    title: {q(stage.title)}")
    same = [s for s in stages if _one_name(s.title) == _one_name(stage.title)]
    if len(same) > 1 and same.index(stage) > 0:  # one name for two stages is a validate error: tell them apart
        out.append(f"    short: {q(f'{stage.title} ({same.index(stage) + 1})')}  # guess: the order gives {len(same)} stages "
                   "this title; name each as people should read it")
    year_note = f"  # {stage.notes['year']}" if "year" in stage.notes else ""
    if stage.kind == "event":
        at = f"{first.isoformat()} {term.at:%H:%M}" if term.at else first.isoformat()
        note = year_note or (f"  # guess: the order gives {first:%d.%m}–{term.last:%d.%m}; the event is dated on its first day"
                             if first != term.last else "")
        out.append(f"    at: {at}{note}")
        if "экспертн" in row.activity.lower() or "эксперт" in row.responsible.lower():
            out.append("    audience: [institutions, experts]  # guess: an experts' webinar invites the experts too")
    else:
        opens_note = f"  # {stage.notes['opens']}" if "opens" in stage.notes else year_note
        out.append(f"    opens: {first.isoformat()}{opens_note}")
        due = f"{term.last.isoformat()} {term.at:%H:%M}" if term.at else term.last.isoformat()
        out.append(f"    due: {due}")
    if stage.list_ref:
        out.append(f"    list: {stage.list_ref}  # {stage.notes['list']}")
    if stage.kind == "assignment":
        wording = f"{row.activity} {row.result}".lower()
        said = next((n for word, n in _COUNTS.items() if re.search(rf"\b{word}\b", wording)), None)
        per = said or 2
        if per <= institutions - 1:
            note = f"read from «{next(w for w, n in _COUNTS.items() if n == said and w in wording)}»" if said else "guess: the orders ask for two"
            out.append(f"    experts_per_institution: {per}  # {note}")
        else:
            out.append(f"    # experts_per_institution: {per}  (too few ДОУ in the roster stub for {per} experts each: add ДОУ and experts)")
        number = stage.list_number or 0  # numbered by _link_lists
        earlier = [s for s in stages if s.kind == "assignment" and s.list_number is not None and s.list_number < number]
        if earlier:
            out.append(f"    distinct_from: {earlier[-1].id}  # guess: a later list gives each ДОУ other experts; delete to allow repeats")
    if stage.url:
        out.append(f"    url: {q(stage.url)}")
    if row.responsible:
        out.append(f"    responsible: {q(' '.join(row.responsible.split()))}")
    if row.result:
        out.append(f"    result: {q(' '.join(row.result.split()))}")
    return out


def check_id(campaign_id: str | None) -> None:
    if campaign_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", campaign_id):
        raise DqflowError(f"--id «{campaign_id}»: допустимы только строчные латинские буквы, цифры, «-» и «_», например tomsk-2022")


def read(path: str) -> str:
    """The text of the order file: UTF-8 or Windows-1251, bounded; one located line when not."""
    try:
        data = files.read_bytes(path, MAX_TEXT)
    except files.Unreadable as exc:
        raise SpecError([Problem(path, 1, 1, str(exc))]) from None
    text, _ = table.decode(data, path, save_as="текст UTF-8")
    return text


def checked(draft_text: str, out: Path) -> parser.Validated:
    """The draft as `dqflow validate` will see it at `out`; DqflowError when it would not validate
    (the order's dates span more than a campaign may, a title too long…), so nothing is written."""
    result = parser.validate_text(draft_text, str(out), base=out.parent)
    if result.errors:
        first = result.errors[0]
        more = f" (и ещё {len(result.errors) - 1})" if len(result.errors) > 1 else ""
        raise DqflowError(f"черновик не пройдёт проверку: строка {first.line}: {first.message}{more}; "
                          "исправьте таблицу приказа и импортируйте её снова")
    return result
