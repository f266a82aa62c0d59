"""Stand-in extensions: SQL-only look-alikes of Supabase extensions a shadow server lacks.

A Supabase history calls ``uuid_generate_v4()``, ``crypt()``, ``net.http_post()`` or
``vault.create_secret()`` and declares ``vector(1536)`` columns; the embedded server has no
uuid-ossp, pgcrypto, pg_net, http, supabase_vault, pg_graphql, pgjwt or pg_cron. For each, a
control file and script under ``wizard/sql/standins/extension`` creates the same names (types,
functions, tables, index methods) in SQL, so the history replays and compares; every control
file's comment starts with :data:`MARK` ("consolidation-wizard stand-in: not the real
extension"). Catalog snapshots leave extension members out and compare an extension by name
and schema, so a stand-in compares equal to the real extension; :func:`survey` names the
user objects that rely on one. docs/bootstrap.md documents each stand-in.

A real extension always wins: the embedded server (PostgreSQL 18) searches ``$system`` before
the stand-ins (``extension_control_path``), and :func:`install` never overwrites a real
extension's files. Older servers have no ``extension_control_path``: install the stand-ins
into their extension directory (``python -m wizard.platform.standins install "$(pg_config
--sharedir)/extension"``).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import psycopg

from wizard.catalog import scope

MARK = "consolidation-wizard stand-in"

#: Extensions a new Supabase project has installed before its first migration, and where.
SUPABASE_DEFAULT_EXTENSIONS: dict[str, str] = {
    "pg_graphql": "graphql",
    "pg_stat_statements": "extensions",
    "pgcrypto": "extensions",
    "supabase_vault": "vault",
    "uuid-ossp": "extensions",
}


def _source() -> Traversable:
    return resources.files("wizard.platform").joinpath("sql/standins/extension")


def digest() -> str:
    """sha256 over every stand-in file (name and content): part of the scratch template's identity."""
    h = hashlib.sha256()
    for f in sorted(_source().iterdir(), key=lambda t: t.name):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def source_script(name: str) -> str | None:
    """Hand-written SQL bodies for extension ``name``'s C functions: its stand-in script, or an overlay file."""
    overlay = resources.files("wizard.platform").joinpath(f"sql/standins/overlay/{name}.sql")
    if overlay.is_file():
        return overlay.read_text(encoding="utf-8")
    scripts = sorted(
        (f for f in _source().iterdir() if f.name.startswith(f"{name}--") and f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    return scripts[-1].read_text(encoding="utf-8") if scripts else None


def names() -> list[str]:
    """The extensions that have a stand-in."""
    return sorted(f.name.removesuffix(".control") for f in _source().iterdir() if f.name.endswith(".control"))


def _is_standin_control(path: Path) -> bool:
    try:
        return MARK in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install(extension_dir: Path) -> list[str]:
    """Copy the stand-ins' control and script files into a server's extension directory.

    An extension whose control file is already there and is not a stand-in (the real one) is
    left alone; stale stand-in files are replaced.

    Returns:
        The names of the stand-ins now in ``extension_dir``.
    """
    extension_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    for name in names():
        control = extension_dir / f"{name}.control"
        if control.exists() and not _is_standin_control(control):
            continue
        for source in _source().iterdir():
            if source.name == f"{name}.control" or source.name.startswith(f"{name}--"):
                target = extension_dir / source.name
                target.write_bytes(source.read_bytes())
                target.chmod(0o644)
        installed.append(name)
    return installed


def prepare_embedded(root: Path) -> str:
    """Install the stand-ins under an embedded server's ``root``; return the server option that finds them.

    The directory is searched after ``$system``, so the server's own extensions (pgvector) win.
    """
    base = root / "standins"
    install(base / "extension")
    base.chmod(0o755)
    return "-c " + shlex.quote(f"extension_control_path=$system:{base}")


@dataclass(frozen=True)
class StandinUse:
    """A user object that relies on a stand-in extension.

    Attributes:
        extension: The stand-in extension.
        obj: The object, as ``type identity`` (``table column public.documents.embedding``).
        uses: What it uses: a member object (``type extensions.vector``), or, for a function
            body, ``calls net.http_post()`` / ``reads vault.decrypted_secrets``.
    """

    extension: str
    obj: str
    uses: str

    def describe(self) -> str:
        return f"{self.obj} uses {self.uses} ({self.extension})"


@dataclass
class StandinSurvey:
    """Stand-ins installed in a scratch database, what relies on them, and missing Supabase defaults."""

    installed: list[str] = field(default_factory=list)
    uses: list[StandinUse] = field(default_factory=list)
    missing_defaults: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """One line per fact the operator should know before trusting a comparison."""
        lines = []
        for ext in self.installed:
            objs = sorted({u.obj for u in self.uses if u.extension == ext})
            if objs:
                shown = "; ".join(objs[:8]) + (f"; and {len(objs) - 8} more" if len(objs) > 8 else "")
                lines.append(
                    f"stand-in extension {ext} (not the real extension; see docs/bootstrap.md) "
                    f"is used by {len(objs)} object(s): {shown}"
                )
        if self.missing_defaults:
            lines.append(
                "the scratch database lacks Supabase's default extension(s) "
                f"{', '.join(self.missing_defaults)}: install the stand-ins on the shadow server "
                '(python -m wizard.platform.standins install "$(pg_config --sharedir)/extension") '
                "and drop its cw_template_* "
                "databases"
            )
        return lines

    def to_dict(self) -> dict:
        return {
            "installed": self.installed,
            "uses": [{"extension": u.extension, "object": u.obj, "uses": u.uses} for u in self.uses],
            "missing_defaults": self.missing_defaults,
        }


_INSTALLED_SQL = """
SELECT e.extname FROM pg_extension e
 WHERE obj_description(e.oid, 'pg_extension') LIKE %(mark)s ORDER BY 1
"""

# Objects outside the stand-ins that depend on one of their members: columns of type vector,
# defaults calling uuid_generate_v4(), indexes with vector_cosine_ops, SQL-standard function
# bodies, views and policies that call a member function... Parts of a relation (defaults,
# rules, constraints, triggers, policies) are judged by the relation's schema; policies and
# triggers count on managed tables too (auth.users, storage.objects), as in the catalog's scope.
_DEPENDENTS_SQL = """
WITH standin AS (
    SELECT e.oid, e.extname FROM pg_extension e
     WHERE obj_description(e.oid, 'pg_extension') LIKE %(mark)s
), member AS (
    SELECT s.extname, d.classid, d.objid FROM standin s
      JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = s.oid AND d.deptype = 'e'
), dependent AS (
    SELECT m.extname, d.classid, d.objid, d.objsubid, m.classid AS ref_classid, m.objid AS ref_objid,
           CASE d.classid
               WHEN 'pg_class'::regclass THEN d.objid
               WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
               WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
               WHEN 'pg_constraint'::regclass THEN (SELECT nullif(conrelid, 0) FROM pg_constraint WHERE oid = d.objid)
               WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
               WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid)
           END AS relid
      FROM member m
      JOIN pg_depend d ON d.refclassid = m.classid AND d.refobjid = m.objid AND d.deptype IN ('n', 'a')
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classid AND x.objid = d.objid
                                                  AND x.deptype = 'e')
)
SELECT DISTINCT dep.extname, o.type, o.identity, r.type AS ref_type, r.identity AS ref_identity,
       coalesce(rn.nspname, o.schema) AS nspname,
       dep.classid IN ('pg_policy'::regclass, 'pg_trigger'::regclass) AS attached
  FROM dependent dep
  CROSS JOIN LATERAL pg_identify_object(dep.classid, dep.objid, dep.objsubid) o
  CROSS JOIN LATERAL pg_identify_object(dep.ref_classid, dep.ref_objid, 0) r
  LEFT JOIN pg_class rel ON rel.oid = dep.relid
  LEFT JOIN pg_namespace rn ON rn.oid = rel.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = dep.relid
                                              AND x.deptype = 'e')
"""

# Member functions and relations of the stand-ins (not their private _cw_ helpers), and the user
# functions whose body is text (plpgsql, or SQL not in SQL-standard form): those record no dependency.
_MEMBERS_SQL = """
SELECT DISTINCT e.extname, mn.nspname, mp.proname, true AS is_function
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                  AND d.classid = 'pg_proc'::regclass
  JOIN pg_proc mp ON mp.oid = d.objid
  JOIN pg_namespace mn ON mn.oid = mp.pronamespace
 WHERE obj_description(e.oid, 'pg_extension') LIKE %(mark)s AND mp.proname NOT LIKE '\\_cw\\_%%'
UNION
SELECT DISTINCT e.extname, mn.nspname, mc.relname, false
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                  AND d.classid = 'pg_class'::regclass
  JOIN pg_class mc ON mc.oid = d.objid AND mc.relkind IN ('r', 'p', 'v', 'm')
  JOIN pg_namespace mn ON mn.oid = mc.relnamespace
 WHERE obj_description(e.oid, 'pg_extension') LIKE %(mark)s
"""
_USER_FUNCTIONS_SQL = """
SELECT o.identity, p.prosrc,
       (SELECT substring(c FROM 13) FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\\_path=%%') AS search_path
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  CROSS JOIN LATERAL pg_identify_object('pg_proc'::regclass, p.oid, 0) o
 WHERE l.lanname NOT IN ('c', 'internal') AND p.prosrc <> ''
   AND n.nspname <> ALL(%(excluded)s) AND n.nspname NOT LIKE 'pg\\_%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid
                                              AND x.deptype = 'e')
"""

#: The search_path a function without its own runs with on Supabase (the postgres role's).
_DEFAULT_PATH = ("public", "extensions")


def _refers(body: str, schema: str, name: str, is_function: bool, search_path: str | None) -> bool:
    """Whether ``body`` calls the function (or reads the relation) ``schema.name``, qualified or
    through the function's search_path."""
    path = _DEFAULT_PATH if search_path is None else tuple(p.strip().strip('"') for p in search_path.split(","))
    tail = r"\s*\(" if is_function else r"(?![\w.(])"
    pattern = re.compile(rf'(?:"?(\w+)"?\s*\.\s*)?"?\b{re.escape(name)}\b"?{tail}', re.IGNORECASE)
    for match in pattern.finditer(body):
        qualifier = (match.group(1) or "").lower()
        if qualifier == schema or (not qualifier and (schema in path or schema == "pg_catalog")):
            return True
    return False


def survey(conn: psycopg.Connection) -> StandinSurvey:
    """Which stand-ins the database behind ``conn`` has, which user objects rely on them, and
    which of Supabase's default extensions it lacks."""
    params = {"mark": MARK + "%", "excluded": list(scope.EXCLUDED_SCHEMAS)}
    result = StandinSurvey()
    result.installed = [r[0] for r in conn.execute(_INSTALLED_SQL, params).fetchall()]
    present = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
    result.missing_defaults = sorted(set(SUPABASE_DEFAULT_EXTENSIONS) - present)
    if not result.installed:
        return result
    uses: set[StandinUse] = set()
    for ext, otype, identity, ref_type, ref_identity, schema, attached in conn.execute(_DEPENDENTS_SQL, params):
        if not attached and (schema is None or schema in scope.EXCLUDED_SCHEMAS or schema.startswith("pg_")):
            continue
        uses.add(StandinUse(ext, f"{otype} {identity}", f"{ref_type} {ref_identity}"))
    members = conn.execute(_MEMBERS_SQL, params).fetchall()
    for identity, body, search_path in conn.execute(_USER_FUNCTIONS_SQL, params):
        lowered = body.lower()
        for ext, schema, name, is_function in members:
            if name.lower() in lowered and _refers(body, schema, name, is_function, search_path):
                what = f"calls {schema}.{name}()" if is_function else f"reads {schema}.{name}"
                uses.add(StandinUse(ext, f"function {identity}", what))
    result.uses = sorted(uses, key=lambda u: (u.extension, u.obj, u.uses))
    return result


def extensions_in_use(conn: psycopg.Connection) -> list[StandinUse]:
    """The user objects of the database behind ``conn`` that rely on a stand-in extension."""
    return survey(conn).uses


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wizard.platform.standins install DIR`` or ``list``."""
    parser = argparse.ArgumentParser(prog="python -m wizard.platform.standins", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    inst = sub.add_parser("install", help="copy the stand-ins into a server's extension directory")
    inst.add_argument("directory", type=Path, help='the server\'s "$(pg_config --sharedir)/extension"')
    sub.add_parser("list", help="list the extensions that have a stand-in")
    args = parser.parse_args(argv)
    if args.action == "list":
        print("\n".join(names()))
        return 0
    done = install(args.directory)
    skipped = sorted(set(names()) - set(done))
    print(f"installed stand-ins in {args.directory}: {', '.join(done) or 'none'}")
    if skipped:
        print(f"left alone (the real extension is there): {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
