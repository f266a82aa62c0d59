"""A snapshot read over several sessions is the snapshot read on one, and all its parts see one state."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import run_sql
from wizard.catalog import Snapshot, read, snapshot
from wizard.catalog.reads import queries
from wizard.catalog.sessions import empty_search_path, helper, read_transaction
from wizard.catalog.split_read import Unit, units
from wizard.db.connect import open_session

# Many kinds of objects, spread over enough tables that every part of a split read has some.
MANY_KINDS = """
create type public.mood as enum ('happy', 'sad', 'angry');
create domain public.short_text as text check (length(value) < 50) not null default 'x';
create type public.pair as (a int, b text);
create type public.floatrange as range (subtype = float8, subtype_diff = float8mi);
create collation public.ci (provider = libc, locale = 'C');
create sequence public.counter as int start 10 increment 5 maxvalue 1000 cycle;
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create function public.get_role(uid uuid) returns text language sql stable security definer
  set search_path = '' as $$ select 'admin' $$;
create procedure public.noop(n int) language sql as $$ select 1 $$;
create aggregate public.total(int) (sfunc = int4pl, stype = int, initcond = '0');
create function public.on_ddl() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger cw_ddl on ddl_command_end when tag in ('CREATE TABLE') execute function public.on_ddl();
create text search configuration public.simple_copy (copy = pg_catalog.simple);
create table public.parent (
  id bigint generated always as identity primary key,
  name text collate public.ci,
  mood public.mood default 'happy',
  body public.short_text,
  during tsrange,
  total numeric(10, 2) generated always as (id * 2) stored,
  exclude using gist (during with &&)
);
alter table public.parent alter column name set statistics 300;
create table public.child (extra int) inherits (public.parent);
create table public.events (id int, at date not null) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create unlogged table public.scratch (k text primary key) with (fillfactor = 70);
create view public.named as select id, name from public.parent where name is not null;
create materialized view public.moods as select mood, count(*) as n from public.parent group by mood;
create rule no_delete as on delete to public.scratch do instead nothing;
create statistics public.parent_stats (dependencies) on id, mood from public.parent;
create trigger parent_touch before update on public.parent for each row
  when (old.name is distinct from new.name) execute function public.touch();
