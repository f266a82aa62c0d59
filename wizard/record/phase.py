"""Phase 4: record the baseline in the target's history, the protocol's only write to a target.

One transaction, printed before it runs (:meth:`RecordPlan.render`): set local timeouts and
lock the history table (never an application table); check its shape, that the baseline is
absent and the archived versions present; by default move the archived versions' rows, whole,
into ``supabase_migrations.schema_migrations_archive`` (created ``LIKE ... INCLUDING ALL``) so
that ``supabase db push`` and ``migration list`` find no remote version missing locally; insert
the baseline row (``name`` and ``statements`` only where those columns exist); check that only
the history tables were written; commit. A fresh read-only session then verifies it and proves
the schema inventory and row counts unchanged (``record.committed``). :func:`plan_rollback` and
:func:`commit_rollback` undo it in one transaction too.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from wizard.archive import phase as archive
from wizard.archive.phase import Baseline
from wizard.db.connect import Identity, identity, open_session, same_database
from wizard.errors import EXIT_DIFFERENCES, WizardError
from wizard.history import files as migrations
from wizard.history import remote as history
from wizard.inspect import inventory
from wizard.project.config import Config, Target
from wizard.record import evidence as target_evidence
from wizard.record.gates import (
    ARCHIVE_TABLE,
    COLUMNS_SQL,
    EVIDENCE_TABLE,
    FILLED,
    HISTORY,
    WRITES_SQL,
    Column,
    count_check,
    digest,
    inventory_evidence,
    rows_as_json,
    shape_check,
    shape_problems,
    table_columns,
    table_exists,
    unchanged,
    verify_after,
    writes_check,
)
from wizard.record.steps import Step, render
from wizard.state import events, protocol
from wizard.state.gates import GateResult
from wizard.state.journal import Journal, JournalWriteFailed, atomic_write, utc_now

LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "60s"
#: Blocks concurrent writers of the history tables (another ``db push``), lets readers through.
LOCK_MODE = "SHARE ROW EXCLUSIVE"
MOVE, KEEP = "move", "keep"
READY, RECORDED = "ready", "recorded"
PENDING_FILE = "record.pending.json"


class RecordRefused(WizardError):
    """Phase 4 (or its rollback) will not run: a gate or a check failed; the target is untouched."""

    exit_code = EXIT_DIFFERENCES


class RecordCheckFailed(WizardError):
    """A check inside the transaction failed: it was rolled back."""

    exit_code = EXIT_DIFFERENCES


def _quote(names: list[str]) -> str:
    return ", ".join(sql.Identifier(n).as_string(None) for n in names)


WRITES = Step(WRITES_SQL, check=writes_check, key="writes")


def prelude(lock: list[str]) -> list[Step]:
    return [
        Step(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"),
        Step(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"),
        *(Step(f"LOCK TABLE {t} IN {LOCK_MODE} MODE") for t in lock),
    ]


def check_steps(columns: list[Column], version: str, moved: list[str], expected: tuple[int, int]) -> list[Step]:
    """The history table's shape as planned, and (baseline rows, archived rows) in it as ``expected``."""
    return [
        Step(COLUMNS_SQL, (HISTORY,), (repr(HISTORY),), check=shape_check(columns)),
        Step(
            f"SELECT count(*) FILTER (WHERE version::text = %s), "
            f"count(*) FILTER (WHERE version::text = ANY(%s::text[])) FROM {HISTORY}",
            (version, moved),
            (repr(version), f"ARRAY{moved!r}"),
            check=count_check(expected, "(baseline rows, archived rows) in the history"),
        ),
    ]


def move_rows(source: str, destination: str, columns: list[str], versions: list[str]) -> Step:
    cols = _quote(columns)
    return Step(
        f"WITH moved AS (DELETE FROM {source} WHERE version::text = ANY(%s::text[]) RETURNING *) "
        f"INSERT INTO {destination} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM moved",
        (versions,),
        (f"ARRAY{versions!r}",),
        expect_rows=len(versions),
    )


