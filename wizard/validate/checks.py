"""The checks of post-execution validation, one function each, and the verdict type they return.

:mod:`wizard.validate.phase` runs them (and provisions the fresh environment some of them need).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from wizard.backup.evidence import BackupRecord, count_rows, data_tables
from wizard.errors import MissingHistoryTable
from wizard.history import remote as history
from wizard.history.files import MigrationSet
from wizard.inspect.inventory import Cancelled
from wizard.project import test_command
from wizard.project.config import Config, Target
from wizard.validate import security

if TYPE_CHECKING:
    from wizard.catalog import Snapshot

#: Check names, in the order they are reported.
CHECKS: dict[str, str] = {
    "fresh_environment": "New environment provisions from the single baseline",
    "parity": "Schema parity: fresh environment vs target",
    "target_unchanged": "Target schema untouched since the backup",
    "row_counts": "Row counts equal those at backup time",
    "history_agrees": "Local migration files and remote history agree",
    "security_posture": "Security posture unchanged (linter findings)",
    "test_command": "Project test command passes",
}


#: Kinds named in the parity check's one-line reason, with their plurals.
HEADLINE = {"table": "tables", "index": "indexes", "function": "functions", "policy": "policies", "trigger": "triggers"}


DEFAULT_TEST_TIMEOUT = 1800.0


MAX_LISTED = 50


@dataclass
class CheckResult:
    """One validation check's verdict.

    Attributes:
        name: One of :data:`CHECKS`.
        passed: Whether it holds (a skipped check counts as not failing).
        reason: Why, in one sentence.
        evidence: The measured facts behind the verdict.
        skipped: The check does not apply (for example no test command is configured).
    """

    name: str
    passed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    @property
    def title(self) -> str:
        return CHECKS.get(self.name, self.name)

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "passed": self.passed,
            "skipped": self.skipped,
            "reason": self.reason,
            "evidence": self.evidence,
        }


@dataclass
class FreshEnvironment:
    """A fresh environment built from the migrations folder: its check, schema and security findings."""

    check: CheckResult
    snapshot: Snapshot | None = None
    findings: list[security.Finding] | None = None


def check_failed(name: str, reason: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, False, reason, evidence)


def check_passed(name: str, reason: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, True, reason, evidence)


def target_unchanged(fingerprint: str, backup: BackupRecord | None, inspected: dict[str, Any] | None) -> CheckResult:
    name = "target_unchanged"
    evidence: dict[str, Any] = {"fingerprint_now": fingerprint}
    if inspected is not None:
        evidence["fingerprint_at_inspect"] = inspected.get("fingerprint")
        evidence["inspect_matches"] = inspected.get("fingerprint") == fingerprint
    if backup is None:
        return check_failed(name, "no backup recorded: nothing to compare the target's schema with", **evidence)
    evidence.update(backup_path=backup.path, fingerprint_at_backup=backup.schema_fingerprint)
    if backup.schema_fingerprint != fingerprint:
        return check_failed(
            name,
            f"the target's schema changed since backup {Path(backup.path).name} "
            f"(fingerprint {backup.schema_fingerprint[:12]}… then, {fingerprint[:12]}… now)",
            **evidence,
        )
    return check_passed(
        name,
        f"the target's schema fingerprint {fingerprint[:12]}… is the one recorded with backup {Path(backup.path).name}",
        **evidence,
    )


def row_counts(
    conn: psycopg.Connection,
    backup: BackupRecord | None,
    cancel: threading.Event | None,
    record_writes: list[str] | None = None,
) -> tuple[CheckResult, dict[str, int]]:
    """Every table's rows now against the backup's counts.

    Args:
        record_writes: The tables Phase 4's transaction wrote (``record.committed``), when known. If
            they are history tables only, the protocol is proved not to have touched the data, so
            counts changed since the backup are the live application's (a staging that takes
            writes): reported, not failed. A table gone still fails.
    """
    name = "row_counts"
    if backup is None:
        return check_failed(name, "no backup recorded: no row counts to compare with"), {}
    now = count_rows(conn, data_tables(conn), cancel)
    skip = f"{history.HISTORY_SCHEMA}."
    then = {t: n for t, n in backup.row_counts.items() if not t.startswith(skip)}
    current = {t: n for t, n in now.items() if not t.startswith(skip)}
    changed = {
        t: {"backup": then[t], "now": current[t]} for t in sorted(then.keys() & current.keys()) if then[t] != current[t]
    }
    missing = sorted(then.keys() - current.keys())
    new = {t: current[t] for t in sorted(current.keys() - then.keys())}
    evidence = {
        "backup_path": backup.path,
        "tables": len(then),
        "rows_at_backup": sum(then.values()),
        "rows_now": sum(current[t] for t in then if t in current),
        "changed": changed,
        "missing": missing,
        "new_tables": new,
        "excluded_schema": history.HISTORY_SCHEMA,
    }
    live = record_writes is not None and all(t.startswith(skip) for t in record_writes)
    if changed and not missing and live:
        parts = [f"{t}: {c['backup']} at backup, {c['now']} now" for t, c in changed.items()]
        return check_passed(
            name,
            f"{len(parts)} table(s) changed since backup {Path(backup.path).name} through other sessions "
            f"({'; '.join(parts[:5])}{'; …' if len(parts) > 5 else ''}); Phase 4's transaction wrote only "
            f"{', '.join(record_writes or []) or 'nothing'}",
            live_writes=True,
            **evidence,
        ), now
    if changed or missing:
        parts = [f"{t}: {c['backup']} at backup, {c['now']} now" for t, c in changed.items()]
        parts += [f"{t}: gone" for t in missing]
        return check_failed(
            name,
            f"{len(parts)} table(s) differ from backup {Path(backup.path).name}: {'; '.join(parts[:5])}"
            + ("; …" if len(parts) > 5 else ""),
            **evidence,
        ), now
    note = f" ({len(new)} table(s) created since, not in the backup)" if new else ""
    return check_passed(
        name,
        f"all {len(then)} tables hold the {evidence['rows_at_backup']} rows counted at backup time{note}",
        **evidence,
    ), now


def history_agrees(conn: psycopg.Connection, mset: MigrationSet | None, mset_error: str | None) -> CheckResult:
    name = "history_agrees"
    if mset is None:
        return check_failed(name, f"the migrations folder cannot be read: {mset_error}")
    try:
        hist = history.read(conn, mset.versions)
    except MissingHistoryTable as exc:
        return check_failed(name, exc.message)
    evidence = {
        "local": mset.versions,
        "remote": hist.versions,
        "applied_not_local": hist.applied_not_local,
        "local_not_applied": hist.local_not_applied,
    }
    if hist.in_sync:
        return check_passed(
            name, f"the {len(mset.versions)} local version(s) and the remote history are the same set", **evidence
        )
    parts = []
    if hist.applied_not_local:
        listed = ", ".join(hist.applied_not_local[:3]) + (", …" if len(hist.applied_not_local) > 3 else "")
        parts.append(f"{len(hist.applied_not_local)} remote version(s) have no local file ({listed})")
    if hist.local_not_applied:
        listed = ", ".join(hist.local_not_applied[:3]) + (", …" if len(hist.local_not_applied) > 3 else "")
        parts.append(f"{len(hist.local_not_applied)} local file(s) are not recorded on the target ({listed})")
    return check_failed(name, "; ".join(parts) + ": run consolidate record, or roll back", **evidence)


def security_posture(
    target_findings: list[security.Finding], fresh: FreshEnvironment, schema_unchanged: bool
) -> CheckResult:
    name = "security_posture"
    evidence: dict[str, Any] = {
        "checks": list(security.CHECK_NAMES),
        "target": [f.to_dict() for f in target_findings],
        "target_levels": security.levels(target_findings),
        "before_basis": "target schema fingerprint equals the backup's"
        if schema_unchanged
        else "unknown: the target's schema changed since the backup",
    }
    if fresh.findings is None:
        return check_failed(name, "not compared: the fresh environment did not provision", **evidence)
    diff = security.compare(target_findings, fresh.findings)
    evidence.update(
        fresh_levels=security.levels(fresh.findings),
        only_target=[f.to_dict() for f in diff.only_before],
        only_fresh=[f.to_dict() for f in diff.only_after],
        common=diff.common,
    )
    if not diff.unchanged:
        parts = [f"{f.check} on {f.object} only in the fresh environment" for f in diff.only_after]
        parts += [f"{f.check} on {f.object} only on the target" for f in diff.only_before]
        return check_failed(
            name, f"the findings differ: {'; '.join(parts[:4])}" + ("; …" if len(parts) > 4 else ""), **evidence
        )
    lv = evidence["target_levels"]
    summary = f"{len(target_findings)} finding(s) ({lv['ERROR']} error, {lv['WARN']} warn, {lv['INFO']} info)"
    if not schema_unchanged:
        return check_failed(
            name,
            f"{summary} on both the target and the fresh environment, but the target's schema changed since the "
            "backup, so the posture before consolidation is not established",
            **evidence,
        )
    return check_passed(
        name, f"the same {summary} on the target, before and after, and in a fresh environment", **evidence
    )


def run_test_command(
    config: Config,
    target: Target,
    fresh_dsn: str | None,
    timeout: float = DEFAULT_TEST_TIMEOUT,
    cancel: threading.Event | None = None,
) -> CheckResult:
    """Run ``[project] test_command`` through the shell in the project root; skipped when unset.

    The command sees ``CONSOLIDATE_TARGET``, ``CONSOLIDATE_TARGET_ROLE`` and, when a fresh
    environment was provisioned, ``CONSOLIDATE_FRESH_DSN``. Its output (stdout and stderr
    merged) is kept as a tail in the evidence.
    """
    name = "test_command"
    command = config.test_command
    if not command:
        return CheckResult(name, True, "not configured ([project] test_command in consolidate.toml)", {}, skipped=True)
    env = {"CONSOLIDATE_TARGET": target.name, "CONSOLIDATE_TARGET_ROLE": target.role}
    if fresh_dsn:
        env["CONSOLIDATE_FRESH_DSN"] = fresh_dsn
    ran = test_command.run(command, config.root, timeout, env, cancel)
    if ran.cancelled:
        raise Cancelled("validation cancelled while the test command ran; nothing was recorded", "run it again")
    timed_out, seconds, output = ran.timed_out, ran.seconds, ran.output_tail
    evidence = {
        "command": command,
        "exit_code": ran.exit_code,
        "seconds": round(seconds, 3),
        "timed_out": timed_out,
        "output_tail": output,
        "fresh_dsn_given": bool(fresh_dsn),
    }
    if timed_out:
        return check_failed(name, f"`{command}` did not finish within {timeout:g} s and was stopped", **evidence)
    if not ran.passed:
        return check_failed(
            name,
            f"`{command}` exited {ran.exit_code} after {seconds:.1f} s: {ran.last_line or 'no output'}",
            **evidence,
        )
    return check_passed(name, f"`{command}` passed (exit 0) in {seconds:.1f} s", **evidence)
