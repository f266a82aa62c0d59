"""SQL for in-scope objects that ``pg_dump --schema`` leaves out.

Dumping only the user schemas skips what lives outside them yet belongs to the project
(see :mod:`wizard.catalog.scope`): extensions, triggers whose function is the user's on managed
tables (``auth.users``), policies on managed tables (``storage.objects``), publications and
publication membership of user tables (``supabase_realtime``), event triggers with a user
function, and default privileges for all schemas. Each comes from the target's catalog,
deparsed with an empty ``search_path`` so every name is schema-qualified.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

from wizard.catalog import Snapshot, scope
from wizard.catalog.scope_sql import not_extension_member, user_ns
from wizard.db.connect import scalar
from wizard.db.sqltext import ident, literal, qualified
from wizard.squash.dump import KEPT_OWNERS

#: Extensions only Supabase can install; every project has them, so the baseline leaves them
#: out and the proof does not compare them.
SUPABASE_INTERNAL_EXTENSIONS: tuple[str, ...] = ("pg_graphql", "supabase_vault", "pgsodium")

#: Publications Supabase creates in every project (membership of user tables in them is kept).
MANAGED_PUBLICATIONS: tuple[str, ...] = ("supabase_realtime", "supabase_realtime_messages_publication")

_EXTENSION_ORDER_SQL = """
SELECT e.extname, n.nspname,
       ARRAY(SELECT r.extname FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
              WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid
                AND d.refclassid = 'pg_extension'::regclass ORDER BY 1) AS requires
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname <> 'plpgsql'
 ORDER BY e.extname
"""

_PUBLICATIONS_SQL = """
SELECT p.pubname, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot,
       pg_get_userbyid(p.pubowner) AS owner
  FROM pg_publication p
 ORDER BY p.pubname
"""

_PUBLICATION_MEMBERS_SQL = f"""
SELECT p.pubname, n.nspname, c.relname, {{extra}}
  FROM pg_publication_rel pr
  JOIN pg_publication p ON p.oid = pr.prpubid
  JOIN pg_class c ON c.oid = pr.prrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {user_ns("n")}
 ORDER BY p.pubname, n.nspname, c.relname
"""
_MEMBER_EXTRA_15 = (
    "pg_get_expr(pr.prqual, pr.prrelid) AS rowfilter, "
    "ARRAY(SELECT quote_ident(a.attname) FROM pg_attribute a "
    "WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs) ORDER BY a.attnum) AS columns"
)
_MEMBER_EXTRA_OLD = "NULL AS rowfilter, NULL::text[] AS columns"

_PUBLICATION_SCHEMAS_SQL = f"""
SELECT p.pubname, n.nspname
  FROM pg_publication_namespace pn
  JOIN pg_publication p ON p.oid = pn.pnpubid
  JOIN pg_namespace n ON n.oid = pn.pnnspid
 WHERE {user_ns("n")}
 ORDER BY p.pubname, n.nspname
"""

_EVENT_TRIGGERS_SQL = f"""
SELECT e.evtname, e.evtevent, e.evttags, e.evtenabled, pn.nspname AS fn_schema, p.proname AS fn_name
  FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE {user_ns("pn")} AND {not_extension_member("pg_event_trigger", "e.oid")}
 ORDER BY e.evtname
"""

# Default privileges for all schemas (pg_dump --schema skips them), relative to the built-in
# defaults: what was granted beyond them, and what was revoked from them.
_GLOBAL_DEFAULT_ACL_SQL = """
WITH d AS (SELECT defaclrole, defaclobjtype, defaclacl FROM pg_default_acl WHERE defaclnamespace = 0)
SELECT pg_get_userbyid(d.defaclrole) AS role, d.defaclobjtype AS objtype, 'GRANT' AS action,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
       a.privilege_type, a.is_grantable
  FROM d, LATERAL aclexplode(d.defaclacl) a
 WHERE (a.grantee, a.privilege_type, a.is_grantable) NOT IN
       (SELECT b.grantee, b.privilege_type, b.is_grantable FROM aclexplode(acldefault(d.defaclobjtype, d.defaclrole)) b)
