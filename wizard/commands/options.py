"""The options every project command shares, light enough for the top-level parser to use.

``--project`` and ``--target`` are accepted before and after the subcommand
(``consolidate --project DIR status`` and ``consolidate status --project DIR``); given in both
places, the one after the subcommand wins. The top-level parser holds the defaults; a
subcommand's copies default to nothing (``argparse.SUPPRESS``), so they only overwrite a value
the operator typed after the subcommand.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PROJECT_HELP = "project directory (holds consolidate.toml; default: the current directory)"
TARGET_HELP = "target name from consolidate.toml (optional when there is one)"


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """``--project`` and ``--target`` on the top-level parser, with their defaults."""
    parser.add_argument("--project", type=Path, default=Path("."), help=PROJECT_HELP)
    parser.add_argument("--target", default=None, help=TARGET_HELP)


def add_project_options(
    parser: argparse.ArgumentParser, *, target: bool = True, json: bool = True, project_help: str = PROJECT_HELP
) -> None:
    """``--project DIR`` and ``--target NAME`` (also accepted before the subcommand), and ``--json``."""
    parser.add_argument("--project", type=Path, default=argparse.SUPPRESS, help=project_help)
    if target:
        parser.add_argument("--target", default=argparse.SUPPRESS, help=TARGET_HELP)
    if json:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of tables")
