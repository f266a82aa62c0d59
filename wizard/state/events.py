"""Journal event names: the vocabulary of the protocol's evidence.

Every module that records or reads evidence uses these names; the status, the gates
and the report are computed from events with these names only.
"""

from __future__ import annotations

INSPECTED = "inspect.done"  # Phase 1 inventory: identity, counts, row counts, fingerprint, files
DRIFT_CHECKED = "drift.checked"  # replay of the history and its parity with the target

BACKUP_TAKEN = "backup.taken"
BACKUP_VERIFIED = "backup.verified"
BACKUP_VERIFICATION_FAILED = "backup.verification_failed"
BACKUP_PRUNED = "backup.pruned"  # an old backup file removed by prune-backups: path, size, sha256, reason

SQUASH_GENERATED = "squash.generated"  # baseline file written: path, version, sha256, superseded files
SQUASH_PROVED = "squash.proved"  # baseline applied to a scratch DB and 100 % parity with the target
SQUASH_PROOF_FAILED = "squash.proof_failed"
SQUASH_ROLLED_BACK = "squash.rolled_back"  # the baseline file removed (undo Phase 2), or set aside after a failed proof

ARCHIVE_DONE = "archive.done"  # superseded files moved, manifest written
ARCHIVE_ROLLED_BACK = "archive.rolled_back"

RECORD_COMMITTED = "record.committed"  # baseline version recorded in the target's history table
RECORD_ROLLED_BACK = "record.rolled_back"

VALIDATED = "validate.done"  # post-execution validation, with ``passed``
CHECKLIST_TICKED = "checklist.ticked"  # a human checklist item ticked by the operator
REPORT_WRITTEN = "report.written"
