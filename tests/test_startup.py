"""Start-up stays cheap: a command imports only what it needs (issue #14).

Each case runs the CLI in a fresh interpreter and lists the heavy modules it left in
``sys.modules``. Timing is measured by ``bench/startup.py``, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import run_sql

HEAVY = ("textual", "questionary", "pglast", "rich.table", "rich.syntax", "rich.markdown")

_PROBE = textwrap.dedent(
    """
    import json, sys
    from {module} import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}), file=sys.stderr)
    """
)


def run_cli(*argv: str, module: str = "wizard.cli") -> tuple[int, str, set[str]]:
    """Run ``main(argv)`` of ``module`` in a fresh interpreter: exit code, stdout, modules loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module), *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], proc.stdout, set(report["modules"])


def heavy(modules: set[str]) -> list[str]:
    return [m for m in HEAVY if m in modules]


@pytest.mark.parametrize("module", ["wizard.cli", "screens.main"])
def test_version_imports_no_command_and_no_heavy_module(module):
    code, out, modules = run_cli("--version", module=module)
    assert code == 0 and out.startswith("consolidate ")
    assert heavy(modules) == []
    assert "psycopg" not in modules and "rich" not in modules
    light = {"wizard.commands.options", "wizard.commands.interactive"}  # argparse and a dataclass
    assert not [m for m in modules if m.startswith("wizard.commands.") and m not in light]


def test_top_level_help_lists_every_command_without_importing_them():
    from wizard.commands import COMMANDS

    code, out, modules = run_cli("--help")
    assert code == 0
    for command in COMMANDS:
        assert command.name in out
    assert "psycopg" not in modules and heavy(modules) == []


def test_a_commands_help_imports_that_command_only():
    code, out, modules = run_cli("status", "--help")
    assert code == 0 and "--project" in out and "--json" in out
    assert "wizard.commands.status" in modules
    assert "wizard.commands.inspect" not in modules and "wizard.commands.squash" not in modules
    assert heavy(modules) == []


def test_status_json_loads_no_textual_pglast_or_rich_tables(fresh_db, make_project):
    project = make_project(fresh_db)
    code, out, modules = run_cli("status", "--project", str(project), "--json")
    assert code == 0, out
    assert json.loads(out)["target"] == "staging"
    assert heavy(modules) == []


def test_compare_json_loads_no_textual_pglast_or_rich_tables(fresh_db, other_db):
    run_sql(fresh_db, "create table public.a (id int primary key)")
    code, out, modules = run_cli("compare", fresh_db, other_db, "--json")
    assert code == 1
    assert json.loads(out)["differences"]
    assert heavy(modules) == []


def test_identifier_quoting_reads_pglasts_keywords():
    """``ident`` loads pglast's keyword lists on its own; they are the very sets ``pglast.keywords`` holds."""
    import pglast.keywords as kw

    from wizard.db import sqltext

    assert sqltext._keywords() is kw  # once pglast is imported, its own module is used
    code = "import sys; from wizard.db import sqltext; print(sorted(sqltext._needs_quotes()), 'pglast' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = kw.RESERVED_KEYWORDS | kw.TYPE_FUNC_NAME_KEYWORDS | kw.COL_NAME_KEYWORDS
    assert proc.stdout.strip() == f"{sorted(expected)} False"
    quoted = [sqltext.ident(n) for n in ("select", "int", "videos", "Videos")]
    assert quoted == ['"select"', '"int"', "videos", '"Videos"']
