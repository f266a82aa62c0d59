"""Read a database's in-scope schema into a :class:`Snapshot` of comparable objects.

Every query is set-based (one per object kind), so a snapshot of thousands of tables
costs a handful of round trips. See :mod:`wizard.catalog.scope` for what is in scope.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg.rows import dict_row

from wizard.catalog import access, relations, routines, scope
from wizard.catalog.model import KINDS, SchemaObject, Snapshot
from wizard.db.connect import scalar

__all__ = ["KINDS", "SchemaObject", "Snapshot", "snapshot"]

MIN_SERVER_VERSION = 140000


def snapshot(conn: psycopg.Connection, progress: Callable[[str], None] | None = None) -> Snapshot:
    """Read every in-scope object of the database behind ``conn``.

    Args:
        conn: An open connection (read-only is enough).
        progress: Called with the name of each object kind as it is read.
    """
    version = conn.info.server_version
    params = scope.params()
    # Like pg_dump: with an empty search_path every deparsed name comes schema-qualified, so
    # definitions do not depend on the session and generated SQL runs anywhere.
    saved_path = scalar(conn.execute("SELECT current_setting('search_path')"))
    conn.execute("SELECT set_config('search_path', '', false)")
    try:
        return _read(conn, version, params, progress)
    finally:
        conn.execute("SELECT set_config('search_path', %s, false)", (saved_path,))


def _read(conn: psycopg.Connection, version: int, params: dict, progress: Callable[[str], None] | None) -> Snapshot:
    say = progress or (lambda _kind: None)

    def rows(sql: str) -> list[dict]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    objects: list[SchemaObject] = []
    say("schemas")
    objects += access.schemas(rows(access.SCHEMAS_SQL))
    objects += access.extensions(rows(access.EXTENSIONS_SQL))
    say("tables")
    objects += relations.tables(rows(relations.TABLES_SQL), rows(relations.COLUMNS_SQL))
    say("constraints")
    objects += relations.constraints(rows(relations.CONSTRAINTS_SQL))
    say("indexes")
    objects += relations.indexes(rows(relations.INDEXES_SQL))
    say("sequences")
    objects += relations.sequences(rows(relations.SEQUENCES_SQL))
    say("views")
    objects += relations.views(rows(relations.VIEWS_SQL))
    objects += relations.rules(rows(relations.RULES_SQL))
    objects += relations.statistics(rows(relations.STATISTICS_SQL))
    say("functions")
    objects += routines.functions(rows(routines.FUNCTIONS_SQL))
    say("triggers")
    objects += routines.triggers(rows(routines.TRIGGERS_SQL))
    objects += routines.event_triggers(rows(routines.EVENT_TRIGGERS_SQL))
    say("policies")
    objects += routines.policies(rows(routines.POLICIES_SQL))
    say("types")
    objects += routines.types(rows(routines.TYPES_SQL))
    say("grants")
    objects += access.grants(rows(access.GRANTS_SQL))
    objects += access.default_privileges(rows(access.DEFAULT_PRIVILEGES_SQL))
    say("comments")
    objects += access.comments(rows(access.COMMENTS_SQL))
    extra = access.PUBLICATION_MEMBERS_EXTRA_15 if version >= 150000 else access.PUBLICATION_MEMBERS_EXTRA_OLD
    objects += access.publications(
        rows(access.PUBLICATIONS_SQL), rows(access.PUBLICATION_MEMBERS_SQL.format(extra=extra))
    )
    objects += access.others(rows(access.OTHER_SQL))
    server_version = scalar(conn.execute("SHOW server_version"))
    return Snapshot.from_objects(objects, server_version, version)
