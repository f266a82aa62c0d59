"""Disaster recovery: the exact ``pg_restore`` command for the verified backup, and running it on staging.

The command restores in place, in one transaction::

    pg_restore --dbname='host=... dbname=...' --clean --if-exists --single-transaction \\
        --exit-on-error --no-password --verbose <backup>.dump

``--clean --if-exists`` drops each object of the backup before recreating it;
``--single-transaction`` with ``--exit-on-error`` makes it all-or-nothing: on any error the
database is left as it was. Objects created after the backup are not in it and are kept.
The password comes from ``PGPASSWORD`` or ``~/.pgpass``, never the command line.

Only a staging target may be restored by the tool (after the operator types the database
name); for production the command is printed for a human to run.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.backup import dumpdir
from wizard.backup.errors import BackupError, NoBackup
from wizard.backup.evidence import VERIFIED, BackupRecord, backups, measure, verifications
from wizard.backup.verify import differences
from wizard.db.connect import Identity, open_session, same_database
from wizard.errors import WizardError
from wizard.platform import tools
from wizard.project.config import Target
from wizard.state.journal import Journal

RESTORED = "rollback.restored"
RESTORE_FAILED = "rollback.restore_failed"


@dataclass(frozen=True)
class RestorePlan:
    """A disaster-recovery restore of one verified backup into its target."""

    record: BackupRecord
    file: Path
    tool: tools.PgTool
    argv: list[str]

    @property
    def command(self) -> str:
        """The command as a shell line (no password in it)."""
        return shlex.join(self.argv)


@dataclass
class RestoreOutcome:
    """What a restore did, and how the target compares with the backup afterwards."""

    plan: RestorePlan
    duration_s: float
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backup_path": self.plan.record.path,
            "sha256": self.plan.record.sha256,
            "command": self.plan.command,
            "duration_s": round(self.duration_s, 3),
            "matches_backup": not self.problems,
            "problems": self.problems,
        }


def restorable_backup(journal: Journal, project_root: Path) -> BackupRecord:
    """The newest backup that passed verification and is still intact on disk.

    Unlike the gate, age and schema changes do not matter here: a disaster restore is
    wanted precisely when the schema has changed.

    Raises:
        NoBackup: there is none, with the reason.
    """
    records = backups(journal)
    if not records:
        raise NoBackup("no backup of this target has been taken", "run consolidate backup first")
    for record in reversed(records):
        outcomes = verifications(journal, record)
        if not outcomes or outcomes[-1]["event"] != VERIFIED:
            continue
        path = record.file(project_root)
        if dumpdir.on_disk(path) == (record.size, record.sha256):
            return record
    raise NoBackup(
        "no verified backup of this target is intact on disk",
        "run consolidate backup, then consolidate verify-backup",
    )


def plan_restore(record: BackupRecord, target_dsn: str, project_root: Path) -> RestorePlan:
    """The pg_restore command that puts ``record`` back into the database at ``target_dsn``."""
    dumped_by = record.pg_dump.get("version", "0")
    tool = tools.find("pg_restore", int(dumped_by.split(".")[0]), purpose=f"the pg_dump {dumped_by} that wrote it")
    conninfo, _env = tools.child_env(target_dsn)
    file = record.file(project_root)
    argv = [
        str(tool.path),
        f"--dbname={conninfo}",
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        "--verbose",
        str(file),
    ]
    return RestorePlan(record, file, tool, argv)


def run_restore(
    plan: RestorePlan,
    target: Target,
    target_dsn: str,
    identity: Identity,
    typed_name: str,
    journal: Journal,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> RestoreOutcome:
    """Run the plan on a staging target, after the operator typed its database name.

    Raises:
        WizardError: the target is production, the typed name is wrong, or the backup is of another database.
        BackupError: pg_restore failed (its single transaction rolled back; nothing changed).
    """
    if target.is_production:
        raise WizardError(
            f"refusing to restore production target {target.name} from the tool",
            "run the printed pg_restore command yourself if you mean it",
        )
    if typed_name != identity.database:
        raise WizardError(
            f"the typed name {typed_name!r} is not the database name {identity.database!r}; nothing was restored",
            "type the database name exactly to confirm",
        )
    same, basis = same_database(plan.record.identity, identity)
    if not same:
        raise WizardError(
            f"backup {plan.record.path} is not of this database (compared by {basis}); nothing was restored",
            "restore a backup taken from this target",
        )
    _conninfo, env = tools.child_env(target_dsn)
    started = time.monotonic()
    run = tools.ToolRun(plan.argv, env, on_line=progress).start()
    code = run.wait(None, cancel)
    duration = time.monotonic() - started
    if code != 0:
        journal.append(RESTORE_FAILED, backup_path=plan.record.path, command=plan.command, error=run.first_error())
        raise BackupError(
            f"pg_restore failed (exit {code}): {run.first_error()}; its single transaction was rolled back",
            "fix the cause (objects created after the backup may depend on ones it drops) and run again",
        )
    with open_session(target_dsn) as conn:
        conn.execute("SET statement_timeout = 0")
        after = measure(conn)
    outcome = RestoreOutcome(plan, duration, differences(plan.record, after))
    journal.append(RESTORED, **outcome.to_dict())
    return outcome
