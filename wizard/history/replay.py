"""Apply migration files, in version order, to a scratch database, as the Supabase CLI would.

Each file runs in its own transaction (a file with a statement that cannot run inside
one, such as ``CREATE INDEX CONCURRENTLY``, runs statement by statement); the first
failing statement stops the replay and is reported with file, statement, line and the
server's error.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from wizard.db.connect import open_session
from wizard.errors import MissingExtension
from wizard.history.files import MigrationFile

_MISSING_EXTENSION = [
    re.compile(r'extension "([^"]+)" is not available'),
    re.compile(r'could not open extension control file ".*/([^/"]+)\.control"'),
    re.compile(r'extension "([^"]+)" has no installation script'),
]


@dataclass(frozen=True)
class ReplayFailure:
    """Where and why a replay stopped."""

    file: str
    statement_index: int
    line: int
    statement: str
    sqlstate: str | None
    message: str
    detail: str | None = None
    hint: str | None = None
    missing_extension: str | None = None

    def describe(self) -> str:
        head = self.statement.splitlines()[0][:100] if self.statement else ""
        return f"{self.file}:{self.line}: statement {self.statement_index} ({head}) failed: {self.message}" + (
            f" [{self.sqlstate}]" if self.sqlstate else ""
        )


@dataclass
class ReplayResult:
    """What a replay applied, how long it took, and where it stopped if it failed."""

    applied: list[tuple[str, float]] = field(default_factory=list)
    failure: ReplayFailure | None = None
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None and not self.cancelled


def _missing_extension(message: str) -> str | None:
    for pattern in _MISSING_EXTENSION:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def missing_extension_error(name: str, server: str) -> MissingExtension:
    """The operator-facing error for an extension the shadow server lacks."""
    return MissingExtension(
        f"the shadow server ({server}) has no extension {name!r}, which the migrations create",
        f'point the shadow at a server that has {name}: [shadow] kind = "dsn", dsn_env = "SHADOW_DATABASE_URL" '
        "(for example a PostgreSQL with its contrib modules installed)",
    )


def replay(
    files: list[MigrationFile],
    dsn: str,
    progress: Callable[[MigrationFile, int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ReplayResult:
    """Apply ``files`` in order to the (scratch) database at ``dsn``.

    Args:
        files: Parsed migration files, already in version order.
        dsn: The scratch database; it is written to.
        progress: Called before each file with (file, position, total).
        cancel: When set, the replay stops between files.
    """
    result = ReplayResult()
    started = time.perf_counter()
    with open_session(dsn, read_only=False) as conn:
        for position, migration in enumerate(files, start=1):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            if progress:
                progress(migration, position, len(files))
            if migration.error:
                result.failure = ReplayFailure(migration.filename, 0, 0, "", None, migration.error)
                break
            file_started = time.perf_counter()
            failure = _apply(conn, migration)
            if failure:
                result.failure = failure
                break
            result.applied.append((migration.filename, time.perf_counter() - file_started))
    result.seconds = time.perf_counter() - started
    return result


def _apply(conn: psycopg.Connection, migration: MigrationFile) -> ReplayFailure | None:
    in_transaction = not any(s.needs_autocommit for s in migration.statements)
    if in_transaction:
        conn.execute("BEGIN")
    for stmt in migration.statements:
        try:
            conn.execute(stmt.text)
        except psycopg.Error as exc:
            if in_transaction:
                conn.execute("ROLLBACK")
            diag = exc.diag
            message = diag.message_primary or str(exc).strip()
            return ReplayFailure(
                file=migration.filename,
                statement_index=stmt.index,
                line=stmt.line,
                statement=stmt.text,
                sqlstate=exc.sqlstate,
                message=message,
                detail=diag.message_detail,
                hint=diag.message_hint,
                missing_extension=_missing_extension(f"{message} {diag.message_detail or ''}"),
            )
    if in_transaction:
        conn.execute("COMMIT")
    return None
