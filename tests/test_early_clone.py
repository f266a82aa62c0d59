"""The first scratch database is cloned while the platform is read, and adopted only when still right."""

from __future__ import annotations

import psycopg

from tests.conftest import run_sql
from wizard.cli import main
from wizard.platform.early_clone import HINT_FILE, EarlyClone
from wizard.platform.shadow import SCRATCH_PREFIX, Shadow

HISTORY = {"20240101000000_init.sql": "create table public.items (id bigint primary key, name text not null);"}


def databases(shadow: Shadow) -> set[str]:
    with psycopg.connect(shadow.admin_dsn, autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def scratch_left(shadow: Shadow) -> set[str]:
    return {d for d in databases(shadow) if d.startswith(SCRATCH_PREFIX)}


def test_drift_adopts_the_early_clone_and_leaves_nothing(fresh_db, make_project, shadow, capsys, monkeypatch):
    taken: list[str | None] = []
    original = EarlyClone.take

    def take(self: EarlyClone, template: str) -> str | None:
        taken.append(original(self, template))
        return taken[-1]

    monkeypatch.setattr(EarlyClone, "take", take)
    run_sql(fresh_db, HISTORY["20240101000000_init.sql"])
    root = make_project(fresh_db, HISTORY)
    before = scratch_left(shadow)
    assert main(["drift", "--project", str(root), "--json"]) == 0
    assert taken == []  # nothing remembered yet: no early clone
    hint = root / ".consolidate" / "staging" / "platform" / HINT_FILE
    template = hint.read_text().strip()
    assert template in databases(shadow)  # the template the scratch database came from is remembered
    assert main(["drift", "--project", str(root), "--json"]) == 0  # this run clones early, from that template
    assert len(taken) == 1 and taken[0] is not None and taken[0].startswith(SCRATCH_PREFIX + "early_")
    assert hint.read_text().strip() == template
    assert scratch_left(shadow) == before
    capsys.readouterr()


def test_a_changed_platform_drops_the_early_clone(fresh_db, make_project, shadow, capsys):
    run_sql(fresh_db, HISTORY["20240101000000_init.sql"])
    root = make_project(fresh_db, HISTORY)
    assert main(["drift", "--project", str(root), "--json"]) == 0
    hint = root / ".consolidate" / "staging" / "platform" / HINT_FILE
    first = hint.read_text().strip()
    # The target changes (a table the history lacks): its schema-only dump, and so the template, change too.
    run_sql(fresh_db, "create table public.extra (id int primary key);")
    before = scratch_left(shadow)
    assert main(["drift", "--project", str(root), "--json"]) == 1
    assert hint.read_text().strip() != first
    assert scratch_left(shadow) == before
    capsys.readouterr()


def test_take_refuses_another_template_and_discard_is_idempotent(shadow):
    template = shadow.template()
    clone = EarlyClone(shadow.admin_dsn, template, f"{SCRATCH_PREFIX}early_test1")
    assert clone.take("cw_mirror_other") is None
    assert f"{SCRATCH_PREFIX}early_test1" not in databases(shadow)
    clone.discard()
    kept = EarlyClone(shadow.admin_dsn, template, f"{SCRATCH_PREFIX}early_test2")
    assert kept.take(template) == f"{SCRATCH_PREFIX}early_test2"
    assert kept.take(template) is None  # settled once
    kept.discard()  # taken: not dropped
    assert f"{SCRATCH_PREFIX}early_test2" in databases(shadow)
    shadow.drop_database(f"{SCRATCH_PREFIX}early_test2")
    missing = EarlyClone(shadow.admin_dsn, "cw_mirror_gone", f"{SCRATCH_PREFIX}early_test3")
    assert missing.take("cw_mirror_gone") is None  # no such template: the caller clones as usual
