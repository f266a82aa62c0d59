"""Schemas, extensions, grants, default privileges, comments, publications and other objects."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from wizard.catalog.model import SchemaObject
from wizard.catalog.scope_sql import not_extension_member, user_ns

Rows = list[dict[str, Any]]

SCHEMAS_SQL = f"""
SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner
  FROM pg_namespace n
 WHERE {user_ns("n")} AND {not_extension_member("pg_namespace", "n.oid")}
"""

# plpgsql is installed in every database; the server ships it, not the project.
EXTENSIONS_SQL = """
SELECT e.extname, n.nspname, e.extversion
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname <> 'plpgsql'
"""

_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"
_OWNER_MARK = "CASE WHEN a.grantee = {owner} THEN '<owner>' ELSE " + _GRANTEE + " END"

# Privileges are expanded from the ACL (or the built-in default when the ACL is NULL), so a
# default ACL and the same privileges granted explicitly compare equal. The owner's own
# privileges are labelled <owner>: ownership is compared on the object itself.
# Read as tuples (see grants()): keep the select list and the unpacking in the same order.
GRANTS_SQL = f"""
SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' ELSE 'table' END AS objtype,
       n.nspname || '.' || c.relname AS objname, {_OWNER_MARK.format(owner="c.relowner")} AS grantee,
       a.privilege_type, a.is_grantable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       LATERAL aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
                                                        c.relowner))) a
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {user_ns("n")}
   AND {not_extension_member("pg_class", "c.oid")}
UNION ALL
SELECT 'column', n.nspname || '.' || c.relname || '.' || att.attname, {_GRANTEE}, a.privilege_type,
       a.is_grantable
  FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(att.attacl) a
 WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped AND {user_ns("n")}
   AND {not_extension_member("pg_class", "c.oid")}
UNION ALL
SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       {_OWNER_MARK.format(owner="p.proowner")}, a.privilege_type, a.is_grantable
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
       LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE {user_ns("n")} AND {not_extension_member("pg_proc", "p.oid")}
UNION ALL
SELECT 'schema', n.nspname, {_OWNER_MARK.format(owner="n.nspowner")}, a.privilege_type, a.is_grantable
  FROM pg_namespace n, LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE {user_ns("n")}
UNION ALL
SELECT 'type', n.nspname || '.' || t.typname, {_OWNER_MARK.format(owner="t.typowner")}, a.privilege_type,
       a.is_grantable
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace,
       LATERAL aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
 WHERE t.typtype IN ('e', 'd', 'c', 'r') AND {user_ns("n")}
   AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND {not_extension_member("pg_type", "t.oid")}
"""

DEFAULT_PRIVILEGES_SQL = f"""
SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname, d.defaclobjtype,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
  FROM pg_default_acl d
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace,
       LATERAL aclexplode(d.defaclacl) a
 WHERE d.defaclnamespace = 0 OR {user_ns("n")}
"""

_NAMESPACE_OF = """CASE d.classoid
    WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objoid)
    WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objoid)
    WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objoid)
    WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = d.objoid)
    WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c
                                        ON c.oid = t.tgrelid WHERE t.oid = d.objoid)
    WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p JOIN pg_class c
                                       ON c.oid = p.polrelid WHERE p.oid = d.objoid)
    WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c
                                        ON c.oid = r.ev_class WHERE r.oid = d.objoid)
    WHEN 'pg_namespace'::regclass THEN d.objoid
    WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = d.objoid)
    WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = d.objoid)
  END"""

COMMENTS_SQL = f"""
SELECT o.type, o.identity, d.description
  FROM pg_description d
  JOIN pg_namespace n ON n.oid = {_NAMESPACE_OF}
  CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
 WHERE {user_ns("n")}
   AND NOT EXISTS (SELECT 1 FROM pg_depend dx WHERE dx.classid = d.classoid AND dx.objid = d.objoid
                                                AND dx.deptype = 'e')
"""

PUBLICATIONS_SQL = """
SELECT p.pubname, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot,
       pg_get_userbyid(p.pubowner) AS owner
  FROM pg_publication p
"""

PUBLICATION_MEMBERS_SQL = f"""
SELECT p.pubname, n.nspname || '.' || c.relname AS tablename, {{extra}}
  FROM pg_publication_rel pr
  JOIN pg_publication p ON p.oid = pr.prpubid
  JOIN pg_class c ON c.oid = pr.prrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {user_ns("n")}
"""
PUBLICATION_MEMBERS_EXTRA_15 = (
    "pg_get_expr(pr.prqual, pr.prrelid) AS rowfilter, "
    "(SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a "
    " WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs)) AS columns"
)
PUBLICATION_MEMBERS_EXTRA_OLD = "NULL AS rowfilter, NULL AS columns"

# Everything else that can live in a user schema, compared by presence (its identity).
OTHER_SQL = f"""
SELECT o.type, o.identity
  FROM (SELECT 'pg_operator'::regclass AS classid, oid, oprnamespace AS ns FROM pg_operator
        UNION ALL SELECT 'pg_opclass'::regclass, oid, opcnamespace FROM pg_opclass
        UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfnamespace FROM pg_opfamily
        UNION ALL SELECT 'pg_collation'::regclass, oid, collnamespace FROM pg_collation
        UNION ALL SELECT 'pg_conversion'::regclass, oid, connamespace FROM pg_conversion
        UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgnamespace FROM pg_ts_config
        UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictnamespace FROM pg_ts_dict
        UNION ALL SELECT 'pg_ts_parser'::regclass, oid, prsnamespace FROM pg_ts_parser
        UNION ALL SELECT 'pg_ts_template'::regclass, oid, tmplnamespace FROM pg_ts_template
        UNION ALL SELECT 'pg_type'::regclass, oid, typnamespace FROM pg_type
                   WHERE typtype IN ('b', 'p') AND typcategory <> 'A'
       ) x
  JOIN pg_namespace n ON n.oid = x.ns
  CROSS JOIN LATERAL pg_identify_object(x.classid, x.oid, 0) o
 WHERE {user_ns("n")}
   AND NOT EXISTS (SELECT 1 FROM pg_depend dx WHERE dx.classid = x.classid AND dx.objid = x.oid
                                                AND dx.deptype = 'e')
