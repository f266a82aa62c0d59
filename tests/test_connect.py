"""Target sessions are read-only, identities are captured, and bad input gets one clear line."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.conftest import run_sql
from wizard.catalog import snapshot
from wizard.db.connect import identity, open_session
from wizard.db.dsn import describe, redact_text, without_password
from wizard.errors import ConnectionFailed, WizardError
from wizard.inspect import inventory


def test_target_session_is_read_only(fresh_db):
    with open_session(fresh_db) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW application_name").fetchone()[0] == "consolidation-wizard"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "5min"
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "5s"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create table public.nope (id int)")


def test_identity_is_captured(fresh_db, shadow):
    with open_session(fresh_db) as conn:
        ident = identity(conn)
    assert ident.database.startswith("cw_test_")
    assert ident.database_oid > 0
    assert ident.system_identifier and ident.system_identifier.isdigit()
    assert ident.server_version.startswith("18")
    with open_session(shadow.admin_dsn) as conn:
        other = identity(conn)
    assert other.system_identifier == ident.system_identifier
    assert other.database_oid != ident.database_oid


def test_unreachable_host_is_one_line_with_a_fix():
    with pytest.raises(ConnectionFailed) as info:
        open_session("host=127.0.0.1 port=1 user=postgres password=hunter2 dbname=x", connect_timeout=2)
    assert "cannot connect to postgres@127.0.0.1:1/x" in info.value.message
    assert "server is running" in info.value.fix
    assert "hunter2" not in str(info.value)
    assert "\n" not in info.value.message


def test_missing_database_names_the_fix(shadow):
    dsn = shadow.dsn_for("no_such_database_here")
    with pytest.raises(ConnectionFailed) as info:
        open_session(dsn)
    assert "database name" in info.value.fix


def test_passwords_are_redacted_everywhere():
    url = "postgresql://app:pa55word@db.example.com:5432/postgres"
    assert "pa55word" not in describe(url)
    assert "pa55word" not in redact_text(f"failed for {url}")
    assert "pa55word" not in redact_text("host=x password=pa55word dbname=y")
    conninfo, password = without_password(url)
    assert password == "pa55word" and "pa55word" not in conninfo


def test_remote_hosts_default_to_tls(monkeypatch):
    from wizard.db.connect import tls_default

    monkeypatch.delenv("PGSSLMODE", raising=False)
    dsn, note = tls_default("postgresql://postgres@db.abcdefgh.supabase.co:5432/postgres")
    assert "sslmode=require" in dsn and "using sslmode=require" in note
    assert tls_default("postgresql://postgres@db.x.supabase.co/postgres?sslmode=verify-full")[1] is None
    assert tls_default("host=127.0.0.1 dbname=x")[1] is None
    assert tls_default("host=/tmp/socket dbname=x")[1] is None
    monkeypatch.setenv("PGSSLMODE", "disable")
    assert tls_default("host=db.example.com dbname=x")[1] is None


def test_row_counting_shows_progress_and_cancels_a_count_in_progress(fresh_db):
    run_sql(fresh_db, "create table public.a (id int); create table public.b (id int); insert into public.a values (1)")
    seen = []
    with open_session(fresh_db) as conn:
        snap = snapshot(conn)
        assert inventory.count_rows(conn, snap, lambda t, i, n: seen.append((t, i, n))) == {
            "public.a": 1,
            "public.b": 0,
        }
        assert sorted(seen) == [("public.a", 1, 2), ("public.b", 2, 2)]
        cancel = threading.Event()
        with psycopg.connect(fresh_db) as holder:  # a count that would wait (up to lock_timeout) behind a lock
            holder.execute("lock table public.a in access exclusive mode")
            threading.Timer(0.3, cancel.set).start()
            # Cancelled, not waited out: waiting out the lock would end in a lock timeout instead.
            with pytest.raises(inventory.Cancelled, match=r"cancelled while counting public\.a"):
                inventory.count_rows(conn, snap, cancel=cancel)
        assert conn.execute("select 1").fetchone() == (1,)  # the session is still usable


def test_row_counting_gives_up_on_a_locked_table_with_a_clear_message(fresh_db):
    run_sql(fresh_db, "create table public.busy (id int)")
    with open_session(fresh_db) as conn, psycopg.connect(fresh_db) as holder:
        conn.execute("SET lock_timeout = '200ms'")
        snap = snapshot(conn)
        holder.execute("lock table public.busy in access exclusive mode")
        with pytest.raises(WizardError) as info:
            inventory.count_rows(conn, snap)
    assert info.value.message == (
        "table public.busy is locked by another session; counting its rows gave up after 200ms (lock_timeout) "
        "instead of queueing behind the lock"
    )
