"""The wizard's steps and the engine calls behind them, shared by the Textual app and ``--plain``.

Nothing here imports Textual or questionary: each function opens what it needs, calls the
engine (the same functions the headless commands call), journals the evidence the engine
leaves to its caller, and returns the engine's result. Progress goes to plain callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wizard import checklist, events, protocol
from wizard.config import Target
from wizard.connect import Identity
from wizard.gates import GateResult

if TYPE_CHECKING:  # the engine's heavy modules (pglast, catalog) load when a step first runs
    from wizard import drift
    from wizard.backup.take import BackupProgress
    from wizard.backup.verify import Verification, VerifyProgress
    from wizard.history import History
    from wizard.inventory import Inventory
    from wizard.migrations import MigrationSet

from .context import WizardContext

Say = Callable[[str], None]


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
        with ctx.session(target) as (_conn, ident):
            pass
        error = None
    except WizardError as exc:
        ident, error = None, f"{exc.message}" + (f" (fix: {exc.fix})" if exc.fix else "")
    rehearsal = protocol.STAGING_REHEARSAL(ctx.config) if target.is_production else None
    return TargetInfo(target, ident, error, rehearsal, resume_step(ctx.with_target(target)))


def target_gate(info: TargetInfo) -> GateResult:
    """Whether the wizard may go on with this target: reachable, and production only after a rehearsal."""
    from wizard.gates import failed, passed

    if info.identity is None:
        return failed("target-reachable", info.error or "the target could not be reached")
    if info.rehearsal is not None:
        return info.rehearsal
    return passed("target", f"{info.target.role} target {info.target.name} is reachable")


# --- pre-flight ------------------------------------------------------------------------------


def preflight(
    ctx: WizardContext, on_result: Callable[[checklist.ItemResult], None] | None = None, cancel=None
) -> list[checklist.ItemResult]:
    """Run every machine check live and read the human ticks; returns all item results."""
    from wizard.errors import WizardError

    try:
        with ctx.session() as (conn, _ident):
            machine = checklist.run_machine_checks(ctx.config, conn, on_result, cancel)
    except WizardError:
        machine = checklist.run_machine_checks(ctx.config, None, on_result, cancel)
    return sorted([*machine, *checklist.human_results(ctx.the_journal)], key=lambda r: checklist.ITEMS.index(r.item))


# --- backup ----------------------------------------------------------------------------------


def backup_gate_now(ctx: WizardContext) -> GateResult:
    """The verified-backup gate for the chosen target, evaluated now."""
    from wizard.backup import gate as backup_gate

    with ctx.session() as (conn, ident):
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
    with ctx.session() as (conn, ident):
        say(f"pg_dump of {ident.database} started")
        record = take_backup(ctx.config, ctx.chosen, conn, ident, ctx.the_journal, on_backup, cancel)
        say(f"backup written: {record.path} ({record.size} bytes, sha256 {record.sha256[:12]}…)")
    return verify_only(ctx, on_verify, cancel, say)


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
    result = verify_backup(ctx.config, ctx.chosen, ctx.the_journal, ctx.shadow(), None, on_verify, cancel)
    say(f"verification {'passed' if result.passed else 'FAILED'}: {result.reason}")
    gate = backup_gate_now(ctx)
    say(f"gate {gate.name}: {'holds' if gate.passed else 'fails'}: {gate.reason}")
    return result, gate


# --- Phase 1 ---------------------------------------------------------------------------------


@dataclass
class Phase1Result:
    """Phase 1's findings: the inventory, the migration files, the remote history, the drift."""

    inventory: Inventory
    mset: MigrationSet | None
    files_error: str | None
    history: History | None
    history_error: str | None
    drift: drift.DriftReport | None = None
    drift_error: str | None = None
    notes: list[str] = field(default_factory=list)


