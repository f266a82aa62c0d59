"""Step 1: choose a target; see its identity, its role, and whether staging was rehearsed."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from wizard.project.config import Target

from .base import StepScreen, TargetChosen
from .gate_panel import GatePanel
from .header import StepHeader
from .steps import BY_KEY, TargetInfo, target_gate, target_info
from .theme import ROLE_PRODUCTION, ROLE_STAGING


def identity_table(info: TargetInfo) -> Table | Text:
    """Host, database, version, system identifier and role of a target."""
    target = info.target
    role = Text(
        f" {target.role.upper()} ",
        style=f"bold white on {ROLE_PRODUCTION}" if target.is_production else f"bold white on {ROLE_STAGING}",
    )
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("role", role)
    table.add_row("source", target.source.describe())
    ident = info.identity
    if ident is None:
        table.add_row("status", Text(info.error or "unreachable", style="bold red"))
        return table
    table.add_row("host", f"{ident.host}:{ident.port}")
    table.add_row("database", f"{ident.database} (oid {ident.database_oid})")
    table.add_row("server", f"PostgreSQL {ident.server_version}")
    table.add_row("system id", ident.system_identifier or "unknown (no access to pg_control_system)")
    table.add_row("user", ident.user)
    table.add_row("resumes at", BY_KEY[info.resume].title)
    return table


class TargetScreen(StepScreen):
    """Pick a target from consolidate.toml; Next is refused for production until staging was rehearsed."""

    STEP = "target"

    def compose_content(self) -> ComposeResult:
        options = [
            Option(
                Text.assemble(
                    (f"{t.name} ", "bold"),
                    (f"[{t.role}]", f"bold {ROLE_PRODUCTION}" if t.is_production else ROLE_STAGING),
                ),
                id=t.name,
            )
            for t in self.ctx.config.targets.values()
        ]
        yield OptionList(*options, id="targets")
        yield Static("", id="identity")
        yield GatePanel("Rehearsal", id="rehearsal", pending="choose a target")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#back").display = False
        targets = self.query_one("#targets", OptionList)
        targets.focus()
        if targets.option_count:
            targets.highlighted = 0
        self.set_gate(None, waiting="choose a target")

    @property
    def selected(self) -> Target | None:
        targets = self.query_one("#targets", OptionList)
        if targets.highlighted is None:
            return None
        option = targets.get_option_at_index(targets.highlighted)
        return self.ctx.config.targets.get(option.id or "")

    @on(OptionList.OptionHighlighted, "#targets")
    def _highlighted(self) -> None:
        target = self.selected
        if target is None:
            return
        self.query_one(StepHeader).show_target(target)
        self.query_one("#identity", Static).update(Text(f"connecting to {target.name}…", style="italic"))
        self.set_gate(None, waiting=f"connecting to {target.name}…")
        if self.ctx.autostart:
            self.load(target)

    @on(OptionList.OptionSelected, "#targets")
    def _selected(self) -> None:
        self.action_next()

    @work(thread=True, exclusive=True, exit_on_error=False, group="target", description="connect to the target")
    def load(self, target: Target) -> None:
        """Connect read-only and evaluate the rehearsal gate, off the event loop."""
        info = target_info(self.ctx, target)
        self.app.call_from_thread(self.show_info, info)

    def show_info(self, info: TargetInfo) -> None:
        """Render a target's identity and gate (called by the worker, or by tests with fixed data)."""
        if self.selected is not None and self.selected.name != info.target.name:
            return  # the operator moved on while we connected
        self.query_one("#identity", Static).update(identity_table(info))
        panel = self.query_one("#rehearsal", GatePanel)
        if info.rehearsal is None:
            panel.border_title = "Rehearsal"
            panel.update(Text("staging: this run is the rehearsal production waits for", style="green"))
        else:
            panel.border_title = "Staging rehearsal (required for production)"
            panel.show([info.rehearsal])
        gate = target_gate(info)
        self.set_gate(gate)
        if info.identity is not None:
            self.say(f"{info.target.role} target {info.target.name}: {info.identity.describe()}")

    def action_next(self) -> None:
        if self.query_one("#next").disabled or self.selected is None:
            super().action_next()
            return
        self.post_message(TargetChosen(self.selected.name))
