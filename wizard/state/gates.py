"""Gates: named predicates over recorded evidence, each with a human reason.

Phases and screens ask a gate; they never re-implement its rule. A gate's check reads
the journal (and, where it must, the world: a file's hash, the target's identity) and
returns a :class:`GateResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateResult:
    """The verdict of one gate.

    Attributes:
        name: The gate's name, such as ``verified-backup``.
        passed: Whether the gate holds.
        reason: Why it fails, or what satisfies it, in one sentence.
        evidence: The facts the verdict rests on (hashes, identities, ages).
    """

    name: str
    passed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason, "evidence": self.evidence}


@dataclass(frozen=True)
class Gate:
    """A named predicate; ``check`` receives whatever context the gate documents."""

    name: str
    description: str
    check: Callable[..., GateResult]

    def __call__(self, *args: Any, **kwargs: Any) -> GateResult:
        return self.check(*args, **kwargs)


def passed(name: str, reason: str, **evidence: Any) -> GateResult:
    """A passing result."""
    return GateResult(name, True, reason, evidence)


def failed(name: str, reason: str, **evidence: Any) -> GateResult:
    """A failing result."""
    return GateResult(name, False, reason, evidence)
