"""The wizard's look: header and role colours, short gate reasons with details on demand, progress
lines with counts and elapsed time, one scroll region and every control reachable by keyboard at 80x24.

Screens are built with ``autostart=False`` (no database) and fed engine results, as in the snapshot tests.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.color import Color
from textual.containers import VerticalScroll
from textual.notifications import Notify
from textual.widgets import DataTable, Static

from screens.app import WizardApp
from screens.confirm import ErrorModal
from screens.context import LogBook, WizardContext
from screens.gate_details import GateDetails
from screens.gate_panel import GatePanel, short_reason
from screens.header import StepHeader
from screens.log_panel import LogPanel
from screens.progress_line import ProgressLine, counts_in, figures_text, progress_text
from screens.steps import STEP_KEYS
from screens.theme import ROLE_PRODUCTION
from tests.test_ui_snapshots import SIZE, TOML
from wizard.archive import phase as archive
from wizard.errors import WizardError
from wizard.project import config
from wizard.state.gates import failed, passed

BACKUP = ".consolidate/backups/production/eav_production_pre_consolidation_20261130T092357Z.dump"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(tmp_path: Path, clock: Clock) -> WizardContext:
    (tmp_path / "consolidate.toml").write_text(TOML)
    return WizardContext(config.load(tmp_path), log=LogBook(clock=lambda: "10:00:00"), autostart=False, monotonic=clock)


def app_at(ctx: WizardContext, step: str, target: str | None = "production") -> WizardApp:
    return WizardApp(ctx.with_target(ctx.config.targets[target]) if target else ctx, start=step)


def plain(widget: Static) -> str:
    return str(widget.render())


# --- pure helpers ---------------------------------------------------------------------------


def test_short_reason_cuts_paths_to_their_last_part_and_keeps_counts() -> None:
    assert short_reason(f"backup {BACKUP} of this target was verified") == (
        "backup …/eav_production_pre_consolidation_20261130T092357Z.dump of this target was verified"
    )
    assert short_reason("the baseline supabase/migrations/2026_x.sql is unchanged") == (
        "the baseline …/2026_x.sql is unchanged"
    )
    assert short_reason("16/16 indexes; staging/production; 100 %") == "16/16 indexes; staging/production; 100 %"
    assert short_reason("first line\nsecond line") == "first line"


def test_counts_come_from_the_engine_progress_line_not_from_dates_or_paths() -> None:
    assert counts_in("replay 3/14: 20250101090000_create_projects.sql") == (3, 14)
    assert counts_in("timing round 2/3: the baseline") == (2, 3)
    assert counts_in("reading the fresh environment") is None
    assert counts_in("moving supabase/migrations/1/2.sql") is None
    assert counts_in("15/3 is not progress") is None


def test_figures_come_first_so_a_narrow_terminal_cuts_the_stage() -> None:
    assert figures_text(3, 14, 12.34, "files") == "3/14 files · 12.3 s"
    assert figures_text(None, None, 0.0) == "0.0 s"
    assert progress_text("replaying", 3, 14, 12.34, "files") == "3/14 files · 12.3 s · replaying"
    assert progress_text("idle", None, None, None) == "idle"


# --- widgets ---------------------------------------------------------------------------------


def test_progress_line_counts_and_elapsed_time(ctx: WizardContext, clock: Clock) -> None:
    async def body() -> None:
        async with app_at(ctx, "squash").run_test(size=SIZE) as pilot:
            line = pilot.app.screen.query_one("#progress", ProgressLine)
            line.begin("reading the target schema")
            clock.now += 4.0
            line.advance("timing round 2/3: the baseline")
            assert line.label == "2/3 · 4.0 s · timing round 2/3: the baseline"
            clock.now += 8.34
            await pilot.pause(0.3)  # the ticking timer redraws the elapsed time while the step runs
            assert plain(line.query_one("#figures", Static)) == "2/3 · 12.3 s"
            line.advance("reading the fresh database")  # a stage without counts shows none
            assert line.label == "12.3 s · reading the fresh database"
            line.finish("proved", 12, 12, "kinds at parity")
            clock.now += 60.0
            await pilot.pause(0.3)  # stopped: the time taken stays
            assert line.label == "12/12 kinds at parity · 12.3 s · proved"
            assert plain(line.query_one("#stage", Static)) == "proved"

    asyncio.run(body())


@pytest.mark.parametrize("theme", ["consolidation", "textual-light", "nord"])
def test_production_is_a_red_band_on_every_theme_and_staging_is_not(ctx: WizardContext, theme: str) -> None:
    async def body() -> None:
        async with app_at(ctx, "backup").run_test(size=SIZE) as pilot:
            pilot.app.theme = theme
            await pilot.pause()
            header = pilot.app.screen.query_one(StepHeader)
            assert header.has_class("-production")
            assert header.styles.background == Color.parse(ROLE_PRODUCTION)
            assert "PRODUCTION" in plain(header.query_one("#role", Static))
            assert "step 3/8 · Backup" in plain(header.query_one("#step-caption", Static))
        async with app_at(ctx, "backup", "staging").run_test(size=SIZE) as pilot:
            pilot.app.theme = theme
            await pilot.pause()
            header = pilot.app.screen.query_one(StepHeader)
            assert header.has_class("-staging")
            assert header.styles.background != Color.parse(ROLE_PRODUCTION)

    asyncio.run(body())


def test_gate_reasons_are_one_short_line_with_the_whole_reason_on_d(ctx: WizardContext) -> None:
    gates = [
        passed("verified-backup", f"backup {BACKUP} of this target was verified", backup=BACKUP),
        failed("confirmed-name", "type the database name eav_production when you record (g)"),
    ]

    async def body() -> None:
        async with app_at(ctx, "backup").run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            screen.query_one("#gate", GatePanel).show(gates)
            screen.set_gate(gates[0])
            await pilot.pause()
            panel = screen.query_one("#gate", GatePanel)
            lines = plain(panel).splitlines()
            assert lines[0].startswith("✘ confirmed-name"), "failing gates come first"
            assert BACKUP not in plain(panel) and "…/eav_production_pre" in plain(panel)
            assert panel.size.height == len(gates), "one line per gate at 80 columns"
            reason = screen.query_one("#reason", Static)
            assert reason.size.height == 1 and BACKUP not in plain(reason)
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(pilot.app.screen, GateDetails)
            details = plain(pilot.app.screen.query_one("#details", Static))
            assert f"backup {BACKUP} of this target was verified" in details and f"backup: {BACKUP}" in details
            assert "confirmed-name" in details
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(pilot.app.screen, GateDetails)

    asyncio.run(body())


def long_archive_plan(files: int = 30) -> archive.ArchivePlan:
    """Phase 3's plan for more files than 80x24 shows at once."""
    root = Path("/project")
    baseline = archive.Baseline("supabase/migrations/20260101000000_baseline.sql", "20260101000000", "ab" * 32, (), 1)
    names = [f"2025010{n // 10}{n % 10:02d}0000_step_{n}.sql" for n in range(files)]
    items = [
        archive.ArchiveItem(
            n[:14], n, "cd" * 32, root / "supabase/migrations" / n, root / "supabase/migrations_archive" / n, False
        )
        for n in names
    ]
    return archive.ArchivePlan(
        root, root / "supabase/migrations", root / "supabase/migrations_archive", baseline, items, True
    )


