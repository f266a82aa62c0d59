"""Write ``consolidate.toml``: the text that ``consolidate init`` saves, validated before it is saved.

:func:`render_config` is pure: it turns the operator's answers into TOML text and proves
the text valid by parsing it back through :func:`wizard.project.config.from_dict`, so an
answer the loader would refuse (a bad target name, a password in a DSN) is refused here,
with the same message, before anything is written.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wizard.errors import ConfigError
from wizard.project.config import CONFIG_NAME, Config, from_dict

DEFAULT_MIGRATIONS_DIR = "supabase/migrations"
DEFAULT_ARCHIVE_DIR = "supabase/migrations_archive"


@dataclass(frozen=True)
class TargetAnswer:
    """One target as the operator described it.

    Attributes:
        name: The ``[targets.NAME]`` name.
        role: ``staging`` or ``production``.
        dsn_env: The environment variable that holds its connection string.
        service: A libpq service name instead of ``dsn_env``.
    """

    name: str
    role: str
    dsn_env: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class ShadowAnswer:
    """Where scratch databases are made: the embedded server (no ``dsn_env``) or a server of the operator's."""

    dsn_env: str | None = None


def _q(value: str) -> str:
    """A TOML basic string (JSON string syntax is valid TOML for the characters we accept)."""
    return json.dumps(value, ensure_ascii=False)


def render_config(
    targets: Sequence[TargetAnswer],
    *,
    migrations_dir: str = DEFAULT_MIGRATIONS_DIR,
    archive_dir: str = DEFAULT_ARCHIVE_DIR,
    shadow: ShadowAnswer | None = None,
    test_command: str | None = None,
    root: Path | None = None,
) -> str:
    """The text of a ``consolidate.toml`` for these answers.

    Args:
        targets: At least one target; names must be unique.
        migrations_dir: Relative to the project root.
        archive_dir: Relative to the project root.
        shadow: None or an answer without ``dsn_env``: the embedded server.
        test_command: The project's test command (pre-flight and validation run it).
        root: The project root used to validate the result (the current directory by default).

    Raises:
        ConfigError: the answers do not make a valid configuration (the key is named).
    """
    if not targets:
        raise ConfigError("no target given", "describe at least one target (a staging one to rehearse on)")
    names = [t.name for t in targets]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"target {duplicate!r} is given twice", "give each target its own name")
    lines = [
        f"# {CONFIG_NAME}: written by `consolidate init`; see `consolidate --help`.",
        "# It never holds a password: connection strings come from the environment variables named here.",
        "",
        "[project]",
        f"migrations_dir = {_q(migrations_dir)}",
        f"archive_dir = {_q(archive_dir)}",
    ]
    if test_command:
        lines.append(f"test_command = {_q(test_command)}")
    lines.append("")
    if shadow is not None and shadow.dsn_env:
        lines += ["[shadow]", 'kind = "dsn"', f"dsn_env = {_q(shadow.dsn_env)}", ""]
    else:
        lines += ["# Scratch databases are made on an embedded PostgreSQL (under .consolidate/embedded).", ""]
    for target in targets:
        lines.append(f"[targets.{target.name}]" if _bare(target.name) else f"[targets.{_q(target.name)}]")
        if target.service:
            lines.append(f"service = {_q(target.service)}")
        else:
            lines.append(f"dsn_env = {_q(target.dsn_env or '')}")
        lines += [f"role = {_q(target.role)}", ""]
    text = "\n".join(lines).rstrip("\n") + "\n"
    validate(text, root)
    return text


def _bare(name: str) -> bool:
    return bool(name) and all((c.isalnum() and c.isascii()) or c in "-_" for c in name)


def validate(text: str, root: Path | None = None) -> Config:
    """Parse ``text`` as the loader would; returns the configuration.

    Raises:
        ConfigError: the text is not valid TOML or not a valid configuration.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the generated {CONFIG_NAME} is not valid TOML: {exc}", "report this as a bug") from None
    return from_dict((root or Path(".")).resolve(), data)
