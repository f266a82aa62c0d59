"""The wizard's steps and the engine calls behind them, shared by the Textual app and ``--plain``.

Nothing here imports Textual or questionary: each function opens what it needs, calls the
engine (the same functions the headless commands call), journals the evidence the engine
leaves to its caller, and returns the engine's result. Progress goes to plain callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg

from wizard.checklist import items as checklist
from wizard.db.connect import Identity, identity, open_session
from wizard.platform import shadow as shadow_mod
from wizard.project import config as config_mod
from wizard.project.config import Target
from wizard.state import events, protocol, targets
from wizard.state.gates import GateResult

if TYPE_CHECKING:  # the engine's heavy modules (pglast, catalog) load when a step first runs
    from wizard.archive.phase import ArchivePlan, ArchiveResult
    from wizard.backup.restore import RestoreOutcome, RestorePlan
    from wizard.backup.take import BackupProgress
    from wizard.backup.verify import Verification, VerifyProgress
    from wizard.history.files import MigrationSet
    from wizard.history.remote import History
    from wizard.inspect import drift
    from wizard.inspect.inventory import Inventory
    from wizard.record.phase import RecordOutcome, RecordPlan
    from wizard.rollback.procedures import RollbackOption
    from wizard.squash.phase import SquashOutcome
    from wizard.squash.undo import SquashUndo
    from wizard.validate.phase import ValidationResult

from .context import WizardContext

Say = Callable[[str], None]


def target_dsn(ctx: WizardContext, target: Target | None = None) -> str:
    """The connection string of ``target`` (the chosen one by default); never shown."""
    return config_mod.resolve_dsn((target or ctx.chosen).source, shadow_mod.embedded_dsn(ctx.config))


@contextmanager
def session(ctx: WizardContext, target: Target | None = None) -> Iterator[tuple[psycopg.Connection, Identity]]:
    """A read-only session on the target and its identity; closed afterwards.

    Raises:
        ConfigError: the target points at another target's database (:mod:`wizard.state.targets`).
    """
    chosen = target or ctx.chosen
    targets.check_static(ctx.config, chosen)
    conn = open_session(target_dsn(ctx, chosen), read_only=True)
    try:
        ident = identity(conn)
        targets.check_live(ctx.config, chosen, ident)
        yield conn, ident
    finally:
        conn.close()


def shadow(ctx: WizardContext) -> shadow_mod.Shadow:
    """The project's shadow server (started on demand)."""
    return shadow_mod.for_config(ctx.config)


def mirrored(
    ctx: WizardContext, conn: psycopg.Connection, *, starting_privileges: bool = True, early: bool = False
) -> shadow_mod.Shadow:
    """The shadow server, its scratch databases starting as the chosen target's platform layer.

    ``early``: the caller creates a scratch database at once; it is cloned while the platform is read.
    """
    from wizard.history import files as migrations

    folder = migrations.discover(ctx.config.migrations_dir)
    return shadow_mod.for_target(
        ctx.config,
        conn,
        target_dsn(ctx),
        ctx.chosen.name,
        folder.statement_texts(),
        starting_privileges=starting_privileges,
        early=early,
    )


@dataclass(frozen=True)
class Step:
    """One step of the wizard: a screen, and the protocol phase whose state it shows (if any)."""

    key: str
    title: str
    phase: str | None


STEPS: tuple[Step, ...] = (
    Step("target", "Target", None),
    Step("checklist", "Pre-flight", None),
    Step("backup", "Backup", "backup"),
    Step("inspect", "1 Export & check", "inspect"),
    Step("squash", "2 Baseline", "squash"),
    Step("archive", "3 Archive", "archive"),
    Step("record", "4 Record", "record"),
    Step("validate", "Validate & report", "validate"),
)
STEP_KEYS = tuple(s.key for s in STEPS)
BY_KEY = {s.key: s for s in STEPS}


