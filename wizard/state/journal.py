"""The protocol journal: an append-only, fsynced JSON-lines record of every action and its evidence.

One journal per target, ``.consolidate/<target>/journal.jsonl``. Reports and gates are
built from it, never from memory. A crash can at worst leave a torn last line, which
readers ignore. Other state files are written with :func:`atomic_write`.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.db.dsn import redact_text

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's fsync makes a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


STATE_DIR_NAME = ".consolidate"
_GITIGNORE = "# consolidation-wizard state: journals, backups (full copies of data), scratch server.\n*\n"


def ensure_state_dir(state_dir: Path) -> Path:
    """Create the project's ``.consolidate`` directory owner-only, with a ``.gitignore`` keeping it out of git."""
    if not state_dir.exists():
        state_dir.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
        state_dir.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        atomic_write(ignore, _GITIGNORE, mode=0o644)
    return state_dir


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with owner-only permissions; return it.

    Inside a ``.consolidate`` directory, that directory is set up first (see :func:`ensure_state_dir`).
    """
    for parent in (path, *path.parents):
        if parent.name == STATE_DIR_NAME:
            ensure_state_dir(parent)
            break
    if not path.exists():
        path.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
        path.chmod(PRIVATE_DIR_MODE)
    return path


def atomic_write(path: Path, data: bytes | str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write ``path`` through a temporary file in the same folder and a rename, both fsynced.

    Readers see the old content or the new, never a mix; a crash leaves at most a stray
    ``.tmp`` file that is never read.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class Journal:
    """Append-only event log for one target."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_target(cls, state_dir: Path, target: str) -> Journal:
        """The journal of ``target`` under the project's state directory."""
        return cls(private_dir(state_dir / target) / "journal.jsonl")

    def append(self, event: str, **evidence: Any) -> dict[str, Any]:
        """Record ``event`` with its evidence; returns the record once it is on disk."""
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # two processes appending at once get distinct seq numbers
            record = {"seq": len(self.events()) + 1, "ts": utc_now(), "event": event, **_scrub(evidence)}
            line = json.dumps(record, sort_keys=False, default=str) + "\n"
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # close a line torn by a crash; readers skip it
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Every complete record (a torn last line from a crash is skipped), optionally of one type."""
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event is None or record.get("event") == event:
                records.append(record)
        return records

    def last(self, event: str) -> dict[str, Any] | None:
        """The most recent record of type ``event``."""
        found = self.events(event)
        return found[-1] if found else None
