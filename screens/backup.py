"""Step 3: take the backup and verify it; the verified-backup gate holds Next until it passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from wizard.backup.files import human_bytes
from wizard.state.gates import GateResult

from .base import StepScreen
from .gate_panel import GatePanel
from .progress_line import ProgressLine
from .steps import backup_gate_now, take_and_verify, verify_only, verify_steps

if TYPE_CHECKING:
    from wizard.backup.take import BackupProgress
    from wizard.backup.verify import Verification, VerifyProgress

STEP_TITLES = {
    "list": "pg_restore --list reads the archive",
    "checksum": "size and sha256 as recorded",
    "restore": "restores into a scratch database",
    "match": "schema and row counts match",
}


def step_line(step: str, state: str, summary: str = "") -> Text:
    """One verification step: ○ waiting, ◐ running, ✔ passed, ✘ failed."""
    mark, style = {"waiting": ("○", "grey62"), "running": ("◐", "yellow"), "passed": ("✔", "bold green"),
                   "failed": ("✘", "bold red")}[state]  # fmt: skip
    return Text.assemble((f"{mark} ", style), (f"{step:<9}", "bold"), STEP_TITLES[step], (f"  {summary}", "italic"))


class BackupScreen(StepScreen):
    """pg_dump with a progress bar, then the four verification steps turning green one by one."""

    STEP = "backup"

    @dataclass
    class Dumped(Message):
        """pg_dump reported progress."""

        progress: BackupProgress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, BackupScreen.Dumped)

    @dataclass
    class Verifying(Message):
        """Verification reported progress."""

        progress: VerifyProgress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, BackupScreen.Verifying) and message.progress.step == self.progress.step

    @dataclass
    class Verified(Message):
        """Verification finished (passed or not), and the gate was evaluated."""

        verification: Verification
        gate: GateResult

    @dataclass
    class GateEvaluated(Message):
        """The verified-backup gate was evaluated."""

        gate: GateResult

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Take & verify backup (g)", id="take", variant="warning", compact=True)
            yield Button("Verify again", id="verify", compact=True)
        yield GatePanel("Gate: verified-backup", id="gate")
        yield Static("pg_dump --format=custom", classes="section-title")
        yield ProgressLine("not taken in this session", clock=self.ctx.monotonic, id="dump-progress")
        yield Static("", id="dump-detail", classes="muted")
        yield Static("Verification", classes="section-title")
        for step in verify_steps():
            yield Static(step_line(step, "waiting"), id=f"step-{step}")
        yield ProgressLine("not run in this session", clock=self.ctx.monotonic, id="verify-progress")

    def start(self) -> None:
        self.set_gate(None, waiting="evaluating the verified-backup gate…")
        self.evaluate()

    @work(thread=True, exclusive=True, exit_on_error=False, group="gate", description="verified-backup gate")
    def evaluate(self) -> None:
        self.post_message(self.GateEvaluated(backup_gate_now(self.ctx)))

    def action_go(self) -> None:
        if not any(w.is_running for w in self.workers):
            self.run_backup()

    @on(Button.Pressed, "#take")
    def _take(self) -> None:
        self.action_go()

    @on(Button.Pressed, "#verify")
    def _verify(self) -> None:
        self.run_backup(take=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="backup", description="backup and verification")
    def run_backup(self, take: bool = True) -> None:
        """pg_dump (unless ``take`` is False), verify, evaluate the gate; cancellable."""
        cancel = self.new_cancel_event()
        self.app.call_from_thread(self._reset, take)
        if take:
            verification, gate = take_and_verify(self.ctx, self.post_dumped, self.post_verifying, cancel, self.say)
        else:
            verification, gate = verify_only(self.ctx, self.post_verifying, cancel, self.say)
        self.post_message(self.Verified(verification, gate))

    def post_dumped(self, progress: BackupProgress) -> None:
        self.post_message(self.Dumped(progress))

    def post_verifying(self, progress: VerifyProgress) -> None:
        self.post_message(self.Verifying(progress))

    def _reset(self, take: bool) -> None:
        for step in verify_steps():
            self.query_one(f"#step-{step}", Static).update(step_line(step, "waiting"))
        if take:
            self.query_one("#dump-progress", ProgressLine).begin("starting pg_dump…")
            self.query_one("#dump-detail", Static).update("")
        self.query_one("#verify-progress", ProgressLine).begin("waiting for the backup" if take else "starting…")
        self.set_gate(None, waiting="backup running…")

    @on(Dumped)
    def show_dump(self, event: Dumped) -> None:
        p = event.progress
        line = self.query_one("#dump-progress", ProgressLine)
        if p.tables_total:
            line.advance(p.phase, p.tables_done, p.tables_total, "tables")
        else:  # hashing: the tables' counts stay on screen
            line.advance(p.phase, line.done, line.total, line.unit)
        detail = human_bytes(p.bytes_written) + (f", {p.current}" if p.current else "")
        self.query_one("#dump-detail", Static).update(detail)

    @on(Verifying)
    def show_verifying(self, event: Verifying) -> None:
        p = event.progress
        index = verify_steps().index(p.step) if p.step in verify_steps() else 0
        for earlier in verify_steps()[:index]:  # a step starts only after the one before it passed
            self.query_one(f"#step-{earlier}", Static).update(step_line(earlier, "passed"))
        self.query_one(f"#step-{p.step}", Static).update(step_line(p.step, "running", p.detail))
        dump = self.query_one("#dump-progress", ProgressLine)
        if dump.has_class("-running"):
            dump.finish("written")
        self.query_one("#verify-progress", ProgressLine).advance(
            f"{p.step} (step {index + 1} of {len(verify_steps())})", p.done, p.total or None
        )

    @on(Verified)
    def show_verified(self, event: Verified) -> None:
        """Each step with its verdict and evidence summary, then the gate."""
        dump = self.query_one("#dump-progress", ProgressLine)
        if dump.has_class("-running"):
            dump.finish("written")
        record = event.verification.record
        self.query_one("#dump-detail", Static).update(
            f"{record.path}: {human_bytes(record.size)}, sha256 {record.sha256[:12]}…, {record.total_rows} rows"
        )
        done = {s.step: s for s in event.verification.steps}
        for step in verify_steps():
            result = done.get(step)
            state = "waiting" if result is None else "passed" if result.passed else "failed"
            self.query_one(f"#step-{step}", Static).update(step_line(step, state, result.summary if result else ""))
        passed = sum(1 for s in event.verification.steps if s.passed)
        total = len(verify_steps())
        verdict = "verified" if passed == total else "not verified"
        self.query_one("#verify-progress", ProgressLine).finish(verdict, passed, total, "steps", failed=passed < total)
        self.show_gate(event.gate)

    @on(GateEvaluated)
    def _gate_evaluated(self, event: GateEvaluated) -> None:
        self.show_gate(event.gate)

    def show_gate(self, gate: GateResult) -> None:
        """The gate panel and the Next button follow the verified-backup gate."""
        self.query_one("#gate", GatePanel).show([gate])
        self.set_gate(gate)

    def worker_failed(self, worker) -> None:
        self.set_gate(None, waiting="the last run failed: see the error; take the backup again (g)")
        self.evaluate()
