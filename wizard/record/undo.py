"""Undo Phase 4 (``consolidate rollback record``): one transaction that deletes the baseline row and
moves the archived history rows back, whole. The transaction machinery is :mod:`wizard.record.phase`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from wizard.archive import phase as archive
from wizard.db.connect import Identity, same_database
from wizard.history import remote as history
from wizard.inspect import inventory
from wizard.project.config import Config, Target
from wizard.record import evidence as target_evidence
from wizard.record.gates import (
    ARCHIVE_TABLE,
    EVIDENCE_TABLE,
    HISTORY,
    Column,
    count_check,
    digest,
    inventory_evidence,
    rows_as_json,
    rows_version,
    shape_problems,
    table_columns,
    table_exists,
)
from wizard.record.phase import (
    READY,
    WRITES,
    RecordOutcome,
    RecordRefused,
    Step,
    check_steps,
    complete_pending,
    finish,
    move_rows,
    prelude,
    render,
    run_transaction,
)
from wizard.state import events, protocol
from wizard.state.gates import GateResult
from wizard.state.journal import Journal


@dataclass
class RollbackPlan:
    """Undo a ``record.committed`` (delete the baseline row, move the rows back); ``state``: ready or rolled back.

    Attributes:
        committed: The ``record.committed`` evidence (from the journal, or rebuilt from the target).
        remove_evidence: The target holds this record's evidence row (deleted in the same transaction).
        drop_evidence: That row is the only one: the evidence table is dropped, the target left as found.
    """

    committed: dict[str, Any]
    identity: Identity
    columns: list[Column]
    state: str
    drop_archive: bool
    problems: list[str] = field(default_factory=list)
    remove_evidence: bool = False
    drop_evidence: bool = False

    @property
    def version(self) -> str:
        return self.committed["version"]

    @property
    def moved(self) -> list[str]:
        return self.committed["moved_versions"]

    def steps(self) -> list[Step]:
        moved = self.moved
        lock = [HISTORY] + ([ARCHIVE_TABLE] if moved else []) + ([EVIDENCE_TABLE] if self.remove_evidence else [])
        steps = [
            *prelude(lock),
            *check_steps(self.columns, self.version, moved, (1, 0)),
            Step(f"DELETE FROM {HISTORY} WHERE version::text = %s", (self.version,), (repr(self.version),), 1),
        ]
        if moved:
            steps.append(move_rows(ARCHIVE_TABLE, HISTORY, [c.name for c in self.columns if not c.generated], moved))
        if self.drop_archive:
            what = f"rows left in {ARCHIVE_TABLE}"
            steps += [
                Step(f"SELECT count(*) FROM {ARCHIVE_TABLE}", check=count_check((0,), what)),
                Step(f"DROP TABLE {ARCHIVE_TABLE}"),
            ]
        if self.remove_evidence:
            steps.append(target_evidence.delete(self.version))
        if self.drop_evidence:
            what = f"rows left in {EVIDENCE_TABLE}"
            steps += [
                Step(f"SELECT count(*) FROM {EVIDENCE_TABLE}", check=count_check((0,), what)),
                Step(f"DROP TABLE {EVIDENCE_TABLE}"),
            ]
        return [*steps, WRITES]

    def render(self) -> str:
        return render(self.steps())

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "version": self.version,
            "restored_versions": self.moved,
            "drop_archive_table": self.drop_archive,
            "problems": self.problems,
            "sql": self.render(),
        }


def plan_rollback(
    config: Config, target: Target, conn: psycopg.Connection, ident: Identity, journal: Journal
) -> RollbackPlan:
    """Plan the undo of the target's latest ``record.committed`` from the database as it is now.

    Raises:
        RecordRefused: this tool never recorded a baseline on the target, or it was another database.
    """
    committed = journal.last(events.RECORD_COMMITTED)
    if committed is None:
        raise RecordRefused(f"nothing to roll back: no baseline was recorded on target {target.name}", "")
    same, basis = same_database(committed["identity"], ident)
    if not same:
        raise RecordRefused(
            f"the baseline was recorded on another database than this target's (compared by {basis})",
            "check the target's DSN",
        )
    versions = set(history.read(conn).versions)
    columns = table_columns(conn, HISTORY) or []
    version, moved = committed["version"], set(committed["moved_versions"])
    archived = set(rows_version(conn, ARCHIVE_TABLE)) if table_exists(conn, ARCHIVE_TABLE) else set()
    problems = shape_problems(columns, table_columns(conn, ARCHIVE_TABLE) if moved else None)
    if version not in versions and moved <= versions and not moved & archived:
        state = protocol.ROLLED_BACK
    elif version in versions and moved <= archived and not moved & versions:
        state = READY
        row = rows_as_json(conn, HISTORY, [version])[0]
        if (
            "statements" in committed["inserted_columns"]
            and digest(row.get("statements")) != committed["statements_sha256"]
        ):
            problems.append(f"the baseline row {version} changed since it was recorded")
    else:
        state = READY
        present = "present" if version in versions else "absent"
        problems.append(
            f"the history is neither as recorded nor as before: baseline row {present}, archived versions "
            f"in {HISTORY}: {sorted(moved & versions)}, in {ARCHIVE_TABLE}: {sorted(moved & archived)}"
        )
    drop = bool(committed.get("archive_table_created")) and archived == moved and bool(moved)
    stored = {r.version for r in target_evidence.read(conn)}
    remove = version in stored and state == READY
    return RollbackPlan(committed, ident, columns, state, drop, problems, remove, remove and stored == {version})


def commit_rollback(
    plan: RollbackPlan, dsn: str, journal: Journal, before: inventory.Inventory, gates: list[GateResult]
) -> RecordOutcome:
    """Undo the record in one transaction, verify, journal ``record.rolled_back``.

    Raises:
        RecordRefused: a gate failed or the plan has problems.
        RecordCheckFailed: a check inside the transaction failed (nothing changed).
    """
    evidence = {
        "version": plan.version,
        "identity": plan.identity.to_dict(),
        "restored_versions": plan.moved,
        "restored_rows_sha256": plan.committed["moved_rows_sha256"],
        "dropped_archive_table": plan.drop_archive,
        "history_after": plan.committed["history_before"],
        "record_seq": plan.committed["seq"],
        "evidence_removed": plan.remove_evidence,
        "inventory_before": inventory_evidence(before),
    }
    if plan.state == protocol.ROLLED_BACK:
        finished = complete_pending(journal, dsn)
        if finished or archive.phase(journal, "record").status != protocol.DONE:
            return finished or RecordOutcome(None)
        note = "the history was found as before the record (undone outside this tool)"
        return finish(journal, events.RECORD_ROLLED_BACK, evidence, dsn, recovered=True, note=note)
    refused = [g.reason for g in gates if not g.passed] + plan.problems
    if refused:
        raise RecordRefused("; ".join(refused), "see consolidate status")
    gates_evidence = [g.to_dict() for g in gates]
    return run_transaction(journal, events.RECORD_ROLLED_BACK, evidence, dsn, plan.steps(), gates=gates_evidence)
