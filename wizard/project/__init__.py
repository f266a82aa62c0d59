"""The operator's project: ``consolidate.toml``, its targets and the project's own test command.

Configuration is data only: it never opens a connection or starts a server (the embedded
server's resolver is handed in by :mod:`wizard.platform.shadow`).
"""

from wizard.project.config import CONFIG_NAME, ROLES, Config, DsnSource, Target, load, resolve_dsn

__all__ = ["CONFIG_NAME", "ROLES", "Config", "DsnSource", "Target", "load", "resolve_dsn"]
