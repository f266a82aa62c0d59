"""Filling a DataTable with many rows without freezing the event loop.

A DataTable measures every new cell on the event loop: 170 rows take about 50 ms of it, 1,000 rows
over 150 ms. A table of up to :data:`ROW_BATCH` rows is filled at once; a longer one from a thread
worker of the table's own (its state changes stay with the table, not the screen), a batch per
event-loop turn (``App.call_from_thread``), so that no turn measures more.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable
from textual.worker import Worker, get_current_worker

#: Rows added in one event-loop turn.
ROW_BATCH = 40
#: The worker group of a table's fill (one per table: a new fill cancels the previous one).
GROUP = "table-rows"

Row = Sequence[object]


def clear(table: DataTable) -> None:
    """Empty ``table`` and stop its fill in progress: none of that fill's batches lands after this."""
    table.workers.cancel_group(table, GROUP)
    table.clear()


def fill(table: DataTable, rows: Sequence[Row]) -> None:
    """Add ``rows`` to ``table`` (emptied with :func:`clear`), a batch per turn when there are many."""
    if len(rows) <= ROW_BATCH:
        table.add_rows(rows)
        return
    table.run_worker(
        lambda: _add_in_batches(table, rows),
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=GROUP,
        description=f"rows of #{table.id}",
    )


def _add_in_batches(table: DataTable, rows: Sequence[Row]) -> None:
    worker = get_current_worker()
    for start in range(0, len(rows), ROW_BATCH):
        if worker.is_cancelled:
            return
        table.app.call_from_thread(_add_batch, worker, table, rows[start : start + ROW_BATCH])


def _add_batch(worker: Worker, table: DataTable, batch: Sequence[Row]) -> None:
    if not worker.is_cancelled:  # checked on the event loop: a clear that cancelled the fill came first
        table.add_rows(batch)
