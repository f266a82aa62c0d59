"""Step 8: post-execution validation, then the Markdown report rendered here and saved."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Markdown, Static

from wizard.state import events
from wizard.validate.checks import CHECKS

from .base import StepScreen
from .progress_line import ProgressLine
from .steps import run_validation, write_report

_MARK = {"passed": ("✔", "bold green"), "failed": ("✘", "bold red"), "skipped": ("–", "yellow")}


def checks_text(checks: list[dict]) -> Text:
    """One line per validation check: mark, title, reason."""
    if not checks:
        return Text("\n".join(f"○ {title}" for title in CHECKS.values()), style="grey62")
    lines = []
    for check in checks:
        mark, style = _MARK.get(check["status"], ("?", ""))
        lines.append(Text.assemble((f"{mark} ", style), (check["title"], "bold"), f": {check['reason']}"))
    return Text("\n").join(lines)


class ValidateScreen(StepScreen):
    """Validation checks, then the report (built from the journal only)."""

    STEP = "validate"

    @dataclass
    class Stage(Message):
        """Validation moved to another check."""

        text: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ValidateScreen.Stage)

    @dataclass
    class Validated(Message):
        """Validation finished and was journaled."""

        result: dict

    @dataclass
    class ReportWritten(Message):
        """The report was saved."""

        path: str
        markdown: str

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Validate (g)", id="run", variant="primary", compact=True)
            yield Button("Write report", id="report", compact=True)
        yield ProgressLine("not run in this session", clock=self.ctx.monotonic, id="progress")
        yield Static(checks_text([]), id="checks")
        yield Static("", id="report-path")
        yield Markdown("", id="report-view")

    def start(self) -> None:
        self.set_gate(None, waiting="the last step: validate, then write the report")
        self.load_last()

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate-view", description="last validation")
    def load_last(self) -> None:
        """The last validation on record (a resumed wizard shows it)."""
        last = self.ctx.the_journal.last(events.VALIDATED)
        if last:
            self.post_message(self.Validated({"checks": last.get("checks", []), "passed": last.get("passed", False)}))

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate", description="validation")
    def run(self) -> None:
        cancel = self.new_cancel_event()
        self.app.call_from_thread(self.query_one("#progress", ProgressLine).begin, "reading the target")

        def stage(text: str) -> None:
            self.say(f"validate: {text}")
            self.post_message(self.Stage(text))

        result = run_validation(self.ctx, cancel, stage)
        self.say(f"validation {'passed' if result.passed else 'FAILED'}")
        self.post_message(self.Validated(result.to_dict()))
        self.post_message(self.ReportWritten(*write_report(self.ctx)))

    @on(Button.Pressed, "#report")
    def _report(self) -> None:
        self.report()

    @work(thread=True, exclusive=True, exit_on_error=False, group="report", description="report")
    def report(self) -> None:
        self.post_message(self.ReportWritten(*write_report(self.ctx)))

    @on(Stage)
    def _stage(self, event: Stage) -> None:
        self.query_one("#progress", ProgressLine).advance(event.text)

    @on(Validated)
    def _validated(self, event: Validated) -> None:
        line = self.query_one("#progress", ProgressLine)
        if line.has_class("-running"):
            checks = event.result["checks"]
            passed = sum(1 for c in checks if c["status"] != "failed")
            line.finish("validated", passed, len(checks), "checks passed", failed=not event.result["passed"])
        self.show_checks(event.result["checks"], event.result["passed"])

    def show_checks(self, checks: list[dict], passed: bool) -> None:
        """The checks and the verdict."""
        self.query_one("#checks", Static).update(checks_text(checks))
        self.refresh_states()
        verdict = Text("✔ validation passed", style="bold green") if passed else Text("✘ validation failed")
        self.query_one("#reason", Static).update(verdict)

    @on(ReportWritten)
    def show_report(self, event: ReportWritten) -> None:
        """The report, rendered, and where it was saved."""
        self.query_one("#report-path", Static).update(Text(f"report saved: {event.path}", style="bold green"))
        self.query_one("#report-view", Markdown).update(event.markdown)
        self.say(f"report written: {event.path}")
