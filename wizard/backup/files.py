"""Backup files on disk: where they live, their names, hashes, and the per-target lock.

Backups live in ``.consolidate/backups/<target>/`` (mode 0700), each file mode 0600.
pg_dump writes to a hidden ``.<name>.partial`` file (or directory) that is renamed to
``<name>`` only after pg_dump exits 0 and everything is fsynced, so a file ending in ``.dump``
(or a directory ending in ``.dumpdir``) is always a complete dump.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from wizard.backup.errors import BackupError
from wizard.state.journal import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, fsync_path, private_dir

PARTIAL_SUFFIX = ".partial"
#: A complete directory-format backup (``pg_dump -Fd``) ends in this; a custom-format file in ``.dump``.
DIR_SUFFIX = ".dumpdir"
_CHUNK = 1 << 20
# (dev, ino, size, mtime_ns, ctime_ns) -> sha256, only for files that had been quiet for a while when hashed.
_HASHES: dict[tuple[int, int, int, int, int], str] = {}
_QUIET_SECONDS = 2.0


def backup_dir(state_dir: Path, target: str) -> Path:
    """``.consolidate/backups/<target>``, created owner-only."""
    base = private_dir(state_dir / "backups")
    path = private_dir(base / target)
    for directory in (base, path):
        if directory.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
            directory.chmod(PRIVATE_DIR_MODE)
    return path


def refuse_if_tracked(project_root: Path, path: Path) -> None:
    """Refuse to write ``path`` when git would track it (the project is a work tree and git does not ignore it).

    ``.consolidate/.gitignore`` normally ignores everything; this catches an emptied or edited one.
    No git, no work tree, or a path outside it (a symlink to another disk) means git cannot track it.

    Raises:
        BackupError: ``git check-ignore`` says the path is not ignored.
    """
    try:
        proc = subprocess.run(
            ["git", "-C", str(project_root), "check-ignore", "-q", str(path)],
            capture_output=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return
    if proc.returncode == 1:  # 0: ignored; 128: not a work tree, or beyond a symlink
        shown = os.path.relpath(path, project_root)
        raise BackupError(
            f"refusing to write the backup {shown}: git would track it (a backup is a full copy of the data)",
            "restore .consolidate/.gitignore to the single line `*` (or ignore .consolidate/ in the project's "
            ".gitignore), then run consolidate backup again",
        )


def dump_files(directory: Path) -> list[Path]:
    """The complete dumps (files and directories) in a target's backup directory, oldest name first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.glob("*.dump") if p.is_file()]
    found += [p for p in directory.glob(f"*{DIR_SUFFIX}") if p.is_dir() and not p.is_symlink()]
    return sorted(found)


def is_dump(path: Path) -> bool:
    """A complete dump: a ``.dump`` file or a ``.dumpdir`` directory."""
    if path.name.endswith(DIR_SUFFIX):
        return path.is_dir() and not path.is_symlink()
    return path.is_file()


def size_on_disk(path: Path) -> int:
    """A dump's size: the file's, or the total of a directory's files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def dump_name(database: str, when: datetime, suffix: str = ".dump") -> str:
    """``<db>_pre_consolidation_<UTC timestamp>.dump`` (or ``suffix``), safe as a file name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", database).strip(".") or "database"
    return f"{safe}_pre_consolidation_{when.strftime('%Y%m%dT%H%M%SZ')}{suffix}"


def partial_path(final: Path) -> Path:
    """The temporary name pg_dump writes to before the rename."""
    return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")


def create_private(path: Path) -> None:
    """Create an empty file with mode 0600 (fails if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)


fsync_file = fsync_dir = fsync_path  # one implementation: wizard.state.journal.fsync_path


def sha256_file(path: Path, *, use_cache: bool = True, on_bytes: Callable[[int], None] | None = None) -> str:
    """The file's sha256.

    With ``use_cache``, a hash is reused while the file's inode, size, mtime and ctime are
    unchanged, and only if the file had not been modified for a few seconds when it was
    hashed: any later write then necessarily moves mtime/ctime past the recorded value,
    even on file systems with coarse timestamps. ``on_bytes`` receives the bytes hashed so far.
    """
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if use_cache and key in _HASHES:
        return _HASHES[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        done = 0
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_bytes:
                on_bytes(done)
    value = digest.hexdigest()
    if time.time() - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 > _QUIET_SECONDS:
        _HASHES[key] = value
    return value


def remove_partial(path: Path) -> None:
    """Delete a partial dump, a file or a directory."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_partials(directory: Path) -> list[Path]:
    """Delete partial files and directories left by a killed process (call only while holding :func:`locked`)."""
    removed = []
    for path in directory.glob(f".*{PARTIAL_SUFFIX}"):
        remove_partial(path)
        removed.append(path)
    return removed


def leftover_partials(directory: Path) -> list[Path]:
    """Partial files of a killed backup: there while no process holds the directory's lock (:func:`locked`)."""
    partials = sorted(directory.glob(f".*{PARTIAL_SUFFIX}")) if directory.is_dir() else []
    if not partials:
        return []
    try:
        with locked(directory, "looking for leftovers"):
            return partials
    except BackupError:
        return []  # a backup is running: its partial file is live


@contextmanager
def locked(directory: Path, what: str) -> Iterator[None]:
    """Hold the directory's lock: one backup or verification writer at a time per target.

    Raises:
        BackupError: another process holds it.
    """
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackupError(
                f"another consolidate process is working in {directory} ({what} refused)",
                "wait for it to finish, then run the command again",
            ) from None
        yield
    finally:
        os.close(fd)


def human_bytes(size: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
