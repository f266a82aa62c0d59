"""Phase 3: move the migration files the baseline supersedes into the archive folder.

The files to archive are those listed in the target's latest ``squash.generated`` event
(the files that existed when the baseline was generated), never the baseline itself.
Inside a git work tree each file moves with ``git mv``; elsewhere with a rename. A
manifest in the archive folder (``manifest.json``, and ``MANIFEST.md`` for people) maps
each archived file (version, name, sha256) to the baseline version.

Every step is idempotent: a run that died midway is finished by the next one, and
:func:`rollback_archive` puts every file back, checking its sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg

from wizard.backup.files import fsync_dir, sha256_file
from wizard.db.connect import scalar
from wizard.errors import EXIT_DIFFERENCES, WizardError
from wizard.history import files as migrations
from wizard.history import remote as history
from wizard.project.config import Config
from wizard.state import events, protocol
from wizard.state.journal import Journal, atomic_write

MANIFEST_JSON = "manifest.json"
MANIFEST_MD = "MANIFEST.md"
MANIFEST_FORMAT = 1
#: Where Phase 4 moves the history rows of archived versions (same schema as the history table).
HISTORY_ARCHIVE_TABLE = "schema_migrations_archive"
_FILE_MODE = 0o644

Progress = Callable[[str], None]


class ArchiveRefused(WizardError):
    """Archiving (or its rollback) would lose or overwrite something; nothing was moved."""

    exit_code = EXIT_DIFFERENCES


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes."""
    return sha256_file(path)


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(path, root)


def phase(journal: Journal, key: str) -> protocol.PhaseState:
    """The state of the protocol phase ``key`` (``archive``, ``record``…) in ``journal``."""
    spec = next(s for s in protocol.PHASES if s.key == key)
    return protocol.phase_state(spec, journal.events())


# --- the baseline and its proof, as the journal records them ---------------------------------


@dataclass(frozen=True)
class Baseline:
    """The consolidated baseline of the latest ``squash.generated`` event.

    Attributes:
        path: The file, relative to the project root.
        superseded: ``{file, version, sha256}`` of every file the baseline replaces.
        seq: The journal sequence number of the event.
    """

    path: str
    version: str
    sha256: str
    superseded: tuple[dict[str, str], ...]
    seq: int

    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def cli_name(self) -> str:
        """The ``name`` the Supabase CLI records for the file (what follows the version)."""
        match = migrations.CLI_PATTERN.match(self.filename)
        return match.group(2) if match else self.filename

    def file(self, root: Path) -> Path:
        return root / self.path

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "version": self.version, "sha256": self.sha256}


def current_baseline(journal: Journal) -> Baseline | None:
    """The baseline the target's journal last recorded as generated, if any."""
    record = journal.last(events.SQUASH_GENERATED)
    if record is None:
        return None
    superseded = record.get("superseded") or record.get("superseded_files") or []
    return Baseline(
        path=str(record["path"]),
        version=str(record["version"]),
        sha256=str(record["sha256"]),
        superseded=tuple(dict(s) for s in superseded),
        seq=int(record["seq"]),
    )


def require_baseline(journal: Journal, target: str) -> Baseline:
    """:func:`current_baseline`, or a refusal naming the command that makes one."""
    baseline = current_baseline(journal)
    if baseline is None:
        raise ArchiveRefused(
            f"no consolidated baseline has been generated for target {target}",
            f"run consolidate squash --target {target} first",
        )
    return baseline


def proof_of(journal: Journal, baseline: Baseline) -> dict[str, Any] | None:
    """The latest proof outcome (proved or failed) recorded for ``baseline``.

    A proof names the baseline by its sha256; a proof without one counts for the
    baseline generated before it.
    """
    found = None
    for record in journal.events():
        if record.get("event") not in (events.SQUASH_PROVED, events.SQUASH_PROOF_FAILED):
            continue
        sha = record.get("sha256") or record.get("baseline_sha256")
        if sha == baseline.sha256 or (sha is None and record["seq"] > baseline.seq):
            found = record
    return found