@dataclass
class RecordPlan:
    """The Phase 4 transaction for one target.

    Attributes:
        state: ``ready``, or ``recorded`` when the baseline row is already there.
        to_move: Archived versions in the history table; ``moved_rows``: those rows, whole, as JSON.
        evidence_exists: Whether :data:`EVIDENCE_TABLE` exists (else the transaction creates it).
        journal_head: The journal's line count and last chain hash when planned (stored on the target).
        record_id: Ties the target's evidence row, the intent file and the journal line together.
    """

    target: str
    identity: Identity
    baseline: Baseline
    mode: str
    columns: list[Column]
    archive_exists: bool
    history_before: list[str]
    to_move: list[str]
    moved_rows: list[dict[str, Any]]
    statements: list[str]
    state: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evidence_exists: bool = False
    journal_head: tuple[int, str | None] = (0, None)
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def insert_columns(self) -> list[str]:
        return [c for c in FILLED if c in self.column_names]

    @property
    def moved(self) -> list[str]:
        return self.to_move if self.mode == MOVE else []

    @property
    def history_after(self) -> list[str]:
        return sorted((set(self.history_before) - set(self.moved)) | {self.baseline.version})

    def _insert(self) -> Step:
        b, n = self.baseline, len(self.statements)
        values = {
            "version": (b.version, repr(b.version)),
            "name": (b.cli_name, repr(b.cli_name)),
            "statements": (self.statements, f"text[] of the {n} statements of {b.path}"),
        }
        chosen = [values[c] for c in self.insert_columns]
        text = f"INSERT INTO {HISTORY} ({_quote(self.insert_columns)}) VALUES ({', '.join(['%s'] * len(chosen))})"
        return Step(text, tuple(v for v, _ in chosen), tuple(s for _, s in chosen), 1)

    def steps(self) -> list[Step]:
        """The statements of the transaction, in order."""
        moving = bool(self.moved)
        lock = [HISTORY] + ([ARCHIVE_TABLE] if moving and self.archive_exists else [])
        lock += [EVIDENCE_TABLE] if self.evidence_exists else []
        steps = [
            *prelude(lock),
            *check_steps(self.columns, self.baseline.version, self.moved, (0, len(self.moved))),
        ]
        if moving and not self.archive_exists:
            steps += [
                Step(f"CREATE TABLE {ARCHIVE_TABLE} (LIKE {HISTORY} INCLUDING ALL)"),
                Step(f"COMMENT ON TABLE {ARCHIVE_TABLE} IS 'Rows of archived migrations (consolidation-wizard)'"),
            ]
        if moving:
            insertable = [c.name for c in self.columns if not c.generated]
            steps.append(move_rows(HISTORY, ARCHIVE_TABLE, insertable, self.moved))
        steps.append(self._insert())
        if not self.evidence_exists:
            steps += target_evidence.CREATE
        superseded = sorted({str(s["version"]) for s in self.baseline.superseded} - {self.baseline.version})
        seq, prev = self.journal_head
        steps.append(target_evidence.insert(_evidence(self), superseded, seq + 1, prev))
        return [*steps, WRITES]

    def render(self) -> str:
        return render(self.steps())

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "state": self.state,
            "mode": self.mode,
            "baseline": self.baseline.to_dict(),
            "history_columns": self.column_names,
            "inserted_columns": self.insert_columns,
            "moved_versions": self.moved,
            "history_before": self.history_before,
            "history_after": self.history_after,
            "archive_table_exists": self.archive_exists,
            "problems": self.problems,
            "warnings": self.warnings,
            "sql": self.render(),
        }


def plan_record(
    config: Config, target: Target, conn: psycopg.Connection, ident: Identity, journal: Journal, *, keep: bool = False
) -> RecordPlan:
    """Read the target's history (read-only session ``conn``) and plan the Phase 4 transaction.

    Raises:
        ArchiveRefused: no baseline was generated.
        MissingHistoryTable: the target has no history table.
    """
    baseline = archive.require_baseline(journal, target.name)
    hist = history.read(conn)
    columns = table_columns(conn, HISTORY) or []
    archive_columns = table_columns(conn, ARCHIVE_TABLE)
    problems = shape_problems(columns, archive_columns)
    superseded = {str(s["version"]) for s in baseline.superseded} - {baseline.version}
    to_move = sorted(superseded & set(hist.versions))
    statements: list[str] = []
    try:
        text, _ = migrations.read_file(baseline.file(config.root))
        statements = [s.text for s in migrations.parse_statements(text, baseline.filename)]
    except (OSError, WizardError) as exc:
        problems.append(f"cannot read the baseline {baseline.path}: {exc}")
    mode = KEEP if keep else MOVE
    state = READY
    if baseline.version in hist.versions:
        state = RECORDED
        if mode == MOVE and to_move:
            problems.append(
                f"the history already has the baseline {baseline.version} but still holds archived versions "
                f"({', '.join(to_move)}): it was recorded with --keep-history-rows or by hand"
            )
    plan = RecordPlan(
        target.name,
        ident,
        baseline,
        mode,
        columns,
        archive_columns is not None,
        hist.versions,
        to_move,
        rows_as_json(conn, HISTORY, to_move) if mode == MOVE else [],
        statements,
        state,
        problems,
        evidence_exists=table_exists(conn, EVIDENCE_TABLE),
        journal_head=journal.head(),
    )
    local = {f.version for f in migrations.discover(config.migrations_dir).files}
    strays = sorted(set(plan.history_after) - local)
    if strays:
        plan.warnings.append(
            f"remote versions with no local file after recording: {', '.join(strays)}; "
            "supabase migration list will still report them"
        )
    return plan


