"""How long relating two years' rosters takes (`engine.lineage.relate`) for N ДОУ: half matched by ИНН, the rest by id,
1 % new, 1 % gone, 1 % renamed. The floor is building the two rosters.

    .venv/bin/python benchmarks/lineage.py [N…]
"""

import sys
import time

from dqflow.campaign.roster import inn_check_digit
from dqflow.engine.lineage import Member, relate


def rosters(n: int) -> tuple[list[Member], list[Member]]:
    def inn(i: int) -> str | None:
        nine = f"{i:09d}"
        return nine + str(inn_check_digit(nine)) if i % 2 else None

    before = [Member(str(i), f"ДОУ № {i}", inn(i)) for i in range(n)]
    after = [Member(f"n{i}" if m.inn and i % 7 == 1 else m.id, m.name + (" (новое)" if i % 100 == 3 else ""), m.inn)
             for i, m in enumerate(before) if i % 100 != 5] + [Member(f"new{i}", f"Новый {i}") for i in range(n // 100)]
    return before, after


def main(sizes: list[int]) -> None:
    for n in sizes:
        start = time.perf_counter()
        before, after = rosters(n)
        built = time.perf_counter()
        found = relate(before, after)
        end = time.perf_counter()
        print(f"{n:>7} ДОУ: floor (rosters built) {built - start:6.3f} s, relate {end - built:6.3f} s: pairs {len(found.pairs)}, "
              f"new {len(found.appeared)}, gone {len(found.disappeared)}, renamed {len(found.renamed)}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 12_000, 50_000])
