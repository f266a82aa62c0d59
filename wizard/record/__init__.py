"""Phase 4: record the baseline in the target's history table, the protocol's only write to a target.

What it changes: one transaction on the target inserts the baseline's version into
``supabase_migrations.schema_migrations`` and moves the superseded rows to the history archive
table. What it proves: every gate held first (verified backup, proved baseline, archive done,
typed name, staging rehearsal), and inside the same transaction that it wrote only those rows and
left the schema and row counts unchanged. :func:`plan_rollback` / :func:`commit_rollback` undo it.
"""

from wizard.record.gates import ARCHIVE_TABLE
from wizard.record.phase import (
    PENDING_FILE,
    READY,
    RECORDED,
    RecordCheckFailed,
    RecordNotJournaled,
    RecordOutcome,
    RecordPlan,
    RecordRefused,
    Step,
    already_recorded,
    commit_record,
    complete_pending,
    pending_intent,
    plan_record,
    resume_recorded,
)
from wizard.record.undo import RollbackPlan, commit_rollback, plan_rollback

__all__ = [
    "ARCHIVE_TABLE",
    "PENDING_FILE",
    "READY",
    "RECORDED",
    "RecordCheckFailed",
    "RecordNotJournaled",
    "RecordOutcome",
    "RecordPlan",
    "RecordRefused",
    "RollbackPlan",
    "Step",
    "already_recorded",
    "commit_record",
    "commit_rollback",
    "complete_pending",
    "pending_intent",
    "plan_record",
    "plan_rollback",
    "resume_recorded",
]
