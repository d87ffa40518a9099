"""The documentation is true to the code (issue 18, item 8).

- docs/commands.md is what docs/make_reference.py writes from click's command tree: each command once, every
  option of it in its table, no option it does not have. A changed --help fails here until it is regenerated.
- Every `dqflow COMMAND --option` written anywhere in README.md or docs/ names an option COMMAND has, and in
  docs/commands.md a bare `--option` in a command's section is one of that command's.
- Links between the pages resolve (the file and the heading), and the files, tests and Python names cited exist.
- Every ```sh example runs, page by page, top to bottom, in a scratch folder with a copy of workflows/ and
  tests/data/ (see `Shell`); the quick start's test command is the one .ci/run runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT, levels

from dqflow.cli import cli
from tests.smtp_server import SmtpServer

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
COMMANDS_MD = DOCS / "commands.md"


def _generator():
    spec = importlib.util.spec_from_file_location("make_reference", DOCS / "make_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


reference = _generator()
ENTRIES = reference.walk(cli)
BY_NAME = {entry.name: entry for entry in ENTRIES}
GLOBAL = reference.option_names(ENTRIES[0]) | {"--help", "-h"}


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def name_of(page: Path) -> str:
    return str(page.relative_to(ROOT))


# -- the command reference ------------------------------------------------------------------------------------


def test_the_walk_finds_the_commands():
    names = set(BY_NAME)
    assert {"dqflow", "dqflow load", "dqflow status", "dqflow experts assign", "dqflow recommendations send",
            "dqflow migrate"} <= names
    assert len(names) >= 30


def test_commands_md_is_what_the_generator_writes():
    text = read(COMMANDS_MD)
    try:
        updated, notes = reference.update(text, ENTRIES)
    except reference.Twice as exc:
        pytest.fail(str(exc))
    assert not notes, "; ".join(notes)
    assert updated == text, "docs/commands.md differs from `dqflow --help`: run `python docs/make_reference.py`"


def test_every_command_has_exactly_one_block():
    found = Counter(reference.blocks(read(COMMANDS_MD)))
    twice = sorted(name for name, n in found.items() if n > 1)
    assert not twice, f"docs/commands.md documents {', '.join(twice)} more than once"
    missing = sorted(set(BY_NAME) - set(found))
    assert not missing, f"docs/commands.md has no block for {', '.join(missing)}: run `python docs/make_reference.py`"
    gone = sorted(set(found) - set(BY_NAME))
    assert not gone, f"docs/commands.md documents {', '.join(gone)}, which no longer exist"


def _table_options(block: str) -> set[str]:
    names: set[str] = set()
    for row in re.findall(r"^\| `([^`]+)` \|", block, re.M):
        names.update(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", row.replace("\\|", "|")))
    return names


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_each_block_names_every_option_of_its_command_and_no_other(name: str):
    block = next((m[0] for m in reference.BLOCK.finditer(read(COMMANDS_MD)) if m["path"] == name), None)
    assert block is not None, f"docs/commands.md has no block for `{name}`: run `python docs/make_reference.py`"
    documented, real = _table_options(block), reference.option_names(BY_NAME[name])
    assert not real - documented, f"`{name}`: no row names {', '.join(sorted(real - documented))}"
    assert not documented - real, f"`{name}`: a row names {', '.join(sorted(documented - real))}, which it does not have"


def test_no_page_documents_a_command_outside_the_reference():
    """A second, hand-written row or heading for a command is how the old README came to list `load` twice."""
    for page in PAGES:
        text = reference.BLOCK.sub("", read(page))
        rows = re.findall(r"^\|\s*`dqflow [^`]*`", text, re.M) + re.findall(r"^#+ `dqflow[^`]*`", text, re.M)
        assert not rows, f"{name_of(page)} documents commands outside docs/commands.md's blocks: {rows[:3]}"


# -- options named anywhere in the pages -----------------------------------------------------------------------


OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)


def spans(text: str) -> list[str]:
    """Each `inline span` of Markdown outside fenced blocks; one may run over a line break (read as a space)."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", FENCED.sub("", text))]


def code_snippets(text: str) -> list[str]:
    """The code of a page: each line of its fenced blocks, and each `inline span`."""
    snippets: list[str] = []
    for match in FENCED.finditer(text):
        snippets += match[1].replace("\\\n", " ").splitlines()
    return snippets + spans(text)


