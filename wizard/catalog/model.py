"""The comparable picture of a database schema: objects keyed by kind and identity."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wizard.catalog.shapes import check_shape

#: Object kinds, in the order reports list them.
KINDS: tuple[str, ...] = (
    "schema",
    "extension",
    "table",
    "column",
    "constraint",
    "index",
    "sequence",
    "view",
    "materialized_view",
    "function",
    "trigger",
    "policy",
    "enum",
    "domain",
    "composite_type",
    "range_type",
    "rule",
    "statistics",
    "publication",
    "publication_member",
    "event_trigger",
    "grant",
    "default_privilege",
    "comment",
    "other",
)


@dataclass(frozen=True)
class SchemaObject:
    """One object of a schema.

    Attributes:
        kind: One of :data:`KINDS`.
        name: Identity, stable across databases (no OIDs): ``public.scripts``,
            ``public.scripts.video_id``, ``public.get_user_role(uuid)``.
        definition: Canonical text; two objects with the same kind and name are equal
            exactly when their definitions are equal.
        table: The table (``schema.name``) a column, constraint, index, trigger, policy
            or rule belongs to.
        details: Structured facts used by explanations and counts (for instance a
            foreign key's ON DELETE action); not compared.
    """

    kind: str
    name: str
    definition: str
    table: str | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass
class Snapshot:
    """Every in-scope object of one database, plus facts about the server."""

    objects: dict[tuple[str, str], SchemaObject]
    server_version: str
    server_version_num: int

    @classmethod
    def from_objects(cls, objects: Iterable[SchemaObject], server_version: str, server_version_num: int) -> Snapshot:
        return cls({(obj.kind, obj.name): obj for obj in objects}, server_version, server_version_num)

    def of_kind(self, kind: str) -> Iterator[SchemaObject]:
        """Objects of one kind, sorted by name."""
        for key in sorted(k for k in self.objects if k[0] == kind):
            yield self.objects[key]

    def counts(self) -> Counter[str]:
        """Number of objects per kind."""
        return Counter(kind for kind, _ in self.objects)

    def fingerprint(self) -> str:
        """sha256 over every object's kind, name and definition (order-independent, CHECKs by meaning)."""
        digest = hashlib.sha256()
        for key in sorted(self.objects):
            obj = self.objects[key]
            # A CHECK constraint by its meaning: a dump round trip re-renders some (see catalog.shapes).
            definition = (obj.kind == "constraint" and check_shape(obj.definition)) or obj.definition
            digest.update(json.dumps([obj.kind, obj.name, definition]).encode())
            digest.update(b"\n")
        return digest.hexdigest()
