"""``consolidate --plain``: the same protocol as the full-screen wizard, as questionary prompts and rich output.

Same steps, same engine calls (:mod:`screens.steps`), same gates: a step whose gate fails
stops the run with its reason; the next run resumes where the journal says.
"""

from __future__ import annotations

from pathlib import Path

import questionary
from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.table import Table

from wizard.checklist import items as checklist
from wizard.errors import EXIT_DIFFERENCES, EXIT_OK, EXIT_USAGE
from wizard.inspect import inventory
from wizard.project import config as config_mod
from wizard.state.gates import GateResult

from . import steps
from .context import LogBook, WizardContext
from .steps import STEP_KEYS
from .views import parity_table, statement_warnings, timing_line

STOP = EXIT_DIFFERENCES


def _ask(question: questionary.Question):
    answer = question.ask()
    if answer is None:
        raise KeyboardInterrupt
    return answer


def sql_block(sql: str) -> Syntax:
    """SQL highlighted and wrapped at the console's width: every character shown, none cut off.

    The operator confirms what they read: a statement cropped at the terminal's edge would hide
    the end of it (``word_wrap`` breaks long lines at spaces, and folds a word longer than a line).
    """
    return Syntax(sql, "sql", theme="ansi_dark", word_wrap=True)


def _gate(console: Console, gate: GateResult) -> bool:
    mark = "[green]✔[/]" if gate.passed else "[bold red]✘[/]"
    console.print(f"{mark} gate {gate.name}: {gate.reason}", highlight=False)
    return gate.passed


def choose_target(ctx: WizardContext, console: Console, name: str | None) -> WizardContext | None:
    """Pick a target, show its identity; refuse production until staging was rehearsed."""
    targets = ctx.config.targets
    if name is None:
        choices = [questionary.Choice(f"{t.name} ({t.role})", value=t.name) for t in targets.values()]
        name = _ask(questionary.select("Target:", choices=choices))
    target = ctx.config.target(name)
    info = steps.target_info(ctx, target)
    style = "bold white on red" if target.is_production else "bold black on green"
    console.print(f"[{style}] {target.role.upper()} [/] target [bold]{target.name}[/]")
    if info.identity:
        console.print(f"  {info.identity.describe()}", markup=False)
    if not _gate(console, steps.target_gate(info)):
        return None
    return ctx.with_target(target)


def step_checklist(ctx: WizardContext, console: Console) -> bool:
    results = steps.preflight(ctx)
    for result in results:
        asked = result.item.kind == checklist.HUMAN and not result.ok
        if asked and _ask(questionary.confirm(f"{result.item.title}?", default=False)):
            checklist.tick(ctx.the_journal, result.item.key)
    results = steps.preflight(ctx)
    for r in results:
        console.print(f"  {'✔' if r.ok else '✘'} {r.item.title}: {r.reason}", markup=False)
    return _gate(console, checklist.PREFLIGHT(results))


def step_backup(ctx: WizardContext, console: Console) -> bool:
    gate = steps.backup_gate_now(ctx)
    if not gate.passed:
        if not _ask(questionary.confirm("Take and verify a backup now (pg_dump, then restore and compare)?")):
            return _gate(console, gate)
        with console.status("backup") as status:
            verification, gate = steps.take_and_verify(
                ctx,
                lambda p: status.update(f"pg_dump: {p.tables_done}/{p.tables_total} tables"),
                lambda p: status.update(f"verify: {p.step} {p.detail}"),
            )
        for s in verification.steps:
            console.print(f"  {'✔' if s.passed else '✘'} {s.step}: {s.summary}", markup=False)
    return _gate(console, gate)


