"""Regenerate the wizard's screenshots in docs/img/: the demo driven with Pilot through every phase.

    python docs/screenshots.py            # staging then production, 120x40 and 80x24 (a few minutes)
    python docs/screenshots.py --out DIR  # somewhere else

The demo is prepared in a temporary directory (its own embedded server), staging is taken through
the whole protocol, then production; each phase's screen is saved as ``<target>-<step>.svg`` at
120x40 after the step's work ran, and production's also as ``production-<step>-80x24.svg`` at 80x24
(the size the layout is designed down to). The rollback screen
and the gate details are saved too. The pictures hold what the demo measured (times, oids, paths),
so they change a little every time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screens.app import WizardApp  # noqa: E402
from screens.context import LogBook, WizardContext  # noqa: E402
from screens.settle import settle  # noqa: E402
from wizard import demo  # noqa: E402
from wizard.platform import embedded  # noqa: E402
from wizard.platform import shadow as shadow_mod  # noqa: E402
from wizard.project import config  # noqa: E402

WIDE = (120, 40)
SMALL = (80, 24)


class Camera:
    """Saves the current screen at 120x40, and production's at 80x24 too."""

    def __init__(self, out: Path, target: str) -> None:
        self.out, self.target = out, target
        self.small = target == "production"

    async def shoot(self, pilot: Pilot, name: str, *, small: bool = True) -> None:
        pilot.app.save_screenshot(f"{self.target}-{name}.svg", str(self.out))
        if small and self.small:
            await pilot.resize_terminal(*SMALL)
            await settle(pilot)
            pilot.app.save_screenshot(f"{self.target}-{name}-80x24.svg", str(self.out))
            await pilot.resize_terminal(*WIDE)
            await settle(pilot)
        print(f"  {self.target}-{name}")


async def forward(pilot: Pilot) -> None:
    """Next, which must be enabled."""
    if pilot.app.screen.query_one("#next", Button).disabled:
        reason = pilot.app.screen.query_one("#reason").content
        raise SystemExit(f"Next is disabled on {type(pilot.app.screen).__name__}: {reason}")
    await pilot.press("n")
    await settle(pilot)


async def protocol(project: Path, target: str, out: Path) -> None:
    """Drive ``target`` from the target screen to the report, saving each phase."""
    camera = Camera(out, target)
    ctx = WizardContext(config.load(project), log=LogBook())
    async with WizardApp(ctx).run_test(size=WIDE) as pilot:
        await settle(pilot)
        if target == "production":
            await pilot.press("down")
            await settle(pilot)
        await camera.shoot(pilot, "target")
        await forward(pilot)

        pilot.app.screen.query_one("#tick-team_notified").focus()
        await pilot.press("space")
        await settle(pilot)
        await camera.shoot(pilot, "checklist")
        await forward(pilot)

        for step in ("backup", "inspect", "squash"):
            await pilot.press("g")
            await settle(pilot)
            await camera.shoot(pilot, step)
            await forward(pilot)

        await pilot.press("g")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await camera.shoot(pilot, "archive")
        await forward(pilot)

        await camera.shoot(pilot, "record-gates")
        await pilot.press("d")
        await settle(pilot)
        await camera.shoot(pilot, "record-details", small=False)
        await pilot.press("escape")
        await pilot.press("g")
        await settle(pilot)
        database = pilot.app.screen.query_one("Input").placeholder
        await pilot.press(*database, "enter")
        await settle(pilot)
        await camera.shoot(pilot, "record")
        await forward(pilot)

        await pilot.press("g")
        await settle(pilot)
        await camera.shoot(pilot, "validate")
        await pilot.press("r")
        await settle(pilot)
        await camera.shoot(pilot, "rollback")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="where the SVGs go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cw-shots-") as tmp:
        project = demo.prepare(Path(tmp) / "eav").directory
        try:
            for target in ("staging", "production"):
                print(target)
                asyncio.run(protocol(project, target, args.out))
        finally:
            embedded.server(shadow_mod.embedded_root(config.load(project))).release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
