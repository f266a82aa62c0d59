"""Phase 2 from start to finish: generate the baseline from the target, then prove it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from wizard.catalog import Snapshot, snapshot
from wizard.db.connect import Identity
from wizard.errors import MigrationFileError, MissingHistoryTable
from wizard.history import remote as history
from wizard.history.files import MigrationFile, MigrationSet, discover, load_file, skipped_version
from wizard.inspect import inventory
from wizard.platform.shadow import Shadow, default_privileges_undone
from wizard.project.config import Config, Target
from wizard.squash import baseline as baseline_mod
from wizard.squash import data as data_mod
from wizard.squash import fresh as fresh_mod
from wizard.squash import prove as prove_mod
from wizard.squash.carry import Carried, carry
from wizard.squash.secrets import Redactions
from wizard.squash.undo import set_aside
from wizard.state import events
from wizard.state.journal import Journal


@dataclass
class SquashOutcome:
    """The generated baseline, its proof, and the journal record of the proof."""

    baseline: baseline_mod.Baseline
    proof: prove_mod.Proof
    target_snapshot: Snapshot
    record: dict[str, Any]

    @property
    def proved(self) -> bool:
        return self.proof.proved


def squash(
    config: Config,
    target: Target,
    conn: psycopg.Connection,
    dsn: str,
    identity: Identity,
    shadow: Shadow,
    *,
    include_data: list[str] | None = None,
    exclude_data: list[str] | None = None,
    rounds: int = prove_mod.DEFAULT_ROUNDS,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> SquashOutcome:
    """Generate the baseline for ``target`` (read-only ``conn``) and prove it on ``shadow``, twice.

    First proof: the baseline applied to a fresh database reproduces the target. Second proof
    (:mod:`.fresh`): a fresh environment built from the new folder equals one built from the old
    history. The old history's environment is built first, and the rows and platform state it
    made are carried into the baseline (``exclude_data`` and ``project.exclude_data`` leave
    tables out; ``include_data`` takes a table's rows from the target instead).

    Journals ``squash.generated``, then ``squash.proved`` or ``squash.proof_failed``. Each step
    is idempotent: run again after a crash, it keeps the same file and proves it again.

    Raises:
        MigrationFileError: a migration file cannot be parsed, or two share a version.
        WizardError: the target could not be dumped, or the proof could not run (see
            :func:`wizard.squash.baseline.generate` and :func:`wizard.squash.prove.prove`).
    """
    say = progress or (lambda _msg: None)
    data_mod.refuse_secrets(include_data or [])
    from_target = [qualify(t) for t in include_data or []]
    excluded = sorted({qualify(t) for t in [*config.exclude_data, *(exclude_data or [])]})
    mset = discover(config.migrations_dir)
    if mset.errors:
        raise MigrationFileError(mset.errors[0], "fix the file, then run squash again")
    if mset.duplicates:
        version, names = next(iter(mset.duplicates.items()))
        raise MigrationFileError(
            f"two migration files share version {version}: {', '.join(names)}", "rename one of them to a later version"
        )
    say("reading the target schema")
    snap = snapshot(conn)
    journal = Journal.for_target(config.state_dir, target.name)
    superseded, previous = baseline_mod.split_files(mset)
    if not superseded and not previous:
        raise baseline_mod.NothingToConsolidate(
            f"the migrations folder {mset.directory} holds no file to consolidate",
            "set project.migrations_dir in consolidate.toml to the folder that holds the migrations",
        )
    ensure_phase1(journal, conn, identity, snap, mset, say)
    skipped = applied_skipped(conn, mset.skipped_sql or archived_skipped(config))
    existing = previous[-1] if previous else None
    made_for = baseline_mod.generated_for(existing.path) if existing else None
    history_files = superseded or archived_files(config)
    with fresh_mod.history_environment(
        history_shadow(shadow, history_files), shadow, history_files, say, cancel
    ) as old_env:
        if existing is not None and (not superseded or made_for != target.name):
            # One baseline per project: made from the rehearsal target, adopted by the next one if it proves there.
            say(f"proving the existing baseline {existing.filename} against {target.name}")
            proof = prove_mod.prove(
                existing.path, snap, history_files, shadow, rounds=rounds, progress=say, cancel=cancel
            )
            if proof.matches_target:
                proof.fresh = fresh_mod.prove_fresh(
                    old_env,
                    existing.path,
                    shadow,
                    snap,
                    excluded=excluded,
                    from_target=from_target,
                    progress=say,
                    cancel=cancel,
                )
            if proof.proved:
                made = baseline_mod.adopt(config, target, identity, snap, existing, history_files, journal, skipped)
                record = prove_mod.record(journal, proof, baseline_mod.relative(config, made.path), made.version)
                return SquashOutcome(made, proof, snap, record)
            if not superseded:
                raise baseline_mod.NothingToConsolidate(
                    f"the baseline {existing.filename} (generated from {made_for or 'another target'}) does not "
                    f"reproduce target {target.name} ({proof.reason}), and the files it replaces are archived",
                    f"roll back the archive (`consolidate rollback archive --target {made_for or 'TARGET'}`), "
                    "then squash again",
                )
            say(f"the existing baseline does not hold for {target.name} ({proof.reason}): generating one from it")

        def carried(redactions: Redactions) -> Carried:
            if old_env.dsn is None or old_env.env is None:
                return Carried()
            out = carry(
                old_env.dsn, old_env.env, old_env.written, redactions, excluded=excluded, from_target=from_target
            )
            for table in old_env.side_effects:
                out.not_carried[table] = "written by the platform's own triggers while the history ran, by no statement"
            return out

        made = baseline_mod.generate(
            config,
            target,
            conn,
            dsn,
            identity,
            snap,
            mset,
            journal,
            include_data,
            progress=say,
            cancel=cancel,
            carry=carried,
            skipped=skipped,
        )
        try:
            proof = prove_mod.prove(
                made.path,
                snap,
                made.superseded,
                shadow,
                data_rows=made.rows,
                data_statements=made.data.statements + made.carried.statements,
                rounds=rounds,
                progress=say,
                cancel=cancel,
            )
            proof.fresh = fresh_mod.prove_fresh(
                old_env,
                made.path,
                shadow,
                snap,
                excluded=excluded,
                from_target=from_target,
                progress=say,
                cancel=cancel,
            )
        except BaseException:
            if made.path.exists():
                set_aside(config, target.name, made.path)  # never proved: it must not stay where `db push` runs it
            raise
    extra = {}
    if not proof.proved and made.path.exists():
        # Nothing unproved stays in the migrations folder: the next `supabase db push` would run it.
        aside = set_aside(config, target.name, made.path)
        extra["set_aside"] = os.path.relpath(aside, config.root)
        say(f"the baseline failed its proof: moved out of the migrations folder to {extra['set_aside']}")
    record = prove_mod.record(journal, proof, baseline_mod.relative(config, made.path), made.version, **extra)
    return SquashOutcome(made, proof, snap, record)


def qualify(name: str) -> str:
    """``schema.table`` for a table named with or without its schema (``public`` by default)."""
    return "{}.{}".format(*data_mod.split_name(name))


def history_shadow(shadow: Shadow, files: list[MigrationFile]) -> Shadow:
    """``shadow`` with the default privileges the history started from (as drift replays it)."""
    if shadow.platform is None:
        return shadow
    statements = [(s.node, s.text) for f in files for s in f.statements]
    return shadow.mirroring(shadow.platform, shadow.skip, default_privileges_undone(statements))


def ensure_phase1(
    journal: Journal,
    conn: psycopg.Connection,
    identity: Identity,
    snap: Snapshot,
    mset: MigrationSet,
    say: Callable[[str], None],
) -> None:
    """Phase 2 stands on Phase 1: record its inventory first when none is on record for this schema."""
    last = journal.last(events.INSPECTED)
    if last and last.get("fingerprint") == snap.fingerprint():
        return
    say("no Phase 1 inventory on record for this schema: taking it now")
    inv = inventory.take(conn, identity)
    try:
        hist = history.read(conn, mset.versions)
    except MissingHistoryTable:
        hist = None
    inventory.record(journal, identity, inv, mset, hist)


def _manifest_files(config: Config) -> list[MigrationFile]:
    manifest = config.archive_dir / "manifest.json"
    if not manifest.is_file():
        return []
    entries = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
    paths = [config.archive_dir / e["name"] for e in entries if isinstance(e, dict) and e.get("name")]
    files = [load_file(path) for path in paths if path.is_file()]
    return sorted(files, key=lambda f: (int(f.version or 0), f.filename))


def archived_files(config: Config) -> list[MigrationFile]:
    """The superseded files as the archive manifest lists them (Phase 3 moved them out of the folder).

    Only those the Supabase CLI runs: the history they replay is the CLI's.
    """
    return [f for f in _manifest_files(config) if f.version is not None]


def archived_skipped(config: Config) -> list[MigrationFile]:
    """The files the CLI skips that Phase 3 archived with the rest (see :func:`applied_skipped`)."""
    return [f for f in _manifest_files(config) if f.version is None and skipped_version(f.filename)]


def applied_skipped(conn: psycopg.Connection, files: list[MigrationFile]) -> list[MigrationFile]:
    """The files the CLI skips whose timestamp the target's history records: another tool applied them.

    They are superseded like the rest (archived, their history rows moved); the others stay where
    they are, skipped by the CLI as before.
    """
    if not files:
        return []
    try:
        recorded = set(history.read(conn).versions)
    except MissingHistoryTable:
        return []  # no history table: nothing of theirs is recorded
    return [f for f in files if skipped_version(f.filename) in recorded]
