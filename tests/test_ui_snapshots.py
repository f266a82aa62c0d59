"""SVG snapshots of every screen at 80x24 in a representative state (pytest-textual-snapshot).

Screens are built with ``autostart=False`` and fed fixed engine results, so nothing volatile
(timestamps, oids, temporary paths, system identifiers) reaches the picture. Update the
snapshots with ``pytest tests/test_ui_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from screens import steps
from screens.app import WizardApp
from screens.backup import BackupScreen
from screens.confirm import TypeNameModal
from screens.context import LogBook, WizardContext
from screens.help import HelpScreen
from screens.rollback import RollbackScreen
from screens.steps import ArchiveView, RecordView, SquashView, TargetInfo
from screens.validate import ValidateScreen
from wizard.archive import phase as archive
from wizard.backup.take import BackupProgress
from wizard.backup.verify import VerifyProgress
from wizard.checklist import items as checklist
from wizard.db.connect import Identity
from wizard.parity.diff import Difference
from wizard.project import config
from wizard.rollback.procedures import TYPE_NAME, RollbackOption
from wizard.state import events, protocol
from wizard.state.gates import failed, passed
from wizard.state.journal import Journal

SIZE = (80, 24)
TOML = """
[targets.staging]
dsn_env = "STAGING_DATABASE_URL"
role = "staging"

[targets.production]
dsn_env = "PRODUCTION_DATABASE_URL"
role = "production"
"""
IDENTITY = Identity("db.example.supabase.co", "5432", "postgres", 5, "7300000000000000001", "15.8", 150008, "postgres")
BACKUP_PATH = ".consolidate/backups/staging/postgres_pre_consolidation_20250928T100000Z.dump"
BASELINE = "supabase/migrations/20250928100000_consolidated_production_schema.sql"


@pytest.fixture
def ctx(tmp_path: Path) -> WizardContext:
    (tmp_path / "consolidate.toml").write_text(TOML)
    return WizardContext(
        config.load(tmp_path), log=LogBook(clock=lambda: "10:00:00"), autostart=False, monotonic=FixedClock()
    )


class FixedClock:
    """A monotonic clock that reads 100 s, then 112.3 s ever after: every progress line says 12.3 s."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 100.0 if self.calls == 1 else 112.3


def app_at(ctx: WizardContext, step: str, target: str | None = "staging") -> WizardApp:
    if target:
        ctx = ctx.with_target(ctx.config.targets[target])
    return WizardApp(ctx, start=step)


