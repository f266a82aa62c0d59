"""Facts of the report's backup, rollback and checklist sections, and the small readers they share with
:mod:`wizard.report.facts` (timestamps, journal positions, file checks).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from wizard.backup import dumpdir
from wizard.backup import files as backup_files
from wizard.backup.evidence import VERIFIED, BackupRecord, backups, verifications
from wizard.checklist import items as checklist
from wizard.project.config import Config, Target
from wizard.rollback import ACTIONS
from wizard.state import events, protocol
from wizard.state.journal import Journal

NOT_MEASURED = "not measured"


def timestamp(value: Any) -> str | None:
    """A journal timestamp without its fraction: ``2025-09-28 10:00:00 UTC``."""
    if not value:
        return None
    text = str(value)
    return text[:19].replace("T", " ") + " UTC"


def source_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where a fact comes from: its event, journal seq and time."""
    if record is None:
        return None
    return {"event": record.get("event"), "seq": record.get("seq"), "ts": record.get("ts")}


def file_check(root: Path, path: str | None, sha256: str | None) -> dict[str, Any]:
    """Whether a recorded file still exists with its recorded sha256 (hashes it now)."""
    if not path:
        return {"present": None, "sha256_matches": None}
    file = Path(path) if Path(path).is_absolute() else root / path
    if dumpdir.is_directory_backup(file):
        current = dumpdir.on_disk(file)
        return {"present": True, "sha256_matches": current is not None and current[1] == sha256 if sha256 else None}
    if not file.is_file():
        return {"present": False, "sha256_matches": None}
    return {"present": True, "sha256_matches": backup_files.sha256_file(file) == sha256 if sha256 else None}


