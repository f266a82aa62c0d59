"""The pre-flight checklist: the seed's "Pre-Execution (Required)" items, checked or ticked.

Machine-checkable items are checked live, here, every time they are asked:

* ``git_clean``: ``git status --porcelain`` in the project shows no change (a project that
  is not a git work tree has nothing to check);
* ``tests_pass``: ``project.test_command`` exits 0 (no command configured: nothing to run);
* ``migrations_parse``: every migration file parses, no version is used twice;
* ``history_table``: the target has ``supabase_migrations.schema_migrations``.

Human items (``team_notified``) are ticked by the operator; each tick is journaled with its
timestamp (``checklist.ticked``) and the latest record of an item wins. The seed's two
backup items are the Backup step's own gate (:mod:`wizard.backup.gate`), not repeated here.
"""

from __future__ import annotations

import getpass
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from wizard.project import test_command
from wizard.project.config import Config
from wizard.state import events
from wizard.state.gates import Gate, GateResult, failed, passed
from wizard.state.journal import Journal

MACHINE = "machine"
HUMAN = "human"

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "n/a"
PENDING = "pending"

#: How long the project's test command may run before it counts as failed.
TEST_TIMEOUT_S = 600


@dataclass(frozen=True)
class Item:
    """One checklist item.

    Attributes:
        key: Stable identifier, journaled with ticks.
        title: The item as the wizard shows it.
        seed: The seed plan's wording of the item.
        kind: ``machine`` (checked live) or ``human`` (ticked by the operator).
    """

    key: str
    title: str
    seed: str
    kind: str


ITEMS: tuple[Item, ...] = (
    Item("git_clean", "Git working tree clean", "Git working directory clean", MACHINE),
    Item("tests_pass", "Project tests pass (project.test_command)", "All tests passing (142+ tests)", MACHINE),
    Item("migrations_parse", "Migration files parse, versions unique", "(migration files readable)", MACHINE),
    Item("history_table", "Target has supabase_migrations.schema_migrations", "(remote history present)", MACHINE),
    Item("team_notified", "Team notified before execution", "Team notification sent", HUMAN),
)
BY_KEY = {item.key: item for item in ITEMS}


@dataclass(frozen=True)
class ItemResult:
    """An item's state now.

    Attributes:
        status: ``passed``, ``failed``, ``n/a`` (nothing to check here; does not block) or ``pending``.
        reason: Why, in one sentence.
        record: The journal record of a human tick.
    """

    item: Item
    status: str
    reason: str
    record: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, NOT_APPLICABLE)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.item.key, "title": self.item.title, "status": self.status, "reason": self.reason}


def _result(key: str, status: str, reason: str, record: dict[str, Any] | None = None) -> ItemResult:
    return ItemResult(BY_KEY[key], status, reason, record)


def check_git_clean(root: Path) -> ItemResult:
    """``git status --porcelain`` in ``root``: clean, dirty (the first paths named), or not a repository."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=normal"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return _result("git_clean", NOT_APPLICABLE, "git is not installed: nothing to check")
    except subprocess.TimeoutExpired:
        return _result("git_clean", FAILED, "git status did not answer within 60 s")
    if proc.returncode != 0:
        if "not a git repository" in proc.stderr.lower():
            return _result("git_clean", NOT_APPLICABLE, f"{root} is not a git work tree: nothing to check")
        return _result("git_clean", FAILED, f"git status failed: {proc.stderr.strip()[:200]}")
    changed = [line[3:] for line in proc.stdout.splitlines() if line.strip()]
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return _result("git_clean", FAILED, f"{len(changed)} uncommitted change(s): {shown}; commit or stash them")
    return _result("git_clean", PASSED, "no uncommitted change")


def check_tests(config: Config, cancel: threading.Event | None = None, timeout_s: float = TEST_TIMEOUT_S) -> ItemResult:
    """Run ``project.test_command`` in the project root; passed when it exits 0."""
    command = config.test_command
    if not command:
        return _result("tests_pass", NOT_APPLICABLE, "no project.test_command in consolidate.toml: nothing to run")
    ran = test_command.run(command, config.root, timeout_s, cancel=cancel)
    if ran.cancelled or ran.timed_out:
        why = "was cancelled" if ran.cancelled else f"ran over {timeout_s:.0f} s"
        return _result("tests_pass", FAILED, f"`{command}` {why}")
    last = ran.last_line
    if not ran.passed:
        return _result("tests_pass", FAILED, f"`{command}` exited {ran.exit_code}: {last[:160]}")
    return _result(
        "tests_pass", PASSED, f"`{command}` passed in {ran.seconds:.1f} s" + (f": {last[:120]}" if last else "")
    )


def check_migrations(config: Config) -> ItemResult:
    """Every migration file parses and no version is used twice."""
    from wizard.errors import MigrationFileError
    from wizard.history import files as migrations

    try:
        mset = migrations.discover(config.migrations_dir)
    except MigrationFileError as exc:
        return _result("migrations_parse", FAILED, exc.message)
    if mset.errors:
        return _result("migrations_parse", FAILED, mset.errors[0])
    if mset.duplicates:
        version, names = next(iter(mset.duplicates.items()))
        return _result("migrations_parse", FAILED, f"version {version} is used by {', '.join(names)}")
    if not mset.files:
        return _result("migrations_parse", FAILED, f"no migration file in {mset.directory}")
    return _result("migrations_parse", PASSED, f"{len(mset.files)} file(s) parse")


def check_history_table(conn: psycopg.Connection | None) -> ItemResult:
    """The target has the Supabase CLI's history table (``None``: the target could not be reached)."""
    from wizard.errors import MissingHistoryTable
    from wizard.history import remote as history

    if conn is None:
        return _result("history_table", FAILED, "the target could not be reached")
    try:
        hist = history.read(conn)
    except MissingHistoryTable as exc:
        return _result("history_table", FAILED, exc.message)
    return _result("history_table", PASSED, f"{len(hist.applied)} migration(s) recorded")


