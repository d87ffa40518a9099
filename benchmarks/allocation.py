"""How fast and how well an expert list is drawn for N ДОУ with one expert each (two per ДОУ).

    .venv/bin/python benchmarks/allocation.py [N…]

Prints seconds, peak memory, and every soft rule the list could not keep (ideally none).
"""

import resource
import sys
import time

from dqflow.engine.allocation import Request, allocate


def roster(n: int, previous: dict | None = None) -> Request:
    institutions = tuple(str(i) for i in range(1, n + 1))
    home = {f"e{i}": i for i in institutions}
    return Request(institutions, home, per=2, previous=previous or {})


def main(sizes: list[int]) -> None:
    for n in sizes:
        start = time.perf_counter()
        first = allocate(roster(n), seed=1)
        middle = time.perf_counter()
        second = allocate(roster(n, {i: frozenset(es) for i, es in first.assignments.items()}), seed=2)
        end = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>6} ДОУ: list 1 {middle - start:6.2f} s ({len(first.problems)} problems), "
              f"list 2 distinct from list 1 {end - middle:6.2f} s ({len(second.problems)} problems), "
              f"peak RSS {peak:.0f} MB", flush=True)
        for problem in (first.problems + second.problems)[:5]:
            print("    ", problem)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [11, 500, 5000, 50000])
