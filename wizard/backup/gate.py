"""The "verified backup" gate: nothing is written to a target without a proven, current backup of it.

The gate holds for a target when its newest verified backup:

1. was taken from this very database (recorded ``system_identifier`` and database oid);
2. passed verification (:mod:`wizard.backup.verify`), and no later verification of it failed;
3. still exists with the size and sha256 recorded when it was taken (every file of a directory backup);
4. was taken while the target had the schema it has now (schema fingerprint);
5. is younger than ``max_age`` (24 hours by default).

Only the target's own journal is read, and the recorded identity must match, so a
staging backup can never satisfy production's gate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from wizard.backup import dumpdir
from wizard.backup.evidence import VERIFIED, BackupRecord, backups, verifications
from wizard.catalog import snapshot
from wizard.db.connect import Identity, same_database
from wizard.project.config import Config, Target
from wizard.state.gates import Gate, GateResult, failed, passed
from wizard.state.journal import Journal

NAME = "verified-backup"
DEFAULT_MAX_AGE = timedelta(hours=24)


def schema_fingerprint(conn: psycopg.Connection) -> str:
    """The target's current schema fingerprint, as recorded at backup time."""
    return snapshot(conn).fingerprint()


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _describe(recorded: dict[str, Any]) -> str:
    return (
        f"{recorded.get('database')} (oid {recorded.get('database_oid')}) on {recorded.get('host')}:"
        f"{recorded.get('port')}, system identifier {recorded.get('system_identifier') or 'unknown'}"
    )


def _status(journal: Journal, record: BackupRecord) -> str:
    outcomes = verifications(journal, record)
    if not outcomes:
        return "has not been verified (run consolidate verify-backup)"
    return f"failed verification: {outcomes[-1].get('reason', 'unknown reason')}"


def _choose(journal: Journal) -> tuple[BackupRecord | None, str]:
    """The newest backup whose latest verification passed; else why there is none.

    When an older backup is chosen, the second value says what is wrong with the newer one.
    """
    records = backups(journal)
    if not records:
        return None, "no backup of this target has been taken (run consolidate backup)"
    newest = records[-1]
    for record in reversed(records):
        outcomes = verifications(journal, record)
        if outcomes and outcomes[-1]["event"] == VERIFIED:
            note = "" if record is newest else f" (the newer backup {newest.path} {_status(journal, newest)})"
            return record, note
    return None, f"backup {newest.path} {_status(journal, newest)}"


def judged_backup(journal: Journal) -> BackupRecord | None:
    """The backup the gate judges: the newest whose latest verification passed (the one it relies on, if it holds)."""
    return _choose(journal)[0]


def check_verified_backup(
    journal: Journal,
    identity: Identity,
    current_fingerprint: str,
    project_root: Path,
    max_age: timedelta = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    target: Target | None = None,
) -> GateResult:
    """Evaluate the gate for the target whose journal, identity and schema fingerprint are given.

    Args:
        journal: The target's journal.
        identity: The target's identity now (:func:`wizard.db.connect.identity`).
        current_fingerprint: :func:`schema_fingerprint` of the target now.
        project_root: The project directory that backup paths are relative to.
        max_age: The oldest acceptable backup.
        now: The current time (tests).
        target: If given, the backup must also have been recorded for this target name and role.
    """
    now = now or datetime.now(UTC)
    record, note = _choose(journal)
    if record is None:
        return failed(NAME, note)

    def fail(reason: str, **facts: Any) -> GateResult:
        return failed(NAME, reason + note, **facts)

    evidence: dict[str, Any] = {"backup": record.path, "sha256": record.sha256, "taken_at": record.finished_at}
    if target is not None and (record.target, record.role) != (target.name, target.role):
        return fail(
            f"backup {record.path} was recorded for {record.role} target {record.target}, "
            f"not {target.role} target {target.name}",
            **evidence,
        )
    same, basis = same_database(record.identity, identity)
    evidence["identity_basis"] = basis
    if not same:
        return fail(
            f"backup {record.path} was taken from {_describe(record.identity)}, "
            f"not from this target {_describe(identity.to_dict())}",
            recorded_identity=record.identity,
            identity=identity.to_dict(),
            **evidence,
        )
    path = record.file(project_root)
    current = dumpdir.on_disk(path)
    if current is None:
        return fail(f"backup file {record.path} no longer exists", **evidence)
    size, digest = current
    if record.files is not None and (size, digest) != (record.size, record.sha256):
        which = dumpdir.first_difference(path, dumpdir.from_record(record.files), dumpdir.measure(path))
        return fail(f"backup {record.path}: {which or 'its files changed'}", current_sha256=digest, **evidence)
    if size != record.size:
        return fail(
            f"backup file {record.path} is {size} bytes, not the {record.size} recorded: it was truncated or changed",
            size=size,
            **evidence,
        )
    if digest != record.sha256:
        return fail(
            f"backup file {record.path} has sha256 {digest[:12]}…, not the {record.sha256[:12]}… recorded: "
            "it was modified or corrupted",
            current_sha256=digest,
            **evidence,
        )
    if current_fingerprint != record.schema_fingerprint:
        return fail(
            f"the target's schema changed since backup {record.path} was taken "
            f"(fingerprint {record.schema_fingerprint[:12]}… then, {current_fingerprint[:12]}… now)",
            recorded_fingerprint=record.schema_fingerprint,
            current_fingerprint=current_fingerprint,
            **evidence,
        )
    age = now - record.taken_at
    evidence["age_hours"] = round(age.total_seconds() / 3600, 2)
    if age > max_age:
        return fail(f"backup {record.path} is {_hours(age)} old; the limit is {_hours(max_age)}", **evidence)
    return passed(
        NAME,
        f"backup {record.path} of this target was verified, is intact, matches the current schema "
        f"and is {_hours(age)} old",
        **evidence,
    )


VERIFIED_BACKUP = Gate(
    NAME,
    "a verified, intact, current pg_dump backup of this very target exists",
    check_verified_backup,
)


def evaluate(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    identity: Identity,
    max_age: timedelta | None = None,
) -> GateResult:
    """Evaluate :data:`VERIFIED_BACKUP` for an open target session (age limit: ``project.backup_max_age_hours``)."""
    if max_age is None:
        max_age = timedelta(hours=config.backup_max_age_hours)
    journal = Journal.for_target(config.state_dir, target.name)
    return VERIFIED_BACKUP(journal, identity, schema_fingerprint(conn), config.root, max_age, target=target)
