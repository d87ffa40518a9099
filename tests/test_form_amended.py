"""A ДОУ's form saved from the portal after an amendment committed between the request's admission (which read the
definition) and its write: the save acts on the stored definition, read under the campaign's lock, never on the one
the admission held — an indicator or a level the amendment removed is refused, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from dqflow import engine, store
from dqflow.campaign import spec
from dqflow.engine import amend, definitions, form
from dqflow.errors import DqflowError
from test_form import at, form_file

NOW = "2021-11-22 10:00"


def _amended(folder: Path, path: Path, change) -> spec.Campaign:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    new_path = folder / "amended.yaml"
    new_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec.load(new_path)


def _without_indicator(data) -> None:
    for area in data["areas"]:
        if "indicators" in area:
            area["indicators"] = [i for i in area["indicators"] if str(i.get("id")) != "1.3"]


def _without_level(data) -> None:
    data["levels"] = [lv for lv in data["levels"] if str(lv["id"]) != "4"]


@pytest.mark.parametrize("change, indicator, level", [(_without_indicator, "1.3", "2"), (_without_level, "1.1", "4")])
@pytest.mark.parametrize("press", ["save_changed", "save"])
def test_a_save_after_an_amendment_acts_on_the_stored_definition(db_url: str, tmp_path: Path, change, indicator: str,
                                                                 level: str, press: str):
    path = form_file(tmp_path)
    old = spec.load(path)
    db = store.connect(db_url)
    with store.transaction(db) as session:
        engine.load(session, old, at("2021-11-10 09:00"))
    with store.dry_run(db) as session:
        admitted = definitions.definition(session, old.id)  # what the portal's admission of the request holds
    new = _amended(tmp_path, path, change)
    with store.transaction(db) as session:  # `dqflow load --apply`, committed after the admission
        amend.apply(session, new, at(NOW), "приказ", force=True)
    with pytest.raises(DqflowError), store.transaction(db) as session:  # as `web.personal`'s write
        definitions.known(session, admitted)
        if press == "save_changed":
            form.save_changed(session, old.id, "2", "fill-form",
                              {indicator: form.Draft([("https://example.org/a", None)], level, "")}, at(NOW))
        else:
            form.save(session, old.id, "2", "fill-form", indicator, at(NOW), links=[("https://example.org/a", None)], level=level)
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM form_entry WHERE institution_id = '2'")).scalar() == 0
