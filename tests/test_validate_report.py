"""Post-execution validation, the security linter, and the consolidation report, on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql
from wizard import report
from wizard.backup.evidence import TAKEN
from wizard.cli import main
from wizard.project import config as config_mod
from wizard.project import test_command
from wizard.state import events
from wizard.state.journal import Journal
from wizard.validate import phase as validate
from wizard.validate import security

# --- the security linter: one planted finding per check ----------------------------------------

CLEAN = """
create table public.notes (id int primary key, body text);
alter table public.notes enable row level security;
create policy notes_read on public.notes for select to authenticated using (true);
create function public.add(a int, b int) returns int language sql set search_path = '' as 'select a + b';
create view public.note_ids with (security_invoker = on) as select id from public.notes;
create extension citext schema extensions;
"""

PLANTED = {
    "rls_disabled_in_public": ("create table public.open_table (id int)", "public.open_table"),
    "policy_exists_rls_disabled": (
        "create schema app; create table app.t (id int); create policy p on app.t using (true)",
        "app.t",
    ),
    "rls_enabled_no_policy": (
        "create table public.locked (id int); alter table public.locked enable row level security",
        "public.locked",
    ),
    "function_search_path_mutable": (
        "create function public.whoami() returns text language sql security definer as 'select current_user'",
        "public.whoami()",
    ),
    "security_definer_view": ("create view public.ids as select id from public.notes", "public.ids"),
    "auth_users_exposed": (
        "create view public.emails with (security_invoker = on) as select email from auth.users",
        "public.emails",
    ),
    "extension_in_public": ("create extension hstore schema public", "hstore"),
}


def _lint(dsn: str) -> list[security.Finding]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return security.lint(conn)


def test_linter_finds_nothing_on_a_clean_schema(fresh_db: str) -> None:
    run_sql(fresh_db, CLEAN)
    assert _lint(fresh_db) == []


@pytest.mark.parametrize("check", sorted(PLANTED))
def test_linter_finds_each_planted_finding(fresh_db: str, check: str) -> None:
    sql, obj = PLANTED[check]
    run_sql(fresh_db, CLEAN)
    run_sql(fresh_db, sql)
    found = {(f.check, f.object): f for f in _lint(fresh_db)}
    assert (check, obj) in found, found
    finding = found[(check, obj)]
    assert finding.level == next(c.level for c in security.CHECKS if c.name == check)
    assert obj.split("(")[0].split(".")[-1] in finding.message
    assert set(found) == {(check, obj)}  # each plant trips its own check and no other


def test_linter_skips_extension_members_and_managed_schemas(fresh_db: str) -> None:
    run_sql(fresh_db, CLEAN + "create table auth.extra (id int); create extension pg_trgm schema extensions;")
    assert _lint(fresh_db) == []


def test_posture_comparison_names_what_appeared_and_disappeared() -> None:
    a = [security.Finding("rls_disabled_in_public", "ERROR", "public.t", "x")]
    b = [
        security.Finding("rls_disabled_in_public", "ERROR", "public.t", "reworded"),
        security.Finding("extension_in_public", "WARN", "hstore", "y"),
    ]
    diff = security.compare(a, b)
    assert not diff.unchanged and diff.common == 1
    assert [f.object for f in diff.only_after] == ["hstore"] and diff.only_before == []
    assert security.levels(b) == {"ERROR": 1, "WARN": 1, "INFO": 0}


# --- validation on a small project, phases simulated where they are not under test --------------

SCHEMA = """
create table public.projects (id int primary key, title text not null);
alter table public.projects enable row level security;
create policy projects_read on public.projects for select to authenticated using (true);
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
"""
OLD_FILE = "20240101000000_init.sql"
BASELINE_FILE = "20240201000000_consolidated_production_schema.sql"


def _history(dsn: str, versions: list[str]) -> None:
    run_sql(
        dsn,
        "create schema if not exists supabase_migrations; "
        "create table if not exists supabase_migrations.schema_migrations (version text primary key, name text); "
        "truncate supabase_migrations.schema_migrations;",
    )
    for v in versions:
        run_sql(dsn, f"insert into supabase_migrations.schema_migrations (version) values ('{v}')")


def _journal(root: Path) -> Journal:
    return Journal.for_target(root / ".consolidate", "staging")


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture
def small(fresh_db: str, make_project) -> Iterator[tuple[Path, str]]:
    """A project one file long, backed up and verified, with a baseline generated (not yet archived)."""
    run_sql(fresh_db, SCHEMA + "insert into public.projects select g, 'p' || g from generate_series(1, 5) g;")
    _history(fresh_db, ["20240101000000"])
    root = make_project(fresh_db, {OLD_FILE: SCHEMA})
    assert main(["backup", "--project", str(root)]) == 0
    assert main(["verify-backup", "--project", str(root)]) == 0
    folder = root / "supabase" / "migrations"
    (folder / BASELINE_FILE).write_text(SCHEMA)
    old_sha = hashlib.sha256((folder / OLD_FILE).read_bytes()).hexdigest()
    _journal(root).append(
        events.SQUASH_GENERATED,
        path=f"supabase/migrations/{BASELINE_FILE}",
        version="20240201000000",
        sha256=hashlib.sha256(SCHEMA.encode()).hexdigest(),
        superseded=[{"file": OLD_FILE, "version": "20240101000000", "sha256": old_sha}],
        data_statements=[],
        data_tables={},
    )
    yield root, fresh_db


def _archive_and_record(root: Path, dsn: str) -> None:
    """What Phases 3 and 4 leave behind: the old file archived, the history holding the baseline only."""
    archive = root / "supabase" / "migrations_archive"
    archive.mkdir()
    shutil.move(root / "supabase" / "migrations" / OLD_FILE, archive / OLD_FILE)
    _history(dsn, ["20240201000000"])


def _set_test_command(root: Path, command: str) -> None:
    toml = root / "consolidate.toml"
    toml.write_text(f"[project]\ntest_command = {json.dumps(command)}\n" + toml.read_text())


def test_validate_fails_before_the_archive(small: tuple[Path, str]) -> None:
    root, _dsn = small
    code, out = _run(["validate", "--project", str(root), "--json"])
    assert code == 1
    result = json.loads(out)
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["fresh_environment"]["status"] == "failed"
    assert (
        OLD_FILE in checks["fresh_environment"]["reason"]
        and "consolidate archive" in checks["fresh_environment"]["reason"]
    )
    assert checks["parity"]["reason"].startswith("not compared")
    assert checks["history_agrees"]["status"] == "failed"
    assert checks["row_counts"]["status"] == "passed" and checks["target_unchanged"]["status"] == "passed"
    assert checks["test_command"]["status"] == "skipped" and "not configured" in checks["test_command"]["reason"]
    record = _journal(root).last(events.VALIDATED)
    assert record is not None and record["passed"] is False and "fresh_environment" in record["failed"]


def test_validate_passes_after_archive_and_record(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    code, out = _run(["validate", "--project", str(root)])
    assert code == 0, out
    assert "validation passed" in out and "✔" in out
    record = _journal(root).last(events.VALIDATED)
    assert record["passed"] is True
    checks = {c["name"]: c for c in record["checks"]}
    assert [c["name"] for c in record["checks"]] == list(validate.CHECKS)
    assert checks["fresh_environment"]["evidence"]["file_count"] == 1
    assert checks["parity"]["evidence"]["identical"] is True
    assert checks["parity"]["evidence"]["kinds"]["table"] == {"target": 1, "fresh": 1, "identical": 1, "matches": True}
    assert checks["row_counts"]["evidence"]["rows_at_backup"] == checks["row_counts"]["evidence"]["rows_now"]
    posture = checks["security_posture"]["evidence"]
    assert [(f["check"], f["object"]) for f in posture["target"]] == [
        ("function_search_path_mutable", "public.touch()")
    ]
    assert posture["only_fresh"] == posture["only_target"] == []


def test_failing_test_command_fails_validation_with_its_output_tail(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    _set_test_command(root, 'for i in $(seq 1 60); do echo "line $i"; done; echo "FAILED test_api" >&2; exit 3')
    code, out = _run(["validate", "--project", str(root)])
    assert code == 1
    assert "exited 3" in out and "FAILED test_api" in out
    tests = next(c for c in _journal(root).last(events.VALIDATED)["checks"] if c["name"] == "test_command")
    assert tests["status"] == "failed" and tests["evidence"]["exit_code"] == 3
    tail = tests["evidence"]["output_tail"].splitlines()
    assert tail[-1] == "FAILED test_api" and "line 1" not in tail and len(tail) == test_command.TAIL_LINES


def test_test_command_sees_the_fresh_environment(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    probe = (
        "python -c \"import os, psycopg; c = psycopg.connect(os.environ['CONSOLIDATE_FRESH_DSN']); "
        "print(c.execute('select count(*) from public.projects').fetchone()[0], os.environ['CONSOLIDATE_TARGET'])\""
    )
    _set_test_command(root, probe.replace("python", str(Path(__import__("sys").executable))))
    code, out = _run(["validate", "--project", str(root)])
    assert code == 0, out
    tests = next(c for c in _journal(root).last(events.VALIDATED)["checks"] if c["name"] == "test_command")
    assert tests["evidence"]["output_tail"].strip() == "0 staging"  # the schema, fresh: no rows


def test_a_row_count_change_after_the_backup_fails_naming_the_table(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    run_sql(dsn, "insert into public.projects values (99, 'late')")
    code, out = _run(["validate", "--project", str(root), "--json"])
    assert code == 1
    rows = next(c for c in json.loads(out)["checks"] if c["name"] == "row_counts")
    assert rows["status"] == "failed"
    assert "public.projects: 5 at backup, 6 now" in rows["reason"]
    assert rows["evidence"]["changed"] == {"public.projects": {"backup": 5, "now": 6}}


def test_a_changed_baseline_is_not_validated(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    (root / "supabase" / "migrations" / BASELINE_FILE).write_text(SCHEMA + "\n-- edited\n")
    code, out = _run(["validate", "--project", str(root), "--json"])
    assert code == 1
    fresh = next(c for c in json.loads(out)["checks"] if c["name"] == "fresh_environment")
    assert "changed since squash wrote it" in fresh["reason"]


def test_a_security_regression_in_the_baseline_fails_the_posture(small: tuple[Path, str]) -> None:
    root, dsn = small
    _archive_and_record(root, dsn)
    baseline = root / "supabase" / "migrations" / BASELINE_FILE
    text = SCHEMA.replace("alter table public.projects enable row level security;\n", "")
    baseline.write_text(text)
    # pretend squash wrote this file, to see the linter (not the hash check) catch it
    record = _journal(root).last(events.SQUASH_GENERATED)
    evidence = {k: v for k, v in record.items() if k not in ("seq", "ts", "event")}
    _journal(root).append(events.SQUASH_GENERATED, **{**evidence, "sha256": hashlib.sha256(text.encode()).hexdigest()})
    code, out = _run(["validate", "--project", str(root), "--json"])
    assert code == 1
    posture = next(c for c in json.loads(out)["checks"] if c["name"] == "security_posture")
    assert posture["status"] == "failed"
    assert "rls_disabled_in_public on public.projects only in the fresh environment" in posture["reason"]


def test_commands_are_documented_and_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "validate-report.md").read_text()
    for command in ("validate", "report"):
        assert f"consolidate {command}" in doc
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert "usage: consolidate" in capsys.readouterr().out
    for name in validate.CHECKS:
        assert f"`{name}`" in doc
    for check in security.CHECK_NAMES:
        assert f"`{check}`" in doc


# --- the report renderer on fabricated journal events -------------------------------------------


def _fabricated(tmp_path: Path, *, complete: bool) -> tuple[config_mod.Config, dict[str, str]]:
    """A project whose journal holds hand-written evidence (no database involved)."""
    (tmp_path / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [targets.staging]
            dsn_env = "NOWHERE_DSN"
            role = "staging"
            """
        )
    )
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    cfg = config_mod.load(tmp_path)
    journal = Journal.for_target(cfg.state_dir, "staging")
    dump = cfg.state_dir / "backups" / "staging" / "db_pre_consolidation_20250928T100000Z.dump"
    dump.parent.mkdir(parents=True)
    dump.write_bytes(b"PGDMP fabricated")
    dump_sha = hashlib.sha256(dump.read_bytes()).hexdigest()
    ident = {
        "host": "db.example",
        "port": "5432",
        "database": "postgres",
        "database_oid": 5,
        "user": "postgres",
        "system_identifier": "7000",
        "server_version": "17.4",
        "server_version_num": 170004,
    }
    files = [
        {"file": f"2025010{i}000000_m{i}.sql", "version": f"2025010{i}000000", "sha256": "0" * 64} for i in range(1, 4)
    ]
    facts = {"dump_sha": dump_sha}
    journal.append(
        TAKEN,
        target="staging",
        role="staging",
        path=str(dump.relative_to(tmp_path)),
        size=16,
        sha256=dump_sha,
        identity=ident,
        schema_fingerprint="f" * 64,
        inventory_counts={},
        row_counts={"public.a": 311, "public.b": 2, "auth.users": 4},
        large_objects=0,
        database_size=9000,
        pg_dump={"version": "17.4"},
        started_at="2025-09-28T10:00:00.000000Z",
        finished_at="2025-09-28T10:00:01.000000Z",
    )
    journal.append(
        events.BACKUP_VERIFIED,
        backup_path=str(dump.relative_to(tmp_path)),
        sha256=dump_sha,
        passed=True,
        reason="all steps passed",
        steps=[{"step": "restore", "passed": True, "summary": "restored in 1.0 s"}],
    )
    journal.append(
        events.INSPECTED,
        identity=ident,
        counts={"tables": 2, "indexes": 3, "functions": 1, "policies": 2, "triggers": 0, "constraints": 4, "rows": 313},
        row_counts={"public.a": 311, "public.b": 2},
        fingerprint="f" * 64,
        files=files,
        data_statements=[
            {"file": files[1]["file"], "line": 7, "kind": "InsertStmt", "category": "data", "target": "storage.buckets"}
        ],
    )
    if complete:
        journal.append(
            events.DRIFT_CHECKED,
            identity=ident,
            replay_ok=True,
            replay_seconds=0.731,
            identical=False,
            differences=[
                {
                    "kind": "constraint",
                    "name": "public.b.b_a_fkey",
                    "status": "different",
                    "explanation": "ON DELETE CASCADE in the target, NO ACTION in the migrations",
                }
            ],
        )
        baseline = cfg.migrations_dir / "20250928100000_consolidated_production_schema.sql"
        baseline.write_text("create table public.a (id int);\n")
        base_sha = hashlib.sha256(baseline.read_bytes()).hexdigest()
        facts["base_sha"] = base_sha
        journal.append(
            events.SQUASH_GENERATED,
            path=str(baseline.relative_to(tmp_path)),
            version="20250928100000",
            sha256=base_sha,
            superseded=files,
            data_statements=[
                {
                    "file": files[1]["file"],
                    "line": 7,
                    "kind": "InsertStmt",
                    "category": "data",
                    "target": "storage.buckets",
                },
                {"file": files[2]["file"], "line": 3, "kind": "UpdateStmt", "category": "data", "target": "public.b"},
                {"file": files[2]["file"], "line": 9, "kind": "DoStmt", "category": "procedural", "target": None},
            ],
            data_tables={"public.b": 2},
        )
        journal.append(
            events.SQUASH_PROVED,
            path=str(baseline.relative_to(tmp_path)),
            version="20250928100000",
            sha256=base_sha,
            kinds={"table": "2/2", "index": "3/3", "policy": "2/2"},
            excluded_from_comparison=[],
            data={"public.b": {"expected": 2, "applied": 2, "reapplied": 2, "ok": True}},
            provisioning={
                "history": {"files": 3, "ok": True, "seconds": 0.4321, "runs": [0.4, 0.43, 0.5], "failure": None},
                "baseline": {"files": 1, "ok": True, "seconds": 0.0812, "runs": [0.08, 0.09, 0.081], "failure": None},
                "speedup": 5.32,
            },
            differences=[],
        )
    return cfg, facts


