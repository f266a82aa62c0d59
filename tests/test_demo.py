"""The demo project: built once (through the CLI) on its own embedded server, then inspected."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from wizard import demo
from wizard.cli import main
from wizard.db.connect import open_session
from wizard.demo import data
from wizard.errors import EXIT_USAGE, WizardError
from wizard.history import files as migrations
from wizard.history import remote as history
from wizard.inspect import drift, inventory
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A demo project made by ``consolidate demo --prepare-only``, and what the command printed."""
    directory = tmp_path_factory.mktemp("demo") / "eav"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--prepare-only", str(directory)])
    assert code == 0, out.getvalue()
    yield directory, out.getvalue()
    embedded.server(shadow_mod.embedded_root(config.load(directory))).release()


@pytest.fixture(scope="module")
def cfg(prepared: tuple[Path, str]) -> config.Config:
    return config.load(prepared[0])


def _dsn(cfg: config.Config, target: str) -> str:
    return config.resolve_dsn(cfg.target(target).source, shadow_mod.embedded_dsn(cfg))


@pytest.fixture
def staging(cfg: config.Config) -> Iterator[psycopg.Connection]:
    """A read-only session on the staging database, as the commands open it."""
    with open_session(_dsn(cfg, "staging")) as conn:
        yield conn


def test_cli_prints_directory_and_targets(prepared: tuple[Path, str]) -> None:
    directory, output = prepared
    assert f"prepared {directory.resolve()}" in output
    assert "staging (role staging)" in output
    assert "production (role production)" in output
    assert (directory / ".gitignore").read_text() == ".consolidate/\n"


def test_cli_refuses_a_non_empty_directory(
    prepared: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # keep rich from wrapping a long temporary path
    directory, _ = prepared
    assert main(["demo", "--prepare-only", str(directory)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    error, fix = captured.err.strip().splitlines()
    assert error.startswith("error: ") and "not empty" in error and str(directory.resolve()) in error
    assert fix.strip().startswith("fix: ")


def test_prepare_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a-dir"
    path.write_text("x")
    with pytest.raises(WizardError, match="not a directory"):
        demo.prepare(path)


def test_config_has_both_targets(cfg: config.Config) -> None:
    assert {name: (t.role, t.source.embedded_database) for name, t in cfg.targets.items()} == demo.TARGETS
    assert cfg.shadow is None


@pytest.mark.parametrize("target", ["staging", "production"])
def test_inventory_matches_the_seed(cfg: config.Config, target: str) -> None:
    with open_session(_dsn(cfg, target)) as conn:
        inv = inventory.take(conn)
    seed = {"tables": 7, "indexes": 16, "functions": 7, "policies": 18, "triggers": 2, "rows": 467}
    assert {k: inv.counts[k] for k in seed} == seed == demo.EXPECTED_COUNTS
    assert inv.row_counts == data.EXPECTED_ROWS
    triggers = {o.name for o in inv.snapshot.of_kind("trigger")}
    assert triggers == {"auth.users.on_auth_user_created", "public.sync_metadata.sync_metadata_updated_at"}
    assert "public.idx_scripts_video_id" in {o.name for o in inv.snapshot.of_kind("index")}
    assert inv.foreign_key_actions["ON DELETE CASCADE"] == 4  # three by hand, user_profiles -> auth.users


def test_migration_files_and_data_statement(cfg: config.Config) -> None:
    mset = migrations.discover(cfg.migrations_dir)
    assert len(mset.files) == 14 and not mset.ignored and not mset.errors and not mset.duplicates
    flagged = [(f.filename, s.node, s.target) for f in mset.files for s in f.data_statements]
    assert flagged == [("20250301093000_script_status_and_exports.sql", "InsertStmt", "storage.buckets")]


def test_history_matches_the_files(cfg: config.Config, staging: psycopg.Connection) -> None:
    mset = migrations.discover(cfg.migrations_dir)
    hist = history.read(staging, mset.versions)
    assert hist.columns == ["version", "statements", "name"]
    assert hist.versions == mset.versions and hist.in_sync
    assert [(a.name, a.statement_count) for a in hist.applied] == [(f.name, len(f.statements)) for f in mset.files]


def test_drift_finds_the_hand_made_changes(cfg: config.Config, staging: psycopg.Connection) -> None:
    mset = migrations.discover(cfg.migrations_dir)
    report = drift.check(staging, mset, shadow_mod.for_config(cfg))
    assert report.replay.ok and report.parity is not None
    found = {(d.kind, d.name, d.status): d.explanation for d in report.parity.differences}
    cascade = "ON DELETE CASCADE in the target, NO ACTION in the migrations"
    fks = {
        "videos": "videos_project_id_fkey",
        "scripts": "scripts_video_id_fkey",
        "script_components": "script_components_script_id_fkey",
    }
    for table, name in fks.items():
        explanation = found.pop(("constraint", f"public.{table}.{name}", "different"))
        assert cascade in explanation and name in explanation
    assert "does not exist in the target" in found.pop(
        ("trigger", "public.scripts.update_scripts_updated_at", "only_b")
    )
    function = "public.save_script_with_components(p_video_id uuid, p_plain_text text, p_components jsonb)"
    assert "differs" in found.pop(("function", function, "different"))
    assert found == {}


def test_seed_rows_are_deterministic() -> None:
    first, second = data.rows(), data.rows()
    assert first == second
    inserted = ("user_clients", "projects", "videos", "scripts", "script_components", "sync_metadata")
    profiles = len(first.auth_users)  # one per auth user, written by the on_auth_user_created trigger
    assert sum(len(getattr(first, t)) for t in inserted) + profiles == data.TOTAL_ROWS == 467
    assert len(demo.migration_sources()) == 14 and "ON DELETE CASCADE" in demo.drift_sql().upper()
