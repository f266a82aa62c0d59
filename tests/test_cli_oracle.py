"""The real Supabase CLI (2.117.0, npm package ``supabase``) as the oracle.

* The tool's replay builds what ``supabase db push`` builds from the same files: the same schema,
  the same history rows, the same files skipped.
* After the whole protocol (backup, verify, squash, archive, record), the CLI accepts the recorded
  state: ``migration list`` shows only the baseline, on both sides, and ``db push --dry-run`` says
  the remote database is up to date.

The CLI is found through ``CW_SUPABASE_CLI``, or installed once with npm into
``~/.cache/consolidation-wizard/`` (``.ci/run`` does the same); these tests skip only where npm
is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.test_archive_record import cli, git, git_init, take_verified_backup
from wizard.catalog import snapshot
from wizard.db.connect import open_session
from wizard.history.files import discover
from wizard.history.replay import replay
from wizard.parity.diff import compare
from wizard.platform.shadow import Shadow

VERSION = "2.117.0"
CACHE = Path.home() / ".cache" / "consolidation-wizard" / f"supabase-cli-{VERSION}"

HISTORY = {
    "20240101000000_init.sql": """
        -- the first migration
        create table public.profiles (
          id uuid primary key default gen_random_uuid(),
          handle text not null unique,
          created_at timestamptz not null default now()
        );
        alter table public.profiles enable row level security;
        create policy "profiles are public" on public.profiles for select using (true);
    """,
    "20240102000000_functions.sql": """
        create function public.handle_of(p public.profiles) returns text
          language plpgsql stable as $body$
        begin
          -- a semicolon inside a body; must not split the statement
          return p.handle || ';';
        end $body$;
        insert into public.profiles (handle) values ('first');
    """,
    "20240103000000_concurrent_index.sql": """
        create table public.events (id bigint generated always as identity primary key, kind text);
        create index concurrently events_kind on public.events (kind);
        insert into public.events (kind) values ('created');
    """,
    "20240104000000_own_transaction.sql": """
        begin;
        create table public.tags (name text primary key);
        insert into public.tags values ('a'), ('b');
        commit;
    """,
    "20240105000000-7d0f1a9c-2b1e-4c55-9f57-0e2c9a1b3c4d.sql": """
        create table public.skipped_by_the_cli (id int);
    """,
}


@pytest.fixture(scope="session")
def supabase_cli() -> Path:
    """The Supabase CLI binary, installed with npm on first use."""
    given = os.environ.get("CW_SUPABASE_CLI")
    if given:
        return Path(given)
    binary = CACHE / "node_modules" / ".bin" / "supabase"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is not installed: cannot install the Supabase CLI {VERSION} (the oracle)")
        CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--exact", f"supabase@{VERSION}", "--prefix", str(CACHE), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, f"npm install supabase@{VERSION} failed: {proc.stderr[-2000:]}"
    return binary


def db_url(dsn: str) -> str:
    """A libpq DSN of the embedded server as the URL the CLI takes (Unix socket, no TLS)."""
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    return (
        f"postgresql://{parts.get('user', 'postgres')}@localhost/{parts['dbname']}"
        f"?host={parts['host']}&port={parts.get('port', 5432)}&sslmode=disable"
    )


def run_cli(binary: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [str(binary), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def write_history(root: Path, files: dict[str, str]) -> Path:
    folder = root / "supabase" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder


def history_rows(dsn: str) -> list[tuple[str, str, list[str]]]:
    with open_session(dsn) as conn:
        rows = conn.execute("SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY 1")
        return [(r[0], r[1], list(r[2] or [])) for r in rows.fetchall()]


def consolidate(capsys: pytest.CaptureFixture[str], root: Path, target: str) -> tuple[Path, str]:
    """Backup, squash (committed), archive and record a project in git; the baseline left alone in the folder."""
    (root / ".gitignore").write_text(".consolidate/\nsupabase/.temp/\n")
    git_init(root)
    take_verified_backup(capsys, root, "staging")
    code, out = cli(capsys, "squash", "--project", str(root))
    assert code == 0, out
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    code, out = cli(capsys, "archive", "--project", str(root))
    assert code == 0, out
    (baseline,) = (root / "supabase" / "migrations").iterdir()  # the archive left only the baseline
    dbname = psycopg.conninfo.conninfo_to_dict(target)["dbname"]
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname)
    assert code == 0, out
    return baseline, dbname


def assert_up_to_date(binary: Path, root: Path, target: str) -> None:
    """The CLI's ``db push --dry-run`` finds nothing to push."""
    dry = run_cli(binary, root, "db", "push", "--dry-run", "--db-url", db_url(target))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Remote database is up to date." in dry.stdout + dry.stderr


