"""What ``consolidate`` with no subcommand does: open the wizard, offer ``init``, or run ``--plain``.

Imported lazily by :mod:`screens.main` (the console script); it imports Textual only when the full-screen app opens.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from wizard.errors import EXIT_OK, EXIT_USAGE
from wizard.project import config as config_mod


def open_wizard(
    project: Path, *, target: str | None = None, plain: bool = False, console: Console | None = None
) -> int:
    """Run the wizard on ``project``: full screen, or the questionary flow with ``plain``."""
    console = console or Console(highlight=False)
    if plain:
        from .plain import run_plain

        return run_plain(project, target=target, console=console)
    from .app import open_app

    return open_app(project, target)


def run_default(args: argparse.Namespace, console: Console) -> int:
    """``consolidate [--project DIR] [--target NAME] [--plain]``: offer init when there is no configuration."""
    project = Path(args.project)
    if not (project / config_mod.CONFIG_NAME).exists():
        import questionary

        console.print(f"no {config_mod.CONFIG_NAME} in {project.resolve()}", markup=False)
        if not questionary.confirm("Create it now (consolidate init)?", default=True).ask():
            console.print("nothing to do: run `consolidate init`, or pass --project DIR", markup=False)
            return EXIT_USAGE
        from .init_flow import run_init

        code = run_init(project, console=console)
        if code != EXIT_OK:
            return code
    return open_wizard(project, target=args.target, plain=args.plain, console=console)
