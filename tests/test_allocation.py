"""Drawing expert lists: hard rules always, soft rules whenever any list could keep them.

Random rosters go through the real allocator; on small rosters an exhaustive search says
whether a list keeping every soft rule exists at all, and the allocator must then find one
(or, when none exists, say which rule it could not keep).
"""

from __future__ import annotations

import dataclasses
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dqflow.engine.allocation import Request, Rule, allocate, explain, hard_problems
from dqflow.present.labels import broken_ru
from dqflow.campaign.terms import Terms

# what `problems` must say for each broken soft rule
REPORTED = {  # the checker's rule → the code `explain` reports it by
    "short": "short",
    "reciprocal": "pair",
    "previous": "repeat",
    "uneven": "uneven",
    "max_load": "max-load",
}


# -- an independent checker -------------------------------------------------------------


def hard_violations(req: Request, assignments: dict[str, list[str]]) -> list[str]:
    found = []
    for inst, experts in assignments.items():
        assert inst in req.institutions, f"unknown ДОУ {inst} in the list"
        if len(set(experts)) != len(experts):
            found.append(f"{inst}: the same expert twice {experts}")
        for e in experts:
            if e not in req.home:
                found.append(f"{inst}: unknown expert {e}")
            elif req.home[e] == inst:
                found.append(f"{inst}: its own expert {e}")
            elif (inst, e) in req.exclude:
                found.append(f"{inst}: excluded pair with {e}")
    return found


def soft_violations(req: Request, assignments: dict[str, list[str]]) -> set[str]:
    found = set()
    if any(len(assignments.get(i, [])) != req.per for i in req.institutions):
        found.add("short")
    reviewed = {(i, req.home[e]) for i, es in assignments.items() for e in es if req.home[e] is not None}
    if any((b, a) in reviewed for a, b in reviewed if a != b):
        found.add("reciprocal")
    if any(e in req.previous.get(i, ()) for i, es in assignments.items() for e in es):
        found.add("previous")
    load = {e: 0 for e in req.home}
    for es in assignments.values():
        for e in es:
            load[e] += 1
    if load and max(load.values()) - min(load.values()) > 1:
        found.add("uneven")
    if req.max_load is not None and any(n > req.max_load for n in load.values()):
        found.add("max_load")
    return found


def eligible(req: Request, inst: str) -> list[str]:
    return [e for e in req.home if req.home[e] != inst and (inst, e) not in req.exclude]


def check_result(req: Request, seed: int):
    """The checks every drawn list must pass; returns the result and its broken soft rules."""
    result = allocate(req, seed=seed)
    assert set(result.assignments) == set(req.institutions)
    assert hard_violations(req, result.assignments) == []
    assert hard_problems(req, result.assignments) == []
    for inst in req.institutions:
        assert len(result.assignments[inst]) <= req.per
        # exactly k whenever the roster has k eligible experts and no max_load caps the loads
        if req.max_load is None and len(eligible(req, inst)) >= req.per:
            assert len(result.assignments[inst]) == req.per, (inst, result.assignments[inst], result.problems)
    broken = soft_violations(req, result.assignments)
    # every broken rule is reported, by the code `explain` uses, and nothing else is
    assert result.problems == explain(req, result.assignments)
    for rule in broken:
        assert any(REPORTED[rule] == p.code for p in result.problems), (rule, result.problems)
    if not broken:
        assert result.problems == []
    else:
        assert result.problems
    return result, broken


# -- random rosters ----------------------------------------------------------------------


