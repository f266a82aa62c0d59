"""Migration files: the CLI naming rule, hashing, parsing, classification, bad input."""

from __future__ import annotations

import hashlib

import pytest

from wizard.errors import MigrationFileError
from wizard.history.files import CLI_RULE, discover, parse_statements


def write(directory, name, text, mode="w"):
    path = directory / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_discovery_follows_the_cli_rule(tmp_path):
    write(tmp_path, "20240102000000_second.sql", "create table b (id int);")
    write(tmp_path, "20240101000000_first.sql", "create table a (id int);")
    write(tmp_path, "20240103-4f2a-uuid.sql", "create table c (id int);")
    write(tmp_path, "README.md", "notes")
    mset = discover(tmp_path)
    assert [f.filename for f in mset.files] == ["20240101000000_first.sql", "20240102000000_second.sql"]
    assert sorted(f.filename for f in mset.ignored) == ["20240103-4f2a-uuid.sql", "README.md"]
    assert "<timestamp>_name.sql" in CLI_RULE
    first = mset.files[0]
    assert first.version == "20240101000000" and first.name == "first"
    assert first.sha256 == hashlib.sha256(b"create table a (id int);").hexdigest()


def test_duplicate_versions_are_flagged(tmp_path):
    write(tmp_path, "20240101000000_a.sql", "select 1;")
    write(tmp_path, "20240101000000_b.sql", "select 2;")
    assert discover(tmp_path).duplicates == {"20240101000000": ["20240101000000_a.sql", "20240101000000_b.sql"]}


def test_data_statements_are_flagged_with_their_table(tmp_path):
    write(
        tmp_path,
        "20240101000000_buckets.sql",
        "create table t (id int);\n\ninsert into storage.buckets (id, name) values ('media', 'media');\n"
        "update t set id = 1;\ndo $$ begin perform 1; end $$;\n",
    )
    (f,) = discover(tmp_path).files
    flagged = [(s.line, s.category, s.node, s.target) for s in f.data_statements]
    assert flagged == [
        (3, "data", "InsertStmt", "storage.buckets"),
        (4, "data", "UpdateStmt", "t"),
        (5, "procedural", "DoStmt", None),
    ]


def test_syntax_error_reports_file_and_line(tmp_path):
    write(tmp_path, "20240101000000_bad.sql", "create table a (id int);\n\ncreate tabel b (id int);\n")
    (f,) = discover(tmp_path).files
    assert f.error is not None
    assert f.error.startswith('20240101000000_bad.sql:3: syntax error at or near "tabel"')


def test_not_utf8_is_a_clear_error(tmp_path):
    write(tmp_path, "20240101000000_latin1.sql", "-- caf\xe9\ncreate table a (id int);".encode("latin-1"), "wb")
    (f,) = discover(tmp_path).files
    assert "not UTF-8" in f.error and "re-save the file as UTF-8" in f.error


def test_psql_meta_commands_are_rejected_with_the_line():
    with pytest.raises(MigrationFileError) as info:
        parse_statements("\\restrict abc\ncreate table a (id int);\n", "dump.sql")
    assert info.value.message.startswith("dump.sql:1: psql meta-command \\restrict")


def test_missing_folder_names_the_setting(tmp_path):
    with pytest.raises(MigrationFileError) as info:
        discover(tmp_path / "nope")
    assert "migrations_dir" in info.value.fix


def test_statement_lines_and_autocommit_detection():
    stmts = parse_statements("-- c\ncreate table a (id int);\ncreate index concurrently i on a (id);\n", "f.sql")
    assert [(s.line, s.needs_autocommit) for s in stmts] == [(2, False), (3, True)]


def test_backslashes_inside_bodies_and_strings_are_fine():
    text = "create function f() returns text language sql as $$\nselect '\\\\n'\n$$;\nselect E'\\\\\nx';\n"
    assert [s.node for s in parse_statements(text, "f.sql")] == ["CreateFunctionStmt", "SelectStmt"]
