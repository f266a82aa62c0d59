"""consolidate.toml: where the migrations live, which databases are targets, which server is the shadow.

Example::

    [project]
    migrations_dir = "supabase/migrations"         # default
    archive_dir = "supabase/migrations_archive"    # default

    [shadow]                 # optional; the embedded server is the default
    kind = "embedded"        # or "dsn" with dsn_env / service

    [backup]                        # optional
    directory_format_above_mb = 1024  # larger targets: pg_dump -Fd with parallel jobs
    verify_reserve_mb = 256           # free space the shadow's disk keeps after a verification restore

    [targets.staging]
    dsn_env = "STAGING_DATABASE_URL"   # or: service = "staging" (pg_service.conf)
    role = "staging"                   # or "production"
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.db.dsn import parse
from wizard.errors import ConfigError

CONFIG_NAME = "consolidate.toml"
ROLES = ("staging", "production")
_TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_RESERVED_NAMES = ("backups", "embedded")  # directories of .consolidate/ that are not targets
_DSN_SOURCES = ("dsn_env", "service", "dsn", "embedded_database")


@dataclass(frozen=True)
class DsnSource:
    """Where a connection string comes from; never holds a password itself.

    Exactly one of the fields is set. ``embedded_database`` names a database on the
    project's embedded server (used by ``consolidate demo``).
    """

    dsn_env: str | None = None
    service: str | None = None
    dsn: str | None = None
    embedded_database: str | None = None

    def describe(self) -> str:
        """Where the DSN comes from, for messages."""
        if self.dsn_env:
            return f"environment variable {self.dsn_env}"
        if self.service:
            return f"libpq service {self.service!r}"
        if self.embedded_database:
            return f"database {self.embedded_database!r} on the embedded server"
        return "dsn in consolidate.toml"


@dataclass(frozen=True)
class Target:
    """A database the protocol runs against."""

    name: str
    role: str
    source: DsnSource

    @property
    def is_production(self) -> bool:
        return self.role == "production"


@dataclass(frozen=True)
class BackupSettings:
    """The ``[backup]`` table.

    Attributes:
        directory_format_above_mb: Targets at least this large (``pg_database_size``) are dumped in
            the directory format with parallel jobs; smaller ones into one custom-format file.
        verify_reserve_mb: Free space that must remain where the shadow server keeps its data
            after a verification restores a backup of the target's size.
    """

    directory_format_above_mb: float = 1024.0
    verify_reserve_mb: float = 256.0


_BACKUP_KEYS = {"directory_format_above_mb": 1024, "verify_reserve_mb": 256}


def _backup_settings(table: Any) -> BackupSettings:
    if not isinstance(table, dict):
        raise ConfigError("backup must be a table", "write it as [backup]")
    unknown = set(table) - set(_BACKUP_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [backup]: {', '.join(sorted(unknown))}", f"allowed: {', '.join(_BACKUP_KEYS)}"
        )
    values: dict[str, float] = {}
    for key, default in _BACKUP_KEYS.items():
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"backup.{key} must be a number of megabytes (0 or more)", f"set backup.{key} = {default}"
            )
        values[key] = float(value)
    return BackupSettings(**values)


@dataclass(frozen=True)
class Config:
    """The parsed consolidate.toml of one project."""

    root: Path
    migrations_dir: Path
    archive_dir: Path
    targets: dict[str, Target] = field(default_factory=dict)
    shadow: DsnSource | None = None  # None: the embedded server
    test_command: str | None = None
    backup_max_age_hours: float = 24.0
    exclude_data: tuple[str, ...] = ()  # tables whose rows the baseline does not carry (``schema.table``)
    backup: BackupSettings = field(default_factory=BackupSettings)

    @property
    def state_dir(self) -> Path:
        """The project's private state directory (journal, backups, embedded server)."""
        return self.root / ".consolidate"

    def target(self, name: str | None) -> Target:
        """The named target; with no name, the only one there is."""
        if name is None:
            if len(self.targets) == 1:
                return next(iter(self.targets.values()))
            names = ", ".join(sorted(self.targets)) or "none"
            raise ConfigError(f"{CONFIG_NAME} defines several targets ({names})", "pass --target NAME")
        try:
            return self.targets[name]
        except KeyError:
            names = ", ".join(sorted(self.targets)) or "none"
            raise ConfigError(
                f"no target {name!r} in {self.root / CONFIG_NAME} (targets: {names})",
                f"add a [targets.{name}] table or pick one of the defined targets",
            ) from None


def _dsn_source(table: dict[str, Any], where: str) -> DsnSource:
    given = [k for k in _DSN_SOURCES if k in table]
    if len(given) != 1:
        raise ConfigError(
            f"{where} needs exactly one of {', '.join(_DSN_SOURCES)} (found {given or 'none'})",
            f'set for example {where.split(" ")[0]}.dsn_env = "STAGING_DATABASE_URL"',
        )
    key = given[0]
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} must be a non-empty string", f"fix {where}.{key}")
    if key == "dsn" and "password" in parse(value):
        raise ConfigError(
            f"{where}.dsn contains a password; consolidate.toml must hold no secrets",
            f"move it to an environment variable and use {where}.dsn_env, or use ~/.pgpass",
        )
    return DsnSource(**{key: value})


def _path(root: Path, table: dict[str, Any], key: str, default: str) -> Path:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"project.{key} must be a path string", f'set project.{key} = "{default}"')
    return (root / value).resolve()


