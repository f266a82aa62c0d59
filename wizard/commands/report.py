"""``consolidate report``: the consolidation report of a target, built from its journal only.

Writes Markdown to ``.consolidate/<target>/consolidation-report.md`` (or ``--output FILE``),
journals ``report.written`` with the file's sha256, and prints the report (``--json``: the
facts it was built from). Never connects to a database.

Exit codes: 0 written, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

from wizard import report
from wizard.commands.common import print_json
from wizard.commands.options import add_project_options
from wizard.errors import EXIT_OK
from wizard.project import config as config_mod

_SHARED_FILE_MODE = 0o644


def arguments(p: argparse.ArgumentParser) -> None:
    add_project_options(p)
    p.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help=f"where to write the Markdown (default .consolidate/<target>/{report.REPORT_NAME})",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    cfg = config_mod.load(args.project)
    target = cfg.target(args.target)
    if args.output:
        path = args.output if args.output.is_absolute() else Path.cwd() / args.output
        built, text, path, record = report.save(cfg, target, path, mode=_SHARED_FILE_MODE)
    else:
        built, text, path, record = report.save(cfg, target)
    if args.json:
        print_json(
            console,
            {**built.facts, "written": {"path": record["path"], "sha256": record["sha256"], "seq": record["seq"]}},
        )
        return EXIT_OK
    console.print(Markdown(text))
    console.print(f"report written: {record['path']} (sha256 {record['sha256'][:12]}…)")
    return EXIT_OK