def invocation(snippet: str) -> tuple[str, str] | None:
    """(the command a snippet runs, the rest of it) for `dqflow [global options] COMMAND …`, `.venv/bin/dqflow …`
    and a bare `status --json` that starts with a command's name; None for other code."""
    words = snippet.split()
    start = next((i for i, w in enumerate(words) if w == "dqflow" or w.endswith("/dqflow")), None)
    if start is not None:
        words = words[start + 1:]
        while words and words[0].startswith("-"):  # global options and their values
            takes_value = words[0] in ("--db", "--campaign")
            words = words[2 if takes_value else 1:]
    elif not words or words[0] not in {e.path[0] for e in ENTRIES if e.path} or len(words) < 2:
        return None
    path = ["dqflow"]
    while words and " ".join(path + words[:1]) in BY_NAME:
        path.append(words.pop(0))
    if len(path) == 1:
        return None
    return " ".join(path), " ".join(words)


@pytest.mark.parametrize("page", PAGES, ids=name_of)
def test_every_option_a_page_names_exists(page: Path):
    wrong = []
    for snippet in code_snippets(read(page)):
        found = invocation(snippet)
        if found is None:
            continue
        name, rest = found
        rest = re.split(r"\s(?:#|\||&&|;|>|<<<)\s", " " + rest)[0]  # this command's own words only
        known = reference.option_names(BY_NAME[name]) | GLOBAL
        wrong += [f"`{name} {option}`" for option in OPTION.findall(rest) if option not in known]
    assert not wrong, f"{name_of(page)} names options that do not exist: {', '.join(sorted(set(wrong)))}"


def test_a_bare_option_in_a_commands_section_is_that_commands():
    """In docs/commands.md the prose after a command's block speaks of that command: `--plan DIGEST` under load."""
    text = read(COMMANDS_MD)
    parts = re.split(r"<!-- END generated: ([^>]*?) -->\n", text)
    wrong = []
    for name, section in zip(parts[1::2], parts[2::2]):
        if name == "dqflow":
            continue  # the root's prose is about every command: `--now` on each that depends on time
        prose = section.split("<!-- BEGIN generated:")[0].split("\n## ")[0]  # up to the next block or section
        for span in spans(prose):
            if span.startswith("-") and invocation(span) is None:
                known = reference.option_names(BY_NAME[name]) | GLOBAL
                wrong += [f"`{option}` under `{name}`" for option in OPTION.findall(span) if option not in known]
    assert not wrong, f"docs/commands.md names options its command does not have: {', '.join(wrong)}"


# -- links, files and names the pages cite ---------------------------------------------------------------------


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S), re.M):
        slug = reference.slug(heading)
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


@pytest.mark.parametrize("page", PAGES, ids=name_of)
def test_every_link_resolves(page: Path):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", read(page)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in anchors(read(path)):
            broken.append(f"{target} (no such heading in {path.name})")
    assert not broken, f"{name_of(page)}: broken links: {', '.join(broken)}"


CITED_PATH = re.compile(r"^(?:\.ci|benchmarks|docs|dqflow|notifications|tests|workflows)/[\w./-]*$")