def _run(conn: psycopg.Connection, steps: list[Step]) -> dict[str, Any]:
    """Run ``steps`` in the open transaction of ``conn``; a failed check raises before COMMIT."""
    results: dict[str, Any] = {}
    with conn.cursor() as cur:
        for number, step in enumerate(steps, 1):
            cur.execute(step.sql, step.params or None)
            if step.expect_rows is not None and cur.rowcount != step.expect_rows:
                raise RecordCheckFailed(
                    f"statement {number} affected {cur.rowcount} row(s), not {step.expect_rows}; rolled back",
                    "nothing changed; look at the plan again (--dry-run) and retry",
                )
            rows = cur.fetchall() if step.check or step.key else []
            problem = step.check(rows) if step.check else None
            if problem:
                raise RecordCheckFailed(f"{problem}; the transaction was rolled back", "nothing changed; retry")
            if step.key:
                results[step.key] = [r[0] for r in rows]
    return results


def transact(dsn: str, expected: Identity, steps: list[Step]) -> dict[str, Any]:
    """Open the one writable session, check it reaches ``expected``'s database, run ``steps``, commit.

    Raises:
        RecordRefused: the DSN now leads to another database.
        RecordCheckFailed: the transaction failed or a check in it did (rolled back).
    """
    conn = open_session(dsn, read_only=False, autocommit=False)
    try:
        same, basis = same_database(expected.to_dict(), identity(conn))
        conn.rollback()
        if not same:
            raise RecordRefused(f"the writable session reached another database (by {basis})", "check the DSN")
        started = time.monotonic()
        try:
            results = _run(conn, steps)
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            busy = isinstance(exc, psycopg.errors.LockNotAvailable)
            raise RecordCheckFailed(
                f"the transaction failed and was rolled back: {str(exc).strip().splitlines()[0]}",
                "another session holds the history table (a db push?); retry later" if busy else "nothing changed",
            ) from None
        except BaseException:
            conn.rollback()
            raise
        results["transaction_s"] = round(time.monotonic() - started, 3)
        return results
    finally:
        conn.close()


def _pending_path(journal: Journal) -> Path:
    return journal.path.parent / PENDING_FILE


