"""Step 7, Phase 4: every gate with its reason, the exact SQL, the typed confirmation, the check after commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from .base import StepScreen
from .confirm import TypeNameModal
from .context import WizardContext
from .gate_panel import GatePanel
from .progress_line import ProgressLine
from .steps import RecordView, record_view, run_record

if TYPE_CHECKING:
    from wizard.record.phase import RecordOutcome


class RecordScreen(StepScreen):
    """The protocol's only write to the target, one transaction, after every gate holds."""

    STEP = "record"

    @dataclass
    class Planned(Message):
        """The plan and the gates were evaluated."""

        view: RecordView

    @dataclass
    class Committed(Message):
        """The transaction ran and was verified from a new session."""

        outcome: RecordOutcome

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__(ctx)
        self.view: RecordView | None = None

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Record baseline (g)", id="run", variant="error", compact=True, disabled=True)
            yield Button("Re-check gates", id="recheck", compact=True)
        yield GatePanel("Gates of Phase 4", id="gates")
        yield ProgressLine("not run in this session", clock=self.ctx.monotonic, id="progress")
        yield Static("", id="problems")
        yield Static("The transaction that will run", classes="section-title")
        yield Static(Text("…", style="grey62"), id="sql")
        yield Static("Verification after commit", classes="section-title")
        yield Static(Text("not run yet", style="grey62"), id="after")

    def start(self) -> None:
        self.check_phase("record")
        self.load()

    @on(Button.Pressed, "#recheck")
    def _recheck(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="record", description="Phase 4 gates")
    def load(self) -> None:
        self.post_message(self.Planned(record_view(self.ctx)))

    @on(Planned)
    def _planned(self, event: Planned) -> None:
        self.show_view(event.view)

    def show_view(self, view: RecordView) -> None:
        """Every gate with its mark and reason; the SQL; Record enabled only when the gates hold."""
        self.view = view
        self.query_one("#gates", GatePanel).show(view.gates)
        plan = view.plan
        notes = [Text(f"✘ {p}", style="bold red") for p in plan.problems]
        notes += [Text(f"⚠ {w}", style="yellow") for w in plan.warnings]
        if plan.state == "recorded":
            notes.append(Text(f"the baseline {plan.baseline.version} is already recorded", style="green"))
        self.query_one("#problems", Static).update(Text("\n").join(notes) if notes else "")
        self.query_one("#sql", Static).update(Syntax(plan.render(), "sql", word_wrap=True, theme="ansi_dark"))
        self.query_one("#run", Button).disabled = not view.ready

    def action_go(self) -> None:
        if self.view is None:
            self.notify("the gates are still being evaluated", title="Record", severity="warning")
            return
        if any(w.is_running for w in self.workers):
            return
        if not self.view.ready:
            self.notify("a gate does not hold: d shows every gate in full", title="Record", severity="warning")
            return
        target = self.ctx.chosen
        what = (
            f"Phase 4 writes to {target.role.upper()} target {target.name}: it records baseline "
            f"{self.view.plan.baseline.version} in its migration history, in one transaction."
        )
        self.app.push_screen(TypeNameModal(what, self.view.database), self._typed)

    def _typed(self, name: str | None) -> None:
        if name is None:
            self.say("Phase 4: not confirmed; nothing was written")
            return
        self.commit(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="record", description="Phase 4 transaction")
    def commit(self, typed_name: str) -> None:
        line = self.query_one("#progress", ProgressLine)
        self.app.call_from_thread(line.begin, "re-checking every gate")

        def say(text: str) -> None:
            self.say(text)
            self.app.call_from_thread(line.advance, text.removeprefix("Phase 4: ").split(":")[0])

        outcome = run_record(self.ctx, typed_name, say)
        self.post_message(self.Committed(outcome))

    @on(Committed)
    def _committed(self, event: Committed) -> None:
        problems = len(event.outcome.problems)
        gates = len(self.view.gates) if self.view is not None else None
        self.query_one("#progress", ProgressLine).finish(
            "committed and verified" if not problems else f"committed; {problems} problem(s)",
            gates,
            gates,
            "gates held",
            failed=bool(problems),
        )
        self.show_outcome(event.outcome)
        self.query_one("#after", Static).scroll_visible(animate=False, top=True)
        self.check_phase("record")
        self.load()

    def show_outcome(self, outcome: RecordOutcome) -> None:
        """The check made from a new session after COMMIT."""
        after = self.query_one("#after", Static)
        record = outcome.record
        if record is None:
            after.update(Text("already recorded: nothing to do", style="green"))
            return
        lines = [
            Text(
                f"✔ committed in {record.get('transaction_s', 0):.3f} s; journal seq {record['seq']}",
                style="bold green",
            ),
            Text(f"history now: {', '.join(record.get('history_after', []))}"),
            Text(f"rows moved to the archive table: {', '.join(record.get('moved_versions', [])) or 'none'}"),
        ]
        if outcome.problems:
            lines += [Text(f"✘ {p}", style="bold red") for p in outcome.problems]
        else:
            lines.append(Text("✔ schema inventory and row counts unchanged; only the history tables were written",
                              style="green"))  # fmt: skip
        after.update(Text("\n").join(lines))
        self.say(f"Phase 4: recorded; {len(outcome.problems)} problem(s) after commit")
