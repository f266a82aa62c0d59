"""A realistic Supabase history (tests/fixtures/supabase_history) replays faithfully in scratch databases.

The history (22 files the Supabase CLI runs, plus one it ignores) uses what histories of
open-source Supabase apps use: extensions called unqualified (uuid-ossp, pgcrypto, pgvector,
pg_net, http, Vault, pg_graphql, pgjwt, pg_cron), Supabase's default privileges, GoTrue's
auth.users, Storage, Realtime, rows (lookup data, buckets, backfills) and `supabase db pull`
output. Its replay must equal the database plain `psql` builds from the same files on top of
the bootstrap, on the embedded server and on the second server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_sql
from wizard.catalog import Snapshot, snapshot
from wizard.cli import main
from wizard.db.connect import open_session
from wizard.history.files import CLI_RULE, discover
from wizard.history.replay import replay
from wizard.parity.diff import compare
from wizard.platform import embedded, standins
from wizard.platform.shadow import Shadow

HISTORY = Path(__file__).parent / "fixtures" / "supabase_history"
IGNORED = "20240305120000-7c9e6679-7425-40de-944b-e07fc1f90ae7.sql"
#: What only the file the CLI ignores creates.
IGNORED_OBJECTS = {
    ("index", "public.documents_org_created_idx"),
    ("comment", "table column public.documents.storage_path"),
}
API_ROLES = ("anon", "authenticated", "service_role")


def psql_apply(dsn: str, files: list[Path]) -> None:
    """Apply ``files`` one by one with plain psql, as an operator would, stopping at the first error."""
    for path in files:
        proc = subprocess.run(
            [str(embedded.bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"psql failed on {path.name}: {proc.stderr[-800:]}"


def all_sql_files() -> list[Path]:
    return sorted(p for p in HISTORY.iterdir() if p.suffix == ".sql")


def read(dsn: str) -> Snapshot:
    with open_session(dsn) as conn:
        return snapshot(conn)


def _extension_dir(major: int) -> Path | None:
    """The local extension directory of a PostgreSQL ``major`` (Debian's layout, or pg_config's)."""
    for pg_config in (Path(f"/usr/lib/postgresql/{major}/bin/pg_config"), shutil.which("pg_config")):
        if pg_config and Path(pg_config).exists():
            proc = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
            directory = Path(proc.stdout.strip()) / "extension"
            if proc.returncode == 0 and (directory / "plpgsql.control").exists():
                return directory
    return None


@pytest.fixture(scope="module")
def second(second_shadow: Shadow) -> Shadow:
    """The second server with the stand-ins installed in its extension directory.

    PostgreSQL before 18 has no extension_control_path: the documented way is to copy the
    stand-ins into the server's extension directory (never over a real extension), which this
    fixture does when that directory is local and writable.
    """
    with open_session(second_shadow.admin_dsn) as conn:
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
        major = conn.info.server_version // 10000
    missing = sorted(set(standins.names()) - available)
    if missing:
        directory = _extension_dir(major)
        if directory is None or not os.access(directory, os.W_OK):
            pytest.skip(
                f"the second server lacks {missing}: python -m wizard.platform.standins install <sharedir>/extension"
            )
        standins.install(directory)
    template = second_shadow.template()
    with open_session(second_shadow.dsn_for(template)) as conn:
        present = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
    if set(standins.SUPABASE_DEFAULT_EXTENSIONS) - present:
        # The template was built before the stand-ins were there: build it again.
        with open_session(second_shadow.admin_dsn, read_only=False) as conn:
            conn.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')
            conn.execute(f'DROP DATABASE "{template}" WITH (FORCE)')
        second_shadow.template()
    return second_shadow


@pytest.fixture(scope="module")
def replayed(shadow: Shadow) -> Iterator[str]:
    """The whole history (the ignored file included) replayed in a scratch database of the embedded server."""
    with shadow.scratch("history") as dsn:
        result = replay(discover(HISTORY, include_ignored=True).files, dsn)
        assert result.ok, result.failure and result.failure.describe()
        yield dsn


@pytest.fixture(scope="module")
def replayed_snapshot(replayed: str) -> Snapshot:
    return read(replayed)


def query(dsn: str, sql: str) -> list[tuple]:
    with open_session(dsn, read_only=False) as conn:
        return conn.execute(sql).fetchall()


# The history and how it replays


def test_the_history_has_more_than_twenty_files_and_one_the_cli_ignores():
    mset = discover(HISTORY)
    assert len(mset.files) == 22 and not mset.errors and not mset.duplicates
    assert [f.filename for f in mset.ignored] == [IGNORED]
    everything = discover(HISTORY, include_ignored=True)
    assert [f.filename for f in everything.files] == [p.name for p in all_sql_files()]
    assert [f.filename for f in everything.replayed_ignored] == [IGNORED]
    assert everything.files.index(everything.replayed_ignored[0]) == 10  # between 20240304... and 20240311...


def replay_equals_psql(sh: Shadow) -> tuple[Snapshot, standins.StandinSurvey]:
    """Replay the history and build the same files with psql on ``sh``; assert the two are identical."""
    with sh.scratch("replay") as a, sh.scratch("psql") as b:
        result = replay(discover(HISTORY, include_ignored=True).files, a)
        assert result.ok, result.failure and result.failure.describe()
        assert len(result.applied) == 23
        psql_apply(b, all_sql_files())
        snap_a, snap_b = read(a), read(b)
        parity = compare(snap_a, snap_b, "replay", "psql")
        assert parity.identical, [d.explanation for d in parity.differences]
        with open_session(a) as conn:
            survey = standins.survey(conn)
        return snap_a, survey


def test_history_replays_in_the_default_scratch_database_as_psql_applies_it(shadow):
    snap, survey = replay_equals_psql(shadow)
    counts = snap.counts()
    assert (counts["table"], counts["function"], counts["policy"], counts["trigger"]) == (13, 20, 21, 8)
    assert survey.missing_defaults == []
    used = {u.extension for u in survey.uses}
    # The embedded server has the real pgvector; every other extension the history uses is a stand-in.
    assert used == {"pgcrypto", "uuid-ossp", "pg_net", "http", "supabase_vault", "pg_graphql", "pgjwt"}


@pytest.mark.second_server
def test_history_replays_on_the_second_server_as_psql_applies_it(second):
    snap, survey = replay_equals_psql(second)
    assert snap.counts()["table"] == 13
    used = {u.extension for u in survey.uses}
    # This server has the real pgcrypto and uuid-ossp (contrib) and no pgvector: the stand-in stands in.
    assert used == {"vector", "pg_net", "http", "supabase_vault", "pg_graphql", "pgjwt"}
    assert "table column public.document_chunks.embedding" in {u.obj for u in survey.uses if u.extension == "vector"}


@pytest.mark.second_server
def test_replays_on_both_servers_differ_only_by_maintain_in_default_privileges(shadow, second, replayed_snapshot):
    with second.scratch("history") as dsn:
        assert replay(discover(HISTORY, include_ignored=True).files, dsn).ok
        parity = compare(replayed_snapshot, read(dsn), "PostgreSQL 18", "PostgreSQL 15")
    # Stand-ins and real extensions build the same schema; the one difference is PostgreSQL 17's
    # MAINTAIN privilege inside ALTER DEFAULT PRIVILEGES ... GRANT ALL, which the version-neutral
    # comparison forgives for grants but not (yet) for default privileges.
    leftovers = [
        d
        for d in parity.differences
        if not (d.kind == "default_privilege" and d.a.definition.replace("MAINTAIN, ", "") == d.b.definition)
    ]
    assert leftovers == []


def test_drift_between_replay_and_psql_built_database_is_empty(shadow, fresh_db, make_project, capsys):
    psql_apply(fresh_db, all_sql_files())
    project = make_project(fresh_db)
    target_dir = project / "supabase" / "migrations"
    for path in all_sql_files():
        shutil.copyfile(path, target_dir / path.name)
    code = main(["drift", "--project", str(project), "--include-ignored", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, [d["explanation"] for d in data["parity"]["differences"]]
    assert data["parity"]["identical"] and data["replay"]["ok"] and len(data["replay"]["applied"]) == 23
    assert data["ignored_files"] == [IGNORED] and data["include_ignored"]
    assert {u["extension"] for u in data["standins"]["uses"]} >= {"pgcrypto", "uuid-ossp", "pg_net"}

    # As the Supabase CLI would run it, the history lacks what only the ignored file made.
    code = main(["drift", "--project", str(project)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert f"ignored by the Supabase CLI: {IGNORED} ({CLI_RULE}): pass --include-ignored to replay it" in out
    assert "warning: stand-in extension pgcrypto (not the real extension; see docs/bootstrap.md)" in out
    code = main(["drift", "--project", str(project), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert {(d["kind"], d["name"]) for d in data["parity"]["differences"]} == IGNORED_OBJECTS


# One test per kind of Supabase dependency


def test_extensions_called_unqualified_replay_with_labelled_standins(replayed, replayed_snapshot):
    objects = replayed_snapshot.objects
    assert objects[("column", "public.orgs.id")].definition == "uuid NOT NULL DEFAULT extensions.uuid_generate_v4()"
    assert "extensions.gen_random_bytes(24)" in objects[("column", "public.invitations.token")].definition
    assert objects[("column", "public.document_chunks.embedding")].definition == "extensions.vector(1536)"
    assert (
        "USING hnsw (embedding extensions.vector_cosine_ops)"
        in objects[("index", "public.document_chunks_embedding_idx")].definition
    )
    assert "USING ivfflat" in objects[("index", "public.document_summaries_embedding_idx")].definition
    for name in ("pg_net", "http", "pgjwt", "pg_cron", "supabase_vault", "pg_graphql", "pgcrypto", "uuid-ossp"):
        assert ("extension", name) in objects
    sql = "SELECT extname, obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname <> 'vector'"
    labels = {name: comment for name, comment in query(replayed, sql) if name in standins.names()}
    assert len(labels) == 8 and all(c.startswith(f"{standins.MARK}: not the real extension") for c in labels.values())
    # The stand-ins behave where migrations and seed data rely on them.
    [(crypt_ok, v5, signed_ok, queued, secret, jobs)] = query(
        replayed,
        "SELECT public.api_key_matches('k', extensions.crypt('k', extensions.gen_salt('bf'))),"
        " extensions.uuid_generate_v5(extensions.uuid_ns_url(), 'https://supabase.com')::text,"
        " (SELECT valid FROM extensions.verify(extensions.sign('{\"a\":1}'::json, 's'), 's')),"
        " net.http_post('https://example.com'),"
        " (SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'ingest_url'),"
        " (SELECT count(*) FROM cron.job)",
    )
    assert crypt_ok and signed_ok and queued >= 1 and jobs == 1
    assert v5 == "106a6d70-0723-58e0-9533-91dfd2d3c7d3"  # uuid.uuid5(uuid.NAMESPACE_URL, "https://supabase.com")
    assert secret == "https://project-ref.functions.supabase.co/ingest"
    with pytest.raises(Exception, match="stand-in"):
        query(replayed, "SELECT extensions.http_get('https://example.com')")


def test_survey_names_every_object_that_relies_on_a_standin(replayed):
    with open_session(replayed) as conn:
        survey = standins.survey(conn)
    by_ext: dict[str, set[str]] = {}
    for use in survey.uses:
        by_ext.setdefault(use.extension, set()).add(use.obj)
    assert by_ext["uuid-ossp"] == {"default value for public.orgs.id", "default value for public.invitations.id"}
    assert "function public.notify_document_ingest()" in by_ext["pg_net"]
    assert "function public.notify_document_ingest()" in by_ext["supabase_vault"]  # reads vault.decrypted_secrets
    assert "function public.refresh_link_preview(pg_catalog.text)" in by_ext["http"]
    assert "function public.notify_document_ingest()" not in by_ext["http"]  # net.http_post is pg_net's
    assert "function public.graphql_directives(pg_catalog.regclass)" in by_ext["pg_graphql"]
    assert "default value for public.invitations.token" in by_ext["pgcrypto"]
    warnings = survey.warnings()
    assert any(w.startswith("stand-in extension uuid-ossp") and "public.orgs.id" in w for w in warnings)


def test_default_privileges_grant_new_objects_to_the_api_roles(shadow, replayed_snapshot, tmp_path):
    objects = replayed_snapshot.objects
    for role in API_ROLES:
        assert "SELECT" in objects[("grant", f"table public.plans to {role}")].definition
        assert objects[("grant", f"sequence public.audit_log_id_seq to {role}")].definition == "SELECT, UPDATE, USAGE"
        assert objects[("grant", f"function public.org_count() to {role}")].definition == "EXECUTE"
        assert ("default_privilege", f"for role postgres in schema public on tables to {role}") in objects
        assert ("default_privilege", f"for role supabase_admin in schema public on functions to {role}") in objects
    # What a migration revokes stays revoked.
    assert ("grant", "table public.user_roles to anon") not in objects
    assert ("grant", "function public.custom_access_token_hook(event jsonb) to anon") not in objects
    # Without Supabase's defaults every replayed table differs in its grants.
    (tmp_path / "20240101000000_plans.sql").write_text("create table public.plans (code text primary key);")
    with shadow.scratch("bare") as bare:
        run_sql(
            bare,
            "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated",
        )
        assert replay(discover(tmp_path).files, bare).ok
        grants = {k for k in read(bare).objects if k[0] == "grant" and "public.plans" in k[1]}
    assert ("grant", "table public.plans to anon") not in grants
    assert ("grant", "table public.plans to service_role") in grants


def test_ownership_of_managed_objects_makes_no_false_difference(shadow, replayed_snapshot):
    """Supabase's own objects belong to supabase_* roles there and to postgres here: out of scope."""
    with shadow.scratch("production") as production_like:
        psql_apply(production_like, all_sql_files())
        run_sql(
            production_like,
            """
            ALTER TABLE auth.users OWNER TO supabase_auth_admin;
            ALTER TABLE auth.identities OWNER TO supabase_auth_admin;
            ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;
            ALTER FUNCTION auth.jwt() OWNER TO supabase_auth_admin;
            ALTER SCHEMA auth OWNER TO supabase_admin;
            ALTER TABLE storage.objects OWNER TO supabase_storage_admin;
            ALTER TABLE storage.buckets OWNER TO supabase_storage_admin;
            ALTER FUNCTION storage.foldername(text) OWNER TO supabase_storage_admin;
            ALTER SCHEMA storage OWNER TO supabase_admin;
            ALTER TABLE realtime.messages OWNER TO supabase_realtime_admin;
            ALTER SCHEMA extensions OWNER TO supabase_admin;
            """,
        )
        parity = compare(read(production_like), replayed_snapshot)
    assert parity.identical, [d.explanation for d in parity.differences]
    # In-scope objects are owned by postgres on both sides, as migrations run as postgres on Supabase.
    owners = {
        owner
        for o in replayed_snapshot.objects.values()
        if o.kind in ("schema", "table", "view", "function", "enum", "sequence")
        for owner in re.findall(r"\bOWNER (\S+)", o.definition)
    }
    assert owners == {"postgres", "pg_database_owner"}  # pg_database_owner: the public schema, as on Supabase


