"""``consolidate init``: questionary prompts that write consolidate.toml (text from
:mod:`wizard.project.config_writer`)."""

from __future__ import annotations

import re
from pathlib import Path

import questionary
from rich.console import Console
from rich.syntax import Syntax

from wizard.errors import EXIT_OK, EXIT_USAGE, ConfigError
from wizard.project.config import CONFIG_NAME, ROLES
from wizard.project.config_writer import (
    DEFAULT_ARCHIVE_DIR,
    DEFAULT_MIGRATIONS_DIR,
    ShadowAnswer,
    TargetAnswer,
    render_config,
)
from wizard.state.journal import atomic_write

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SHADOW_EMBEDDED = "embedded PostgreSQL (nothing to install)"
SHADOW_DSN = "a server of mine (connection string in an environment variable)"


def _required(value: str) -> bool | str:
    return bool(value.strip()) or "required"


def _target_name(value: str) -> bool | str:
    return bool(_NAME.match(value.strip())) or "letters, digits, - and _ (it names a directory)"


def _env_name(value: str) -> bool | str:
    return bool(_ENV.match(value.strip())) or "an environment variable name, such as STAGING_DATABASE_URL"


def _ask(question: questionary.Question):
    answer = question.ask()
    if answer is None:  # Ctrl-C or end of input
        raise KeyboardInterrupt
    return answer


def ask_targets() -> list[TargetAnswer]:
    """Targets, staging first: name, role, and the environment variable holding the DSN."""
    targets: list[TargetAnswer] = []
    while True:
        default_role = "staging" if not targets else "production"
        name = _ask(questionary.text("Target name:", default=default_role, validate=_target_name)).strip()
        role = _ask(questionary.select(f"Role of {name}:", choices=list(ROLES), default=default_role))
        env = _ask(
            questionary.text(
                f"Environment variable holding {name}'s connection string:",
                default=f"{name.upper().replace('-', '_')}_DATABASE_URL",
                validate=_env_name,
            )
        ).strip()
        targets.append(TargetAnswer(name, role, dsn_env=env))
        if not _ask(questionary.confirm("Add another target?", default=len(targets) < 2)):
            return targets


def ask_config(root: Path) -> str:
    """Every answer, rendered and validated as consolidate.toml text."""
    migrations_dir = _ask(questionary.text("Migrations folder:", default=DEFAULT_MIGRATIONS_DIR, validate=_required))
    archive_dir = _ask(questionary.text("Archive folder (Phase 3):", default=DEFAULT_ARCHIVE_DIR, validate=_required))
    targets = ask_targets()
    kind = _ask(questionary.select("Scratch databases (shadow server):", choices=[SHADOW_EMBEDDED, SHADOW_DSN]))
    shadow = None
    if kind == SHADOW_DSN:
        shadow = ShadowAnswer(
            _ask(questionary.text("Environment variable:", default="SHADOW_DATABASE_URL", validate=_env_name)).strip()
        )
    test_command = _ask(questionary.text("Project test command (empty: none):", default="")).strip() or None
    return render_config(
        targets,
        migrations_dir=migrations_dir.strip(),
        archive_dir=archive_dir.strip(),
        shadow=shadow,
        test_command=test_command,
        root=root,
    )


def run_init(project: Path | str = ".", *, force: bool = False, console: Console | None = None) -> int:
    """Ask, show, confirm and write ``consolidate.toml`` in ``project``; returns the exit code."""
    console = console or Console(highlight=False)
    root = Path(project).resolve()
    path = root / CONFIG_NAME
    if path.exists() and not force:
        console.print(f"{path} already exists; pass --force to replace it", markup=False)
        return EXIT_USAGE
    try:
        while True:
            try:
                text = ask_config(root)
            except ConfigError as exc:
                console.print(f"[bold red]not valid:[/] {exc.message}")
                continue
            console.print(Syntax(text, "toml", theme="ansi_dark"))
            if _ask(questionary.confirm(f"Write {path}?", default=True)):
                break
            if not _ask(questionary.confirm("Answer the questions again?", default=True)):
                console.print("nothing written", markup=False)
                return EXIT_USAGE
    except KeyboardInterrupt:
        console.print("cancelled: nothing written", markup=False)
        return EXIT_USAGE
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, mode=0o644)
    console.print(f"wrote {path}; it holds no password (set the environment variables named in it)", markup=False)
    return EXIT_OK
