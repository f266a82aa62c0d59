"""Phase 3: move the migration files the baseline supersedes into the archive folder.

What it changes: local files only (``git mv`` into ``supabase/migrations_archive/`` with a
manifest of names and sha256). What it checks first: the baseline is proved and unchanged, every
superseded file is applied on the target and committed in git. :func:`rollback_archive` puts every
file back byte for byte.
"""

from wizard.archive.phase import (
    HISTORY_ARCHIVE_TABLE,
    ArchivePlan,
    ArchiveRefused,
    ArchiveResult,
    archive,
    plan_archive,
    rollback_archive,
)

__all__ = [
    "HISTORY_ARCHIVE_TABLE",
    "ArchivePlan",
    "ArchiveRefused",
    "ArchiveResult",
    "archive",
    "plan_archive",
    "rollback_archive",
]
