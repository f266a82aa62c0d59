"""Backups stay out of git, ``status`` shows where they live, ``prune-backups`` removes only old ones."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_sql
from wizard.cli import main
from wizard.state.journal import Journal, ensure_state_dir

SCHEMA = "create table public.items (id int primary key); insert into public.items select generate_series(1, 50);"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")


def dumps(root: Path) -> list[str]:
    directory = root / ".consolidate" / "backups" / "staging"
    return sorted(p.name for p in directory.iterdir() if "dump" in p.name) if directory.exists() else []


def test_backup_refused_where_git_would_track_it(fresh_db: str, make_project: Callable[..., Path]) -> None:
    root = make_project(fresh_db)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    ignore = ensure_state_dir(root / ".consolidate") / ".gitignore"
    ignore.write_text("# emptied by hand\n")  # .consolidate/ no longer ignored
    code, _, err = cli("backup", "--project", str(root))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: refusing to write the backup .consolidate/backups/staging/")
    assert "git would track it" in lines[0] and "restore .consolidate/.gitignore" in lines[1]
    assert dumps(root) == []
    assert Journal.for_target(root / ".consolidate", "staging").events("backup.taken") == []
    ignore.write_text("*\n")
    assert cli("backup", "--project", str(root))[0] == 0


def test_status_shows_backups_and_prune_keeps_what_the_protocol_relies_on(
    fresh_db: str, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(fresh_db, SCHEMA)
    root = make_project(fresh_db)
    project = ("--project", str(root))
    for _ in range(3):
        assert cli("backup", *project)[0] == 0
    journal = Journal.for_target(root / ".consolidate", "staging")
    first, second, third = (e["path"] for e in journal.events("backup.taken"))
    assert cli("verify-backup", *project, str(root / second))[0] == 0  # the newest, third, stays unverified

    code, out, _ = cli("status", *project, "--json")
    backups = json.loads(out)["backups"]
    assert backups["directory"] == ".consolidate/backups/staging" and backups["files"] == 3
    assert backups["total_bytes"] == sum((root / p).stat().st_size for p in (first, second, third))
    assert backups["satisfies_gate"] == second
    out = cli("status", *project)[1]
    assert (
        f"backups: 3 file(s), {backups['total']} in .consolidate/backups/staging; satisfying the gate: {second}" in out
    )

    out = cli("prune-backups", *project, "--older-than-hours", "1")[1]
    assert "removed 0 backup(s)" in out and len(dumps(root)) == 3
    out = cli("prune-backups", *project, "--keep", "0", "--dry-run")[1]
    assert f"would remove {first}" in out and f"would remove {third}" in out
    assert f"kept {second}" in out and "the verified-backup gate relies on it" in out
    assert len(dumps(root)) == 3 and journal.events("backup.pruned") == []

    code, out, _ = cli("prune-backups", *project)  # --keep 1: the newest and the gate's stay
    assert code == 0
    assert out.splitlines()[0].startswith(f"kept {third}") and f"removed {first}" in out
    assert [Path(p).name for p in (second, third)] == dumps(root)
    (pruned,) = journal.events("backup.pruned")
    assert pruned["path"] == first and pruned["sha256"] and pruned["size"] > 0

    monkeypatch.setenv("CW_TEST_TARGET_DSN", "host=127.0.0.1 port=1 dbname=x connect_timeout=2")  # unreachable
    assert cli("prune-backups", *project, "--keep", "0")[0] == 0
    assert dumps(root) == [Path(second).name]  # still the one the gate relies on
    out = cli("status", *project)[1]
    assert "backups: 1 file(s)" in out and f"not evaluated (target unreachable); newest verified: {second}" in out
