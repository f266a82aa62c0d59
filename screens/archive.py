"""Step 6, Phase 3: the files that will move to the archive folder, then moved, with the manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from .base import StepScreen
from .confirm import ConfirmModal
from .context import WizardContext
from .progress_line import ProgressLine
from .steps import ArchiveView, archive_view, run_archive

if TYPE_CHECKING:
    from wizard.archive.phase import ArchivePlan, ArchiveResult


class ArchiveScreen(StepScreen):
    """Archive the superseded migrations (``git mv`` inside a work tree) and write the manifest."""

    STEP = "archive"

    @dataclass
    class Planned(Message):
        """The archive plan was read, with this target's Phase 3 state."""

        view: ArchiveView

    @dataclass
    class Moving(Message):
        """Phase 3 moved on (``done`` of ``total`` files moved)."""

        text: str
        done: int
        total: int

    @dataclass
    class Archived(Message):
        """The files were moved and the manifest written."""

        view: ArchiveView
        result: ArchiveResult

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__(ctx)
        self.plan: ArchivePlan | None = None
        self.view: ArchiveView | None = None

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Archive files (g)", id="run", variant="warning", compact=True, disabled=True)
        yield Static("", id="summary")
        yield Static("", id="problems")  # above the files: what stands in the way, or who archived them
        yield ProgressLine("not run in this session", clock=self.ctx.monotonic, id="progress")
        table: DataTable[str | Text] = DataTable(id="files", cursor_type="row", zebra_stripes=True)
        table.add_columns("version", "file", "sha256", "state")
        yield table
        yield Static("Manifest", classes="section-title")
        yield Static(Text("written when the files move", style="grey62"), id="manifest")

    def start(self) -> None:
        self.check_phase("archive")
        self.load_plan()

    @work(thread=True, exclusive=True, exit_on_error=False, group="archive", description="archive plan")
    def load_plan(self) -> None:
        self.post_message(self.Planned(archive_view(self.ctx)))

    @on(Planned)
    def _planned(self, event: Planned) -> None:
        self.show_plan(event.view.plan, event.view)

    def show_plan(self, plan: ArchivePlan, view: ArchiveView | None = None) -> None:
        """The files, where each one is, and why archiving would be refused.

        ``view`` (this target's Phase 3 state): when another target already archived every file,
        one sentence says so and Run records that evidence for this target.
        """
        self.plan, self.view = plan, view
        table = self.query_one("#files", DataTable)
        table.clear()
        for item in plan.items:
            state = Text("archived", style="green") if item.moved else Text("to move", style="yellow")
            table.add_row(item.version, item.name, item.sha256[:10] + "…", state)
        where = os.path.relpath(plan.archive_dir, plan.root)
        how = "git mv (inside a git work tree)" if plan.git else "rename (not a git work tree)"
        self.query_one("#summary", Static).update(
            f"{len(plan.pending)} of {len(plan.items)} file(s) to move to {where} by {how}; "
            f"baseline {plan.baseline.filename} stays"
        )
        problems = self.query_one("#problems", Static)
        evidence_only = view is not None and view.evidence_only
        if plan.problems:
            problems.update(Text("\n".join(f"✘ {p}" for p in plan.problems), style="bold red"))
        elif evidence_only:
            assert view is not None
            who = f"{view.archived_by}'s Phase 3" if view.archived_by else "an earlier run"
            problems.update(
                Text(
                    f"All {len(plan.items)} file(s) were already archived by {who} (the archive folder is shared): "
                    f"Run (g) records that evidence for {self.ctx.chosen.name}; nothing moves.",
                    style="cyan",
                )
            )
        elif view is not None and view.done and view.archived_by and not plan.pending:
            problems.update(
                Text(
                    f"Recorded for {self.ctx.chosen.name}: the {len(plan.items)} file(s) were archived by "
                    f"{view.archived_by}'s Phase 3 (the archive folder is shared).",
                    style="cyan",
                )
            )
        else:
            problems.update(Text("✔ nothing stands in the way", style="green") if plan.pending else "")
        run = self.query_one("#run", Button)
        run.label = "Record the archive (g)" if evidence_only else "Archive files (g)"
        run.disabled = bool(plan.problems) or not (plan.pending or evidence_only)
        if plan.manifest_path.exists():
            self.show_manifest(plan)

    def show_manifest(self, plan: ArchivePlan) -> None:
        text = plan.manifest_path.read_text(encoding="utf-8") if plan.manifest_path.exists() else ""
        where = os.path.relpath(plan.manifest_path, plan.root)
        self.query_one("#manifest", Static).update(Text(f"{where}\n{text}"))

    def action_go(self) -> None:
        button = self.query_one("#run", Button)
        if button.disabled or any(w.is_running for w in self.workers):
            return
        count = len(self.plan.pending) if self.plan else 0
        question = f"Move {count} migration file(s) to the archive folder and write the manifest?"
        if self.view is not None and self.view.evidence_only:
            question = (
                f"Record that the {len(self.view.plan.items)} file(s) are already archived "
                f"(manifest checked) for {self.ctx.chosen.name}? Nothing moves."
            )
        self.app.push_screen(ConfirmModal(question), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self.run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="archive", description="Phase 3")
    def run(self) -> None:
        total = len(self.plan.pending) if self.plan else 0
        moved = 0

        def say(text: str) -> None:
            nonlocal moved
            self.say(f"Phase 3: {text}")
            moved += text.startswith("moving ")
            self.post_message(self.Moving(text, moved, total))

        self.app.call_from_thread(self.query_one("#progress", ProgressLine).begin, "planning")
        _plan, result = run_archive(self.ctx, say)
        assert result.manifest_sha256 is not None  # archive() always writes the manifest
        self.say(f"Phase 3: {len(result.moved_now)} file(s) moved; manifest sha256 {result.manifest_sha256[:12]}…")
        self.post_message(self.Archived(archive_view(self.ctx), result))

    @on(Moving)
    def _moving(self, event: Moving) -> None:
        self.query_one("#progress", ProgressLine).advance(event.text, event.done, event.total or None, "files")

    @on(Archived)
    def _archived(self, event: Archived) -> None:
        moved = len(event.result.moved_now)
        self.query_one("#progress", ProgressLine).finish(
            "archived" if moved else "evidence recorded", moved, len(event.view.plan.items), "files moved"
        )
        self.show_plan(event.view.plan, event.view)
        self.show_manifest(event.view.plan)
        self.check_phase("archive")