def baseline_problems(journal: Journal, baseline: Baseline, root: Path) -> list[str]:
    """Why ``baseline`` cannot be relied on: missing, changed since generated, or not proved."""
    path = baseline.file(root)
    if not path.is_file():
        return [f"the baseline {baseline.path} no longer exists"]
    digest = sha256_of(path)
    if digest != baseline.sha256:
        return [
            f"the baseline {baseline.path} changed since it was generated "
            f"(sha256 {digest[:12]}… now, {baseline.sha256[:12]}… then)"
        ]
    proof = proof_of(journal, baseline)
    if proof is None:
        return [f"the baseline {baseline.path} has not been proved (no 100 % parity proof in the journal)"]
    if proof["event"] == events.SQUASH_PROOF_FAILED:
        reason = proof.get("reason") or proof.get("error") or "parity below 100 %"
        return [f"the proof of the baseline {baseline.path} failed at {proof.get('ts')}: {reason}"]
    # Both proofs: the target reproduced, and a fresh environment from the new folder equal to one from the history.
    fresh = proof.get("fresh")
    if not isinstance(fresh, dict):
        return [
            f"the proof of the baseline {baseline.path} at {proof.get('ts')} has no fresh-environment proof "
            "(run consolidate squash again)"
        ]
    if not fresh.get("ok"):
        return [f"the fresh environments of the baseline {baseline.path} differ: {fresh.get('reason')}"]
    return []


# --- git -------------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise WizardError("git is not installed", "install git, or archive outside a git work tree") from None


def _git_ok(root: Path, *args: str) -> str:
    proc = _git(root, *args)
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip() or f"exit code {proc.returncode}").splitlines()[0]
        raise WizardError(f"git {' '.join(args)} failed: {detail}", "fix the repository state and run again")
    return proc.stdout


def in_git_work_tree(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree (``git rev-parse --is-inside-work-tree``)."""
    try:
        proc = _git(root, "rev-parse", "--is-inside-work-tree")
    except WizardError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def _git_tracked(root: Path, path: Path) -> bool:
    return _git(root, "ls-files", "--error-unmatch", "--", _rel(path, root)).returncode == 0


def uncommitted(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """File name -> why it is not committed as it is (git status code, or untracked)."""
    paths = list(paths)
    if not paths:
        return {}
    rels = [_rel(p, root) for p in paths]
    names = {p.name for p in paths}
    found: dict[str, str] = {}
    tokens = _git_ok(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *rels).split("\0")
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if len(token) < 4:
            continue
        code, name = token[:2], PurePosixPath(token[3:]).name
        if code[0] in "RC":
            position += 1  # the rename's origin follows
        if name in names:
            found[name] = "untracked" if code == "??" else f"git status {code.strip()}"
    tracked = {PurePosixPath(line).name for line in _git_ok(root, "ls-files", "-z", "--", *rels).split("\0") if line}
    for name in sorted(names - tracked):
        found.setdefault(name, "not tracked by git")
    return found


def _move(root: Path, source: Path, destination: Path, git: bool) -> None:
    """Move one file (``git mv`` inside a work tree), then make the move durable."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if git:
        _git_ok(root, "mv", "--", _rel(source, root), _rel(destination, root))
    else:
        os.replace(source, destination)
    for folder in {source.parent, destination.parent}:
        fsync_dir(folder)


def _remove(root: Path, path: Path, git: bool) -> None:
    if not path.exists():
        return
    if git and _git_tracked(root, path):
        _git_ok(root, "rm", "-q", "-f", "--", _rel(path, root))
    else:
        path.unlink()


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveItem:
    """One superseded file and where it is (``moved``: already in the archive folder)."""

    version: str
    name: str
    sha256: str
    source: Path
    destination: Path
    moved: bool

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "sha256": self.sha256, "moved": self.moved}


