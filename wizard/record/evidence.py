"""The target's own evidence of Phase 4: a row per recorded baseline in ``supabase_migrations.consolidation_evidence``.

``record``'s transaction inserts the row (creating the table the first time) and ``rollback
record``'s deletes it (dropping the table when it is left empty), so the target itself says
which baseline this tool recorded and with what evidence, even when the local journal is lost
or its chain is broken (:mod:`wizard.record.rebuild`). The Supabase CLI reads only
``schema_migrations`` and ``seed_files`` in that schema and leaves the schema out of its dumps,
as it already does for ``schema_migrations_archive``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from wizard import __version__
from wizard.record.gates import EVIDENCE_TABLE, table_exists
from wizard.record.steps import Step
from wizard.state import events

CREATE = [
    Step(
        f"CREATE TABLE {EVIDENCE_TABLE} (version text PRIMARY KEY, record_id text NOT NULL UNIQUE, "
        "baseline_path text NOT NULL, baseline_sha256 text NOT NULL, superseded_versions text[] NOT NULL, "
        "moved_versions text[] NOT NULL, tool_version text NOT NULL, journal_seq bigint NOT NULL, "
        "journal_prev text, target jsonb NOT NULL, evidence jsonb NOT NULL, "
        "recorded_at timestamptz NOT NULL DEFAULT now())"
    ),
    Step(
        f"COMMENT ON TABLE {EVIDENCE_TABLE} IS 'Phase 4 evidence of consolidation-wizard: "
        "the baseline it recorded here, so a lost local journal can be rebuilt'"
    ),
]

_COLUMNS = (
    "version, record_id, baseline_path, baseline_sha256, superseded_versions, moved_versions, "
    "tool_version, journal_seq, journal_prev, target, evidence"
)

_FIELDS = [c.strip() for c in _COLUMNS.split(",")]


@dataclass(frozen=True)
class TargetEvidence:
    """One row of :data:`EVIDENCE_TABLE`: what this tool recorded on the target.

    Attributes:
        journal_seq: The sequence number the ``record.committed`` line was to have in the journal.
        journal_prev: The chain hash of the journal line before it.
        evidence: The ``record.committed`` evidence (what ``rollback record`` needs to undo it).
    """

    version: str
    record_id: str
    baseline_path: str
    baseline_sha256: str
    superseded_versions: list[str]
    moved_versions: list[str]
    tool_version: str
    journal_seq: int
    journal_prev: str | None
    target: dict[str, Any]
    evidence: dict[str, Any]
    recorded_at: str

    def as_committed(self) -> dict[str, Any]:
        """The ``record.committed`` journal record this row stands for, marked ``rebuilt_from_target``."""
        return {
            **self.evidence,
            "seq": self.journal_seq,
            "ts": self.recorded_at,
            "event": events.RECORD_COMMITTED,
            "record_id": self.record_id,
            "rebuilt_from_target": True,
        }

    def describe(self) -> str:
        return (
            f"baseline {self.version} (sha256 {self.baseline_sha256[:12]}…) recorded at {self.recorded_at} "
            f"by consolidation-wizard {self.tool_version}, journal seq {self.journal_seq}"
        )


def insert(evidence: dict[str, Any], superseded: list[str], journal_seq: int, journal_prev: str | None) -> Step:
    """The statement that stores ``evidence`` (a ``record.committed`` evidence with ``record_id``) on the target."""
    baseline = evidence["baseline"]
    values = (
        evidence["version"],
        evidence["record_id"],
        baseline["path"],
        baseline["sha256"],
        superseded,
        evidence["moved_versions"],
        __version__,
        journal_seq,
        journal_prev,
        json.dumps(evidence["identity"]),
        json.dumps(evidence, default=str),
    )
    shown = (
        repr(evidence["version"]),
        repr(evidence["record_id"]),
        repr(baseline["path"]),
        repr(baseline["sha256"]),
        f"ARRAY{superseded!r}",
        f"ARRAY{evidence['moved_versions']!r}",
        repr(__version__),
        str(journal_seq),
        repr(journal_prev),
        "the target's identity (jsonb)",
        "this record's evidence (jsonb)",
    )
    placeholders = ", ".join(["%s"] * 9 + ["%s::jsonb"] * 2)
    return Step(f"INSERT INTO {EVIDENCE_TABLE} ({_COLUMNS}) VALUES ({placeholders})", values, shown, 1)


def delete(version: str) -> Step:
    """The statement that removes the evidence of ``version`` (``rollback record``)."""
    return Step(f"DELETE FROM {EVIDENCE_TABLE} WHERE version = %s", (version,), (repr(version),), 1)


def read(conn: psycopg.Connection) -> list[TargetEvidence]:
    """Every evidence row on the target, oldest first; none when the table does not exist."""
    if not table_exists(conn, EVIDENCE_TABLE):
        return []
    rows = conn.execute(f"SELECT {_COLUMNS}, recorded_at FROM {EVIDENCE_TABLE} ORDER BY recorded_at, version")
    found = []
    for row in rows.fetchall():
        recorded_at = row[-1]
        when = str(recorded_at)
        if isinstance(recorded_at, datetime):
            when = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values = dict(zip(_FIELDS, row[:-1], strict=True))
        found.append(TargetEvidence(**values, recorded_at=when))
    return found


def problems_after(conn: psycopg.Connection, evidence: dict[str, Any]) -> list[str]:
    """After a commit: the record's evidence row is on the target, or a rollback's is gone."""
    rows = {r.version: r for r in read(conn)}
    if "record_id" in evidence:
        row = rows.get(evidence["version"])
        if row is None or row.record_id != evidence["record_id"]:
            return [f"{EVIDENCE_TABLE} does not hold this record's evidence"]
    elif evidence.get("evidence_removed") and evidence["version"] in rows:
        return [f"{EVIDENCE_TABLE} still holds the evidence of {evidence['version']}"]
    return []
