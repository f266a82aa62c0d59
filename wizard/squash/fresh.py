"""The second proof: a fresh environment built from the new folder equals one built from the old history.

Both are scratch databases of the target's mirrored platform (:meth:`Shadow.scratch`, as drift
uses): one replays the old history, the other applies the baseline alone. They are compared on
their schema (:func:`wizard.parity.diff.compare`; a difference the target has with its own
history too is drift, which the baseline follows on purpose), the rows of every table the
history wrote, pg_cron jobs, pgmq queues, publication membership, vault secret names, and the
extension set with versions. Key-like values are compared redacted on both sides, as the
baseline carries them. The seconds each environment took to provision are recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.catalog import Snapshot
from wizard.catalog.versions import equivalent
from wizard.history.files import MigrationFile, load_file
from wizard.history.replay import missing_extension_error, replay
from wizard.parity.diff import compare
from wizard.platform.shadow import Shadow
from wizard.squash.data import split_name
from wizard.squash.environment import (
    Environment,
    bare_digests,
    carried_state,
    measure,
    side_effect,
    written_tables,
)
from wizard.squash.managed import SUPABASE_INTERNAL_EXTENSIONS
from wizard.squash.secrets import redact_snapshot

HISTORY_LABEL = "the old history"

BASELINE_LABEL = "the new folder"


@dataclass
class HistoryEnvironment:
    """The fresh environment the old history built, kept while the baseline is generated from it.

    Attributes:
        dsn: Its scratch database (None once the block ends, or when the replay failed).
        failure: Where the replay stopped, when the history cannot build a fresh environment.
        written: Tables whose rows the history wrote.
        named: Tables a statement of the history writes (``schema.table``).
        side_effects: Managed tables written only by the platform reacting to the history (not carried).
    """

    dsn: str | None
    seconds: float
    files: int
    failure: str | None = None
    env: Environment | None = None
    bare: dict[str, tuple[int, str]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    named: set[str] = field(default_factory=set)
    side_effects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.env is not None


@dataclass(frozen=True)
class Check:
    """One aspect of the two environments: equal, or the differences named."""

    name: str
    compared: int
    differences: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "compared": self.compared,
            "differences": list(self.differences),
            "accepted": list(self.accepted),
        }


@dataclass
class FreshProof:
    """The verdict of the second proof, with what each environment took to provision."""

    history_seconds: float
    history_files: int
    history_failure: str | None = None
    baseline_seconds: float | None = None
    baseline_failure: str | None = None
    checks: list[Check] = field(default_factory=list)
    not_compared: dict[str, str] = field(default_factory=dict)

    @property
    def replayable(self) -> bool:
        return self.history_failure is None

    @property
    def ok(self) -> bool:
        """Equal environments; or, when the old history cannot build one, nothing to compare with (said so)."""
        if not self.replayable:
            return True
        return self.baseline_failure is None and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def reason(self) -> str:
        if not self.replayable:
            return (
                f"the old history cannot build a fresh environment ({self.history_failure}): "
                "proved against the target only"
            )
        if self.baseline_failure:
            return f"the new folder does not build a fresh environment: {self.baseline_failure}"
        bad = [c for c in self.checks if not c.ok]
        if bad:
            return f"the fresh environments differ in {', '.join(c.name for c in bad)}: {bad[0].differences[0]}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason or None,
            "replayable": self.replayable,
            "provisioning": {
                "history": {
                    "files": self.history_files,
                    "seconds": round(self.history_seconds, 4),
                    "failure": self.history_failure,
                },
                "baseline": {
                    "files": 1,
                    "seconds": None if self.baseline_seconds is None else round(self.baseline_seconds, 4),
                    "failure": self.baseline_failure,
                },
            },
            "checks": {c.name: c.to_dict() for c in self.checks},
            "not_compared": self.not_compared,
        }


def _check(cancel: threading.Event | None) -> None:
    from wizard.squash.dump import Cancelled

    if cancel is not None and cancel.is_set():
        raise Cancelled("the proof was cancelled; nothing was recorded", "run consolidate squash again")


@contextmanager
def history_environment(
    history_shadow: Shadow,
    bare_shadow: Shadow,
    files: list[MigrationFile],
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[HistoryEnvironment]:
    """Build the old history's fresh environment and measure what it wrote; yield it while the block runs.

    Args:
        history_shadow: The mirrored platform with the history's starting privileges.
        bare_shadow: The mirrored platform the baseline is applied to (its untouched tables are the reference).

    Raises:
        MissingExtension: the shadow server lacks an extension the history creates.
        Cancelled: ``cancel`` was set.
    """
    say = progress or (lambda _msg: None)
    say("measuring the untouched platform")
    with bare_shadow.scratch("fresh_bare") as dsn:
        bare = bare_digests(dsn)
    _check(cancel)
    say(f"building a fresh environment from the old history ({len(files)} file(s))")
    started = time.perf_counter()
    with history_shadow.scratch("fresh_history") as dsn:
        result = replay(files, dsn, cancel=cancel)
        seconds = time.perf_counter() - started
        _check(cancel)
        if result.failure and result.failure.missing_extension:
            raise missing_extension_error(
                result.failure.missing_extension, f"PostgreSQL {history_shadow.server_version_num}"
            )
        if not result.ok:
            failure = result.failure.describe() if result.failure else "cancelled"
            yield HistoryEnvironment(None, seconds, len(files), failure=failure, bare=bare)
            return
        say("measuring what the old history wrote")
        named = {"{}.{}".format(*split_name(s.target)) for f in files for s in f.data_statements if s.target}
        changed = written_tables(bare_digests(dsn), bare)
        side = [t for t in changed if side_effect(t, named)]
        written = [t for t in changed if t not in side]
        env = measure(dsn, [t for t in written if not carried_state(t)])
        made = HistoryEnvironment(
            dsn, seconds, len(files), env=env, bare=bare, written=written, named=named, side_effects=side
        )
        try:
            yield made
        finally:
            made.dsn = None


def _redacted(snap: Snapshot) -> Snapshot:
    return redact_snapshot(snap, {("extension", name) for name in SUPABASE_INTERNAL_EXTENSIONS})


def _sets(name: str, old: set[str], new: set[str]) -> Check:
    diffs = [f"{item}: made by the old history, not by the new folder" for item in sorted(old - new)]
    diffs += [f"{item}: made by the new folder, not by the old history" for item in sorted(new - old)]
    return Check(name, len(old | new), tuple(diffs))


def _schema(old: Environment, new: Environment, target: Snapshot) -> Check:
    parity = compare(_redacted(old.schema), _redacted(new.schema), HISTORY_LABEL, BASELINE_LABEL)
    drift = {(d.kind, d.name) for d in compare(_redacted(target), _redacted(old.schema)).differences}
    differences: list[str] = []
    accepted: list[str] = []
    skew: list[str] = []
    majors = (target.server_version_num // 10000, old.schema.server_version_num // 10000)
    for d in parity.differences:
        if d.a is not None and d.b is not None and equivalent(d.a, d.b, *majors):
            # The baseline was dumped from the target's older server: its GRANT ALL means more here.
            skew.append(f"{d.kind} {d.name} (differs only as PostgreSQL {majors[0]} and {majors[1]} word it)")
            continue
        (accepted if (d.kind, d.name) in drift else differences).append(f"{d.kind} {d.name}: {d.explanation}")
    accepted = [
        f"{a} (drift: the target differs from its history here too; the baseline follows the target)" for a in accepted
    ] + skew
    return Check("schema", len(old.schema.objects | new.schema.objects), tuple(differences), tuple(accepted))


def _extensions(old: Environment, new: Environment) -> Check:
    diffs = []
    for name in sorted(set(old.extensions) | set(new.extensions)):
        a, b = old.extensions.get(name), new.extensions.get(name)
        if a != b:
            diffs.append(f"extension {name}: {a or 'absent'} from the old history, {b or 'absent'} from the new folder")
    return Check("extensions", len(set(old.extensions) | set(new.extensions)), tuple(diffs))


def _rows(old: Environment, new: Environment, tables: list[str]) -> Check:
    diffs = []
    for table in tables:
        a, b = old.rows.get(table, []), new.rows.get(table, [])
        if a != b:
            missing = len([r for r in a if r not in b])
            extra = len([r for r in b if r not in a])
            diffs.append(
                f"rows of {table}: {len(a)} from the old history, {len(b)} from the new folder "
                f"({missing} missing, {extra} not made by the history)"
            )
    return Check("rows", len(tables), tuple(diffs))


def prove_fresh(
    history: HistoryEnvironment,
    baseline: Path,
    shadow: Shadow,
    target: Snapshot,
    *,
    excluded: list[str],
    from_target: list[str],
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> FreshProof:
    """Build the new folder's fresh environment (the baseline alone) and compare it with the history's.

    Args:
        excluded: Tables the operator excluded from the carried rows (not compared, listed).
        from_target: Tables carried from the target by ``--include-data`` (not compared with the history).
    """
    say = progress or (lambda _msg: None)
    proof = FreshProof(history.seconds, history.files, history.failure)
    if not history.ok or history.env is None:
        return proof
    say("building a fresh environment from the new migrations folder (the baseline alone)")
    started = time.perf_counter()
    with shadow.scratch("fresh_baseline") as dsn:
        result = replay([load_file(baseline)], dsn, cancel=cancel)
        proof.baseline_seconds = time.perf_counter() - started
        _check(cancel)
        if not result.ok:
            proof.baseline_failure = result.failure.describe() if result.failure else "cancelled"
            return proof
        say("comparing the two fresh environments")
        written_new = [t for t in written_tables(bare_digests(dsn), history.bare) if not side_effect(t, history.named)]
        compared = sorted(set(history.written) | set(written_new))
        for table in history.side_effects:
            proof.not_compared[table] = "written by the platform's own triggers while the history ran, by no statement"
        for table in compared:
            if table in excluded:
                proof.not_compared[table] = "excluded by the operator"
            elif table in from_target:
                proof.not_compared[table] = "rows carried from the target (--include-data)"
        tables = [t for t in compared if not carried_state(t) and t not in proof.not_compared]
        new = measure(dsn, tables)
    old = history.env
    proof.checks = [
        _schema(old, new, target),
        _extensions(old, new),
        _rows(old, new, tables),
        _sets(
            "cron jobs",
            {j.describe() + " " + j.command for j in old.cron_jobs},
            {j.describe() + " " + j.command for j in new.cron_jobs},
        ),
        _sets("pgmq queues", {q.name for q in old.queues}, {q.name for q in new.queues}),
        _sets("publication membership", old.publication_members, new.publication_members),
        _sets("vault secret names", old.vault_secret_names, new.vault_secret_names),
    ]
    return proof
