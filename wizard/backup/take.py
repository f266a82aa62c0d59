"""Take a full backup of a target with pg_dump, with the evidence to verify it later.

Small targets go into one custom-format file (``--format=custom``, written by one process);
targets of ``[backup] directory_format_above_mb`` or more into a directory (``--format=directory
--jobs=N``, N from the CPUs available), whose files are each hashed (:mod:`wizard.backup.dumpdir`).

The dump and the evidence come from the same instant: our read-only session opens a
REPEATABLE READ transaction, exports its snapshot, and pg_dump dumps that snapshot
(``--snapshot``) while the session measures the schema fingerprint and the exact row count
of every table inside it. A live production database may take writes meanwhile; the
evidence still describes exactly what the dump holds.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg import conninfo

from wizard.backup import dumpdir, files
from wizard.backup.errors import BackupError, BackupInterrupted, ToolInterrupted
from wizard.backup.evidence import TAKEN, BackupRecord, Measurement, data_tables, measure
from wizard.db.connect import Identity, scalar
from wizard.db.dsn import redact_text
from wizard.platform import mirror, tools
from wizard.project.config import Config, Target
from wizard.state.journal import PRIVATE_DIR_MODE, Journal, private_dir, utc_now

#: Refuse a backup unless the free space is at least this multiple of ``pg_database_size``.
#: A custom-format dump is compressed and leaves indexes out, so it is usually far smaller
#: than the database; 1.0 still guarantees that even an incompressible database fits.
DISK_FACTOR = 1.0
#: pg_dump gives up instead of queueing behind a lock held by a long migration.
LOCK_WAIT_TIMEOUT = "60s"
#: pg_dump's parallel jobs for the directory format: the CPUs available, between 2 and 8.
DUMP_JOBS = tools.parallel_jobs()
FORMATS = ("custom", "directory")
_TABLE_LINE = re.compile(r'dumping contents of table "(.+)"')
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_DISK_FULL_TEXT = ("no space left on device", "file too large", "disk quota exceeded")
DISK_FULL_FIX = (
    "free space where backups go (.consolidate/backups), or make .consolidate/backups a symlink to a larger disk, "
    "then run consolidate backup again"
)


@dataclass(frozen=True)
class BackupProgress:
    """A progress report while a backup runs.

    Attributes:
        phase: ``dumping``, ``counting`` (pg_dump done, rows still being counted) or ``hashing``.
        bytes_written: Size of the partial dump so far.
        tables_done: Tables whose rows pg_dump has written (from its ``--verbose`` output).
        tables_total: Tables with rows to dump.
        pid: pg_dump's process id.
    """

    phase: str
    bytes_written: int
    tables_done: int
    tables_total: int
    current: str
    elapsed: float
    pid: int | None = None


def target_dsn(conn: psycopg.Connection) -> str:
    """A DSN for the very server and database ``conn`` is connected to (with its password, if any)."""
    params = conn.info.get_parameters()
    params["host"] = conn.info.host
    params["port"] = str(conn.info.port)
    if "hostaddr" in params and conn.info.hostaddr:
        params["hostaddr"] = conn.info.hostaddr
    if conn.info.password:
        params["password"] = conn.info.password
    return conninfo.make_conninfo(**params)


def check_disk_space(directory: Path, database_size: int, factor: float = DISK_FACTOR) -> int:
    """Free bytes where the backup goes; refuse if the database might not fit.

    Raises:
        BackupError: free space is below ``database_size * factor`` (both figures are named).
    """
    free = shutil.disk_usage(directory).free
    needed = int(database_size * factor)
    if free < needed:
        raise BackupError(
            f"not enough disk space for the backup: {files.human_bytes(free)} free in {directory}, "
            f"the database is {files.human_bytes(database_size)} (need {factor:g} x that)",
            "free some space, or make .consolidate/backups a symlink to a larger disk",
        )
    return free


def choose_format(config: Config, database_size: int, forced: str | None = None) -> str:
    """``custom`` or ``directory``: ``forced`` if given, else by the target's size and ``[backup]``."""
    if forced is not None:
        return forced
    threshold = config.backup.directory_format_above_mb * 1024 * 1024
    return "directory" if database_size >= threshold else "custom"


def _final_path(directory: Path, database: str, when: datetime, suffix: str) -> Path:
    path = directory / files.dump_name(database, when, suffix)
    n = 1
    while path.exists() or files.partial_path(path).exists():
        n += 1
        path = path.with_name(path.name.removesuffix(suffix) + f"_{n}{suffix}")
    return path


def _bytes_written(partial: Path) -> int:
    if partial.is_dir():
        total = 0
        for entry in os.scandir(partial):
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
        return total
    return partial.stat().st_size if partial.exists() else 0


