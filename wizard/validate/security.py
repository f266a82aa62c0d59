"""A small security linter modeled on Supabase's database linter (splinter), read-only SQL over the catalog.

The seed plan's "security score maintained" becomes a measurable claim: the set of
findings before and after consolidation is the same. Each check follows the rule of the
splinter lint of the same name (https://github.com/supabase/splinter, ``lints/``):

* ``rls_disabled_in_public`` (ERROR): a table in an exposed schema without row level security;
* ``policy_exists_rls_disabled`` (ERROR): a table with policies whose RLS is not enabled;
* ``rls_enabled_no_policy`` (INFO): a table with RLS enabled and no policy (nobody can read it);
* ``function_search_path_mutable`` (WARN): a function in a user schema whose ``proconfig``
  sets no ``search_path`` (any function, not only SECURITY DEFINER ones, as splinter does);
* ``security_definer_view`` (ERROR): a view in an exposed schema without ``security_invoker``;
* ``auth_users_exposed`` (ERROR): a view or materialized view in an exposed schema that
  reads ``auth.users``;
* ``extension_in_public`` (WARN): an extension other than plpgsql installed in ``public``.

Two deliberate differences from splinter: the "exposed" schemas are a parameter (``public``
by default) instead of PostgREST's ``pgrst.db_schemas`` role setting, and exposure does not
require grants to ``anon``/``authenticated``, because a scratch database's default
privileges need not match the hosted project's. User schemas and extension membership
follow :mod:`wizard.catalog.scope`, the same rule as the catalog snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from wizard.catalog import scope

ERROR = "ERROR"
WARN = "WARN"
INFO = "INFO"
DEFAULT_EXPOSED_SCHEMAS: tuple[str, ...] = ("public",)


@dataclass(frozen=True, order=True)
class Finding:
    """One linter finding: which check, how severe, on which object, and why."""

    check: str
    level: str
    object: str
    message: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes two findings the same finding (the message may be reworded)."""
        return (self.check, self.object)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(data["check"], data["level"], data["object"], data["message"])


@dataclass(frozen=True)
class Check:
    """A lint: its name, level, and the query returning ``(object, message)`` rows."""

    name: str
    level: str
    description: str
    sql: str


_NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dx WHERE dx.classid = '{catalog}'::regclass "
    "AND dx.objid = {oid} AND dx.deptype = 'e')"
)


def _not_member(catalog: str, oid: str) -> str:
    return _NOT_EXTENSION_MEMBER.format(catalog=catalog, oid=oid)