UNION ALL
SELECT pg_get_userbyid(d.defaclrole), d.defaclobjtype, 'REVOKE',
       CASE WHEN b.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(b.grantee)) END,
       b.privilege_type, false
  FROM d, LATERAL aclexplode(acldefault(d.defaclobjtype, d.defaclrole)) b
 WHERE (b.grantee, b.privilege_type) NOT IN (SELECT a.grantee, a.privilege_type FROM aclexplode(d.defaclacl) a)
 ORDER BY 1, 2, 3, 4, 5
"""

#: Roles that a Supabase project's default privileges grant every new table, sequence and
#: function to. Their privileges are written out exactly (revoke all, grant the target's), so
#: the baseline reproduces the target whatever default privileges the new project has.
API_ROLES: tuple[str, ...] = ("anon", "authenticated", "service_role")

_API_PRIVILEGES_SQL = f"""
WITH grantees AS (
    SELECT 0::oid AS oid, 'PUBLIC' AS name
    UNION ALL
    SELECT oid, quote_ident(rolname) FROM pg_roles WHERE rolname = ANY(%(api_roles)s)
), objects AS (
    SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS objtype, c.oid::regclass::text AS objname,
           c.relowner AS owner,
           CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char" AS acltype, c.relacl AS acl
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {user_ns("n")}
       AND {not_extension_member("pg_class", "c.oid")}
    UNION ALL
    SELECT 'ROUTINE', p.oid::regprocedure::text, p.proowner, 'f'::"char", p.proacl
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE {user_ns("n")} AND {not_extension_member("pg_proc", "p.oid")}
)
SELECT o.objtype, o.objname, g.name AS grantee,
       ARRAY(SELECT a.privilege_type FROM aclexplode(coalesce(o.acl, acldefault(o.acltype, o.owner))) a
              WHERE a.grantee = g.oid AND NOT a.is_grantable ORDER BY 1) AS privileges,
       ARRAY(SELECT a.privilege_type FROM aclexplode(coalesce(o.acl, acldefault(o.acltype, o.owner))) a
              WHERE a.grantee = g.oid AND a.is_grantable ORDER BY 1) AS grantable,
       ARRAY(SELECT a.privilege_type FROM aclexplode(acldefault(o.acltype, o.owner)) a
              WHERE a.grantee = o.owner ORDER BY 1) AS every
  FROM objects o CROSS JOIN grantees g
 WHERE g.oid <> o.owner
 ORDER BY 1, 2, 3
