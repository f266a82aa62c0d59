"""What must hold around Phase 4 (``consolidate record``), the only write the protocol makes to a target.

Before: the gates. Every gate is evaluated and reported, each with its reason; the write
happens only when all of them hold:

* ``verified-backup``: :data:`wizard.backup.gate.VERIFIED_BACKUP`, no older than ``project.backup_max_age_hours``
  (as ``consolidate status`` judges it);
* ``baseline-proved``: the baseline on disk is the one generated, and its proof with this target
  (100 % parity with the target, and a fresh environment from the new folder equal to one from the
  old history) is the latest proof outcome in the journal;
* ``archive-done``: Phase 3 is done for this baseline, and the files are still archived;
* ``confirmed-name``: ``--confirm`` is the target's database name;
* ``staging-rehearsal`` (production targets only): :data:`wizard.state.protocol.STAGING_REHEARSAL`.

During and after: the checks on the history tables (their shape, the rows moved whole, the
tables the transaction wrote to) and the proof that the schema inventory and row counts
are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from wizard.archive import phase as archive
from wizard.archive.phase import HISTORY_ARCHIVE_TABLE
from wizard.backup import gate as backup_gate
from wizard.db.connect import Identity, scalar
from wizard.history import remote as history
from wizard.inspect import inventory
from wizard.project.config import Config, Target
from wizard.state import protocol
from wizard.state.gates import Gate, GateResult, failed, passed
from wizard.state.journal import Journal


def check_baseline_proved(journal: Journal, root: Path) -> GateResult:
    """Gate: the generated baseline is unchanged on disk and proved at 100 % parity with the target."""
    name = "baseline-proved"
    baseline = archive.current_baseline(journal)
    if baseline is None:
        return failed(name, "no consolidated baseline has been generated (run consolidate squash)")
    problems = archive.baseline_problems(journal, baseline, root)
    if problems:
        return failed(name, problems[0], **baseline.to_dict())
    proof = archive.proof_of(journal, baseline)
    assert proof is not None
    return passed(
        name,
        f"the baseline {baseline.path} is unchanged and was proved at 100 % parity at {proof.get('ts')}",
        proof_seq=proof["seq"],
        **baseline.to_dict(),
    )


def check_archive_done(config: Config, journal: Journal) -> GateResult:
    """Gate: Phase 3 is done for the current baseline and its files are still in the archive folder."""
    name = "archive-done"
    state = archive.phase(journal, "archive")
    if state.status != protocol.DONE or state.record is None:
        return failed(name, f"Phase 3 (archive) is {state.status}: run consolidate archive first")
    record = state.record
    baseline = archive.current_baseline(journal)
    if baseline is None or record.get("baseline", {}).get("sha256") != baseline.sha256:
        return failed(name, "the archive was made for another baseline than the current one: run consolidate archive")
    problems = archive.archived_problems(config, record)
    if problems:
        return failed(name, f"the archive recorded at {record['ts']} is no longer intact: {problems[0]}")
    return passed(
        name,
        f"{len(record['files'])} files archived at {record['ts']} (manifest sha256 {record['manifest_sha256'][:12]}…)",
        manifest_sha256=record["manifest_sha256"],
        files=len(record["files"]),
    )


def check_confirmed_name(confirm: str | None, identity: Identity) -> GateResult:
    """Gate: the operator typed the target's database name."""
    name = "confirmed-name"
    if not confirm:
        return failed(name, f"pass --confirm {identity.database} to confirm the target's database name")
    if confirm != identity.database:
        return failed(
            name, f"--confirm {confirm} is not the target's database name ({identity.database})", confirm=confirm
        )
    return passed(name, f"--confirm names the target's database {identity.database}", database=identity.database)


BASELINE_PROVED = Gate("baseline-proved", "the baseline is unchanged and proved at 100 % parity", check_baseline_proved)
ARCHIVE_DONE = Gate("archive-done", "the superseded files are archived (Phase 3)", check_archive_done)
CONFIRMED_NAME = Gate("confirmed-name", "--confirm equals the target's database name", check_confirmed_name)


def evaluate_record_gates(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    identity: Identity,
    confirm: str | None,
    fingerprint: str | None = None,
) -> list[GateResult]:
    """Every gate of Phase 4 for the target behind ``conn`` (a read-only session), in a fixed order.

    Args:
        fingerprint: The target's schema fingerprint, if already measured.
    """
    journal = Journal.for_target(config.state_dir, target.name)
    fingerprint = fingerprint or backup_gate.schema_fingerprint(conn)
    results = [
        backup_gate.VERIFIED_BACKUP(
            journal, identity, fingerprint, config.root, timedelta(hours=config.backup_max_age_hours), target=target
        ),
        BASELINE_PROVED(journal, config.root),
        ARCHIVE_DONE(config, journal),
        CONFIRMED_NAME(confirm, identity),
    ]
    if target.is_production:
        results.append(protocol.STAGING_REHEARSAL(config))
    return results


# --- checks on the history tables ------------------------------------------------------------

HISTORY = f"{history.HISTORY_SCHEMA}.{history.HISTORY_TABLE}"
ARCHIVE_TABLE = f"{history.HISTORY_SCHEMA}.{HISTORY_ARCHIVE_TABLE}"
#: The tool's own evidence of Phase 4 on the target (see :mod:`wizard.record.evidence`).
EVIDENCE_TABLE = f"{history.HISTORY_SCHEMA}.consolidation_evidence"

FILLED = ("version", "name", "statements")

COLUMNS_SQL = """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', a.attgenerated <> ''
  FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum"""
WRITES_SQL = """SELECT schemaname || '.' || relname FROM pg_stat_xact_user_tables
 WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY 1"""