def run_inventory(
    ctx: WizardContext,
    on_kind: Say | None = None,
    on_counts: Callable[[dict[str, int | None]], None] | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[Inventory, Identity]:
    """The target's inventory, as :func:`wizard.inventory.take` measures it, reported as it goes.

    ``on_counts`` receives the schema counts as soon as the catalog is read (rows still
    ``None``), then again with the rows once every table is counted.
    """
    from wizard import inventory
    from wizard.catalog import snapshot
    from wizard.inventory import Inventory

    with ctx.session() as (conn, ident):
        snap = snapshot(conn, on_kind)
        partial = Inventory(snap, {}, ident).counts
        if on_counts:
            on_counts({k: partial[k] for k in inventory.HEADLINE if k != "rows"} | {"rows": None})
        rows = inventory.count_rows(conn, snap, (lambda _t, i, n: on_rows(i, n)) if on_rows else None, cancel)
        inv = Inventory(snap, rows, ident)
    if on_counts:
        on_counts({k: inv.counts[k] for k in inventory.HEADLINE})
    return inv, ident


def run_phase1(
    ctx: WizardContext,
    on_kind: Say | None = None,
    on_counts: Callable[[dict[str, int | None]], None] | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    say: Say | None = None,
) -> Phase1Result:
    """Inventory, migration files, remote history, then drift; journals ``inspect.done`` and ``drift.checked``."""
    from wizard import drift, inventory, migrations
    from wizard import history as history_mod
    from wizard.errors import MigrationFileError, MissingHistoryTable

    say = say or (lambda _m: None)
    say("Phase 1: reading the target's catalog")
    inv, ident = run_inventory(ctx, on_kind, on_counts, on_rows, cancel)
    try:
        mset, files_error = migrations.discover(ctx.config.migrations_dir), None
    except MigrationFileError as exc:
        mset, files_error = None, exc.message
    with ctx.session() as (conn, _ident):
        try:
            hist, history_error = history_mod.read(conn, mset.versions if mset else None), None
        except MissingHistoryTable as exc:
            hist, history_error = None, exc.message
        inventory.record(ctx.the_journal, ident, inv, mset, hist)
        say(f"inventory journaled: {', '.join(f'{k} {inv.counts[k]}' for k in inventory.HEADLINE)}")
        result = Phase1Result(inv, mset, files_error, hist, history_error)
        if mset is None:
            result.drift_error = files_error
            return result
        say(f"drift: replaying {len(mset.files)} migration file(s) in a scratch database")
        try:
            report = drift.check(conn, mset, ctx.shadow(), say, cancel)
        except MigrationFileError as exc:
            result.drift_error = str(exc)  # with its fix
            return result
    result.drift = report
    record_drift(ctx, ident, report)
    found = len(report.parity.differences) if report.parity else 0
    say(
        "drift: the history builds the target exactly"
        if report.clean
        else f"drift: {found} difference(s) between the target and its history"
        if report.parity
        else f"drift: the history does not replay: {report.replay.failure.describe() if report.replay.failure else ''}"
    )
    return result


def record_drift(ctx: WizardContext, ident: Identity, report: drift.DriftReport) -> None:
    """Journal ``drift.checked`` (the engine's record, as ``consolidate drift`` writes it)."""
    from wizard import drift as drift_mod

    drift_mod.record(ctx.the_journal, ident, report)


def phase_done(ctx: WizardContext, key: str) -> GateResult:
    """Gate for the Next button of a phase screen: the phase is done in the journal."""
    from wizard.gates import failed, passed

    state = next(s for s in protocol.states(ctx.the_journal) if s.key == key)
    if state.status == protocol.DONE:
        return passed(f"{key}-done", f"{state.title}: {state.reason}")
    if state.status == protocol.PENDING:
        return failed(f"{key}-done", "not done yet: run this step (g)")
    return failed(f"{key}-done", f"{state.status}: {state.reason}")


# --- Phase 2 ---------------------------------------------------------------------------------


def run_squash(ctx: WizardContext, cancel: threading.Event | None = None, say: Say | None = None):
    """Generate the baseline from the target and prove it (:func:`wizard.squash.squash`)."""
    from wizard.squash import squash

    with ctx.session() as (conn, ident):
        return squash(ctx.config, ctx.chosen, conn, ctx.dsn(), ident, ctx.shadow(), progress=say, cancel=cancel)


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


def squash_view(ctx: WizardContext) -> SquashView | None:
    """The current baseline and its latest proof, from the journal and the file on disk."""
    from wizard import archive

    baseline = archive.current_baseline(ctx.the_journal)
    if baseline is None:
        return None
    path = baseline.file(ctx.config.root)
    text = path.read_text(encoding="utf-8") if path.is_file() else f"-- {baseline.path} no longer exists\n"
    proof = archive.proof_of(ctx.the_journal, baseline) or {}
    prov = proof.get("provisioning") or {}
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
    )


