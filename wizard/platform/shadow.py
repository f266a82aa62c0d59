"""Scratch ("shadow") databases: fresh, bootstrapped, cheap, and always cleaned up.

A scratch database is cloned from a template that holds the Supabase bootstrap
(``wizard/sql/bootstrap.sql``), so each costs one ``CREATE DATABASE ... TEMPLATE``
(tens of milliseconds) instead of re-running the bootstrap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

from wizard.db.connect import open_session, scalar
from wizard.errors import ShadowError, WizardError
from wizard.platform import embedded, mirror, owner, roles, standins
from wizard.platform.early_clone import EarlyClone, last_template, remember_template
from wizard.project.config import Config, resolve_dsn
from wizard.state.journal import private_dir

SCRATCH_PREFIX = "cw_scratch_"
#: A scratch database's comment: this, then the owner token of the run that made it.
OWNER_COMMENT = "consolidation-wizard scratch database of "


def bootstrap_sql() -> str:
    """The Supabase bootstrap applied to every scratch database."""
    return resources.files("wizard.platform").joinpath("sql/bootstrap.sql").read_text(encoding="utf-8")


@dataclass
class Shadow:
    """A server on which we may create and drop databases.

    Attributes:
        admin_dsn: A DSN for a maintenance database on that server (never a scratch one).
        bin_dir: Where matching client tools (pg_dump, pg_restore) live, if known.
        standin_root: A directory the server can read, where generated stand-in extensions are
            written (PostgreSQL 18's ``extension_control_path``); None where that is not possible.
    """

    admin_dsn: str
    bin_dir: Path | None = None
    standin_root: Path | None = None
    platform: mirror.Platform | None = None
    skip: frozenset[tuple[str, str]] = frozenset()
    undo: tuple[str, ...] = ()
    early: EarlyClone | None = None  # the first scratch database, being cloned while the platform is read
    hint_dir: Path | None = None  # where the mirror template used last is remembered (:mod:`.early_clone`)
    _version: int | None = None

    def mirroring(
        self, platform: mirror.Platform, skip: frozenset[tuple[str, str]] = frozenset(), undo: tuple[str, ...] = ()
    ) -> Shadow:
        """This server, whose scratch databases start as ``platform`` (the target's platform layer).

        Args:
            skip: Objects the user's layer creates itself, as ``(kind, name)``: not pre-created.
            undo: Statements that take the platform back to before the user's layer changed it (the
                inverse of its ``ALTER DEFAULT PRIVILEGES``, last first).
        """
        return replace(self, platform=platform, skip=frozenset(skip), undo=tuple(undo))

    def clone_early(self, directory: Path) -> Shadow:
        """This server, with its next scratch database already being cloned from the template last used.

        ``directory`` holds the target's platform files; the template a mirrored scratch database
        comes from is remembered there for the next run.
        """
        template = last_template(directory)
        name = f"{SCRATCH_PREFIX}early_{os.getpid()}_{secrets.token_hex(4)}"
        early = EarlyClone(self.admin_dsn, template, name) if template else None
        return replace(self, early=early, hint_dir=directory)

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

    def data_directory(self) -> Path | None:
        """Where this server keeps its data, when that is a directory on this machine (else None).

        A server reached over TCP on another host, or one whose role may not read
        ``data_directory``, gives None: its free space cannot be measured from here.
        """
        host = str(conninfo.conninfo_to_dict(self.admin_dsn).get("host") or "")
        if host and not host.startswith("/") and host not in ("localhost", "127.0.0.1", "::1"):
            return None
        try:
            with self._admin() as conn:
                data = scalar(conn.execute("SHOW data_directory"))
        except psycopg.Error:
            return None
        path = Path(str(data))
        return path if path.is_dir() else None

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

    def extension_path(self, plat: mirror.Platform) -> tuple[str | None, list[str]]:
        """The ``extension_control_path`` that creates ``plat``'s extensions here, and which are stand-ins.

        An extension this server has at the target's version is the real one; any other gets the
        stand-in generated from the target's catalog, written under :attr:`standin_root`.

        Raises:
            ShadowError: a stand-in is needed but this server cannot load one (one line, with the fix).
        """
        real = self.real_extensions()
        with self._admin() as conn:
            default = scalar(conn.execute("SHOW extension_control_path")) if self.server_version_num >= 180000 else ""
        missing = [
            e for e in plat.extensions if e.name not in mirror.BUILTIN_EXTENSIONS and (e.name, e.version) not in real
        ]
        if not missing:
            return None, []
        names = [f"{e.name} {e.version}" for e in missing]
        if self.standin_root is None or self.server_version_num < 180000:
            raise ShadowError(
                f"the shadow server lacks extension(s) the target has: {', '.join(names)}",
                "use the embedded server (no [shadow]): it loads stand-ins generated from the target; "
                "or install them on the shadow server",
            )
        dirs = []
        for ext in missing:
            gen = plat.standins[ext.name]
            folder = self.standin_root / f"{ext.name}-{gen.digest}"
            control = folder / "extension" / f"{ext.name}.control"
            if not control.exists():
                (folder / "extension").mkdir(parents=True, exist_ok=True)
                for d in (self.standin_root, folder, folder / "extension"):
                    d.chmod(0o755)
                script = folder / "extension" / f"{ext.name}--{gen.version}.sql"
                script.write_text(gen.script, encoding="utf-8")
                tmp = control.with_suffix(".tmp")
                tmp.write_text(gen.control, encoding="utf-8")
                for f in (script, tmp):
                    f.chmod(0o644)
                os.replace(tmp, control)
            dirs.append(str(folder))
        return ":".join([*dirs, default or "$system"]), [e.name for e in missing]

    def real_extensions(self) -> set[tuple[str, str]]:
        """The (name, version) of every real extension this server can create (stand-ins aside)."""
        with self._admin() as conn:
            rows = conn.execute("SELECT name, version, comment FROM pg_available_extension_versions").fetchall()
        return {(r[0], r[1]) for r in rows if standins.MARK not in (r[2] or "")}

    def mirror_template(
        self, plat: mirror.Platform, skip: frozenset[tuple[str, str]] = frozenset()
    ) -> tuple[str, str | None]:
        """The template database holding ``plat`` (built on first use); and the control path its clones need."""
        control_path, standin_names = self.extension_path(plat)
        key = plat.digest + "|" + repr(sorted(skip)) + "|" + (control_path or "") + "|" + "\n".join(self.undo)
        name = "cw_mirror_" + hashlib.sha256(key.encode()).hexdigest()[:12]
        with self._admin() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
            try:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    roles.create_missing(conn, plat.roles)
                    building = f"{name}_building"
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))
                    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(building)))
                    errors = mirror.restore_layers(
                        self.dsn_for(building),
                        plat,
                        plat.dump,
                        control_path,
                        user_layer=False,
                        skip=skip,
                        standin_names=tuple(n for n in standin_names if ("EXTENSION", n) not in skip),
                        undo=self.undo,
                    )
                    if errors:
                        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(building)))
                        raise ShadowError(
                            f"the target's platform could not be rebuilt on the shadow server "
                            f"({len(errors)} error(s)): {errors[0]}",
                            "report this with the line above; meanwhile point [shadow] at a server built "
                            "like the target",
                        )
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name))
                    )
                    conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name)))
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
        return name, control_path

    def with_options(self, dsn: str, control_path: str | None) -> str:
        """``dsn`` with the session setting that finds stand-in extensions, when one is needed."""
        if not control_path:
            return dsn
        return conninfo.make_conninfo(dsn, options="-c extension_control_path=" + control_path.replace(" ", "\\ "))

    def create_database(
        self,
        name: str,
        *,
        bootstrap: bool = True,
        platform: mirror.Platform | None = None,
        skip: frozenset[tuple[str, str]] = frozenset(),
    ) -> str:
        """Create database ``name`` and return its DSN.

        From the mirror of ``platform`` when given, else from the Supabase bootstrap template
        (``bootstrap``), else empty (``template0``).
        """
        control_path = None
        platform = platform or (self.platform if bootstrap else None)
        skip = skip or self.skip
        if platform is not None:
            template, control_path = self.mirror_template(platform, skip)
            if self.hint_dir is not None:
                remember_template(self.hint_dir, template)
        else:
            template = self.template() if bootstrap else "template0"
        early = self.early.take(template) if self.early is not None else None
        with self._admin() as conn:
            try:
                if early:
                    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(*map(sql.Identifier, (early, name))))
                else:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(*map(sql.Identifier, (name, template)))
                    )
            except psycopg.Error as exc:
                raise ShadowError(
                    f"cannot create database {name} on the shadow server: {exc.diag.message_primary or exc}",
                    "the shadow role needs CREATEDB; close other sessions on the template",
                ) from None
            if platform is not None:
                mirror.apply_settings(conn, name, platform)
        return self.with_options(self.dsn_for(name), control_path)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting anyone still on it."""
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextmanager
    def scratch(
        self,
        purpose: str = "db",
        *,
        bootstrap: bool = True,
        platform: mirror.Platform | None = None,
        skip: frozenset[tuple[str, str]] = frozenset(),
    ) -> Iterator[str]:
        """A fresh scratch database for the duration of the block; yields its DSN.

        With ``platform``, the database starts as the target's platform layer (:mod:`.mirror`).
        Its name carries this process's pid and its comment the owner token
        (:mod:`.owner`), so one left by a killed run is told from one in use.
        """
        slug = re.sub(r"[^a-z0-9]+", "_", purpose.lower())[:20]
        name = f"{SCRATCH_PREFIX}{slug}_{os.getpid()}_{secrets.token_hex(4)}"
        dsn = self.create_database(name, bootstrap=bootstrap, platform=platform, skip=skip)
        try:
            with self._admin() as conn:
                conn.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(name), sql.Literal(OWNER_COMMENT + owner.token())
                    )
                )
            yield dsn
        finally:
            # A server that cannot be reached now (crashed on a full disk, say) must not hide the
            # block's own outcome: the database is then a leftover that `consolidate status` shows
            # once this run is gone, and `consolidate status --clean` drops.
            with contextlib.suppress(psycopg.OperationalError, WizardError):
                self.drop_database(name)