@pytest.mark.parametrize("step", STEP_KEYS)
def test_every_control_is_reachable_by_keyboard_in_one_scroll_region(ctx: WizardContext, step: str) -> None:
    """Tab visits every focusable widget of the screen at 80x24, each scrolled into view; only #content scrolls."""

    async def body() -> None:
        async with app_at(ctx, step, None if step == "target" else "production").run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            if step == "archive":
                screen.show_plan(long_archive_plan())  # a table taller than the screen
            await pilot.pause()
            for button in screen.query("Button"):
                button.disabled = False  # disabled buttons leave the focus chain; their place in it is tested
            for button in screen.query("#cancel"):
                button.display = True
            await pilot.pause()
            chain = list(screen.focus_chain)
            assert chain, "nothing focusable"
            visited = []
            for _ in range(len(chain)):
                await pilot.press("tab")
                await pilot.pause()
                focused = screen.focused
                assert focused is not None
                visited.append(focused)
                seen = focused.region.intersection(screen.region)
                assert seen.height > 0 and seen.width > 0, f"{focused!r} is focused below the fold"
            assert set(visited) == set(chain)
            content = screen.query_one("#content", VerticalScroll)
            assert content in chain, "the scroll region takes focus, so text below the fold is reachable"
            content.focus()
            await pilot.press("end")
            await pilot.pause()
            assert content.scroll_y == content.max_scroll_y, "end reaches the bottom of the content"
            inner = [w for w in content.query("*") if w.show_vertical_scrollbar]
            assert not inner, f"nested scroll regions: {inner}"

    asyncio.run(body())


