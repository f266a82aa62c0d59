"""Run the project's own test command (``[project] test_command``): one runner for every caller.

The command runs through the shell in the project root, in its own process group so that a
timeout or a cancel stops everything it started; its output (stdout and stderr merged) is kept
as a tail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 40
TAIL_CHARS = 4000


@dataclass(frozen=True)
class TestRun:
    """How one run of the test command ended."""

    __test__ = False  # not a pytest test class

    command: str
    exit_code: int | None
    seconds: float
    timed_out: bool
    cancelled: bool
    output_tail: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled

    @property
    def last_line(self) -> str:
        return next((line.strip() for line in reversed(self.output_tail.splitlines()) if line.strip()), "")


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last ``lines`` lines of ``text``, at most ``chars`` characters."""
    kept = "\n".join(text.rstrip().splitlines()[-lines:])
    return kept[-chars:]


def run(
    command: str,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cancel: threading.Event | None = None,
) -> TestRun:
    """Run ``command`` until it exits, ``timeout`` seconds pass, or ``cancel`` is set."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    chunks: list[bytes] = []
    stdout = proc.stdout
    assert stdout is not None  # stdout=PIPE
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: stdout.read(8192), b"")), daemon=True)
    reader.start()
    timed_out = cancelled = False
    while proc.poll() is None:
        timed_out = time.monotonic() - started > timeout
        cancelled = cancel is not None and cancel.is_set()
        if timed_out or cancelled:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.05)
    reader.join(5)
    return TestRun(
        command=command,
        exit_code=proc.returncode,
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        cancelled=cancelled,
        output_tail=tail(b"".join(chunks).decode("utf-8", errors="replace")),
    )
