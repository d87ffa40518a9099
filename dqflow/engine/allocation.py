"""Drawing an expert list: who reviews which ДОУ. Pure: rosters in, assignments out.

Hard rules, never broken: an expert never reviews their own ДОУ (where they have one) or a declared conflict,
never twice the same ДОУ. Soft rules, met whenever the roster allows: each ДОУ gets
exactly `per` experts; no reciprocal pair (experts of A review B while experts of B review
A); with a previous list, no ДОУ sees an expert again; loads differ by at most one (and
stay within `max_load`). A seeded greedy draw is repaired by local search with restarts.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

HARD = 1000  # an unfilled place or a load over max_load outweighs every soft rule together
GREEDY_LOOKS = 24
REPAIR_LOOKS = 80


@dataclass(frozen=True)
class Request:
    institutions: tuple[str, ...]
    home: dict[str, str | None]  # expert id → their ДОУ id (None: an expert of no ДОУ, free to review any)
    per: int = 2
    previous: dict[str, frozenset[str]] = field(default_factory=dict)  # ДОУ → experts it had before
    exclude: frozenset[tuple[str, str]] = frozenset()  # (ДОУ, expert) pairs that must not meet
    max_load: int | None = None

    def eligible(self, institution: str, expert: str) -> bool:
        """The hard rules of one review: never the ДОУ's own expert, never a declared conflict."""
        return expert not in self.barred(institution)

    def barred(self, institution: str) -> tuple[str, ...]:
        """The experts who may never review `institution` (`eligible` is false for them and only them), each once:
        asked once per ДОУ by the draw's hot loop, which then tests each expert against these few."""
        return self._barred.get(institution, ())

    @cached_property
    def _barred(self) -> dict[str, tuple[str, ...]]:
        """Tuples, not sets: a ДОУ bars one or two experts, and 50,000 small sets would cost megabytes."""
        barred: dict[str, set[str]] = defaultdict(set)
        for expert, home in self.home.items():
            if home is not None:
                barred[home].add(expert)
        for institution, expert in self.exclude:
            if expert in self.home:
                barred[institution].add(expert)
        return {institution: tuple(experts) for institution, experts in barred.items()}

    def load_bounds(self) -> tuple[int, int]:
        """The loads of a perfectly even list: every expert has lo or hi reviews."""
        experts = len(self.home)
        if not experts:
            return 0, 0
        total = len(self.institutions) * self.per
        lo, hi = total // experts, -(-total // experts)
        if self.max_load is not None:
            hi = min(hi, self.max_load)
            lo = min(lo, hi)
        return lo, hi


class Rule:
    """One rule a list breaks, as a code and its facts (ids and numbers), made where the rule is checked.

    People read it in their language at the edge, from the code: `report.broken_ru` for the coordinator's
    lists, `present.refusals` for the portal's and the terminal's refusals; `str()` is the English line of the logs.
    `to_dict()` is what JSON and the audit log keep."""

    __slots__ = ("code", "facts")

    def __init__(self, code: str, **facts: Any):
        self.code, self.facts = code, facts

    def __eq__(self, other: object) -> bool:  # with no __hash__ of its own, a Rule is unhashable: its facts hold lists
        return isinstance(other, Rule) and (self.code, self.facts) == (other.code, other.facts)

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {', '.join(f'{k}={v!r}' for k, v in self.facts.items())})"

    def __str__(self) -> str:
        facts = {k: ", ".join(v) if isinstance(v, list) else v for k, v in self.facts.items()}
        return RULES_EN[self.code].format(**facts)

    def to_dict(self) -> dict:
        return {"code": self.code, **self.facts}


RULES_EN = {
    # a manual edit may never break these (`hard_problems`)
    "unknown-expert": "no expert '{expert}' in the campaign",
    "own-institution": "expert {expert} belongs to ДОУ {institution} and cannot review it",
    "conflict": "expert {expert} is a declared conflict of ДОУ {institution}",
    "twice": "ДОУ {institution} would have the same expert twice",
    # what a list may still break, reported (`explain`)
    "own-experts": "ДОУ {institution} is reviewed by its own expert(s): {experts}",
    "conflicts": "ДОУ {institution} is reviewed by a declared conflict: {experts}",
    "short": "ДОУ {institution} has {have} of {per} experts ({eligible} eligible)",
    "repeat": "ДОУ {institution} gets again an expert of the previous list: {experts}",
    "pair": "ДОУ {first} and {second} review each other",
    "uneven": "uneven load: {busiest} has {most} reviews, {idlest} {fewest}",
    "max-load": "max_load {max_load} exceeded: {experts}",
}


