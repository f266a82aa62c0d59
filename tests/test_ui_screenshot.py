"""The palette's Screenshot works without a Downloads folder (issue #13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import SystemCommand

from screens import app as app_mod
from screens.app import WizardApp, screenshot_dir
from screens.context import LogBook, WizardContext
from wizard.project import config


async def _screenshot(project: Path) -> tuple[list[str], list[Path]]:
    """Run the palette's Screenshot command; the notifications shown and the SVG files written."""
    app = WizardApp(WizardContext(config.load(project), log=LogBook()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        command = next(
            c for c in app.get_system_commands(app.screen) if isinstance(c, SystemCommand) and c.title == "Screenshot"
        )
        command.callback()
        for _ in range(50):  # the command waits 0.1 s, then a thread writes the file
            await pilot.pause(0.05)
            if any("screenshot" in str(n.message).lower() for n in app._notifications):
                break
        messages = [str(n.message) for n in app._notifications]
    return messages, sorted(project.rglob("*.svg"))


def test_screenshot_without_downloads_goes_to_the_project(fresh_db, make_project, tmp_path, monkeypatch):
    project = make_project(fresh_db)
    missing = tmp_path / "home" / "Downloads"
    monkeypatch.setattr(app_mod, "user_downloads_path", lambda: missing)
    messages, files = asyncio.run(_screenshot(project))
    assert [f.parent for f in files] == [project / ".consolidate" / "screenshots"], messages
    assert files[0].read_text().startswith("<svg")
    assert any("Saved screenshot" in m for m in messages) and not any("Failed" in m for m in messages)
    assert not missing.exists()  # the operator's home is left alone


def test_screenshot_uses_downloads_when_it_exists(fresh_db, make_project, tmp_path, monkeypatch):
    project = make_project(fresh_db)
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    monkeypatch.setattr(app_mod, "user_downloads_path", lambda: downloads)
    ctx = WizardContext(config.load(project), log=LogBook())
    assert screenshot_dir(ctx) == downloads
    assert not (project / ".consolidate" / "screenshots").exists()
