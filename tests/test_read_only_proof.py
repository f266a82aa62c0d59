"""Read-only proof: every command except ``record`` and the rollbacks leaves the target unwritten.

The target is watched two ways: an event trigger (whose function lives in a managed schema,
so it is not part of the project's schema) records any DDL, and the database's own write
counters (``pg_stat_database`` tuples inserted, updated and deleted, catalogs included, and
``pg_stat_user_tables`` for every table) are read before and after. Autovacuum is off on the
demo's own server, so nothing but the commands could move the counters.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from wizard import demo
from wizard.cli import main
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config

WATCH = """
CREATE TABLE supabase_functions.cw_watch_ddl (at timestamptz DEFAULT clock_timestamp(), tag text, who text);
CREATE FUNCTION supabase_functions.cw_watch_log() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO supabase_functions.cw_watch_ddl (tag, who) VALUES (tg_tag, current_setting('application_name'));
END $$;
CREATE EVENT TRIGGER cw_watch_ddl_end ON ddl_command_end EXECUTE FUNCTION supabase_functions.cw_watch_log();
CREATE EVENT TRIGGER cw_watch_drop ON sql_drop EXECUTE FUNCTION supabase_functions.cw_watch_log();
"""

COUNTERS = """
SELECT (SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()),
       (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables),
       (SELECT count(*) FROM supabase_functions.cw_watch_ddl)
"""


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The demo project with a watched staging target; yields the project and the target's DSN."""
    directory = tmp_path_factory.mktemp("readonly") / "eav"
    demo.prepare(directory)
    cfg = config.load(directory)
    srv = embedded.server(shadow_mod.embedded_root(cfg))
    with psycopg.connect(srv.dsn("postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET autovacuum = off")
        conn.execute("SELECT pg_reload_conf()")
    dsn = srv.dsn("eav_staging")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS supabase_functions")
        conn.execute(WATCH)
        conn.execute("ANALYZE")
    yield directory, dsn
    srv.release()


def counters(dsn: str) -> tuple[int, int, int]:
    """Write counters of the target, after every other session's statistics were flushed."""
    time.sleep(1.2)  # backends flush pending statistics at most once a second and when they exit
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(COUNTERS).fetchone()
    return row[0], row[1], row[2]


def run(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def test_watch_sees_a_write(watched: tuple[Path, str]) -> None:
    """The watch itself works: a DDL and a row change move it."""
    _, dsn = watched
    before = counters(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.cw_probe (id int)")
        conn.execute("INSERT INTO public.cw_probe VALUES (1)")
        conn.execute("DROP TABLE public.cw_probe")
    after = counters(dsn)
    assert after[0] > before[0] and after[2] > before[2]


def test_no_command_but_record_and_rollbacks_writes_to_the_target(watched: tuple[Path, str]) -> None:
    project, dsn = watched
    p = ["--project", str(project), "--target", "staging"]
    commands = [
        ["inspect", *p],
        ["drift", *p],
        ["compare", dsn, dsn],
        ["backup", *p],
        ["verify-backup", *p],
        ["squash", *p],
        ["status", *p],
        ["prune-backups", *p],
        ["archive", *p],
        ["validate", *p],
        ["report", *p],
    ]
    before = counters(dsn)
    codes = {argv[0]: run(*argv) for argv in commands}
    after = counters(dsn)
    assert codes["inspect"] == 0 and codes["backup"] == 0 and codes["verify-backup"] == 0, codes
    assert codes["squash"] == 0, codes
    assert after == before, f"target written to: counters {before} -> {after}; exit codes {codes}"
