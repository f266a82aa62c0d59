"""Functions and procedures, triggers, RLS policies, user-defined types and event triggers."""

from __future__ import annotations

from typing import Any

from wizard.catalog.model import SchemaObject
from wizard.catalog.scope_sql import in_part, managed_ns, not_extension_member, user_ns

Rows = list[dict[str, Any]]

FUNCTIONS_SQL = f"""
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prokind,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS def,
       pg_get_userbyid(p.proowner) AS owner, p.prosecdef, p.proconfig, l.lanname,
       pg_get_function_result(p.oid) AS result,
       CASE WHEN p.prokind = 'a' THEN (
         SELECT concat_ws(' ', 'SFUNC ' || ag.aggtransfn::regproc::text,
                          'STYPE ' || format_type(ag.aggtranstype, NULL),
                          'FINALFUNC ' || NULLIF(ag.aggfinalfn::regproc::text, '-'),
                          'INITCOND ' || ag.agginitval,
                          'COMBINEFUNC ' || NULLIF(ag.aggcombinefn::regproc::text, '-'),
                          'KIND ' || ag.aggkind::text)
           FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid) END AS aggdef
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE {user_ns("n")} AND {not_extension_member("pg_proc", "p.oid")}
"""

# Triggers on user tables, and triggers on managed tables (auth.users...) whose function is
# the user's. Clones on partitions (tgparentid <> 0) come with their parent's trigger. The user's
# triggers are picked first (MATERIALIZED): left to itself the planner probes pg_trigger once per
# relation of every schema, tens of thousands of probes for a few hundred triggers.
TRIGGERS_SQL = f"""
WITH t AS MATERIALIZED (SELECT * FROM pg_trigger WHERE NOT tgisinternal AND tgparentid = 0)
SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled,
       pn.nspname AS fn_schema, p.proname AS fn_name, {managed_ns("n")} AS on_managed
  FROM t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE {not_extension_member("pg_trigger", "t.oid")}
   AND ({user_ns("n")} OR ({managed_ns("n")} AND {user_ns("pn")})) AND {in_part("c")}
"""

# Read as tuples (see policies()): keep the select list and the unpacking in the same order.
POLICIES_SQL = f"""
SELECT n.nspname, c.relname, pol.polname, pol.polpermissive, pol.polcmd,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END
               FROM unnest(pol.polroles) AS r ORDER BY 1) AS roles,
       pg_get_expr(pol.polqual, pol.polrelid) AS qual,
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS withcheck,
       {managed_ns("n")} AS on_managed
  FROM pg_policy pol
  JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE ({user_ns("n")} OR {managed_ns("n")}) AND {in_part("c")}
   -- an extension's own tables keep the policies its script made (pg_cron's on cron.job): not the user's
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
"""

TYPES_SQL = f"""
SELECT n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner) AS owner,
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_enum e
                                            WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS basetype,
       t.typnotnull, t.typdefault,
       CASE WHEN t.typtype = 'd' THEN ARRAY(SELECT con.conname || ' ' || pg_get_constraintdef(con.oid)
                                            FROM pg_constraint con WHERE con.contypid = t.oid
                                             AND con.contype <> 'n'
                                            ORDER BY con.conname) END AS domain_checks,
       CASE WHEN t.typtype = 'c' THEN ARRAY(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                            FROM pg_attribute a WHERE a.attrelid = t.typrelid
                                             AND a.attnum > 0 AND NOT a.attisdropped
                                            ORDER BY a.attnum) END AS attributes,
       CASE WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, NULL) || ' ' ||
                                              coalesce(r.rngsubdiff::regproc::text, '-') || ' ' ||
                                              coalesce(r.rngcanonical::regproc::text, '-')
                                         FROM pg_range r WHERE r.rngtypid = t.oid) END AS range_def
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd', 'c', 'r')
   AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND {user_ns("n")} AND {not_extension_member("pg_type", "t.oid")}
"""

EVENT_TRIGGERS_SQL = f"""
SELECT e.evtname, e.evtevent, e.evttags, e.evtenabled, pn.nspname AS fn_schema, p.proname AS fn_name
  FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE {user_ns("pn")} AND {not_extension_member("pg_event_trigger", "e.oid")}
"""

