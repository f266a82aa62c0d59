"""What a killed run leaves on the platform: orphaned client tools and scratch databases with no live owner.

Children die with the tool on Linux (a parent-death signal, :mod:`.tools`); one that did not
(another OS, a child started before that existed) still carries its run's owner token in its
environment (:mod:`.owner`) and is found here. Scratch databases carry the token in their
comment and the owner's pid in their name (for the instant between ``CREATE DATABASE`` and
the comment). :func:`stop_process` and :func:`drop_scratch` clean them.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from wizard.db.connect import open_session
from wizard.platform import owner
from wizard.platform.shadow import OWNER_COMMENT, SCRATCH_PREFIX

_NAME_PID = re.compile(rf"^{SCRATCH_PREFIX}.*_(\d+)_[0-9a-f]{{8}}$")


@dataclass(frozen=True)
class Orphan:
    """A client tool (pg_dump, pg_restore...) whose run is gone."""

    pid: int
    name: str
    owner: str
    argv: tuple[str, ...] = ()

    def mentions(self, path: Path) -> bool:
        """Whether an argument names ``path`` or a file under it (a dump file of a project's state directory)."""
        return any(str(path) in arg for arg in self.argv)

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}) outlived its consolidate run (pid {owner.pid_of(self.owner)})"


#: The client tools the tool starts (:func:`wizard.platform.tools.child_env`): only these are looked at.
TOOL_NAMES = frozenset({"pg_dump", "pg_restore", "psql"})


def orphaned_processes() -> list[Orphan]:
    """Every client tool (:data:`TOOL_NAMES`) of this host carrying an owner token (:data:`owner.ENV`)
    whose run is gone."""
    found: list[Orphan] = []
    try:
        pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        name, state = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()[0]
        if name not in TOOL_NAMES or state in ("Z", "X"):
            continue
        token = owner.process_owner(pid)
        if pid == os.getpid() or token is None or owner.alive(token) is not False:
            continue
        with contextlib.suppress(OSError):
            argv = tuple(
                a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
            )
            found.append(Orphan(pid, name, token, argv))
    return sorted(found, key=lambda o: o.pid)


def stop_process(orphan: Orphan, grace: float = 5.0) -> bool:
    """SIGTERM an orphan (SIGKILL after ``grace`` seconds); whether it is gone.

    The owner token is read again first, so a recycled pid is never signalled.
    """
    if owner.process_owner(orphan.pid) != orphan.owner:
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(orphan.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if owner.process_owner(orphan.pid) != orphan.owner:
                return True
            time.sleep(0.05)
        os.kill(orphan.pid, signal.SIGKILL)
        time.sleep(0.1)
    return owner.process_owner(orphan.pid) != orphan.owner


@dataclass(frozen=True)
class Scratch:
    """A scratch database on the shadow server whose run is gone."""

    name: str
    owner: str | None

    def describe(self) -> str:
        run = f"pid {owner.pid_of(self.owner)}" if self.owner else "unknown"
        return f"scratch database {self.name}: its consolidate run ({run}) is gone"


_SCRATCH_SQL = """SELECT d.datname, shobj_description(d.oid, 'pg_database'),
       EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid AND a.pid <> pg_backend_pid())
  FROM pg_database d WHERE starts_with(d.datname, %s) ORDER BY 1"""


def orphaned_scratch(conn: psycopg.Connection) -> list[Scratch]:
    """Scratch databases (:data:`SCRATCH_PREFIX`) on the server behind ``conn`` whose owner is gone.

    Owned by a run on another host: never claimed. No comment yet: judged by the pid in the
    name, and only when nobody is connected to it.
    """
    found = []
    for name, comment, busy in conn.execute(_SCRATCH_SQL, (SCRATCH_PREFIX,)).fetchall():
        token = comment[len(OWNER_COMMENT) :] if comment and comment.startswith(OWNER_COMMENT) else None
        if token is not None:
            if owner.alive(token) is False:
                found.append(Scratch(name, token))
            continue
        match = _NAME_PID.match(name)
        if not busy and not (match and Path(f"/proc/{match.group(1)}").exists()):
            found.append(Scratch(name, None))
    return found


def drop_scratch(admin_dsn: str, scratch: Scratch) -> None:
    """Drop a leftover scratch database (its sessions too)."""
    with open_session(admin_dsn, read_only=False) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch.name)))
