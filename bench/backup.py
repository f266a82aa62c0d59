"""Benchmark: ``consolidate backup`` + ``verify-backup`` against raw ``pg_dump -Fd -j N`` + ``pg_restore -j N``.

Builds a database of about ``--size-mb`` MB (default 2048) once, on a throw-away embedded
PostgreSQL: a users table and several event tables filled with ``generate_series``, each with
a primary key and secondary indexes. Then, alternating the order over ``--runs`` runs, it times
side by side:

* raw: ``pg_dump --format=directory --jobs=N`` of the database, then ``pg_restore --jobs=N``
  into a fresh empty database;
* tool: ``consolidate backup --format directory --jobs N`` then ``consolidate verify-backup
  --jobs N`` (whole CLI processes: evidence, hashes, the mirrored platform, the restore, the
  row counts, the gate).

It prints the median of each with its spread (min to max), the ratio tool / raw and GOAL MET
or GOAL MISSED (goal: at most 1.15).

    python bench/backup.py --size-mb 200 --runs 2      # while developing
    python bench/backup.py                             # the 2 GB measurement
    python bench/backup.py --workdir /var/tmp/cw-bench # keep the generated database for the next run
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg

from wizard.platform import embedded

GOAL = 1.15
EVENT_TABLES = 4
USERS = 200_000
BATCH = 100_000


def generate(dsn: str, size_mb: int) -> tuple[int, int]:
    """Fill ``dsn`` with users and event tables, indexed, until it reaches ``size_mb``; returns (bytes, rows)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL, created timestamptz NOT NULL);"
            f"INSERT INTO public.users SELECT g, 'user' || g || '@example.com', now() - g * interval '1 minute' "
            f"FROM generate_series(1, {USERS}) g;"
            "CREATE UNIQUE INDEX ON public.users (email);"
        )
        for t in range(EVENT_TABLES):
            conn.execute(
                f"CREATE TABLE public.events_{t} (id bigint PRIMARY KEY, user_id bigint NOT NULL"
                " REFERENCES public.users, kind text NOT NULL, amount numeric(12, 2), payload jsonb,"
                " created timestamptz NOT NULL)"
            )
        # Indexes are built at the end (faster): the rows make about 0.72 of the final size.
        target = size_mb * 1024 * 1024 * 0.72
        next_id = 1
        while conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] < target:
            for t in range(EVENT_TABLES):
                conn.execute(
                    f"INSERT INTO public.events_{t} SELECT g, 1 + g %% {USERS},"
                    " (ARRAY['view','click','buy','refund'])[1 + g %% 4], (g %% 100000) / 100.0,"
                    " jsonb_build_object('n', g, 'h', md5(g::text), 'tag', md5((g * 31)::text)),"
                    " now() - g * interval '1 second' FROM generate_series(%s, %s) g",
                    (next_id, next_id + BATCH - 1),
                )
            next_id += BATCH
        for t in range(EVENT_TABLES):
            conn.execute(f"CREATE INDEX ON public.events_{t} (user_id, created)")
            conn.execute(f"CREATE INDEX ON public.events_{t} (kind, amount)")
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        rows = USERS + (next_id - 1) * EVENT_TABLES
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


