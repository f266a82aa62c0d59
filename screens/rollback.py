"""The rollback screen (key ``r`` from any step): only the rollbacks that apply now, each confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from wizard.errors import WizardError

from . import steps
from .confirm import ConfirmModal, ErrorModal, TypeNameModal
from .context import WizardContext
from .header import StepHeader

if TYPE_CHECKING:
    from wizard.backup.restore import RestorePlan
    from wizard.rollback.procedures import RollbackOption


class RollbackScreen(ModalScreen[bool]):
    """Lists the applicable rollbacks (from :func:`wizard.rollback.procedures.options`); escape closes."""

    DEFAULT_CSS = """
    RollbackScreen { align: center middle; }
    RollbackScreen > Vertical { width: 96%; height: 94%; border: thick $warning; background: $panel; }
    RollbackScreen.-production > Vertical { border: thick $role-production; }
    RollbackScreen VerticalScroll { height: 1fr; padding: 0 1; }
    RollbackScreen .option { margin-top: 1; }
    RollbackScreen .why { color: $text-muted; }
    RollbackScreen #output { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    @dataclass
    class Done(Message):
        """A rollback finished."""

        text: str

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.options = steps.rollback_options(ctx)

    def compose(self) -> ComposeResult:
        self.set_class(self.ctx.chosen.is_production, "-production")
        with Vertical() as box:
            box.border_title = f"Rollback: {self.ctx.chosen.role} target {self.ctx.chosen.name}"
            yield StepHeader(self.ctx.chosen, "rollback")
            with VerticalScroll():
                usable = [o for o in self.options if o.applies]
                if not usable:
                    yield Static("No rollback applies to the current state: nothing has been changed yet.")
                for option in usable:
                    label = option.title if option.runs else f"{option.title}: show the command"
                    yield Button(label, id=f"do-{option.key}", classes="option", variant="warning", compact=True)
                    yield Static(Text(f"{option.seed}: {option.reason}"), classes="why")
                others = [o for o in self.options if not o.applies]
                if others:
                    yield Static(
                        Text("\n".join(f"not applicable: {o.title}: {o.reason}" for o in others), style="grey50"),
                        classes="option",
                    )
                yield Static("", id="output")
            yield Footer()

    def action_close(self) -> None:
        self.dismiss(False)

    def _option(self, key: str) -> RollbackOption:
        return next(o for o in self.options if o.key == key)

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("do-")
        option = self._option(key)
        if key == "archive":
            self.app.push_screen(
                ConfirmModal("Move every archived file back to the migrations folder (sha256 checked)?"),
                self._undo_archive_confirmed,
            )
        elif key == "squash":
            self.app.push_screen(
                ConfirmModal("Remove the baseline file from the migrations folder (sha256 checked)?"),
                self._undo_squash_confirmed,
            )
        elif key == "record":
            self.prepare_record()
        elif key == "restore":
            self.prepare_restore(option)

    def _undo_squash_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.undo_squash()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="undo Phase 2")
    def undo_squash(self) -> None:
        result = steps.undo_squash(self.ctx)
        self.post_message(self.Done(f"Phase 2 undone: {result.path} {'removed' if result.removed else 'already gone'}"))

    def _undo_archive_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.undo_archive()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="undo Phase 3")
    def undo_archive(self) -> None:
        result = steps.undo_archive(self.ctx)
        self.post_message(self.Done(f"Phase 3 undone: {len(result.moved_now)} file(s) moved back"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="plan undo of Phase 4")
    def prepare_record(self) -> None:
        sql, database = steps.record_rollback_sql(self.ctx)
        self.app.call_from_thread(self._ask_record, sql, database)

    def _ask_record(self, sql: str, database: str) -> None:
        self.query_one("#output", Static).update(Syntax(sql, "sql", word_wrap=True, theme="ansi_dark"))
        what = f"Undo Phase 4 on {self.ctx.chosen.role} target {self.ctx.chosen.name}: the transaction shown runs."

        def typed(name: str | None) -> None:
            if name:
                self.undo_record(name)

        self.app.push_screen(TypeNameModal(what, database), typed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="undo Phase 4")
    def undo_record(self, typed: str) -> None:
        outcome = steps.undo_record(self.ctx, typed)
        problems = "; ".join(outcome.problems)
        self.post_message(self.Done(f"Phase 4 undone{': ' + problems if problems else ', verified'}"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="plan restore")
    def prepare_restore(self, option: RollbackOption) -> None:
        plan, database = steps.restore_plan(self.ctx, option.runs)
        self.app.call_from_thread(self._ask_restore, plan, database)

    def _ask_restore(self, plan: RestorePlan, database: str | None) -> None:
        self.query_one("#output", Static).update(
            Text.assemble(("pg_restore command (password from PGPASSWORD or ~/.pgpass):\n", "bold"), plan.command)
        )
        if database is None:
            self.ctx.log.add(f"disaster recovery command shown for {self.ctx.chosen.name}: {plan.command}")
            return
        what = f"Restore staging target {self.ctx.chosen.name} from {plan.record.path} (one transaction)."

        def typed(name: str | None) -> None:
            if name:
                self.run_restore(plan, name)

        self.app.push_screen(TypeNameModal(what, database), typed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rollback", description="pg_restore")
    def run_restore(self, plan: RestorePlan, typed: str) -> None:
        outcome = steps.run_restore(self.ctx, plan, typed)
        problems = "; ".join(outcome.problems)
        self.post_message(self.Done(f"restored in {outcome.duration_s:.1f} s{': ' + problems if problems else ''}"))

    @on(Done)
    def _done(self, event: Done) -> None:
        self.ctx.log.add(event.text)
        self.notify(event.text, title="Rollback")
        self.dismiss(True)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            message = error.message if isinstance(error, WizardError) else f"unexpected {type(error).__name__}: {error}"
            fix = error.fix if isinstance(error, WizardError) else "see the log"
            self.ctx.log.add(f"rollback error: {message}")
            self.app.push_screen(ErrorModal(message, fix))
