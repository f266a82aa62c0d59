"""``consolidate rollback ACTION``: the seed's rollback procedures, one sub-command each.

``rollback restore`` is disaster recovery: it prints the exact ``pg_restore`` command for the
newest verified, intact backup; on a staging target ``--run`` runs it once the operator has
typed the database name. On production it only prints the command. The other actions
(``archive``, ``record``) come from :mod:`wizard.commands.rollback_phases`.

Exit codes: 0 done, 1 the restored database still differs from the backup, 2 usage,
configuration, connection or refusal, 130 interrupted.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from wizard.backup import restore
from wizard.commands import rollback_phases
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.db.connect import Identity, same_database
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK, ConnectionFailed, WizardError
from wizard.platform.shadow import embedded_dsn
from wizard.project import config as config_mod
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p, json=False)  # also before the action: consolidate rollback --target prod record
    actions = p.add_subparsers(dest="rollback_action", metavar="ACTION", required=True)

    r = actions.add_parser("restore", help="show (and on staging run) the pg_restore of the verified backup")
    add_project_options(r)
    r.add_argument(
        "--run", dest="execute", action="store_true", help="staging only: run it after you type the database name"
    )
    r.set_defaults(run=run_restore)
    rollback_phases.register_actions(actions)


def run_restore(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    journal = Journal.for_target(cfg.state_dir, target.name)
    dsn = config_mod.resolve_dsn(target.source, embedded_dsn(cfg))
    record = restore.restorable_backup(journal, cfg.root)
    plan = restore.plan_restore(record, dsn, cfg.root)
    ident: Identity | None
    unreachable: str | None
    try:
        with open_target(args, None if args.json else console) as session:
            ident = session.identity
    except ConnectionFailed as exc:
        ident, unreachable = None, exc.message
    else:
        unreachable = None
        same, basis = same_database(record.identity, ident)
        if not same:
            raise WizardError(
                f"the newest verified backup {record.path} was not taken from this database (compared by {basis})",
                "check which database the target's DSN points at",
            )
    if args.json:
        print_json(
            console,
            {
                "target": target.name,
                "role": target.role,
                "backup": record.path,
                "sha256": record.sha256,
                "taken_at": record.finished_at,
                "command": plan.command,
                "argv": plan.argv,
                "target_unreachable": unreachable,
            },
        )
    else:
        console.print(
            f"Disaster recovery for {target.role} target [bold]{target.name}[/]: restore {record.path} "
            f"(taken {record.finished_at}, verified, sha256 {record.sha256[:12]}…)"
        )
        if unreachable:
            console.print(f"[yellow]warning[/]: the target is unreachable ({unreachable}); identity not confirmed")
        console.print("Command (the password comes from PGPASSWORD or ~/.pgpass):")
        console.print(plan.command, markup=False, highlight=False, soft_wrap=True)
    if not args.execute:
        return EXIT_OK
    if target.is_production:
        raise WizardError(
            f"the tool does not restore production target {target.name}; it only shows the command",
            "review the command above and run it yourself",
        )
    if ident is None:
        raise WizardError(f"cannot restore: {unreachable}", "make the target reachable and run again")
    try:
        typed = console.input(f"Type the database name [bold]{ident.database}[/] to overwrite it from the backup: ")
    except EOFError:
        typed = ""
    outcome = restore.run_restore(plan, target, dsn, ident, typed.strip(), journal)
    if args.json:
        print_json(console, outcome.to_dict())
    elif outcome.problems:
        console.print(f"[yellow]restored[/] in {outcome.duration_s:.1f} s, but the database still differs:")
        for problem in outcome.problems:
            console.print(f"  - {problem}", markup=False)
    else:
        console.print(f"[green]restored[/] in {outcome.duration_s:.1f} s; the database matches the backup")
    return EXIT_DIFFERENCES if outcome.problems else EXIT_OK
