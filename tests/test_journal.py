"""The journal's sha256 chain and durable appends, on real files and a real file-size limit."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.state import events
from wizard.state.journal import PREV, Journal, JournalCorrupt, line_sha256


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def three(path: Path) -> Journal:
    journal = Journal(path)
    journal.append(events.BACKUP_PRUNED, path="backups/old.dump", size=10, sha256="a" * 64, reason="test")
    journal.append(events.CHECKLIST_TICKED, item="access", note="x")
    journal.append(events.CHECKLIST_TICKED, item="window", note="y")
    return journal


def test_each_line_carries_the_sha256_of_the_one_before(tmp_path: Path) -> None:
    journal = three(tmp_path / "j.jsonl")
    lines = journal.path.read_bytes().splitlines()
    assert [json.loads(line)[PREV] for line in lines] == [None, line_sha256(lines[0]), line_sha256(lines[1])]
    assert [r["seq"] for r in journal.events()] == [1, 2, 3]


def test_an_edited_sha256_stops_status_with_one_line_naming_the_line(
    fresh_db: str, make_project: Callable[..., Path]
) -> None:
    root = make_project(fresh_db)
    journal = three(root / ".consolidate" / "staging" / "journal.jsonl")
    text = journal.path.read_text()
    journal.path.write_text(text.replace('"sha256": "' + "a" * 64, '"sha256": "b' + "a" * 63, 1))  # line 1 only

    code, out, err = cli("status", "--project", str(root))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err, err
    assert lines[0].startswith(f"error: the journal {journal.path} is corrupt at line 1:"), err
    assert "line 2 records" in lines[0]
    assert lines[1].strip().startswith("fix: undo the edit to line 1 or restore journal.jsonl from a copy")
    with pytest.raises(JournalCorrupt):
        journal.append(events.INSPECTED)  # nothing is added to a broken chain
    assert journal.path.read_text() == text.replace('"sha256": "' + "a" * 64, '"sha256": "b' + "a" * 63, 1)


@pytest.mark.parametrize(
    ("damage", "line", "words"),
    [
        (lambda lines: [lines[0], lines[2]], 1, "line 2 records"),  # a line removed
        (lambda lines: [lines[0], lines[1][:40] + b"\x00garbage", lines[2]], 2, "not a JSON record"),
        (lambda lines: [lines[0], json.dumps({"seq": 2, "event": "x"}).encode(), lines[2]], 2, "has no prev"),
        (lambda lines: [lines[1], lines[2]], 1, "it is the first line"),  # the first line removed
    ],
    ids=["removed", "garbled", "unchained", "first-removed"],
)
def test_a_broken_chain_is_reported_with_its_line(tmp_path: Path, damage, line: int, words: str) -> None:
    journal = three(tmp_path / "j.jsonl")
    journal.path.write_bytes(b"\n".join(damage(journal.path.read_bytes().splitlines())) + b"\n")
    with pytest.raises(JournalCorrupt) as exc:
        journal.events()
    assert f"is corrupt at line {line}:" in exc.value.message and words in exc.value.message


def test_a_torn_last_line_is_ignored_then_dropped_by_the_next_append(tmp_path: Path) -> None:
    journal = three(tmp_path / "j.jsonl")
    whole = journal.path.read_bytes()
    with journal.path.open("ab") as handle:
        handle.write(b'{"seq": 4, "event": "b", "n"')  # a crash mid-write
    assert [r["seq"] for r in journal.events()] == [1, 2, 3]
    record = journal.append(events.INSPECTED)
    assert record["seq"] == 4 and record[PREV] == line_sha256(whole.splitlines()[-1])
    assert journal.path.read_bytes().startswith(whole) and len(journal.events()) == 4


def test_a_journal_written_before_the_chain_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    legacy = [{"seq": 1, "ts": "t", "event": "inspect.done"}, {"seq": 2, "ts": "t", "event": "backup.taken"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in legacy) + '{"seq": 3, "ev\n')  # a torn line closed
    journal = Journal(path)
    assert [r["seq"] for r in journal.events()] == [1, 2]
    record = journal.append(events.INSPECTED)
    assert record["seq"] == 3 and record[PREV] == line_sha256(b'{"seq": 3, "ev')
    assert [r["seq"] for r in journal.events()] == [1, 2, 3]
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0].replace("inspect", "squash"), *lines[1:]]) + "\n")
    assert journal.events()[0]["event"] == "squash.done"  # before the chain: not protected, as before


def test_a_write_cut_short_by_the_file_size_limit_fails_and_leaves_the_journal_whole(tmp_path: Path) -> None:
    """A real short write (RLIMIT_FSIZE): the append raises, the partial bytes are removed, nothing claims success."""
    journal = three(tmp_path / "j.jsonl")
    before = journal.path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from wizard.state.journal import Journal, JournalWriteFailed
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 100}, resource.RLIM_INFINITY))
        try:
            Journal(Path({str(journal.path)!r})).append("inspect.done", padding="x" * 4000)
        except JournalWriteFailed as exc:
            print(exc)
        else:
            print("appended")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.startswith(f"cannot append to the journal {journal.path}: only 100 of "), proc.stdout
    assert "free disk space" in proc.stdout
    assert journal.path.read_bytes() == before
    roomy = script.replace("4000", "4").replace(str(len(before) + 100), str(len(before) + 1000))
    proc = subprocess.run([sys.executable, "-c", roomy], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "appended" and len(journal.events()) == 4
