"""Small helpers for writing SQL text (identifier quoting, literals)."""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def _keywords() -> ModuleType:
    """``pglast.keywords`` (PostgreSQL's kwlist.h as Python sets), without importing the rest of pglast.

    The module is self-contained, but importing it through its package loads pglast's parser
    (~0.1 s): a command that only reads a catalog (``compare --json``) need not pay for it.
    """
    loaded = sys.modules.get("pglast.keywords")
    if loaded is not None:
        return loaded
    try:
        package = importlib.util.find_spec("pglast")  # locates the package, imports nothing
        assert package is not None and package.submodule_search_locations
        path = Path(next(iter(package.submodule_search_locations))) / "keywords.py"
        spec = importlib.util.spec_from_file_location("wizard.db._pglast_keywords", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except (AssertionError, OSError, ImportError):  # an unusual install: import it the ordinary way
        import pglast.keywords

        return pglast.keywords


@functools.cache
def _needs_quotes() -> frozenset[str]:
    """The keywords ``quote_ident`` quotes (reserved, type/function names, column names)."""
    kw = _keywords()
    return frozenset(kw.RESERVED_KEYWORDS | kw.TYPE_FUNC_NAME_KEYWORDS | kw.COL_NAME_KEYWORDS)


def ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's ``quote_ident`` does."""
    if _PLAIN.match(name) and name not in _needs_quotes():
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
