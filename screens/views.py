"""Rich renderings shared by the step screens and ``--plain`` (no Textual here)."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from wizard.history.files import MigrationSet
from wizard.inspect.inventory import HEADLINE
from wizard.parity.diff import Difference

from .steps import SquashView

STATUS_WORDS = {"only_a": "only in target", "only_b": "only in history", "different": "different"}
HEADLINE_TITLES = {
    "tables": "tables",
    "indexes": "indexes",
    "functions": "functions",
    "policies": "RLS policies",
    "triggers": "triggers",
    "constraints": "constraints",
    "rows": "rows",
}


def counts_table(
    counts: dict[str, int | None], reading: str = "", rows_progress: tuple[int, int] | None = None
) -> Table:
    """The seven headline counts; unknown ones say what is being measured."""
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key in HEADLINE:
        value = counts.get(key)
        if value is not None:
            cell = Text(f"{value:,}", style="green")
        elif key == "rows" and rows_progress:
            cell = Text(f"counting {rows_progress[0]}/{rows_progress[1]} tables", style="yellow")
        else:
            cell = Text(f"reading {reading}…" if reading else "…", style="grey62")
        table.add_row(HEADLINE_TITLES[key], cell)
    return table


def statement_warnings(mset: MigrationSet) -> list[str]:
    """``file:line`` for every data or procedural statement a schema-only baseline would drop."""
    return [
        f"{f.filename}:{s.line}: {s.category} statement {s.node.removesuffix('Stmt').upper()} {s.target or ''}".rstrip()
        for f in mset.files
        for s in f.data_statements
    ]


def reconciling_sql(sql: str) -> Syntax:
    """SQL as the detail panes show it, highlighted."""
    return Syntax(sql, "sql", word_wrap=True, theme="ansi_dark")


def difference_detail(diff: Difference) -> Group:
    """A difference in words, and the SQL that reconciles the history with the target."""
    return Group(
        Text(diff.explanation),
        Text("reconciling SQL:", style="bold"),
        reconciling_sql(diff.reconcile_sql or "-- none"),
    )


def warm_sql_highlighting() -> None:
    """Load and compile the SQL lexer now (call it in a worker): the first highlight takes over 100 ms."""
    reconciling_sql("SELECT 1;").highlight("SELECT 1;")


#: Kinds shown first, in the seed's order; the others follow alphabetically.
SEED_KINDS = ("table", "index", "function", "policy", "trigger", "constraint", "column")
PREVIEW_LINES = 400


def parity_table(view: SquashView | None, stage: str = "") -> Table:
    """Target vs baseline per object kind: N/N and a mark."""
    table = Table(box=None, padding=(0, 2), header_style="bold")
    table.add_column("kind")
    table.add_column("baseline/target", justify="right")
    table.add_column("")
    if view is None or not view.kinds:
        for kind in SEED_KINDS[:6]:
            table.add_row(kind, Text(stage or "…", style="grey62"), "")
        return table
    order = [k for k in SEED_KINDS if k in view.kinds] + sorted(k for k in view.kinds if k not in SEED_KINDS)
    for kind in order:
        value = view.kinds[kind]
        same, _, total = value.partition("/")
        ok = same == total
        table.add_row(kind, value, Text("✔" if ok else "✘", style="bold green" if ok else "bold red"))
    return table


def fresh_lines(view: SquashView) -> list[str]:
    """The second proof as the engine recorded it: each check, the provisioning seconds, what to set."""
    fresh = view.fresh
    if not fresh:
        return []
    lines = ["Fresh environments: the old history vs the new folder"]
    if not fresh.get("replayable", True):
        lines.append(f"  {fresh.get('reason')}")
    for name, check in (fresh.get("checks") or {}).items():
        mark = "✔" if check.get("ok") else "✘"
        lines.append(f"  {mark} {name}: {check.get('compared')} compared")
        lines += [f"      {d}" for d in (check.get("differences") or [])[:3]]
    prov = fresh.get("provisioning") or {}
    old, new = prov.get("history") or {}, prov.get("baseline") or {}
    if old.get("seconds") is not None:
        new_s = f"{new['seconds']:.3f} s" if new.get("seconds") is not None else "n/a"
        lines.append(f"  provisioned: old history {old['seconds']:.3f} s, new folder {new_s}")
    lines += [f"  set after provisioning: {item}" for item in view.to_set]
    return lines


def timing_line(view: SquashView | None) -> Text:
    """Provisioning a fresh database: the old history vs the baseline."""
    if view is None or view.history_seconds is None:
        return Text("provisioning times: not measured yet", style="grey62")
    new = f"{view.baseline_seconds:.3f} s" if view.baseline_seconds else "n/a"
    speed = f" ({view.speedup:.1f}x faster)" if view.speedup else ""
    return Text(f"provisioning: {view.history_files} old files {view.history_seconds:.3f} s → baseline {new}{speed}")
