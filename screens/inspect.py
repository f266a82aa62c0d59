"""Step 4, Phase 1: the target's inventory filling in live, its migration files, and the drift."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, ProgressBar, Static

from wizard.parity.diff import Difference
from wizard.state.gates import GateResult

from . import table_rows
from .base import StepScreen
from .context import WizardContext
from .steps import Phase1Result, phase_done, run_inspect
from .views import STATUS_WORDS, counts_table, difference_detail, statement_warnings, warm_sql_highlighting

#: Rows the drift table shows; thousands of rows would freeze the event loop while they are added.
MAX_DRIFT_ROWS = 200
#: Seconds between two row-counting progress messages: each redraws the counts, and a table is
#: counted in a millisecond or two.
PROGRESS_PERIOD_S = 0.2


class InspectScreen(StepScreen):
    """Inventory, files, history and drift; journaled as Phase 1 evidence."""

    STEP = "inspect"

    @dataclass
    class KindRead(Message):
        """The catalog reader moved on to another object kind."""

        kind: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, InspectScreen.KindRead)

    @dataclass
    class CountsMeasured(Message):
        """Headline counts measured so far (``None``: not yet)."""

        counts: dict[str, int | None]

    @dataclass
    class RowsCounted(Message):
        """Row counting reached table ``done`` of ``total``."""

        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, InspectScreen.RowsCounted)

    @dataclass
    class Finished(Message):
        """Phase 1 finished and was journaled; ``gate``: Next's gate, read in the same worker (or None)."""

        result: Phase1Result
        gate: GateResult | None = None

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__(ctx)
        self.counts: dict[str, int | None] = {}
        self.differences: list[Difference] = []
        self.against: dict | None = None
        self.detail_index: int | None = None
        """The difference the detail pane shows."""

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button("Run Phase 1 (g)", id="run", variant="primary", compact=True)
        yield Static("Inventory of the target", classes="section-title")
        yield Static(counts_table({}), id="counts")
        yield ProgressBar(total=1, id="rows-bar", show_eta=False)
        yield Static("Migration files", classes="section-title")
        files: DataTable[str | Text] = DataTable(id="files", cursor_type="row", zebra_stripes=True)
        files.add_columns("version", "name", "stmts", "warnings")
        yield files
        yield Static("", id="warnings")
        yield Static("", id="history")
        yield Static("Drift: history vs target", classes="section-title")
        drift: DataTable[str] = DataTable(id="drift", cursor_type="row")
        drift.add_columns("kind", "object", "difference")
        yield drift
        yield Static("", id="detail")

    def start(self) -> None:
        self.check_phase("inspect")

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect", description="Phase 1")
    def run(self) -> None:
        """Inventory, files, history, drift; cancellable between tables and between files."""
        cancel = self.new_cancel_event()

        def on_kind(kind: str) -> None:
            self.post_message(self.KindRead(kind))

        def on_counts(counts: dict[str, int | None]) -> None:
            self.post_message(self.CountsMeasured(dict(counts)))

        posted = [0.0]

        def on_rows(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - posted[0] >= PROGRESS_PERIOD_S:
                posted[0] = now
                self.post_message(self.RowsCounted(done, total))

        result = run_inspect(
            self.ctx,
            on_kind=on_kind,
            on_counts=on_counts,
            on_rows=on_rows,
            cancel=cancel,
            say=self.say,
        )
        warm_sql_highlighting()  # the result shows reconciling SQL; its first highlight would stall the event loop
        # The gate comes with the result: both are drawn in one frame, one layout pass instead of two.
        gate = phase_done(self.ctx, "inspect") if self.ctx.autostart else None
        self.post_message(self.Finished(result, gate))

    @on(KindRead)
    def _kind_read(self, event: KindRead) -> None:
        self.update_counts(counts_table(self.counts, event.kind))

    def update_counts(self, table: Table) -> None:
        """Redraw the counts in place: always seven lines, so the screen's layout stays as it is."""
        self.query_one("#counts", Static).update(table, layout=False)

    @on(CountsMeasured)
    def _counts(self, event: CountsMeasured) -> None:
        self.show_counts(event.counts)

    def show_counts(self, counts: dict[str, int | None]) -> None:
        """Render the headline counts measured so far."""
        self.counts = counts
        self.update_counts(counts_table(counts))

    @on(RowsCounted)
    def _rows(self, event: RowsCounted) -> None:
        self.update_counts(counts_table(self.counts, rows_progress=(event.done, event.total)))
        self.query_one("#rows-bar", ProgressBar).update(total=event.total, progress=event.done)

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self.show_result(event.result)
        if event.gate is not None:
            self.set_gate(event.gate)

    def show_result(self, result: Phase1Result) -> None:
        """Render every finding of Phase 1 and re-evaluate Next."""
        self.show_counts(dict(result.headline))
        bar = self.query_one("#rows-bar", ProgressBar)
        bar.update(total=max(len(result.inventory.row_counts), 1), progress=max(len(result.inventory.row_counts), 1))
        self.show_files(result)
        self.show_drift(result)

    def show_files(self, result: Phase1Result) -> None:
        files = self.query_one("#files", DataTable)
        table_rows.clear(files)
        warnings = self.query_one("#warnings", Static)
        if result.mset is None:
            warnings.update(Text(result.files_error or "no migration files", style="bold red"))
        else:
            rows = []
            for f in result.mset.files:
                notes = f.error or (f"{len(f.data_statements)} data" if f.data_statements else "")
                rows.append((f.version, f.name, str(len(f.statements)), Text(notes, style="yellow" if notes else "")))
            table_rows.fill(files, rows)
            found = statement_warnings(result.mset)
            warnings.update(
                Text("\n".join(f"⚠ {w}" for w in found), style="yellow")
                if found
                else Text("no data statements: a schema-only baseline drops nothing", style="green")
            )
        history = self.query_one("#history", Static)
        if result.history is None:
            history.update(Text(result.history_error or "", style="bold red"))
        else:
            h = result.history
            style = "green" if h.in_sync else "yellow"
            history.update(
                Text(
                    f"remote history: {len(h.applied)} applied; applied but not local: "
                    f"{', '.join(h.applied_not_local) or 'none'}; local not applied: "
                    f"{', '.join(h.local_not_applied) or 'none'}",
                    style=style,
                )
            )

    def show_drift(self, result: Phase1Result) -> None:
        drift = self.query_one("#drift", DataTable)
        table_rows.clear(drift)
        detail = self.query_one("#detail", Static)
        report = result.drift
        self.differences = list(report.parity.differences) if report and report.parity else []
        if report is None:
            detail.update(Text(f"drift not checked: {result.drift_error}", style="bold red"))
            return
        self.against = result.against
        history = "the baseline" if self.against else "the history"
        if report.parity is None:
            failure = report.replay.failure.describe() if report.replay.failure else "the replay was cancelled"
            detail.update(Text(f"{history} does not replay: {failure}", style="bold red"))
            return
        self.show_differences(self.differences)

    def against_sentence(self) -> Text | None:
        """One sentence when the drift compared the target with the baseline (the old files archived elsewhere)."""
        if not self.against:
            return None
        return Text(
            f"Compared with the baseline {self.against['baseline']}: its {self.against['archived']} old file(s) "
            "were already archived by another target's Phase 3, so the folder replays the baseline alone.",
            style="cyan",
        )

    def show_detail(self, index: int) -> None:
        """The highlighted difference's explanation and reconciling SQL (after the baseline sentence)."""
        sentence = self.against_sentence()
        if 0 <= index < len(self.differences):
            shown: Group | Text = difference_detail(self.differences[index])
        else:
            shown = Text("no drift: the baseline builds exactly the target", style="green")
        self.detail_index = index
        self.query_one("#detail", Static).update(Group(sentence, shown) if sentence else shown)

    def show_differences(self, differences: list[Difference]) -> None:
        """The drift table and the first difference's reconciling SQL."""
        self.differences = list(differences)
        drift = self.query_one("#drift", DataTable)
        detail = self.query_one("#detail", Static)
        table_rows.clear(drift)
        if not self.differences:
            if self.against:
                self.show_detail(-1)
            else:
                detail.update(Text("no drift: the history builds exactly the target", style="green"))
            return
        shown = self.differences[:MAX_DRIFT_ROWS]
        rows = [(d.kind, d.name, STATUS_WORDS.get(d.status, d.status)) for d in shown]
        if len(self.differences) > len(shown):
            more = len(self.differences) - len(shown)
            rows.append(("…", f"{more} more: consolidate drift --json lists them all", ""))
        table_rows.fill(drift, rows)
        self.differences = shown
        self.show_detail(0)

    @on(DataTable.RowHighlighted, "#drift")
    def _difference_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The table highlights its first row once filled: already shown, and a redraw costs a layout pass.
        if 0 <= event.cursor_row < len(self.differences) and event.cursor_row != self.detail_index:
            self.show_detail(event.cursor_row)
