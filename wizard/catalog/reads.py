"""What a snapshot reads: the catalog queries, their relative cost, and how rows become objects.

Each :class:`Query` is one set-based catalog query. Queries marked ``split`` filter their
relations with :func:`wizard.catalog.scope_sql.in_part`, so a read over several sessions
can give each session one part of them. Each :class:`Read` turns the rows of its queries
into :class:`~wizard.catalog.model.SchemaObject` values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizard.catalog import access, relations, routines
from wizard.catalog.model import SchemaObject

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """One catalog query.

    Attributes:
        name: Its key in the rows handed to a :class:`Read`.
        sql: The query; binds the parameters of :func:`wizard.catalog.scope.params`.
        weight: Its relative server cost (milliseconds on a fresh session, 2,000 tables);
            the heaviest queries start first.
        split: True when it filters its relations by part and may be read in parts.
        tuples: True when its builder takes rows as tuples (in select-list order), not dicts.
    """

    name: str
    sql: str
    weight: float
    split: bool = False
    tuples: bool = False


@dataclass(frozen=True)
class Read:
    """Objects of some kinds, built from the rows of ``queries`` (in that order)."""

    label: str
    queries: tuple[str, ...]
    build: Callable[..., list[SchemaObject]]


def queries(server_version_num: int) -> list[Query]:
    """Every catalog query a snapshot runs on a server of this version."""
    if server_version_num >= 150000:
        extra = access.PUBLICATION_MEMBERS_EXTRA_15
    else:
        extra = access.PUBLICATION_MEMBERS_EXTRA_OLD
    return [
        Query("schemas", access.SCHEMAS_SQL, 2),
        Query("extensions", access.EXTENSIONS_SQL, 1),
        Query("tables", relations.TABLES_SQL, 20, split=True),
        Query("columns", relations.COLUMNS_SQL, 210, split=True, tuples=True),
        Query("constraints", relations.CONSTRAINTS_SQL, 90, split=True, tuples=True),
        Query("indexes", relations.INDEXES_SQL, 330, split=True, tuples=True),
        Query("sequences", relations.SEQUENCES_SQL, 5),
        Query("views", relations.VIEWS_SQL, 4),
        Query("rules", relations.RULES_SQL, 4),
        Query("statistics", relations.STATISTICS_SQL, 2),
        Query("functions", routines.FUNCTIONS_SQL, 5),
        Query("triggers", routines.TRIGGERS_SQL, 45, split=True),
        Query("event_triggers", routines.EVENT_TRIGGERS_SQL, 2),
        Query("policies", routines.POLICIES_SQL, 90, split=True, tuples=True),
        Query("types", routines.TYPES_SQL, 10),
        Query("grants", access.GRANTS_SQL, 50, tuples=True),
        Query("default_privileges", access.DEFAULT_PRIVILEGES_SQL, 2),
        Query("comments", access.COMMENTS_SQL, 12),
        Query("publications", access.PUBLICATIONS_SQL, 1),
        Query("publication_members", access.PUBLICATION_MEMBERS_SQL.format(extra=extra), 3),
        Query("others", access.OTHER_SQL, 7),
    ]


#: How rows become objects, in the order a snapshot lists them.
READS: tuple[Read, ...] = (
    Read("schemas", ("schemas",), access.schemas),
    Read("extensions", ("extensions",), access.extensions),
    Read("tables", ("tables", "columns"), relations.tables),
    Read("constraints", ("constraints",), relations.constraints),
    Read("indexes", ("indexes",), relations.indexes),
    Read("sequences", ("sequences",), relations.sequences),
    Read("views", ("views",), relations.views),
    Read("rules", ("rules",), relations.rules),
    Read("statistics", ("statistics",), relations.statistics),
    Read("functions", ("functions",), routines.functions),
    Read("triggers", ("triggers",), routines.triggers),
    Read("event_triggers", ("event_triggers",), routines.event_triggers),
    Read("policies", ("policies",), routines.policies),
    Read("types", ("types",), routines.types),
    Read("grants", ("grants",), access.grants),
    Read("default_privileges", ("default_privileges",), access.default_privileges),
    Read("comments", ("comments",), access.comments),
    Read("publications", ("publications", "publication_members"), access.publications),
    Read("others", ("others",), access.others),
)
