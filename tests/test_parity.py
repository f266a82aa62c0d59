"""Parity must be complete (any in-scope pg_dump difference is found) and order-independent."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import run_sql
from wizard.catalog import snapshot
from wizard.db.connect import open_session
from wizard.parity.diff import compare
from wizard.platform import embedded

BASE = """
create type public.mood as enum ('happy', 'sad');
create domain public.short_text as text check (length(value) < 50);
create table public.videos (
    id uuid primary key default gen_random_uuid(),
    title text not null,
    mood public.mood default 'happy',
    created_at timestamptz default now()
);
create table public.scripts (
    id bigint generated always as identity primary key,
    video_id uuid references public.videos(id),
    body text,
    status text check (status in ('draft', 'final')),
    unique (video_id, status)
);
create index idx_scripts_video_id on public.scripts (video_id);
create index idx_scripts_final on public.scripts (video_id) where status = 'final';
create view public.final_scripts as select id, body from public.scripts where status = 'final';
create function public.get_role(uid uuid) returns text language sql stable as $$ select 'admin' $$;
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger scripts_touch before update on public.scripts for each row execute function public.touch();
alter table public.scripts enable row level security;
create policy scripts_read on public.scripts for select to authenticated using (status = 'final');
grant select on public.videos to anon;
comment on table public.videos is 'videos';
"""

# Each mutation, applied to B only, changes pg_dump --schema-only within the scope.
MUTATIONS = {
    "fk on delete": "alter table public.scripts drop constraint scripts_video_id_fkey, "
    "add constraint scripts_video_id_fkey foreign key (video_id) references public.videos(id) on delete cascade",
    "policy expression": "alter policy scripts_read on public.scripts using (status = 'draft')",
    "policy roles": "alter policy scripts_read on public.scripts to anon",
    "grant": "revoke insert on public.videos from authenticated",
    "revoke default function execute": "revoke execute on function public.get_role(uuid) from public",
    "comment text": "comment on table public.videos is 'films'",
    "column comment": "comment on column public.videos.title is 'the title'",
    "function body": "create or replace function public.get_role(uid uuid) returns text language sql stable "
    "as $$ select 'client' $$",
    "function security definer": "alter function public.get_role(uuid) security definer",
    "function search_path": "alter function public.get_role(uuid) set search_path = ''",
    "function volatility": "alter function public.get_role(uuid) immutable",
    "enum value": "alter type public.mood add value 'angry'",
    "partial index predicate": "drop index public.idx_scripts_final; "
    "create index idx_scripts_final on public.scripts (video_id) where status = 'draft'",
    "index dropped": "drop index public.idx_scripts_video_id",
    "column default": "alter table public.videos alter column created_at set default clock_timestamp()",
    "column not null": "alter table public.scripts alter column body set not null",
    "column type": "alter table public.videos alter column title type varchar(200)",
    "column added": "alter table public.videos add column extra int",
    "check constraint": "alter table public.scripts drop constraint scripts_status_check, "
    "add constraint scripts_status_check check (status in ('draft', 'final', 'old'))",
    "trigger dropped": "drop trigger scripts_touch on public.scripts",
    "trigger disabled": "alter table public.scripts disable trigger scripts_touch",
    "rls disabled": "alter table public.scripts disable row level security",
    "rls forced": "alter table public.scripts force row level security",
    "view query": "create or replace view public.final_scripts as select id, body from public.scripts "
    "where status = 'draft'",
    "view option": "alter view public.final_scripts set (security_invoker = true)",
    "domain check": "alter domain public.short_text add constraint longer check (length(value) > 1)",
    "owner": "create role cw_other_owner; alter table public.videos owner to cw_other_owner",
    "sequence option": "alter table public.scripts alter column id set maxvalue 1000000",
    "new schema": "create schema reporting",
    "unique constraint deferrable": "alter table public.scripts drop constraint scripts_video_id_status_key, "
    "add constraint scripts_video_id_status_key unique (video_id, status) deferrable",
    "column statistics": "alter table public.scripts alter column body set statistics 500",
    "trigger on auth.users": "create trigger on_user after insert on auth.users "
    "for each row execute function public.touch()",
    "policy on storage.objects": "create policy uploads on storage.objects for insert to authenticated "
    "with check (bucket_id = 'media')",
    "publication membership": "alter publication supabase_realtime add table public.videos",
    "default privileges": "alter default privileges in schema public revoke insert on tables from anon",
    "extension": "create extension if not exists pg_trgm with schema public",
}


def _dump(dsn: str) -> str:
    out = subprocess.run(
        [
            str(embedded.bin_dir() / "pg_dump"),
            "--schema-only",
            "--no-comments" if False else "--schema-only",
            "-d",
            dsn,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def _snap(dsn: str):
    with open_session(dsn) as conn:
        return snapshot(conn)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_in_scope_difference_is_found(fresh_db, other_db, mutation):
    run_sql(fresh_db, BASE)
    run_sql(other_db, BASE)
    assert compare(_snap(fresh_db), _snap(other_db)).identical
    run_sql(other_db, MUTATIONS[mutation])
    # The mutation really is a difference pg_dump --schema-only reports...
    assert _dump(fresh_db) != _dump(other_db), f"{mutation}: pg_dump sees no difference"
    # ...and parity finds it.
    result = compare(_snap(fresh_db), _snap(other_db), "A", "B")
    assert not result.identical, f"{mutation}: not detected"
    assert all(d.explanation for d in result.differences)


def test_identical_schema_built_in_another_order_is_identical(fresh_db, other_db):
    run_sql(fresh_db, BASE)
    statements = [s for s in BASE.split(";\n") if s.strip()]
    # Same objects, different creation order and with a dropped column in between.
    reordered = """
    create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
    create function public.get_role(uid uuid) returns text language sql stable as $$ select 'admin' $$;
    create domain public.short_text as text check (length(value) < 50);
    create type public.mood as enum ('happy', 'sad');
    create table public.videos (
        id uuid primary key default gen_random_uuid(),
        title text not null,
        scratch int,
        mood public.mood default 'happy',
        created_at timestamptz default now()
    );
    alter table public.videos drop column scratch;
    comment on table public.videos is 'videos';
    grant select on public.videos to anon;
    """
    run_sql(other_db, reordered)
    run_sql(other_db, ";\n".join(s for s in statements if "scripts" in s and "create view" not in s))
    run_sql(other_db, next(s for s in statements if "create view" in s))
    result = compare(_snap(fresh_db), _snap(other_db))
    assert result.identical, [d.explanation for d in result.differences]


def test_fk_explanation_names_both_actions(fresh_db, other_db):
    run_sql(fresh_db, BASE)
    run_sql(other_db, BASE)
    run_sql(fresh_db, MUTATIONS["fk on delete"])
    result = compare(_snap(fresh_db), _snap(other_db), "the target", "the migrations")
    (diff,) = result.differences
    assert diff.explanation == (
        "foreign key scripts_video_id_fkey on public.scripts: "
        "ON DELETE CASCADE in the target, NO ACTION in the migrations"
    )
    assert "ON DELETE CASCADE" in diff.reconcile_sql
    # The reconciling SQL really reconciles.
    run_sql(other_db, diff.reconcile_sql)
    assert compare(_snap(fresh_db), _snap(other_db)).identical


# Mutations whose reconciling SQL is complete (others print guidance, e.g. "recreate the type").
RECONCILABLE = sorted(
    set(MUTATIONS)
    - {"owner", "domain check", "sequence option", "default privileges", "column statistics", "new schema"}
)


@pytest.mark.parametrize("mutation", RECONCILABLE)
def test_reconciling_sql_reconciles(fresh_db, other_db, mutation):
    run_sql(fresh_db, BASE)
    run_sql(other_db, BASE)
    run_sql(fresh_db, MUTATIONS[mutation])
    result = compare(_snap(fresh_db), _snap(other_db))
    assert not result.identical
    for diff in result.differences:
        run_sql(other_db, diff.reconcile_sql)
    after = compare(_snap(fresh_db), _snap(other_db))
    assert after.identical, [d.explanation for d in after.differences]


def test_managed_schema_objects_are_out_of_scope(fresh_db, other_db):
    run_sql(
        other_db,
        "create table auth.cw_extra (id int); create function storage.helper() returns int "
        "language sql as $$ select 1 $$; create schema if not exists graphql; create table graphql.cw_x (id int)",
    )
    assert compare(_snap(fresh_db), _snap(other_db)).identical


def test_extension_members_are_not_user_objects(fresh_db, other_db):
    run_sql(other_db, "create extension pg_trgm with schema public")
    result = compare(_snap(fresh_db), _snap(other_db))
    assert [(d.kind, d.name) for d in result.differences] == [("extension", "pg_trgm")]


@pytest.mark.second_server
def test_cross_version_identical_schema(fresh_db, second_shadow):
    """PostgreSQL 18 (embedded) and the older second server compare identical for the same DDL."""
    run_sql(fresh_db, BASE)
    with second_shadow.scratch("xver") as older:
        run_sql(older, BASE)
        result = compare(_snap(fresh_db), _snap(older))
        assert result.server_a != result.server_b
        assert result.identical, [d.explanation for d in result.differences]
        run_sql(older, MUTATIONS["fk on delete"])
        assert not compare(_snap(fresh_db), _snap(older)).identical


VARCHAR_CHECK = "create table public.codes (code varchar(8) check (code in ('a1', 'b2')), n numeric check (n > 0.5))"


def _dump_table(dsn: str, table: str) -> str:
    out = subprocess.run(
        [str(embedded.bin_dir() / "pg_dump"), "--schema-only", f"--table={table}", "-d", dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def test_a_check_constraint_rerendered_by_a_dump_round_trip_is_identical(fresh_db, other_db):
    run_sql(fresh_db, VARCHAR_CHECK)
    run_sql(other_db, _dump_table(fresh_db, "public.codes"))
    defs = []
    for dsn in (fresh_db, other_db):
        with open_session(dsn) as conn:
            defs.append(
                conn.execute(
                    "select pg_get_constraintdef(oid) from pg_constraint where conname = 'codes_code_check'"
                ).fetchone()[0]
            )
    assert defs[0] != defs[1]  # the server re-renders the expression after a dump round trip...
    assert compare(_snap(fresh_db), _snap(other_db)).identical  # ...and parity compares its meaning
    assert _snap(fresh_db).fingerprint() == _snap(other_db).fingerprint()  # so does a backup's fingerprint


def test_a_changed_varchar_check_is_still_found(fresh_db, other_db):
    run_sql(fresh_db, VARCHAR_CHECK)
    run_sql(other_db, _dump_table(fresh_db, "public.codes"))
    run_sql(
        other_db,
        "alter table public.codes drop constraint codes_code_check, "
        "add constraint codes_code_check check (code in ('a1', 'c3'))",
    )
    result = compare(_snap(fresh_db), _snap(other_db))
    assert [d.name for d in result.differences] == ["public.codes.codes_code_check"]
    assert _snap(fresh_db).fingerprint() != _snap(other_db).fingerprint()
