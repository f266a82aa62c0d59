"""Tables, columns, constraints, indexes, sequences, views, rules and statistics objects."""

from __future__ import annotations

from typing import Any

from wizard.catalog.model import SchemaObject
from wizard.catalog.scope_sql import in_part, not_extension_member, user_ns
from wizard.db.sqltext import qualified

Rows = list[dict[str, Any]]

_REL_SCOPE = f"{user_ns('n')} AND {not_extension_member('pg_class', 'c.oid')} AND {in_part('c')}"

TABLES_SQL = f"""
SELECT n.nspname, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
       c.reloptions, c.relreplident, pg_get_userbyid(c.relowner) AS owner,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partbound,
       (SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', '
                          ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid) AS parents,
       am.amname, ts.spcname,
       fs.srvname AS foreign_server, ft.ftoptions
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_am am ON am.oid = c.relam
  LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
  LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
  LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
 WHERE c.relkind IN ('r', 'p', 'f') AND {_REL_SCOPE}
"""

# Read as tuples (see tables()): keep the select list and tables()'s unpacking in the same order.
COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname, a.attnum,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_expr, a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> t.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                    FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                   WHERE co.oid = a.attcollation) END AS collation,
       NULLIF(a.attstattarget::int, -1) AS stattarget,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage,
       NULLIF(a.attcompression::text, '') AS compression,
       a.attoptions, a.attfdwoptions, a.attislocal
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND {_REL_SCOPE}
 ORDER BY n.nspname, c.relname, a.attnum
"""

# contype 'n' (NOT NULL, stored as constraints since PostgreSQL 18) is compared as the
# column's NOT NULL instead, so that servers of different versions compare equal.
# Read as tuples (see constraints()): keep the select list and the unpacking in the same order.
CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid) AS def,
       con.confupdtype, con.confdeltype, con.confmatchtype, con.condeferrable, con.condeferred,
       con.convalidated, fn.nspname AS ref_schema, fc.relname AS ref_table, con.conislocal
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND {_REL_SCOPE}
"""

# Read as tuples (see indexes()): keep the select list and the unpacking in the same order.
INDEXES_SQL = f"""
SELECT n.nspname, ic.relname AS index_name, c.relname AS table_name,
       pg_get_indexdef(i.indexrelid) AS def, i.indisclustered, i.indisreplident, i.indisvalid,
       i.indisunique, i.indisprimary, con.conname AS constraint_name, con.contype,
       ts.spcname
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
  LEFT JOIN pg_constraint con
         ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
 WHERE c.relkind IN ('r', 'p', 'm') AND {_REL_SCOPE}
"""

SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL) AS type, s.seqstart, s.seqincrement,
       s.seqmax, s.seqmin, s.seqcache, s.seqcycle, pg_get_userbyid(c.relowner) AS owner,
       c.relpersistence,
       (SELECT d.deptype::text || ' ' || quote_ident(tn.nspname) || '.' || quote_ident(tc.relname)
               || '.' || quote_ident(ta.attname)
          FROM pg_depend d
          JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) AS owned_by
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_REL_SCOPE}
"""

VIEWS_SQL = f"""
SELECT n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid) AS def, c.reloptions,
       pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND {_REL_SCOPE}
"""

RULES_SQL = f"""
SELECT n.nspname, c.relname, r.rulename, pg_get_ruledef(r.oid) AS def, r.ev_enabled
  FROM pg_rewrite r
  JOIN pg_class c ON c.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND {_REL_SCOPE}
"""

STATISTICS_SQL = f"""
SELECT n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid) AS def
  FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
 WHERE {user_ns("n")} AND {not_extension_member("pg_statistic_ext", "s.oid")}
