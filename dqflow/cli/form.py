"""Commands on a ДОУ's monitoring form: show it, save an indicator of its draft (the hand-in is `dqflow submit`)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from dqflow.calendar import show, zone_label
from dqflow.campaign import spec
from dqflow.cli.common import App, now_option, pass_app, with_campaign
from dqflow.present import labels


@click.group("form")
def form_group() -> None:
    """A ДОУ's monitoring form: indicators, evidence links, its own levels (stages marked form: true)."""


@form_group.command("show")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", metavar="STAGE", help="The form stage (default: the one open for the ДОУ, else the latest opened).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@now_option
@pass_app
@with_campaign
def show_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str | None, as_json: bool) -> None:
    """Show a ДОУ's form in a form stage as of --now: per indicator its links, own level and comment (writes nothing)."""
    from dqflow.engine import form

    with app.reading() as session:
        found = form.show_form(session, campaign.id, institution_id, stage_id, now)
    if as_json:
        click.echo(json.dumps(form.as_json(found, campaign), ensure_ascii=False, indent=2))
        return
    click.echo(form_text(found, campaign, now))


def form_text(found, campaign: spec.Campaign, now: datetime) -> str:
    """The form for the terminal, in Russian."""
    tz, terms = campaign.tz, campaign.terms
    levels = {lv.id: lv.title for lv in campaign.levels}
    state = "сдана (зафиксированная версия)" if found.frozen else "черновик" if found.editable else "закрыта для изменений"
    lines = [f"{terms.nom} {found.institution_id}, форма этапа «{found.stage.label}»: {state}; "
             f"статус этапа: {labels.STATUS_RU.get(found.state, found.state)} ({show(now, tz)}, {zone_label(tz, now)})"]
    if not found.started and found.source:
        source = campaign.stage(found.source)
        lines.append(f"Начинается с версии этапа «{source.label if source else found.source}»: она перейдёт в этот этап при первом сохранении.")
    area_id = None
    for entry in found.entries:
        area, indicator = campaign.indicators[entry.indicator_id]
        if area.id != area_id:
            area_id = area.id
            lines.append(f"Область «{area.title}»")
        need = "" if indicator.required else " (доказательства необязательны)"
        lines.append(f"  {indicator.id} {indicator.title}{need}")
        for item in entry.evidence:
            lines.append(f"    ссылка: {item.url}" + (f" — {item.title}" if item.title else ""))
        if not entry.evidence:
            lines.append("    ссылок нет")
        if entry.level:
            lines.append(f"    свой уровень: {levels.get(entry.level, entry.level)}")
        if entry.comment:
            lines.append(f"    комментарий: {entry.comment}")
    if found.missing:
        lines.append(f"Не хватает доказательств по обязательным показателям: {', '.join(found.missing)}.")
    elif not found.frozen:
        lines.append("Все обязательные показатели подкреплены ссылками: форму можно сдать (dqflow submit "
                     f"{found.institution_id} --stage {found.stage.id}).")
    return "\n".join(lines)


@form_group.command("set")
@click.argument("institution_id", metavar="INSTITUTION")
@click.option("--stage", "stage_id", required=True, metavar="STAGE", help="The form stage.")
@click.option("--indicator", "indicator_id", required=True, metavar="ID", help="The indicator, e.g. 1.1.")
@click.option("--link", "links", multiple=True, metavar="URL",
              help="Evidence: a link, optionally followed by a space and its title (repeatable; replaces the indicator's links).")
@click.option("--no-links", is_flag=True, help="Remove every link of the indicator.")
@click.option("--level", metavar="LEVEL", help="The ДОУ's own level for the indicator (a level id of the campaign; an empty text removes it).")
@click.option("--comment", metavar="TEXT", help="The ДОУ's comment on the indicator (an empty text removes it).")
@now_option
@pass_app
@with_campaign
def set_command(app: App, campaign: spec.Campaign, now: datetime, institution_id: str, stage_id: str, indicator_id: str,
                links: tuple[str, ...], no_links: bool, level: str | None, comment: str | None) -> None:
    """Save one indicator of a ДОУ's draft form: links, own level, comment (what is not given is kept)."""
    from dqflow.engine import form
    from dqflow.errors import DqflowError

    if links and no_links:
        raise DqflowError("--link and --no-links contradict each other; give one", code="links-and-no-links")
    evidence = [(head, rest or None) for head, _, rest in (link.strip().partition(" ") for link in links)]
    with app.transaction() as session:
        found = form.save(session, campaign.id, institution_id, stage_id, indicator_id, now,
                          links=evidence if links or no_links else None, level=level or None, clear_level=level == "",
                          comment=comment)
    entry = next(e for e in found.entries if e.indicator_id == indicator_id)
    levels = {lv.id: lv.title for lv in campaign.levels}
    said = [f"ссылок: {len(entry.evidence)}"]
    if entry.level:
        said.append(f"свой уровень: {levels.get(entry.level, entry.level)}")
    if entry.comment:
        said.append("комментарий есть")
    click.echo(f"{campaign.terms.nom} {institution_id}, этап «{found.stage.label}», показатель {indicator_id}: сохранено в черновик "
               f"{show(now, campaign.tz)} ({zone_label(campaign.tz, now)}); {', '.join(said)}")
    if found.missing:
        click.echo(f"Не хватает доказательств по обязательным показателям: {', '.join(found.missing)}.")
    else:
        click.echo(f"Форму можно сдать: dqflow submit {institution_id} --stage {found.stage.id}")
