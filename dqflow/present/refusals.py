"""The engine's refusals as people read them: one Russian line saying what is wrong and how to fix it,
chosen by the refusal's `code` and said from its `facts` — on the portal (`said`) and on the terminal
(`on_terminal`), so the CLI and the portal refuse in the same words (the English message stays the logs').

`BY_CODE` is the portal's line; `TERMINAL` the coordinator's at the command line where the fix differs (a
command and its options, not a button) or where the terminal has more to say (every id, which ДОУ and stage).
The expert-list rules come from `allocation.hard_problems` as codes with their facts, said here by code.
A refusal without a Russian line is still said in Russian, with the engine's words quoted for the
coordinator to look up, and whom to ask.
"""

from __future__ import annotations

from dqflow.campaign import spec
from dqflow.campaign.terms import DEFAULT as DEFAULT_TERMS
from dqflow.errors import DqflowError, one_line

BY_CODE = {
    "not-open": "этап ещё не открыт: он откроется {at}. Вернитесь на страницу после этого времени.",
    "locked": "приём закрыт {at}. Если нужно больше времени, попросите координатора продлить срок.",
    "excused": "{t.nom} освобожден{t.past} от этого этапа: сдавать и продлевать нечего.",
    "no-links": "не дано ни одной ссылки: вставьте ссылку на материалы (на документ или папку) и нажмите «Сдать» ещё раз.",
    "levels-missing": "не оценены области: {areas}. Выберите уровень для каждой области и сохраните экспертизу ещё раз.",
    "indicator-levels-missing": "не оценены показатели: {indicators}. Выберите уровень для каждого показателя и сохраните экспертизу ещё раз.",
    "area-not-indicator": "«{area}» — область качества, а экспертиза в этой кампании идёт по показателям: оцените её показатели ({indicators}).",
    "comments-per-area": "экспертиза в этой кампании идёт по областям: комментарии к показателям не принимаются, напишите их в рекомендациях.",
    "before-handout": "формы экспертам ещё не выданы: выдача {at}. Оценку можно записать после неё.",
    "materials-awaited": "{t.nom} ещё не сдал{t.past} материалы: их ждут до {at}. Оценивать пока нечего.",
    "no-materials": "{t.nom} не сдал{t.past} материалы к сроку: экспертировать нечего, оценка не нужна.",
    "not-a-web-address": "«{link}» — не адрес в интернете: ссылка начинается с http:// или https://. "
                         "Скопируйте её из адресной строки браузера.",
    "too-many-links": "ссылок {n}, а принимается не больше {max}: сложите материалы в одну папку и дайте ссылку на неё.",
    "text-too-long": "текст слишком длинный: {length} знаков, а можно не больше {limit}. Сократите его "
                     "или дайте ссылку на документ.",
    "text-unprintable": "в тексте есть невидимый служебный символ (так бывает при копировании из PDF): "
                        "наберите это место заново.",
    "not-assigned": "вы не назначены экспертом {t.this_gen} {t.gen}: оценку может дать только назначенный эксперт. "
                    "Если это ошибка, напишите координатору.",
    "not-a-review-stage": "этот этап выполняют {t.nom_pl}, а не эксперты: оценку здесь не записать.",
    "stage-for-experts": "этот этап выполняют эксперты: {t.nom} сдаёт материалы в другие этапы.",
    "not-for-dou": "этот этап ведёт координатор: {t.nom} ничего в него не сдаёт.",
    "no-area": "в кампании нет области качества «{area}». Откройте страницу заново и выберите уровни из списков.",
    "no-level": "в кампании нет уровня «{level}». Откройте страницу заново и выберите уровень из списка.",
    "already-submitted": "материалы уже сданы {at}: продлевать срок незачем.",
    "already-submitted-excuse": "материалы уже сданы: освобождать от этапа незачем.",
    "until-past": "новый срок {at} уже прошёл: укажите более поздние дату и время.",
    "until-before-opening": "новый срок {at} раньше открытия этапа ({opens}): укажите более поздний.",
    "no-reason": "укажите причину: она сохраняется в журнале и видна в истории {t.gen}.",
    "bad-deadline": "новый срок: укажите дату и время, например 06.12.2021 18:00.",
    "no-stage": "такого этапа в кампании нет. Откройте страницу заново: возможно, кампанию изменили.",
    "no-dou": "такого {t.gen} в кампании нет. Проверьте номер в адресе или откройте список {t.gen_pl} заново.",
    "withdrawn": "{t.nom} выбыл{t.past} из кампании: записи можно читать, но не менять.",
    "not-a-list": "этот этап — не список экспертов.",
    "not-drawn": "список ещё не составлен: он составляется сам, когда откроется его этап.",
    "list-locked": "список закрыт {at} и больше не меняется.",
    "form-too-large": "форма слишком большая (больше {kb} КБ): сократите тексты (рекомендации, комментарии) или дайте ссылку на документ.",
    "form-unreadable": "форму не удалось прочитать. Откройте страницу заново и повторите.",
    "unknown-action": "неизвестное действие. Откройте страницу заново и нажмите нужную кнопку.",
    # the monitoring form (`engine.form`)
    "form-incomplete": "нет доказательств по обязательным показателям: {indicators}. Добавьте к каждому ссылку и сдайте форму ещё раз.",
    "form-empty": "форма пуста: добавьте ссылки на материалы по показателям и сдайте её ещё раз.",
    "form-handed-in": "форма этого этапа уже сдана: это зафиксированная версия, она больше не меняется.",
    "form-closed": "форму этого этапа сейчас менять нельзя: этап не открыт для вас. Если нужно больше времени, попросите координатора продлить срок.",
    "form-page-outdated": "страница устарела (её открыли до обновления портала): откройте её заново и внесите изменения ещё раз; "
                          "ничего не сохранено.",
    "form-changed-meanwhile": "показатели {indicators} уже изменены в другом окне или другим сотрудником после того, как открылась "
                              "эта страница; ничего не сохранено. Откройте страницу заново и внесите изменения ещё раз.",
    "form-stage-links": "на этом этапе сдаётся форма: ссылки добавляют к показателям формы.",
    "no-indicator": "в форме нет показателя «{indicator}». Откройте страницу заново.",
    "not-a-form-stage": "этот этап — не заполнение формы.",
    "no-form": "в кампании нет формы мониторинга (этапов с form: true).",
    # settled levels (`engine.settle`)
    "not-by-indicator": "в этой кампании эксперты оценивают области, а не показатели: согласовывать уровни показателей нечего.",
    "no-review-stage": "этот этап — не экспертиза: уровни согласуют только в этапах экспертизы.",
    "settle-not-reviewed": "показатель {indicator} ещё не оценили оба эксперта (оценок: {n}): согласовать уровень можно, "
                           "когда обе оценки будут записаны.",
    "settle-agreed": "эксперты согласны по показателю {indicator} (уровень {level}): согласовывать нечего.",
}

