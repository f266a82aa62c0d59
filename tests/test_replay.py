"""Replaying migration files in a scratch database, and how it fails."""

from __future__ import annotations

import pytest

from wizard.catalog import snapshot
from wizard.db.connect import open_session
from wizard.history.files import discover
from wizard.history.replay import missing_extension_error, replay


def files(tmp_path, contents):
    for name, text in contents.items():
        (tmp_path / name).write_text(text)
    return discover(tmp_path).files


def test_replay_applies_in_version_order(tmp_path, fresh_db):
    mfiles = files(
        tmp_path,
        {
            "20240102000000_b.sql": "alter table public.a add column note text;",
            "20240101000000_a.sql": "create table public.a (id int primary key);",
            "20240103000000_c.sql": "create index concurrently a_note on public.a (note);",
        },
    )
    result = replay(mfiles, fresh_db)
    assert result.ok, result.failure
    assert [name for name, _ in result.applied] == [f.filename for f in mfiles]
    with open_session(fresh_db) as conn:
        snap = snapshot(conn)
    assert ("column", "public.a.note") in snap.objects
    assert ("index", "public.a_note") in snap.objects


def test_failure_names_file_statement_line_and_error_and_rolls_back_the_file(tmp_path, fresh_db):
    mfiles = files(
        tmp_path,
        {
            "20240101000000_a.sql": "create table public.a (id int primary key);",
            "20240102000000_b.sql": "create table public.b (id int);\n\n"
            "insert into public.a (id) values (1);\ninsert into public.a (id) values (1);\n",
            "20240103000000_c.sql": "create table public.c (id int);",
        },
    )
    result = replay(mfiles, fresh_db)
    assert not result.ok
    f = result.failure
    assert (f.file, f.statement_index, f.line, f.sqlstate) == ("20240102000000_b.sql", 3, 4, "23505")
    assert "duplicate key" in f.message
    assert f.describe().startswith("20240102000000_b.sql:4: statement 3")
    with open_session(fresh_db) as conn:
        snap = snapshot(conn)
    assert ("table", "public.a") in snap.objects
    assert ("table", "public.b") not in snap.objects  # the failing file left nothing behind
    assert ("table", "public.c") not in snap.objects  # and the replay stopped there


def test_missing_extension_is_named_with_the_fix(tmp_path, fresh_db):
    mfiles = files(tmp_path, {"20240101000000_ext.sql": "create extension if not exists postgis;"})
    result = replay(mfiles, fresh_db)
    assert result.failure is not None
    assert result.failure.missing_extension == "postgis"
    error = missing_extension_error("postgis", "PostgreSQL 18")
    assert "postgis" in error.message and "[shadow]" in error.fix


def test_statements_with_percent_signs_run_verbatim(tmp_path, fresh_db):
    mfiles = files(
        tmp_path,
        {
            "20240101000000_pct.sql": "create table public.p (v text default '100%');\n"
            "comment on table public.p is '%s and %%';"
        },
    )
    assert replay(mfiles, fresh_db).ok
    with open_session(fresh_db) as conn:
        snap = snapshot(conn)
    assert snap.objects[("comment", "table public.p")].definition == "%s and %%"


@pytest.mark.second_server
def test_replay_on_the_second_server(tmp_path, second_shadow):
    mfiles = files(
        tmp_path,
        {
            "20240101000000_ext.sql": 'create extension if not exists "uuid-ossp";\n'
            "create table public.t (id uuid default uuid_generate_v4());"
        },
    )
    with second_shadow.scratch("replay") as dsn:
        assert replay(mfiles, dsn).ok
