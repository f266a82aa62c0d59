"""The ``consolidate`` console script: the headless CLI with the interactive face injected.

:mod:`wizard.cli` never imports the UI; this module hands it the wizard and the prompts,
each imported only when it is opened, so headless commands start without loading Textual.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from wizard import cli
from wizard.commands.interactive import Interactive


def _run_default(*args: Any, **kwargs: Any) -> int:
    from .launch import run_default

    return run_default(*args, **kwargs)


def _open_wizard(*args: Any, **kwargs: Any) -> int:
    from .launch import open_wizard

    return open_wizard(*args, **kwargs)


def _run_init(*args: Any, **kwargs: Any) -> int:
    from .init_flow import run_init

    return run_init(*args, **kwargs)


INTERACTIVE = Interactive(run_default=_run_default, open_wizard=_open_wizard, run_init=_run_init)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``consolidate`` with the wizard available; returns the exit code."""
    return cli.main(argv, interactive=INTERACTIVE)


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
