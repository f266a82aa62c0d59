"""The protocol's state: the journal of evidence, the event names, gates, and each phase's state.

* :mod:`.journal`: append-only, fsynced JSON lines per target, and private files;
* :mod:`.events`: the journal's vocabulary;
* :mod:`.gates`: named predicates over recorded evidence, each with a human reason;
* :mod:`.protocol`: every phase's state for a target, derived from its journal;
* :mod:`.targets`: each target is its own database (two names for one database are refused).
"""

from wizard.state.gates import Gate, GateResult, failed, passed
from wizard.state.journal import Journal

__all__ = ["Gate", "GateResult", "Journal", "failed", "passed"]
