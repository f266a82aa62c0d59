"""Read a database's in-scope schema into a :class:`Snapshot` of comparable objects.

Every query is set-based (one per object kind), so a snapshot of thousands of tables
costs a handful of round trips. All of them read one state of the database: one
read-only repeatable-read transaction, whose snapshot helper sessions import when the
read is split over several sessions (:mod:`.sessions`, :mod:`.split_read`). See
:mod:`wizard.catalog.scope` for what is in scope.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from wizard.catalog import reads, split_read
from wizard.catalog.model import KINDS, SchemaObject, Snapshot
from wizard.catalog.sessions import Connect, empty_search_path, read_transaction
from wizard.catalog.split_read import gc_paused
from wizard.db.connect import open_session

__all__ = ["DEFAULT_SESSIONS", "KINDS", "Connect", "SchemaObject", "Snapshot", "gc_paused", "read", "snapshot"]

MIN_SERVER_VERSION = 140000

#: Sessions per snapshot for :func:`read`. Two snapshots of 2,000 tables read side by side on a
#: busy 2-core machine took 6.2 s on one session each, 5.0 s on two, 4.2 s on three, 3.6-4.1 s on
#: four (bench/parity.py's breakdown); the server's work grows a little with each session.
DEFAULT_SESSIONS = 4


def snapshot(
    conn: psycopg.Connection,
    progress: Callable[[str], None] | None = None,
    *,
    connect: Connect | None = None,
    sessions: int = 1,
) -> Snapshot:
    """Read every in-scope object of the database behind ``conn``.

    Args:
        conn: An open connection (read-only is enough). When it is idle in autocommit mode
            the read is one read-only repeatable-read transaction; inside the caller's
            transaction it reads what that transaction sees, on ``conn`` alone.
        progress: Called with the name of each group of object kinds once it is read.
        connect: Opens one more session on the same database; with ``sessions`` above 1
            the queries are split over that many sessions sharing one exported snapshot.
        sessions: How many sessions to read with (1: ``conn`` only). Fewer are used when
            the server or the role does not allow more.
    """
    version = conn.info.server_version
    with empty_search_path(conn), read_transaction(conn) as exported:
        objects = split_read.read(
            conn,
            reads.queries(version),
            reads.READS,
            sessions=sessions,
            connect=connect,
            snapshot_id=exported,
            progress=progress,
        )
    server_version = conn.info.parameter_status("server_version") or str(version)
    return Snapshot.from_objects(objects, server_version, version)


def read(dsn: str, progress: Callable[[str], None] | None = None, sessions: int = DEFAULT_SESSIONS) -> Snapshot:
    """The snapshot of the database at ``dsn``, read on up to ``sessions`` read-only sessions."""
    with open_session(dsn) as conn:
        return snapshot(conn, progress, connect=lambda: open_session(dsn), sessions=sessions)