def step_states(ctx: WizardContext) -> dict[str, str]:
    """Each step's state: the protocol's phase states, plus target and pre-flight."""
    out = {"target": protocol.DONE if ctx.target else protocol.PENDING}
    if ctx.target is None:
        return out | {s.key: protocol.PENDING for s in STEPS[1:]}
    journal = ctx.the_journal
    out["checklist"] = protocol.DONE if checklist.human_complete(journal) else protocol.PENDING
    phases = {p.key: p.status for p in protocol.states(journal)}
    for step in STEPS:
        if step.phase:
            out[step.key] = phases[step.phase]
    return out


def resume_step(ctx: WizardContext) -> str:
    """Where a (re)started wizard continues for the chosen target: what the journal says is next."""
    if ctx.target is None:
        return "target"
    journal = ctx.the_journal
    following = protocol.next_phase(journal)
    if following is None:
        return "validate"
    if following.key == "backup" and not checklist.human_complete(journal):
        return "checklist"
    return following.key


def reachable(ctx: WizardContext, key: str) -> bool:
    """Steps up to where the journal says the protocol stands can be visited; later ones cannot."""
    return STEP_KEYS.index(key) <= STEP_KEYS.index(resume_step(ctx))


def neighbour(key: str, offset: int) -> str | None:
    """The step before (-1) or after (+1) ``key``."""
    index = STEP_KEYS.index(key) + offset
    return STEP_KEYS[index] if 0 <= index < len(STEP_KEYS) else None


# --- target ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInfo:
    """What the target screen shows about one target."""

    target: Target
    identity: Identity | None
    error: str | None
    rehearsal: GateResult | None
    resume: str


def target_info(ctx: WizardContext, target: Target) -> TargetInfo:
    """Connect read-only to ``target``: its identity, the rehearsal gate (production), where it resumes."""
    from wizard.errors import WizardError

    try:
        with session(ctx, target) as (_conn, ident):
            pass
        error = None
    except WizardError as exc:
        ident, error = None, f"{exc.message}" + (f" (fix: {exc.fix})" if exc.fix else "")
    rehearsal = protocol.STAGING_REHEARSAL(ctx.config) if target.is_production else None
    return TargetInfo(target, ident, error, rehearsal, resume_step(ctx.with_target(target)))


def target_gate(info: TargetInfo) -> GateResult:
    """Whether the wizard may go on with this target: reachable, and production only after a rehearsal."""
    from wizard.state.gates import failed, passed

    if info.identity is None:
        return failed("target-reachable", info.error or "the target could not be reached")
    if info.rehearsal is not None:
        return info.rehearsal
    return passed("target", f"{info.target.role} target {info.target.name} is reachable")


# --- pre-flight ------------------------------------------------------------------------------