def test_target_screen(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_info(TargetInfo(ctx.config.targets["staging"], IDENTITY, None, None, "checklist"))

    assert snap_compare(app_at(ctx, "target", None), terminal_size=SIZE, run_before=run_before)


def test_target_screen_refuses_production(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.query_one(OptionList).highlighted = 1
        await pilot.pause()
        rehearsal = protocol.check_rehearsal(ctx.config)
        screen.show_info(TargetInfo(ctx.config.targets["production"], IDENTITY, None, rehearsal, "checklist"))

    assert snap_compare(app_at(ctx, "target", None), terminal_size=SIZE, run_before=run_before)


def test_checklist_screen(ctx: WizardContext, snap_compare) -> None:
    def item(key: str, status: str, reason: str) -> checklist.ItemResult:
        return checklist.ItemResult(checklist.BY_KEY[key], status, reason)

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_all(
            [
                item("git_clean", checklist.PASSED, "no uncommitted change"),
                item("tests_pass", checklist.NOT_APPLICABLE, "no project.test_command: nothing to run"),
                item("migrations_parse", checklist.PASSED, "14 file(s) parse"),
                item("history_table", checklist.PASSED, "14 migration(s) recorded"),
                item("team_notified", checklist.PENDING, "not ticked yet: tick it once it is true"),
            ]
        )

    assert snap_compare(app_at(ctx, "checklist"), terminal_size=SIZE, run_before=run_before)


def test_backup_screen_mid_verification(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_dump(BackupScreen.Dumped(BackupProgress("counting", 66976, 7, 7, "", 0.4)))
        screen.show_verifying(BackupScreen.Verifying(VerifyProgress("restore", "public.scripts", 3, 7)))
        screen.show_gate(failed("verified-backup", f"backup {BACKUP_PATH} has not been verified"))

    assert snap_compare(app_at(ctx, "backup"), terminal_size=SIZE, run_before=run_before)


def test_inspect_screen(ctx: WizardContext, snap_compare) -> None:
    counts = {"tables": 7, "indexes": 16, "functions": 7, "policies": 18, "triggers": 2, "constraints": 19}
    diff = Difference(
        "constraint",
        "public.scripts.scripts_video_id_fkey",
        "different",
        None,
        None,
        "foreign key scripts_video_id_fkey on public.scripts: ON DELETE CASCADE in the target, "
        "NO ACTION in the migrations",
        "ALTER TABLE public.scripts DROP CONSTRAINT scripts_video_id_fkey;\n"
        "ALTER TABLE public.scripts ADD CONSTRAINT scripts_video_id_fkey FOREIGN KEY (video_id) "
        "REFERENCES public.videos(id) ON DELETE CASCADE;",
    )

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_counts({**counts, "rows": None})
        screen.show_differences([diff])

    assert snap_compare(app_at(ctx, "inspect"), terminal_size=SIZE, run_before=run_before)


def test_squash_screen(ctx: WizardContext, snap_compare) -> None:
    view = SquashView(
        path=BASELINE,
        version="20250928100000",
        text="-- consolidated baseline\nCREATE TABLE public.projects (\n    id uuid PRIMARY KEY\n);\n",
        kinds={"table": "7/7", "index": "16/16", "function": "7/7", "policy": "18/18", "trigger": "2/2"},
        proved=True,
        reason="",
        history_seconds=0.412,
        baseline_seconds=0.061,
        history_files=14,
        speedup=6.75,
        differences=[],
    )

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_view(view)

    assert snap_compare(app_at(ctx, "squash"), terminal_size=SIZE, run_before=run_before)


def archive_plan(*, moved: bool) -> archive.ArchivePlan:
    """Phase 3's plan for two of the demo's files, not yet moved or already moved."""
    root = Path("/project")
    baseline = archive.Baseline(BASELINE, "20250928100000", "ab" * 32, (), 1)
    names = ["20250101090000_create_projects.sql", "20250103100000_create_videos.sql"]
    items = [
        archive.ArchiveItem(
            n[:14], n, "cd" * 32, root / "supabase/migrations" / n, root / "supabase/migrations_archive" / n, moved
        )
        for n in names
    ]
    return archive.ArchivePlan(
        root, root / "supabase/migrations", root / "supabase/migrations_archive", baseline, items, True
    )


def test_archive_screen(ctx: WizardContext, snap_compare) -> None:
    plan = archive_plan(moved=False)

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_plan(plan)

    assert snap_compare(app_at(ctx, "archive"), terminal_size=SIZE, run_before=run_before)


def test_record_screen(ctx: WizardContext, snap_compare) -> None:
    sql = (
        "BEGIN;\nSET LOCAL lock_timeout = '5s';\n"
        "LOCK TABLE supabase_migrations.schema_migrations IN SHARE ROW EXCLUSIVE MODE;\n"
        "INSERT INTO supabase_migrations.schema_migrations (version, name) "
        "VALUES ('20250928100000', 'consolidated_production_schema');\nCOMMIT;"
    )
    plan = SimpleNamespace(
        problems=[], warnings=[], state="ready", baseline=SimpleNamespace(version="20250928100000"), render=lambda: sql
    )
    gates = [
        passed("verified-backup", f"backup {BACKUP_PATH} of this target was verified and is 0.2 h old"),
        passed("baseline-proved", f"the baseline {BASELINE} is unchanged and was proved at 100 % parity"),
        passed("archive-done", "14 files archived"),
        failed("confirmed-name", "type the database name postgres to confirm"),
    ]

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_view(RecordView(plan, gates, "postgres"))

    assert snap_compare(app_at(ctx, "record"), terminal_size=SIZE, run_before=run_before)


def test_validate_screen_with_report(ctx: WizardContext, snap_compare) -> None:
    checks = [
        {"title": "New environment provisions from the single baseline", "status": "passed", "reason": "1 file"},
        {"title": "Schema parity: fresh environment vs target", "status": "passed", "reason": "identical"},
        {"title": "Project test command passes", "status": "skipped", "reason": "no test_command"},
    ]
    markdown = "# Database Migration Consolidation Report\n\n**Status:** complete\n"

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_checks(checks, True)
        screen.show_report(ValidateScreen.ReportWritten(".consolidate/staging/consolidation-report.md", markdown))

    assert snap_compare(app_at(ctx, "validate"), terminal_size=SIZE, run_before=run_before)


def test_rollback_screen_when_nothing_applies(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        pilot.app.push_screen(RollbackScreen(pilot.app.ctx))
        await pilot.pause()

    assert snap_compare(app_at(ctx, "backup"), terminal_size=SIZE, run_before=run_before)


def test_help_screen(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        pilot.app.push_screen(HelpScreen())
        await pilot.pause()

    assert snap_compare(app_at(ctx, "target", None), terminal_size=SIZE, run_before=run_before)


def test_type_name_modal_rejects_a_wrong_name(ctx: WizardContext, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        pilot.app.push_screen(TypeNameModal("Phase 4 writes to PRODUCTION target production.", "postgres"))
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"wrong", "enter")

    assert snap_compare(app_at(ctx, "record", "production"), terminal_size=SIZE, run_before=run_before)


# --- production, after staging's rehearsal: the phases another target already did, and the rollbacks ----------

DONE_BY = {
    "backup": events.BACKUP_VERIFIED,
    "inspect": events.INSPECTED,
    "squash": events.SQUASH_PROVED,
    "archive": events.ARCHIVE_DONE,
    "record": events.RECORD_COMMITTED,
}


def production_at(ctx: WizardContext, step: str, *, including: bool = False) -> WizardApp:
    """The app on production's ``step``, its journal recording every phase before it (``including``: it too)."""
    journal = Journal.for_target(ctx.config.state_dir, "production")
    checklist.tick(journal, "team_notified", operator="operator")
    for key, event in DONE_BY.items():
        if key == step and not including:
            break
        journal.append(event)
        if key == step:
            break
    return app_at(ctx, step, "production")


async def show(pilot: Pilot, selector: str) -> None:
    """Scroll the step's content so that ``selector`` is in the picture."""
    await pilot.pause()  # laid out first, so that the scroll reaches it
    pilot.app.screen.query_one(selector).scroll_visible(animate=False, top=True)
    await pilot.pause()


def test_production_inspect_compares_with_the_baseline(ctx: WizardContext, snap_compare) -> None:
    counts = {"tables": 7, "indexes": 16, "functions": 7, "policies": 18, "triggers": 2, "constraints": 19, "rows": 480}

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_counts(counts)
        screen.against = {"baseline": BASELINE, "archived": 14}
        screen.show_differences([])
        await show(pilot, "#detail")

    assert snap_compare(production_at(ctx, "inspect"), terminal_size=SIZE, run_before=run_before)


def test_production_squash_adopts_the_baseline(ctx: WizardContext, snap_compare) -> None:
    view = SquashView(
        path=BASELINE,
        version="20250928100000",
        text="-- consolidated baseline\nCREATE TABLE public.projects (\n    id uuid PRIMARY KEY\n);\n",
        kinds={"table": "7/7", "index": "16/16", "function": "7/7", "policy": "18/18", "trigger": "2/2"},
        proved=True,
        reason="",
        history_seconds=None,
        baseline_seconds=0.058,
        history_files=None,
        speedup=None,
        differences=[],
        adopted_from="staging",
    )

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_view(view)
        await show(pilot, "#verdict")

    assert snap_compare(production_at(ctx, "squash"), terminal_size=SIZE, run_before=run_before)


def test_production_archive_already_done_by_staging(ctx: WizardContext, snap_compare) -> None:
    plan = archive_plan(moved=True)

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_plan(plan, ArchiveView(plan, done=False, archived_by="staging"))

    assert snap_compare(production_at(ctx, "archive"), terminal_size=SIZE, run_before=run_before)


def test_production_record_after_commit(ctx: WizardContext, snap_compare) -> None:
    plan = SimpleNamespace(
        problems=[],
        warnings=[],
        state="recorded",
        baseline=SimpleNamespace(version="20250928100000"),
        render=lambda: "BEGIN;\n-- …\nCOMMIT;",
    )
    gates = [
        passed("verified-backup", "backup of this target was verified and is 0.2 h old"),
        passed("baseline-proved", f"the baseline {BASELINE} is unchanged and was proved at 100 % parity"),
        passed("archive-done", "14 files archived"),
        passed("confirmed-name", "the database name postgres was typed before the commit (2025-09-28T10:05:00Z)"),
        passed("staging-rehearsal", "the protocol was rehearsed on staging target staging"),
    ]
    committed = SimpleNamespace(
        record={
            "seq": 9,
            "transaction_s": 0.021,
            "history_after": ["20250928100000"],
            "moved_versions": ["20250101090000", "20250103100000"],
        },
        problems=[],
    )

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.show_view(RecordView(plan, gates, "postgres"))
        screen.show_outcome(committed)

    assert snap_compare(production_at(ctx, "record", including=True), terminal_size=SIZE, run_before=run_before)


def test_rollback_screen_on_production(ctx: WizardContext, snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    options = [
        RollbackOption(
            "record",
            "Undo Phase 4 (history row)",
            "Production Rollback",
            True,
            "Phase 4 recorded baseline 20250928100000 at 2025-09-28T10:05:00Z",
            TYPE_NAME,
        ),
        RollbackOption(
            "archive",
            "Undo Phase 3 (files back)",
            "Immediate Rollback",
            False,
            "the baseline is still recorded on production, staging: undo Phase 4 there first",
        ),
        RollbackOption(
            "restore",
            "Disaster recovery (pg_restore)",
            "Disaster Recovery",
            True,
            "backup taken 2025-09-28T10:00:00Z: shows the pg_restore command (the tool never restores production)",
            runs=False,
        ),
    ]
    monkeypatch.setattr(steps, "rollback_options", lambda _ctx: options)

    async def run_before(pilot: Pilot) -> None:
        pilot.app.push_screen(RollbackScreen(pilot.app.ctx))
        await pilot.pause()

    assert snap_compare(production_at(ctx, "record", including=True), terminal_size=SIZE, run_before=run_before)


def test_production_checklist_with_the_team_not_notified(ctx: WizardContext, snap_compare) -> None:
    def item(key: str, status: str, reason: str) -> checklist.ItemResult:
        return checklist.ItemResult(checklist.BY_KEY[key], status, reason)

    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.show_all(
            [
                item("git_clean", checklist.PASSED, "no uncommitted change"),
                item("tests_pass", checklist.NOT_APPLICABLE, "no project.test_command: nothing to run"),
                item("migrations_parse", checklist.PASSED, "1 file(s) parse"),
                item("history_table", checklist.PASSED, "14 migration(s) recorded"),
                item("team_notified", checklist.PENDING, "not ticked yet: tick it once it is true"),
            ]
        )

    app = app_at(ctx, "checklist", "production")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_production_backup_dumping(ctx: WizardContext, snap_compare) -> None:
    """pg_dump under way: n/N tables and the elapsed time."""

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.query_one("#dump-progress").begin("starting pg_dump…")
        screen.show_dump(BackupScreen.Dumped(BackupProgress("dumping", 40960, 9, 16, "public.scripts", 0.4)))
        screen.show_gate(failed("verified-backup", "no backup of this target has been taken yet"))

    assert snap_compare(production_at(ctx, "backup"), terminal_size=SIZE, run_before=run_before)


def test_production_validate_passed(ctx: WizardContext, snap_compare) -> None:
    checks = [
        {"title": "New environment provisions from the single baseline", "status": "passed", "reason": "1 file"},
        {"title": "Schema parity: fresh environment vs target", "status": "passed", "reason": "identical"},
        {"title": "Project test command passes", "status": "skipped", "reason": "no test_command"},
    ]

    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.query_one("#progress").begin("reading the target")
        screen.query_one("#progress").advance("fresh environment 1/1: baseline")
        screen.post_message(ValidateScreen.Validated({"checks": checks, "passed": True}))
        await pilot.pause()

    assert snap_compare(production_at(ctx, "validate", including=True), terminal_size=SIZE, run_before=run_before)
