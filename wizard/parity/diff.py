"""Object-by-object comparison of two schema snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.catalog import KINDS, SchemaObject, Snapshot
from wizard.catalog.versions import equivalent, rerendered
from wizard.parity.explain import explain

IDENTICAL = "identical"
ONLY_A = "only_a"
ONLY_B = "only_b"
DIFFERENT = "different"


@dataclass(frozen=True)
class Difference:
    """One object that is not identical in both databases.

    Attributes:
        status: ``only_a``, ``only_b`` or ``different``.
        explanation: The difference in words, naming both sides by their labels.
        reconcile_sql: SQL that, run on B, would make this object as it is in A.
    """

    kind: str
    name: str
    status: str
    a: SchemaObject | None
    b: SchemaObject | None
    explanation: str
    reconcile_sql: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "definition_a": self.a.definition if self.a else None,
            "definition_b": self.b.definition if self.b else None,
            "explanation": self.explanation,
            "reconcile_sql": self.reconcile_sql,
        }


@dataclass
class KindParity:
    """Per-kind tallies: how many objects each side has and how many match."""

    kind: str
    in_a: int = 0
    in_b: int = 0
    identical: int = 0
    only_a: int = 0
    only_b: int = 0
    different: int = 0

    @property
    def matches(self) -> bool:
        return self.only_a == self.only_b == self.different == 0


@dataclass
class ParityResult:
    """The verdict of comparing database A with database B."""

    label_a: str
    label_b: str
    kinds: dict[str, KindParity]
    differences: list[Difference] = field(default_factory=list)
    server_a: str = ""
    server_b: str = ""

    @property
    def identical(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.label_a,
            "b": self.label_b,
            "server_a": self.server_a,
            "server_b": self.server_b,
            "identical": self.identical,
            "kinds": {
                k: {
                    "in_a": v.in_a,
                    "in_b": v.in_b,
                    "identical": v.identical,
                    "only_a": v.only_a,
                    "only_b": v.only_b,
                    "different": v.different,
                }
                for k, v in self.kinds.items()
            },
            "differences": [d.to_dict() for d in self.differences],
        }


def compare(a: Snapshot, b: Snapshot, label_a: str = "A", label_b: str = "B") -> ParityResult:
    """Compare every object of ``a`` with ``b`` by kind and identity.

    Creation order, OIDs and physical column numbers play no part: objects are matched
    by name and compared by canonical definition.
    """
    kinds: dict[str, KindParity] = {k: KindParity(k) for k in KINDS}
    objects_a, objects_b = a.objects, b.objects
    # One pass per side settles the (many) objects with equal definitions; only the rest are sorted.
    unsettled: list[tuple[str, str]] = []
    for key, here in objects_a.items():
        tally = kinds[key[0]]
        tally.in_a += 1
        there = objects_b.get(key)
        if there is not None and here.definition == there.definition:
            tally.identical += 1
        else:
            unsettled.append(key)
    for key in objects_b:
        kinds[key[0]].in_b += 1
        if key not in objects_a:
            unsettled.append(key)

    major_a, major_b = a.server_version_num // 10000, b.server_version_num // 10000
    differences: list[Difference] = []
    for key in sorted(unsettled, key=_order):
        obj_a = objects_a.get(key)
        obj_b = objects_b.get(key)
        tally = kinds[key[0]]
        if (
            obj_a is not None
            and obj_b is not None
            and (equivalent(obj_a, obj_b, major_a, major_b) or rerendered(obj_a, obj_b))
        ):
            tally.identical += 1
            continue
        status = ONLY_A if obj_b is None else ONLY_B if obj_a is None else DIFFERENT
        setattr(tally, status, getattr(tally, status) + 1)
        words, sql = explain(obj_a, obj_b, a, b, label_a, label_b)
        differences.append(Difference(key[0], key[1], status, obj_a, obj_b, words, sql))
    return ParityResult(
        label_a,
        label_b,
        {k: v for k, v in kinds.items() if v.in_a or v.in_b},
        differences,
        server_a=a.server_version,
        server_b=b.server_version,
    )


_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _order(key: tuple[str, str]) -> tuple[int, str]:
    return (_KIND_ORDER.get(key[0], len(KINDS)), key[1])
