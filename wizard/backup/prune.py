"""Where a target's backups live, how much space they take, and pruning the old ones.

Pruning never removes a backup the protocol still relies on: the one the verified-backup
gate judges (the newest whose latest verification passed: while the gate holds, it is the
one it relies on) and the one ``rollback restore`` would use (the newest verified backup
still intact on disk). Only files the journal recorded (``backup.taken``) are candidates;
each removal is journaled as ``backup.pruned``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wizard.backup import files
from wizard.backup.errors import NoBackup
from wizard.backup.evidence import BackupRecord, backups
from wizard.backup.gate import judged_backup
from wizard.backup.restore import restorable_backup
from wizard.project.config import Config, Target
from wizard.state import events
from wizard.state.journal import Journal

#: Newest backups kept by default, besides the protected ones.
DEFAULT_KEEP = 1


@dataclass(frozen=True)
class BackupUsage:
    """The backup directory of one target.

    Attributes:
        directory: Relative to the project root.
        files: Complete dumps in it (recorded or not) with their sizes, oldest name first.
    """

    directory: str
    files: list[tuple[str, int]]

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"directory": self.directory, "files": len(self.files), "total_bytes": self.total_bytes}


def usage(config: Config, target: Target) -> BackupUsage:
    """The target's backup directory and its dumps (nothing is created)."""
    directory = config.state_dir / "backups" / target.name
    found = [(os.path.relpath(p, config.root), files.size_on_disk(p)) for p in files.dump_files(directory)]
    return BackupUsage(os.path.relpath(directory, config.root), found)


def protected(journal: Journal, project_root: Path) -> dict[str, str]:
    """Backups that must stay, by path: the one the gate judges and the one a disaster restore would use."""
    kept: dict[str, str] = {}
    chosen = judged_backup(journal)
    if chosen is not None:
        kept[chosen.path] = "the verified-backup gate relies on it"
    try:
        restorable = restorable_backup(journal, project_root)
    except NoBackup:
        restorable = None
    if restorable is not None:
        kept.setdefault(restorable.path, "rollback restore would use it (newest verified backup intact on disk)")
    return kept


@dataclass(frozen=True)
class PruneDecision:
    """One recorded backup still on disk, and whether prune-backups removes it."""

    record: BackupRecord
    remove: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.record.path, "size": self.record.size, "remove": self.remove, "reason": self.reason}


def plan_prune(
    journal: Journal,
    project_root: Path,
    *,
    keep: int = DEFAULT_KEEP,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> list[PruneDecision]:
    """For each recorded backup still on disk, newest first: keep it or remove it.

    A backup is kept when it is protected (:func:`protected`), among the newest ``keep``, or
    younger than ``older_than``; every other one is removed.
    """
    now = now or datetime.now(UTC)
    kept = protected(journal, project_root)
    on_disk = [r for r in reversed(backups(journal)) if files.is_dump(r.file(project_root))]
    decisions = []
    for rank, record in enumerate(on_disk):
        age = now - record.taken_at
        if record.path in kept:
            decisions.append(PruneDecision(record, False, kept[record.path]))
        elif rank < keep:
            decisions.append(PruneDecision(record, False, f"one of the newest {keep}"))
        elif older_than is not None and age < older_than:
            decisions.append(PruneDecision(record, False, f"{age.total_seconds() / 3600:.1f} h old, not older"))
        else:
            decisions.append(PruneDecision(record, True, f"older backup, {age.total_seconds() / 3600:.1f} h old"))
    return decisions


def prune(config: Config, target: Target, journal: Journal, decisions: list[PruneDecision]) -> list[dict[str, Any]]:
    """Remove the files ``decisions`` mark for removal (under the backup lock); journal ``backup.pruned`` each."""
    directory = files.backup_dir(config.state_dir, target.name)
    removed = []
    with files.locked(directory, "prune"):
        still = protected(journal, config.root)  # a verification may have finished since the plan
        for decision in decisions:
            record = decision.record
            path = record.file(config.root)
            if not decision.remove or record.path in still or not files.is_dump(path):
                continue
            if path.is_dir():
                # Renamed first: a directory half removed must never look like a complete backup.
                doomed = files.partial_path(path)
                os.rename(path, doomed)
                files.fsync_dir(path.parent)
                files.remove_partial(doomed)
            else:
                path.unlink()
            files.fsync_dir(path.parent)
            removed.append(
                journal.append(
                    events.BACKUP_PRUNED,
                    path=record.path,
                    size=record.size,
                    sha256=record.sha256,
                    taken_seq=record.seq,
                    reason=decision.reason,
                )
            )
    return removed
