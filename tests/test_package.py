"""dqflow as a package: `dqflow init`, and a built wheel that runs the bundled campaign outside the checkout."""

import email
import email.policy
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT, TOMSK, Cli

# What the wheel is built from: the files pyproject.toml packages, nothing else of the checkout.
SOURCES = ("pyproject.toml", "README.md", "dqflow", "notifications", "workflows")


# -- dqflow init ---------------------------------------------------------------------------


def test_init_writes_the_bundled_campaign_and_the_next_commands(dq: Cli, tmp_path: Path):
    folder = tmp_path / "new" / "campaign"
    out = dq.ok("init", str(folder))

    assert sorted(p.name for p in folder.iterdir()) == ["kemerovo.yaml", "tomsk-2021.yaml", "tomsk-template.yaml"]
    for name in ("kemerovo.yaml", "tomsk-2021.yaml", "tomsk-template.yaml"):  # the example and the yearly templates
        assert (folder / name).read_bytes() == (TOMSK.parent / name).read_bytes()
    written = folder / "tomsk-2021.yaml"
    assert f"  {written}" in out.splitlines()
    assert f"  dqflow instantiate {folder / 'tomsk-template.yaml'} --start " in out  # this year's campaign, from the template
    made = next(line.split()[-1] for line in out.splitlines() if line.startswith("  dqflow instantiate"))
    assert f"  dqflow validate {made}" in out.splitlines()
    assert f"  dqflow simulate {made} --maildir out/" in out.splitlines()
    assert "в порядке: кампания tomsk-2021" in dq.ok("validate", str(written))


def test_init_refuses_files_already_there_and_writes_nothing(dq: Cli, tmp_path: Path):
    edited = tmp_path / "tomsk-2021.yaml"
    edited.write_text("# мой файл кампании\n", encoding="utf-8")

    result = dq("init", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"ошибка: в {tmp_path} уже есть tomsk-2021.yaml; ничего не записано (чтобы перезаписать, добавьте --force)"]
    assert edited.read_text(encoding="utf-8") == "# мой файл кампании\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tomsk-2021.yaml"]

    dq.ok("init", str(tmp_path), "--force")
    assert edited.read_bytes() == TOMSK.read_bytes()


