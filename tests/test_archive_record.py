"""Phase 3 (archive), Phase 4 (record) and their rollbacks, on a real PostgreSQL.

The demo project (14 migrations, staging and production) runs the whole protocol for real:
squash, backup, archive, record, validate, then every rollback in reverse order, back to
the starting state byte for byte. Smaller projects on the session server cover each gate,
each refusal, the history table shapes and the crashes injected between steps.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_sql
from wizard import demo
from wizard.archive import phase as archive
from wizard.cli import main
from wizard.db.connect import identity, open_session
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.record import phase as record
from wizard.record.gates import evaluate_record_gates
from wizard.state import events, protocol
from wizard.state.journal import Journal

HISTORY = "supabase_migrations.schema_migrations"
ARCHIVE_TABLE = "supabase_migrations.schema_migrations_archive"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # keep rich from wrapping the lines the tests read


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``consolidate ARGV``; its exit code and everything it printed."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_init(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")


def files_state(root: Path) -> str:
    """Every file under supabase/ (path and sha256), and git's index and status when there is a repository."""
    parts = [
        f"{p.relative_to(root)} {hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in sorted((root / "supabase").rglob("*"))
        if p.is_file()
    ]
    parts += [str(p.relative_to(root)) for p in sorted((root / "supabase").rglob("*")) if p.is_dir()]
    if (root / ".git").exists():
        parts += [git(root, "ls-files", "-s"), git(root, "status", "--porcelain")]
    return "\n".join(parts)


