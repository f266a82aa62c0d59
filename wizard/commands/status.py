"""``consolidate status``: every phase and gate of a target, with its state and reason."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from wizard.backup import gate as backup_gate
from wizard.backup import prune as prune_mod
from wizard.backup.files import human_bytes
from wizard.commands import leftovers
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_OK, ConnectionFailed
from wizard.project import config as config_mod
from wizard.record import rebuild
from wizard.record.rebuild import Phase4
from wizard.state import protocol
from wizard.state.gates import GateResult
from wizard.state.journal import Journal, JournalCorrupt

_STYLE = {protocol.DONE: "green", protocol.PENDING: "yellow", protocol.FAILED: "bold red", protocol.ROLLED_BACK: "cyan"}


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--clean",
        action="store_true",
        help="remove what a killed run left: stop orphaned pg_dump/pg_restore, drop its scratch databases, "
        "remove partial backup files",
    )
    p.set_defaults(run=run)


@dataclass
class Live:
    """What ``status`` reads from the target: the live gates, Phase 4 checked against the target's evidence."""

    gates: list[GateResult] = field(default_factory=list)
    phase4: Phase4 | None = None
    unreachable: str | None = None


def read_live(args: argparse.Namespace, console: Console | None, journal: Journal, trusted: bool) -> Live:
    """Evaluate the live gates (only on a ``trusted`` journal) and Phase 4 on the target; or why it is unreachable."""
    try:
        with open_target(args, console, leftovers_note=False) as session:
            found = Live(phase4=rebuild.phase4(journal, session.conn))
            if trusted:
                found.gates = [backup_gate.evaluate(session.config, session.target, session.conn, session.identity)]
                if session.target.is_production:
                    found.gates.append(protocol.STAGING_REHEARSAL(session.config))
            return found
    except ConnectionFailed as exc:
        return Live(unreachable=exc.message)


def phases_with(journal: Journal, corrupt: JournalCorrupt | None, phase4: Phase4 | None) -> list[protocol.PhaseState]:
    """Every phase's state; Phase 4 as the target says it; with a corrupt journal, the rest unknown.

    Raises:
        JournalCorrupt: the journal is corrupt and the target holds no evidence to rebuild Phase 4 from.
    """
    if corrupt is not None:
        if phase4 is None or phase4.rebuilt is None:
            raise corrupt
        unknown = "unknown: the journal is not trusted (corrupt)"
        found = [protocol.PhaseState(p.key, p.title, protocol.PENDING, unknown) for p in protocol.PHASES]
    else:
        found = protocol.states(journal)
    if phase4 is not None:
        found = [phase4.state if p.key == "record" else p for p in found]
    return found


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
    try:
        journal.head()
        corrupt = None
    except JournalCorrupt as exc:
        corrupt = exc
    live = read_live(args, None if args.json or corrupt else console, journal, corrupt is None)
    gates, unreachable = live.gates, live.unreachable
    phases = phases_with(journal, corrupt, live.phase4)
    backups = backups_section(cfg, target, journal, gates) if corrupt is None else None
    note = live.phase4.note if live.phase4 else None
    cleaned: list[str] = []
    left = leftovers.find(cfg, start_shadow=args.clean)
    if args.clean and left.cleanable:
        leftovers.clean(cfg, left, cleaned.append)
        left = leftovers.find(cfg)
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
                "phase4_source": "target" if live.phase4 and live.phase4.rebuilt else "journal",
                "note": note,
                "journal_corrupt": corrupt.message if corrupt else None,
                "leftovers": left.to_dict(),
                "cleaned": cleaned,
            },
        )
        return EXIT_OK
    from rich.table import Table  # not for --json

    if note:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
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
    if backups is not None:
        console.print(
            f"backups: {backups['files']} file(s), {backups['total']} in {backups['directory']}; "
            f"satisfying the gate: {backups['satisfies_gate'] or backups['gate_note']}",
            markup=False,
        )
    for line in cleaned:
        console.print(f"[green]cleaned[/]: {line}", highlight=False)
    found = left.lines()
    console.print(
        "leftovers of a killed run: none" if not found else "[yellow]leftovers of a killed run:[/]", highlight=False
    )
    for line in found:
        console.print(f"  - {line}", highlight=False, markup=False)
    if left.unchecked:
        console.print(f"  scratch databases not checked: {left.unchecked}", highlight=False, markup=False)
    following = next((p for p in phases if p.status != protocol.DONE), None)
    console.print(f"next: {following.title}" if following else "[green]protocol complete[/]")
    console.print(f"journal: {journal.path.relative_to(cfg.root)}")
    return EXIT_OK
