"""Step 2: the pre-flight checklist, machine items checked live, human items ticked and journaled."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Static

from wizard.checklist import items as checklist
from wizard.checklist.items import ItemResult

from .base import StepScreen
from .context import WizardContext
from .gate_panel import GatePanel
from .steps import preflight

_MARK = {
    checklist.PASSED: ("✔", "bold green"),
    checklist.FAILED: ("✘", "bold red"),
    checklist.NOT_APPLICABLE: ("–", "yellow"),
    checklist.PENDING: ("…", "grey62"),
}


def item_line(result: ItemResult | None, title: str) -> Text:
    """A mark, the item's title and its reason."""
    if result is None:
        return Text.assemble(("… ", "grey62"), (title, "bold"), (": checking…", "italic"))
    mark, style = _MARK.get(result.status, ("?", ""))
    return Text.assemble((f"{mark} ", style), (title, "bold"), f": {result.reason}")


class ChecklistScreen(StepScreen):
    """The seed's pre-execution items; Next waits for every one of them."""

    STEP = "checklist"

    def __init__(self, ctx: WizardContext) -> None:
        super().__init__(ctx)
        self.results: dict[str, ItemResult] = {}

    def compose_content(self) -> ComposeResult:
        yield Static("Checked by the wizard", classes="section-title")
        for item in checklist.ITEMS:
            if item.kind == checklist.MACHINE:
                yield Static(item_line(None, item.title), id=f"item-{item.key}")
        with Horizontal(classes="actions"):
            yield Button("Check again (g)", id="recheck", compact=True)
        yield Static("Ticked by you (journaled with the time)", classes="section-title")
        for item in checklist.ITEMS:
            if item.kind == checklist.HUMAN:
                yield Checkbox(item.title, id=f"tick-{item.key}", compact=True)
                yield Static("", id=f"item-{item.key}", classes="muted")
        yield Static("The seed's backup items are the next step's gate (verified backup).", classes="muted")
        yield GatePanel("Pre-flight gate", id="gate", pending="checking…")

    def start(self) -> None:
        self.show_human(checklist.human_results(self.ctx.the_journal))
        self.run_checks()

    def action_go(self) -> None:
        self.run_checks()

    @on(Button.Pressed, "#recheck")
    def _recheck(self) -> None:
        self.run_checks()

    @work(thread=True, exclusive=True, exit_on_error=False, group="checks", description="pre-flight checks")
    def run_checks(self) -> None:
        """Run the machine checks live; each result appears as it finishes."""
        cancel = self.new_cancel_event()
        self.say("pre-flight: checking git, migration files, history table, tests")
        results = preflight(self.ctx, lambda r: self.app.call_from_thread(self.show_result, r), cancel)
        self.app.call_from_thread(self.show_all, results)

    def show_result(self, result: ItemResult) -> None:
        """Render one item's result."""
        self.results[result.item.key] = result
        self.query_one(f"#item-{result.item.key}", Static).update(item_line(result, result.item.title))

    def show_human(self, results: list[ItemResult]) -> None:
        for result in results:
            self.results[result.item.key] = result
            box = self.query_one(f"#tick-{result.item.key}", Checkbox)
            with box.prevent(Checkbox.Changed):
                box.value = result.status == checklist.PASSED
            self.query_one(f"#item-{result.item.key}", Static).update(Text(result.reason))

    def show_all(self, results: list[ItemResult]) -> None:
        """Render every result and the gate."""
        for result in results:
            if result.item.kind == checklist.MACHINE:
                self.show_result(result)
                self.say(f"pre-flight {result.item.key}: {result.status}: {result.reason}")
        self.show_human([r for r in results if r.item.kind == checklist.HUMAN])
        self.update_gate()

    def update_gate(self) -> None:
        gate = checklist.PREFLIGHT(list(self.results.values()))
        self.query_one("#gate", GatePanel).show([gate])
        self.set_gate(gate)

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        key = (event.checkbox.id or "").removeprefix("tick-")
        record = checklist.tick(self.ctx.the_journal, key, event.value)
        self.say(f"pre-flight {key}: {'ticked' if event.value else 'unticked'} at {record['ts']}")
        self.show_human(checklist.human_results(self.ctx.the_journal))
        self.update_gate()