def history_state(dsn: str) -> str:
    """``select * from`` the history table, in version order, and whether the archive table exists."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"select * from {HISTORY} order by version").fetchall()
        names = [d.name for d in conn.execute(f"select * from {HISTORY} limit 0").description]
        archive_table = conn.execute("select to_regclass(%s)::text", (ARCHIVE_TABLE,)).fetchone()[0]
    return repr((names, rows, archive_table))


def versions(dsn: str, table: str = HISTORY) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute(f"select version from {table} order by version").fetchall()]


def take_verified_backup(capsys: pytest.CaptureFixture[str], root: Path, target: str) -> None:
    for command in ("backup", "verify-backup"):
        code, out = cli(capsys, command, "--project", str(root), "--target", target)
        assert code == 0, out


# --- the demo project: the whole protocol ----------------------------------------------------


def _dsn(cfg: config.Config, target: str) -> str:
    return config.resolve_dsn(cfg.target(target).source, shadow_mod.embedded_dsn(cfg))


@pytest.fixture(scope="module")
def eav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, config.Config]]:
    """The demo project in a git work tree, after Phases 1 and 2 on staging (real squash, committed)."""
    from wizard.squash.phase import squash

    directory = tmp_path_factory.mktemp("phases") / "eav"
    demo.prepare(directory)
    git_init(directory)
    cfg = config.load(directory)
    for command in ("backup", "verify-backup", "inspect"):
        assert main([command, "--project", str(directory), "--target", "staging"]) == 0
    dsn = _dsn(cfg, "staging")
    with open_session(dsn) as conn:
        outcome = squash(cfg, cfg.target("staging"), conn, dsn, identity(conn), shadow_mod.for_config(cfg), rounds=1)
    assert outcome.proved, outcome.proof.reason
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "baseline")
    yield directory, cfg
    embedded.server(shadow_mod.embedded_root(cfg)).release()


def test_whole_protocol_then_every_rollback_restores_the_start(
    eav: tuple[Path, config.Config], capsys: pytest.CaptureFixture[str]
) -> None:
    from wizard.validate.phase import run_validation

    root, cfg = eav
    dsn = _dsn(cfg, "staging")
    target = cfg.target("staging")
    journal = Journal.for_target(cfg.state_dir, "staging")
    baseline = archive.current_baseline(journal)
    assert baseline is not None and len(baseline.superseded) == 14
    files_before, history_before = files_state(root), history_state(dsn)
    project = ("--project", str(root), "--target", "staging")

    code, out = cli(capsys, "archive", *project)
    assert code == 0, out
    assert [p.name for p in cfg.migrations_dir.iterdir()] == [baseline.filename]
    manifest = json.loads((cfg.archive_dir / "manifest.json").read_text())
    assert manifest["baseline"]["version"] == baseline.version
    assert {(f["version"], f["name"], f["sha256"]) for f in manifest["files"]} == {
        (s["version"], s["file"], s["sha256"]) for s in baseline.superseded
    }
    assert {f["baseline_version"] for f in manifest["files"]} == {baseline.version}
    assert git(root, "status", "--porcelain").count("R  supabase/migrations/") == 14  # git mv, staged
    done = journal.last(events.ARCHIVE_DONE)
    assert done["manifest_sha256"] == hashlib.sha256((cfg.archive_dir / "manifest.json").read_bytes()).hexdigest()

    code, out = cli(capsys, "record", *project, "--confirm", "eav_staging", "--dry-run")
    assert code == 0, out
    assert f'INSERT INTO {HISTORY} ("version", "name", "statements") VALUES (%s, %s, %s);' in out
    assert f"CREATE TABLE {ARCHIVE_TABLE} (LIKE {HISTORY} INCLUDING ALL);" in out
    assert history_state(dsn) == history_before

    code, out = cli(capsys, "record", *project, "--confirm", "eav_staging")
    assert code == 0, out
    assert versions(dsn) == [baseline.version]
    assert versions(dsn, ARCHIVE_TABLE) == [s["version"] for s in baseline.superseded]
    committed = journal.last(events.RECORD_COMMITTED)
    assert committed["verified"] and committed["problems"] == []
    assert committed["inventory_before"] == committed["inventory_after"]
    assert committed["inventory_after"]["counts"]["rows"] == demo.data.TOTAL_ROWS
    assert set(committed["writes"]) == {HISTORY, ARCHIVE_TABLE, "supabase_migrations.consolidation_evidence"}
    assert committed["inserted_columns"] == ["version", "name", "statements"]
    with psycopg.connect(dsn) as conn:
        name, statements = conn.execute(f"select name, statements from {HISTORY}").fetchone()
    assert name == "consolidated_production_schema" and len(statements) == committed["statements_count"] > 10

    seen = len(journal.events())
    assert cli(capsys, "record", *project, "--confirm", "eav_staging")[0] == 0
    assert cli(capsys, "archive", *project)[0] == 0
    assert len(journal.events()) == seen  # both already done: nothing new

    with open_session(dsn) as conn:
        validation = run_validation(cfg, target, conn, identity(conn), shadow_mod.for_config(cfg), journal)
    assert validation.passed, [c.reason for c in validation.failed]
    assert protocol.next_phase(journal) is None

    code, out = cli(capsys, "rollback", "archive", *project)
    assert code == 1 and "rollback record" in out  # reverse order only
    code, out = cli(capsys, "rollback", "record", *project, "--confirm", "eav_staging")
    assert code == 0, out
    assert history_state(dsn) == history_before  # the archive table is gone too
    assert cli(capsys, "rollback", "record", *project, "--confirm", "eav_staging")[0] == 0
    code, out = cli(capsys, "rollback", "squash", *project)
    assert code == 1 and "rollback archive" in out  # reverse order only: the files are still archived
    code, out = cli(capsys, "rollback", "archive", *project)
    assert code == 0, out
    assert files_state(root) == files_before
    assert cli(capsys, "rollback", "archive", *project) == (
        0,
        "nothing to roll back: no archived file is waiting to go back\n",
    )
    code, out = cli(capsys, "rollback", "squash", *project)
    assert code == 0 and "removed" in out, out
    # The folder holds exactly the 14 files of the history again, byte for byte; the baseline is gone.
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in cfg.migrations_dir.iterdir()} == {
        s["file"]: s["sha256"] for s in baseline.superseded
    }
    assert cli(capsys, "rollback", "squash", *project)[0] == 0  # nothing to roll back
    statuses = [s.status for s in protocol.states(journal)]
    assert statuses[2:5] == [protocol.ROLLED_BACK, protocol.ROLLED_BACK, protocol.ROLLED_BACK]
    # The module's project goes on with a proved baseline (the next test adopts it for production).
    code, out = cli(capsys, "squash", *project, "--rounds", "1")
    assert code == 0, out


def test_production_refuses_record_until_staging_rehearsed(
    eav: tuple[Path, config.Config], capsys: pytest.CaptureFixture[str]
) -> None:
    root, cfg = eav
    staging = Journal.for_target(cfg.state_dir, "staging")
    production = Journal.for_target(cfg.state_dir, "production")
    # One baseline per project: production's squash proves and adopts the staging baseline.
    code, out = cli(capsys, "squash", "--project", str(root), "--target", "production", "--rounds", "1")
    assert code == 0 and "baseline adopted" in out, out
    assert production.last(events.SQUASH_GENERATED)["sha256"] == staging.last(events.SQUASH_GENERATED)["sha256"]
    take_verified_backup(capsys, root, "production")
    prod_dsn, files_before = _dsn(cfg, "production"), files_state(root)
    history_before = history_state(prod_dsn)
    prod = ("--project", str(root), "--target", "production")
    stag = ("--project", str(root), "--target", "staging")
    assert cli(capsys, "archive", *prod)[0] == 0

    code, out = cli(capsys, "record", *prod, "--confirm", "eav_production")
    assert code == 1
    assert "✘ gate staging-rehearsal: no completed rehearsal on a staging target (staging)" in out
    assert out.count("✔ gate") == 4 and out.count("✘ gate") == 1
    assert history_state(prod_dsn) == history_before

    assert cli(capsys, "archive", *stag)[0] == 0  # already archived: journaled for staging too
    assert cli(capsys, "record", *stag, "--confirm", "eav_staging")[0] == 0
    staging.append(events.VALIDATED, passed=True, note="stands for consolidate validate (tested above)")
    code, out = cli(capsys, "record", *prod, "--confirm", "eav_production")
    assert code == 0, out
    assert "✔ gate staging-rehearsal" in out

    assert cli(capsys, "rollback", "record", *prod, "--confirm", "eav_production")[0] == 0
    assert history_state(prod_dsn) == history_before
    assert cli(capsys, "rollback", "record", *stag, "--confirm", "eav_staging")[0] == 0
    assert cli(capsys, "rollback", "archive", *prod)[0] == 0
    assert files_state(root) == files_before


# --- small projects on the session server ----------------------------------------------------

FILES = {
    "20240101000000_one.sql": "create table public.one (id int primary key);\n",
    "20240102000000_two.sql": "create table public.two (id int primary key);\n",
    "20240103000000_three.sql": "alter table public.one add column name text;\n",
}
BASELINE = "20240201000000_consolidated_production_schema.sql"
BASELINE_SQL = (
    "create table public.one (id int primary key, name text);\ncreate table public.two (id int primary key);\n"
)
CLI_SHAPE = (
    "create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text)"
)
HOSTED_SHAPE = (
    "create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text, "
    "created_by text, idempotency_key text unique, rollback text[])"
)


def fabricate_baseline(root: Path, target: str = "staging", proved: bool = True) -> archive.Baseline:
    """Write a baseline file and journal what ``consolidate squash`` would (generated, then proved)."""
    folder = root / "supabase" / "migrations"
    superseded = [
        {"file": p.name, "version": p.name.split("_")[0], "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(folder.glob("*.sql"))
        if p.name != BASELINE
    ]
    (folder / BASELINE).write_text(BASELINE_SQL)
    sha = hashlib.sha256(BASELINE_SQL.encode()).hexdigest()
    journal = Journal.for_target(root / ".consolidate", target)
    common = {"path": f"supabase/migrations/{BASELINE}", "version": BASELINE[:14], "sha256": sha}
    journal.append(events.SQUASH_GENERATED, **common, superseded=superseded)
    if proved:
        journal.append(events.SQUASH_PROVED, **common, fresh={"ok": True})
    return archive.current_baseline(journal)


@pytest.fixture
def small(fresh_db: str, make_project: Callable[..., Path]) -> Callable[..., Path]:
    """``small(shape=..., applied=..., role=..., git=...)``: a 3-migration project with a baseline."""

    def make(shape: str = CLI_SHAPE, applied: int = 3, role: str = "staging", use_git: bool = False) -> Path:
        rows = []
        for name, text in list(FILES.items())[:applied]:
            run_sql(fresh_db, text)
            rows.append((name[:14], [text.strip()], name[15:-4]))
        run_sql(fresh_db, "create schema supabase_migrations; " + shape)
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            for version, statements, name in rows:
                extra = ", created_by, idempotency_key, rollback" if "created_by" in shape else ""
                values = ", 'cli@example.com', %s, array['drop table x']" if extra else ""
                params = (version, statements, name, f"key-{version}") if extra else (version, statements, name)
                conn.execute(
                    f"insert into {HISTORY} (version, statements, name{extra}) values (%s, %s, %s{values})", params
                )
            if applied == 3:
                conn.execute("insert into public.one values (1, 'a'), (2, 'b'); insert into public.two values (7)")
        root = make_project(fresh_db, FILES, role=role)
        if use_git:
            (root / ".gitignore").write_text(".consolidate/\n")
            git_init(root)
        fabricate_baseline(root)
        return root

    return make


def test_each_gate_refuses_with_its_reason(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small(role="production")
    cfg = config.load(root)
    journal = Journal.for_target(cfg.state_dir, "staging")
    journal.append(events.SQUASH_PROOF_FAILED, sha256=archive.current_baseline(journal).sha256, reason="3 differences")

    def gates(confirm: str = "") -> dict[str, str]:
        with open_session(fresh_db) as conn:
            results = evaluate_record_gates(cfg, cfg.target("staging"), conn, identity(conn), confirm)
        return {g.name: g.reason for g in results if not g.passed}

    database = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    refused = gates("wrong_db")
    assert refused == {
        "verified-backup": "no backup of this target has been taken (run consolidate backup)",
        "baseline-proved": refused["baseline-proved"],
        "archive-done": "Phase 3 (archive) is pending: run consolidate archive first",
        "confirmed-name": f"--confirm wrong_db is not the target's database name ({database})",
        "staging-rehearsal": "consolidate.toml defines no staging target to rehearse on",
    }
    assert refused["baseline-proved"].startswith("the proof of the baseline supabase/migrations/" + BASELINE)
    assert refused["baseline-proved"].endswith(
        "failed at " + journal.last(events.SQUASH_PROOF_FAILED)["ts"] + ": 3 differences"
    )
    journal.append(events.SQUASH_PROVED, sha256=archive.current_baseline(journal).sha256, fresh={"ok": True})
    take_verified_backup(capsys, root, "staging")
    assert cli(capsys, "archive", "--project", str(root))[0] == 0
    assert gates(database).keys() == {"staging-rehearsal"}
    before = history_state(fresh_db)

    (root / "supabase" / "migrations" / BASELINE).write_text(BASELINE_SQL + "-- edited\n")
    assert gates(database)["baseline-proved"].startswith(f"the baseline supabase/migrations/{BASELINE} changed since")
    (root / "supabase" / "migrations" / BASELINE).write_text(BASELINE_SQL)
    (root / "supabase" / "migrations_archive" / "20240102000000_two.sql").unlink()
    assert gates(database)["archive-done"].endswith(
        "20240102000000_two.sql is neither in the migrations folder nor in the archive folder"
    )
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", "nope")
    assert code == 1
    assert "✘ gate confirmed-name: --confirm nope is not the target's database name" in out
    assert "The transaction (not run):" in out
    assert history_state(fresh_db) == before


def test_no_baseline_no_proof_refuse_archive(small: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = small()
    Journal.for_target(root / ".consolidate", "staging").path.unlink()
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 1 and "no consolidated baseline has been generated for target staging" in out
    fabricate_baseline(root, proved=False)
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 1 and f"the baseline supabase/migrations/{BASELINE} has not been proved" in out
    assert len(list((root / "supabase" / "migrations").iterdir())) == 4


def test_archive_refuses_unapplied_files(small: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = small(applied=2)
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 1
    assert "never applied on the target, archiving would lose an unapplied change: 20240103000000_three.sql" in out
    assert not (root / "supabase" / "migrations_archive").exists()


def test_archive_refuses_uncommitted_changes(small: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = small(use_git=True)
    folder = root / "supabase" / "migrations"
    (folder / "20240101000000_one.sql").write_text(FILES["20240101000000_one.sql"] + "-- local edit\n")
    git(root, "rm", "-q", "--cached", "supabase/migrations/20240102000000_two.sql")
    fabricate_baseline(root)  # generated from the files as they are now
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 1
    assert (
        "uncommitted changes in the work tree: 20240101000000_one.sql (git status M), "
        "20240102000000_two.sql (untracked)" in out
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, BASELINE])


def test_archive_outside_git_renames(small: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = small()
    before = files_state(root)
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 0 and "rename (not a git work tree)" in out
    assert sorted(p.name for p in (root / "supabase" / "migrations_archive").iterdir()) == sorted(
        [*FILES, "MANIFEST.md", "manifest.json"]
    )
    assert (
        "| 20240103000000 | 20240103000000_three.sql |"
        in (root / "supabase/migrations_archive/MANIFEST.md").read_text()
    )
    assert cli(capsys, "rollback", "archive", "--project", str(root))[0] == 0
    assert files_state(root) == before


@pytest.mark.parametrize("use_git", [True, False], ids=["git", "plain"])
def test_archive_killed_midway_resumes(
    small: Callable[..., Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, use_git: bool
) -> None:
    root = small(use_git=use_git)
    cfg = config.load(root)
    journal = Journal.for_target(cfg.state_dir, "staging")
    before = files_state(root)
    real_move, calls = archive._move, []

    def dies_after_one(*args) -> None:
        if len(calls) == 1:
            raise KeyboardInterrupt
        calls.append(args)
        real_move(*args)

    monkeypatch.setattr(archive, "_move", dies_after_one)
    assert cli(capsys, "archive", "--project", str(root))[0] == 130
    assert archive.phase(journal, "archive").status == protocol.PENDING
    assert len(list(cfg.archive_dir.glob("2024*.sql"))) == 1
    monkeypatch.setattr(archive, "_move", real_move)
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 0, out
    done = journal.last(events.ARCHIVE_DONE)
    assert done["moved_now"] == ["20240102000000_two.sql", "20240103000000_three.sql"]
    assert [f["name"] for f in json.loads((cfg.archive_dir / "manifest.json").read_text())["files"]] == list(FILES)

    calls.clear()
    monkeypatch.setattr(archive, "_move", dies_after_one)
    assert cli(capsys, "rollback", "archive", "--project", str(root))[0] == 130
    monkeypatch.setattr(archive, "_move", real_move)
    assert cli(capsys, "rollback", "archive", "--project", str(root))[0] == 0
    assert journal.last(events.ARCHIVE_ROLLED_BACK)["moved_now"] == [
        "20240102000000_two.sql",
        "20240103000000_three.sql",
    ]
    assert files_state(root) == before


def test_rollback_archive_refuses_changed_files(small: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = small()
    assert cli(capsys, "archive", "--project", str(root))[0] == 0
    (root / "supabase/migrations_archive/20240101000000_one.sql").write_text("-- changed\n")
    code, out = cli(capsys, "rollback", "archive", "--project", str(root))
    assert code == 1 and "20240101000000_one.sql is in the archive folder with sha256" in out
    assert not (root / "supabase/migrations/20240102000000_two.sql").exists()  # nothing moved


def _ready(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    take_verified_backup(capsys, root, "staging")
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 0, out


@pytest.mark.parametrize("shape", [CLI_SHAPE, HOSTED_SHAPE], ids=["cli", "hosted"])
def test_record_and_rollback_keep_whole_rows(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    root = small(shape=shape)
    _ready(root, capsys)
    before = history_state(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(f"select * from {HISTORY} order by version").fetchall()
    code, out = cli(
        capsys, "record", "--project", str(root), "--confirm", psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    )
    assert code == 0, out
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(f"select * from {ARCHIVE_TABLE} order by version").fetchall() == rows
        recorded = conn.execute(f"select * from {HISTORY}").fetchall()
    statements = [s.rstrip(";") for s in BASELINE_SQL.strip().splitlines()]
    assert recorded == [(BASELINE[:14], statements, "consolidated_production_schema", *(None,) * (len(rows[0]) - 3))]
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)
    assert code == 0, out
    assert history_state(fresh_db) == before


def test_keep_history_rows(small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = small()
    _ready(root, capsys)
    before = history_state(fresh_db)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname, "--keep-history-rows")
    assert code == 0, out
    assert "supabase migration list will still report them" in out
    assert versions(fresh_db) == [*(n[:14] for n in FILES), BASELINE[:14]]
    assert "None" in history_state(fresh_db).rsplit(",", 1)[1]  # no archive table
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 1 and "recorded with --keep-history-rows or by hand" in out
    assert cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)[0] == 0
    assert history_state(fresh_db) == before


def test_history_column_without_default_is_refused(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small()
    _ready(root, capsys)
    run_sql(
        fresh_db,
        f"alter table {HISTORY} add column applied_by text not null default 'x'; "
        f"alter table {HISTORY} alter column applied_by drop default",
    )
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 1
    assert f"✘ check: {HISTORY}.applied_by is NOT NULL without a default" in out


def test_record_killed_inside_the_transaction_changes_nothing(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small()
    _ready(root, capsys)
    before = history_state(fresh_db)
    real_run = record._run

    def dies_before_commit(conn, steps):
        real_run(conn, steps)
        raise KeyboardInterrupt

    monkeypatch.setattr(record, "_run", dies_before_commit)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[0] == 130
    assert history_state(fresh_db) == before
    monkeypatch.setattr(record, "_run", real_run)
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[0] == 0
    assert versions(fresh_db) == [BASELINE[:14]]


def test_record_and_rollback_killed_after_commit_resume(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small(use_git=True)
    _ready(root, capsys)
    journal = Journal.for_target(root / ".consolidate", "staging")
    before = history_state(fresh_db)
    real_finish = record.finish

    def dies_after_commit(*args, **kwargs):
        raise KeyboardInterrupt

    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    monkeypatch.setattr(record, "finish", dies_after_commit)
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[0] == 130
    assert versions(fresh_db) == [BASELINE[:14]]  # committed, not journaled
    assert archive.phase(journal, "record").status == protocol.PENDING
    monkeypatch.setattr(record, "finish", real_finish)
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 0 and "completing the journal of a run that stopped after COMMIT" in out
    committed = journal.last(events.RECORD_COMMITTED)
    assert committed["recovered"] and committed["verified"] and committed["archive_table_created"]
    assert committed["inventory_before"] == committed["inventory_after"]
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[1].endswith(
        "already recorded: nothing to do\n"
    )

    monkeypatch.setattr(record, "finish", dies_after_commit)
    assert cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)[0] == 130
    assert history_state(fresh_db) == before
    monkeypatch.setattr(record, "finish", real_finish)
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)
    assert code == 0 and "completing the journal" in out
    assert journal.last(events.RECORD_ROLLED_BACK)["recovered"]
    assert history_state(fresh_db) == before


def test_rollback_record_needs_a_record_and_the_name(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small()
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", "x")
    assert code == 0 and "nothing to roll back: no baseline was recorded on target staging" in out
    _ready(root, capsys)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[0] == 0
    code, out = cli(capsys, "rollback", "record", "--project", str(root))
    assert code == 1 and f"✘ gate confirmed-name: pass --confirm {dbname}" in out
    assert versions(fresh_db) == [BASELINE[:14]]


def test_commands_are_documented_and_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "phases.md").read_text()
    for argv in (["archive"], ["record"], ["rollback", "archive"], ["rollback", "record"]):
        assert f"consolidate {' '.join(argv)}" in doc
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--help"])
        assert exc.value.code == 0
        assert "usage: consolidate" in capsys.readouterr().out


def test_a_busy_history_table_times_out_and_changes_nothing(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small()
    _ready(root, capsys)
    before = history_state(fresh_db)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db) as other:  # a `supabase db push` holding the table
        other.execute(f"lock table {HISTORY} in row exclusive mode")
        code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 1
    assert "the transaction failed and was rolled back: canceling statement due to lock timeout" in out
    assert "another session holds the history table" in out
    assert history_state(fresh_db) == before
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname)[0] == 0


def test_the_record_transaction_locks_no_application_table(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every relation the Phase 4 transaction holds a lock on, seen from inside it, is a history table."""
    root = small()
    _ready(root, capsys)
    cfg = config.load(root)
    target = cfg.target("staging")
    with open_session(fresh_db) as conn:
        plan = record.plan_record(cfg, target, conn, identity(conn), Journal.for_target(cfg.state_dir, "staging"))
    held = record.Step(
        "SELECT DISTINCT n.nspname || '.' || c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
        key="locks",
    )
    conn = open_session(fresh_db, read_only=False, autocommit=False)
    try:
        locks = set(record._run(conn, [*plan.steps(), held])["locks"])
    finally:
        conn.rollback()
        conn.close()
    assert {HISTORY, ARCHIVE_TABLE} <= locks
    assert all(name.startswith("supabase_migrations.") for name in locks), locks


