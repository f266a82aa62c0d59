"""Leftovers of a killed run, found by ``status`` and removed by ``status --clean`` (real kill -9, real pg_dump)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql
from tests.test_backup_kill import big_db  # noqa: F401  (fixture)
from tests.test_crash import alive, children, wait_for
from wizard.cli import main
from wizard.platform.shadow import Shadow


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # keep rich from wrapping the lines the tests read


def status(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> dict:
    capsys.readouterr()
    code = main(["status", "--project", str(root), "--json", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def dbnames(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("select datname from pg_database").fetchall()}


def test_kill_9_during_a_real_pg_dump_leaves_no_child_and_status_cleans_the_partial_file(
    fresh_db: str, make_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_sql(fresh_db, "create table public.busy (id int primary key); insert into public.busy values (1)")
    root = make_project(fresh_db)
    with psycopg.connect(fresh_db) as locker:
        locker.execute("lock table public.busy in access exclusive mode")  # pg_dump waits for it
        tool = subprocess.Popen(
            [sys.executable, "-m", "wizard.cli", "backup", "--project", str(root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        dumps = wait_for(lambda: children(tool.pid, "pg_dump", "--format=custom"), 60, "pg_dump to start")
        assert isinstance(dumps, list)
        tool.send_signal(signal.SIGKILL)
        tool.wait(timeout=10)
        wait_for(lambda: not alive(dumps[0]), 10, "pg_dump to die with the tool")
        locker.rollback()

    found = status(capsys, root)["leftovers"]
    [partial] = found["partial_backups"]
    assert partial.startswith(".consolidate/backups/staging/.") and partial.endswith(".partial")
    assert (root / partial).exists() and found["orphaned_processes"] == []
    capsys.readouterr()
    assert main(["status", "--project", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"  - partial backup file {partial}: `consolidate status --clean` removes it" in out

    capsys.readouterr()
    assert main(["inspect", "--project", str(root), "--no-rows"]) in (0, 1)  # any command says so at its start
    assert "note: 1 leftover(s) of a killed run (`consolidate status` lists them;" in capsys.readouterr().out

    cleaned = status(capsys, root, "--clean")
    assert cleaned["cleaned"] == [f"removed partial backup file {partial}"]
    assert cleaned["leftovers"]["partial_backups"] == [] and not (root / partial).exists()
    assert main(["backup", "--project", str(root)]) == 0  # the rerun works
    assert status(capsys, root)["leftovers"]["partial_backups"] == []


ORPHAN = """
import subprocess, sys
from wizard.platform import tools
conninfo, env = tools.child_env(sys.argv[1])
pg_dump = tools.find("pg_dump", 0).path
# Started as an older tool or another OS would: no parent-death signal; then this run dies.
proc = subprocess.Popen([str(pg_dump), "--format=custom", "--lock-wait-timeout=120s", "--file=" + sys.argv[2],
                         "--dbname=" + conninfo], env=env, start_new_session=True,
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(proc.pid, flush=True)
"""


def test_an_orphaned_pg_dump_of_the_project_is_shown_and_stopped(
    fresh_db: str, other_db: str, make_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_sql(other_db, "create table public.busy (id int primary key)")
    root = make_project(fresh_db)
    backups = root / ".consolidate" / "backups" / "staging"
    backups.mkdir(parents=True)
    with psycopg.connect(other_db) as locker:  # another database: status reads the target unhindered
        locker.execute("lock table public.busy in access exclusive mode")
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(ORPHAN), other_db, str(backups / ".x.dump.partial")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pid = int(out.split()[0])
        try:
            assert alive(pid), "the orphan waits for the lock"
            [orphan] = status(capsys, root)["leftovers"]["orphaned_processes"]
            assert orphan["pid"] == pid and orphan["name"] == "pg_dump"
            cleaned = status(capsys, root, "--clean")
            assert f"stopped pg_dump (pid {pid})" in cleaned["cleaned"]
            assert not alive(pid) and cleaned["leftovers"]["orphaned_processes"] == []
        finally:
            if alive(pid):
                subprocess.run(["kill", "-9", str(pid)], check=False)
            locker.rollback()


SCRATCH = """
import os, signal, sys
from wizard.platform.shadow import Shadow
with Shadow(admin_dsn=sys.argv[1]).scratch("verify", bootstrap=False) as dsn:
    print(dsn.split("dbname=")[-1].split()[0], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_scratch_database_of_a_killed_run_is_dropped_and_a_live_one_kept(
    fresh_db: str, make_project: Callable[..., Path], shadow: Shadow, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(fresh_db)
    killed = subprocess.run([sys.executable, "-c", SCRATCH, shadow.admin_dsn], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    name = killed.stdout.split()[0]
    assert name.startswith("cw_scratch_verify_") and name in dbnames(shadow.admin_dsn)
    with shadow.scratch("live") as live_dsn:
        live = psycopg.conninfo.conninfo_to_dict(live_dsn)["dbname"]
        found = status(capsys, root)["leftovers"]["scratch_databases"]
        assert name in found and live not in found
        cleaned = status(capsys, root, "--clean")
        assert f"dropped scratch database {name}" in cleaned["cleaned"]
        assert name not in dbnames(shadow.admin_dsn) and live in dbnames(shadow.admin_dsn)


def test_kill_9_during_a_real_pg_restore_leaves_no_child_and_status_drops_the_scratch_database(
    request: pytest.FixtureRequest,
    make_project: Callable[..., Path],
    shadow: Shadow,
    capsys: pytest.CaptureFixture[str],
) -> None:
    big = request.getfixturevalue("big_db")  # tests.test_backup_kill: enough rows for a restore of seconds
    root = make_project(big)
    assert main(["backup", "--project", str(root)]) == 0
    [dump] = (root / ".consolidate" / "backups" / "staging").glob("*.dump")
    before = {n for n in dbnames(shadow.admin_dsn) if n.startswith("cw_scratch_")}
    tool = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "verify-backup", "--project", str(root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        restores = wait_for(lambda: children(tool.pid, "pg_restore", str(dump)), 120, "pg_restore to start")
        assert isinstance(restores, list)
        tool.send_signal(signal.SIGKILL)
        tool.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in restores), 10, "pg_restore to die with the tool")
    finally:
        if tool.poll() is None:
            tool.kill()
    [scratch] = {n for n in dbnames(shadow.admin_dsn) if n.startswith("cw_scratch_")} - before
    assert scratch.startswith(f"cw_scratch_verify_{tool.pid}_")
    found = status(capsys, root)["leftovers"]
    assert scratch in found["scratch_databases"] and found["orphaned_processes"] == []
    cleaned = status(capsys, root, "--clean")
    assert f"dropped scratch database {scratch}" in cleaned["cleaned"]
    assert scratch not in dbnames(shadow.admin_dsn)
    assert main(["verify-backup", "--project", str(root)]) == 0  # the rerun works
