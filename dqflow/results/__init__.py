"""The справка and exports: figures computed from stored state (`figures`), rendered per format
(`markdown`, `tables` for CSV, `excel`, `html` with `svg` charts, `word` for DOCX), written all or nothing (`write`).

Computing never writes state; writing touches only the output path.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dqflow.errors import DqflowError
from dqflow.results.figures import Results, compute
from dqflow.results.panels import review_panels

if TYPE_CHECKING:
    from dqflow.results import tables

__all__ = ["FORMATS", "Results", "compute", "default_path", "is_folder", "render", "review_panels", "write", "write_file"]

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
    raise DqflowError(f"unknown report format '{fmt}'; formats: {', '.join(FORMATS)}", code="unknown-format", format=fmt,
                      known=", ".join(FORMATS))


def is_folder(fmt: str, out: Path) -> bool:
    """Whether `out` names a folder of files: always for CSV; for HTML an existing folder or a name not ending in .html
    (the summary as index.html, a page per ДОУ beside it: `html.pages`)."""
    return fmt == "csv" or (fmt == "html" and (out.is_dir() or out.suffix.lower() not in (".html", ".htm")))


def write(results: Results, fmt: str, out: Path) -> list[Path]:
    """Write the справка to `out` (a file; for CSV a folder, made if missing) and return the files written.

    Everything is rendered before anything is written, and each file is written beside its place and
    renamed into it, so a failure leaves no half-written file."""
    if fmt == "html" and is_folder(fmt, out):
        return _write_pages(results, out)
    if fmt == "csv":
        return _write_tables(results, out)
    rendered = render(results, fmt)
    assert isinstance(rendered, bytes), "one file"
    write_file(out, rendered, example=out / default_path(results.campaign.id, fmt).name)
    return [out]


def _write_tables(results: Results, out: Path) -> list[Path]:
    """The CSV folder (`tables.tables`): each file streamed beside its place as its rows are read (`csvfile.write`: a
    national indicators.csv is 100 MB, never held), then all renamed into place; a failure leaves none of them."""
    from dqflow.results import tables

    if out.exists() and not out.is_dir():
        raise DqflowError(f"--out {out}: is a file; CSV output is a folder of files: give a folder", code="out-is-a-file", out=str(out))
    parts: dict[Path, Path] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, table in tables.tables(results).items():
            parts[out / name] = _part(out / name, functools.partial(_write_table, table))
        for path, part in parts.items():
            os.replace(part, path)
    except OSError as exc:
        raise DqflowError(f"--out {out}: cannot write: {exc.strerror or exc}", code="cannot-write", out=str(out),
                          why=str(exc.strerror or exc)) from None
    finally:
        for part in parts.values():
            part.unlink(missing_ok=True)
    return list(parts)


def _write_pages(results: Results, out: Path) -> list[Path]:
    """The HTML справка as a folder (`html.pages`): the pages are written as they are rendered into a fresh folder
    beside `out`'s own files, then moved into place (a page per ДОУ: `dou/` is replaced whole), the summary
    (index.html) last; a failure leaves the folder as it was."""
    import shutil

    from dqflow.results import html

    if out.exists() and not out.is_dir():
        raise DqflowError(f"--out {out}: is a file; give a folder, or a file name ending in .html", code="out-is-a-file", out=str(out))
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(dir=out, prefix=".spravka.", suffix=".part"))
        try:
            for name, text in html.pages(results):
                path = fresh / name
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(text.encode("utf-8"))
                written.append(out / name)
            for path in [fresh, *fresh.rglob("*")]:
                os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_umask())
            old = out / "dou"
            aside = fresh / ".dou.old"
            if old.exists():
                old.rename(aside)
            (fresh / "dou").rename(old)
            for path in sorted(fresh.iterdir(), key=lambda p: p.name == "index.html"):  # the summary last
                if path.is_file():
                    os.replace(path, out / path.name)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    except OSError as exc:
        raise DqflowError(f"--out {out}: cannot write: {exc.strerror or exc}", code="cannot-write", out=str(out),
                          why=str(exc.strerror or exc)) from None
    return written


def write_file(path: Path, data: bytes, example: Path | None = None) -> None:
    """One file written all or nothing (a справка, a calendar): refused onto a folder (`example`: the name to suggest
    in it), its folder made if missing."""
    if path.is_dir():
        example = example or path / "calendar.ics"
        raise DqflowError(f"--out {path}: is a folder; give a file name like {example}", code="out-is-a-folder",
                          out=str(path), example=str(example))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data)
    except OSError as exc:
        raise DqflowError(f"--out {path}: cannot write: {exc.strerror or exc}", code="cannot-write", out=str(path),
                          why=str(exc.strerror or exc)) from None


def _write_table(table: tables.Table, file: BinaryIO) -> None:
    from dqflow.present import csvfile

    header, rows = table
    csvfile.write(file, header, rows())


def _replace(path: Path, data: bytes) -> None:
    os.replace(_part(path, lambda file: file.write(data)), path)


def _part(path: Path, fill: Callable[[BinaryIO], object]) -> Path:
    """A new file beside `path` that `fill` writes (a megabyte buffered at a time), to be renamed onto `path`; removed if
    `fill` fails."""
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb", buffering=_BUFFER) as file:
            fill(file)
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file: a справка is meant to be shared
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


_BUFFER = 1 << 20


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
