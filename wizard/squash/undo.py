"""Undo Phase 2 (``consolidate rollback squash``): the baseline file leaves the migrations folder.

Phase 2 changes one thing, the baseline file in the migrations folder. Undoing it removes that
file (only if it is byte for byte as generated) and journals ``squash.rolled_back`` for every
target that generated or adopted it, so the folder is exactly as before the consolidation.
It is refused while any target has archived the files the baseline supersedes (undo Phase 3
there first): rollbacks go in reverse order.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.errors import EXIT_DIFFERENCES, WizardError
from wizard.project.config import Config
from wizard.state import events, protocol
from wizard.state.journal import Journal, fsync_path, private_dir


class SquashUndoRefused(WizardError):
    """Phase 2 cannot be undone in the current state (the reason names what to do first)."""

    exit_code = EXIT_DIFFERENCES


@dataclass
class SquashUndo:
    """What undoing Phase 2 did."""

    path: str | None
    removed: bool = False
    already_done: bool = False
    targets: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "removed": self.removed, "already_done": self.already_done, "targets": self.targets}


def _phase(journal: Journal, key: str) -> protocol.PhaseState:
    return next(s for s in protocol.states(journal) if s.key == key)


def undo_squash(config: Config, journal: Journal) -> SquashUndo:
    """Remove the baseline this target generated or adopted, and journal it for every target that used it.

    Raises:
        SquashUndoRefused: a target still has Phase 3 done, or the file was changed by hand.
    """
    generated = journal.last(events.SQUASH_GENERATED)
    if generated is None or _phase(journal, "squash").status == protocol.ROLLED_BACK:
        return SquashUndo(None, already_done=True)
    journals = {name: Journal.for_target(config.state_dir, name) for name in sorted(config.targets)}
    archived = [name for name, j in journals.items() if _phase(j, "archive").status == protocol.DONE]
    if archived:
        first = archived[0]
        raise SquashUndoRefused(
            f"the superseded files are archived on {', '.join(archived)}: the baseline is the migrations folder now",
            f"undo Phase 3 first: consolidate rollback archive --target {first}",
        )
    relative = str(generated["path"])
    path = config.root / relative
    removed = False
    if path.exists():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != generated["sha256"]:
            raise SquashUndoRefused(
                f"{relative} was changed since it was generated (sha256 {digest[:12]}…, "
                f"generated {str(generated['sha256'])[:12]}…): it is not removed",
                "keep your edits elsewhere and delete the file yourself, or restore it from git",
            )
        path.unlink()
        fsync_path(path.parent)
        removed = True
    users = []
    for name, other in journals.items():
        last = other.last(events.SQUASH_GENERATED)
        if last and str(last["path"]) == relative and _phase(other, "squash").status != protocol.ROLLED_BACK:
            other.append(events.SQUASH_ROLLED_BACK, path=relative, sha256=generated["sha256"], removed=removed)
            users.append(name)
    return SquashUndo(relative, removed=removed, targets=users)


def set_aside(config: Config, target: str, path: Path) -> Path:
    """Move a baseline that failed its proof out of the migrations folder, into the target's state; return where."""
    folder = private_dir(config.state_dir / target / "rejected")
    destination = folder / path.name
    os.replace(path, destination)
    fsync_path(path.parent)
    return destination
