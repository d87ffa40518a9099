"""The portal's kept renderings (`web.snapshots`): one computation per state, whatever the number of threads asking."""

import threading
import time

from dqflow.web.snapshots import Snapshots


def _ask_together(snapshots: Snapshots, key: tuple, make, n: int = 20) -> list:
    got, barrier = [], threading.Barrier(n)

    def ask() -> None:
        barrier.wait()
        got.append(snapshots.get(key, "board", make))

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_a_new_state_is_computed_once_while_the_others_are_served_the_one_before():
    snapshots, made = Snapshots(), []

    def make(value):
        def slow():
            made.append(value)
            time.sleep(0.2)
            return value
        return slow

    first = _ask_together(snapshots, ("state", 1), make("first"))
    assert first == ["first"] * 20 and made == ["first"]  # nothing before it: everyone waits for the one computation

    second = _ask_together(snapshots, ("state", 2), make("second"))
    assert made == ["first", "second"]  # one computation for the new state, not twenty
    assert "second" in second and set(second) <= {"first", "second"}  # the rest had the board of the state before
    assert snapshots.get(("state", 2), "board", make("third")) == "second"  # kept for its state
    assert made == ["first", "second"]


def test_a_failed_computation_lets_the_next_request_try_again():
    snapshots = Snapshots()

    def broken():
        raise RuntimeError("database went away")

    try:
        snapshots.get(("state", 1), "board", broken)
    except RuntimeError:
        pass
    assert snapshots.get(("state", 1), "board", lambda: "board") == "board"
