"""Headless subcommands. Each module has ``register(subparsers)`` and sets ``run(args, console) -> int``."""

from __future__ import annotations

from wizard.commands import (
    archive,
    backup,
    compare,
    demo,
    drift,
    init,
    inspect,
    prune,
    record,
    report,
    rollback,
    squash,
    status,
    validate,
)

COMMANDS = (
    inspect,
    drift,
    squash,
    compare,
    demo,
    backup,
    prune,
    rollback,
    status,
    validate,
    report,
    archive,
    record,
    init,
)
