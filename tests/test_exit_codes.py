"""Exit codes are documented per command (docs/exit-codes.md) and consistent (issue #13)."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from tests.conftest import run_sql
from tests.test_cli import HISTORY, apply_history
from wizard.cli import build_parser, command_parsers, main
from wizard.commands import COMMANDS


def command_lines() -> list[list[str]]:
    """Every command line the CLI registers: each command, and each action of one that has actions."""
    lines = []
    for name, parser in command_parsers(build_parser()).items():
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if actions:
            lines += [[name, action] for action in actions[0].choices]
        else:
            lines.append([name])
    return lines


def documented(request: pytest.FixtureRequest) -> set[str]:
    text = (request.config.rootpath / "docs" / "exit-codes.md").read_text()
    return set(re.findall(r"^\| `consolidate ([a-z -]+)` \|", text, flags=re.M))


def test_every_command_is_in_the_exit_code_table(request):
    table = documented(request)
    lines = {" ".join(line) for line in command_lines()}
    assert {c.name for c in COMMANDS} <= {line.split()[0] for line in lines}
    assert lines - table == set(), "commands missing from docs/exit-codes.md"
    assert table - lines == set(), "docs/exit-codes.md lists commands that do not exist"


@pytest.mark.parametrize("line", command_lines(), ids=" ".join)
def test_every_command_has_help(line, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exc:
        main([*line, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: consolidate {' '.join(line)}")
    assert "options:" in out


def test_inspect_exits_1_on_remote_only_versions(fresh_db, make_project, capsys):
    apply_history(fresh_db)
    project = make_project(fresh_db, HISTORY)
    assert main(["inspect", "--project", str(project), "--no-rows", "--json"]) == 0
    capsys.readouterr()
    # A version applied on the target whose file is not in the project.
    run_sql(fresh_db, "insert into supabase_migrations.schema_migrations (version) values ('20231201000000')")
    assert main(["inspect", "--project", str(project), "--no-rows", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["history"]["applied_not_local"] == ["20231201000000"]
    assert main(["inspect", "--project", str(project), "--no-rows"]) == 1
    assert "applied on the target but missing locally: 20231201000000" in capsys.readouterr().out


def test_nothing_to_roll_back_exits_0_for_both_rollbacks(fresh_db, make_project, capsys):
    apply_history(fresh_db)
    project = make_project(fresh_db, HISTORY)
    codes = {}
    for action in ("record", "archive"):
        codes[action] = main(["rollback", action, "--project", str(project)])
        assert "nothing to roll back" in capsys.readouterr().out
        assert main(["rollback", action, "--project", str(project), "--json"]) == codes[action]
        assert json.loads(capsys.readouterr().out)["already_done"] is True
    assert codes == {"record": 0, "archive": 0}