@pytest.mark.parametrize("page", PAGES, ids=name_of)
def test_every_file_test_and_python_name_cited_exists(page: Path):
    missing = []
    for span in spans(read(page)):
        path, _, test = span.partition("::")
        if CITED_PATH.match(path):
            if not (ROOT / path).exists():
                missing.append(span)
            elif test and not re.search(rf"^(?:async )?def {re.escape(test)}\(", read(ROOT / path), re.M):
                missing.append(span)
        elif re.fullmatch(r"dqflow(?:\.\w+)+", span) and not _resolves(span):
            missing.append(span)
        for module, names in re.findall(r"from (dqflow[\w.]*) import ([\w, ]+)", span):
            missing += [f"{module}.{n.strip()}" for n in names.split(",") if not _resolves(f"{module}.{n.strip()}")]
    assert not missing, f"{name_of(page)} cites what does not exist: {', '.join(missing)}"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_the_limits_are_the_codes():
    """docs/guarantees.md's limits are the constants the code enforces, found by name wherever they live."""
    text = read(DOCS / "guarantees.md")
    source = "\n".join(read(p) for p in (ROOT / "dqflow").rglob("*.py"))
    cited = re.findall(r"\| ([^|]*?) <!-- limit (\w+) --> \|", text)
    assert len(cited) >= 10, "docs/guarantees.md's table of limits is gone"
    for shown, name in cited:
        match = re.search(rf"^{name}\s*=\s*([^#\n]+)", source, re.M)
        assert match, f"docs/guarantees.md cites the limit {name}, which the code no longer has"
        value = eval(match[1].replace("files.MB", "MB"), {"MB": 1024 * 1024, "timedelta": timedelta})  # arithmetic only
        number = value.days if isinstance(value, timedelta) else value
        figures = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", shown)}
        assert figures & {number, number // 1024, number // (1024 * 1024)}, \
            f"docs/guarantees.md says {shown!r} for {name}: the code has {match[1].strip()}"


def test_every_schema_revision_has_its_row_in_upgrading():
    shipped = {path.name[:4] for path in (ROOT / "dqflow" / "store" / "migrations" / "versions").glob("[0-9]*.py")}
    documented = set(re.findall(r"^\| (\d{4}) \|", read(DOCS / "upgrading.md"), re.M))
    assert shipped, "no revisions found: where did dqflow/store/migrations/versions/ go?"
    assert shipped == documented, f"docs/upgrading.md's revisions {sorted(documented)} are not the shipped {sorted(shipped)}"


# -- the JSON shapes the pages describe ------------------------------------------------------------------------

SHAPE = re.compile(r"<!-- json: (?P<args>.*?) -->\s*`(?P<shape>[^`]+)`")
SHAPES = [(page, m["args"], " ".join(m["shape"].split())) for page in PAGES for m in SHAPE.finditer(read(page))]


@pytest.fixture(scope="module")
def campaign_in_progress(tmp_path_factory) -> Path:
    """The Tomsk campaign on 04.12.2021 with a hand-in, an extension and a review; and changed.yaml, the same file
    with the last stage due a day later, for an amendment's plan."""
    folder = tmp_path_factory.mktemp("shapes")
    shutil.copytree(ROOT / "workflows", folder / "workflows")
    tomsk = (folder / "workflows" / "tomsk-2021.yaml").read_text(encoding="utf-8")
    (folder / "changed.yaml").write_text(tomsk.replace("due: 2021-12-20", "due: 2021-12-21", 1), encoding="utf-8")
    for args in (["load", "workflows/tomsk-2021.yaml", "--now", "2021-11-10"],
                 ["submit", "2", "--stage", "fill-form", "--link", "https://dou2.example.org/form", "--now", "2021-11-29"],
                 ["submit", "5", "--stage", "fill-form", "--link", "https://dou5.example.org/form", "--now", "2021-11-29"],
                 ["extend", "4", "--stage", "fill-form", "--until", "2021-12-03", "--reason", "болезнь", "--now", "2021-12-02"],
                 ["tick", "--now", "2021-12-03"],
                 ["review", "5", "--stage", "review1", "--expert", "e15", *levels("conditions=2"), "--now", "2021-12-03"]):
        _in(folder, args)
    return folder


def _in(folder: Path, args: list[str]) -> str:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, ["--db", f"sqlite:///{folder / 'dqflow.db'}", *args], env={"DQFLOW_DB": None})
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, f"{' '.join(args)}: {result.output}"
    return result.stdout


def _keys(value, shape: str, found: set[str], documented: set[str]) -> None:
    """Every key of `value`, and of the records inside it that `shape` writes as records (`"k": [{"…` or
    `"k": {"…`); a map such as `"counts": {status: n}` is not looked into."""
    if isinstance(value, list):
        for item in value:
            _keys(item, shape, found, documented)
    elif isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            written_as = r"\[\{" if isinstance(inner, list) else r"\{"  # a list of records, or one record
            if re.search(rf'"{re.escape(key)}": {written_as}"', shape):
                _keys(inner, shape, found, documented)


def test_the_pages_describe_json_shapes():
    assert len(SHAPES) >= 7, [args for _, args, _ in SHAPES]


@pytest.mark.parametrize("page, args, shape", SHAPES, ids=[f"{name_of(p)}: {a}" for p, a, _ in SHAPES])
def test_a_json_shape_names_the_keys_the_command_prints(campaign_in_progress: Path, page: Path, args: str, shape: str):
    printed = json.loads(_in(campaign_in_progress, shlex.split(args)))
    documented = set(re.findall(r'"(\w+)"', shape))
    found: set[str] = set()
    _keys(printed, shape, found, documented)
    assert not found - documented, f"{name_of(page)}: `{args}` prints {sorted(found - documented)}, which the page does not name"
    every: set[str] = set()
    _keys(printed, re.sub(r"\{", '{"', shape), every, documented)  # every key at any depth
    assert not documented - every, f"{name_of(page)}: `{args}` prints no {sorted(documented - every)}"