@dataclass
class ArchivePlan:
    """What ``archive`` will do, and why it would refuse (``problems``)."""

    root: Path
    migrations_dir: Path
    archive_dir: Path
    baseline: Baseline
    items: list[ArchiveItem]
    git: bool
    problems: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[ArchiveItem]:
        return [i for i in self.items if not i.moved]

    @property
    def manifest_path(self) -> Path:
        return self.archive_dir / MANIFEST_JSON

    def manifest(self) -> dict[str, Any]:
        """The manifest's content: deterministic, so every run and every target writes the same bytes."""
        return {
            "format": MANIFEST_FORMAT,
            "description": "migration files superseded by a consolidated baseline (consolidation-wizard)",
            "baseline": {"version": self.baseline.version, "file": self.baseline.path, "sha256": self.baseline.sha256},
            "migrations_dir": _rel(self.migrations_dir, self.root),
            "files": [
                {"version": i.version, "name": i.name, "sha256": i.sha256, "baseline_version": self.baseline.version}
                for i in self.items
            ],
        }

    def manifest_bytes(self) -> bytes:
        return (json.dumps(self.manifest(), indent=2) + "\n").encode("utf-8")

    def manifest_markdown(self) -> bytes:
        b = self.baseline
        lines = [
            "# Archived migrations",
            "",
            f"These {len(self.items)} migration files were superseded by the consolidated baseline",
            f"`{b.path}` (version {b.version}, sha256 `{b.sha256}`).",
            "The Supabase CLI no longer runs them; they are kept for the record.",
            "Written by `consolidate archive`; `consolidate rollback archive` puts them back.",
            "",
            "| version | file | sha256 | baseline |",
            "|---|---|---|---|",
            *(f"| {i.version} | {i.name} | `{i.sha256}` | {b.version} |" for i in self.items),
            "",
        ]
        return "\n".join(lines).encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.to_dict(),
            "archive_dir": _rel(self.archive_dir, self.root),
            "git": self.git,
            "files": [i.to_dict() for i in self.items],
            "problems": self.problems,
        }


def applied_versions(conn: psycopg.Connection) -> set[str]:
    """Versions the target's history records as applied, including rows Phase 4 moved to the archive table."""
    versions = set(history.read(conn).versions)
    exists = scalar(
        conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{history.HISTORY_SCHEMA}.{HISTORY_ARCHIVE_TABLE}",))
    )
    if exists:
        rows = conn.execute(f"SELECT version::text FROM {history.HISTORY_SCHEMA}.{HISTORY_ARCHIVE_TABLE}").fetchall()
        versions.update(r[0] for r in rows)
    return versions


def _locate(name: str, sha: str, source: Path, destination: Path) -> tuple[bool | None, str | None]:
    """(moved?, problem) for one superseded file."""
    at_source, at_destination = source.is_file(), destination.is_file()
    if at_source and at_destination:
        return None, f"{name} is both in the migrations folder and in the archive folder"
    if at_source:
        digest = sha256_of(source)
        if digest != sha:
            return None, f"{name} changed since the baseline was generated (sha256 {digest[:12]}…, was {sha[:12]}…)"
        return False, None
    if at_destination:
        digest = sha256_of(destination)
        if digest != sha:
            return None, f"{name} is in the archive folder with sha256 {digest[:12]}…, not {sha[:12]}…"
        return True, None
    return None, f"{name} is neither in the migrations folder nor in the archive folder"


