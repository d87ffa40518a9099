"""A single document of the справка — the HTML file, the Word document, the Markdown — is the same summary for a large
roster: above `figures.DETAIL_UP_TO` ДОУ none of them gives each ДОУ a section (a region's справка of 50,000 sections is
a document nobody opens), each names the first ДОУ at or below the base level and the experts who missed most, with how
many there are, says where each ДОУ's results are, and counts the whole roster. A small roster keeps each ДОУ's section in every one. SQLite and
PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Cli
from docx import Document
from test_spravka_scale import loaded

from dqflow import store
from dqflow.calendar import parse_local
from dqflow.results import figures, town, words

NOW = "2021-12-20 12:00"


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _written(db_url: str, campaign_id: str, fmt: str, out: Path) -> tuple[str, str]:
    said = Cli(db_url).ok("--campaign", campaign_id, "report", "--format", fmt, "--out", str(out), "--now", NOW)
    return said, _docx_text(out) if fmt == "docx" else out.read_text(encoding="utf-8")


def test_the_word_and_markdown_documents_of_a_large_roster_are_the_summary(db_url: str, database, tmp_path: Path):
    n = 400
    campaign = loaded(database, tmp_path, n)
    with store.dry_run(database) as session:
        found = figures.compute(session, campaign.id, parse_local(NOW, campaign.tz), detail=False)
    assert n > figures.DETAIL_UP_TO and found.low_total > town.ATTENTION
    first, beyond = found.attention[0][0], campaign.institutions[-1]
    for fmt in ("docx", "md"):
        said, text = _written(db_url, campaign.id, fmt, tmp_path / f"spravka.{fmt}")
        assert f"ДОУ: {n} — справка без разделов по каждому ДОУ" in said, (fmt, said)
        assert f"ДОУ): {n}." in text or f"ДОУ: {n}." in text, fmt  # the title block counts the whole roster
        assert f"Показаны первые {town.ATTENTION} из {found.low_total} ДОУ (в порядке списка)" in text, fmt
        assert "dqflow report --format html --out ПАПКА" in text, fmt  # where each ДОУ's results are
        assert first.name in text, fmt
        # the experts too: the first `EXPERTS_SHOWN` who missed most, and how many there are (the whole list is elsewhere)
        assigned = [e for e in found.experts if e.assigned]
        assert f"Показаны {words.EXPERTS_SHOWN} из {len(assigned)} экспертов" in text, fmt
        cells = {cell.strip() for line in text.splitlines() for cell in line.split("|")}  # a table's cells, a line's text
        assert sum(e.expert.name in cells for e in assigned) == words.EXPERTS_SHOWN, fmt
        # no ДОУ's section: the stage table of a section («Ссылки на материалы» / «Ссылки») is nowhere
        assert "Ссылки на материалы" not in text and "| Ссылки |" not in text, fmt
        assert beyond.name not in text or beyond.id in {i.id for i, _ in found.attention}, fmt


def test_the_word_and_markdown_documents_of_a_small_roster_keep_each_dou(db_url: str, database, tmp_path: Path):
    n = 15
    campaign = loaded(database, tmp_path, n)
    for fmt in ("docx", "md"):
        said, text = _written(db_url, campaign.id, fmt, tmp_path / f"spravka.{fmt}")
        assert "без разделов" not in said and "dqflow report --format html --out ПАПКА" not in text, fmt
        assert all(inst.name in text for inst in campaign.institutions), fmt
        section = "Ссылки на материалы" if fmt == "docx" else "| Ссылки |"
        assert text.count(section) == n, (fmt, text.count(section))