def ticks(journal: Journal) -> dict[str, dict[str, Any]]:
    """The latest tick record of each human item (ticked or unticked)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in journal.events(events.CHECKLIST_TICKED):
        if record.get("item") in BY_KEY:
            latest[record["item"]] = record
    return latest


def human_results(journal: Journal) -> list[ItemResult]:
    """The human items' states from the journal."""
    recorded = ticks(journal)
    results = []
    for item in ITEMS:
        if item.kind != HUMAN:
            continue
        record = recorded.get(item.key)
        if record and record.get("ticked", True):
            who = record.get("operator") or "the operator"
            results.append(ItemResult(item, PASSED, f"ticked by {who} at {record['ts']}", record))
        else:
            results.append(ItemResult(item, PENDING, "not ticked yet: tick it once it is true", record))
    return results


def tick(journal: Journal, key: str, ticked: bool = True, operator: str | None = None) -> dict[str, Any]:
    """Journal that the operator ticked (or unticked) human item ``key``; returns the record.

    Raises:
        ValueError: ``key`` is not a human item.
    """
    item = BY_KEY.get(key)
    if item is None or item.kind != HUMAN:
        raise ValueError(f"{key!r} is not a human checklist item")
    return journal.append(
        events.CHECKLIST_TICKED,
        item=key,
        title=item.title,
        ticked=ticked,
        operator=operator or _operator(),
    )


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown"


def run_machine_checks(
    config: Config,
    conn: psycopg.Connection | None,
    on_result: Callable[[ItemResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[ItemResult]:
    """Every machine item, checked now, in order; ``on_result`` is called as each one finishes."""
    checks: list[Callable[[], ItemResult]] = [
        lambda: check_git_clean(config.root),
        lambda: check_migrations(config),
        lambda: check_history_table(conn),
        lambda: check_tests(config, cancel),
    ]
    results = []
    for check in checks:
        result = check()
        results.append(result)
        if on_result:
            on_result(result)
    return sorted(results, key=lambda r: ITEMS.index(r.item))


def check_preflight(results: Sequence[ItemResult]) -> GateResult:
    """Gate: every machine item passed (or had nothing to check) and every human item is ticked."""
    by_key = {r.item.key: r for r in results}
    missing = [item.title for item in ITEMS if item.key not in by_key]
    if missing:
        return failed("preflight", f"not checked yet: {', '.join(missing)}")
    blocking = [r for r in results if not r.ok]
    if blocking:
        first = blocking[0]
        more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
        return failed("preflight", f"{first.item.title}: {first.reason}{more}", blocking=[r.item.key for r in blocking])
    return passed("preflight", "every pre-flight item holds")


PREFLIGHT = Gate("preflight", "the seed's pre-execution checklist holds", check_preflight)


def human_complete(journal: Journal) -> bool:
    """Whether every human item is ticked (the stepper's state for the pre-flight step)."""
    return all(r.ok for r in human_results(journal))
