"""The consolidation report: facts from the journal (:mod:`wizard.report.facts`), rendered as Markdown
(:mod:`wizard.report.markdown`), saved and journaled by :func:`save`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from wizard.project.config import Config, Target
from wizard.report.facts import REPORT_NAME, Report, build_report, default_path
from wizard.report.markdown import render_markdown
from wizard.report.sections import NOT_MEASURED
from wizard.state import events
from wizard.state.journal import Journal, atomic_write

__all__ = ["NOT_MEASURED", "REPORT_NAME", "Report", "build_report", "default_path", "render_markdown", "save"]


def save(
    config: Config, target: Target, path: Path | None = None, mode: int = 0o600
) -> tuple[Report, str, Path, dict[str, Any]]:
    """Build the report from the journal, write it atomically, journal ``report.written``.

    Returns the report, its Markdown, where it was written and the journal record.
    """
    built = build_report(config, target)
    text = render_markdown(built)
    data = text.encode("utf-8")
    path = path or default_path(config, target.name)
    atomic_write(path, data, mode=mode)
    shown = os.path.relpath(path, config.root) if path.resolve().is_relative_to(config.root) else str(path)
    record = Journal.for_target(config.state_dir, target.name).append(
        events.REPORT_WRITTEN,
        path=shown,
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        journal_last_seq=built.facts["journal"]["last_seq"],
    )
    return built, text, path, record
