"""Phase 2 (``consolidate squash``) on real PostgreSQL: the demo project, hand-made projects, version skew."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run_sql
from wizard import demo
from wizard.cli import main
from wizard.db.connect import open_session
from wizard.errors import EXIT_USAGE, WizardError
from wizard.history import files as migrations
from wizard.history.replay import replay
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.squash import baseline as baseline_mod
from wizard.squash.dump import clean
from wizard.state import events
from wizard.state.journal import Journal

# --- the demo project ------------------------------------------------------------------------


def _cli_json(*argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*argv, "--json"])
    return code, json.loads(out.getvalue())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo project (14 migrations, staging and production with drift), built once."""
    directory = tmp_path_factory.mktemp("squash") / "eav"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--prepare-only", str(directory)]) == 0
    yield directory
    embedded.server(shadow_mod.embedded_root(config.load(directory))).release()


@pytest.fixture(scope="module")
def squashed(project: Path) -> tuple[int, dict]:
    """``consolidate squash --target staging --json`` on the demo, run once."""
    return _cli_json("squash", "--project", str(project), "--target", "staging")


def _baselines(project: Path) -> list[Path]:
    return sorted((project / "supabase" / "migrations").glob("*_consolidated_production_schema.sql"))


def test_demo_baseline_is_proved_at_full_parity(squashed: tuple[int, dict]) -> None:
    code, data = squashed
    proof = data["proof"]
    assert code == 0 and proof["proved"], proof["reason"]
    kinds = proof["kinds"]
    assert {k: kinds[k] for k in ("table", "index", "function", "policy", "trigger")} == {
        "table": "7/7",
        "index": "16/16",
        "function": "7/7",
        "policy": "18/18",
        "trigger": "2/2",
    }
    assert all(a == b for a, b in (v.split("/") for v in kinds.values())), kinds
    assert proof["parity"]["identical"] and proof["parity"]["differences"] == []
    timing = proof["provisioning"]
    assert timing["history"]["ok"] and timing["history"]["files"] == 14 and timing["history"]["seconds"] > 0
    assert timing["baseline"]["ok"] and timing["baseline"]["files"] == 1 and timing["baseline"]["seconds"] > 0
    assert timing["speedup"] == pytest.approx(timing["history"]["seconds"] / timing["baseline"]["seconds"], rel=0.05)


def test_demo_baseline_file_is_plain_sql_with_provenance(project: Path, squashed: tuple[int, dict]) -> None:
    _, data = squashed
    (path,) = _baselines(project)
    assert str(path.relative_to(project)) == data["baseline"]["path"]
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == baseline_mod.MARKER
    assert not [line for line in lines if line.startswith("\\")]
    assert "transaction_timeout" not in text
    assert not re.search(r"CREATE SCHEMA (IF NOT EXISTS )?public\b", text)
    assert "password" not in text.lower()
    owners = set(re.findall(r"OWNER TO (\S+);", text))
    assert owners == {"postgres"}
    assert "CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users" in text
    assert "ON DELETE CASCADE" in text and "idx_scripts_video_id" in text
    assert "-- Target: staging (role staging)" in text and "-- Server: PostgreSQL" in text
    assert re.search(r"^-- pg_dump: \d+", text, re.M) and re.search(r"^-- Generated at: \d{4}-.*Z$", text, re.M)
    mset = migrations.discover(project / "supabase" / "migrations")
    old = [f for f in mset.files if f.path != path]
    assert len(old) == 14
    for f in old:
        assert f"--   {f.version}  {f.filename}  {f.sha256}" in text
    # Rows the history wrote are carried by default, read from the fresh environment it builds.
    assert "20250301093000_script_status_and_exports.sql:32: INSERT storage.buckets  [rows carried below]" in text
    version = path.name.split("_", 1)[0]
    assert len(version) == 14 and int(version) > max(int(f.version) for f in old)
    assert datetime.strptime(version, "%Y%m%d%H%M%S").replace(tzinfo=UTC) <= datetime.now(UTC)
    # The session is given back; only the carried rows follow.
    after_reset = text[text.rindex("\nRESET ") :].splitlines()[1:]
    assert all(not line or line.startswith(("RESET ", "INSERT ", "SELECT ", "--")) for line in after_reset)


