"""Headless subcommands, registered from a table so that start-up imports none of them.

:data:`COMMANDS` names each subcommand, the module that runs it and its one-line help. The
top-level parser (:mod:`wizard.cli`) knows only this table: a command's module, and what it
imports (psycopg, pglast, rich's tables), is imported when that command is parsed or its help
shown. The module's ``arguments(parser)`` (or the function :attr:`Command.arguments` names) adds
the command's options and sets ``run(args, console) -> int``.

Importing this package imports nothing else: keep it that way (``consolidate --version`` and
``tests/test_startup.py`` rely on it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, the module that runs it, its help, and the function adding its options."""

    name: str
    module: str
    help: str
    arguments: str = "arguments"


COMMANDS: tuple[Command, ...] = (
    Command("inspect", "wizard.commands.inspect", "inventory the target, its migration files and remote history"),
    Command(
        "drift",
        "wizard.commands.drift",
        "replay the migration history in a scratch database and compare it with the target",
    ),
    Command(
        "squash",
        "wizard.commands.squash",
        "Phase 2: write one baseline migration from the target's real schema and prove it at 100 %% parity",
    ),
    Command("compare", "wizard.commands.compare", "compare the schemas of two databases (DSNs or libpq strings)"),
    Command("demo", "wizard.commands.demo", "prepare a sample project (EAV Orchestrator) and open the wizard"),
    Command(
        "backup",
        "wizard.commands.backup",
        "take a full pg_dump (custom format) of the target, with evidence to verify it",
    ),
    Command(
        "verify-backup",
        "wizard.commands.backup",
        "prove a backup restorable: list it, check its sha256, restore it into a scratch database, compare",
        arguments="verify_arguments",
    ),
    Command(
        "prune-backups",
        "wizard.commands.prune",
        "remove old backups of a target, never the one the verified-backup gate or a restore relies on",
    ),
    Command(
        "rollback", "wizard.commands.rollback", "rollback procedures: undo a phase, or restore the verified backup"
    ),
    Command("status", "wizard.commands.status", "show each phase and gate of a target with its state and reason"),
    Command(
        "validate",
        "wizard.commands.validate",
        "post-execution validation: fresh environment, parity, rows, history, security posture, tests",
    ),
    Command("report", "wizard.commands.report", "write the consolidation report (Markdown) from the target's journal"),
    Command(
        "archive",
        "wizard.commands.archive",
        "Phase 3: move the files the baseline supersedes to the archive folder (git mv in a work tree)",
    ),
    Command(
        "record",
        "wizard.commands.record",
        "Phase 4: record the baseline version in the target's migration history (one transaction)",
    ),
    Command(
        "init",
        "wizard.commands.init",
        "write consolidate.toml interactively (migrations dir, targets, shadow server)",
    ),
)
