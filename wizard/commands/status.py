"""``consolidate status``: every phase and gate of a target, with its state and reason."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from .. import protocol
from ..backup import gate as backup_gate
from ..errors import EXIT_OK, ConnectionFailed
from ..gates import GateResult
from ..journal import Journal
from .common import add_project_options, open_target, print_json

_STYLE = {protocol.DONE: "green", protocol.PENDING: "yellow", protocol.FAILED: "bold red", protocol.ROLLED_BACK: "cyan"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show each phase and gate of a target with its state and reason")
    add_project_options(p)
    p.set_defaults(run=run)


def gates_for(args: argparse.Namespace, console: Console | None) -> tuple[list[GateResult], str | None]:
    """Evaluate the live gates (they need the target); returns them and a connection problem, if any."""
    try:
        with open_target(args, console) as session:
            results = [backup_gate.evaluate(session.config, session.target, session.conn, session.identity)]
            if session.target.is_production:
                results.append(protocol.STAGING_REHEARSAL(session.config))
            return results, None
    except ConnectionFailed as exc:
        return [], exc.message


def run(args: argparse.Namespace, console: Console) -> int:
    from .. import config as config_mod

    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    args.target = target.name
    journal = Journal.for_target(cfg.state_dir, target.name)
    phases = protocol.states(journal)
    gates, unreachable = gates_for(args, None if args.json else console)
    if args.json:
        print_json(
            console,
            {
                "target": target.name,
                "role": target.role,
                "journal": str(journal.path.relative_to(cfg.root)),
                "phases": [p.to_dict() for p in phases],
                "gates": [g.to_dict() for g in gates],
                "unreachable": unreachable,
            },
        )
        return EXIT_OK
    table = Table(title=f"Protocol status: {target.name} ({target.role})", title_justify="left")
    for col in ("phase", "state", "reason"):
        table.add_column(col)
    for p in phases:
        table.add_row(p.title, f"[{_STYLE[p.status]}]{p.status}[/]", p.reason)
    console.print(table)
    if unreachable:
        console.print(f"[red]target unreachable, live gates not evaluated:[/] {unreachable}")
    for g in gates:
        mark = "[green]✔[/]" if g.passed else "[bold red]✘[/]"
        console.print(f"{mark} gate {g.name}: {g.reason}", highlight=False)
    following = protocol.next_phase(journal)
    console.print(f"next: {following.title}" if following else "[green]protocol complete[/]")
    console.print(f"journal: {journal.path.relative_to(cfg.root)}")
    return EXIT_OK
