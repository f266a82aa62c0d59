"""Step 5, Phase 2: generate the baseline, show it, prove it on a scratch database (parity per kind)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from .base import StepScreen
from .progress_line import ProgressLine
from .steps import SquashView, run_squash, squash_view
from .views import PREVIEW_LINES, fresh_lines, parity_table, timing_line


class SquashScreen(StepScreen):
    """The consolidated migration: generated from the target, proved at 100 % parity."""

    STEP = "squash"

    @dataclass
    class Stage(Message):
        """The engine moved to another stage."""

        text: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SquashScreen.Stage)

    @dataclass
    class Proved(Message):
        """Generation and proof finished (the view is read back from the journal)."""

        view: SquashView | None

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Generate & prove (g)", id="run", variant="primary", compact=True)
        yield ProgressLine("not run in this session", clock=self.ctx.monotonic, id="progress")
        yield Static("", id="verdict")  # above the parity: proved or not, and whether it was adopted
        yield Static("Parity: target vs baseline", classes="section-title")
        yield Static(parity_table(None), id="parity")
        yield Static(timing_line(None), id="timing")
        yield Static("Baseline file", classes="section-title")
        yield Static(Text("not generated yet", style="grey62"), id="file")

    def start(self) -> None:
        self.load_view()
        self.check_phase("squash")

    @work(thread=True, exclusive=True, exit_on_error=False, group="squash-view", description="baseline on record")
    def load_view(self) -> None:
        """The baseline and proof already on record (a resumed wizard shows them)."""
        self.post_message(self.Proved(squash_view(self.ctx)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="squash", description="Phase 2")
    def run(self) -> None:
        """pg_dump the schema, write the baseline, apply it to a scratch database, compare, time."""
        cancel = self.new_cancel_event()
        self.app.call_from_thread(self.query_one("#progress", ProgressLine).begin, "reading the target schema")

        def stage(text: str) -> None:
            self.say(f"Phase 2: {text}")
            self.post_message(self.Stage(text))

        outcome = run_squash(self.ctx, cancel, stage)
        self.say(f"Phase 2: {'proved' if outcome.proved else 'NOT proved'}: {outcome.proof.reason or '100 % parity'}")
        self.post_message(self.Proved(squash_view(self.ctx)))

    @on(Stage)
    def _stage(self, event: Stage) -> None:
        self.query_one("#progress", ProgressLine).advance(event.text)
        self.query_one("#parity", Static).update(parity_table(None, "waiting for the proof"))

    @on(Proved)
    def _proved(self, event: Proved) -> None:
        line = self.query_one("#progress", ProgressLine)
        if line.has_class("-running"):
            view = event.view
            proved = view is not None and bool(view.proved)
            kinds = list(view.kinds.values()) if view is not None else []
            same = sum(1 for value in kinds if value.partition("/")[0] == value.partition("/")[2])
            line.finish("proved" if proved else "not proved", same, len(kinds), "kinds at parity", failed=not proved)
        self.show_view(event.view)
        self.check_phase("squash")

    def show_view(self, view: SquashView | None) -> None:
        """Render the baseline, its parity per kind and the timings (worker result or fixed test data)."""
        self.query_one("#parity", Static).update(parity_table(view))
        self.query_one("#timing", Static).update(timing_line(view))
        verdict = self.query_one("#verdict", Static)
        if view is None:
            verdict.update("")
            return
        if view.proved:
            proved = Text(f"✔ {view.path} (version {view.version}) proved at 100 % parity", style="bold green")
            if view.adopted_from and view.adopted_from != self.ctx.chosen.name:
                proved.append(
                    f"\nAdopted unchanged: one baseline per project, generated from {view.adopted_from} and proved "
                    f"here against {self.ctx.chosen.name}.",
                    style="cyan",
                )
            if view.fresh:
                proved.append("\n" + "\n".join(fresh_lines(view)), style="green")
            verdict.update(proved)
        elif view.proved is None:
            verdict.update(Text(f"{view.path} generated, not proved yet", style="yellow"))
        else:
            lines = [f"✘ not proved: {view.reason}"] + [f"  {d['explanation']}" for d in view.differences[:5]]
            verdict.update(Text("\n".join(lines + fresh_lines(view)), style="bold red"))
        lines = view.text.splitlines()
        shown = "\n".join(lines[:PREVIEW_LINES])
        if len(lines) > PREVIEW_LINES:
            shown += f"\n-- … {len(lines) - PREVIEW_LINES} more lines in {view.path}"
        self.query_one("#file", Static).update(
            Syntax(shown, "sql", line_numbers=True, word_wrap=False, theme="ansi_dark")
        )