# -- the examples run ------------------------------------------------------------------------------------------

SETUP = {  # commands an example may show that this test does not run, and what runs them instead
    "python3 -m venv": ".ci/run and tests/test_package.py make virtualenvs",
    ".venv/bin/pip install": ".ci/run installs the checkout; tests/test_package.py a built wheel",
    "pip install": "tests/test_package.py installs a built wheel",
    "pipx install": "tests/test_package.py installs a built wheel into a fresh virtualenv",
}
TOOLS = ("sed", "sqlite3", "chmod")  # the system's own, run as they are: editing a file, a backup, a file's mode
GATES = (".venv/bin/ruff check", ".venv/bin/mypy", ".venv/bin/python -m pytest")  # the test command's parts
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]


def without_comment(line: str) -> str:
    """The line up to a `#` that starts a word outside quotes, as the shell reads it (a comment may say ДОУ's)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


@dataclass
class Shell:
    """Runs a page's ```sh lines: `dqflow …` in-process through click (with `<<< TEXT`, `> FILE` and a
    `printf … |` before it), `export` and `cd` in the session, the TOOLS as processes, joined by `&&`; the
    set-up commands of SETUP are only checked to be set-up commands. A ```yaml, ```csv or ```text block right after
    `<!-- file: NAME -->` is written to NAME first, so the examples after it can use it. Addresses under
    example.org are placeholders: an SMTP server there is this test's own on loopback, and a PostgreSQL
    URL there a fresh database of the test server (skipped without one)."""

    folder: Path
    request: pytest.FixtureRequest
    env: dict[str, str | None] = field(default_factory=dict)
    smtp: SmtpServer | None = None
    ran: list[str] = field(default_factory=list)

    def run_page(self, text: str, page: str) -> None:
        fence = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?^```(?P<lang>\w*)\n(?P<code>.*?)^```", re.M | re.S)
        for block in fence.finditer(text):
            line = text[:block.start()].count("\n") + 1
            if block["file"]:
                (self.folder / block["file"]).write_text(block["code"], encoding="utf-8")
            elif block["lang"] == "sh":
                for logical in block["code"].replace("\\\n", " ").splitlines():
                    if logical.strip() and not logical.lstrip().startswith("#"):
                        self.line(logical, f"{page}:{line}")

    def line(self, text: str, where: str) -> None:
        lexer = shlex.shlex(without_comment(text), posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, ""
        tokens = [self.expand(t) for t in lexer]
        while tokens:
            cut = tokens.index("&&") if "&&" in tokens else len(tokens)
            self.command(tokens[:cut], text, where)
            tokens = tokens[cut + 1:]

    def expand(self, token: str) -> str:
        if token.startswith("~/") or token == "~":
            token = str(self.folder / "home") + token[1:]
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.env.get(m[1]) or "", token)

    def command(self, tokens: list[str], text: str, where: str) -> None:
        joined = " ".join(tokens)
        setup = next((s for s in SETUP if joined.startswith(s)), None)
        if setup:
            self.ran.append(f"set-up, not run here ({SETUP[setup]}): {joined}")
        elif joined.startswith(GATES):  # the gates and the suite: what .ci/run runs, as one line
            assert text.strip() == CI, f"{where}: the test command is not the one .ci/run runs ({CI})"
            self.ran.append(f"the suite and its gates, not run here (.ci/run runs them): {joined}")
        elif tokens[:2] == [".venv/bin/python", "benchmarks/" + tokens[1].removeprefix("benchmarks/")]:
            assert (ROOT / tokens[1]).is_file(), f"{where}: no benchmark script {tokens[1]}"
            self.ran.append(f"benchmark, not run here (minutes long), exists: {tokens[1]}")
        elif tokens[0] == "export":
            name, _, value = tokens[1].partition("=")
            self.env[name] = self.placeholder(name, value)
        elif tokens[0] == "cd":
            self.folder = (self.folder / tokens[1]).resolve()
        elif tokens[0] in TOOLS:
            done = subprocess.run(tokens, cwd=self.folder, capture_output=True, text=True)
            assert done.returncode == 0, f"{where}: `{joined}` exited {done.returncode}: {done.stderr}"
            self.ran.append(joined)
        elif "dqflow" in (tokens[0], tokens[0].rsplit("/", 1)[-1]) or "|" in tokens:
            self.dqflow(tokens, where)
        else:
            raise AssertionError(f"{where}: the docs test cannot run `{joined}`; write it in a ```text block "
                                 "or teach tests/test_docs.py's Shell to run it")

    def dqflow(self, tokens: list[str], where: str) -> None:
        stdin = None
        if "|" in tokens:
            producer, tokens = tokens[:tokens.index("|")], tokens[tokens.index("|") + 1:]
            assert producer[0] == "printf", f"{where}: only printf may feed dqflow"
            stdin = producer[1].replace("\\n", "\n") % tuple(producer[2:])
        out = None
        if "<<<" in tokens:
            stdin = tokens[tokens.index("<<<") + 1] + "\n"
            tokens = tokens[:tokens.index("<<<")]
        if ">" in tokens:
            out, tokens = tokens[tokens.index(">") + 1], tokens[:tokens.index(">")]
        args = [self.placeholder("--db", a) if previous == "--db" else a for previous, a in zip([""] + tokens, tokens)][1:]
        cwd = os.getcwd()
        os.chdir(self.folder)
        try:
            result = CliRunner().invoke(cli, args, input=stdin, env=self.smtp_env())
        finally:
            os.chdir(cwd)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, f"{where}: `{' '.join(tokens)}` exited {result.exit_code}:\n{result.output}"
        if out:
            (self.folder / out).write_text(result.stdout, encoding="utf-8")
        self.ran.append(" ".join(tokens))

    def placeholder(self, name: str, value: str) -> str:
        if (name in ("DQFLOW_DB", "--db")) and value.startswith("postgresql") and "example.org" in value:
            return self.request.getfixturevalue("pg_url")
        return value

    def smtp_env(self) -> dict[str, str | None]:
        env = dict(self.env)
        if (env.get("DQFLOW_SMTP_HOST") or "").endswith("example.org"):
            if self.smtp is None:
                self.smtp = SmtpServer().start()
                self.request.addfinalizer(self.smtp.stop)
            env.update(self.smtp.env(), DQFLOW_SMTP_FROM=env.get("DQFLOW_SMTP_FROM"))
        return env


