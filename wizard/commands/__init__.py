"""Headless subcommands. Each module has ``register(subparsers)`` and sets ``run(args, console) -> int``."""

from __future__ import annotations

from . import compare, demo, drift, inspect

COMMANDS = (inspect, drift, compare, demo)
