"""Errors the operator sees: one line that says what went wrong and how to fix it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_USAGE = 2


class WizardError(Exception):
    """An expected failure with a one-line message and the fix.

    Attributes:
        message: What went wrong, with secrets already removed.
        fix: What the operator should do about it.
        exit_code: The process exit code for the CLI.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


class ConfigError(WizardError):
    """consolidate.toml is missing, unreadable or invalid."""


class ConnectionFailed(WizardError):
    """A database could not be reached or refused us."""


class TableLocked(WizardError):
    """A read waited ``lock_timeout`` for a lock another session holds on a table; nothing was changed."""


class MissingHistoryTable(WizardError):
    """The target has no supabase_migrations.schema_migrations table."""


class MigrationFileError(WizardError):
    """A migration file cannot be read or parsed."""


class ReplayFailed(WizardError):
    """A migration file failed while replaying the history in a scratch database."""

    exit_code = EXIT_DIFFERENCES


class MissingExtension(WizardError):
    """The shadow server lacks an extension that a migration needs."""


class ShadowError(WizardError):
    """The scratch ("shadow") server could not be started or used."""
