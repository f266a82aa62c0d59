"""Who started a scratch database or a child process, and whether that run still lives.

A run is named by an owner token, ``host:pid:start`` (``start``: the process's start time in
clock ticks since boot, from ``/proc``), so a recycled pid is never mistaken for the run that
started something. Children carry the token in their environment (:data:`ENV`); scratch
databases in their comment.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

ENV = "CONSOLIDATION_WIZARD_OWNER"


def _start_ticks(pid: int) -> str | None:
    """The start time of ``pid`` (field 22 of ``/proc/PID/stat``), or None when it is gone or unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()[19]


@cache
def _host() -> str:
    return socket.gethostname()


def token(pid: int | None = None) -> str:
    """The owner token of ``pid`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}:{pid}:{_start_ticks(pid) or ''}"


def pid_of(owner: str) -> int | None:
    """The pid in an owner token."""
    parts = owner.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def alive(owner: str) -> bool | None:
    """Whether the run named by ``owner`` still lives; None when it ran on another host (cannot tell)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, start = parts[0], int(parts[1]), parts[2]
    if host != _host():
        return None
    if start and Path("/proc").is_dir():
        return _start_ticks(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_owner(pid: int) -> str | None:
    """The owner token in a process's environment (None when it has none, or it cannot be read)."""
    try:
        data = b"\0" + Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    key = b"\0" + ENV.encode() + b"="
    start = data.find(key)
    if start < 0:
        return None
    start += len(key)
    end = data.find(b"\0", start)
    return data[start : end if end >= 0 else len(data)].decode(errors="replace")
