"""Benchmark: raw ``pg_dump -Fc`` + ``pg_restore`` against ``consolidate backup`` + ``verify-backup``.

Generates a database of about ``--size-mb`` MB on a throw-away embedded PostgreSQL, then
times, in one run:

* raw: ``pg_dump -Fc`` into a file, then ``pg_restore`` of it into an empty database, once
  serially (what an operator types) and once with ``--jobs`` (the fair comparison);
* tool: ``consolidate backup`` then ``consolidate verify-backup`` (whole CLI processes).

It prints each time and the ratios tool / raw. Goal: within 1.15 of raw with parallel restore.

    python bench/backup.py --size-mb 300
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg

from wizard.backup.verify import DEFAULT_JOBS
from wizard.platform import embedded

TABLES = 4


def generate(dsn: str, size_mb: int) -> tuple[int, int]:
    """Fill ``dsn`` with users and ``TABLES`` event tables until it reaches ``size_mb``; returns (bytes, rows)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE public.users (id bigint PRIMARY KEY, email text UNIQUE NOT NULL, created timestamptz);"
            "INSERT INTO public.users SELECT g, 'user' || g || '@example.com', now() - g * interval '1 minute' "
            "FROM generate_series(1, 100000) g;"
        )
        for t in range(TABLES):
            conn.execute(
                f"CREATE TABLE public.events_{t} (id bigint PRIMARY KEY, user_id bigint REFERENCES public.users,"
                " kind text NOT NULL, payload jsonb, created timestamptz NOT NULL)"
            )
        batch, next_id = 50_000, 1
        while conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] < size_mb * 1024 * 1024:
            for t in range(TABLES):
                conn.execute(
                    f"INSERT INTO public.events_{t} SELECT g, 1 + g %% 100000,"
                    " (ARRAY['view','click','buy'])[1 + g %% 3],"
                    " jsonb_build_object('n', g, 'h', md5(g::text), 'tag', md5((g * 31)::text)),"
                    " now() - g * interval '1 second' FROM generate_series(%s, %s) g",
                    (next_id, next_id + batch - 1),
                )
            next_id += batch
        for t in range(TABLES):
            conn.execute(f"CREATE INDEX ON public.events_{t} (user_id, created)")
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        rows = 100_000 + (next_id - 1) * TABLES
    return size, rows


def timed(argv: list[str], admin: str, env: dict[str, str] | None = None) -> float:
    """Seconds ``argv`` takes, after a CHECKPOINT so that no step pays for an earlier one's WAL."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=300, help="database size to generate (default 300)")
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help=f"parallel restore jobs (default {DEFAULT_JOBS})"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    # atexit runs last-in first-out: the server (registered when it starts) stops before this removal
    atexit.register(shutil.rmtree, work, True)
    srv = embedded.server(work / "server")
    bin_dir = embedded.bin_dir()
    admin = srv.dsn("postgres")

    def create(name: str) -> str:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return srv.dsn(name)

    def drop(name: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    print(f"generating ~{args.size_mb} MB ...", flush=True)
    source = create("bench_source")
    t0 = time.perf_counter()
    size, rows = generate(source, args.size_mb)
    took = time.perf_counter() - t0
    print(f"database: {size / 2**20:.0f} MiB, {rows} rows in {TABLES + 1} tables (generated in {took:.0f} s)")

    raw_file = work / "raw.dump"
    raw_dump = timed([str(bin_dir / "pg_dump"), "-Fc", "-f", str(raw_file), "-d", source], admin)
    create("bench_raw_restore")
    raw_restore = timed([str(bin_dir / "pg_restore"), "-d", srv.dsn("bench_raw_restore"), str(raw_file)], admin)
    drop("bench_raw_restore")
    create("bench_raw_restore")
    raw_restore_j = timed(
        [str(bin_dir / "pg_restore"), f"--jobs={args.jobs}", "-d", srv.dsn("bench_raw_restore"), str(raw_file)], admin
    )
    drop("bench_raw_restore")

    project = work / "project"
    project.mkdir()
    (project / "consolidate.toml").write_text(
        textwrap.dedent(
            """
            [shadow]
            kind = "dsn"
            dsn_env = "BENCH_SHADOW_DSN"

            [targets.bench]
            dsn_env = "BENCH_TARGET_DSN"
            role = "staging"
            """
        )
    )
    env = dict(os.environ, BENCH_SHADOW_DSN=admin, BENCH_TARGET_DSN=source)
    cli = [sys.executable, "-m", "wizard.cli"]
    tool_backup = timed([*cli, "backup", "--project", str(project), "--json"], admin, env)
    tool_verify = timed([*cli, "verify-backup", "--project", str(project), "--json", f"--jobs={args.jobs}"], admin, env)
    journal = [json.loads(line) for line in (project / ".consolidate" / "bench" / "journal.jsonl").open()]
    taken = next(e for e in journal if e["event"] == "backup.taken")
    verified = next(e for e in journal if e["event"] == "backup.verified")
    restore_step = next(s for s in verified["steps"] if s["step"] == "restore")

    raw_serial = raw_dump + raw_restore
    raw_parallel = raw_dump + raw_restore_j
    tool = tool_backup + tool_verify
    print(f"dump size: raw {raw_file.stat().st_size / 2**20:.1f} MiB, tool {taken['size'] / 2**20:.1f} MiB")
    print(f"{'raw pg_dump -Fc':<40}{raw_dump:8.2f} s")
    print(f"{'raw pg_restore (serial)':<40}{raw_restore:8.2f} s")
    print(f"{f'raw pg_restore --jobs={args.jobs}':<40}{raw_restore_j:8.2f} s")
    print(f"{'consolidate backup':<40}{tool_backup:8.2f} s")
    step = f"restore step {restore_step['duration_s']:.2f} s with --jobs={restore_step['jobs']}"
    print(f"{'consolidate verify-backup':<40}{tool_verify:8.2f} s  ({step})")
    print(f"{'raw total (serial restore)':<40}{raw_serial:8.2f} s")
    print(f"{'raw total (parallel restore)':<40}{raw_parallel:8.2f} s")
    print(f"{'tool total':<40}{tool:8.2f} s")
    print(f"ratio tool / raw (serial restore):   {tool / raw_serial:.3f}")
    print(f"ratio tool / raw (parallel restore): {tool / raw_parallel:.3f}  (goal <= 1.15)")
    srv.release()


if __name__ == "__main__":
    main()
