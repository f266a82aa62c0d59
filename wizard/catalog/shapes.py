"""Canonical shapes of SQL the server may write in more than one way (for comparisons and fingerprints)."""

from __future__ import annotations

import json
from typing import Any

#: Parse-tree keys that say where, not what.
_LOCATIONS = ("location", "stmt_len", "stmt_location", "list_start", "list_end")


def strip_locations(node: Any) -> Any:
    """A parse tree (as JSON) without the keys that say where in the text a node was."""
    if isinstance(node, dict):
        return {k: strip_locations(v) for k, v in node.items() if k not in _LOCATIONS}
    if isinstance(node, list):
        return [strip_locations(v) for v in node]
    return node


def _distribute_array_casts(node: Any) -> Any:
    """``(ARRAY[a, b])::t[]`` as ``ARRAY[(a)::t, (b)::t]``: how a dump round trip re-renders it."""
    if isinstance(node, list):
        return [_distribute_array_casts(v) for v in node]
    if not isinstance(node, dict):
        return node
    cast = node.get("TypeCast")
    if cast and "A_ArrayExpr" in cast.get("arg", {}) and cast.get("typeName", {}).get("arrayBounds"):
        element_type = {k: v for k, v in cast["typeName"].items() if k != "arrayBounds"}
        elements = cast["arg"]["A_ArrayExpr"].get("elements", [])
        return {
            "A_ArrayExpr": {
                "elements": [
                    {"TypeCast": {"arg": _distribute_array_casts(e), "typeName": element_type}} for e in elements
                ]
            }
        }
    return {k: _distribute_array_casts(v) for k, v in node.items()}


def check_shape(definition: str) -> str | None:
    """A canonical form of a CHECK constraint's definition, or None if it is not one or does not parse."""
    if not definition.startswith("CHECK "):
        return None
    from pglast import parser  # here: importing pglast slows the start-up of every command

    try:
        tree = json.loads(parser.parse_sql_json(f"ALTER TABLE cw ADD CONSTRAINT cw {definition}"))
    except Exception:
        return None
    return json.dumps(_distribute_array_casts(strip_locations(tree["stmts"])), sort_keys=True)
