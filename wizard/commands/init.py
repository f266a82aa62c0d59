"""``consolidate init``: write consolidate.toml through questionary prompts.

The prompts live in :mod:`screens.init_flow` (injected by the ``consolidate`` entry point); the
text they produce comes from :func:`wizard.project.config_writer.render_config`, validated before
it is written. Exit codes: 0 written, 2 refused (the file exists without ``--force``) or cancelled.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from wizard.commands.interactive import require
from wizard.commands.options import add_project_options


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p, target=False, json=False, project_help="project directory to write consolidate.toml in")
    p.add_argument("--force", action="store_true", help="overwrite an existing consolidate.toml")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return require(args, "consolidate init").run_init(args.project, force=args.force, console=console)
