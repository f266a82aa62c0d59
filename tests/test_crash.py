"""The tool dies cleanly: its children die with it, and a signal takes the Ctrl-C path (real processes)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(command name, state, parent pid) of a live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return name, state, int(ppid)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has)."""
    found = _stat(pid)
    return found is not None and found[1] not in ("Z", "X")


def children(pid: int, name: str, argument: str) -> list[int]:
    """Live processes called ``name`` with ``argument`` on their command line whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[0] == name and stat[2] == pid and stat[1] not in ("Z", "X"):
                with contextlib.suppress(OSError):
                    if argument.encode() in Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0"):
                        found.append(int(entry))
    return found


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def consolidate(*args: str) -> subprocess.Popen[str]:
    """``consolidate ARGS`` as its own process, no stdin, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def stuck_backup(fresh_db: str, make_project: Callable[..., Path]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``consolidate backup`` running with its pg_dump held up by another session's lock on a table."""
    run_sql(fresh_db, "create table public.busy (id int primary key); insert into public.busy values (1)")
    root = make_project(fresh_db)
    with psycopg.connect(fresh_db) as locker:
        locker.execute("lock table public.busy in access exclusive mode")  # pg_dump waits up to 60 s for it
        tool = consolidate("backup", "--project", str(root))
        try:
            dumps = wait_for(lambda: children(tool.pid, "pg_dump", "--format=custom"), 60, "pg_dump to start")
            assert isinstance(dumps, list)
            time.sleep(1)
            assert alive(dumps[0]), "pg_dump should wait for the lock"
            yield tool, dumps[0]
        finally:
            if tool.poll() is None:
                tool.kill()
            tool.communicate(timeout=30)
            locker.rollback()


def test_kill_9_of_the_tool_takes_pg_dump_with_it(stuck_backup: tuple[subprocess.Popen[str], int]) -> None:
    tool, dump = stuck_backup
    assert alive(dump)
    tool.send_signal(signal.SIGKILL)
    tool.wait(timeout=10)
    started = time.monotonic()
    wait_for(lambda: not alive(dump), 5, f"pg_dump {dump} to die with its parent")
    print(f"pg_dump gone {time.monotonic() - started:.2f} s after kill -9 of the tool")


def test_kill_9_of_drift_takes_the_platform_dump_with_it(fresh_db: str, make_project: Callable[..., Path]) -> None:
    """The schema-only dump of the target's platform waits for a locked table; kill -9 of drift ends it."""
    run_sql(fresh_db, "create table public.busy (id int primary key)")
    root = make_project(fresh_db, {"20240101000000_busy.sql": "create table public.busy (id int primary key);"})
    with psycopg.connect(fresh_db) as locker:
        locker.execute("lock table public.busy in access exclusive mode")
        tool = consolidate("drift", "--project", str(root), "--json")
        try:
            dumps = wait_for(lambda: children(tool.pid, "pg_dump", "--schema-only"), 60, "the platform's pg_dump")
            assert isinstance(dumps, list) and alive(dumps[0])
            tool.send_signal(signal.SIGKILL)
            tool.wait(timeout=10)
            wait_for(lambda: not alive(dumps[0]), 5, f"pg_dump {dumps[0]} to die with drift")
        finally:
            if tool.poll() is None:
                tool.kill()
            tool.communicate(timeout=30)
            locker.rollback()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_sigterm_and_sighup_stop_like_ctrl_c(stuck_backup: tuple[subprocess.Popen[str], int], sig: int) -> None:
    tool, dump = stuck_backup
    tool.send_signal(sig)
    _out, err = tool.communicate(timeout=30)
    assert tool.returncode == 130, err
    # the backup's own Ctrl-C path: the partial file removed, one line
    assert err.startswith("error: backup interrupted; the partial file "), err
    assert "was removed" in err and "Traceback" not in err
    assert not alive(dump)