def embedded_root(config: Config) -> Path:
    """Where the project's embedded server keeps its files."""
    return private_dir(config.state_dir / "embedded")


def for_config(config: Config) -> Shadow:
    """The shadow server configured for a project (the embedded one by default)."""
    if config.shadow is None:
        srv = embedded.server(embedded_root(config))
        return Shadow(admin_dsn=srv.dsn("postgres"), bin_dir=embedded.bin_dir(), standin_root=srv.root / "generated")
    return Shadow(admin_dsn=resolve_dsn(config.shadow), standin_root=local_standin_root(resolve_dsn(config.shadow)))


def local_standin_root(admin_dsn: str) -> Path | None:
    """Where generated stand-ins go for a shadow given by DSN: beside its data, if it is an embedded server here.

    Only the embedded server's layout (``ROOT/pgdata`` with ``ROOT/standins``) is recognised; any
    other server gets None, and a needed stand-in is refused with one line.
    """
    try:
        with open_session(admin_dsn, read_only=False) as conn:
            data = scalar(conn.execute("SHOW data_directory"))
    except (psycopg.Error, ShadowError, WizardError):
        return None
    root = Path(data).parent
    return root / "generated" if (root / "standins").is_dir() and Path(data).name == "pgdata" else None


def embedded_dsn(config: Config):
    """A ``dbname -> dsn`` resolver for targets that live on the project's embedded server."""

    def resolve(dbname: str) -> str:
        return embedded.server(embedded_root(config)).dsn(dbname)

    return resolve


