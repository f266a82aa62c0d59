"""Directory-format backups (``pg_dump -Fd``): the manifest of their files and the checksum of the set.

A directory backup is judged file by file: each file's size and sha256 are recorded when it is
taken (in the journal, and in ``MANIFEST.sha256`` inside the directory, readable by
``sha256sum -c``). The whole set has one checksum, the sha256 of that manifest's text, which
plays the part a custom-format file's sha256 plays: the gate, pruning and the report compare it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wizard.backup import files
from wizard.state.journal import PRIVATE_FILE_MODE

MANIFEST = "MANIFEST.sha256"
SUFFIX = files.DIR_SUFFIX


@dataclass(frozen=True)
class FileEntry:
    """One file of a directory backup."""

    size: int
    sha256: str

    def to_dict(self) -> dict[str, int | str]:
        return {"size": self.size, "sha256": self.sha256}


Entries = dict[str, FileEntry]


def manifest_text(entries: Entries) -> str:
    """``<sha256>  <name>`` per file, sorted by name (the ``sha256sum`` format)."""
    return "".join(f"{entries[name].sha256}  {name}\n" for name in sorted(entries))


def set_checksum(entries: Entries) -> str:
    """The checksum of the whole set: the sha256 of :func:`manifest_text`."""
    return hashlib.sha256(manifest_text(entries).encode()).hexdigest()


def total_size(entries: Entries) -> int:
    return sum(e.size for e in entries.values())


def from_record(recorded: dict[str, dict[str, int | str]]) -> Entries:
    """Entries as the journal holds them (``{name: {size, sha256}}``)."""
    return {name: FileEntry(int(e["size"]), str(e["sha256"])) for name, e in recorded.items()}


def names_on_disk(directory: Path) -> list[str]:
    """Every entry of the directory but the manifest, sorted (subdirectories and links count: they are extra)."""
    return sorted(p.name for p in directory.iterdir() if p.name != MANIFEST)


def measure(
    directory: Path,
    jobs: int = 1,
    *,
    use_cache: bool = True,
    on_bytes: Callable[[int], None] | None = None,
) -> Entries:
    """Size and sha256 of every regular file in ``directory`` but the manifest, hashed ``jobs`` at a time.

    hashlib releases the GIL on large buffers, so threads hash on several cores.
    """
    names = [n for n in names_on_disk(directory) if (directory / n).is_file() and not (directory / n).is_symlink()]
    done = [0]
    lock = threading.Lock()

    def one(name: str) -> tuple[str, FileEntry]:
        path = directory / name
        size = path.stat().st_size
        digest = files.sha256_file(path, use_cache=use_cache)
        with lock:
            done[0] += size
            if on_bytes:
                on_bytes(done[0])
        return name, FileEntry(size, digest)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="backup-hash") as pool:
        return dict(pool.map(one, names))


def write_manifest(directory: Path, entries: Entries) -> Path:
    """Write ``MANIFEST.sha256`` (0600) durably."""
    path = directory / MANIFEST
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(manifest_text(entries))
        handle.flush()
        os.fsync(handle.fileno())
    return path


def seal(directory: Path, jobs: int) -> Entries:
    """Make a finished pg_dump directory private and durable, and write its manifest; return its entries.

    Every file becomes 0600 and is fsynced, then hashed; the manifest follows, then the directory
    itself is fsynced (the caller renames it into place afterwards).
    """
    for name in names_on_disk(directory):
        path = directory / name
        path.chmod(PRIVATE_FILE_MODE)
        files.fsync_file(path)
    entries = measure(directory, jobs, use_cache=False)
    write_manifest(directory, entries)
    files.fsync_dir(directory)
    return entries


def first_difference(directory: Path, recorded: Entries, actual: Entries) -> str | None:
    """One line naming the first file that is missing, extra or changed; None when all agree.

    ``actual`` is :func:`measure` of ``directory``; the manifest file is checked against ``recorded`` too.
    """
    for name in sorted(recorded):
        if name not in actual:
            return f"file {name} is missing from the backup directory"
    on_disk = set(names_on_disk(directory))
    for name in sorted(on_disk - set(recorded)):
        return f"the backup directory holds an extra file {name}, not there when the backup was taken"
    for name in sorted(recorded):
        want, got = recorded[name], actual[name]
        if got.size != want.size:
            return f"file {name} is {got.size} bytes, not the {want.size} recorded: it has been changed"
        if got.sha256 != want.sha256:
            return (
                f"file {name} has sha256 {got.sha256[:12]}…, not the {want.sha256[:12]}… recorded: "
                "it has been modified or corrupted (a changed byte)"
            )
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return f"file {MANIFEST} is missing from the backup directory"
    if manifest.read_text(encoding="utf-8", errors="replace") != manifest_text(recorded):
        return f"file {MANIFEST} differs from the files recorded when the backup was taken"
    return None


def is_directory_backup(path: Path) -> bool:
    return path.name.endswith(SUFFIX) and path.is_dir()


def on_disk(path: Path) -> tuple[int, str] | None:
    """(size, checksum) of a backup as it is now: a file's sha256, or a directory's set checksum; None if gone.

    Comparable with the ``size`` and ``sha256`` recorded in ``backup.taken``. File hashes are
    cached as :func:`wizard.backup.files.sha256_file` allows.
    """
    if path.is_file():
        return path.stat().st_size, files.sha256_file(path)
    if not is_directory_backup(path):
        return None
    entries = measure(path)
    extra = set(names_on_disk(path)) - set(entries)
    if extra or not (path / MANIFEST).is_file():  # a stray subdirectory, or the manifest gone: not as taken
        return total_size(entries), "not-as-taken"
    return total_size(entries), set_checksum(entries)
