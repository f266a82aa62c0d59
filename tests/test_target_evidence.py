"""The target is the source of truth for Phase 4: its evidence row, and a lost or corrupt journal rebuilt from it.

Real Phase 4 transactions on a test database; the journal is then deleted or damaged for real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.test_archive_record import (  # noqa: F401  (fixtures: small, _wide_terminal)
    BASELINE,
    FILES,
    _ready,
    _wide_terminal,
    cli,
    history_state,
    small,
    versions,
)
from wizard import __version__
from wizard.record import phase as record
from wizard.state import events
from wizard.state.journal import Journal

EVIDENCE = "supabase_migrations.consolidation_evidence"


def evidence_rows(dsn: str) -> list[dict]:
    """Every row of the evidence table as JSON, or [] when it does not exist."""
    with psycopg.connect(dsn) as conn:
        if conn.execute("select to_regclass(%s)", (EVIDENCE,)).fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute(f"select to_jsonb(e) from {EVIDENCE} e").fetchall()]


def dbname(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]


@pytest.fixture
def project(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Path:
    """The 3-migration project of ``tests.test_archive_record`` (fixture ``small``), ready for Phase 4."""
    root = request.getfixturevalue("small")()
    _ready(root, capsys)
    return root


def recorded(root: Path, dsn: str, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Journal]:
    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname(dsn))
    assert code == 0, out
    return root, Journal.for_target(root / ".consolidate", "staging")


def status(capsys: pytest.CaptureFixture[str], root: Path) -> dict:
    code, out = cli(capsys, "status", "--project", str(root), "--json")
    assert code == 0, out
    return json.loads(out)


def phase(found: dict, key: str) -> dict:
    return next(p for p in found["phases"] if p["key"] == key)


def test_record_stores_its_evidence_on_the_target_and_its_rollback_removes_it(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root, journal = recorded(project, fresh_db, capsys)
    committed = journal.last(events.RECORD_COMMITTED)
    [row] = evidence_rows(fresh_db)
    assert row["version"] == BASELINE[:14] and row["record_id"] == committed["record_id"]
    assert row["baseline_sha256"] == committed["baseline"]["sha256"]
    assert row["superseded_versions"] == [n[:14] for n in FILES]
    assert row["tool_version"] == __version__ and row["journal_seq"] == committed["seq"]
    assert row["journal_prev"] == committed["prev"]
    assert row["target"] == committed["identity"] and row["evidence"]["history_before"] == committed["history_before"]
    assert EVIDENCE in committed["writes"]
    assert status(capsys, root)["phase4_source"] == "journal"

    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname(fresh_db))
    assert code == 0, out
    assert evidence_rows(fresh_db) == [] and "DROP TABLE supabase_migrations.consolidation_evidence" in out
    assert journal.last(events.RECORD_ROLLED_BACK)["evidence_removed"]


def test_a_lost_journal_after_phase_4_is_rebuilt_from_the_target(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root, journal = recorded(project, fresh_db, capsys)
    with psycopg.connect(fresh_db) as conn:
        before = conn.execute("select version from supabase_migrations.schema_migrations_archive").fetchall()
    shutil.rmtree(root / ".consolidate")

    found = status(capsys, root)
    assert phase(found, "record")["status"] == "done" and found["phase4_source"] == "target"
    assert found["note"].startswith(f"Phase 4 rebuilt from the target: the journal {journal.path} does not exist;")
    code, out = cli(capsys, "status", "--project", str(root))
    assert [line for line in out.splitlines() if "rebuilt from the target" in line and "note:" in line] == [
        "note: " + found["note"]
    ]
    assert "(rebuilt from the target)" in out

    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname(fresh_db))
    assert code == 0, out
    assert "note: Phase 4 rebuilt from the target" in out
    assert versions(fresh_db) == sorted(v[0] for v in before) and evidence_rows(fresh_db) == []
    rebuilt, undone = journal.events()
    assert rebuilt["event"] == events.RECORD_COMMITTED and rebuilt["rebuilt_from_target"]
    assert undone["event"] == events.RECORD_ROLLED_BACK and undone["record_seq"] == rebuilt["seq"]
    found = status(capsys, root)
    assert phase(found, "record")["status"] == "rolled back" and found["note"] is None


def test_a_corrupt_journal_line_after_phase_4_is_set_aside_and_rebuilt_from_the_target(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root, journal = recorded(project, fresh_db, capsys)
    before = history_state(fresh_db)
    text = journal.path.read_text()
    damaged = text.replace('"event": "backup.taken"', '"event": "backup.taken", "edited": 1', 1)
    assert damaged != text
    journal.path.write_text(damaged)

    found = status(capsys, root)
    assert phase(found, "record")["status"] == "done" and found["phase4_source"] == "target"
    assert found["journal_corrupt"].startswith(f"the journal {journal.path} is corrupt at line ")
    assert "Phase 4 rebuilt from the target: the journal" in found["note"]
    assert phase(found, "backup")["reason"].startswith("unknown: the journal is not trusted")

    code, out = cli(capsys, "record", "--project", str(root), "--confirm", dbname(fresh_db))
    assert code == 2 and "is corrupt at line" in out  # gates never act on a broken chain
    code, out = cli(capsys, "rollback", "record", "--project", str(root), "--confirm", dbname(fresh_db))
    assert code == 0, out
    assert "the corrupt journal was set aside as journal.jsonl.corrupt-" in out
    [aside] = journal.path.parent.glob("journal.jsonl.corrupt-*")
    assert aside.read_text() == damaged
    assert history_state(fresh_db) != before and evidence_rows(fresh_db) == []
    assert BASELINE[:14] not in versions(fresh_db)
    assert phase(status(capsys, root), "record")["status"] == "rolled back"


def test_a_commit_whose_journal_line_never_came_shows_as_done_from_the_target(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between COMMIT and the journal line is not hidden by status."""
    root = project

    def dies_after_commit(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(record, "finish", dies_after_commit)
    assert cli(capsys, "record", "--project", str(root), "--confirm", dbname(fresh_db))[0] == 130
    found = status(capsys, root)
    assert phase(found, "record")["status"] == "done" and found["phase4_source"] == "target"
    assert "has no line for it" in found["note"]
    [pending] = found["leftovers"]["pending_intents"]
    assert pending.startswith(f"pending intent of record.committed {BASELINE[:14]} on target staging")
    assert "run `consolidate record --target staging`" in pending


def test_validate_passes_on_a_staging_that_takes_writes_once_phase_4_is_proved_to_write_only_the_history(
    project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The application keeps writing during the rehearsal: the row counts move, validation still holds."""
    root, journal = recorded(project, fresh_db, capsys)
    assert set(journal.last(events.RECORD_COMMITTED)["writes"]) <= {
        "supabase_migrations.schema_migrations",
        "supabase_migrations.schema_migrations_archive",
        EVIDENCE,
    }
    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into public.one values (3, 'c'), (4, 'd')")  # the live application
    code, out = cli(capsys, "validate", "--project", str(root), "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    rows = checks["row_counts"]
    assert rows["status"] == "passed" and rows["evidence"]["live_writes"], rows
    assert "public.one: 2 at backup, 4 now" in rows["reason"] and "through other sessions" in rows["reason"]
    assert code == 0, [c["reason"] for c in checks.values() if c["status"] == "failed"]

    with psycopg.connect(fresh_db) as conn:
        conn.execute("drop table public.two")  # a table gone is never the application's writes
    code, out = cli(capsys, "validate", "--project", str(root), "--json")
    rows = next(c for c in json.loads(out)["checks"] if c["name"] == "row_counts")
    assert code == 1 and rows["status"] == "failed" and "public.two: gone" in rows["reason"]
