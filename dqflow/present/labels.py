"""The words people read, each said once: statuses, stage states and kinds, audit actions, who acted,
reminder rules, why a letter was not sent, which rule an expert list breaks.

The domain keeps codes (`Status`, `skips.Skip`, `allocation.Rule`…); the terminal, the portal, the
справка and the letters turn them into Russian here. The institution is named in the campaign's own
word (ДОУ, ДОО…): the functions that name it take the campaign's `Terms`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dqflow.campaign.terms import DEFAULT as DOU
from dqflow.campaign.terms import Terms
from dqflow.engine import skips
from dqflow.engine.skips import Skip

if TYPE_CHECKING:
    from dqflow.campaign.spec import Campaign
    from dqflow.engine.allocation import Rule

STATUS_RU = {
    "upcoming": "ожидается",
    "open": "открыт",
    "done": "выполнено",
    "late": "с опозданием",
    "missed": "пропущено",
    "excused": "освобождён",
    "no-materials": "нет материалов",  # a review of a ДОУ that handed in nothing: not due (`rules.Status.NOTHING`)
}
# A status in one narrow column of the terminal's table of ДОУ × stages.
SHORT = {"upcoming": "·", "open": "открыт", "done": "✓", "late": "✓ позже", "missed": "✗", "excused": "осв.", "no-materials": "нет мат."}
NO_MATERIALS_RU = "нет материалов для экспертизы"  # the coordinator's heading for the reviews of nothing
STATE_RU = {"scheduled": "запланирован", "open": "открыт", "locked": "закрыт", "held": "проведён"}
KIND_RU = {"task": "задача", "event": "событие", "assignment": "список экспертов", "handout": "выдача форм"}
# Where a ДОУ stands as a whole (`engine.InstitutionView.state`); an open stage's id is said by its name (`state_ru`).
INSTITUTION_STATE_RU = {"finished": "всё завершено", "waiting": "ждёт этапа", "withdrawn": "выбыл"}
ACTION_RU = {
    "load": "кампания загружена",
    "open": "этап открыт",
    "lock": "этап закрыт",
    "hold": "событие состоялось",
    "submit": "материалы сданы",
    "resubmit": "материалы дополнены",
    "form-save": "форма: показатель сохранён в черновик",
    "extend": "срок продлён",
    "reopen": "этап открыт повторно",
    "excuse": "освобождён от этапа",
    "review": "экспертиза записана",
    "review-update": "экспертиза исправлена",
    "link-revoke": "личная ссылка отозвана, выдана новая",
    "amend": "кампания изменена",
    "amend-stage": "этап изменён",
    "readdress": "адрес исправлен",
    "withdraw": "выбыл из кампании",
    "join": "добавлен в кампанию",
    "settle": "уровень показателя согласован координатором",
}
AMENDED_DATES_RU = "сроки изменены приказом о внесении изменений"  # an amendment's row that moved a ДОУ's (or a stage's) times
TIMES_RU = {"opens_at": "открытие", "due_at": "срок", "locks_at": "закрытие"}
REVIEWS_DONE_RU = "экспертиза завершена, все эксперты отчитались"  # a review stage done by its last expert's review
OUTBOX_STATE_RU = {"pending": "ожидает", "sent": "отправлено", "skipped": "пропущено", "failed": "повтор", "dead": "не доставлено"}
WEEKDAY_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
WEEKDAY_FULL_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def stage_name(campaign: Campaign | None, stage_id: str) -> str:
    """The name people read for a stage (`Stage.label`: its `short:` or else its title); the id of one the
    campaign no longer has (an amendment removed it), or when no campaign is at hand."""
    stage = campaign.stage(stage_id) if campaign is not None else None
    return stage.label if stage is not None else stage_id


def expert_name(campaign: Campaign | None, expert_id: str) -> str:
    """An expert as people read them: by name; the id of one the campaign no longer has."""
    return campaign.expert_names.get(expert_id, expert_id) if campaign is not None else expert_id


def state_ru(state: str, campaign: Campaign | None = None) -> str:
    """A ДОУ's state as a whole: «всё завершено», «ждёт этапа», «выбыл», or the name of its open stage."""
    return INSTITUTION_STATE_RU.get(state) or stage_name(campaign, state)


def actor_ru(actor: str | None, terms: Terms = DOU, campaign: Campaign | None = None) -> str:
    """Who made a change, as the audit row names them ('expert:e15' → 'эксперт Иванова И. И. (портал)', by name
    when `campaign` is given); '' for the schedule."""
    role, _, who = (actor or "").partition(":")
    if role == "institution" and campaign is not None:
        return f"{campaign.institution_names.get(who, f'{terms.nom} {who}')} (портал)"
    said = {"coordinator": f"координатор ({'портал' if who == 'web' else 'командная строка'})",
            "institution": f"{terms.nom} {who} (портал)", "expert": f"эксперт {expert_name(campaign, who)} (портал)"}
    return said.get(role, actor or "")


