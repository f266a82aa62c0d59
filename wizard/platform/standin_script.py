"""A stand-in extension generated from the target's catalog, for a shadow server that lacks the real one.

Every member object of the target's extension is recreated with the same name, signature and
type: schemas, types (enum, composite, domain; base types over ``text``'s I/O), tables with
their columns, defaults, constraints, indexes, RLS, policies and triggers, sequences, views,
functions, procedures and aggregates, operators, and the extension's configuration tables.
SQL and PL/pgSQL bodies are copied as they are. A C-language function raises
``stand-in for <extension>: <function> is not available here`` when called (a C trigger
function does nothing: it is the extension's bookkeeping); where the
project's hand-written stand-in (``sql/standins/extension``, ``sql/standins/overlay``) has a working SQL
body for it,
that body replaces the error (tried in a sub-transaction: a body that does not fit is skipped).
Members of kinds not reproduced (operator classes, access methods, casts, text search
objects, foreign-data wrapper handlers) are listed in the script's header.

The control file's comment starts with :data:`wizard.platform.standins.MARK`, so the stand-in
is labelled wherever extensions are listed (``consolidate drift``, the report).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from wizard.platform import standins

#: Pseudo-types a PL/pgSQL function cannot take or return: such C functions get an ``internal`` stub.
_PLPGSQL_UNFIT = {
    "internal",
    "cstring",
    "language_handler",
    "fdw_handler",
    "index_am_handler",
    "tsm_handler",
    "table_am_handler",
    "opaque",
    "pg_ddl_command",
    "any",
}

_MEMBERS = """
SELECT classid::regclass::text AS catalog, objid
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND refobjid = %(ext)s AND deptype = 'e'
"""

_EXTENSION = """
SELECT e.oid, e.extname, e.extversion, e.extrelocatable, n.nspname AS schema,
       coalesce(e.extconfig::regclass[]::text[], '{}') AS config_tables,
       coalesce(e.extcondition, '{}') AS config_conditions,
       obj_description(e.oid, 'pg_extension') AS comment,
       coalesce((SELECT array_agg(r.extname ORDER BY r.extname)
                   FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
                 WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid
                   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'n'), '{}') AS requires
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = %(name)s
"""

_TYPES = """
SELECT t.oid, t.typtype, format_type(t.oid, NULL) AS name, n.nspname AS schema, t.typname,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base,
       t.typnotnull, t.typdefault,
       (SELECT array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FROM pg_constraint c
         WHERE c.contypid = t.oid AND c.contype = 'c') AS checks,
       (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
         WHERE a.attrelid = t.typrelid AND r.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
       t.typmodin <> 0 AS has_typmod,
       (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY(%(oids)s) AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  AND NOT (t.typcategory = 'A' AND t.typelem <> 0) AND t.typtype <> 'p'
ORDER BY t.oid
"""

_FUNCTIONS = """
SELECT p.oid, p.prokind, l.lanname AS language, n.nspname AS schema, p.proname AS name,
       pg_get_function_arguments(p.oid) AS arguments, pg_get_function_identity_arguments(p.oid) AS identity,
       pg_get_function_result(p.oid) AS result, p.pronargs AS nargs,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) AS argtypes,
       format_type(p.prorettype, NULL) AS rettype,
       EXISTS (SELECT 1 FROM unnest(p.proargtypes || p.prorettype) t JOIN pg_type ty ON ty.oid = t
               WHERE ty.typtype = 'p' AND ty.typname = ANY(%(unfit)s)) AS unfit,
       CASE WHEN l.lanname NOT IN ('c', 'internal') AND p.prokind IN ('f', 'p')
            THEN pg_get_functiondef(p.oid) END AS def,
       p.provolatile, p.proisstrict, p.prosecdef, p.prosqlbody IS NOT NULL AS atomic
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY(%(oids)s)
ORDER BY p.oid
"""

_AGGREGATES = """
SELECT p.oid, n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS identity,
       a.aggtransfn::regproc::text AS sfunc, format_type(a.aggtranstype, NULL) AS stype,
       nullif(a.aggfinalfn::regproc::text, '-') AS finalfunc, a.agginitval AS initcond, a.aggfinalextra
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY(%(oids)s)
ORDER BY p.oid
"""

_RELATIONS = """
SELECT c.oid, c.relkind, n.nspname AS schema, c.relname AS name, c.relrowsecurity, c.relforcerowsecurity,
       c.relpersistence,
       (SELECT json_agg(json_build_object(
                'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notnull', a.attnotnull,
                'default', pg_get_expr(d.adbin, d.adrelid), 'identity', a.attidentity, 'generated', a.attgenerated,
                'collation', (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                               WHERE co.oid = a.attcollation AND a.attcollation <> ty.typcollation))
              ORDER BY a.attnum)
          FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          JOIN pg_type ty ON ty.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS query,
       (SELECT json_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
                                 'increment', s.seqincrement, 'min', s.seqmin,
                                 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle)
          FROM pg_sequence s WHERE s.seqrelid = c.oid) AS sequence,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname)
          FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid
          JOIN pg_namespace tn ON tn.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
         WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'a'
           AND dep.refclassid = 'pg_class'::regclass LIMIT 1) AS owned_by,
       EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
               AND dep.deptype = 'i') AS implicit
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY(%(oids)s)
ORDER BY c.oid
"""

_CONSTRAINTS = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname) AS tbl, c.conname AS name, c.contype,
       pg_get_constraintdef(c.oid) AS def
FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.conrelid = ANY(%(oids)s) AND c.contype IN ('p', 'u', 'c', 'x', 'f') AND c.conislocal
ORDER BY c.contype = 'f', c.oid
"""