CHECKS: tuple[Check, ...] = (
    Check(
        "rls_disabled_in_public",
        ERROR,
        "a table in an exposed schema has row level security disabled",
        f"""
SELECT format('%%s.%%s', n.nspname, c.relname),
       format('Table %%s.%%s is in exposed schema %%s but RLS has not been enabled', n.nspname, c.relname, n.nspname)
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(exposed)s)
   AND NOT c.relrowsecurity AND {_not_member("pg_class", "c.oid")}
""",
    ),
    Check(
        "policy_exists_rls_disabled",
        ERROR,
        "a table has RLS policies but RLS is not enabled, so the policies do nothing",
        f"""
SELECT format('%%s.%%s', n.nspname, c.relname),
       format('Table %%s.%%s has RLS policies (%%s) but RLS is not enabled', n.nspname, c.relname,
              string_agg(p.polname, ', ' ORDER BY p.polname))
  FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {scope.USER_NAMESPACE} AND NOT c.relrowsecurity
   AND {_not_member("pg_class", "c.oid")}
 GROUP BY n.nspname, c.relname
""",
    ),
    Check(
        "rls_enabled_no_policy",
        INFO,
        "a table has RLS enabled but no policy, so only roles that bypass RLS can use it",
        f"""
SELECT format('%%s.%%s', n.nspname, c.relname),
       format('Table %%s.%%s has RLS enabled, but no policies exist', n.nspname, c.relname)
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {scope.USER_NAMESPACE} AND c.relrowsecurity
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)
   AND {_not_member("pg_class", "c.oid")}
""",
    ),
    Check(
        "function_search_path_mutable",
        WARN,
        "a function does not fix its search_path, so callers' search_path can change what it resolves",
        f"""
SELECT format('%%s.%%s(%%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
       format('Function %%s.%%s(%%s)%%s has a role mutable search_path', n.nspname, p.proname,
              pg_catalog.pg_get_function_identity_arguments(p.oid),
              CASE WHEN p.prosecdef THEN ' (SECURITY DEFINER)' ELSE '' END)
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE {scope.USER_NAMESPACE} AND {_not_member("pg_proc", "p.oid")}
   AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{{}}')) AS cfg WHERE cfg LIKE 'search\\_path=%%')
""",
    ),
    Check(
        "security_definer_view",
        ERROR,
        "a view in an exposed schema runs with its owner's rights and ignores the caller's RLS",
        f"""
SELECT format('%%s.%%s', n.nspname, c.relname),
       format('View %%s.%%s is SECURITY DEFINER (no security_invoker option)', n.nspname, c.relname)
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'v' AND n.nspname = ANY(%(exposed)s) AND {_not_member("pg_class", "c.oid")}
   AND NOT (lower(coalesce(c.reloptions::text, '{{}}'))::text[]
            && ARRAY['security_invoker=1', 'security_invoker=true', 'security_invoker=yes', 'security_invoker=on'])
""",
    ),
    Check(
        "auth_users_exposed",
        ERROR,
        "a view in an exposed schema reads auth.users and may expose user data to the API",
        """
SELECT DISTINCT format('%%s.%%s', n.nspname, c.relname),
       format('%%s %%s.%%s in exposed schema %%s reads auth.users',
              CASE c.relkind WHEN 'm' THEN 'Materialized view' ELSE 'View' END, n.nspname, c.relname, n.nspname)
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
  JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass('auth.users') AND d.deptype = 'n'
   AND c.relkind IN ('v', 'm') AND n.nspname = ANY(%(exposed)s)
""",
    ),
    Check(
        "extension_in_public",
        WARN,
        "an extension is installed in the public schema",
        """
SELECT e.extname, format('Extension %%s is installed in the public schema', e.extname)
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE n.nspname = 'public' AND e.extname <> 'plpgsql'
""",
    ),
)

CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in CHECKS)


def lint(conn: psycopg.Connection, exposed_schemas: Iterable[str] = DEFAULT_EXPOSED_SCHEMAS) -> list[Finding]:
    """Every finding of every check on the database behind ``conn``, sorted (read-only queries only)."""
    params: dict[str, Any] = {**scope.params(), "exposed": list(exposed_schemas)}
    findings: list[Finding] = []
    for check in CHECKS:
        for obj, message in conn.execute(check.sql, params).fetchall():
            findings.append(Finding(check.name, check.level, obj, message))
    return sorted(findings)


def levels(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per level, always with the three levels."""
    counted = Counter(f.level for f in findings)
    return {level: counted.get(level, 0) for level in (ERROR, WARN, INFO)}


@dataclass(frozen=True)
class PostureComparison:
    """Findings of two databases set against each other by (check, object)."""

    only_before: list[Finding]
    only_after: list[Finding]
    common: int

    @property
    def unchanged(self) -> bool:
        return not self.only_before and not self.only_after


def compare(before: Iterable[Finding], after: Iterable[Finding]) -> PostureComparison:
    """Which findings disappeared and which appeared between ``before`` and ``after``."""
    a = {f.key: f for f in before}
    b = {f.key: f for f in after}
    return PostureComparison(
        only_before=sorted(a[k] for k in a.keys() - b.keys()),
        only_after=sorted(b[k] for k in b.keys() - a.keys()),
        common=len(a.keys() & b.keys()),
    )