def step_inspect(ctx: WizardContext, console: Console) -> bool:
    with console.status("Phase 1") as status:
        result = steps.run_inspect(ctx, say=status.update)
    table = Table(title="Inventory", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for key in inventory.HEADLINE:
        table.add_row(key, str(result.inventory.counts[key]))
    console.print(table)
    if result.mset:
        for warning in statement_warnings(result.mset):
            console.print(f"  [yellow]⚠[/] {warning}", highlight=False)
    report = result.drift
    if report and report.parity:
        for d in report.parity.differences:
            console.print(f"[bold]{d.kind}[/] {d.name}: {d.explanation}", highlight=False)
            console.print(sql_block(d.reconcile_sql))
    elif result.drift_error:
        console.print(f"[red]drift not checked:[/] {result.drift_error}", highlight=False)
    return _gate(console, steps.phase_done(ctx, "inspect"))


def step_squash(ctx: WizardContext, console: Console) -> bool:
    if steps.phase_done(ctx, "squash").passed and not _ask(questionary.confirm("Generate and prove again?", False)):
        return True
    with console.status("Phase 2") as status:
        steps.run_squash(ctx, say=status.update)
    view = steps.squash_view(ctx)
    if view:
        console.print(f"baseline {view.path}")
        console.print(parity_table(view))
        console.print(timing_line(view))
    return _gate(console, steps.phase_done(ctx, "squash"))


def step_archive(ctx: WizardContext, console: Console) -> bool:
    plan = steps.archive_plan(ctx)
    for item in plan.items:
        console.print(f"  {'archived' if item.moved else 'to move '} {item.name}", markup=False)
    for problem in plan.problems:
        console.print(f"  [bold red]✘[/] {problem}", highlight=False)
    if plan.pending and not plan.problems and _ask(questionary.confirm(f"Move {len(plan.pending)} file(s)?")):
        _plan, result = steps.run_archive(ctx)
        console.print(f"moved {len(result.moved_now)} file(s); manifest {plan.manifest_path.name}")
    return _gate(console, steps.phase_done(ctx, "archive"))


def step_record(ctx: WizardContext, console: Console) -> bool:
    view = steps.record_view(ctx)
    for gate in view.gates:
        _gate(console, gate)
    for problem in view.plan.problems:
        console.print(f"  [bold red]✘[/] {problem}", highlight=False)
    console.print(sql_block(view.plan.render()))
    if view.ready:
        typed = _ask(questionary.text(f"Type the database name {view.database} to run this transaction:")).strip()
        if typed != view.database:
            console.print(f"{typed!r} is not {view.database!r}: nothing was written", markup=False)
            return False
        outcome = steps.run_record(ctx, typed)
        for problem in outcome.problems:
            console.print(f"  [bold red]✘[/] {problem}", highlight=False)
    return _gate(console, steps.phase_done(ctx, "record"))


def step_validate(ctx: WizardContext, console: Console) -> bool:
    with console.status("validation") as status:
        result = steps.run_validation(ctx, say=status.update)
    for check in result.checks:
        console.print(f"  {check.status:>7} {check.title}: {check.reason}", markup=False)
    path, markdown = steps.write_report(ctx)
    console.print(Markdown(markdown))
    console.print(f"report saved: {path}", markup=False)
    return result.passed


STEP_FUNCTIONS = {
    "checklist": step_checklist,
    "backup": step_backup,
    "inspect": step_inspect,
    "squash": step_squash,
    "archive": step_archive,
    "record": step_record,
    "validate": step_validate,
}


def run_plain(project: Path | str = ".", *, target: str | None = None, console: Console | None = None) -> int:
    """Walk the protocol from where the journal says, one prompt per decision; returns the exit code."""
    console = console or Console(highlight=False)
    ctx = WizardContext(config_mod.load(project), log=LogBook())
    try:
        chosen = choose_target(ctx, console, target)
        if chosen is None:
            return EXIT_USAGE
        start = steps.resume_step(chosen)
        console.print(f"resuming at: {steps.BY_KEY[start].title}", markup=False)
        for key in STEP_KEYS[STEP_KEYS.index(start) :]:
            if key == "target":
                continue
            console.rule(steps.BY_KEY[key].title)
            if not STEP_FUNCTIONS[key](chosen, console):
                console.print("stopped: the gate above does not hold; run again to resume here", markup=False)
                return STOP
    except KeyboardInterrupt:
        console.print("interrupted: the journal keeps your place", markup=False)
        return 130
    console.print("[green]protocol complete[/]")
    return EXIT_OK