def load(root: Path | str = ".") -> Config:
    """Read and validate ``consolidate.toml`` in ``root``.

    Raises:
        ConfigError: the file is missing, not TOML, or a key is invalid (the key is named).
    """
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no {CONFIG_NAME} in {root}",
            "run `consolidate init` there, or pass --project DIR",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "fix the syntax") from None
    return from_dict(root, data)


def from_dict(root: Path, data: dict[str, Any]) -> Config:
    """Validate an already-parsed configuration (see :func:`load`)."""
    unknown = set(data) - {"project", "shadow", "backup", "targets"}
    if unknown:
        raise ConfigError(
            f"unknown key(s) in {CONFIG_NAME}: {', '.join(sorted(unknown))}",
            "allowed tables are [project], [shadow], [backup] and [targets.NAME]",
        )
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise ConfigError("project must be a table", "write it as [project]")
    unknown_project = set(project) - {
        "migrations_dir",
        "archive_dir",
        "test_command",
        "backup_max_age_hours",
        "exclude_data",
    }
    if unknown_project:
        raise ConfigError(
            f"unknown key(s) in [project]: {', '.join(sorted(unknown_project))}",
            "allowed: migrations_dir, archive_dir, test_command, backup_max_age_hours, exclude_data",
        )
    exclude_data = project.get("exclude_data", [])
    if not isinstance(exclude_data, list) or not all(isinstance(t, str) and t for t in exclude_data):
        raise ConfigError(
            "project.exclude_data must be a list of table names", 'write project.exclude_data = ["public.audit_log"]'
        )
    max_age = project.get("backup_max_age_hours", 24)
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age <= 0:
        raise ConfigError(
            "project.backup_max_age_hours must be a positive number of hours", "set project.backup_max_age_hours = 24"
        )
    test_command = project.get("test_command")
    if test_command is not None and not isinstance(test_command, str):
        raise ConfigError("project.test_command must be a string", "quote the command")

    shadow = None
    shadow_table = data.get("shadow")
    if shadow_table is not None:
        if not isinstance(shadow_table, dict):
            raise ConfigError("shadow must be a table", 'write it as [shadow] kind = "embedded"')
        kind = shadow_table.get("kind", "embedded" if len(shadow_table) == 0 else "dsn")
        if kind not in ("embedded", "dsn"):
            raise ConfigError(
                f"shadow.kind must be 'embedded' or 'dsn', not {kind!r}",
                'set shadow.kind = "embedded"',
            )
        if kind == "dsn":
            rest = {k: v for k, v in shadow_table.items() if k != "kind"}
            shadow = _dsn_source(rest, "shadow")
            if shadow.embedded_database:
                raise ConfigError("shadow cannot be an embedded_database", 'use shadow.kind = "embedded"')

    targets_table = data.get("targets", {})
    if not isinstance(targets_table, dict):
        raise ConfigError("targets must be a table of tables", "write [targets.staging]")
    targets: dict[str, Target] = {}
    for name, table in targets_table.items():
        where = f"targets.{name}"
        if not _TARGET_NAME.match(name) or name in _RESERVED_NAMES:
            raise ConfigError(
                f"target name {name!r} is not allowed (letters, digits, - and _; not {', '.join(_RESERVED_NAMES)})",
                "rename the [targets.NAME] table",
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table", f"write it as [{where}]")
        role = table.get("role")
        if role not in ROLES:
            raise ConfigError(
                f"{where}.role must be 'staging' or 'production', not {role!r}",
                f'set {where}.role = "staging"',
            )
        extra = set(table) - {"role", *_DSN_SOURCES}
        if extra:
            raise ConfigError(
                f"unknown key(s) in {where}: {', '.join(sorted(extra))}",
                f"allowed: role, {', '.join(_DSN_SOURCES)}",
            )
        targets[name] = Target(name=name, role=role, source=_dsn_source(table, where))

    return Config(
        root=root,
        migrations_dir=_path(root, project, "migrations_dir", "supabase/migrations"),
        archive_dir=_path(root, project, "archive_dir", "supabase/migrations_archive"),
        targets=targets,
        shadow=shadow,
        test_command=test_command,
        backup_max_age_hours=float(max_age),
        exclude_data=tuple(exclude_data),
        backup=_backup_settings(data.get("backup", {})),
    )


def resolve_dsn(source: DsnSource, embedded_dsn: Any = None) -> str:
    """Turn a DSN source into a connection string.

    Args:
        source: Where the DSN comes from.
        embedded_dsn: A callable ``(dbname) -> dsn`` for the project's embedded server,
            needed only for ``embedded_database`` sources.

    Raises:
        ConfigError: the environment variable is unset or empty.
    """
    if source.dsn_env:
        value = os.environ.get(source.dsn_env, "").strip()
        if not value:
            raise ConfigError(
                f"environment variable {source.dsn_env} is not set",
                f"export {source.dsn_env}=postgresql://user@host:5432/dbname (password via ~/.pgpass or PGPASSWORD)",
            )
        return value
    if source.service:
        return f"service={source.service}"
    if source.embedded_database:
        if embedded_dsn is None:
            raise ConfigError("the embedded server is not available here", "use dsn_env")
        return embedded_dsn(source.embedded_database)
    assert source.dsn is not None
    return source.dsn
