"""A real small tmpfs filling up during ``record`` and during ``verify-backup`` (root only; skipped otherwise).

The disk is filled for real (``posix_fallocate`` of everything left) at the moment another
process would: right after the Phase 4 transaction committed, or right before pg_restore starts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql
from tests.test_archive_record import BASELINE, _ready, cli, small, versions  # noqa: F401  (fixture: small)
from wizard.cli import main
from wizard.platform import embedded, tools
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.record import phase as record
from wizard.state import events
from wizard.state.journal import Journal


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")


@contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """``directory`` on a fresh tmpfs of ``size``, its files copied in; copied back out when unmounted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    saved = directory.with_name(directory.name + ".saved")
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(directory, saved)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        shutil.rmtree(saved)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        shutil.copytree(saved, directory, dirs_exist_ok=True)
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)
        saved.rename(directory)


def fill(disk: Path, leave: int = 0) -> Path:
    """Take every free byte of ``disk`` but ``leave``; the filler file's path."""
    filler = disk / "filler"
    free = os.statvfs(disk)
    with filler.open("wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(free.f_bavail * free.f_frsize - leave, 4096))
    return filler


def one_error_line(out: str) -> str:
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    return errors[0]


def test_a_disk_filling_up_during_record_keeps_the_intent_and_the_target_says_phase_4_is_done(
    request: pytest.FixtureRequest,
    fresh_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = request.getfixturevalue("small")()
    _ready(root, capsys)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with tmpfs(root / ".consolidate" / "staging", "2m") as disk:
        journal = Journal.for_target(root / ".consolidate", "staging")
        lines_before = journal.path.read_bytes()
        real_transact = record.transact

        def commits_then_the_disk_fills(*args, **kwargs):
            results = real_transact(*args, **kwargs)
            fill(disk)
            return results

        monkeypatch.setattr(record, "transact", commits_then_the_disk_fills)
        code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
        monkeypatch.setattr(record, "transact", real_transact)
        assert code == 2 and "recorded;" not in out
        line = one_error_line(out)
        assert line.startswith(
            f"error: target staging recorded the baseline {BASELINE[:14]} (the transaction committed), "
            f"but the journal could not be written: cannot append to the journal {journal.path}: "
        )
        # What is left of the last page takes part of the line (a short write), or nothing fits.
        assert line.endswith("No space left on device") or re.search(r"only \d+ of \d+ bytes were written$", line)
        assert journal.path.read_bytes() == lines_before  # no torn line
        assert (disk / record.PENDING_FILE).exists()
        assert versions(fresh_db) == [BASELINE[:14]]

        code, out = cli(capsys, "status", "--project", str(root), "--json")
        assert code == 0, out
        found = json.loads(out)
        assert next(p for p in found["phases"] if p["key"] == "record")["status"] == "done"
        assert found["phase4_source"] == "target" and found["leftovers"]["pending_intents"]

        (disk / "filler").unlink()
        code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
        assert code == 0 and "completing the journal of a run that stopped after COMMIT" in out
        assert journal.last(events.RECORD_COMMITTED)["recovered"]
        assert not (disk / record.PENDING_FILE).exists()


def test_a_full_disk_before_the_intent_is_written_changes_nothing(
    request: pytest.FixtureRequest, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = request.getfixturevalue("small")()
    _ready(root, capsys)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    before = versions(fresh_db)
    with tmpfs(root / ".consolidate" / "staging", "2m") as disk:
        filler = fill(disk)
        code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
        assert code == 1
        assert one_error_line(out).startswith(f"error: cannot write the intent {disk / record.PENDING_FILE}: ")
        assert "the target was not changed" in out
        assert versions(fresh_db) == before
        filler.unlink()


def test_a_disk_filling_up_during_verify_backup_fails_in_one_line_and_the_scratch_server_stops(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(fresh_db, "create table public.big (id int primary key, pad text)")
    run_sql(fresh_db, "insert into public.big select g, repeat(md5(g::text), 60) from generate_series(1, 20000) g")
    root = tmp_path / "project"
    (root / "supabase" / "migrations").mkdir(parents=True)
    (root / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [targets.staging]
            dsn_env = "CW_TEST_TARGET_DSN"
            role = "staging"

            [backup]
            verify_reserve_mb = 0
            """
        )
    )  # no [shadow]: the project's own embedded server, its data on the small disk
    # (no reserve: the room check passes on the 160 MB disk, and the disk fills once the restore runs)
    monkeypatch.setenv("CW_TEST_TARGET_DSN", fresh_db)
    assert main(["backup", "--project", str(root)]) == 0
    cfg = config.load(root)
    with tmpfs(root / ".consolidate" / "embedded", "160m") as disk:
        real_start = tools.ToolRun.start

        def the_disk_fills_first(self: tools.ToolRun) -> tools.ToolRun:
            if "pg_restore" in Path(self.argv[0]).name:
                fill(disk, leave=2 << 20)
            return real_start(self)

        monkeypatch.setattr(tools.ToolRun, "start", the_disk_fills_first)
        srv = None
        try:
            code, out = cli(capsys, "verify-backup", "--project", str(root))
            monkeypatch.setattr(tools.ToolRun, "start", real_start)
            srv = embedded.server(shadow_mod.embedded_root(cfg))
            assert code == 1 and "Traceback" not in out, out
            [line] = [line for line in out.splitlines() if line.startswith("backup not verified:")]
            assert line.startswith("backup not verified: step restore failed: pg_restore ")
            assert "No space left on device" in line or "server closed the connection" in line, line
        finally:
            if srv is not None:
                srv.release()  # the last user leaves: the scratch server must stop, not hang "shutting down"
        assert not srv.is_running()
        assert not (disk / "pgdata" / "postmaster.pid").exists()
        (disk / "filler").unlink()
