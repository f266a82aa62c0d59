"""Which objects belong to the user, and which to Supabase or PostgreSQL.

In scope: every object in a *user schema* (``public`` and any schema not listed
below), except objects that belong to an extension. Also in scope, although they live
on managed tables: triggers whose function is in a user schema (such as the
user-creation trigger on ``auth.users``), RLS policies on managed tables (such as
policies on ``storage.objects``), membership of user tables in publications, and event
triggers whose function is in a user schema.

Out of scope: PostgreSQL's own schemas (``pg_catalog``, ``information_schema``,
``pg_toast``, temporary schemas) and the schemas Supabase creates and manages
(:data:`MANAGED_SCHEMAS`).
"""

from __future__ import annotations

from typing import Any

SYSTEM_SCHEMAS: tuple[str, ...] = ("pg_catalog", "information_schema", "pg_toast")

#: Schemas created and managed by Supabase services; their own objects are not the
#: project's schema (the Supabase CLI excludes the same list from `db dump`).
MANAGED_SCHEMAS: tuple[str, ...] = (
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "cron",
    "pgbouncer",
    "pgtle",
    "_analytics",
    "_supavisor",
    "pgmq",
    "pgmq_public",
    "repack",
    "tiger",
    "tiger_data",
    "topology",
)

EXCLUDED_SCHEMAS: tuple[str, ...] = SYSTEM_SCHEMAS + MANAGED_SCHEMAS

#: SQL predicate on a ``pg_namespace`` alias ``n``: true for user schemas.
#: Bind ``%(excluded)s`` to :data:`EXCLUDED_SCHEMAS` as a list.
USER_NAMESPACE = "(n.nspname <> ALL(%(excluded)s) AND n.nspname NOT LIKE 'pg\\_%%')"

#: SQL predicate on a ``pg_namespace`` alias ``n``: true for managed (Supabase) schemas.
MANAGED_NAMESPACE = "(n.nspname = ANY(%(managed)s))"


def params() -> dict[str, Any]:
    """Query parameters for :data:`USER_NAMESPACE`, :data:`MANAGED_NAMESPACE` and a whole (one-part) read.

    ``parts`` and ``part`` select one part of a catalog read split over several sessions
    (:func:`wizard.catalog.scope_sql.in_part`); one part is everything.
    """
    return {"excluded": list(EXCLUDED_SCHEMAS), "managed": list(MANAGED_SCHEMAS), "parts": 1, "part": 0}
