"""Machine-readable output of subcommands (kept apart from :mod:`.common`, which opens targets and configs)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

__all__ = ["print_json"]


def print_json(console: Console, data: Any) -> None:
    """Print ``data`` as JSON on stdout, unstyled."""
    console.file.write(json.dumps(data, indent=2, default=str) + "\n")
    console.file.flush()
