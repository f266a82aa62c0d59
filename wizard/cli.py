"""The ``consolidate`` command line: headless subcommands over the protocol engine.

Exit codes: 0 success (or no differences), 1 differences or a failed check,
2 usage, configuration or connection error, 130 interrupted (Ctrl-C, SIGTERM or SIGHUP).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.markup import escape

from wizard import __version__
from wizard.commands import COMMANDS
from wizard.commands.interactive import Interactive
from wizard.db.dsn import redact_text
from wizard.errors import EXIT_USAGE, WizardError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="consolidate",
        description="Consolidate Supabase migrations into one proven baseline (Safe Consolidation Protocol).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Without a subcommand, `consolidate` opens the wizard on --project (screens.launch).
    parser.add_argument("--project", dest="app_project", type=Path, default=Path("."), help="project directory")
    parser.add_argument("--target", dest="app_target", help="start the wizard on this target")
    parser.add_argument("--plain", action="store_true", help="prompts and plain output instead of the full-screen app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def stops_like_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP (a ``kill``, a closed terminal) take the Ctrl-C path while the block runs.

    Children are stopped and the exit code is 130, as for Ctrl-C. Outside the main thread
    (signals cannot be handled there) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, _interrupt) for s in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None, interactive: Interactive | None = None) -> int:
    """Run the CLI; returns the exit code (see module docstring).

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        interactive: The wizard and prompts, injected by the ``consolidate`` entry point
            (:mod:`screens.main`); without it only the headless commands run.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.interactive = interactive
    out = Console(highlight=False, soft_wrap=getattr(args, "json", False))
    err = Console(stderr=True, highlight=False)
    try:
        with stops_like_ctrl_c():
            if args.command is None:
                if interactive is None:
                    parser.print_help()
                    return EXIT_USAGE
                return interactive.run_default(args, out)
            return int(args.run(args, out))
    except WizardError as exc:
        err.print(f"[bold red]error:[/] {escape(redact_text(exc.message))}", soft_wrap=True)
        if exc.fix:
            err.print(f"  fix: {redact_text(exc.fix)}", markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print(
            "interrupted: the journal holds every step that completed; run `consolidate status` to see where to resume",
            markup=False,
            soft_wrap=True,
        )
        return 130


def entry() -> None:
    """Headless entry point (``python -m wizard.cli``); the ``consolidate`` script is :func:`screens.main.entry`."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