# The rules a coordinator's edit of a list broke (`allocation.Rule`, from `hard_problems`), by code; `t` is the
# campaign's Terms, `name` the ДОУ's name.
LIST_RULES = {
    "unknown-expert": "эксперта «{expert}» нет в кампании: проверьте код эксперта (как в таблице ниже).",
    "own-institution": "эксперт {expert} работает в {name} и не может {t.it_acc} проверять: выберите эксперта {t.other_gen} {t.gen}.",
    "conflict": "у эксперта {expert} заявлен конфликт интересов с {name}: выберите другого эксперта.",
    "twice": "у {name} один и тот же эксперт указан дважды: уберите повтор.",
}


# The terminal's lines (the coordinator at the command line); a code not here is said by its BY_CODE line.
# `where` (which ДОУ and stage) is put before the line by `on_terminal` when the refusal names them.
TERMINAL = {
    "not-open": "этап ещё не открыт: он откроется {at}. Повторите команду после этого времени.",
    "locked": "приём закрыт {at}. Продлить срок: dqflow extend {institution} --stage {stage} --until ВРЕМЯ --reason ТЕКСТ.",
    "no-links": "не дано ни одной ссылки на материалы: добавьте --link URL (на документ или папку).",
    "levels-missing": "не оценены области: {areas}. Укажите уровень для каждой: --level ОБЛАСТЬ=УРОВЕНЬ.",
    "indicator-levels-missing": "не оценены показатели: {ids}. Укажите уровень для каждого: --level ПОКАЗАТЕЛЬ=УРОВЕНЬ.",
    "area-not-indicator": "«{area}» — область качества, а экспертиза в этой кампании идёт по показателям: "
                          "укажите уровни её показателей ({indicators}): --level ПОКАЗАТЕЛЬ=УРОВЕНЬ.",
    "comments-per-area": "экспертиза в этой кампании идёт по областям: --comment к показателям не принимается; "
                         "напишите замечания в рекомендациях (--recommendations).",
    "before-handout": "формы экспертам ещё не выданы: выдача (этап «{handout}») {at}. Оценку можно записать после неё.",
    "not-a-web-address": "«{link}» — не адрес в интернете: ссылка начинается с http:// или https://.",
    "not-assigned": "эксперт {expert} не назначен {t.dat} {institution} в этом списке (назначены: {assigned}); "
                    "оценку даёт только назначенный эксперт.",
    "not-a-review-stage": "этот этап выполняют {t.nom_pl}, а не эксперты: материалы сдают командой dqflow submit.",
    "stage-for-experts": "этот этап выполняют эксперты: оценку каждого эксперта записывают командой "
                         "dqflow review {institution} --stage {stage} --expert ЭКСПЕРТ.",
    "no-area": "в кампании нет области качества «{area}»; области: {known}.",
    "no-level": "в кампании нет уровня «{level}»; уровни: {known}.",
    "until-past": "новый срок {at} уже прошёл: укажите в --until более поздние дату и время.",
    "no-reason": "укажите причину: --reason ТЕКСТ; она сохраняется в журнале и видна в истории {t.gen}.",
    "no-stage": "этапа «{stage}» в кампании нет; этапы: {known}.",
    "not-for-dou": "этап «{stage}» ведёт координатор: {t.nom} ничего в него не сдаёт.",
    "no-dou": "{t.gen} «{institution}» в кампании нет; {t.nom}: {known}.",
    "withdrawn": "{t.nom} {institution} выбыл{t.past} из кампании: записи можно читать, но не менять.",
    "not-a-list": "этап «{stage}» — не список экспертов; списки: {known}.",
    "not-drawn": "список «{stage}» ещё не составлен: он составляется сам, когда откроется его этап, "
                 "или командой dqflow experts assign {stage}.",
    "text-too-long": "{what}: {length} знаков, а можно не больше {limit}; сократите текст или дайте ссылку на документ.",
    "text-unprintable": "{what}: в тексте есть невидимый служебный символ (так бывает при копировании из PDF); "
                        "наберите это место заново.",
    "form-incomplete": "нет доказательств по обязательным показателям: {indicators}. Добавьте ссылку к каждому: "
                       "dqflow form set {institution} --stage {stage} --indicator ПОКАЗАТЕЛЬ --link URL.",
    "form-empty": "форма пуста: добавьте ссылки по показателям: dqflow form set {institution} --stage {stage} --indicator ПОКАЗАТЕЛЬ --link URL.",
    "form-handed-in": "форма уже сдана: это зафиксированная версия, она больше не меняется.",
    "form-closed": "форму сейчас менять нельзя: этап для {t.gen} ещё не открыт или уже закрыт; продлить срок: "
                   "dqflow extend {institution} --stage {stage} --until ВРЕМЯ --reason ТЕКСТ.",
    "form-stage-links": "на этом этапе сдаётся форма: ссылки вносят по показателям: "
                        "dqflow form set {institution} --stage {stage} --indicator ПОКАЗАТЕЛЬ --link URL, затем dqflow submit без --link.",
    "no-indicator": "в форме нет показателя «{indicator}»; показатели: {known}.",
    "not-a-form-stage": "«{stage}» — не этап заполнения формы (form: true); такие этапы: {known}.",
    "no-form": "в кампании нет формы мониторинга: ни у одного этапа нет form: true.",
    "settle-not-reviewed": "показатель {indicator} ещё не оценили оба эксперта к {at} (оценок: {n}): согласовать уровень "
                           "можно, когда обе оценки будут записаны; посмотрите их: dqflow status --institution {institution}.",
    "links-and-no-links": "--link и --no-links противоречат друг другу: укажите что-то одно.",
    # refusals only the command line meets
    "no-campaign-loaded": "кампания{named} не загружена; загрузите её: dqflow load ФАЙЛ.yaml.",
    "several-campaigns": "загружено несколько кампаний ({loaded}); выберите одну: --campaign ID.",
    "no-campaign": "кампания «{campaign_id}» не загружена (загружены: {loaded}); проверьте --campaign.",
    "no-person": "«{who}» — не {t.nom} и не эксперт кампании; укажите id {t.gen} (например, 2) или эксперта (например, e2).",
    "no-expert": "эксперта «{expert}» в кампании нет; проверьте id эксперта.",
    "short-password": "в пароле {length} знаков, а нужно не меньше {least}: фразу из нескольких слов легко запомнить.",
    "bad-base-url": "{name} «{value}» — нужен адрес сайта без ? и #, например https://monitoring.example.org.",
    "no-review-stage": "«{stage}» — не этап экспертизы; этапы экспертизы: {known}.",
    "reviews-not-open": "этап «{stage}» ещё не открыт: он откроется {at}; рассылать пока нечего.",
    "already-drawn": "список «{stage}» уже составлен; поправьте его командой dqflow experts set или составьте заново с --replace.",
    "bad-level": "--level «{pair}»: нужно ОБЛАСТЬ=УРОВЕНЬ (ПОКАЗАТЕЛЬ=УРОВЕНЬ, где экспертиза по показателям), например {example}.",
    "area-twice": "--level: область «{area}» указана дважды ({first} и {second}); укажите один уровень на область.",
    "bad-comment": "--comment «{pair}»: нужно ПОКАЗАТЕЛЬ=ТЕКСТ, например 1.1=Нет фото центров.",
    "comment-twice": "--comment: показатель «{indicator}» указан дважды; дайте один комментарий на показатель.",
    "indicator-twice": "--level: показатель «{indicator}» указан дважды ({first} и {second}); укажите один уровень на показатель.",
    "unknown-format": "формата справки «{format}» нет; форматы: {known}.",
    "out-is-a-file": "--out {out}: это файл, а CSV пишется папкой файлов; укажите папку.",
    "out-is-a-folder": "--out {out}: это папка; укажите имя файла, например {example}.",
    "cannot-write": "--out {out}: не удаётся записать ({why}); укажите папку, куда можно писать.",
    "maildir-unwritable": "--maildir {folder}: не удаётся создать папку ({why}); укажите папку, куда можно писать.",
    "no-smtp-host": "не задан DQFLOW_SMTP_HOST; задайте DQFLOW_SMTP_HOST (и _PORT, _SECURITY, _USERNAME, _PASSWORD, _FROM).",
    "bad-smtp-security": "DQFLOW_SMTP_SECURITY «{value}»: допустимо none, starttls или tls.",
    "bad-number-setting": "{name} «{value}»: нужно число от {low} до {high}.",
    "bad-http": "--http «{value}»: нужно ХОСТ:ПОРТ, например 127.0.0.1:8000.",
    "cannot-serve": "не удаётся запустить портал на {host}:{port}: порт занят или адрес не этой машины? Укажите другой --host или --port.",
    "replay-too-long": "прогон кончился бы {at}, больше чем через {days} дней после последнего закрытия этапа ({last}); "
                       "укажите более раннее --until или не указывайте его (прогон кончится через день после закрытия).",
    "plan-changed": "план теперь {now}, а не {expected}: файл или база изменились после показа плана; посмотрите новый план "
                    "(dqflow load ФАЙЛ) и примените его с --plan {now}.",
    "needs-force": "изменение переписывает записанные итоги ({n}): проверьте план (dqflow load ФАЙЛ) и добавьте --force.",
    "keep-db-taken": "--keep-db: кампания «{campaign_id}» уже есть в этой базе; укажите новый файл или пустую базу.",
}