def test_report_without_later_phases_says_not_measured(tmp_path: Path) -> None:
    cfg, facts = _fabricated(tmp_path, complete=False)
    built = report.build_report(cfg, "staging")
    text = report.render_markdown(built)
    assert "313 rows across 2 tables" in text
    assert facts["dump_sha"] in text and "✅ passed" in text
    assert built.facts["metrics"]["files_before"] == 3 and built.facts["metrics"]["files_after"] is None
    assert "**Migrations after:** _not measured_" in text and "**Reduction:** _not measured_" in text
    assert "pending: no baseline generated yet" in text
    assert "⏳ IN PROGRESS" in text
    assert "Fresh environment vs the target:** not measured" in text


def test_report_shows_journal_numbers_only(tmp_path: Path) -> None:
    cfg, facts = _fabricated(tmp_path, complete=True)
    built = report.build_report(cfg, "staging")
    text = report.render_markdown(built)
    m = built.facts["metrics"]
    assert (m["files_before"], m["files_after"], m["rows"]) == (3, None, 313)
    assert "✅ 2/2 match" in text and "✅ 3/3 match" in text
    assert "0.43 s" in text and "0.08 s" in text and "5.32 x" in text and "0.73 s" in text
    assert "the baseline carries the target's version" in text and "b_a_fkey" in text
    assert "storage.buckets belongs to Supabase" in text and "a fresh environment will not have it" in text
    fates = {s["target"]: s["fate"] for s in built.facts["data_statements"]}
    assert fates["public.b"] == (
        "carried into the baseline as data (2 row(s) from the target); the proof applied 2 and, applied twice, "
        "still 2 (ok)"
    )
    assert fates[None].startswith("not replayed: the baseline is the schema only")
    assert '--dbname="$NOWHERE_DSN"' in text and "--single-transaction" in text
    assert "consolidate rollback restore --target staging" in text
    assert facts["base_sha"] in text and "file present, sha256 unchanged" in text
    # the file on disk changes: the report says so instead of repeating the record
    (cfg.migrations_dir / "20250928100000_consolidated_production_schema.sql").write_text("-- edited\n")
    assert "CHANGED since it was generated" in report.render_markdown(report.build_report(cfg, "staging"))


