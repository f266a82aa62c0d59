"""The interactive face as the headless CLI sees it: callables injected by the ``consolidate`` entry point.

The engine never imports the UI. The console script (:mod:`screens.main`) passes an
:class:`Interactive` to :func:`wizard.cli.main`; ``python -m wizard.cli`` runs without one
and offers the headless commands only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import WizardError

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Interactive:
    """What the headless CLI may open.

    Attributes:
        run_default: ``consolidate`` with no subcommand: the wizard, or ``init`` when there is no config.
        open_wizard: Open the wizard on a project directory (``plain=True``: prompts instead of the app).
        run_init: Write consolidate.toml through prompts.
    """

    run_default: Callable[[argparse.Namespace, Console], int]
    open_wizard: Callable[..., int]
    run_init: Callable[..., int]


def require(args: argparse.Namespace, what: str) -> Interactive:
    """The injected interactive face, or a one-line error naming the entry point that has it."""
    face = getattr(args, "interactive", None)
    if face is None:
        raise WizardError(
            f"{what} needs the interactive wizard, which this entry point (python -m wizard.cli) does not load",
            "run it through the `consolidate` command",
        )
    return face


def project_path(value: str | Path) -> Path:
    """A project directory argument as a Path."""
    return Path(value)
