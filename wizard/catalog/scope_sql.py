"""SQL fragments that apply the scope rule (see :mod:`wizard.catalog.scope`) inside catalog queries."""

from __future__ import annotations


def user_ns(alias: str = "n") -> str:
    """Predicate: the namespace ``alias`` is a user schema."""
    return f"({alias}.nspname <> ALL(%(excluded)s) AND {alias}.nspname NOT LIKE 'pg\\_%%')"


def managed_ns(alias: str = "n") -> str:
    """Predicate: the namespace ``alias`` is a Supabase-managed schema."""
    return f"({alias}.nspname = ANY(%(managed)s))"


def not_extension_member(catalog: str, oid_expr: str) -> str:
    """Predicate: the object is not part of an extension (extension objects are not the user's)."""
    return (
        "NOT EXISTS (SELECT 1 FROM pg_depend dx WHERE dx.classid = "
        f"'{catalog}'::regclass AND dx.objid = {oid_expr} AND dx.deptype = 'e')"
    )


def in_part(alias: str = "c") -> str:
    """Predicate: the relation ``alias`` falls in part ``%(part)s`` of ``%(parts)s`` (always true for one part).

    A split read gives each session one part, so each session opens (and caches) only its own tables.
    """
    return f"({alias}.oid::int8 %% %(parts)s = %(part)s)"
