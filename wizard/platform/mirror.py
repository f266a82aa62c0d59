"""The target's platform layer, read from the target at run time and rebuilt in scratch databases.

What a Supabase project's migrations stand on is not the project's: roles, the managed schemas
(auth, storage, realtime, vault, cron, pgmq, ...) with their owners, grants and event triggers,
default privileges, and extensions at their versions. Instead of a hand-written imitation, the
platform is measured: :func:`read_platform` takes it from the target (read-only: catalog
queries and a schema-only ``pg_dump``), and :func:`restore_layers` rebuilds it in a scratch
database, so replay, backup verification and the squash proof run on the target's own platform.

The user's layer (every object in scope, :mod:`wizard.catalog.scope`) is left out of the mirror:
it comes from the replayed history, the restored dump or the baseline.

Extensions are created exactly as the target has them: the real one where the shadow server has
it at the target's version, otherwise a stand-in generated from the target's catalog
(:mod:`wizard.platform.standin_script`); an extension the target lacks is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from wizard.catalog import scope
from wizard.db.connect import open_session
from wizard.db.dsn import redact_text
from wizard.errors import ShadowError
from wizard.platform import toc, tools
from wizard.platform.roles import RoleSet, apply_setting, read_roles
from wizard.platform.standin_script import GeneratedStandin, generate

#: Extensions every database has; never mirrored.
BUILTIN_EXTENSIONS = ("plpgsql",)

_EXTENSIONS = """
SELECT e.extname, e.extversion, n.nspname, e.extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY e.oid
"""

#: User-layer objects that live in managed schemas: left out of the mirror (TOC desc, schema, tag prefix).
_USER_IN_MANAGED = """
SELECT 'TRIGGER', n.nspname, c.relname || ' ' || t.tgname
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY(%(managed)s)
  AND fn.nspname <> ALL(%(excluded)s) AND fn.nspname NOT LIKE 'pg\\_%%'
UNION ALL
SELECT 'FK CONSTRAINT', n.nspname, c.relname || ' ' || k.conname
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f' AND n.nspname = ANY(%(managed)s)
  AND rn.nspname <> ALL(%(excluded)s) AND rn.nspname NOT LIKE 'pg\\_%%'
UNION ALL
SELECT 'EVENT TRIGGER', '-', e.evtname
FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
WHERE fn.nspname <> ALL(%(excluded)s) AND fn.nspname NOT LIKE 'pg\\_%%'
"""

#: Settings the target's sessions start with: per role, and per role or for everyone in its database.
_SETTINGS = """
SELECT coalesce(r.rolname, '') AS role, s
FROM pg_db_role_setting d LEFT JOIN pg_roles r ON r.oid = d.setrole, unnest(d.setconfig) s
WHERE d.setdatabase = 0 AND d.setrole <> 0
   OR d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY d.setdatabase, 1, 2