def take_backup(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    identity: Identity,
    journal: Journal,
    progress: Callable[[BackupProgress], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    disk_factor: float = DISK_FACTOR,
    dump_format: str | None = None,
    jobs: int = DUMP_JOBS,
) -> BackupRecord:
    """Dump the target behind ``conn`` into ``.consolidate/backups/<target>/`` and record it.

    Args:
        conn: A read-only session on the target (from :func:`wizard.db.connect.open_session`).
        identity: The target's identity, recorded so the backup can only satisfy this target's gate.
        journal: The target's journal; receives ``backup.taken``.
        progress: Called about ten times a second from this thread.
        cancel: Set it to stop pg_dump; the partial file is removed.
        disk_factor: See :data:`DISK_FACTOR`.
        dump_format: ``custom`` or ``directory``; None chooses by size (:func:`choose_format`).
        jobs: pg_dump's parallel jobs for the directory format.

    Raises:
        ToolNotFound: no pg_dump at least as new as the server.
        BackupError: not enough disk space, the disk filled up, pg_dump failed (the partial file is
            removed), or git would track the backup file.
        BackupInterrupted: cancelled or Ctrl-C (the partial file is removed).
    """
    tool = tools.find(
        "pg_dump",
        tools.server_major(conn.info.server_version),
        purpose=f"the server (PostgreSQL {identity.server_version})",
    )
    directory = files.backup_dir(config.state_dir, target.name)
    with files.locked(directory, "backup"):
        files.remove_stale_partials(directory)
        database_size = scalar(conn.execute("SELECT pg_database_size(current_database())"))
        check_disk_space(directory, database_size, disk_factor)
        chosen = choose_format(config, database_size, dump_format)
        jobs = max(1, jobs) if chosen == "directory" else 1
        started_at = utc_now()
        suffix = files.DIR_SUFFIX if chosen == "directory" else ".dump"
        final = _final_path(directory, identity.database, datetime.now(UTC), suffix)
        partial = files.partial_path(final)
        relative = os.path.relpath(partial, config.root)
        files.refuse_if_tracked(config.root, final)
        entries: dumpdir.Entries | None = None
        if chosen == "directory":
            partial.mkdir(mode=PRIVATE_DIR_MODE)  # pg_dump -Fd fills an empty directory
        else:
            files.create_private(partial)
        try:
            measurement = _dump(conn, tool, partial, progress, cancel, jobs)
            if progress:
                progress(BackupProgress("hashing", _bytes_written(partial), 0, 0, "", 0.0))
            if chosen == "directory":
                entries = dumpdir.seal(partial, jobs)
                size, sha256 = dumpdir.total_size(entries), dumpdir.set_checksum(entries)
            else:
                files.fsync_file(partial)
                size = partial.stat().st_size
                sha256 = files.sha256_file(partial, use_cache=False)
            os.rename(partial, final)
            files.fsync_dir(directory)
        except KeyboardInterrupt:
            files.remove_partial(partial)
            raise BackupInterrupted(
                f"backup interrupted; the partial file {relative} was removed", "run consolidate backup again"
            ) from None
        except ToolInterrupted as exc:
            files.remove_partial(partial)
            raise BackupInterrupted(f"{exc.message}; the partial file {relative} was removed", exc.fix) from None
        except BackupError as exc:
            files.remove_partial(partial)
            raise BackupError(f"{exc.message}; the partial file {relative} was removed", exc.fix) from None
        except psycopg.Error as exc:
            files.remove_partial(partial)
            first = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            raise BackupError(
                f"the backup's session on the target failed: {first}; the partial file {relative} was removed",
                "check the connection and run consolidate backup again",
            ) from None
        except OSError as exc:
            files.remove_partial(partial)
            if exc.errno not in _DISK_FULL_ERRNOS:
                raise
            raise BackupError(
                f"the disk is full ({exc.strerror}) while writing {relative}; the partial file was removed",
                DISK_FULL_FIX,
            ) from None
        except BaseException:
            files.remove_partial(partial)
            raise
    platform = mirror.read_platform(conn, target_dsn(conn), private_dir(config.state_dir / target.name / "platform"))
    platform_json = platform.save(platform.dump.parent)
    record = BackupRecord(
        seq=0,
        target=target.name,
        role=target.role,
        path=os.path.relpath(final, config.root),
        size=size,
        sha256=sha256,
        identity=identity.to_dict(),
        schema_fingerprint=measurement.schema_fingerprint,
        inventory_counts=measurement.inventory_counts,
        row_counts=measurement.row_counts,
        large_objects=measurement.large_objects,
        database_size=database_size,
        pg_dump=tool.to_dict(),
        started_at=started_at,
        finished_at=utc_now(),
        platform=os.path.relpath(platform_json, config.root),
        format=chosen,
        files={name: e.to_dict() for name, e in entries.items()} if entries is not None else None,
        jobs=jobs,
    )
    event = journal.append(TAKEN, **record.evidence())
    return replace(record, seq=event["seq"])


class _DumpState(TypedDict):
    """What pg_dump's ``--verbose`` output said so far: tables dumped, and the current one."""

    tables: int
    current: str


def _dump(
    conn: psycopg.Connection,
    tool: tools.PgTool,
    partial: Path,
    progress: Callable[[BackupProgress], None] | None,
    cancel: threading.Event | None,
    jobs: int = 1,
) -> Measurement:
    """Run pg_dump on an exported snapshot while measuring the same snapshot in a thread.

    ``partial`` is an empty directory for the directory format (``jobs`` workers), else a file.
    """
    started = time.monotonic()
    state: _DumpState = {"tables": 0, "current": ""}

    def on_line(line: str) -> None:
        match = _TABLE_LINE.search(line)
        if match:
            state["tables"] += 1
            state["current"] = match.group(1)

    stop_measuring = threading.Event()
    outcome: dict[str, object] = {}
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # Counting a large table may outlast the session's statement timeout, and the
        # transaction idles while pg_dump finishes: neither may end the snapshot early.
        conn.execute("SET LOCAL statement_timeout = 0")
        conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        snapshot_id = scalar(conn.execute("SELECT pg_export_snapshot()"))
        tables = data_tables(conn)
        dsn, env = tools.child_env(target_dsn(conn))
        layout = ["--format=directory", f"--jobs={jobs}"] if partial.is_dir() else ["--format=custom"]
        argv = [
            str(tool.path),
            *layout,
            "--large-objects",
            "--verbose",
            "--no-password",
            f"--snapshot={snapshot_id}",
            f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
            f"--file={partial}",
            f"--dbname={dsn}",
        ]
        run = tools.ToolRun(argv, env, on_line=on_line).start()

        def measure_in_thread() -> None:
            try:
                outcome["measurement"] = measure(conn, tables, stop_measuring)
            except BaseException as exc:
                outcome["error"] = exc

        measurer = threading.Thread(target=measure_in_thread, name="backup-measure", daemon=True)
        measurer.start()

        def tick() -> None:
            if progress:
                phase = "dumping" if run.poll() is None else "counting"
                size = _bytes_written(partial)
                progress(
                    BackupProgress(
                        phase,
                        size,
                        min(state["tables"], len(tables)),
                        len(tables),
                        state["current"],
                        time.monotonic() - started,
                        run.pid,
                    )
                )

        try:
            tick()
            code = run.wait(tick, cancel)
            while measurer.is_alive():
                if cancel is not None and cancel.is_set():
                    raise BackupInterrupted("backup cancelled", "run consolidate backup again")
                tick()
                measurer.join(0.1)
        except BaseException:
            stop_measuring.set()
            run.stop()
            if measurer.is_alive():
                conn.cancel_safe()
                measurer.join(30)
            raise
    if code != 0:
        if any(text in run.first_error().lower() for text in _DISK_FULL_TEXT):
            raise BackupError(f"the disk is full: pg_dump could not write ({run.first_error()})", DISK_FULL_FIX)
        how = f"was killed by signal {-code}" if code < 0 else f"failed (exit {code})"
        fix = "it was stopped from outside; run consolidate backup again" if code < 0 else _fix_for(run.first_error())
        raise BackupError(f"pg_dump {how}: {run.first_error()}", fix)
    if "error" in outcome:
        exc = outcome["error"]
        assert isinstance(exc, BaseException)
        raise BackupError(f"measuring the dumped snapshot failed: {exc}", "check the connection and run again")
    measurement = outcome["measurement"]
    assert isinstance(measurement, Measurement)
    return measurement


def _fix_for(message: str) -> str:
    lowered = message.lower()
    if "permission denied" in lowered:
        return "back up as a role that can read every table (the database owner, or postgres on Supabase)"
    if "row-level security" in lowered:
        return "back up as a role with BYPASSRLS or owning the tables (postgres on Supabase)"
    if "lock" in lowered and "timeout" in lowered:
        return "a table was locked for longer than 60 s; run the backup when no migration is running"
    if "server version" in lowered or "version mismatch" in lowered:
        return "use a pg_dump at least as new as the server"
    return "read pg_dump's message above, fix the cause, and run consolidate backup again"
