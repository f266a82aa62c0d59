"""Bad input never loses work: one clear line naming the fix, and a consistent journal.

Covered elsewhere, not repeated here:

* unreachable host: ``tests/test_cli.py::test_bad_input_is_one_line_exit_2`` (and ``tests/test_connect.py``);
* wrong password: ``tests/test_secrets.py::test_wrong_password_is_one_line_naming_the_password_sources``;
* history table shapes in the engine: ``tests/test_history.py``; non-UTF-8 files in the engine:
  ``tests/test_migrations.py::test_not_utf8_is_a_clear_error``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql
from wizard.backup import take
from wizard.cli import main
from wizard.errors import ConfigError
from wizard.project import config as config_mod
from wizard.state.journal import ensure_state_dir

HISTORY_TABLE = (
    "create schema supabase_migrations; "
    "create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text); "
    "insert into supabase_migrations.schema_migrations (version, name) values ('20240101000000', 'init');"
)
FILES = {"20240101000000_init.sql": "create table public.items (id int primary key, payload bytea);\n"}


def cli(*argv: str) -> tuple[int, str, str]:
    """Run ``consolidate ARGV`` with a wide terminal: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")


def assert_one_line_error(err: str, *words: str) -> None:
    """``error: ...`` on one line containing ``words``, then ``fix: ...``, and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error:"), err
    assert lines[1].strip().startswith("fix:"), err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in err


def journal_events(root: Path, target: str = "staging") -> list[dict]:
    """Every line of the journal parses and the seq numbers run 1..n (no half-written event)."""
    path = root / ".consolidate" / target / "journal.jsonl"
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    return events


def test_missing_database(make_project: Callable[..., Path], shadow) -> None:
    root = make_project(shadow.dsn_for("no_such_database_here"), FILES)
    code, _, err = cli("inspect", "--project", str(root))
    assert code == 2
    assert_one_line_error(err, 'database "no_such_database_here" does not exist', "check the database name")
    assert journal_events(root) == []


def test_history_table_of_an_unexpected_shape(fresh_db: str, make_project: Callable[..., Path]) -> None:
    run_sql(fresh_db, "create schema supabase_migrations; create table supabase_migrations.schema_migrations (v int)")
    root = make_project(fresh_db, FILES)
    code, out, _ = cli("inspect", "--project", str(root), "--no-rows")
    assert code == 1
    (line,) = [ln for ln in out.splitlines() if "no version column" in ln]
    assert "fix: this is not a Supabase CLI history table" in line
    assert journal_events(root)[-1]["event"] == "inspect.done"  # the inventory is kept


def test_migration_file_that_is_not_utf8(fresh_db: str, make_project: Callable[..., Path]) -> None:
    run_sql(fresh_db, HISTORY_TABLE)
    root = make_project(fresh_db, FILES)
    (root / "supabase" / "migrations" / "20240102000000_latin1.sql").write_bytes("-- caf\xe9\n".encode("latin-1"))
    for command in ("drift", "squash"):
        code, _, err = cli(command, "--project", str(root))
        assert code == 2, err
        assert_one_line_error(err, "20240102000000_latin1.sql", "not UTF-8", "re-save the file as UTF-8")
    assert journal_events(root) == []


def test_empty_migrations_folder(fresh_db: str, make_project: Callable[..., Path]) -> None:
    run_sql(fresh_db, HISTORY_TABLE)
    root = make_project(fresh_db, {})
    for command, message in (("drift", "holds no migration file"), ("squash", "holds no file to consolidate")):
        code, _, err = cli(command, "--project", str(root))
        assert code == 2, err
        assert_one_line_error(err, message, "fix: set project.migrations_dir")
    code, out, _ = cli("inspect", "--project", str(root), "--no-rows")
    assert code == 1
    (line,) = [ln for ln in out.splitlines() if "holds no migration file" in ln]
    assert "fix: set project.migrations_dir" in line
    assert [e["event"] for e in journal_events(root)] == ["inspect.done"]


def _two_targets(root: Path, production_env: str) -> None:
    toml = (root / "consolidate.toml").read_text()
    production = f'\n[targets.production]\ndsn_env = "{production_env}"\nrole = "production"\n'
    (root / "consolidate.toml").write_text(toml + production)


def test_two_targets_with_the_same_connection(fresh_db: str, make_project: Callable[..., Path]) -> None:
    from screens import steps
    from screens.context import WizardContext

    run_sql(fresh_db, HISTORY_TABLE)
    root = make_project(fresh_db, FILES)
    _two_targets(root, "CW_TEST_TARGET_DSN")
    code, _, err = cli("inspect", "--project", str(root), "--target", "production")
    assert code == 2
    assert_one_line_error(err, "targets staging and production point at the same database", "consolidate.toml")
    ctx = WizardContext(config_mod.load(root), autostart=False)
    with (
        pytest.raises(ConfigError, match="point at the same database"),
        steps.session(ctx, ctx.config.targets["staging"]),
    ):
        pass
    assert journal_events(root, "production") == []


def test_two_targets_reaching_the_same_database(
    fresh_db: str, other_db: str, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging's journal knows the database; production now points at it (swapped environment variables)."""
    run_sql(fresh_db, HISTORY_TABLE)
    root = make_project(fresh_db, FILES)
    _two_targets(root, "CW_TEST_PRODUCTION_DSN")
    monkeypatch.setenv("CW_TEST_PRODUCTION_DSN", other_db)
    assert cli("inspect", "--project", str(root), "--target", "staging", "--no-rows")[0] == 0
    monkeypatch.setenv("CW_TEST_TARGET_DSN", other_db)
    monkeypatch.setenv("CW_TEST_PRODUCTION_DSN", fresh_db)
    code, _, err = cli("status", "--project", str(root), "--target", "production")
    assert code == 2
    assert_one_line_error(err, "targets staging and production point at the same database", "journal of staging")
    assert journal_events(root, "production") == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """``.consolidate/backups`` of a project in ``tmp_path`` on a 32 MiB tmpfs (root only)."""
    backups = ensure_state_dir(tmp_path / ".consolidate") / "backups"
    backups.mkdir(mode=0o700)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(backups)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield backups
    finally:
        subprocess.run(["umount", "-l", str(backups)], check=False)