def preflight(
    ctx: WizardContext,
    on_result: Callable[[checklist.ItemResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[checklist.ItemResult]:
    """Run every machine check live and read the human ticks; returns all item results."""
    from wizard.errors import WizardError

    try:
        with session(ctx) as (conn, _ident):
            machine = checklist.run_machine_checks(ctx.config, conn, on_result, cancel)
    except WizardError:
        machine = checklist.run_machine_checks(ctx.config, None, on_result, cancel)
    return sorted([*machine, *checklist.human_results(ctx.the_journal)], key=lambda r: checklist.ITEMS.index(r.item))


# --- backup ----------------------------------------------------------------------------------


def backup_gate_now(ctx: WizardContext) -> GateResult:
    """The verified-backup gate for the chosen target, evaluated now."""
    from wizard.backup import gate as backup_gate

    with session(ctx) as (conn, ident):
        return backup_gate.evaluate(ctx.config, ctx.chosen, conn, ident)


def take_and_verify(
    ctx: WizardContext,
    on_backup: Callable[[BackupProgress], None] | None = None,
    on_verify: Callable[[VerifyProgress], None] | None = None,
    cancel: threading.Event | None = None,
    say: Say | None = None,
) -> tuple[Verification, GateResult]:
    """``pg_dump`` the target, verify the dump (list, checksum, restore, match), evaluate the gate."""
    from wizard.backup import take_backup

    say = say or (lambda _m: None)
    with session(ctx) as (conn, ident):
        say(f"pg_dump of {ident.database} started")
        record = take_backup(ctx.config, ctx.chosen, conn, ident, ctx.the_journal, on_backup, cancel)
        say(f"backup written: {record.path} ({record.size} bytes, sha256 {record.sha256[:12]}…)")
    return verify_only(ctx, on_verify, cancel, say)


def verify_steps() -> tuple[str, ...]:
    """The steps of a backup verification, in order."""
    from wizard.backup.verify import STEPS

    return STEPS


def verify_only(
    ctx: WizardContext,
    on_verify: Callable[[VerifyProgress], None] | None = None,
    cancel: threading.Event | None = None,
    say: Say | None = None,
) -> tuple[Verification, GateResult]:
    """Verify the newest backup and evaluate the gate."""
    from wizard.backup import verify_backup

    say = say or (lambda _m: None)
    say("verifying the backup: pg_restore --list, sha256, restore into a scratch database, compare")
    result = verify_backup(ctx.config, ctx.chosen, ctx.the_journal, shadow(ctx), None, on_verify, cancel)
    say(f"verification {'passed' if result.passed else 'FAILED'}: {result.reason}")
    gate = backup_gate_now(ctx)
    say(f"gate {gate.name}: {'holds' if gate.passed else 'fails'}: {gate.reason}")
    return result, gate


# --- Phase 1 ---------------------------------------------------------------------------------


@dataclass
class Phase1Result:
    """Phase 1's findings: the inventory, the migration files, the remote history, the drift.

    ``against``: set when the folder held only the baseline (another target's Phase 3 archived
    the old files), so the drift compares the target with the baseline, not with the old history.
    """

    inventory: Inventory
    mset: MigrationSet | None
    files_error: str | None
    history: History | None
    history_error: str | None
    drift: drift.DriftReport | None = None
    drift_error: str | None = None
    notes: list[str] = field(default_factory=list)
    against: dict | None = None
    headline: dict[str, int] = field(default_factory=dict)
    """The seven headline counts, measured once in the worker (a count walks the whole catalog)."""


def headline_counts(inv: Inventory) -> dict[str, int]:
    """The inventory's seven headline counts (one pass over the catalog)."""
    from wizard.inspect.inventory import HEADLINE

    counts = inv.counts
    return {k: counts[k] for k in HEADLINE}


def run_inventory(
    ctx: WizardContext,
    on_kind: Say | None = None,
    on_counts: Callable[[dict[str, int | None]], None] | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[Inventory, Identity]:
    """The target's inventory, as :func:`wizard.inspect.inventory.take` measures it, reported as it goes.

    ``on_counts`` receives the schema counts as soon as the catalog is read (rows still
    ``None``), then again with the rows once every table is counted.
    """
    from wizard.catalog import snapshot
    from wizard.inspect import inventory
    from wizard.inspect.inventory import Inventory

    with session(ctx) as (conn, ident):
        snap = snapshot(conn, on_kind)
        partial = Inventory(snap, {}, ident).counts
        if on_counts:
            on_counts({k: partial[k] for k in inventory.HEADLINE if k != "rows"} | {"rows": None})
        rows = inventory.count_rows(conn, snap, (lambda _t, i, n: on_rows(i, n)) if on_rows else None, cancel)
        inv = Inventory(snap, rows, ident)
    if on_counts:
        on_counts(dict(headline_counts(inv)))
    return inv, ident


def replayed_baseline(ctx: WizardContext, mset: MigrationSet) -> dict | None:
    """When the folder holds the baseline of the shared archive (its old files archived), what it is.

    Another target's Phase 3 moved the superseded files to the archive folder, so the drift check
    replays the baseline alone: it compares the target with the baseline, not with the old history.
    """
    import json

    from wizard.archive.phase import MANIFEST_JSON

    manifest = ctx.config.archive_dir / MANIFEST_JSON
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        path, files = str(data["baseline"]["file"]), list(data["files"])
    except (ValueError, KeyError, TypeError):
        return None
    here = {f.filename for f in mset.files}
    if path.rsplit("/", 1)[-1] not in here or any(f.get("name") in here for f in files):
        return None
    return {"baseline": path, "archived": len(files)}


def run_inspect(
    ctx: WizardContext,
    on_kind: Say | None = None,
    on_counts: Callable[[dict[str, int | None]], None] | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    say: Say | None = None,
) -> Phase1Result:
    """Inventory, migration files, remote history, then drift; journals ``inspect.done`` and ``drift.checked``.

    Both are journaled once the drift check is over: cancelled (``x``) at any point, Phase 1
    journals nothing and raises :class:`~wizard.inspect.inventory.Cancelled`.
    """
    from wizard.errors import MigrationFileError, MissingHistoryTable
    from wizard.history import files as migrations
    from wizard.history import remote as history_mod
    from wizard.inspect import drift, inventory

    say = say or (lambda _m: None)
    say("Phase 1: reading the target's catalog")
    inv, ident = run_inventory(ctx, on_kind, on_counts, on_rows, cancel)
    try:
        mset, files_error = migrations.discover(ctx.config.migrations_dir), None
    except MigrationFileError as exc:
        mset, files_error = None, exc.message
    with session(ctx) as (conn, _ident):
        try:
            hist, history_error = history_mod.read(conn, mset.versions if mset else None), None
        except MissingHistoryTable as exc:
            hist, history_error = None, exc.message
        result = Phase1Result(inv, mset, files_error, hist, history_error, headline=headline_counts(inv))
        if mset is None:
            result.drift_error = files_error
        else:
            result.against = replayed_baseline(ctx, mset)
            if result.against:
                say(
                    f"drift: the folder holds the baseline {result.against['baseline']} "
                    f"({result.against['archived']} old file(s) archived): comparing the target with the baseline"
                )
            say(f"drift: replaying {len(mset.files)} migration file(s) in a scratch database")
            try:
                result.drift = drift.check(conn, mset, mirrored(ctx, conn, early=True), say, cancel)
            except MigrationFileError as exc:
                result.drift_error = str(exc)  # with its fix
        if result.drift is not None and result.drift.replay.cancelled:
            raise inventory.Cancelled(
                "Phase 1 cancelled during the drift check; nothing was recorded", "run Phase 1 again (g)"
            )
        inventory.record(ctx.the_journal, ident, inv, mset, hist)
        say(f"inventory journaled: {', '.join(f'{k} {inv.counts[k]}' for k in inventory.HEADLINE)}")
    report = result.drift
    if report is None:
        return result
    record_drift(ctx, ident, report, result.against)
    found = len(report.parity.differences) if report.parity else 0
    history = "the baseline" if result.against else "the history"
    say(
        f"drift: {history} builds the target exactly"
        if report.clean
        else f"drift: {found} difference(s) between the target and {history}"
        if report.parity
        else f"drift: the history does not replay: {report.replay.failure.describe() if report.replay.failure else ''}"
    )
    return result


def record_drift(ctx: WizardContext, ident: Identity, report: drift.DriftReport, against: dict | None = None) -> None:
    """Journal ``drift.checked`` (the engine's record, as ``consolidate drift`` writes it)."""
    from wizard.inspect import drift as drift_mod

    drift_mod.record(ctx.the_journal, ident, report, against)


def phase_done(ctx: WizardContext, key: str) -> GateResult:
    """Gate for the Next button of a phase screen: the phase is done in the journal."""
    from wizard.state.gates import failed, passed

    state = next(s for s in protocol.states(ctx.the_journal) if s.key == key)
    if state.status == protocol.DONE:
        return passed(f"{key}-done", state.reason)
    if state.status == protocol.PENDING:
        return failed(f"{key}-done", "not done yet: run this step (g)")
    reason = state.reason if state.reason.startswith(state.status) else f"{state.status}: {state.reason}"
    return failed(f"{key}-done", reason)


# --- Phase 2 ---------------------------------------------------------------------------------


def run_squash(ctx: WizardContext, cancel: threading.Event | None = None, say: Say | None = None) -> SquashOutcome:
    """Generate the baseline from the target and prove it (:func:`wizard.squash.squash`)."""
    from wizard.squash import squash

    with session(ctx) as (conn, ident):
        return squash(
            ctx.config,
            ctx.chosen,
            conn,
            target_dsn(ctx),
            ident,
            mirrored(ctx, conn, starting_privileges=False),
            progress=say,
            cancel=cancel,
        )


@dataclass(frozen=True)
class SquashView:
    """What the Phase 2 screen shows, read back from the journal (so a resumed wizard shows it too)."""

    path: str
    version: str
    text: str
    kinds: dict[str, str]
    proved: bool | None
    reason: str
    history_seconds: float | None
    baseline_seconds: float | None
    history_files: int | None
    speedup: float | None
    differences: list[dict]
    adopted_from: str | None = None  # the target the baseline was generated from, when this one adopted it
    fresh: dict | None = None  # the second proof: fresh environments from the old history and the new folder
    to_set: tuple[str, ...] = ()  # secrets the baseline holds as placeholders: the operator sets them


def squash_view(ctx: WizardContext) -> SquashView | None:
    """The current baseline and its latest proof, from the journal and the file on disk."""
    from wizard.archive import phase as archive

    baseline = archive.current_baseline(ctx.the_journal)
    if baseline is None:
        return None
    path = baseline.file(ctx.config.root)
    text = path.read_text(encoding="utf-8") if path.is_file() else f"-- {baseline.path} no longer exists\n"
    proof = archive.proof_of(ctx.the_journal, baseline) or {}
    prov = proof.get("provisioning") or {}
    generated = ctx.the_journal.last(events.SQUASH_GENERATED) or {}
    redactions = generated.get("redactions") or {}
    to_set = [f"vault secret {name}" for name in redactions.get("vault_secrets") or []]
    to_set += [f"{r['placeholder']} ({r['kind']} in {r['where']})" for r in redactions.get("replaced") or []]
    return SquashView(
        path=baseline.path,
        version=baseline.version,
        text=text,
        kinds=dict(proof.get("kinds") or {}),
        proved=None if not proof else proof.get("event") == events.SQUASH_PROVED,
        reason=proof.get("reason") or "",
        history_seconds=(prov.get("history") or {}).get("seconds"),
        baseline_seconds=(prov.get("baseline") or {}).get("seconds"),
        history_files=(prov.get("history") or {}).get("files"),
        speedup=prov.get("speedup"),
        differences=list(proof.get("differences") or []),
        adopted_from=generated.get("adopted_from"),
        fresh=proof.get("fresh"),
        to_set=tuple(to_set),
    )


# --- Phase 3 ---------------------------------------------------------------------------------


def archive_plan(ctx: WizardContext) -> ArchivePlan:
    """What Phase 3 will move (:func:`wizard.archive.phase.plan_archive`), with the versions applied on the target."""
    from wizard.archive import phase as archive

    with session(ctx) as (conn, _ident):
        applied = archive.applied_versions(conn)
    return archive.plan_archive(ctx.config, ctx.the_journal, applied)


@dataclass(frozen=True)
class ArchiveView:
    """Phase 3 for the chosen target: the plan, whether its journal records it, who archived the files.

    ``archived_by``: the other target whose Phase 3 already moved every file (the archive folder is
    shared); this target's Phase 3 then only records that evidence, as ``consolidate archive`` does.
    """

    plan: ArchivePlan
    done: bool
    archived_by: str | None = None

    @property
    def evidence_only(self) -> bool:
        """Every file is already archived and the plan holds, but this target's journal does not say so yet."""
        return not self.done and not self.plan.problems and bool(self.plan.items) and not self.plan.pending


def archive_view(ctx: WizardContext) -> ArchiveView:
    """:func:`archive_plan`, with this target's Phase 3 state and the target that already archived the files."""
    from wizard.archive import phase as archive
    from wizard.state.journal import Journal

    plan = archive_plan(ctx)
    state = archive.phase(ctx.the_journal, "archive")
    done = state.status == protocol.DONE
    moved_here = done and bool(state.record and state.record.get("moved_now"))
    by = None
    if not plan.pending and not moved_here:  # the target that moved the files archived them itself
        for name in sorted(ctx.config.targets):
            if name == ctx.chosen.name:
                continue
            other = archive.phase(Journal.for_target(ctx.config.state_dir, name), "archive")
            if (
                other.status == protocol.DONE
                and other.record
                and other.record.get("baseline") == plan.baseline.to_dict()
            ):
                by = name
                break
    return ArchiveView(plan, done, by)


def run_archive(ctx: WizardContext, say: Say | None = None) -> tuple[ArchivePlan, ArchiveResult]:
    """Plan and archive (:func:`wizard.archive.phase.archive`); returns the plan and the result.

    When another target's Phase 3 already moved every file, the same call moves nothing and
    journals ``archive.done`` for this target: the evidence that the shared archive is done.
    """
    from wizard.archive import phase as archive

    plan = archive_plan(ctx)
    return plan, archive.archive(plan, ctx.the_journal, say)


# --- Phase 4 ---------------------------------------------------------------------------------


@dataclass
class RecordView:
    """Phase 4 before the write: the plan, every gate with its reason, the exact SQL."""

    plan: RecordPlan
    gates: list[GateResult]
    database: str

    @property
    def ready(self) -> bool:
        """Every gate holds except the typed confirmation, which the modal supplies."""
        plan = self.plan
        return (
            not plan.problems
            and plan.state == "ready"
            and all(g.passed for g in self.gates if g.name != "confirmed-name")
        )


def record_view(ctx: WizardContext, confirm: str | None = None) -> RecordView:
    """Plan Phase 4 and evaluate its gates (:func:`wizard.record.gates.evaluate_record_gates`)."""
    from wizard import record
    from wizard.record.gates import evaluate_record_gates

    with session(ctx) as (conn, ident):
        plan = record.plan_record(ctx.config, ctx.chosen, conn, ident, ctx.the_journal)
        gates = evaluate_record_gates(ctx.config, ctx.chosen, conn, ident, confirm)
    if confirm is None:
        gates = [confirmation_gate(ctx, ident.database) if g.name == "confirmed-name" else g for g in gates]
    return RecordView(plan, gates, ident.database)


def confirmation_gate(ctx: WizardContext, database: str) -> GateResult:
    """The ``confirmed-name`` gate in the wizard's words: the name is typed in a modal, not passed as ``--confirm``.

    Once Phase 4 is done, the name typed before its commit (journaled with its gates) is what it shows.
    """
    from wizard.archive import phase as archive
    from wizard.state.gates import failed, passed

    state = archive.phase(ctx.the_journal, "record")
    if state.status == protocol.DONE and state.record:
        typed = next((g for g in state.record.get("gates") or [] if g.get("name") == "confirmed-name"), None)
        if typed and typed.get("passed"):
            return passed(
                "confirmed-name", f"the database name {database} was typed before the commit ({state.record.get('ts')})"
            )
    return failed("confirmed-name", f"type the database name {database} when you record (g)")


def run_record(ctx: WizardContext, typed_name: str, say: Say | None = None) -> RecordOutcome:
    """Re-plan, re-evaluate every gate with the typed name, commit (:func:`wizard.record.phase.commit_record`)."""
    from wizard import record
    from wizard.inspect import inventory
    from wizard.record.gates import evaluate_record_gates

    say = say or (lambda _m: None)
    with session(ctx) as (conn, ident):
        plan = record.plan_record(ctx.config, ctx.chosen, conn, ident, ctx.the_journal)
        if plan.state == record.RECORDED and not plan.problems:
            return record.resume_recorded(plan, target_dsn(ctx), ctx.the_journal)
        before = inventory.take(conn, ident)
        gates = evaluate_record_gates(ctx.config, ctx.chosen, conn, ident, typed_name, before.snapshot.fingerprint())
        say("Phase 4: running the transaction: " + ", ".join(f"{g.name} {'✔' if g.passed else '✘'}" for g in gates))
        return record.commit_record(plan, target_dsn(ctx), ctx.the_journal, before, gates)


# --- validation and report -------------------------------------------------------------------


def run_validation(
    ctx: WizardContext, cancel: threading.Event | None = None, say: Say | None = None
) -> ValidationResult:
    """Post-execution validation (:func:`wizard.validate.phase.run_validation`), journaled by the engine."""
    from wizard.validate import phase as validate

    with session(ctx) as (conn, ident):
        return validate.run_validation(
            ctx.config, ctx.chosen, conn, ident, mirrored(ctx, conn), ctx.the_journal, progress=say, cancel=cancel
        )


def write_report(ctx: WizardContext) -> tuple[str, str]:
    """Build the report from the journal, save it, journal ``report.written``; returns (path shown, Markdown)."""
    from wizard import report

    _built, text, _path, record = report.save(ctx.config, ctx.chosen)
    return record["path"], text


# --- rollbacks -------------------------------------------------------------------------


def rollback_options(ctx: WizardContext) -> list[RollbackOption]:
    """The seed's rollback procedures for the chosen target, each saying whether it applies now."""
    from wizard.rollback import procedures

    return procedures.options(ctx.config, ctx.chosen, ctx.the_journal)


def undo_archive(ctx: WizardContext, say: Say | None = None) -> ArchiveResult:
    """Undo Phase 3: every archived file back in the migrations folder, sha256 checked."""
    from wizard.rollback import procedures

    return procedures.undo_archive(ctx.config, ctx.the_journal, say or ctx.log.add)


def undo_squash(ctx: WizardContext) -> SquashUndo:
    """Undo Phase 2: the baseline file leaves the migrations folder, sha256 checked."""
    from wizard.rollback import procedures

    return procedures.undo_squash(ctx.config, ctx.the_journal)


def record_rollback_sql(ctx: WizardContext) -> tuple[str, str]:
    """The transaction that would undo Phase 4, and the database name the operator must type."""
    from wizard.rollback import procedures

    with session(ctx) as (conn, ident):
        return procedures.rollback_sql(ctx.config, ctx.chosen, conn, ident, ctx.the_journal), ident.database


def undo_record(ctx: WizardContext, typed: str) -> RecordOutcome:
    """Undo Phase 4: one transaction on the target, after the operator typed its name."""
    from wizard.rollback import procedures

    with session(ctx) as (conn, ident):
        return procedures.undo_record(ctx.config, ctx.chosen, conn, ident, ctx.the_journal, target_dsn(ctx), typed)


def restore_plan(ctx: WizardContext, runs: bool) -> tuple[RestorePlan, str | None]:
    """The disaster-recovery plan, and the database name to type when the tool may run it."""
    from wizard.rollback import procedures

    plan = procedures.restore_plan(ctx.config, ctx.the_journal, target_dsn(ctx))
    if not runs:
        return plan, None
    with session(ctx) as (_conn, ident):
        return plan, ident.database


def run_restore(ctx: WizardContext, plan: RestorePlan, typed: str) -> RestoreOutcome:
    """Restore the verified backup into the (staging) target, after the operator typed its name."""
    from wizard.backup import restore

    with session(ctx) as (_conn, ident):
        pass

    def log(line: str) -> None:
        ctx.log.add(line)

    return restore.run_restore(plan, ctx.chosen, target_dsn(ctx), ident, typed, ctx.the_journal, log)
