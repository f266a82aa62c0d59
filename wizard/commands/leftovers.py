"""Leftovers of a killed run, for ``consolidate status`` (shown) and ``consolidate status --clean`` (removed).

* orphaned client tools (pg_dump, pg_restore of a backup file of this project) whose run is gone:
  stopped (SIGTERM, then SIGKILL);
* scratch databases on the shadow server whose run is gone: dropped;
* partial backup files no running backup holds: removed;
* pending intents of a Phase 4 transaction (``record.pending.json``): shown, never removed here:
  ``consolidate record`` (or ``rollback record``) completes the journal from it or forgets it,
  once it has read the target.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.backup import files as backup_files
from wizard.db.connect import open_session
from wizard.errors import WizardError
from wizard.platform import embedded, leftovers, shadow
from wizard.platform.leftovers import Orphan, Scratch
from wizard.project.config import Config
from wizard.record import PENDING_FILE, pending_intent
from wizard.state.journal import Journal


@dataclass
class Leftovers:
    """What a killed run left behind.

    Attributes:
        unchecked: Why the scratch databases were not looked for (the shadow server is down or unreachable).
    """

    orphans: list[Orphan] = field(default_factory=list)
    scratch: list[Scratch] = field(default_factory=list)
    partials: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    admin_dsn: str | None = None
    unchecked: str | None = None

    @property
    def cleanable(self) -> bool:
        return bool(self.orphans or self.scratch or self.partials)

    def lines(self) -> list[str]:
        """One line per leftover, saying what it is and what removes it."""
        found = [f"{o.describe()}: `consolidate status --clean` stops it" for o in self.orphans]
        found += [f"{s.describe()}: `consolidate status --clean` drops it" for s in self.scratch]
        found += [f"partial backup file {p}: `consolidate status --clean` removes it" for p in self.partials]
        return found + self.pending

    def to_dict(self) -> dict[str, Any]:
        return {
            "orphaned_processes": [{"pid": o.pid, "name": o.name, "owner": o.owner} for o in self.orphans],
            "scratch_databases": [s.name for s in self.scratch],
            "partial_backups": self.partials,
            "pending_intents": self.pending,
            "scratch_not_checked": self.unchecked,
        }


def _admin_dsn(config: Config, start: bool) -> tuple[str | None, str | None]:
    """The shadow server's admin DSN, or why it is not looked at (the embedded one is not started just to look)."""
    if config.shadow is None:
        pgdata = embedded.known_root(config.state_dir / "embedded") / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            return None, None  # never created: nothing can be left in it
        if not start and not (pgdata / "postmaster.pid").exists():
            return None, "the embedded server is stopped (`consolidate status --clean` starts it to look)"
    try:
        return shadow.for_config(config).admin_dsn, None
    except WizardError as exc:
        return None, f"the shadow server is unreachable: {exc.message}"


def find(config: Config, *, start_shadow: bool = False, look_in_shadow: bool = True) -> Leftovers:
    """Every leftover of a killed run of this project (its orphaned tools: those naming a file of its state).

    Args:
        start_shadow: Start the embedded server to look for scratch databases in it.
        look_in_shadow: Look for scratch databases at all (not at the start of every command).
    """
    found = Leftovers(orphans=[o for o in leftovers.orphaned_processes() if o.mentions(config.state_dir)])
    if look_in_shadow:
        found.admin_dsn, found.unchecked = _admin_dsn(config, start_shadow)
    if found.admin_dsn is not None:
        with open_session(found.admin_dsn, read_only=False) as conn:
            found.scratch = leftovers.orphaned_scratch(conn)
    for name in config.targets:
        directory = config.state_dir / "backups" / name
        found.partials += [os.path.relpath(p, config.root) for p in backup_files.leftover_partials(directory)]
        journal = Journal(config.state_dir / name / "journal.jsonl")
        if (journal.path.parent / PENDING_FILE).exists():
            intent = pending_intent(journal) or {}
            found.pending.append(
                f"pending intent of {intent.get('event', 'a Phase 4 transaction')} {intent.get('version', '')} on "
                f"target {name} ({os.path.relpath(journal.path.parent / PENDING_FILE, config.root)}): run "
                f"`consolidate {'rollback record' if intent.get('event') == 'record.rolled_back' else 'record'} "
                f"--target {name}`, which completes the journal from it or forgets it"
            )
    return found


def clean(config: Config, found: Leftovers, say: Callable[[str], None]) -> None:
    """Stop the orphans, drop the scratch databases, remove the partial files; one line each."""
    for orphan in found.orphans:
        gone = leftovers.stop_process(orphan)
        say(f"stopped {orphan.name} (pid {orphan.pid})" if gone else f"could not stop {orphan.describe()}")
    for scratch in found.scratch:
        assert found.admin_dsn is not None
        leftovers.drop_scratch(found.admin_dsn, scratch)
        say(f"dropped scratch database {scratch.name}")
    for name in config.targets:
        directory = config.state_dir / "backups" / name
        if backup_files.leftover_partials(directory):
            with backup_files.locked(directory, "cleaning leftovers"):
                for path in backup_files.remove_stale_partials(directory):
                    say(f"removed partial backup file {os.path.relpath(path, config.root)}")