def test_disk_full_during_backup(
    fresh_db: str, make_project: Callable[..., Path], small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The space check passes, then another process fills the disk while pg_dump writes."""
    run_sql(fresh_db, HISTORY_TABLE + FILES["20240101000000_init.sql"])
    run_sql(
        fresh_db, "insert into public.items select g, extensions.gen_random_bytes(1024) from generate_series(1, 3000) g"
    )
    root = make_project(fresh_db, FILES)
    real_check = take.check_disk_space

    def check_then_fill(directory: Path, database_size: int, factor: float = take.DISK_FACTOR) -> int:
        free = real_check(directory, database_size, factor)
        disk = os.statvfs(small_disk)
        with (small_disk / "filler").open("wb") as filler:  # leave 64 KiB: pg_dump runs out mid-dump
            os.posix_fallocate(filler.fileno(), 0, disk.f_bavail * disk.f_frsize - (64 << 10))
        return free

    monkeypatch.setattr(take, "check_disk_space", check_then_fill)
    code, _, err = cli("backup", "--project", str(root))
    assert code == 2
    assert_one_line_error(err, "the disk is full", "No space left on device", "partial file", "free space")
    assert [p.name for p in (small_disk / "staging").iterdir() if p.name != ".lock"] == []
    assert journal_events(root) == []  # no backup.taken; the journal is still readable
    (small_disk / "filler").unlink()  # space freed: the next backup works
    monkeypatch.setattr(take, "check_disk_space", real_check)
    code, _, err = cli("backup", "--project", str(root))
    assert code == 0, err
    assert [e["event"] for e in journal_events(root)] == ["backup.taken"]


def test_prune_rejects_a_negative_keep(tmp_path: Path) -> None:
    (tmp_path / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [targets.staging]
            dsn_env = "NOWHERE_DSN"
            role = "staging"
            """
        )
    )
    code, _, err = cli("prune-backups", "--project", str(tmp_path), "--keep", "-1")
    assert code == 2
    assert_one_line_error(err, "--keep must be 0 or more")


@pytest.mark.parametrize(
    ("command", "table"),
    [
        ("status", "public.items"),
        ("inspect", "supabase_migrations.schema_migrations"),
    ],
)
def test_a_table_locked_by_another_session_is_one_line_naming_it(
    fresh_db: str, make_project: Callable[..., Path], command: str, table: str
) -> None:
    """Reads give up after lock_timeout with the table, the session holding it and the fix; never a traceback.

    ``record`` under the same lock: tests/test_archive_record.py.
    """
    import psycopg

    run_sql(fresh_db, "create table public.items (id int primary key); " + HISTORY_TABLE)
    root = make_project(fresh_db, FILES)
    with psycopg.connect(fresh_db) as other:
        other.execute(f"lock table {table} in access exclusive mode")
        pid = other.info.backend_pid
        code, _, err = cli(command, "--project", str(root))
    assert code == 2, err
    assert_one_line_error(
        err,
        f"another session (pid {pid}) holds a lock on {table}; the read gave up after lock_timeout 5s",
        f"fix: wait for the other session to finish (a migration or db push?), or end it with "
        f"SELECT pg_terminate_backend({pid})",
    )


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:{pw}%zz@127.0.0.1:1/db",  # libpq quotes the bad token: the password
        "postgresql://u:{pw}@[bad/db",
        "host=x password='{pw}",
        "user=u password={pw} host",
        "postgresql://u:{pw}@127.0.0.1:1/db?sslmode=bogus",
    ],
)
def test_a_malformed_dsn_never_echoes_the_password(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, dsn: str
) -> None:
    secret = "Zq9secretXy"
    root = make_project("host=127.0.0.1 port=1")
    monkeypatch.setenv("CW_TEST_TARGET_DSN", dsn.format(pw=secret))
    for command in ("inspect", "status"):
        code, out, err = cli(command, "--project", str(root))
        assert secret not in out + err, (command, out, err)
        assert "Traceback" not in err
    code, _, err = cli("inspect", "--project", str(root))
    assert code == 2
    assert_one_line_error(err, "error: ")


def test_two_targets_reaching_one_database_by_two_paths_are_both_refused_whichever_connects_first(
    fresh_db: str, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Production's connection reaches staging's database through another socket path: neither may claim it."""
    run_sql(fresh_db, HISTORY_TABLE)
    root = make_project(fresh_db, FILES)
    params = psycopg.conninfo.conninfo_to_dict(fresh_db)
    alias = tmp_path / "same-server"
    alias.symlink_to(params["host"])  # the same socket directory by another name: the settings differ
    monkeypatch.setenv("CW_TEST_PRODUCTION_DSN", psycopg.conninfo.make_conninfo(fresh_db, host=str(alias)))
    _two_targets(root, "CW_TEST_PRODUCTION_DSN")
    code, _, err = cli("inspect", "--project", str(root), "--target", "staging", "--no-rows")
    assert code == 2  # staging connects first, and still claims nothing
    same = "targets staging and production point at the same database"
    assert_one_line_error(err, same, "where production connects now")
    code, _, err = cli("status", "--project", str(root), "--target", "production")
    assert code == 2
    assert_one_line_error(err, same, "where staging connects now")
    assert journal_events(root, "staging") == journal_events(root, "production") == []
