"""``--plain`` shows the SQL the operator confirms in full: wrapped at the console's width, never cut (issue #13)."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from screens import plain
from wizard.state.gates import GateResult

SQL = (
    "BEGIN;\nSET LOCAL lock_timeout = '5s';\n"
    "LOCK TABLE supabase_migrations.schema_migrations IN SHARE ROW EXCLUSIVE MODE;\n"
    "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) "
    "VALUES ('20250928100000', 'consolidated_production_schema_with_a_name_longer_than_the_terminal', "
    "ARRAY['create table public.videos (id uuid primary key)']);\n"
    "DELETE FROM supabase_migrations.schema_migrations WHERE version IN ('20240101000000', '20240102000000');\n"
    "COMMIT;"
)


def narrow() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=40, color_system=None, highlight=False), out


def squeezed(text: str) -> str:
    """The characters of ``text`` without the whitespace wrapping adds or changes."""
    return "".join(text.split())


def test_the_record_transaction_is_wrapped_not_truncated(monkeypatch):
    plan = SimpleNamespace(problems=[], render=lambda: SQL)
    view = SimpleNamespace(gates=[], plan=plan, ready=False, database="postgres")
    monkeypatch.setattr(plain.steps, "record_view", lambda ctx: view)
    monkeypatch.setattr(plain.steps, "phase_done", lambda ctx, key: GateResult("record", False, "not recorded"))
    console, out = narrow()
    assert plain.step_record(SimpleNamespace(), console) is False
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 40
    assert squeezed(SQL) in squeezed(text)
    assert "consolidated_production_schema_with_a_n" in text  # a word longer than a line is folded, not cut


def test_sql_block_keeps_every_character_at_any_width():
    for width in (20, 40, 80):
        out = io.StringIO()
        Console(file=out, width=width, color_system=None).print(plain.sql_block(SQL))
        assert squeezed(out.getvalue()) == squeezed(SQL)
