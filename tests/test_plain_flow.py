"""questionary flows (``consolidate init`` and ``consolidate --plain``) driven through prompt_toolkit's pipe input."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from screens.init_flow import run_init
from screens.plain import run_plain
from wizard import demo
from wizard.errors import ConfigError
from wizard.platform import embedded
from wizard.platform import shadow as shadow_mod
from wizard.project import config
from wizard.project.config_writer import ShadowAnswer, TargetAnswer, render_config
from wizard.state import events, protocol
from wizard.state.journal import Journal

ENTER = "\r"


@contextmanager
def typed(keys: str) -> Iterator[None]:
    """Answer every questionary prompt in the block from ``keys``."""
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        with create_app_session(input=pipe, output=DummyOutput()):
            yield


def quiet() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, highlight=False), out


def test_init_writes_a_valid_config_from_the_defaults(tmp_path: Path) -> None:
    console, out = quiet()
    # migrations dir, archive dir, staging (name, role, env, add another: yes),
    # production (name, role, env, add another: no), shadow embedded, no test command, write: yes
    keys = ENTER * 2 + ENTER * 3 + "y" + ENTER * 3 + "n" + ENTER + ENTER + "y"
    with typed(keys):
        assert run_init(tmp_path, console=console) == 0, out.getvalue()
    cfg = config.load(tmp_path)
    assert {n: t.role for n, t in cfg.targets.items()} == {"staging": "staging", "production": "production"}
    assert cfg.targets["production"].source.dsn_env == "PRODUCTION_DATABASE_URL"
    assert cfg.shadow is None
    assert cfg.migrations_dir == (tmp_path / "supabase/migrations").resolve()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "consolidate.toml").write_text("[targets]\n")
    console, out = quiet()
    assert run_init(tmp_path, console=console) == 2
    assert "--force" in out.getvalue()


def test_render_config_is_validated_by_the_loader(tmp_path: Path) -> None:
    text = render_config(
        [TargetAnswer("staging", "staging", dsn_env="S_URL"), TargetAnswer("prod", "production", service="prod")],
        shadow=ShadowAnswer("SHADOW_URL"),
        test_command='npm test -- --grep "db"',
        root=tmp_path,
    )
    (tmp_path / "consolidate.toml").write_text(text)
    cfg = config.load(tmp_path)
    assert cfg.test_command == 'npm test -- --grep "db"'
    assert cfg.shadow is not None and cfg.shadow.dsn_env == "SHADOW_URL"
    assert cfg.targets["prod"].source.service == "prod"
    with pytest.raises(ConfigError, match="not allowed"):
        render_config([TargetAnswer("backups", "staging", dsn_env="X")], root=tmp_path)
    with pytest.raises(ConfigError, match="given twice"):
        render_config([TargetAnswer("a", "staging", dsn_env="X"), TargetAnswer("a", "staging", dsn_env="Y")])


@pytest.fixture(scope="module")
def plain_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = demo.prepare(tmp_path_factory.mktemp("plain") / "eav").directory
    yield directory
    embedded.server(shadow_mod.embedded_root(config.load(directory))).release()


def test_plain_refuses_production_before_a_rehearsal(plain_project: Path) -> None:
    console, out = quiet()
    with typed(""):
        assert run_plain(plain_project, target="production", console=console) == 2
    assert "no completed rehearsal" in out.getvalue()


def test_plain_runs_the_whole_protocol_on_staging(plain_project: Path) -> None:
    console, out = quiet()
    # target: staging (first); team notified: y; take backup: y; archive: y; record: type the name
    keys = ENTER + "y" + "y" + "y" + "eav_staging" + ENTER
    with typed(keys):
        code = run_plain(plain_project, console=console)
    text = out.getvalue()
    assert code == 0, text
    journal = Journal.for_target(config.load(plain_project).state_dir, "staging")
    assert all(s.status == protocol.DONE for s in protocol.states(journal))
    assert journal.last(events.REPORT_WRITTEN) is not None
    assert "protocol complete" in text and "16/16" in text
