"""The demo project: the seed's "EAV Orchestrator", with 14 migrations and hand-made drift.

:func:`prepare` writes a project directory (migrations, ``consolidate.toml``) and builds
two databases on the project's embedded server, ``eav_staging`` and ``eav_production``.
Each is built the way a real project drifts: the 14 migrations are replayed, recorded in
``supabase_migrations.schema_migrations`` as the Supabase CLI does, then changed by hand
(``drift.sql``) and filled with 467 rows (:mod:`wizard.demo.data`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wizard.db.connect import open_session
from wizard.demo import data
from wizard.errors import ReplayFailed, WizardError
from wizard.history import files as migrations
from wizard.history import replay
from wizard.platform import shadow as shadow_mod
from wizard.project import config as config_mod

#: The demo's targets: name -> (role, database on the embedded server).
TARGETS: dict[str, tuple[str, str]] = {
    "staging": ("staging", "eav_staging"),
    "production": ("production", "eav_production"),
}

#: What Phase 1 should count on either target (the seed plan's numbers).
EXPECTED_COUNTS: dict[str, int] = {
    "tables": 7,
    "indexes": 16,
    "functions": 7,
    "policies": 18,
    "triggers": 2,
    "rows": data.TOTAL_ROWS,
}

_CONFIG = """\
# The demo project made by `consolidate demo`: both targets are databases on this
# project's embedded PostgreSQL server (.consolidate/embedded).

[targets.staging]
embedded_database = "eav_staging"
role = "staging"

[targets.production]
embedded_database = "eav_production"
role = "production"
"""


@dataclass(frozen=True)
class DemoTarget:
    """One target of the demo project."""

    name: str
    role: str
    database: str


@dataclass(frozen=True)
class DemoProject:
    """A prepared demo project directory and its targets."""

    directory: Path
    targets: tuple[DemoTarget, ...]

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    def describe_targets(self) -> str:
        """``staging (role staging), production (role production)``."""
        return ", ".join(f"{t.name} (role {t.role})" for t in self.targets)


def migration_sources() -> dict[str, str]:
    """The demo's migration files, name -> text, in version order."""
    folder = resources.files(__package__).joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return {f.name: f.read_text(encoding="utf-8") for f in files}


def drift_sql() -> str:
    """The hand-made changes applied to both databases after the migrations."""
    return resources.files(__package__).joinpath("drift.sql").read_text(encoding="utf-8")


def write_project(directory: Path) -> None:
    """Write the migrations, ``consolidate.toml`` and ``.gitignore`` into ``directory``.

    Raises:
        WizardError: ``directory`` exists and is not empty, or is not a directory.
    """
    if directory.exists():
        if not directory.is_dir():
            raise WizardError(f"{directory} exists and is not a directory", "pass a new directory for the demo")
        if any(directory.iterdir()):
            raise WizardError(
                f"{directory} already exists and is not empty",
                f"pass a new or empty directory, or delete {directory} first",
            )
    folder = directory / "supabase" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in migration_sources().items():
        (folder / name).write_text(text, encoding="utf-8")
    (directory / config_mod.CONFIG_NAME).write_text(_CONFIG, encoding="utf-8")
    (directory / ".gitignore").write_text(".consolidate/\n", encoding="utf-8")


def build_database(
    shadow: shadow_mod.Shadow, database: str, mset: migrations.MigrationSet, drift: str
) -> dict[str, int]:
    """(Re)create ``database`` and bring it to the demo's drifted, seeded state; return its row counts.

    Raises:
        ReplayFailed: a migration failed (a bug in the demo files).
    """
    shadow.drop_database(database)
    dsn = shadow.create_database(database)
    result = replay.replay(mset.files, dsn)
    if not result.ok:
        failure = result.failure.describe() if result.failure else "the replay was cancelled"
        raise ReplayFailed(
            f"the demo migrations failed on {database}: {failure}",
            "this is a bug in the demo migrations (wizard/demo/migrations); please report it",
        )
    with open_session(dsn, read_only=False) as conn:  # the replay wrote the history rows, as the CLI does
        with conn.transaction():
            conn.execute(drift)
        return data.insert(conn)


def prepare(directory: Path, *, progress: Callable[[str], None] | None = None) -> DemoProject:
    """Create the demo project in ``directory`` and build its two databases.

    Args:
        directory: A new or empty directory.
        progress: Called with a short message before each step.

    Raises:
        WizardError: ``directory`` is not empty, or a step of the build failed.
    """
    say = progress or (lambda _msg: None)
    directory = Path(directory).expanduser().resolve()
    say(f"writing the project to {directory}")
    write_project(directory)
    cfg = config_mod.load(directory)
    mset = migrations.discover(cfg.migrations_dir)
    if mset.errors or len(mset.files) != len(migration_sources()):
        raise WizardError(
            f"the demo migrations did not load: {mset.errors or 'files missing'}",
            "reinstall consolidation-wizard (the package data is incomplete)",
        )
    say("starting the embedded PostgreSQL server")
    shadow = shadow_mod.for_config(cfg)
    drift = drift_sql()
    targets = []
    for name, (role, database) in TARGETS.items():
        say(f"building {database} ({name}): {len(mset.files)} migrations, hand-made drift, seed rows")
        build_database(shadow, database, mset, drift)
        targets.append(DemoTarget(name, role, database))
    return DemoProject(directory, tuple(targets))
