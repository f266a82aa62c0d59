"""``consolidate demo``: a sample Supabase project with drift, on the embedded server."""

from __future__ import annotations

import argparse

from rich.console import Console

from ..errors import EXIT_USAGE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="prepare a sample project (EAV Orchestrator) and open the wizard")
    p.add_argument("--prepare-only", metavar="DIR", help="only create the sample project in DIR and print it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    console.print("demo: not built yet")
    return EXIT_USAGE