_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i
WHERE i.indrelid = ANY(%(oids)s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indexrelid
"""

_TRIGGERS = """
SELECT pg_get_triggerdef(t.oid) AS def, t.tgfoid FROM pg_trigger t
WHERE t.tgrelid = ANY(%(oids)s) AND NOT t.tgisinternal ORDER BY t.oid
"""

_POLICIES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS tbl, p.polname AS name, p.polpermissive,
       p.polcmd, ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END
                       FROM unnest(p.polroles) r) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS qual, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE p.polrelid = ANY(%(oids)s) ORDER BY p.oid
"""

_OPERATORS = """
SELECT n.nspname AS schema, o.oprname AS name, o.oprcode::regproc::text AS function,
       CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END AS leftarg,
       CASE WHEN o.oprright <> 0 THEN format_type(o.oprright, NULL) END AS rightarg
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oid = ANY(%(oids)s) ORDER BY o.oid
"""

_OTHER = """
SELECT pg_describe_object(classid, objid, 0) AS what FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND refobjid = %(ext)s AND deptype = 'e'
  AND classid::regclass::text NOT IN ('pg_namespace', 'pg_type', 'pg_proc', 'pg_class', 'pg_operator')
ORDER BY 1
"""

#: Stands for ``@extschema@`` while a hand-written script is parsed.
_EXTSCHEMA = "cw_extschema_placeholder"

#: The privileges the extension's script granted on its members (``pg_init_privs``), as GRANT targets.
_INITIAL_PRIVILEGES = """
SELECT CASE i.classoid
         WHEN 'pg_namespace'::regclass THEN 'SCHEMA ' || quote_ident(n.nspname)
         WHEN 'pg_proc'::regclass THEN
           CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || i.objoid::regprocedure::text
         WHEN 'pg_type'::regclass THEN 'TYPE ' || format_type(i.objoid, NULL)
         WHEN 'pg_class'::regclass THEN
           CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || i.objoid::regclass::text
       END AS target,
       CASE WHEN i.objsubid > 0 THEN (SELECT quote_ident(attname) FROM pg_attribute
                                      WHERE attrelid = i.objoid AND attnum = i.objsubid) END AS col,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
       a.privilege_type, a.is_grantable,
       a.grantee = coalesce(n.nspowner, p.proowner, c.relowner,
                            (SELECT typowner FROM pg_type WHERE i.classoid = 'pg_type'::regclass AND oid = i.objoid))
         AS to_owner
FROM pg_init_privs i
CROSS JOIN LATERAL aclexplode(i.initprivs) a
LEFT JOIN pg_namespace n ON i.classoid = 'pg_namespace'::regclass AND n.oid = i.objoid
LEFT JOIN pg_proc p ON i.classoid = 'pg_proc'::regclass AND p.oid = i.objoid
LEFT JOIN pg_class c ON i.classoid = 'pg_class'::regclass AND c.oid = i.objoid
WHERE i.privtype = 'e' AND (i.classoid, i.objoid) IN (
    SELECT classid, objid FROM pg_depend
    WHERE refclassid = 'pg_extension'::regclass AND refobjid = %(ext)s AND deptype = 'e')
  AND i.classoid IN ('pg_namespace'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass, 'pg_class'::regclass)
ORDER BY 1, 2 NULLS FIRST, 3, 4
"""

_POLICY_CMD = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class GeneratedStandin:
    """A stand-in's control file and install script for one extension at one version."""

    name: str
    version: str
    schema: str
    relocatable: bool
    requires: list[str]
    script: str
    not_reproduced: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # run after the platform: triggers calling non-members

    @property
    def control(self) -> str:
        lines = [
            f"# {standins.MARK}: generated from the target's catalog",
            f"comment = {_literal(f'{standins.MARK}: {self.name} {self.version}, not the real extension')}",
            f"default_version = {_literal(self.version)}",
            f"relocatable = {'true' if self.relocatable else 'false'}",
            "superuser = true",
        ]
        if not self.relocatable:
            lines.append(f"schema = {_literal(self.schema)}")
        if self.requires:
            lines.append(f"requires = {_literal(', '.join(self.requires))}")
        return "\n".join(lines) + "\n"

    @property
    def digest(self) -> str:
        return hashlib.sha256((self.control + self.script).encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "schema": self.schema,
            "relocatable": self.relocatable,
            "requires": self.requires,
            "script": self.script,
            "not_reproduced": self.not_reproduced,
            "deferred": self.deferred,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratedStandin:
        return cls(**data)


def _guarded(statement: str) -> str:
    """``statement`` in a sub-transaction: an object the stand-in cannot reproduce is skipped, not fatal."""
    return f"DO $cw_try$ BEGIN EXECUTE {_literal(statement)}; EXCEPTION WHEN others THEN NULL; END $cw_try$;"


def _raise_body(extension: str, what: str) -> str:
    message = f"stand-in for {extension}: {what} is not available here"
    return f"BEGIN RAISE EXCEPTION USING MESSAGE = {_literal(message)}, ERRCODE = 'feature_not_supported'; END"


def _function_stub(ext: str, fn: dict[str, Any]) -> str:
    """A C or internal function: the same signature, a body that says it is not available."""
    qualified = f"{_ident(fn['schema'])}.{_ident(fn['name'])}"
    what = f"{fn['schema']}.{fn['name']}({fn['identity']})"
    if fn["prokind"] == "p":
        body = (
            "LANGUAGE internal AS 'pg_backend_pid'"
            if fn["unfit"]
            else f"LANGUAGE plpgsql AS $cw${_raise_body(ext, what)}$cw$"
        )
        return f"CREATE PROCEDURE {qualified}({fn['arguments']}) {body};"
    volatility = {"i": "IMMUTABLE", "s": "STABLE"}.get(fn["provolatile"], "VOLATILE")
    strict = " STRICT" if fn["proisstrict"] else ""
    if fn["unfit"]:
        # PL/pgSQL cannot take these pseudo-types: an internal function of the same shape, never
        # meant to be called (it returns the backend's pid).
        return (
            f"CREATE FUNCTION {qualified}({fn['arguments']}) RETURNS {fn['result']} "
            f"LANGUAGE internal {volatility}{strict} AS 'pg_backend_pid';"
        )
    body = _raise_body(ext, what)
    if fn["rettype"] == "trigger":
        body = "BEGIN RETURN coalesce(NEW, OLD); END"  # the extension's bookkeeping (a cache to invalidate): none here
    elif fn["rettype"] == "event_trigger":
        body = "BEGIN END"
    return (
        f"CREATE FUNCTION {qualified}({fn['arguments']}) RETURNS {fn['result']} LANGUAGE plpgsql "
        f"{volatility}{strict} AS $cw${body}$cw$;"
    )


def _base_type(t: dict[str, Any]) -> list[str]:
    """A base type the server lacks the C code for: ``text``'s I/O under the same name."""
    name, schema = t["name"], _ident(t["schema"])

    def fn(suffix: str) -> str:
        return f"{schema}.{_ident('cw_' + t['typname'] + '_' + suffix)}"

    lines = [
        f"CREATE TYPE {name};",
        f"CREATE FUNCTION {fn('in')}(cstring) RETURNS {name} LANGUAGE internal IMMUTABLE STRICT AS 'textin';",
        f"CREATE FUNCTION {fn('out')}({name}) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';",
    ]
    typmod = ""
    if t["has_typmod"]:
        lines.append(
            f"CREATE FUNCTION {fn('typmod_in')}(cstring[]) RETURNS integer LANGUAGE internal "
            "IMMUTABLE STRICT AS 'varchartypmodin';"
        )
        typmod = f", TYPMOD_IN = {fn('typmod_in')}"
    lines.append(
        f"CREATE TYPE {name} (INPUT = {fn('in')}, OUTPUT = {fn('out')}, "
        f"INTERNALLENGTH = VARIABLE, STORAGE = extended{typmod});"
    )
    return lines


def _type_sql(t: dict[str, Any]) -> list[str]:
    kind = t["typtype"]
    if kind == "e":
        labels = ", ".join(_literal(label) for label in t["labels"] or [])
        return [f"CREATE TYPE {t['name']} AS ENUM ({labels});"]
    if kind == "c":
        return [f"CREATE TYPE {t['name']} AS ({t['attributes'] or ''});"]
    if kind == "d":
        parts = [f"CREATE DOMAIN {t['name']} AS {t['base']}"]
        if t["typdefault"] is not None:
            parts.append(f"DEFAULT {t['typdefault']}")
        if t["typnotnull"]:
            parts.append("NOT NULL")
        parts += list(t["checks"] or [])
        return [" ".join(parts) + ";"]
    if kind == "r" and t["subtype"]:
        return [f"CREATE TYPE {t['name']} AS RANGE (SUBTYPE = {t['subtype']});"]
    if kind == "b":
        return _base_type(t)
    return []


def _column_sql(col: dict[str, Any]) -> str:
    text = f"{_ident(col['name'])} {col['type']}"
    if col.get("collation"):
        text += f" COLLATE {col['collation']}"
    if col["identity"]:
        text += " GENERATED " + ("ALWAYS" if col["identity"] == "a" else "BY DEFAULT") + " AS IDENTITY"
    elif col["generated"] == "s" and col["default"] is not None:
        text += f" GENERATED ALWAYS AS ({col['default']}) STORED"
    if col["notnull"]:
        text += " NOT NULL"
    return text


def _grants(privileges: list[dict[str, Any]]) -> list[str]:
    """The extension script's own grants on its members: PUBLIC's defaults revoked, then each grant."""
    lines: list[str] = []
    revoked: set[str] = set()
    for p in privileges:
        if not p["target"] or p["to_owner"]:
            continue  # an owner's own privileges are implicit
        if p["col"] is None and p["target"] not in revoked:
            revoked.add(p["target"])
            lines.append(f"REVOKE ALL ON {p['target']} FROM PUBLIC;")
        what = f"{p['privilege_type']} ({p['col']})" if p["col"] else p["privilege_type"]
        option = " WITH GRANT OPTION" if p["is_grantable"] and p["grantee"] != "PUBLIC" else ""
        lines.append(f"GRANT {what} ON {p['target']} TO {p['grantee']}{option};")
    return lines


#: Functions of a hand-written stand-in that only its other functions call.
HELPER_PREFIX = "_cw_"


def _overlay_statements(ext: str, c_members: set[tuple[str, int]]) -> list[str]:
    """Working SQL bodies from the hand-written stand-in for C functions of ``ext``, each guarded."""
    import pglast  # here, not at the top: importing pglast slows every command's start-up (bench/startup.py)

    source = standins.source_script(ext)
    if source is None:
        return []
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("\\"))
    source = source.replace("@extschema@", _EXTSCHEMA)
    try:
        statements = pglast.split(source)
    except pglast.parser.ParseError:
        return []
    helpers: list[str] = []
    out: list[str] = []
    for statement in statements:
        try:
            node = pglast.parse_sql(statement)[0].stmt
        except pglast.parser.ParseError:
            continue
        if not isinstance(node, pglast.ast.CreateFunctionStmt):
            continue
        assert node.funcname is not None
        name = node.funcname[-1].sval
        modes = [getattr(p.mode, "name", str(p.mode)) for p in node.parameters or ()]
        inputs = [m for m in modes if m not in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE")]
        # The working bodies call the stand-in's own helpers (``_cw_*``, e.g. SHA-1 in SQL): they come first.
        helper = name.startswith(HELPER_PREFIX)
        if not helper and (name, len(inputs)) not in c_members:
            continue
        body = re.sub(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?", "CREATE OR REPLACE ", statement, count=1, flags=re.I)
        body = body.replace(_EXTSCHEMA, "@extschema@")
        (helpers if helper else out).append(_guarded(body))
    return helpers + out if out else []


def generate(conn: psycopg.Connection, name: str) -> GeneratedStandin:
    """Read extension ``name``'s members from the target (read-only) and write its stand-in."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET LOCAL search_path = ''")
        cur.execute(_EXTENSION, {"name": name})
        ext = cur.fetchone()
        if ext is None:
            raise LookupError(f"extension {name} is not installed")
        cur.execute(_MEMBERS, {"ext": ext["oid"]})
        members: dict[str, list[int]] = {}
        for row in cur.fetchall():
            members.setdefault(row["catalog"], []).append(row["objid"])

        def rows(query: str, catalog: str, **extra: Any) -> list[dict[str, Any]]:
            oids = members.get(catalog, [])
            if not oids:
                return []
            cur.execute(query, {"oids": oids, **extra})
            return cur.fetchall()

        schemas = []
        if members.get("pg_namespace"):
            cur.execute("SELECT nspname FROM pg_namespace WHERE oid = ANY(%s) ORDER BY oid", (members["pg_namespace"],))
            schemas = [r["nspname"] for r in cur.fetchall()]
        types = rows(_TYPES, "pg_type")
        functions = rows(_FUNCTIONS, "pg_proc", unfit=sorted(_PLPGSQL_UNFIT))
        aggregates = rows(_AGGREGATES, "pg_proc")
        relations = rows(_RELATIONS, "pg_class")
        tables = [r for r in relations if r["relkind"] in ("r", "p")]
        table_oids = [r["oid"] for r in tables]
        constraints = indexes = triggers = policies = []
        if table_oids:
            cur.execute(_CONSTRAINTS, {"oids": table_oids})
            constraints = cur.fetchall()
            cur.execute(_INDEXES, {"oids": table_oids})
            indexes = cur.fetchall()
            cur.execute(_TRIGGERS, {"oids": table_oids})
            triggers = cur.fetchall()
            cur.execute(_POLICIES, {"oids": table_oids})
            policies = cur.fetchall()
        operators = rows(_OPERATORS, "pg_operator")
        cur.execute(_INITIAL_PRIVILEGES, {"ext": ext["oid"]})
        privileges = cur.fetchall()
        cur.execute(_OTHER, {"ext": ext["oid"]})
        others = [r["what"] for r in cur.fetchall()]

    lines = [
        f"-- {standins.MARK}: {name} {ext['extversion']}, generated from the target's catalog.",
        "-- Not the real extension: C functions raise 'not available here'.",
    ]
    if others:
        lines.append("-- Members not reproduced: " + "; ".join(others))
    lines += [
        f'\\echo Use "CREATE EXTENSION {name}" to load this file. \\quit',
        "SET LOCAL check_function_bodies = off;",
    ]
    lines += [f"CREATE SCHEMA IF NOT EXISTS {_ident(s)};" for s in schemas]
    # Types a function or table may use come first; base types need their I/O functions with them.
    for t in types:
        lines += _type_sql(t)
    for rel in tables:
        cols = ", ".join(_column_sql(c) for c in rel["columns"] or [])
        unlogged = "UNLOGGED " if rel["relpersistence"] == "u" else ""
        lines.append(f"CREATE {unlogged}TABLE {_ident(rel['schema'])}.{_ident(rel['name'])} ({cols});")
    for seq in (r for r in relations if r["relkind"] == "S" and not r["implicit"]):
        s = seq["sequence"] or {}
        cycle = "CYCLE" if s.get("cycle") else "NO CYCLE"
        lines.append(
            f"CREATE SEQUENCE {_ident(seq['schema'])}.{_ident(seq['name'])} AS {s.get('type', 'bigint')} "
            f"INCREMENT {s.get('increment', 1)} MINVALUE {s.get('min', 1)} MAXVALUE {s.get('max')} "
            f"START {s.get('start', 1)} CACHE {s.get('cache', 1)} {cycle};"
        )
    views = [r for r in relations if r["relkind"] == "v"]
    for view in views:
        # A placeholder with the same columns, so functions may use the view's row type; the real
        # query (which may call those functions) replaces it below.
        cols = ", ".join(
            f"NULL::{c['type']}{' COLLATE ' + c['collation'] if c.get('collation') else ''} AS {_ident(c['name'])}"
            for c in view["columns"] or []
        )
        lines.append(f"CREATE VIEW {_ident(view['schema'])}.{_ident(view['name'])} AS SELECT {cols};")
    c_members: set[tuple[str, int]] = set()
    aggregate_oids = {a["oid"] for a in aggregates}
    for fn in functions:
        if fn["oid"] in aggregate_oids:
            continue
        if fn["def"] and fn["atomic"]:
            continue  # a BEGIN ATOMIC body is bound when created: after the tables' constraints and views
        if fn["def"]:
            lines.append(fn["def"].rstrip().rstrip(";") + ";")
        else:
            lines.append(_function_stub(name, fn))
            if not fn["unfit"]:
                c_members.add((fn["name"], fn["nargs"]))
    for agg in aggregates:
        opts = [f"SFUNC = {agg['sfunc']}", f"STYPE = {agg['stype']}"]
        if agg["finalfunc"]:
            opts.append(f"FINALFUNC = {agg['finalfunc']}")
            if agg["aggfinalextra"]:
                opts.append("FINALFUNC_EXTRA")
        if agg["initcond"] is not None:
            opts.append(f"INITCOND = {_literal(agg['initcond'])}")
        args = agg["identity"] or "*"
        lines.append(
            _guarded(f"CREATE AGGREGATE {_ident(agg['schema'])}.{_ident(agg['name'])}({args}) ({', '.join(opts)})")
        )
    for op in operators:
        opts = [f"FUNCTION = {op['function']}"]
        if op["leftarg"]:
            opts.append(f"LEFTARG = {op['leftarg']}")
        if op["rightarg"]:
            opts.append(f"RIGHTARG = {op['rightarg']}")
        lines.append(_guarded(f"CREATE OPERATOR {_ident(op['schema'])}.{op['name']} ({', '.join(opts)})"))
    for rel in tables:
        qualified = f"{_ident(rel['schema'])}.{_ident(rel['name'])}"
        for col in rel["columns"] or []:
            if col["default"] is not None and not col["identity"] and col["generated"] != "s":
                lines.append(
                    f"ALTER TABLE {qualified} ALTER COLUMN {_ident(col['name'])} SET DEFAULT {col['default']};"
                )
    for seq in (r for r in relations if r["relkind"] == "S" and not r["implicit"] and r["owned_by"]):
        lines.append(f"ALTER SEQUENCE {_ident(seq['schema'])}.{_ident(seq['name'])} OWNED BY {seq['owned_by']};")
    for con in constraints:
        lines.append(f"ALTER TABLE {con['tbl']} ADD CONSTRAINT {_ident(con['name'])} {con['def']};")
    lines += [f"{i['def']};" for i in indexes]
    for view in (r for r in relations if r["relkind"] in ("v", "m")):
        query = (view["query"] or "").rstrip().rstrip(";")
        qualified = f"{_ident(view['schema'])}.{_ident(view['name'])}"
        if view["relkind"] == "m":
            lines.append(f"CREATE MATERIALIZED VIEW {qualified} AS {query} WITH NO DATA;")
        else:
            lines.append(f"CREATE OR REPLACE VIEW {qualified} AS {query};")
    lines += [fn["def"].rstrip().rstrip(";") + ";" for fn in functions if fn["def"] and fn["atomic"]]
    for rel in tables:
        qualified = f"{_ident(rel['schema'])}.{_ident(rel['name'])}"
        if rel["relrowsecurity"]:
            lines.append(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY;")
        if rel["relforcerowsecurity"]:
            lines.append(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY;")
    member_functions = set(members.get("pg_proc", []))
    lines += [f"{t['def']};" for t in triggers if t["tgfoid"] in member_functions]
    deferred = [f"{t['def']};" for t in triggers if t["tgfoid"] not in member_functions]
    for pol in policies:
        text = (
            f"CREATE POLICY {_ident(pol['name'])} ON {pol['tbl']} AS "
            f"{'PERMISSIVE' if pol['polpermissive'] else 'RESTRICTIVE'} FOR {_POLICY_CMD[pol['polcmd']]} "
            f"TO {', '.join(pol['roles'])}"
        )
        if pol["qual"]:
            text += f" USING ({pol['qual']})"
        if pol["with_check"]:
            text += f" WITH CHECK ({pol['with_check']})"
        lines.append(text + ";")
    lines += _grants(privileges)
    for table, condition in zip(ext["config_tables"], ext["config_conditions"], strict=False):
        lines.append(f"SELECT pg_catalog.pg_extension_config_dump({_literal(table)}::regclass, {_literal(condition)});")
    lines += _overlay_statements(name, c_members)
    return GeneratedStandin(
        name=name,
        version=ext["extversion"],
        schema=ext["schema"],
        relocatable=bool(ext["extrelocatable"]),
        requires=list(ext["requires"] or []),
        script="\n".join(lines) + "\n",
        not_reproduced=others,
        deferred=deferred,
    )
