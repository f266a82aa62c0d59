"""The Textual wizard: one screen per step of the Safe Consolidation Protocol.

The app owns navigation only. State lives in the journal; each screen gets the frozen
:class:`~screens.context.WizardContext` in its constructor and asks the engine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import ClassVar

from platformdirs import user_downloads_path  # where Textual saves screenshots by default
from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from wizard.project import config as config_mod

from . import gc_pacing
from .base import RollbackRequested, StepRequested, StepScreen, TargetChosen
from .context import LogBook, WizardContext
from .steps import BY_KEY, STEPS, reachable, resume_step

__all__ = ["WizardApp", "WizardContext", "open_app"]

SWITCH_INTERVAL_S = 0.001

#: step key -> (module, screen class), imported when first shown (keeps cold start short).
SCREENS: dict[str, tuple[str, str]] = {
    "target": ("screens.target", "TargetScreen"),
    "checklist": ("screens.checklist", "ChecklistScreen"),
    "backup": ("screens.backup", "BackupScreen"),
    "inspect": ("screens.inspect", "InspectScreen"),
    "squash": ("screens.squash", "SquashScreen"),
    "archive": ("screens.archive", "ArchiveScreen"),
    "record": ("screens.record", "RecordScreen"),
    "validate": ("screens.validate", "ValidateScreen"),
}


def screen_class(step: str) -> type[StepScreen]:
    module, name = SCREENS[step]
    return getattr(import_module(module), name)


class WizardCommands(Provider):
    """Command palette: go to a step, rollbacks, help, log."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        assert isinstance(app, WizardApp)
        found: list[tuple[str, Callable[[], object], str]] = []
        for step in STEPS:
            if step.key == "target" or (app.ctx.target is not None and reachable(app.ctx, step.key)):
                found.append((f"Go to: {step.title}", partial(app.goto, step.key), "open this step's screen"))
        found += [
            ("Rollback…", app.action_rollback, "the rollbacks that apply to the current state"),
            ("Help", app.action_help, "the protocol and the keys"),
            ("Resume where the journal says", app.action_resume, "open the first step that is not done"),
        ]
        return found

    async def discover(self) -> Hits:
        for title, run, help_text in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


def screenshot_dir(ctx: WizardContext) -> Path:
    """The Downloads folder when it exists, else the project's ``.consolidate/screenshots`` (created)."""
    downloads = user_downloads_path()
    if downloads.is_dir():
        return downloads
    folder = ctx.config.state_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class WizardApp(App[None]):
    """The wizard. Start it with a context; it resumes the context's target where the journal says."""

    CSS_PATH = Path(__file__).with_name("wizard.tcss")  # absolute: subclasses live elsewhere (tests)
    TITLE = "consolidation wizard"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, ctx: WizardContext, *, start: str | None = None) -> None:
        """Args:
        ctx: Configuration (and possibly a chosen target).
        start: Open this step instead of where the journal says (snapshot tests).
        """
        super().__init__()
        self.ctx = ctx
        self.step = "target"
        self.start = start

    def on_mount(self) -> None:
        # Engine work runs in threads; a shorter GIL switch interval lets the event loop take the
        # GIL back quickly from a CPU-bound worker (fewer convoy stalls while drawing).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        gc_pacing.start()
        self.set_interval(gc_pacing.PERIOD_S, gc_pacing.pace)
        if self.start:
            self.goto(self.start, force=True)
        else:
            self.goto(resume_step(self.ctx) if self.ctx.target is not None else "target")

    def on_unmount(self) -> None:
        gc_pacing.release()

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """The palette's Screenshot, saved in :func:`screenshot_dir` unless ``path`` names a directory.

        Textual saves to the user's Downloads folder, and fails when there is none (a server, a
        container, a fresh account).
        """
        return super().deliver_screenshot(filename, path or str(screenshot_dir(self.ctx)), time_format)

    def make_screen(self, step: str) -> Screen:
        """A fresh screen for ``step`` (a fresh screen re-reads the journal)."""
        return screen_class(step)(self.ctx)

    def goto(self, step: str, *, force: bool = False) -> None:
        """Show ``step``'s screen, replacing the current step screen (``force``: even if not reachable yet)."""
        if not force and step != "target" and (self.ctx.target is None or not reachable(self.ctx, step)):
            self.notify(f"{BY_KEY[step].title} is not reachable yet: finish the steps before it", severity="warning")
            return
        self.step = step
        new = self.make_screen(step)
        while len(self.screen_stack) > 2:  # drop modals/rollback above the step screen
            self.pop_screen()
        if len(self.screen_stack) <= 1:
            self.push_screen(new)
        else:
            self.switch_screen(new)

    @on(StepRequested)
    def _step_requested(self, event: StepRequested) -> None:
        self.goto(event.step)

    @on(TargetChosen)
    def _target_chosen(self, event: TargetChosen) -> None:
        self.ctx = self.ctx.with_target(self.ctx.config.targets[event.name])
        self.ctx.log.add(f"target {event.name} chosen; resuming at {BY_KEY[resume_step(self.ctx)].title}")
        self.goto(resume_step(self.ctx))

    @on(RollbackRequested)
    def action_rollback(self) -> None:
        if self.ctx.target is None:
            self.notify("choose a target first", severity="warning")
            return
        from .rollback import RollbackScreen

        self.push_screen(RollbackScreen(self.ctx), callback=self._rolled_back)

    def _rolled_back(self, done: bool | None) -> None:
        """After a rollback ran, continue where the journal now says; after escape, stay."""
        if done:
            self.goto(resume_step(self.ctx))

    def action_help(self) -> None:
        from .help import HelpScreen  # Markdown is slow to import; not needed for the first screen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_resume(self) -> None:
        self.goto(resume_step(self.ctx))


def open_app(project: Path | str = ".", target: str | None = None, *, log: LogBook | None = None) -> int:
    """Load the project's configuration and run the wizard full screen; returns the exit code."""
    cfg = config_mod.load(project)
    ctx = WizardContext(cfg, log=log or LogBook())
    if target is not None:
        ctx = ctx.with_target(cfg.target(target))
    WizardApp(ctx).run()
    return 0
