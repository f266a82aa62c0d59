"""Gate details on demand (key ``d``): every gate of the screen with its whole reason and evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from wizard.state.gates import GateResult


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    """``key: value`` per piece of evidence (nested values on one line)."""
    return [f"{key}: {value}" for key, value in evidence.items() if value not in (None, "", [], {})]


def details_text(results: Sequence[GateResult]) -> Text:
    """Each gate: mark, name, whole reason, then its evidence, indented."""
    if not results:
        return Text("no gate evaluated on this screen yet", style="italic")
    out = Text()
    for index, result in enumerate(results):
        if index:
            out.append("\n\n")
        out.append("✔ " if result.passed else "✘ ", style="bold green" if result.passed else "bold red")
        out.append(result.name, style="bold")
        out.append(f"\n{result.reason}")
        for line in evidence_lines(result.evidence):
            out.append(f"\n  {line}", style="grey62")
    return out


class GateDetails(ModalScreen[None]):
    """The screen's gates in full, paths included; escape, enter or ``d`` closes."""

    DEFAULT_CSS = """
    GateDetails { align: center middle; }
    GateDetails > Vertical {
        width: 100; max-width: 96%; height: 90%; border: round $primary; background: $panel;
    }
    GateDetails VerticalScroll { height: 1fr; padding: 0 1; }
    GateDetails Button { margin: 1 1 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,d", "close", "Close")]

    def __init__(self, results: Sequence[GateResult], title: str = "Gates in full") -> None:
        super().__init__()
        self.results = list(results)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            with VerticalScroll():
                yield Static(details_text(self.results), id="details")
            yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # arrows and page keys scroll the details

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
