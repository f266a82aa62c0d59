"""The Phase 1 screen, driven by Pilot, on a target of hundreds of tables: the counts on screen are
the catalog's, the drift table holds its first rows and says how many more there are, and the app
hands the objects it froze for its garbage-collector pacing back when it exits."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import psycopg
from textual.widgets import DataTable

from screens.app import WizardApp
from screens.context import LogBook, WizardContext
from screens.inspect import MAX_DRIFT_ROWS
from tests.conftest import run_sql
from tests.test_ui_pilot import SIZE, run_async, settle, text_of
from wizard.project import config
from wizard.state import events
from wizard.state.journal import Journal

TABLES = 240
HISTORY_TABLES = 180  # the history builds these; the other tables are drift, "only in target"
ROWS_IN = 12  # tables t0000..t0011 hold i + 1 rows each


def table_sql(i: int) -> str:
    """One table with its primary key, an index, row level security and a policy."""
    name = f"t{i:04d}"
    return (
        f"create table public.{name} (id bigint primary key, label text not null, ref bigint);\n"
        f"create index {name}_label on public.{name} (label);\n"
        f"alter table public.{name} enable row level security;\n"
        f"create policy {name}_read on public.{name} for select using (true);\n"
    )


def catalog_counts(dsn: str) -> dict[str, int]:
    """The headline counts, asked of the catalog directly (not through the wizard's reader)."""
    queries = {
        "tables": "select count(*) from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'",
        "indexes": "select count(*) from pg_index i join pg_class c on c.oid = i.indrelid "
        "where c.relnamespace = 'public'::regnamespace",
        "RLS policies": "select count(*) from pg_policies where schemaname = 'public'",
        "constraints": "select count(*) from pg_constraint where connamespace = 'public'::regnamespace "
        "and contype <> 'n'",
    }
    with psycopg.connect(dsn) as conn:
        counts = {kind: int(conn.execute(query).fetchone()[0]) for kind, query in queries.items()}  # type: ignore[index]
        tables = [
            r[0]
            for r in conn.execute(
                "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'"
            )
        ]
        counts["rows"] = sum(int(conn.execute(f"select count(*) from public.{t}").fetchone()[0]) for t in tables)  # type: ignore[index]
    return counts


@run_async
async def test_phase1_on_hundreds_of_tables_shows_the_catalogs_counts_and_the_drift(
    fresh_db: str, make_project: Callable[..., Path]
) -> None:
    run_sql(fresh_db, "".join(table_sql(i) for i in range(TABLES)))
    run_sql(
        fresh_db,
        "".join(
            f"insert into public.t{i:04d} select g, 'x' from generate_series(1, {i + 1}) g;\n" for i in range(ROWS_IN)
        ),
    )
    expected = catalog_counts(fresh_db)
    assert expected["tables"] == TABLES and expected["rows"] > 0
    project = make_project(
        fresh_db, {"20240101000000_tables.sql": "".join(table_sql(i) for i in range(HISTORY_TABLES))}
    )
    cfg = config.load(project)
    ctx = WizardContext(cfg, log=LogBook(clock=lambda: "00:00:00")).with_target(cfg.targets["staging"])

    async with WizardApp(ctx, start="inspect").run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 0, "the app paces the collector: what start-up built is frozen"
        await pilot.press("g")
        await settle(pilot)

        shown = text_of(pilot, "#counts")
        for kind, value in expected.items():
            line = next(line for line in shown.splitlines() if line.strip().startswith(kind))
            assert line.split()[-1] == f"{value:,}", f"{kind}: {line!r}, the catalog says {value}"

        drift: DataTable = pilot.app.screen.query_one("#drift", DataTable)
        record = Journal.for_target(cfg.state_dir, "staging").last(events.DRIFT_CHECKED)
        assert record is not None
        differences = record["differences"]
        missing = {f"public.t{i:04d}" for i in range(HISTORY_TABLES, TABLES)}
        assert {d["name"] for d in differences if d["kind"] == "table"} == missing
        assert {d["status"] for d in differences} == {"only_a"}
        assert len(differences) > MAX_DRIFT_ROWS
        assert drift.row_count == MAX_DRIFT_ROWS + 1
        rows = [drift.get_row_at(i) for i in range(drift.row_count)]
        assert all(status == "only in target" for _kind, _name, status in rows[:-1])
        assert all(name.startswith(tuple(missing)) for _kind, name, _status in rows[:-1])
        assert rows[-1][1].startswith(f"{len(differences) - MAX_DRIFT_ROWS} more")
        detail = text_of(pilot, "#detail")
        assert rows[0][1].rsplit(".", 1)[-1] in detail and "reconciling SQL" in detail
    assert gc.get_freeze_count() == 0, "the app hands frozen objects back to the collector when it exits"
