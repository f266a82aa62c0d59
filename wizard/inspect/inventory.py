"""Phase 1 inventory: what the target holds, counted the way the report states it.

What each count means:

* ``tables``: ordinary, partitioned and foreign tables in user schemas.
* ``indexes``: every index on a user table or materialized view, *including* the
  indexes that back primary-key, unique and exclusion constraints
  (``indexes_backing_constraints`` says how many of them do).
* ``functions``: functions, procedures and aggregates in user schemas (extension
  members excluded); ``triggers`` counts user triggers, including those on managed
  tables such as ``auth.users``; ``policies`` counts RLS policies on user tables and on
  managed tables such as ``storage.objects``.
* ``constraints`` excludes NOT NULL (counted as a column property) and is broken down by
  type; foreign keys are broken down by their ON DELETE action.
* ``rows``: exact ``count(*)`` per ordinary table (partitioned parents are counted
  through their partitions; foreign tables are not counted).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from wizard.catalog import KINDS, Snapshot, snapshot
from wizard.db.connect import Identity, scalar
from wizard.errors import WizardError
from wizard.history.files import MigrationSet
from wizard.history.remote import History
from wizard.state import events
from wizard.state.journal import Journal

#: The seed's headline categories, in the order the report shows them.
HEADLINE = ("tables", "indexes", "functions", "policies", "triggers", "constraints", "rows")


class Cancelled(WizardError):
    """The operator cancelled a long operation."""


@dataclass
class Inventory:
    """Counts and lists of one database's in-scope schema, plus exact row counts."""

    snapshot: Snapshot
    row_counts: dict[str, int] = field(default_factory=dict)
    identity: Identity | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Object count per kind, with the headline names used by the seed."""
        by_kind = self.snapshot.counts()
        counts = {kind: by_kind.get(kind, 0) for kind in KINDS}
        counts["tables"] = counts.pop("table")
        counts["indexes"] = counts.pop("index")
        counts["functions"] = counts.pop("function")
        counts["policies"] = counts.pop("policy")
        counts["triggers"] = counts.pop("trigger")
        counts["constraints"] = counts.pop("constraint")
        counts["rows"] = self.total_rows
        return counts

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def constraints_by_type(self) -> Counter[str]:
        return Counter(o.details["type"] for o in self.snapshot.of_kind("constraint"))

    @property
    def foreign_key_actions(self) -> Counter[str]:
        return Counter(
            f"ON DELETE {o.details['on_delete']}"
            for o in self.snapshot.of_kind("constraint")
            if o.details["type"] == "foreign key"
        )

    @property
    def indexes_backing_constraints(self) -> int:
        return sum(1 for o in self.snapshot.of_kind("index") if o.details.get("constraint"))

    @property
    def rls_tables(self) -> tuple[int, int]:
        """(tables with RLS enabled, tables with RLS forced)."""
        tables = list(self.snapshot.of_kind("table"))
        return sum(1 for t in tables if t.details["rls"]), sum(1 for t in tables if t.details["force_rls"])

    def to_dict(self) -> dict[str, Any]:
        enabled, forced = self.rls_tables
        return {
            "identity": self.identity.to_dict() if self.identity else None,
            "counts": self.counts,
            "constraints_by_type": dict(self.constraints_by_type),
            "foreign_key_actions": dict(self.foreign_key_actions),
            "indexes_backing_constraints": self.indexes_backing_constraints,
            "tables_with_rls_enabled": enabled,
            "tables_with_rls_forced": forced,
            "row_counts": self.row_counts,
            "fingerprint": self.snapshot.fingerprint(),
            "objects": {
                kind: [o.name for o in self.snapshot.of_kind(kind)]
                for kind in KINDS
                if kind not in ("grant", "comment")
            },
        }


@contextmanager
def _cancel_watch(conn: psycopg.Connection, cancel: threading.Event | None) -> Iterator[None]:
    """Cancel the running statement as soon as ``cancel`` is set: one ``count(*)`` of a huge table takes minutes."""
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            if cancel.is_set():
                conn.cancel_safe()
                return

    watcher = threading.Thread(target=watch, name="count-rows-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def count_rows(
    conn: psycopg.Connection,
    snap: Snapshot,
    progress: Callable[[str, int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, int]:
    """Exact ``count(*)`` of every ordinary table in the snapshot.

    ``progress`` receives each table before it is counted; setting ``cancel`` stops at once,
    cancelling a count in progress.

    Raises:
        Cancelled: ``cancel`` was set.
        WizardError: a table stayed locked by another session longer than the session's ``lock_timeout``.
    """
    tables = [t for t in snap.of_kind("table") if t.details["relkind"] == "r"]
    counts: dict[str, int] = {}
    with _cancel_watch(conn, cancel):
        for position, table in enumerate(tables, start=1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("row counting cancelled", "run the command again to count from the start")
            if progress:
                progress(table.name, position, len(tables))
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(table.details["schema"]), sql.Identifier(table.details["table_name"])
            )
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL statement_timeout = 0")  # exact counts of huge tables take time
                    counts[table.name] = scalar(conn.execute(query))
            except psycopg.errors.QueryCanceled:
                if cancel is None or not cancel.is_set():
                    raise
                raise Cancelled(
                    f"row counting cancelled while counting {table.name}",
                    "run the command again to count from the start",
                ) from None
            except psycopg.errors.LockNotAvailable:
                waited = scalar(conn.execute("SHOW lock_timeout"))
                raise WizardError(
                    f"table {table.name} is locked by another session; counting its rows gave up after "
                    f"{waited} (lock_timeout) instead of queueing behind the lock",
                    "run it again when no migration or maintenance holds the table",
                ) from None
    return counts


def take(
    conn: psycopg.Connection,
    identity: Identity | None = None,
    *,
    rows: bool = True,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Inventory:
    """Inventory the database behind ``conn`` (schema snapshot, then row counts)."""
    snap = snapshot(conn, progress)
    counts = {}
    if rows:
        counts = count_rows(conn, snap, (lambda t, i, n: progress(f"rows {i}/{n}: {t}")) if progress else None, cancel)
    return Inventory(snap, counts, identity)


def record(
    journal: Journal, identity: Identity | None, inv: Inventory, mset: MigrationSet | None, hist: History | None
) -> dict[str, Any]:
    """Journal the Phase 1 inventory as evidence (``inspect.done``): counts, rows, fingerprint, files, history."""
    files = mset.files if mset else []
    return journal.append(
        events.INSPECTED,
        identity=identity.to_dict() if identity else None,
        counts=inv.counts,
        constraints_by_type=dict(inv.constraints_by_type),
        foreign_key_actions=dict(inv.foreign_key_actions),
        row_counts=inv.row_counts,
        fingerprint=inv.snapshot.fingerprint(),
        files=[{"file": f.filename, "version": f.version, "sha256": f.sha256} for f in files],
        data_statements=[
            {"file": f.filename, "line": s.line, "kind": s.node, "category": s.category, "target": s.target}
            for f in files
            for s in f.data_statements
        ],
        history=None
        if hist is None
        else {
            "applied": hist.versions,
            "applied_not_local": hist.applied_not_local,
            "local_not_applied": hist.local_not_applied,
        },
    )
