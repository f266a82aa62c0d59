"""Values that look like keys or tokens, replaced by placeholders before anything is written.

A baseline goes into git. A JWT in a function body, a ``sk_live_…`` key in a carried row, a long
hex or base64 string in a default or a comment would go with it; each is replaced by a
placeholder named after a short digest of the value (the same value gets the same placeholder
everywhere, so the two sides of a comparison can be redacted alike and still match). The
operator sets the real values after provisioning; :class:`Redactions` lists where they were.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from wizard.catalog import Snapshot

#: Placeholders start with this; a placeholder never matches a pattern below.
PLACEHOLDER_PREFIX = "REDACTED_SECRET_"

#: What a vault secret is created with in the baseline (its value is never read).
VAULT_PLACEHOLDER = "SET_THIS_SECRET_AFTER_PROVISIONING"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("API key", re.compile(r"\b(?:sk|rk|pk|whsec|sb_secret|sb_publishable)_(?:live_|test_)?[A-Za-z0-9]{16,}")),
    ("API key", re.compile(r"\b(?:ghp|gho|ghs|github_pat|xox[abprs])[_-][A-Za-z0-9_-]{20,}")),
    ("API key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("hex key", re.compile(r"(?<![0-9A-Za-z_])[0-9a-fA-F]{40,}(?![0-9A-Za-z_])")),
    (
        "base64 key",
        re.compile(
            r"(?<![A-Za-z0-9+/_])(?=[A-Za-z0-9+/]*[0-9])(?=[A-Za-z0-9+/]*[a-z])"
            r"(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/_])"
        ),
    ),
)


def placeholder(value: str) -> str:
    """The placeholder that stands for ``value`` (a short digest: the same value, the same placeholder)."""
    return PLACEHOLDER_PREFIX + hashlib.sha256(value.encode()).hexdigest()[:8]


def redact(text: str) -> str:
    """``text`` with every key-like value replaced by its placeholder."""
    for _kind, pattern in _PATTERNS:
        text = pattern.sub(lambda m: placeholder(m.group(0)), text)
    return text


def found(text: str) -> list[tuple[str, str]]:
    """``(kind, placeholder)`` of every key-like value in ``text``, in order, each once."""
    seen: dict[str, str] = {}
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            seen.setdefault(placeholder(match.group(0)), kind)
        text = pattern.sub(lambda m: placeholder(m.group(0)), text)
    return [(kind, name) for name, kind in seen.items()]


@dataclass(frozen=True)
class Redaction:
    """One key-like value replaced by a placeholder: where, what it looked like, its placeholder."""

    where: str
    kind: str
    placeholder: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "kind": self.kind, "placeholder": self.placeholder}


@dataclass
class Redactions:
    """Every value replaced in a baseline, and the vault secrets the operator must set."""

    replaced: list[Redaction] = field(default_factory=list)
    vault_secrets: list[str] = field(default_factory=list)

    def scrub(self, text: str, where: str) -> str:
        """``text`` redacted, noting each replacement as found in ``where``."""
        for kind, name in found(text):
            entry = Redaction(where, kind, name)
            if entry not in self.replaced:
                self.replaced.append(entry)
        return redact(text)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Redactions:
        """What :meth:`to_dict` journaled."""
        replaced = [
            Redaction(str(r["where"]), str(r["kind"]), str(r["placeholder"])) for r in data.get("replaced") or []
        ]
        return cls(replaced, list(data.get("vault_secrets") or []))

    def to_dict(self) -> dict[str, Any]:
        return {"replaced": [r.to_dict() for r in self.replaced], "vault_secrets": self.vault_secrets}


_DUMP_NAME = re.compile(r"^-- Name: (?P<name>[^;]+); Type: (?P<type>[^;]+);", re.M)


def scrub_dump(text: str, redactions: Redactions, section: str) -> str:
    """A pg_dump-style script redacted, each replacement located by the ``-- Name: …; Type: …`` above it."""
    if not any(True for _ in found(text)):
        return text
    parts = []
    last = 0
    where = section
    for match in _DUMP_NAME.finditer(text):
        parts.append(redactions.scrub(text[last : match.start()], where))
        where = f"{match.group('type').strip().lower()} {match.group('name').strip()}"
        last = match.start()
    parts.append(redactions.scrub(text[last:], where))
    return "".join(parts)


def redact_snapshot(snap: Snapshot, leave_out: set[tuple[str, str]] | None = None) -> Snapshot:
    """``snap`` with key-like values in every definition replaced (both sides of a comparison alike)."""
    leave_out = leave_out or set()
    objects = {
        key: replace(obj, definition=redact(obj.definition))
        for key, obj in snap.objects.items()
        if key not in leave_out
    }
    return Snapshot(objects, snap.server_version, snap.server_version_num)