create trigger on_user after insert on auth.users for each row execute function public.touch();
alter table public.parent enable row level security;
alter table public.parent force row level security;
create policy parent_read on public.parent for select to authenticated using (name is not null);
create policy uploads on storage.objects for insert to authenticated with check (bucket_id = 'media');
grant select on public.parent to anon;
grant update (name) on public.parent to authenticated;
revoke execute on function public.get_role(uuid) from public;
alter default privileges in schema public revoke insert on tables from anon;
comment on table public.parent is 'the parent';
comment on column public.parent.name is 'its name';
comment on function public.touch() is 'touches';
create publication cw_pub for table public.events_2024;
alter publication supabase_realtime add table public.parent;
"""


def _tables(n: int) -> str:
    """``n`` tables, each with a default, a check, a foreign key, an index, RLS with a policy and a trigger."""
    out = []
    for i in range(n):
        out.append(
            f"create table public.t{i} (id int primary key, ref bigint references public.parent (id) on delete "
            f"{'cascade' if i % 2 else 'set null'}, status text not null default 'new' check (status <> ''), "
            f"at timestamptz default now());\n"
            f"create index t{i}_status on public.t{i} (status) where status <> 'old';\n"
            f"alter table public.t{i} enable row level security;\n"
            f"create policy own on public.t{i} using (status = current_user);\n"
            f"create trigger touch before insert on public.t{i} for each row execute function public.touch();\n"
        )
    return "".join(out)


def _same(a: Snapshot, b: Snapshot) -> None:
    assert a.objects.keys() ^ b.objects.keys() == set()
    for key, obj in a.objects.items():
        other = b.objects[key]
        assert (obj.definition, obj.table, obj.details) == (other.definition, other.table, other.details), key
    assert (a.server_version, a.server_version_num) == (b.server_version, b.server_version_num)
    assert a.fingerprint() == b.fingerprint()


@pytest.fixture
def many_kinds_db(fresh_db: str) -> str:
    run_sql(fresh_db, MANY_KINDS + _tables(30))
    return fresh_db


def test_split_read_gives_the_one_session_snapshot(many_kinds_db):
    with open_session(many_kinds_db) as conn:
        one = snapshot(conn)
    opened: list[int] = []

    def connect() -> psycopg.Connection:
        opened.append(1)
        return open_session(many_kinds_db)

    with open_session(many_kinds_db) as conn:
        path = conn.execute("SHOW search_path").fetchone()
        split = snapshot(conn, connect=connect, sessions=3)
        # The caller's session comes back as it was: no transaction left open, its search_path.
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SHOW search_path").fetchone() == path
    assert len(opened) == 2
    kinds = {kind for kind, _ in one.objects}
    assert kinds >= {
        "schema", "table", "column", "constraint", "index", "sequence", "view", "materialized_view",
        "function", "trigger", "policy", "enum", "domain", "composite_type", "range_type", "rule",
        "statistics", "publication", "publication_member", "event_trigger", "grant", "default_privilege",
        "comment", "other",
    }  # fmt: skip
    assert len(one.objects) > 400
    _same(one, split)
    _same(one, read(many_kinds_db, sessions=4))


def test_every_split_query_is_cut_into_one_unit_per_session():
    todo = units(queries(180000), 3)
    cut = [u for u in todo if u.query.split]
    assert {(u.query.name, u.part) for u in cut} == {(q.name, i) for q in queries(180000) if q.split for i in range(3)}
    assert all(u.parts == 1 for u in todo if not u.query.split)
    assert [u.weight for u in todo] == sorted((u.weight for u in todo), reverse=True)
    assert units(queries(180000), 1) == sorted((Unit(q, 0, 1) for q in queries(180000)), key=lambda u: -u.weight)


def test_a_helper_sees_the_exported_state_not_a_later_commit(fresh_db):
    run_sql(fresh_db, "create table public.early (id int)")
    with open_session(fresh_db) as conn, empty_search_path(conn), read_transaction(conn) as exported:
        assert exported is not None
        run_sql(fresh_db, "create table public.late (id int)")
        part = helper(lambda: open_session(fresh_db), exported)
        assert part is not None
        with part:
            seen = {r[0] for r in part.execute("select relname from pg_class where relname in ('early', 'late')")}
        assert seen == {"early"}
    with open_session(fresh_db) as conn:
        assert conn.execute("select count(*) from pg_class where relname = 'late'").fetchone() == (1,)


def test_split_read_falls_back_to_one_session_when_helpers_cannot_join(many_kinds_db, other_db):
    with open_session(many_kinds_db) as conn:
        one = snapshot(conn)

    def refused() -> psycopg.Connection:
        raise psycopg.OperationalError("too many connections for role")

    def elsewhere() -> psycopg.Connection:
        return open_session(other_db)  # another database: the server refuses to import the snapshot

    for connect in (refused, elsewhere):
        with open_session(many_kinds_db) as conn:
            _same(one, snapshot(conn, connect=connect, sessions=3))


def test_inside_the_callers_transaction_the_read_stays_on_its_session(many_kinds_db):
    with open_session(many_kinds_db) as conn:
        one = snapshot(conn)
    called: list[int] = []

    def connect() -> psycopg.Connection:
        called.append(1)
        return open_session(many_kinds_db)

    with open_session(many_kinds_db, read_only=False, autocommit=False) as conn:
        conn.execute("create table public.uncommitted (id int)")
        inside = snapshot(conn, connect=connect, sessions=3)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
    assert not called
    assert ("table", "public.uncommitted") in inside.objects  # the caller's own, uncommitted change
    for key in [k for k in inside.objects if "public.uncommitted" in k[1]]:
        del inside.objects[key]
    _same(one, inside)
