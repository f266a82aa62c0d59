"""The headless commands end to end: inspect, drift, compare; exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_sql
from wizard.cli import build_parser, command_parsers, main
from wizard.state.journal import Journal

HISTORY = {
    "20240101000000_init.sql": """
        create table public.videos (id uuid primary key default gen_random_uuid(), title text not null);
        create table public.scripts (id bigint generated always as identity primary key,
                                     video_id uuid references public.videos (id), body text);
        create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
        create trigger scripts_touch before update on public.scripts
            for each row execute function public.touch();
        alter table public.scripts enable row level security;
        create policy scripts_read on public.scripts for select to authenticated using (true);
    """,
    "20240102000000_user_trigger.sql": """
        create function public.handle_new_user() returns trigger language plpgsql security definer
            set search_path = '' as $$ begin return new; end $$;
        create trigger on_auth_user_created after insert on auth.users
            for each row execute function public.handle_new_user();
        create policy media_upload on storage.objects for insert to authenticated
            with check (bucket_id = 'media');
        insert into storage.buckets (id, name) values ('media', 'media');
    """,
}


def apply_history(dsn: str) -> None:
    for text in HISTORY.values():
        run_sql(dsn, text)
    run_sql(
        dsn,
        "create schema supabase_migrations; create table supabase_migrations.schema_migrations "
        "(version text primary key, statements text[], name text); "
        "insert into supabase_migrations.schema_migrations (version, name) values "
        "('20240101000000', 'init'), ('20240102000000', 'user_trigger');",
    )


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_inspect_counts_in_scope_objects_including_managed_attachments(fresh_db, make_project, capsys):
    apply_history(fresh_db)
    run_sql(fresh_db, "insert into public.videos (title) values ('a'), ('b')")
    project = make_project(fresh_db, HISTORY)
    code, data = run_json(capsys, "inspect", "--project", str(project))
    assert code == 0
    inv = data["inventory"]
    counts = inv["counts"]
    assert (counts["tables"], counts["functions"], counts["triggers"], counts["policies"]) == (2, 2, 2, 2)
    assert counts["indexes"] == 2 and inv["indexes_backing_constraints"] == 2
    assert counts["rows"] == 2 and inv["row_counts"] == {"public.videos": 2, "public.scripts": 0}
    assert "auth.users.on_auth_user_created" in inv["objects"]["trigger"]
    assert "storage.objects.media_upload" in inv["objects"]["policy"]
    assert inv["foreign_key_actions"] == {"ON DELETE NO ACTION": 1}
    assert inv["identity"]["database"].startswith("cw_test_")
    flagged = [s for f in data["files"] for s in f["data_statements"]]
    assert flagged == [{"line": 8, "kind": "InsertStmt", "category": "data", "target": "storage.buckets"}]
    assert data["history"]["applied_not_local"] == [] and data["history"]["local_not_applied"] == []
    # The inventory is journaled as evidence.
    record = Journal.for_target(project / ".consolidate", "staging").last("inspect.done")
    assert record["counts"]["tables"] == 2 and record["fingerprint"] == inv["fingerprint"]


def test_drift_explains_each_kind_of_drift(fresh_db, make_project, capsys):
    apply_history(fresh_db)
    # Hand-made drift, as in the seed: a missing CASCADE, a trigger that no longer exists, a changed function.
    run_sql(
        fresh_db,
        "alter table public.scripts drop constraint scripts_video_id_fkey, add constraint scripts_video_id_fkey "
        "foreign key (video_id) references public.videos (id) on delete cascade; "
        "drop trigger scripts_touch on public.scripts; "
        "create or replace function public.touch() returns trigger language plpgsql as "
        "$$ begin new.body := trim(new.body); return new; end $$;",
    )
    project = make_project(fresh_db, HISTORY)
    code, data = run_json(capsys, "drift", "--project", str(project))
    assert code == 1
    assert data["replay"]["ok"] is True
    found = {(d["kind"], d["name"], d["status"]): d for d in data["parity"]["differences"]}
    assert set(found) == {
        ("constraint", "public.scripts.scripts_video_id_fkey", "different"),
        ("trigger", "public.scripts.scripts_touch", "only_b"),
        ("function", "public.touch()", "different"),
    }
    fk = found[("constraint", "public.scripts.scripts_video_id_fkey", "different")]
    assert fk["explanation"] == (
        "foreign key scripts_video_id_fkey on public.scripts: ON DELETE CASCADE in the target, "
        "NO ACTION in the migrations"
    )
    trig = found[("trigger", "public.scripts.scripts_touch", "only_b")]
    assert "does not exist in the target" in trig["explanation"]
    assert trig["reconcile_sql"] == "DROP TRIGGER scripts_touch ON public.scripts;"
    assert "body differs" in found[("function", "public.touch()", "different")]["explanation"]


def test_drift_clean_history_exits_zero(fresh_db, make_project, capsys):
    apply_history(fresh_db)
    project = make_project(fresh_db, HISTORY)
    assert main(["drift", "--project", str(project)]) == 0
    assert "identical" in capsys.readouterr().out


def test_drift_reports_a_history_that_cannot_build_a_fresh_environment(fresh_db, make_project, capsys):
    history = dict(HISTORY)
    history["20240103000000_grant_admin.sql"] = (
        "create table public.roles (user_id uuid references auth.users (id), role text);\n"
        "insert into public.roles values ('6f0c5a2e-0000-4000-8000-000000000001', 'admin');\n"
    )
    apply_history(fresh_db)
    project = make_project(fresh_db, history)
    code = main(["drift", "--project", str(project)])
    out = capsys.readouterr().out
    assert code == 1
    assert "20240103000000_grant_admin.sql:2: statement 2" in out
    assert "violates foreign key constraint" in out
    assert "cannot build a fresh environment" in out


def test_compare_needs_no_project(fresh_db, other_db, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no consolidate.toml anywhere
    run_sql(fresh_db, HISTORY["20240101000000_init.sql"])
    run_sql(other_db, HISTORY["20240101000000_init.sql"])
    assert main(["compare", fresh_db, other_db]) == 0
    assert "identical" in capsys.readouterr().out
    run_sql(other_db, "alter table public.scripts drop constraint scripts_pkey")
    code, data = run_json(capsys, "compare", fresh_db, other_db)
    assert code == 1
    assert {(d["kind"], d["status"]) for d in data["differences"]} == {("constraint", "only_a"), ("index", "only_a")}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "host=127.0.0.1 port=1 user=x password=t0ps3cret dbname=x", "dbname=y"], "cannot connect"),
        (["compare", "postgresql://a:t0ps3cret@[bad", "dbname=y"], "invalid connection string"),
        (["inspect", "--project", "/nonexistent-dir"], "no consolidate.toml"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith("error:") and message in lines[0]
    assert lines[1].strip().startswith("fix:")
    assert "t0ps3cret" not in err and "Traceback" not in err


def test_missing_history_table_is_a_message_not_a_traceback(fresh_db, make_project, capsys):
    run_sql(fresh_db, HISTORY["20240101000000_init.sql"])
    project = make_project(fresh_db, HISTORY)
    assert main(["inspect", "--project", str(project), "--no-rows"]) == 1
    out = capsys.readouterr().out
    assert "has no supabase_migrations.schema_migrations table" in out


def test_every_command_is_documented(request):
    """Every subcommand has help text and appears in the README."""
    readme = (request.config.rootpath / "README.md").read_text()
    for name, subparser in command_parsers(build_parser()).items():
        assert subparser.format_help().strip(), name
        assert f"consolidate {name}" in readme, f"README does not document `consolidate {name}`"


def test_headless_entry_point_names_the_interactive_one(capsys, monkeypatch):
    """`python -m wizard.cli` carries no UI: interactive commands say to use `consolidate`."""
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["init"]) == 2
    assert "run it through the `consolidate` command" in capsys.readouterr().err
    assert main([]) == 2  # no wizard to open: the help is printed instead
    assert "usage: consolidate" in capsys.readouterr().out


def test_console_script_injects_the_wizard():
    from screens.main import INTERACTIVE

    assert callable(INTERACTIVE.run_default) and callable(INTERACTIVE.open_wizard) and callable(INTERACTIVE.run_init)