def plan_archive(config: Config, journal: Journal, applied: Collection[str]) -> ArchivePlan:
    """What Phase 3 will move for the journal's baseline, given the versions applied on the target.

    Raises:
        ArchiveRefused: no baseline was generated.
    """
    baseline = require_baseline(journal, journal.path.parent.name)
    root = config.root
    git = in_git_work_tree(root)
    problems = baseline_problems(journal, baseline, root)
    items: list[ArchiveItem] = []
    for entry in baseline.superseded:
        name = PurePosixPath(str(entry["file"])).name
        if name == baseline.filename:
            continue
        source, destination = config.migrations_dir / name, config.archive_dir / name
        moved, problem = _locate(name, str(entry["sha256"]), source, destination)
        if problem:
            problems.append(problem)
        items.append(ArchiveItem(str(entry["version"]), name, str(entry["sha256"]), source, destination, bool(moved)))
    items.sort(key=lambda i: (int(i.version), i.name))
    never = [i.name for i in items if i.version not in applied]
    if never:
        problems.append(f"never applied on the target, archiving would lose an unapplied change: {', '.join(never)}")
    planned = {i.name for i in items}
    if config.migrations_dir.is_dir():
        # By name alone: parsing every file of the folder (discover) would tell nothing more here.
        names = sorted(p.name for p in config.migrations_dir.glob("*.sql") if p.is_file())
        left = [n for n in names if migrations.skipped_version(n) and n not in planned]
        if left:
            problems.append(
                f"the Supabase CLI skips {', '.join(left)} ({migrations.CLI_RULE}) and the target never recorded "
                "it: rename it <timestamp>_name.sql and apply it, or move it out of the migrations folder"
            )
    plan = ArchivePlan(root, config.migrations_dir, config.archive_dir, baseline, items, git, problems)
    if git:
        dirty = uncommitted(root, [i.source for i in plan.pending if i.source.exists()])
        if dirty:
            listed = ", ".join(f"{name} ({why})" for name, why in sorted(dirty.items()))
            problems.append(f"uncommitted changes in the work tree: {listed}")
    if plan.manifest_path.exists() and plan.manifest_path.read_bytes() != plan.manifest_bytes():
        problems.append(f"{_rel(plan.manifest_path, root)} already holds another manifest (an earlier consolidation?)")
    return plan


# --- doing it --------------------------------------------------------------------------------


@dataclass
class ArchiveResult:
    """What a run of :func:`archive` or :func:`rollback_archive` did."""

    files: list[dict[str, Any]]
    moved_now: list[str]
    manifest_sha256: str | None
    record: dict[str, Any] | None  # the journal record written, or None when there was nothing to do

    @property
    def already_done(self) -> bool:
        return self.record is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "moved_now": self.moved_now,
            "manifest_sha256": self.manifest_sha256,
            "already_done": self.already_done,
            "seq": self.record["seq"] if self.record else None,
        }


def _refuse(problems: list[str], fix: str) -> None:
    if problems:
        raise ArchiveRefused("; ".join(problems), fix)


def archive(plan: ArchivePlan, journal: Journal, progress: Progress | None = None) -> ArchiveResult:
    """Write the manifest, move every pending file, verify, and journal ``archive.done``.

    Raises:
        ArchiveRefused: the plan has problems (nothing is moved).
    """
    _refuse(plan.problems, "resolve the files named above, then run consolidate archive again")
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    root = plan.root
    plan.archive_dir.mkdir(parents=True, exist_ok=True)
    manifest = plan.manifest_bytes()
    for path, data in ((plan.manifest_path, manifest), (plan.archive_dir / MANIFEST_MD, plan.manifest_markdown())):
        if not path.exists() or path.read_bytes() != data:
            atomic_write(path, data, mode=_FILE_MODE)
        if plan.git:
            _git_ok(root, "add", "--", _rel(path, root))
    moved_now = []
    for item in plan.pending:
        say(f"moving {item.name}")
        _move(root, item.source, item.destination, plan.git)
        moved_now.append(item.name)
    bad = [i.name for i in plan.items if i.source.exists() or sha256_of(i.destination) != i.sha256]
    if bad:
        raise WizardError(f"archived files failed the hash check: {', '.join(bad)}", "inspect the archive folder")
    digest = hashlib.sha256(manifest).hexdigest()
    files = [{"version": i.version, "name": i.name, "sha256": i.sha256} for i in plan.items]
    last = phase(journal, "archive").record
    if not moved_now and last and last["event"] == events.ARCHIVE_DONE and last.get("manifest_sha256") == digest:
        return ArchiveResult(files, [], digest, None)
    record = journal.append(
        events.ARCHIVE_DONE,
        baseline=plan.baseline.to_dict(),
        archive_dir=_rel(plan.archive_dir, root),
        manifest=_rel(plan.manifest_path, root),
        manifest_sha256=digest,
        files=files,
        moved_now=moved_now,
        git=plan.git,
        duration_s=round(time.monotonic() - started, 3),
    )
    return ArchiveResult(files, moved_now, digest, record)


