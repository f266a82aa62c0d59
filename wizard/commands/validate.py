"""``consolidate validate``: post-execution validation of a target, every check measured and journaled.

Exit codes: 0 every check passed (a skipped check does not fail), 1 a check failed,
2 usage, configuration or connection error, or cancelled.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.history import files as migrations
from wizard.platform import shadow as shadow_mod
from wizard.state.journal import Journal
from wizard.validate import phase as validate

_MARK = {"passed": "[green]✔[/]", "failed": "[bold red]✘[/]", "skipped": "[yellow]–[/]"}


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--test-timeout",
        type=float,
        default=validate.DEFAULT_TEST_TIMEOUT,
        metavar="SECONDS",
        help=f"stop the project's test command after this long (default {validate.DEFAULT_TEST_TIMEOUT:g})",
    )
    p.set_defaults(run=run)


def print_checks(console: Console, result: validate.ValidationResult) -> None:
    """A table of the checks with ✔ / ✘ / – and their reasons, then failing test output."""
    table = Table(title=f"Post-execution validation: {result.target}", title_justify="left")
    for col in ("", "check", "reason"):
        table.add_column(col)
    for c in result.checks:
        table.add_row(_MARK[c.status], c.title, escape(c.reason))
    console.print(table)
    tests = next((c for c in result.checks if c.name == "test_command"), None)
    if tests is not None and tests.status == "failed" and tests.evidence.get("output_tail"):
        console.print("[bold]test command output (tail):[/]")
        console.print(tests.evidence["output_tail"], markup=False, highlight=False)
    assert result.record is not None  # run_validation journals every run
    if result.passed:
        console.print(f"[green]validation passed[/] in {result.seconds:.1f} s (journal seq {result.record['seq']})")
    else:
        names = ", ".join(c.name for c in result.failed)
        console.print(f"[bold red]validation failed[/]: {names} (journal seq {result.record['seq']})")


def run(args: argparse.Namespace, console: Console) -> int:
    with open_target(args, console) as session:
        journal = Journal.for_target(session.config.state_dir, session.target.name)
        folder = migrations.discover(session.config.migrations_dir)
        shadow = shadow_mod.for_target(
            session.config, session.conn, session.dsn, session.target.name, folder.statement_texts()
        )
        status = None if args.json else console.status("validating")
        if status:
            status.start()
        try:
            result = validate.run_validation(
                session.config,
                session.target,
                session.conn,
                session.identity,
                shadow,
                journal,
                progress=status.update if status else None,
                test_timeout=args.test_timeout,
            )
        finally:
            if status:
                status.stop()
    if args.json:
        print_json(console, result.to_dict())
    else:
        print_checks(console, result)
    return EXIT_OK if result.passed else EXIT_DIFFERENCES