# --- the whole protocol on the demo project, through the CLI -------------------------------------


@dataclass
class Demo:
    directory: Path
    outputs: dict[str, tuple[int, str]]

    @property
    def config(self) -> config_mod.Config:
        return config_mod.load(self.directory)

    @property
    def journal(self) -> Journal:
        return Journal.for_target(self.directory / ".consolidate", "staging")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo project taken through every phase on staging, then validated and reported."""
    from wizard.platform import embedded
    from wizard.platform import shadow as shadow_mod

    directory = tmp_path_factory.mktemp("demo") / "eav"
    project = ["--project", str(directory), "--target", "staging"]
    outputs: dict[str, tuple[int, str]] = {}
    assert _run(["demo", "--prepare-only", str(directory)])[0] == 0
    try:
        for step in (["backup"], ["verify-backup"], ["inspect"], ["drift"]):
            outputs[step[0]] = _run([*step, *project])
        for step in (["squash"], ["archive"], ["record", "--confirm", "eav_staging"], ["validate"], ["report"]):
            outputs[step[0]] = _run([*step, *project])
        outputs["report --json"] = _run(["report", *project, "--json"])
        yield Demo(directory, outputs)
    finally:
        embedded.server(shadow_mod.embedded_root(config_mod.load(directory))).release()


def test_demo_protocol_validates(demo_run: Demo) -> None:
    outputs = demo_run.outputs
    for step in ("backup", "verify-backup", "inspect", "squash", "archive", "record"):
        assert outputs[step][0] == 0, outputs[step][1]
    assert outputs["drift"][0] == 1  # the demo's hand-made drift
    code, out = outputs["validate"]
    assert code == 0, out
    record = demo_run.journal.last(events.VALIDATED)
    statuses = {c["name"]: c["status"] for c in record["checks"]}
    assert statuses == {**dict.fromkeys(validate.CHECKS, "passed"), "test_command": "skipped"}
    checks = {c["name"]: c["evidence"] for c in record["checks"]}
    assert checks["fresh_environment"]["file_count"] == 1
    assert checks["parity"]["kinds"]["table"] == {"target": 7, "fresh": 7, "identical": 7, "matches": True}
    assert checks["row_counts"]["changed"] == {} and checks["row_counts"]["missing"] == []
    assert checks["history_agrees"]["remote"] == checks["history_agrees"]["local"]
    # the staging rehearsal is what production's gate asks for
    from wizard.state import protocol

    assert protocol.STAGING_REHEARSAL(demo_run.config).passed


def test_demo_report_holds_only_journal_numbers(demo_run: Demo) -> None:
    code, out = demo_run.outputs["report"]
    assert code == 0, out
    journal = demo_run.journal
    path = report.default_path(demo_run.config, "staging")
    text = path.read_text()
    written = journal.last(events.REPORT_WRITTEN)
    assert written["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    inspected = journal.events(events.INSPECTED)[0]
    rows, tables = sum(inspected["row_counts"].values()), len(inspected["row_counts"])
    assert (rows, tables) == (467, 7)
    assert f"{rows} rows across {tables} tables" in text
    generated = journal.last(events.SQUASH_GENERATED)
    assert len(generated["superseded"]) == 14
    assert "**Migrations before:** 14 files" in text and "**Migrations after:** 1 file(s)" in text
    assert "**Reduction:** 92.9% fewer migration files" in text
    taken = journal.last(TAKEN)
    assert f"**sha256:** `{taken['sha256']}`" in text and taken["path"] in text
    assert "**Verification:** ✅ passed" in text
    assert generated["sha256"] in text
    proved = journal.last(events.SQUASH_PROVED)
    assert f"✅ {proved['kinds']['table']} match" in text and proved["kinds"]["table"] == "7/7"
    assert f"✅ {proved['kinds']['policy']} match" in text
    assert "**Status:** ✅ COMPLETE" in text
    assert "consolidate rollback record --target staging" in text
    assert "consolidate rollback archive --target staging" in text
    assert "pg_restore" in text and "--single-transaction" in text
    assert "storage.buckets" in text  # the demo's one data statement, and its fate
    assert "videos_project_id_fkey" in text  # drift, and how the baseline resolves it

    facts = json.loads(demo_run.outputs["report --json"][1])
    assert facts["metrics"]["rows"] == 467 and facts["metrics"]["files_before"] == 14
    assert facts["metrics"]["files_after"] == 1 and facts["metrics"]["reduction_percent"] == 92.9
    assert facts["backup"]["sha256"] == taken["sha256"]
    assert facts["validation"]["passed"] is True
    assert facts["written"]["sha256"] == journal.last(events.REPORT_WRITTEN)["sha256"]


def test_a_test_command_that_hangs_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    cfg = config_mod.from_dict(tmp_path, {"project": {"test_command": "echo started; sleep 30"}})
    target = config_mod.Target("staging", "staging", config_mod.DsnSource(dsn_env="UNUSED"))
    result = validate.run_test_command(cfg, target, None, timeout=0.5)
    assert not result.passed and result.evidence["timed_out"] is True
    assert "did not finish within 0.5 s" in result.reason and result.evidence["output_tail"] == "started"
    assert result.evidence["seconds"] < 10


def test_report_command_writes_where_told_and_journals_the_hash(tmp_path: Path) -> None:
    cfg, _facts = _fabricated(tmp_path, complete=True)
    out_file = tmp_path / "docs" / "consolidation.md"
    code, printed = _run(["report", "--project", str(tmp_path), "--output", str(out_file)])
    assert code == 0 and "Database Migration Consolidation Report" in printed
    written = Journal.for_target(cfg.state_dir, "staging").last(events.REPORT_WRITTEN)
    assert written["path"] == "docs/consolidation.md"
    assert written["sha256"] == hashlib.sha256(out_file.read_bytes()).hexdigest()
    assert not report.default_path(cfg, "staging").exists()
