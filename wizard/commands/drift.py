"""``consolidate drift``: where the migration history disagrees with the real target."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK
from wizard.history import files as migrations
from wizard.history.files import CLI_RULE
from wizard.inspect import drift, supabase
from wizard.platform import shadow as shadow_mod
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--include-ignored",
        action="store_true",
        help="also replay the .sql files the Supabase CLI ignores (bad names), all in file-name order",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    with open_target(args, console) as session:
        note = None if supabase.looks_like_supabase(session.conn) else supabase.not_supabase_note(session.target.name)
        if note and not args.json:
            console.print(Text.assemble(("note: ", "yellow"), note))
        mset = migrations.discover(session.config.migrations_dir, include_ignored=args.include_ignored)
        shadow = shadow_mod.for_target(
            session.config, session.conn, session.dsn, session.target.name, mset.statement_texts(), early=True
        )
        status = console.status("checking drift") if not args.json else None
        if status:
            status.start()
        try:
            report = drift.check(session.conn, mset, shadow, progress=status.update if status else None)
        finally:
            if status:
                status.stop()
    drift.record(Journal.for_target(session.config.state_dir, session.target.name), session.identity, report)
    if args.json:
        print_json(
            console,
            {
                "target": session.target.name,
                "identity": session.identity.to_dict(),
                "replay": {
                    "ok": report.replay.ok,
                    "applied": [name for name, _ in report.replay.applied],
                    "seconds": round(report.replay.seconds, 3),
                    "failure": report.replay.failure.__dict__ if report.replay.failure else None,
                },
                "parity": report.parity.to_dict() if report.parity else None,
                "ignored_files": [f.filename for f in mset.ignored],
                "include_ignored": mset.include_ignored,
                "standins": report.standins.to_dict() if report.standins else None,
                "not_supabase": note,
            },
        )
    else:
        from wizard.commands import render  # here: rich tables are not needed for --json

        _notes(console, mset, report)
        render.replay_result(console, report.replay)
        if report.parity:
            render.parity(console, report.parity)
    return EXIT_OK if report.clean else EXIT_DIFFERENCES


def _notes(console: Console, mset: migrations.MigrationSet, report: drift.DriftReport) -> None:
    """Files the CLI ignores, and what in the replay rests on stand-in extensions."""
    for f in mset.ignored:
        if f.path.suffix == ".sql":
            what = (
                "replayed anyway, in file-name order" if mset.include_ignored else "pass --include-ignored to replay it"
            )
            console.print(
                Text.assemble(("ignored by the Supabase CLI: ", "yellow"), f"{f.filename} ({CLI_RULE}): {what}")
            )
    history = mset.history()
    for f in mset.files:
        if f not in history:
            console.print(
                Text.assemble(
                    ("not replayed: ", "yellow"),
                    f"{f.filename}, this tool's baseline: the files it replaces are still in the folder "
                    "(Phase 3 moves them); drift compares the target with them",
                )
            )
    for line in report.standins.warnings() if report.standins else []:
        console.print(Text.assemble(("warning: ", "yellow"), line))