def test_record_and_status_judge_the_backup_by_the_same_age_limit(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``project.backup_max_age_hours`` is the limit for ``record`` too, not a built-in 24 h."""
    root = small()
    _ready(root, capsys)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    toml = root / "consolidate.toml"
    toml.write_text(toml.read_text() + "\n[project]\nbackup_max_age_hours = 0.0000001\n")  # a third of a millisecond

    code, out = cli(capsys, "status", "--project", str(root), "--json")
    assert code == 0
    live = {g["name"]: g for g in json.loads(out)["gates"]}["verified-backup"]
    assert not live["passed"] and "the limit is 0.0 h" in live["reason"]
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname, "--dry-run")
    assert code == 1
    assert "✘ gate verified-backup: backup " in out and "the limit is 0.0 h" in out

    toml.write_text(toml.read_text().replace("0.0000001", "48"))
    code, out = cli(capsys, "status", "--project", str(root), "--json")
    assert {g["name"]: g["passed"] for g in json.loads(out)["gates"]}["verified-backup"]
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname, "--dry-run")
    assert code == 0 and "✔ gate verified-backup" in out


def test_a_full_disk_after_commit_fails_loudly_and_the_next_run_completes_the_journal(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal line of a committed transaction cannot be written: no success is printed, the intent stays."""
    import errno

    root = small()
    _ready(root, capsys)
    journal = Journal.for_target(root / ".consolidate", "staging")
    pending = journal.path.parent / record.PENDING_FILE
    real_append = Journal.append

    def disk_full(self, event, **evidence):
        if event in (events.RECORD_COMMITTED, events.RECORD_ROLLED_BACK):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, event, **evidence)

    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    monkeypatch.setattr(Journal, "append", disk_full)
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 2
    assert "recorded;" not in out and "history:" not in out and "Traceback" not in out
    error = [line for line in out.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: target staging recorded the baseline {BASELINE[:14]} (the transaction committed), "
        "but the journal could not be written: No space left on device"
    ]
    assert "then run `consolidate record` again: it completes the journal" in out
    assert versions(fresh_db) == [BASELINE[:14]] and pending.exists()
    assert journal.last(events.RECORD_COMMITTED) is None

    monkeypatch.setattr(Journal, "append", real_append)
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 0 and "completing the journal of a run that stopped after COMMIT" in out
    assert journal.last(events.RECORD_COMMITTED)["recovered"] and not pending.exists()

    monkeypatch.setattr(Journal, "append", disk_full)
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)
    assert code == 2 and "rolled back the recording of the baseline" in out and pending.exists()
    monkeypatch.setattr(Journal, "append", real_append)
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)
    assert code == 0 and journal.last(events.RECORD_ROLLED_BACK)["recovered"] and not pending.exists()


