"""The wizard, driven by Pilot, through the whole protocol on staging and then on production, then
every rollback in reverse order on both: the demo's migrations folder and both history tables end as
they started (real engine, real databases on the demo's embedded server)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from screens import steps
from screens.confirm import ConfirmModal, TypeNameModal
from screens.context import LogBook, WizardContext
from screens.progress_line import ProgressLine
from tests.test_ui_pilot import SIZE, make_app, next_disabled, reason, run_async, screen_name, settle, text_of
from wizard import demo
from wizard.archive.phase import current_baseline
from wizard.inspect.inventory import Cancelled
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.report import default_path
from wizard.state import events, protocol
from wizard.state.journal import Journal

HISTORY = "supabase_migrations.schema_migrations"
ARCHIVE_TABLE = "supabase_migrations.schema_migrations_archive"
DATABASE = {"staging": "eav_staging", "production": "eav_production"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo project of its own (staging and production on its embedded server)."""
    directory = demo.prepare(tmp_path_factory.mktemp("two") / "eav").directory
    yield directory
    embedded.server(shadow_mod.embedded_root(config.load(directory))).release()


def folder_state(folder: Path) -> dict[str, str]:
    """Every file of a folder (name -> sha256 of its bytes)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def history_state(project: Path, target: str) -> str:
    """The history table, whole, in version order, and whether the archive table exists."""
    cfg = config.load(project)
    dsn = config.resolve_dsn(cfg.target(target).source, shadow_mod.embedded_dsn(cfg))
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"select * from {HISTORY} order by version").fetchall()
        table = conn.execute("select to_regclass(%s)::text", (ARCHIVE_TABLE,)).fetchone()
    return repr((rows, table))


def journal(project: Path, target: str) -> Journal:
    return Journal.for_target(config.load(project).state_dir, target)


def status(project: Path, target: str, key: str) -> str:
    return next(s.status for s in protocol.states(journal(project, target)) if s.key == key)


async def forward(pilot: Pilot) -> None:
    """Next, once its gate holds."""
    assert not next_disabled(pilot), reason(pilot)
    await pilot.press("n")
    await settle(pilot)


def progress_of(pilot: Pilot, selector: str) -> str:
    """What a progress line says: ``n/N unit · 12.3 s · stage``."""
    return pilot.app.screen.query_one(selector, ProgressLine).label


async def run_protocol(pilot: Pilot, target: str) -> None:
    """Pre-flight to the report on ``target``, checking what each of production's screens says."""
    production = target == "production"
    assert screen_name(pilot) == "ChecklistScreen"
    pilot.app.screen.query_one("#tick-team_notified").focus()
    await pilot.press("space")
    await settle(pilot)
    await forward(pilot)

    assert screen_name(pilot) == "BackupScreen"
    await pilot.press("g")
    await settle(pilot)
    assert re.fullmatch(r"(\d+)/\1 tables · \d+\.\d s · written", progress_of(pilot, "#dump-progress"))
    assert re.fullmatch(r"4/4 steps · \d+\.\d s · verified", progress_of(pilot, "#verify-progress"))
    await forward(pilot)

    assert screen_name(pilot) == "InspectScreen"
    await pilot.press("g")
    await settle(pilot)
    detail = text_of(pilot, "#detail")
    if production:  # staging's Phase 3 already archived the old files: the folder holds the baseline alone
        assert "Compared with the baseline" in detail and "no drift: the baseline builds exactly the target" in detail
        assert journal(pilot.app.ctx.config.root, target).last(events.DRIFT_CHECKED)["against"]["archived"] == 14
    else:
        assert "ON DELETE CASCADE" in detail and "Compared with" not in detail
    await forward(pilot)

    assert screen_name(pilot) == "SquashScreen"
    await pilot.press("g")
    await settle(pilot)
    verdict = text_of(pilot, "#verdict")
    assert "proved at 100 % parity" in verdict
    assert ("Adopted unchanged" in verdict and "generated from staging" in verdict) == production
    assert re.fullmatch(r"(\d+)/\1 kinds at parity · \d+\.\d s · proved", progress_of(pilot, "#progress"))
    await forward(pilot)

    assert screen_name(pilot) == "ArchiveScreen"
    assert next_disabled(pilot) and "not done yet" in reason(pilot)
    if production:
        assert "already archived by staging's Phase 3" in text_of(pilot, "#problems")
        assert not pilot.app.screen.query_one("#run", Button).disabled
    await pilot.press("g")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmModal)
    await pilot.press("y")
    await settle(pilot)
    assert status(pilot.app.ctx.config.root, target, "archive") == protocol.DONE
    archived = journal(pilot.app.ctx.config.root, target).last(events.ARCHIVE_DONE)
    assert len(archived["files"]) == 14 and len(archived["moved_now"]) == (0 if production else 14)
    # After the run, the screen still says who moved the files: staging itself, or staging for production.
    assert ("were archived by staging's Phase 3" in text_of(pilot, "#problems")) == production
    assert progress_of(pilot, "#progress").startswith(f"{0 if production else 14}/14 files moved · ")
    await forward(pilot)

    assert screen_name(pilot) == "RecordScreen"
    gates = text_of(pilot, "#gates")
    assert "--confirm" not in gates and f"type the database name {DATABASE[target]}" in gates
    assert ("staging-rehearsal" in gates) == production
    await pilot.press("g")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TypeNameModal)
    await pilot.press(*DATABASE[target], "enter")
    await settle(pilot)
    assert "committed" in text_of(pilot, "#after")
    gates = text_of(pilot, "#gates")
    assert "✘" not in gates and "--confirm" not in gates, gates
    assert f"the database name {DATABASE[target]} was typed before the commit" in gates
    await forward(pilot)

    assert screen_name(pilot) == "ValidateScreen"
    await pilot.press("g")
    await settle(pilot)
    assert "validation passed" in reason(pilot)
    assert re.fullmatch(r"(\d+)/\1 checks passed · \d+\.\d s · validated", progress_of(pilot, "#progress"))
    assert "report saved" in text_of(pilot, "#report-path")
    report = default_path(pilot.app.ctx.config, target).read_text()
    assert "does not replay" not in report
    assert ("Drift was compared with the baseline" in report) == production
    assert all(s.status == protocol.DONE for s in protocol.states(journal(pilot.app.ctx.config.root, target)))


