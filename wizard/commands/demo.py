"""``consolidate demo``: a sample Supabase project with drift, on the embedded server."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from wizard import demo
from wizard.errors import EXIT_OK


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prepare-only", metavar="DIR", help="only create the sample project in DIR and print it")
    p.add_argument(
        "--plain",
        action="store_true",
        default=argparse.SUPPRESS,  # also accepted before the subcommand: consolidate --plain demo
        help="open the prompt-based wizard instead of the full-screen one",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Prepare the demo project; with ``--prepare-only`` print where it is, else also what to run next."""
    if args.prepare_only:
        directory = Path(args.prepare_only)
    else:
        directory = Path(tempfile.mkdtemp(prefix="consolidate-demo-"))
    with console.status("preparing the demo project") as status:
        project = demo.prepare(directory, progress=status.update)
    where = escape(str(project.directory))
    console.print(f"prepared {where}; targets: {project.describe_targets()}", soft_wrap=True)
    if args.prepare_only:
        return EXIT_OK
    console.print(
        f"\n{len(demo.migration_sources())} migrations in supabase/migrations, recorded in each target's "
        "remote history; both databases were then changed by hand: that is the drift to find. "
        "Rehearse on staging first; production is refused until staging was rehearsed."
    )
    face = getattr(args, "interactive", None)
    if face is None:  # the headless entry point: say what to run instead of opening the wizard
        console.print(
            f"next: consolidate --project {where} (opens the wizard), or consolidate inspect --project {where}"
        )
        return EXIT_OK
    return face.open_wizard(project.directory, plain=getattr(args, "plain", False), console=console)
