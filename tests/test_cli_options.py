"""``--project`` and ``--target`` before or after the subcommand (issue #13): after wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard.cli import build_parser, command_parsers, main
from wizard.commands import COMMANDS

# The positionals each command needs besides its options.
REQUIRED = {"compare": ["dbname=a", "dbname=b"], "rollback": ["archive"]}


def argv_of(name: str) -> list[str]:
    return [name, *REQUIRED.get(name, [])]


def options_of(name: str) -> set[str]:
    parser = command_parsers(build_parser())[name]
    found = {s for a in parser._actions for s in a.option_strings}
    if name == "rollback":  # the action's own parser
        sub = next(a for a in parser._actions if a.dest == "rollback_action")
        found |= {s for a in sub.choices["archive"]._actions for s in a.option_strings}
    return found


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_project_and_target_before_the_subcommand(name):
    args = build_parser().parse_args(["--project", "before", "--target", "t0", *argv_of(name)])
    assert args.command == name
    assert args.project == Path("before") and args.target == "t0"


@pytest.mark.parametrize("name", [c.name for c in COMMANDS if "--project" in options_of(c.name)])
def test_project_and_target_after_the_subcommand_win(name):
    parser = build_parser()
    after = parser.parse_args([*argv_of(name), "--project", "after"])
    assert after.project == Path("after") and after.target is None
    both = parser.parse_args(["--project", "before", "--target", "t0", *argv_of(name), "--project", "after"])
    assert both.project == Path("after") and both.target == "t0"
    if "--target" in options_of(name):
        both = parser.parse_args(["--target", "t0", *argv_of(name), "--target", "t1"])
        assert both.target == "t1" and both.project == Path(".")


def test_defaults_without_either():
    args = build_parser().parse_args(["status"])
    assert args.project == Path(".") and args.target is None


def test_rollback_takes_them_before_its_action_too():
    args = build_parser().parse_args(["rollback", "--target", "t0", "record", "--project", "p"])
    assert args.target == "t0" and args.project == Path("p") and args.rollback_action == "record"


def test_plain_before_demo_is_kept():
    assert build_parser().parse_args(["--plain", "demo"]).plain is True
    assert build_parser().parse_args(["demo", "--plain"]).plain is True
    assert build_parser().parse_args(["demo"]).plain is False


def test_status_with_project_before_the_subcommand(fresh_db, make_project, capsys, tmp_path, monkeypatch):
    project = make_project(fresh_db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no consolidate.toml here: the option must be used
    assert main(["--project", str(project), "--target", "staging", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "staging"
    # Given after as well, the one after the subcommand wins.
    assert main(["--project", str(elsewhere), "status", "--project", str(project), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "staging"
    assert main(["--project", str(project), "--target", "nope", "status"]) == 2
    assert "nope" in capsys.readouterr().err
