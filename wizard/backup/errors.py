"""Errors raised by the backup engine; each is one line with its fix."""

from __future__ import annotations

from wizard.errors import EXIT_DIFFERENCES, WizardError
from wizard.platform.tools import ToolInterrupted, ToolNotFound

__all__ = [
    "BackupError",
    "BackupInterrupted",
    "NoBackup",
    "ToolInterrupted",
    "ToolNotFound",
    "VerificationFailed",
]

EXIT_INTERRUPTED = 130


class BackupError(WizardError):
    """A backup could not be taken (pg_dump failed, no space, no suitable tool)."""


class BackupInterrupted(BackupError, ToolInterrupted):
    """The operator interrupted a backup or restore; partial files were removed."""

    exit_code = EXIT_INTERRUPTED


class NoBackup(BackupError):
    """There is no recorded backup to work with."""


class VerificationFailed(WizardError):
    """A backup failed one verification step.

    Attributes:
        step: The step that failed (``list``, ``checksum``, ``restore``, ``match``).
    """

    exit_code = EXIT_DIFFERENCES

    def __init__(self, step: str, message: str, fix: str = "") -> None:
        super().__init__(message, fix)
        self.step = step