"""

#: The names of every extension's member objects (to leave their grants out when the user's layer creates it).
_MEMBER_NAMES = """
SELECT e.extname, n.nspname, o.name
FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
CROSS JOIN LATERAL (
    SELECT p.proname::text, p.pronamespace FROM pg_proc p
     WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid
    UNION ALL SELECT c.relname::text, c.relnamespace FROM pg_class c
     WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid
    UNION ALL SELECT t.typname::text, t.typnamespace FROM pg_type t
     WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid
) AS o(name, nsp)
JOIN pg_namespace n ON n.oid = o.nsp
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
ORDER BY 1, 2, 3
"""

#: TOC tag words of the member objects whose grants and comments follow their extension.
_MEMBER_WORDS = ("FUNCTION", "PROCEDURE", "AGGREGATE", "TABLE", "SEQUENCE", "VIEW", "TYPE", "DOMAIN")

_USER_SCHEMAS = f"SELECT n.nspname FROM pg_namespace n WHERE {scope.USER_NAMESPACE} ORDER BY 1"


@dataclass(frozen=True)
class Extension:
    """An extension as the target has it."""

    name: str
    version: str
    schema: str
    relocatable: bool


@dataclass
class Platform:
    """Everything a scratch database needs of the target before the user's layer.

    Attributes:
        roles: The target cluster's roles and memberships (no passwords).
        extensions: The target's extensions, in creation order.
        standins: A generated stand-in for each extension (used where the shadow lacks it).
        user_schemas: The target's user schemas (in scope; ``public`` included).
        user_in_managed: User objects inside managed schemas, as (TOC desc, schema, tag prefix).
        dump: A schema-only custom-format dump of the target (the user's layer is filtered at restore).
        digest: Identity of all of the above: scratch templates are keyed by it.
    """

    roles: RoleSet
    extensions: list[Extension]
    standins: dict[str, GeneratedStandin]
    user_schemas: list[str]
    user_in_managed: list[tuple[str, str, str]]
    dump: Path
    digest: str = ""
    member_tables: list[tuple[str, str]] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)  # (role or "" for everyone, "name=value")
    member_names: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # extension -> (schema, name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "roles": self.roles.to_dict(),
            "extensions": [e.__dict__ for e in self.extensions],
            "standins": {k: v.to_dict() for k, v in self.standins.items()},
            "user_schemas": self.user_schemas,
            "user_in_managed": [list(x) for x in self.user_in_managed],
            "member_tables": [list(x) for x in self.member_tables],
            "settings": [list(x) for x in self.settings],
            "member_names": {k: [list(x) for x in v] for k, v in self.member_names.items()},
            "dump": self.dump.name,
            "digest": self.digest,
        }

    @classmethod
    def load(cls, path: Path) -> Platform:
        """A platform saved by :meth:`save` (``path`` is its JSON file; the dump lies beside it)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            roles=RoleSet.from_dict(data["roles"]),
            extensions=[Extension(**e) for e in data["extensions"]],
            standins={k: GeneratedStandin.from_dict(v) for k, v in data["standins"].items()},
            user_schemas=list(data["user_schemas"]),
            user_in_managed=[(a, b, c) for a, b, c in data["user_in_managed"]],
            member_tables=[(a, b) for a, b in data.get("member_tables") or []],
            settings=[(a, b) for a, b in data.get("settings") or []],
            member_names={k: [(a, b) for a, b in v] for k, v in (data.get("member_names") or {}).items()},
            dump=path.parent / data["dump"],
            digest=data["digest"],
        )

    def save(self, directory: Path) -> Path:
        """Write the platform's JSON beside its dump (0600); return the JSON's path."""
        path = directory / f"platform-{self.digest}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=1, sort_keys=True)
        return path


#: How long the platform's schema-only dump waits for a table another session has locked.
LOCK_WAIT_TIMEOUT = "10s"


def _failed(what: str, stderr: str) -> ShadowError:
    first = next((ln for ln in stderr.splitlines() if "error" in ln.lower()), stderr.strip()[:300])
    if "lock" in first.lower():
        return ShadowError(
            f"{what} failed: {redact_text(first)}",
            f"another session holds a lock on a table of the target (waited {LOCK_WAIT_TIMEOUT}); "
            "wait for it to finish, then run again",
        )
    return ShadowError(
        f"{what} failed: {redact_text(first)}",
        "the role must be able to read the managed schemas (on hosted Supabase: postgres); "
        "or point [shadow] at a server that has the target's platform",
    )


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    proc = tools.capture(argv, env)
    if proc.returncode != 0:
        raise _failed(what, proc.stderr)
    return proc.stdout


