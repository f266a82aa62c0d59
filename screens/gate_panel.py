"""Renders gate verdicts (``GateResult``) with a mark and the reason; it never evaluates a gate."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from wizard.state.gates import GateResult


def render_gates(results: Sequence[GateResult], pending: str = "evaluating…") -> Text:
    """One line per gate: a mark, the name, the reason."""
    if not results:
        return Text(pending, style="italic grey62")
    text = Text()
    for index, result in enumerate(results):
        if index:
            text.append("\n")
        text.append("✔ " if result.passed else "✘ ", style="bold green" if result.passed else "bold red")
        text.append(result.name, style="bold")
        text.append(f": {result.reason}")
    return text


class GatePanel(Static):
    """A bordered list of gate verdicts."""

    DEFAULT_CSS = """
    GatePanel { border: round $primary-darken-1; padding: 0 1; height: auto; }
    GatePanel.-holds { border: round $success; }
    GatePanel.-fails { border: round $error; }
    """

    def __init__(self, title: str = "Gate", *, id: str | None = None, pending: str = "evaluating…") -> None:
        super().__init__(render_gates([], pending), id=id)
        self.border_title = title
        self.pending = pending

    def show(self, results: Sequence[GateResult]) -> None:
        """Display ``results`` (the screen's gate verdicts)."""
        self.update(render_gates(results, self.pending))
        holds = bool(results) and all(r.passed for r in results)
        self.set_class(holds, "-holds")
        self.set_class(bool(results) and not holds, "-fails")
