"""Say a schema difference in words, and write the SQL that would reconcile it.

The SQL always goes in one direction: run on database B (say, the replayed migration
history) it makes the object as it is in database A (say, the target).
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.catalog import SchemaObject, Snapshot
from wizard.db.sqltext import ident, literal, qualified

Explainer = Callable[[SchemaObject | None, SchemaObject | None, Snapshot, Snapshot, str, str], tuple[str, str]]

_LABELS = {
    "materialized_view": "materialized view",
    "composite_type": "composite type",
    "range_type": "range type",
    "default_privilege": "default privilege",
    "publication_member": "publication membership",
    "event_trigger": "event trigger",
}


def label(kind: str) -> str:
    """The object kind as words."""
    return _LABELS.get(kind, kind)


def _table_sql(obj: SchemaObject) -> str:
    d = obj.details
    if "schema" in d and "table_name" in d:
        return qualified(d["schema"], d["table_name"])
    schema, _, name = (obj.table or obj.name).partition(".")
    return qualified(schema, name)


def _split(name: str) -> str:
    schema, _, rest = name.partition(".")
    return qualified(schema, rest)


def _routine(name: str) -> str:
    """``schema.fn(args)`` with the schema and function name quoted where needed."""
    schema, _, rest = name.partition(".")
    fname, paren, args = rest.partition("(")
    return f"{qualified(schema, fname)}{paren}{args}"


def _presence(obj_a: SchemaObject | None, obj_b: SchemaObject | None, la: str, lb: str) -> str:
    obj = obj_a or obj_b
    assert obj is not None
    if obj_b is None:
        return f"{label(obj.kind)} {obj.name} exists in {la} but not in {lb}"
    return f"{label(obj.kind)} {obj.name} exists in {lb} but not in {la}"


def _parent_missing(obj: SchemaObject, snap: Snapshot) -> bool:
    return obj.table is not None and ("table", obj.table) not in snap.objects


def _table(obj_a, obj_b, snap_a, snap_b, la, lb):
    if obj_b is None:
        cols = [o for o in snap_a.of_kind("column") if o.table == obj_a.name]
        cols.sort(key=lambda o: o.details["position"])
        body = ",\n    ".join(f"{ident(c.details['column'])} {c.definition}" for c in cols)
        return _presence(obj_a, obj_b, la, lb), f"CREATE TABLE {_table_sql(obj_a)} (\n    {body}\n);"
    if obj_a is None:
        return _presence(obj_a, obj_b, la, lb), f"DROP TABLE {_table_sql(obj_b)};"
    da, db = obj_a.details, obj_b.details
    words, sql = [], []
    if da["rls"] != db["rls"]:
        state = "enabled" if da["rls"] else "disabled"
        other = "disabled" if da["rls"] else "enabled"
        words.append(f"row level security is {state} in {la}, {other} in {lb}")
        sql.append(f"ALTER TABLE {_table_sql(obj_a)} {'ENABLE' if da['rls'] else 'DISABLE'} ROW LEVEL SECURITY;")
    if da["force_rls"] != db["force_rls"]:
        words.append(f"FORCE ROW LEVEL SECURITY is {'on' if da['force_rls'] else 'off'} in {la}")
        sql.append(f"ALTER TABLE {_table_sql(obj_a)} {'' if da['force_rls'] else 'NO '}FORCE ROW LEVEL SECURITY;")
    if da["owner"] != db["owner"]:
        words.append(f"owned by {da['owner']} in {la}, by {db['owner']} in {lb}")
        sql.append(f"ALTER TABLE {_table_sql(obj_a)} OWNER TO {ident(da['owner'])};")
    common = [c for c in da["columns"] if c in db["columns"]]
    if common != [c for c in db["columns"] if c in da["columns"]]:
        words.append(
            f"column order differs: ({', '.join(da['columns'])}) in {la}, ({', '.join(db['columns'])}) in {lb}"
        )
        sql.append("-- column order cannot be changed in place; recreate the table to match")
    if not words:
        words.append(f"definition differs: {obj_a.definition!r} in {la}, {obj_b.definition!r} in {lb}")
    return f"table {obj_a.name}: " + "; ".join(words), "\n".join(sql)


def _column(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    table = _table_sql(obj)
    col = ident(obj.details["column"])
    if obj_b is None:
        if _parent_missing(obj_a, snap_b):
            return _presence(obj_a, obj_b, la, lb), f"-- created with table {obj_a.table}"
        return _presence(obj_a, obj_b, la, lb), f"ALTER TABLE {table} ADD COLUMN {col} {obj_a.definition};"
    if obj_a is None:
        if _parent_missing(obj_b, snap_a):
            return _presence(obj_a, obj_b, la, lb), f"-- dropped with table {obj_b.table}"
        return _presence(obj_a, obj_b, la, lb), f"ALTER TABLE {table} DROP COLUMN {col};"
    da, db = obj_a.details, obj_b.details
    words, sql = [], []
    if da["type"] != db["type"]:
        words.append(f"type {da['type']} in {la}, {db['type']} in {lb}")
        sql.append(f"ALTER TABLE {table} ALTER COLUMN {col} TYPE {da['type']};")
    if da["not_null"] != db["not_null"]:
        null_a, null_b = ("NOT NULL" if d["not_null"] else "nullable" for d in (da, db))
        words.append(f"{null_a} in {la}, {null_b} in {lb}")
        sql.append(f"ALTER TABLE {table} ALTER COLUMN {col} {'SET' if da['not_null'] else 'DROP'} NOT NULL;")
    if da["default"] != db["default"]:
        words.append(f"default {da['default'] or 'none'} in {la}, {db['default'] or 'none'} in {lb}")
        sql.append(
            f"ALTER TABLE {table} ALTER COLUMN {col} "
            + (f"SET DEFAULT {da['default']};" if da["default"] is not None else "DROP DEFAULT;")
        )
    if not words:
        words.append(f"{obj_a.definition!r} in {la}, {obj_b.definition!r} in {lb}")
        sql.append(f"-- adjust column {obj.name} to: {obj_a.definition}")
    return f"column {obj.name}: " + "; ".join(words), "\n".join(sql)


def _constraint(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    table = _table_sql(obj)
    name = ident(obj.details["constraint"])
    kind = obj.details["type"]
    add = f"ALTER TABLE {table} ADD CONSTRAINT {name} {obj_a.definition};" if obj_a else ""
    if obj_b is None:
        return f"{kind} {obj.name} exists in {la} but not in {lb}", add
    if obj_a is None:
        if _parent_missing(obj_b, snap_a):
            return f"{kind} {obj.name} exists in {lb} but not in {la}", f"-- dropped with table {obj_b.table}"
        return f"{kind} {obj.name} exists in {lb} but not in {la}", f"ALTER TABLE {table} DROP CONSTRAINT {name};"
    short = obj.details["constraint"]
    words = []
    if kind == "foreign key":
        for action in ("on_delete", "on_update"):
            va, vb = obj_a.details.get(action), obj_b.details.get(action)
            if va != vb:
                words.append(f"{action.replace('_', ' ').upper()} {va} in {la}, {vb} in {lb}")
    if not words:
        words.append(f"{obj_a.definition} in {la}; {obj_b.definition} in {lb}")
    sql = f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} {obj_a.definition};"
    return f"{kind} {short} on {obj.table}: " + "; ".join(words), sql


def _index(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    backs = obj.details.get("constraint")
    words = (
        _presence(obj_a, obj_b, la, lb)
        if obj_a is None or obj_b is None
        else (f"index {obj.name} differs: {obj_a.definition} in {la}; {obj_b.definition} in {lb}")
    )
    if backs:
        return words, f"-- index of {obj.details['constraint_type']} {backs}: follows the constraint"
    drop = f"DROP INDEX {_split(obj.name)};"
    if obj_b is None:
        return words, obj_a.details["create"] + ";"
    if obj_a is None:
        if _parent_missing(obj_b, snap_a):
            return words, f"-- dropped with table {obj_b.table}"
        return words, drop
    return words, f"{drop}\n{obj_a.details['create']};"


def _body(create: str) -> str:
    """The part of a function definition after ``AS`` (its body), for telling body changes apart."""
    return create.split("\nAS ", 1)[-1] if "\nAS " in create else create.split("\nBEGIN ATOMIC", 1)[-1]


def _function(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    kind = obj.details["kind"]
    drop = f"DROP {'PROCEDURE' if kind == 'procedure' else 'FUNCTION'} {_routine(obj.name)};"
    if obj_b is None:
        return f"{kind} {obj.name} exists in {la} but not in {lb}", obj_a.details["create"] + ";"
    if obj_a is None:
        return f"{kind} {obj.name} exists in {lb} but not in {la}", drop
    da, db = obj_a.details, obj_b.details
    words = []
    if da["security_definer"] != db["security_definer"]:
        words.append(
            f"SECURITY {'DEFINER' if da['security_definer'] else 'INVOKER'} in {la}, "
            f"{'DEFINER' if db['security_definer'] else 'INVOKER'} in {lb}"
        )
    if da["config"] != db["config"]:
        words.append(f"settings {da['config'] or 'none'} in {la}, {db['config'] or 'none'} in {lb}")
    if da["result"] != db["result"]:
        words.append(f"returns {da['result']} in {la}, {db['result']} in {lb}")
    owner_a, owner_b = obj_a.definition.rsplit("\nOWNER ", 1)[-1], obj_b.definition.rsplit("\nOWNER ", 1)[-1]
    if owner_a != owner_b:
        words.append(f"owned by {owner_a} in {la}, by {owner_b} in {lb}")
    if _body(da["create"]) != _body(db["create"]):
        words.append(f"its body differs between {la} and {lb}")
    if not words:
        words.append(f"its definition (options) differs between {la} and {lb}")
    sql = obj_a.details["create"] + ";"
    if da["result"] != db["result"]:
        sql = f"{drop}\n{sql}"
    return f"{kind} {obj.name}: " + "; ".join(words), sql


_TRIGGER_STATE = {"D": "DISABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}


def _trigger(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    drop = f"DROP TRIGGER {ident(obj.details['trigger'])} ON {_table_sql(obj)};"
    create = obj_a.details["create"] + ";" if obj_a else ""
    if obj_a and obj_a.details["enabled"] in _TRIGGER_STATE:
        state = _TRIGGER_STATE[obj_a.details["enabled"]]
        create += f"\nALTER TABLE {_table_sql(obj_a)} {state} {ident(obj_a.details['trigger'])};"
    where = f"trigger {obj.details['trigger']} on {obj.table}"
    if obj_b is None:
        return f"{where} exists in {la} but not in {lb}", create
    if obj_a is None:
        return f"{where} is created in {lb} but does not exist in {la}", drop
    return f"{where} differs: {obj_a.definition} in {la}; {obj_b.definition} in {lb}", f"{drop}\n{create}"


def _policy(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    on = f"{ident(obj.details['policy'])} ON {_table_sql(obj)}"
    where = f"policy {obj.details['policy']!r} on {obj.table}"
    if obj_b is None:
        return f"{where} exists in {la} but not in {lb}", f"CREATE POLICY {on} {obj_a.definition};"
    if obj_a is None:
        return f"{where} exists in {lb} but not in {la}", f"DROP POLICY {on};"
    return (
        f"{where} differs: {obj_a.definition} in {la}; {obj_b.definition} in {lb}",
        f"DROP POLICY {on};\nCREATE POLICY {on} {obj_a.definition};",
    )


def _view(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    word = "MATERIALIZED VIEW" if obj.kind == "materialized_view" else "VIEW"
    target = obj.details["qualified"]
    if obj_a is None:
        return _presence(obj_a, obj_b, la, lb), f"DROP {word} {target};"
    options = f" WITH ({', '.join(obj_a.details['options'])})" if obj_a.details["options"] else ""
    create = f"CREATE {word} {target}{options} AS\n{obj_a.details['query'].strip().rstrip(';')};"
    if obj_b is None:
        return _presence(obj_a, obj_b, la, lb), create
    return f"{label(obj.kind)} {obj.name} differs between {la} and {lb}", f"DROP {word} {target};\n{create}"


def _grant(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    d = obj.details
    privs_a = set(obj_a.definition.split(", ")) if obj_a else set()
    privs_b = set(obj_b.definition.split(", ")) if obj_b else set()
    words = (
        f"{d['grantee']} on {d['objtype']} {d['object']}: {obj_a.definition if obj_a else 'nothing'} in {la}, "
        f"{obj_b.definition if obj_b else 'nothing'} in {lb}"
    )
    if d["grantee"] == "<owner>":
        return words, "-- owner privileges: follow ownership"
    objtype = {
        "table": "TABLE",
        "view": "TABLE",
        "materialized view": "TABLE",
        "foreign table": "TABLE",
        "sequence": "SEQUENCE",
        "function": "FUNCTION",
        "schema": "SCHEMA",
        "type": "TYPE",
    }.get(d["objtype"])
    if objtype is None:
        return words, "-- column privileges: GRANT/REVOKE (...) ON TABLE to match"
    if objtype == "SCHEMA":
        target = ident(d["object"])
    elif objtype == "FUNCTION":
        target = _routine(d["object"])
    else:
        target = _split(d["object"])
    grantee = "PUBLIC" if d["grantee"] == "PUBLIC" else ident(d["grantee"])
    sql = []
    missing = sorted(p.split(" WITH")[0] for p in privs_a - privs_b)
    extra = sorted(p.split(" WITH")[0] for p in privs_b - privs_a)
    if extra:
        sql.append(f"REVOKE {', '.join(extra)} ON {objtype} {target} FROM {grantee};")
    if missing:
        sql.append(f"GRANT {', '.join(missing)} ON {objtype} {target} TO {grantee};")
    return words, "\n".join(sql)


_COMMENT_TYPES = {
    "table column": "COLUMN",
    "table constraint": "CONSTRAINT",
    "domain constraint": "CONSTRAINT",
    "materialized view": "MATERIALIZED VIEW",
    "foreign table": "FOREIGN TABLE",
}


def _comment(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    objtype, _, identity = obj.name.partition(" ")
    for long_type in _COMMENT_TYPES:
        if obj.name.startswith(long_type + " "):
            objtype, identity = long_type, obj.name[len(long_type) + 1 :]
    word = _COMMENT_TYPES.get(objtype, objtype.upper())
    identity = identity.replace(" on ", " ON ")
    text = obj_a.definition if obj_a else None
    words = (
        f"comment on {obj.name}: {literal(text) if obj_a else 'none'} in {la}, "
        f"{literal(obj_b.definition) if obj_b else 'none'} in {lb}"
    )
    return words, f"COMMENT ON {word} {identity} IS {literal(text)};"


def _extension(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    if obj_a is None:
        return _presence(obj_a, obj_b, la, lb), f"DROP EXTENSION {ident(obj.name)};"
    create = f"CREATE EXTENSION IF NOT EXISTS {ident(obj.name)} WITH SCHEMA {ident(obj_a.details['schema'])};"
    if obj_b is None:
        return _presence(obj_a, obj_b, la, lb), create
    return (
        f"extension {obj.name} is in schema {obj_a.details['schema']} in {la}, {obj_b.details['schema']} in {lb}",
        f"ALTER EXTENSION {ident(obj.name)} SET SCHEMA {ident(obj_a.details['schema'])};",
    )


def _schema(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    if obj_b is None:
        return _presence(obj_a, obj_b, la, lb), f"CREATE SCHEMA {ident(obj.name)};"
    if obj_a is None:
        return _presence(obj_a, obj_b, la, lb), f"DROP SCHEMA {ident(obj.name)};"
    owner = obj_a.definition.removeprefix("OWNER ")
    return (
        f"schema {obj.name}: {obj_a.definition.lower()} in {la}, {obj_b.definition.lower()} in {lb}",
        f"ALTER SCHEMA {ident(obj.name)} OWNER TO {ident(owner)};",
    )


def _publication_member(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    pub, _, table = obj.name.partition(": ")
    if obj_b is None:
        return _presence(obj_a, obj_b, la, lb), f"ALTER PUBLICATION {ident(pub)} ADD TABLE {_split(table)};"
    if obj_a is None:
        return _presence(obj_a, obj_b, la, lb), f"ALTER PUBLICATION {ident(pub)} DROP TABLE {_split(table)};"
    return (
        f"{obj.name}: {obj_a.definition} in {la}, {obj_b.definition} in {lb}",
        f"ALTER PUBLICATION {ident(pub)} SET TABLE {_split(table)} {obj_a.definition};",
    )


def _enum(obj_a, obj_b, snap_a, snap_b, la, lb):
    if obj_a is None or obj_b is None:
        return _generic(obj_a, obj_b, snap_a, snap_b, la, lb)
    labels_a, labels_b = obj_a.details["labels"], obj_b.details["labels"]
    missing = [x for x in labels_a if x not in labels_b]
    words = f"enum {obj_a.name}: values ({', '.join(labels_a)}) in {la}, ({', '.join(labels_b)}) in {lb}"
    if missing and all(x in labels_a for x in labels_b):
        return words, "\n".join(
            f"ALTER TYPE {_split(obj_a.name)} ADD VALUE IF NOT EXISTS {literal(x)};" for x in missing
        )
    return words, "-- enum values were removed or reordered: recreate the type to match"


def _generic(obj_a, obj_b, snap_a, snap_b, la, lb):
    obj = obj_a or obj_b
    if obj_a is None or obj_b is None:
        words = _presence(obj_a, obj_b, la, lb)
    else:
        words = f"{label(obj.kind)} {obj.name}: {obj_a.definition} in {la}; {obj_b.definition} in {lb}"
    target = f"as in {la}: {obj_a.definition}" if obj_a else f"drop it ({lb} only)"
    return words, f"-- {label(obj.kind)} {obj.name}: {target}"


_EXPLAINERS: dict[str, Explainer] = {
    "table": _table,
    "column": _column,
    "constraint": _constraint,
    "index": _index,
    "function": _function,
    "trigger": _trigger,
    "policy": _policy,
    "view": _view,
    "materialized_view": _view,
    "grant": _grant,
    "comment": _comment,
    "extension": _extension,
    "schema": _schema,
    "publication_member": _publication_member,
    "enum": _enum,
}


def explain(
    obj_a: SchemaObject | None,
    obj_b: SchemaObject | None,
    snap_a: Snapshot,
    snap_b: Snapshot,
    label_a: str,
    label_b: str,
) -> tuple[str, str]:
    """The difference between two versions of one object, in words and as reconciling SQL."""
    obj = obj_a or obj_b
    assert obj is not None
    explainer = _EXPLAINERS.get(obj.kind, _generic)
    return explainer(obj_a, obj_b, snap_a, snap_b, label_a, label_b)
