"""What a backup must contain, measured on a database, and the journal records about backups.

At backup time the target is measured inside the very snapshot pg_dump dumps (see
:mod:`wizard.backup.take`); after a restore the copy is measured the same way, and the two
must agree: the schema fingerprint, the exact row count of every table, and the number of
large objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from wizard.catalog import snapshot
from wizard.db.connect import open_session, scalar
from wizard.inspect.inventory import Cancelled, Inventory
from wizard.state.journal import Journal

TAKEN = "backup.taken"
VERIFIED = "backup.verified"
VERIFICATION_FAILED = "backup.verification_failed"

#: Every ordinary table whose rows pg_dump dumps: all schemas but the system ones, minus
#: extension members (an extension recreates those; pg_dump does not dump their rows).
DATA_TABLES_SQL = r"""
SELECT n.nspname, c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
"""


def data_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) of every table whose rows a full dump carries."""
    return [(r[0], r[1]) for r in conn.execute(DATA_TABLES_SQL).fetchall()]


def count_rows(
    conn: psycopg.Connection,
    tables: list[tuple[str, str]],
    cancel: threading.Event | None = None,
    on_table: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Exact ``count(*)`` of each table, keyed ``schema.table`` (unquoted, like the catalog).

    Raises:
        Cancelled: ``cancel`` was set between two tables.
    """
    counts: dict[str, int] = {}
    for position, (schema, table) in enumerate(tables, start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("row counting cancelled", "run the command again")
        name = f"{schema}.{table}"  # as the catalog names tables
        if on_table:
            on_table(name, position, len(tables))
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[name] = scalar(conn.execute(query))
    return counts


def count_rows_in_parallel(
    dsn: str,
    tables: list[tuple[str, str]],
    jobs: int,
    cancel: threading.Event | None = None,
    on_table: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """:func:`count_rows` over ``jobs`` sessions at once, largest tables first.

    Only for a database nobody writes meanwhile (a restored copy): the sessions do not share a snapshot.
    """
    with open_session(dsn) as conn:
        sizes: dict[str, int] = dict(
            conn.execute(
                "SELECT n.nspname || '.' || c.relname, pg_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
            ).fetchall()
        )
    ordered = sorted(tables, key=lambda t: -int(sizes.get(f"{t[0]}.{t[1]}", 0)))
    queue = list(reversed(ordered))
    lock = threading.Lock()
    counts: dict[str, int] = {}

    def worker() -> None:
        with open_session(dsn) as conn:
            conn.execute("SET statement_timeout = 0")
            while True:
                with lock:
                    if not queue:
                        return
                    table = queue.pop()
                    position = len(tables) - len(queue)
                if on_table:
                    on_table(f"{table[0]}.{table[1]}", position, len(tables))
                counts.update(count_rows(conn, [table], cancel))

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(tables))), thread_name_prefix="count-rows") as pool:
        for future in [pool.submit(worker) for _ in range(max(1, min(jobs, len(tables))))]:
            future.result()
    return {f"{s}.{t}": counts[f"{s}.{t}"] for s, t in tables}


@dataclass
class Measurement:
    """A database's schema and data, as a backup must reproduce them."""

    schema_fingerprint: str
    inventory_counts: dict[str, int]
    row_counts: dict[str, int]
    large_objects: int

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def measure(
    conn: psycopg.Connection,
    tables: list[tuple[str, str]] | None = None,
    cancel: threading.Event | None = None,
    on_table: Callable[[str, int, int], None] | None = None,
    *,
    dsn: str | None = None,
    jobs: int = 1,
) -> Measurement:
    """Schema snapshot fingerprint, inventory counts, row counts and large objects of ``conn``'s database.

    With ``dsn`` (of the same database) and ``jobs`` > 1, rows are counted over that many sessions of
    their own while ``conn`` reads the catalog: only for a database nobody writes meanwhile (a restored copy).
    """
    tables = data_tables(conn) if tables is None else tables
    if dsn is not None and jobs > 1:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="count-rows") as pool:
            counting = pool.submit(count_rows_in_parallel, dsn, tables, jobs, cancel, on_table)
            snap = snapshot(conn)
            counts = counting.result()
    else:
        snap = snapshot(conn)
        counts = count_rows(conn, tables, cancel, on_table)
    user_tables = {t.name for t in snap.of_kind("table") if t.details.get("relkind") == "r"}
    inv = Inventory(snap, {name: n for name, n in counts.items() if name in user_tables})
    large_objects = scalar(conn.execute("SELECT count(*) FROM pg_largeobject_metadata"))
    return Measurement(snap.fingerprint(), inv.counts, counts, large_objects)


def parse_ts(value: str) -> datetime:
    """Parse the journal's ``...Z`` timestamps."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class BackupRecord:
    """A ``backup.taken`` journal record.

    Attributes:
        path: The dump (a file, or a directory for the directory format), relative to the project root.
        size: The file's size, or the total of the directory's files.
        sha256: The file's sha256, or the directory's set checksum (:func:`wizard.backup.dumpdir.set_checksum`).
        identity: The target's :class:`~wizard.db.connect.Identity` at backup time, as a dict.
        row_counts: Exact rows per table in the dumped snapshot.
    """

    seq: int
    target: str
    role: str
    path: str
    size: int
    sha256: str
    identity: dict[str, Any]
    schema_fingerprint: str
    inventory_counts: dict[str, int]
    row_counts: dict[str, int]
    large_objects: int
    database_size: int
    pg_dump: dict[str, str]
    started_at: str
    finished_at: str
    platform: str | None = None  # the target's platform layer at backup time (JSON), relative to the project
    format: str = "custom"  # or "directory" (pg_dump -Fd): then ``sha256`` is the set's checksum
    files: dict[str, dict[str, Any]] | None = None  # a directory's files: {name: {size, sha256}}
    jobs: int = 1  # pg_dump's parallel jobs
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> BackupRecord:
        names = set(cls.__dataclass_fields__) - {"extra"}
        known = {k: event[k] for k in names if k in event}
        return cls(**known, extra={k: v for k, v in event.items() if k not in names})

    def evidence(self) -> dict[str, Any]:
        """The fields written to the journal (``seq`` is the journal's own)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("seq", "extra")}

    def file(self, project_root: Path) -> Path:
        return project_root / self.path

    @property
    def taken_at(self) -> datetime:
        return parse_ts(self.finished_at)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def backups(journal: Journal) -> list[BackupRecord]:
    """Every recorded backup of the journal's target, oldest first."""
    return [BackupRecord.from_event(e) for e in journal.events(TAKEN)]


def verifications(journal: Journal, record: BackupRecord) -> list[dict[str, Any]]:
    """Verification outcomes (passed or failed) recorded for ``record``, oldest first."""
    return [
        e
        for e in journal.events()
        if e.get("event") in (VERIFIED, VERIFICATION_FAILED)
        and e.get("backup_path") == record.path
        and e.get("sha256") == record.sha256
    ]


def find_backup(journal: Journal, project_root: Path, file: Path | None = None) -> BackupRecord | None:
    """The newest backup record, or the one recorded for ``file``."""
    records = backups(journal)
    if file is None:
        return records[-1] if records else None
    wanted = file.resolve()
    for record in reversed(records):
        if record.file(project_root).resolve() == wanted:
            return record
    return None
