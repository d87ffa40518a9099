"""The allocator's incremental score: the greedy's side-effect-free delta must equal the real one."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dqflow.engine.allocation import Request, _State


@st.composite
def moves(draw):
    n = draw(st.integers(3, 10))
    institutions = tuple(str(i) for i in range(n))
    home = {f"e{k}": draw(st.sampled_from(institutions)) for k in range(draw(st.integers(2, 12)))}
    experts = sorted(home)
    previous = {i: frozenset(draw(st.lists(st.sampled_from(experts), max_size=2))) for i in institutions}
    request = Request(institutions, home, per=2, previous=previous, max_load=draw(st.none() | st.integers(1, 3)))
    steps = draw(st.lists(st.tuples(st.sampled_from(institutions), st.sampled_from(experts)), max_size=40))
    return request, steps


@settings(max_examples=150, deadline=None)
@given(moves())
def test_add_delta_predicts_add_and_score_stays_consistent(case):
    request, steps = case
    state = _State(request)
    for inst, expert in steps:
        if expert in state.assign[inst]:
            state.remove(inst, expert)
            continue
        predicted = state.add_delta(inst, expert)
        before = state.score
        assert state.add(inst, expert) == predicted
        assert state.score == before + predicted
    # the running score equals a score computed from scratch for the same assignment
    fresh = _State(request)
    for inst, experts in state.assign.items():
        for expert in experts:
            fresh.add(inst, expert)
    assert fresh.score == state.score
