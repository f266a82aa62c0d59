"""Small helpers for writing SQL text (identifier quoting, literals)."""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_NEEDS_QUOTES = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's ``quote_ident`` does."""
    if _PLAIN.match(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``schema.name``, each part quoted when needed."""
    return f"{ident(schema)}.{ident(name)}"


def literal(value: str | None) -> str:
    """A standard-conforming SQL string literal (or NULL)."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"
