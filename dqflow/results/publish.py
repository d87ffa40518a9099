"""The results on the official site: `dqflow publish --out DIR` writes a static, self-contained folder to upload as it is.

    index.html          the town's summary: participation by stage, levels by area and their distribution, and the
                        dynamics beside `campaign.previous` when it is loaded (`results.dynamics`, as the справка shows it)
    list.html, list-2…  every ДОУ with a link to its page, 500 a page
    dou/ID.html         one page per ДОУ: its stages, its final levels by area, its recommendations when public, its
                        levels beside last year's (or «новое в этом году») when the summary has dynamics
    style.css           the one style sheet (no script, no font, nothing fetched from elsewhere); dynamics.css beside it
                        on a site with dynamics (its tables on a phone), so a site without them keeps its bytes
    data.csv, data.json the open data; schema.json describes every field (a Frictionless data package)
    .dqflow-publish     marks the folder as one `publish` wrote, so the next run may replace it

What may be said in public is `publish_data.Public` (no address, no expert, no link, no reason, no review text unless
the campaign declares `publish: {recommendations: true}`). The pages are Russian, accessible (one h1, headings in order,
table headers with scope, `lang="ru"`, contrast ≥ 4.5:1 as tests/test_contrast.py measures it, readable at 360 px) and
the same figures give the same bytes: the only time on them is the `now` the caller gives.

The figures come from `results.compute` alone, read in its set-based queries; this module renders and writes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from dqflow.errors import DqflowError
from dqflow.results import open_data, publish_data, svg, words
from dqflow.results.colors import level_colors
from dqflow.results.publish_data import Public

if TYPE_CHECKING:
    from dqflow.results.dynamics import Dynamics
    from dqflow.results.figures import Results

MARKER = ".dqflow-publish"
PAGE = 500  # ДОУ per page of the list: a phone still scrolls it


def build(results: Results, dynamics: Dynamics | None = None) -> dict[str, bytes]:
    """Every file of the site by its path in the folder, rendered in memory: nothing is written here. `dynamics`: this
    campaign beside `campaign.previous` (`results.dynamics.for_report`): a section of the summary and of each ДОУ's page,
    the key `dynamics` of data.json; without it the files are what they were before."""
    from dqflow.results import dynamics as dyn

    public = Public.of(results)
    env = _environment()
    env.globals.update(d=dynamics, dyn=dyn)
    files: dict[str, bytes] = {}
    compiled = {name: env.get_template(name) for name in ("index.html", "list.html", "institution.html")}  # once, not per page

    def page(path: str, template: str, **values) -> None:
        root = "../" * path.count("/")
        files[path] = compiled[template].render(p=public, root=root, **values).encode("utf-8")

    chunks = [public.institutions[n:n + PAGE] for n in range(0, max(len(public.institutions), 1), PAGE)]
    lists = [_list_name(n) for n in range(len(chunks))]
    where = {inst.id: lists[n] for n, chunk in enumerate(chunks) for inst in chunk}
    page("index.html", "index.html", charts=[_chart(public, table) for table in public.tables], lists=lists)
    for n, chunk in enumerate(chunks):
        page(lists[n], "list.html", chunk=chunk, number=n + 1, lists=lists, first=n * PAGE + 1 if chunk else 0)
    for inst in public.institutions:
        page(inst.page, "institution.html", inst=inst, list_page=where[inst.id])
    for sheet in ("style.css", "dynamics.css") if dynamics is not None else ("style.css",):
        files[sheet] = resources.files("dqflow.results").joinpath("templates", "publish", sheet).read_bytes()
    files["data.csv"] = open_data.data_csv(public).encode("utf-8")
    files["data.json"] = open_data.data_json(public, dynamics).encode("utf-8")
    files["schema.json"] = open_data.schema_json(public, dynamics is not None).encode("utf-8")
    files[MARKER] = f"dqflow publish: campaign {public.campaign_id}\n".encode("utf-8")
    return dict(sorted(files.items()))


def _list_name(n: int) -> str:
    return "list.html" if n == 0 else f"list-{n + 1}.html"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("dqflow.results", "templates/publish"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)
    env.globals.update(zip=zip, percent=lambda part, whole: words.percent(part / whole if whole else None))
    return env


def _chart(public: Public, table: publish_data.LevelTable) -> Markup:
    """The distribution as the справка draws it (`svg.stacked_bars`, the справка's level colours), a bar per row."""
    colors = level_colors(len(public.levels))
    rows = [(row.title, [svg.Part(count, color, title) for count, color, (_, title) in zip(row.counts, colors, public.levels, strict=True)])
            for row in table.rows]
    legend = [(title, color) for (_, title), color in zip(public.levels, colors, strict=True)]
    return svg.stacked_bars(rows, legend, f"{public.word.nom_pl} по уровням качества: {table.heading.lower()}")


def write(files: dict[str, bytes], out: Path) -> None:
    """The site into `out`, whole or not at all: written into a new folder beside it, then put in its place.

    `out` may be missing, empty, or a folder an earlier `publish` wrote (it has the marker): that one is replaced as a
    whole, so a ДОУ no longer in the campaign leaves no page behind. Anything else is refused and left as it is."""
    place = Path(os.path.abspath(out))  # «.», «..» and «site/» named as the folder they are
    if Path.cwd().is_relative_to(place):  # replaced as a whole, it would take the folder the command runs in with it
        raise DqflowError(f"--out {out}: это текущая папка или папка над ней; укажите папку внутри, например site/")
    if out.exists() and not out.is_dir():
        raise DqflowError(f"--out {out}: это файл, а сайт пишется папкой; укажите папку")
    previous = out.is_dir() and any(out.iterdir())
    if previous and not (out / MARKER).is_file():
        raise DqflowError(f"--out {out}: папка не пуста и записана не командой publish (в ней нет файла {MARKER}); "
                          "укажите новую или пустую папку")
    parent = place.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(dir=parent, prefix=f".{place.name}.", suffix=".part"))
    except OSError as exc:
        raise DqflowError(f"--out {out}: cannot write: {exc.strerror or exc}", code="cannot-write", out=str(out),
                          why=str(exc.strerror or exc)) from None
    old = None
    try:
        mask = _umask()
        for path, data in files.items():
            target = fresh / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o666 & ~mask)  # as ordinary new files: a site is meant to be shared
        for folder in (fresh, *{(fresh / p).parent for p in files}):
            os.chmod(folder, 0o777 & ~mask)
        if place.is_dir():
            old = parent / f"{fresh.name[:-5]}.old"
            os.replace(place, old)
        os.replace(fresh, place)
    except OSError as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        if old is not None and not place.exists():
            os.replace(old, place)
        raise DqflowError(f"--out {out}: cannot write: {exc.strerror or exc}", code="cannot-write", out=str(out),
                          why=str(exc.strerror or exc)) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