def test_auth_and_storage_as_migrations_use_them(replayed, replayed_snapshot):
    objects = replayed_snapshot.objects
    assert ("trigger", "auth.users.on_auth_user_created") in objects
    assert ("trigger", "auth.users.on_auth_user_confirmed") in objects
    assert ("policy", "storage.objects.Users upload their own avatar") in objects
    assert ("view", "public.my_files") in objects
    assert "auth.jwt()" in objects[("function", "public.is_platform_admin()")].definition
    buckets = query(replayed, "SELECT id, public, file_size_limit, allowed_mime_types FROM storage.buckets ORDER BY id")
    assert buckets == [
        ("avatars", True, 1048576, ["image/png", "image/jpeg", "image/webp"]),
        ("documents", False, 52428800, ["application/pdf", "text/markdown", "text/plain"]),
    ]
    # GoTrue's columns drive the triggers: a confirmed, non-anonymous user gets a profile.
    run_sql(
        replayed,
        "INSERT INTO auth.users (id, email, raw_user_meta_data, raw_app_meta_data, is_anonymous, email_confirmed_at)"
        " VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', '{\"full_name\": \"Ada\"}', '{}',"
        " false, NULL), ('00000000-0000-4000-8000-000000000002', NULL, '{}', '{}', true, NULL);"
        "UPDATE auth.users SET email_confirmed_at = now() WHERE email = 'ada@example.com';"
        "INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES"
        " ('avatars', '00000000-0000-4000-8000-000000000001/me.png', '00000000-0000-4000-8000-000000000001')",
    )
    assert query(replayed, "SELECT full_name, email_confirmed FROM public.profiles") == [("Ada", True)]
    [(folder, file, ext, tokens)] = query(
        replayed,
        "SELECT (storage.foldername(name))[1], storage.filename(name), storage.extension(name), path_tokens"
        " FROM storage.objects",
    )
    assert (folder, file, ext) == ("00000000-0000-4000-8000-000000000001", "me.png", "png")
    assert tokens == ["00000000-0000-4000-8000-000000000001", "me.png"]