@pytest.mark.parametrize("page", PAGES, ids=name_of)
def test_every_example_runs(page: Path, tmp_path: Path, monkeypatch, request):
    for name in [n for n in os.environ if n.startswith("DQFLOW_")]:
        monkeypatch.delenv(name)
    folder = tmp_path / "checkout"
    shutil.copytree(ROOT / "workflows", folder / "workflows")
    shutil.copytree(ROOT / "tests" / "data", folder / "tests" / "data")
    (folder / "home").mkdir()
    shell = Shell(folder, request, env={"HOME": str(folder / "home")})
    shell.run_page(read(page), name_of(page))
    if "```sh" in read(page):
        assert shell.ran, f"{name_of(page)}: no example ran"
    if shell.smtp is not None:  # a page that sends did send, to the test's own server
        assert shell.smtp.messages, f"{name_of(page)}: its send example delivered nothing"


def test_the_quick_start_sets_up_and_runs_the_simulation_and_the_tests():
    """The README's two commands: the first ends in the simulated Tomsk campaign, the second is .ci/run's."""
    readme = read(ROOT / "README.md")
    quick = re.search(r"^## Quick start\n.*?^```sh\n(.*?)^```", readme, re.M | re.S)[1]
    commands = [line for line in quick.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    assert commands[0].startswith("python3 -m venv .venv && .venv/bin/pip install -q -e . && ")
    assert commands[0].endswith(".venv/bin/dqflow simulate workflows/tomsk-2021.yaml --maildir out/")
    assert commands[1] == CI


def test_the_runner_refuses_what_it_cannot_run(tmp_path: Path, request):
    shell = Shell(tmp_path, request)
    with pytest.raises(AssertionError, match="cannot run `rm -rf out`"):
        shell.line("rm -rf out", "README.md:1")
    with pytest.raises(AssertionError, match="exited 1"):
        shell.line("dqflow validate no-such-file.yaml", "README.md:2")


def test_a_click_group_lists_what_it_has():
    """The generator asks a group for its commands, as --help does, so a lazily loading group is walked too."""
    class Lazy(click.Group):
        def list_commands(self, ctx):
            return ["later"]

        def get_command(self, ctx, name):
            return click.Command("later", params=[click.Option(["--soon"], help="Soon.")]) if name == "later" else None

    entries = reference.walk(Lazy("dqflow"))
    assert [e.name for e in entries] == ["dqflow", "dqflow later"]
    assert "| `--soon TEXT` | Soon. |" in reference.render(entries[1])