def read_platform(
    conn: psycopg.Connection,
    dsn: str,
    directory: Path,
    available: Callable[[Extension], bool] | None = None,
) -> Platform:
    """Measure the target's platform (read-only) and keep its schema-only dump in ``directory``.

    Args:
        available: Whether the shadow server has an extension at the target's version; those get no
            stand-in. None (a backup: the shadow is not known yet) generates one for every extension.
    """
    major = conn.info.server_version // 10000
    pg_dump = tools.find("pg_dump", major, purpose="the target's server")
    pg_restore = tools.find("pg_restore", major, purpose="the target's server")
    directory.mkdir(parents=True, exist_ok=True)
    conninfo, env = tools.child_env(dsn)
    fd, tmp = tempfile.mkstemp(prefix="platform-", suffix=".dump", dir=directory)
    os.close(fd)
    partial = Path(tmp)
    # The schema-only dump runs while the catalog is read: each takes about as long as the other.
    dump = tools.ToolRun(
        [
            str(pg_dump.path),
            "--schema-only",
            "--format=custom",
            "--no-password",
            f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
            f"--file={partial}",
            conninfo,
        ],
        env,
    ).start()
    try:
        roles = read_roles(conn)
        extensions = [Extension(r[0], r[1], r[2], bool(r[3])) for r in conn.execute(_EXTENSIONS).fetchall()]
        standins = {
            e.name: generate(conn, e.name)
            for e in extensions
            if e.name not in BUILTIN_EXTENSIONS and not (available and available(e))
        }
        params = scope.params()
        with conn.cursor() as cur:
            cur.execute(_USER_SCHEMAS, params)
            user_schemas = [r[0] for r in cur.fetchall()]
            cur.execute(_USER_IN_MANAGED, params)
            user_in_managed = [(r[0], r[1], r[2]) for r in cur.fetchall()]
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.classid = 'pg_class'::regclass AND "
                "d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND c.relkind IN ('r', 'p') ORDER BY 1, 2"
            )
            member_tables = [(r[0], r[1]) for r in cur.fetchall()]
            cur.execute(_SETTINGS)
            settings = [(r[0], r[1]) for r in cur.fetchall()]
            cur.execute(_MEMBER_NAMES)
            member_names: dict[str, list[tuple[str, str]]] = {}
            for ext_name, schema, name in cur.fetchall():
                member_names.setdefault(ext_name, []).append((schema, name))
        if dump.wait() != 0:
            dump.finish()
            raise _failed("pg_dump of the target's platform", "\n".join(dump.tail))
        text = _run([str(pg_restore.path), "--file=-", str(partial)], env, "reading the platform dump")
    except BaseException:
        dump.stop()
        partial.unlink(missing_ok=True)
        raise
    h = hashlib.sha256()
    for line in text.splitlines():
        if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped")):
            h.update(line.encode() + b"\n")
    plat = Platform(
        roles,
        extensions,
        standins,
        user_schemas,
        user_in_managed,
        partial,
        member_tables=member_tables,
        settings=settings,
        member_names=member_names,
    )
    h.update(
        json.dumps({k: v for k, v in plat.to_dict().items() if k not in ("dump", "digest")}, sort_keys=True).encode()
    )
    plat.digest = h.hexdigest()[:16]
    final = directory / f"platform-{plat.digest}.dump"
    os.replace(partial, final)
    plat.dump = final
    return plat


def platform_entries(
    plat: Platform, listing: str, skip: frozenset[tuple[str, str]] = frozenset()
) -> tuple[list[toc.Entry], list[toc.Entry]]:
    """The mirror's TOC: schemas first, then everything else that is not the user's (extensions aside).

    ``skip`` names objects the user's layer creates itself (``(kind, name)``): left out with what hangs on them.
    """
    user = set(plat.user_schemas) - {"public"}
    managed_user: dict[tuple[str, str], list[str]] = {(d, s): [] for d, s, _ in plat.user_in_managed}
    for d, s, tag in plat.user_in_managed:
        managed_user[(d, s)].append(tag)
    member_tables = {f"{t} " for _s, t in plat.member_tables}
    member_schemas = {s for s, _t in plat.member_tables}
    left_to_user = {
        (schema, name) for kind, ext in skip if kind == "EXTENSION" for schema, name in plat.member_names.get(ext, [])
    }
    schemas: list[toc.Entry] = []
    rest: list[toc.Entry] = []
    for e in toc.parse(listing):
        if e.desc in ("ACL", "COMMENT") and left_to_user:
            word, _, obj = e.rest.partition(" ")
            if word in _MEMBER_WORDS and (e.schema, obj.split("(", 1)[0].strip('"')) in left_to_user:
                continue
        if e.desc == "EXTENSION":
            continue
        if any(
            (kind == e.desc and e.tag_startswith(name))
            or (kind == "PUBLICATION" and e.desc == "PUBLICATION TABLE" and e.tag_startswith(name))
            or (kind == "SCHEMA" and e.schema == name)
            for kind, name in skip
        ):
            continue
        if e.desc == "COMMENT" and e.rest.startswith("EXTENSION "):
            continue
        if e.schema in user or (e.schema == "public" and e.desc != "DEFAULT ACL"):
            continue
        if e.desc in ("SCHEMA", "ACL", "COMMENT") and any(
            e.rest.startswith(f"{w}{s} ") or e.rest == f"{w}{s}" for s in user for w in ("", "SCHEMA ")
        ):
            continue
        if e.desc == "POLICY" or (e.desc == "COMMENT" and e.rest.startswith("POLICY ")):
            continue  # policies on managed tables are the user's, or come with their extension
        if any(e.tag_startswith(tag) for tag in managed_user.get((e.desc, e.schema), ())):
            continue
        if e.desc == "ROW SECURITY" and e.schema in member_schemas and any(e.rest.startswith(t) for t in member_tables):
            continue
        (schemas if e.desc == "SCHEMA" else rest).append(e)
    return schemas, rest


