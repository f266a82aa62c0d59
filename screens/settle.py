"""Waiting for the app to be still, for code that drives it with Textual's Pilot (tests, docs/screenshots.py)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot, attempts: int = 50) -> None:
    """Let every worker finish and every message be handled.

    An exclusive worker superseded by a newer one of its group (the stepper's refresh) ends
    cancelled: that is how it is meant to end, so it does not fail the wait.
    """
    for _ in range(3):
        await pilot.pause()
        for _attempt in range(attempts):
            try:
                await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if not w.is_cancelled])
                break
            except WorkerCancelled:
                continue
    await pilot.pause()
