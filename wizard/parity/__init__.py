"""Parity: two schema snapshots compared object by object, and each difference said in words.

* :mod:`.diff`: match objects by kind and identity, compare canonical definitions, per kind;
* :mod:`.explain`: a difference in words, and the SQL that would reconcile it.
"""

from wizard.parity.diff import Difference, KindParity, ParityResult, compare

__all__ = ["Difference", "KindParity", "ParityResult", "compare"]
