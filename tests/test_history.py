"""Remote history: every CLI-era table shape, and a clear message when there is none."""

from __future__ import annotations

import pytest

from tests.conftest import run_sql
from wizard.db.connect import open_session
from wizard.errors import MissingHistoryTable
from wizard.history import remote as history

SHAPES = {
    "version only": "create table supabase_migrations.schema_migrations (version text primary key)",
    "with statements and name": "create table supabase_migrations.schema_migrations "
    "(version text primary key, statements text[], name text)",
    "hosted extra columns": "create table supabase_migrations.schema_migrations (version text primary key, "
    "statements text[], name text, created_by text, idempotency_key text unique, rollback text[])",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_history_shapes_compare_with_local(fresh_db, shape):
    run_sql(fresh_db, "create schema supabase_migrations; " + SHAPES[shape])
    run_sql(fresh_db, "insert into supabase_migrations.schema_migrations (version) values ('1'), ('2'), ('4')")
    with open_session(fresh_db) as conn:
        hist = history.read(conn, ["1", "2", "3"])
    assert hist.versions == ["1", "2", "4"]
    assert hist.applied_not_local == ["4"]
    assert hist.local_not_applied == ["3"]
    assert not hist.in_sync


def test_missing_history_table_is_a_clear_error(fresh_db):
    with open_session(fresh_db) as conn, pytest.raises(MissingHistoryTable) as info:
        history.read(conn, [])
    assert "has no supabase_migrations.schema_migrations table" in info.value.message


def test_unexpected_history_shape(fresh_db):
    run_sql(fresh_db, "create schema supabase_migrations; create table supabase_migrations.schema_migrations (v int)")
    with open_session(fresh_db) as conn, pytest.raises(MissingHistoryTable) as info:
        history.read(conn, [])
    assert "no version column" in info.value.message
