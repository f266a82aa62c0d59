"""The sidebar: every step of the protocol with its state, read from the journal."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

from wizard.state import protocol

from .context import WizardContext
from .steps import STEPS, step_states

MARKS = {
    protocol.DONE: ("✔", "green"),
    protocol.PENDING: ("○", "grey62"),
    protocol.FAILED: ("✘", "bold red"),
    protocol.ROLLED_BACK: ("↺", "cyan"),
}


class Stepper(Static):
    """A vertical list of steps; the current one is highlighted."""

    DEFAULT_CSS = """
    Stepper { width: 22; height: 100%; padding: 0 1; border-right: solid $primary-darken-2; }
    """

    def __init__(self, ctx: WizardContext, current: str, *, id: str | None = "stepper") -> None:
        super().__init__(id=id)
        self.ctx = ctx
        self.current = current

    def on_mount(self) -> None:
        self.show(step_states(self.ctx))

    def show(self, states: dict[str, str]) -> None:
        """Redraw with ``states`` (step key -> protocol state); the sidebar's size never changes, so no layout."""
        self.update(self.render_steps(states), layout=False)

    def refresh_states(self) -> None:
        """Re-read the journal and redraw; off the event loop, since a journal can grow to megabytes."""
        if self.ctx.autostart:
            self._load()
        else:
            self.show(step_states(self.ctx))

    @work(thread=True, exclusive=True, exit_on_error=False, group="stepper", description="step states")
    def _load(self) -> None:
        states = step_states(self.ctx)
        self.app.call_from_thread(self.show, states)

    def render_steps(self, states: dict[str, str]) -> Text:
        text = Text()
        text.append("Protocol\n", style="bold underline")
        for step in STEPS:
            mark, style = MARKS.get(states.get(step.key, protocol.PENDING), ("?", ""))
            line = Text()
            line.append(f"{mark} ", style=style)
            line.append(step.title, style="bold reverse" if step.key == self.current else "")
            line.append("\n")
            text.append_text(line)
        return text
