"""What every step screen shares: the banner, the stepper, the Next/Back bar, the log, the footer.

A step screen composes its own content in :meth:`StepScreen.compose_content`, runs engine
calls in thread workers, and gates Next with :meth:`StepScreen.set_gate` from the engine's
:class:`~wizard.state.gates.GateResult`: Next is disabled while it fails, and its reason is shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from wizard.errors import WizardError
from wizard.state.gates import GateResult

from .confirm import ErrorModal
from .context import WizardContext
from .log_panel import LogPanel
from .stepper import Stepper
from .steps import BY_KEY, neighbour, phase_done


@dataclass
class StepRequested(Message):
    """The operator asked to go to another step."""

    step: str


@dataclass
class TargetChosen(Message):
    """The operator chose a target on the first screen."""

    name: str


@dataclass
class RollbackRequested(Message):
    """The operator asked for the rollback screen."""


def banner(ctx: WizardContext) -> Text:
    """The role banner: production in white on red, staging in black on green."""
    target = ctx.target
    if target is None:
        return Text(" consolidation wizard: choose a target ", style="bold")
    if target.is_production:
        return Text(f" ⚠ PRODUCTION  target {target.name}  (the only write is Phase 4) ", style="bold white on red")
    return Text(f" STAGING  target {target.name}  (rehearsal) ", style="bold black on green")


class StepScreen(Screen):
    """Base class of the step screens."""

    STEP: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next"),
        Binding("b", "back", "Back"),
        Binding("g", "go", "Run"),
        Binding("x", "cancel_work", "Cancel", show=False),
        Binding("r", "rollback", "Rollback"),
        Binding("l", "toggle_log", "Log", show=False),
    ]

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__(name=self.STEP)
        self.ctx = ctx
        self.cancel_event = threading.Event()
        self.gate: GateResult | None = None

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        role = "" if self.ctx.target is None else "-production" if self._production else "-staging"
        yield Static(banner(self.ctx), id="banner", classes=role)
        with Horizontal(id="body"):
            yield Stepper(self.ctx, self.STEP)
            with Vertical(id="main"):
                yield Static(self.heading(), id="heading")
                with VerticalScroll(id="content"):
                    yield from self.compose_content()
                yield Static("", id="reason")
                with Horizontal(id="nav"):
                    yield Static("", id="nav-spacer")
                    yield Button("Cancel (x)", id="cancel", compact=True, disabled=True)
                    yield Button("◀ Back", id="back", compact=True, disabled=neighbour(self.STEP, -1) is None)
                    yield Button("Next ▶", id="next", compact=True, variant="primary", disabled=True)
        yield LogPanel(self.ctx.log)
        yield Footer()

    @property
    def _production(self) -> bool:
        return self.ctx.target is not None and self.ctx.target.is_production

    def heading(self) -> str:
        return BY_KEY[self.STEP].title

    def compose_content(self) -> ComposeResult:
        """The step's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        if self.ctx.autostart:
            self.start()

    def start(self) -> None:
        """Read-only work to run when the screen opens (evaluate its gate, load what exists)."""

    # --- gate and navigation --------------------------------------------------------------

    def set_gate(self, result: GateResult | None, *, waiting: str = "") -> None:
        """Enable Next only when ``result`` holds; show its reason beside the button."""
        self.gate = result
        next_button = self.query_one("#next", Button)
        reason = self.query_one("#reason", Static)
        if result is None:
            next_button.disabled = True
            reason.update(Text(waiting, style="italic"))
        elif result.passed:
            next_button.disabled = neighbour(self.STEP, +1) is None
            reason.update(Text(f"✔ {result.reason}", style="green"))
        else:
            next_button.disabled = True
            reason.update(Text(f"✘ {result.reason}", style="bold red"))
        self.refresh_states()

    @work(thread=True, exclusive=True, exit_on_error=False, group="gate-check", description="phase state")
    def check_phase(self, key: str) -> None:
        """Gate Next on phase ``key`` being done in the journal, read off the event loop."""
        gate = phase_done(self.ctx, key)
        self.app.call_from_thread(self.set_gate, gate)

    def refresh_states(self) -> None:
        self.query_one(Stepper).refresh_states()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.query_one("#next", Button).disabled:
            if self.gate is not None and not self.gate.passed:
                self.notify(self.gate.reason, title="Next is blocked", severity="warning")
            return
        following = neighbour(self.STEP, +1)
        if following:
            self.post_message(StepRequested(following))

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        previous = neighbour(self.STEP, -1)
        if previous:
            self.post_message(StepRequested(previous))

    def action_rollback(self) -> None:
        self.post_message(RollbackRequested())

    def action_toggle_log(self) -> None:
        self.query_one(LogPanel).toggle_class("-hidden")

    def action_go(self) -> None:
        """Start the step's main work (its ``run`` worker), unless it is already running.

        Screens whose main action is something else override this.
        """
        run = getattr(self, "run", None)
        if run is not None and not any(w.is_running for w in self.workers):
            run()

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_go()

    # --- workers --------------------------------------------------------------------------

    def new_cancel_event(self) -> threading.Event:
        """A fresh cancel event for the next run; the Cancel button sets it."""
        self.cancel_event = threading.Event()
        return self.cancel_event

    @on(Button.Pressed, "#cancel")
    def action_cancel_work(self) -> None:
        if any(w.is_running for w in self.workers):
            self.cancel_event.set()
            self.say("cancel requested: stopping at the next safe point")

    def say(self, text: str) -> None:
        """Add a line to the log (any thread)."""
        self.ctx.log.add(text)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("stepper", "gate-check") and event.state != WorkerState.ERROR:
            return
        running = any(w.is_running and w.node is self and w.group != "gate-check" for w in self.workers)
        self.query_one("#cancel", Button).disabled = not running
        if event.state == WorkerState.ERROR:
            self.show_error(event.worker.error)
            self.worker_failed(event.worker)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.refresh_states()

    def worker_failed(self, worker: Worker) -> None:
        """Hook: a worker of this screen raised (the error is already shown)."""

    def show_error(self, error: BaseException | None) -> None:
        """An error modal with the message and the fix; unexpected errors show their type, not a traceback."""
        if isinstance(error, WizardError):
            message, fix = error.message, error.fix
        else:
            message, fix = f"unexpected {type(error).__name__}: {error}", "see the log; report this as a bug"
        self.say(f"error: {message}")
        self.app.push_screen(ErrorModal(message, fix))
