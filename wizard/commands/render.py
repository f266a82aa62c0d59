"""Rich renderings of engine results (inventory, files, history, parity). No logic lives here."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from wizard.history.files import CLI_RULE, MigrationSet
from wizard.history.remote import History
from wizard.history.replay import ReplayResult
from wizard.inspect.inventory import Inventory
from wizard.parity.diff import ParityResult
from wizard.parity.explain import label

_MARK = {True: Text("✔", style="green"), False: Text("✘", style="bold red")}


def inventory(console: Console, inv: Inventory) -> None:
    """Counts, constraint breakdown, and row counts per table."""
    counts = inv.counts
    table = Table(title="Inventory (in-scope objects)", title_justify="left")
    table.add_column("object kind")
    table.add_column("count", justify="right")
    for name, value in counts.items():
        if value:
            table.add_row(name.replace("_", " "), str(value))
    console.print(table)
    enabled, forced = inv.rls_tables
    console.print(
        f"indexes backing constraints: {inv.indexes_backing_constraints}; "
        f"tables with RLS enabled: {enabled}, forced: {forced}"
    )
    console.print(
        "constraints by type: "
        + ", ".join(f"{k} {v}" for k, v in sorted(inv.constraints_by_type.items()))
        + ("; foreign keys: " + ", ".join(f"{k} {v}" for k, v in sorted(inv.foreign_key_actions.items())))
    )
    rows = Table(title=f"Rows: {inv.total_rows} in {len(inv.row_counts)} tables", title_justify="left")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name, count in sorted(inv.row_counts.items()):
        rows.add_row(name, str(count))
    console.print(rows)


def migration_files(console: Console, mset: MigrationSet) -> None:
    """Files with version, sha256, statement counts and warnings."""
    table = Table(title=f"Migration files in {mset.directory}", title_justify="left")
    for col in ("version", "name", "statements", "sha256", "notes"):
        table.add_column(col)
    for f in mset.files:
        notes = []
        if f.error:
            notes.append(f"[red]{f.error}[/]")
        for s in f.data_statements:
            what = f"{s.node.removesuffix('Stmt').upper()} {s.target or ''}".strip()
            notes.append(f"[yellow]line {s.line}: {s.category} statement ({what})[/]")
        table.add_row(f.version, f.name, str(len(f.statements)), f.sha256[:12], "\n".join(notes))
    console.print(table)
    for f in mset.ignored:
        reason = CLI_RULE if f.path.suffix == ".sql" else "not a .sql file"
        console.print(f"[yellow]ignored by the Supabase CLI:[/] {f.filename} ({reason})")
    for version, names in mset.duplicates.items():
        console.print(f"[red]duplicate version {version}:[/] {', '.join(names)}")


def history(console: Console, hist: History) -> None:
    """Remote history versus local files."""
    console.print(f"remote history: {len(hist.applied)} applied migration(s); columns: {', '.join(hist.columns)}")
    if hist.in_sync:
        console.print("[green]local files and remote history agree[/]")
    for v in hist.applied_not_local:
        console.print(f"[red]applied on the target but missing locally:[/] {v}")
    for v in hist.local_not_applied:
        console.print(f"[yellow]local but not applied on the target:[/] {v}")


def replay_result(console: Console, result: ReplayResult) -> None:
    """How far a replay got."""
    if result.ok:
        console.print(f"[green]replayed {len(result.applied)} file(s) in {result.seconds:.2f}s[/]")
        return
    if result.failure:
        f = result.failure
        console.print(f"[bold red]replay stopped:[/] {f.describe()}")
        if f.detail:
            console.print(f"  detail: {f.detail}")
        if f.hint:
            console.print(f"  hint: {f.hint}")
        console.print(
            "  the migration history cannot build a fresh environment; the baseline "
            "(`consolidate squash`) is built from the real database instead"
        )


def parity(console: Console, result: ParityResult, *, show_sql: bool = True) -> None:
    """Per-kind N/N table, then each difference in words with its reconciling SQL."""
    table = Table(title=f"Parity: {result.label_a} vs {result.label_b}", title_justify="left")
    for col in ("kind", result.label_a, result.label_b, "identical", "differences", ""):
        table.add_column(col, justify="right" if col not in ("kind", "") else "left")
    for kind, tally in result.kinds.items():
        diffs = tally.only_a + tally.only_b + tally.different
        table.add_row(
            label(kind),
            str(tally.in_a),
            str(tally.in_b),
            f"{tally.identical}/{max(tally.in_a, tally.in_b)}",
            str(diffs),
            _MARK[tally.matches],
        )
    console.print(table)
    if result.server_a != result.server_b:
        console.print(f"servers: PostgreSQL {result.server_a} vs {result.server_b} (compared version-neutrally)")
    if result.identical:
        total = sum(t.in_a for t in result.kinds.values())
        console.print(f"[bold green]identical:[/] every in-scope object matches ({total} objects)")
        return
    console.print(f"[bold red]{len(result.differences)} difference(s):[/]")
    for number, diff in enumerate(result.differences, start=1):
        console.print(f"{number}. {diff.explanation}", markup=False)
        if show_sql and diff.reconcile_sql:
            for line in diff.reconcile_sql.splitlines():
                console.print(f"     {line}", style="cyan", markup=False)
