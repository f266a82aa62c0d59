"""Apply migration files, in version order, to a scratch database, as the Supabase CLI 2.x does.

As ``supabase db push`` (checked against the CLI 2.117 itself, see ``tests/test_cli_oracle.py``):

* the history table ``supabase_migrations.schema_migrations (version, statements, name)`` is
  created when missing, and each file's row (its version, name and statements) is written with it;
* session settings are reset before every file (``RESET ALL``);
* a file and its history row are one transaction; a statement that cannot run in one
  (``CREATE INDEX CONCURRENTLY``, ``DROP INDEX CONCURRENTLY``, ``REINDEX ... CONCURRENTLY``,
  ``VACUUM``, ``ALTER SYSTEM``, ``CLUSTER``) commits what ran before it, runs alone, and the
  rest of the file follows in a new transaction;
* a file with its own transaction control (``BEGIN``/``COMMIT``...), or whose first line is
  ``-- pg-delta: transaction=false``, runs statement by statement, then its history row.

The first failing statement stops the replay and is reported with file, statement, line and
the server's error; earlier files stay applied.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from wizard.db.connect import open_session
from wizard.errors import MissingExtension
from wizard.history.files import MigrationFile, Statement

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
        ensure_history_table(conn)
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


#: The CLI's history table, as ``supabase db push`` creates it.
HISTORY_DDL = (
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
    "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY)",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
)
HISTORY_INSERT = "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES (%s, %s, %s)"
_TRANSACTION_CONTROL = re.compile(
    r"^(BEGIN|START\s+TRANSACTION|COMMIT|END|ABORT|PREPARE\s+TRANSACTION|ROLLBACK(?!\s+(WORK\s+|TRANSACTION\s+)?TO\b))\b",
    re.I,
)
_NO_TRANSACTION_DIRECTIVE = "-- pg-delta: transaction=false"


def ensure_history_table(conn: psycopg.Connection) -> None:
    """Create the CLI's history table when missing (as ``supabase db push`` does)."""
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '4s'")
        for statement in HISTORY_DDL:
            conn.execute(statement)


def _failure(migration: MigrationFile, stmt: Statement, exc: psycopg.Error) -> ReplayFailure:
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


def _stopped(conn: psycopg.Connection, migration: MigrationFile, stmt: Statement, exc: psycopg.Error) -> ReplayFailure:
    """The failure of ``stmt``, with the file's open transaction rolled back (as the CLI does)."""
    failure = _failure(migration, stmt, exc)
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")
    return failure


def _one_by_one(migration: MigrationFile) -> bool:
    """Whether the CLI sends this file statement by statement, outside a transaction of its own."""
    if any(_TRANSACTION_CONTROL.match(s.text.lstrip()) for s in migration.statements if s.category == "transaction"):
        return True
    try:
        with migration.path.open(encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline().rstrip("\r\n")
    except OSError:
        return False
    return first == _NO_TRANSACTION_DIRECTIVE


def _history_row(conn: psycopg.Connection, migration: MigrationFile) -> None:
    if migration.version is not None:
        conn.execute(HISTORY_INSERT, (migration.version, migration.name or "", [s.text for s in migration.statements]))


def _in_one_round_trip(conn: psycopg.Connection, migration: MigrationFile) -> bool:
    """Send the file as the CLI's transaction does, in one message; False (rolled back) when it fails.

    ``RESET ALL``, the file's statements, its history row and ``COMMIT`` go as one simple-query
    message: the server runs them exactly as sent one by one, without a round trip each.
    """
    row = ""
    if migration.version is not None:
        values = (migration.version, migration.name or "", [s.text for s in migration.statements])
        row = sql.SQL(HISTORY_INSERT.replace("%s", "{}")).format(*values).as_string(conn) + ";\n"
    body = "\n;\n".join(s.text for s in migration.statements)
    try:
        with psycopg.ClientCursor(conn) as cur:
            cur.execute(f"RESET ALL;\nBEGIN;\n{body}\n;\n{row}COMMIT")
    except psycopg.Error:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        return False
    return True


def _apply(conn: psycopg.Connection, migration: MigrationFile) -> ReplayFailure | None:
    if _one_by_one(migration):
        conn.execute("RESET ALL")
        for stmt in migration.statements:
            try:
                conn.execute(stmt.text)
            except psycopg.Error as exc:
                return _stopped(conn, migration, stmt, exc)
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("COMMIT")
        _history_row(conn, migration)
        return None
    # The whole file in one round trip; only when it fails, statement by statement to say which.
    if not any(s.needs_autocommit for s in migration.statements) and _in_one_round_trip(conn, migration):
        return None
    conn.execute("RESET ALL")
    conn.execute("BEGIN")
    for stmt in migration.statements:
        try:
            if stmt.needs_autocommit:
                conn.execute("COMMIT")  # what ran before commits, without the history row (as the CLI does)
                conn.execute(stmt.text)
                conn.execute("BEGIN")
            else:
                conn.execute(stmt.text)
        except psycopg.Error as exc:
            return _stopped(conn, migration, stmt, exc)
    try:
        _history_row(conn, migration)
    except psycopg.Error as exc:
        conn.execute("ROLLBACK")
        return ReplayFailure(
            migration.filename, 0, 0, HISTORY_INSERT, exc.sqlstate, exc.diag.message_primary or str(exc)
        )
    conn.execute("COMMIT")
    return None
