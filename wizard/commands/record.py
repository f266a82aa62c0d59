"""``consolidate record``: Phase 4, the one transaction that records the baseline in the target's history.

Exit codes: 0 recorded (or already recorded; ``--dry-run``: every gate holds), 1 a gate
refused or a check failed (each reason is printed), 2 usage, configuration or connection error.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from wizard import record
from wizard.commands.common import TargetSession, open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.inspect import inventory
from wizard.platform.shadow import embedded_dsn
from wizard.project import config as config_mod
from wizard.record.gates import evaluate_record_gates
from wizard.state import events
from wizard.state.gates import GateResult
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument("--confirm", metavar="DBNAME", help="the target's database name, typed to confirm the write")
    p.add_argument(
        "--keep-history-rows",
        action="store_true",
        help="leave the archived versions' rows in schema_migrations (supabase migration list will then fail)",
    )
    p.add_argument("--dry-run", action="store_true", help="evaluate the gates and print the SQL, write nothing")
    p.set_defaults(run=run)


def target_dsn(session: TargetSession) -> str:
    """The DSN of the session's target (for the writable session and the check after commit)."""
    return config_mod.resolve_dsn(session.target.source, embedded_dsn(session.config))


def print_gates(console: Console, gates: list[GateResult]) -> None:
    for g in gates:
        mark = "[green]✔[/]" if g.passed else "[bold red]✘[/]"
        console.print(f"{mark} gate {g.name}: {g.reason}", highlight=False)


_DONE = {events.RECORD_COMMITTED: "recorded", events.RECORD_ROLLED_BACK: "rolled back"}


def print_outcome(console: Console, outcome: record.RecordOutcome, what: str = "") -> None:
    """One line for the outcome (``already {what}`` when there was nothing to do), then each problem found."""
    if outcome.record is None:
        console.print(f"[green]already {what}[/]: nothing to do")
        return
    note = " (completing the journal of a run that stopped after COMMIT)" if outcome.recovered else ""
    colour = "yellow" if outcome.problems else "green"
    console.print(f"[{colour}]{_DONE[outcome.record['event']]}[/]{note}; journal seq {outcome.record['seq']}")
    for problem in outcome.problems:
        console.print(f"[bold red]check failed[/]: {problem}", highlight=False)


def run(args: argparse.Namespace, console: Console) -> int:
    quiet = args.json
    with open_target(args, None if quiet else console) as session:
        cfg, target = session.config, session.target
        journal = Journal.for_target(cfg.state_dir, target.name)
        finished = record.complete_pending(journal, target_dsn(session))
        if finished is not None and not quiet:
            print_outcome(console, finished)
        plan = record.plan_record(cfg, target, session.conn, session.identity, journal, keep=args.keep_history_rows)
        if plan.state == record.RECORDED and not plan.problems:
            outcome = finished or record.already_recorded(plan, journal)
            if quiet:
                print_json(console, outcome.to_dict())
            elif finished is None:
                print_outcome(console, outcome, "recorded")
            return EXIT_DIFFERENCES if outcome.problems else EXIT_OK
        before = inventory.take(session.conn, session.identity)
        gates = evaluate_record_gates(
            cfg, target, session.conn, session.identity, args.confirm, before.snapshot.fingerprint()
        )
        refused = plan.problems or not all(g.passed for g in gates)
        if not quiet:
            print_gates(console, gates)
            for problem in plan.problems:
                console.print(f"[bold red]✘[/] check: {problem}", highlight=False)
            for warning in plan.warnings:
                console.print(f"[yellow]warning[/]: {warning}", highlight=False)
            console.print("The transaction:" if not refused else "The transaction (not run):")
            console.print(plan.render(), markup=False, highlight=False, soft_wrap=True)
        if refused or args.dry_run:
            if quiet:
                print_json(console, {"plan": plan.to_dict(), "gates": [g.to_dict() for g in gates]})
            return EXIT_DIFFERENCES if refused else EXIT_OK
        outcome = record.commit_record(plan, target_dsn(session), journal, before, gates)
    if quiet:
        print_json(console, outcome.to_dict())
    else:
        print_outcome(console, outcome)
        if not outcome.problems:
            changes = (outcome.record or {}).get("row_changes_elsewhere") or []
            console.print(
                f"history: {', '.join(plan.history_after)}; moved to {record.ARCHIVE_TABLE}: "
                f"{', '.join(plan.moved) or 'none'}; schema inventory unchanged; "
                + ("row counts unchanged" if not changes else "this transaction wrote only the history tables")
            )
            for change in changes:
                console.print(f"  note: {change}", highlight=False)
    return EXIT_DIFFERENCES if outcome.problems else EXIT_OK