def test_rows_inserted_by_the_history_replay_and_are_flagged(replayed):
    flagged = {(f.filename, s.node, s.target) for f in discover(HISTORY).files for s in f.data_statements}
    assert ("20240122140000_plans_and_buckets.sql", "InsertStmt", "storage.buckets") in flagged
    assert ("20240226113000_org_slugs.sql", "UpdateStmt", "public.orgs") in flagged
    assert ("20240506093000_soft_delete.sql", "DeleteStmt", "public.plans") in flagged
    assert ("20240318143000_vault_webhook_url.sql", "SelectStmt", None) in flagged
    assert query(replayed, "SELECT code FROM public.plans ORDER BY code") == [("enterprise",), ("free",), ("team",)]


PRODUCTION_ONLY = {
    "20240101000000_roles.sql": """
        create type public.app_role as enum ('admin', 'editor');
        create table public.user_roles (
          user_id uuid not null references auth.users (id) on delete cascade,
          role public.app_role not null,
          primary key (user_id, role)
        );
    """,
    "20240102000000_grant_admin.sql": """
        -- Make our founder an admin (her user id in production).
        insert into public.user_roles (user_id, role)
        values ('5f0c2a4e-8d7b-4c1e-9a3f-2b6d8e1f0a77', 'admin');
    """,
    "20240103000000_editors.sql": "alter table public.user_roles add column granted_at timestamptz default now();",
}