# --- Phase 3 ---------------------------------------------------------------------------------


def archive_plan(ctx: WizardContext):
    """What Phase 3 will move (:func:`wizard.archive.plan_archive`), with the versions applied on the target."""
    from wizard import archive

    with ctx.session() as (conn, _ident):
        applied = archive.applied_versions(conn)
    return archive.plan_archive(ctx.config, ctx.the_journal, applied)


def run_archive(ctx: WizardContext, say: Say | None = None):
    """Plan and archive (:func:`wizard.archive.archive`); returns the plan and the result."""
    from wizard import archive

    plan = archive_plan(ctx)
    return plan, archive.archive(plan, ctx.the_journal, say)


# --- Phase 4 ---------------------------------------------------------------------------------


@dataclass
class RecordView:
    """Phase 4 before the write: the plan, every gate with its reason, the exact SQL."""

    plan: object
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
    """Plan Phase 4 and evaluate its gates (:func:`wizard.record_gates.evaluate_record_gates`)."""
    from wizard import record
    from wizard.record_gates import evaluate_record_gates

    with ctx.session() as (conn, ident):
        plan = record.plan_record(ctx.config, ctx.chosen, conn, ident, ctx.the_journal)
        gates = evaluate_record_gates(ctx.config, ctx.chosen, conn, ident, confirm)
    return RecordView(plan, gates, ident.database)


def run_record(ctx: WizardContext, typed_name: str, say: Say | None = None):
    """Re-plan, re-evaluate every gate with the typed name, commit (:func:`wizard.record.commit_record`)."""
    from wizard import inventory, record
    from wizard.record_gates import evaluate_record_gates

    say = say or (lambda _m: None)
    with ctx.session() as (conn, ident):
        plan = record.plan_record(ctx.config, ctx.chosen, conn, ident, ctx.the_journal)
        if plan.state == record.RECORDED and not plan.problems:
            return record.resume_recorded(plan, ctx.dsn(), ctx.the_journal)
        before = inventory.take(conn, ident)
        gates = evaluate_record_gates(ctx.config, ctx.chosen, conn, ident, typed_name, before.snapshot.fingerprint())
        say("Phase 4: running the transaction: " + ", ".join(f"{g.name} {'✔' if g.passed else '✘'}" for g in gates))
        return record.commit_record(plan, ctx.dsn(), ctx.the_journal, before, gates)


# --- validation and report -------------------------------------------------------------------


def run_validation(ctx: WizardContext, cancel: threading.Event | None = None, say: Say | None = None):
    """Post-execution validation (:func:`wizard.validate.run_validation`), journaled by the engine."""
    from wizard import validate

    with ctx.session() as (conn, ident):
        return validate.run_validation(
            ctx.config, ctx.chosen, conn, ident, ctx.shadow(), ctx.the_journal, progress=say, cancel=cancel
        )


def write_report(ctx: WizardContext) -> tuple[str, str]:
    """Build the report from the journal, save it, journal ``report.written``; returns (path shown, Markdown)."""
    from wizard import report

    _built, text, _path, record = report.save(ctx.config, ctx.chosen)
    return record["path"], text
