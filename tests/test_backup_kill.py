"""A backup stopped midway leaves no file that looks complete, and no journal record."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_sql
from wizard.backup import BackupError, BackupInterrupted, take_backup
from wizard.backup.evidence import TAKEN
from wizard.db.connect import identity, open_session
from wizard.platform.shadow import Shadow
from wizard.project import config as config_mod
from wizard.state.journal import Journal

#: Enough rows that pg_dump writes data for well over a second.
ROWS = 1_500_000


@pytest.fixture(scope="module")
def big_db(shadow: Shadow) -> Iterator[str]:
    name = f"cw_test_big_{secrets.token_hex(4)}"
    dsn = shadow.create_database(name)
    run_sql(
        dsn,
        "create table public.big (id bigint primary key, payload text);"
        f"insert into public.big select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, {ROWS}) g;",
    )
    try:
        yield dsn
    finally:
        shadow.drop_database(name)


def _leftovers(root: Path) -> list[str]:
    directory = root / ".consolidate" / "backups" / "staging"
    return sorted(p.name for p in directory.iterdir() if p.name != ".lock") if directory.exists() else []


def test_killed_pg_dump_leaves_no_complete_looking_file(big_db: str, make_project) -> None:
    root = make_project(big_db)
    cfg = config_mod.load(root)
    journal = Journal.for_target(cfg.state_dir, "staging")
    killed: list[int] = []

    def kill_midway(progress) -> None:
        if progress.phase == "dumping" and progress.bytes_written > 256 * 1024 and not killed:
            os.kill(progress.pid, signal.SIGKILL)
            killed.append(progress.bytes_written)

    with open_session(big_db) as conn, pytest.raises(BackupError) as exc:
        take_backup(cfg, cfg.target("staging"), conn, identity(conn), journal, kill_midway)
    assert killed, "pg_dump finished before it could be killed"
    assert "killed by signal 9" in exc.value.message and "partial file" in exc.value.message
    assert _leftovers(root) == []
    assert journal.last(TAKEN) is None


def test_cancel_event_stops_pg_dump(big_db: str, make_project) -> None:
    root = make_project(big_db)
    cfg = config_mod.load(root)
    journal = Journal.for_target(cfg.state_dir, "staging")
    cancel = threading.Event()

    def cancel_midway(progress) -> None:
        if progress.bytes_written > 256 * 1024:
            cancel.set()

    with open_session(big_db) as conn, pytest.raises(BackupInterrupted) as exc:
        take_backup(cfg, cfg.target("staging"), conn, identity(conn), journal, cancel_midway, cancel)
    assert "was removed" in exc.value.message
    assert _leftovers(root) == []
    assert journal.last(TAKEN) is None


def _partial_bytes(directory: Path) -> int:
    """Bytes pg_dump has written so far into the partial file, or the files of the partial directory."""
    total = 0
    for partial in directory.glob(".*.partial") if directory.exists() else []:
        with contextlib.suppress(OSError):
            paths = list(partial.iterdir()) if partial.is_dir() else [partial]
            total += sum(p.stat().st_size for p in paths)
    return total


@pytest.mark.parametrize("dump_format", ["custom", "directory"])
def test_ctrl_c_on_the_cli_removes_the_partial_file(big_db: str, make_project, dump_format: str) -> None:
    root = make_project(big_db)
    directory = root / ".consolidate" / "backups" / "staging"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "backup", "--project", str(root), "--json", f"--format={dump_format}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A run started in the background of a shell (CI) inherits SIGINT ignored, and Python then
        # keeps ignoring it: give the tool the terminal's default, as an operator's Ctrl-C meets it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _partial_bytes(directory) > 256 * 1024:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        else:
            pytest.fail("pg_dump never started writing")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "was removed" in err
    assert _leftovers(root) == []
    assert Journal.for_target(root / ".consolidate", "staging").last(TAKEN) is None
    # and pg_dump did not outlive it
    time.sleep(0.2)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(directory) not in ps


def test_a_killed_tool_takes_its_parallel_pg_dump_with_it(big_db: str, make_project) -> None:
    """kill -9 of the tool mid-dump: pg_dump and its workers exit; the next backup removes the partial directory."""
    root = make_project(big_db)
    directory = root / ".consolidate" / "backups" / "staging"
    argv = [sys.executable, "-m", "wizard.cli", "backup", "--project", str(root), "--json", "--format=directory"]
    proc = subprocess.Popen([*argv, "--jobs=2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _partial_bytes(directory) <= 256 * 1024:
            assert proc.poll() is None and time.monotonic() < deadline, "pg_dump never started writing"
            time.sleep(0.02)
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 20
    while str(directory) in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline, "pg_dump outlived the tool"
        time.sleep(0.1)
    assert [p.name for p in directory.glob(".*.partial")], "the killed run left its partial directory"
    assert Journal.for_target(root / ".consolidate", "staging").last(TAKEN) is None
    # the next backup clears what the killed one left, and a partial directory never counted as a backup
    subprocess.run([*argv, "--jobs=2"], check=True, capture_output=True)
    left = _leftovers(root)
    assert len(left) == 1 and left[0].endswith(".dumpdir") and not left[0].startswith(".")