def spread(values: list[float]) -> str:
    """``median s (min to max)``."""
    return f"{statistics.median(values):8.2f} s  ({min(values):.2f} to {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=2048, help="database size to generate (default 2048)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side, alternating (default 3)")
    parser.add_argument("--jobs", type=int, default=4, help="parallel jobs for both sides (default 4)")
    parser.add_argument("--workdir", type=Path, help="keep the server and the generated database here for reuse")
    args = parser.parse_args()

    if args.workdir:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
        # atexit runs last-in first-out: the server (registered when it starts) stops before this removal
        atexit.register(shutil.rmtree, work, True)
    srv = embedded.server(work / "server")
    bin_dir = embedded.bin_dir()
    admin = srv.dsn("postgres")

    def sql(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)

    def create(name: str) -> str:
        sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        sql(f"CREATE DATABASE {name} TEMPLATE template0")
        return srv.dsn(name)

    source = srv.dsn("bench_source")
    marker = work / f"bench_source.{args.size_mb}mb.json"
    if marker.exists():
        size, rows = json.loads(marker.read_text())
        print(f"reusing the generated database in {work}", flush=True)
    else:
        print(f"generating ~{args.size_mb} MB ...", flush=True)
        create("bench_source")
        t0 = time.perf_counter()
        size, rows = generate(source, args.size_mb)
        print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
        if args.workdir:
            marker.write_text(json.dumps([size, rows]))
    print(f"database: {size / 2**20:.0f} MiB, {rows} rows in {EVENT_TABLES + 1} tables, {args.jobs} jobs a side")

    env = dict(os.environ, BENCH_SHADOW_DSN=admin, BENCH_TARGET_DSN=source)
    cli = [sys.executable, "-m", "wizard.cli"]
    times: dict[str, list[float]] = {k: [] for k in ("raw_dump", "raw_restore", "tool_backup", "tool_verify")}
    dumps: dict[str, int] = {}

    def raw_side() -> None:
        out = work / "raw.dir"
        shutil.rmtree(out, ignore_errors=True)
        times["raw_dump"].append(
            timed([str(bin_dir / "pg_dump"), "-Fd", f"-j{args.jobs}", "-f", str(out), "-d", source], admin)
        )
        restored = create("bench_raw_restore")
        times["raw_restore"].append(
            timed([str(bin_dir / "pg_restore"), f"-j{args.jobs}", "-d", restored, str(out)], admin)
        )
        dumps["raw"] = sum(p.stat().st_size for p in out.iterdir())
        sql("DROP DATABASE bench_raw_restore WITH (FORCE)")
        shutil.rmtree(out)

    def tool_side() -> None:
        project = work / "project"
        shutil.rmtree(project, ignore_errors=True)
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
        where = ["--project", str(project), "--json", f"--jobs={args.jobs}"]
        times["tool_backup"].append(timed([*cli, "backup", *where, "--format=directory"], admin, env))
        times["tool_verify"].append(timed([*cli, "verify-backup", *where], admin, env))
        journal = [json.loads(line) for line in (project / ".consolidate" / "bench" / "journal.jsonl").open()]
        taken = next(e for e in journal if e["event"] == "backup.taken")
        if not any(e["event"] == "backup.verified" for e in journal):
            sys.exit("the tool's verification did not pass")
        dumps["tool"] = taken["size"]
        shutil.rmtree(project)

    for run in range(args.runs):
        order = (tool_side, raw_side) if run % 2 == 0 else (raw_side, tool_side)
        for side in order:
            side()
        raw_total = times["raw_dump"][-1] + times["raw_restore"][-1]
        tool_total = times["tool_backup"][-1] + times["tool_verify"][-1]
        print(f"run {run + 1}: raw {raw_total:.2f} s, tool {tool_total:.2f} s", flush=True)

    raw = [d + r for d, r in zip(times["raw_dump"], times["raw_restore"], strict=True)]
    tool = [b + v for b, v in zip(times["tool_backup"], times["tool_verify"], strict=True)]
    print(f"dump size: raw {dumps['raw'] / 2**20:.1f} MiB, tool {dumps['tool'] / 2**20:.1f} MiB")
    print(f"median of {args.runs} runs (min to max):")
    print(f"{f'raw pg_dump -Fd -j {args.jobs}':<40}{spread(times['raw_dump'])}")
    print(f"{f'raw pg_restore -j {args.jobs}':<40}{spread(times['raw_restore'])}")
    print(f"{'consolidate backup':<40}{spread(times['tool_backup'])}")
    print(f"{'consolidate verify-backup':<40}{spread(times['tool_verify'])}")
    print(f"{'raw total':<40}{spread(raw)}")
    print(f"{'tool total':<40}{spread(tool)}")
    ratio = statistics.median(tool) / statistics.median(raw)
    ratios = [t / r for t, r in zip(tool, raw, strict=True)]
    verdict = "GOAL MET" if ratio <= GOAL else "GOAL MISSED"
    print(f"ratio tool / raw: {ratio:.3f} (per run {min(ratios):.3f} to {max(ratios):.3f}); goal <= {GOAL}: {verdict}")
    srv.release()


if __name__ == "__main__":
    main()
