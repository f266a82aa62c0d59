"""The engine never imports the UI: importing every ``wizard`` module loads no Textual, questionary or screens."""

from __future__ import annotations

import subprocess
import sys
import textwrap

FORBIDDEN = ("textual", "questionary", "screens")


def test_wizard_modules_import_no_ui() -> None:
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        import wizard
        names = sorted(m.name for m in pkgutil.walk_packages(wizard.__path__, "wizard."))
        for name in names:
            importlib.import_module(name)
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({FORBIDDEN!r}))
        print(len(names), ",".join(loaded))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    count, loaded = proc.stdout.split()[0], proc.stdout.strip().partition(" ")[2]
    assert int(count) > 30
    assert loaded == "", f"wizard modules imported {loaded}"


def test_plain_flow_imports_no_textual() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, screens.plain, screens.init_flow; print('textual' in sys.modules)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