@st.composite
def rosters(draw, small: bool = False):
    """A Request: 3..500 ДОУ (large ones rare), 1..3 experts each, random exclusions and previous list."""
    rng = draw(st.randoms(use_true_random=False))
    if small:
        n = draw(st.integers(3, 12))
    else:
        big = draw(st.integers(0, 24)) == 24
        n = draw(st.integers(41, 500)) if big else draw(st.integers(3, 40))
    per = draw(st.integers(1, 3))
    most = draw(st.integers(1, 3))
    institutions = tuple(str(i * 7 + 2) for i in range(n))
    home: dict[str, str | None] = {f"e{inst}.{j}": inst for inst in institutions for j in range(rng.randint(1, most))}
    home.update({f"m{j}": None for j in range(draw(st.integers(0, 4)))})  # methodologists of no ДОУ: mixed rosters
    experts = list(home)
    exclude = frozenset((rng.choice(institutions), rng.choice(experts))
                        for _ in range(draw(st.integers(0, max(1, n // 2)))))
    previous: dict[str, frozenset[str]] = {}
    if draw(st.booleans()):
        for inst in institutions:
            pool = [e for e in experts if home[e] != inst]
            previous[inst] = frozenset(rng.sample(pool, min(len(pool), rng.randint(0, per))))
    max_load = None
    if draw(st.booleans()):
        even = -(-n * per // len(experts))
        # below the even load no list can keep every rule; the search then spends its whole
        # budget, which is affordable on small rosters only
        max_load = max(1, even + draw(st.integers(0 if n > 40 else -1, 2)))
    return Request(institutions, home, per, previous, exclude, max_load)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(req=rosters(), seed=st.integers(0, 2**32))
def test_hard_rules_are_never_broken_and_every_broken_soft_rule_is_reported(req, seed):
    check_result(req, seed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(req=rosters(small=True))
def test_eligible_is_the_hard_rules_of_one_review_and_barred_lists_exactly_the_others(req):
    """`Request.eligible` (which the draw's hot loop asks through `barred`) against the independent checker;
    the "short" rule counts the same eligible experts."""
    for inst in req.institutions:
        expected = eligible(req, inst)
        assert [e for e in req.home if req.eligible(inst, e)] == expected
        assert sorted(req.barred(inst)) == sorted(e for e in req.home if e not in expected)
        short = [p for p in explain(req, {}) if p.code == "short" and p.facts["institution"] == inst]
        assert short and short[0].facts["eligible"] == len(expected)


@settings(max_examples=20, deadline=None)
@given(req=rosters(small=True), seed=st.integers(0, 1000), other=st.integers(0, 1000))
def test_the_same_seed_gives_the_same_list_from_an_equal_request(req, seed, other):
    req = dataclasses.replace(req, max_load=None)  # keeps most draws solvable, so quick
    first = allocate(req, seed=seed)
    rebuilt = Request(tuple(req.institutions), dict(req.home), req.per, dict(req.previous), frozenset(req.exclude), req.max_load)
    second = allocate(rebuilt, seed=seed)
    assert first.assignments == second.assignments
    assert first.problems == second.problems
    # another seed still keeps the hard rules
    assert hard_violations(req, allocate(req, seed=other).assignments) == []


def test_different_seeds_draw_different_lists():
    institutions = tuple(str(i) for i in range(30))
    req = Request(institutions, {f"e{i}": i for i in institutions}, 2)
    drawn = {tuple(tuple(v) for v in allocate(req, seed=s).assignments.values()) for s in range(5)}
    assert len(drawn) > 1


# -- soft rules on rosters where a valid list is known to exist ------------------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(7, 150), per=st.integers(1, 3), seed=st.integers(0, 2**32), with_previous=st.booleans())
def test_soft_rules_are_kept_when_a_circulant_list_proves_they_can_be(n, per, seed, with_previous):
    """One expert per ДОУ: ДОУ i reviewed by the experts of i+1..i+k is even and has no
    reciprocal pair when n > 2k; with the previous list i+k+1..i+2k (n > 4k) it is also distinct."""
    if with_previous and n <= 4 * per:
        n = 4 * per + 1
    if n <= 2 * per:
        n = 2 * per + 1
    institutions = tuple(f"d{i}" for i in range(n))
    home = {f"e{i}": f"d{i}" for i in range(n)}
    previous = {}
    if with_previous:
        previous = {f"d{i}": frozenset(f"e{(i + d) % n}" for d in range(per + 1, 2 * per + 1)) for i in range(n)}
    req = Request(institutions, home, per, previous, max_load=per)
    witness = {f"d{i}": [f"e{(i + d) % n}" for d in range(1, per + 1)] for i in range(n)}
    assert soft_violations(req, witness) == set() and hard_violations(req, witness) == []
    result, broken = check_result(req, seed)
    assert broken == set(), result.problems
    assert set(result.load().values()) == {per}


# -- small rosters against an exhaustive search ------------------------------------------


def exists_valid_list(req: Request) -> bool:
    """Backtracking over every assignment: is there one keeping every hard and soft rule?"""
    experts = list(req.home)
    total = len(req.institutions) * req.per
    cap = -(-total // len(experts))
    if req.max_load is not None:
        cap = min(cap, req.max_load)
    load = {e: 0 for e in experts}
    reviewed: dict[tuple[str, str], int] = {}
    insts = list(req.institutions)

    def go(k: int) -> bool:
        if k == len(insts):
            return max(load.values()) - min(load.values()) <= 1
        inst = insts[k]
        options = [e for e in eligible(req, inst) if e not in req.previous.get(inst, ())]
        for chosen in combinations(options, req.per):
            if any(load[e] >= cap for e in chosen):
                continue
            homes = [req.home[e] for e in chosen if req.home[e] is not None]
            if any(reviewed.get((h, inst)) for h in homes):
                continue  # ДОУ h is reviewed by inst's experts already: reciprocal
            for e in chosen:
                load[e] += 1
            for h in homes:
                reviewed[(inst, h)] = reviewed.get((inst, h), 0) + 1
            if go(k + 1):
                return True
            for e in chosen:
                load[e] -= 1
            for h in homes:
                reviewed[(inst, h)] -= 1
        return False

    return go(0)


@st.composite
def small_rosters(draw):
    n = draw(st.integers(3, 6))
    per = draw(st.integers(1, 2))
    institutions = tuple(str(i + 1) for i in range(n))
    home: dict[str, str | None] = {f"e{i}": i for i in institutions}
    home.update({f"m{j}": None for j in range(draw(st.integers(0, 2)))})  # experts of no ДОУ review anyone
    experts = list(home)
    pairs = [(i, e) for i in institutions for e in experts if home[e] != i]
    exclude = frozenset(draw(st.lists(st.sampled_from(pairs), max_size=n)))
    previous = {}
    if draw(st.booleans()):
        for inst in institutions:
            pool = [e for e in experts if home[e] != inst]
            previous[inst] = frozenset(draw(st.lists(st.sampled_from(pool), max_size=per, unique=True)))
    max_load = draw(st.none() | st.none() | st.integers(per, 3) | st.integers(1, 3))
    return Request(institutions, home, per, previous, exclude, max_load)


@settings(max_examples=100, deadline=None)
@given(req=small_rosters(), seed=st.integers(0, 2**32))
def test_soft_rules_are_met_whenever_the_exhaustive_search_finds_a_valid_list(req, seed):
    result, broken = check_result(req, seed)
    if exists_valid_list(req):
        assert broken == set(), f"a valid list exists but the allocator broke {broken}: {result.assignments} {result.problems}"
        assert result.problems == []
    else:
        assert broken, "no valid list exists, yet the allocator claims to keep every rule"
        assert result.problems, "no valid list exists and the allocator reported nothing"


def test_exhaustive_search_agrees_on_known_cases():
    """The oracle itself: three ДОУ with two experts each always form a reciprocal pair."""
    three = Request(("1", "2", "3"), {"e1": "1", "e2": "2", "e3": "3"}, 2)
    assert not exists_valid_list(three)
    result = allocate(three)
    assert any(p.code == "pair" for p in result.problems)
    assert "ДОУ 1 и 2 проверяют друг друга (взаимная пара)" in [broken_ru(p) for p in result.problems]
    five = Request(tuple("12345"), {f"e{i}": i for i in "12345"}, 2)
    assert exists_valid_list(five)
    assert allocate(five).problems == []


def test_an_impossible_roster_names_the_rule_and_the_reason():
    # ДОУ 1 may only be reviewed by e2: e3 is a declared conflict
    req = Request(("1", "2", "3"), {"e1": "1", "e2": "2", "e3": "3"}, 2, exclude=frozenset({("1", "e3")}))
    result = allocate(req)
    assert hard_violations(req, result.assignments) == []
    assert result.assignments["1"] == ["e2"]
    assert Rule("short", institution="1", have=1, per=2, eligible=1) in result.problems
    said = [broken_ru(p) for p in result.problems]
    assert "ДОУ 1: не хватает экспертов (1 из 2): проверять его могут только экспертов: 1" in said
    assert "ДОО 1: не хватает экспертов (1 из 2): проверять её могут только экспертов: 1" in [
        broken_ru(p, Terms(*["ДОО"] * 5, gender="f")) for p in result.problems]


def test_a_max_load_too_low_for_the_roster_is_reported():
    """Six ДОУ × two experts need 12 reviews; six experts with max_load 1 can give six."""
    institutions = tuple(str(i) for i in range(1, 7))
    req = Request(institutions, {f"e{i}": i for i in institutions}, 2, max_load=1)
    assert not exists_valid_list(req)
    result, broken = check_result(req, 0)
    assert broken & {"short", "max_load"}
    assert any("(1 из 2)" in p or "превышен max_load 1" in p for p in map(broken_ru, result.problems))


def test_hard_problems_catches_every_manual_mistake():
    req = Request(("1", "2", "3"), {"e1": "1", "e2": "2", "e3": "3"}, 2, exclude=frozenset({("2", "e3")}))
    assert hard_problems(req, {"1": ["e2", "e3"]}) == []
    assert hard_problems(req, {"1": ["e1"]}) == [Rule("own-institution", expert="e1", institution="1")]
    assert hard_problems(req, {"2": ["e3"]}) == [Rule("conflict", expert="e3", institution="2")]
    assert hard_problems(req, {"1": ["e9"]}) == [Rule("unknown-expert", expert="e9")]
    assert hard_problems(req, {"1": ["e2", "e2"]}) == [Rule("twice", institution="1")]
    # the CLI's error line is the English of the code
    assert [str(p) for p in hard_problems(req, {"1": ["e1", "e9"]})] == [
        "expert e1 belongs to ДОУ 1 and cannot review it", "no expert 'e9' in the campaign"]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 4), experts=st.integers(1, 4), per=st.integers(1, 3), max_load=st.none() | st.integers(0, 2),
       data=st.data())
def test_degenerate_rosters_end_with_the_reason(n, experts, per, max_load, data):
    """Rosters too small to fill the list: the search stops and names what it could not keep."""
    institutions = tuple(str(i) for i in range(1, n + 1))
    home = {f"e{k}": data.draw(st.sampled_from(institutions)) for k in range(experts)}
    req = Request(institutions, home, per, max_load=max_load)
    result = allocate(req)
    assert hard_violations(req, result.assignments) == []
    if soft_violations(req, result.assignments):
        assert result.problems


# -- experts of no ДОУ ---------------------------------------------------------------------


def test_experts_of_no_institution_review_any_and_keep_the_others_from_their_own():
    """Three ДОУ with one expert each and two methodologists of no ДОУ: with two experts per ДОУ
    every list keeps the hard rules; the methodologists are used, and nobody reviews their own."""
    req = Request(("1", "2", "3"), {"e1": "1", "e2": "2", "e3": "3", "m1": None, "m2": None}, per=2)
    result, broken = check_result(req, seed=7)
    assert broken == set() and result.problems == []
    assert {"m1", "m2"} <= {e for es in result.assignments.values() for e in es}


def test_an_expert_of_no_institution_is_never_own_but_a_declared_conflict_holds():
    req = Request(("1", "2"), {"m1": None, "m2": None}, per=1, exclude=frozenset({("1", "m1")}))
    result = allocate(req, seed=3)
    assert result.assignments == {"1": ["m2"], "2": ["m1"]}
    assert hard_problems(req, {"1": ["m1"]}) == [Rule("conflict", expert="m1", institution="1")]
    assert hard_problems(req, {"2": ["m1"]}) == []
