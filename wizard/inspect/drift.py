"""Drift: the target compared with what its migration history builds in a scratch database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from wizard.catalog import snapshot
from wizard.db.connect import Identity, open_session
from wizard.errors import MigrationFileError
from wizard.history.files import MigrationSet
from wizard.history.replay import ReplayResult, missing_extension_error, replay
from wizard.parity.diff import ParityResult, compare
from wizard.platform.shadow import Shadow
from wizard.platform.standins import StandinSurvey, survey
from wizard.state import events
from wizard.state.journal import Journal

TARGET_LABEL = "the target"
#: Sessions that read the replayed schema: for bench/drift.py's 300-file history on 2 busy cores, 1: 0.24 s,
#: 2: 0.20 s, 4: 0.19 s (medians of 5); 2 leave a core to the rest.
SCRATCH_SESSIONS = 2
HISTORY_LABEL = "the migrations"


@dataclass
class DriftReport:
    """A replay of the history and, if it completed, its parity with the target."""

    replay: ReplayResult
    parity: ParityResult | None
    standins: StandinSurvey | None = None  # stand-in extensions the replay relied on

    @property
    def clean(self) -> bool:
        return self.replay.ok and self.parity is not None and self.parity.identical


def check(
    target: psycopg.Connection,
    mset: MigrationSet,
    shadow: Shadow,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> DriftReport:
    """Replay ``mset`` in a fresh scratch database and compare the target with the result.

    Raises:
        MigrationFileError: the folder holds no migration file, or a file cannot be parsed (the
            replay would be meaningless).
        MissingExtension: the shadow server lacks an extension the history creates.
    """
    mset.require_files()
    if mset.errors:
        raise MigrationFileError(mset.errors[0], "fix the file, then run drift again")
    if mset.duplicates:
        version, names = next(iter(mset.duplicates.items()))
        raise MigrationFileError(
            f"two migration files share version {version}: {', '.join(names)}",
            "rename one of them to a later version",
        )
    say = progress or (lambda _msg: None)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="target-snapshot") as pool:
        # The target's schema is read on its own session while the history replays.
        actual = pool.submit(snapshot, target)
        with shadow.scratch("replay") as dsn:
            files = mset.history()
            say(f"replaying {len(files)} file(s) in a scratch database")
            result = replay(files, dsn, (lambda f, i, n: say(f"replay {i}/{n}: {f.filename}")), cancel)
            if result.failure and result.failure.missing_extension:
                raise missing_extension_error(
                    result.failure.missing_extension, f"PostgreSQL {shadow.server_version_num}"
                )
            if not result.ok:
                return DriftReport(result, None)
            say("reading the replayed schema")
            with open_session(dsn) as conn:
                # Split over sessions: the target's snapshot is done by now, and this one is all that is left.
                replayed = snapshot(conn, connect=lambda: open_session(dsn), sessions=SCRATCH_SESSIONS)
                standins = survey(conn)
        return DriftReport(result, compare(actual.result(), replayed, TARGET_LABEL, HISTORY_LABEL), standins)


def record(journal: Journal, identity: Identity, report: DriftReport, against: dict | None = None) -> dict:
    """Journal ``drift.checked``: the replay's outcome and every difference with its explanation.

    ``against``: what the replayed folder held when it was not the old history, e.g. only the
    baseline once another target's Phase 3 archived the files (``{"baseline": path, "archived": n}``).
    """
    extra = {"against": against} if against else {}
    return journal.append(
        events.DRIFT_CHECKED,
        identity=identity.to_dict(),
        replay_ok=report.replay.ok,
        replay_seconds=round(report.replay.seconds, 3),
        replay_failure=report.replay.failure.describe() if report.replay.failure else None,
        identical=report.parity.identical if report.parity else None,
        differences=[
            {"kind": d.kind, "name": d.name, "status": d.status, "explanation": d.explanation}
            for d in (report.parity.differences if report.parity else [])
        ],
        **extra,
    )
