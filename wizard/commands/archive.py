"""``consolidate archive``: Phase 3, move the superseded migration files into the archive folder.

Exit codes: 0 archived (or already archived), 1 refused (a file never applied on the
target, uncommitted changes, a baseline not proved: nothing was moved), 2 usage,
configuration or connection error.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from wizard.archive import phase as archive
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument("--dry-run", action="store_true", help="show what would move, move nothing")
    p.set_defaults(run=run)


def print_plan(console: Console, plan: archive.ArchivePlan) -> None:
    """The files to move, where they are, and why archiving would be refused."""
    rel = plan.archive_dir.relative_to(plan.root) if plan.archive_dir.is_relative_to(plan.root) else plan.archive_dir
    how = "git mv" if plan.git else "rename (not a git work tree)"
    console.print(
        f"Baseline {plan.baseline.path} (version {plan.baseline.version}) supersedes {len(plan.items)} file(s); "
        f"archive folder {rel}, moved by {how}:"
    )
    for item in plan.items:
        state = "[dim]already archived[/]" if item.moved else "to move"
        console.print(f"  {item.version}  {item.name}  {state}", highlight=False)
    for problem in plan.problems:
        console.print(f"[bold red]refused[/]: {problem}", highlight=False)


def run(args: argparse.Namespace, console: Console) -> int:
    with open_target(args, console) as session:
        journal = Journal.for_target(session.config.state_dir, session.target.name)
        plan = archive.plan_archive(session.config, journal, archive.applied_versions(session.conn))
    if args.json and (args.dry_run or plan.problems):
        print_json(console, plan.to_dict())
    elif not args.json:
        print_plan(console, plan)
    if plan.problems:
        return EXIT_DIFFERENCES
    if args.dry_run:
        return EXIT_OK
    result = archive.archive(plan, journal)
    if args.json:
        print_json(console, {**plan.to_dict(), **result.to_dict()})
    elif result.already_done:
        console.print(f"[green]already archived[/]: manifest {plan.manifest_path.name} sha256 {result.manifest_sha256}")
    else:
        console.print(
            f"[green]archived[/] {len(result.files)} file(s) ({len(result.moved_now)} moved now); "
            f"manifest sha256 {result.manifest_sha256}"
        )
        if plan.git:
            console.print("the moves are staged in git: commit them together with the baseline")
        console.print(f"next: consolidate record --target {session.target.name} --confirm {session.identity.database}")
    return EXIT_OK
