"""``consolidate inspect``: Phase 1 inventory of the target, its migration files and remote history.

Exit codes (docs/exit-codes.md): 0 the inventory is taken and files and history agree on what
was applied, 1 a file is bad or duplicated, files or history are unreadable, or the history
lists versions with no local file, 2 usage, configuration or connection error.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from wizard.commands import render
from wizard.commands.common import open_target, print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK, MigrationFileError, MissingHistoryTable
from wizard.history import files as migrations
from wizard.history import remote as history_mod
from wizard.inspect import inventory, supabase
from wizard.state.journal import Journal


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument("--no-rows", action="store_true", help="skip exact row counts")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    with open_target(args, console) as session:
        note = None if supabase.looks_like_supabase(session.conn) else supabase.not_supabase_note(session.target.name)
        if note and not args.json:
            console.print(Text.assemble(("note: ", "yellow"), note))
        status = None if args.json else console.status("reading the catalog")
        if status:
            status.start()
        try:  # row counts of huge tables take a while: say which table is being counted
            inv = inventory.take(
                session.conn, session.identity, rows=not args.no_rows, progress=status.update if status else None
            )
        finally:
            if status:
                status.stop()
        files_error: str | None
        try:
            mset = migrations.discover(session.config.migrations_dir).require_files()
        except MigrationFileError as exc:
            mset, files_error = None, str(exc)
        else:
            files_error = None
        try:
            hist = history_mod.read(session.conn, mset.versions if mset else None)
            history_error = None
        except MissingHistoryTable as exc:
            hist, history_error = None, str(exc)
    # Exit 1 (docs/exit-codes.md): files or history unreadable, bad or duplicate files, or versions
    # applied on the target with no local file (the remote history says more than the files do).
    problems = bool(
        files_error or history_error or (mset and (mset.errors or mset.duplicates)) or (hist and hist.applied_not_local)
    )
    inventory.record(
        Journal.for_target(session.config.state_dir, session.target.name), session.identity, inv, mset, hist
    )
    if args.json:
        print_json(
            console,
            {
                "target": session.target.name,
                "role": session.target.role,
                "inventory": inv.to_dict(),
                "files": None
                if mset is None
                else [
                    {
                        "file": f.filename,
                        "version": f.version,
                        "sha256": f.sha256,
                        "statements": len(f.statements),
                        "error": f.error,
                        "data_statements": [
                            {"line": s.line, "kind": s.node, "category": s.category, "target": s.target}
                            for s in f.data_statements
                        ],
                    }
                    for f in mset.files
                ],
                "ignored_files": [] if mset is None else [f.filename for f in mset.ignored],
                "duplicate_versions": {} if mset is None else mset.duplicates,
                "files_error": files_error,
                "history": None
                if hist is None
                else {
                    "columns": hist.columns,
                    "applied": hist.versions,
                    "applied_not_local": hist.applied_not_local,
                    "local_not_applied": hist.local_not_applied,
                },
                "history_error": history_error,
                "not_supabase": note,
            },
        )
    else:
        render.inventory(console, inv)
        if mset is not None:
            render.migration_files(console, mset)
        else:
            console.print(f"[red]{files_error}[/]")
        if hist is not None:
            render.history(console, hist)
        else:
            console.print(f"[red]{history_error}[/]")
    return EXIT_DIFFERENCES if problems else EXIT_OK