@dataclass(frozen=True)
class Column:
    """A column of a history table."""

    name: str
    type: str
    not_null: bool
    has_default: bool  # a default, an identity or a generation expression
    generated: bool


def table_columns(conn: psycopg.Connection, table: str) -> list[Column] | None:
    """The columns of ``table`` (schema-qualified) in order, or None when it does not exist."""
    rows = conn.execute(COLUMNS_SQL, (table,)).fetchall()
    return [Column(*r) for r in rows] or None


def rows_as_json(conn: psycopg.Connection, table: str, versions: list[str]) -> list[dict[str, Any]]:
    """Whole rows of ``versions`` in ``table``, every column, ordered by version."""
    query = f"SELECT to_jsonb(t) FROM {table} t WHERE version::text = ANY(%s::text[]) ORDER BY version::text"
    return [r[0] for r in conn.execute(query, (versions,)).fetchall()]


def digest(value: Any) -> str:
    """sha256 of a value's canonical JSON."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    """Whether ``table`` (schema-qualified) exists."""
    return bool(scalar(conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))))


def shape_check(expected: list[Column]) -> Callable[[list[tuple[Any, ...]]], str | None]:
    """In the transaction: the history table's columns (:data:`COLUMNS_SQL`) are still ``expected``."""

    def check(rows: list[tuple[Any, ...]]) -> str | None:
        if [Column(*r) for r in rows] != expected:
            return f"the shape of {HISTORY} changed since the plan was made"
        return None

    return check


def count_check(expected: tuple[int, ...], what: str) -> Callable[[list[tuple[Any, ...]]], str | None]:
    """In the transaction: a row of counts is ``expected``."""

    def check(rows: list[tuple[Any, ...]]) -> str | None:
        return None if tuple(rows[0]) == expected else f"{what}: found {tuple(rows[0])}, expected {expected}"

    return check


def writes_check(rows: list[tuple[Any, ...]]) -> str | None:
    """In the transaction: only the history tables were written (:data:`WRITES_SQL`)."""
    others = [r[0] for r in rows if r[0] not in (HISTORY, ARCHIVE_TABLE, EVIDENCE_TABLE)]
    return f"the transaction wrote to other tables than the history: {', '.join(others)}" if others else None


def inventory_evidence(inv: inventory.Inventory) -> dict[str, Any]:
    """What the journal keeps of an inventory to prove it unchanged."""
    return {"fingerprint": inv.snapshot.fingerprint(), "counts": inv.counts, "row_counts": inv.row_counts}


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Compare two :func:`inventory_evidence`: ``(schema problems, row count changes)``.

    A schema change is a problem. A row count change is reported, not failed: the
    transaction's own writes are checked inside it (only the history tables), so a live
    database's rows may change around it through other sessions.
    """
    problems = []
    if before["fingerprint"] != after["fingerprint"]:
        problems.append(f"schema fingerprint changed ({before['fingerprint'][:12]}… → {after['fingerprint'][:12]}…)")
    changes = []
    for table in sorted(set(before["row_counts"]) | set(after["row_counts"])):
        b, a = before["row_counts"].get(table), after["row_counts"].get(table)
        if a != b:
            changes.append(f"row count of {table} changed ({b} → {a}) through other sessions")
    return problems, changes


def shape_problems(columns: list[Column], archive_columns: list[Column] | None) -> list[str]:
    """What the tool cannot do with these history (and archive) tables: a column it cannot fill, a missing one."""
    problems = [
        f"{HISTORY}.{c.name} is NOT NULL without a default; the tool does not know what to record there"
        for c in columns
        if c.not_null and not c.has_default and c.name not in FILLED
    ]
    if archive_columns is not None:
        missing = sorted({c.name for c in columns if not c.generated} - {c.name for c in archive_columns})
        if missing:
            problems.append(f"{ARCHIVE_TABLE} exists but lacks the column(s) {', '.join(missing)}")
    return problems


def verify_history(conn: psycopg.Connection, expected: list[str], versions: list[str], rows_sha: str) -> list[str]:
    """Problems if the history is not ``expected`` or the rows of ``versions`` are not the rows of ``rows_sha``."""
    problems = []
    found = history.read(conn).versions
    if found != expected:
        problems.append(f"the history holds {found}, expected {expected}")
    table = HISTORY if set(versions) <= set(found) else ARCHIVE_TABLE
    rows = rows_as_json(conn, table, versions) if versions and table_exists(conn, table) else []
    if versions and digest(rows) != rows_sha:
        problems.append(f"the rows of the archived versions in {table} are not the rows taken from the history")
    return problems


def rows_version(conn: psycopg.Connection, table: str) -> list[str]:
    """Every version in ``table``."""
    return [r[0] for r in conn.execute(f"SELECT version::text FROM {table}").fetchall()]


def verify_after(conn: psycopg.Connection, evidence: dict[str, Any]) -> list[str]:
    """Problems with the history after a record (or its rollback) committed, given its journal evidence."""
    versions = evidence.get("moved_versions", evidence.get("restored_versions", []))
    rows_sha = evidence.get("moved_rows_sha256", evidence.get("restored_rows_sha256", ""))
    problems = verify_history(conn, evidence["history_after"], versions, rows_sha)
    if "statements" in evidence.get("inserted_columns", ()):
        row = rows_as_json(conn, HISTORY, [evidence["version"]])
        if not row or digest(row[0].get("statements")) != evidence["statements_sha256"]:
            problems.append("the baseline row's statements are not the baseline file's")
    if evidence.get("dropped_archive_table") and table_exists(conn, ARCHIVE_TABLE):
        problems.append(f"{ARCHIVE_TABLE} still exists")
    return problems
