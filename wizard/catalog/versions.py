"""Version-neutral comparison: tell real differences from deparse and privilege changes across majors.

Two servers of different major versions describe the same schema in slightly different
words. Only these known, meaning-preserving variations are forgiven, and only when the
two snapshots come from different major versions:

* PostgreSQL 17 added the ``MAINTAIN`` table privilege, which ``GRANT ALL`` (and default
  privileges granting ALL) include there.
* PostgreSQL 16 stopped qualifying column names in single-relation view queries
  (``SELECT s.id FROM s`` became ``SELECT id FROM s``): view queries are compared as
  parse trees with those qualifiers removed.

One re-rendering is forgiven on any two servers, because a pg_dump round trip produces it:
a CHECK constraint on a ``varchar`` column, ``s IN ('a', 'b')``, is stored as
``(s)::text = ANY ((ARRAY['a'::varchar, 'b'::varchar])::text[])`` and comes back from a dump as
``(s)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text])``: the same meaning, so
a baseline made with pg_dump could never prove at 100 %. CHECK expressions are compared as
parse trees with an array cast distributed over the array's elements.
"""

from __future__ import annotations

import json
from typing import Any

from wizard.catalog.model import SchemaObject
from wizard.catalog.shapes import check_shape, strip_locations


def _unqualify(node: Any, qualifier: str | None) -> Any:
    if isinstance(node, list):
        return [_unqualify(v, qualifier) for v in node]
    if not isinstance(node, dict):
        return node
    if "SelectStmt" in node:
        select = node["SelectStmt"]
        from_clause = select.get("fromClause", [])
        inner = None
        if len(from_clause) == 1 and "RangeVar" in from_clause[0]:
            rv = from_clause[0]["RangeVar"]
            inner = rv.get("alias", {}).get("aliasname") or rv.get("relname")
        return {"SelectStmt": {k: _unqualify(v, inner) for k, v in select.items()}}
    if "ColumnRef" in node and qualifier is not None:
        fields = node["ColumnRef"]["fields"]
        if len(fields) == 2 and fields[0].get("String", {}).get("sval") == qualifier:
            return {"ColumnRef": {**node["ColumnRef"], "fields": fields[1:]}}
    return {k: _unqualify(v, qualifier) for k, v in node.items()}


def query_shape(query: str) -> str | None:
    """A version-neutral canonical form of a view query, or None if it does not parse."""
    from pglast import parser  # here: importing pglast slows the start-up of every command

    try:
        tree = json.loads(parser.parse_sql_json(query))
    except Exception:
        return None
    return json.dumps(_unqualify(strip_locations(tree["stmts"]), None), sort_keys=True)


def rerendered(a: SchemaObject, b: SchemaObject) -> bool:
    """True when ``a`` and ``b`` differ only by the server's own re-rendering after a dump round trip."""
    if a.kind != "constraint" or a.details.get("type") != b.details.get("type"):
        return False
    shape_a, shape_b = check_shape(a.definition), check_shape(b.definition)
    return shape_a is not None and shape_a == shape_b


def _without_maintain(definition: str) -> str:
    return ", ".join(p for p in definition.split(", ") if not p.startswith("MAINTAIN"))


def equivalent(a: SchemaObject, b: SchemaObject, major_a: int, major_b: int) -> bool:
    """True when ``a`` and ``b`` differ only by a known cross-version variation."""
    if major_a == major_b:
        return False
    if a.kind in ("grant", "default_privilege") and (major_a >= 17) != (major_b >= 17):
        return _without_maintain(a.definition) == _without_maintain(b.definition)
    if a.kind in ("view", "materialized_view") and (major_a >= 16) != (major_b >= 16):
        head_a, head_b = a.definition.split(" AS ", 1)[0], b.definition.split(" AS ", 1)[0]
        shape_a, shape_b = query_shape(a.details["query"]), query_shape(b.details["query"])
        return head_a == head_b and shape_a is not None and shape_a == shape_b
    return False
