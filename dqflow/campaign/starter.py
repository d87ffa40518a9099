"""The starter campaign `dqflow init` writes: the bundled campaign files, copied out of the package data.

They ship as `dqflow.workflows` (`workflows/` in the checkout) and are read with
importlib.resources, so an installed wheel carries them to any folder.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from dqflow.errors import DqflowError

SUFFIXES = (".yaml", ".csv")  # the campaign files and any roster next to them
STARTER = "tomsk-2021.yaml"  # the concrete example the next steps name; the others are yearly templates


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
        raise DqflowError("this dqflow installation has no bundled campaign (package data dqflow.workflows); reinstall dqflow")
    targets = [folder / source.name for source in sources]
    if folder.exists() and not folder.is_dir():
        raise DqflowError(f"{folder} is not a folder; give a folder for the starter campaign")
    taken = [target.name for target in targets if target.exists() or target.is_symlink()]
    if taken and not force:
        raise DqflowError(f"{folder} already has {', '.join(taken)}; nothing written (use --force to overwrite)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source, target in zip(sources, targets):
            target.write_bytes(source.read_bytes())
    except OSError as exc:
        raise DqflowError(f"cannot write the starter campaign into {folder}: {exc.strerror or exc}") from None
    return targets