def _pg_restore(
    pg_restore: Path,
    dsn: str,
    dump: Path,
    entries: list[toc.Entry],
    options: str | None,
    jobs: int = 1,
    tick: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[str]:
    """Restore ``entries`` of ``dump`` into ``dsn``; return pg_restore's error lines."""
    if not entries:
        return []
    conninfo, env = tools.child_env(dsn)
    if options:
        env["PGOPTIONS"] = options
    fd, list_path = tempfile.mkstemp(prefix="cw-toc-", suffix=".list")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(toc.listing(entries))
        argv = [str(pg_restore), f"--use-list={list_path}", "--no-password", f"--dbname={conninfo}"]
        if jobs > 1:
            argv.append(f"--jobs={jobs}")
        run = tools.ToolRun([*argv, str(dump)], env).start()
        run.wait(tick, cancel)
        return list(run.errors)
    finally:
        os.unlink(list_path)


#: ``ALTER TABLE ONLY t ALTER COLUMN c SET (...);`` as pg_dump writes column options.
_COLUMN_OPTIONS = re.compile(r"^(ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET )\((.*)\);$", re.M)
#: The column options PostgreSQL defines; some builds keep private ones (``pg_attver``) that other servers reject.
_KNOWN_COLUMN_OPTIONS = ("n_distinct", "n_distinct_inherited")


def _clean_column_options(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        kept = [o for o in match.group(2).split(", ") if o.split("=", 1)[0].strip() in _KNOWN_COLUMN_OPTIONS]
        return f"{match.group(1)}({', '.join(kept)});" if kept else ""

    return _COLUMN_OPTIONS.sub(keep, text)


def _script(pg_restore: Path, dump: Path, entries: list[toc.Entry]) -> str:
    """The SQL of ``entries``, as pg_restore writes it, without psql meta-commands or private column options.

    Nor ``SET transaction_timeout``: PostgreSQL 18's pg_restore writes it, servers before 17 reject
    it, and our sessions never set it.
    """
    if not entries:
        return ""
    fd, list_path = tempfile.mkstemp(prefix="cw-toc-", suffix=".list")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(toc.listing(entries))
        text = _run([str(pg_restore), f"--use-list={list_path}", "--file=-", str(dump)], dict(os.environ), "pg_restore")
    finally:
        os.unlink(list_path)
    dropped = ("\\restrict", "\\unrestrict", "SET transaction_timeout")
    lines = (line for line in text.splitlines() if not line.startswith(dropped))
    return _clean_column_options("\n".join(lines))


def create_extensions(
    conn: psycopg.Connection, plat: Platform, control_path: str | None, skip: frozenset[tuple[str, str]]
) -> None:
    """Create the target's extensions, at its versions, in the order it created them."""
    if control_path:
        conn.execute(sql.SQL("SET extension_control_path = {}").format(sql.Literal(control_path)))
    present = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
    for ext in plat.extensions:
        if ext.name in BUILTIN_EXTENSIONS or ("EXTENSION", ext.name) in skip:
            continue
        if ext.schema in plat.user_schemas and ext.schema != "public":
            continue  # its schema is the user's: the user's layer creates both
        statement = sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext.name))
        if ext.schema in present or ext.relocatable:
            statement = sql.SQL("{} WITH SCHEMA {}").format(statement, sql.Identifier(ext.schema))
        statement = sql.SQL("{} VERSION {} CASCADE").format(statement, sql.Literal(ext.version))
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            raise ShadowError(
                f"extension {ext.name} {ext.version} cannot be created in the scratch database: "
                f"{exc.diag.message_primary or exc}",
                "point [shadow] at a server that has it, or use the embedded server (a stand-in is generated)",
            ) from None
        present = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}


