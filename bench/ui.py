"""Benchmark the wizard's responsiveness: cold start to the first screen, and event-loop stalls.

1. **Cold start**: a fresh ``python`` process imports the app, loads a project and shows the
   target screen (headless, 80x24); measured from before the process starts to the moment the
   first screen is mounted, median of ``--repeat`` runs. Goal: within 1.5 s.
2. **Stalls**: the Phase 1 screen runs the inventory of the large benchmark schema of
   ``bench/parity.py`` (2,000 tables by default) in its worker while a ticker on the event loop
   wakes every 5 ms; the largest lateness of a tick is the longest the UI froze. Goal: none
   over 100 ms.

Usage::

    .venv/bin/python bench/ui.py                 # 2,000 tables, 500 functions
    .venv/bin/python bench/ui.py --tables 100 --functions 20 --repeat 1   # smoke run

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import parity as parity_bench  # noqa: E402  (bench/parity.py: the 2,000-table schema builder)

START_GOAL_S = 1.5
STALL_GOAL_MS = 100.0
TICK_S = 0.005
ENV = "CW_BENCH_UI_DSN"

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


def write_project(directory: Path) -> Path:
    """A project whose one target is the benchmark database (through ``CW_BENCH_UI_DSN``)."""
    (directory / "supabase" / "migrations").mkdir(parents=True, exist_ok=True)
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


async def stalls(project: Path) -> tuple[float, float, float, dict]:
    """Run Phase 1's worker on the big schema.

    Returns the largest stall (ms) while the inventory ran, the largest during the rest of
    Phase 1 (the drift check), the seconds it all took, and the headline counts.
    """
    from screens.app import WizardApp
    from screens.context import LogBook, WizardContext
    from wizard.project import config

    cfg = config.load(project)
    origin = time.perf_counter()
    log = LogBook(clock=lambda: f"{time.perf_counter() - origin:7.2f}s")
    ctx = WizardContext(cfg, log=log, autostart=False).with_target(cfg.targets["bench"])
    app = WizardApp(ctx, start="inspect")
    ticks: list[tuple[float, float]] = []  # (when the tick began, how late it woke), seconds since origin
    inventory_done = [float("inf")]
    log.subscribe(
        lambda line: "inventory journaled" in line and inventory_done.__setitem__(0, time.perf_counter() - origin)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        started = time.perf_counter()
        screen.run()
        await pilot.pause()
        while any(w.is_running for w in app.workers) or any(w.is_running for w in screen.workers):
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            ticks.append((before - origin, time.perf_counter() - before - TICK_S))
        seconds = time.perf_counter() - started
        await pilot.pause()
        counts = dict(screen.counts)
    during = max((lag for at, lag in ticks if at < inventory_done[0]), default=0.0)
    after = max((lag for at, lag in ticks if at >= inventory_done[0]), default=0.0)
    if os.environ.get("CW_BENCH_UI_VERBOSE"):
        print("\n".join(log.lines))
        print(f"worst stall began at {max(ticks, key=lambda t: t[1])[0]:.2f}s" if ticks else "no tick")
    return during * 1000, after * 1000, seconds, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="cold-start runs (median reported)")
    parser.add_argument("--dsn", help="an admin DSN of a server to build on (default: a throwaway embedded one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cw-bench-ui-") as tmp:
        workdir = Path(tmp)
        project = write_project(workdir / "project")
        layout = parity_bench.Layout(args.tables, args.functions)
        with parity_bench.databases(args.dsn, workdir, keep=False) as dbs:
            print(f"server: {dbs.server}")
            t0 = time.perf_counter()
            parity_bench.build(dbs.dsn_a, parity_bench.schema_a(layout))
            print(f"built {args.tables} tables, {args.functions} functions in {time.perf_counter() - t0:.1f} s")
            os.environ[ENV] = dbs.dsn_a
            starts = cold_start(project, args.repeat)
            start_median = statistics.median(starts)
            print(
                f"cold start to the first screen: median {start_median:.3f} s over {len(starts)} run(s) "
                f"(min {min(starts):.3f}, max {max(starts):.3f}); goal {START_GOAL_S} s"
            )
            worst_ms, drift_ms, seconds, counts = asyncio.run(stalls(project))
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            print(f"Phase 1 on {args.tables} tables: {seconds:.1f} s in the worker ({shown})")
            print(f"largest event-loop stall while the inventory ran: {worst_ms:.1f} ms; goal {STALL_GOAL_MS:.0f} ms")
            print(f"largest stall during the rest of Phase 1 (drift check, for information): {drift_ms:.1f} ms")
    met = start_median <= START_GOAL_S and worst_ms <= STALL_GOAL_MS
    print("GOAL MET" if met else "GOAL MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