UNION ALL
SELECT o.type, o.identity
  FROM pg_cast c CROSS JOIN LATERAL pg_identify_object('pg_cast'::regclass, c.oid, 0) o
 WHERE c.oid >= 16384 AND {not_extension_member("pg_cast", "c.oid")}
UNION ALL
SELECT o.type, o.identity
  FROM pg_foreign_server s CROSS JOIN LATERAL pg_identify_object('pg_foreign_server'::regclass, s.oid, 0) o
 WHERE {not_extension_member("pg_foreign_server", "s.oid")}
"""


def schemas(rows: Rows) -> list[SchemaObject]:
    """User schemas with their owners."""
    return [SchemaObject("schema", r["nspname"], f"OWNER {r['owner']}") for r in rows]


def extensions(rows: Rows) -> list[SchemaObject]:
    """Installed extensions and their schema (the version depends on the server, so it is a detail)."""
    return [
        SchemaObject(
            "extension",
            r["extname"],
            f"SCHEMA {r['nspname']}",
            details={"version": r["extversion"], "schema": r["nspname"]},
        )
        for r in rows
    ]


def _privileges(rows: Rows) -> str:
    return ", ".join(sorted(r["privilege_type"] + (" WITH GRANT OPTION" if r["is_grantable"] else "") for r in rows))


def grants(rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
    """One object per (object, grantee): the privileges the grantee holds.

    ``rows`` are tuples in :data:`GRANTS_SQL`'s column order (one per privilege: many).
    """
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for objtype, objname, grantee, privilege, grantable in rows:
        key = (objtype, objname, grantee)
        held = grouped.get(key)
        if held is None:
            held = grouped[key] = []
        held.append(privilege + " WITH GRANT OPTION" if grantable else privilege)
    return [
        SchemaObject(
            "grant",
            f"{objtype} {objname} to {grantee}",
            ", ".join(sorted(held)),
            None,
            {"objtype": objtype, "object": objname, "grantee": grantee},
        )
        for (objtype, objname, grantee), held in grouped.items()
    ]


_DEFACL_TYPES = {"r": "tables", "S": "sequences", "f": "functions", "T": "types", "n": "schemas"}


def default_privileges(rows: Rows) -> list[SchemaObject]:
    """``ALTER DEFAULT PRIVILEGES`` entries, one per (role, schema, object type, grantee)."""
    grouped: dict[tuple[str, str, str, str], Rows] = defaultdict(list)
    for r in rows:
        where = f"in schema {r['nspname']}" if r["nspname"] else "in all schemas"
        kind: str = r["defaclobjtype"]
        grouped[(r["role"], where, _DEFACL_TYPES.get(kind, kind), r["grantee"])].append(r)
    return [
        SchemaObject("default_privilege", f"for role {role} {where} on {objtype} to {grantee}", _privileges(privs))
        for (role, where, objtype, grantee), privs in grouped.items()
    ]


def comments(rows: Rows) -> list[SchemaObject]:
    """``COMMENT ON`` texts keyed by the object's identity."""
    return [SchemaObject("comment", f"{r['type']} {r['identity']}", r["description"]) for r in rows]


_MANAGED_PUBLICATIONS = ("supabase_realtime", "supabase_realtime_messages_publication")


def publications(pub_rows: Rows, member_rows: Rows) -> list[SchemaObject]:
    """User publications, and membership of user tables in any publication."""
    objects = [
        SchemaObject(
            "publication",
            r["pubname"],
            " ".join(
                p
                for p in (
                    r["puballtables"] and "FOR ALL TABLES",
                    "PUBLISH " + ", ".join(op for op in ("insert", "update", "delete", "truncate") if r[f"pub{op}"]),
                    r["pubviaroot"] and "VIA ROOT",
                    f"OWNER {r['owner']}",
                )
                if p
            ),
        )
        for r in pub_rows
        if r["pubname"] not in _MANAGED_PUBLICATIONS
    ]
    for r in member_rows:
        definition = " ".join(
            p for p in (r["columns"] and f"({r['columns']})", r["rowfilter"] and f"WHERE ({r['rowfilter']})") if p
        )
        objects.append(
            SchemaObject("publication_member", f"{r['pubname']}: {r['tablename']}", definition or "all columns")
        )
    return objects


def others(rows: Rows) -> list[SchemaObject]:
    """Operators, operator classes, collations, text search objects, casts... by presence."""
    return [SchemaObject("other", f"{r['type']} {r['identity']}", "present") for r in rows]