def restore_layers(
    dsn: str,
    plat: Platform,
    dump: Path,
    control_path: str | None,
    *,
    user_layer: bool,
    skip: frozenset[tuple[str, str]] = frozenset(),
    jobs: int = 1,
    standin_names: tuple[str, ...] = (),
    tick: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
    undo: tuple[str, ...] = (),
) -> list[str]:
    """Restore ``dump`` into ``dsn``: schemas, the target's extensions, the schema, then rows and the rest.

    The schema (pg_dump's pre-data) is run as SQL with private column options removed (some
    builds write ``pg_attver``, which other servers reject); rows and what follows them go
    through ``pg_restore`` with ``jobs`` in parallel.

    Args:
        user_layer: Restore the user's layer too (a backup); else only the platform (a mirror).
        skip: Objects the user's layer creates itself, as ``(kind, name)``: not pre-created.
        standin_names: Extensions created from generated stand-ins (their deferred triggers follow).
        undo: Statements run last (a mirror only): the user's layer's own changes to the platform undone.

    Returns:
        The errors met (none on success).
    """
    pg_restore = tools.find("pg_restore", 0, purpose="the dump").path
    listing = _run([str(pg_restore), "--list", str(dump)], dict(os.environ), "reading the dump's contents")
    if user_layer:
        entries = [e for e in toc.parse(listing) if e.desc != "EXTENSION"]
        pre_listing = _run([str(pg_restore), "--section=pre-data", "--list", str(dump)], dict(os.environ), "pg_restore")
        pre_data = {e.line for e in toc.parse(pre_listing)}
        schemas = [e for e in entries if e.desc == "SCHEMA"]
        schema_rest = [e for e in entries if e.desc != "SCHEMA" and e.line in pre_data]
        after = [e for e in entries if e.desc != "SCHEMA" and e.line not in pre_data]
    else:
        schemas, schema_rest = platform_entries(plat, listing, skip)
        after = []
    with open_session(dsn, read_only=False) as conn:
        for part in (schemas, None, schema_rest):
            if part is None:
                create_extensions(conn, plat, control_path, skip)
                continue
            script = _script(pg_restore, dump, part)
            try:
                if script.strip():
                    with psycopg.ClientCursor(conn) as cur:
                        cur.execute(script)
            except psycopg.Error as exc:
                return [f"pg_restore: error: could not execute query: ERROR:  {exc.diag.message_primary or exc}"]
            conn.execute("RESET ALL")
    if after:
        # Rows are loaded as they were dumped: the extensions' own triggers and foreign keys
        # (made by their scripts, before the data) must not fire on them.
        options = " ".join(
            [f"-c extension_control_path={control_path}"] * bool(control_path) + ["-c session_replication_role=replica"]
        )
        errors = _pg_restore(pg_restore, dsn, dump, after, options, jobs, tick=tick, cancel=cancel)
        if errors:
            return errors
    errors = []
    with open_session(dsn, read_only=False) as conn:
        for name in standin_names:
            for statement in plat.standins[name].deferred:
                try:
                    conn.execute(statement)
                except psycopg.Error as exc:
                    errors.append(f"stand-in for {name}: {exc.diag.message_primary or exc}")
        for statement in undo if not user_layer else ():
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.Error:
                continue  # it changed nothing the platform had (a grant to a role the history created)
    return errors


def apply_settings(conn: psycopg.Connection, database: str, plat: Platform) -> None:
    """Give sessions in ``database`` the target's settings (``search_path`` of ``postgres``, timeouts...)."""
    existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
    for role, setting in plat.settings:
        if role and role not in existing:
            continue
        who = sql.SQL("ROLE {} IN DATABASE {}").format(sql.Identifier(role), sql.Identifier(database))
        if not role:
            who = sql.SQL("DATABASE {}").format(sql.Identifier(database))
        apply_setting(conn, who, setting)
