"""Benchmark the wizard's responsiveness: cold start to the first screen, and event-loop stalls.

1. **Cold start**: a fresh ``python`` process imports the app, loads a project and shows the
   target screen (headless, 80x24); measured from before the process starts to the moment the
   first screen is mounted, median of ``--repeat`` runs. Goal: within 1.5 s.
2. **Stalls**: the Phase 1 screen runs on the large benchmark schema of ``bench/parity.py``
   (2,000 tables, 500 functions by default) while a ticker on the event loop wakes every 5 ms;
   the largest lateness of a tick is the longest the UI froze. The project's migration history
   holds the parity benchmark's schema B (100 statements a file), so the drift check replays
   the whole schema and finds its planted differences. Two windows: the **inventory** (from the start
   until the drift check begins) and the **drift** (from there until the result has been on
   screen for a second). Each window's largest stall per run, with the median, min and max
   over ``--runs`` runs. Goal: no stall over 50 ms in either window, in any run.

Usage::

    .venv/bin/python bench/ui.py                 # 2,000 tables, 500 functions
    .venv/bin/python bench/ui.py --tables 100 --functions 20 --repeat 1 --runs 1   # smoke run

Prints each measurement and ``GOAL MET`` or ``GOAL MISSED``; exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import parity as parity_bench  # noqa: E402  (bench/parity.py: the 2,000-table schema builder)

START_GOAL_S = 1.5
STALL_GOAL_MS = 50.0
TICK_S = 0.005
SETTLE_S = 1.0  # ticks kept once the worker has ended: the result is drawn meanwhile
DRIFT_BEGINS = "drift: replaying"  # the log line that closes the inventory window
ENV = "CW_BENCH_UI_DSN"
FILE_STATEMENTS = 100  # statements per migration file of the benchmark's history

_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from screens.app import WizardApp
    from screens.context import WizardContext
    from wizard.project import config

    async def main():
        app = WizardApp(WizardContext(config.load(sys.argv[1]), autostart=False))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert type(app.screen).__name__ == "TargetScreen"
            print("READY", flush=True)

    asyncio.run(main())
    """
)


def write_project(directory: Path, history: list[str]) -> Path:
    """A project whose one target is the benchmark database (through ``CW_BENCH_UI_DSN``).

    Its migration history holds the statements of ``history`` in order, :data:`FILE_STATEMENTS`
    to a file, as a long-lived project's history spreads them.
    """
    migrations = directory / "supabase" / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, len(history), FILE_STATEMENTS), start=1):
        chunk = history[start : start + FILE_STATEMENTS]
        (migrations / f"2024{number:010d}_bench_{number}.sql").write_text("".join(f"{stmt};\n" for stmt in chunk))
    (directory / "consolidate.toml").write_text(f'[targets.bench]\ndsn_env = "{ENV}"\nrole = "staging"\n')
    return directory


def cold_start(project: Path, repeat: int) -> list[float]:
    """Seconds from process start to the first screen, for each run."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(project)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        proc.wait()
        if line.strip() != "READY":
            raise SystemExit(f"the first screen did not appear (exit {proc.returncode})")
        times.append(elapsed)
    return times


@dataclass
class StallRun:
    """One run of Phase 1 on the big schema, as the event loop lived it."""

    inventory_ms: float
    drift_ms: float
    inventory_cpu_ms: float
    """The most CPU the event loop's own thread spent between two ticks (its own work, load aside)."""
    drift_cpu_ms: float
    seconds: float
    counts: dict[str, int | None]
    differences: int
    load: float
    """The machine's load average (1 minute) at the end of the run."""


