"""A target that is not a Supabase database is recognised and explained (issue #13)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import run_sql
from wizard.cli import main
from wizard.platform.shadow import Shadow

NOTE = "does not look like a Supabase database"
FILES = {"20240101000000_init.sql": "create table public.videos (id bigint primary key, title text not null);"}


@pytest.fixture
def plain_db(shadow: Shadow) -> Iterator[str]:
    """A database created from template0: plain PostgreSQL, no Supabase schema at all."""
    name = f"cw_test_plain_{secrets.token_hex(4)}"
    dsn = shadow.create_database(name, bootstrap=False)
    try:
        yield dsn
    finally:
        shadow.drop_database(name)


def test_inspect_and_drift_say_a_plain_database_is_not_supabase(plain_db, make_project, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the note is one line
    run_sql(plain_db, FILES["20240101000000_init.sql"])
    project = make_project(plain_db, FILES)
    for command in ("inspect", "drift"):
        main([command, "--project", str(project)])
        notes = [line for line in capsys.readouterr().out.splitlines() if NOTE in line]
        assert len(notes) == 1, command
        assert notes[0].startswith("note: target staging has no auth and no supabase_migrations schema")
        assert "expected" in notes[0] and "check the target's DSN" in notes[0]
        main([command, "--project", str(project), "--json"])
        assert NOTE in json.loads(capsys.readouterr().out)["not_supabase"]


def test_a_supabase_target_gets_no_such_note(fresh_db, make_project, capsys):
    run_sql(fresh_db, FILES["20240101000000_init.sql"])
    project = make_project(fresh_db, FILES)
    main(["inspect", "--project", str(project), "--no-rows"])
    assert NOTE not in capsys.readouterr().out
    main(["inspect", "--project", str(project), "--no-rows", "--json"])
    assert json.loads(capsys.readouterr().out)["not_supabase"] is None
