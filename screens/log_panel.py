"""The log panel: what ran, from the shared :class:`~screens.context.LogBook`."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.message import Message
from textual.widgets import RichLog

from .context import LogBook


class LogPanel(RichLog):
    """Shows the log book's lines and follows new ones, whichever thread adds them."""

    DEFAULT_CSS = """
    LogPanel {
        height: 4; border-top: hkey $panel-lighten-1; background: $surface; color: $text-muted;
        scrollbar-size-vertical: 1; overflow-x: hidden;
    }
    LogPanel.-hidden { display: none; }
    """

    @dataclass
    class LineAdded(Message):
        """A line was added to the log book."""

        line: str

    def __init__(self, book: LogBook, *, id: str | None = "log") -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, min_width=20, max_lines=2000)
        self.book = book

    def on_mount(self) -> None:
        for line in self.book.lines:
            self.write(line)
        self.book.subscribe(self._follow)

    @on(events.Resize)
    def _keep_newest_in_view(self, _event: events.Resize) -> None:
        # A narrower log wraps into more lines; keep the newest in view (RichLog follows only on write).
        self.scroll_end(animate=False, immediate=False)

    def on_unmount(self) -> None:
        self.book.unsubscribe(self._follow)

    def _follow(self, line: str) -> None:
        self.post_message(self.LineAdded(line))  # post_message is thread-safe

    @on(LineAdded)
    def _write_line(self, event: LineAdded) -> None:
        event.stop()
        self.write(event.line)
