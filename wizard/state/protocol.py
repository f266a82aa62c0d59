"""The protocol's state for one target, derived from its journal (never from memory).

Phases, in order: backup, Phase 1 (inspect), Phase 2 (squash), Phase 3 (archive),
Phase 4 (record), validation. Each phase's state is read from the journal's events (see
:mod:`wizard.state.events`), so a crash or a restart resumes exactly where the evidence says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.project.config import Config
from wizard.state import events
from wizard.state.gates import Gate, GateResult, failed, passed
from wizard.state.journal import Journal

DONE = "done"
PENDING = "pending"
FAILED = "failed"
ROLLED_BACK = "rolled back"


@dataclass(frozen=True)
class PhaseState:
    """Where one phase stands, with the journal record that says so."""

    key: str
    title: str
    status: str
    reason: str
    record: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "seq": self.record.get("seq") if self.record else None,
            "ts": self.record.get("ts") if self.record else None,
        }


@dataclass(frozen=True)
class PhaseSpec:
    """How a phase's state is read: the event that completes it, and those that undo or fail it."""

    key: str
    title: str
    done: str
    undone: tuple[str, ...] = ()
    failure: tuple[str, ...] = ()


PHASES: tuple[PhaseSpec, ...] = (
    PhaseSpec("backup", "Backup (pg_dump, verified)", events.BACKUP_VERIFIED, (), (events.BACKUP_VERIFICATION_FAILED,)),
    PhaseSpec("inspect", "Phase 1: schema export & validation", events.INSPECTED),
    PhaseSpec(
        "squash",
        "Phase 2: consolidated migration",
        events.SQUASH_PROVED,
        (events.SQUASH_ROLLED_BACK,),
        (events.SQUASH_PROOF_FAILED,),
    ),
    PhaseSpec("archive", "Phase 3: archive old migrations", events.ARCHIVE_DONE, (events.ARCHIVE_ROLLED_BACK,)),
    PhaseSpec("record", "Phase 4: production state update", events.RECORD_COMMITTED, (events.RECORD_ROLLED_BACK,)),
    # Validation checks the recorded baseline: undoing Phase 4 afterwards undoes what it validated.
    PhaseSpec("validate", "Post-execution validation", events.VALIDATED, (events.RECORD_ROLLED_BACK,)),
)


def _latest(records: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Any] | None:
    found = [r for r in records if r.get("event") in names]
    return found[-1] if found else None


def phase_state(spec: PhaseSpec, records: list[dict[str, Any]]) -> PhaseState:
    """The state of one phase given every journal record of the target."""
    last = _latest(records, (spec.done, *spec.undone, *spec.failure))
    if last is None:
        return PhaseState(spec.key, spec.title, PENDING, "not started")
    event = last["event"]
    when = last.get("ts", "?")
    if event in spec.undone:
        undone = "Phase 4 was undone" if spec.key == "validate" else "rolled back"
        return PhaseState(spec.key, spec.title, ROLLED_BACK, f"{undone} at {when}", last)
    if event in spec.failure:
        reason = last.get("reason") or last.get("error") or "failed"
        return PhaseState(spec.key, spec.title, FAILED, f"failed at {when}: {reason}", last)
    if spec.key == "validate" and not last.get("passed", False):
        return PhaseState(spec.key, spec.title, FAILED, f"validation failed at {when}", last)
    return PhaseState(spec.key, spec.title, DONE, f"done at {when}", last)


def states(journal: Journal) -> list[PhaseState]:
    """Every phase's state for the target whose journal this is."""
    records = journal.events()
    return [phase_state(spec, records) for spec in PHASES]


def next_phase(journal: Journal) -> PhaseState | None:
    """The first phase that is not done (where a resumed session continues), or None."""
    return next((s for s in states(journal) if s.status != DONE), None)


def _rehearsed(journal: Journal) -> dict[str, Any] | None:
    """The validation record that completed a full protocol run, if the latest run got that far."""
    by_key = {s.key: s for s in states(journal)}
    if all(by_key[k].status == DONE for k in ("record", "validate")):
        validated, recorded = by_key["validate"].record, by_key["record"].record
        if validated and recorded and validated["seq"] > recorded["seq"]:
            return validated
    return None


def check_rehearsal(config: Config) -> GateResult:
    """Gate: some staging target of the project has completed the whole protocol (validation passed)."""
    staging = [t for t in config.targets.values() if t.role == "staging"]
    if not staging:
        return failed("staging-rehearsal", "consolidate.toml defines no staging target to rehearse on")
    for target in staging:
        record = _rehearsed(Journal.for_target(config.state_dir, target.name))
        if record:
            return passed(
                "staging-rehearsal",
                f"the protocol was rehearsed on staging target {target.name} (validated at {record['ts']})",
                target=target.name,
                validated_at=record["ts"],
            )
    names = ", ".join(t.name for t in staging)
    return failed(
        "staging-rehearsal",
        f"no completed rehearsal on a staging target ({names}): run the whole protocol there first, "
        "through `consolidate validate`",
    )


STAGING_REHEARSAL = Gate(
    "staging-rehearsal",
    "the whole protocol was completed on a staging target before production",
    check_rehearsal,
)
