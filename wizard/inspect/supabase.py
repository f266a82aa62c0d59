"""Whether a target looks like a Supabase database, and what to tell the operator when it does not.

A Supabase project's database has the ``auth`` schema (GoTrue) and, once the CLI has pushed a
migration, ``supabase_migrations``. A target with neither is plain PostgreSQL (or the wrong
database): its drift and inventory will differ from a Supabase project's in everything
Supabase creates by default, and that is expected rather than drift to fix.
"""

from __future__ import annotations

import psycopg

from wizard.db.connect import scalar

#: The schemas whose joint absence marks a target as not Supabase.
MARKERS = ("auth", "supabase_migrations")


def looks_like_supabase(conn: psycopg.Connection) -> bool:
    """True when the database has the ``auth`` or the ``supabase_migrations`` schema."""
    return bool(scalar(conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)", [list(MARKERS)])))


def not_supabase_note(target: str) -> str:
    """The one line said when :func:`looks_like_supabase` is false."""
    return (
        f"target {target} has no auth and no supabase_migrations schema: it does not look like a Supabase "
        "database. Differences in what Supabase creates by default (the auth and storage schemas, its roles, "
        "extensions and grants) are expected here, not drift to fix; if it should be a Supabase project, "
        "check the target's DSN in consolidate.toml."
    )
