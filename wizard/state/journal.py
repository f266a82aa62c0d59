"""The protocol journal: an append-only, fsynced JSON-lines record of every action and its evidence.

One journal per target, ``.consolidate/<target>/journal.jsonl``. Reports and gates are
built from it, never from memory. Each line carries ``prev``, the sha256 of the line
before it (None on the first line), so an edited, lost or corrupted line is found on
reading and reported with its number (:class:`JournalCorrupt`) instead of being skipped.
A crash can at worst leave a torn last line (no newline): readers ignore it and the
next append drops it (it was never reported as written). Lines written before the chain
existed have no ``prev``; the chain starts at the first line that has one. Other state
files are written with :func:`atomic_write`.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.db.dsn import redact_text
from wizard.errors import WizardError

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


class JournalCorrupt(WizardError):
    """A journal line was edited, lost or corrupted: the tool will not act on evidence it cannot trust."""


class JournalWriteFailed(WizardError):
    """An append did not reach the disk (disk full, short write, I/O error)."""


PREV = "prev"


def line_sha256(line: bytes) -> str:
    """The chain hash of one journal line (its bytes without the newline)."""
    return hashlib.sha256(line).hexdigest()


def _corrupt(path: Path, number: int, what: str) -> JournalCorrupt:
    return JournalCorrupt(
        f"the journal {path} is corrupt at line {number}: {what}",
        f"undo the edit to line {number} or restore {path.name} from a copy; "
        "the tool does not act on a journal it cannot trust",
    )


def _parse(path: Path, data: bytes) -> tuple[list[dict[str, Any]], int, str | None]:
    """The records of a journal's bytes, checking the chain.

    Returns the records, the length of the complete (newline-terminated) part, and the
    chain hash of its last line (None for an empty journal).

    Raises:
        JournalCorrupt: a line after the chain's start is not JSON, has no ``prev``, or its
            ``prev`` is not the sha256 of the line before it.
    """
    complete = data.rfind(b"\n") + 1  # anything after the last newline is a torn last line
    records: list[dict[str, Any]] = []
    chained = False
    previous: str | None = None
    for number, line in enumerate(data[:complete].split(b"\n")[:-1], 1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            if chained:
                raise _corrupt(path, number, "the line is not a JSON record") from None
            previous = line_sha256(line)  # a torn line closed before the chain existed: skipped, as it was
            continue
        if PREV in record:
            chained = True
            if record[PREV] != previous:
                if previous is None:
                    raise _corrupt(path, number, "its prev names a line before it, but it is the first line")
                raise _corrupt(
                    path,
                    number - 1,
                    f"its sha256 is {previous[:12]}…, but line {number} records {str(record[PREV])[:12]}… "
                    "(the line was changed, or a line was removed or inserted there)",
                )
        elif chained:
            raise _corrupt(path, number, "the line has no prev (the chain of sha256 is broken)")
        previous = line_sha256(line)
        records.append(record)
    return records, complete, previous


def _write_all(fd: int, data: bytes, path: Path) -> None:
    """Write ``data`` at the end of ``fd`` in one write; a short write is undone and raised."""
    size = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
    except OSError as exc:
        os.ftruncate(fd, size)
        raise JournalWriteFailed(
            f"cannot append to the journal {path}: {exc.strerror or exc}",
            "free disk space (df -h) or fix the file system, then run the command again"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "check the file system, then run the command again",
        ) from exc
    if written != len(data):
        os.ftruncate(fd, size)
        raise JournalWriteFailed(
            f"cannot append to the journal {path}: only {written} of {len(data)} bytes were written",
            "free disk space (df -h) or fix the file system, then run the command again",
        )


class Journal:
    """Append-only event log for one target."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_target(cls, state_dir: Path, target: str) -> Journal:
        """The journal of ``target`` under the project's state directory."""
        return cls(private_dir(state_dir / target) / "journal.jsonl")

    def append(self, event: str, **evidence: Any) -> dict[str, Any]:
        """Record ``event`` with its evidence; returns the record once it is on disk (written whole, fsynced).

        Raises:
            JournalCorrupt: the journal's chain is broken (nothing is appended to it).
            JournalWriteFailed: the line could not be written whole (nothing of it is left).
        """
        private_dir(self.path.parent)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # two processes appending at once get distinct seq numbers
            data = _read_fd(fd)
            records, complete, previous = _parse(self.path, data)
            if complete < len(data):
                os.ftruncate(fd, complete)  # a line torn by a crash: never acknowledged, so dropped
            record = {"seq": len(records) + 1, "ts": utc_now(), "event": event, **_scrub(evidence), PREV: previous}
            line = json.dumps(record, sort_keys=False, default=str) + "\n"
            _write_all(fd, line.encode("utf-8"), self.path)
            try:
                os.fsync(fd)
            except OSError as exc:
                raise JournalWriteFailed(
                    f"the journal {self.path} could not be flushed to disk: {exc.strerror or exc}",
                    "check the file system and free space, then run the command again",
                ) from exc
        finally:
            os.close(fd)
        if created:
            fsync_path(self.path.parent)
        return record

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Every complete record (a torn last line from a crash is skipped), optionally of one type.

        Raises:
            JournalCorrupt: a line was edited, lost or corrupted (the message names it).
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        records = _parse(self.path, data)[0]
        return records if event is None else [r for r in records if r.get("event") == event]

    def head(self) -> tuple[int, str | None]:
        """The number of complete lines and the chain hash of the last one (what the next line will carry).

        Raises:
            JournalCorrupt: the chain is broken.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0, None
        records, _complete, previous = _parse(self.path, data)
        return len(records), previous

    def set_aside(self) -> Path:
        """Rename the journal to ``journal.jsonl.corrupt-<UTC time>`` (kept as evidence); return the new path.

        The next append starts a new journal.
        """
        stamp = utc_now().replace(":", "").replace("-", "")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.rename(self.path, aside)
        fsync_path(self.path.parent)
        return aside

    def last(self, event: str) -> dict[str, Any] | None:
        """The most recent record of type ``event``."""
        found = self.events(event)
        return found[-1] if found else None


def _read_fd(fd: int) -> bytes:
    """The whole content of an open file."""
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