def pending_intent(journal: Journal) -> dict[str, Any] | None:
    """The intent of a record (or rollback) transaction whose outcome is not journaled yet (for status)."""
    path = _pending_path(journal)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _after(dsn: str, evidence: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Verify a commit in a fresh read-only session; the problems and the inventory after it."""
    with open_session(dsn) as conn:
        problems = verify_after(conn, evidence) + target_evidence.problems_after(conn, evidence)
        return problems, inventory_evidence(inventory.take(conn))


@dataclass
class RecordOutcome:
    """What ``record`` or its rollback did: the journal record, or None when it was already done."""

    record: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    recovered: bool = False

    def to_dict(self) -> dict[str, Any]:
        record = self.record or {}
        return {"already_done": self.record is None, "recovered": self.recovered, "problems": self.problems, **record}


def _evidence(plan: RecordPlan) -> dict[str, Any]:
    return {
        "version": plan.baseline.version,
        "baseline": plan.baseline.to_dict(),
        "identity": plan.identity.to_dict(),
        "mode": plan.mode,
        "moved_versions": plan.moved,
        "moved_rows_sha256": digest(plan.moved_rows),
        "archive_table_created": bool(plan.moved) and not plan.archive_exists,
        "inserted_columns": plan.insert_columns,
        "statements_count": len(plan.statements),
        "statements_sha256": digest(plan.statements),
        "history_columns": plan.column_names,
        "history_before": plan.history_before,
        "history_after": plan.history_after,
        "record_id": plan.record_id,
    }


class RecordNotJournaled(WizardError):
    """The transaction committed but its journal line could not be written; the intent file is kept."""


_COMMITTED = {
    events.RECORD_COMMITTED: ("recorded the baseline", "consolidate record"),
    events.RECORD_ROLLED_BACK: ("rolled back the recording of the baseline", "consolidate rollback record"),
}


def not_journaled(journal: Journal, event: str, version: str, reason: str) -> RecordNotJournaled:
    """The error for a commit whose journal line is missing: what the target holds, and how to complete the journal."""
    done, command = _COMMITTED.get(event, (event, "the same command"))
    return RecordNotJournaled(
        f"target {journal.path.parent.name} {done} {version} (the transaction committed), "
        f"but the journal could not be written: {reason}",
        f"free disk space (or fix the file system), then run `{command}` again: it completes the journal "
        f"from {_pending_path(journal)}",
    )


def finish(journal: Journal, event: str, evidence: dict[str, Any], dsn: str, **extra: Any) -> RecordOutcome:
    """Verify after commit, journal ``event`` with the before/after evidence, then drop the pending file.

    The intent file goes only once the journal line is on disk.

    Raises:
        RecordNotJournaled: the journal line could not be written (the intent file stays for the next run).
    """
    problems, after = _after(dsn, evidence)
    row_changes: list[str] = []
    if evidence.get("inventory_before"):
        schema_problems, row_changes = unchanged(evidence["inventory_before"], after)
        problems += schema_problems
    try:
        record = journal.append(
            event,
            **evidence,
            inventory_after=after,
            verified=not problems,
            problems=problems,
            row_changes_elsewhere=row_changes,
            **extra,
        )
    except JournalWriteFailed as exc:
        raise not_journaled(journal, event, evidence["version"], exc.message) from None
    except OSError as exc:
        raise not_journaled(journal, event, evidence["version"], exc.strerror or str(exc)) from None
    _pending_path(journal).unlink(missing_ok=True)
    return RecordOutcome(record, problems, bool(extra.get("recovered")))


def run_transaction(
    journal: Journal, event: str, evidence: dict[str, Any], dsn: str, steps: list[Step], **extra: Any
) -> RecordOutcome:
    """Write the intent (``record.pending.json``), run the transaction, then :func:`finish`.

    Raises:
        RecordRefused: the intent could not be written (the transaction did not run).
    """
    try:
        atomic_write(_pending_path(journal), json.dumps({"event": event, **evidence}))
    except OSError as exc:
        raise RecordRefused(
            f"cannot write the intent {_pending_path(journal)}: {exc.strerror or exc}; the target was not changed",
            "free disk space (df -h) or fix the file system, then run the command again",
        ) from None
    started = time.monotonic()
    results = transact(dsn, Identity(**evidence["identity"]), steps)
    return finish(
        journal,
        event,
        evidence,
        dsn,
        writes=results.get("writes", []),
        sql=[s.render() for s in steps],
        transaction_s=results["transaction_s"],
        duration_s=round(time.monotonic() - started, 3),
        **extra,
    )


def complete_pending(journal: Journal, dsn: str) -> RecordOutcome | None:
    """Journal a transaction whose run died between COMMIT and the journal line; forget one that never committed.

    Call it first: the intent written before the transaction says what the history is once committed.
    """
    pending = pending_intent(journal)
    if pending is None:
        return None
    event = pending.pop("event")
    latest = archive.phase(journal, "record").record or {}
    with open_session(dsn) as conn:
        committed = history.read(conn).versions == pending["history_after"]
    if not committed or (latest.get("event"), latest.get("version")) == (event, pending["version"]):
        _pending_path(journal).unlink()  # never committed, or already journaled
        return None
    return finish(journal, event, pending, dsn, recovered=True)


def commit_record(
    plan: RecordPlan, dsn: str, journal: Journal, before: inventory.Inventory, gates: list[GateResult]
) -> RecordOutcome:
    """Run the transaction of a ``ready`` plan whose gates all passed, verify it, journal ``record.committed``.

    Raises:
        RecordRefused: the plan has problems, a gate failed, or the baseline is already recorded.
        RecordCheckFailed: a check inside the transaction failed (nothing changed).
    """
    refused = [g.reason for g in gates if not g.passed] + plan.problems
    if refused or plan.state != READY:
        raise RecordRefused("; ".join(refused) or "the baseline is already recorded", "see consolidate status")
    evidence = {**_evidence(plan), "inventory_before": inventory_evidence(before), "started_at": utc_now()}
    gates_evidence = [g.to_dict() for g in gates]
    return run_transaction(journal, events.RECORD_COMMITTED, evidence, dsn, plan.steps(), gates=gates_evidence)


def resume_recorded(plan: RecordPlan, dsn: str, journal: Journal) -> RecordOutcome:
    """The baseline row is there: complete the journal of a run that died after COMMIT, or :func:`already_recorded`."""
    return complete_pending(journal, dsn) or already_recorded(plan, journal)


def already_recorded(plan: RecordPlan, journal: Journal) -> RecordOutcome:
    """The baseline row is there: "already recorded" if this tool journaled it.

    Raises:
        RecordRefused: the row is there but this tool has no record of writing it.
    """
    state = archive.phase(journal, "record")
    if state.status == protocol.DONE and state.record and state.record.get("version") == plan.baseline.version:
        return RecordOutcome(None)
    raise RecordRefused(
        f"the history of target {plan.target} already holds the baseline version {plan.baseline.version}, "
        "but this tool has no record of writing it (recorded by hand?)",
        f"check that row; if it is wrong, DELETE it from {HISTORY} and run consolidate record again",
    )
