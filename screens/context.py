"""The shared, frozen state every screen receives in its constructor (no screen reads ``self.app``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from wizard.errors import WizardError
from wizard.project.config import Config, Target
from wizard.state.journal import Journal


def wall_clock() -> str:
    """Local time for log lines."""
    return time.strftime("%H:%M:%S")


@dataclass
class LogBook:
    """What ran, in order: the log panel of every screen shows the same book.

    Lines may be added from worker threads; listeners are called with each new line (the
    log panel marshals them onto the event loop).
    """

    clock: Callable[[], str] = wall_clock
    lines: list[str] = field(default_factory=list)
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, text: str) -> str:
        """Record ``text``; returns the stamped line."""
        line = f"{self.clock()} {text}"
        with self._lock:
            self.lines.append(line)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(line)
        return line

    def subscribe(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


@dataclass(frozen=True)
class WizardContext:
    """Configuration, chosen target and its journal, and the log book.

    Attributes:
        config: The project's parsed consolidate.toml.
        target: The chosen target (None on the target screen).
        journal: The chosen target's journal.
        log: Shared log of what ran.
        autostart: Screens start their read-only work on mount (False in snapshot tests,
            which feed screens fixed data instead).
        monotonic: Seconds for the elapsed times of long steps (snapshot tests fix it).
    """

    config: Config
    target: Target | None = None
    journal: Journal | None = None
    log: LogBook = field(default_factory=LogBook, compare=False)
    autostart: bool = True
    monotonic: Callable[[], float] = field(default=time.monotonic, compare=False)

    def with_target(self, target: Target) -> WizardContext:
        """The same context with ``target`` chosen and its journal opened."""
        return replace(self, target=target, journal=Journal.for_target(self.config.state_dir, target.name))

    @property
    def chosen(self) -> Target:
        """The chosen target.

        Raises:
            WizardError: no target has been chosen yet.
        """
        if self.target is None:
            raise WizardError("no target chosen", "choose a target on the first screen")
        return self.target

    @property
    def the_journal(self) -> Journal:
        """The chosen target's journal."""
        if self.journal is None:
            return Journal.for_target(self.config.state_dir, self.chosen.name)
        return self.journal