def test_demo_journal_records_generation_and_proof(project: Path, squashed: tuple[int, dict]) -> None:
    _, data = squashed
    journal = Journal.for_target(project / ".consolidate", "staging")
    generated, proved = journal.last(events.SQUASH_GENERATED), journal.last(events.SQUASH_PROVED)
    assert generated and proved and proved["seq"] > generated["seq"]
    assert generated["sha256"] == data["baseline"]["sha256"] == proved["sha256"]
    assert generated["path"] == proved["path"] == data["baseline"]["path"]
    assert [s["file"] for s in generated["superseded"]] == [f for f in demo.migration_sources()]
    assert generated["identity"]["database"] == "eav_staging"
    assert generated["data_statements"][0]["target"] == "storage.buckets"
    assert proved["kinds"]["policy"] == "18/18"
    assert proved["provisioning"]["history"]["runs"] and proved["provisioning"]["baseline"]["runs"]


def test_demo_squash_again_keeps_the_same_file(project: Path, squashed: tuple[int, dict]) -> None:
    _, first = squashed
    before = _baselines(project)
    code, again = _cli_json("squash", "--project", str(project), "--target", "staging", "--rounds", "1")
    assert code == 0
    assert again["baseline"]["reused"] is True
    assert again["baseline"]["sha256"] == first["baseline"]["sha256"]
    assert again["baseline"]["path"] == first["baseline"]["path"]
    assert _baselines(project) == before and len(before) == 1


def test_demo_include_data_carries_storage_buckets_idempotently(
    project: Path, squashed: tuple[int, dict], fresh_db: str
) -> None:
    _, first = squashed
    code, data = _cli_json(
        "squash", "--project", str(project), "--target", "staging", "--include-data", "storage.buckets", "--rounds", "1"
    )
    assert code == 0, data["proof"]["reason"]
    assert data["baseline"]["version"] == first["baseline"]["version"]  # rewritten, not a second baseline
    assert data["baseline"]["sha256"] != first["baseline"]["sha256"]
    assert data["baseline"]["data_tables"] == {"storage.buckets": 1}
    assert data["proof"]["data"] == {"storage.buckets": {"expected": 1, "applied": 1, "reapplied": 1, "ok": True}}
    (path,) = _baselines(project)
    text = path.read_text()
    assert "INSERT INTO storage.buckets" in text and "ON CONFLICT DO NOTHING" in text
    assert "INSERT storage.buckets  [rows carried below]" in text
    # The whole file's inserts, applied twice to a fresh database, leave one row.
    inserts = [s.text for s in migrations.load_file(path).statements if s.node == "InsertStmt"]
    for _ in range(2):
        for statement in inserts:
            run_sql(fresh_db, statement)
    with open_session(fresh_db) as conn:
        assert conn.execute("SELECT id, public FROM storage.buckets").fetchall() == [("script-exports", False)]


def test_demo_production_adopts_the_staging_baseline(project: Path, squashed: tuple[int, dict]) -> None:
    """One baseline per project: production proves staging's file instead of writing its own."""
    (before,) = _baselines(project)
    digest = before.read_bytes()
    code, data = _cli_json("squash", "--project", str(project), "--target", "production", "--rounds", "1")
    assert code == 0, data["proof"]["reason"]
    (path,) = _baselines(project)
    assert path == before and path.read_bytes() == digest  # staging's recorded sha256 stays valid
    assert data["baseline"]["adopted_from"] == "staging"
    made = Journal.for_target(project / ".consolidate", "staging").last(events.SQUASH_GENERATED)
    assert made is not None and data["baseline"]["carried"] == made["carried"]  # as staging's generation recorded it
    assert data["proof"]["fresh"]["ok"] and data["proof"]["fresh"]["checks"]["rows"]["compared"] == 1
    assert len(data["baseline"]["superseded"]) == 14
    assert Journal.for_target(project / ".consolidate", "production").last(events.SQUASH_PROVED) is not None


def test_unknown_include_data_table_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["squash", "--project", str(project), "--target", "staging", "--include-data", "public.nope"])
    assert code == EXIT_USAGE
    assert "public.nope" in capsys.readouterr().err


