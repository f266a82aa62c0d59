"""Short garbage-collector passes while the wizard runs, so that none of them freezes the event loop.

CPython's full collection walks every tracked object with the GIL held: with Phase 1's catalog of
2,000 tables alive that is 100 to 450 ms in which neither the event loop nor a worker runs (the
largest stalls ``bench/ui.py`` measured). While the app runs, :func:`pace` is called every
:data:`PERIOD_S`: it collects what was allocated since its last call (cheap, bounded by the
allocation rate) and moves the survivors to the permanent generation (``gc.freeze``), which later
collections skip. Acyclic garbage is still freed at once by reference counting; a reference cycle
that becomes garbage after it was frozen waits for :func:`release` (the app's exit).
"""

from __future__ import annotations

import gc

#: Seconds between two passes: a pass walks only what was allocated meanwhile.
PERIOD_S = 0.25


def start() -> None:
    """Exempt what start-up built (imported modules, the app) from every later pass."""
    gc.freeze()


def pace() -> None:
    """Collect the objects allocated since the last pass, then exempt the survivors from later passes."""
    gc.collect()
    gc.freeze()


def release() -> None:
    """Hand every frozen object back to the collector (when the app exits)."""
    gc.unfreeze()