def test_rows_referencing_production_only_data_stop_the_replay_with_file_statement_and_line(
    shadow, fresh_db, make_project, capsys
):
    # Production: the user existed when the migration ran there.
    run_sql(fresh_db, "insert into auth.users (id, email) values ('5f0c2a4e-8d7b-4c1e-9a3f-2b6d8e1f0a77', 'f@x.io')")
    project = make_project(fresh_db, PRODUCTION_ONLY)
    for text in PRODUCTION_ONLY.values():
        run_sql(fresh_db, text)

    with shadow.scratch("replay") as dsn:
        result = replay(discover(project / "supabase" / "migrations").files, dsn)
    f = result.failure
    assert f is not None and (f.file, f.statement_index, f.line) == ("20240102000000_grant_admin.sql", 1, 3)
    assert f.statement.startswith("insert into public.user_roles")

    code = main(["drift", "--project", str(project), "--json"])
    data = json.loads(capsys.readouterr().out)
    failure = data["replay"]["failure"]
    assert code == 1 and data["parity"] is None
    assert (failure["file"], failure["statement_index"], failure["line"], failure["sqlstate"]) == (
        "20240102000000_grant_admin.sql",
        1,
        3,
        "23503",
    )
    assert "user_roles_user_id_fkey" in failure["message"] and "5f0c2a4e" in failure["detail"]
    assert data["replay"]["applied"] == ["20240101000000_roles.sql"]

    main(["drift", "--project", str(project)])
    out = " ".join(capsys.readouterr().out.split())
    assert "replay stopped: 20240102000000_grant_admin.sql:3: statement 1" in out
    assert "cannot build a fresh environment" in out and "consolidate squash" in out
    # The real database is intact: the baseline is built from it, not from the history, and proved.
    assert ("column", "public.user_roles.granted_at") in read(fresh_db).objects
    code = main(["squash", "--project", str(project), "--rounds", "1", "--json"])
    capsys.readouterr()
    assert code == 0