def reported(given: int, assigned: int) -> str:
    """How far a review stage of one ДОУ is: «отчитались 1 из 2», or that it has no experts yet."""
    return f"отчитались {given} из {assigned}" if assigned else "эксперты не назначены"



def levels_text(campaign: Campaign, levels: dict[str, str]) -> str:
    """'Образовательные условия — 2; Взаимодействие с родителями — 3', in the campaign's order of areas."""
    titles = {a.id: a.title for a in campaign.areas}
    order = [a for a in titles if a in levels] + [a for a in levels if a not in titles]
    return "; ".join(f"{titles.get(a, a)} — {levels[a]}" for a in order)


# -- settled levels (`engine.settle`) ------------------------------------------------------------

# The campaign's `settle:` rule as people read it: what an indicator's level is while the experts differ.
SETTLE_RULE_RU = {"lower": "меньший из уровней экспертов", "mean-rounded-down": "среднее уровней экспертов, округлённое вниз",
                  "coordinator": "нет, пока координатор не согласует"}


def level_name(campaign: Campaign | None, level_id: str | None) -> str:
    """A level of the scale as people read it: «2 (Уровень выше базового)»; «—» for none, the id of one unknown."""
    if not level_id:
        return "—"
    title = next((lv.title for lv in campaign.levels if lv.id == level_id), None) if campaign is not None else None
    return f"{level_id} ({title})" if title and title != level_id else level_id


def settlement_detail(campaign: Campaign | None, detail: dict) -> str:
    """A "settle" audit row's detail: «показатель 1.1: уровень 2 (…), был 1 (…); эксперты: … — 1, … — 3»."""
    said = f"показатель {detail.get('indicator')}: уровень {level_name(campaign, detail.get('level'))}"
    if detail.get("was"):
        said += f", был {level_name(campaign, detail['was'])}"
    experts = detail.get("experts") or {}
    if experts:
        said += "; эксперты: " + ", ".join(f"{expert_name(campaign, e)} — {lv}" for e, lv in experts.items())
    return said


# -- reminders and the outbox ------------------------------------------------------------

_RULES_RU = {"opens": "при открытии", "due": "в день срока", "missed": "этап пропущен", "handout": "выдача форм",
             "handout-added": "дополнение к выдаче", "handout-copy": "копия списка", "recommendations": "рекомендации",
             "digest": "сводка", "submitted": "сдано оператору",
             # letters about a change (`engine.changes`)
             "extended": "о продлении срока", "excused": "об освобождении от этапа", "withdrawn": "о выбытии",
             "released": "об окончании участия эксперта", "amended": "об изменении сроков", "readdressed": "о новом адресе",
             "relinked": "о новой ссылке"}


def rule_ru(rule: str) -> str:
    """A reminder rule as people say it: 'before:2wd' → 'за 2 раб. дн.'."""
    name, _, arg = rule.partition(":")
    if name == "before":
        return f"за {duration_ru(arg)}"
    if name == "overdue":
        offset, _, n = arg.partition("#")
        return f"просрочка {n or 1} (каждые {duration_ru(offset)})"
    return _RULES_RU.get(name.partition("#")[0], rule)  # submitted#<time>: one notice per submission


def duration_ru(text: str) -> str:
    """'2wd' → '2 раб. дн.'; anything else as it came."""
    match = re.fullmatch(r"(\d+)(wd|d|h|m)", text)
    if not match:
        return text
    unit = {"wd": "раб. дн.", "d": "дн.", "h": "ч", "m": "мин"}[match[2]]
    return f"{match[1]} {unit}"


DEFERRED_RU = {"budget": "отправка исчерпала отведённое ей время", "server": "почтовый сервер не отвечает или отказывает",
                "lease": "отправку перехватил другой процесс"}

# The ledger keeps reasons as codes (`skips.Skip`, with a parameter after a colon); `t` is the campaign's Terms.
REASONS_RU: dict[Skip, Callable[[Any, Terms], str]] = {
    Skip.EXPIRED: lambda _, t: "его время прошло раньше, чем его удалось отправить",
    Skip.PLANNED_LATE: lambda _, t: "его время прошло ещё до того, как его запланировали",
    Skip.DEADLINE_MOVED: lambda _, t: "срок изменился (продление или изменение кампании)",
    Skip.AMENDED: lambda _, t: "кампания изменена (приказ о внесении изменений)",
    Skip.WITHDRAWN: lambda _, t: f"{t.nom} или эксперт выбыл из кампании",
    Skip.NOTHING_TO_HAND_OUT: lambda list_id, t: f"в списке {list_id} у эксперта не осталось {t.gen_pl}: они выбыли или эксперт снят с них",
    Skip.NOT_ASSIGNED: lambda inst, t: f"эксперт больше не назначен на {t.nom} {inst} (выбыл или снят со списка)",
    Skip.SUBMITTED: lambda _, t: "уже сдано",
    Skip.EXCUSED: lambda _, t: f"{t.nom} освобожден{t.past} от этапа",
    Skip.LOCKED: lambda _, t: "этап закрыт",
    Skip.NOT_OPEN: lambda _, t: "этап ещё не открыт",
    Skip.NOT_MISSED: lambda status, t: f"статус этапа — «{STATUS_RU.get(status, status)}», а не «пропущено»",
    Skip.REVIEWED: lambda _, t: f"эксперт уже отчитался по {t.dat}",
    Skip.NO_MATERIALS: lambda _, t: f"{t.nom} не сдал{t.past} материалы к сроку: экспертировать нечего",
    Skip.NO_NEWS: lambda _, t: "сообщать не о чем",
    Skip.SUPERSEDED: lambda _, t: "вместо него ушло более позднее напоминание о том же сроке",
    Skip.BEFORE_OPENING: lambda _, t: "оно ушло бы до открытия этапа",
    Skip.AFTER_EVENT: lambda _, t: "оно ушло бы после начала мероприятия",
    Skip.SAME_MOMENT: lambda rule, t: f"в это же время уходит напоминание по правилу «{rule_ru(rule or '')}»",
    Skip.DEFERRED: lambda why, t: "отложено до следующей отправки: " + DEFERRED_RU.get(why or "", why or ""),
}

