"""Open database sessions: read-only for targets, with the target's identity captured."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import conninfo

from wizard.db.dsn import describe, parse, redact_text
from wizard.errors import ConnectionFailed, TableLocked

APPLICATION_NAME = "consolidation-wizard"
READ_ONLY_SETTINGS = {
    "default_transaction_read_only": "on",
    "application_name": APPLICATION_NAME,
    "statement_timeout": "300s",
    "lock_timeout": "5s",
    "idle_in_transaction_session_timeout": "600s",
}


@dataclass(frozen=True)
class Identity:
    """Who a database is: enough to tell two databases apart without any secret.

    ``system_identifier`` is None when the role may not read ``pg_control_system()``.
    """

    host: str
    port: str
    database: str
    database_oid: int
    system_identifier: str | None
    server_version: str
    server_version_num: int
    user: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        sysid = self.system_identifier or "unknown"
        return (
            f"{self.database} (oid {self.database_oid}) on {self.host}:{self.port}, "
            f"PostgreSQL {self.server_version}, system identifier {sysid}"
        )


def _fix_for(message: str) -> str:
    lowered = message.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return "check the password in ~/.pgpass or PGPASSWORD, and the user name"
    if "does not exist" in lowered and "database" in lowered:
        return "check the database name in the connection string"
    if "role" in lowered and "does not exist" in lowered:
        return "check the user name in the connection string"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return "check the host name in the connection string"
    if "connection refused" in lowered or "timeout expired" in lowered or "no such file" in lowered:
        return "check that the server is running and the host and port are right"
    if "ssl" in lowered:
        return "check sslmode and the server's TLS settings"
    return "check the connection string and that the server accepts connections"


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def tls_default(dsn: str) -> tuple[str, str | None]:
    """Default ``sslmode=require`` for a non-local host when neither the DSN nor PGSSLMODE sets one.

    Returns the DSN to use and, when a default was applied, a sentence saying so.
    """
    params = parse(dsn)
    if "sslmode" in params or os.environ.get("PGSSLMODE") or "service" in params:
        return dsn, None
    hosts = (params.get("host") or os.environ.get("PGHOST") or "localhost").split(",")
    if all(h.startswith("/") or h in _LOCAL_HOSTS or h.startswith("127.") for h in hosts):
        return dsn, None
    note = f"no sslmode given for {describe(dsn)}: using sslmode=require (Supabase requires TLS)"
    return conninfo.make_conninfo(dsn, sslmode="require"), note


def open_session(
    dsn: str, *, read_only: bool = True, autocommit: bool = True, connect_timeout: int = 10
) -> psycopg.Connection:
    """Connect to ``dsn``; a target session is read-only unless ``read_only`` is False.

    Raises:
        ConnectionFailed: with a password-free message and the likely fix.
    """
    dsn, _note = tls_default(dsn)
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, connect_timeout=connect_timeout)
    except psycopg.Error as exc:
        first = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        password = parse(dsn).get("password")
        if password:
            first = first.replace(password, "***")  # libpq may quote a value it rejects
        raise ConnectionFailed(f"cannot connect to {describe(dsn)}: {first}", _fix_for(str(exc))) from None
    settings = dict(READ_ONLY_SETTINGS)
    if not read_only:
        settings.pop("default_transaction_read_only")
    with conn.cursor() as cur:
        for name, value in settings.items():
            cur.execute("SELECT set_config(%s, %s, false)", (name, value))
    if not autocommit:
        conn.commit()
    return conn


_LOCK_HOLDERS_SQL = """SELECT DISTINCT format('%I.%I', n.nspname, c.relname), l.pid, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.mode IN ('AccessExclusiveLock', 'ExclusiveLock') AND c.relkind IN ('r', 'p', 'm', 'v', 'f')
 ORDER BY 1, 2"""


def table_locked(conn: psycopg.Connection, exc: psycopg.errors.LockNotAvailable) -> TableLocked:
    """The one-line error for a read that gave up after ``lock_timeout``: which tables another session holds.

    ``conn`` is a session on the same database, idle (the failed statement's transaction rolled back).
    """
    holders: list[tuple[str, int, str]] = []
    try:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.rollback()
        holders = [(r[0], r[1], r[2]) for r in conn.execute(_LOCK_HOLDERS_SQL).fetchall()]
    except psycopg.Error:
        pass  # the message below still says what happened
    timeout = READ_ONLY_SETTINGS["lock_timeout"]
    if holders:
        tables = sorted({h[0] for h in holders})
        pids = sorted({h[1] for h in holders})
        what = f"another session (pid {', '.join(map(str, pids))}) holds a lock on {', '.join(tables)}"
        end = f"SELECT pg_terminate_backend({pids[0]})"
    else:
        what = "another session holds a lock on a table this command reads"
        end = "pg_terminate_backend(pid) (see pg_locks)"
    first = redact_text(str(exc).strip().splitlines()[0]) if str(exc).strip() else "lock timeout"
    return TableLocked(
        f"{what}; the read gave up after lock_timeout {timeout} ({first})",
        f"wait for the other session to finish (a migration or db push?), or end it with {end}; "
        "then run the command again",
    )


def scalar(cur: psycopg.Cursor[tuple[Any, ...]]) -> Any:
    """The first column of the first row of an executed query that always returns a row.

    For ``count(*)``, ``SHOW``, ``current_setting()`` and the like:
    ``scalar(conn.execute("SHOW server_version"))``.
    """
    row = cur.fetchone()
    assert row is not None, "the query returned no row"
    return row[0]


def identity(conn: psycopg.Connection) -> Identity:
    """Capture the identity of the database behind ``conn``."""
    row = conn.execute(
        "SELECT current_database(), d.oid::int, current_setting('server_version'), current_user "
        "FROM pg_database d WHERE d.datname = current_database()"
    ).fetchone()
    assert row is not None
    try:
        with conn.transaction():
            sysid = scalar(conn.execute("SELECT system_identifier::text FROM pg_control_system()"))
    except psycopg.errors.InsufficientPrivilege:
        sysid = None
    info = conn.info
    host = info.host if not info.host.startswith("/") else f"local socket {info.host}"
    return Identity(
        host=host,
        port=str(info.port),
        database=row[0],
        database_oid=row[1],
        system_identifier=sysid,
        server_version=row[2],
        server_version_num=info.server_version,
        user=row[3],
    )


def same_database(recorded: dict[str, Any], identity: Identity) -> tuple[bool, str]:
    """Whether a recorded identity is ``identity``'s database, and on what basis.

    The system identifier tells clusters apart; the database oid tells databases of one
    cluster apart. When either side could not read the system identifier (a role without
    access to ``pg_control_system()``), host, port, database name and oid must all agree instead.
    """
    rec_sysid = recorded.get("system_identifier")
    if rec_sysid and identity.system_identifier:
        same = rec_sysid == identity.system_identifier and recorded.get("database_oid") == identity.database_oid
        return same, "system identifier and database oid"
    keys = ("host", "port", "database", "database_oid")
    same = all(str(recorded.get(k)) == str(getattr(identity, k)) for k in keys)
    return same, "host, port, database name and oid (system identifier unreadable)"
