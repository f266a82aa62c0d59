"""The help screen: the protocol in one page, and the keys."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# Consolidation wizard

Replaces a long migration history by **one baseline** taken from the real database,
following the *Safe Consolidation Protocol*. Rehearse on **staging** first: a production
target is refused until a staging run went all the way through validation.

| step | what happens |
|---|---|
| Target | choose a target; see its identity (host, database, version, system identifier) |
| Pre-flight | git clean, tests pass, files parse, history table; tick "team notified" |
| Backup | `pg_dump`, then verify: list, checksum, restore, match |
| 1 Export & check | inventory, migration files, drift of the history vs the target |
| 2 Baseline | generate the baseline, apply it to a scratch database, parity 100 % |
| 3 Archive | move the superseded files to the archive folder, with a manifest |
| 4 Record | the only write: the baseline's version in the history table |
| Validate & report | post-execution checks, then the Markdown report |

Every action is journaled in `.consolidate/<target>/journal.jsonl`; the wizard
resumes where the journal says.

## Keys

| key | action |
|---|---|
| `n` / `b` | next / back (Next is disabled until the step's gate holds) |
| `g` | run the step's main action |
| `x` | cancel running work (the journal stays consistent) |
| `r` | rollbacks that apply now |
| `d` | the screen's gates in full: whole reasons, paths and evidence |
| `tab` / `shift+tab` | every control in turn, below the fold included |
| `l` | show or hide the log |
| `ctrl+p` | command palette |
| `?` | this help |
| `q` | quit (the journal keeps your place) |
"""


class HelpScreen(ModalScreen[None]):
    """Protocol summary and key bindings; any of escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; height: 90%; border: thick $primary; background: $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
