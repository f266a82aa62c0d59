"""The remote migration history: ``supabase_migrations.schema_migrations`` on a target."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from wizard.errors import MissingHistoryTable

HISTORY_SCHEMA = "supabase_migrations"
HISTORY_TABLE = "schema_migrations"


@dataclass(frozen=True)
class AppliedMigration:
    """A row of the history table (columns vary by Supabase CLI version)."""

    version: str
    name: str | None = None
    statement_count: int | None = None


@dataclass
class History:
    """The remote history and how it lines up with the local files."""

    columns: list[str]
    applied: list[AppliedMigration]
    applied_not_local: list[str] = field(default_factory=list)
    local_not_applied: list[str] = field(default_factory=list)

    @property
    def versions(self) -> list[str]:
        return [a.version for a in self.applied]

    @property
    def in_sync(self) -> bool:
        return not self.applied_not_local and not self.local_not_applied


def columns(conn: psycopg.Connection) -> list[str] | None:
    """Columns of the history table in order, or None when it does not exist."""
    rows = conn.execute(
        """SELECT a.attname FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""",
        (HISTORY_SCHEMA, HISTORY_TABLE),
    ).fetchall()
    return [r[0] for r in rows] or None


def read(conn: psycopg.Connection, local_versions: list[str] | None = None) -> History:
    """Read the history table and compare it with ``local_versions``.

    Raises:
        MissingHistoryTable: the table is absent or has no ``version`` column.
    """
    cols = columns(conn)
    if cols is None:
        raise MissingHistoryTable(
            f"the target has no {HISTORY_SCHEMA}.{HISTORY_TABLE} table (no migration was ever recorded)",
            "check that --target names the right database; a project never pushed with the "
            "Supabase CLI has no remote history to consolidate",
        )
    if "version" not in cols:
        raise MissingHistoryTable(
            f"{HISTORY_SCHEMA}.{HISTORY_TABLE} has no version column (columns: {', '.join(cols)})",
            "this is not a Supabase CLI history table; check the target",
        )
    name = "name" if "name" in cols else "NULL::text"
    count = "coalesce(array_length(statements, 1), 0)" if "statements" in cols else "NULL::int"
    rows = conn.execute(
        f"SELECT version::text, {name}, {count} FROM {HISTORY_SCHEMA}.{HISTORY_TABLE} ORDER BY version"
    ).fetchall()
    applied = [AppliedMigration(r[0], r[1], r[2]) for r in rows]
    history = History(cols, applied)
    if local_versions is not None:
        remote = set(history.versions)
        local = set(local_versions)
        history.applied_not_local = sorted(remote - local)
        history.local_not_applied = sorted(local - remote)
    return history