async def roll_back(pilot: Pilot, key: str, target: str) -> None:
    """Open the rollback screen (r), run one rollback, confirm it as the wizard asks."""
    await pilot.press("r")
    await settle(pilot)
    assert screen_name(pilot) == "RollbackScreen"
    pilot.app.screen.query_one(f"#do-{key}", Button).press()
    await settle(pilot)
    if key == "record":
        assert isinstance(pilot.app.screen, TypeNameModal)
        await pilot.press(*DATABASE[target], "enter")
    else:
        assert isinstance(pilot.app.screen, ConfirmModal)
        await pilot.press("y")
    await settle(pilot)
    assert screen_name(pilot) != "RollbackScreen", "the rollback screen closes once the rollback ran"


def test_a_cancelled_phase_1_journals_nothing(project: Path) -> None:
    """``x`` during the drift check: no inspect.done, no drift.checked (no 'does not replay: None' later)."""
    cfg = config.load(project)
    ctx = WizardContext(cfg, log=LogBook()).with_target(cfg.targets["production"])
    cancel = threading.Event()

    def say(message: str) -> None:
        if message.startswith("drift: replaying"):
            cancel.set()  # as the Cancel button does, once the replay starts

    seen = len(ctx.the_journal.events())
    with pytest.raises(Cancelled, match="nothing was recorded"):
        steps.run_inspect(ctx, cancel=cancel, say=say)
    assert len(ctx.the_journal.events()) == seen
    assert status(project, "production", "inspect") == protocol.PENDING


@run_async
async def test_staging_then_production_to_the_end_then_every_rollback(project: Path) -> None:
    cfg = config.load(project)
    folder_before = folder_state(cfg.migrations_dir)
    histories_before = {t: history_state(project, t) for t in DATABASE}

    for target in ("staging", "production"):
        async with make_app(project, target).run_test(size=SIZE) as pilot:
            await settle(pilot)
            await run_protocol(pilot, target)
        assert history_state(project, target) != histories_before[target]
    baseline = current_baseline(journal(project, "staging"))
    assert baseline is not None
    assert current_baseline(journal(project, "production")).sha256 == baseline.sha256  # one baseline, adopted
    assert folder_state(cfg.migrations_dir) == {baseline.filename: baseline.sha256}

    # Every rollback, in reverse order: Phase 4 on production, then on staging, then Phase 3 on both.
    async with make_app(project, "production").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await roll_back(pilot, "record", "production")
        assert history_state(project, "production") == histories_before["production"]
        assert status(project, "production", "validate") == protocol.ROLLED_BACK  # validation undone with Phase 4
        assert screen_name(pilot) == "RecordScreen"  # where the journal now says production stands
        assert "Phase 4 was undone" in protocol.states(journal(project, "production"))[-1].reason
    async with make_app(project, "staging").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await roll_back(pilot, "record", "staging")
        assert history_state(project, "staging") == histories_before["staging"]
        assert status(project, "staging", "validate") == protocol.ROLLED_BACK
    for target in ("production", "staging"):
        async with make_app(project, target).run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert screen_name(pilot) == "RecordScreen"
            await roll_back(pilot, "archive", target)
            assert status(project, target, "archive") == protocol.ROLLED_BACK
            assert screen_name(pilot) == "ArchiveScreen"

    # Then Phase 2: the baseline file leaves the folder (for both targets, which share it).
    async with make_app(project, "staging").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await roll_back(pilot, "squash", "staging")
    assert status(project, "production", "squash") == protocol.ROLLED_BACK

    # The migrations folder byte for byte as at the start; both history tables exactly as at the
    # start, with no archive table.
    assert folder_state(cfg.migrations_dir) == folder_before
    assert not cfg.archive_dir.exists()
    assert {t: history_state(project, t) for t in DATABASE} == histories_before
    for target in DATABASE:
        states = {s.key: s.status for s in protocol.states(journal(project, target))}
        assert states["record"] == states["archive"] == states["validate"] == protocol.ROLLED_BACK