def test_every_screenshot_the_docs_show_is_committed() -> None:
    """docs/wizard.md and the README show SVGs that docs/screenshots.py writes; each one is in docs/img."""
    root = Path(__file__).resolve().parent.parent
    shown = {
        (doc.parent / found).resolve()
        for doc in (root / "README.md", root / "docs" / "wizard.md")
        for found in re.findall(r"\]\(((?:docs/)?img/[\w.-]+\.svg)\)", doc.read_text(encoding="utf-8"))
    }
    assert len(shown) >= 20
    missing = sorted(str(p.relative_to(root)) for p in shown if not p.is_file())
    assert not missing, f"run python docs/screenshots.py: {missing}"


def test_a_table_cursor_scrolls_the_one_scroll_region(ctx: WizardContext) -> None:
    """The table does not scroll on its own; moving its cursor down keeps the row on screen."""

    async def body() -> None:
        async with app_at(ctx, "archive").run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            screen.show_plan(long_archive_plan(30))
            await pilot.pause()
            table = screen.query_one("#files", DataTable)
            content = screen.query_one("#content", VerticalScroll)
            assert table.size.height >= 31 and not table.show_vertical_scrollbar, "the table is as tall as its rows"
            table.focus()
            for _ in range(29):
                await pilot.press("down")
            await pilot.pause()
            assert table.cursor_row == 29 and table.scroll_y == 0
            row_y = table.region.y + table.header_height + table.cursor_row
            assert content.region.y <= row_y < content.region.bottom, "the highlighted row is in view"
            assert content.scroll_y > 0

    asyncio.run(body())


def test_the_log_keeps_its_newest_line_in_view_when_the_terminal_shrinks(ctx: WizardContext) -> None:
    for number in range(40):
        ctx.log.add(f"line {number} " + "x" * 70)

    async def body() -> None:
        async with app_at(ctx, "backup").run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            log = pilot.app.screen.query_one("#log", LogPanel)
            assert log.scroll_y == log.max_scroll_y > 0
            await pilot.resize_terminal(*SIZE)
            await pilot.pause()
            assert log.scroll_y == log.max_scroll_y

    asyncio.run(body())


def test_a_failed_step_stops_its_clock_and_says_so(ctx: WizardContext, clock: Clock) -> None:
    def dies() -> None:
        raise WizardError("pg_dump exited with 1", "see the log")

    async def body() -> None:
        async with app_at(ctx, "backup").run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            line = screen.query_one("#dump-progress", ProgressLine)
            line.begin("starting pg_dump…")
            line.advance("dumping", 3, 16, "tables")
            clock.now += 2.5
            screen.run_worker(dies, thread=True, exit_on_error=False, group="backup")
            for _ in range(50):
                await pilot.pause(0.02)
                if line.has_class("-failed"):
                    break
            assert line.has_class("-failed") and not line.has_class("-running")
            assert line.label == "3/16 tables · 2.5 s · failed"
            assert isinstance(pilot.app.screen, ErrorModal)

    asyncio.run(body())


def test_record_says_why_it_does_not_start(ctx: WizardContext) -> None:
    """g on Phase 4 before its gates are known, or while one fails, says so instead of doing nothing."""

    said: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify):
            said.append(message.notification.message)

    async def body() -> None:
        async with app_at(ctx, "record").run_test(size=SIZE, message_hook=hook) as pilot:
            await pilot.press("g")
            await pilot.pause()
            assert said == ["the gates are still being evaluated"]

    asyncio.run(body())