def test_db_pull_output_replays_and_its_session_settings_do_not_leak(shadow, tmp_path):
    dump = HISTORY / "20240101000000_remote_schema.sql"
    shutil.copyfile(dump, tmp_path / dump.name)
    # A later migration whose SQL function names a missing table must still be checked: the dump's
    # `set check_function_bodies = false` and empty search_path end with its RESET ALL.
    (tmp_path / "20240102000000_next.sql").write_text(
        "create function public.broken() returns int language sql as $$ select count(*) from missing_table $$;"
    )
    with shadow.scratch("dump") as dsn:
        result = replay(discover(tmp_path).files, dsn)
    assert result.failure is not None and result.failure.file == "20240102000000_next.sql"
    assert 'relation "missing_table" does not exist' in result.failure.message
    assert [name for name, _ in result.applied] == [dump.name]


def test_db_pull_output_adds_nothing_the_defaults_did_not(shadow):
    """Dump output grants every object to the API roles and sets owners: all no-ops on the bootstrap."""
    dump = HISTORY / "20240101000000_remote_schema.sql"
    plain = "\n".join(
        line
        for line in dump.read_text().splitlines()
        if not line.startswith(("GRANT ", "ALTER DEFAULT PRIVILEGES", 'ALTER TABLE "public"."orgs" OWNER'))
        and "OWNER TO" not in line
    )
    with shadow.scratch("grants") as a, shadow.scratch("plain") as b:
        psql_apply(a, [dump])
        run_sql(b, plain)
        parity = compare(read(a), read(b))
    assert parity.identical, [d.explanation for d in parity.differences]