async def stalls(project: Path, verbose: bool = False) -> StallRun:
    """Run Phase 1's worker on the big schema while a ticker measures how late the event loop wakes."""
    from screens.app import WizardApp
    from screens.context import LogBook, WizardContext
    from screens.inspect import InspectScreen
    from wizard.project import config

    cfg = config.load(project)
    origin = time.perf_counter()
    log = LogBook(clock=lambda: f"{time.perf_counter() - origin:7.2f}s")
    ctx = WizardContext(cfg, log=log).with_target(cfg.targets["bench"])
    app = WizardApp(ctx, start="inspect")
    # (when the tick began, how late it woke, the event loop thread's CPU seconds meanwhile), since origin
    ticks: list[tuple[float, float, float]] = []
    drift_begins = [float("inf")]

    def watch(line: str) -> None:
        if DRIFT_BEGINS in line:
            drift_begins[0] = min(drift_begins[0], time.perf_counter() - origin)

    log.subscribe(watch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        started = time.perf_counter()
        screen.run()
        await pilot.pause()
        settled: float | None = None
        while settled is None or time.perf_counter() < settled:
            if settled is None and not any(w.is_running for w in (*app.workers, *screen.workers)):
                settled = time.perf_counter() + SETTLE_S
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK_S)
            ticks.append((before - origin, time.perf_counter() - before - TICK_S, time.thread_time() - cpu))
        seconds = time.perf_counter() - started - SETTLE_S
        counts = dict(screen.counts)
        differences = len(screen.differences)
    if verbose:
        print("\n".join(log.lines))
        print(f"worst stall began at {max(ticks, key=lambda t: t[1])[0]:.2f}s" if ticks else "no tick")
        print(f"largest CPU burst began at {max(ticks, key=lambda t: t[2])[0]:.2f}s" if ticks else "no tick")
    windows = [[t for t in ticks if t[0] < drift_begins[0]], [t for t in ticks if t[0] >= drift_begins[0]]]
    (inventory, inventory_cpu), (drift, drift_cpu) = (
        (max((t[1] for t in w), default=0.0) * 1000, max((t[2] for t in w), default=0.0) * 1000) for w in windows
    )
    return StallRun(inventory, drift, inventory_cpu, drift_cpu, seconds, counts, differences, os.getloadavg()[0])


def spread(values: list[float]) -> str:
    """Median, min and max over the runs, then every run."""
    each = ", ".join(f"{v:.1f}" for v in values)
    return f"median {statistics.median(values):.1f} ms (min {min(values):.1f}, max {max(values):.1f}; runs: {each})"


def release_shadow(project: Path) -> None:
    """Stop the project's embedded shadow server (the drift's scratch databases) before its directory goes."""
    from wizard.platform import embedded
    from wizard.platform.shadow import embedded_root
    from wizard.project import config

    embedded.server(embedded_root(config.load(project))).release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="cold-start runs (median reported)")
    parser.add_argument("--runs", type=int, default=3, help="Phase 1 runs measured for stalls")
    parser.add_argument("--dsn", help="an admin DSN of a server to build on (default: a throwaway embedded one)")
    args = parser.parse_args(argv)
    verbose = bool(os.environ.get("CW_BENCH_UI_VERBOSE"))

    with tempfile.TemporaryDirectory(prefix="cw-bench-ui-") as tmp:
        workdir = Path(tmp)
        layout = parity_bench.Layout(args.tables, args.functions)
        project = write_project(workdir / "project", parity_bench.schema_b(layout))
        with parity_bench.databases(args.dsn, workdir, keep=False) as dbs:
            print(f"server: {dbs.server}")
            t0 = time.perf_counter()
            parity_bench.build(dbs.dsn_a, parity_bench.schema_a(layout))
            print(f"built {args.tables} tables, {args.functions} functions in {time.perf_counter() - t0:.1f} s")
            os.environ[ENV] = dbs.dsn_a
            try:
                starts = cold_start(project, args.repeat)
                runs = [asyncio.run(stalls(project, verbose)) for _ in range(args.runs)]
            finally:
                release_shadow(project)
    start_median = statistics.median(starts)
    met = start_median <= START_GOAL_S
    print(
        f"cold start to the first screen: median {start_median:.3f} s over {len(starts)} run(s) "
        f"(min {min(starts):.3f}, max {max(starts):.3f}); goal {START_GOAL_S} s: "
        + ("GOAL MET" if met else "GOAL MISSED")
    )
    last = runs[-1]
    shown = ", ".join(f"{k} {v}" for k, v in last.counts.items())
    print(
        f"Phase 1 on {args.tables} tables: {', '.join(f'{r.seconds:.1f}' for r in runs)} s in the worker "
        f"({shown}; {last.differences} drift difference(s) shown); "
        f"load average after each run: {', '.join(f'{r.load:.1f}' for r in runs)} on {os.cpu_count()} CPU(s)"
    )
    for window, values, cpu in (
        ("inventory", [r.inventory_ms for r in runs], [r.inventory_cpu_ms for r in runs]),
        ("drift", [r.drift_ms for r in runs], [r.drift_cpu_ms for r in runs]),
    ):
        window_met = max(values) <= STALL_GOAL_MS
        met = met and window_met
        print(
            f"largest event-loop stall during the {window}: {spread(values)}; goal {STALL_GOAL_MS:.0f} ms: "
            + ("GOAL MET" if window_met else "GOAL MISSED")
        )
        print(f"  the event loop's own largest CPU burst between two ticks (load aside): {spread(cpu)}")
    print("GOAL MET" if met else "GOAL MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
