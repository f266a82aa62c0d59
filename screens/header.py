"""The header on every step screen: the target, its role (production as a red band) and the step."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from wizard.project.config import Target

from .steps import BY_KEY, STEP_KEYS

ROLE_NOTES = {"production": "only Phase 4 writes", "staging": "rehearsal"}


def role_class(target: Target | None) -> str:
    """The header's CSS class: ``-production``, ``-staging`` or ``-none``."""
    if target is None:
        return "-none"
    return "-production" if target.is_production else "-staging"


def step_caption(step: str) -> str:
    """``step 4/8 · 1 Export & check`` (any other caption as it is)."""
    if step not in BY_KEY:
        return step
    return f"step {STEP_KEYS.index(step) + 1}/{len(STEP_KEYS)} · {BY_KEY[step].title}"


class StepHeader(Horizontal):
    """One line: a role chip, the target's name, the step, and what the role means.

    Production is a red band from edge to edge (``$role-production``, a theme variable with a
    default for every theme); staging is a calm panel with a green chip.
    """

    DEFAULT_CSS = """
    StepHeader { height: 1; width: 100%; background: $panel; color: $foreground; }
    StepHeader Static { width: auto; height: 1; padding: 0 1; }
    StepHeader #role { text-style: bold; background: $boost; }
    StepHeader #target-name { text-style: bold; }
    StepHeader #step-caption { width: 1fr; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    StepHeader #role-note { color: $text-muted; }
    StepHeader.-staging #role { background: $role-staging; color: $role-staging-text; }
    StepHeader.-production { background: $role-production; color: $role-production-text; }
    StepHeader.-production #role { background: $role-production-text; color: $role-production; }
    StepHeader.-production #step-caption, StepHeader.-production #role-note { color: $role-production-text; }
    StepHeader.-production #step-caption { text-style: bold; }
    """

    def __init__(self, target: Target | None, step: str, *, id: str | None = "header") -> None:
        """Args:
        target: The chosen target (None: not chosen yet).
        step: A step key (shown as ``step n/N · title``), or a caption of its own (the rollback screen).
        """
        super().__init__(id=id, classes=role_class(target))
        self.target = target
        self.step = step

    def show_target(self, target: Target | None) -> None:
        """Show another target (the target screen follows the highlighted one)."""
        self.target = target
        for name in ("-none", "-staging", "-production"):
            self.set_class(name == role_class(target), name)
        self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        target = self.target
        if target is None:
            yield Static("consolidation wizard", id="role")
            yield Static("no target chosen", id="target-name")
        else:
            chip = target.role.upper()
            yield Static(chip, id="role")
            yield Static(target.name, id="target-name")
        yield Static(step_caption(self.step), id="step-caption")
        if target is not None:
            yield Static(ROLE_NOTES.get(target.role, ""), id="role-note")