def test_a_history_table_locked_against_reads_stops_record_with_one_line(
    small: Callable[..., Path], fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small()
    _ready(root, capsys)
    before = history_state(fresh_db)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db) as other:  # a migration holding the table: even reads wait
        other.execute(f"lock table {HISTORY} in access exclusive mode")
        pid = other.info.backend_pid
        code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 2 and "Traceback" not in out
    assert f"error: another session (pid {pid}) holds a lock on {HISTORY}; the read gave up after lock_timeout" in out
    assert "fix: wait for the other session to finish (a migration or db push?), or end it with" in out
    assert history_state(fresh_db) == before


def test_archive_refuses_a_file_the_cli_skips_that_the_target_never_recorded(
    shadow: shadow_mod.Shadow, make_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from wizard.history.files import discover
    from wizard.history.replay import replay

    files = {
        "20240101000000_init.sql": "create table public.notes (id int primary key, body text);",
        "20240102000000-0b6f2c1e-4d8a-4f7e-9a51-3c2d1e0f9a8b.sql": "create table public.forgotten (id int);",
    }
    with shadow.scratch("skipped") as target:
        root = make_project(target, files)
        assert replay(discover(root / "supabase" / "migrations").files, target).ok  # as `db push` applies it
        (root / ".gitignore").write_text(".consolidate/\n")
        git_init(root)
        take_verified_backup(capsys, root, "staging")
        code, out = cli(capsys, "squash", "--project", str(root))
        assert code == 0, out
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "baseline")
        before = files_state(root)
        code, out = cli(capsys, "archive", "--project", str(root))
        assert code == 1, out  # refused (docs/exit-codes.md: a refused archive is 1)
        assert "the Supabase CLI skips 20240102000000-0b6f2c1e-4d8a-4f7e-9a51-3c2d1e0f9a8b.sql" in out
        assert "never recorded it: rename it <timestamp>_name.sql and apply it" in out
        assert files_state(root) == before  # refused: nothing moved