_POLICY_CMD = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
_TYPE_KIND = {"e": "enum", "d": "domain", "c": "composite_type", "r": "range_type"}
_ENABLED = {"O": "", "D": "DISABLED", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def functions(rows: Rows) -> list[SchemaObject]:
    """Functions, procedures and aggregates keyed by ``schema.name(identity arguments)``."""
    objects = []
    for row in rows:
        name = f"{row['nspname']}.{row['proname']}({row['args']})"
        if row["prokind"] == "a":
            definition = f"AGGREGATE {name} {row['aggdef']}"
        else:
            definition = row["def"].strip()
        objects.append(
            SchemaObject(
                "function",
                name,
                f"{definition}\nOWNER {row['owner']}",
                details={
                    "kind": {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}[
                        row["prokind"]
                    ],
                    "security_definer": row["prosecdef"],
                    "config": row["proconfig"] or [],
                    "language": row["lanname"],
                    "result": row["result"],
                    "create": definition,
                    "signature": name,
                },
            )
        )
    return objects


def triggers(rows: Rows) -> list[SchemaObject]:
    """Triggers keyed by ``schema.table.trigger``."""
    return [
        SchemaObject(
            "trigger",
            f"{r['nspname']}.{r['relname']}.{r['tgname']}",
            " ".join(p for p in (r["def"], _ENABLED[r["tgenabled"]]) if p),
            table=f"{r['nspname']}.{r['relname']}",
            details={
                "schema": r["nspname"],
                "table_name": r["relname"],
                "trigger": r["tgname"],
                "function": f"{r['fn_schema']}.{r['fn_name']}",
                "on_managed_table": r["on_managed"],
                "create": r["def"],
                "enabled": r["tgenabled"],
            },
        )
        for r in rows
    ]


def policies(rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
    """RLS policies keyed by ``schema.table.policy``.

    ``rows`` are tuples in :data:`POLICIES_SQL`'s column order.
    """
    objects = []
    for schema, relname, polname, permissive, cmd, roles, qual, withcheck, on_managed in rows:
        command = _POLICY_CMD[cmd]
        parts = ["AS PERMISSIVE" if permissive else "AS RESTRICTIVE", f"FOR {command}", f"TO {', '.join(roles)}"]
        if qual is not None:
            parts.append(f"USING ({qual})")
        if withcheck is not None:
            parts.append(f"WITH CHECK ({withcheck})")
        table = f"{schema}.{relname}"
        details = {
            "schema": schema,
            "table_name": relname,
            "policy": polname,
            "on_managed_table": on_managed,
            "command": command,
        }
        objects.append(SchemaObject("policy", f"{table}.{polname}", " ".join(parts), table, details))
    return objects


def types(rows: Rows) -> list[SchemaObject]:
    """Enums (labels in order), domains, composite types and range types."""
    objects = []
    for r in rows:
        kind = _TYPE_KIND[r["typtype"]]
        if kind == "enum":
            body = "ENUM (" + ", ".join(r["labels"]) + ")"
        elif kind == "domain":
            body = " ".join(
                p
                for p in (
                    f"DOMAIN AS {r['basetype']}",
                    r["typnotnull"] and "NOT NULL",
                    r["typdefault"] is not None and f"DEFAULT {r['typdefault']}",
                    *r["domain_checks"],
                )
                if p
            )
        elif kind == "composite_type":
            body = "AS (" + ", ".join(r["attributes"]) + ")"
        else:
            body = f"RANGE {r['range_def']}"
        objects.append(
            SchemaObject(
                kind,
                f"{r['nspname']}.{r['typname']}",
                f"{body} OWNER {r['owner']}",
                details={"labels": r["labels"]} if kind == "enum" else {},
            )
        )
    return objects


def event_triggers(rows: Rows) -> list[SchemaObject]:
    """Event triggers whose function is the user's."""
    return [
        SchemaObject(
            "event_trigger",
            r["evtname"],
            " ".join(
                p
                for p in (
                    f"ON {r['evtevent']}",
                    r["evttags"] and f"WHEN TAG IN ({', '.join(sorted(r['evttags']))})",
                    f"EXECUTE FUNCTION {r['fn_schema']}.{r['fn_name']}()",
                    _ENABLED[r["evtenabled"]],
                )
                if p
            ),
        )
        for r in rows
    ]
