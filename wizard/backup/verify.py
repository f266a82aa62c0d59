"""Prove a backup restorable: read it, check its hash, restore it, and compare the copy.

Steps, each recorded as evidence (``backup.verified`` or ``backup.verification_failed``):

1. ``list``: ``pg_restore --list`` reads the archive, a dump of the right database in the recorded format;
2. ``checksum``: its size and sha256 equal those recorded when it was taken; for a directory backup,
   every file's (checked first, so a missing, extra or changed file is named);
3. ``restore``: it restores, with parallel jobs, into a new empty database on the shadow
   server. The Supabase bootstrap is applied to the shadow server first so its roles
   (``anon``, ``authenticated``...) exist; the database itself is empty (cloned from
   ``template0``), because the dump recreates ``auth``, ``storage`` and everything else
   and would collide with a bootstrapped copy;
4. ``match``: the restored copy has the schema fingerprint, the exact row count of every
   table and the number of large objects recorded from the dumped snapshot.

Before anything starts, the target's size is compared with the free space where the shadow server
keeps its data (:mod:`wizard.backup.space`). Verification never connects to the target: it needs
only the journal, the file and the shadow server, so it works when the target is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from wizard.backup import dumpdir, files
from wizard.backup.errors import BackupInterrupted, NoBackup, ToolInterrupted
from wizard.backup.evidence import VERIFICATION_FAILED, VERIFIED, BackupRecord, Measurement, find_backup, measure
from wizard.backup.space import check_restore_space
from wizard.catalog import snapshot
from wizard.db.connect import open_session, scalar
from wizard.db.dsn import parse
from wizard.errors import ShadowError, WizardError
from wizard.parity.diff import compare
from wizard.platform import mirror, roles, tools
from wizard.platform.shadow import Shadow, embedded_dsn
from wizard.project.config import Config, Target, resolve_dsn
from wizard.state.journal import Journal

#: Parallel restore jobs: the CPUs, between 2 and 8.
DEFAULT_JOBS = tools.parallel_jobs()
STEPS = ("list", "checksum", "restore", "match")
_TOC_LINE = re.compile(r"^(\d+); (\d+) (\d+) (.*)$")
_EXTENSION = re.compile(r"^EXTENSION - (\S+)")
_MISSING_ROLE = re.compile(r'role "([^"]+)" does not exist')
_MISSING_EXTENSION = re.compile(
    r'extension "([^"]+)" is not available|extension control file "[^"]*/([^/"]+)\.control"'
)


@dataclass(frozen=True)
class VerifyProgress:
    """A progress report: which step runs and how far it is (``done``/``total`` may be 0)."""

    step: str
    detail: str
    done: int = 0
    total: int = 0
    elapsed: float = 0.0


@dataclass
class StepResult:
    """One verification step's verdict and evidence."""

    step: str
    passed: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "passed": self.passed, "summary": self.summary, **self.evidence}


@dataclass
class Verification:
    """The outcome of verifying one backup."""

    record: BackupRecord
    steps: list[StepResult]
    duration_s: float = 0.0
    seq: int = 0

    @property
    def passed(self) -> bool:
        return len(self.steps) == len(STEPS) and all(s.passed for s in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.passed), None)

    @property
    def reason(self) -> str:
        failed = self.failed_step
        return f"step {failed.step} failed: {failed.summary}" if failed else "all steps passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "backup_path": self.record.path,
            "sha256": self.record.sha256,
            "backup_seq": self.record.seq,
            "passed": self.passed,
            "failed_step": self.failed_step.step if self.failed_step else None,
            "reason": self.reason,
            "steps": [s.to_dict() for s in self.steps],
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class _Toc:
    header: dict[str, str]
    entries: int
    owners: set[str]
    extensions: set[str]
    data_tables: int


def parse_toc(text: str) -> _Toc:
    """Header fields, owners, extensions and TABLE DATA entries of ``pg_restore --list`` output."""
    header: dict[str, str] = {}
    owners: set[str] = set()
    extensions: set[str] = set()
    entries = data_tables = 0
    for line in text.splitlines():
        if line.startswith(";"):
            key, sep, value = line[1:].strip().partition(":")
            if sep and key and value:
                header.setdefault(key.strip(), value.strip())
            continue
        match = _TOC_LINE.match(line)
        if not match:
            continue
        entries += 1
        rest = match.group(4)
        if rest.startswith("TABLE DATA "):
            data_tables += 1
        ext = _EXTENSION.match(rest)
        if ext:
            extensions.add(ext.group(1))
        if not rest.endswith(" "):  # entries without an owner end with a space
            owners.add(rest.rsplit(" ", 1)[-1])
    return _Toc(header, entries, owners, extensions, data_tables)


