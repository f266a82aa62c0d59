"""``consolidate init``: write consolidate.toml through questionary prompts.

The prompts live in :mod:`screens.init_flow` (injected by the ``consolidate`` entry point); the
text they produce comes from :func:`wizard.project.config_writer.render_config`, validated before
it is written. Exit codes: 0 written, 2 refused (the file exists without ``--force``) or cancelled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from wizard.commands.interactive import require


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write consolidate.toml interactively (migrations dir, targets, shadow server)")
    p.add_argument("--project", type=Path, default=Path("."), help="project directory to write consolidate.toml in")
    p.add_argument("--force", action="store_true", help="overwrite an existing consolidate.toml")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return require(args, "consolidate init").run_init(args.project, force=args.force, console=console)
