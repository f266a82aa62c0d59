"""Backups proven restorable, and the "verified backup" gate.

* :func:`take.take_backup`: ``pg_dump --format=custom`` of a target plus the evidence to verify it;
* :func:`verify.verify_backup`: list, checksum, restore into a scratch database, compare;
* :data:`gate.VERIFIED_BACKUP`: the gate later phases ask before writing to a target;
* :mod:`restore`: the disaster-recovery ``pg_restore`` command (run by the tool on staging only).

The engine has no UI: long operations take a ``progress`` callback and a ``cancel`` event.
"""

from __future__ import annotations

from wizard.backup.errors import BackupError, BackupInterrupted, NoBackup, ToolNotFound, VerificationFailed
from wizard.backup.evidence import BackupRecord
from wizard.backup.gate import VERIFIED_BACKUP, check_verified_backup, evaluate, schema_fingerprint
from wizard.backup.take import BackupProgress, take_backup
from wizard.backup.verify import Verification, VerifyProgress, verify_backup

__all__ = [
    "VERIFIED_BACKUP",
    "BackupError",
    "BackupInterrupted",
    "BackupProgress",
    "BackupRecord",
    "NoBackup",
    "ToolNotFound",
    "Verification",
    "VerificationFailed",
    "VerifyProgress",
    "check_verified_backup",
    "evaluate",
    "schema_fingerprint",
    "take_backup",
    "verify_backup",
]
