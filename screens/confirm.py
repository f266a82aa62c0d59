"""Confirmations: a y/n modal, a modal that accepts only the exact database name, an error modal."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmModal(ModalScreen[bool]):
    """Ask a yes/no question; ``y`` confirms, ``n`` or ``escape`` declines."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 60; max-width: 95%; height: auto; border: thick $warning; background: $panel; padding: 1 2;
    }
    ConfirmModal #question { margin-bottom: 1; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button(f"{self.no} (n)", id="no", compact=True)
                yield Button(f"{self.yes} (y)", id="yes", variant="warning", compact=True)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)


class TypeNameModal(ModalScreen[str | None]):
    """Confirm a write by typing the database name; anything but the exact name is rejected.

    Dismisses with the typed name (which equals ``expected``), or None when cancelled.
    """

    DEFAULT_CSS = """
    TypeNameModal { align: center middle; }
    TypeNameModal > Vertical {
        width: 64; max-width: 95%; height: auto; border: thick $error; background: $panel; padding: 1 2;
    }
    TypeNameModal #what { margin-bottom: 1; }
    TypeNameModal Input { width: 100%; }
    TypeNameModal Label { width: 100%; }
    TypeNameModal #rejected { color: $error; height: auto; }
    TypeNameModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    TypeNameModal Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, expected: str) -> None:
        super().__init__()
        self.what = what
        self.expected = expected

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.what, id="what")
            yield Label(f"Type the database name [b]{self.expected}[/b] to confirm:")
            yield Input(placeholder=self.expected, id="name")
            yield Static("", id="rejected")
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Confirm", id="confirm", variant="error", compact=True)

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#confirm")
    def _submit(self) -> None:
        typed = self.query_one("#name", Input).value.strip()
        if typed == self.expected:
            self.dismiss(typed)
            return
        self.query_one("#rejected", Static).update(
            f"{typed!r} is not {self.expected!r}: nothing was done" if typed else "type the name first"
        )
        self.query_one("#name", Input).value = ""

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ErrorModal(ModalScreen[None]):
    """An operator-facing error: what went wrong and the fix (never a traceback)."""

    DEFAULT_CSS = """
    ErrorModal { align: center middle; }
    ErrorModal > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: thick $error; background: $panel; padding: 1 2;
    }
    ErrorModal #fix { margin-top: 1; color: $text-muted; }
    ErrorModal Button { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "Close")]

    def __init__(self, message: str, fix: str = "", title: str = "Error") -> None:
        super().__init__()
        self.message, self.fix, self.title_text = message, fix, title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.message, id="message", markup=False)
            if self.fix:
                yield Static(f"fix: {self.fix}", id="fix", markup=False)
            yield Button("Close (esc)", id="close", compact=True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