def on_terminal(exc: DqflowError, campaign: spec.Campaign | None = None) -> str:
    """The refusal in one Russian line for the terminal: which ДОУ and stage (or which line of an
    imported file), what is wrong and how to fix it; a refusal without a code says its own line."""
    terms = campaign.terms if campaign is not None else DEFAULT_TERMS
    line: str | None
    if exc.code == "list-rules":
        line = "; ".join(_list_rule(rule, campaign, terms) for rule in exc.facts.get("rules", []))
    else:
        template = TERMINAL.get(exc.code or "") or BY_CODE.get(exc.code or "")
        try:
            line = template.format(**exc.facts, t=terms) if template is not None else None
        except (KeyError, AttributeError, IndexError):  # a fact the line needs was not given: the engine's own line
            line = None
        if line is None:
            return str(exc)
    return _where(exc.facts, campaign, terms) + line


def _where(facts: dict, campaign: spec.Campaign | None, terms) -> str:
    """«roster.csv:5: ДОУ 2, этап «Заполнение формы»: » from the facts that name them."""
    parts = [facts["source"]] if facts.get("source") else []  # FILE:LINE of an imported row
    if facts.get("institution") and facts.get("stage"):
        stage = campaign.stage(facts["stage"]) if campaign is not None else None
        parts.append(f"{terms.nom} {facts['institution']}, этап «{stage.label if stage else facts['stage']}»")
    return "".join(f"{part}: " for part in parts)


def said(exc: DqflowError, campaign: spec.Campaign) -> str:
    """The refusal in one Russian line (several lines for an expert list that breaks several rules)."""
    if exc.code == "list-rules":
        return "\n".join(_list_rule(rule, campaign, campaign.terms) for rule in exc.facts.get("rules", []))
    template = BY_CODE.get(exc.code or "")
    if template is not None:
        try:
            return template.format(**exc.facts, t=campaign.terms)  # t: ДОУ, ДОО… in the campaign's own word
        except KeyError:
            pass
    return (f"действие не выполнено. Ответ системы: «{one_line(str(exc))}». Если непонятно, что исправить, "
            f"напишите координатору: {campaign.coordinator.name}, {campaign.coordinator.email}.")


def _list_rule(rule, campaign: spec.Campaign | None, terms) -> str:
    inst = rule.facts.get("institution", "")
    name = next((i.name for i in campaign.institutions if i.id == inst), None) if campaign is not None else None
    template = LIST_RULES.get(rule.code)
    return (template.format(**rule.facts, name=name or f"{terms.nom} {inst}", t=terms) if template
            else f"правило списка нарушено: «{one_line(str(rule))}».")