# --- hand-made projects ----------------------------------------------------------------------

MANAGED = {
    "20240101000000_init.sql": """
        create extension if not exists pg_trgm with schema extensions;
        create schema app;
        create type app.mood as enum ('ok', 'meh');
        create table app.notes (id bigint generated always as identity primary key, body text, mood app.mood);
        create index notes_body_trgm on app.notes using gin (body extensions.gin_trgm_ops);
        create table public.tags (name text, weight int);
        revoke all on table app.notes from anon;
        grant usage on schema app to authenticated;
        grant select on table app.notes to authenticated;
        comment on table app.notes is 'a note';
        create function public.on_signup() returns trigger language plpgsql security definer
            set search_path = '' as $$ begin return new; end $$;
        create trigger on_signup after insert on auth.users for each row execute function public.on_signup();
        create policy "own media" on storage.objects for select to authenticated
            using (bucket_id = 'media' and owner = (select auth.uid()));
        alter publication supabase_realtime add table app.notes;
        insert into public.tags values ('a', 1), ('b', NULL);
    """,
}


def test_managed_objects_extensions_privileges_and_rows_without_a_key(fresh_db, make_project, capsys) -> None:
    for text in MANAGED.values():
        run_sql(fresh_db, text)
    project = make_project(fresh_db, MANAGED)
    code = main(["squash", "--project", str(project), "--include-data", "public.tags", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, (data["proof"]["reason"], data["proof"]["parity"]["differences"])
    kinds = data["proof"]["kinds"]
    assert kinds["trigger"] == "1/1" and kinds["policy"] == "1/1" and kinds["publication_member"] == "1/1"
    assert data["proof"]["data"]["public.tags"] == {"expected": 2, "applied": 2, "reapplied": 2, "ok": True}
    text = (project / data["baseline"]["path"]).read_text()
    assert "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;" in text
    assert 'CREATE POLICY "own media" ON storage.objects AS PERMISSIVE FOR SELECT TO authenticated' in text
    assert "ALTER PUBLICATION supabase_realtime ADD TABLE ONLY app.notes;" in text
    assert "CREATE SCHEMA IF NOT EXISTS app;" in text
    assert "WHERE NOT EXISTS" in text  # public.tags has no key: rows are guarded by their content


def test_history_that_cannot_replay_still_squashes_from_the_target(fresh_db, make_project, capsys) -> None:
    files = {
        "20240101000000_lookups.sql": "create table public.kinds (id int primary key, label text not null);",
        "20240102000000_items.sql": """
            create table public.items (id int primary key, kind_id int not null references public.kinds (id));
            insert into public.items values (1, 42);
        """,
    }
    run_sql(fresh_db, files["20240101000000_lookups.sql"])
    run_sql(fresh_db, "insert into public.kinds values (42, 'only on the target')")
    run_sql(fresh_db, files["20240102000000_items.sql"])
    project = make_project(fresh_db, files)
    code = main(["squash", "--project", str(project), "--include-data", "kinds", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data["proof"]["reason"]
    history = data["proof"]["provisioning"]["history"]
    assert history["ok"] is False and "20240102000000_items.sql" in history["failure"]
    assert "foreign key" in history["failure"]
    assert data["proof"]["provisioning"]["speedup"] is None
    assert data["proof"]["kinds"]["table"] == "2/2" and data["proof"]["data"]["public.kinds"]["ok"]
    assert [s["file"] for s in data["baseline"]["data_statements"]] == ["20240102000000_items.sql"]


def test_ownership_by_another_role_fails_the_proof_and_says_why(fresh_db, make_project, capsys) -> None:
    files = {"20240101000000_t.sql": "create table public.owned (id int primary key);"}
    run_sql(
        fresh_db,
        "do $$ begin if not exists (select from pg_roles where rolname = 'cw_squash_owner') then "
        "create role cw_squash_owner nologin; end if; end $$;",
    )
    run_sql(fresh_db, files["20240101000000_t.sql"] + " alter table public.owned owner to cw_squash_owner;")
    project = make_project(fresh_db, files)
    code = main(["squash", "--project", str(project), "--rounds", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["baseline"]["dropped_owners"] == [{"object": "TABLE public.owned", "role": "cw_squash_owner"}]
    assert data["proof"]["proved"] is False and "table" in data["proof"]["reason"]
    record = Journal.for_target(project / ".consolidate", "staging").last(events.SQUASH_PROOF_FAILED)
    assert record is not None and record["sha256"] == data["baseline"]["sha256"]
    assert any("cw_squash_owner" in d["explanation"] for d in record["differences"])
    # Nothing unproved stays in the migrations folder: the baseline is set aside in the project's state.
    assert not (project / data["baseline"]["path"]).exists()
    assert record["set_aside"].startswith(".consolidate/staging/rejected/")
    text = (project / record["set_aside"]).read_text()
    assert "dropped OWNER TO cw_squash_owner of TABLE public.owned" in text


def test_no_file_to_consolidate_is_refused(fresh_db, make_project, capsys) -> None:
    project = make_project(fresh_db, {})
    assert main(["squash", "--project", str(project)]) == EXIT_USAGE
    assert "no file to consolidate" in capsys.readouterr().err


@pytest.mark.second_server
def test_version_skew_postgres_15_target_proves_on_the_embedded_18_shadow(second_shadow, make_project, capsys):
    sources = demo.migration_sources()
    with second_shadow.scratch("squash_skew") as target:
        for text in sources.values():
            run_sql(target, text)
        run_sql(target, demo.drift_sql())
        project = make_project(target, sources)
        code = main(["squash", "--project", str(project), "--rounds", "1", "--json"])
        data = json.loads(capsys.readouterr().out)
    proof = data["proof"]
    assert code == 0, (proof["reason"], proof["parity"] and proof["parity"]["differences"])
    assert data["identity"]["server_version"].startswith("15")
    assert proof["parity"]["server_b"].startswith("18")
    assert proof["kinds"]["policy"] == "18/18" and proof["kinds"]["trigger"] == "2/2"
    text = (project / data["baseline"]["path"]).read_text()
    assert "transaction_timeout" not in text and not re.search(r"(?m)^\\", text)


# --- pure functions --------------------------------------------------------------------------

RAW_DUMP = """\
--
-- PostgreSQL database dump
--

\\restrict AbC123

SET statement_timeout = 0;
SET transaction_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
COMMENT ON SCHEMA public IS 'standard public schema';
CREATE SCHEMA app;
ALTER SCHEMA app OWNER TO postgres;

CREATE FUNCTION app.f() RETURNS text LANGUAGE sql AS $$ SELECT '\\restrict x' $$;
ALTER FUNCTION app.f() OWNER TO analyst;
CREATE TABLE app.t (id int);
ALTER TABLE app.t OWNER TO postgres;
ALTER TABLE ONLY app.t ALTER COLUMN id SET (pg_attver=125212224);
ALTER TABLE ONLY app.t ALTER COLUMN id SET (pg_attver=7, n_distinct=-1);
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA app GRANT ALL ON TABLES TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA app GRANT ALL ON TABLES TO anon;

\\unrestrict AbC123
"""


def test_clean_rewrites_a_dump_for_the_supabase_cli() -> None:
    cleaned = clean(RAW_DUMP)
    sql = cleaned.sql
    assert "\\restrict AbC123" not in sql and "\\unrestrict" not in sql
    assert "$$ SELECT '\\restrict x' $$" in sql  # a function body is never touched
    assert "transaction_timeout" not in sql
    assert "CREATE SCHEMA public" not in sql and "pg_database_owner" not in sql and "standard public" not in sql
    assert "CREATE SCHEMA IF NOT EXISTS app;" in sql
    assert "OWNER TO analyst" not in sql and cleaned.dropped_owners == [("FUNCTION app.f()", "analyst")]
    assert "ALTER TABLE app.t OWNER TO postgres;" in sql and "ALTER SCHEMA app OWNER TO postgres;" in sql
    assert "FOR ROLE supabase_admin" not in sql and "FOR ROLE postgres IN SCHEMA app" in sql
    assert "pg_attver" not in sql and "ALTER TABLE ONLY app.t ALTER COLUMN id SET (n_distinct = -1);" in sql
    assert cleaned.settings == ["statement_timeout", "search_path"]
    assert cleaned.reset_sql == "RESET statement_timeout;\nRESET search_path;\n"


def test_next_version_is_later_than_every_version_and_not_before_now() -> None:
    now = datetime(2025, 9, 28, 10, 0, 0, tzinfo=UTC)
    assert baseline_mod.next_version(["20250101090000", "20250915100000"], now) == "20250928100000"
    assert baseline_mod.next_version(["20250928100000"], now) == "20250928100001"
    assert baseline_mod.next_version(["20261231235959", "7"], now) == "20270101000000"
    with pytest.raises(WizardError, match="later than any timestamp"):
        baseline_mod.next_version(["99999999999999999"], now)


def test_cleaned_dump_applies_and_gives_the_session_back(tmp_path: Path, fresh_db: str) -> None:
    cleaned = clean(RAW_DUMP.replace("analyst", "postgres"))
    path = tmp_path / "20250101000000_consolidated_production_schema.sql"
    path.write_text(baseline_mod.MARKER + "\n" + cleaned.sql + cleaned.reset_sql)
    assert baseline_mod.is_baseline(path)
    baseline = migrations.load_file(path)
    assert baseline.error is None
    with open_session(fresh_db, read_only=False) as conn:
        before = conn.execute("SHOW search_path").fetchone()[0]
        for statement in baseline.statements:
            conn.execute(statement.text)
        assert conn.execute("SHOW search_path").fetchone()[0] == before
    assert replay([baseline], fresh_db).failure is not None  # a second run meets the objects it created


def test_clean_never_touches_whitespace_inside_a_statement() -> None:
    body = "CREATE FUNCTION app.g() RETURNS text LANGUAGE sql AS $$ SELECT 'a   \n\n\n\n\nb' $$;"
    cleaned = clean(f"SET lock_timeout = 0;\n\n\n\n\n\n{body}\n\n\n\n\n")
    assert cleaned.sql == f"SET lock_timeout = 0;\n\n\n{body}\n"


def test_squash_records_phase_1_first_when_it_is_missing(project: Path, squashed: tuple[int, dict]) -> None:
    """Phase 2 stands on Phase 1: the demo was never inspected, so squash took the inventory itself."""
    journal = Journal.for_target(project / ".consolidate", "staging")
    inspected = journal.last(events.INSPECTED)
    generated = journal.last(events.SQUASH_GENERATED)
    assert inspected is not None and inspected["seq"] < generated["seq"]
    assert inspected["counts"]["tables"] == 7 and inspected["counts"]["rows"] == 467
    assert inspected["fingerprint"] == generated["fingerprint"]


def test_production_adopts_the_baseline_after_staging_archived(project: Path, squashed: tuple[int, dict]) -> None:
    """After staging's Phase 3 moved the old files, production proves the baseline against the archive's files."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["archive", "--project", str(project), "--target", "staging"]) == 0
    try:
        assert not [p for p in (project / "supabase" / "migrations").glob("2025*.sql") if "consolidated" not in p.name]
        code, data = _cli_json("squash", "--project", str(project), "--target", "production", "--rounds", "1")
        assert code == 0, data["proof"]["reason"]
        assert data["baseline"]["adopted_from"] == "staging"
        assert len(data["baseline"]["superseded"]) == 14
        assert data["proof"]["provisioning"]["history"]["files"] == 14  # the archived history was timed too
    finally:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["rollback", "archive", "--project", str(project), "--target", "staging"]) == 0


def test_drift_after_squash_replays_the_history_not_the_baseline_beside_it(fresh_db, make_project, capsys) -> None:
    files = {
        "20240101000000_t.sql": "create table public.t (id int primary key);",
        "20240102000000_u.sql": "alter table public.t add column name text;",
    }
    for text in files.values():
        run_sql(fresh_db, text)
    project = make_project(fresh_db, files)
    assert main(["squash", "--project", str(project), "--rounds", "1"]) == 0
    capsys.readouterr()
    assert len(list((project / "supabase" / "migrations").iterdir())) == 3  # the baseline beside the history
    code = main(["drift", "--project", str(project), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data["replay"]["failure"]
    assert data["replay"]["applied"] == list(files)  # the baseline would re-create what the history built
