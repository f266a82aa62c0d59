"""Rollbacks: the seed's three procedures, offered only when they apply, each undoing one phase.

``record`` undoes Phase 4 (one transaction on the target), ``archive`` undoes Phase 3 (the files
come back byte for byte), ``squash`` undoes Phase 2 (the baseline file leaves the migrations
folder), ``restore`` is disaster recovery from the verified backup. What applies
is read from the journals; the undo itself is owned by the phase it undoes.
"""

#: The rollback procedures, in the order they are undone; ``consolidate rollback ACTION`` has one each.
ACTIONS = ("record", "archive", "squash", "restore")

__all__ = ["ACTIONS"]