"""

_PERSISTENCE = {"p": "", "u": "UNLOGGED", "t": "TEMPORARY"}
_REPLICA = {"d": "", "n": "REPLICA IDENTITY NOTHING", "f": "REPLICA IDENTITY FULL", "i": ""}
_KIND = {"r": "TABLE", "p": "PARTITIONED TABLE", "f": "FOREIGN TABLE"}
FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
CONSTRAINT_TYPES = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion"}


# Attribute options PostgreSQL defines; some builds keep private bookkeeping in attoptions
# (seen: ``pg_attver=<counter>``, different for identical columns), which is not schema.
_ATTRIBUTE_OPTIONS = ("n_distinct", "n_distinct_inherited")


def _attoptions(options: list[str] | None) -> str:
    kept = sorted(o for o in options or [] if o.split("=", 1)[0] in _ATTRIBUTE_OPTIONS)
    return f"OPTIONS ({', '.join(kept)})" if kept else ""


def _join(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p not in (None, "", [], False))


_IDENTITY = {"a": "GENERATED ALWAYS AS IDENTITY", "d": "GENERATED BY DEFAULT AS IDENTITY"}


def tables(table_rows: Rows, column_rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
    """Table objects (their column order included) and one object per column.

    ``column_rows`` are tuples in :data:`COLUMNS_SQL`'s column order: the hot loop of a snapshot
    (one pass per column), so it unpacks rows instead of building a dict per row, and formats
    only the parts a column has.
    """
    columns_of: dict[tuple[str, str], list[str]] = {}
    objects: list[SchemaObject] = []
    for (
        schema,
        relname,
        column,
        attnum,
        type_,
        not_null,
        default,
        identity,
        generated,
        collation,
        stattarget,
        storage,
        compression,
        attoptions,
        fdwoptions,
        is_local,
    ) in column_rows:
        table = f"{schema}.{relname}"
        names = columns_of.get((schema, relname))
        if names is None:
            names = columns_of[(schema, relname)] = []
        names.append(column)
        parts = [type_]
        if collation:
            parts.append(f"COLLATE {collation}")
        if not_null:
            parts.append("NOT NULL")
        if generated == "s":
            parts.append(f"GENERATED ALWAYS AS ({default}) STORED")
        elif generated == "v":
            parts.append(f"GENERATED ALWAYS AS ({default}) VIRTUAL")
        elif default is not None:
            parts.append(f"DEFAULT {default}")
        if identity in _IDENTITY:
            parts.append(_IDENTITY[identity])
        if stattarget is not None:
            parts.append(f"STATISTICS {stattarget}")
        if storage:
            parts.append(f"STORAGE {storage}")
        if compression:
            parts.append(f"COMPRESSION {compression}")
        if attoptions and (options := _attoptions(attoptions)):
            parts.append(options)
        if fdwoptions:
            parts.append(f"FDW OPTIONS {sorted(fdwoptions)}")
        if not is_local:
            parts.append("INHERITED")
        details = {
            "schema": schema,
            "table_name": relname,
            "column": column,
            "type": type_,
            "not_null": not_null,
            "default": default if not generated else None,
            "position": attnum,
        }
        objects.append(SchemaObject("column", f"{table}.{column}", " ".join(parts), table, details))
    for row in table_rows:
        key = (row["nspname"], row["relname"])
        cols = columns_of.get(key, [])
        definition = _join(
            _PERSISTENCE[row["relpersistence"]],
            _KIND[row["relkind"]],
            f"({', '.join(cols)})",
            row["parents"] and f"INHERITS ({row['parents']})",
            row["partkey"] and f"PARTITION BY {row['partkey']}",
            row["partbound"] and f"PARTITION OF {row['parents']} {row['partbound']}",
            row["amname"] not in (None, "heap") and f"USING {row['amname']}",
            row["reloptions"] and f"WITH ({', '.join(sorted(row['reloptions']))})",
            row["spcname"] and f"TABLESPACE {row['spcname']}",
            row["foreign_server"] and f"SERVER {row['foreign_server']} {sorted(row['ftoptions'] or [])}",
            _REPLICA[row["relreplident"]],
            f"OWNER {row['owner']}",
            row["relrowsecurity"] and "ROW LEVEL SECURITY",
            row["relforcerowsecurity"] and "FORCE ROW LEVEL SECURITY",
        )
        objects.append(
            SchemaObject(
                "table",
                f"{key[0]}.{key[1]}",
                definition,
                details={
                    "schema": key[0],
                    "table_name": key[1],
                    "qualified": qualified(*key),
                    "columns": cols,
                    "rls": row["relrowsecurity"],
                    "force_rls": row["relforcerowsecurity"],
                    "owner": row["owner"],
                    "relkind": row["relkind"],
                },
            )
        )
    return objects


def constraints(rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
    """Primary key, unique, foreign key, check and exclusion constraints, keyed by table and name.

    ``rows`` are tuples in :data:`CONSTRAINTS_SQL`'s column order.
    """
    objects = []
    for schema, relname, conname, contype, definition, upd, dele, _match, _defer, _deferred, _valid, *rest in rows:
        ref_schema, ref_table, is_local = rest
        table = f"{schema}.{relname}"
        details: dict[str, Any] = {
            "schema": schema,
            "table_name": relname,
            "constraint": conname,
            "type": CONSTRAINT_TYPES[contype],
        }
        if contype == "f":
            details.update(
                on_delete=FK_ACTIONS[dele],
                on_update=FK_ACTIONS[upd],
                references=f"{ref_schema}.{ref_table}",
            )
        parts = [definition] if definition else []
        if not is_local:
            parts.append("INHERITED")
        objects.append(SchemaObject("constraint", f"{table}.{conname}", " ".join(parts), table, details))
    return objects


def indexes(rows: list[tuple[Any, ...]]) -> list[SchemaObject]:
    """Indexes keyed by schema and name; ``details['constraint']`` names the constraint it backs.

    ``rows`` are tuples in :data:`INDEXES_SQL`'s column order.
    """
    objects = []
    for schema, index, table_name, create, clustered, replident, valid, unique, _primary, *rest in rows:
        constraint, contype, spcname = rest
        parts = [create] if create else []
        if spcname:
            parts.append(f"TABLESPACE {spcname}")
        if clustered:
            parts.append("CLUSTERED")
        if replident:
            parts.append("REPLICA IDENTITY")
        if not valid:
            parts.append("INVALID")
        details = {
            "schema": schema,
            "index": index,
            "constraint": constraint,
            "constraint_type": CONSTRAINT_TYPES.get(contype or ""),
            "unique": unique,
            "create": create,
        }
        objects.append(SchemaObject("index", f"{schema}.{index}", " ".join(parts), f"{schema}.{table_name}", details))
    return objects


def sequences(rows: Rows) -> list[SchemaObject]:
    """Sequences with their parameters and the column that owns them (not their current value)."""
    objects = []
    for row in rows:
        owned = row["owned_by"] or ""
        identity = owned.startswith("i ")
        definition = _join(
            row["relpersistence"] == "u" and "UNLOGGED",
            f"AS {row['type']}",
            f"START {row['seqstart']} INCREMENT {row['seqincrement']}",
            f"MINVALUE {row['seqmin']} MAXVALUE {row['seqmax']} CACHE {row['seqcache']}",
            row["seqcycle"] and "CYCLE",
            owned and (f"IDENTITY OF {owned[2:]}" if identity else f"OWNED BY {owned[2:]}"),
            f"OWNER {row['owner']}",
        )
        objects.append(
            SchemaObject(
                "sequence",
                f"{row['nspname']}.{row['relname']}",
                definition,
                details={"identity": identity, "qualified": qualified(row["nspname"], row["relname"])},
            )
        )
    return objects


def views(rows: Rows) -> list[SchemaObject]:
    """Views and materialized views with their (deparsed) query and options."""
    objects = []
    for row in rows:
        kind = "view" if row["relkind"] == "v" else "materialized_view"
        definition = _join(
            row["reloptions"] and f"WITH ({', '.join(sorted(row['reloptions']))})",
            f"OWNER {row['owner']}",
            "AS",
            row["def"].strip(),
        )
        objects.append(
            SchemaObject(
                kind,
                f"{row['nspname']}.{row['relname']}",
                definition,
                details={
                    "qualified": qualified(row["nspname"], row["relname"]),
                    "query": row["def"],
                    "options": sorted(row["reloptions"] or []),
                },
            )
        )
    return objects


def rules(rows: Rows) -> list[SchemaObject]:
    """Rewrite rules other than views' own ``_RETURN`` rules."""
    return [
        SchemaObject(
            "rule",
            f"{r['nspname']}.{r['relname']}.{r['rulename']}",
            _join(r["def"], r["ev_enabled"] != "O" and f"ENABLED {r['ev_enabled']}"),
            table=f"{r['nspname']}.{r['relname']}",
        )
        for r in rows
    ]


def statistics(rows: Rows) -> list[SchemaObject]:
    """Extended statistics objects (``CREATE STATISTICS``)."""
    return [SchemaObject("statistics", f"{r['nspname']}.{r['stxname']}", r["def"]) for r in rows]
