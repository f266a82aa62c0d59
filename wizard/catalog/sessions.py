"""Sessions that read one consistent state of a database: a transaction and the snapshot it exports.

The caller's session begins a ``REPEATABLE READ, READ ONLY`` transaction and exports its
snapshot (``pg_export_snapshot()``); each helper session begins the same kind of transaction
and imports it (``SET TRANSACTION SNAPSHOT``), so every part of a split read sees the same
state, as ``pg_dump --jobs`` does. Where the server or the role does not allow it (no
export, no second connection, an import refused), the read stays on the caller's session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from wizard.db.connect import scalar

BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

#: Opens one more session on the same database (read-only), or raises.
Connect = Callable[[], psycopg.Connection]


@contextmanager
def empty_search_path(conn: psycopg.Connection) -> Iterator[None]:
    """An empty ``search_path`` while the block runs, so that every deparsed name comes schema-qualified.

    Like pg_dump: definitions then do not depend on the session, and generated SQL runs anywhere.
    """
    saved = scalar(conn.execute("SELECT current_setting('search_path'), set_config('search_path', '', false)"))
    try:
        yield
    finally:
        if not conn.closed and conn.info.transaction_status != TransactionStatus.INERROR:
            conn.execute("SELECT set_config('search_path', %s, false)", (saved,))


@contextmanager
def read_transaction(conn: psycopg.Connection) -> Iterator[str | None]:
    """One read-only repeatable-read transaction on ``conn``; yields its exported snapshot id or None.

    A session already in a transaction (the caller's) is read as it is: its snapshot is not
    exported (its own changes would not be visible to another session) and it is not ended.
    """
    if not conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        yield None
        return
    conn.execute(BEGIN)
    try:
        try:
            exported: str | None = scalar(conn.execute("SELECT pg_export_snapshot()"))
        except psycopg.Error:
            # Not allowed here (for instance a server that refuses it): one session, one transaction.
            conn.execute("ROLLBACK")
            conn.execute(BEGIN)
            exported = None
        yield exported
    finally:
        if not conn.closed:
            conn.execute("ROLLBACK")  # read-only: nothing to commit


def helper(connect: Connect, snapshot_id: str) -> psycopg.Connection | None:
    """A new session reading the exported snapshot ``snapshot_id``, or None when that is not possible."""
    try:
        conn = connect()
    except Exception:
        return None  # a connection limit, a refused login...: the other sessions do the work
    try:
        conn.autocommit = True
        conn.execute(BEGIN)
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot_id)))
        conn.execute("SELECT set_config('search_path', '', false)")
    except psycopg.Error:
        with suppress(Exception):
            conn.close()
        return None
    return conn