def find_check(validated: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not validated:
        return None
    return next((c for c in validated.get("checks", []) if c.get("name") == name), None)


def backup_facts(config: Config, journal: Journal) -> tuple[dict[str, Any] | None, BackupRecord | None]:
    records = backups(journal)
    chosen: BackupRecord | None = None
    outcome: dict[str, Any] | None = None
    for record in reversed(records):
        found = verifications(journal, record)
        if found and found[-1]["event"] == VERIFIED:
            chosen, outcome = record, found[-1]
            break
    if chosen is None and records:
        chosen = records[-1]
        found = verifications(journal, chosen)
        outcome = found[-1] if found else None
    if chosen is None:
        return None, None
    verification = None
    if outcome is not None:
        verification = {
            "passed": outcome["event"] == VERIFIED,
            "reason": outcome.get("reason"),
            "failed_step": outcome.get("failed_step"),
            "steps": [
                {"step": s.get("step"), "passed": s.get("passed"), "summary": s.get("summary")}
                for s in outcome.get("steps", [])
            ],
            "duration_s": outcome.get("duration_s"),
            "from": source_of(outcome),
        }
    return {
        "path": chosen.path,
        "size": chosen.size,
        "sha256": chosen.sha256,
        "started_at": chosen.started_at,
        "finished_at": chosen.finished_at,
        "pg_dump_version": chosen.pg_dump.get("version"),
        "database_size": chosen.database_size,
        "rows": chosen.total_rows,
        "tables": len(chosen.row_counts),
        "large_objects": chosen.large_objects,
        "schema_fingerprint": chosen.schema_fingerprint,
        "file": file_check(config.root, chosen.path, chosen.sha256),
        "verification": verification,
        "from": {"event": events.BACKUP_TAKEN, "seq": chosen.seq, "ts": chosen.finished_at},
    }, chosen


def _dbname_arg(target: Target, backup: BackupRecord | None) -> tuple[str, str | None]:
    """The ``--dbname`` argument of the restore, and a note when it is not the full connection."""
    source = target.source
    if source.dsn_env:
        return f'--dbname="${source.dsn_env}"', None
    if source.service:
        return shlex.quote(f"--dbname=service={source.service}"), None
    if source.dsn:
        return shlex.quote(f"--dbname={source.dsn}"), None
    ident = backup.identity if backup else {}
    parts = [f"dbname={ident.get('database') or source.embedded_database}"]
    if ident.get("host") and ident["host"] != "local socket":
        parts += [f"host={ident['host']}", f"port={ident.get('port')}"]
    if ident.get("user"):
        parts.append(f"user={ident['user']}")
    note = (
        "the database lives on the project's embedded server; `consolidate rollback restore` prints the command "
        "with its socket"
        if source.embedded_database
        else None
    )
    return shlex.quote(f"--dbname={' '.join(parts)}"), note


def rollback_facts(config: Config, target: Target, backup: BackupRecord | None) -> dict[str, Any]:
    name = target.name
    steps = [
        {
            "step": "record",
            "title": "Production state rollback (undo Phase 4): remove the baseline version from the history "
            "table and restore the archived history rows",
            "command": f"consolidate rollback record --target {name}",
            "available": "record" in ACTIONS,
        },
        {
            "step": "archive",
            "title": "Local rollback (undo Phase 3): move the archived files back into the migrations folder",
            "command": f"consolidate rollback archive --target {name}",
            "available": "archive" in ACTIONS,
        },
        {
            "step": "restore",
            "title": "Disaster recovery: restore the verified backup "
            "(prints the command; runs it on staging with --run)",
            "command": f"consolidate rollback restore --target {name}",
            "available": "restore" in ACTIONS,
        },
    ]
    pg_restore = None
    if backup is not None:
        dbname, note = _dbname_arg(target, backup)
        flags = "--clean --if-exists --single-transaction --exit-on-error --no-password --verbose"
        pg_restore = {
            "command": f"pg_restore {dbname} {flags} {shlex.quote(backup.path)}",
            "pg_restore_at_least": backup.pg_dump.get("version"),
            "note": note,
        }
    return {"steps": steps, "pg_restore": pg_restore, "run_from": str(config.root)}


def checklist_facts(
    journal: Journal, phases: dict[str, protocol.PhaseState], validated: dict[str, Any] | None, backup: dict | None
) -> list[dict[str, Any]]:
    def item(section: str, title: str, status: str, evidence: str) -> dict[str, Any]:
        return {"section": section, "item": title, "status": status, "evidence": evidence}

    def phase(key: str) -> tuple[str, str]:
        state = phases[key]
        status = {protocol.DONE: "passed", protocol.FAILED: "failed"}.get(state.status, "pending")
        if state.record is None:
            return status, state.reason
        return status, f"{state.status} at {timestamp(state.record.get('ts'))} (journal seq {state.record.get('seq')})"

    def check(name: str) -> tuple[str, str]:
        found = find_check(validated, name)
        if found is None:
            return "pending", "no validation recorded yet"
        assert validated is not None  # the check was found in it
        return found.get("status", "failed"), f"{found.get('reason')} (validate, seq {validated['seq']})"

    verification = (backup or {}).get("verification") or {}
    file = (backup or {}).get("file") or {}
    if not backup:
        verified = ("pending", "no backup recorded")
    elif not verification:
        verified = ("pending", f"{backup['path']} has not been verified")
    elif verification["passed"] and file.get("sha256_matches"):
        verified = (
            "passed",
            f"verified at {timestamp(verification['from']['ts'])}; the file still has sha256 {backup['sha256'][:12]}…",
        )
    elif verification["passed"]:
        verified = (
            "failed",
            f"verified at {timestamp(verification['from']['ts'])}, but the file is missing or changed",
        )
    else:
        verified = ("failed", f"verification failed: {verification.get('reason')}")
    archived = phases["archive"].record or {}
    commit = (
        "not journaled: the archive staged its moves with git mv; the commit is yours"
        if archived.get("git")
        else "not journaled: the commit is yours"
    )
    ticks = {r.item.key: r for r in checklist.human_results(journal)}
    team = ticks.get("team_notified")
    out = [
        item("Pre-Execution", "Full production database backup created", *_backup_taken(backup)),
        item("Pre-Execution", "Backup file verified and accessible", *verified),
        item("Pre-Execution", "All tests passing", *check("test_command")),
        item(
            "Pre-Execution", "Git working directory clean", "n/a", "checked live by the pre-flight step, not journaled"
        ),
        item(
            "Pre-Execution",
            "Team notification sent",
            team.status if team else "pending",
            team.reason if team else "not ticked",
        ),
        item("Execution Steps", "1. Create backup (pg_dump) and verify it", *phase("backup")),
        item("Execution Steps", "2. Generate the consolidated migration and prove it", *phase("squash")),
        item("Execution Steps", "3. Archive old migration files locally", *phase("archive")),
        item("Execution Steps", "4. Commit the consolidated migration to the repository", "n/a", commit),
        item("Execution Steps", "5. Insert the migration record in the target", *phase("record")),
        item("Execution Steps", "6. Test new environment creation", *check("fresh_environment")),
        item("Execution Steps", "7. Validate application functionality unchanged", *check("test_command")),
        item(
            "Post-Execution Validation", "New development environment provisions correctly", *check("fresh_environment")
        ),
        item("Post-Execution Validation", "Schema parity with the target", *check("parity")),
        item("Post-Execution Validation", "Row counts unchanged since the backup", *check("row_counts")),
        item("Post-Execution Validation", "Local files and remote history agree", *check("history_agrees")),
        item("Post-Execution Validation", "Security posture maintained", *check("security_posture")),
        item("Post-Execution Validation", "Performance metrics unchanged", "n/a", NOT_MEASURED),
    ]
    return out


def _backup_taken(backup: dict[str, Any] | None) -> tuple[str, str]:
    if not backup:
        return "pending", "no backup recorded"
    return "passed", f"{backup['path']} taken at {timestamp(backup['finished_at'])}"
