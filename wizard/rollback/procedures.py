"""Which of the seed's rollback procedures apply to a target now, and running them.

The seed names three, and each applies only in some states (read from the journals):

* ``record`` (seed 2, "Production Rollback"): delete the baseline row from the history and
  move the archived rows back, one transaction. Applies when Phase 4 is done.
* ``archive`` (seed 1, "Immediate Rollback"): put every archived file back. Applies when
  Phase 3 is done and no target still records the baseline (rollbacks go in reverse order).
* ``restore`` (seed 3, "Disaster Recovery"): ``pg_restore`` of the newest verified, intact
  backup. Applies when there is one; the tool runs it on a staging target only, after the
  operator typed the database name; for production it shows the command.

Nothing here imports a UI; the execution functions call the engine modules that own each undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from wizard import record
from wizard.archive import phase as archive
from wizard.backup import restore
from wizard.backup.errors import NoBackup
from wizard.db.connect import Identity
from wizard.inspect import inventory
from wizard.project.config import Config, Target
from wizard.record.gates import CONFIRMED_NAME
from wizard.squash.undo import SquashUndo
from wizard.squash.undo import undo_squash as squash_undo
from wizard.state import events, protocol
from wizard.state.journal import Journal

TYPE_NAME = "type-name"
YES = "yes"


@dataclass(frozen=True)
class RollbackOption:
    """One rollback procedure and whether it applies now.

    Attributes:
        key: ``record``, ``archive`` or ``restore``.
        applies: Whether it can be offered in the current state.
        reason: Why it applies (what it would undo) or why not.
        confirm: ``type-name`` (type the database name) or ``yes``.
        runs: False when the tool only shows the command (restoring production).
    """

    key: str
    title: str
    seed: str
    applies: bool
    reason: str
    confirm: str = YES
    runs: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "applies": self.applies,
            "reason": self.reason,
            "confirm": self.confirm,
            "runs": self.runs,
        }


def _state(journal: Journal, key: str) -> protocol.PhaseState:
    return next(s for s in protocol.states(journal) if s.key == key)


def options(config: Config, target: Target, journal: Journal) -> list[RollbackOption]:
    """Every rollback of the seed, in the order they must run, each with whether it applies now."""
    found: list[RollbackOption] = []
    recorded = _state(journal, "record")
    if recorded.status == protocol.DONE and recorded.record:
        reason = f"Phase 4 recorded baseline {recorded.record.get('version')} at {recorded.record.get('ts')}"
        found.append(
            RollbackOption("record", "Undo Phase 4 (history row)", "Production Rollback", True, reason, TYPE_NAME)
        )
    else:
        found.append(
            RollbackOption("record", "Undo Phase 4 (history row)", "Production Rollback", False, "Phase 4 is not done")
        )
    archived = _state(journal, "archive")
    still_recorded = [
        name
        for name in sorted(config.targets)
        if _state(Journal.for_target(config.state_dir, name), "record").status == protocol.DONE
    ]
    if archived.status != protocol.DONE:
        found.append(
            RollbackOption("archive", "Undo Phase 3 (files back)", "Immediate Rollback", False, "Phase 3 is not done")
        )
    elif still_recorded:
        found.append(
            RollbackOption(
                "archive",
                "Undo Phase 3 (files back)",
                "Immediate Rollback",
                False,
                f"the baseline is still recorded on {', '.join(still_recorded)}: undo Phase 4 there first",
            )
        )
    else:
        files = len((archived.record or {}).get("files", []))
        found.append(
            RollbackOption(
                "archive",
                "Undo Phase 3 (files back)",
                "Immediate Rollback",
                True,
                f"{files} archived file(s) go back to the migrations folder, each sha256 checked",
            )
        )
    found.append(_squash_option(config, journal, still_archived(config)))
    try:
        backup = restore.restorable_backup(journal, config.root)
    except NoBackup as exc:
        found.append(
            RollbackOption("restore", "Disaster recovery (pg_restore)", "Disaster Recovery", False, exc.message)
        )
    else:
        how = (
            "shows the pg_restore command (the tool never restores production)"
            if target.is_production
            else ("restores in one transaction; objects made after the backup are kept")
        )
        found.append(
            RollbackOption(
                "restore",
                "Disaster recovery (pg_restore)",
                "Disaster Recovery",
                True,
                f"backup {backup.path} taken {backup.finished_at}: {how}",
                TYPE_NAME if not target.is_production else YES,
                runs=not target.is_production,
            )
        )
    return found


def applicable(config: Config, target: Target, journal: Journal) -> list[RollbackOption]:
    """Only the rollbacks that apply now."""
    return [o for o in options(config, target, journal) if o.applies]


def undo_record(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    ident: Identity,
    journal: Journal,
    dsn: str,
    typed_name: str,
) -> record.RecordOutcome:
    """Undo Phase 4 as ``consolidate rollback record --confirm NAME`` does.

    Raises:
        RecordRefused: the typed name is wrong, or the history is not as recorded.
    """
    plan = record.plan_rollback(config, target, conn, ident, journal)
    before = inventory.take(conn, ident)
    gates = [CONFIRMED_NAME(typed_name, ident)]
    return record.commit_rollback(plan, dsn, journal, before, gates)


def rollback_sql(config: Config, target: Target, conn: psycopg.Connection, ident: Identity, journal: Journal) -> str:
    """The exact SQL that undoing Phase 4 would run."""
    return record.plan_rollback(config, target, conn, ident, journal).render()


def still_archived(config: Config) -> list[str]:
    """Targets whose Phase 3 is done (the archive folder is shared by all of them)."""
    return [
        name
        for name in sorted(config.targets)
        if _state(Journal.for_target(config.state_dir, name), "archive").status == protocol.DONE
    ]


def _squash_option(config: Config, journal: Journal, archived: list[str]) -> RollbackOption:
    title, seed = "Undo Phase 2 (baseline file out)", "Immediate Rollback"
    generated = journal.last(events.SQUASH_GENERATED)
    squashed = _state(journal, "squash")
    if generated is None or squashed.status == protocol.ROLLED_BACK or not (config.root / generated["path"]).exists():
        return RollbackOption("squash", title, seed, False, "no baseline of Phase 2 is in the migrations folder")
    if archived:
        reason = f"the files it supersedes are archived on {', '.join(archived)}: undo Phase 3 first"
        return RollbackOption("squash", title, seed, False, reason)
    return RollbackOption(
        "squash", title, seed, True, f"{generated['path']} leaves the migrations folder (sha256 checked)"
    )


def undo_squash(config: Config, journal: Journal) -> SquashUndo:
    """Undo Phase 2 (:func:`wizard.squash.undo.undo_squash`)."""
    return squash_undo(config, journal)


def undo_archive(config: Config, journal: Journal, progress: Any = None) -> archive.ArchiveResult:
    """Undo Phase 3 (:func:`wizard.archive.phase.rollback_archive`)."""
    return archive.rollback_archive(config, journal, progress)


def restore_plan(config: Config, journal: Journal, dsn: str) -> restore.RestorePlan:
    """The disaster-recovery ``pg_restore`` command for the newest verified, intact backup."""
    return restore.plan_restore(restore.restorable_backup(journal, config.root), dsn, config.root)
