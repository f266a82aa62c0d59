"""The Textual wizard driven by Pilot through the whole protocol on the demo sandbox (real engine, real database)."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from screens.app import WizardApp
from screens.confirm import TypeNameModal
from screens.context import LogBook, WizardContext
from screens.settle import settle
from wizard import demo
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.report import default_path
from wizard.state import events, protocol
from wizard.state.journal import Journal

SIZE = (80, 24)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo project (staging and production on its embedded server), prepared once for this module."""
    directory = demo.prepare(tmp_path_factory.mktemp("ui") / "eav").directory
    yield directory
    embedded.server(shadow_mod.embedded_root(config.load(directory))).release()


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop (no pytest-asyncio needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def make_app(project: Path, target: str | None = None) -> WizardApp:
    ctx = WizardContext(config.load(project), log=LogBook(clock=lambda: "00:00:00"))
    return WizardApp(ctx.with_target(ctx.config.targets[target]) if target else ctx)


def next_disabled(pilot: Pilot) -> bool:
    return pilot.app.screen.query_one("#next", Button).disabled


def text_of(pilot: Pilot, selector: str) -> str:
    """The plain text a Static on the current screen shows (rich renderables rendered wide)."""
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(pilot.app.screen.query_one(selector, Static).content)
    return console.export_text()


def reason(pilot: Pilot) -> str:
    return text_of(pilot, "#reason")


def screen_name(pilot: Pilot) -> str:
    return type(pilot.app.screen).__name__


@run_async
async def test_whole_protocol_on_staging_then_production_is_allowed(project: Path) -> None:
    staging = Journal.for_target(config.load(project).state_dir, "staging")
    async with make_app(project).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_name(pilot) == "TargetScreen"
        # Production first: refused until staging was rehearsed, with the reason on screen.
        await pilot.press("down")
        await settle(pilot)
        assert next_disabled(pilot)
        assert "rehearsal" in reason(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert screen_name(pilot) == "TargetScreen"

        await pilot.press("up")
        await settle(pilot)
        assert not next_disabled(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "ChecklistScreen"
        assert next_disabled(pilot), "the human item is not ticked yet"
        assert "Team notified" in reason(pilot)
        pilot.app.screen.query_one("#tick-team_notified").focus()
        await pilot.press("space")
        await settle(pilot)
        assert staging.last(events.CHECKLIST_TICKED)["ticked"] is True
        assert not next_disabled(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "BackupScreen"
        assert next_disabled(pilot), "Next must stay disabled without a verified backup"
        assert "no backup" in reason(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert not next_disabled(pilot)
        assert staging.last(events.BACKUP_VERIFIED) is not None
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "InspectScreen"
        assert next_disabled(pilot)
        await pilot.press("g")
        await settle(pilot)
        counts = text_of(pilot, "#counts")
        for kind, value in (("tables", "7"), ("indexes", "16"), ("RLS policies", "18"), ("rows", "467")):
            assert kind in counts and value in counts
        assert pilot.app.screen.query_one("#drift").row_count == 5
        assert "ON DELETE CASCADE" in text_of(pilot, "#detail")
        assert not next_disabled(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "SquashScreen"
        await pilot.press("g")
        await settle(pilot)
        parity = text_of(pilot, "#parity")
        assert "16/16" in parity and "18/18" in parity
        assert not next_disabled(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "ArchiveScreen"
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not next_disabled(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "RecordScreen"
        gates = text_of(pilot, "#gates")
        assert "verified-backup" in gates and "baseline-proved" in gates and "archive-done" in gates
        assert "INSERT INTO supabase_migrations.schema_migrations" in text_of(pilot, "#sql")
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TypeNameModal)
        await pilot.press(*"eav_production", "enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, TypeNameModal), "a wrong name must be rejected"
        assert "nothing was done" in text_of(pilot, "#rejected")
        assert staging.last(events.RECORD_COMMITTED) is None
        pilot.app.screen.query_one(Input).value = ""
        await pilot.press(*"eav_staging", "enter")
        await settle(pilot)
        assert screen_name(pilot) == "RecordScreen"
        assert staging.last(events.RECORD_COMMITTED) is not None
        assert "committed" in text_of(pilot, "#after")
        await pilot.press("n")
        await settle(pilot)

        assert screen_name(pilot) == "ValidateScreen"
        await pilot.press("g")
        await settle(pilot)
        assert staging.last(events.VALIDATED)["passed"] is True
        report = default_path(config.load(project), "staging")
        assert report.exists() and "Consolidation Report" in report.read_text()
        assert "report saved" in text_of(pilot, "#report-path")
        assert all(s.status == protocol.DONE for s in protocol.states(staging))

    # Production is now allowed: staging was rehearsed through validation.
    async with make_app(project).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert not next_disabled(pilot)
        assert "rehearsed" in reason(pilot)


@run_async
async def test_resumes_where_the_journal_says_and_offers_only_applicable_rollbacks(project: Path) -> None:
    journal = Journal.for_target(config.load(project).state_dir, "staging")
    if protocol.next_phase(journal) is not None:
        pytest.skip("needs the completed staging run of the previous test")
    async with make_app(project, "staging").run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_name(pilot) == "ValidateScreen"
        await pilot.press("r")
        await settle(pilot)
        assert screen_name(pilot) == "RollbackScreen"
        buttons = {b.id for b in pilot.app.screen.query(Button)}
        assert {"do-record", "do-restore"} <= buttons
        assert "do-archive" not in buttons, "Phase 3 cannot be undone while Phase 4 is recorded"
        await pilot.press("escape")
        await settle(pilot)
        # The step's Run button starts the same work as the `g` key (handled once, by the base screen).
        before = len(journal.events(events.VALIDATED))
        await pilot.click("#run")
        await settle(pilot)
        assert len(journal.events(events.VALIDATED)) == before + 1


@run_async
async def test_help_and_command_palette_open(project: Path) -> None:
    async with make_app(project).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert screen_name(pilot) == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert screen_name(pilot) == "CommandPalette"
