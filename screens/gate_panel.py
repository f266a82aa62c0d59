"""Renders gate verdicts (``GateResult``) with a mark and a short reason; it never evaluates a gate.

A gate's reason can name long paths; on screen each gate takes one line (paths cut to their
last part, the rest ellipsised). The full reasons and their evidence are one key away
(:class:`~screens.gate_details.GateDetails`, key ``d``) and in the panel's tooltip.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from wizard.state.gates import GateResult

#: A relative or absolute path of two parts or more (``.consolidate/backups/x.dump``, ``/tmp/a/b``);
#: ``16/16`` and ``staging/production`` are not paths.
_PATH = re.compile(r"(?<![\w/])(?:[./~][\w.~-]*|[\w.~-]+/[\w.~-]+)(?:/[\w.~@-]+)+")


def short_reason(reason: str) -> str:
    """``reason`` with every path cut to ``…/name`` and only its first line."""

    def cut(found: re.Match[str]) -> str:
        path = found.group(0)
        if not re.search(r"[A-Za-z]", path):
            return path
        return "…/" + path.rstrip("/").rsplit("/", 1)[-1]

    return _PATH.sub(cut, reason.strip().splitlines()[0] if reason.strip() else "")


def gate_line(result: GateResult) -> Text:
    """One gate: a mark, its name, its short reason."""
    text = Text()
    text.append("✔ " if result.passed else "✘ ", style="bold green" if result.passed else "bold red")
    text.append(result.name, style="bold")
    text.append(f": {short_reason(result.reason)}")
    return text


def render_gates(results: Sequence[GateResult], pending: str = "evaluating…") -> Text:
    """One line per gate; failing gates first, since they are what the operator must act on."""
    if not results:
        return Text(pending, style="italic grey62")
    ordered = [r for r in results if not r.passed] + [r for r in results if r.passed]
    return Text("\n").join(gate_line(r) for r in ordered)


def full_reasons(results: Sequence[GateResult]) -> str:
    """Every gate with its whole reason (the tooltip)."""
    return "\n".join(f"{'✔' if r.passed else '✘'} {r.name}: {r.reason}" for r in results)


class GatePanel(Static):
    """A bordered list of gate verdicts, one line each; ``d`` shows them in full."""

    DEFAULT_CSS = """
    GatePanel {
        border: round $primary-darken-1; padding: 0 1; height: auto; text-wrap: nowrap; text-overflow: ellipsis;
    }
    GatePanel.-holds { border: round $success; }
    GatePanel.-fails { border: round $error; }
    """

    def __init__(self, title: str = "Gate", *, id: str | None = None, pending: str = "evaluating…") -> None:
        super().__init__(render_gates([], pending), id=id)
        self.border_title = title
        self.pending = pending
        self.results: list[GateResult] = []

    def show(self, results: Sequence[GateResult]) -> None:
        """Display ``results`` (the screen's gate verdicts)."""
        self.results = list(results)
        self.update(render_gates(results, self.pending))
        self.tooltip = full_reasons(results) or None
        holds = bool(results) and all(r.passed for r in results)
        self.set_class(holds, "-holds")
        self.set_class(bool(results) and not holds, "-fails")
        self.border_subtitle = "d: details" if results else ""
