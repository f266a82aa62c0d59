"""``consolidate compare DSN_A DSN_B``: schema parity of any two databases; no project needed."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from wizard.catalog import gc_paused, read
from wizard.commands.output import print_json
from wizard.db.dsn import describe
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.parity.diff import compare


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dsn_a", metavar="DSN_A")
    p.add_argument("dsn_b", metavar="DSN_B")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--no-sql", action="store_true", help="do not print reconciling SQL")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    # The snapshots' million objects are freed (by reference counts) before the collector runs
    # again: otherwise its first pass after the reads scans them all, for nothing.
    with gc_paused():
        return _compare(args, console)


def _compare(args: argparse.Namespace, console: Console) -> int:
    # Both databases are read at the same time: the comparison costs the slower of the two.
    with ThreadPoolExecutor(max_workers=2) as pool:
        fut_a, fut_b = pool.submit(read, args.dsn_a), pool.submit(read, args.dsn_b)
        snap_a, snap_b = fut_a.result(), fut_b.result()
    result = compare(snap_a, snap_b, f"A ({describe(args.dsn_a)})", f"B ({describe(args.dsn_b)})")
    if args.json:
        print_json(console, result.to_dict())
    else:
        from wizard.commands import render  # rich's tables: not for --json

        render.parity(console, result, show_sql=not args.no_sql)
    return EXIT_OK if result.identical else EXIT_DIFFERENCES
