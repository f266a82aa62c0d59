"""``consolidate backup`` and ``consolidate verify-backup``: a pg_dump of the target, proven restorable.

Exit codes: 0 done (verification passed), 1 verification failed, 2 usage, configuration,
connection or pg_dump error, 130 interrupted (the partial file is removed).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from wizard.backup import BackupProgress, VerifyProgress, evaluate, take_backup, verify_backup
from wizard.backup.files import human_bytes
from wizard.backup.take import DUMP_JOBS, FORMATS
from wizard.backup.verify import DEFAULT_JOBS
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK, WizardError
from wizard.platform import shadow as shadow_mod
from wizard.project import config as config_mod
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--format",
        choices=("auto", *FORMATS),
        default="auto",
        help="custom: one file; directory: pg_dump -Fd with parallel jobs; auto (default): directory for targets "
        "of [backup] directory_format_above_mb (1024) or more",
    )
    p.add_argument(
        "--jobs", type=int, default=DUMP_JOBS, help=f"pg_dump jobs for the directory format (default {DUMP_JOBS})"
    )
    p.set_defaults(run=run_backup)


def verify_arguments(v: argparse.ArgumentParser) -> None:
    add_project_options(v)
    v.add_argument("file", nargs="?", type=Path, metavar="FILE", help="a recorded backup (default: the newest)")
    v.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help=f"parallel restore jobs (default {DEFAULT_JOBS})")
    v.add_argument(
        "--max-age-hours",
        type=float,
        default=None,
        help="the oldest backup the verified-backup gate accepts (default: project.backup_max_age_hours, 24)",
    )
    v.set_defaults(run=run_verify)


def _bar(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def run_backup(args: argparse.Namespace, console: Console) -> int:
    if args.jobs < 1:
        raise WizardError(f"--jobs must be 1 or more, not {args.jobs}", f"pass --jobs {DUMP_JOBS}")
    options = {"dump_format": None if args.format == "auto" else args.format, "jobs": args.jobs}
    with open_target(args, console) as session:
        journal = Journal.for_target(session.config.state_dir, session.target.name)
        if args.json:
            record = take_backup(session.config, session.target, session.conn, session.identity, journal, **options)
        else:
            with _bar(console) as bar:
                task = bar.add_task("pg_dump", total=None, detail="starting")

                def show(p: BackupProgress) -> None:
                    detail = f"{human_bytes(p.bytes_written)} written, {p.tables_done}/{p.tables_total} tables"
                    if p.phase == "dumping" and p.current:
                        detail += f", {p.current}"
                    elif p.phase != "dumping":
                        detail += f", {p.phase}"
                    bar.update(task, total=p.tables_total or None, completed=p.tables_done, detail=detail)

                record = take_backup(
                    session.config, session.target, session.conn, session.identity, journal, show, **options
                )
    if args.json:
        print_json(console, {"event": "backup.taken", "seq": record.seq, **record.evidence()})
        return EXIT_OK
    console.print(f"[green]backup written[/]: {record.path}")
    layout = (
        f"directory of {len(record.files)} files ({record.jobs} jobs), set checksum"
        if record.files is not None
        else "sha256"
    )
    console.print(
        f"  {human_bytes(record.size)}, {layout} {record.sha256}, pg_dump {record.pg_dump['version']}; "
        f"database {human_bytes(record.database_size)}"
    )
    console.print(
        f"  evidence: {record.total_rows} rows across {len(record.row_counts)} tables, "
        f"{record.large_objects} large objects, schema fingerprint {record.schema_fingerprint[:12]}…"
    )
    console.print(f"next: consolidate verify-backup --target {record.target}")
    return EXIT_OK


def run_verify(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    journal = Journal.for_target(cfg.state_dir, target.name)
    shadow = shadow_mod.for_config(cfg)
    file = args.file.resolve() if args.file else None
    if args.json:
        result = verify_backup(cfg, target, journal, shadow, file, jobs=args.jobs)
    else:
        with _bar(console) as bar:
            task = bar.add_task("verify", total=None, detail="")

            def show(p: VerifyProgress) -> None:
                detail = p.detail
                if p.step in ("checksum", "restore") and p.total:
                    detail = f"{human_bytes(p.done)} of {human_bytes(p.total)}"
                elif p.total:
                    detail = f"{p.done}/{p.total} tables {p.detail}"
                bar.update(task, description=p.step, total=p.total or None, completed=p.done, detail=detail)

            result = verify_backup(cfg, target, journal, shadow, file, show, jobs=args.jobs)
    gate = None
    gate_error = None
    try:
        with open_target(args, None if args.json else console) as session:
            max_age = timedelta(hours=args.max_age_hours) if args.max_age_hours else None
            gate = evaluate(session.config, session.target, session.conn, session.identity, max_age)
    except WizardError as exc:
        gate_error = str(exc)
    if args.json:
        print_json(
            console,
            {
                "verification": result.to_dict(),
                "gate": gate.to_dict() if gate else None,
                "gate_error": gate_error,
            },
        )
    else:
        table = Table(title=f"Verification of {result.record.path}", show_lines=False)
        table.add_column("step")
        table.add_column("result")
        table.add_column("evidence")
        for step in result.steps:
            table.add_row(step.step, "[green]passed[/]" if step.passed else "[red]FAILED[/]", step.summary)
        console.print(table)
        verdict = "[green]verified[/]" if result.passed else f"[red]not verified[/]: {result.reason}"
        console.print(f"backup {verdict}", highlight=False)
        if gate is not None:
            mark = "[green]holds[/]" if gate.passed else "[red]fails[/]"
            console.print(f"gate {gate.name} {mark}: {gate.reason}", highlight=False)
        else:
            console.print(f"gate verified-backup not evaluated: {gate_error}", markup=False)
    return EXIT_OK if result.passed else EXIT_DIFFERENCES