class _StepFailed(Exception):
    def __init__(self, summary: str, **evidence: Any) -> None:
        super().__init__(summary)
        self.summary = summary
        self.evidence = evidence


def verify_backup(
    config: Config,
    target: Target,
    journal: Journal,
    shadow: Shadow,
    file: Path | None = None,
    progress: Callable[[VerifyProgress], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    jobs: int = DEFAULT_JOBS,
) -> Verification:
    """Verify the newest backup of ``target`` (or ``file``) and record the outcome in ``journal``.

    Returns the verification whether it passed or not; check ``.passed``.

    Raises:
        NoBackup: there is no recorded backup (or none recorded for ``file``).
        BackupError: the shadow server's disk cannot hold the restore (said before anything starts).
        BackupInterrupted: cancelled or Ctrl-C; nothing is recorded.
    """
    record = find_backup(journal, config.root, file)
    if record is None:
        if file is not None:
            raise NoBackup(
                f"{file} is not a backup recorded for target {target.name}; without the evidence taken with it "
                "it cannot be verified",
                f"take one with `consolidate backup --target {target.name}`",
            )
        raise NoBackup(
            f"no backup of target {target.name} has been taken", f"run consolidate backup --target {target.name}"
        )
    room = check_restore_space(config, shadow, record)
    started = time.monotonic()
    say = progress or (lambda _p: None)
    steps: list[StepResult] = []
    path = record.file(config.root)
    context: dict[str, Any] = {"root": config.root, "config": config, "target": target, "space": room.to_dict()}
    runners: list[tuple[str, Callable[[], StepResult]]] = [
        ("list", lambda: _step_list(record, path, context)),
        ("checksum", lambda: _step_checksum(record, path, say, jobs)),
        ("restore", lambda: _step_restore(shadow, record, path, context, jobs, say, cancel)),
        ("match", lambda: _step_match(record, context, say, jobs)),
    ]
    if record.format == "directory":
        # Every file is checked before pg_restore reads any: a bad one is named, not reported as unreadable.
        runners[0], runners[1] = runners[1], runners[0]
    try:
        with contextlib.ExitStack() as cleanup:  # drops the scratch database whatever happens
            context["cleanup"] = cleanup
            for name, run in runners:
                if cancel is not None and cancel.is_set():
                    raise BackupInterrupted("verification cancelled", "run consolidate verify-backup again")
                say(VerifyProgress(name, "", elapsed=time.monotonic() - started))
                try:
                    steps.append(run())
                except _StepFailed as exc:
                    steps.append(StepResult(name, False, exc.summary, exc.evidence))
                    break
    except KeyboardInterrupt:
        raise BackupInterrupted(
            "verification interrupted; the scratch database was dropped", "run consolidate verify-backup again"
        ) from None
    except ToolInterrupted as exc:
        if isinstance(exc, BackupInterrupted):
            raise
        raise BackupInterrupted(f"{exc.message}; the scratch database was dropped", exc.fix) from None
    result = Verification(record, steps, time.monotonic() - started)
    event = journal.append(VERIFIED if result.passed else VERIFICATION_FAILED, **result.to_dict())
    result.seq = event["seq"]
    return result


def _step_list(record: BackupRecord, path: Path, context: dict[str, Any]) -> StepResult:
    if not files.is_dump(path):
        raise _StepFailed(f"the backup file {record.path} no longer exists")
    dumped_by = record.pg_dump.get("version", "0")
    tool = tools.find("pg_restore", int(dumped_by.split(".")[0]), purpose=f"the pg_dump {dumped_by} that wrote it")
    context["pg_restore"] = tool
    proc = tools.capture([str(tool.path), "--list", str(path)], dict(os.environ))  # dies with us
    if proc.returncode != 0:
        error = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise _StepFailed(f"pg_restore --list cannot read the archive: {error}", pg_restore=tool.to_dict())
    toc = parse_toc(proc.stdout)
    context["toc"] = toc
    evidence = {
        "pg_restore": tool.to_dict(),
        "toc_entries": toc.entries,
        "format": toc.header.get("Format"),
        "dbname": toc.header.get("dbname"),
        "dumped_from": toc.header.get("Dumped from database version"),
        "dumped_by": toc.header.get("Dumped by pg_dump version"),
        "compression": toc.header.get("Compression"),
    }
    expected = record.format.upper()
    if evidence["format"] != expected:
        raise _StepFailed(f"the archive's format is {evidence['format']}, not {expected}", **evidence)
    if evidence["dbname"] != record.identity.get("database"):
        raise _StepFailed(
            f"the archive is a dump of database {evidence['dbname']!r}, not {record.identity.get('database')!r}",
            **evidence,
        )
    return StepResult("list", True, f"{toc.entries} TOC entries, {toc.data_tables} tables with data", evidence)


def _step_checksum(
    record: BackupRecord, path: Path, say: Callable[[VerifyProgress], None], jobs: int = 1
) -> StepResult:
    if record.files is not None:
        return _step_checksum_directory(record, path, say, jobs)
    size = path.stat().st_size
    evidence: dict[str, Any] = {"size": size, "recorded_size": record.size, "recorded_sha256": record.sha256}
    if size != record.size:
        how = "truncated" if size < record.size else "grown"
        raise _StepFailed(f"the file is {size} bytes but was {record.size} when taken: it has been {how}", **evidence)
    digest = files.sha256_file(
        path, use_cache=False, on_bytes=lambda n: say(VerifyProgress("checksum", "sha256", n, size))
    )
    evidence["sha256"] = digest
    if digest != record.sha256:
        raise _StepFailed(
            f"sha256 {digest[:12]}… differs from {record.sha256[:12]}… recorded when it was taken: "
            "the file has been modified or corrupted (a changed byte)",
            **evidence,
        )
    return StepResult("checksum", True, f"sha256 {digest[:12]}… as recorded", evidence)


def _step_checksum_directory(
    record: BackupRecord, path: Path, say: Callable[[VerifyProgress], None], jobs: int
) -> StepResult:
    """Every file of a directory backup as recorded: none missing, none extra, none changed."""
    assert record.files is not None
    if not dumpdir.is_directory_backup(path):
        raise _StepFailed(f"the backup directory {record.path} no longer exists")
    recorded = dumpdir.from_record(record.files)
    evidence: dict[str, Any] = {
        "files": len(recorded),
        "recorded_size": record.size,
        "recorded_sha256": record.sha256,
    }
    if dumpdir.set_checksum(recorded) != record.sha256:
        raise _StepFailed("the journal's list of files does not match its recorded set checksum", **evidence)
    actual = dumpdir.measure(
        path, jobs, use_cache=False, on_bytes=lambda n: say(VerifyProgress("checksum", "sha256", n, record.size))
    )
    evidence["size"] = dumpdir.total_size(actual)
    problem = dumpdir.first_difference(path, recorded, actual)
    if problem:
        raise _StepFailed(problem, **evidence)
    evidence["sha256"] = record.sha256
    return StepResult(
        "checksum", True, f"{len(recorded)} files with their recorded sha256; set {record.sha256[:12]}…", evidence
    )


def _step_restore(
    shadow: Shadow,
    record: BackupRecord,
    path: Path,
    context: dict[str, Any],
    jobs: int,
    say: Callable[[VerifyProgress], None],
    cancel: threading.Event | None,
) -> StepResult:
    toc: _Toc = context["toc"]
    tool: tools.PgTool = context["pg_restore"]
    platform = _platform(record, context["root"])
    if platform is None:
        shadow.template()  # applies the Supabase bootstrap once: its roles are cluster-wide
    admin = context["cleanup"].enter_context(open_session(shadow.admin_dsn))
    roles = {r[0] for r in admin.execute("SELECT rolname FROM pg_roles").fetchall()}
    available = {r[0] for r in admin.execute("SELECT name FROM pg_available_extensions").fetchall()}
    shadow_version = admin.execute("SHOW server_version").fetchone()[0]
    if platform is not None:
        return _restore_on_platform(shadow, record, path, platform, context, jobs, say, cancel, admin, shadow_version)
    missing_roles = sorted(toc.owners - roles)
    if missing_roles:
        raise _StepFailed(
            f"the shadow server lacks role(s) {', '.join(missing_roles)} that own objects in the backup "
            f"(create them there: {'; '.join(f'CREATE ROLE {r} NOLOGIN' for r in missing_roles)})",
            missing_roles=missing_roles,
        )
    missing_ext = sorted(toc.extensions - available)
    if missing_ext:
        raise _StepFailed(
            f"the shadow server (PostgreSQL {shadow_version}) lacks extension(s) {', '.join(missing_ext)} "
            "that the backup creates; configure a [shadow] server that has them",
            missing_extensions=missing_ext,
        )
    dsn = context["cleanup"].enter_context(shadow.scratch("verify", bootstrap=False))
    context["scratch_dsn"] = dsn
    conninfo, env = tools.child_env(dsn)
    started = time.monotonic()
    tick = _size_ticker(admin, dsn, record, say, started)

    argv = [str(tool.path), f"--jobs={jobs}", "--no-password", f"--dbname={conninfo}", str(path)]
    run = tools.ToolRun(argv, env).start()
    code = run.wait(tick, cancel)
    evidence = {
        "jobs": jobs,
        "space": context["space"],
        "pg_restore": tool.to_dict(),
        "shadow_server_version": shadow_version,
        "duration_s": round(time.monotonic() - started, 3),
    }
    if run.failed(code):
        roles_missing = sorted({m for line in run.errors for m in _MISSING_ROLE.findall(line)})
        ext_missing = sorted({a or b for line in run.errors for a, b in _MISSING_EXTENSION.findall(line)})
        why = run.first_error()
        if roles_missing:
            why = f"missing role(s) on the shadow server: {', '.join(roles_missing)} ({why})"
        elif ext_missing:
            why = f"missing extension(s) on the shadow server: {', '.join(ext_missing)} ({why})"
        raise _StepFailed(
            f"pg_restore exited {code} with {len(run.errors)} error(s): {why}",
            errors=run.errors[:20],
            missing_roles=roles_missing,
            **evidence,
        )
    summary = f"restored with {jobs} parallel jobs in {evidence['duration_s']:.1f} s"
    return StepResult("restore", True, summary, evidence)


def _size_ticker(
    admin: psycopg.Connection,
    dsn: str,
    record: BackupRecord,
    say: Callable[[VerifyProgress], None],
    started: float,
) -> Callable[[], None]:
    """Restore progress: the copy's size against the target's at backup time.

    Polled twice a second, because ``pg_restore --verbose`` slows a restore measurably.
    """
    scratch_name = parse(dsn).get("dbname")
    polled = [0.0]

    def tick() -> None:
        now = time.monotonic()
        if now - polled[0] < 0.5:
            return
        polled[0] = now
        size = scalar(admin.execute("SELECT pg_database_size(%s)", (scratch_name,)))
        say(VerifyProgress("restore", "bytes", min(size, record.database_size), record.database_size, now - started))

    return tick


def _platform(record: BackupRecord, root: Path) -> mirror.Platform | None:
    """The target's platform recorded with the backup, when it was (backups before it was recorded: None)."""
    if not record.platform:
        return None
    path = root / record.platform
    return mirror.Platform.load(path) if path.exists() else None


def _restore_on_platform(
    shadow: Shadow,
    record: BackupRecord,
    path: Path,
    platform: mirror.Platform,
    context: dict[str, Any],
    jobs: int,
    say: Callable[[VerifyProgress], None],
    cancel: threading.Event | None,
    admin: psycopg.Connection,
    shadow_version: str,
) -> StepResult:
    """Restore the backup over the target's own platform: its roles, and its extensions at their versions."""
    try:
        control_path, standin_names = shadow.extension_path(platform)
    except ShadowError as exc:
        raise _StepFailed(exc.message + f" ({exc.fix})") from None
    with open_session(shadow.admin_dsn, read_only=False) as writer:
        created_roles = roles.create_missing(writer, platform.roles)
    dsn = context["cleanup"].enter_context(shadow.scratch("verify", bootstrap=False))
    context["scratch_dsn"] = dsn
    started = time.monotonic()
    tick = _size_ticker(admin, dsn, record, say, started)

    errors = mirror.restore_layers(
        dsn,
        platform,
        path,
        control_path,
        user_layer=True,
        jobs=jobs,
        standin_names=tuple(standin_names),
        tick=tick,
        cancel=cancel,
    )
    evidence = {
        "jobs": jobs,
        "space": context["space"],
        "shadow_server_version": shadow_version,
        "duration_s": round(time.monotonic() - started, 3),
        "platform": platform.digest,
        "roles_created": created_roles,
        "standins": standin_names,
    }
    if errors:
        raise _StepFailed(f"pg_restore reported {len(errors)} error(s): {errors[0]}", errors=errors[:20], **evidence)
    labelled = f"; stand-ins for {', '.join(standin_names)}" if standin_names else ""
    summary = (
        f"restored over the target's platform with {jobs} parallel jobs in {evidence['duration_s']:.1f} s{labelled}"
    )
    return StepResult("restore", True, summary, evidence)


def _step_match(
    record: BackupRecord, context: dict[str, Any], say: Callable[[VerifyProgress], None], jobs: int = 1
) -> StepResult:
    with open_session(context["scratch_dsn"]) as conn:
        conn.execute("SET statement_timeout = 0")
        restored = measure(
            conn,
            on_table=lambda name, i, n: say(VerifyProgress("match", f"counting {name}", i, n)),
            dsn=context["scratch_dsn"],
            jobs=jobs,
        )
    problems = differences(record, restored)
    neutral = _version_neutral(record, context, problems)
    if neutral:
        problems = [p for p in problems if not p.startswith("schema fingerprint differs")]
    evidence = {
        "version_neutral": neutral,
        "schema_fingerprint": restored.schema_fingerprint,
        "tables": len(restored.row_counts),
        "rows": restored.total_rows,
        "large_objects": restored.large_objects,
        "problems": problems,
    }
    if problems:
        raise _StepFailed("the restored copy differs from the backed-up target: " + "; ".join(problems[:5]), **evidence)
    schema = f"same schema as {neutral}" if neutral else "same schema fingerprint"
    return StepResult(
        "match",
        True,
        f"{schema}, {restored.total_rows} rows across {len(restored.row_counts)} tables "
        f"and {restored.large_objects} large objects, as recorded",
        evidence,
    )


def _version_neutral(record: BackupRecord, context: dict[str, Any], problems: list[str]) -> str | None:
    """Across major versions a schema fingerprint cannot match: compare the copy with the target instead.

    Only when the target still has the fingerprint recorded at backup time (it is unchanged), its
    schema is compared object by object with the restored copy, version-neutrally
    (:mod:`wizard.catalog.versions`). Returns what was compared, or None.
    """
    if not any(p.startswith("schema fingerprint differs") for p in problems):
        return None
    with open_session(context["scratch_dsn"]) as conn:
        copy = snapshot(conn)
    backed_up = str(record.identity.get("server_version", ""))
    if backed_up.split(".")[0] == str(copy.server_version).split(".")[0]:
        return None
    config, target = context["config"], context["target"]
    try:
        with open_session(resolve_dsn(target.source, embedded_dsn(config))) as conn:
            original = snapshot(conn)
    except WizardError:
        return None
    if original.fingerprint() != record.schema_fingerprint:
        return None
    if not compare(original, copy).identical:
        return None
    return (
        f"the unchanged target (PostgreSQL {backed_up}) and the copy (PostgreSQL {copy.server_version}), "
        "object by object"
    )


def differences(record: BackupRecord, restored: Measurement) -> list[str]:
    """Each way the restored copy differs from what was recorded at backup time."""
    problems: list[str] = []
    if restored.schema_fingerprint != record.schema_fingerprint:
        kinds = sorted(set(record.inventory_counts) | set(restored.inventory_counts))
        changed = [
            f"{k} {record.inventory_counts.get(k, 0)} -> {restored.inventory_counts.get(k, 0)}"
            for k in kinds
            if k != "rows" and record.inventory_counts.get(k, 0) != restored.inventory_counts.get(k, 0)
        ]
        problems.append(
            "schema fingerprint differs"
            + (f" ({', '.join(changed)})" if changed else " (same counts, changed definitions)")
        )
    for name in sorted(set(record.row_counts) | set(restored.row_counts)):
        want, got = record.row_counts.get(name), restored.row_counts.get(name)
        if want is None:
            problems.append(f"table {name} was not in the backed-up target")
        elif got is None:
            problems.append(f"table {name} is missing ({want} rows expected)")
        elif want != got:
            problems.append(f"table {name} has {got} rows, expected {want}")
    if restored.large_objects != record.large_objects:
        problems.append(f"{restored.large_objects} large objects, expected {record.large_objects}")
    return problems