"""

_DEFACL_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}
_TRIGGER_STATE = {"D": "DISABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}
_EVENT_STATE = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


@dataclass
class ManagedSql:
    """SQL for objects outside the dumped schemas, in two parts and with counts.

    Attributes:
        before: Runs before the dump (extensions, which types and functions may use).
        after: Runs after it (triggers, policies, publications, event triggers, default privileges).
        counts: How many statements of each sort were written.
        left_out: Extensions deliberately not written (Supabase-internal).
    """

    before: str = ""
    after: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)


@contextmanager
def _qualified_names(conn: psycopg.Connection) -> Iterator[None]:
    """An empty search_path while deparsing, so expressions come out schema-qualified."""
    saved = scalar(conn.execute("SELECT current_setting('search_path')"))
    conn.execute("SELECT set_config('search_path', '', false)")
    try:
        yield
    finally:
        conn.execute("SELECT set_config('search_path', %s, false)", (saved,))


def _rows(conn: psycopg.Connection, sql: str) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, scope.params())
        return cur.fetchall()


def _extensions(conn: psycopg.Connection, out: ManagedSql) -> list[str]:
    rows = {r["extname"]: r for r in _rows(conn, _EXTENSION_ORDER_SQL)}
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered or name not in rows or name in trail:
            return
        for required in rows[name]["requires"]:
            visit(required, (*trail, name))
        ordered.append(name)

    for name in rows:
        visit(name)
    user_schemas = set()
    lines = []
    for name in ordered:
        if name in SUPABASE_INTERNAL_EXTENSIONS:
            out.left_out.append(name)
            continue
        schema = rows[name]["nspname"]
        # WITH SCHEMA needs the schema; a managed one (pgmq) may not exist before its extension.
        if schema not in (*scope.SYSTEM_SCHEMAS, "public") and schema not in user_schemas:
            user_schemas.add(schema)
            lines.append(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)};")
        lines.append(f"CREATE EXTENSION IF NOT EXISTS {ident(name)} WITH SCHEMA {ident(schema)};")
    out.counts["extensions"] = len(ordered) - len(out.left_out)
    return lines


def _triggers(snap: Snapshot, out: ManagedSql) -> list[str]:
    lines = []
    for trig in snap.of_kind("trigger"):
        if not trig.details.get("on_managed_table"):
            continue
        lines.append(trig.details["create"].rstrip(";") + ";")
        state = _TRIGGER_STATE.get(trig.details.get("enabled") or "O")
        if state:
            table = qualified(trig.details["schema"], trig.details["table_name"])
            lines.append(f"ALTER TABLE {table} {state} {ident(trig.details['trigger'])};")
    out.counts["triggers on managed tables"] = sum(1 for line in lines if line.startswith("CREATE"))
    return lines


def _policies(snap: Snapshot, out: ManagedSql) -> list[str]:
    """``CREATE POLICY`` for the policies on managed tables, from the snapshot's (schema-qualified) definitions."""
    lines = [
        f"CREATE POLICY {ident(p.details['policy'])} ON {qualified(p.details['schema'], p.details['table_name'])} "
        f"{p.definition};"
        for p in snap.of_kind("policy")
        if p.details.get("on_managed_table")
    ]
    out.counts["policies on managed tables"] = len(lines)
    return lines


def _publications(conn: psycopg.Connection, out: ManagedSql) -> list[str]:
    lines = []
    for r in _rows(conn, _PUBLICATIONS_SQL):
        if r["pubname"] in MANAGED_PUBLICATIONS:
            continue
        publish = ", ".join(op for op in ("insert", "update", "delete", "truncate") if r[f"pub{op}"])
        options = [f"publish = {literal(publish)}"]
        if r["pubviaroot"]:
            options.append("publish_via_partition_root = true")
        scope_words = " FOR ALL TABLES" if r["puballtables"] else ""
        lines.append(f"CREATE PUBLICATION {ident(r['pubname'])}{scope_words} WITH ({', '.join(options)});")
        if r["owner"] in KEPT_OWNERS:
            lines.append(f"ALTER PUBLICATION {ident(r['pubname'])} OWNER TO {ident(r['owner'])};")
    created = len([line for line in lines if line.startswith("CREATE")])
    version = conn.info.server_version
    extra = _MEMBER_EXTRA_15 if version >= 150000 else _MEMBER_EXTRA_OLD
    members = 0
    if version >= 150000:
        for r in _rows(conn, _PUBLICATION_SCHEMAS_SQL):
            lines.append(f"ALTER PUBLICATION {ident(r['pubname'])} ADD TABLES IN SCHEMA {ident(r['nspname'])};")
            members += 1
    for r in _rows(conn, _PUBLICATION_MEMBERS_SQL.format(extra=extra)):
        columns = f" ({', '.join(r['columns'])})" if r["columns"] else ""
        where = f" WHERE ({r['rowfilter']})" if r["rowfilter"] else ""
        table = qualified(r["nspname"], r["relname"])
        lines.append(f"ALTER PUBLICATION {ident(r['pubname'])} ADD TABLE ONLY {table}{columns}{where};")
        members += 1
    out.counts["publications"] = created
    out.counts["publication members"] = members
    return lines


