"""The wizard's garbage-collector pacing: a pass frees the cycles that became garbage since the
last one and exempts the survivors from later passes; release hands them back."""

from __future__ import annotations

import gc
import weakref

from screens import gc_pacing


class Node:
    """An object in a reference cycle (only the cycle collector frees it)."""

    def __init__(self) -> None:
        self.me = self


def tracked_ids() -> set[int]:
    """Every object the collector would walk (the frozen ones are not among them)."""
    return {id(o) for o in gc.get_objects()}


def test_a_pass_frees_new_cycles_and_freezes_what_survives() -> None:
    survivor = Node()
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    try:
        gc_pacing.pace()
        assert gone() is None, "a cycle that became garbage before the pass is freed by it"
        assert id(survivor) not in tracked_ids(), "a survivor is frozen: later passes skip it"
        gc_pacing.pace()
        assert id(survivor) not in tracked_ids()
    finally:
        gc_pacing.release()
    assert gc.get_freeze_count() == 0
    assert id(survivor) in tracked_ids(), "released: the collector walks it again"
