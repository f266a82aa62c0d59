"""Each target is its own database: two targets that point at the same one are refused.

A staging rehearsal on the production database, or production's gates satisfied by
staging's evidence, would defeat the protocol. Two checks, both called whenever a target
is opened (``consolidate`` commands and the wizard):

* :func:`check_static`, before connecting: two targets with the same resolved connection
  (host, port and database; or the same service, or the same embedded database);
* :func:`check_live`, once connected: the live identity equals the identity recorded in
  another target's journal (system identifier and database oid; host, port, name and oid
  when the system identifier is unreadable, see :func:`wizard.backup.gate.same_database`), or,
  for a target that recorded none yet, the identity its connection reaches now (so the
  target that happens to connect first does not claim the database).
"""

from __future__ import annotations

import os
from typing import Any

import psycopg

from wizard.db.connect import Identity, open_session, same_database
from wizard.db.connect import identity as read_identity
from wizard.db.dsn import parse
from wizard.errors import ConfigError, WizardError
from wizard.project.config import Config, DsnSource, Target, resolve_dsn
from wizard.state.journal import Journal


def _where(target: Target) -> str:
    return f"targets.{target.name} ({target.source.describe()})"


def _key(source: DsnSource) -> str | None:
    """The database a source connects to, as ``host:port/dbname``; None when it cannot be told yet."""
    if source.embedded_database:
        return f"embedded database {source.embedded_database}"
    try:
        params = parse(resolve_dsn(source))
    except WizardError:
        return None  # unset environment variable or invalid DSN: reported when that target is used
    if "service" in params and "host" not in params:
        return f"service={params['service']}" + (f" dbname={params['dbname']}" if "dbname" in params else "")
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    return f"{host}:{port}/{params.get('dbname') or os.environ.get('PGDATABASE') or user}"


def _others(config: Config, target: Target) -> list[Target]:
    return [t for t in config.targets.values() if t.name != target.name]


def _pair(config: Config, target: Target, other: Target) -> str:
    names = list(config.targets)
    first, second = sorted((target.name, other.name), key=names.index)
    return f"targets {first} and {second}"


def check_static(config: Config, target: Target) -> None:
    """Refuse when another target's connection settings name the same database as ``target``'s.

    Raises:
        ConfigError: two targets resolve to the same host, port and database.
    """
    mine = _key(target.source)
    if mine is None:
        return
    for other in _others(config, target):
        if _key(other.source) == mine:
            raise ConfigError(
                f"{_pair(config, target, other)} point at the same database ({mine})",
                f"give each target its own database: fix {_where(target)} or {_where(other)} in consolidate.toml",
            )


def recorded_identity(journal: Journal) -> dict[str, Any] | None:
    """The identity in the journal's latest event that has one."""
    for event in reversed(journal.events()):
        if isinstance(event.get("identity"), dict):
            return event["identity"]
    return None


def live_identity(target: Target) -> Identity | None:
    """The identity of ``target``'s database now, or None when it cannot be reached (or lives on the
    embedded server, whose database names :func:`check_static` already compares)."""
    if target.source.embedded_database:
        return None
    try:
        with open_session(resolve_dsn(target.source), connect_timeout=5) as conn:
            return read_identity(conn)
    except (WizardError, psycopg.Error):
        return None


def check_live(config: Config, target: Target, identity: Identity) -> None:
    """Refuse when another target's journal recorded this very database, or, for another target that
    recorded none yet, when its connection reaches this very database now: whichever target
    connects first claims nothing, both are refused until one of them is fixed.

    Raises:
        ConfigError: the live identity equals another target's recorded or live identity.
    """
    for other in _others(config, target):
        path = config.state_dir / other.name / "journal.jsonl"
        recorded = recorded_identity(Journal(path)) if path.is_file() else None
        if recorded is None:
            live = live_identity(other)
            same, basis = same_database(live.to_dict(), identity) if live else (False, "")
            if same:
                raise ConfigError(
                    f"{_pair(config, target, other)} point at the same database ({identity.describe()}; "
                    f"compared by {basis} with where {other.name} connects now)",
                    f"give each target its own database: fix {_where(target)} or {_where(other)} in consolidate.toml",
                )
            continue
        same, basis = same_database(recorded, identity)
        if same:
            raise ConfigError(
                f"{_pair(config, target, other)} point at the same database ({identity.describe()}; "
                f"compared by {basis} with the journal of {other.name})",
                f"point {_where(target)} at its own database; if {other.name}'s database really moved, "
                f"move .consolidate/{other.name} out of the project first",
            )
