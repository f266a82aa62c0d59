"""Phase 4's state from the target when the journal cannot say (lost, or its chain broken).

The target is the source of truth for Phase 4: ``record``'s transaction stored its evidence
there (:mod:`wizard.record.evidence`). When the journal has no line for the evidence row the
target holds (``.consolidate/`` deleted, a copy restored from before, a corrupt line), Phase 4
is done, rebuilt from that row, and :attr:`Phase4.note` says so in one line. When the journal
says done but the target holds no evidence of that record, the record was undone outside the tool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from wizard.record import evidence as target_evidence
from wizard.record.evidence import TargetEvidence
from wizard.record.gates import EVIDENCE_TABLE
from wizard.state import events, protocol
from wizard.state.journal import PREV, Journal, JournalCorrupt
from wizard.state.protocol import PhaseState

_SPEC = next(s for s in protocol.PHASES if s.key == "record")


@dataclass(frozen=True)
class Phase4:
    """Phase 4 as the journal and the target together say it.

    Attributes:
        state: The phase's state (``record`` is the journal's line, or the one rebuilt from the target).
        rebuilt: The target's evidence row when the state was rebuilt from it.
        corrupt: Why the journal could not be read, if it could not.
        note: One line for the operator when the target and the journal disagree.
    """

    state: PhaseState
    rebuilt: TargetEvidence | None = None
    corrupt: JournalCorrupt | None = None
    note: str | None = None

    @property
    def committed(self) -> dict[str, Any] | None:
        """The ``record.committed`` record that ``rollback record`` would undo, if Phase 4 is done."""
        return self.state.record if self.state.status == protocol.DONE else None


def _why_unknown(journal: Journal, corrupt: JournalCorrupt | None) -> str:
    if corrupt is not None:
        return corrupt.message
    if not journal.path.exists():
        return f"the journal {journal.path} does not exist"
    return f"the journal {journal.path} has no line for it"


def phase4(journal: Journal, conn: psycopg.Connection) -> Phase4:
    """Phase 4 for the target behind ``conn`` (read-only), from its journal checked against the target's evidence."""
    try:
        records, corrupt = journal.events(), None
    except JournalCorrupt as exc:
        records, corrupt = [], exc
    state = protocol.phase_state(_SPEC, records)
    stored = target_evidence.read(conn)
    latest = stored[-1] if stored else None
    journaled = state.record if state.status == protocol.DONE else None
    if latest is not None and (journaled is None or journaled.get("record_id") != latest.record_id):
        committed = latest.as_committed()
        rebuilt = PhaseState(
            _SPEC.key, _SPEC.title, protocol.DONE, f"done at {latest.recorded_at} (rebuilt from the target)", committed
        )
        note = (
            f"Phase 4 rebuilt from the target: {_why_unknown(journal, corrupt)}; "
            f"{EVIDENCE_TABLE} holds {latest.describe()}"
        )
        return Phase4(rebuilt, latest, corrupt, note)
    if latest is None and journaled is not None and journaled.get("record_id"):
        note = (
            f"the journal's record of baseline {journaled.get('version')} (seq {journaled.get('seq')}) has no "
            f"evidence on the target ({EVIDENCE_TABLE}): it was undone outside this tool, or the database restored"
        )
        undone = replace(state, status=protocol.ROLLED_BACK, reason=f"not on the target: {note}")
        return Phase4(undone, None, corrupt, note)
    return Phase4(state, None, corrupt)


def journal_rebuilt(journal: Journal, found: TargetEvidence) -> dict[str, Any]:
    """Append the ``record.committed`` rebuilt from the target's evidence row (``rebuilt_from_target``)."""
    skip = {"seq", "ts", "event", PREV}
    evidence = {k: v for k, v in found.as_committed().items() if k not in skip}
    return journal.append(
        events.RECORD_COMMITTED, **evidence, recorded_at=found.recorded_at, target_journal_seq=found.journal_seq
    )


def rebuild_journal(journal: Journal, conn: psycopg.Connection, say: Callable[[str], None]) -> Phase4:
    """Before a write: bring the journal in line with the target's evidence, saying each step in one line.

    A corrupt journal is set aside (kept as ``journal.jsonl.corrupt-<time>``) when the target holds
    the evidence to rebuild Phase 4 from; the rebuilt ``record.committed`` is appended.

    Raises:
        JournalCorrupt: the journal is corrupt and the target holds no evidence of Phase 4.
    """
    view = phase4(journal, conn)
    if view.rebuilt is None:
        if view.corrupt is not None:
            raise view.corrupt
        return view
    say(view.note or "")
    if view.corrupt is not None:
        aside = journal.set_aside()
        say(f"the corrupt journal was set aside as {aside.name} (kept as evidence); a new journal starts")
    journal_rebuilt(journal, view.rebuilt)
    return phase4(journal, conn)
