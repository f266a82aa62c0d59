"""Benchmark the command line's start-up: how long ``consolidate --version`` takes, cold process to exit.

Each measurement runs a fresh process ``--repeat`` times (default 10) and reports the median
and the spread (min-max). Measured:

1. ``python -c pass``: the interpreter alone, the floor nothing can go under;
2. ``consolidate --version`` through the console script (:func:`screens.main.entry`): the goal,
   within 0.25 s;
3. ``consolidate status --help`` and ``consolidate compare --help``: a subcommand's parser;
4. the modules ``--version``, ``status --json`` and ``compare --json`` load (``textual``,
   ``pglast``, ``rich.table`` should be absent), from ``sys.modules`` after each run.

Usage::

    .venv/bin/python bench/startup.py              # 10 runs each
    .venv/bin/python bench/startup.py --repeat 3   # smoke run

Prints each measurement, the median's ratio to the goal and ``GOAL MET`` or ``GOAL MISSED``;
exits 0 either way. ``python -X importtime -c "from wizard.cli import main"`` shows where the
time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.25
HEAVY = ("textual", "pglast", "rich.table", "rich.syntax", "psycopg", "questionary")

# Runs the CLI in-process, then prints which heavy modules it loaded (after a SystemExit, too).
_PROBE = """
import sys
from screens.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED", ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def timed(argvs: list[list[str]], repeat: int) -> list[list[float]]:
    """Wall-clock seconds of ``repeat`` fresh runs of each of ``argvs``, interleaved.

    Interleaving spreads the load of a shared machine evenly over the commands compared.
    """
    times: list[list[float]] = [[] for _ in argvs]
    for _ in range(repeat):
        for argv, runs in zip(argvs, times, strict=True):
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            runs.append(time.perf_counter() - start)
    return times


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s, spread {min(times):.3f}-{max(times):.3f} s (n={len(times)})"


def loaded(args: list[str], cwd: Path) -> str:
    """The heavy modules ``consolidate ARGS`` imports."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED")), "LOADED ?")
    return line.partition(" ")[2] or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="fresh processes per measurement (default 10)")
    args = parser.parse_args()
    script = shutil.which("consolidate", path=str(Path(sys.executable).parent)) or shutil.which("consolidate")
    if script is None:
        print("the consolidate console script is not installed (pip install -e .)", file=sys.stderr)
        return 2
    print(f"python: {sys.version.split()[0]}, {os.cpu_count()} CPU(s); script: {script}")
    floor, version, status_help, compare_help = timed(
        [
            [sys.executable, "-c", "pass"],
            [script, "--version"],
            [script, "status", "--help"],
            [script, "compare", "--help"],
        ],
        args.repeat,
    )
    print(f"python -c pass:              {describe(floor)}")
    print(f"consolidate --version:       {describe(version)}")
    print(f"consolidate status --help:   {describe(status_help)}")
    print(f"consolidate compare --help:  {describe(compare_help)}")
    with tempfile.TemporaryDirectory() as tmp:  # no consolidate.toml: status stops at loading the config
        probes = {
            "--version": ["--version"],
            "status --json": ["status", "--json", "--project", tmp],
            "compare --json": ["compare", "host=/nonexistent dbname=a", "host=/nonexistent dbname=b", "--json"],
        }
        for name, probe in probes.items():
            print(f"heavy modules loaded by {name}: {loaded(probe, Path(tmp))}")
    median = statistics.median(version)
    ratio = median / GOAL_S
    verdict = "GOAL MET" if median <= GOAL_S else "GOAL MISSED"
    over = median - statistics.median(floor)
    print(f"consolidate --version: {over:.3f} s over the interpreter's own start-up")
    print(f"consolidate --version: median {median:.3f} s / goal {GOAL_S:.2f} s = {ratio:.2f}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
