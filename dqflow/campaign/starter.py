"""The starter campaign `dqflow init` writes: the bundled campaign files, copied out of the package data,
and where a new coordinator starts: this year's campaign made from the bundled yearly template.

They ship as `dqflow.workflows` (`workflows/` in the checkout) and are read with
importlib.resources, so an installed wheel carries them to any folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from dqflow.campaign.model import Campaign
from dqflow.errors import DqflowError

SUFFIXES = (".yaml", ".csv")  # the campaign files and any roster next to them
EXAMPLE = "tomsk-2021.yaml"  # a past campaign, to read and to simulate: never the one to load this year
TEMPLATE = "tomsk-template.yaml"  # the yearly template this year's campaign is instantiated from


def bundled() -> list[Traversable]:
    """The bundled campaign files (and rosters), by name."""
    return sorted((f for f in files("dqflow.workflows").iterdir() if f.is_file() and f.name.endswith(SUFFIXES)),
                  key=lambda f: f.name)


def write(folder: Path, force: bool = False) -> list[Path]:
    """Copies the bundled campaign files into `folder` (made if missing); returns the paths written.

    Without `force` a file already there is a refusal before anything is written:
    a coordinator's edited campaign is never overwritten by the example.
    """
    sources = bundled()
    if not any(source.name.endswith(".yaml") for source in sources):  # a build that left the package data out
        raise DqflowError("в этой установке dqflow нет встроенной кампании (данные пакета dqflow.workflows); переустановите dqflow")
    targets = [folder / source.name for source in sources]
    if folder.exists() and not folder.is_dir():
        raise DqflowError(f"{folder} — не папка; укажите папку для начальной кампании")
    taken = [target.name for target in targets if target.exists() or target.is_symlink()]
    if taken and not force:
        raise DqflowError(f"в {folder} уже есть {', '.join(taken)}; ничего не записано (чтобы перезаписать, добавьте --force)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source, target in zip(sources, targets):
            target.write_bytes(source.read_bytes())
    except OSError as exc:
        raise DqflowError(f"не удаётся записать начальную кампанию в {folder}: {exc.strerror or exc}") from None
    return targets


def finished(campaign: Campaign, now: datetime) -> bool:
    """Every stage of the campaign is past at `now` (its last lock has gone by): loading it runs nothing."""
    return max(stage.locks_at for stage in campaign.stages) <= now


def yearly_id(campaign_id: str, year: int) -> str:
    """The id of a campaign's (or a template's) edition of `year`: tomsk-2021 → tomsk-2026, tomsk-template → tomsk-2026."""
    stem = re.sub(r"-(\d{4}|template)$", "", campaign_id)
    return f"{stem}-{year}"


@dataclass(frozen=True)
class Instantiation:
    """`dqflow instantiate TEMPLATE --start START --id ID --out OUT`, as the next steps print it."""

    template: str
    start: date
    campaign_id: str
    out: str

    def args(self) -> list[str]:
        return ["instantiate", self.template, "--start", f"{self.start:%d.%m.%Y}", "--id", self.campaign_id, "--out", self.out]


def this_year(folder: Path, today: date) -> Instantiation:
    """This year's campaign from the template `init` wrote into `folder`, starting `today` or the Monday after
    a weekend (the coordinator puts the kick-off webinar's day of the year's order in its place)."""
    start = today + timedelta(days=max(0, 7 - today.weekday()) if today.weekday() >= 5 else 0)  # a kick-off on a working day
    campaign_id = yearly_id(Path(TEMPLATE).stem, start.year)
    return Instantiation(str(folder / TEMPLATE), start, campaign_id, str(folder / f"{campaign_id}.yaml"))
