"""``consolidate rollback record``, ``archive`` and ``squash``: undo Phase 4, Phase 3 and Phase 2.

Rollbacks go in reverse order: ``rollback record`` first (one transaction: delete the baseline
row, move the archived rows back whole), then ``rollback archive`` (every file back, each
sha256 checked), then ``rollback squash`` (the baseline file leaves the migrations folder). All are
idempotent and resume a run that died midway.

Exit codes (docs/exit-codes.md): 0 rolled back, or nothing to roll back (never archived or
recorded, or already rolled back: both actions alike), 1 refused or a check failed, 2 usage,
configuration or connection error.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from wizard import record
from wizard.archive import phase as archive
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.commands.record import print_gates, print_outcome, target_dsn
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.inspect import inventory
from wizard.project import config as config_mod
from wizard.record import rebuild
from wizard.record.gates import CONFIRMED_NAME
from wizard.squash.undo import undo_squash
from wizard.state import events
from wizard.state.journal import Journal


def register_actions(actions: argparse._SubParsersAction) -> None:
    """Add ``archive`` and ``record`` to the ``rollback`` command's actions."""
    a = actions.add_parser("archive", help="undo Phase 3: put every archived file back, checking its sha256")
    add_project_options(a)
    a.set_defaults(run=run_archive)

    r = actions.add_parser(
        "record", help="undo Phase 4: delete the baseline row and move the archived rows back (one transaction)"
    )
    add_project_options(r)
    r.add_argument("--confirm", metavar="DBNAME", help="the target's database name, typed to confirm the write")
    r.add_argument("--dry-run", action="store_true", help="print the SQL, write nothing")
    r.set_defaults(run=run_record)

    s = actions.add_parser(
        "squash", help="undo Phase 2: remove the baseline file from the migrations folder (sha256 checked)"
    )
    add_project_options(s)
    s.set_defaults(run=run_squash)


def run_squash(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    result = undo_squash(cfg, Journal.for_target(cfg.state_dir, target.name))
    if args.json:
        print_json(console, result.to_dict())
    elif result.already_done:
        console.print("[green]nothing to roll back[/]: no baseline of Phase 2 is in the migrations folder")
    else:
        what = f"{result.path} removed" if result.removed else f"{result.path} was already gone"
        console.print(f"[green]rolled back[/]: {what}; Phase 2 undone for {', '.join(result.targets)}")
    return EXIT_OK


def run_archive(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    journal = Journal.for_target(cfg.state_dir, target.name)
    say = None if args.json else (lambda msg: console.print(f"  {msg}", highlight=False))
    result = archive.rollback_archive(cfg, journal, say)
    if args.json:
        print_json(console, result.to_dict())
    elif result.already_done:
        console.print("[green]nothing to roll back[/]: no archived file is waiting to go back")
    else:
        console.print(
            f"[green]rolled back[/]: {len(result.files)} file(s) back in {cfg.migrations_dir.name} with their "
            f"recorded sha256 ({len(result.moved_now)} moved now); manifest removed"
        )
    return EXIT_OK


def print_note(console: Console, line: str, quiet: bool = False) -> None:
    """One ``note:`` line (none with ``--json``)."""
    if not quiet:
        console.print(f"[yellow]note:[/] {line}", highlight=False)


def run_record(args: argparse.Namespace, console: Console) -> int:
    quiet = args.json
    with open_target(args, None if quiet else console) as session:
        journal = Journal.for_target(session.config.state_dir, session.target.name)
        rebuild.rebuild_journal(journal, session.conn, lambda line: print_note(console, line, quiet))
        finished = record.complete_pending(journal, target_dsn(session))
        if finished is not None and not quiet:
            print_outcome(console, finished)
        if journal.last(events.RECORD_COMMITTED) is None:  # as `rollback archive` with nothing archived: exit 0
            reason = f"no baseline was recorded on target {session.target.name}"
            if quiet:
                print_json(console, {"already_done": True, "nothing_to_roll_back": reason, "problems": []})
            else:
                console.print(f"[green]nothing to roll back[/]: {reason}")
            return EXIT_OK
        plan = record.plan_rollback(session.config, session.target, session.conn, session.identity, journal)
        before = inventory.take(session.conn, session.identity)
        gates = [CONFIRMED_NAME(args.confirm, session.identity)]
        refused = bool(plan.problems) or not gates[0].passed
        if plan.state == record.READY and not quiet:
            print_gates(console, gates)
            for problem in plan.problems:
                console.print(f"[bold red]✘[/] check: {problem}", highlight=False)
            console.print("The transaction:" if not refused else "The transaction (not run):")
            console.print(plan.render(), markup=False, highlight=False, soft_wrap=True)
        if plan.state == record.READY and (refused or args.dry_run):
            if quiet:
                print_json(console, {"plan": plan.to_dict(), "gates": [g.to_dict() for g in gates]})
            return EXIT_DIFFERENCES if refused else EXIT_OK
        outcome = record.commit_rollback(plan, target_dsn(session), journal, before, gates)
    if quiet:
        print_json(console, outcome.to_dict())
    else:
        print_outcome(console, outcome, "rolled back")
    return EXIT_DIFFERENCES if outcome.problems else EXIT_OK
