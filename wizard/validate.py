"""Post-execution validation: the seed's checklist turned into measured checks, each journaled.

After Phase 4 the consolidation must hold up. Each check has a name, a verdict, a one-line
reason and its evidence:

* ``fresh_environment``: the migrations folder now holds the recorded baseline (same sha256
  as when ``squash`` wrote it) and no file older than it; a fresh scratch database
  provisions from exactly those files, as ``supabase db reset`` would. Timed.
* ``parity``: that fresh environment and the target are identical, object by object.
* ``target_unchanged``: the target's schema fingerprint equals the one recorded with the
  backup ("production schema never touched").
* ``row_counts``: every table the backup counted has the same exact row count now (the
  migration history schema is left out: Phase 4 writes to it by design).
* ``history_agrees``: the local migration versions and the target's remote history are the
  same set, so the Supabase CLI sees nothing to push and nothing missing.
* ``security_posture``: the linter of :mod:`wizard.security` reports the same findings on
  the fresh environment as on the target. Because ``target_unchanged`` ties the target's
  schema to the backup, the target's findings are also those from before consolidation.
* ``test_command``: the project's ``[project] test_command`` exits 0 (run through the shell
  in the project root, with ``CONSOLIDATE_FRESH_DSN`` pointing at the fresh environment).
  Not configured: skipped, which does not fail validation.

The target session is read-only; the only writes go to a scratch database and the journal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from . import events, history, security, test_command
from .backup import files as backup_files
from .backup.evidence import VERIFIED, BackupRecord, backups, count_rows, data_tables, verifications
from .catalog import Snapshot, snapshot
from .config import Config, Target
from .connect import Identity, open_session
from .errors import MigrationFileError, MissingHistoryTable
from .inventory import Cancelled
from .journal import Journal
from .migrations import MigrationSet, discover
from .parity import ParityResult, compare
from .replay import missing_extension_error, replay
from .shadow import Shadow
from .squash.managed import SUPABASE_INTERNAL_EXTENSIONS

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
FRESH_LABEL = "the fresh environment"
TARGET_LABEL = "the target"


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
class ValidationResult:
    """Every check of one validation run, and the journal record that holds it."""

    target: str
    checks: list[CheckResult]
    seconds: float = 0.0
    record: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed or c.skipped for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not (c.passed or c.skipped)]

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "passed": self.passed,
            "failed": [c.name for c in self.failed],
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
            "seq": self.record.get("seq") if self.record else None,
            "ts": self.record.get("ts") if self.record else None,
        }


def _fail(name: str, reason: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, False, reason, evidence)


def _pass(name: str, reason: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, True, reason, evidence)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("validation cancelled; nothing was recorded", "run consolidate validate again")


def _abs(config: Config, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else config.root / p


def _relative(config: Config, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.root))
    except ValueError:
        return str(path)


def superseded_names(generated: dict[str, Any]) -> list[str]:
    """File names the baseline supersedes, from a ``squash.generated`` record (names or dicts)."""
    raw = generated.get("superseded") or generated.get("superseded_files") or []
    names = []
    for item in raw:
        if isinstance(item, dict):
            item = item.get("file") or item.get("filename") or item.get("path") or ""
        if item:
            names.append(Path(str(item)).name)
    return names


def newest_backup(journal: Journal) -> tuple[BackupRecord | None, dict[str, Any] | None]:
    """The newest backup that passed verification (else the newest taken), and its latest verification."""
    records = backups(journal)
    for record in reversed(records):
        outcomes = verifications(journal, record)
        if outcomes and outcomes[-1]["event"] == VERIFIED:
            return record, outcomes[-1]
    if records:
        outcomes = verifications(journal, records[-1])
        return records[-1], outcomes[-1] if outcomes else None
    return None, None


# --- fresh environment -----------------------------------------------------------------


@dataclass
class _Fresh:
    check: CheckResult
    snapshot: Snapshot | None = None
    findings: list[security.Finding] | None = None


def _fresh_environment(
    config: Config,
    mset: MigrationSet | None,
    mset_error: str | None,
    generated: dict[str, Any] | None,
    proved: dict[str, Any] | None,
    dsn: str,
    shadow: Shadow,
    say: Callable[[str], None],
    cancel: threading.Event | None,
) -> _Fresh:
    name = "fresh_environment"
    if generated is None:
        return _Fresh(_fail(name, "no baseline has been generated (no squash.generated): run consolidate squash"))
    baseline = _abs(config, str(generated.get("path", "")))
    evidence: dict[str, Any] = {
        "baseline": {"path": _relative(config, baseline), "version": generated.get("version")},
        "recorded_sha256": generated.get("sha256"),
    }
    if not baseline.is_file():
        return _Fresh(_fail(name, f"the baseline {_relative(config, baseline)} is missing", **evidence))
    digest = backup_files.sha256_file(baseline, use_cache=False)
    evidence["sha256"] = digest
    if generated.get("sha256") and digest != generated["sha256"]:
        return _Fresh(
            _fail(
                name,
                f"the baseline {baseline.name} changed since squash wrote it (sha256 {digest[:12]}…, "
                f"recorded {str(generated['sha256'])[:12]}…): it is not the file that was proved",
                **evidence,
            )
        )
    if mset is None:
        return _Fresh(_fail(name, f"the migrations folder cannot be read: {mset_error}", **evidence))
    if mset.errors:
        return _Fresh(_fail(name, f"a migration file cannot be parsed: {mset.errors[0]}", **evidence))
    if mset.duplicates:
        version, names = next(iter(mset.duplicates.items()))
        return _Fresh(_fail(name, f"two migration files share version {version}: {', '.join(names)}", **evidence))
    here = {f.filename for f in mset.files}
    if baseline.name not in here or baseline.parent.resolve() != mset.directory.resolve():
        return _Fresh(
            _fail(name, f"the baseline {baseline.name} is not in the migrations folder {mset.directory}", **evidence)
        )
    version = str(generated.get("version") or next(f.version for f in mset.files if f.filename == baseline.name))
    still = sorted(set(superseded_names(generated)) & here)
    older = [f.filename for f in mset.files if f.filename != baseline.name and int(f.version or 0) < int(version)]
    leftovers = sorted(set(still) | set(older))
    if leftovers:
        evidence["files_before_baseline"] = leftovers
        return _Fresh(
            _fail(
                name,
                f"{len(leftovers)} file(s) older than the baseline are still in the migrations folder "
                f"({', '.join(leftovers[:3])}{', …' if len(leftovers) > 3 else ''}): run consolidate archive",
                **evidence,
            )
        )
    say(f"provisioning a fresh environment from {len(mset.files)} file(s)")
    result = replay(mset.files, dsn, (lambda f, i, n: say(f"fresh environment {i}/{n}: {f.filename}")), cancel)
    if result.cancelled:
        raise Cancelled("validation cancelled; nothing was recorded", "run consolidate validate again")
    if result.failure and result.failure.missing_extension:
        raise missing_extension_error(result.failure.missing_extension, f"PostgreSQL {shadow.server_version_num}")
    evidence.update(
        files=[{"file": n, "seconds": round(s, 3)} for n, s in result.applied],
        file_count=len(mset.files),
        newer_files=[f.filename for f in mset.files if f.filename != baseline.name],
        seconds=round(result.seconds, 3),
    )
    if proved:
        evidence["squash_proved_seq"] = proved.get("seq")
    if not result.ok:
        assert result.failure is not None
        return _Fresh(_fail(name, f"a fresh environment does not provision: {result.failure.describe()}", **evidence))
    say("reading the fresh environment")
    with open_session(dsn) as conn:
        snap = snapshot(conn)
        findings = security.lint(conn)
    extra = len(mset.files) - 1
    more = f" plus {extra} newer file(s)" if extra else ""
    return _Fresh(
        _pass(
            name,
            f"a fresh database provisioned from {baseline.name}{more} in {result.seconds:.2f} s",
            **evidence,
        ),
        snap,
        findings,
    )


# --- parity, schema, rows, history, posture --------------------------------------------


def parity_evidence(result: ParityResult) -> dict[str, Any]:
    """Per-kind counts side by side and the first differences, as journaled."""
    total = sum(k.identical + k.only_a + k.only_b + k.different for k in result.kinds.values())
    identical = sum(k.identical for k in result.kinds.values())
    return {
        "identical": result.identical,
        "objects": total,
        "identical_objects": identical,
        "percent": round(100.0 * identical / total, 2) if total else 100.0,
        "kinds": {
            kind: {"target": k.in_a, "fresh": k.in_b, "identical": k.identical, "matches": k.matches}
            for kind, k in result.kinds.items()
        },
        "differences": [
            {"kind": d.kind, "name": d.name, "status": d.status, "explanation": d.explanation}
            for d in result.differences[:MAX_LISTED]
        ],
        "difference_count": len(result.differences),
    }


def _without(snap: Snapshot, keys: set[tuple[str, str]]) -> Snapshot:
    return Snapshot(
        {k: v for k, v in snap.objects.items() if k not in keys}, snap.server_version, snap.server_version_num
    )


def _parity(target_snap: Snapshot, fresh: _Fresh) -> CheckResult:
    name = "parity"
    if fresh.snapshot is None:
        return _fail(name, "not compared: the fresh environment did not provision")
    # Like the baseline's proof: extensions only Supabase installs are in every project, not in the baseline.
    excluded = {("extension", e) for e in SUPABASE_INTERNAL_EXTENSIONS}
    result = compare(_without(target_snap, excluded), _without(fresh.snapshot, excluded), TARGET_LABEL, FRESH_LABEL)
    evidence = parity_evidence(result)
    evidence["excluded_from_comparison"] = sorted(f"{k} {n}" for k, n in excluded if (k, n) in target_snap.objects)
    if result.identical:
        headline = ", ".join(
            f"{k['identical']}/{k['target']} {plural}"
            for kind, plural in HEADLINE.items()
            if (k := evidence["kinds"].get(kind))
        )
        return _pass(name, f"100% parity: all {evidence['objects']} objects identical ({headline})", **evidence)
    first = result.differences[0]
    return _fail(
        name,
        f"{len(result.differences)} difference(s) between the target and a fresh environment, "
        f"first: {first.kind} {first.name}: {first.explanation}",
        **evidence,
    )


def _target_unchanged(fingerprint: str, backup: BackupRecord | None, inspected: dict[str, Any] | None) -> CheckResult:
    name = "target_unchanged"
    evidence: dict[str, Any] = {"fingerprint_now": fingerprint}
    if inspected is not None:
        evidence["fingerprint_at_inspect"] = inspected.get("fingerprint")
        evidence["inspect_matches"] = inspected.get("fingerprint") == fingerprint
    if backup is None:
        return _fail(name, "no backup recorded: nothing to compare the target's schema with", **evidence)
    evidence.update(backup_path=backup.path, fingerprint_at_backup=backup.schema_fingerprint)
    if backup.schema_fingerprint != fingerprint:
        return _fail(
            name,
            f"the target's schema changed since backup {Path(backup.path).name} "
            f"(fingerprint {backup.schema_fingerprint[:12]}… then, {fingerprint[:12]}… now)",
            **evidence,
        )
    return _pass(
        name,
        f"the target's schema fingerprint {fingerprint[:12]}… is the one recorded with backup {Path(backup.path).name}",
        **evidence,
    )


def _row_counts(
    conn: psycopg.Connection, backup: BackupRecord | None, cancel: threading.Event | None
) -> tuple[CheckResult, dict[str, int]]:
    name = "row_counts"
    if backup is None:
        return _fail(name, "no backup recorded: no row counts to compare with"), {}
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
    if changed or missing:
        parts = [f"{t}: {c['backup']} at backup, {c['now']} now" for t, c in changed.items()]
        parts += [f"{t}: gone" for t in missing]
        return _fail(
            name,
            f"{len(parts)} table(s) differ from backup {Path(backup.path).name}: {'; '.join(parts[:5])}"
            + ("; …" if len(parts) > 5 else ""),
            **evidence,
        ), now
    note = f" ({len(new)} table(s) created since, not in the backup)" if new else ""
    return _pass(
        name,
        f"all {len(then)} tables hold the {evidence['rows_at_backup']} rows counted at backup time{note}",
        **evidence,
    ), now


def _history_agrees(conn: psycopg.Connection, mset: MigrationSet | None, mset_error: str | None) -> CheckResult:
    name = "history_agrees"
    if mset is None:
        return _fail(name, f"the migrations folder cannot be read: {mset_error}")
    try:
        hist = history.read(conn, mset.versions)
    except MissingHistoryTable as exc:
        return _fail(name, exc.message)
    evidence = {
        "local": mset.versions,
        "remote": hist.versions,
        "applied_not_local": hist.applied_not_local,
        "local_not_applied": hist.local_not_applied,
    }
    if hist.in_sync:
        return _pass(
            name, f"the {len(mset.versions)} local version(s) and the remote history are the same set", **evidence
        )
    parts = []
    if hist.applied_not_local:
        listed = ", ".join(hist.applied_not_local[:3]) + (", …" if len(hist.applied_not_local) > 3 else "")
        parts.append(f"{len(hist.applied_not_local)} remote version(s) have no local file ({listed})")
    if hist.local_not_applied:
        listed = ", ".join(hist.local_not_applied[:3]) + (", …" if len(hist.local_not_applied) > 3 else "")
        parts.append(f"{len(hist.local_not_applied)} local file(s) are not recorded on the target ({listed})")
    return _fail(name, "; ".join(parts) + ": run consolidate record, or roll back", **evidence)


def _security_posture(target_findings: list[security.Finding], fresh: _Fresh, schema_unchanged: bool) -> CheckResult:
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
        return _fail(name, "not compared: the fresh environment did not provision", **evidence)
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
        return _fail(
            name, f"the findings differ: {'; '.join(parts[:4])}" + ("; …" if len(parts) > 4 else ""), **evidence
        )
    lv = evidence["target_levels"]
    summary = f"{len(target_findings)} finding(s) ({lv['ERROR']} error, {lv['WARN']} warn, {lv['INFO']} info)"
    if not schema_unchanged:
        return _fail(
            name,
            f"{summary} on both the target and the fresh environment, but the target's schema changed since the "
            "backup, so the posture before consolidation is not established",
            **evidence,
        )
    return _pass(name, f"the same {summary} on the target, before and after, and in a fresh environment", **evidence)


# --- test command -----------------------------------------------------------------------


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
        return _fail(name, f"`{command}` did not finish within {timeout:g} s and was stopped", **evidence)
    if not ran.passed:
        return _fail(
            name,
            f"`{command}` exited {ran.exit_code} after {seconds:.1f} s: {ran.last_line or 'no output'}",
            **evidence,
        )
    return _pass(name, f"`{command}` passed (exit 0) in {seconds:.1f} s", **evidence)


# --- the run ----------------------------------------------------------------------------


def run_validation(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    identity: Identity,
    shadow: Shadow,
    journal: Journal,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
) -> ValidationResult:
    """Run every check against the target behind the read-only ``conn`` and journal ``validate.done``.

    Args:
        shadow: Where the fresh environment is provisioned (a scratch database, dropped afterwards).
        journal: The target's journal; read for the baseline and backup evidence, and
            appended with :data:`wizard.events.VALIDATED` (``passed`` and every check).
        progress: Called with a short message before each step.
        cancel: When set, the run stops between steps and records nothing.

    Raises:
        Cancelled: ``cancel`` was set.
        MissingExtension: the shadow server lacks an extension the baseline creates.
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    generated = journal.last(events.SQUASH_GENERATED)
    proved = journal.last(events.SQUASH_PROVED)
    inspected = journal.last(events.INSPECTED)
    backup, _verification = newest_backup(journal)
    try:
        mset: MigrationSet | None = discover(config.migrations_dir)
        mset_error = None
    except MigrationFileError as exc:
        mset, mset_error = None, exc.message

    say("reading the target schema")
    target_snap = snapshot(conn)
    target_findings = security.lint(conn)
    _check_cancel(cancel)
    with shadow.scratch("validate") as dsn:
        fresh = _fresh_environment(config, mset, mset_error, generated, proved, dsn, shadow, say, cancel)
        _check_cancel(cancel)
        if config.test_command:
            say(f"running the test command: {config.test_command}")
        tests = run_test_command(config, target, dsn if fresh.snapshot is not None else None, test_timeout, cancel)
    _check_cancel(cancel)
    say("comparing the fresh environment with the target")
    parity = _parity(target_snap, fresh)
    unchanged = _target_unchanged(target_snap.fingerprint(), backup, inspected)
    say("counting rows on the target")
    rows, _now = _row_counts(conn, backup, cancel)
    say("reading the remote migration history")
    hist = _history_agrees(conn, mset, mset_error)
    posture = _security_posture(target_findings, fresh, unchanged.passed)
    checks = [fresh.check, parity, unchanged, rows, hist, posture, tests]
    result = ValidationResult(target.name, checks, time.monotonic() - started)
    result.record = journal.append(
        events.VALIDATED,
        target=target.name,
        role=target.role,
        identity=identity.to_dict(),
        passed=result.passed,
        failed=[c.name for c in result.failed],
        seconds=round(result.seconds, 3),
        baseline=(generated or {}).get("path"),
        backup_path=backup.path if backup else None,
        checks=[c.to_dict() for c in checks],
    )
    return result