def _event_triggers(conn: psycopg.Connection, out: ManagedSql) -> list[str]:
    lines = []
    for r in _rows(conn, _EVENT_TRIGGERS_SQL):
        when = ""
        if r["evttags"]:
            when = f" WHEN TAG IN ({', '.join(literal(t) for t in sorted(r['evttags']))})"
        function = qualified(r["fn_schema"], r["fn_name"])
        lines.append(
            f"CREATE EVENT TRIGGER {ident(r['evtname'])} ON {ident(r['evtevent'])}{when} EXECUTE FUNCTION {function}();"
        )
        state = _EVENT_STATE.get(r["evtenabled"])
        if state:
            lines.append(f"ALTER EVENT TRIGGER {ident(r['evtname'])} {state};")
    out.counts["event triggers"] = sum(1 for line in lines if line.startswith("CREATE"))
    return lines


def _default_privileges(conn: psycopg.Connection, out: ManagedSql) -> list[str]:
    lines = []
    for r in _rows(conn, _GLOBAL_DEFAULT_ACL_SQL):
        objects = _DEFACL_OBJECTS.get(r["objtype"])
        if objects is None:
            continue
        head = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(r['role'])}"
        if r["action"] == "GRANT":
            option = " WITH GRANT OPTION" if r["is_grantable"] else ""
            lines.append(f"{head} GRANT {r['privilege_type']} ON {objects} TO {r['grantee']}{option};")
        else:
            lines.append(f"{head} REVOKE {r['privilege_type']} ON {objects} FROM {r['grantee']};")
    out.counts["default privileges (all schemas)"] = len(lines)
    return lines


def _api_privileges(conn: psycopg.Connection, out: ManagedSql) -> list[str]:
    by_object: dict[tuple[str, str], list[dict]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_API_PRIVILEGES_SQL, {**scope.params(), "api_roles": list(API_ROLES)})
        for r in cur.fetchall():
            by_object.setdefault((r["objtype"], r["objname"]), []).append(r)
    lines = []
    for (objtype, objname), rows in by_object.items():
        on = f"ON {objtype} {objname}"
        lines.append(f"REVOKE ALL {on} FROM {', '.join(r['grantee'] for r in rows)};")
        for r in rows:
            for privileges, option in ((r["privileges"], ""), (r["grantable"], " WITH GRANT OPTION")):
                if privileges:
                    words = "ALL" if sorted(privileges) == sorted(r["every"]) else ", ".join(privileges)
                    lines.append(f"GRANT {words} {on} TO {r['grantee']}{option};")
    out.counts["objects with exact API role privileges"] = len(by_object)
    return lines


def _section(title: str, lines: list[str]) -> str:
    if not lines:
        return ""
    return f"--\n-- {title}\n--\n\n" + "\n".join(lines) + "\n\n"


def managed_sql(conn: psycopg.Connection, snap: Snapshot) -> ManagedSql:
    """Read the target (read-only) and write SQL for its in-scope objects outside user schemas."""
    out = ManagedSql()
    with _qualified_names(conn):
        out.before = _section("Extensions (a fresh Supabase project already has its own)", _extensions(conn, out))
        after = [
            ("Triggers on Supabase-managed tables whose function is the project's", _triggers(snap, out)),
            ("Row level security policies on Supabase-managed tables", _policies(snap, out)),
            ("Publications and publication membership of the project's tables", _publications(conn, out)),
            ("Event triggers with a function of the project's", _event_triggers(conn, out)),
            ("Default privileges for all schemas", _default_privileges(conn, out)),
            (
                "Privileges of PUBLIC and the API roles, exactly as on the target (a new project's default "
                "privileges grant them everything)",
                _api_privileges(conn, out),
            ),
        ]
    out.after = "".join(_section(title, lines) for title, lines in after)
    return out
