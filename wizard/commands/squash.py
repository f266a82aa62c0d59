"""``consolidate squash``: Phase 2, the consolidated baseline generated from the target and proved.

Exit codes: 0 the baseline was written (or kept) and proved at 100 % parity; 1 it was
written but the proof failed; 2 usage, configuration, connection, pg_dump or shadow error;
130 interrupted.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from wizard.commands import render
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.history import files as migrations
from wizard.platform import shadow as shadow_mod
from wizard.project import config as config_mod
from wizard.project.config import Config
from wizard.squash import SquashOutcome, squash
from wizard.squash.baseline import Baseline, relative
from wizard.squash.data import refuse_secrets, split_name
from wizard.squash.fresh import FreshProof
from wizard.squash.prove import DEFAULT_ROUNDS, Provisioning


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--include-data",
        action="append",
        default=[],
        metavar="TABLE",
        help="carry this table's rows into the baseline as idempotent inserts (repeatable), e.g. storage.buckets",
    )
    p.add_argument(
        "--exclude-data",
        action="append",
        default=[],
        metavar="TABLE",
        help="do not carry the rows the old history wrote into this table (repeatable; also project.exclude_data)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"fresh databases each side provisions to time it (default {DEFAULT_ROUNDS}; the median is shown)",
    )
    p.set_defaults(run=run)


def _time(p: Provisioning) -> str:
    runs = f"median of {len(p.runs)}" if len(p.runs) > 1 else "1 run"
    if not p.ok:
        return f"FAILED after {p.seconds:.3f} s: {p.failure}"
    return f"{p.seconds:.3f} s ({runs})"


def _report(console: Console, outcome: SquashOutcome, cfg: Config) -> None:
    made, proof = outcome.baseline, outcome.proof
    where = relative(cfg, made.path)
    if made.adopted_from:
        console.print(
            f"baseline adopted: {where} (version {made.version}, sha256 {made.sha256[:12]}…), generated from "
            f"target {made.adopted_from} and proved against this target"
        )
    elif made.reused:
        console.print(f"baseline unchanged: {where} (version {made.version}, sha256 {made.sha256[:12]}…)")
    else:
        console.print(f"[green]baseline written[/]: {where} (version {made.version}, sha256 {made.sha256[:12]}…)")
    for name in made.replaced:
        console.print(f"  replaces the earlier baseline {name}", markup=False)
    console.print(
        f"  supersedes {len(made.superseded)} file(s); pg_dump {made.pg_dump['version']}; "
        f"{len(made.text.splitlines())} lines"
    )
    if made.data_statements:
        console.print("statements of the old history that write rows (a schema-only baseline does not carry rows):")
        for s in made.data_statements:
            carried = s.target is not None and "{}.{}".format(*split_name(s.target)) in made.rows
            mark = "[green]rows carried[/]" if carried else "[yellow]rows NOT carried[/]"
            hint = "" if carried or s.target is None else f" (pass --include-data {s.target} to carry the target's)"
            console.print(f"  {s.describe()}: {mark}{hint}", highlight=False)
    for name, rows in made.data.rows.items():
        console.print(f"  carried {rows} row(s) of {name} from the target as idempotent inserts")
    _carried(console, made)
    for what, role in made.cleaned.dropped_owners:
        console.print(f"[yellow]ownership dropped[/]: {what} was owned by {role}", highlight=False)
    if proof.parity is not None:
        render.parity(console, proof.parity)
    if proof.excluded:
        console.print(f"not compared (installed by Supabase in every project): {', '.join(proof.excluded)}")
    for check in proof.data:
        mark = "[green]✔[/]" if check.ok else "[bold red]✘[/]"
        console.print(
            f"{mark} rows of {check.table}: {check.expected} on the target, {check.applied} after applying, "
            f"{check.reapplied} after applying the inserts again"
        )
    if proof.fresh is not None:
        _fresh(console, proof.fresh)
    table = Table(title="Provisioning a fresh database", title_justify="left")
    table.add_column("from")
    table.add_column("files", justify="right")
    table.add_column("time")
    table.add_row("the old history", str(proof.history.files), _time(proof.history))
    table.add_row("the baseline", str(proof.baseline.files), _time(proof.baseline))
    console.print(table)
    if proof.speedup is not None:
        verdict = "faster" if proof.speedup >= 1 else "slower"
        factor = proof.speedup if proof.speedup >= 1 else 1 / proof.speedup
        console.print(
            f"the baseline provisions {factor:.2f}× {verdict} than the old history (ratio {proof.speedup:.2f})"
        )
    elif not proof.history.ok:
        console.print("the old history cannot provision a fresh database; the baseline is built from the real one")
    if proof.proved:
        console.print(
            f"[bold green]proved[/]: {made.path.name} applies cleanly and matches the target on every kind, and a "
            "fresh environment from the new folder equals one from the old history"
        )
    else:
        console.print(f"[bold red]proof failed[/]: {proof.reason}", highlight=False)


def _carried(console: Console, made: Baseline) -> None:
    carried, redactions = made.carried, made.redactions
    for name, rows in carried.rows.items():
        console.print(f"  carried {rows} row(s) of {name}, as the old history left them, as idempotent inserts")
    for what, items in (("pg_cron job", carried.cron_jobs), ("pgmq queue", carried.queues)):
        for item in items:
            console.print(f"  carried the {what} {item} as the same call", highlight=False)
    for name in carried.excluded:
        console.print(f"  [yellow]excluded[/] by the operator: rows of {name}")
    for name, why in carried.not_carried.items():
        console.print(f"  [yellow]not carried[/]: {name} ({why})", highlight=False)
    for name in redactions.vault_secrets:
        console.print(
            f"[yellow]set after provisioning[/]: vault secret {name} is created with a placeholder value "
            "(vault.update_secret)",
            highlight=False,
        )
    for r in redactions.replaced:
        console.print(
            f"[yellow]set after provisioning[/]: a {r.kind} in {r.where} is written as {r.placeholder}",
            highlight=False,
        )


def _fresh(console: Console, fresh: FreshProof) -> None:
    console.print("fresh environments: the old history vs the new folder (the baseline alone)")
    if not fresh.replayable:
        console.print(f"  [yellow]{fresh.reason}[/]", highlight=False)
        return
    if fresh.baseline_failure:
        console.print(f"  [bold red]✘[/] {fresh.reason}", highlight=False)
    for check in fresh.checks:
        mark = "[green]✔[/]" if check.ok else "[bold red]✘[/]"
        console.print(f"  {mark} {check.name}: {check.compared} compared, {len(check.differences)} different")
        for line in check.differences[:10]:
            console.print(f"      {line}", markup=False, highlight=False)
        for line in check.accepted[:10]:
            console.print(f"      accepted: {line}", markup=False, highlight=False)
    for table, why in fresh.not_compared.items():
        console.print(f"  not compared: rows of {table} ({why})", highlight=False)
    seconds = "–" if fresh.baseline_seconds is None else f"{fresh.baseline_seconds:.3f} s"
    console.print(
        f"  provisioned in {fresh.history_seconds:.3f} s from {fresh.history_files} old file(s), "
        f"{seconds} from the new folder"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    status = None
    refuse_secrets(args.include_data)
    with open_target(args, console) as session:
        cfg, target = session.config, session.target
        dsn = config_mod.resolve_dsn(target.source, shadow_mod.embedded_dsn(cfg))
        history = migrations.discover(cfg.migrations_dir)
        shadow = shadow_mod.for_target(
            cfg, session.conn, dsn, target.name, history.statement_texts(), starting_privileges=False
        )
        if not args.json:
            status = console.status("squashing")
            status.start()
        try:
            outcome = squash(
                cfg,
                target,
                session.conn,
                dsn,
                session.identity,
                shadow,
                include_data=args.include_data,
                exclude_data=args.exclude_data,
                rounds=max(1, args.rounds),
                progress=status.update if status else None,
            )
        finally:
            if status:
                status.stop()
    made, proof = outcome.baseline, outcome.proof
    if args.json:
        print_json(
            console,
            {
                "target": target.name,
                "identity": session.identity.to_dict(),
                "baseline": {
                    "path": relative(cfg, made.path),
                    "version": made.version,
                    "sha256": made.sha256,
                    "reused": made.reused,
                    "adopted_from": made.adopted_from,
                    "replaced": made.replaced,
                    "superseded": made.superseded_evidence(),
                    "data_statements": [s.to_dict() for s in made.data_statements],
                    "data_tables": made.data.rows,
                    "carried": made.carried.to_dict(),
                    "redactions": made.redactions.to_dict(),
                    "dropped_owners": [{"object": w, "role": r} for w, r in made.cleaned.dropped_owners],
                    "removed_from_dump": made.cleaned.removed,
                },
                "proof": proof.to_dict(),
            },
        )
    else:
        _report(console, outcome, cfg)
        if proof.proved:
            console.print(f"next: consolidate archive --project {args.project} --target {target.name}", markup=False)
    return EXIT_OK if proof.proved else EXIT_DIFFERENCES
