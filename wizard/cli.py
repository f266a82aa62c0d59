"""The ``consolidate`` command line: headless subcommands over the protocol engine.

Exit codes: 0 success (or no differences, or nothing to do), 1 differences or a failed check,
2 usage, configuration or connection error, 130 interrupted (Ctrl-C, SIGTERM or SIGHUP); per
command in docs/exit-codes.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from wizard import __version__
from wizard.commands import COMMANDS, Command
from wizard.commands.options import add_global_options
from wizard.errors import EXIT_USAGE, WizardError

if TYPE_CHECKING:
    from wizard.commands.interactive import Interactive


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser whose options are added the first time it parses or shows its help.

    Adding them imports the command's module (:data:`wizard.commands.COMMANDS`), so
    ``consolidate --version`` or ``consolidate status`` import no other command's dependencies.
    """

    def __init__(self, *args: Any, command: Command | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command = command
        self.loaded = command is None

    def load(self) -> CommandParser:
        """Import the command's module and add its options (once); returns the parser."""
        if not self.loaded and self.command is not None:
            self.loaded = True
            module = importlib.import_module(self.command.module)
            getattr(module, self.command.arguments)(self)
        return self

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.load()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.load()
        return super().format_help()

    def format_usage(self) -> str:
        self.load()
        return super().format_usage()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand's options are added when that subcommand is used."""
    parser = argparse.ArgumentParser(
        prog="consolidate",
        description="Consolidate Supabase migrations into one proven baseline (Safe Consolidation Protocol).",
        epilog="Exit codes: see docs/exit-codes.md.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Without a subcommand, `consolidate` opens the wizard on --project (screens.launch); before a
    # subcommand they are that subcommand's --project and --target (wizard.commands.options).
    add_global_options(parser)
    parser.add_argument("--plain", action="store_true", help="prompts and plain output instead of the full-screen app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for command in COMMANDS:
        sub.add_parser(command.name, help=command.help, description=command.help, command=command)
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


def command_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser by name, its options loaded (imports every command module)."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: p.load() if isinstance(p, CommandParser) else p for name, p in sub.choices.items()}


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
    from rich.console import Console  # after parsing: --version and --help need no console
    from rich.markup import escape

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
        from wizard.db.dsn import redact_text  # imports psycopg: only on an error

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
