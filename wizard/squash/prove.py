"""Prove a baseline: it applies cleanly to a fresh database and reproduces the target exactly.

The baseline is applied to a fresh scratch database with the same executor that replays
migrations (:func:`wizard.history.replay.replay`, one transaction per file, as the Supabase CLI
does), that database is read and compared with the target object by object, and every
object kind must match (N/N). Rows carried by the baseline are counted, then the inserts
are applied a second time to show they are idempotent.

The seed claims that new environments provision faster from one baseline: this is
measured, not assumed. Each of several rounds provisions one fresh database from the old
files and one from the baseline; the medians are reported. A history that cannot replay
is reported as failing (with where it stopped), and the baseline still stands on its own.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import sql

from wizard.catalog import Snapshot, snapshot
from wizard.db.connect import open_session, scalar
from wizard.history.files import MigrationFile, load_file
from wizard.history.replay import ReplayResult, missing_extension_error, replay
from wizard.parity.diff import ParityResult, compare
from wizard.platform.shadow import Shadow
from wizard.squash.data import split_name
from wizard.squash.dump import Cancelled
from wizard.squash.fresh import FreshProof
from wizard.squash.managed import SUPABASE_INTERNAL_EXTENSIONS
from wizard.squash.secrets import redact_snapshot
from wizard.state import events
from wizard.state.journal import Journal

TARGET_LABEL = "target"
BASELINE_LABEL = "baseline"
DEFAULT_ROUNDS = 3


@dataclass
class Provisioning:
    """How long provisioning a fresh database took, over several rounds.

    Attributes:
        label: ``history`` (the old files) or ``baseline``.
        files: How many files were applied.
        runs: Seconds of each round.
        failure: Where the provisioning stopped, when it did not finish.
    """

    label: str
    files: int
    runs: list[float] = field(default_factory=list)
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def seconds(self) -> float:
        """The median of the rounds."""
        return statistics.median(self.runs) if self.runs else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "ok": self.ok,
            "seconds": round(self.seconds, 4),
            "runs": [round(r, 4) for r in self.runs],
            "failure": self.failure,
        }


@dataclass
class DataCheck:
    """Rows of one carried table: on the target, after applying, after applying the inserts again."""

    table: str
    expected: int
    applied: int
    reapplied: int

    @property
    def ok(self) -> bool:
        return self.expected == self.applied == self.reapplied

    def to_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "applied": self.applied, "reapplied": self.reapplied, "ok": self.ok}


@dataclass
class Proof:
    """The verdict on one baseline file."""

    path: Path
    sha256: str
    apply_failure: str | None
    parity: ParityResult | None
    data: list[DataCheck]
    history: Provisioning
    baseline: Provisioning
    excluded: list[str] = field(default_factory=list)
    fresh: FreshProof | None = None  # the second proof (fresh environments), attached by the phase

    @property
    def matches_target(self) -> bool:
        """The first proof: the baseline applies and reproduces the target."""
        return (
            self.apply_failure is None
            and self.parity is not None
            and self.parity.identical
            and all(d.ok for d in self.data)
        )

    @property
    def proved(self) -> bool:
        """Both proofs hold."""
        return self.matches_target and self.fresh is not None and self.fresh.ok

    @property
    def reason(self) -> str:
        """Why the proof failed (empty when it passed)."""
        if self.apply_failure:
            return f"the baseline does not apply to a fresh database: {self.apply_failure}"
        if self.parity is None:
            return "the baseline was not compared"
        if not self.parity.identical:
            kinds = [k for k, t in self.parity.kinds.items() if not t.matches]
            return f"{len(self.parity.differences)} difference(s) with the target ({', '.join(kinds)})"
        bad = [d for d in self.data if not d.ok]
        if bad:
            d = bad[0]
            return f"rows of {d.table}: {d.expected} expected, {d.applied} applied, {d.reapplied} re-applied"
        if self.fresh is None:
            return "the fresh environments were not compared"
        if not self.fresh.ok:
            return self.fresh.reason
        return ""

    @property
    def speedup(self) -> float | None:
        """How many times faster the baseline provisions than the old history (None if unknown)."""
        if not self.history.ok or not self.baseline.ok or self.baseline.seconds <= 0:
            return None
        return self.history.seconds / self.baseline.seconds

    def kind_counts(self) -> dict[str, str]:
        """``{kind: "identical/total"}`` for every kind present."""
        if self.parity is None:
            return {}
        return {k: f"{t.identical}/{max(t.in_a, t.in_b)}" for k, t in self.parity.kinds.items()}

    def to_dict(self) -> dict[str, Any]:
        speedup = self.speedup
        return {
            "proved": self.proved,
            "reason": self.reason or None,
            "sha256": self.sha256,
            "apply_failure": self.apply_failure,
            "kinds": self.kind_counts(),
            "parity": self.parity.to_dict() if self.parity else None,
            "excluded_from_comparison": self.excluded,
            "data": {d.table: d.to_dict() for d in self.data},
            "fresh": self.fresh.to_dict() if self.fresh is not None else None,
            "provisioning": {
                "history": self.history.to_dict(),
                "baseline": self.baseline.to_dict(),
                "speedup": round(speedup, 2) if speedup is not None else None,
            },
        }


def _count(dsn: str, table: str) -> int:
    schema, name = split_name(table)
    with open_session(dsn) as conn:
        return scalar(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))))


def _apply(shadow: Shadow, files: list[MigrationFile], purpose: str, cancel: threading.Event | None) -> ReplayResult:
    with shadow.scratch(purpose) as dsn:
        return replay(files, dsn, cancel=cancel)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("the proof was cancelled; nothing was recorded", "run consolidate squash again")


def prove(
    path: Path,
    target: Snapshot,
    history: list[MigrationFile],
    shadow: Shadow,
    *,
    data_rows: dict[str, int] | None = None,
    data_statements: list[str] | None = None,
    rounds: int = DEFAULT_ROUNDS,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Proof:
    """Apply the baseline at ``path`` to fresh databases, compare with ``target``, time it against ``history``.

    Args:
        target: The snapshot of the target the baseline was generated from.
        history: The old migration files the baseline supersedes (timed for comparison).
        data_rows: Rows the baseline carries per table, as counted on the target.
        data_statements: The baseline's inserts, applied a second time to show idempotency.
        rounds: How many fresh databases each side provisions for the timing (median reported).

    Raises:
        MissingExtension: the shadow server lacks an extension the baseline creates.
        Cancelled: ``cancel`` was set; nothing is returned.
    """
    say = progress or (lambda _msg: None)
    baseline_file = load_file(path)
    baseline_time = Provisioning("baseline", 1)
    history_time = Provisioning("history", len(history))
    excluded = {("extension", name) for name in SUPABASE_INTERNAL_EXTENSIONS}
    parity = None
    apply_failure = baseline_file.error
    checks: list[DataCheck] = []
    if apply_failure is None:
        with shadow.scratch("baseline") as dsn:
            say(f"applying {path.name} to a fresh database")
            result = replay([baseline_file], dsn, cancel=cancel)
            _check(cancel)
            if result.failure and result.failure.missing_extension:
                raise missing_extension_error(
                    result.failure.missing_extension, f"PostgreSQL {shadow.server_version_num}"
                )
            if result.ok:
                baseline_time.runs.append(result.seconds)
                say("reading the fresh database")
                with open_session(dsn) as conn:
                    applied = snapshot(conn)
                for table, expected in (data_rows or {}).items():
                    checks.append(DataCheck(table, expected, _count(dsn, table), -1))
                if data_statements:
                    say("applying the carried rows a second time")
                    with open_session(dsn, read_only=False) as conn, conn.transaction():
                        for statement in data_statements:
                            conn.execute(statement)
                for check in checks:
                    check.reapplied = _count(dsn, check.table)
                say("comparing with the target")
                # Key-like values are placeholders in the baseline: both sides are compared redacted alike.
                parity = compare(
                    redact_snapshot(target, excluded), redact_snapshot(applied, excluded), TARGET_LABEL, BASELINE_LABEL
                )
            else:
                apply_failure = result.failure.describe() if result.failure else "cancelled"
                baseline_time.failure = apply_failure
    else:
        baseline_time.failure = apply_failure
    for number in range(1, rounds + 1):
        _check(cancel)
        say(f"timing round {number}/{rounds}: {len(history)} old file(s)")
        if history_time.ok or number == 1:
            old = _apply(shadow, history, "history", cancel)
            _check(cancel)
            if old.ok:
                history_time.runs.append(old.seconds)
            else:
                history_time.failure = old.failure.describe() if old.failure else "cancelled"
                history_time.runs.append(old.seconds)
        if baseline_time.ok and len(baseline_time.runs) < rounds:
            say(f"timing round {number}/{rounds}: the baseline")
            new = _apply(shadow, [baseline_file], "baseline", cancel)
            _check(cancel)
            if new.ok:
                baseline_time.runs.append(new.seconds)
    return Proof(
        path=path,
        sha256=baseline_file.sha256,
        apply_failure=apply_failure,
        parity=parity,
        data=checks,
        history=history_time,
        baseline=baseline_time,
        excluded=sorted(f"{kind} {name}" for kind, name in excluded if (kind, name) in target.objects),
    )


def record(journal: Journal, proof: Proof, relative_path: str, version: str, **extra: Any) -> dict[str, Any]:
    """Journal ``squash.proved`` or ``squash.proof_failed`` with per-kind N/N counts and timings."""
    event = events.SQUASH_PROVED if proof.proved else events.SQUASH_PROOF_FAILED
    evidence = proof.to_dict()
    parity = evidence.pop("parity")
    evidence.pop("proved")
    differences = parity["differences"] if parity else []
    return journal.append(
        event,
        path=relative_path,
        version=version,
        **evidence,
        servers={"target": parity["server_a"], "baseline": parity["server_b"]} if parity else None,
        differences=[
            {"kind": d["kind"], "name": d["name"], "status": d["status"], "explanation": d["explanation"]}
            for d in differences
        ],
        **extra,
    )
