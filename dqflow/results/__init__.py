"""The справка and exports: figures computed from stored state (`figures`), rendered per format
(`markdown`, `tables` for CSV, `excel`, `html` with `svg` charts, `word` for DOCX), written all or nothing (`write`).

Computing never writes state; writing touches only the output path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dqflow.errors import DqflowError
from dqflow.results.figures import Results, compute, review_panels

__all__ = ["FORMATS", "Results", "compute", "default_path", "render", "review_panels", "write", "write_file"]

FORMATS = ("html", "xlsx", "docx", "csv", "md")


def default_path(campaign_id: str, fmt: str) -> Path:
    """Where the справка goes without --out: the current folder (CSV: a folder of files)."""
    return Path(f"spravka-{campaign_id}" + ("" if fmt == "csv" else f".{fmt}"))


def render(results: Results, fmt: str) -> dict[str, bytes] | bytes:
    """The справка's bytes in one format; CSV is a folder: file name → bytes."""
    if fmt == "md":
        from dqflow.results import markdown
        return markdown.render(results).encode("utf-8")
    if fmt == "csv":
        from dqflow.results import tables
        return {name: text.encode("utf-8") for name, text in tables.files(results).items()}
    if fmt == "xlsx":
        from dqflow.results import excel
        return excel.render(results)
    if fmt == "docx":
        from dqflow.results import word
        return word.render(results)
    if fmt == "html":
        from dqflow.results import html
        return html.render(results).encode("utf-8")
    raise DqflowError(f"unknown report format '{fmt}'; formats: {', '.join(FORMATS)}")


def write(results: Results, fmt: str, out: Path) -> list[Path]:
    """Write the справка to `out` (a file; for CSV a folder, made if missing) and return the files written.

    Everything is rendered before anything is written, and each file is written beside its place and
    renamed into it, so a failure leaves no half-written file."""
    rendered = render(results, fmt)
    if isinstance(rendered, dict):  # CSV: a folder of files
        if out.exists() and not out.is_dir():
            raise DqflowError(f"--out {out}: is a file; CSV output is a folder of files: give a folder")
        targets = {out / name: data for name, data in rendered.items()}
    else:
        if out.is_dir():
            raise DqflowError(f"--out {out}: is a folder; give a file name like {out / default_path(results.campaign.id, fmt).name}")
        targets = {out: rendered}
    folder = out if fmt == "csv" else out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in targets.items():
            _replace(path, data)
    except OSError as exc:
        raise DqflowError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    return list(targets)


def write_file(path: Path, data: bytes) -> None:
    """One file written all or nothing (a calendar): refused onto a folder, its folder made if missing."""
    if path.is_dir():
        raise DqflowError(f"--out {path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data)
    except OSError as exc:
        raise DqflowError(f"--out {path}: cannot write: {exc.strerror or exc}") from None


def _replace(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file: a справка is meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
