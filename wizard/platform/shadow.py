"""Scratch ("shadow") databases: fresh, bootstrapped, cheap, and always cleaned up.

A scratch database is cloned from a template that holds the Supabase bootstrap
(``wizard/sql/bootstrap.sql``), so each costs one ``CREATE DATABASE ... TEMPLATE``
(tens of milliseconds) instead of re-running the bootstrap.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

from wizard.db.connect import open_session
from wizard.errors import ShadowError
from wizard.platform import embedded, standins
from wizard.project.config import Config, resolve_dsn
from wizard.state.journal import private_dir

SCRATCH_PREFIX = "cw_scratch_"


def bootstrap_sql() -> str:
    """The Supabase bootstrap applied to every scratch database."""
    return resources.files("wizard.platform").joinpath("sql/bootstrap.sql").read_text(encoding="utf-8")


@dataclass
class Shadow:
    """A server on which we may create and drop databases.

    Attributes:
        admin_dsn: A DSN for a maintenance database on that server (never a scratch one).
        bin_dir: Where matching client tools (pg_dump, pg_restore) live, if known.
    """

    admin_dsn: str
    bin_dir: Path | None = None
    _version: int | None = None

    def dsn_for(self, dbname: str) -> str:
        """The admin DSN pointed at another database of the same server."""
        return conninfo.make_conninfo(self.admin_dsn, dbname=dbname)

    def _admin(self) -> psycopg.Connection:
        return open_session(self.admin_dsn, read_only=False)

    @property
    def server_version_num(self) -> int:
        if self._version is None:
            with self._admin() as conn:
                self._version = conn.info.server_version
        return self._version

    def template(self) -> str:
        """Name of the bootstrapped template database, created on first use."""
        text = bootstrap_sql()
        # The template is rebuilt whenever the bootstrap or a stand-in extension changes.
        name = "cw_template_" + hashlib.sha256((text + standins.digest()).encode()).hexdigest()[:12]
        with self._admin() as conn:
            # Serialise creation between processes sharing the server.
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
            try:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    building = f"{name}_building"
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(building)))
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
                    try:
                        with open_session(self.dsn_for(building), read_only=False) as db:
                            db.execute(text)
                    except psycopg.Error as exc:
                        raise ShadowError(
                            f"the Supabase bootstrap failed on the shadow server: {exc}",
                            "check that the shadow role may create roles and schemas (a superuser)",
                        ) from None
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name))
                    )
                    conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name)))
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
        return name

    def create_database(self, name: str, *, bootstrap: bool = True) -> str:
        """Create database ``name`` (from the bootstrap template unless told otherwise); return its DSN."""
        template = self.template() if bootstrap else "template0"
        with self._admin() as conn:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            except psycopg.Error as exc:
                raise ShadowError(
                    f"cannot create database {name} on the shadow server: {exc.diag.message_primary or exc}",
                    "the shadow role needs CREATEDB; close other sessions on the template",
                ) from None
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting anyone still on it."""
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextmanager
    def scratch(self, purpose: str = "db", *, bootstrap: bool = True) -> Iterator[str]:
        """A fresh scratch database for the duration of the block; yields its DSN."""
        slug = re.sub(r"[^a-z0-9]+", "_", purpose.lower())[:20]
        name = f"{SCRATCH_PREFIX}{slug}_{secrets.token_hex(4)}"
        dsn = self.create_database(name, bootstrap=bootstrap)
        try:
            yield dsn
        finally:
            self.drop_database(name)


def embedded_root(config: Config) -> Path:
    """Where the project's embedded server keeps its files."""
    return private_dir(config.state_dir / "embedded")


def for_config(config: Config) -> Shadow:
    """The shadow server configured for a project (the embedded one by default)."""
    if config.shadow is None:
        srv = embedded.server(embedded_root(config))
        return Shadow(admin_dsn=srv.dsn("postgres"), bin_dir=embedded.bin_dir())
    return Shadow(admin_dsn=resolve_dsn(config.shadow))


def embedded_dsn(config: Config):
    """A ``dbname -> dsn`` resolver for targets that live on the project's embedded server."""

    def resolve(dbname: str) -> str:
        return embedded.server(embedded_root(config)).dsn(dbname)

    return resolve
