"""The project's state directory keeps secrets private and out of git."""

from __future__ import annotations

import stat
import subprocess

from wizard.state.journal import Journal, ensure_state_dir


def test_state_dir_is_private_and_git_ignored(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    journal = Journal.for_target(tmp_path / ".consolidate", "staging")
    journal.append("inspect.done", note="x")
    state = tmp_path / ".consolidate"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "!! .consolidate/" in status  # ignored, never staged
    assert ensure_state_dir(state) == state  # idempotent


def test_journal_survives_a_torn_last_line(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append("a", n=1)
    with journal.path.open("a") as handle:
        handle.write('{"seq": 2, "event": "b", "n"')  # a crash mid-write
    assert [r["event"] for r in journal.events()] == ["a"]
    journal.append("c", password_dsn="postgresql://u:hunter22@h/db")
    records = journal.events()
    assert records[-1]["event"] == "c" and "hunter22" not in journal.path.read_text()
