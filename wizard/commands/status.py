"""``consolidate status``: every phase and gate of a target, with its state and reason."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from wizard.backup import gate as backup_gate
from wizard.backup import prune as prune_mod
from wizard.backup.files import human_bytes
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_OK, ConnectionFailed
from wizard.project import config as config_mod
from wizard.state import protocol
from wizard.state.gates import GateResult
from wizard.state.journal import Journal

_STYLE = {protocol.DONE: "green", protocol.PENDING: "yellow", protocol.FAILED: "bold red", protocol.ROLLED_BACK: "cyan"}


def arguments(p: argparse.ArgumentParser) -> None:
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


def backups_section(
    cfg: config_mod.Config, target: config_mod.Target, journal: Journal, gates: list[GateResult]
) -> dict[str, Any]:
    """Where the target's backups live, their number and size, and which one satisfies the gate."""
    use = prune_mod.usage(cfg, target)
    live = next((g for g in gates if g.name == backup_gate.NAME), None)
    judged = backup_gate.judged_backup(journal)
    if live is not None:
        satisfying = live.evidence.get("backup") if live.passed else None
        note = live.reason if live.passed else f"none: {live.reason}"
    else:
        satisfying = None
        note = f"not evaluated (target unreachable); newest verified: {judged.path if judged else 'none'}"
    return {**use.to_dict(), "total": human_bytes(use.total_bytes), "satisfies_gate": satisfying, "gate_note": note}


def run(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    args.target = target.name
    journal = Journal.for_target(cfg.state_dir, target.name)
    phases = protocol.states(journal)
    gates, unreachable = gates_for(args, None if args.json else console)
    backups = backups_section(cfg, target, journal, gates)
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
                "backups": backups,
            },
        )
        return EXIT_OK
    from rich.table import Table  # not for --json

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
    console.print(
        f"backups: {backups['files']} file(s), {backups['total']} in {backups['directory']}; "
        f"satisfying the gate: {backups['satisfies_gate'] or backups['gate_note']}",
        markup=False,
    )
    following = protocol.next_phase(journal)
    console.print(f"next: {following.title}" if following else "[green]protocol complete[/]")
    console.print(f"journal: {journal.path.relative_to(cfg.root)}")
    return EXIT_OK