def archived_problems(config: Config, record: dict[str, Any]) -> list[str]:
    """Why the files of an ``archive.done`` record are not (or no longer) archived as recorded."""
    manifest = config.root / record["manifest"]
    if not manifest.is_file():
        return [f"the manifest {record['manifest']} is missing"]
    if sha256_of(manifest) != record["manifest_sha256"]:
        return [f"the manifest {record['manifest']} changed since it was written"]
    problems = []
    for entry in record["files"]:
        moved, problem = _locate(
            entry["name"], entry["sha256"], config.migrations_dir / entry["name"], config.archive_dir / entry["name"]
        )
        if problem or not moved:
            problems.append(problem or f"{entry['name']} is back in the migrations folder")
    return problems


def rollback_archive(config: Config, journal: Journal, progress: Progress | None = None) -> ArchiveResult:
    """Move every archived file back, check each sha256, remove the manifest; journal ``archive.rolled_back``.

    Raises:
        ArchiveRefused: a target still records the baseline (roll Phase 4 back first), or a
            file is missing or changed (nothing is moved).
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    recorded = []
    for name in sorted(config.targets):
        if phase(Journal.for_target(config.state_dir, name), "record").status == protocol.DONE:
            recorded.append(name)
    if recorded:
        raise ArchiveRefused(
            f"the baseline is still recorded on target(s) {', '.join(recorded)} (Phase 4 done)",
            f"run consolidate rollback record --target {recorded[0]} first: rollbacks go in reverse order",
        )
    root = config.root
    manifest_path = config.archive_dir / MANIFEST_JSON
    last = phase(journal, "archive").record
    if manifest_path.is_file():
        manifest_sha = sha256_of(manifest_path)
        files = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    elif last and last["event"] == events.ARCHIVE_DONE:
        manifest_sha, files = last["manifest_sha256"], last["files"]  # a rollback that died after removing it
    else:
        return ArchiveResult([], [], None, None)
    git = in_git_work_tree(root)
    pending, problems = [], []
    for entry in files:
        name, sha = entry["name"], entry["sha256"]
        moved, problem = _locate(name, sha, config.migrations_dir / name, config.archive_dir / name)
        if problem:
            problems.append(problem)
        elif moved:
            pending.append(entry)
    _refuse(problems, "restore the named files (or their archived copies) and run the rollback again")
    moved_now = []
    for entry in pending:
        say(f"restoring {entry['name']}")
        _move(root, config.archive_dir / entry["name"], config.migrations_dir / entry["name"], git)
        moved_now.append(entry["name"])
    bad = [e["name"] for e in files if sha256_of(config.migrations_dir / e["name"]) != e["sha256"]]
    if bad:
        raise WizardError(f"restored files failed the hash check: {', '.join(bad)}", "inspect the migrations folder")
    for path in (config.archive_dir / MANIFEST_MD, manifest_path):  # the manifest last: a rerun still finds it
        _remove(root, path, git)
    if config.archive_dir.is_dir() and not any(config.archive_dir.iterdir()):
        config.archive_dir.rmdir()
    checked = [{"version": e["version"], "name": e["name"], "sha256": e["sha256"]} for e in files]
    if not moved_now and last and last["event"] == events.ARCHIVE_ROLLED_BACK:
        return ArchiveResult(checked, [], manifest_sha, None)
    record = journal.append(
        events.ARCHIVE_ROLLED_BACK,
        manifest_sha256=manifest_sha,
        files=checked,
        moved_now=moved_now,
        git=git,
        duration_s=round(time.monotonic() - started, 3),
    )
    return ArchiveResult(checked, moved_now, manifest_sha, record)