def test_init_into_a_file_is_one_line(dq: Cli, tmp_path: Path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    result = dq("init", str(a_file))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [f"ошибка: {a_file} — не папка; укажите папку для начальной кампании"]


# -- the wheel, installed elsewhere --------------------------------------------------------


def run(args: list, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


@pytest.mark.package
def test_a_wheel_in_a_fresh_virtualenv_runs_the_bundled_campaign_from_an_empty_folder(tmp_path: Path):
    """Builds the wheel (pip fetches setuptools for the build, from PyPI or its cache), installs it
    into a new virtualenv, and from an empty folder runs `dqflow init .`, `validate` and
    `simulate --maildir out/`.

    The new virtualenv gets the wheel alone (--no-deps); its dependencies are this test's own
    site-packages, named in a .pth file. Python does not read the .pth files of a folder a .pth
    names, so the editable install of the checkout stays invisible there — asserted below.
    """
    src = tmp_path / "src"  # a copy, so the build writes no build/ or *.egg-info into the checkout
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", src], cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("dqflow-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel], cwd=tmp_path)
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).stdout.strip())
    dependencies = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "dqflow_test_dependencies.pth").write_text("\n".join(dependencies) + "\n", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DQFLOW_"))}
    empty = tmp_path / "coordinator"
    empty.mkdir()
    where = run([python, "-c", "import dqflow, dqflow.campaign.starter as s, dqflow.intake.templates as t; "
                               "print(dqflow.__file__); print(t.default_folder('ru')); print(s.bundled()[0])"], cwd=empty, env=env)
    for line in where.stdout.splitlines():  # the installed copy, never the checkout
        assert Path(line).resolve().is_relative_to(site.resolve()), where.stdout

    dqflow = venv / "bin" / "dqflow"
    # Each command's modules are imported when it runs (dqflow.cli's table of commands): --version loads no database.
    version = run([python, "-c", "import sys\nfrom dqflow.cli import cli\ntry:\n    cli(['--version'])\nexcept SystemExit:\n"
                                 "    print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'jinja2', 'dqflow.engine'))))"],
                  cwd=empty, env=env)
    assert version.stdout.splitlines() == ["dqflow, version 0.1.0", "[]"]
    init = run([dqflow, "init", "."], cwd=empty, env=env)
    assert any(line.startswith("  dqflow instantiate tomsk-template.yaml --start ") for line in init.stdout.splitlines())
    assert (empty / "tomsk-2021.yaml").read_bytes() == TOMSK.read_bytes()
    run([dqflow, "validate", "tomsk-2021.yaml"], cwd=empty, env=env)
    # the yearly templates came along: next year's Kemerovo campaign is one command
    run([dqflow, "instantiate", "kemerovo.yaml", "--start", "11.09.2023", "--id", "kemerovo-2023", "--out", "kemerovo-2023.yaml"],
        cwd=empty, env=env)
    run([dqflow, "validate", "kemerovo-2023.yaml"], cwd=empty, env=env)
    run([dqflow, "simulate", "tomsk-2021.yaml", "--maildir", "out/", "--keep-db", "sim.db"], cwd=empty, env=env)
    # The справка's HTML template is package data of dqflow.results: the installed copy renders it.
    run([dqflow, "--db", "sim.db", "report", "--out", "spravka.html", "--now", "2022-01-21"], cwd=empty, env=env)
    assert "АНАЛИТИЧЕСКАЯ СПРАВКА" in (empty / "spravka.html").read_text(encoding="utf-8")
    # … and so are the published site's templates and style sheet (dqflow/results/templates/publish/)
    run([dqflow, "--db", "sim.db", "publish", "--out", "site", "--now", "2022-01-21"], cwd=empty, env=env)
    assert "Итоги мониторинга" in (empty / "site" / "index.html").read_text(encoding="utf-8") and (empty / "site" / "style.css").is_file()

    # The migrations are package data too: a new database is made at the head, a release's is upgraded.
    from dqflow.store import schema

    made = run([dqflow, "--db", "new.db", "migrate"], cwd=empty, env=env)
    assert made.stdout == f"База данных 'sqlite:///new.db' создана: версия схемы {schema.HEAD}.\n"
    with sqlite3.connect(empty / "release.db") as connection:
        connection.executescript((ROOT / "tests" / "data" / "release-1a76da4.sqlite.sql").read_text(encoding="utf-8"))
    run([dqflow, "--db", "release.db", "status", "--now", "2021-12-03 12:00"], cwd=empty, env=env)
    assert run([dqflow, "--db", "release.db", "tick", "--now", "2021-12-03 12:00"], cwd=empty, env=env).stdout
    assert run([dqflow, "--db", "release.db", "migrate", "--check"], cwd=empty, env=env).stdout == (
        f"База данных 'sqlite:///release.db': версия схемы {schema.HEAD}, актуальная.\n")

    # The portal's page templates are package data too: the board renders from the wheel.
    run([dqflow, "--db", "release.db", "board", "--out", "public", "--now", "2021-12-03 12:00"], cwd=empty, env=env)
    assert "Ход мониторинга" in (empty / "public" / "index.html").read_text(encoding="utf-8")
    where = run([python, "-c", "import dqflow.web, importlib.resources as r; print(r.files('dqflow.web') / 'templates' / 'institution.html')"],
                cwd=empty, env=env)
    assert Path(where.stdout.strip()).resolve().is_relative_to(site.resolve()) and Path(where.stdout.strip()).is_file()

    emails = sorted((empty / "out").glob("*.eml"))
    assert len(emails) > 100  # the Tomsk replay sends a few hundred
    for path in emails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Subject"] and message["To"], path.name
        assert message.get_body(("plain",)).get_content().strip(), path.name
        assert message.get_body(("html",)).get_content().strip(), path.name
