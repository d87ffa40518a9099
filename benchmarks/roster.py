"""A seeded national roster on the Tomsk schedule: N ДОУ, each with 1..E experts of its own.

    from roster import campaign_file
    path = campaign_file(folder, n=50_000, experts=2, seed=1)

Same (n, experts, seed), same bytes: the campaign YAML and its roster CSV under example.org.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

TOMSK = Path(__file__).resolve().parent.parent / "workflows" / "tomsk-2021.yaml"
KINDS = ["МАДОУ", "МБДОУ", "МКДОУ"]


def rows(n: int, experts: int, seed: int) -> list[str]:
    """The roster's CSV lines: one per ДОУ and expert (a ДОУ with e experts takes e lines)."""
    rng = random.Random(seed)
    lines = ["id,name,email,contact,expert_id,expert_name,expert_email"]
    for i in range(1, n + 1):
        name = f"{rng.choice(KINDS)} № {i}"
        for k in range(1, rng.randint(1, experts) + 1):
            lines.append(f"{i},{name},dou{i}@example.org,,e{i}-{k},Эксперт {k} ДОУ № {i},expert{i}-{k}@example.org")
    return lines


def campaign_file(folder: Path, n: int, experts: int = 1, seed: int = 1) -> Path:
    data = yaml.safe_load(TOMSK.read_text(encoding="utf-8"))
    data["campaign"]["id"] = f"national-{n}"
    data["institutions"] = {"file": "roster.csv"}
    (folder / "roster.csv").write_text("\n".join(rows(n, experts, seed)) + "\n", encoding="utf-8")
    path = folder / "national.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
