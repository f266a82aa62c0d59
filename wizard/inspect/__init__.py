"""Phase 1: what the target holds, and where its migration history disagrees with it.

What it proves: the target's inventory (objects counted, exact row counts, a schema fingerprint,
its migration files and remote history), and drift: the history replayed into a fresh scratch
database and compared with the target object by object. It changes nothing on the target.

* :mod:`.inventory`: the inventory, journaled as ``inspect.done``;
* :mod:`.drift`: the replay and its parity, journaled as ``drift.checked``.
"""

from wizard.inspect.drift import DriftReport
from wizard.inspect.inventory import HEADLINE, Cancelled, Inventory

__all__ = ["HEADLINE", "Cancelled", "DriftReport", "Inventory"]