# Why nothing is planned for someone (`reminders.gaps`: a code and its facts).
GAPS_RU: dict[str, Callable[..., str]] = {
    "no-rules": lambda t, stage: f"{stage}: у этапа нет правил напоминаний",
    "settled": lambda t, stage, inst, status: (f"{stage}: у {t.gen} {inst} уже был статус «{STATUS_RU.get(status, status)}», "
                                                 "когда планировались напоминания"),
    "not-planned": lambda t, stage: f"{stage}: ещё не запланировано; напоминания планируются при следующем запуске dqflow tick, send или run",
    "no-list": lambda t, stage, list_id, expert: f"{stage}: список {list_id} ещё не назначил эксперту {expert} ни одного {t.gen}",
    "unknown-address": lambda t, address, campaign: (f"{address} — не адрес кампании {campaign}: "
                                                     f"его нет ни у {t.gen_pl}, ни у экспертов, ни у координатора"),
}


def reason_ru(reason: str | None, terms: Terms = DOU) -> str:
    """Why a letter was not sent, in Russian; anything not a code (an SMTP server's reply) as it came."""
    code, parameter = skips.parse(reason)
    return REASONS_RU[code](parameter, terms) if code else reason or ""


def gap_ru(gap: tuple, terms: Terms = DOU, campaign: Campaign | None = None) -> str:
    """Why nothing is planned; `campaign` names the stage (each gap but an unknown address is about one) by its name."""
    code, *facts = gap
    if campaign is not None and code != "unknown-address" and facts:
        facts[0] = f"«{stage_name(campaign, facts[0])}»"
    return GAPS_RU[code](terms, *facts)


# -- expert lists --------------------------------------------------------------------------

# The rules a list breaks (`allocation.Rule`: a code and its facts); `t` is the campaign's Terms.
BROKEN_RU: dict[str, Callable[[Terms, dict], str]] = {
    "unknown-expert": lambda t, f: f"эксперта {f['expert']} нет в кампании",
    "own-institution": lambda t, f: f"{t.nom} {f['institution']} проверял бы эксперт этого же {t.gen}: {f['expert']}",
    "conflict": lambda t, f: f"{t.nom} {f['institution']} проверял бы эксперт с заявленным конфликтом интересов: {f['expert']}",
    "own-experts": lambda t, f: f"{t.nom} {f['institution']} проверяет эксперт этого же {t.gen}: {', '.join(f['experts'])}",
    "conflicts": lambda t, f: f"{t.nom} {f['institution']} проверяет эксперт с заявленным конфликтом интересов: {', '.join(f['experts'])}",
    "twice": lambda t, f: f"у {t.gen} {f['institution']} один и тот же эксперт назначен дважды",
    "short": lambda t, f: (f"{t.nom} {f['institution']}: не хватает экспертов ({f['have']} из {f['per']}): "
                           + (f"проверять {t.it_acc} могут только экспертов: {f['eligible']}" if f["eligible"] < f["per"]
                              else "нагрузка экспертов не оставила места")),
    "repeat": lambda t, f: f"{t.nom} {f['institution']} снова получает эксперта из предыдущего списка: {', '.join(f['experts'])}",
    "pair": lambda t, f: f"{t.nom_pl} {f['first']} и {f['second']} проверяют друг друга (взаимная пара)",
    "uneven": lambda t, f: f"нагрузка неравномерна: у {f['busiest']} проверок {f['most']}, у {f['idlest']} — {f['fewest']}",
    "max-load": lambda t, f: f"превышен max_load {f['max_load']}: {', '.join(f['experts'])}",
}


def broken_ru(rule: Rule, terms: Terms = DOU) -> str:
    """One broken rule of an expert list (`allocation.Rule`) in Russian, the institution in the campaign's word."""
    return BROKEN_RU[rule.code](terms, rule.facts)
