"""A backup stopped midway leaves no file that looks complete, and no journal record."""

from __future__ import annotations

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


def test_ctrl_c_on_the_cli_removes_the_partial_file(big_db: str, make_project) -> None:
    root = make_project(big_db)
    directory = root / ".consolidate" / "backups" / "staging"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "backup", "--project", str(root), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            partial = list(directory.glob(".*.partial")) if directory.exists() else []
            if partial and partial[0].stat().st_size > 256 * 1024:
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