def test_replay_builds_what_the_cli_pushes(supabase_cli: Path, shadow: Shadow, tmp_path: Path) -> None:
    folder = write_history(tmp_path, HISTORY)
    with shadow.scratch("cli_push") as pushed, shadow.scratch("replayed") as replayed:
        proc = run_cli(supabase_cli, tmp_path, "db", "push", "--db-url", db_url(pushed), "--include-all", "--yes")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Skipping migration 20240105000000-7d0f1a9c" in proc.stdout + proc.stderr
        result = replay(discover(folder).files, replayed)
        assert result.ok, result.failure
        with open_session(pushed) as a, open_session(replayed) as b:
            parity = compare(snapshot(a), snapshot(b), "the CLI's push", "the replay")
            counts = [
                (
                    c.execute("SELECT count(*) FROM public.profiles").fetchone(),
                    c.execute("TABLE public.tags").fetchall(),
                )
                for c in (a, b)
            ]
        assert parity.identical, [d.explanation for d in parity.differences]
        assert counts[0] == counts[1]
        cli_rows, our_rows = history_rows(pushed), history_rows(replayed)
        assert [(v, n) for v, n, _ in cli_rows] == [(v, n) for v, n, _ in our_rows]
        assert [len(s) for _, _, s in cli_rows] == [len(s) for _, _, s in our_rows]


def test_after_record_the_cli_sees_only_the_baseline(
    supabase_cli: Path,
    shadow: Shadow,
    make_project: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with shadow.scratch("cli_target") as target:
        root = make_project(target, {})
        write_history(root, {k: v for k, v in HISTORY.items() if "-" not in k})
        proc = run_cli(supabase_cli, root, "db", "push", "--db-url", db_url(target), "--include-all", "--yes")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        baseline, _dbname = consolidate(capsys, root, target)
        version = baseline.name.split("_", 1)[0]
        with psycopg.connect(target) as conn:  # the tool's own evidence table beside the CLI's history
            evidence = "select version from supabase_migrations.consolidation_evidence"
            assert conn.execute(evidence).fetchall() == [(version,)]

        listing = run_cli(supabase_cli, root, "migration", "list", "--db-url", db_url(target))
        assert listing.returncode == 0, listing.stdout + listing.stderr
        rows = [[cell.strip(" `") for cell in line.split("|")] for line in listing.stdout.splitlines() if "`" in line]
        assert [row[:2] for row in rows] == [[version, version]], listing.stdout  # local and remote: the baseline only

        assert_up_to_date(supabase_cli, root, target)


def test_files_the_cli_skips_are_archived_and_their_history_rows_moved(
    supabase_cli: Path,
    shadow: Shadow,
    make_project: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A ``<timestamp>-<uuid>.sql`` file applied by other means (its version in the remote history)."""
    skipped = next(k for k in HISTORY if "-" in k)
    with shadow.scratch("cli_target") as target:
        root = make_project(target, {})
        write_history(root, HISTORY)
        proc = run_cli(supabase_cli, root, "db", "push", "--db-url", db_url(target), "--include-all", "--yes")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with psycopg.connect(target, autocommit=True) as conn:  # as a dashboard or another tool applied it
            conn.execute(textwrap.dedent(HISTORY[skipped]))
            conn.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES (%s, %s)",
                (skipped.split("-", 1)[0], skipped.split("-", 1)[1].removesuffix(".sql")),
            )
        baseline, dbname = consolidate(capsys, root, target)  # the skipped file was archived too
        assert [v for v, _, _ in history_rows(target)] == [baseline.name.split("_", 1)[0]]

        assert_up_to_date(supabase_cli, root, target)

        code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname)
        assert code == 0, out
        code, out = cli(capsys, "rollback", "archive", "--project", str(root))
        assert code == 0, out
        assert skipped in {p.name for p in (root / "supabase" / "migrations").iterdir()}
        assert skipped.split("-", 1)[0] in [v for v, _, _ in history_rows(target)]
