"""A progress line for long steps: a bar, the stage, ``n/N`` and the elapsed time (``12.3 s``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import ProgressBar, Static

#: ``3/14`` in an engine's progress line ("replay 3/14: …", "timing round 2/3"); not part of a path or a date.
_COUNT = re.compile(r"(?<![\w/.])(\d+)/(\d+)(?![\w/])")
TICK_S = 0.1


def counts_in(text: str) -> tuple[int, int] | None:
    """The first ``done/total`` an engine progress line carries, if any."""
    found = _COUNT.search(text)
    if found is None:
        return None
    done, total = int(found.group(1)), int(found.group(2))
    return (done, total) if 0 <= done <= total and total > 0 else None


def figures_text(done: int | None, total: int | None, seconds: float | None, unit: str = "") -> str:
    """``n/N unit · 12.3 s`` (the parts that are known)."""
    parts = []
    if total:
        parts.append(f"{done or 0}/{total}" + (f" {unit}" if unit else ""))
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    return " · ".join(parts)


def progress_text(stage: str, done: int | None, total: int | None, seconds: float | None, unit: str = "") -> str:
    """``n/N unit · 12.3 s · stage``: the figures first, so a narrow terminal cuts the stage, not them."""
    return " · ".join(part for part in (figures_text(done, total, seconds, unit), stage) if part)


class ProgressLine(Horizontal):
    """A bar and a label that keeps the elapsed time ticking while the step runs.

    :meth:`begin` starts the clock, :meth:`advance` reports a stage and its counts (any number of
    times), :meth:`finish` stops the clock and keeps the last counts and the total time on screen.
    """

    DEFAULT_CSS = """
    ProgressLine { height: 1; width: 100%; }
    ProgressLine ProgressBar { width: 18; height: 1; }
    ProgressLine ProgressBar Bar { width: 16; }
    ProgressLine #figures { width: auto; height: 1; padding-left: 1; text-style: bold; }
    ProgressLine #stage {
        width: 1fr; height: 1; padding-left: 2; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ProgressLine.-running #stage { color: $foreground; }
    ProgressLine.-failed #stage, ProgressLine.-failed #figures { color: $error; }
    """

    def __init__(self, idle: str = "", *, clock: Callable[[], float] = time.monotonic, id: str | None = None) -> None:
        """Args:
        idle: What the label says before the step ran.
        clock: Seconds from a monotonic clock (tests pass a fixed one).
        """
        super().__init__(id=id)
        self.idle = idle
        self.clock = clock
        self.started: float | None = None
        self.seconds: float | None = None
        self.stage = ""
        self.done: int | None = None
        self.total: int | None = None
        self.unit = ""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, show_percentage=False)
        yield Static("", id="figures", markup=False)
        yield Static(self.idle, id="stage", markup=False)

    @property
    def label(self) -> str:
        """What the line says now (figures, then stage)."""
        return progress_text(self.stage, self.done, self.total, self.seconds, self.unit)

    def begin(self, stage: str = "starting…") -> None:
        """Start the clock (again) at zero."""
        self.started = self.clock()
        self.seconds = 0.0
        self.stage, self.done, self.total, self.unit = stage, None, None, ""
        self.set_class(True, "-running")
        self.set_class(False, "-failed")
        if self._timer is None:
            self._timer = self.set_interval(TICK_S, self._tick)
        else:
            self._timer.resume()
        self._show()

    def advance(self, stage: str, done: int | None = None, total: int | None = None, unit: str = "") -> None:
        """Report a stage; ``done``/``total`` when known, else the counts the stage's text carries."""
        if self.started is None or not self.has_class("-running"):
            self.begin(stage)
        if total is None and (found := counts_in(stage)) is not None:
            done, total = found
        self.stage = stage
        # Counts belong to their stage: a stage without any shows none (the bar pulses).
        self.done, self.total, self.unit = (done, total, unit) if total else (None, None, "")
        self._tick()

    def finish(
        self,
        stage: str = "done",
        done: int | None = None,
        total: int | None = None,
        unit: str = "",
        *,
        failed: bool = False,
    ) -> None:
        """Stop the clock; the counts (the last ones, or ``done``/``total``) and the time taken stay on screen."""
        if self.started is not None:
            self.seconds = self.clock() - self.started
        if self._timer is not None:
            self._timer.pause()
        self.stage = stage
        if total is not None:
            self.done, self.total, self.unit = done, total, unit
        elif self.total and not failed:
            self.done = self.total
        self.set_class(False, "-running")
        self.set_class(failed, "-failed")
        self._show()

    def _tick(self) -> None:
        if self.started is not None and self.has_class("-running"):
            self.seconds = self.clock() - self.started
        self._show()

    def _show(self) -> None:
        bar = self.query_one(ProgressBar)
        if self.total:
            bar.update(total=self.total, progress=self.done or 0)
        elif self.has_class("-running"):
            bar.update(total=None)
        else:
            bar.update(total=1, progress=1 if self.seconds is not None else 0)
        figures = figures_text(self.done, self.total, self.seconds, self.unit)
        self.query_one("#figures", Static).update(figures)
        self.query_one("#figures", Static).display = bool(figures)
        self.query_one("#stage", Static).update(self.stage)
