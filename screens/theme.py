"""The wizard's theme: one registered Textual theme, plus the role colours every theme gets.

The role colours are theme *variables* (``$role-production``, ``$role-staging``), with defaults
in :func:`role_variables`, so the banner keeps its meaning whichever theme the palette selects:
production is always a red band.
"""

from __future__ import annotations

from textual.theme import Theme

THEME_NAME = "consolidation"

#: Production must be unmistakable on any theme; staging stays calm.
ROLE_PRODUCTION = "#c62828"
ROLE_STAGING = "#2e7d5b"


def role_variables() -> dict[str, str]:
    """The role colours, used as defaults for every theme (a theme may override them)."""
    return {
        "role-production": ROLE_PRODUCTION,
        "role-production-text": "#ffffff",
        "role-staging": ROLE_STAGING,
        "role-staging-text": "#ffffff",
    }


WIZARD_THEME = Theme(
    name=THEME_NAME,
    primary="#4f9dde",
    secondary="#7aa2c8",
    accent="#e0b15c",
    warning="#e0b15c",
    error="#e05c5c",
    success="#5cbf86",
    foreground="#d8dee9",
    background="#16191f",
    surface="#1d2129",
    panel="#262b35",
    dark=True,
    variables=role_variables(),
)