@dataclass
class Allocation:
    assignments: dict[str, list[str]]
    problems: list[Rule]

    def load(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for experts in self.assignments.values():
            for e in experts:
                counts[e] += 1
        return dict(counts)


class _State:
    """An assignment and its score, updated in O(1) per added or removed review."""

    def __init__(self, request: Request):
        self.r = request
        self.lo, self.hi = request.load_bounds()
        self.assign: dict[str, list[str]] = {i: [] for i in request.institutions}
        self.load: dict[str, int] = {e: 0 for e in request.home}
        # (reviewed ДОУ, reviewer's ДОУ) → reviews; an expert of no ДОУ counts under None and makes no pair
        self.cnt: dict[tuple[str | None, str | None], int] = defaultdict(int)
        self.under: dict[str, None] = dict.fromkeys(request.home) if self.lo > 0 else {}  # load < lo; ordered: determinism
        self.score = HARD * len(request.institutions) * request.per + sum(self._pen(0) for _ in request.home)

    def _pen(self, load: int) -> int:
        over_max = max(0, load - self.r.max_load) if self.r.max_load is not None else 0
        return max(0, load - self.hi) + max(0, self.lo - load) + HARD * over_max

    def pen_table(self) -> Callable[[int], int]:
        """`_pen` as a bound lookup for the loads a draw reaches (the greedy calls it ~4 times a place)."""
        top = len(self.r.institutions) * self.r.per + 2
        table = [self._pen(n) for n in range(top)]
        return lambda n: table[n] if 0 <= n < top else self._pen(n)

    def _recip(self, a: str | None, b: str | None) -> int:
        return 1 if self.cnt[(a, b)] > 0 and self.cnt[(b, a)] > 0 else 0

    def add_delta(self, inst: str, expert: str) -> int:
        """What `add` would change the score by, without changing anything (the greedy's hot path)."""
        h = self.r.home[expert]
        recip_after = 1 if h == inst or self.cnt.get((h, inst), 0) > 0 else 0
        recip_before = recip_after if self.cnt.get((inst, h), 0) > 0 else 0
        load = self.load[expert]
        return (recip_after - recip_before - HARD + (1 if expert in self.r.previous.get(inst, ()) else 0)
                + self._pen(load + 1) - self._pen(load))

    def add(self, inst: str, expert: str) -> int:
        h = self.r.home[expert]
        before = self._recip(inst, h)
        self.cnt[(inst, h)] += 1
        delta = self._recip(inst, h) - before - HARD
        delta += 1 if expert in self.r.previous.get(inst, ()) else 0
        delta += self._pen(self.load[expert] + 1) - self._pen(self.load[expert])
        self.load[expert] += 1
        if self.load[expert] >= self.lo:
            self.under.pop(expert, None)
        self.assign[inst].append(expert)
        self.score += delta
        return delta

    def remove(self, inst: str, expert: str) -> int:
        h = self.r.home[expert]
        before = self._recip(inst, h)
        self.cnt[(inst, h)] -= 1
        delta = self._recip(inst, h) - before + HARD
        delta -= 1 if expert in self.r.previous.get(inst, ()) else 0
        delta += self._pen(self.load[expert] - 1) - self._pen(self.load[expert])
        self.load[expert] -= 1
        if self.load[expert] < self.lo:
            self.under[expert] = None
        self.assign[inst].remove(expert)
        self.score += delta
        return delta

    def replace(self, inst: str, old: str, new: str) -> int:
        return self.remove(inst, old) + self.add(inst, new)

    def troubled(self) -> list[tuple[str, str]]:
        """Reviews that take part in a broken soft rule."""
        found = []
        for inst, experts in self.assign.items():
            for e in experts:
                h = self.r.home[e]
                if (self.cnt[(h, inst)] > 0 or e in self.r.previous.get(inst, ()) or self.load[e] > self.hi
                        or self.load[e] < self.lo):
                    found.append((inst, e))
        if self.under:  # an idle expert is fixed by taking a review from a busy one
            found += [(inst, e) for inst, experts in self.assign.items() for e in experts if self.load[e] > self.lo]
        return found

    def snapshot(self) -> dict[str, list[str]]:
        return {i: sorted(es) for i, es in self.assign.items()}


def allocate(request: Request, seed: int = 0, restarts: int = 6) -> Allocation:
    """The best list found; `problems` says which rules it could not keep, and why."""
    best: _State | None = None
    for attempt in range(restarts):
        state = _search(request, random.Random(f"{seed}:{attempt}"))
        if best is None or state.score < best.score:
            best = state
        if best.score == 0:
            break
    assert best is not None, "restarts is at least 1"
    assignments = best.snapshot()
    return Allocation(assignments, explain(request, assignments))


class _Candidates:
    """Each ДОУ's eligible experts in a seeded order, listed on first need: the full table
    would be ДОУ × experts, 2.5·10⁹ entries for a national campaign of 50,000."""

    def __init__(self, request: Request, rng: random.Random):
        self.r, self.rng = request, rng
        self.lists: dict[str, list[str]] = {}
        self.count = {i: len(request.home) - len(request.barred(i)) for i in request.institutions}

    def __getitem__(self, inst: str) -> list[str]:
        if inst not in self.lists:
            found = [e for e in self.r.home if self.r.eligible(inst, e)]
            self.rng.shuffle(found)
            self.lists[inst] = found
        return self.lists[inst]


def _search(request: Request, rng: random.Random) -> _State:
    state = _State(request)
    candidates = _Candidates(request, rng)
    order = sorted(request.institutions, key=lambda i: (candidates.count[i], rng.random()))
    idlest = [(0, rng.random(), e) for e in request.home]  # a heap of experts by load: O(log m) per pick
    heapq.heapify(idlest)
    pen = state.pen_table()
    home, load, cnt, previous, random_ = request.home, state.load, state.cnt, request.previous, rng.random
    for inst in order:  # greedy: the ДОУ with fewest candidates choose first, among the idlest experts
        before = previous.get(inst, ())

        def key(e: str) -> tuple[int, int, float]:  # (add_delta, load, a tie-break), inlined: the hot path
            h = home[e]
            after = 1 if h == inst or cnt.get((h, inst), 0) > 0 else 0
            n = load[e]
            return (after - (after if cnt.get((inst, h), 0) > 0 else 0) - HARD + (1 if e in before else 0)
                    + pen(n + 1) - pen(n), n, random_())

        for _ in range(request.per):
            options = _idlest_options(state, inst, idlest)
            if not options:
                options = [e for e in candidates[inst] if e not in state.assign[inst]]
            if not options:
                break
            best = min(options, key=key)
            state.add(inst, best)
            heapq.heappush(idlest, (load[best], random_(), best))
    _repair(state, candidates, rng)
    return state


def _idlest_options(state: _State, inst: str, idlest: list[tuple[int, float, str]]) -> list[str]:
    """Up to GREEDY_LOOKS eligible experts of least load; stale heap entries are dropped on the way."""
    options: list[str] = []
    kept: list[tuple[int, float, str]] = []
    loads, barred, taken, pop = state.load, state.r.barred(inst), state.assign[inst], heapq.heappop
    while idlest and len(options) < GREEDY_LOOKS:
        entry = pop(idlest)
        expert = entry[2]
        if entry[0] != loads[expert]:
            continue  # an older entry: the current one is in the heap too
        kept.append(entry)
        if expert not in barred and expert not in taken:  # Request.eligible, inlined: the hot path
            options.append(expert)
    push = heapq.heappush
    for entry in kept:
        push(idlest, entry)
    return options


def _repair(state: _State, candidates: _Candidates, rng: random.Random) -> None:
    request = state.r
    budget = 40 * len(request.institutions) * request.per + 400
    patience = 200 + len(request.institutions) * request.per // 4  # moves without a new best before giving up
    best_score, best = state.score, state.snapshot()
    steps = stale = 0
    while state.score > 0 and steps < budget and stale < patience:
        trouble = state.troubled()
        short = [i for i in request.institutions if len(state.assign[i]) < request.per]
        filled = False
        for inst in short:  # a place left empty: take any candidate, even a busy one
            options = [e for e in candidates[inst] if e not in state.assign[inst]]
            if options:
                state.add(inst, min(options, key=lambda e: (state.add_delta(inst, e), rng.random())))
                filled = True
        if not trouble and not filled:
            break  # the places left empty have no candidate: nothing more to try
        rng.shuffle(trouble)
        steps += 1
        for inst, expert in trouble[:8]:
            steps += 1
            stale += 1
            if expert in state.assign[inst]:
                _improve(state, inst, expert, candidates, rng)
            if state.score < best_score:
                best_score, best, stale = state.score, state.snapshot(), 0
            if state.score == 0:
                break
    if state.score > best_score:
        _restore(state, best)


def _improve(state: _State, inst: str, expert: str, candidates: _Candidates, rng: random.Random) -> None:
    """Replace or swap one troubled review: the best move, a sideways one at times, rarely a worse one."""
    moves: list[tuple[int, float, tuple]] = []
    pool = candidates[inst]
    if len(pool) > REPAIR_LOOKS:  # big rosters: the underloaded and a random few are enough to choose from
        idle = [e for e in itertools.islice(state.under, REPAIR_LOOKS) if state.r.eligible(inst, e)]
        pool = idle + rng.sample(pool, REPAIR_LOOKS // 2)
    for new in pool:
        if new not in state.assign[inst]:
            delta = state.replace(inst, expert, new)
            state.replace(inst, new, expert)
            moves.append((delta, rng.random(), ("replace", new)))
    partners = [(other, e) for other in rng.sample(list(state.assign), min(len(state.assign), 40)) if other != inst
                for e in state.assign[other]]
    for other, theirs in partners:
        if (theirs == expert or theirs in state.assign[inst] or expert in state.assign[other]
                or not state.r.eligible(inst, theirs) or not state.r.eligible(other, expert)):
            continue
        delta = state.replace(inst, expert, theirs) + state.replace(other, theirs, expert)
        state.replace(other, expert, theirs)
        state.replace(inst, theirs, expert)
        moves.append((delta, rng.random(), ("swap", other, theirs)))
    if not moves:
        return
    delta, _, move = min(moves)
    if delta > 0 and rng.random() > 0.1:
        return
    if move[0] == "replace":
        state.replace(inst, expert, move[1])
    else:
        state.replace(inst, expert, move[2])
        state.replace(move[1], move[2], expert)


def _restore(state: _State, snapshot: dict[str, list[str]]) -> None:
    for inst in list(state.assign):
        for e in list(state.assign[inst]):
            state.remove(inst, e)
    for inst, experts in snapshot.items():
        for e in experts:
            state.add(inst, e)


def explain(request: Request, assignments: dict[str, list[str]]) -> list[Rule]:
    """Every rule the list breaks, as codes with their facts (`report.broken_ru` says them in Russian)."""
    problems = []
    for inst in request.institutions:
        experts = assignments.get(inst, [])
        own = [e for e in experts if request.home.get(e) == inst]
        if own:
            problems.append(Rule("own-experts", institution=inst, experts=own))
        conflicts = [e for e in experts if (inst, e) in request.exclude]
        if conflicts:
            problems.append(Rule("conflicts", institution=inst, experts=conflicts))
        if len(set(experts)) != len(experts):
            problems.append(Rule("twice", institution=inst))
        if len(experts) < request.per:
            eligible = len(request.home) - len(request.barred(inst))
            problems.append(Rule("short", institution=inst, have=len(experts), per=request.per, eligible=eligible))
        again = [e for e in experts if e in request.previous.get(inst, ())]
        if again:
            problems.append(Rule("repeat", institution=inst, experts=again))
    reviewed_by = {(inst, home) for inst, experts in assignments.items() for e in experts
                   if (home := request.home.get(e)) is not None}  # an expert of no ДОУ makes no pair
    for a, b in sorted(reviewed_by):
        if a < b and (b, a) in reviewed_by:
            problems.append(Rule("pair", first=a, second=b))
    load = {e: 0 for e in request.home}
    for experts in assignments.values():
        for e in experts:
            load[e] = load.get(e, 0) + 1
    if load and max(load.values()) - min(load.values()) > 1:
        busiest = max(load, key=lambda e: load[e])
        idlest = min(load, key=lambda e: load[e])
        problems.append(Rule("uneven", busiest=busiest, most=load[busiest], idlest=idlest, fewest=load[idlest]))
    if request.max_load is not None:
        over = [e for e, n in load.items() if n > request.max_load]
        if over:
            problems.append(Rule("max-load", max_load=request.max_load, experts=sorted(over)))
    return problems


def hard_problems(request: Request, assignments: dict[str, list[str]]) -> list[Rule]:
    """Only the rules a coordinator's manual edit may never break."""
    found = []
    for inst, experts in assignments.items():
        for e in experts:
            if e not in request.home:
                found.append(Rule("unknown-expert", expert=e))
            elif request.home[e] == inst:
                found.append(Rule("own-institution", expert=e, institution=inst))
            elif (inst, e) in request.exclude:
                found.append(Rule("conflict", expert=e, institution=inst))
        if len(set(experts)) != len(experts):
            found.append(Rule("twice", institution=inst))
    return found