def test_an_extension_without_real_or_standin_stops_the_replay_by_name(shadow, tmp_path):
    """Never silently dropped: what needs an extension the shadow cannot provide stops the replay."""
    (tmp_path / "20240101000000_geo.sql").write_text(
        "create extension if not exists postgis with schema extensions;\n"
        "create table public.places (id bigint primary key, location extensions.geography(point));"
    )
    with shadow.scratch("geo") as dsn:
        result = replay(discover(tmp_path).files, dsn)
    assert result.failure is not None and result.failure.missing_extension == "postgis"


def test_survey_warns_when_supabase_defaults_are_missing(shadow):
    with shadow.scratch("defaults") as dsn:
        run_sql(dsn, "drop extension pg_graphql cascade")
        with open_session(dsn) as conn:
            survey = standins.survey(conn)
    assert survey.missing_defaults == ["pg_graphql"]
    assert any("lacks Supabase's default extension(s) pg_graphql" in w for w in survey.warnings())


# The stand-ins themselves


def test_every_standin_is_labelled_and_installs_beside_real_extensions(tmp_path):
    assert set(standins.names()) == {
        "http",
        "pg_cron",
        "pg_graphql",
        "pg_net",
        "pgcrypto",
        "pgjwt",
        "pgmq",
        "supabase_vault",
        "uuid-ossp",
        "vector",
    }
    real = tmp_path / "pgcrypto.control"
    real.write_text("comment = 'cryptographic functions'\n")
    installed = standins.install(tmp_path)
    assert "pgcrypto" not in installed and real.read_text() == "comment = 'cryptographic functions'\n"
    for name in installed:
        control = (tmp_path / f"{name}.control").read_text()
        assert f"comment = '{standins.MARK}: not the real extension" in control
        assert list(tmp_path.glob(f"{name}--*.sql"))
    assert standins.install(tmp_path) == installed  # stale stand-ins are refreshed, idempotently


def test_the_embedded_server_finds_standins_after_its_own_extensions(server):
    with open_session(server.dsn()) as conn:
        path = conn.execute("SHOW extension_control_path").fetchone()[0]
        comments = dict(conn.execute("SELECT name, comment FROM pg_available_extensions").fetchall())
    assert path.startswith("$system:") and path.endswith("standins")
    assert comments["pgcrypto"].startswith(standins.MARK)
    assert not comments["vector"].startswith(standins.MARK)  # the wheel's real pgvector wins


def test_bootstrap_is_documented_object_by_object():
    doc = (Path(__file__).parent.parent / "docs" / "bootstrap.md").read_text()
    bootstrap = (Path(__file__).parent.parent / "wizard" / "platform" / "sql" / "bootstrap.sql").read_text()
    created = set(re.findall(r"CREATE (?:TABLE|OR REPLACE FUNCTION) (?:IF NOT EXISTS )?(\w+\.\w+)", bootstrap))
    created |= set(re.findall(r"CREATE SCHEMA IF NOT EXISTS (\w+)", bootstrap))
    assert created and [name for name in sorted(created) if name not in doc] == []
    for name in [*standins.names(), *standins.SUPABASE_DEFAULT_EXTENSIONS]:
        assert f"`{name}`" in doc