def objects_created(statements: list[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """Platform-level objects the user's layer creates unconditionally: the mirror must leave them to it.

    Returns ``(kind, name)`` pairs: ``EXTENSION`` and ``SCHEMA`` created without IF NOT EXISTS,
    every ``PUBLICATION`` and ``EVENT TRIGGER`` created.
    """
    import pglast

    kinds = {
        "CreateExtensionStmt": ("EXTENSION", "extname"),
        "CreateSchemaStmt": ("SCHEMA", "schemaname"),
        "CreatePublicationStmt": ("PUBLICATION", "pubname"),
        "CreateEventTrigStmt": ("EVENT TRIGGER", "trigname"),
    }
    found = set()
    for node, text in statements:
        if node not in kinds:
            continue
        try:
            stmt = pglast.parse_sql(text)[0].stmt
        except pglast.parser.ParseError:
            continue
        if getattr(stmt, "if_not_exists", False):
            continue
        kind, attr = kinds[node]
        name = getattr(stmt, attr, None)
        if name:
            found.add((kind, name))
    return frozenset(found)


def default_privileges_undone(statements: list[tuple[str, str]]) -> tuple[str, ...]:
    """The inverse of each ``ALTER DEFAULT PRIVILEGES ... REVOKE`` of the user's layer, last first.

    The target's default privileges are those at the end of its history; objects the history
    created earlier got the ones in force before it changed them (Supabase grants ``anon`` and
    ``authenticated`` by default; a hardening migration revokes them). Granting back what the
    history revoked gives the scratch database the privileges the history started from.
    """
    import pglast
    from pglast.stream import RawStream

    undo = []
    for node, text in statements:
        if node != "AlterDefaultPrivilegesStmt":
            continue
        try:
            stmt = pglast.parse_sql(text)[0].stmt
        except pglast.parser.ParseError:
            continue
        if not isinstance(stmt, pglast.ast.AlterDefaultPrivilegesStmt) or stmt.action is None or stmt.action.is_grant:
            continue  # a GRANT may repeat what the platform already grants: undoing it would take that away
        stmt.action.is_grant = True
        undo.append(RawStream()(stmt))
    return tuple(reversed(undo))


def mirror_target(
    shadow: Shadow,
    conn: psycopg.Connection,
    dsn: str,
    state_dir: Path,
    target: str,
    statements: list[tuple[str, str]] | None = None,
    *,
    starting_privileges: bool = True,
    early: bool = False,
) -> Shadow:
    """``shadow`` with the target's platform (read now from ``conn`` / ``dsn``) under every scratch database.

    Args:
        statements: The user's layer as ``(node, text)``; extensions it creates without IF NOT
            EXISTS are left to it.
        starting_privileges: Grant back the default privileges ``statements`` revoke, so that a
            replayed history starts from the privileges it started from (drift, a fresh
            environment); False for a baseline, which states every privilege it needs (the proof).
        early: Start cloning the first scratch database while the platform is read
            (:mod:`.early_clone`): for a caller that creates one at once.
    """
    directory = private_dir(state_dir / target / "platform")
    if early:
        shadow = shadow.clone_early(directory)
    real = shadow.real_extensions()
    try:
        plat = mirror.read_platform(conn, dsn, directory, lambda e: (e.name, e.version) in real)
    except BaseException:
        if shadow.early is not None:
            shadow.early.discard()
        raise
    undo = default_privileges_undone(statements or []) if starting_privileges else ()
    return shadow.mirroring(plat, objects_created(statements or []), undo)


def for_target(
    config: Config,
    conn: psycopg.Connection,
    dsn: str,
    target: str,
    statements: list[tuple[str, str]] | None = None,
    *,
    starting_privileges: bool = True,
    early: bool = False,
) -> Shadow:
    """The project's shadow server, its scratch databases starting as ``target``'s platform layer."""
    return mirror_target(
        for_config(config),
        conn,
        dsn,
        config.state_dir,
        target,
        statements,
        starting_privileges=starting_privileges,
        early=early,
    )
