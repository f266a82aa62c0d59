"""A PostgreSQL 16-or-older scratch server and the bundled pg_restore 18 (``SET transaction_timeout``).

Runs against ``CW_TEST_SECOND_DSN`` (the system PostgreSQL 15 in CI); skipped without it.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import SECOND_ENV
from wizard.cli import main
from wizard.platform import tools

pytestmark = pytest.mark.second_server


@pytest.fixture
def old_target() -> Iterator[str]:
    """A database on the older server, with rows; dropped afterwards."""
    admin = os.environ.get(SECOND_ENV)
    if not admin:
        pytest.skip(f"{SECOND_ENV} is not set")
    name = f"cw_old_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.info.server_version >= 170000:
            pytest.skip("the second server is PostgreSQL 17 or newer: it has transaction_timeout")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = psycopg.conninfo.make_conninfo(admin, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create table public.t (id int primary key, v text)")
        conn.execute("insert into public.t select g, md5(g::text) from generate_series(1, 500) g")
    try:
        yield dsn
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_verify_backup_on_an_older_scratch_server(
    old_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [shadow]
            kind = "dsn"
            dsn_env = "CW_OLD_SHADOW"

            [targets.staging]
            dsn_env = "CW_OLD_TARGET"
            role = "staging"
            """
        )
    )
    monkeypatch.setenv("CW_OLD_SHADOW", os.environ[SECOND_ENV])
    monkeypatch.setenv("CW_OLD_TARGET", old_target)
    assert main(["backup", "--project", str(tmp_path)]) == 0
    assert main(["verify-backup", "--project", str(tmp_path)]) == 0


def test_pg_restore_18_into_an_older_server_is_whole_despite_transaction_timeout(
    old_target: str, tmp_path: Path
) -> None:
    """The plain restore path: pg_restore exits 1 for the SET it could not run, and nothing else."""
    dump = tmp_path / "t.dump"
    conninfo, env = tools.child_env(old_target)
    pg_dump = tools.find("pg_dump", 18).path
    pg_restore = tools.find("pg_restore", 18).path
    made = tools.ToolRun([str(pg_dump), "--format=custom", f"--file={dump}", f"--dbname={conninfo}"], env).start()
    assert made.wait() == 0
    admin = os.environ[SECOND_ENV]
    copy = f"cw_old_copy_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(copy)))
    try:
        into, env = tools.child_env(psycopg.conninfo.make_conninfo(admin, dbname=copy))
        run = tools.ToolRun([str(pg_restore), "--jobs=2", f"--dbname={into}", str(dump)], env).start()
        code = run.wait()
        assert code == 1 and run.ignored >= 1 and run.errors == []  # the SET, once per connection
        assert not run.failed(code), "\n".join(run.tail)
        with psycopg.connect(psycopg.conninfo.make_conninfo(admin, dbname=copy)) as conn:
            assert conn.execute("select count(*) from public.t").fetchone() == (500,)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy)))
