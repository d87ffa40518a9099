"""A yearly template made concrete: `dqflow instantiate TEMPLATE --start DATE --id ID --out FILE`.

The template's text is kept as written (comments, order, layout): only the campaign's id and
start and every relative date change, each relative date into the absolute one it resolves to,
with the rule kept beside it as a comment where a comment can stand.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from dqflow.calendar import Written
from dqflow.campaign import dating, parser
from dqflow.campaign.model import Campaign
from dqflow.campaign.nodes import SLUG
from dqflow.errors import DqflowError, Problem, SpecError


@dataclass(frozen=True)
class Instance:
    text: str
    campaign: Campaign
    computed: int  # how many relative dates became absolute
    warnings: list[Problem]


def instantiate(template: str | Path, start: date, campaign_id: str, out: str | Path) -> Instance:
    """The concrete campaign's text, checked as it will be read from `out`; SpecError when the
    template (with this start and id) or the result does not validate."""
    if not SLUG.fullmatch(campaign_id):
        raise DqflowError(f"--id «{campaign_id}»: допустимы только строчные латинские буквы, цифры, «-» и «_», например tomsk-2022")
    text, problems = parser.read_text(template)
    if text is None:
        raise SpecError(problems)
    checked = parser.validate_text(text, str(template), Path(template).parent, start=start, campaign_id=campaign_id)
    if checked.errors:
        raise SpecError(checked.errors)
    edits = _campaign_edits(text, start, campaign_id)
    edits += [_date_edit(text, node, rule, written) for node, rule, written in checked.relative]
    made = f"# Made by dqflow instantiate from {Path(template).name} with --start {start.isoformat()}: every date is absolute.\n"
    result = made + _apply(text, edits)
    final = parser.validate_text(result, str(out), Path(out).parent)
    if final.errors or final.campaign is None:
        raise SpecError(final.errors or [Problem(str(out), 1, 1, "готовая кампания не проходит проверку; проверьте шаблон командой dqflow validate")])
    return Instance(result, final.campaign, len(checked.relative), final.warnings)


def write(path: str | Path, text: str, force: bool = False) -> None:
    """Write the instance whole or not at all; an existing file is kept unless `force`."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not force:
        raise DqflowError(f"{path} уже существует; ничего не записано (чтобы перезаписать, добавьте --force)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DqflowError(f"{folder} — не папка; создайте её или укажите другой --out")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError as exc:
        raise DqflowError(f"не удаётся записать {path}: {exc.strerror or exc}") from None


def _campaign_edits(text: str, start: date, campaign_id: str) -> list[tuple[int, int, str]]:
    """The campaign's id and start replaced (or the start added after the id)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    head = next(v for k, v in root.value if k.value == "campaign")
    fields = {k.value: (k, v) for k, v in head.value}
    id_key, id_node = fields["id"]
    edits = [(id_node.start_mark.index, id_node.end_mark.index, campaign_id)]
    if "start" in fields:
        node = fields["start"][1]
        edits.append((node.start_mark.index, node.end_mark.index, start.isoformat()))
    elif head.flow_style:
        edits.append((id_node.end_mark.index, id_node.end_mark.index, f", start: {start.isoformat()}"))
    else:  # a line of its own under the id, at the id's indentation
        line_end = text.find("\n", id_node.end_mark.index)
        at = len(text) if line_end < 0 else line_end + 1
        edits.append((at, at, f"{' ' * id_key.start_mark.column}start: {start.isoformat()}\n"))
    return edits


def _date_edit(text: str, node: yaml.Node, rule: dating.Relative, written: Written) -> tuple[int, int, str]:
    """The relative date at `node` replaced by the date it resolved to."""
    value = _show(written)
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        # a block mapping under its key: from the key's colon to the end of its last value
        begin = text.rfind(":", 0, node.start_mark.index) + 1
        end = node.value[-1][1].end_mark.index
        return begin, end, f" {value}  # {rule.describe()}"
    begin, end = node.start_mark.index, node.end_mark.index
    line_start = text.rfind("\n", 0, begin) + 1
    line_end = text.find("\n", end)
    rest = text[end:len(text) if line_end < 0 else line_end]
    if not rest.strip() and re.fullmatch(r"\s*(- )?[\w-]+:\s*", text[line_start:begin]):  # a block key's own line
        return begin, end, f"{value}  # {rule.describe()}"
    return begin, end, value


def _show(written: Written) -> str:
    if written.clock is None:
        return written.day.isoformat()
    clock = written.clock.strftime("%H:%M:%S" if written.clock.second else "%H:%M")
    return f"{written.day.isoformat()} {clock}"


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for begin, end, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text
