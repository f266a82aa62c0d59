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
* ``security_posture``: the linter of :mod:`wizard.validate.security` reports the same findings on
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from wizard.backup import files as backup_files
from wizard.backup.evidence import VERIFIED, BackupRecord, backups, verifications
from wizard.catalog import Snapshot, snapshot
from wizard.db.connect import Identity, open_session
from wizard.errors import MigrationFileError
from wizard.history.files import MigrationSet, discover
from wizard.history.replay import missing_extension_error, replay
from wizard.inspect.inventory import Cancelled
from wizard.parity.diff import ParityResult, compare
from wizard.platform.shadow import Shadow
from wizard.project.config import Config, Target
from wizard.squash.managed import SUPABASE_INTERNAL_EXTENSIONS
from wizard.squash.secrets import PLACEHOLDER_PREFIX, redact_snapshot
from wizard.state import events
from wizard.state.journal import Journal
from wizard.validate import security
from wizard.validate.checks import (
    CHECKS,
    DEFAULT_TEST_TIMEOUT,
    HEADLINE,
    MAX_LISTED,
    CheckResult,
    FreshEnvironment,
    check_failed,
    check_passed,
    history_agrees,
    row_counts,
    run_test_command,
    security_posture,
    target_unchanged,
)

__all__ = ["CHECKS", "DEFAULT_TEST_TIMEOUT", "CheckResult", "ValidationResult", "run_test_command", "run_validation"]

FRESH_LABEL = "the fresh environment"
TARGET_LABEL = "the target"


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
) -> FreshEnvironment:
    name = "fresh_environment"
    if generated is None:
        return FreshEnvironment(
            check_failed(name, "no baseline has been generated (no squash.generated): run consolidate squash")
        )
    baseline = _abs(config, str(generated.get("path", "")))
    evidence: dict[str, Any] = {
        "baseline": {"path": _relative(config, baseline), "version": generated.get("version")},
        "recorded_sha256": generated.get("sha256"),
    }
    if not baseline.is_file():
        return FreshEnvironment(
            check_failed(name, f"the baseline {_relative(config, baseline)} is missing", **evidence)
        )
    digest = backup_files.sha256_file(baseline, use_cache=False)
    evidence["sha256"] = digest
    if generated.get("sha256") and digest != generated["sha256"]:
        return FreshEnvironment(
            check_failed(
                name,
                f"the baseline {baseline.name} changed since squash wrote it (sha256 {digest[:12]}…, "
                f"recorded {str(generated['sha256'])[:12]}…): it is not the file that was proved",
                **evidence,
            )
        )
    if mset is None:
        return FreshEnvironment(check_failed(name, f"the migrations folder cannot be read: {mset_error}", **evidence))
    if mset.errors:
        return FreshEnvironment(check_failed(name, f"a migration file cannot be parsed: {mset.errors[0]}", **evidence))
    if mset.duplicates:
        version, names = next(iter(mset.duplicates.items()))
        return FreshEnvironment(
            check_failed(name, f"two migration files share version {version}: {', '.join(names)}", **evidence)
        )
    here = {f.filename for f in mset.files}
    if baseline.name not in here or baseline.parent.resolve() != mset.directory.resolve():
        return FreshEnvironment(
            check_failed(
                name, f"the baseline {baseline.name} is not in the migrations folder {mset.directory}", **evidence
            )
        )
    version = str(generated.get("version") or next(f.version for f in mset.files if f.filename == baseline.name))
    still = sorted(set(superseded_names(generated)) & here)
    older = [f.filename for f in mset.files if f.filename != baseline.name and int(f.version or 0) < int(version)]
    leftovers = sorted(set(still) | set(older))
    if leftovers:
        evidence["files_before_baseline"] = leftovers
        return FreshEnvironment(
            check_failed(
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
        return FreshEnvironment(
            check_failed(name, f"a fresh environment does not provision: {result.failure.describe()}", **evidence)
        )
    say("reading the fresh environment")
    with open_session(dsn) as conn:
        snap = snapshot(conn)
        findings = security.lint(conn)
    extra = len(mset.files) - 1
    more = f" plus {extra} newer file(s)" if extra else ""
    return FreshEnvironment(
        check_passed(
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


def parity_check(target_snap: Snapshot, fresh: FreshEnvironment) -> CheckResult:
    """The target against the fresh environment from the migrations folder, key-like values redacted on both sides."""
    name = "parity"
    if fresh.snapshot is None:
        return check_failed(name, "not compared: the fresh environment did not provision")
    # Like the baseline's proof: extensions only Supabase installs are in every project, not in the baseline.
    excluded = {("extension", e) for e in SUPABASE_INTERNAL_EXTENSIONS}
    # Like the proof, key-like values are compared redacted on both sides: the baseline holds a
    # placeholder where the target holds the key, and the operator sets the real value.
    result = compare(
        redact_snapshot(_without(target_snap, excluded)),
        redact_snapshot(_without(fresh.snapshot, excluded)),
        TARGET_LABEL,
        FRESH_LABEL,
    )
    evidence = parity_evidence(result)
    evidence["excluded_from_comparison"] = sorted(f"{k} {n}" for k, n in excluded if (k, n) in target_snap.objects)
    evidence["placeholders"] = sorted(
        f"{k} {n}" for (k, n), obj in fresh.snapshot.objects.items() if PLACEHOLDER_PREFIX in obj.definition
    )
    if result.identical:
        headline = ", ".join(
            f"{k['identical']}/{k['target']} {plural}"
            for kind, plural in HEADLINE.items()
            if (k := evidence["kinds"].get(kind))
        )
        held = evidence["placeholders"]
        note = (
            f"; {len(held)} hold a placeholder for a key-like value the operator sets ({', '.join(held[:3])})"
            if held
            else ""
        )
        return check_passed(
            name, f"100% parity: all {evidence['objects']} objects identical ({headline}){note}", **evidence
        )
    first = result.differences[0]
    return check_failed(
        name,
        f"{len(result.differences)} difference(s) between the target and a fresh environment, "
        f"first: {first.kind} {first.name}: {first.explanation}",
        **evidence,
    )


# --- test command -----------------------------------------------------------------------


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
            appended with :data:`wizard.state.events.VALIDATED` (``passed`` and every check).
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
    parity = parity_check(target_snap, fresh)
    unchanged = target_unchanged(target_snap.fingerprint(), backup, inspected)
    say("counting rows on the target")
    committed = journal.last(events.RECORD_COMMITTED)
    rows, _now = row_counts(conn, backup, cancel, committed.get("writes") if committed else None)
    say("reading the remote migration history")
    hist = history_agrees(conn, mset, mset_error)
    posture = security_posture(target_findings, fresh, unchanged.passed)
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
